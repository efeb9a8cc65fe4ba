/* redact.c - masking secrets in text, headers, forms and JSON (see redact.h). */
#include "config.h"

#include "redact.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "util.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static char **registry;
static size_t registry_len, registry_cap;

/* Names whose values are secrets wherever they appear; compared case-insensitively. */
static const char *const secret_names[] = {"authorization",
                                           "proxy-authorization",
                                           "cookie",
                                           "set-cookie",
                                           "password",
                                           "passwd",
                                           "client_secret",
                                           "clientsecret",
                                           "consumer_secret",
                                           "access_token",
                                           "accesstoken",
                                           "refresh_token",
                                           "refreshtoken",
                                           "access_token_secret",
                                           "token_secret",
                                           "id_token",
                                           "oauth_signature",
                                           "oauth_token",
                                           "oauth_token_secret",
                                           "oauth_verifier",
                                           "client_assertion",
                                           "code_verifier",
                                           "private_key",
                                           "api_key",
                                           "apikey",
                                           "secret",
                                           "x-api-key",
                                           "token",
                                           NULL};

/* True when `name` is one of `names` (ASCII case-insensitive); a NULL list has none. */
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

int ferry_redact_is_secret_name(const char *name)
{
    return name != NULL && name_in(name, secret_names);
}

/* Add one value to the registry; the caller holds registry_lock. */
static void registry_add_locked(const char *secret)
{
    for (size_t i = 0; i < registry_len; i++) {
        if (strcmp(registry[i], secret) == 0) {
            return;
        }
    }
    if (registry_len == registry_cap) {
        size_t cap = registry_cap ? registry_cap * 2 : 16;
        char **p = realloc(registry, cap * sizeof(*p));
        if (p == NULL) {
            return;
        }
        registry = p;
        registry_cap = cap;
    }
    char *copy = ferry_strdup(secret);
    if (copy != NULL) {
        registry[registry_len++] = copy;
    }
}

/*
 * The secret as it appears inside JSON text: '"' and '\\' escaped, and '/'
 * too when `slash` (some encoders escape it); NULL when nothing changes.
 */
