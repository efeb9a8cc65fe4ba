/* connection.c - connections, their settings, state and locks in the store (see connection.h). */
#include "config.h"

#include "connection.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "error.h"
#include "redact.h"
#include "util.h"

void ferry_connection_free(ferry_connection *c)
{
    if (c == NULL) {
        return;
    }
    free(c->name);
    free(c->plugin);
    free(c->status);
    free(c->status_message);
    free(c->created_at);
    free(c->updated_at);
    json_decref(c->settings);
    json_decref(c->secrets);
    free(c);
}

static const ferry_setting_spec *find_spec(const ferry_setting_spec *spec, const char *name)
{
    for (; spec != NULL && spec->name != NULL; spec++) {
        if (strcmp(spec->name, name) == 0) {
            return spec;
        }
    }
    return NULL;
}

int ferry_connection_setting_is_secret(const ferry_setting_spec *spec, const char *name)
{
    const ferry_setting_spec *s = find_spec(spec, name);
    return s == NULL || (s->flags & FERRY_SETTING_SECRET);
}

/* The text form of a setting value; NULL for types a setting cannot have. */
static char *setting_text(const json_t *v)
{
    if (json_is_string(v)) {
        return ferry_strdup(json_string_value(v));
    }
    if (json_is_integer(v)) {
        return ferry_asprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    }
    if (json_is_boolean(v)) {
        return ferry_strdup(json_is_true(v) ? "true" : "false");
    }
    return NULL;
}

static int check_type(const ferry_setting_spec *s, const char *value, ferry_error *err)
{
    switch (s->type) {
    case FERRY_SETTING_INT: {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        (void)v;
        if (value[0] == '\0' || *end != '\0' || errno != 0) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, s->name, "setting %s must be an integer", s->name);
        }
        return FERRY_OK;
    }
    case FERRY_SETTING_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, s->name, "setting %s must be true or false", s->name);
        }
        return FERRY_OK;
    case FERRY_SETTING_URL:
        if (!ferry_starts_with(value, "http://") && !ferry_starts_with(value, "https://")) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, s->name, "setting %s must be an http:// or https:// URL",
                                   s->name);
        }
        return FERRY_OK;
    case FERRY_SETTING_ENUM: {
        const char *c = s->choices ? s->choices : "";
        size_t vlen = strlen(value);
        while (*c) {
            size_t len = strcspn(c, "|");
            if (len == vlen && strncmp(c, value, len) == 0) {
                return FERRY_OK;
            }
            c += len + (c[len] == '|');
        }
        return ferry_error_set(err, FERRY_CONFIG_ERROR, s->name, "setting %s must be one of %s", s->name,
                               s->choices ? s->choices : "(none)");
    }
    default:
        return FERRY_OK;
    }
}

int ferry_connection_validate(const ferry_setting_spec *spec, const json_t *settings, int partial, ferry_error *err)
{
    if (settings != NULL && !json_is_object(settings)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "settings must be an object of name: value");
    }
    const char *name;
    json_t *v;
    json_object_foreach ((json_t *)settings, name, v) {
        const ferry_setting_spec *s = find_spec(spec, name);
        if (s == NULL) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, name, "unknown setting %s", name);
        }
        if (json_is_null(v)) {
            if (!partial && (s->flags & FERRY_SETTING_REQUIRED)) {
                return ferry_error_set(err, FERRY_CONFIG_ERROR, name, "setting %s is required", name);
            }
            continue;
        }
        char *text = setting_text(v);
        if (text == NULL) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, name, "setting %s must be a string, number or boolean",
                                   name);
        }
        int rc = check_type(s, text, err);
        free(text);
        if (rc != FERRY_OK) {
            return rc;
        }
    }
    if (!partial) {
        for (const ferry_setting_spec *s = spec; s != NULL && s->name != NULL; s++) {
            json_t *given = settings ? json_object_get(settings, s->name) : NULL;
            if ((s->flags & FERRY_SETTING_REQUIRED) && !(s->flags & FERRY_SETTING_MANAGED) &&
                s->default_value == NULL && (given == NULL || json_is_null(given))) {
                return ferry_error_set(err, FERRY_CONFIG_ERROR, s->name, "setting %s is required (%s)", s->name,
                                       s->description ? s->description : "no description");
            }
        }
    }
    return FERRY_OK;
}

