/*
 * bench_engine.c - CPU cost of the Lua mapping per order against the floor
 * (Jansson parsing and serialising the same order), for bench/run.
 *
 * Not part of ferry and not built by `make`: bench/run compiles it against
 * the build tree's libferry (.libs/libferry.a) and the core headers.
 *
 *   bench_engine MAPPING LIBDIR SETTINGS.json MAPS.json ORDERS.jsonl [SECONDS]
 *
 * ORDERS.jsonl holds one canonical order per line (ferry's decoded Magento
 * order, with Magento's JSON under "source", as the engine hands it to the
 * mapping; bench/run takes them from the activity log's "read" events).
 * SETTINGS.json is the flow's effective settings and MAPS.json its value
 * maps, as `ferry --json flow show` prints them.
 *
 * Measured, in CPU time of this process (CLOCK_PROCESS_CPUTIME_ID), over
 * every order per pass, passes interleaved so that drift on a shared
 * machine hits each measure alike, for about SECONDS (default 10) in all:
 *
 *   floor       json_loads + json_dumps(JSON_COMPACT) of the order's text
 *   map         ferry_lua_map(order, ctx) as the engine calls it (ferry_run_map):
 *               the record already parsed, ctx = flow, kind, entity,
 *               dry_run, run_id, settings; the result freed
 *   map_nosrc   the same with "source" removed from the record (what the
 *               mapping costs when Magento's original is not converted)
 *
 * Prints one JSON object: orders, passes, and per measure the median over
 * passes of nanoseconds per order (plus min and max).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "error.h"
#include "lua_runtime.h"

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *grown = realloc(buf, cap * 2);
            if (grown == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static json_t *load_json_file(const char *path)
{
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (j == NULL) {
        fprintf(stderr, "bench_engine: %s:%d: %s\n", path, jerr.line, jerr.text);
    }
    return j;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

#define MAX_PASSES 1000

typedef struct measure {
    const char *name;
    double per_pass[MAX_PASSES]; /* seconds per pass */
} measure;

