/*
 * cli_run.c - `ferry run FLOW` (sync now, or show what would happen with
 * --dry-run) and `ferry dead retry` (replay dead letters after a fix).
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "engine.h"
#include "error.h"
#include "alert.h"
#include "flow.h"
#include "log.h"
#include "settings.h"
#include "util.h"

static const char run_usage[] = "usage: ferry run FLOW [--dry-run] [--limit N] [--json]\n"
                                "       ferry run --all [--dry-run] [--json]\n"
                                "\n"
                                "Sync a flow now: read what changed at the source since the last run, map it,\n"
                                "write it to the target, and print how many records were synced, skipped and\n"
                                "failed and how many API calls each side received.  Failed records become dead\n"
                                "letters (ferry dead list); the run goes on.\n"
                                "\n"
                                "  --dry-run   read, map and decide, print each payload that would be sent,\n"
                                "              write nothing to either side (nor to the id map, dead letters or\n"
                                "              the read cursor; only ferry's cached index of the target is refreshed)\n"
                                "  --limit N   stop after N records\n"
                                "  --all       every enabled flow, one after the other\n"
                                "\n"
                                "Exit status: 0 all records synced or skipped; 1 some records failed or their\n"
                                "totals differ; 3 configuration (flow, mapping, credentials: see the message);\n"
                                "4 a service kept failing (the next run continues where this one stopped).\n";

typedef struct run_opts {
    int dry_run;
    long limit;
    int all;
} run_opts;

static int run_option(void *ud, int opt, const char *arg)
{
    run_opts *o = ud;
    switch (opt) {
    case 'n':
        o->dry_run = 1;
        return 0;
    case 'l': {
        long long v = 0;
        if (ferry_parse_int(arg, 1, LONG_MAX, &v) != 0) {
            return -1;
        }
        o->limit = (long)v;
        return 0;
    }
    case 'a':
        o->all = 1;
        return 0;
    default:
        return -1;
    }
}

static const struct option run_longopts[] = {{"dry-run", no_argument, NULL, 'n'},
                                             {"limit", required_argument, NULL, 'l'},
                                             {"all", no_argument, NULL, 'a'},
                                             {NULL, 0, NULL, 0}};

static json_t *result_json(const char *flow, const ferry_run_result *r, int dry_run)
{
    return json_pack("{s:s, s:I, s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:{s:I, s:I}, s:s}", "flow", flow, "run",
                     (json_int_t)r->run_id, "status", r->status, "dry_run", dry_run, "read", (json_int_t)r->counts.read,
                     "synced", (json_int_t)r->counts.synced, "skipped", (json_int_t)(r->counts.skipped - r->unchanged),
                     "unchanged", (json_int_t)r->unchanged, "failed", (json_int_t)r->counts.failed, "dead",
                     (json_int_t)r->dead, "mismatched", (json_int_t)r->mismatched, "calls", "source",
                     (json_int_t)r->counts.source_calls, "target", (json_int_t)r->counts.target_calls, "message",
                     r->message);
}

static void print_summary(ferry_cli *cli, const char *flow, const ferry_run_result *r, int dry_run)
{
    if (cli->json) {
        json_t *j = result_json(flow, r, dry_run);
        ferry_cli_print_json(j);
        json_decref(j);
        return;
    }
    if (cli->quiet) {
        return;
    }
    FILE *out = dry_run ? stderr : stdout;
    /* skipped counts the records already synced too, as the runs table of 'ferry log' does */
    fprintf(out, "%s%s: %ld read, %ld %ssynced, %ld skipped", dry_run ? "dry run - " : "", flow, r->counts.read,
            r->counts.synced, dry_run ? "would be " : "", r->counts.skipped);
    if (r->unchanged > 0) {
        fprintf(out, " (%ld of them already synced)", r->unchanged);
    }
    fprintf(out, ", %ld failed", r->counts.failed);
    if (r->mismatched > 0) {
        fprintf(out, ", %ld with totals that differ", r->mismatched);
    }
    fprintf(out, "\n  API calls: %ld to the source, %ld to the target", r->counts.source_calls, r->counts.target_calls);
    if (r->counts.synced > 0) {
        fprintf(out, " (%.2f target calls per synced record)",
                (double)r->counts.target_calls / (double)r->counts.synced);
    }
    fprintf(out, "\n");
    if (strcmp(r->status, "ok") != 0 && r->message[0]) {
        fprintf(out, "  %s: %s\n", r->status, r->message);
    }
    if (r->counts.failed > 0) {
        fprintf(out, "  dead letters: ferry dead list --flow %s\n", flow);
    }
    if (r->run_id > 0) {
        fprintf(out, "  log: ferry log --run %lld\n", r->run_id);
    }
}