static int write_settings(ferry_store *st, long long id, const ferry_setting_spec *spec, const json_t *values,
                          ferry_error *err)
{
    char ts[32];
    ferry_store_timestamp(ts, sizeof(ts));
    const char *name;
    json_t *v;
    json_object_foreach ((json_t *)values, name, v) {
        sqlite3_stmt *s;
        if (json_is_null(v)) {
            s = ferry_store_prepare(st, "DELETE FROM connection_settings WHERE connection_id=?1 AND name=?2", err);
            if (s == NULL) {
                return FERRY_FATAL;
            }
            sqlite3_bind_int64(s, 1, id);
            sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
        } else {
            char *text = setting_text(v);
            if (text == NULL) {
                return ferry_error_set(err, FERRY_CONFIG_ERROR, name, "setting %s must be a string", name);
            }
            int secret = ferry_connection_setting_is_secret(spec, name);
            if (secret) {
                ferry_redact_add(text);
            }
            s = ferry_store_prepare(st,
                                    "INSERT INTO connection_settings(connection_id,name,value,secret,updated_at) "
                                    "VALUES(?1,?2,?3,?4,?5) ON CONFLICT(connection_id,name) DO UPDATE SET "
                                    "value=excluded.value, secret=excluded.secret, updated_at=excluded.updated_at",
                                    err);
            if (s == NULL) {
                free(text);
                return FERRY_FATAL;
            }
            sqlite3_bind_int64(s, 1, id);
            sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 3, text, -1, free);
            sqlite3_bind_int(s, 4, secret);
            sqlite3_bind_text(s, 5, ts, -1, SQLITE_TRANSIENT);
        }
        int rc = ferry_store_step_done(st, s, err, "save setting");
        if (rc != FERRY_OK) {
            return rc;
        }
    }
    return FERRY_OK;
}

static int valid_name(const char *name)
{
    if (name == NULL || !name[0] || strlen(name) > 64) {
        return 0;
    }
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.')) {
            return 0;
        }
    }
    return 1;
}

int ferry_connection_add(ferry_store *st, const char *name, const char *plugin, const ferry_setting_spec *spec,
                         const json_t *settings, ferry_error *err)
{
    if (!valid_name(name)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "name",
                               "connection name '%s' must be 1-64 characters of A-Z a-z 0-9 _ - .", name);
    }
    if (ferry_connection_validate(spec, settings, 0, err) != FERRY_OK) {
        return FERRY_CONFIG_ERROR;
    }
    if (ferry_store_begin(st, err) != FERRY_OK) {
        return err->status;
    }
    char ts[32];
    ferry_store_timestamp(ts, sizeof(ts));
    sqlite3_stmt *s =
        ferry_store_prepare(st, "INSERT INTO connections(name,plugin,created_at,updated_at) VALUES(?1,?2,?3,?3)", err);
    if (s == NULL) {
        ferry_store_rollback(st);
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, plugin, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, ts, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    ferry_store_done(s);
    if (rc != SQLITE_DONE) {
        int ext = sqlite3_extended_errcode(ferry_store_db(st));
        ferry_store_rollback(st);
        if (ext == SQLITE_CONSTRAINT_UNIQUE) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, "name", "a connection named %s already exists", name);
        }
        return ferry_store_error(st, err, "add connection");
    }
    long long id = sqlite3_last_insert_rowid(ferry_store_db(st));
    if (settings != NULL && write_settings(st, id, spec, settings, err) != FERRY_OK) {
        ferry_store_rollback(st);
        return err->status;
    }
    return ferry_store_commit(st, err);
}

