/*
 * cli_log.c - reading and pruning the activity log: `ferry log`,
 * `ferry dead list|show|discard`, `ferry purge`.  (`ferry dead retry` lives
 * with the engine in cli_run.c.)
 */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "cli.h"
#include "error.h"
#include "flow.h"
#include "settings.h"
#include "util.h"

static const char log_usage[] =
    "usage: ferry log [--flow FLOW] [--limit N] [--json]            recent runs\n"
    "       ferry log --run N [--level L] [--kind K] [--data]       what happened in a run\n"
    "       ferry log --record KEY [--flow FLOW]                    one record, with payloads\n"
    "\n"
    "The activity log keeps, per record, what was read from the source, what was\n"
    "sent to the target and what it answered (secrets redacted).  --data prints\n"
    "those payloads; --record implies it.  Levels: error, warn, info, debug.\n";

static const char dead_usage[] = "usage: ferry dead list [--flow FLOW] [--all] [--json]\n"
                                 "       ferry dead show ID [--json]\n"
                                 "       ferry dead retry ID... | --all [--flow FLOW]\n"
                                 "       ferry dead discard ID...\n"
                                 "\n"
                                 "Dead letters are records that could not be synced, with the reason, the\n"
                                 "record, the payload that was sent and the answer.  Fix the cause (a value\n"
                                 "map, an article, the mapping), then retry: the record is mapped and written\n"
                                 "again.  discard gives up on a record for good.\n";

static const char purge_usage[] = "usage: ferry purge [--older-than DAYS] [--json]\n"
                                  "       ferry purge --matching TEXT [--json]\n"
                                  "\n"
                                  "--older-than deletes log events, finished runs, closed dead letters and\n"
                                  "alerts older than DAYS (default: the store setting log_retention_days, 90).\n"
                                  "Open dead letters are kept.  --matching deletes every event and dead letter\n"
                                  "that mentions TEXT (an e-mail address or an order number): the right to be\n"
                                  "forgotten.\n";

typedef struct log_opts {
    const char *flow;
    long long run;
    const char *record;
    const char *level;
    const char *kind;
    int limit;
    int data;
    int all;
    int days;
    const char *matching;
} log_opts;

static int log_option(void *ud, int opt, const char *arg)
{
    log_opts *o = ud;
    long long v = 0;
    switch (opt) {
    case 'f':
        o->flow = arg;
        return 0;
    case 'r':
        return ferry_parse_int(arg, 1, LLONG_MAX, &o->run);
    case 'k':
        o->record = arg;
        o->data = 1;
        return 0;
    case 'l':
        o->level = arg;
        return 0;
    case 'K':
        o->kind = arg;
        return 0;
    case 'n':
        if (ferry_parse_int(arg, 1, INT_MAX, &v) != 0) {
            return -1;
        }
        o->limit = (int)v;
        return 0;
    case 'd':
        o->data = 1;
        return 0;
    case 'a':
        o->all = 1;
        return 0;
    case 'o':
        /* a typo here must never become "0 days": purge would delete everything */
        if (ferry_parse_int(arg, 0, 36500, &v) != 0) {
            return -1;
        }
        o->days = (int)v;
        return 0;
    case 'm':
        o->matching = arg;
        return 0;
    default:
        return -1;
    }
}

static const struct option log_longopts[] = {{"flow", required_argument, NULL, 'f'},
                                             {"run", required_argument, NULL, 'r'},
                                             {"record", required_argument, NULL, 'k'},
                                             {"level", required_argument, NULL, 'l'},
                                             {"kind", required_argument, NULL, 'K'},
                                             {"limit", required_argument, NULL, 'n'},
                                             {"data", no_argument, NULL, 'd'},
                                             {"all", no_argument, NULL, 'a'},
                                             {"older-than", required_argument, NULL, 'o'},
                                             {"matching", required_argument, NULL, 'm'},
                                             {NULL, 0, NULL, 0}};