static json_t *summary(measure *m, int passes, size_t orders)
{
    double *s = malloc(sizeof(double) * (size_t)passes);
    memcpy(s, m->per_pass, sizeof(double) * (size_t)passes);
    qsort(s, (size_t)passes, sizeof(double), cmp_double);
    double med = passes % 2 ? s[passes / 2] : (s[passes / 2 - 1] + s[passes / 2]) / 2;
    json_t *o = json_pack("{s:f, s:f, s:f}", "median_ns", med / (double)orders * 1e9, "min_ns",
                          s[0] / (double)orders * 1e9, "max_ns", s[passes - 1] / (double)orders * 1e9);
    free(s);
    return o;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: bench_engine MAPPING LIBDIR SETTINGS.json MAPS.json ORDERS.jsonl [SECONDS]\n");
        return 2;
    }
    const char *mapping = argv[1], *libdir = argv[2];
    double budget = argc > 6 ? atof(argv[6]) : 10.0;
    json_t *settings = load_json_file(argv[3]);
    json_t *maps = load_json_file(argv[4]);
    if (settings == NULL || maps == NULL) {
        return 1;
    }

    /* the orders: text (for the floor) and parsed (for the mapping) */
    size_t len = 0;
    char *all = slurp(argv[5], &len);
    if (all == NULL) {
        fprintf(stderr, "bench_engine: cannot read %s\n", argv[5]);
        return 1;
    }
    size_t n = 0, cap = 1024;
    char **texts = malloc(cap * sizeof(char *));
    json_t **recs = malloc(cap * sizeof(json_t *));
    json_t **nosrc = malloc(cap * sizeof(json_t *));
    for (char *line = strtok(all, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] == '\0') {
            continue;
        }
        json_error_t jerr;
        json_t *r = json_loads(line, 0, &jerr);
        if (!json_is_object(r)) {
            fprintf(stderr, "bench_engine: order %zu: %s\n", n + 1, jerr.text);
            return 1;
        }
        if (n == cap) {
            cap *= 2;
            texts = realloc(texts, cap * sizeof(char *));
            recs = realloc(recs, cap * sizeof(json_t *));
            nosrc = realloc(nosrc, cap * sizeof(json_t *));
        }
        texts[n] = line;
        recs[n] = r;
        nosrc[n] = json_deep_copy(r);
        json_object_del(nosrc[n], "source");
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "bench_engine: no orders in %s\n", argv[5]);
        return 1;
    }

    ferry_error err;
    ferry_error_clear(&err);
    ferry_lua_options lo;
    memset(&lo, 0, sizeof(lo));
    lo.flow = "orders";
    lo.lib_dir = libdir;
    lo.settings = settings;
    lo.value_maps = maps;
    ferry_lua *lua = ferry_lua_create(&lo, &err);
    if (lua == NULL || ferry_lua_load(lua, mapping, &err) != FERRY_OK) {
        fprintf(stderr, "bench_engine: %s\n", err.message);
        return 1;
    }
    json_t *ctx = json_pack("{s:s, s:s, s:s, s:b, s:I, s:O}", "flow", "orders", "kind", "orders", "entity", "order",
                            "dry_run", 0, "run_id", (json_int_t)1, "settings", settings);

    /* every order must map (a failing order would measure the error path) */
    size_t mapped_ok = 0;
    for (size_t i = 0; i < n; i++) {
        ferry_lua_result res;
        memset(&res, 0, sizeof(res));
        ferry_error_clear(&err);
        if (ferry_lua_map(lua, recs[i], ctx, &res, &err) == FERRY_OK) {
            mapped_ok++;
        } else if (mapped_ok == 0 && i < 3) {
            fprintf(stderr, "bench_engine: order %zu does not map: %s\n", i + 1, err.message);
        }
        ferry_lua_result_clear(&res);
    }

    measure floor = {"floor", {0}}, map = {"map", {0}}, map_nosrc = {"map_nosrc", {0}};
    int passes = 0;
    double started = cpu_now();
    while (passes < MAX_PASSES && (passes < 5 || cpu_now() - started < budget)) {
        double t0 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            json_t *j = json_loads(texts[i], 0, NULL);
            char *out = json_dumps(j, JSON_COMPACT);
            free(out);
            json_decref(j);
        }
        double t1 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            ferry_lua_result res;
            memset(&res, 0, sizeof(res));
            ferry_lua_map(lua, recs[i], ctx, &res, &err);
            ferry_lua_result_clear(&res);
        }
        double t2 = cpu_now();
        for (size_t i = 0; i < n; i++) {
            ferry_lua_result res;
            memset(&res, 0, sizeof(res));
            ferry_lua_map(lua, nosrc[i], ctx, &res, &err);
            ferry_lua_result_clear(&res);
        }
        double t3 = cpu_now();
        floor.per_pass[passes] = t1 - t0;
        map.per_pass[passes] = t2 - t1;
        map_nosrc.per_pass[passes] = t3 - t2;
        passes++;
    }

    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += strlen(texts[i]);
    }
    json_t *out =
        json_pack("{s:I, s:I, s:I, s:i, s:o, s:o, s:o}", "orders", (json_int_t)n, "mapped_ok", (json_int_t)mapped_ok,
                  "mean_order_bytes", (json_int_t)(bytes / n), "passes", passes, "floor", summary(&floor, passes, n),
                  "map", summary(&map, passes, n), "map_nosrc", summary(&map_nosrc, passes, n));
    char *text = json_dumps(out, JSON_COMPACT);
    printf("%s\n", text);
    free(text);
    json_decref(out);
    json_decref(ctx);
    ferry_lua_destroy(lua);
    for (size_t i = 0; i < n; i++) {
        json_decref(recs[i]);
        json_decref(nosrc[i]);
    }
    free(texts);
    free(recs);
    free(nosrc);
    free(all);
    json_decref(settings);
    json_decref(maps);
    return mapped_ok == n ? 0 : 3;
}
