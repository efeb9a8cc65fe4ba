/* cli_map.c - `ferry map test`: try a mapping on a record, or run mapping test files (see cli_map.h). */
#include "config.h"

#include "cli_map.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "log.h"
#include "lua_runtime.h"
#include "money.h"
#include "util.h"

static const char map_usage[] =
    "usage: ferry map test SCRIPT --input RECORD.json [--settings FILE] [--ctx FILE] [--json]\n"
    "       ferry map test --suite DIR [--tap]\n"
    "\n"
    "Try a Lua mapping without a shop or an accounting system.\n"
    "\n"
    "Commands:\n"
    "  test      map one record and print the result, or run a directory of mapping tests\n"
    "\n"
    "See 'ferry map test --help', and doc/mapping-guide.md for the mapping contract.\n";

static const char test_usage[] =
    "usage: ferry map test SCRIPT --input RECORD.json [--settings FILE] [--ctx FILE] [--json]\n"
    "       ferry map test --suite DIR [--tap]\n"
    "\n"
    "Map one record with SCRIPT and print the mapped record(s) as JSON, or the\n"
    "skip reason, or the error with the script's file and line.  With --suite,\n"
    "run every DIR/*.test.json and report each case.\n"
    "\n"
    "Options:\n"
    "  -i, --input FILE     the record to map, a JSON object ('-' reads standard input)\n"
    "  -s, --settings FILE  settings and value maps, as JSON:\n"
    "                       {\"settings\": {...}, \"maps\": {\"payment_terms\": {\"checkmo\": \"30\"}}}\n"
    "      --ctx FILE       the ctx argument of map(record, ctx), a JSON object\n"
    "                       (default {\"flow\": \"test\", \"dry_run\": true})\n"
    "      --json           machine-readable output: {\"status\": \"mapped\", \"records\": [...]},\n"
    "                       {\"status\": \"skipped\", \"reason\": ...} or {\"status\": \"error\", \"error\": {...}}\n"
    "      --suite DIR      run the mapping tests DIR/*.test.json (format: doc/mapping-guide.md)\n"
    "      --tap            with --suite: Test Anything Protocol output\n"
    "  -v, --verbose        show Lua tracebacks, and the scripts' log lines in a suite\n"
    "  -h, --help           this help\n"
    "\n"
    "Exit codes: 0 mapped or skipped (with --suite: every test passed), 1 the record\n"
    "failed (a test failed), 2 bad arguments or input, 3 the script does not load.\n";

typedef struct test_opts {
    const char *script;
    const char *input;
    const char *settings;
    const char *ctx;
    const char *suite;
    int tap;
} test_opts;

/* Where a runtime's log lines go: a stream with a prefix, or a buffer (suites), or nowhere. */
typedef struct log_target {
    FILE *stream;
    const char *prefix;
    ferry_buf *buf;
} log_target;

static void log_line(void *ud, int level, const char *message)
{
    log_target *t = ud;
    if (t->stream != NULL) {
        fprintf(t->stream, "%s: %s: %s\n", t->prefix, ferry_log_level_name(level), message);
    } else if (t->buf != NULL) {
        ferry_buf_printf(t->buf, "log %s: %s\n", ferry_log_level_name(level), message);
    }
}

static int usage_error(FILE *err, const char *command, const char *fmt, ...) FERRY_FMT(3, 4);
static int usage_error(FILE *err, const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(err, "%s: ", command);
    va_start(ap, fmt);
    vfprintf(err, fmt, ap);
    va_end(ap);
    fprintf(err, " (see '%s --help')\n", command);
    return FERRY_EXIT_USAGE;
}

