/*
 * engine.h - running a flow: read pages from the source plugin, map each
 * record with the flow's Lua mapping, write it through the target plugin,
 * and remember what became of it.
 *
 * The invariants (doc/architecture.md):
 *   - exactly once: an intent row is committed to the store before every
 *     create, and intents left by a crash are reconciled by the document's
 *     external reference before anything else happens;
 *   - nothing lost: every record read ends synced, skipped (with a reason)
 *     or dead-lettered (with the error and payloads); a transient failure
 *     stops the run without advancing the cursor, so the next run retries;
 *   - the cursor of a page is stored only after every record of that page is
 *     settled;
 *   - secrets never reach the activity log (the HTTP recorder and the store
 *     redact).
 *
 * The kind of flow decides what "write" means: orders run the order
 * pipeline (sync_orders.c: customer, articles, document, totals check,
 * comment back); other kinds upsert one target record per source record
 * (sync_records.c).
 */
#ifndef FERRY_ENGINE_H
#define FERRY_ENGINE_H

#include <stdio.h>

#include <ferry/plugin.h>

#include "activity.h"
#include "loader.h"
#include "store.h"

typedef struct ferry_run_options {
    int dry_run;             /* map and decide, print payloads, write nothing to either side */
    long limit;              /* stop after this many records (0 = no limit) */
    int progress;            /* draw a progress line on stderr */
    FILE *report;            /* dry-run decisions and payloads go here (NULL = stdout) */
    int report_json;         /* dry-run report as JSON lines */
    const char *datadir;     /* share/ferry (mappings, lua modules) */
    const json_t *only_keys; /* array of source keys to (re)process, others skipped (dead retry); NULL = all */
} ferry_run_options;

typedef struct ferry_run_result {
    long long run_id;
    char status[16]; /* "ok", "partial" (some records dead or mismatched), "failed", "stopped" */
    ferry_run_counts counts;
    long mismatched;
    long dead;
    long unchanged; /* read again, already synced: nothing to do (counted in skipped too) */
    char message[512];
} ferry_run_result;

/*
 * Run flow `flow_name` once.  FERRY_OK when the run went through (records
 * may still have been dead-lettered: see result->counts.failed);
 * FERRY_CONFIG_ERROR when the flow, a connection or the mapping needs a
 * person (nothing was written after that point); FERRY_RETRY when a service
 * kept failing (the run stopped where it was; the next run continues);
 * FERRY_FATAL on store failure.
 */
int ferry_engine_run(ferry_store *st, const ferry_loader *loader, const char *flow_name, const ferry_run_options *opts,
                     ferry_run_result *result, ferry_error *err);

/*
 * Re-run the dead letters `ids` (an array of integers; NULL = every open
 * letter of the flow): each record is read again from the source by its
 * key, mapped and written.  Letters whose record now syncs are resolved.
 */
int ferry_engine_retry_dead(ferry_store *st, const ferry_loader *loader, const char *flow_name, const json_t *ids,
                            const ferry_run_options *opts, ferry_run_result *result, ferry_error *err);

#endif /* FERRY_ENGINE_H */
