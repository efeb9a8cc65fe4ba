/* host.c - the host table plugins call, and endpoints (see host.h). */
#include "config.h"

#include "host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <ferry/version.h>

#include "activity.h"
#include "crypto.h"
#include "error.h"
#include "log.h"
#include "redact.h"
#include "util.h"

struct ferry_host_conn {
    ferry_store *st;
    ferry_connection *row; /* settings live in row->settings */
    const ferry_setting_spec *spec;
    ferry_http_client *http;
    ferry_http_recorder recorder;
    void *recorder_ud;
    unsigned record_bodies; /* FERRY_HTTP_RECORD_*, for the HTTP client */
    char lock_owner[128];
    int interactive;
    long calls;
};

const char *ferry_host_conn_name(const ferry_host_conn *hc)
{
    return hc && hc->row ? hc->row->name : "?";
}

/* ---- logging ------------------------------------------------------------ */

static void host_log(ferry_host_conn *hc, int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ferry_vlog(level, ferry_host_conn_name(hc), fmt, ap);
    va_end(ap);
}

/* ---- settings ------------------------------------------------------------ */

static const char *host_setting(ferry_host_conn *hc, const char *name)
{
    json_t *v = json_object_get(hc->row->settings, name);
    if (v != NULL && json_is_string(v)) {
        return json_string_value(v);
    }
    for (const ferry_setting_spec *s = hc->spec; s && s->name; s++) {
        if (strcmp(s->name, name) == 0) {
            return s->default_value;
        }
    }
    return NULL;
}

static int host_credentials_save(ferry_host_conn *hc, const json_t *values, ferry_error *err)
{
    if (!json_is_object(values)) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "credentials_save needs an object");
    }
    /* Values the plugin saves are secrets unless the schema says otherwise. */
    if (ferry_connection_update_settings(hc->st, hc->row->id, hc->spec, values, err) != FERRY_OK) {
        return err->status;
    }
    const char *name;
    json_t *v;
    json_object_foreach ((json_t *)values, name, v) {
        if (json_is_null(v)) {
            json_object_del(hc->row->settings, name);
        } else {
            json_object_set(hc->row->settings, name, v);
            if (ferry_connection_setting_is_secret(hc->spec, name)) {
                json_object_set_new(hc->row->secrets, name, json_true());
                ferry_redact_add(json_string_value(v));
            }
        }
    }
    return FERRY_OK;
}

static int host_settings_reload(ferry_host_conn *hc, ferry_error *err)
{
    ferry_connection *fresh = NULL;
    if (ferry_connection_get_by_id(hc->st, hc->row->id, &fresh, err) != FERRY_OK) {
        return err->status;
    }
    ferry_connection_free(hc->row);
    hc->row = fresh;
    return FERRY_OK;
}

static void host_secret(ferry_host_conn *hc, const char *value)
{
    (void)hc;
    ferry_redact_add(value);
}

/* ---- state ---------------------------------------------------------------- */

static int host_state_get(ferry_host_conn *hc, const char *key, json_t **value, ferry_error *err)
{
    return ferry_connection_state_get(hc->st, hc->row->id, key, value, err);
}

static int host_state_set(ferry_host_conn *hc, const char *key, const json_t *value, ferry_error *err)
{
    return ferry_connection_state_set(hc->st, hc->row->id, key, value, err);
}

/* ---- HTTP ------------------------------------------------------------------ */

static void record_exchange(void *ud, const ferry_http_exchange *ex)
{
    ferry_host_conn *hc = ud;
    hc->calls += ex->attempts > 0 ? ex->attempts : 1;
    if (hc->recorder != NULL) {
        hc->recorder(hc->recorder_ud, ex);
    }
}

static ferry_http_client *http_client(ferry_host_conn *hc)
{
    if (hc->http == NULL) {
        ferry_http_options o;
        memset(&o, 0, sizeof(o));
        o.ca_file = host_setting(hc, "ca_file");
        o.log_context = hc->row->name;
        const char *t = host_setting(hc, "timeout_seconds");
        if (t != NULL && atol(t) > 0) {
            o.timeout_ms = atol(t) * 1000;
        }
        hc->http = ferry_http_client_create(&o);
        if (hc->http != NULL) {
            ferry_http_set_recorder(hc->http, record_exchange, hc);
            ferry_http_record_bodies(hc->http, hc->record_bodies);
        }
    }
    return hc->http;
}