/* Read a JSON file ("-" = standard input); NULL with a message naming `what` on failure. */
static json_t *read_json(const char *path, const char *what, FILE *err)
{
    json_error_t jerr;
    json_t *v = strcmp(path, "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(path, 0, &jerr);
    if (v == NULL) {
        fprintf(err, "ferry map test: cannot read %s %s: %s (line %d, column %d)\n", what, path, jerr.text, jerr.line,
                jerr.column);
    }
    return v;
}

/* Print a JSON value, pretty, to out. */
static void print_json(FILE *out, const json_t *v)
{
    char *text = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    if (text != NULL) {
        fprintf(out, "%s\n", text);
        free(text);
    }
}

static json_t *default_ctx(void)
{
    return json_pack("{s:s, s:b}", "flow", "test", "dry_run", 1);
}

/* ---- one record --------------------------------------------------------------------------------- */

static int run_single(ferry_cli *cli, const test_opts *o, FILE *out, FILE *err)
{
    int code = FERRY_EXIT_USAGE;
    json_t *record = NULL, *conf = NULL, *ctx = NULL, *settings = NULL, *maps = NULL;
    ferry_lua *lua = NULL;
    ferry_error e;
    ferry_lua_result res;
    memset(&res, 0, sizeof(res));
    ferry_error_clear(&e);

    record = read_json(o->input, "the record", err);
    if (record == NULL) {
        goto done;
    }
    if (!json_is_object(record)) {
        fprintf(err, "ferry map test: %s must hold one record, a JSON object\n", o->input);
        goto done;
    }
    if (o->settings != NULL) {
        const char *key;
        json_t *member;
        conf = read_json(o->settings, "the settings", err);
        if (conf == NULL) {
            goto done;
        }
        if (!json_is_object(conf)) {
            fprintf(err, "ferry map test: %s must be a JSON object {\"settings\": {...}, \"maps\": {...}}\n",
                    o->settings);
            goto done;
        }
        json_object_foreach (conf, key, member) {
            if ((strcmp(key, "settings") != 0 && strcmp(key, "maps") != 0) || !json_is_object(member)) {
                fprintf(err, "ferry map test: %s: '%s' is not expected (\"settings\" and \"maps\" are objects)\n",
                        o->settings, key);
                goto done;
            }
        }
        settings = json_object_get(conf, "settings");
        maps = json_object_get(conf, "maps");
    }
    ctx = o->ctx != NULL ? read_json(o->ctx, "the ctx", err) : default_ctx();
    if (ctx == NULL) {
        goto done;
    }
    if (!json_is_object(ctx)) {
        fprintf(err, "ferry map test: %s must be a JSON object\n", o->ctx);
        goto done;
    }

    log_target lt = {err, o->script, NULL};
    ferry_lua_options lo;
    memset(&lo, 0, sizeof(lo));
    lo.flow = NULL;
    lo.settings = settings;
    lo.value_maps = maps;
    lo.log = log_line;
    lo.log_ud = &lt;
    lua = ferry_lua_create(&lo, &e);
    if (lua == NULL) {
        fprintf(err, "ferry map test: %s\n", e.message);
        code = FERRY_EXIT_INTERNAL;
        goto done;
    }
    if (ferry_lua_load(lua, o->script, &e) != FERRY_OK) {
        if (cli->json) {
            json_t *j =
                json_pack("{s:s, s:s, s:o}", "status", "error", "stage", "load", "error", ferry_error_to_json(&e));
            print_json(out, j);
            json_decref(j);
        } else {
            fprintf(err, "ferry map test: %s\n", e.message);
            if (cli->verbose && ferry_lua_traceback(lua)[0]) {
                fprintf(err, "%s\n", ferry_lua_traceback(lua));
            }
        }
        code = FERRY_EXIT_CONFIG;
        goto done;
    }
    int rc = ferry_lua_map(lua, record, ctx, &res, &e);
    if (rc != FERRY_OK) {
        if (cli->json) {
            json_t *j = json_pack("{s:s, s:o}", "status", "error", "error", ferry_error_to_json(&e));
            print_json(out, j);
            json_decref(j);
        } else {
            fprintf(err, "ferry map test: %s\n", e.message);
            if (e.field[0] && strstr(e.message, e.field) == NULL) {
                fprintf(err, "  field: %s\n", e.field);
            }
            if (cli->verbose && ferry_lua_traceback(lua)[0]) {
                fprintf(err, "%s\n", ferry_lua_traceback(lua));
            }
        }
        code = ferry_exit_for_status(rc);
    } else if (res.skipped) {
        if (cli->json) {
            json_t *j = json_pack("{s:s, s:s}", "status", "skipped", "reason", res.skip_reason);
            print_json(out, j);
            json_decref(j);
        } else {
            fprintf(out, "skipped: %s\n", res.skip_reason);
        }
        code = FERRY_EXIT_OK;
    } else {
        if (cli->json) {
            json_t *j = json_pack("{s:s, s:O}", "status", "mapped", "records", res.records);
            print_json(out, j);
            json_decref(j);
        } else {
            print_json(out, json_array_size(res.records) == 1 ? json_array_get(res.records, 0) : res.records);
        }
        code = FERRY_EXIT_OK;
    }
done:
    ferry_lua_result_clear(&res);
    ferry_lua_destroy(lua);
    json_decref(record);
    json_decref(conf);
    json_decref(ctx);
    return code;
}

/* ---- comparing results -------------------------------------------------------------------------- */

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    default:
        return "null";
    }
}

