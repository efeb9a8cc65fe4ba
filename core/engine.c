/*
 * engine.c - the run loop shared by every kind of flow (see engine.h):
 * open the flow's connections and mapping, let the kind reconcile and
 * prefetch, then read pages, process each record, and store the cursor once
 * the page is settled.
 */
#include "config.h"

#include "engine.h"

#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connection.h"
#include "engine_run.h"
#include "error.h"
#include "log.h"
#include "redact.h"
#include "util.h"

/* Set by SIGINT/SIGTERM: stop after the record in hand, leaving a consistent store. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- helpers for the pipelines ------------------------------------------------ */

int ferry_run_sleep(long long ms)
{
    while (ms > 0 && !stop_requested) {
        long long slice = ms < 200 ? ms : 200;
        ferry_sleep_ms(slice);
        ms -= slice;
    }
    return stop_requested ? -1 : 0;
}

void ferry_run_event(ferry_run *run, const char *level, const char *kind, const char *key, const json_t *data,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = ferry_vasprintf(fmt, ap);
    va_end(ap);
    ferry_event ev = {run->run_id, run->flow->id, 0, level, kind, run->flow->source_entity, key, msg, data};
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_activity_event(run->st, &ev, &err) != FERRY_OK) {
        ferry_log(FERRY_LOG_WARN, run->flow->name, "cannot write event: %s", err.message);
    }
    free(msg);
}

int ferry_run_status_stops(int status)
{
    return status == FERRY_RETRY || status == FERRY_CONFIG_ERROR || status == FERRY_FATAL;
}

const json_t *ferry_run_setting(const ferry_run *run, const char *name)
{
    return json_object_get(run->settings, name);
}

const char *ferry_run_setting_str(const ferry_run *run, const char *name)
{
    const json_t *v = ferry_run_setting(run, name);
    return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

int ferry_run_setting_bool(const ferry_run *run, const char *name)
{
    return json_is_true(ferry_run_setting(run, name));
}

char *ferry_run_source_hash(const json_t *record)
{
    /*
     * A comment written back, a status change ferry made, or a touch of
     * updated_at must not look like an edit: hash what the order says.
     */
    /* A shallow copy: the members are shared, only the dropped keys differ (the native order is big). */
    json_t *copy = json_copy((json_t *)record);
    static const char *const volatile_keys[] = {"source", "updated_at", "status", "state", "target_fields", NULL};
    for (int i = 0; volatile_keys[i] != NULL; i++) {
        json_object_del(copy, volatile_keys[i]);
    }
    char *h = ferry_syncstate_hash(copy);
    json_decref(copy);
    return h;
}

int ferry_run_map(ferry_run *run, const json_t *record, json_t **out, char *skip_reason, size_t reason_len,
                  ferry_error *err)
{
    *out = NULL;
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:b, s:I, s:O}", "flow", run->flow->name, "kind", run->flow->kind,
                            "entity", run->flow->source_entity, "dry_run", run->opts->dry_run, "run_id",
                            (json_int_t)run->run_id, "settings", run->settings);
    ferry_lua_result res;
    memset(&res, 0, sizeof(res));
    int rc = ferry_lua_map(run->lua, record, ctx, &res, err);
    json_decref(ctx);
    if (rc != FERRY_OK) {
        ferry_lua_result_clear(&res);
        return rc;
    }
    if (res.skipped && skip_reason != NULL) {
        ferry_strlcpy(skip_reason, res.skip_reason[0] ? res.skip_reason : "the mapping skipped it", reason_len);
    }
    *out = res.records;
    res.records = NULL;
    ferry_lua_result_clear(&res);
    if (*out == NULL) {
        *out = json_array();
    }
    return FERRY_OK;
}

int ferry_run_settle(ferry_run *run, const char *key, const char *state, const char *target_id, const char *target_ref,
                     const char *source_hash, const char *reason, ferry_error *err)
{
    if (run->opts->dry_run) {
        return FERRY_OK;
    }
    ferry_idmap_entry prev;
    int found = 0;
    if (ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &prev, &found, err) != FERRY_OK) {
        return err->status;
    }
    ferry_idmap_entry e;
    memset(&e, 0, sizeof(e));
    ferry_strlcpy(e.state, state, sizeof(e.state));
    e.target_id = (char *)target_id;
    e.target_ref = (char *)target_ref;
    e.source_hash = (char *)source_hash;
    e.reason = (char *)reason;
    /* attempts counts consecutive failures: a dead letter adds one, anything else starts over. */
    e.attempts = strcmp(state, "dead") == 0 ? (found ? prev.attempts : 0) + 1 : 0;
    e.run_id = run->run_id;
    e.payload_hash = found ? prev.payload_hash : NULL;
    e.source_id = found ? prev.source_id : NULL;
    e.pending = NULL;
    int rc = ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, err);
    ferry_idmap_entry_clear(&prev);
    if (rc == FERRY_OK && strcmp(state, "dead") != 0) {
        rc = ferry_activity_dead_resolve(run->st, run->flow->id, run->flow->source_entity, key, err);
    }
    return rc;
}

