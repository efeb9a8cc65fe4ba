/* syncstate.c - cursors, id map and target index in the store (see syncstate.h). */
#include "config.h"

#include "syncstate.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "util.h"

/* ?1..?3 name the id map row of a source record. */
static void bind_idmap_row(sqlite3_stmt *s, long long flow_id, const char *entity, const char *source_key)
{
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, source_key, -1, SQLITE_TRANSIENT);
}

/* ?1..?4 name a target index entry. */
static void bind_index_entry(sqlite3_stmt *s, long long connection_id, const char *entity, const char *key_name,
                             const char *key_value)
{
    sqlite3_bind_int64(s, 1, connection_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, key_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, key_value, -1, SQLITE_TRANSIENT);
}

int ferry_syncstate_cursor_get(ferry_store *st, long long flow_id, const char *entity, json_t **cursor,
                               ferry_error *err)
{
    *cursor = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st, "SELECT cursor FROM cursors WHERE flow_id=?1 AND entity=?2", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *cursor = ferry_store_column_json(s, 0);
    }
    ferry_store_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FERRY_OK : ferry_store_error(st, err, "read cursor");
}

int ferry_syncstate_cursor_set(ferry_store *st, long long flow_id, const char *entity, const json_t *cursor,
                               ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "INSERT INTO cursors(flow_id,entity,cursor,updated_at) VALUES(?1,?2,?3,?4) "
                                          "ON CONFLICT(flow_id,entity) DO UPDATE SET cursor=excluded.cursor, "
                                          "updated_at=excluded.updated_at",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    ferry_store_bind_json(s, 3, cursor ? cursor : json_null());
    sqlite3_bind_text(s, 4, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    return ferry_store_step_done(st, s, err, "write cursor");
}

int ferry_syncstate_reset(ferry_store *st, long long flow_id, int ids, ferry_error *err)
{
    if (ferry_store_begin(st, err) != FERRY_OK) {
        return err->status;
    }
    sqlite3_stmt *s = ferry_store_prepare(st, "DELETE FROM cursors WHERE flow_id=?1", err);
    if (s == NULL) {
        ferry_store_rollback(st);
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    if (ferry_store_step_done(st, s, err, "reset cursor") != FERRY_OK) {
        ferry_store_rollback(st);
        return FERRY_FATAL;
    }
    if (ids) {
        s = ferry_store_prepare(st, "DELETE FROM id_map WHERE flow_id=?1", err);
        if (s == NULL) {
            ferry_store_rollback(st);
            return FERRY_FATAL;
        }
        sqlite3_bind_int64(s, 1, flow_id);
        if (ferry_store_step_done(st, s, err, "clear id map") != FERRY_OK) {
            ferry_store_rollback(st);
            return FERRY_FATAL;
        }
    }
    return ferry_store_commit(st, err);
}

int ferry_syncstate_counts(ferry_store *st, long long flow_id, json_t **counts, ferry_error *err)
{
    *counts = NULL;
    sqlite3_stmt *s = ferry_store_prepare(
        st, "SELECT state, count(*) FROM id_map WHERE flow_id=?1 GROUP BY state ORDER BY state", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    json_t *o = json_object();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_object_set_new(o, (const char *)sqlite3_column_text(s, 0), json_integer(sqlite3_column_int64(s, 1)));
    }
    ferry_store_done(s);
    *counts = o;
    return FERRY_OK;
}

void ferry_idmap_entry_clear(ferry_idmap_entry *e)
{
    free(e->target_id);
    free(e->target_ref);
    free(e->payload_hash);
    free(e->source_hash);
    free(e->reason);
    free(e->source_id);
    free(e->pending);
    memset(e, 0, sizeof(*e));
}

static char *dup_col(sqlite3_stmt *s, int i)
{
    return ferry_strdup((const char *)sqlite3_column_text(s, i));
}

int ferry_idmap_get(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                    ferry_idmap_entry *out, int *found, ferry_error *err)
{
    memset(out, 0, sizeof(*out));
    *found = 0;
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "SELECT state, target_id, target_ref, payload_hash, source_hash, reason, "
                                          "attempts, run_id, source_id, pending, CAST(strftime('%s', updated_at) AS "
                                          "INTEGER) FROM id_map WHERE flow_id=?1 AND entity=?2 AND "
                                          "source_key=?3",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    bind_idmap_row(s, flow_id, entity, source_key);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *found = 1;
        ferry_strlcpy(out->state, (const char *)sqlite3_column_text(s, 0), sizeof(out->state));
        out->target_id = dup_col(s, 1);
        out->target_ref = dup_col(s, 2);
        out->payload_hash = dup_col(s, 3);
        out->source_hash = dup_col(s, 4);
        out->reason = dup_col(s, 5);
        out->attempts = sqlite3_column_int(s, 6);
        out->run_id = sqlite3_column_int64(s, 7);
        out->source_id = dup_col(s, 8);
        out->pending = dup_col(s, 9);
        out->updated = sqlite3_column_int64(s, 10);
    }
    ferry_store_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FERRY_OK : ferry_store_error(st, err, "read id map");
}

int ferry_idmap_put(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                    const ferry_idmap_entry *e, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(
        st,
        "INSERT INTO id_map(flow_id,entity,source_key,state,target_id,target_ref,payload_hash,source_hash,reason,"
        "attempts,run_id,updated_at,source_id,pending) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14) "
        "ON CONFLICT(flow_id,entity,source_key) DO UPDATE SET state=excluded.state, target_id=excluded.target_id, "
        "target_ref=excluded.target_ref, payload_hash=excluded.payload_hash, source_hash=excluded.source_hash, "
        "reason=excluded.reason, attempts=excluded.attempts, run_id=excluded.run_id, updated_at=excluded.updated_at, "
        "source_id=excluded.source_id, pending=excluded.pending",
        err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    bind_idmap_row(s, flow_id, entity, source_key);
    sqlite3_bind_text(s, 4, e->state, -1, SQLITE_TRANSIENT);
    ferry_store_bind_text(s, 5, e->target_id);
    ferry_store_bind_text(s, 6, e->target_ref);
    ferry_store_bind_text(s, 7, e->payload_hash);
    ferry_store_bind_text(s, 8, e->source_hash);
    ferry_store_bind_text(s, 9, e->reason);
    sqlite3_bind_int(s, 10, e->attempts);
    if (e->run_id > 0) {
        sqlite3_bind_int64(s, 11, e->run_id);
    } else {
        sqlite3_bind_null(s, 11);
    }
    sqlite3_bind_text(s, 12, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    ferry_store_bind_text(s, 13, e->source_id);
    ferry_store_bind_text(s, 14, e->pending);
    return ferry_store_step_done(st, s, err, "write id map");
}

int ferry_idmap_pending(ferry_store *st, long long flow_id, json_t **rows, ferry_error *err)
{
    *rows = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "SELECT source_key, source_id, pending, target_id, target_ref FROM id_map "
                                          "WHERE flow_id=?1 AND pending IS NOT NULL ORDER BY source_key",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        const char *names[] = {"key", "source_id", "pending", "target_id", "target_ref"};
        for (int i = 0; i < 5; i++) {
            const char *v = (const char *)sqlite3_column_text(s, i);
            if (v != NULL) {
                json_object_set_new(o, names[i], json_string(v));
            }
        }
        json_array_append_new(arr, o);
    }
    ferry_store_done(s);
    *rows = arr;
    return FERRY_OK;
}

int ferry_idmap_keys_in_state(ferry_store *st, long long flow_id, const char *state, json_t **keys, ferry_error *err)
{
    *keys = NULL;
    sqlite3_stmt *s =
        ferry_store_prepare(st, "SELECT source_key FROM id_map WHERE flow_id=?1 AND state=?2 ORDER BY source_key", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_TRANSIENT);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_array_append_new(arr, json_string((const char *)sqlite3_column_text(s, 0)));
    }
    ferry_store_done(s);
    *keys = arr;
    return FERRY_OK;
}

int ferry_target_index_get(ferry_store *st, long long connection_id, const char *entity, const char *key_name,
                           const char *key_value, char **target_id, json_t **data, ferry_error *err)
{
    *target_id = NULL;
    if (data != NULL) {
        *data = NULL;
    }
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "SELECT target_id, data FROM target_index WHERE connection_id=?1 AND "
                                          "entity=?2 AND key_name=?3 AND key_value=?4",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    bind_index_entry(s, connection_id, entity, key_name, key_value);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *target_id = dup_col(s, 0);
        if (data != NULL) {
            *data = ferry_store_column_json(s, 1);
        }
    }
    ferry_store_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? FERRY_OK : ferry_store_error(st, err, "read target index");
}

