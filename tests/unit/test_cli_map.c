/*
 * `ferry map test` in-process: output, exit codes and the suite runner.
 *
 * Run as `test_cli_map --as-ferry map test ...` it is the `map` command
 * itself, which tests/mappings/run.sh uses while core/cli.c does not yet
 * dispatch `map`.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_map.h"
#include "error.h"
#include "log.h"
#include "testing.h"
#include "testsupport.h"
#include "util.h"

typedef struct outcome {
    int code;
    char out[16384];
    char err[8192];
} outcome;

static void slurp(FILE *f, char *buf, size_t n)
{
    rewind(f);
    size_t got = fread(buf, 1, n - 1, f);
    buf[got] = '\0';
    fclose(f);
}

/* Run `ferry map ARGS...` (NULL-terminated) and capture both streams. */
static void run_map(outcome *o, int json, ...)
{
    char *argv[32];
    int argc = 0;
    va_list ap;
    argv[argc++] = "map";
    va_start(ap, json);
    for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;) {
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    ferry_cli cli;
    memset(&cli, 0, sizeof(cli));
    cli.json = json;
    FILE *out = tmpfile(), *err = tmpfile();
    o->code = ferry_cli_map_run(&cli, argc, argv, out, err);
    slurp(out, o->out, sizeof(o->out));
    slurp(err, o->err, sizeof(o->err));
}

static char mappings[1024];

static const char *in_mappings(const char *rel)
{
    static char bufs[4][2100];
    static int next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof(bufs[0]), "%s/%s", mappings, rel);
    return b;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