/* A value for a message: a real as its shortest exact text (0.29, 0.30000000000000004), the rest compact. */
static void show(ferry_buf *b, const json_t *v)
{
    char num[64];
    if (json_is_real(v) && ferry_money_format_double(json_real_value(v), num, sizeof(num)) == FERRY_MONEY_OK) {
        ferry_buf_puts(b, num);
        if (strpbrk(num, ".en") == NULL) {
            ferry_buf_puts(b, ".0"); /* a real, even when whole */
        }
        return;
    }
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    if (text == NULL) {
        ferry_buf_puts(b, "?");
        return;
    }
    if (strlen(text) > 200) {
        ferry_buf_printf(b, "%.200s...", text);
    } else {
        ferry_buf_puts(b, text);
    }
    free(text);
}

static void diff_at(ferry_buf *why, const char *path, const char *fmt, ...) FERRY_FMT(3, 4);
static void diff_at(ferry_buf *why, const char *path, const char *fmt, ...)
{
    va_list ap;
    char *msg;
    va_start(ap, fmt);
    msg = ferry_vasprintf(fmt, ap);
    va_end(ap);
    ferry_buf_printf(why, "at %s: %s", path[0] ? path : "(top level)", msg ? msg : "");
    free(msg);
}

/*
 * Find the first difference between want and got and describe it in why;
 * returns 1 when they match.  With `contains`, objects in want need only
 * their own members in got, and arrays their first elements.
 */
static int match(const json_t *want, const json_t *got, int contains, const char *path, ferry_buf *why)
{
    char sub[512];
    if (json_is_object(want) && json_is_object(got)) {
        const char *key;
        json_t *w;
        json_object_foreach ((json_t *)want, key, w) {
            snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key);
            json_t *g = json_object_get(got, key);
            if (g == NULL) {
                diff_at(why, sub, "missing (expected ");
                show(why, w);
                ferry_buf_puts(why, ")");
                return 0;
            }
            if (!match(w, g, contains, sub, why)) {
                return 0;
            }
        }
        if (!contains) {
            json_t *g;
            json_object_foreach ((json_t *)got, key, g) {
                if (json_object_get(want, key) == NULL) {
                    snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", key);
                    diff_at(why, sub, "not expected (got ");
                    show(why, g);
                    ferry_buf_puts(why, ")");
                    return 0;
                }
            }
        }
        return 1;
    }
    if (json_is_array(want) && json_is_array(got)) {
        size_t nw = json_array_size(want), ng = json_array_size(got);
        if (contains ? ng < nw : ng != nw) {
            diff_at(why, path, "%zu elements, expected %s%zu", ng, contains ? "at least " : "", nw);
            return 0;
        }
        for (size_t i = 0; i < nw; i++) {
            snprintf(sub, sizeof(sub), "%s[%zu]", path, i + 1);
            if (!match(json_array_get(want, i), json_array_get(got, i), contains, sub, why)) {
                return 0;
            }
        }
        return 1;
    }
    if (json_equal(want, got)) {
        return 1;
    }
    diff_at(why, path, "expected %s ", type_name(want));
    show(why, want);
    ferry_buf_printf(why, ", got %s ", type_name(got));
    show(why, got);
    return 0;
}

