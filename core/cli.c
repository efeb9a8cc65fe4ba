/*
 * cli.c - the ferry command: global options, dispatch to command groups,
 * and the services commands share (store, plugin loader, output helpers).
 */
#include "config.h"

#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ferry/version.h>

#include "error.h"
#include "host.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char usage_text[] =
    "usage: ferry [--db PATH] [--json] [-q|-v] COMMAND [ARGS]\n"
    "\n"
    "Keep a Magento 2 shop and Visma eAccounting in sync.\n"
    "\n"
    "Commands:\n"
    "  setup                     the set-up wizard: connect the shop and eAccounting, create the flow\n"
    "  plugin list|show          the connector plugins ferry found\n"
    "  connection add|list|show|test|set|authorize|action|remove\n"
    "                            connections to a shop or an accounting system\n"
    "  flow add|list|show|enable|disable|set|export|import|remove|reset\n"
    "                            what moves where, with which mapping and settings\n"
    "  run FLOW [--dry-run]      sync a flow now\n"
    "  log                       the activity log: runs, records, what was sent\n"
    "  dead list|show|retry|discard\n"
    "                            records that could not be synced\n"
    "  purge                     delete old log entries, or everything about one customer\n"
    "  map test                  try a Lua mapping on a record, or run mapping tests\n"
    "  status                    the dashboard: connections, flows, last runs, dead letters\n"
    "  alerts [deliver]          alerts (flow failed, totals differ, re-authorize)\n"
    "  settings list|get|set     ferry's own settings (log retention, alert command)\n"
    "\n"
    "Global options:\n"
    "  --db PATH      the store (default $FERRY_DB, else ~/.local/share/ferry/ferry.db)\n"
    "  --json         machine-readable output\n"
    "  -q, --quiet    only errors; -v, --verbose: more detail (repeat for debug)\n"
    "  -h, --help     help (also after any command: ferry flow --help)\n"
    "  --version      print the version\n"
    "\n"
    "Exit codes: 0 ok, 1 some records failed, 2 usage, 3 configuration, 4 service\n"
    "unavailable, 5 store, 70 internal error.  See ferry(1).\n";

typedef struct cli_state {
    ferry_cli pub;
    ferry_store *store;
    ferry_loader *loader;
} cli_state;

static cli_state *state_of(ferry_cli *cli)
{
    return (cli_state *)cli;
}

int ferry_cli_print_usage(FILE *out, const char *text)
{
    fputs(text, out);
    return FERRY_EXIT_OK;
}

int ferry_cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see '%s --help')\n", command);
    return FERRY_EXIT_USAGE;
}

int ferry_cli_fail(const char *command, const ferry_error *err)
{
    char buf[2048];
    ferry_error_format(err, buf, sizeof(buf));
    fprintf(stderr, "%s: %s\n", command, buf);
    return ferry_exit_for_status(err->status);
}

void ferry_cli_print_json(const json_t *value)
{
    ferry_cli_write_json(stdout, value);
}

int ferry_cli_write_json(FILE *out, const json_t *value)
{
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (text == NULL) {
        return -1;
    }
    int rc = fputs(text, out) < 0 || fputc('\n', out) == EOF ? -1 : 0;
    free(text);
    return rc;
}

const char *ferry_cli_datadir(void)
{
    const char *env = getenv("FERRY_DATADIR");
    return env != NULL && env[0] ? env : FERRY_DATADIR;
}

int ferry_cli_parse_assignment(const char *command, const char *arg, char **name, char **value)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        ferry_cli_usage_error(command, "expected NAME=VALUE, got '%s'", arg);
        return -1;
    }
    *name = ferry_asprintf("%.*s", (int)(eq - arg), arg);
    const char *v = eq + 1;
    if (v[0] == '@') {
        FILE *f = fopen(v + 1, "r");
        if (f == NULL) {
            fprintf(stderr, "%s: cannot read %s for %s\n", command, v + 1, *name);
            free(*name);
            return -1;
        }
        ferry_buf b = FERRY_BUF_INIT;
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
            ferry_buf_append(&b, chunk, n);
        }
        fclose(f);
        while (b.len > 0 && (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r')) {
            b.data[--b.len] = '\0';
        }
        *value = ferry_buf_take(&b);
    } else {
        *value = ferry_strdup(v);
    }
    return 0;
}

