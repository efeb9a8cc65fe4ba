/*
 * lua_sandbox.h - a Lua 5.4 state that integrators' scripts cannot escape
 * or exhaust.
 *
 * What a script can reach (the "library", shared and read-only):
 *   base functions without dofile/loadfile (load is text-only and binds the
 *   sandbox environment; print goes to the log; collectgarbage answers
 *   "count" only; rawset refuses library tables), string, table, math
 *   (without randomseed; math.random is re-seeded with a constant before
 *   every record), utf8, coroutine, os.time/date/clock/difftime, and a
 *   restricted `require` that loads text modules only from the library
 *   directory (share/ferry/lua) and the mapping script's own directory.
 *   io, debug, package and the rest of os do not exist; naming one of the
 *   removed functions raises "... is not available in the ferry sandbox".
 *
 * Library tables are read-only proxies (writes, rawset and setmetatable
 * fail loudly, and the string metatable is protected), so nothing a script
 * does to them outlives the record.  Each record gets a fresh global
 * environment (ferry_lua_sandbox_push_env); required modules are cached for
 * the life of the state.
 *
 * Limits: a counting allocator caps the bytes of the whole state; a count
 * hook charges instructions and checks a wall-clock deadline per record.
 * Once a limit is hit the hook fires on every instruction and raises again,
 * so pcall inside a script cannot swallow it (as Redis does).  Library
 * functions whose cost does not show in the instruction count (table.move,
 * table.insert/remove/concat/sort, pattern matching) charge the budget
 * themselves; string.rep of an empty string returns at once.
 */
#ifndef FERRY_LUA_SANDBOX_H
#define FERRY_LUA_SANDBOX_H

#include <stddef.h>

#include <lua.h>

#include <ferry/plugin.h>

#define FERRY_LUA_DEFAULT_INSTRUCTIONS 10000000LL
#define FERRY_LUA_DEFAULT_MEMORY (64u * 1024u * 1024u)
#define FERRY_LUA_DEFAULT_TIME_MS 10000LL

/* Largest module or script file the sandbox reads. */
#define FERRY_LUA_MAX_SOURCE (4u * 1024u * 1024u)

typedef struct ferry_lua_sandbox ferry_lua_sandbox;

/* Receives print(), ferry.log and Lua warnings; `level` is enum ferry_log_level. */
typedef void (*ferry_lua_sandbox_log_fn)(void *ud, int level, const char *message);

typedef struct ferry_lua_sandbox_options {
    size_t memory_limit;         /* bytes for the whole state; 0 = FERRY_LUA_DEFAULT_MEMORY */
    long long instruction_limit; /* per record; 0 = FERRY_LUA_DEFAULT_INSTRUCTIONS */
    long long time_limit_ms;     /* per record, wall clock; 0 = FERRY_LUA_DEFAULT_TIME_MS, < 0 = none */
    const char *lib_dir;         /* NULL = $FERRY_DATADIR/lua, else the installed datadir's lua/ */
    ferry_lua_sandbox_log_fn log;
    void *log_ud;
} ferry_lua_sandbox_options;

/*
 * A new sandboxed state, its libraries set up, or NULL with err set
 * (FERRY_FATAL when out of memory or when the memory limit is too small
 * for the libraries).  The caller destroys it with ferry_lua_sandbox_destroy.
 */
ferry_lua_sandbox *ferry_lua_sandbox_create(const ferry_lua_sandbox_options *opts, ferry_error *err);

/* Close the state (finalizers run with the budget already spent) and free everything. */
void ferry_lua_sandbox_destroy(ferry_lua_sandbox *sb);

/* The state, and the sandbox a state belongs to. */
lua_State *ferry_lua_sandbox_state(ferry_lua_sandbox *sb);
ferry_lua_sandbox *ferry_lua_sandbox_of(lua_State *L);

/*
 * The directory `require` searches before the library directory (the
 * mapping script's own), copied; NULL for none.  Returns 0, or -1 when out
 * of memory.  Call ferry_lua_sandbox_reset_modules afterwards.
 */
int ferry_lua_sandbox_set_script_dir(ferry_lua_sandbox *sb, const char *dir);

/* The library directory in use (never NULL). */
const char *ferry_lua_sandbox_lib_dir(const ferry_lua_sandbox *sb);

/* Forget every cached module (built-in ones stay).  Allocates: protected mode only. */
void ferry_lua_sandbox_reset_modules(lua_State *L);

/*
 * Start a record: reset the instruction count, the deadline and the limit
 * flag, and arm the hook.  Never raises.
 */
void ferry_lua_sandbox_begin(ferry_lua_sandbox *sb);

/* Re-seed math.random with the fixed seed.  Protected mode only. */
void ferry_lua_sandbox_reseed(lua_State *L);

/*
 * Stop everything: the budget counts as spent, so any Lua code that still
 * runs (a finalizer, a caught error) is interrupted at its next instruction.
 */
void ferry_lua_sandbox_stop(ferry_lua_sandbox *sb, const char *reason);

/*
 * The reason the current record was stopped ("instruction limit of N per
 * record exceeded"), or NULL when it was not.
 */
const char *ferry_lua_sandbox_stopped(const ferry_lua_sandbox *sb);

/* Bytes the state holds now, its peak, its limit, and how often the allocator said no. */
size_t ferry_lua_sandbox_memory(const ferry_lua_sandbox *sb);
size_t ferry_lua_sandbox_memory_peak(const ferry_lua_sandbox *sb);
size_t ferry_lua_sandbox_memory_limit(const ferry_lua_sandbox *sb);
unsigned long ferry_lua_sandbox_memory_refusals(const ferry_lua_sandbox *sb);

/*
 * Raise the memory-limit error (with the script's line) from a C function
 * about to grow a buffer of `len` bytes to twice that, when the growth would
 * be refused outright; a refused allocation would end the record as a
 * memory error without a line.  Returns normally when there is room, or
 * when L is not a sandbox.  `what` names the function in the message.
 */
void ferry_lua_sandbox_check_growth(lua_State *L, const char *what, size_t len);

/* Write a byte count as "64 MiB" (whole MiB) or "1000 bytes" into buf (n bytes, always terminated). */
void ferry_lua_sandbox_memory_text(size_t bytes, char *buf, size_t n);

/* Instructions charged to the current record so far. */
long long ferry_lua_sandbox_instructions(const ferry_lua_sandbox *sb);

/*
 * Charge `cost` instruction units for work a C function does on behalf of
 * a script; raises the limit error (from a C function called by Lua) when
 * the budget or the deadline is exhausted.
 */
void ferry_lua_sandbox_charge(lua_State *L, long long cost);

/*
 * Push a fresh global environment for user code: an empty table whose
 * missing names come from the library, with _G pointing to itself and a
 * protected metatable.  With `current`, load() without an env argument
 * binds to it from now on.  Protected mode only.
 */
void ferry_lua_sandbox_push_env(lua_State *L, int current);

/*
 * Push a read-only proxy of the table at idx: reads, pairs and # pass
 * through; writes, rawset and setmetatable raise an error naming `name`.
 * Protected mode only.
 */
void ferry_lua_sandbox_push_readonly(lua_State *L, int idx, const char *name);

/*
 * Publish the table on top of the stack (popped) as library global `name`
 * through a read-only proxy, also available as require(name).  Protected
 * mode only.
 */
void ferry_lua_sandbox_expose(lua_State *L, const char *name);

/* Send a message to the sandbox's log function (or the core log). */
void ferry_lua_sandbox_log(lua_State *L, int level, const char *message);

#endif /* FERRY_LUA_SANDBOX_H */