static int host_http(ferry_host_conn *hc, const ferry_http_request *req, ferry_http_response **resp, ferry_error *err)
{
    ferry_http_client *c = http_client(hc);
    if (c == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "cannot create an HTTP client");
    }
    return ferry_http_send(c, req, resp, err);
}

static void host_http_free(ferry_http_response *resp)
{
    ferry_http_response_free(resp);
}

static int host_rate_limit(ferry_host_conn *hc, const char *bucket, int requests, int per_seconds)
{
    ferry_http_client *c = http_client(hc);
    return c ? ferry_http_rate_limit(c, bucket, requests, per_seconds) : -1;
}

/* ---- locks ------------------------------------------------------------------ */

static char *lock_name(ferry_host_conn *hc, const char *name)
{
    return ferry_asprintf("connection:%lld:%s", hc->row->id, name);
}

static int host_lock(ferry_host_conn *hc, const char *name, int timeout_ms, ferry_error *err)
{
    char *full = lock_name(hc, name);
    /* A refresh takes seconds; a lock left by a crashed process frees itself after a minute. */
    int rc = ferry_store_lock(hc->st, full, hc->lock_owner, 60000, timeout_ms, err);
    free(full);
    return rc;
}

static void host_unlock(ferry_host_conn *hc, const char *name)
{
    char *full = lock_name(hc, name);
    ferry_store_unlock(hc->st, full, hc->lock_owner);
    free(full);
}

/* ---- health ------------------------------------------------------------------ */

static int host_connection_status(ferry_host_conn *hc, const char *status, const char *message)
{
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_connection_set_status(hc->st, hc->row->id, status, message, &err) != FERRY_OK) {
        ferry_log(FERRY_LOG_ERROR, hc->row->name, "cannot record connection status: %s", err.message);
        return err.status;
    }
    free(hc->row->status);
    hc->row->status = ferry_strdup(status);
    if (strcmp(status, "ok") != 0) {
        ferry_log(FERRY_LOG_ERROR, hc->row->name, "connection %s: %s", status, message ? message : "");
        ferry_activity_alert(hc->st, status, 0, hc->row->id, message ? message : status, &err);
    }
    return FERRY_OK;
}

/* ---- time, randomness, encoding ------------------------------------------------ */

static long long host_now_ms(ferry_host_conn *hc)
{
    (void)hc;
    return ferry_now_ms();
}

static char *host_base64(const void *data, size_t len)
{
    return ferry_base64_encode(data, len);
}

static char *host_url_encode(const char *s)
{
    return ferry_url_encode(s);
}

static void host_free(void *p)
{
    free(p);
}

/* ---- interaction ------------------------------------------------------------------ */

static void host_say(ferry_host_conn *hc, const char *fmt, ...)
{
    (void)hc;
    va_list ap;
    va_start(ap, fmt);
    char *line = ferry_vasprintf(fmt, ap);
    va_end(ap);
    if (line != NULL) {
        char *safe = ferry_redact_text(line);
        fprintf(stderr, "%s\n", safe ? safe : "");
        free(safe);
        free(line);
    }
}

static int host_prompt(ferry_host_conn *hc, const char *question, int secret, char *buf, size_t len)
{
    if (!hc->interactive || len == 0) {
        return FERRY_CONFIG_ERROR;
    }
    fprintf(stderr, "%s", question);
    fflush(stderr);
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO);
    if (secret && tty && tcgetattr(STDIN_FILENO, &old) == 0) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
        tty = 0;
    }
    char *got = fgets(buf, (int)len, stdin);
    if (secret && tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (got == NULL) {
        buf[0] = '\0';
        return FERRY_CONFIG_ERROR;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return FERRY_OK;
}

static const ferry_host host_table = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .struct_size = (uint32_t)sizeof(ferry_host),
    .ferry_version = FERRY_VERSION,
    .log = host_log,
    .setting = host_setting,
    .credentials_save = host_credentials_save,
    .settings_reload = host_settings_reload,
    .secret = host_secret,
    .state_get = host_state_get,
    .state_set = host_state_set,
    .http = host_http,
    .http_free = host_http_free,
    .rate_limit = host_rate_limit,
    .lock = host_lock,
    .unlock = host_unlock,
    .connection_status = host_connection_status,
    .now_ms = host_now_ms,
    .random_bytes = ferry_random_bytes,
    .hmac_sha256 = ferry_hmac_sha256,
    .base64_encode = host_base64,
    .url_encode = host_url_encode,
    .free = host_free,
    .say = host_say,
    .prompt = host_prompt,
};