int ferry_run_refused(const json_t *record, ferry_error *why)
{
    json_t *refused = json_object_get(record, "refused");
    if (!json_is_object(refused)) {
        return 0;
    }
    const char *field = json_string_value(json_object_get(refused, "field"));
    const char *message = json_string_value(json_object_get(refused, "message"));
    ferry_error_clear(why);
    ferry_error_set(why, FERRY_RECORD_ERROR, field, "%s", message ? message : "the source could not read it");
    return 1;
}

record_outcome ferry_run_dead(ferry_run *run, const char *key, const char *stage, const ferry_error *why,
                              const json_t *record, const json_t *payload, const json_t *response, ferry_error *err)
{
    char msg[1600];
    ferry_error copy = *why;
    ferry_error_context(&copy, run->flow->name, key);
    ferry_error_format(&copy, msg, sizeof(msg));
    ferry_run_event(run, "error", "dead", key, NULL, "%s", msg);
    if (run->opts->dry_run) {
        ferry_run_report(run, key, msg, payload);
        return OUTCOME_DEAD;
    }
    json_t *slim = NULL;
    if (record != NULL) {
        /* Keep the canonical record (the native original can be read again from the source). */
        slim = json_deep_copy(record);
        json_object_del(slim, "source");
    }
    int rc = ferry_activity_dead_put(run->st, run->flow->id, run->flow->source_entity, key, stage,
                                     ferry_status_key(why->status), msg, slim, payload, response, err);
    json_decref(slim);
    if (rc != FERRY_OK) {
        return OUTCOME_STOP;
    }
    char *hash = record ? ferry_run_source_hash(record) : NULL;
    rc = ferry_run_settle(run, key, "dead", NULL, NULL, hash, why->message, err);
    free(hash);
    return rc == FERRY_OK ? OUTCOME_DEAD : OUTCOME_STOP;
}

void ferry_run_report(ferry_run *run, const char *key, const char *decision, const json_t *payload)
{
    if (!run->opts->dry_run) {
        return;
    }
    FILE *out = run->report ? run->report : stdout;
    if (run->opts->report_json) {
        json_t *line = json_pack("{s:s, s:s}", "key", key ? key : "", "decision", decision);
        if (payload != NULL) {
            json_object_set(line, "payload", (json_t *)payload);
        }
        char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(15));
        fprintf(out, "%s\n", text ? text : "{}");
        free(text);
        json_decref(line);
        return;
    }
    fprintf(out, "%s: %s\n", key ? key : "-", decision);
    if (payload != NULL) {
        char *text = json_dumps(payload, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
        if (text != NULL) {
            fprintf(out, "%s\n", text);
            free(text);
        }
    }
}

/* ---- the HTTP recorder: every exchange becomes an event of the record in hand ---- */

static void record_http(void *ud, const ferry_http_exchange *ex)
{
    ferry_run *run = ud;
    json_t *data = json_object();
    json_object_set_new(data, "method", json_string(ex->method));
    json_object_set_new(data, "url", json_string(ex->url));
    json_object_set_new(data, "status", json_integer(ex->status));
    json_object_set_new(data, "attempts", json_integer(ex->attempts));
    json_object_set_new(data, "ms", json_integer(ex->duration_ms));
    if (run->payload_events) {
        if (ex->request_headers != NULL) {
            json_object_set_new(data, "headers", json_string(ex->request_headers));
        }
        if (ex->request_body != NULL) {
            json_t *body = json_loads(ex->request_body, JSON_DECODE_ANY, NULL);
            json_object_set_new(data, "sent", body ? body : json_string(ex->request_body));
        }
        /*
         * The client hands over what writes got back and error answers only
         * (see run_open): list pages repeat what the per-record "read" events
         * hold, and would make the log grow with the shop rather than the work.
         */
        if (ex->response_body != NULL) {
            json_t *body = json_loads(ex->response_body, JSON_DECODE_ANY, NULL);
            json_object_set_new(data, "received", body ? body : json_string(ex->response_body));
        }
    }
    const char *level = ex->error != NULL || ex->status >= 400 ? "warn" : "debug";
    ferry_run_event(run, level, "http", run->current_key, data, "%s %s -> %ld%s%s", ex->method,
                    ex->label ? ex->label : ex->url, ex->status, ex->error ? ": " : "",
                    ex->error ? ex->error->message : "");
    json_decref(data);
}