int ferry_cli_common_option(ferry_cli *cli, int opt, const char *arg)
{
    switch (opt) {
    case FERRY_CLI_OPT_DB:
        cli->db_path = arg;
        return 1;
    case FERRY_CLI_OPT_JSON:
        cli->json = 1;
        return 1;
    case 'q':
        cli->quiet = 1;
        cli->progress = 0;
        ferry_log_set_level(FERRY_LOG_ERROR);
        return 1;
    case 'v':
        cli->verbose++;
        ferry_log_set_level(cli->verbose > 1 ? FERRY_LOG_DEBUG : FERRY_LOG_INFO);
        return 1;
    default:
        return 0;
    }
}

int ferry_cli_parse(ferry_cli *cli, ferry_cli_args *a, const char *usage, const struct option *extra,
                    const char *shortopts, ferry_cli_option_fn fn, void *ud)
{
    static const struct option common[] = {FERRY_CLI_COMMON_LONGOPTS};
    enum { MAX_OPTS = 32 };
    struct option opts[MAX_OPTS];
    size_t n = 0;
    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
        opts[n++] = common[i];
    }
    for (size_t i = 0; extra && extra[i].name && n < MAX_OPTS - 1; i++) {
        opts[n++] = extra[i];
    }
    memset(&opts[n], 0, sizeof(opts[n]));
    char shorts[64];
    /* the leading ':' makes getopt answer ':' for a missing value, '?' for an unknown option */
    snprintf(shorts, sizeof(shorts), ":qvh%s", shortopts ? shortopts : "");
    optind = 0;
    opterr = 0;
    int opt;
    while ((opt = getopt_long(a->argc, a->argv, shorts, opts, NULL)) != -1) {
        if (opt == 'h') {
            ferry_cli_print_usage(stdout, usage);
            return -2;
        }
        if (ferry_cli_common_option(cli, opt, optarg)) {
            continue;
        }
        if (opt == ':') {
            ferry_cli_usage_error(a->command, "option '%s' needs a value", a->argv[optind - 1]);
            return -1;
        }
        if (opt == '?') {
            ferry_cli_usage_error(a->command, "unknown option '%s'", a->argv[optind - 1]);
            return -1;
        }
        if (fn == NULL || fn(ud, opt, optarg) != 0) {
            const char *name = NULL;
            for (size_t i = 0; i < n; i++) {
                if (opts[i].val == opt && opts[i].flag == NULL) {
                    name = opts[i].name;
                }
            }
            if (optarg != NULL && name != NULL) {
                ferry_cli_usage_error(a->command, "invalid value '%s' for --%s", optarg, name);
            } else {
                ferry_cli_usage_error(a->command, "bad option '%s'", a->argv[optind - 1]);
            }
            return -1;
        }
    }
    return optind;
}

ferry_store *ferry_cli_store(ferry_cli *cli, int create, int *exit_code)
{
    cli_state *s = state_of(cli);
    if (s->store != NULL) {
        return s->store;
    }
    char *path = ferry_store_default_path(cli->db_path);
    ferry_error err;
    ferry_error_clear(&err);
    int rc = ferry_store_open(path, create ? FERRY_STORE_CREATE : 0, &s->store, &err);
    free(path);
    if (rc != FERRY_OK) {
        char buf[1024];
        fprintf(stderr, "ferry: %s\n", ferry_error_format(&err, buf, sizeof(buf)));
        *exit_code = rc == FERRY_CONFIG_ERROR ? FERRY_EXIT_STORE : FERRY_EXIT_STORE;
        return NULL;
    }
    return s->store;
}

