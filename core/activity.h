/*
 * activity.h - the activity log: runs, per-record events, dead letters,
 * alerts, and their retention and purge.
 *
 * Everything written here has already been redacted by its producer (the
 * HTTP recorder, the engine); this module still passes message texts through
 * ferry_redact_text as a last guard.  Purge deletes by age (retention) or
 * everything that mentions one person (GDPR erasure).
 */
#ifndef FERRY_ACTIVITY_H
#define FERRY_ACTIVITY_H

#include <ferry/plugin.h>

#include "store.h"

typedef struct ferry_run_counts {
    long read;
    long synced;
    long skipped;
    long failed;
    long source_calls;
    long target_calls;
} ferry_run_counts;

/* Start a run of a flow; returns its id (> 0) or -1 with err set. */
long long ferry_activity_run_start(ferry_store *st, long long flow_id, int dry_run, ferry_error *err);

/* Finish a run with a status ("ok", "failed", "partial", "aborted"), counts and a message. */
int ferry_activity_run_finish(ferry_store *st, long long run_id, const char *status, const ferry_run_counts *counts,
                              const char *message, ferry_error *err);

/* Mark runs left "running" by processes that no longer exist as "interrupted". */
int ferry_activity_runs_recover(ferry_store *st, long long flow_id, ferry_error *err);

/* One event of the activity log. */
typedef struct ferry_event {
    long long run_id;        /* 0 = none */
    long long flow_id;       /* 0 = none */
    long long connection_id; /* 0 = none */
    const char *level;       /* "error", "warn", "info", "debug" */
    const char *kind;        /* "read", "mapped", "sent", "synced", "skipped", "dead", "http", "mismatch"... */
    const char *entity;
    const char *record_key;
    const char *message;
    const json_t *data; /* what came in / what was sent / what came back (redacted) */
} ferry_event;

/* Append one event to the activity log (ev and its data borrowed; data is stored as JSON).  FERRY_OK or an error. */
int ferry_activity_event(ferry_store *st, const ferry_event *ev, ferry_error *err);

/*
 * Dead-letter a record: insert, or update the open letter of the same
 * (flow, entity, key) with attempts+1.  `record`, `payload`, `response` may
 * be NULL.
 */
int ferry_activity_dead_put(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                            const char *stage, const char *error_class, const char *message, const json_t *record,
                            const json_t *payload, const json_t *response, ferry_error *err);

/* Resolve the open letter of a key (it synced after all); no letter is fine. */
int ferry_activity_dead_resolve(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                                ferry_error *err);

/* Letters of a flow (flow_id 0 = all) in `status` ("open", "resolved", "discarded", NULL = any). */
int ferry_activity_dead_list(ferry_store *st, long long flow_id, const char *status, json_t **out, ferry_error *err);
/* One letter with its record, payload and response; *out NULL when there is none. */
int ferry_activity_dead_get(ferry_store *st, long long id, json_t **out, ferry_error *err);
int ferry_activity_dead_set_status(ferry_store *st, long long id, const char *status, ferry_error *err);

/* Raise an alert (kept in the store; delivered by the alert hook). */
int ferry_activity_alert(ferry_store *st, const char *kind, long long flow_id, long long connection_id,
                         const char *message, ferry_error *err);

/* Query filter for the log. */
typedef struct ferry_log_filter {
    long long flow_id; /* 0 = any */
    long long run_id;  /* 0 = any */
    const char *record_key;
    const char *level; /* minimum level name, NULL = any */
    const char *kind;
    int limit; /* 0 = 100 */
    int with_data;
} ferry_log_filter;

/* The newest events matching f (limit), in the order they happened, as a new JSON array in *out (caller decrefs). */
int ferry_activity_events(ferry_store *st, const ferry_log_filter *f, json_t **out, ferry_error *err);

/* The newest `limit` runs (0 = 20) of one flow, or of all when flow_id is 0, oldest first, as a new JSON array. */
int ferry_activity_runs(ferry_store *st, long long flow_id, int limit, json_t **out, ferry_error *err);

/*
 * Delete events, finished runs, resolved/discarded dead letters and
 * delivered alerts older than `days` days.  *counts (new object) says how
 * many of each went.  Open dead letters are kept: they still need a person.
 */
int ferry_activity_purge_older(ferry_store *st, int days, json_t **counts, ferry_error *err);

/*
 * GDPR erasure: delete every event and dead letter whose record key is
 * `key` or whose data or message contains `needle` (an e-mail address, a
 * name), case-insensitively.  *counts as above.
 */
int ferry_activity_purge_matching(ferry_store *st, const char *needle, json_t **counts, ferry_error *err);

#endif /* FERRY_ACTIVITY_H */
