/* activity.c - runs, events, dead letters, alerts, retention (see activity.h). */
#include "config.h"

#include "activity.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "log.h"
#include "redact.h"
#include "util.h"

static void bind_id_or_null(sqlite3_stmt *s, int idx, long long id)
{
    if (id > 0) {
        sqlite3_bind_int64(s, idx, id);
    } else {
        sqlite3_bind_null(s, idx);
    }
}

/* Bind a text after a last redaction pass. */
static void bind_safe_text(sqlite3_stmt *s, int idx, const char *text)
{
    if (text == NULL) {
        sqlite3_bind_null(s, idx);
        return;
    }
    char *safe = ferry_redact_text(text);
    sqlite3_bind_text(s, idx, safe ? safe : "", -1, free);
}

static void bind_safe_json(sqlite3_stmt *s, int idx, const json_t *value)
{
    if (value == NULL) {
        sqlite3_bind_null(s, idx);
        return;
    }
    json_t *safe = ferry_redact_json(value, NULL);
    ferry_store_bind_json(s, idx, safe);
    json_decref(safe);
}

long long ferry_activity_run_start(ferry_store *st, long long flow_id, int dry_run, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(
        st, "INSERT INTO runs(flow_id,started_at,status,dry_run,pid) VALUES(?1,?2,'running',?3,?4)", err);
    if (s == NULL) {
        return -1;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, dry_run ? 1 : 0);
    sqlite3_bind_int64(s, 4, (long long)getpid());
    if (ferry_store_step_done(st, s, err, "start run") != FERRY_OK) {
        return -1;
    }
    return sqlite3_last_insert_rowid(ferry_store_db(st));
}

int ferry_activity_run_finish(ferry_store *st, long long run_id, const char *status, const ferry_run_counts *c,
                              const char *message, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "UPDATE runs SET finished_at=?2, status=?3, read_count=?4, synced_count=?5, "
                                          "skipped_count=?6, failed_count=?7, source_calls=?8, target_calls=?9, "
                                          "message=?10 WHERE id=?1",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, run_id);
    sqlite3_bind_text(s, 2, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, c ? c->read : 0);
    sqlite3_bind_int64(s, 5, c ? c->synced : 0);
    sqlite3_bind_int64(s, 6, c ? c->skipped : 0);
    sqlite3_bind_int64(s, 7, c ? c->failed : 0);
    sqlite3_bind_int64(s, 8, c ? c->source_calls : 0);
    sqlite3_bind_int64(s, 9, c ? c->target_calls : 0);
    bind_safe_text(s, 10, message);
    return ferry_store_step_done(st, s, err, "finish run");
}

int ferry_activity_runs_recover(ferry_store *st, long long flow_id, ferry_error *err)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "SELECT id, pid FROM runs WHERE flow_id=?1 AND status='running'", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    long long dead[64];
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW && n < 64) {
        long long pid = sqlite3_column_int64(s, 1);
        /* kill(pid, 0) fails with ESRCH when the process is gone. */
        if (pid <= 0 || kill((pid_t)pid, 0) != 0) {
            dead[n++] = sqlite3_column_int64(s, 0);
        }
    }
    ferry_store_done(s);
    for (int i = 0; i < n; i++) {
        ferry_activity_run_finish(st, dead[i], "interrupted", NULL, "the process running it stopped", err);
    }
    return FERRY_OK;
}

int ferry_activity_event(ferry_store *st, const ferry_event *ev, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "INSERT INTO events(run_id,flow_id,connection_id,ts,level,kind,entity,"
                                          "record_key,message,data) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    bind_id_or_null(s, 1, ev->run_id);
    bind_id_or_null(s, 2, ev->flow_id);
    bind_id_or_null(s, 3, ev->connection_id);
    sqlite3_bind_text(s, 4, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, ev->level ? ev->level : "info", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 6, ev->kind ? ev->kind : "note", -1, SQLITE_TRANSIENT);
    ferry_store_bind_text(s, 7, ev->entity);
    ferry_store_bind_text(s, 8, ev->record_key);
    bind_safe_text(s, 9, ev->message);
    bind_safe_json(s, 10, ev->data);
    return ferry_store_step_done(st, s, err, "write event");
}