static int load_settings(ferry_store *st, ferry_connection *c, ferry_error *err)
{
    sqlite3_stmt *s =
        ferry_store_prepare(st, "SELECT name, value, secret FROM connection_settings WHERE connection_id=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, c->id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *value = (const char *)sqlite3_column_text(s, 1);
        if (value == NULL) {
            continue;
        }
        json_object_set_new(c->settings, name, json_string(value));
        if (sqlite3_column_int(s, 2)) {
            json_object_set_new(c->secrets, name, json_true());
            ferry_redact_add(value);
        }
    }
    ferry_store_done(s);
    return rc == SQLITE_DONE ? FERRY_OK : ferry_store_error(st, err, "read settings");
}

static int load_connection(ferry_store *st, const char *sql, const char *name, long long id, ferry_connection **out,
                           ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st, sql, err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    if (name != NULL) {
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_int64(s, 1, id);
    }
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        ferry_store_done(s);
        if (rc == SQLITE_DONE) {
            if (name != NULL) {
                return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                                       "no connection named %s (see 'ferry connection list')", name);
            }
            return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no connection with id %lld", id);
        }
        return ferry_store_error(st, err, "read connection");
    }
    ferry_connection *c = calloc(1, sizeof(*c));
    c->id = sqlite3_column_int64(s, 0);
    c->name = ferry_strdup((const char *)sqlite3_column_text(s, 1));
    c->plugin = ferry_strdup((const char *)sqlite3_column_text(s, 2));
    c->status = ferry_strdup((const char *)sqlite3_column_text(s, 3));
    c->status_message = ferry_strdup((const char *)sqlite3_column_text(s, 4));
    c->created_at = ferry_strdup((const char *)sqlite3_column_text(s, 5));
    c->updated_at = ferry_strdup((const char *)sqlite3_column_text(s, 6));
    c->settings = json_object();
    c->secrets = json_object();
    ferry_store_done(s);
    if (load_settings(st, c, err) != FERRY_OK) {
        ferry_connection_free(c);
        return FERRY_FATAL;
    }
    *out = c;
    return FERRY_OK;
}

#define CONNECTION_COLUMNS "SELECT id, name, plugin, status, status_message, created_at, updated_at FROM connections "

int ferry_connection_get(ferry_store *st, const char *name, ferry_connection **out, ferry_error *err)
{
    return load_connection(st, CONNECTION_COLUMNS "WHERE name=?1", name, 0, out, err);
}

int ferry_connection_get_by_id(ferry_store *st, long long id, ferry_connection **out, ferry_error *err)
{
    return load_connection(st, CONNECTION_COLUMNS "WHERE id=?1", NULL, id, out, err);
}

int ferry_connection_list(ferry_store *st, json_t **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st, CONNECTION_COLUMNS "ORDER BY name", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    json_t *arr = json_array();
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(s, 1)));
        json_object_set_new(o, "plugin", json_string((const char *)sqlite3_column_text(s, 2)));
        json_object_set_new(o, "status", json_string((const char *)sqlite3_column_text(s, 3)));
        const char *msg = (const char *)sqlite3_column_text(s, 4);
        if (msg != NULL) {
            json_object_set_new(o, "status_message", json_string(msg));
        }
        json_object_set_new(o, "created_at", json_string((const char *)sqlite3_column_text(s, 5)));
        json_array_append_new(arr, o);
    }
    ferry_store_done(s);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return ferry_store_error(st, err, "list connections");
    }
    *out = arr;
    return FERRY_OK;
}