/* ---- opening and closing a run ------------------------------------------------------ */

/* How long a run holds its flow between two pages before another may take it (a hung run, not a dead one). */
#define RUN_LOCK_TTL_MS (15LL * 60 * 1000)

/*
 * One run of a flow at a time: two runs would both see an order without its
 * intent committed yet and both create it.  A run killed outright leaves its
 * lock, which the next run takes over at once (the holder is gone).
 */
static int run_lock(ferry_run *run, ferry_error *err)
{
    if (run->lock_owner == NULL) {
        run->lock_owner = ferry_store_lock_owner();
        snprintf(run->lock_name, sizeof(run->lock_name), "flow:%lld:run", run->flow->id);
    }
    if (ferry_store_lock(run->st, run->lock_name, run->lock_owner, RUN_LOCK_TTL_MS, 0, err) != FERRY_OK) {
        return ferry_error_set(err, FERRY_RETRY, NULL,
                               "flow %s is being run by another ferry process right now; this run did nothing",
                               run->flow->name);
    }
    return FERRY_OK;
}

static void run_close(ferry_run *run)
{
    if (run->lock_owner != NULL) {
        ferry_store_unlock(run->st, run->lock_name, run->lock_owner);
        free(run->lock_owner);
    }
    ferry_endpoint_close(run->src);
    ferry_endpoint_close(run->dst);
    ferry_lua_destroy(run->lua);
    ferry_flow_free(run->flow);
    json_decref(run->settings);
    json_decref(run->dry_created);
    free(run->mapping_path);
}

static void lua_log(void *ud, int level, const char *message)
{
    ferry_run *run = ud;
    ferry_log(level, run->flow->name, "mapping: %s", message);
    ferry_run_event(run, ferry_log_level_name(level), "log", run->current_key, NULL, "%s", message);
}

static int run_open(ferry_run *run, ferry_store *st, const ferry_loader *loader, const char *flow_name,
                    const ferry_run_options *opts, ferry_run_result *result, ferry_error *err)
{
    memset(run, 0, sizeof(*run));
    run->st = st;
    run->loader = loader;
    run->opts = opts;
    run->result = result;
    run->report = opts->report;
    run->payload_events = 1;
    run->dry_created = json_object();
    if (ferry_flow_get(st, flow_name, &run->flow, err) != FERRY_OK) {
        return err->status;
    }
    if (!run->flow->enabled && opts->only_keys == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                               "flow %s is disabled (enable it with 'ferry flow enable %s')", flow_name, flow_name);
    }
    if (!opts->dry_run && run_lock(run, err) != FERRY_OK) {
        return err->status;
    }
    run->kind = ferry_flow_kind_find(run->flow->kind);
    if (run->kind == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "kind", "flow %s has an unknown kind %s", flow_name,
                               run->flow->kind);
    }
    run->ops = strcmp(run->kind->name, "orders") == 0 ? &ferry_sync_orders_ops : &ferry_sync_records_ops;
    run->settings = ferry_flow_effective_settings(run->flow);
    const char *log_payloads = ferry_run_setting_str(run, "log_payloads");
    run->payload_events = log_payloads == NULL || strcmp(log_payloads, "none") != 0;
    run->native_events = log_payloads != NULL && strcmp(log_payloads, "full") == 0;

    /* The mapping first: a broken script fails the run before any network call. */
    run->mapping_path = ferry_flow_mapping_path(run->flow, opts->datadir, err);
    if (run->mapping_path == NULL) {
        return FERRY_CONFIG_ERROR;
    }
    ferry_lua_options lo;
    memset(&lo, 0, sizeof(lo));
    lo.flow = run->flow->name;
    lo.settings = run->settings;
    lo.value_maps = run->flow->maps;
    lo.log = lua_log;
    lo.log_ud = run;
    if (opts->datadir != NULL) {
        static char libdir[1024];
        snprintf(libdir, sizeof(libdir), "%s/lua", opts->datadir);
        lo.lib_dir = libdir;
    }
    run->lua = ferry_lua_create(&lo, err);
    if (run->lua == NULL) {
        return err->status ? err->status : FERRY_FATAL;
    }
    if (ferry_lua_load(run->lua, run->mapping_path, err) != FERRY_OK) {
        ferry_error_context(err, run->flow->name, NULL);
        return FERRY_CONFIG_ERROR;
    }
    if (ferry_endpoint_open(st, loader, run->flow->source_connection, 0, &run->src, err) != FERRY_OK ||
        ferry_endpoint_open(st, loader, run->flow->target_connection, 0, &run->dst, err) != FERRY_OK) {
        ferry_error_context(err, run->flow->name, NULL);
        return err->status;
    }
    if (run->src->plugin->desc->read_page == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "plugin %s cannot read pages", run->src->plugin->name);
    }
    /* Only what the activity log keeps: writes and their answers, and error answers. */
    unsigned bodies = run->payload_events ? FERRY_HTTP_RECORD_WRITE_BODIES | FERRY_HTTP_RECORD_ERROR_BODIES
                                          : FERRY_HTTP_RECORD_ERROR_BODIES;
    ferry_endpoint_set_recorder(run->src, record_http, run, bodies);
    ferry_endpoint_set_recorder(run->dst, record_http, run, bodies);
    if (ferry_activity_runs_recover(st, run->flow->id, err) != FERRY_OK) {
        return err->status;
    }
    run->run_id = ferry_activity_run_start(st, run->flow->id, opts->dry_run, err);
    if (run->run_id < 0) {
        return err->status;
    }
    result->run_id = run->run_id;
    return FERRY_OK;
}

