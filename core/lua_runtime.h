/*
 * lua_runtime.h - running integrators' Lua mappings, sandboxed and type-faithful.
 *
 * One runtime per flow run (one lua_State).  A mapping script defines
 * `map(record, ctx)`; the runtime calls it once per record in a protected
 * call with an instruction budget and a memory cap, and converts records
 * between Jansson and Lua without losing type (see lua_json.h).
 *
 * What a script sees: base (no dofile/loadfile, `load` text-only), string,
 * table, math, utf8, os.time/date/clock/difftime, a restricted `require`
 * (share/ferry/lua and the mapping's own directory only), and the `ferry`
 * library: null, array, object, skip, fail, setting, map, log, round, int,
 * and date and string helpers (doc/mapping-guide.md lists them all).
 */
#ifndef FERRY_LUA_RUNTIME_H
#define FERRY_LUA_RUNTIME_H

#include <ferry/plugin.h>

typedef struct ferry_lua ferry_lua;

typedef void (*ferry_lua_log_fn)(void *ud, int level, const char *message);

typedef struct ferry_lua_options {
    const char *flow;            /* flow name, for error messages; may be NULL */
    const char *lib_dir;         /* share/ferry/lua; NULL = FERRY_DATADIR env or the installed one */
    const json_t *settings;      /* object name -> value, borrowed for the runtime's life; may be NULL */
    const json_t *value_maps;    /* object map name -> object from -> to, borrowed; may be NULL */
    long long instruction_limit; /* per record; 0 = default 10,000,000 */
    size_t memory_limit;         /* bytes per state; 0 = default 64 MiB */
    ferry_lua_log_fn log;        /* receives ferry.log / print; NULL = the core log */
    void *log_ud;
} ferry_lua_options;

/* The outcome of mapping one record. */
typedef struct ferry_lua_result {
    json_t *records;    /* new array of 0..n mapped records (NULL on error) */
    int skipped;        /* 1 when the script called ferry.skip */
    char skip_reason[512];
} ferry_lua_result;

/* A new runtime, or NULL with err set. */
ferry_lua *ferry_lua_create(const ferry_lua_options *opts, ferry_error *err);
void ferry_lua_destroy(ferry_lua *lua);

/*
 * Load and check a mapping script: syntax, and that it defines a function
 * `map`.  A failure is FERRY_CONFIG_ERROR naming the file and line, so a
 * broken mapping fails at run start, not at the 10,000th record.
 */
int ferry_lua_load(ferry_lua *lua, const char *script_path, ferry_error *err);

/*
 * Map one record: calls map(record, ctx) with a fresh copy of the record.
 * `ctx` (may be NULL) is passed as the second argument (flow name, entity,
 * run id...).  FERRY_OK fills *result (caller frees with
 * ferry_lua_result_clear); ferry.fail, a Lua error, a budget or memory
 * overrun, or a result that does not convert is FERRY_RECORD_ERROR naming
 * the script, line and field path.  The runtime stays usable afterwards.
 */
int ferry_lua_map(ferry_lua *lua, const json_t *record, const json_t *ctx, ferry_lua_result *result,
                  ferry_error *err);

void ferry_lua_result_clear(ferry_lua_result *result);

#endif /* FERRY_LUA_RUNTIME_H */