int ferry_activity_dead_put(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                            const char *stage, const char *error_class, const char *message, const json_t *record,
                            const json_t *payload, const json_t *response, ferry_error *err)
{
    char ts[32];
    ferry_store_timestamp(ts, sizeof(ts));
    sqlite3_stmt *s = ferry_store_prepare(
        st,
        "INSERT INTO dead_letters(flow_id,entity,source_key,stage,error_class,message,first_seen,last_seen,record,"
        "payload,response) VALUES(?1,?2,?3,?4,?5,?6,?7,?7,?8,?9,?10) "
        "ON CONFLICT(flow_id,entity,source_key) WHERE status='open' DO UPDATE SET stage=excluded.stage, "
        "error_class=excluded.error_class, message=excluded.message, last_seen=excluded.last_seen, "
        "record=excluded.record, payload=excluded.payload, response=excluded.response, attempts=attempts+1",
        err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, source_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, stage, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 5, error_class, -1, SQLITE_TRANSIENT);
    bind_safe_text(s, 6, message);
    sqlite3_bind_text(s, 7, ts, -1, SQLITE_TRANSIENT);
    bind_safe_json(s, 8, record);
    bind_safe_json(s, 9, payload);
    bind_safe_json(s, 10, response);
    return ferry_store_step_done(st, s, err, "write dead letter");
}

int ferry_activity_dead_resolve(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                                ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(st,
                                          "UPDATE dead_letters SET status='resolved', last_seen=?4 WHERE flow_id=?1 "
                                          "AND entity=?2 AND source_key=?3 AND status='open'",
                                          err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_text(s, 2, entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, source_key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    return ferry_store_step_done(st, s, err, "resolve dead letter");
}

static void put_text(json_t *o, const char *key, sqlite3_stmt *s, int col)
{
    const char *t = (const char *)sqlite3_column_text(s, col);
    if (t != NULL) {
        json_object_set_new(o, key, json_string(t));
    }
}

static void put_json(json_t *o, const char *key, sqlite3_stmt *s, int col)
{
    json_t *v = ferry_store_column_json(s, col);
    if (v != NULL) {
        json_object_set_new(o, key, v);
    }
}

#define DEAD_COLUMNS                                                                                                   \
    "SELECT d.id, f.name, d.entity, d.source_key, d.stage, d.error_class, d.message, d.attempts, d.first_seen, "       \
    "d.last_seen, d.status, d.record, d.payload, d.response FROM dead_letters d JOIN flows f ON f.id=d.flow_id "

static json_t *dead_row(sqlite3_stmt *s, int full)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
    put_text(o, "flow", s, 1);
    put_text(o, "entity", s, 2);
    put_text(o, "key", s, 3);
    put_text(o, "stage", s, 4);
    put_text(o, "error_class", s, 5);
    put_text(o, "message", s, 6);
    json_object_set_new(o, "attempts", json_integer(sqlite3_column_int64(s, 7)));
    put_text(o, "first_seen", s, 8);
    put_text(o, "last_seen", s, 9);
    put_text(o, "status", s, 10);
    if (full) {
        put_json(o, "record", s, 11);
        put_json(o, "payload", s, 12);
        put_json(o, "response", s, 13);
    }
    return o;
}

int ferry_activity_dead_list(ferry_store *st, long long flow_id, const char *status, json_t **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(
        st, DEAD_COLUMNS "WHERE (?1 = 0 OR d.flow_id = ?1) AND (?2 IS NULL OR d.status = ?2) ORDER BY d.id", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    ferry_store_bind_text(s, 2, status);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_array_append_new(arr, dead_row(s, 0));
    }
    ferry_store_done(s);
    *out = arr;
    return FERRY_OK;
}

int ferry_activity_dead_get(ferry_store *st, long long id, json_t **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st, DEAD_COLUMNS "WHERE d.id=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *out = dead_row(s, 1);
    }
    ferry_store_done(s);
    return FERRY_OK;
}

int ferry_activity_dead_set_status(ferry_store *st, long long id, const char *status, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(st, "UPDATE dead_letters SET status=?2, last_seen=?3 WHERE id=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    if (ferry_store_step_done(st, s, err, "update dead letter") != FERRY_OK) {
        return FERRY_FATAL;
    }
    if (sqlite3_changes(ferry_store_db(st)) == 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no dead letter with id %lld", id);
    }
    return FERRY_OK;
}

/* Seconds within which the same alert is not raised again (a paused flow run from cron every 5 minutes). */
#define ALERT_REPEAT_SECONDS (24 * 3600)