/* ---- the page loop ----------------------------------------------------------------- */

static void count_outcome(ferry_run *run, record_outcome o)
{
    ferry_run_result *r = run->result;
    switch (o) {
    case OUTCOME_SYNCED:
        r->counts.synced++;
        break;
    case OUTCOME_UNCHANGED:
        r->unchanged++;
        r->counts.skipped++;
        break;
    case OUTCOME_SKIPPED:
        r->counts.skipped++;
        break;
    case OUTCOME_DEAD:
        r->counts.failed++;
        r->dead++;
        break;
    case OUTCOME_MISMATCH:
        r->counts.synced++;
        r->mismatched++;
        break;
    case OUTCOME_STOP:
        break;
    }
}

static void draw_progress(ferry_run *run, int final)
{
    if (!run->opts->progress) {
        return;
    }
    static long long last;
    long long now = ferry_monotonic_ms();
    if (!final && now - last < 200) {
        return;
    }
    last = now;
    const ferry_run_counts *c = &run->result->counts;
    fprintf(stderr, "\r%s: %ld read, %ld synced, %ld skipped, %ld failed%s", run->flow->name, c->read, c->synced,
            c->skipped, c->failed, final ? "\n" : "");
    fflush(stderr);
}

static int key_selected(const ferry_run *run, const char *key)
{
    if (run->opts->only_keys == NULL) {
        return 1;
    }
    size_t i;
    json_t *k;
    json_array_foreach (run->opts->only_keys, i, k) {
        if (json_is_string(k) && strcmp(json_string_value(k), key) == 0) {
            return 1;
        }
    }
    return 0;
}

/*
 * Process one page; returns FERRY_OK, or the status that stops the run (err set).
 * *cut is set when --limit stopped the page before its last record: the page's
 * cursor must then stay where it was, or the rest of the page is never read.
 */
static int process_page(ferry_run *run, const json_t *records, int *cut, ferry_error *err)
{
    *cut = 0;
    size_t i;
    json_t *rec;
    json_array_foreach (records, i, rec) {
        const char *key = json_string_value(json_object_get(rec, "key"));
        if (key == NULL) {
            ferry_error why;
            ferry_error_clear(&why);
            ferry_error_set(&why, FERRY_RECORD_ERROR, "key", "the source plugin returned a record without a key");
            ferry_run_event(run, "error", "invalid", NULL, rec, "%s", why.message);
            run->result->counts.failed++;
            continue;
        }
        if (!key_selected(run, key)) {
            continue;
        }
        run->result->counts.read++;
        run->current_key = key;
        record_outcome o = run->ops->process(run, rec, err);
        run->current_key = NULL;
        if (o == OUTCOME_STOP) {
            ferry_error_context(err, run->flow->name, key);
            return err->status ? err->status : FERRY_FATAL;
        }
        count_outcome(run, o);
        draw_progress(run, 0);
        if (stop_requested) {
            return ferry_error_set(err, FERRY_RETRY, NULL, "stopped by a signal; the next run continues here");
        }
        if (run->opts->limit > 0 && run->result->counts.read >= run->opts->limit) {
            *cut = i + 1 < json_array_size(records);
            return FERRY_OK;
        }
    }
    return FERRY_OK;
}