static int exit_code(int rc, const ferry_run_result *r)
{
    if (rc != FERRY_OK) {
        return ferry_exit_for_status(rc);
    }
    return r->counts.failed > 0 || r->mismatched > 0 ? FERRY_EXIT_FAILURE : FERRY_EXIT_OK;
}

static int run_one(ferry_cli *cli, ferry_store *st, const char *flow, const run_opts *o)
{
    ferry_run_options opts;
    memset(&opts, 0, sizeof(opts));
    opts.dry_run = o->dry_run;
    opts.limit = o->limit;
    opts.progress = cli->progress && !cli->json;
    opts.report_json = cli->json;
    opts.datadir = ferry_cli_datadir();
    ferry_run_result result;
    ferry_error err;
    ferry_error_clear(&err);
    int rc = ferry_engine_run(st, ferry_cli_loader(cli), flow, &opts, &result, &err);
    if (rc != FERRY_OK) {
        ferry_cli_fail("ferry run", &err);
    }
    print_summary(cli, flow, &result, o->dry_run);
    return exit_code(rc, &result);
}

/* After runs: hand new alerts to the alert command, and purge old log entries when auto_purge is on. */
static void after_runs(ferry_store *st)
{
    ferry_error err;
    ferry_error_clear(&err);
    int delivered = 0;
    if (ferry_alert_deliver(st, &delivered, &err) != FERRY_OK) {
        ferry_log(FERRY_LOG_WARN, "alert", "alerts not delivered: %s", err.message);
    }
    char *auto_purge = ferry_settings_get(st, "auto_purge");
    if (auto_purge != NULL && strcmp(auto_purge, "true") == 0) {
        json_t *counts = NULL;
        ferry_error_clear(&err);
        if (ferry_activity_purge_older(st, (int)ferry_settings_get_long(st, "log_retention_days", 90), &counts, &err) !=
            FERRY_OK) {
            ferry_log(FERRY_LOG_WARN, "purge", "automatic purge failed: %s", err.message);
        }
        json_decref(counts);
    }
    free(auto_purge);
}

int ferry_cmd_run(ferry_cli *cli, int argc, char **argv)
{
    run_opts o = {0, 0, 0};
    ferry_cli_args a = {"ferry run", argc, argv};
    int idx = ferry_cli_parse(cli, &a, run_usage, run_longopts, "nl:a", run_option, &o);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (!o.all && idx >= argc) {
        return ferry_cli_usage_error(a.command, "which flow? (or --all)");
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 0, &rc);
    if (st == NULL) {
        return rc;
    }
    if (!o.all) {
        int worst = FERRY_EXIT_OK;
        for (int i = idx; i < argc; i++) {
            int code = run_one(cli, st, argv[i], &o);
            worst = code > worst ? code : worst;
        }
        after_runs(st);
        return worst;
    }
    json_t *flows = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_flow_list(st, &flows, &err) != FERRY_OK) {
        return ferry_cli_fail(a.command, &err);
    }
    int worst = FERRY_EXIT_OK;
    size_t i;
    json_t *f;
    json_array_foreach (flows, i, f) {
        if (json_is_true(json_object_get(f, "enabled"))) {
            int code = run_one(cli, st, json_string_value(json_object_get(f, "name")), &o);
            worst = code > worst ? code : worst;
        }
    }
    json_decref(flows);
    after_runs(st);
    return worst;
}