int ferry_connection_update_settings(ferry_store *st, long long id, const ferry_setting_spec *spec,
                                     const json_t *values, ferry_error *err)
{
    if (ferry_store_begin(st, err) != FERRY_OK) {
        return err->status;
    }
    if (write_settings(st, id, spec, values, err) != FERRY_OK) {
        ferry_store_rollback(st);
        return err->status;
    }
    char ts[32];
    ferry_store_timestamp(ts, sizeof(ts));
    sqlite3_stmt *s = ferry_store_prepare(st, "UPDATE connections SET updated_at=?2 WHERE id=?1", err);
    if (s == NULL) {
        ferry_store_rollback(st);
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, ts, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    ferry_store_done(s);
    if (rc != SQLITE_DONE) {
        ferry_store_rollback(st);
        return ferry_store_error(st, err, "update connection");
    }
    return ferry_store_commit(st, err);
}

int ferry_connection_set_status(ferry_store *st, long long id, const char *status, const char *message,
                                ferry_error *err)
{
    char ts[32];
    ferry_store_timestamp(ts, sizeof(ts));
    sqlite3_stmt *s =
        ferry_store_prepare(st, "UPDATE connections SET status=?2, status_message=?3, updated_at=?4 WHERE id=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
    ferry_store_bind_text(s, 3, message);
    sqlite3_bind_text(s, 4, ts, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    ferry_store_done(s);
    if (rc != SQLITE_DONE) {
        if (sqlite3_extended_errcode(ferry_store_db(st)) == SQLITE_CONSTRAINT_CHECK) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, "status",
                                   "connection status must be ok, needs_reauth or disabled");
        }
        return ferry_store_error(st, err, "set connection status");
    }
    return FERRY_OK;
}

int ferry_connection_remove(ferry_store *st, const char *name, ferry_error *err)
{
    ferry_connection *c = NULL;
    if (ferry_connection_get(st, name, &c, err) != FERRY_OK) {
        return err->status;
    }
    sqlite3_stmt *s = ferry_store_prepare(
        st, "SELECT name FROM flows WHERE source_connection_id=?1 OR target_connection_id=?1 ORDER BY name", err);
    if (s == NULL) {
        ferry_connection_free(c);
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, c->id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                        "connection %s is used by flow %s; remove or change the flow first", name,
                        (const char *)sqlite3_column_text(s, 0));
        ferry_store_done(s);
        ferry_connection_free(c);
        return FERRY_CONFIG_ERROR;
    }
    ferry_store_done(s);
    s = ferry_store_prepare(st, "DELETE FROM connections WHERE id=?1", err);
    if (s == NULL) {
        ferry_connection_free(c);
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, c->id);
    int rc = ferry_store_step_done(st, s, err, "remove connection");
    ferry_connection_free(c);
    return rc;
}

json_t *ferry_connection_to_public_json(const ferry_connection *c, const ferry_setting_spec *spec)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "plugin", json_string(c->plugin));
    json_object_set_new(o, "status", json_string(c->status));
    if (c->status_message != NULL) {
        json_object_set_new(o, "status_message", json_string(c->status_message));
    }
    json_object_set_new(o, "created_at", json_string(c->created_at));
    json_object_set_new(o, "updated_at", json_string(c->updated_at));
    json_t *settings = json_object();
    const char *name;
    json_t *v;
    json_object_foreach (c->settings, name, v) {
        int secret =
            json_object_get(c->secrets, name) != NULL || (spec && ferry_connection_setting_is_secret(spec, name));
        json_object_set_new(settings, name, secret ? json_string(FERRY_REDACTED) : json_copy(v));
    }
    for (const ferry_setting_spec *s = spec; s != NULL && s->name != NULL; s++) {
        if (json_object_get(settings, s->name) == NULL && s->default_value != NULL) {
            json_object_set_new(settings, s->name, json_string(s->default_value));
        }
    }
    json_object_set_new(o, "settings", settings);
    return o;
}

int ferry_connection_state_get(ferry_store *st, long long id, const char *key, json_t **value, ferry_error *err)
{
    *value = NULL;
    sqlite3_stmt *s =
        ferry_store_prepare(st, "SELECT value FROM connection_state WHERE connection_id=?1 AND key=?2", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *value = ferry_store_column_json(s, 0);
    }
    ferry_store_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FERRY_OK : ferry_store_error(st, err, "read state");
}