/* ---- test files ----------------------------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/*
 * Run one test file; returns 1 when it passed.  Fills desc with its
 * description and diag with what went wrong (and the log, when verbose).
 */
static int run_case(ferry_cli *cli, const char *dir, const char *file, char *desc, size_t desclen, ferry_buf *diag)
{
    static const char *const known[] = {"script", "description",     "input",        "settings",    "maps", "ctx",
                                        "expect", "expect_contains", "expect_error", "expect_skip", NULL};
    static const char *const expectations[] = {"expect", "expect_contains", "expect_error", "expect_skip", NULL};
    char path[2048], script[2048];
    json_error_t jerr;
    int passed = 0;
    ferry_lua *lua = NULL;
    ferry_lua_result res;
    ferry_error e;
    memset(&res, 0, sizeof(res));
    ferry_error_clear(&e);
    desc[0] = '\0';

    snprintf(path, sizeof(path), "%s/%s", dir, file);
    json_t *t = json_load_file(path, 0, &jerr);
    json_t *ctx = NULL;
    if (t == NULL) {
        ferry_buf_printf(diag, "cannot read the test: %s (line %d, column %d)\n", jerr.text, jerr.line, jerr.column);
        return 0;
    }
    if (!json_is_object(t)) {
        ferry_buf_puts(diag, "a test file holds a JSON object\n");
        goto done;
    }
    const char *description = json_string_value(json_object_get(t, "description"));
    ferry_strlcpy(desc, description != NULL ? description : "", desclen);
    const char *key;
    json_t *member;
    json_object_foreach (t, key, member) {
        int ok = 0;
        for (int i = 0; known[i] != NULL; i++) {
            ok |= strcmp(key, known[i]) == 0;
        }
        if (!ok) {
            ferry_buf_printf(diag, "unknown member '%s' in the test file\n", key);
            goto done;
        }
    }
    const char *which = NULL;
    int nexp = 0;
    for (int i = 0; expectations[i] != NULL; i++) {
        if (json_object_get(t, expectations[i]) != NULL) {
            which = expectations[i];
            nexp++;
        }
    }
    if (nexp != 1) {
        ferry_buf_puts(diag, "a test needs exactly one of expect, expect_contains, expect_error, expect_skip\n");
        goto done;
    }
    const json_t *want = json_object_get(t, which);
    if ((strcmp(which, "expect_error") == 0 || strcmp(which, "expect_skip") == 0) && !json_is_string(want)) {
        ferry_buf_printf(diag, "%s must be a string (a part of the message)\n", which);
        goto done;
    }
    const char *sc = json_string_value(json_object_get(t, "script"));
    json_t *input = json_object_get(t, "input");
    json_t *settings = json_object_get(t, "settings");
    json_t *maps = json_object_get(t, "maps");
    if (sc == NULL || !json_is_object(input) || (settings != NULL && !json_is_object(settings)) ||
        (maps != NULL && !json_is_object(maps))) {
        ferry_buf_puts(diag, "a test needs \"script\" (a path) and \"input\" (an object); \"settings\" and \"maps\" "
                             "are objects\n");
        goto done;
    }
    if (sc[0] == '/') {
        ferry_strlcpy(script, sc, sizeof(script));
    } else {
        snprintf(script, sizeof(script), "%s/%s", dir, sc);
    }
    ctx = json_object_get(t, "ctx") != NULL ? json_incref(json_object_get(t, "ctx")) : default_ctx();

    log_target lt = {NULL, sc, cli->verbose ? diag : NULL};
    ferry_lua_options lo;
    memset(&lo, 0, sizeof(lo));
    lo.settings = settings;
    lo.value_maps = maps;
    lo.log = log_line;
    lo.log_ud = &lt;
    lua = ferry_lua_create(&lo, &e);
    if (lua == NULL) {
        ferry_buf_printf(diag, "%s\n", e.message);
        goto done;
    }
    int rc = ferry_lua_load(lua, script, &e);
    if (rc == FERRY_OK) {
        rc = ferry_lua_map(lua, input, ctx, &res, &e);
    }
    if (rc != FERRY_OK) {
        if (strcmp(which, "expect_error") == 0) {
            passed = strstr(e.message, json_string_value(want)) != NULL;
            if (!passed) {
                ferry_buf_printf(diag, "the error \"%s\" does not contain \"%s\"\n", e.message,
                                 json_string_value(want));
            }
        } else {
            ferry_buf_printf(diag, "%s: %s\n", rc == FERRY_CONFIG_ERROR ? "the script does not load" : "error",
                             e.message);
        }
        if (!passed && cli->verbose && ferry_lua_traceback(lua)[0]) {
            ferry_buf_printf(diag, "%s\n", ferry_lua_traceback(lua));
        }
    } else if (res.skipped) {
        if (strcmp(which, "expect_skip") == 0) {
            passed = strstr(res.skip_reason, json_string_value(want)) != NULL;
            if (!passed) {
                ferry_buf_printf(diag, "the skip reason \"%s\" does not contain \"%s\"\n", res.skip_reason,
                                 json_string_value(want));
            }
        } else {
            ferry_buf_printf(diag, "skipped: %s\n", res.skip_reason);
        }
    } else if (strcmp(which, "expect") == 0 || strcmp(which, "expect_contains") == 0) {
        int contains = strcmp(which, "expect_contains") == 0;
        const json_t *got = res.records;
        if (json_is_object(want)) {
            if (json_array_size(res.records) != 1) {
                ferry_buf_printf(diag, "mapped %zu records, expected one (use a list in %s)\n",
                                 json_array_size(res.records), which);
                goto done;
            }
            got = json_array_get(res.records, 0);
        }
        ferry_buf why = FERRY_BUF_INIT;
        passed = match(want, got, contains, "", &why);
        if (!passed) {
            ferry_buf_printf(diag, "%s\n  got: ", why.data ? why.data : "differs");
            char *text = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
            ferry_buf_printf(diag, "%s\n", text ? text : "?");
            free(text);
        }
        ferry_buf_free(&why);
    } else {
        char *text = json_dumps(res.records, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
        ferry_buf_printf(diag, "mapped, but the test expects %s: %s\n",
                         strcmp(which, "expect_error") == 0 ? "an error" : "a skip", text ? text : "?");
        free(text);
    }
done:
    ferry_lua_result_clear(&res);
    ferry_lua_destroy(lua);
    json_decref(ctx);
    json_decref(t);
    return passed;
}

/* Print diag's lines, each with a prefix. */
static void print_lines(FILE *out, const char *prefix, const char *text)
{
    while (text != NULL && *text) {
        size_t n = strcspn(text, "\n");
        fprintf(out, "%s%.*s\n", prefix, (int)n, text);
        text += n + (text[n] == '\n');
    }
}

static int run_suite(ferry_cli *cli, const test_opts *o, FILE *out, FILE *err)
{
    DIR *d = opendir(o->suite);
    if (d == NULL) {
        fprintf(err, "ferry map test: cannot open %s: %s\n", o->suite, strerror(errno));
        return FERRY_EXIT_USAGE;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!ends_with(de->d_name, ".test.json") || de->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **more = realloc(names, cap * sizeof(*names));
            if (more == NULL) {
                break;
            }
            names = more;
        }
        names[n] = ferry_strdup(de->d_name);
        if (names[n] != NULL) {
            n++;
        }
    }
    closedir(d);
    if (n == 0) {
        free(names);
        fprintf(err, "ferry map test: no *.test.json files in %s\n", o->suite);
        return FERRY_EXIT_USAGE;
    }
    qsort(names, n, sizeof(*names), name_cmp);
    if (o->tap) {
        fprintf(out, "1..%zu\n", n);
    }
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        char desc[512];
        ferry_buf diag = FERRY_BUF_INIT;
        int ok = run_case(cli, o->suite, names[i], desc, sizeof(desc), &diag);
        ok ? passed++ : failed++;
        if (o->tap) {
            fprintf(out, "%s %zu - %s%s%s\n", ok ? "ok" : "not ok", i + 1, names[i], desc[0] ? ": " : "", desc);
            print_lines(out, "# ", diag.data);
        } else {
            fprintf(out, "%s %s%s%s\n", ok ? "PASS" : "FAIL", names[i], desc[0] ? ": " : "", desc);
            print_lines(out, "  ", diag.data);
        }
        fflush(out);
        ferry_buf_free(&diag);
        free(names[i]);
    }
    free(names);
    fprintf(out, "%s%d passed, %d failed\n", o->tap ? "# " : "", passed, failed);
    return failed ? FERRY_EXIT_FAILURE : FERRY_EXIT_OK;
}

