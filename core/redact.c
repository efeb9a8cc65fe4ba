/* redact.c - masking secrets in text, headers, forms and JSON (see redact.h). */
#include "config.h"

#include "redact.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static char **registry;
static size_t registry_len, registry_cap;

/* Names whose values are secrets wherever they appear; compared case-insensitively. */
static const char *const secret_names[] = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", "password", "passwd", "client_secret",
    "clientsecret", "consumer_secret", "access_token", "accesstoken", "refresh_token", "refreshtoken",
    "access_token_secret", "token_secret", "id_token", "oauth_signature", "oauth_token",
    "api_key", "apikey", "secret", "x-api-key", "token", NULL};

int ferry_redact_is_secret_name(const char *name)
{
    if (name == NULL) {
        return 0;
    }
    for (size_t i = 0; secret_names[i] != NULL; i++) {
        if (strcasecmp(name, secret_names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

void ferry_redact_add(const char *secret)
{
    if (secret == NULL || strlen(secret) < 4) {
        return;
    }
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_len; i++) {
        if (strcmp(registry[i], secret) == 0) {
            pthread_mutex_unlock(&registry_lock);
            return;
        }
    }
    if (registry_len == registry_cap) {
        size_t cap = registry_cap ? registry_cap * 2 : 16;
        char **p = realloc(registry, cap * sizeof(*p));
        if (p == NULL) {
            pthread_mutex_unlock(&registry_lock);
            return;
        }
        registry = p;
        registry_cap = cap;
    }
    char *copy = ferry_strdup(secret);
    if (copy != NULL) {
        registry[registry_len++] = copy;
    }
    pthread_mutex_unlock(&registry_lock);
}

void ferry_redact_reset(void)
{
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < registry_len; i++) {
        free(registry[i]);
    }
    free(registry);
    registry = NULL;
    registry_len = registry_cap = 0;
    pthread_mutex_unlock(&registry_lock);
}

/* Replace every occurrence of one needle in *text; *text is replaced when something changed. */
static void mask_all(char **text, const char *needle)
{
    size_t nlen = strlen(needle);
    char *hit = strstr(*text, needle);
    if (hit == NULL) {
        return;
    }
    ferry_buf b = FERRY_BUF_INIT;
    const char *p = *text;
    while (hit != NULL) {
        ferry_buf_append(&b, p, (size_t)(hit - p));
        ferry_buf_puts(&b, FERRY_REDACTED);
        p = hit + nlen;
        hit = strstr(p, needle);
    }
    ferry_buf_puts(&b, p);
    free(*text);
    *text = ferry_buf_take(&b);
}

char *ferry_redact_text(const char *text)
{
    if (text == NULL) {
        return NULL;
    }
    char *out = ferry_strdup(text);
    if (out == NULL) {
        return NULL;
    }
    pthread_mutex_lock(&registry_lock);
    /* Longest first would be ideal; secrets rarely contain each other, so order is kept. */
    for (size_t i = 0; i < registry_len; i++) {
        mask_all(&out, registry[i]);
    }
    pthread_mutex_unlock(&registry_lock);
    return out;
}

char *ferry_redact_header(const char *line)
{
    const char *colon = strchr(line, ':');
    if (colon != NULL) {
        size_t nlen = (size_t)(colon - line);
        char name[64];
        if (nlen < sizeof(name)) {
            memcpy(name, line, nlen);
            name[nlen] = '\0';
            if (ferry_redact_is_secret_name(name)) {
                /* Keep the scheme ("Bearer", "OAuth", "Basic") so logs stay useful. */
                const char *v = colon + 1;
                while (*v == ' ') {
                    v++;
                }
                size_t scheme = strcspn(v, " ");
                if (v[scheme] == ' ' && scheme < 16) {
                    return ferry_asprintf("%s: %.*s %s", name, (int)scheme, v, FERRY_REDACTED);
                }
                return ferry_asprintf("%s: %s", name, FERRY_REDACTED);
            }
        }
    }
    return ferry_redact_text(line);
}

char *ferry_redact_form(const char *body)
{
    if (body == NULL) {
        return NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    const char *p = body;
    while (*p) {
        size_t len = strcspn(p, "&");
        const char *eq = memchr(p, '=', len);
        if (eq != NULL) {
            size_t nlen = (size_t)(eq - p);
            char name[64];
            if (nlen < sizeof(name)) {
                memcpy(name, p, nlen);
                name[nlen] = '\0';
            } else {
                name[0] = '\0';
            }
            if (ferry_redact_is_secret_name(name)) {
                ferry_buf_append(&b, p, nlen + 1);
                ferry_buf_puts(&b, FERRY_REDACTED);
            } else {
                ferry_buf_append(&b, p, len);
            }
        } else {
            ferry_buf_append(&b, p, len);
        }
        p += len;
        if (*p == '&') {
            ferry_buf_puts(&b, "&");
            p++;
        }
    }
    char *joined = ferry_buf_take(&b);
    char *out = ferry_redact_text(joined);
    free(joined);
    return out;
}

static int name_in(const char *name, const char *const *names)
{
    if (names == NULL) {
        return 0;
    }
    for (size_t i = 0; names[i] != NULL; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

json_t *ferry_redact_json(const json_t *value, const char *const *extra_names)
{
    if (value == NULL) {
        return NULL;
    }
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        json_t *out = json_object();
        const char *key;
        json_t *member;
        json_object_foreach((json_t *)value, key, member)
        {
            if ((ferry_redact_is_secret_name(key) || name_in(key, extra_names)) && !json_is_null(member)) {
                json_object_set_new(out, key, json_string(FERRY_REDACTED));
            } else {
                json_object_set_new(out, key, ferry_redact_json(member, extra_names));
            }
        }
        return out;
    }
    case JSON_ARRAY: {
        json_t *out = json_array();
        size_t i;
        json_t *member;
        json_array_foreach(value, i, member)
        {
            json_array_append_new(out, ferry_redact_json(member, extra_names));
        }
        return out;
    }
    case JSON_STRING: {
        char *masked = ferry_redact_text(json_string_value(value));
        json_t *out = json_string(masked ? masked : FERRY_REDACTED);
        free(masked);
        return out;
    }
    default:
        return json_deep_copy(value);
    }
}