/* Resolve --flow to an id (0 = all); -1 after printing an error. */
static long long flow_id_of(ferry_store *st, const char *command, const char *name, int *rc)
{
    if (name == NULL) {
        return 0;
    }
    ferry_flow *f = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_flow_get(st, name, &f, &err) != FERRY_OK) {
        *rc = ferry_cli_fail(command, &err);
        return -1;
    }
    long long id = f->id;
    ferry_flow_free(f);
    return id;
}

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static void print_runs(const json_t *runs)
{
    if (json_array_size(runs) == 0) {
        printf("no runs yet (start one: ferry run FLOW)\n");
        return;
    }
    printf("%-5s %-12s %-20s %-11s %6s %6s %7s %6s %8s %8s\n", "RUN", "FLOW", "STARTED", "STATUS", "READ", "SYNCED",
           "SKIPPED", "FAILED", "SRC-CALL", "DST-CALL");
    size_t i;
    json_t *r;
    json_array_foreach (runs, i, r) {
        printf("%-5lld %-12s %-20s %-11s %6lld %6lld %7lld %6lld %8lld %8lld%s\n",
               (long long)json_integer_value(json_object_get(r, "id")), str(r, "flow"), str(r, "started_at"),
               str(r, "status"), (long long)json_integer_value(json_object_get(r, "read")),
               (long long)json_integer_value(json_object_get(r, "synced")),
               (long long)json_integer_value(json_object_get(r, "skipped")),
               (long long)json_integer_value(json_object_get(r, "failed")),
               (long long)json_integer_value(json_object_get(r, "source_calls")),
               (long long)json_integer_value(json_object_get(r, "target_calls")),
               json_is_true(json_object_get(r, "dry_run")) ? "  (dry run)" : "");
    }
}

static void print_events(const json_t *events, int data)
{
    size_t i;
    json_t *e;
    json_array_foreach (events, i, e) {
        printf("%s %-5s %-9s %s%s%s\n", str(e, "ts"), str(e, "level"), str(e, "kind"),
               json_object_get(e, "key") ? str(e, "key") : "", json_object_get(e, "key") ? ": " : "",
               str(e, "message"));
        json_t *d = json_object_get(e, "data");
        if (data && d != NULL) {
            char *t = json_dumps(d, JSON_INDENT(2));
            if (t != NULL) {
                printf("%s\n", t);
                free(t);
            }
        }
    }
    if (json_array_size(events) == 0) {
        printf("no events match\n");
    }
}

