/*
 * cli_status.c - the dashboard and ferry's own settings:
 * `ferry status`, `ferry alerts`, `ferry settings`.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "activity.h"
#include "alert.h"
#include "cli.h"
#include "connection.h"
#include "error.h"
#include "flow.h"
#include "settings.h"
#include "syncstate.h"
#include "util.h"

static const char status_usage[] = "usage: ferry status [--json]\n"
                                   "\n"
                                   "The dashboard: each connection and whether it works, each flow with its last\n"
                                   "run, what its records became (synced, skipped, dead, mismatch), open dead\n"
                                   "letters, and alerts not yet delivered.\n";

static const char alerts_usage[] =
    "usage: ferry alerts [--all] [--json]\n"
    "       ferry alerts deliver\n"
    "\n"
    "Alerts are raised when a flow fails, totals differ beyond the tolerance, or a\n"
    "connection needs re-authorization.  Set a command to receive them:\n"
    "  ferry settings set alert_command='mail -s \"ferry: $FERRY_ALERT_KIND\" ops@shop.example'\n"
    "It runs after every `ferry run` (and with `ferry alerts deliver`) with\n"
    "FERRY_ALERT_KIND, _FLOW, _CONNECTION, _MESSAGE in its environment and the\n"
    "alert as JSON on standard input; an alert is delivered once the command exits 0.\n";

static const char settings_usage[] = "usage: ferry settings [list] [--json]\n"
                                     "       ferry settings get NAME\n"
                                     "       ferry settings set NAME=VALUE     (NAME= resets to the default)\n"
                                     "\n"
                                     "ferry's own settings: log_retention_days, auto_purge, alert_command.\n";

static const char *str(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : "";
}

static long long num(const json_t *o, const char *k)
{
    return (long long)json_integer_value(json_object_get(o, k));
}

/* One flow's line of the dashboard: last run, record states, open letters. */
static json_t *flow_status(ferry_store *st, const json_t *summary, ferry_error *err)
{
    json_t *o = json_deep_copy(summary);
    ferry_flow *f = NULL;
    if (ferry_flow_get(st, str(summary, "name"), &f, err) != FERRY_OK) {
        return o;
    }
    json_t *runs = NULL;
    if (ferry_activity_runs(st, f->id, 1, &runs, err) == FERRY_OK && json_array_size(runs) > 0) {
        json_object_set(o, "last_run", json_array_get(runs, 0));
    }
    json_decref(runs);
    json_t *counts = NULL;
    if (ferry_syncstate_counts(st, f->id, &counts, err) == FERRY_OK) {
        json_object_set_new(o, "records", counts);
    }
    json_t *dead = NULL;
    if (ferry_activity_dead_list(st, f->id, "open", &dead, err) == FERRY_OK) {
        json_object_set_new(o, "open_dead_letters", json_integer((json_int_t)json_array_size(dead)));
    }
    json_decref(dead);
    ferry_flow_free(f);
    return o;
}

static void print_dashboard(const json_t *d)
{
    const json_t *conns = json_object_get(d, "connections");
    printf("CONNECTIONS\n");
    if (json_array_size(conns) == 0) {
        printf("  none (ferry connection add NAME --plugin PLUGIN)\n");
    }
    size_t i;
    json_t *c;
    json_array_foreach (conns, i, c) {
        printf("  %-16s %-12s %s%s%s\n", str(c, "name"), str(c, "plugin"), str(c, "status"),
               json_object_get(c, "status_message") ? ": " : "", str(c, "status_message"));
    }
    printf("\nFLOWS\n");
    const json_t *flows = json_object_get(d, "flows");
    if (json_array_size(flows) == 0) {
        printf("  none (ferry flow add NAME --kind orders --source SHOP --target BOOKS)\n");
    }
    json_t *f;
    json_array_foreach (flows, i, f) {
        const json_t *r = json_object_get(f, "last_run");
        const json_t *rec = json_object_get(f, "records");
        printf("  %-16s %-9s %s -> %s%s\n", str(f, "name"), str(f, "kind"), str(f, "source"), str(f, "target"),
               json_is_true(json_object_get(f, "enabled")) ? "" : "  (disabled)");
        if (r != NULL) {
            printf("    last run %lld at %s: %s, %lld synced, %lld skipped, %lld failed\n", num(r, "id"),
                   str(r, "started_at"), str(r, "status"), num(r, "synced"), num(r, "skipped"), num(r, "failed"));
        } else {
            printf("    never run (ferry run %s)\n", str(f, "name"));
        }
        printf("    records: %lld synced, %lld skipped, %lld dead, %lld mismatch; %lld dead letters open\n",
               num(rec, "synced"), num(rec, "skipped"), num(rec, "dead"), num(rec, "mismatch"),
               num(f, "open_dead_letters"));
    }
    const json_t *alerts = json_object_get(d, "alerts");
    printf("\nALERTS (not delivered)\n");
    if (json_array_size(alerts) == 0) {
        printf("  none\n");
    }
    json_t *a;
    json_array_foreach (alerts, i, a) {
        printf("  %s %-16s %s\n", str(a, "ts"), str(a, "kind"), str(a, "message"));
    }
}

