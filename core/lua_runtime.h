/*
 * lua_runtime.h - running integrators' Lua mappings, sandboxed and type-faithful.
 *
 * One runtime per flow run (one lua_State).  A mapping script defines
 * `map(record, ctx)`; the runtime calls it once per record in a protected
 * call with an instruction budget, a time limit and a memory cap, and
 * converts records between Jansson and Lua without losing type (see
 * lua_json.h).
 *
 * What a script sees: base (no dofile/loadfile, `load` text-only), string,
 * table, math, utf8, coroutine, os.time/date/clock/difftime, a restricted
 * `require` (share/ferry/lua and the mapping's own directory only), and the
 * `ferry` library: null, array, object, is_null, kind, skip, fail, setting,
 * map, log, round, int, decimal.*, date.*, str.*, json.*
 * (doc/mapping-guide.md lists them all; lua_sandbox.h has the limits).
 *
 * Isolation between records: every record runs the script's top level
 * again in a fresh global environment (so globals and top-level locals of
 * one record are never seen by the next), while modules loaded with
 * `require` are cached for the life of the runtime.
 *
 * Called by the engine (one runtime per flow run, one thread at a time) and
 * by `ferry map test`.
 */
#ifndef FERRY_LUA_RUNTIME_H
#define FERRY_LUA_RUNTIME_H

#include <stddef.h>

#include <ferry/plugin.h>

typedef struct ferry_lua ferry_lua;

/* Receives ferry.log, print and Lua warnings; `level` is enum ferry_log_level. */
typedef void (*ferry_lua_log_fn)(void *ud, int level, const char *message);

typedef struct ferry_lua_options {
    const char *flow;            /* flow name, for error messages; may be NULL */
    const char *lib_dir;         /* share/ferry/lua; NULL = $FERRY_DATADIR/lua or the installed one */
    const json_t *settings;      /* object name -> value, borrowed for the runtime's life; may be NULL */
    const json_t *value_maps;    /* object map name -> object from -> to, borrowed; may be NULL */
    long long instruction_limit; /* per record; 0 = default 10,000,000 */
    size_t memory_limit;         /* bytes per state; 0 = default 64 MiB */
    long long time_limit_ms;     /* per record, wall clock; 0 = default 10 s, < 0 = none */
    ferry_lua_log_fn log;        /* receives ferry.log / print; NULL = the core log */
    void *log_ud;
} ferry_lua_options;

/* The outcome of mapping one record. */
typedef struct ferry_lua_result {
    json_t *records; /* new array of 1..n mapped records (empty when skipped; NULL on error) */
    int skipped;     /* 1 when the script called ferry.skip */
    char skip_reason[512];
} ferry_lua_result;

/* Counters, for logs and tests. */
typedef struct ferry_lua_stats {
    size_t memory_used;     /* bytes the state holds now */
    size_t memory_peak;     /* the most it ever held */
    size_t memory_limit;    /* the cap */
    long long instructions; /* instruction units charged to the last record (or the load check) */
} ferry_lua_stats;

/*
 * A new runtime, or NULL with err set (FERRY_FATAL).  opts may be NULL for
 * all defaults.  Strings in opts are copied; settings and value_maps are
 * borrowed and must outlive the runtime.  Free with ferry_lua_destroy.
 */
ferry_lua *ferry_lua_create(const ferry_lua_options *opts, ferry_error *err);

/* Close the Lua state and free the runtime; NULL is fine. */
void ferry_lua_destroy(ferry_lua *lua);

/*
 * Load and check a mapping script: syntax (text only), then its top level
 * runs once and must define a function `map`.  A failure is
 * FERRY_CONFIG_ERROR naming the file and line, so a broken mapping fails at
 * run start, not at the 10,000th record.  `require` then also searches the
 * script's own directory.  Loading again replaces the script (and forgets
 * cached modules).
 */
int ferry_lua_load(ferry_lua *lua, const char *script_path, ferry_error *err);

/*
 * Like ferry_lua_load for a script held in memory: `name` is how errors
 * name it ("orders.lua"), `script_dir` (may be NULL) where `require` looks
 * besides the library directory.  The source is copied.
 */
int ferry_lua_load_buffer(ferry_lua *lua, const char *name, const char *source, size_t len, const char *script_dir,
                          ferry_error *err);

/*
 * Map one record: calls map(record, ctx) with a fresh Lua copy of the
 * record (an object).  `ctx` (may be NULL: an empty object) is passed as the
 * second argument (flow name, entity, run id...).
 *
 * FERRY_OK fills *result: records (1..n), or skipped with the reason (then
 * records is an empty array).  The caller frees it with
 * ferry_lua_result_clear.  ferry.fail, a Lua error, a budget, time or
 * memory overrun, returning nothing without ferry.skip, or a result that
 * does not convert is FERRY_RECORD_ERROR: err->message reads
 * "file:line: message", err->where/err->line name the script position and
 * err->field the offending field path when there is one; err->flow and
 * err->record (the record's "key") are filled too.  The runtime stays usable
 * afterwards.  FERRY_CONFIG_ERROR when no script is loaded.
 */
int ferry_lua_map(ferry_lua *lua, const json_t *record, const json_t *ctx, ferry_lua_result *result, ferry_error *err);

/* Release what a result holds and zero it. */
void ferry_lua_result_clear(ferry_lua_result *result);

/* The Lua traceback of the last error (load or map), or "" - for logs and `ferry map test -v`. */
const char *ferry_lua_traceback(const ferry_lua *lua);

/* Fill *stats. */
void ferry_lua_get_stats(const ferry_lua *lua, ferry_lua_stats *stats);

#endif /* FERRY_LUA_RUNTIME_H */
