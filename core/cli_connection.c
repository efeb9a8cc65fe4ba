/*
 * cli_connection.c - `ferry connection ...`: add, list, show, test, set,
 * authorize, action, remove.  Secrets are never printed: show masks them.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "connection.h"
#include "error.h"
#include "host.h"
#include "loader.h"
#include "redact.h"
#include "util.h"

static const char connection_usage[] =
    "usage: ferry connection add NAME --plugin PLUGIN [--set NAME=VALUE]... [--no-authorize]\n"
    "       ferry connection list [--json]\n"
    "       ferry connection show NAME [--json]\n"
    "       ferry connection test NAME [--json]\n"
    "       ferry connection set NAME NAME=VALUE...\n"
    "       ferry connection authorize NAME\n"
    "       ferry connection action NAME ACTION [--arg NAME=VALUE]... [--json]\n"
    "       ferry connection remove NAME\n"
    "\n"
    "A connection is one account at one service (a Magento store, an eAccounting\n"
    "company) reached through a plugin.  Settings come from --set NAME=VALUE, where\n"
    "VALUE may be @FILE to read it from a file (keeps secrets out of shell history);\n"
    "required settings that are missing are asked for on a terminal.  'ferry plugin\n"
    "show PLUGIN' lists a plugin's settings.  Secret settings are stored in the\n"
    "store (mode 0600) and shown as ***.\n"
    "\n"
    "  add        store a connection, then run the plugin's authorization (e.g. the\n"
    "             eAccounting OAuth2 consent) unless --no-authorize\n"
    "  test       connect and show who is at the other end (company, store)\n"
    "  set        change settings\n"
    "  authorize  run the plugin's authorization again (after 'needs_reauth')\n"
    "  action     run a plugin action (see 'ferry plugin show PLUGIN')\n";

/* ---- add ------------------------------------------------------------------- */

typedef struct add_opts {
    const char *plugin;
    json_t *settings;
    int no_authorize;
    int bad;
} add_opts;

static int add_option(void *ud, int opt, const char *arg)
{
    add_opts *o = ud;
    if (opt == 'p') {
        o->plugin = arg;
        return 0;
    }
    if (opt == 's') {
        char *name, *value;
        if (ferry_cli_parse_assignment("ferry connection", arg, &name, &value) != 0) {
            o->bad = 1;
            return 0;
        }
        json_object_set_new(o->settings, name, json_string(value));
        free(name);
        free(value);
        return 0;
    }
    if (opt == 'N') {
        o->no_authorize = 1;
        return 0;
    }
    return -1;
}

/* Ask on the terminal for required settings that were not given. */
static int prompt_missing(const ferry_setting_spec *spec, json_t *settings)
{
    for (const ferry_setting_spec *s = spec; s && s->name; s++) {
        if (!(s->flags & FERRY_SETTING_REQUIRED) || (s->flags & FERRY_SETTING_MANAGED) || s->default_value ||
            json_object_get(settings, s->name)) {
            continue;
        }
        if (!isatty(STDIN_FILENO)) {
            return 0; /* validation will name what is missing */
        }
        char q[512], buf[1024];
        snprintf(q, sizeof(q), "%s (%s): ", s->name, s->description ? s->description : "required");
        ferry_host_conn *none = NULL;
        (void)none;
        fprintf(stderr, "%s", q);
        if (fgets(buf, sizeof(buf), stdin) == NULL) {
            return -1;
        }
        buf[strcspn(buf, "\r\n")] = '\0';
        if (buf[0]) {
            json_object_set_new(settings, s->name, json_string(buf));
        }
    }
    return 0;
}

