/*
 * cli.h - the ferry command line: global options and subcommand dispatch.
 *
 * `ferry [global options] COMMAND [SUBCOMMAND] [options]`, git-style.  Each
 * command group lives in its own cli_<group>.c and exports one
 * ferry_cmd_<group>() that receives the global options and its own argv
 * (argv[0] is the group name).  A command returns an exit code (enum
 * ferry_exit in error.h).
 */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdio.h>

/* Options that apply to every command. */
typedef struct ferry_cli {
    const char *db_path; /* --db / FERRY_DB; NULL = default location */
    int json;            /* --json: machine-readable output on stdout */
    int quiet;           /* -q */
    int verbose;         /* -v (repeatable) */
    int color;           /* stdout is a terminal */
    int progress;        /* stderr is a terminal and not --quiet: show progress */
} ferry_cli;

/* Run the ferry command with argv; returns the process exit code. */
int ferry_cli_main(int argc, char **argv);

/*
 * Print the help for a command to `out`: each command's --help text lives
 * next to its code.  Returns FERRY_EXIT_OK.
 */
int ferry_cli_print_usage(FILE *out, const char *text);

/* Report a usage error for `command` ("ferry flow add: ...") and return FERRY_EXIT_USAGE. */
int ferry_cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/*
 * Shared services for commands.  Both are opened on first use and closed by
 * ferry_cli_main: the store (FERRY_STORE_CREATE when `create`), and the
 * plugin loader after scanning FERRY_PLUGIN_PATH and the installed
 * directory.  NULL with a message printed on failure; *exit_code then holds
 * the code to return.
 */
struct ferry_store;
struct ferry_loader;
struct ferry_store *ferry_cli_store(ferry_cli *cli, int create, int *exit_code);
struct ferry_loader *ferry_cli_loader(ferry_cli *cli);

/* The directory of shipped data (mappings, Lua modules, schemas): $FERRY_DATADIR or the installed one. */
const char *ferry_cli_datadir(void);

/* Print an error for `command` to stderr; returns the exit code for its status. */
struct ferry_error;
int ferry_cli_fail(const char *command, const struct ferry_error *err);

/* Print a JSON value to stdout (pretty, sorted as built) followed by a newline. */
struct json_t;
void ferry_cli_print_json(const struct json_t *value);

/* Write a JSON value to out exactly as ferry_cli_print_json prints it.  Returns 0, or -1 on an error. */
int ferry_cli_write_json(FILE *out, const struct json_t *value);

/*
 * Parse NAME=VALUE; VALUE "@path" reads the file (trailing newline dropped).
 * Returns 0 and sets *name, *value (new strings), or -1 with a message.
 */
int ferry_cli_parse_assignment(const char *command, const char *arg, char **name, char **value);

/*
 * Run the plugin's interactive authorization for connection `name` (OAuth
 * consent) and mark the connection ok; returns an exit code.  When it fails,
 * a connection just added (`fresh`) is marked needs_reauth, while one that
 * worked before keeps its status and its earlier authorization (a mistyped
 * code must not stop working runs).  `command` names the command in messages.
 */
int ferry_cli_authorize(ferry_cli *cli, struct ferry_store *st, const char *name, const char *command, int fresh);

/* Command groups (argv[0] is the group name). */
int ferry_cmd_plugin(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_connection(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_flow(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_run(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_log(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_dead(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_purge(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_map(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_status(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_alerts(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_settings(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_setup(ferry_cli *cli, int argc, char **argv);
int ferry_cmd_dead_retry(ferry_cli *cli, int argc, char **argv); /* in cli_run.c */

/*
 * Common per-command options: every command accepts --json, --db PATH,
 * -q/--quiet, -v/--verbose and -h/--help besides its own.  Put
 * FERRY_CLI_COMMON_LONGOPTS in a command's option table and call
 * ferry_cli_common_option() for an option it does not handle itself: it
 * returns 1 when it handled `opt`.
 */
#define FERRY_CLI_OPT_DB 0x1001
#define FERRY_CLI_OPT_JSON 0x1002
#define FERRY_CLI_COMMON_LONGOPTS                                                                                      \
    {"db", required_argument, NULL, FERRY_CLI_OPT_DB}, {"json", no_argument, NULL, FERRY_CLI_OPT_JSON},                \
        {"quiet", no_argument, NULL, 'q'}, {"verbose", no_argument, NULL, 'v'},                                        \
    {                                                                                                                  \
        "help", no_argument, NULL, 'h'                                                                                 \
    }
int ferry_cli_common_option(ferry_cli *cli, int opt, const char *arg);

/* A subcommand's name for messages ("ferry flow add") and its own argv (argv[0] = subcommand). */
typedef struct ferry_cli_args {
    const char *command;
    int argc;
    char **argv;
} ferry_cli_args;

/* Handler for a command's own options; returns 0 when it took `opt`. */
typedef int (*ferry_cli_option_fn)(void *ud, int opt, const char *arg);

/*
 * Parse a subcommand's options: the common ones plus `extra` (may be NULL)
 * with `shortopts`, handing each of its own to `fn`.  Returns the index of
 * the first operand; -2 after printing `usage` for --help; -1 after a usage
 * error was printed.
 */
struct option;
int ferry_cli_parse(ferry_cli *cli, ferry_cli_args *a, const char *usage, const struct option *extra,
                    const char *shortopts, ferry_cli_option_fn fn, void *ud);

/* The exit code to return after ferry_cli_parse returned a negative value. */
#define FERRY_CLI_PARSE_EXIT(idx) ((idx) == -2 ? 0 : 2)

/*
 * The store for a subcommand about one named object (operand idx): a usage
 * error saying `which` ("which flow?") when the operand is missing, else the
 * existing store (not created) in *st.  FERRY_EXIT_OK, or the exit code to
 * stop with (the message is printed).
 */
int ferry_cli_named_store(ferry_cli *cli, ferry_cli_args *a, int idx, const char *which, struct ferry_store **st);

#endif /* FERRY_CLI_H */