static char *json_escaped(const char *secret, int slash)
{
    if (strpbrk(secret, slash ? "/\"\\" : "\"\\") == NULL) {
        return NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    for (const char *p = secret; *p; p++) {
        if ((slash && *p == '/') || *p == '"' || *p == '\\') {
            ferry_buf_append(&b, "\\", 1);
        }
        ferry_buf_append(&b, p, 1);
    }
    return ferry_buf_take(&b);
}

void ferry_redact_add(const char *secret)
{
    if (secret == NULL || strlen(secret) < 4) {
        return;
    }
    /*
     * Also register the forms the value takes inside a query string or form
     * body (percent-encoded) and inside JSON text (escaped), so a secret is
     * masked in a raw body or URL as well.
     */
    char *encoded = ferry_url_encode(secret);
    char *escaped = json_escaped(secret, 0);
    char *escaped_slash = json_escaped(secret, 1);
    pthread_mutex_lock(&registry_lock);
    registry_add_locked(secret);
    if (encoded != NULL && strcmp(encoded, secret) != 0) {
        registry_add_locked(encoded);
    }
    if (escaped != NULL) {
        registry_add_locked(escaped);
    }
    if (escaped_slash != NULL) {
        registry_add_locked(escaped_slash);
    }
    pthread_mutex_unlock(&registry_lock);
    free(encoded);
    free(escaped);
    free(escaped_slash);
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

/* ASCII case-insensitive substring test. */
static int contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = haystack; *p; p++) {
        if (strncasecmp(p, needle, n) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Header names are freer than JSON keys (X-Auth-Token, X-Shop-Api-Key,
 * X-Session-Id...), so a header counts as secret when its name contains one
 * of these words, not only when it equals a secret name.
 */
static int is_secret_header(const char *name, const char *const *extra_names)
{
    static const char *const words[] = {"auth",   "token",   "secret", "password", "passwd",    "api-key",
                                        "apikey", "api_key", "cookie", "session",  "signature", NULL};
    if (ferry_redact_is_secret_name(name) || name_in(name, extra_names)) {
        return 1;
    }
    for (size_t i = 0; words[i] != NULL; i++) {
        if (contains_nocase(name, words[i])) {
            return 1;
        }
    }
    return 0;
}

char *ferry_redact_header_names(const char *line, const char *const *extra_names)
{
    if (line == NULL) {
        return NULL;
    }
    const char *colon = strchr(line, ':');
    if (colon != NULL) {
        size_t nlen = (size_t)(colon - line);
        char name[64];
        if (nlen < sizeof(name)) {
            memcpy(name, line, nlen);
            name[nlen] = '\0';
            if (is_secret_header(name, extra_names)) {
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
        } else {
            /* A name this long is no header we know; mask the value to be safe. */
            return ferry_asprintf("%.*s: %s", (int)(nlen > 200 ? 200 : nlen), line, FERRY_REDACTED);
        }
    }
    return ferry_redact_text(line);
}

char *ferry_redact_header(const char *line)
{
    return ferry_redact_header_names(line, NULL);
}

/* Percent-decode (and '+' -> ' ') a form field name of len bytes into name[size]; "" when too long. */
static void decode_name(const char *p, size_t len, char *name, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && i + 2 < len && ferry_hex_value(p[i + 1]) >= 0 && ferry_hex_value(p[i + 2]) >= 0) {
            c = (char)(ferry_hex_value(p[i + 1]) * 16 + ferry_hex_value(p[i + 2]));
            i += 2;
        }
        if (o + 1 >= size) {
            name[0] = '\0';
            return;
        }
        name[o++] = c;
    }
    name[o] = '\0';
}

char *ferry_redact_form_names(const char *body, const char *const *extra_names)
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
            decode_name(p, nlen, name, sizeof(name));
            if (ferry_redact_is_secret_name(name) || name_in(name, extra_names)) {
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
    if (joined == NULL) {
        return ferry_strdup("");
    }
    char *out = ferry_redact_text(joined);
    free(joined);
    return out;
}

char *ferry_redact_form(const char *body)
{
    return ferry_redact_form_names(body, NULL);
}

char *ferry_redact_url(const char *url, const char *const *extra_names)
{
    if (url == NULL) {
        return NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    const char *p = url;
    /* scheme://user:password@host -> scheme://user:***@host */
    const char *scheme_end = strstr(p, "://");
    if (scheme_end != NULL) {
        const char *auth = scheme_end + 3;
        size_t auth_len = strcspn(auth, "/?#");
        const char *at = memchr(auth, '@', auth_len);
        if (at != NULL) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            ferry_buf_append(&b, p, (size_t)(auth - p));
            if (colon != NULL) {
                ferry_buf_append(&b, auth, (size_t)(colon - auth) + 1);
                ferry_buf_puts(&b, FERRY_REDACTED);
            } else {
                ferry_buf_puts(&b, FERRY_REDACTED);
            }
            p = at;
        }
    }
    size_t path_len = strcspn(p, "?#");
    ferry_buf_append(&b, p, path_len);
    p += path_len;
    if (*p == '?') {
        size_t qlen = strcspn(p + 1, "#");
        char *query = ferry_strdup(p + 1);
        if (query != NULL) {
            query[qlen] = '\0';
            char *masked = ferry_redact_form_names(query, extra_names);
            ferry_buf_puts(&b, "?");
            ferry_buf_puts(&b, masked != NULL ? masked : FERRY_REDACTED);
            free(masked);
            free(query);
        }
        p += 1 + qlen;
    }
    ferry_buf_puts(&b, p); /* the fragment, if any */
    char *joined = ferry_buf_take(&b);
    if (joined == NULL) {
        return ferry_strdup("");
    }
    char *out = ferry_redact_text(joined);
    free(joined);
    return out;
}

/* Length of a JSON string literal starting at p (at the opening quote), up to and including the closing quote. */
static size_t json_string_span(const char *p)
{
    size_t i = 1;
    while (p[i] != '\0' && p[i] != '"') {
        if (p[i] == '\\' && p[i + 1] != '\0') {
            i++;
        }
        i++;
    }
    return p[i] == '"' ? i + 1 : i;
}

char *ferry_redact_json_text(const char *text, const char *const *extra_names)
{
    if (text == NULL) {
        return NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    const char *p = text;
    while (*p) {
        const char *q = strchr(p, '"');
        if (q == NULL) {
            ferry_buf_puts(&b, p);
            break;
        }
        ferry_buf_append(&b, p, (size_t)(q - p));
        size_t span = json_string_span(q);
        ferry_buf_append(&b, q, span);
        p = q + span;
        /* A member name is a string followed by ':'. */
        const char *r = p;
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n') {
            r++;
        }
        if (*r != ':' || span < 2) {
            continue;
        }
        char name[64];
        size_t nlen = span >= 2 && q[span - 1] == '"' ? span - 2 : span - 1;
        if (nlen >= sizeof(name)) {
            continue;
        }
        memcpy(name, q + 1, nlen);
        name[nlen] = '\0';
        if (!ferry_redact_is_secret_name(name) && !name_in(name, extra_names)) {
            continue;
        }
        r++;
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n') {
            r++;
        }
        ferry_buf_append(&b, p, (size_t)(r - p));
        p = r;
        if (*p == '"') {
            ferry_buf_puts(&b, "\"" FERRY_REDACTED "\"");
            p += json_string_span(p);
        } else if (strncmp(p, "null", 4) != 0 && *p != '{' && *p != '[') {
            /* A number or literal: mask up to the next delimiter. */
            size_t len = strcspn(p, ",}] \t\r\n");
            if (len > 0) {
                ferry_buf_puts(&b, "\"" FERRY_REDACTED "\"");
                p += len;
            }
        }
    }
    char *joined = ferry_buf_take(&b);
    if (joined == NULL) {
        return ferry_strdup("");
    }
    char *out = ferry_redact_text(joined);
    free(joined);
    return out;
}

/*
 * A JSON string value may itself carry secrets by name: a URL with
 * ?access_token=..., a form body, or embedded JSON text (servers that echo a
 * request, pagination links).  Mask those as well as registered secrets.
 */
static char *redact_string_value(const char *s, const char *const *extra_names)
{
    const char *p = s;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        p++;
    }
    if (*p == '{' || *p == '[') {
        return ferry_redact_json_text(s, extra_names);
    }
    if (strchr(s, '=') != NULL) {
        if (strchr(s, '?') != NULL) {
            return ferry_redact_url(s, extra_names);
        }
        if (strpbrk(s, " \t\r\n") == NULL) {
            return ferry_redact_form_names(s, extra_names);
        }
    }
    return ferry_redact_text(s);
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
        json_object_foreach ((json_t *)value, key, member) {
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
        json_array_foreach (value, i, member) {
            json_array_append_new(out, ferry_redact_json(member, extra_names));
        }
        return out;
    }
    case JSON_STRING: {
        char *masked = redact_string_value(json_string_value(value), extra_names);
        json_t *out = json_string(masked ? masked : FERRY_REDACTED);
        free(masked);
        return out;
    }
    default:
        return json_deep_copy(value);
    }
}