int ferry_cli_authorize(ferry_cli *cli, ferry_store *st, const char *name, const char *command, int fresh)
{
    ferry_error err;
    ferry_error_clear(&err);
    ferry_endpoint *ep = NULL;
    if (ferry_endpoint_open(st, ferry_cli_loader(cli), name, FERRY_ENDPOINT_NO_OPEN | FERRY_ENDPOINT_INTERACTIVE, &ep,
                            &err) != FERRY_OK) {
        return ferry_cli_fail(command, &err);
    }
    if (ep->plugin->desc->authorize == NULL) {
        ferry_endpoint_close(ep);
        if (!cli->quiet) {
            fprintf(stderr, "%s: plugin %s needs no authorization step\n", command, ep->plugin->name);
        }
        return FERRY_EXIT_OK;
    }
    int rc = ep->plugin->desc->authorize(ferry_host_table(), ep->hc, &err);
    if (rc != FERRY_OK) {
        const ferry_connection *c = ferry_endpoint_connection(ep);
        int was_ok = c->status != NULL && strcmp(c->status, "ok") == 0;
        /* a plugin that set needs_reauth itself said why: keep its message */
        if (fresh && was_ok) {
            ferry_connection_set_status(st, c->id, "needs_reauth",
                                        "authorization did not complete; run 'ferry connection authorize'", NULL);
        }
        rc = ferry_cli_fail(command, &err);
        if (!fresh && was_ok && !cli->quiet) {
            fprintf(stderr, "%s: %s keeps its earlier authorization\n", command, name);
        }
        ferry_endpoint_close(ep);
        return rc;
    }
    ferry_connection_set_status(st, ferry_endpoint_connection(ep)->id, "ok", NULL, &err);
    ferry_endpoint_close(ep);
    if (!cli->quiet) {
        fprintf(stderr, "%s: %s authorized\n", command, name);
    }
    return FERRY_EXIT_OK;
}

static int cmd_add(ferry_cli *cli, ferry_cli_args *a)
{
    static const struct option opts[] = {{"plugin", required_argument, NULL, 'p'},
                                         {"set", required_argument, NULL, 's'},
                                         {"no-authorize", no_argument, NULL, 'N'},
                                         {NULL, 0, NULL, 0}};
    add_opts o = {NULL, json_object(), 0, 0};
    int idx = ferry_cli_parse(cli, a, connection_usage, opts, "p:s:", add_option, &o);
    int rc = FERRY_EXIT_USAGE;
    if (idx < 0 || o.bad) {
        rc = idx == -2 ? FERRY_EXIT_OK : FERRY_EXIT_USAGE;
        goto done;
    }
    if (idx >= a->argc) {
        rc = ferry_cli_usage_error(a->command, "which name for the connection?");
        goto done;
    }
    const char *name = a->argv[idx];
    if (o.plugin == NULL) {
        /* `ferry connection add eaccounting` names the plugin and the connection alike. */
        o.plugin = name;
    }
    ferry_loader *loader = ferry_cli_loader(cli);
    const ferry_plugin *pl = loader ? ferry_loader_find(loader, o.plugin) : NULL;
    if (pl == NULL) {
        fprintf(stderr, "%s: no plugin named %s (see 'ferry plugin list')\n", a->command, o.plugin);
        rc = FERRY_EXIT_CONFIG;
        goto done;
    }
    if (prompt_missing(pl->desc->settings, o.settings) != 0) {
        rc = FERRY_EXIT_USAGE;
        goto done;
    }
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        goto done;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_connection_add(st, name, pl->name, pl->desc->settings, o.settings, &err) != FERRY_OK) {
        rc = ferry_cli_fail(a->command, &err);
        goto done;
    }
    if (!cli->quiet) {
        fprintf(stderr, "%s: connection %s (%s) added\n", a->command, name, pl->name);
    }
    rc = FERRY_EXIT_OK;
    if (!o.no_authorize && pl->desc->authorize != NULL) {
        rc = ferry_cli_authorize(cli, st, name, a->command, 1);
    }
done:
    json_decref(o.settings);
    return rc;
}

/* ---- list / show / test / remove / set --------------------------------------- */

static int cmd_list(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, connection_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    if (st == NULL) {
        return rc;
    }
    json_t *list = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_connection_list(st, &list, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(list);
    } else if (json_array_size(list) == 0) {
        printf("no connections (add one: ferry connection add NAME --plugin PLUGIN)\n");
    } else {
        printf("%-20s %-14s %-13s %s\n", "NAME", "PLUGIN", "STATUS", "CREATED");
        size_t i;
        json_t *c;
        json_array_foreach (list, i, c) {
            printf("%-20s %-14s %-13s %s\n", json_string_value(json_object_get(c, "name")),
                   json_string_value(json_object_get(c, "plugin")), json_string_value(json_object_get(c, "status")),
                   json_string_value(json_object_get(c, "created_at")));
        }
    }
    json_decref(list);
    return FERRY_EXIT_OK;
}