int ferry_activity_alert(ferry_store *st, const char *kind, long long flow_id, long long connection_id,
                         const char *message, ferry_error *err)
{
    char ts[32];
    /* The same alert again within a day says nothing new: keep one (collectd's c_complain idea). */
    char since[32];
    ferry_time_iso((long long)time(NULL) - ALERT_REPEAT_SECONDS, since, sizeof(since));
    sqlite3_stmt *q = ferry_store_prepare(st,
                                          "SELECT 1 FROM alerts WHERE kind=?1 AND coalesce(flow_id,0)=?2 AND "
                                          "coalesce(connection_id,0)=?3 AND message=?4 AND ts >= ?5 LIMIT 1",
                                          err);
    if (q == NULL) {
        return FERRY_FATAL;
    }
    char *safe = ferry_redact_text(message ? message : kind);
    sqlite3_bind_text(q, 1, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 2, flow_id > 0 ? flow_id : 0);
    sqlite3_bind_int64(q, 3, connection_id > 0 ? connection_id : 0);
    sqlite3_bind_text(q, 4, safe ? safe : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(q, 5, since, -1, SQLITE_TRANSIENT);
    int repeated = sqlite3_step(q) == SQLITE_ROW;
    ferry_store_done(q);
    free(safe);
    if (repeated) {
        return FERRY_OK;
    }
    sqlite3_stmt *s = ferry_store_prepare(
        st, "INSERT INTO alerts(ts,kind,flow_id,connection_id,message) VALUES(?1,?2,?3,?4,?5)", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 1, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, kind, -1, SQLITE_TRANSIENT);
    bind_id_or_null(s, 3, flow_id);
    bind_id_or_null(s, 4, connection_id);
    bind_safe_text(s, 5, message);
    return ferry_store_step_done(st, s, err, "write alert");
}

static int level_rank(const char *level)
{
    int r = ferry_log_level_from_name(level);
    return r < 0 ? FERRY_LOG_DEBUG : r;
}

int ferry_activity_events(ferry_store *st, const ferry_log_filter *f, json_t **out, ferry_error *err)
{
    *out = NULL;
    /* The newest `limit` events, printed oldest first. */
    sqlite3_stmt *s = ferry_store_prepare(
        st,
        "SELECT * FROM (SELECT e.id, e.run_id, fl.name, e.ts, e.level, e.kind, e.entity, e.record_key, e.message, "
        "e.data FROM events e LEFT JOIN flows fl ON fl.id=e.flow_id WHERE (?1=0 OR e.flow_id=?1) AND "
        "(?2=0 OR e.run_id=?2) AND (?3 IS NULL OR e.record_key=?3) AND (?4 IS NULL OR e.kind=?4) AND "
        "(CASE e.level WHEN 'error' THEN 0 WHEN 'warn' THEN 1 WHEN 'info' THEN 2 ELSE 3 END) <= ?5 "
        "ORDER BY e.id DESC LIMIT ?6) ORDER BY id",
        err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, f->flow_id);
    sqlite3_bind_int64(s, 2, f->run_id);
    ferry_store_bind_text(s, 3, f->record_key);
    ferry_store_bind_text(s, 4, f->kind);
    sqlite3_bind_int(s, 5, f->level ? level_rank(f->level) : FERRY_LOG_DEBUG);
    sqlite3_bind_int(s, 6, f->limit > 0 ? f->limit : 100);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
        if (sqlite3_column_type(s, 1) != SQLITE_NULL) {
            json_object_set_new(o, "run", json_integer(sqlite3_column_int64(s, 1)));
        }
        put_text(o, "flow", s, 2);
        put_text(o, "ts", s, 3);
        put_text(o, "level", s, 4);
        put_text(o, "kind", s, 5);
        put_text(o, "entity", s, 6);
        put_text(o, "key", s, 7);
        put_text(o, "message", s, 8);
        if (f->with_data) {
            put_json(o, "data", s, 9);
        }
        json_array_append_new(arr, o);
    }
    ferry_store_done(s);
    *out = arr;
    return FERRY_OK;
}