TEST(help_and_usage_errors)
{
    outcome o;
    run_map(&o, 0, "--help", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    CHECK_STR_CONTAINS(o.out, "usage: ferry map test SCRIPT --input RECORD.json");
    run_map(&o, 0, "test", "--help", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    CHECK_STR_CONTAINS(o.out, "--suite DIR");
    CHECK_STR_CONTAINS(o.out, "Exit codes:");
    run_map(&o, 0, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    run_map(&o, 0, "frobnicate", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    CHECK_STR_CONTAINS(o.err, "unknown subcommand 'frobnicate'");
    run_map(&o, 0, "test", in_mappings("orders_basic.lua"), NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    CHECK_STR_CONTAINS(o.err, "missing --input RECORD.json");
    run_map(&o, 0, "test", "--input", "x.json", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    CHECK_STR_CONTAINS(o.err, "missing the SCRIPT");
    run_map(&o, 0, "test", "--bogus", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    CHECK_STR_CONTAINS(o.err, "'--bogus'");
    run_map(&o, 0, "test", "--tap", "a.lua", "--input", "r.json", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    run_map(&o, 0, "test", "--suite", mappings, "extra.lua", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    run_map(&o, 0, "test", in_mappings("orders_basic.lua"), "--input", "/nonexistent.json", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    CHECK_STR_CONTAINS(o.err, "cannot read the record /nonexistent.json");
}

TEST(one_record_prints_the_mapped_record)
{
    outcome o;
    run_map(&o, 0, "test", in_mappings("orders_basic.lua"), "--input", in_mappings("records/paid_order.json"),
            "--settings", in_mappings("records/settings.json"), NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    json_t *j = json_loads(o.out, 0, NULL);
    CHECK(json_is_object(j));
    CHECK_STR_EQ(json_string_value(json_object_get(j, "terms_of_payment")), "30");
    CHECK_STR_EQ(json_string_value(json_object_get(j, "total")), "198.36");
    CHECK(json_real_value(json_object_get(json_array_get(json_object_get(j, "rows"), 1), "unit_price")) == 0.29);
    CHECK_STR_CONTAINS(o.out, "\"unit_price\": 0.29"); /* human output prints 15 digits, not 0.28999999999999998 */
    json_decref(j);
    /* --json wraps it */
    run_map(&o, 1, "test", in_mappings("orders_basic.lua"), "--input", in_mappings("records/paid_order.json"),
            "--settings", in_mappings("records/settings.json"), NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    j = json_loads(o.out, 0, NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "mapped");
    CHECK_INT_EQ(json_array_size(json_object_get(j, "records")), 1);
    json_decref(j);
}

TEST(skip_error_and_load_error_have_their_exit_codes)
{
    const char *dir = ferry_test_tmpdir("cli-map");
    char rec[1024], broken[1024], ctx[1024];
    snprintf(rec, sizeof(rec), "%s/canceled.json", dir);
    snprintf(broken, sizeof(broken), "%s/broken.lua", dir);
    snprintf(ctx, sizeof(ctx), "%s/ctx.json", dir);
    write_file(rec, "{\"number\": \"7\", \"status\": \"canceled\", \"lines\": []}");
    write_file(broken, "function map(r)\n  return {a = }\nend\n");
    write_file(ctx, "{\"flow\": \"orders\"}");

    outcome o;
    run_map(&o, 0, "test", in_mappings("orders_basic.lua"), "-i", rec, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    CHECK_STR_EQ(o.out, "skipped: order 7 is canceled\n");
    run_map(&o, 1, "test", in_mappings("orders_basic.lua"), "-i", rec, NULL);
    CHECK_STR_CONTAINS(o.out, "\"status\": \"skipped\"");

    write_file(rec, "{\"number\": \"8\", \"status\": \"processing\", \"lines\": []}");
    run_map(&o, 0, "test", in_mappings("orders_basic.lua"), "-i", rec, "--ctx", ctx, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_FAILURE);
    CHECK_STR_CONTAINS(o.err, "orders_basic.lua:15: order 8 has no lines");
    run_map(&o, 1, "test", in_mappings("orders_basic.lua"), "-i", rec, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_FAILURE);
    json_t *j = json_loads(o.out, 0, NULL);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "error");
    CHECK_INT_EQ(json_integer_value(json_object_get(json_object_get(j, "error"), "line")), 15);
    json_decref(j);

    run_map(&o, 0, "test", broken, "-i", rec, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_CONFIG);
    CHECK_STR_CONTAINS(o.err, "broken.lua:2: unexpected symbol near '}'");

    write_file(rec, "[1, 2]");
    run_map(&o, 0, "test", in_mappings("orders_basic.lua"), "-i", rec, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    CHECK_STR_CONTAINS(o.err, "must hold one record, a JSON object");
    ferry_test_rmdir(dir);
}

TEST(the_example_suite_passes)
{
    outcome o;
    run_map(&o, 0, "test", "--suite", mappings, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    CHECK_STR_CONTAINS(o.out, "PASS paid_order.test.json: a paid order becomes one document");
    CHECK_STR_CONTAINS(o.out, "5 passed, 0 failed\n");
    run_map(&o, 0, "test", "--suite", mappings, "--tap", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_OK);
    CHECK(strncmp(o.out, "1..5\n", 5) == 0);
    CHECK_STR_CONTAINS(o.out, "ok 1 - canceled_order.test.json: a canceled order is skipped with a reason\n");
    CHECK_STR_CONTAINS(o.out, "# 5 passed, 0 failed\n");
}

TEST(a_failing_suite_says_what_differs)
{
    const char *dir = ferry_test_tmpdir("cli-map-suite");
    char path[1024];
    snprintf(path, sizeof(path), "%s/m.lua", dir);
    write_file(path, "function map(r)\n  if r.kind == 'skip' then ferry.skip('skip it') end\n"
                     "  if r.kind == 'fail' then error('boom') end\n"
                     "  return {price = ferry.round(r.price, 2), lines = {{sku = 'A', qty = 1}, {sku = 'B'}}}\nend\n");
    snprintf(path, sizeof(path), "%s/a_exact.test.json", dir);
    write_file(path, "{\"script\": \"m.lua\", \"description\": \"exact\", \"input\": {\"price\": 12},"
                     " \"expect\": {\"price\": 12, \"lines\": [{\"sku\": \"A\", \"qty\": 1}, {\"sku\": \"B\"}]}}");
    snprintf(path, sizeof(path), "%s/b_contains.test.json", dir);
    write_file(path, "{\"script\": \"m.lua\", \"description\": \"contains\", \"input\": {\"price\": 1.005},"
                     " \"expect_contains\": {\"price\": 1.01, \"lines\": [{\"sku\": \"A\"}, {\"sku\": \"C\"}]}}");
    snprintf(path, sizeof(path), "%s/c_skip.test.json", dir);
    write_file(path, "{\"script\": \"m.lua\", \"input\": {\"kind\": \"skip\"}, \"expect_error\": \"boom\"}");
    snprintf(path, sizeof(path), "%s/d_error.test.json", dir);
    write_file(path, "{\"script\": \"m.lua\", \"input\": {\"kind\": \"fail\"}, \"expect_error\": \"m.lua:3: boom\"}");
    snprintf(path, sizeof(path), "%s/e_typo.test.json", dir);
    write_file(path, "{\"script\": \"m.lua\", \"input\": {}, \"expected\": {}}");
    snprintf(path, sizeof(path), "%s/f_broken.test.json", dir);
    write_file(path, "{\"script\": ");
    snprintf(path, sizeof(path), "%s/g_skip_ok.test.json", dir);
    write_file(path, "{\"script\": \"m.lua\", \"input\": {\"kind\": \"skip\"}, \"expect_skip\": \"skip it\"}");

    outcome o;
    run_map(&o, 0, "test", "--suite", dir, NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_FAILURE);
    /* an integer 12 came back as the real 12.0 from ferry.round(x, 2): json_equal tells them apart */
    CHECK_STR_CONTAINS(o.out, "FAIL a_exact.test.json: exact\n  at price: expected integer 12, got real 12.0");
    CHECK_STR_CONTAINS(o.out, "FAIL b_contains.test.json: contains\n  at lines[2].sku: expected string \"C\", got "
                              "string \"B\"");
    CHECK_STR_CONTAINS(o.out, "FAIL c_skip.test.json\n  skipped: skip it");
    CHECK_STR_CONTAINS(o.out, "PASS d_error.test.json");
    CHECK_STR_CONTAINS(o.out, "unknown member 'expected'");
    CHECK_STR_CONTAINS(o.out, "FAIL f_broken.test.json\n  cannot read the test");
    CHECK_STR_CONTAINS(o.out, "PASS g_skip_ok.test.json");
    CHECK_STR_CONTAINS(o.out, "2 passed, 5 failed\n");
    run_map(&o, 0, "test", "--suite", "/nonexistent-dir", NULL);
    CHECK_INT_EQ(o.code, FERRY_EXIT_USAGE);
    ferry_test_rmdir(dir);
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--as-ferry") == 0) {
        /* the driver: test_cli_map --as-ferry map test ... */
        ferry_cli cli;
        memset(&cli, 0, sizeof(cli));
        int i = 2;
        for (; i < argc && argv[i][0] == '-'; i++) {
            if (strcmp(argv[i], "--json") == 0) {
                cli.json = 1;
            } else if (strcmp(argv[i], "-v") == 0) {
                cli.verbose++;
            }
        }
        if (i >= argc || strcmp(argv[i], "map") != 0) {
            fprintf(stderr, "test_cli_map --as-ferry: only the map command is here\n");
            return FERRY_EXIT_USAGE;
        }
        return ferry_cmd_map(&cli, argc - i, argv + i);
    }
    ferry_log_set_level(-1);
    snprintf(mappings, sizeof(mappings), "%s", ferry_test_srcpath("tests/mappings"));
    RUN_TEST(help_and_usage_errors);
    RUN_TEST(one_record_prints_the_mapped_record);
    RUN_TEST(skip_error_and_load_error_have_their_exit_codes);
    RUN_TEST(the_example_suite_passes);
    RUN_TEST(a_failing_suite_says_what_differs);
    TEST_MAIN_END();
}