int ferry_connection_state_set(ferry_store *st, long long id, const char *key, const json_t *value, ferry_error *err)
{
    sqlite3_stmt *s;
    if (value == NULL) {
        s = ferry_store_prepare(st, "DELETE FROM connection_state WHERE connection_id=?1 AND key=?2", err);
    } else {
        s = ferry_store_prepare(st,
                                "INSERT INTO connection_state(connection_id,key,value,updated_at) VALUES(?1,?2,?3,?4) "
                                "ON CONFLICT(connection_id,key) DO UPDATE SET value=excluded.value, "
                                "updated_at=excluded.updated_at",
                                err);
    }
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
    if (value != NULL) {
        char ts[32];
        ferry_store_bind_json(s, 3, value);
        sqlite3_bind_text(s, 4, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    }
    return ferry_store_step_done(st, s, err, "write state");
}

/* One attempt: insert, or take over an expired lock, or re-take our own.  1 = got it. */
static int try_lock(ferry_store *st, const char *name, const char *owner, long long ttl_ms, ferry_error *err)
{
    long long now = ferry_now_ms();
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "INSERT INTO locks(name,owner,expires_at) VALUES(?1,?2,?3) "
                                          "ON CONFLICT(name) DO UPDATE SET owner=excluded.owner, "
                                          "expires_at=excluded.expires_at WHERE locks.expires_at < ?4 OR "
                                          "locks.owner = excluded.owner",
                                          err);
    if (s == NULL) {
        return -1;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, owner, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, now + ttl_ms);
    sqlite3_bind_int64(s, 4, now);
    int rc = sqlite3_step(s);
    ferry_store_done(s);
    if (rc == SQLITE_BUSY) {
        return 0;
    }
    if (rc != SQLITE_DONE) {
        ferry_store_error(st, err, "take lock");
        return -1;
    }
    return sqlite3_changes(ferry_store_db(st)) > 0 ? 1 : 0;
}

char *ferry_store_lock_owner(void)
{
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    unsigned char nonce[4] = {0};
    ferry_random_bytes(nonce, sizeof(nonce));
    return ferry_asprintf("%s:%ld:%02x%02x%02x%02x", host, (long)getpid(), nonce[0], nonce[1], nonce[2], nonce[3]);
}

/*
 * The holder of `name` when it is a process of this host that no longer
 * exists (killed, crashed): its lock is released at once instead of waiting
 * for the expiry.  Returns 1 when a dead holder's lock was removed.
 */
static int release_if_holder_died(ferry_store *st, const char *name)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "SELECT owner FROM locks WHERE name=?1", NULL);
    if (s == NULL) {
        return 0;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    char *owner = sqlite3_step(s) == SQLITE_ROW ? ferry_strdup((const char *)sqlite3_column_text(s, 0)) : NULL;
    ferry_store_done(s);
    if (owner == NULL) {
        return 0;
    }
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    size_t hlen = strlen(host);
    int dead = 0;
    if (strncmp(owner, host, hlen) == 0 && owner[hlen] == ':') {
        long pid = strtol(owner + hlen + 1, NULL, 10);
        dead = pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    }
    if (dead) {
        ferry_store_unlock(st, name, owner);
    }
    free(owner);
    return dead;
}

int ferry_store_lock(ferry_store *st, const char *name, const char *owner, long long ttl_ms, int timeout_ms,
                     ferry_error *err)
{
    long long deadline = ferry_monotonic_ms() + timeout_ms;
    for (;;) {
        int got = try_lock(st, name, owner, ttl_ms, err);
        if (got < 0) {
            return FERRY_FATAL;
        }
        if (got) {
            return FERRY_OK;
        }
        if (release_if_holder_died(st, name)) {
            continue;
        }
        if (ferry_monotonic_ms() >= deadline) {
            return ferry_error_set(err, FERRY_RETRY, NULL, "lock %s is held by another ferry process", name);
        }
        ferry_sleep_ms(50);
    }
}

void ferry_store_unlock(ferry_store *st, const char *name, const char *owner)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "DELETE FROM locks WHERE name=?1 AND owner=?2", NULL);
    if (s == NULL) {
        return;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, owner, -1, SQLITE_TRANSIENT);
    sqlite3_step(s);
    ferry_store_done(s);
}