int ferry_target_index_put(ferry_store *st, long long connection_id, const char *entity, const char *key_name,
                           const char *key_value, const char *target_id, const json_t *data, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(
        st,
        "INSERT INTO target_index(connection_id,entity,key_name,key_value,target_id,data,updated_at) "
        "VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(connection_id,entity,key_name,key_value) DO UPDATE SET "
        "target_id=excluded.target_id, data=excluded.data, updated_at=excluded.updated_at",
        err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    bind_index_entry(s, connection_id, entity, key_name, key_value);
    sqlite3_bind_text(s, 5, target_id, -1, SQLITE_TRANSIENT);
    ferry_store_bind_json(s, 6, data);
    sqlite3_bind_text(s, 7, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    return ferry_store_step_done(st, s, err, "write target index");
}

int ferry_target_index_clear(ferry_store *st, long long connection_id, const char *entity, ferry_error *err)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "DELETE FROM target_index WHERE connection_id=?1 AND entity=?2", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, connection_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    return ferry_store_step_done(st, s, err, "clear target index");
}

int ferry_target_index_forget(ferry_store *st, long long connection_id, const char *entity, const char *key_name,
                              const char *key_value, ferry_error *err)
{
    sqlite3_stmt *s = ferry_store_prepare(
        st, "DELETE FROM target_index WHERE connection_id=?1 AND entity=?2 AND key_name=?3 AND key_value=?4", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    bind_index_entry(s, connection_id, entity, key_name, key_value);
    return ferry_store_step_done(st, s, err, "forget a target index entry");
}

char *ferry_syncstate_hash(const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (text == NULL) {
        return NULL;
    }
    unsigned char digest[32];
    ferry_sha256(text, strlen(text), digest);
    free(text);
    return ferry_hex(digest, 16);
}