int ferry_cmd_status(ferry_cli *cli, int argc, char **argv)
{
    ferry_cli_args a = {"ferry status", argc, argv};
    int idx = ferry_cli_parse(cli, &a, status_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    json_t *conns = NULL, *flows = NULL, *alerts = NULL;
    if (ferry_connection_list(st, &conns, &err) != FERRY_OK || ferry_flow_list(st, &flows, &err) != FERRY_OK ||
        ferry_alert_list(st, 1, 20, &alerts, &err) != FERRY_OK) {
        json_decref(conns);
        json_decref(flows);
        return ferry_cli_fail(a.command, &err);
    }
    json_t *detailed = json_array();
    size_t i;
    json_t *f;
    json_array_foreach (flows, i, f) {
        json_array_append_new(detailed, flow_status(st, f, &err));
    }
    json_decref(flows);
    json_t *dash = json_pack("{s:o, s:o, s:o}", "connections", conns, "flows", detailed, "alerts", alerts);
    if (cli->json) {
        ferry_cli_print_json(dash);
    } else {
        print_dashboard(dash);
    }
    json_decref(dash);
    return FERRY_EXIT_OK;
}

typedef struct alerts_opts {
    int all;
} alerts_opts;

static int alerts_option(void *ud, int opt, const char *arg)
{
    (void)arg;
    if (opt != 'a') {
        return -1;
    }
    ((alerts_opts *)ud)->all = 1;
    return 0;
}

int ferry_cmd_alerts(ferry_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    alerts_opts o = {0};
    ferry_cli_args a = {"ferry alerts", argc, argv};
    int idx = ferry_cli_parse(cli, &a, alerts_usage, opts, "", alerts_option, &o);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (idx < argc && strcmp(argv[idx], "deliver") == 0) {
        int delivered = 0;
        if (ferry_alert_deliver(st, &delivered, &err) != FERRY_OK) {
            return ferry_cli_fail(a.command, &err);
        }
        if (!cli->quiet) {
            printf("%d alert(s) delivered\n", delivered);
        }
        return FERRY_EXIT_OK;
    }
    if (idx < argc) {
        return ferry_cli_usage_error(a.command, "unknown subcommand '%s'", argv[idx]);
    }
    json_t *list = NULL;
    if (ferry_alert_list(st, !o.all, 100, &list, &err) != FERRY_OK) {
        return ferry_cli_fail(a.command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(list);
    } else if (json_array_size(list) == 0) {
        printf("no alerts%s\n", o.all ? "" : " waiting (--all shows delivered ones too)");
    } else {
        size_t i;
        json_t *al;
        json_array_foreach (list, i, al) {
            printf("%s %-16s %-10s %s%s\n", str(al, "ts"), str(al, "kind"),
                   json_object_get(al, "flow") ? str(al, "flow") : str(al, "connection"), str(al, "message"),
                   json_is_true(json_object_get(al, "delivered")) ? " (delivered)" : "");
        }
    }
    json_decref(list);
    return FERRY_EXIT_OK;
}

int ferry_cmd_settings(ferry_cli *cli, int argc, char **argv)
{
    ferry_cli_args a = {"ferry settings", argc, argv};
    int idx = ferry_cli_parse(cli, &a, settings_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    const char *sub = idx < argc ? argv[idx] : "list";
    ferry_error err;
    ferry_error_clear(&err);
    if (strcmp(sub, "list") == 0) {
        json_t *all = ferry_settings_all(st);
        if (cli->json) {
            ferry_cli_print_json(all);
        } else {
            const char *k;
            json_t *v;
            json_object_foreach (all, k, v) {
                printf("%-20s %s\n    %s\n", k,
                       json_is_string(json_object_get(v, "value")) ? str(v, "value") : "(unset)",
                       str(v, "description"));
            }
        }
        json_decref(all);
        return FERRY_EXIT_OK;
    }
    if (strcmp(sub, "get") == 0 && idx + 1 < argc) {
        char *v = ferry_settings_get(st, argv[idx + 1]);
        if (v == NULL) {
            fprintf(stderr, "%s: %s is not set\n", a.command, argv[idx + 1]);
            return FERRY_EXIT_CONFIG;
        }
        printf("%s\n", v);
        free(v);
        return FERRY_EXIT_OK;
    }
    if (strcmp(sub, "set") == 0 && idx + 1 < argc) {
        for (int i = idx + 1; i < argc; i++) {
            char *name, *value;
            if (ferry_cli_parse_assignment(a.command, argv[i], &name, &value) != 0) {
                return FERRY_EXIT_USAGE;
            }
            int st_rc = ferry_settings_set(st, name, value[0] ? value : NULL, &err);
            free(name);
            free(value);
            if (st_rc != FERRY_OK) {
                return ferry_cli_fail(a.command, &err);
            }
        }
        return FERRY_EXIT_OK;
    }
    return ferry_cli_usage_error(a.command, "unknown or incomplete subcommand '%s'", sub);
}