const ferry_host *ferry_host_table(void)
{
    return &host_table;
}

/* ---- endpoints ------------------------------------------------------------------------ */

int ferry_endpoint_open(ferry_store *st, const ferry_loader *loader, const char *name, unsigned flags,
                        ferry_endpoint **out, ferry_error *err)
{
    *out = NULL;
    ferry_connection *row = NULL;
    if (ferry_connection_get(st, name, &row, err) != FERRY_OK) {
        return err->status;
    }
    const ferry_plugin *pl = ferry_loader_find(loader, row->plugin);
    if (pl == NULL) {
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                        "connection %s uses plugin '%s', which is not installed (see 'ferry plugin list')", name,
                        row->plugin);
        ferry_connection_free(row);
        return FERRY_CONFIG_ERROR;
    }
    if (!(flags & FERRY_ENDPOINT_NO_OPEN) && strcmp(row->status, "ok") != 0) {
        const char *msg = row->status_message ? row->status_message : "";
        int hinted = strstr(msg, "connection authorize") != NULL;
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "connection %s is %s: %s%s", name, row->status, msg,
                        strcmp(row->status, "needs_reauth") == 0 && !hinted
                            ? " (run 'ferry connection authorize' to connect it again)"
                            : "");
        if (strcmp(row->status, "needs_reauth") == 0) {
            err->flags |= FERRY_ERROR_NEEDS_REAUTH;
        }
        ferry_connection_free(row);
        return FERRY_CONFIG_ERROR;
    }
    ferry_endpoint *ep = calloc(1, sizeof(*ep));
    ferry_host_conn *hc = calloc(1, sizeof(*hc));
    if (ep == NULL || hc == NULL) {
        free(ep);
        free(hc);
        ferry_connection_free(row);
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    hc->st = st;
    hc->row = row;
    hc->record_bodies = FERRY_HTTP_RECORD_ALL_BODIES;
    hc->spec = pl->desc->settings;
    hc->interactive = (flags & FERRY_ENDPOINT_INTERACTIVE) != 0;
    char *owner = ferry_store_lock_owner();
    ferry_strlcpy(hc->lock_owner, owner ? owner : "ferry", sizeof(hc->lock_owner));
    free(owner);
    ep->plugin = pl;
    ep->hc = hc;
    *out = ep;
    if (flags & FERRY_ENDPOINT_NO_OPEN) {
        return FERRY_OK;
    }
    int rc = ferry_endpoint_start(ep, err);
    if (rc != FERRY_OK) {
        ferry_endpoint_close(ep);
        *out = NULL;
    }
    return rc;
}

int ferry_endpoint_start(ferry_endpoint *ep, ferry_error *err)
{
    if (ep->conn != NULL) {
        return FERRY_OK;
    }
    int rc = ep->plugin->desc->open(ferry_host_table(), ep->hc, &ep->conn, err);
    if (rc != FERRY_OK) {
        ep->conn = NULL;
        if (err->message[0] == '\0') {
            ferry_error_set(err, rc, NULL, "plugin %s could not open connection %s", ep->plugin->name,
                            ep->hc->row->name);
        }
    }
    return rc;
}

void ferry_endpoint_close(ferry_endpoint *ep)
{
    if (ep == NULL) {
        return;
    }
    if (ep->conn != NULL) {
        ep->plugin->desc->close(ep->conn);
    }
    if (ep->hc != NULL) {
        ferry_http_client_destroy(ep->hc->http);
        ferry_connection_free(ep->hc->row);
        free(ep->hc);
    }
    free(ep);
}

const ferry_connection *ferry_endpoint_connection(const ferry_endpoint *ep)
{
    return ep->hc->row;
}

long ferry_endpoint_calls(const ferry_endpoint *ep)
{
    return ep->hc->calls;
}

void ferry_endpoint_set_recorder(ferry_endpoint *ep, ferry_http_recorder fn, void *ud, unsigned bodies)
{
    ep->hc->recorder = fn;
    ep->hc->recorder_ud = ud;
    ep->hc->record_bodies = bodies;
    if (ep->hc->http != NULL) {
        ferry_http_record_bodies(ep->hc->http, bodies);
    }
}