static int cmd_show(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, connection_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which connection?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_connection *c = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_connection_get(st, a->argv[idx], &c, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    ferry_loader *loader = ferry_cli_loader(cli);
    const ferry_plugin *pl = loader ? ferry_loader_find(loader, c->plugin) : NULL;
    json_t *pub = ferry_connection_to_public_json(c, pl ? pl->desc->settings : NULL);
    if (cli->json) {
        ferry_cli_print_json(pub);
    } else {
        printf("name:     %s\nplugin:   %s%s\nstatus:   %s%s%s\ncreated:  %s\nupdated:  %s\nsettings:\n", c->name,
               c->plugin, pl ? "" : " (not installed)", c->status, c->status_message ? " - " : "",
               c->status_message ? c->status_message : "", c->created_at, c->updated_at);
        const char *k;
        json_t *v;
        json_object_foreach (json_object_get(pub, "settings"), k, v) {
            printf("  %-24s %s\n", k, json_string_value(v));
        }
    }
    json_decref(pub);
    ferry_connection_free(c);
    return FERRY_EXIT_OK;
}

static int cmd_test(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, connection_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which connection?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    ferry_endpoint *ep = NULL;
    if (ferry_endpoint_open(st, ferry_cli_loader(cli), a->argv[idx], 0, &ep, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (ep->plugin->desc->test == NULL) {
        ferry_endpoint_close(ep);
        fprintf(stderr, "%s: plugin %s has no connection test\n", a->command, ep->plugin->name);
        return FERRY_EXIT_CONFIG;
    }
    json_t *info = NULL;
    rc = ep->plugin->desc->test(ep->conn, &info, &err);
    ferry_endpoint_close(ep);
    if (rc != FERRY_OK) {
        json_decref(info);
        return ferry_cli_fail(a->command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(info);
    } else {
        printf("%s: connected\n", a->argv[idx]);
        const char *k;
        json_t *v;
        json_object_foreach (info, k, v) {
            if (json_is_string(v)) {
                printf("  %-22s %s\n", k, json_string_value(v));
            } else {
                char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                printf("  %-22s %s\n", k, t ? t : "");
                free(t);
            }
        }
    }
    json_decref(info);
    return FERRY_EXIT_OK;
}

static int cmd_remove(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, connection_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which connection?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_connection_remove(st, a->argv[idx], &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (!cli->quiet) {
        fprintf(stderr, "%s: connection %s removed\n", a->command, a->argv[idx]);
    }
    return FERRY_EXIT_OK;
}

static int cmd_set(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, connection_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (idx + 1 == a->argc) { /* a name and nothing after it */
        return ferry_cli_usage_error(a->command, "nothing to set (NAME=VALUE, or NAME= to unset)");
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which connection?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    ferry_connection *c = NULL;
    if (ferry_connection_get(st, a->argv[idx], &c, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    ferry_loader *loader = ferry_cli_loader(cli);
    const ferry_plugin *pl = loader ? ferry_loader_find(loader, c->plugin) : NULL;
    if (pl == NULL) {
        fprintf(stderr, "%s: plugin %s is not installed\n", a->command, c->plugin);
        ferry_connection_free(c);
        return FERRY_EXIT_CONFIG;
    }
    json_t *values = json_object();
    for (int i = idx + 1; i < a->argc; i++) {
        char *name, *value;
        if (ferry_cli_parse_assignment(a->command, a->argv[i], &name, &value) != 0) {
            json_decref(values);
            ferry_connection_free(c);
            return FERRY_EXIT_USAGE;
        }
        json_object_set_new(values, name, value[0] ? json_string(value) : json_null());
        free(name);
        free(value);
    }
    rc = FERRY_EXIT_OK;
    if (ferry_connection_validate(pl->desc->settings, values, 1, &err) != FERRY_OK ||
        ferry_connection_update_settings(st, c->id, pl->desc->settings, values, &err) != FERRY_OK) {
        rc = ferry_cli_fail(a->command, &err);
    }
    json_decref(values);
    ferry_connection_free(c);
    return rc;
}

static int cmd_authorize(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, connection_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which connection?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    return ferry_cli_authorize(cli, st, a->argv[idx], a->command, 0);
}

typedef struct action_opts {
    json_t *args;
    int bad;
} action_opts;

static int action_option(void *ud, int opt, const char *arg)
{
    action_opts *o = ud;
    if (opt != 'a') {
        return -1;
    }
    char *name, *value;
    if (ferry_cli_parse_assignment("ferry connection action", arg, &name, &value) != 0) {
        o->bad = 1;
        return 0;
    }
    json_object_set_new(o->args, name, json_string(value));
    free(name);
    free(value);
    return 0;
}

static int cmd_action(ferry_cli *cli, ferry_cli_args *a)
{
    static const struct option opts[] = {{"arg", required_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    action_opts o = {json_object(), 0};
    int rc = FERRY_EXIT_USAGE;
    int idx = ferry_cli_parse(cli, a, connection_usage, opts, "a:", action_option, &o);
    if (idx < 0 || o.bad) {
        json_decref(o.args);
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (idx + 1 >= a->argc) {
        json_decref(o.args);
        return ferry_cli_usage_error(a->command, "usage: ferry connection action NAME ACTION");
    }
    ferry_store *st = ferry_cli_store(cli, 0, &rc);
    if (st == NULL) {
        json_decref(o.args);
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    ferry_endpoint *ep = NULL;
    if (ferry_endpoint_open(st, ferry_cli_loader(cli), a->argv[idx], 0, &ep, &err) != FERRY_OK) {
        json_decref(o.args);
        return ferry_cli_fail(a->command, &err);
    }
    const char *action = a->argv[idx + 1];
    int known = 0;
    for (const ferry_action_spec *s = ep->plugin->desc->actions; s && s->name; s++) {
        known |= strcmp(s->name, action) == 0;
    }
    if (!known || ep->plugin->desc->action == NULL) {
        fprintf(stderr, "%s: plugin %s has no action '%s' (see 'ferry plugin show %s')\n", a->command, ep->plugin->name,
                action, ep->plugin->name);
        ferry_endpoint_close(ep);
        json_decref(o.args);
        return FERRY_EXIT_USAGE;
    }
    json_t *result = NULL;
    int st_rc = ep->plugin->desc->action(ep->conn, action, o.args, &result, &err);
    ferry_endpoint_close(ep);
    json_decref(o.args);
    if (st_rc != FERRY_OK) {
        json_decref(result);
        return ferry_cli_fail(a->command, &err);
    }
    if (result != NULL) {
        ferry_cli_print_json(result);
        json_decref(result);
    }
    return FERRY_EXIT_OK;
}

int ferry_cmd_connection(ferry_cli *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(ferry_cli *, ferry_cli_args *);
    } subs[] = {{"add", cmd_add},       {"list", cmd_list},
                {"show", cmd_show},     {"test", cmd_test},
                {"set", cmd_set},       {"authorize", cmd_authorize},
                {"action", cmd_action}, {"remove", cmd_remove},
                {"rm", cmd_remove},     {NULL, NULL}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ferry_cli_print_usage(argc < 2 ? stderr : stdout, connection_usage);
        return argc < 2 ? FERRY_EXIT_USAGE : FERRY_EXIT_OK;
    }
    for (size_t i = 0; subs[i].name; i++) {
        if (strcmp(subs[i].name, argv[1]) == 0) {
            char command[64];
            snprintf(command, sizeof(command), "ferry connection %s", argv[1]);
            ferry_cli_args a = {command, argc - 1, argv + 1};
            return subs[i].fn(cli, &a);
        }
    }
    return ferry_cli_usage_error("ferry connection", "unknown subcommand '%s'", argv[1]);
}
