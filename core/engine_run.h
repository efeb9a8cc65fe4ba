/*
 * engine_run.h - what one flow run carries around, shared by the engine loop
 * (engine.c) and the per-kind pipelines (sync_orders.c, sync_records.c).
 * Internal to the engine; not part of any public interface.
 */
#ifndef FERRY_ENGINE_RUN_H
#define FERRY_ENGINE_RUN_H

#include <ferry/plugin.h>

#include "activity.h"
#include "engine.h"
#include "flow.h"
#include "host.h"
#include "lua_runtime.h"
#include "store.h"
#include "syncstate.h"

/* What became of one record. */
typedef enum record_outcome {
    OUTCOME_SYNCED,    /* written now */
    OUTCOME_UNCHANGED, /* already synced earlier; nothing to do */
    OUTCOME_SKIPPED,   /* not to be sent (status, filter, mapping said skip) */
    OUTCOME_DEAD,      /* dead-lettered */
    OUTCOME_MISMATCH,  /* written, but the totals disagree beyond the tolerance */
    OUTCOME_STOP       /* the run must stop (service down, credentials): err says why */
} record_outcome;

typedef struct ferry_run ferry_run;

/* The per-kind pipeline. */
typedef struct run_kind_ops {
    /* Before the first page: reconcile, prefetch.  FERRY_OK or a status that stops the run. */
    int (*begin)(ferry_run *run, ferry_error *err);
    /* One source record (borrowed). */
    record_outcome (*process)(ferry_run *run, const json_t *record, ferry_error *err);
} run_kind_ops;

struct ferry_run {
    ferry_store *st;
    const ferry_loader *loader;
    ferry_flow *flow;
    const ferry_flow_kind *kind;
    const run_kind_ops *ops;
    json_t *settings; /* effective flow settings */
    ferry_endpoint *src;
    ferry_endpoint *dst;
    ferry_lua *lua;
    char *mapping_path;
    long long run_id;
    const ferry_run_options *opts;
    ferry_run_result *result;
    const char *current_key; /* record being processed (for HTTP events) */
    FILE *report;            /* dry-run report stream */
    unsigned indexed;        /* target entities fully prefetched this run (RUN_INDEXED_*) */
    char *lock_owner;        /* this run's hold on the flow (one run of a flow at a time) */
    char lock_name[64];
    json_t *dry_created; /* dry run: "article:NUMBER"/"customer:EMAIL" it would have created -> placeholder id */
    int payload_events;  /* log what was read, mapped, sent and answered (log_payloads != none) */
    int native_events;   /* ... and the source's native record too (log_payloads = full) */
};

/* ---- helpers the pipelines share (engine.c) ------------------------------ */

/* Log an event of this run about record `key` (may be NULL); `data` borrowed. */
void ferry_run_event(ferry_run *run, const char *level, const char *kind, const char *key, const json_t *data,
                     const char *fmt, ...) FERRY_PRINTF(6, 7);

/*
 * Map a source record with the flow's Lua mapping.  FERRY_OK with *out a
 * new array (possibly empty when skipped: *skip_reason then set, static
 * buffer of the result), or FERRY_RECORD_ERROR / FERRY_CONFIG_ERROR in err.
 */
int ferry_run_map(ferry_run *run, const json_t *record, json_t **out, char *skip_reason, size_t reason_len,
                  ferry_error *err);

/* Record a terminal outcome in the id map (not in a dry run). */
int ferry_run_settle(ferry_run *run, const char *key, const char *state, const char *target_id, const char *target_ref,
                     const char *source_hash, const char *reason, ferry_error *err);

/*
 * A record the source plugin read but refused to decode carries "refused": {"field", "message"} and
 * nothing to map: 1 and *why (FERRY_RECORD_ERROR) to dead-letter it with, else 0.
 */
int ferry_run_refused(const json_t *record, ferry_error *why);

/* Dead-letter a record with its stage, error and payloads; returns OUTCOME_DEAD (or STOP on store failure). */
record_outcome ferry_run_dead(ferry_run *run, const char *key, const char *stage, const ferry_error *why,
                              const json_t *record, const json_t *payload, const json_t *response, ferry_error *err);

/* The hash of a source record that ignores fields that change without the order changing. */
char *ferry_run_source_hash(const json_t *record);

/* A flow setting (borrowed) and typed helpers. */
const json_t *ferry_run_setting(const ferry_run *run, const char *name);
const char *ferry_run_setting_str(const ferry_run *run, const char *name);
int ferry_run_setting_bool(const ferry_run *run, const char *name);

/* True when a status stops the run (transient, configuration or fatal) rather than one record. */
int ferry_run_status_stops(int status);

/*
 * Sleep `ms` milliseconds, waking early when SIGINT/SIGTERM asked the run to
 * stop.  Returns 0, or -1 when a stop was requested.
 */
int ferry_run_sleep(long long ms);

/* Write a dry-run report line: what would happen to `key`, and the payload. */
void ferry_run_report(ferry_run *run, const char *key, const char *decision, const json_t *payload);

/* run->indexed: the target index holds every object of these entities, so a miss means "none". */
#define RUN_INDEXED_CUSTOMERS 0x1u
#define RUN_INDEXED_ARTICLES 0x2u
#define RUN_INDEXED_DOCUMENTS 0x4u

/* The pipelines. */
extern const run_kind_ops ferry_sync_orders_ops;
extern const run_kind_ops ferry_sync_records_ops;

#endif /* FERRY_ENGINE_RUN_H */