int ferry_activity_runs(ferry_store *st, long long flow_id, int limit, json_t **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(
        st,
        "SELECT * FROM (SELECT r.id, f.name, r.started_at, r.finished_at, r.status, r.dry_run, r.read_count, "
        "r.synced_count, r.skipped_count, r.failed_count, r.source_calls, r.target_calls, r.message FROM runs r "
        "JOIN flows f ON f.id=r.flow_id WHERE (?1=0 OR r.flow_id=?1) ORDER BY r.id DESC LIMIT ?2) ORDER BY id",
        err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    sqlite3_bind_int(s, 2, limit > 0 ? limit : 20);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(sqlite3_column_int64(s, 0)));
        put_text(o, "flow", s, 1);
        put_text(o, "started_at", s, 2);
        put_text(o, "finished_at", s, 3);
        put_text(o, "status", s, 4);
        json_object_set_new(o, "dry_run", json_boolean(sqlite3_column_int(s, 5)));
        json_object_set_new(o, "read", json_integer(sqlite3_column_int64(s, 6)));
        json_object_set_new(o, "synced", json_integer(sqlite3_column_int64(s, 7)));
        json_object_set_new(o, "skipped", json_integer(sqlite3_column_int64(s, 8)));
        json_object_set_new(o, "failed", json_integer(sqlite3_column_int64(s, 9)));
        json_object_set_new(o, "source_calls", json_integer(sqlite3_column_int64(s, 10)));
        json_object_set_new(o, "target_calls", json_integer(sqlite3_column_int64(s, 11)));
        put_text(o, "message", s, 12);
        json_array_append_new(arr, o);
    }
    ferry_store_done(s);
    *out = arr;
    return FERRY_OK;
}

/* Run one DELETE with one bound text parameter; returns rows deleted or -1. */
static long delete_with(ferry_store *st, const char *sql, const char *param, ferry_error *err)
{
    sqlite3_stmt *s = ferry_store_prepare(st, sql, err);
    if (s == NULL) {
        return -1;
    }
    sqlite3_bind_text(s, 1, param, -1, SQLITE_TRANSIENT);
    if (ferry_store_step_done(st, s, err, "purge") != FERRY_OK) {
        return -1;
    }
    return (long)sqlite3_changes(ferry_store_db(st));
}

int ferry_activity_purge_older(ferry_store *st, int days, json_t **counts, ferry_error *err)
{
    *counts = NULL;
    char cutoff[32];
    ferry_time_iso((long long)time(NULL) - (long long)days * 86400, cutoff, sizeof(cutoff));
    if (ferry_store_begin(st, err) != FERRY_OK) {
        return err->status;
    }
    long ev = delete_with(st, "DELETE FROM events WHERE ts < ?1", cutoff, err);
    long dl = ev < 0
                  ? -1
                  : delete_with(st, "DELETE FROM dead_letters WHERE status != 'open' AND last_seen < ?1", cutoff, err);
    long al = dl < 0 ? -1 : delete_with(st, "DELETE FROM alerts WHERE ts < ?1", cutoff, err);
    long ru = al < 0 ? -1
                     : delete_with(st,
                                   "DELETE FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?1 AND "
                                   "id NOT IN (SELECT run_id FROM events WHERE run_id IS NOT NULL)",
                                   cutoff, err);
    if (ru < 0) {
        ferry_store_rollback(st);
        return err->status ? err->status : FERRY_FATAL;
    }
    if (ferry_store_commit(st, err) != FERRY_OK) {
        return err->status;
    }
    *counts = json_pack("{s:s, s:i, s:i, s:i, s:i}", "before", cutoff, "events", (json_int_t)ev, "dead_letters",
                        (json_int_t)dl, "alerts", (json_int_t)al, "runs", (json_int_t)ru);
    return FERRY_OK;
}

int ferry_activity_purge_matching(ferry_store *st, const char *needle, json_t **counts, ferry_error *err)
{
    *counts = NULL;
    if (needle == NULL || strlen(needle) < 3) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                               "refusing to purge by a text shorter than 3 characters (it would match too much)");
    }
    /* instr on lower() is an exact substring test, unlike LIKE whose % and _ a needle could contain. */
    if (ferry_store_begin(st, err) != FERRY_OK) {
        return err->status;
    }
    long ev = delete_with(st,
                          "DELETE FROM events WHERE record_key = ?1 OR instr(lower(coalesce(data,'')), lower(?1)) > 0 "
                          "OR instr(lower(coalesce(message,'')), lower(?1)) > 0",
                          needle, err);
    long dl = ev < 0 ? -1
                     : delete_with(st,
                                   "DELETE FROM dead_letters WHERE source_key = ?1 OR "
                                   "instr(lower(coalesce(record,'') || coalesce(payload,'') || "
                                   "coalesce(response,'') || message), lower(?1)) > 0",
                                   needle, err);
    if (dl < 0) {
        ferry_store_rollback(st);
        return err->status ? err->status : FERRY_FATAL;
    }
    if (ferry_store_commit(st, err) != FERRY_OK) {
        return err->status;
    }
    *counts = json_pack("{s:i, s:i}", "events", (json_int_t)ev, "dead_letters", (json_int_t)dl);
    return FERRY_OK;
}