/* ---- the command ---------------------------------------------------------------------------------- */

enum { OPT_CTX = 0x2001, OPT_SUITE, OPT_TAP };

static int cmd_test(ferry_cli *cli, int argc, char **argv, FILE *out, FILE *err)
{
    static const char *const command = "ferry map test";
    static const struct option longopts[] = {{"input", required_argument, NULL, 'i'},
                                             {"settings", required_argument, NULL, 's'},
                                             {"ctx", required_argument, NULL, OPT_CTX},
                                             {"suite", required_argument, NULL, OPT_SUITE},
                                             {"tap", no_argument, NULL, OPT_TAP},
                                             FERRY_CLI_COMMON_LONGOPTS,
                                             {NULL, 0, NULL, 0}};
    test_opts o;
    memset(&o, 0, sizeof(o));
    optind = 0; /* glibc: start over for this argv */
    opterr = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, ":i:s:hqv", longopts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            o.input = optarg;
            break;
        case 's':
            o.settings = optarg;
            break;
        case OPT_CTX:
            o.ctx = optarg;
            break;
        case OPT_SUITE:
            o.suite = optarg;
            break;
        case OPT_TAP:
            o.tap = 1;
            break;
        case 'h':
            fputs(test_usage, out);
            return FERRY_EXIT_OK;
        case ':':
            return usage_error(err, command, "option '%s' needs a value", argv[optind - 1]);
        case '?':
            return usage_error(err, command, "unknown option '%s'", argv[optind - 1]);
        default:
            if (!ferry_cli_common_option(cli, opt, optarg)) {
                return usage_error(err, command, "unknown option '%s'", argv[optind - 1]);
            }
        }
    }
    int rest = argc - optind;
    if (o.suite != NULL) {
        if (rest > 0 || o.input != NULL || o.settings != NULL || o.ctx != NULL) {
            return usage_error(err, command,
                               "--suite DIR takes no SCRIPT, --input, --settings or --ctx (the test "
                               "files name them)");
        }
        return run_suite(cli, &o, out, err);
    }
    if (o.tap) {
        return usage_error(err, command, "--tap goes with --suite DIR");
    }
    if (rest == 0) {
        return usage_error(err, command, "missing the SCRIPT to test");
    }
    if (rest > 1) {
        return usage_error(err, command, "expected one SCRIPT, got %d arguments", rest);
    }
    o.script = argv[optind];
    if (o.input == NULL) {
        return usage_error(err, command, "missing --input RECORD.json");
    }
    return run_single(cli, &o, out, err);
}

int ferry_cli_map_run(ferry_cli *cli, int argc, char **argv, FILE *out, FILE *err)
{
    if (argc < 2) {
        fputs(map_usage, err);
        return FERRY_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        fputs(map_usage, out);
        return FERRY_EXIT_OK;
    }
    if (strcmp(sub, "test") == 0) {
        return cmd_test(cli, argc - 1, argv + 1, out, err);
    }
    return usage_error(err, "ferry map", "unknown subcommand '%s'", sub);
}

int ferry_cmd_map(ferry_cli *cli, int argc, char **argv)
{
    return ferry_cli_map_run(cli, argc, argv, stdout, stderr);
}