static const char retry_usage[] = "usage: ferry dead retry ID... [--dry-run]\n"
                                  "       ferry dead retry --all --flow FLOW [--dry-run]\n"
                                  "\n"
                                  "Read the records of these dead letters again from the source, map and write\n"
                                  "them.  A letter whose record now syncs is resolved; one that fails again stays\n"
                                  "open with the new reason.\n";

typedef struct retry_opts {
    const char *flow;
    int all;
    int dry_run;
} retry_opts;

static int retry_option(void *ud, int opt, const char *arg)
{
    retry_opts *o = ud;
    switch (opt) {
    case 'f':
        o->flow = arg;
        return 0;
    case 'a':
        o->all = 1;
        return 0;
    case 'n':
        o->dry_run = 1;
        return 0;
    default:
        return -1;
    }
}

/* Group the ids by flow: returns a new object flow name -> [ids]. */
static json_t *ids_by_flow(ferry_store *st, char **ids, int n, ferry_error *err)
{
    json_t *groups = json_object();
    for (int i = 0; i < n; i++) {
        json_t *letter = NULL;
        long long id = 0;
        if (ferry_parse_int(ids[i], 1, LLONG_MAX, &id) != 0 ||
            ferry_activity_dead_get(st, id, &letter, err) != FERRY_OK || letter == NULL) {
            ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no dead letter with id %s", ids[i]);
            json_decref(groups);
            return NULL;
        }
        const char *flow = json_string_value(json_object_get(letter, "flow"));
        json_t *list = json_object_get(groups, flow);
        if (list == NULL) {
            list = json_array();
            json_object_set_new(groups, flow, list);
        }
        json_array_append_new(list, json_integer(id));
        json_decref(letter);
    }
    return groups;
}

int ferry_cmd_dead_retry(ferry_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"flow", required_argument, NULL, 'f'},
                                         {"all", no_argument, NULL, 'a'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    retry_opts o = {NULL, 0, 0};
    ferry_cli_args a = {"ferry dead retry", argc, argv};
    int idx = ferry_cli_parse(cli, &a, retry_usage, opts, "f:an", retry_option, &o);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (o.all ? o.flow == NULL : idx >= argc) {
        return ferry_cli_usage_error(a.command, o.all ? "--all needs --flow FLOW" : "which dead letters? (ids)");
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 0, &rc);
    if (st == NULL) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    json_t *groups;
    if (o.all) {
        groups = json_object();
        json_object_set_new(groups, o.flow, json_null());
    } else if ((groups = ids_by_flow(st, argv + idx, argc - idx, &err)) == NULL) {
        return ferry_cli_fail(a.command, &err);
    }
    ferry_run_options ro;
    memset(&ro, 0, sizeof(ro));
    ro.dry_run = o.dry_run;
    ro.progress = cli->progress && !cli->json;
    ro.report_json = cli->json;
    ro.datadir = ferry_cli_datadir();
    int worst = FERRY_EXIT_OK;
    const char *flow;
    json_t *ids;
    json_object_foreach (groups, flow, ids) {
        ferry_run_result result;
        ferry_error_clear(&err);
        int st_rc = ferry_engine_retry_dead(st, ferry_cli_loader(cli), flow, json_is_null(ids) ? NULL : ids, &ro,
                                            &result, &err);
        if (st_rc != FERRY_OK) {
            ferry_cli_fail(a.command, &err);
        }
        print_summary(cli, flow, &result, o.dry_run);
        int code = exit_code(st_rc, &result);
        worst = code > worst ? code : worst;
    }
    json_decref(groups);
    return worst;
}