int ferry_cmd_log(ferry_cli *cli, int argc, char **argv)
{
    log_opts o;
    memset(&o, 0, sizeof(o));
    ferry_cli_args a = {"ferry log", argc, argv};
    int idx = ferry_cli_parse(cli, &a, log_usage, log_longopts, "f:r:k:l:n:d", log_option, &o);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (idx < argc) {
        return ferry_cli_usage_error(a.command, "unexpected argument '%s'", argv[idx]);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    long long flow_id = flow_id_of(st, a.command, o.flow, &rc);
    if (flow_id < 0) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    json_t *out = NULL;
    int events = o.run > 0 || o.record != NULL || o.level != NULL || o.kind != NULL;
    if (events) {
        ferry_log_filter f = {flow_id, o.run, o.record, o.level, o.kind, o.limit, o.data || cli->json};
        if (ferry_activity_events(st, &f, &out, &err) != FERRY_OK) {
            return ferry_cli_fail(a.command, &err);
        }
    } else if (ferry_activity_runs(st, flow_id, o.limit, &out, &err) != FERRY_OK) {
        return ferry_cli_fail(a.command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(out);
    } else if (events) {
        print_events(out, o.data);
    } else {
        print_runs(out);
        if (json_array_size(out) > 0) {
            printf("\nSee one run: ferry log --run N   one record: ferry log --record KEY\n");
        }
    }
    json_decref(out);
    return FERRY_EXIT_OK;
}

/* ---- dead letters ---------------------------------------------------------------- */

static int dead_list(ferry_cli *cli, ferry_store *st, const log_opts *o, const char *command)
{
    int rc = FERRY_EXIT_OK;
    long long flow_id = flow_id_of(st, command, o->flow, &rc);
    if (flow_id < 0) {
        return rc;
    }
    json_t *out = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_activity_dead_list(st, flow_id, o->all ? NULL : "open", &out, &err) != FERRY_OK) {
        return ferry_cli_fail(command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(out);
    } else if (json_array_size(out) == 0) {
        printf("no dead letters%s\n", o->all ? "" : " open");
    } else {
        printf("%-5s %-10s %-14s %-8s %-9s %s\n", "ID", "FLOW", "KEY", "STAGE", "STATUS", "REASON");
        size_t i;
        json_t *d;
        json_array_foreach (out, i, d) {
            printf("%-5lld %-10s %-14s %-8s %-9s %s\n", (long long)json_integer_value(json_object_get(d, "id")),
                   str(d, "flow"), str(d, "key"), str(d, "stage"), str(d, "status"), str(d, "message"));
        }
    }
    json_decref(out);
    return FERRY_EXIT_OK;
}

static int dead_show(ferry_cli *cli, ferry_store *st, long long id, const char *command)
{
    json_t *d = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_activity_dead_get(st, id, &d, &err) != FERRY_OK) {
        return ferry_cli_fail(command, &err);
    }
    if (d == NULL) {
        fprintf(stderr, "%s: no dead letter with id %lld\n", command, id);
        return FERRY_EXIT_CONFIG;
    }
    (void)cli;
    ferry_cli_print_json(d);
    json_decref(d);
    return FERRY_EXIT_OK;
}

int ferry_cmd_dead(ferry_cli *cli, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ferry_cli_print_usage(argc < 2 ? stderr : stdout, dead_usage);
        return argc < 2 ? FERRY_EXIT_USAGE : FERRY_EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "retry") == 0) {
        return ferry_cmd_dead_retry(cli, argc - 1, argv + 1);
    }
    char command[64];
    snprintf(command, sizeof(command), "ferry dead %s", sub);
    log_opts o;
    memset(&o, 0, sizeof(o));
    ferry_cli_args a = {command, argc - 1, argv + 1};
    int idx = ferry_cli_parse(cli, &a, dead_usage, log_longopts, "f:a", log_option, &o);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    if (strcmp(sub, "list") == 0) {
        return dead_list(cli, st, &o, command);
    }
    if (strcmp(sub, "show") != 0 && strcmp(sub, "discard") != 0) {
        return ferry_cli_usage_error("ferry dead", "unknown subcommand '%s'", sub);
    }
    if (idx >= a.argc) {
        return ferry_cli_usage_error(command, "which dead letter? (ids from 'ferry dead list')");
    }
    for (int i = idx; i < a.argc; i++) {
        long long id = 0;
        if (ferry_parse_int(a.argv[i], 1, LLONG_MAX, &id) != 0) {
            return ferry_cli_usage_error(command, "'%s' is not a dead letter id", a.argv[i]);
        }
        if (strcmp(sub, "show") == 0) {
            rc = dead_show(cli, st, id, command);
        } else {
            ferry_error err;
            ferry_error_clear(&err);
            if (ferry_activity_dead_set_status(st, id, "discarded", &err) != FERRY_OK) {
                rc = ferry_cli_fail(command, &err);
            } else if (!cli->quiet) {
                fprintf(stderr, "%s: %lld discarded\n", command, id);
            }
        }
        if (rc != FERRY_EXIT_OK) {
            return rc;
        }
    }
    return FERRY_EXIT_OK;
}

/* ---- purge ----------------------------------------------------------------------------- */

int ferry_cmd_purge(ferry_cli *cli, int argc, char **argv)
{
    log_opts o;
    memset(&o, 0, sizeof(o));
    o.days = -1;
    ferry_cli_args a = {"ferry purge", argc, argv};
    int idx = ferry_cli_parse(cli, &a, purge_usage, log_longopts, "o:m:", log_option, &o);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (idx < argc) {
        return ferry_cli_usage_error(a.command, "unexpected argument '%s'", argv[idx]);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    json_t *counts = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    int status;
    if (o.matching != NULL) {
        status = ferry_activity_purge_matching(st, o.matching, &counts, &err);
    } else {
        int days = o.days >= 0 ? o.days : (int)ferry_settings_get_long(st, "log_retention_days", 90);
        status = ferry_activity_purge_older(st, days, &counts, &err);
    }
    if (status != FERRY_OK) {
        return ferry_cli_fail(a.command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(counts);
    } else {
        printf("purged: %lld events, %lld dead letters",
               (long long)json_integer_value(json_object_get(counts, "events")),
               (long long)json_integer_value(json_object_get(counts, "dead_letters")));
        if (json_object_get(counts, "runs") != NULL) {
            printf(", %lld runs, %lld alerts (older than %s)",
                   (long long)json_integer_value(json_object_get(counts, "runs")),
                   (long long)json_integer_value(json_object_get(counts, "alerts")), str(counts, "before"));
        }
        printf("\n");
    }
    json_decref(counts);
    return FERRY_EXIT_OK;
}
