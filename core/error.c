/* error.c - formatting and classifying ferry errors (see error.h). */
#include "config.h"

#include "error.h"

#include <stdio.h>
#include <string.h>

const char *ferry_status_name(int status)
{
    switch (status) {
    case FERRY_OK:
        return "ok";
    case FERRY_RETRY:
        return "retry later";
    case FERRY_RECORD_ERROR:
        return "record error";
    case FERRY_CONFIG_ERROR:
        return "configuration error";
    case FERRY_FATAL:
        return "fatal error";
    default:
        return "unknown status";
    }
}

const char *ferry_status_key(int status)
{
    switch (status) {
    case FERRY_OK:
        return "ok";
    case FERRY_RETRY:
        return "retry";
    case FERRY_RECORD_ERROR:
        return "record";
    case FERRY_CONFIG_ERROR:
        return "config";
    case FERRY_FATAL:
        return "fatal";
    default:
        return "unknown";
    }
}

int ferry_error_at(ferry_error *err, int status, const char *where, int line, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL) {
        return status;
    }
    err->status = status;
    if (where != NULL) {
        ferry_strlcpy(err->where, where, sizeof(err->where));
    }
    err->line = line;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}

void ferry_error_context(ferry_error *err, const char *flow, const char *record)
{
    if (err == NULL) {
        return;
    }
    if (flow != NULL && err->flow[0] == '\0') {
        ferry_strlcpy(err->flow, flow, sizeof(err->flow));
    }
    if (record != NULL && err->record[0] == '\0') {
        ferry_strlcpy(err->record, record, sizeof(err->record));
    }
}

char *ferry_error_format(const ferry_error *err, char *buf, size_t n)
{
    ferry_buf b = FERRY_BUF_INIT;
    int any = 0;
    if (n == 0) {
        return buf;
    }
    if (err->flow[0]) {
        ferry_buf_printf(&b, "flow %s", err->flow);
        any = 1;
    }
    if (err->record[0]) {
        ferry_buf_printf(&b, "%srecord %s", any ? ", " : "", err->record);
        any = 1;
    }
    if (err->field[0]) {
        ferry_buf_printf(&b, "%sfield %s", any ? ", " : "", err->field);
        any = 1;
    }
    /* A Lua error already starts "script.lua:12: ...": do not say where twice. */
    int where_in_message = err->where[0] && strncmp(err->message, err->where, strlen(err->where)) == 0;
    if (!where_in_message && err->where[0]) {
        const char *base = strrchr(err->where, '/');
        where_in_message = base != NULL && strncmp(err->message, base + 1, strlen(base + 1)) == 0;
    }
    if (err->where[0] && !where_in_message) {
        if (err->line > 0) {
            ferry_buf_printf(&b, "%s(%s:%d)", any ? " " : "", err->where, err->line);
        } else {
            ferry_buf_printf(&b, "%s(%s)", any ? " " : "", err->where);
        }
        any = 1;
    }
    if (any) {
        ferry_buf_puts(&b, ": ");
    }
    ferry_buf_puts(&b, err->message[0] ? err->message : ferry_status_name(err->status));
    if (err->code[0]) {
        ferry_buf_printf(&b, " [code %s]", err->code);
    }
    ferry_strlcpy(buf, b.data ? b.data : "", n);
    ferry_buf_free(&b);
    return buf;
}

json_t *ferry_error_to_json(const ferry_error *err)
{
    json_t *o = json_object();
    json_object_set_new(o, "status", json_string(ferry_status_key(err->status)));
    json_object_set_new(o, "message", json_string(err->message));
#define PUT_STR(name)                                                                                                  \
    if (err->name[0])                                                                                                  \
    json_object_set_new(o, #name, json_string(err->name))
    PUT_STR(flow);
    PUT_STR(record);
    PUT_STR(field);
    PUT_STR(where);
    PUT_STR(code);
#undef PUT_STR
    if (err->line > 0) {
        json_object_set_new(o, "line", json_integer(err->line));
    }
    if (err->http_status > 0) {
        json_object_set_new(o, "http_status", json_integer(err->http_status));
    }
    if (err->retry_after_ms > 0) {
        json_object_set_new(o, "retry_after_ms", json_integer(err->retry_after_ms));
    }
    if (err->flags & FERRY_ERROR_MAYBE_APPLIED) {
        json_object_set_new(o, "maybe_applied", json_true());
    }
    if (err->flags & FERRY_ERROR_NEEDS_REAUTH) {
        json_object_set_new(o, "needs_reauth", json_true());
    }
    return o;
}

int ferry_exit_for_status(int status)
{
    switch (status) {
    case FERRY_OK:
        return FERRY_EXIT_OK;
    case FERRY_RETRY:
        return FERRY_EXIT_UNAVAILABLE;
    case FERRY_RECORD_ERROR:
        return FERRY_EXIT_FAILURE;
    case FERRY_CONFIG_ERROR:
        return FERRY_EXIT_CONFIG;
    default:
        return FERRY_EXIT_INTERNAL;
    }
}