static json_t *read_query(const ferry_run *run)
{
    json_t *q = json_object();
    const json_t *since = ferry_run_setting(run, "since");
    if (since != NULL && json_is_string(since)) {
        json_object_set(q, "since", (json_t *)since);
    }
    const json_t *page = ferry_run_setting(run, "page_size");
    if (page != NULL) {
        json_object_set(q, "page_size", (json_t *)page);
    }
    /* Orders: statuses go to the source only when asked, so every other order is still accounted for. */
    if (ferry_run_setting_bool(run, "filter_statuses_in_query") && ferry_run_setting(run, "statuses") != NULL) {
        json_object_set(q, "statuses", (json_t *)ferry_run_setting(run, "statuses"));
    }
    const json_t *types = ferry_run_setting(run, "types");
    if (types != NULL) {
        json_object_set(q, "types", (json_t *)types);
    }
    return q;
}

/* Dead-letter retry: fetch each wanted record by its key instead of re-reading every page. */
static int keys_loop(ferry_run *run, ferry_error *err)
{
    const ferry_plugin_descriptor *d = run->src->plugin->desc;
    if (d->find == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "plugin %s cannot find records by key",
                               run->src->plugin->name);
    }
    size_t i;
    json_t *k;
    json_array_foreach (run->opts->only_keys, i, k) {
        const char *key = json_string_value(k);
        json_t *rec = NULL;
        int rc = d->find(run->src->conn, run->flow->source_entity, "key", key, &rec, err);
        if (rc != FERRY_OK) {
            json_decref(rec);
            return rc;
        }
        if (rec == NULL) {
            ferry_run_event(run, "warn", "missing", key, NULL, "%s %s is no longer at the source; letter kept",
                            run->flow->source_entity, key);
            continue;
        }
        json_t *page = json_pack("[o]", rec);
        int cut;
        rc = process_page(run, page, &cut, err);
        json_decref(page);
        if (rc != FERRY_OK) {
            return rc;
        }
    }
    return FERRY_OK;
}

static int page_loop(ferry_run *run, ferry_error *err)
{
    const ferry_plugin_descriptor *d = run->src->plugin->desc;
    if (run->opts->only_keys != NULL) {
        return keys_loop(run, err);
    }
    json_t *cursor = NULL;
    if (ferry_syncstate_cursor_get(run->st, run->flow->id, run->flow->source_entity, &cursor, err) != FERRY_OK) {
        return err->status;
    }
    json_t *query = read_query(run);
    int rc = FERRY_OK;
    for (;;) {
        json_t *records = NULL, *next = NULL;
        int more = 0;
        rc = d->read_page(run->src->conn, run->flow->source_entity, query, cursor, &records, &next, &more, err);
        if (rc != FERRY_OK) {
            json_decref(records);
            json_decref(next);
            if (err->message[0] == '\0') {
                ferry_error_set(err, rc, NULL, "reading %s from %s failed", run->flow->source_entity,
                                run->flow->source_connection);
            }
            break;
        }
        int cut = 0;
        rc = process_page(run, records, &cut, err);
        json_decref(records);
        if (rc != FERRY_OK || cut) {
            json_decref(next);
            break;
        }
        /* Every record of the page is settled: now the cursor may move. */
        if (!run->opts->dry_run && next != NULL &&
            ferry_syncstate_cursor_set(run->st, run->flow->id, run->flow->source_entity, next, err) != FERRY_OK) {
            json_decref(next);
            rc = err->status;
            break;
        }
        json_decref(cursor);
        cursor = next;
        if (!more || (run->opts->limit > 0 && run->result->counts.read >= run->opts->limit)) {
            break;
        }
        /* Still here: hold the flow for another while. */
        if (run->lock_owner != NULL && (rc = run_lock(run, err)) != FERRY_OK) {
            break;
        }
    }
    json_decref(cursor);
    json_decref(query);
    return rc;
}

