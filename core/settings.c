/* settings.c - ferry's global settings in the store (see settings.h). */
#include "config.h"

#include "settings.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const ferry_global_setting known[] = {
    {"log_retention_days", "90",
     "activity log entries older than this are deleted by 'ferry purge' (and after runs "
     "when auto_purge is on)"},
    {"auto_purge", "false", "purge the activity log past log_retention_days at the end of every run"},
    {"alert_command", NULL,
     "shell command run for each new alert (flow failed, totals mismatch, needs re-authorization) with "
     "FERRY_ALERT_KIND, FERRY_ALERT_FLOW, FERRY_ALERT_CONNECTION and FERRY_ALERT_MESSAGE in its environment and "
     "the alert as JSON on standard input; e.g. a mail or chat notifier"},
    {NULL, NULL, NULL}};

const ferry_global_setting *ferry_settings_known(void)
{
    return known;
}

static const ferry_global_setting *find(const char *name)
{
    for (const ferry_global_setting *s = known; s->name != NULL; s++) {
        if (name != NULL && strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

char *ferry_settings_get(ferry_store *st, const char *name)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "SELECT value FROM settings WHERE name=?1", NULL);
    char *value = NULL;
    if (s != NULL) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) == SQLITE_ROW) {
            value = ferry_strdup((const char *)sqlite3_column_text(s, 0));
        }
        ferry_store_done(s);
    }
    if (value == NULL) {
        const ferry_global_setting *k = find(name);
        value = k ? ferry_strdup(k->default_value) : NULL;
    }
    return value;
}

long ferry_settings_get_long(ferry_store *st, const char *name, long fallback)
{
    char *v = ferry_settings_get(st, name);
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : fallback;
    if (v == NULL || end == v || *end != '\0') {
        n = fallback;
    }
    free(v);
    return n;
}

int ferry_settings_set(ferry_store *st, const char *name, const char *value, ferry_error *err)
{
    if (find(name) == NULL) {
        ferry_buf names = FERRY_BUF_INIT;
        for (const ferry_global_setting *s = known; s->name; s++) {
            ferry_buf_printf(&names, "%s%s", names.len ? ", " : "", s->name);
        }
        ferry_error_set(err, FERRY_CONFIG_ERROR, name, "unknown setting %s (known: %s)", name, names.data);
        ferry_buf_free(&names);
        return FERRY_CONFIG_ERROR;
    }
    if (strcmp(name, "log_retention_days") == 0 && value != NULL) {
        char *end = NULL;
        long days = strtol(value, &end, 10);
        if (end == value || *end != '\0' || days < 1) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, name,
                                   "log_retention_days must be a whole number of days, 1 or more");
        }
    }
    if (strcmp(name, "auto_purge") == 0 && value != NULL && strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, name, "auto_purge must be true or false");
    }
    sqlite3_stmt *s;
    if (value == NULL) {
        s = ferry_store_prepare(st, "DELETE FROM settings WHERE name=?1", err);
    } else {
        s = ferry_store_prepare(st,
                                "INSERT INTO settings(name,value,updated_at) VALUES(?1,?2,?3) ON CONFLICT(name) DO "
                                "UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                                err);
    }
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    if (value != NULL) {
        char ts[32];
        sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    }
    return ferry_store_step_done(st, s, err, "save setting");
}

json_t *ferry_settings_all(ferry_store *st)
{
    json_t *out = json_object();
    for (const ferry_global_setting *k = known; k->name != NULL; k++) {
        char *v = ferry_settings_get(st, k->name);
        json_t *o =
            json_pack("{s:s?, s:s?, s:s}", "value", v, "default", k->default_value, "description", k->description);
        json_object_set_new(out, k->name, o);
        free(v);
    }
    return out;
}