int ferry_cli_named_store(ferry_cli *cli, ferry_cli_args *a, int idx, const char *which, ferry_store **st)
{
    if (idx >= a->argc) {
        return ferry_cli_usage_error(a->command, "%s", which);
    }
    int rc = FERRY_EXIT_OK;
    *st = ferry_cli_store(cli, 0, &rc);
    return *st != NULL ? FERRY_EXIT_OK : rc;
}

ferry_loader *ferry_cli_loader(ferry_cli *cli)
{
    cli_state *s = state_of(cli);
    if (s->loader == NULL) {
        s->loader = ferry_loader_create(ferry_host_table());
        if (s->loader != NULL) {
            ferry_loader_scan(s->loader, FERRY_PLUGINDIR);
        }
    }
    return s->loader;
}

typedef struct command {
    const char *name;
    int (*run)(ferry_cli *cli, int argc, char **argv);
} command;

static const command commands[] = {{"plugin", ferry_cmd_plugin},
                                   {"plugins", ferry_cmd_plugin},
                                   {"connection", ferry_cmd_connection},
                                   {"flow", ferry_cmd_flow},
                                   {"run", ferry_cmd_run},
                                   {"log", ferry_cmd_log},
                                   {"dead", ferry_cmd_dead},
                                   {"purge", ferry_cmd_purge},
                                   {"map", ferry_cmd_map},
                                   {"status", ferry_cmd_status},
                                   {"alerts", ferry_cmd_alerts},
                                   {"settings", ferry_cmd_settings},
                                   {"setup", ferry_cmd_setup},
                                   {NULL, NULL}};

int ferry_cli_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        FERRY_CLI_COMMON_LONGOPTS, {"version", no_argument, NULL, 'V'}, {NULL, 0, NULL, 0}};
    cli_state state;
    memset(&state, 0, sizeof(state));
    ferry_cli *cli = &state.pub;
    cli->color = isatty(STDOUT_FILENO);
    cli->progress = isatty(STDERR_FILENO);
    const char *level = getenv("FERRY_LOG_LEVEL");
    if (level != NULL && ferry_log_level_from_name(level) >= 0) {
        ferry_log_set_level(ferry_log_level_from_name(level));
    }

    /* Global options stop at the first non-option: the command. */
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "+:qvh", longopts, NULL)) != -1) {
        if (opt == 'V') {
            printf("ferry %s (plugin ABI %d.%d)\n", FERRY_VERSION, FERRY_PLUGIN_ABI_MAJOR, FERRY_PLUGIN_ABI_MINOR);
            return FERRY_EXIT_OK;
        }
        if (opt == 'h') {
            return ferry_cli_print_usage(stdout, usage_text);
        }
        if (opt == '?') {
            fprintf(stderr, "ferry: unknown option '%s'\n\n", argv[optind - 1]);
            ferry_cli_print_usage(stderr, usage_text);
            return FERRY_EXIT_USAGE;
        }
        if (opt == ':') {
            fprintf(stderr, "ferry: option '%s' needs a value\n", argv[optind - 1]);
            return FERRY_EXIT_USAGE;
        }
        ferry_cli_common_option(cli, opt, optarg);
    }
    if (optind >= argc) {
        ferry_cli_print_usage(stderr, usage_text);
        return FERRY_EXIT_USAGE;
    }
    if (strcmp(argv[optind], "help") == 0) {
        return ferry_cli_print_usage(stdout, usage_text);
    }
    const command *cmd = NULL;
    for (const command *c = commands; c->name != NULL; c++) {
        if (strcmp(c->name, argv[optind]) == 0) {
            cmd = c;
            break;
        }
    }
    if (cmd == NULL) {
        fprintf(stderr, "ferry: unknown command '%s' (see 'ferry --help')\n", argv[optind]);
        return FERRY_EXIT_USAGE;
    }
    ferry_http_global_init();
    int sub_argc = argc - optind;
    char **sub_argv = argv + optind;
    optind = 0; /* glibc: reinitialise getopt for the command's own parsing */
    int rc = cmd->run(cli, sub_argc, sub_argv);
    fflush(stdout);
    ferry_loader_destroy(state.loader);
    ferry_store_close(state.store);
    ferry_http_global_cleanup();
    return rc;
}