static void finish(ferry_run *run, int rc, const ferry_error *err)
{
    ferry_run_result *r = run->result;
    r->counts.source_calls = run->src ? ferry_endpoint_calls(run->src) : 0;
    r->counts.target_calls = run->dst ? ferry_endpoint_calls(run->dst) : 0;
    if (rc != FERRY_OK) {
        ferry_strlcpy(r->status, rc == FERRY_RETRY ? "stopped" : "failed", sizeof(r->status));
        ferry_error_format(err, r->message, sizeof(r->message));
    } else if (r->dead > 0 || r->mismatched > 0) {
        ferry_strlcpy(r->status, "partial", sizeof(r->status));
        snprintf(r->message, sizeof(r->message), "%ld dead-lettered, %ld with totals that differ", r->dead,
                 r->mismatched);
    } else {
        ferry_strlcpy(r->status, "ok", sizeof(r->status));
    }
    draw_progress(run, 1);
    ferry_error ferr;
    ferry_error_clear(&ferr);
    if (run->run_id > 0) {
        ferry_activity_run_finish(run->st, run->run_id, r->status, &r->counts, r->message[0] ? r->message : NULL,
                                  &ferr);
        if (rc != FERRY_OK) {
            ferry_run_event(run, "error", "run", NULL, NULL, "run %s: %s", r->status, r->message);
        }
    }
    /* A flow that cannot run (credentials, mapping, module) needs a person: alert, also before it started. */
    if (rc == FERRY_CONFIG_ERROR || rc == FERRY_FATAL) {
        ferry_activity_alert(run->st, "flow_failed", run->flow->id, 0, r->message, &ferr);
    }
}

static int engine_execute(ferry_store *st, const ferry_loader *loader, const char *flow_name,
                          const ferry_run_options *opts, ferry_run_result *result, ferry_error *err)
{
    memset(result, 0, sizeof(*result));
    ferry_run run;
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_requested = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    int rc = run_open(&run, st, loader, flow_name, opts, result, err);
    if (rc == FERRY_OK) {
        rc = run.ops->begin(&run, err);
    }
    if (rc == FERRY_OK) {
        rc = page_loop(&run, err);
    }
    if (run.flow != NULL) {
        finish(&run, rc, err);
    } else {
        ferry_strlcpy(result->status, "failed", sizeof(result->status));
        ferry_error_format(err, result->message, sizeof(result->message));
    }
    run_close(&run);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    return rc;
}

int ferry_engine_run(ferry_store *st, const ferry_loader *loader, const char *flow_name, const ferry_run_options *opts,
                     ferry_run_result *result, ferry_error *err)
{
    return engine_execute(st, loader, flow_name, opts, result, err);
}

int ferry_engine_retry_dead(ferry_store *st, const ferry_loader *loader, const char *flow_name, const json_t *ids,
                            const ferry_run_options *opts, ferry_run_result *result, ferry_error *err)
{
    ferry_flow *flow = NULL;
    if (ferry_flow_get(st, flow_name, &flow, err) != FERRY_OK) {
        return err->status;
    }
    json_t *letters = NULL;
    if (ferry_activity_dead_list(st, flow->id, "open", &letters, err) != FERRY_OK) {
        ferry_flow_free(flow);
        return err->status;
    }
    json_t *keys = json_array();
    size_t i;
    json_t *l;
    json_array_foreach (letters, i, l) {
        int wanted = ids == NULL;
        size_t j;
        json_t *id;
        json_array_foreach (ids, j, id) {
            wanted |= json_integer_value(id) == json_integer_value(json_object_get(l, "id"));
        }
        if (wanted) {
            json_array_append(keys, json_object_get(l, "key"));
            /* Forget the dead state so the record is processed again (its letter stays open until it syncs). */
            if (!opts->dry_run) {
                ferry_idmap_entry e;
                memset(&e, 0, sizeof(e));
                ferry_strlcpy(e.state, "skipped", sizeof(e.state));
                e.reason = "dead letter retried";
                ferry_idmap_put(st, flow->id, flow->source_entity, json_string_value(json_object_get(l, "key")), &e,
                                err);
            }
        }
    }
    json_decref(letters);
    ferry_flow_free(flow);
    if (json_array_size(keys) == 0) {
        json_decref(keys);
        memset(result, 0, sizeof(*result));
        ferry_strlcpy(result->status, "ok", sizeof(result->status));
        ferry_strlcpy(result->message, "no open dead letters to retry", sizeof(result->message));
        return FERRY_OK;
    }
    /* Only these keys are fetched (by key) and processed; the cursor is neither used nor moved. */
    ferry_run_options o = *opts;
    o.only_keys = keys;
    int rc = engine_execute(st, loader, flow_name, &o, result, err);
    json_decref(keys);
    return rc;
}
