/* lua_sandbox.c - the sandboxed Lua state behind mappings (see lua_sandbox.h). */
#include "config.h"

#include "lua_sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lualib.h>

#include "log.h"
#include "lua_json.h"
#include "lua_pattern.h"
#include "util.h"

#ifndef FERRY_DATADIR
#define FERRY_DATADIR "/usr/local/share/ferry"
#endif

/* The hook fires every HOOK_STEP instructions while a record runs. */
#define HOOK_STEP 1000
#define RANDOM_SEED 0x5eed

struct ferry_lua_sandbox {
    lua_State *L;
    size_t mem_used;
    size_t mem_peak;
    size_t mem_limit;
    size_t mem_reserve; /* allocations may pass mem_limit by this much until the hook stops the record */
    int mem_check;      /* the state grew past mem_limit: the next instruction collects and checks */
    unsigned long mem_refusals;
    long long instr_limit;
    long long instr_used;
    long long time_limit_ms;
    long long deadline_ms;
    int stopped;
    char stop_reason[160];
    char stop_where[200]; /* "file:line: " where the record was stopped first, or "" */
    char *lib_dir;
    char *script_dir;
    ferry_lua_sandbox_log_fn log;
    void *log_ud;
    ferry_buf warning; /* a Lua warning being assembled */
};

/* Registry keys: the addresses of these. */
static const char lib_key = 'l';      /* the library table (what globals fall back to) */
static const char env_mt_key = 'e';   /* the metatable of every environment */
static const char cur_env_key = 'c';  /* the current record's environment */
static const char loaded_key = 'm';   /* module name -> value */
static const char builtin_key = 'b';  /* built-in module name -> value */
static const char readonly_key = 'r'; /* weak set of read-only proxies */
static const char seed_key = 's';     /* the real math.randomseed */
static const char loading = 'x';      /* sentinel: a module being loaded */

/* ---- allocator ---------------------------------------------------------------- */

static void count_hook(lua_State *L, lua_Debug *ar);

/*
 * The memory cap has two edges.  Growing past mem_limit succeeds but makes the
 * next instruction run count_hook, which collects garbage and, if the state is
 * still over the limit, stops the record with the script's file and line (an
 * allocator cannot raise a Lua error, and Lua's own out-of-memory error carries
 * no position).  Growing past mem_limit + mem_reserve is refused at once: one
 * huge allocation still fails, as "not enough memory" without a line (string.rep,
 * string.gsub and table.concat check before they grow, and name the line).  lua_sethook is safe here: the manual
 * allows it even from a signal handler.
 */
static void *sandbox_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    ferry_lua_sandbox *sb = ud;
    size_t old = ptr != NULL ? osize : 0;
    size_t cap = sb->mem_limit + sb->mem_reserve;
    if (nsize == 0) {
        free(ptr);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && (nsize - old > cap || sb->mem_used + (nsize - old) > cap)) {
        sb->mem_refusals++;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p == NULL) {
        sb->mem_refusals++;
        return NULL;
    }
    sb->mem_used = sb->mem_used - old + nsize;
    if (sb->mem_used > sb->mem_peak) {
        sb->mem_peak = sb->mem_used;
    }
    if (sb->mem_used > sb->mem_limit && !sb->mem_check && sb->L != NULL) {
        sb->mem_check = 1;
        lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, 1);
    }
    return p;
}

void ferry_lua_sandbox_check_growth(lua_State *L, const char *what, size_t len)
{
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    if (sb == NULL || len <= (sb->mem_limit + sb->mem_reserve) / 4) {
        return;
    }
    size_t cap = sb->mem_limit + sb->mem_reserve;
    if (len > cap / 2 || sb->mem_used + len > cap - len) {
        char lim[64];
        ferry_lua_sandbox_memory_text(sb->mem_limit, lim, sizeof(lim));
        luaL_error(L, "%s: the result (%I bytes or more) would exceed the memory limit of %s", what, (lua_Integer)len,
                   lim);
    }
}

void ferry_lua_sandbox_memory_text(size_t bytes, char *buf, size_t n)
{
    if (bytes % (1024 * 1024) == 0) {
        snprintf(buf, n, "%zu MiB", bytes / (1024 * 1024));
    } else {
        snprintf(buf, n, "%zu bytes", bytes);
    }
}

ferry_lua_sandbox *ferry_lua_sandbox_of(lua_State *L)
{
    void *ud = NULL;
    lua_Alloc f = lua_getallocf(L, &ud);
    return f == sandbox_alloc ? ud : NULL; /* NULL for a state that is not a sandbox */
}

/* ---- limits ----------------------------------------------------------------- */

/* Write "file:line: " of the innermost Lua function running into buf, or "". */
static void where_text(lua_State *L, char *buf, size_t n)
{
    lua_Debug ar;
    buf[0] = '\0';
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(buf, n, "%s:%d: ", ar.short_src, ar.currentline);
            return;
        }
    }
}

/* Raise the stop as an error at the place the record was first stopped (a pcall that caught it
 * only moves the next raise to its own line). */
static int raise_stopped(lua_State *L, ferry_lua_sandbox *sb)
{
    char where[200];
    if (sb->stop_where[0] == '\0') {
        where_text(L, where, sizeof(where));
    }
    lua_pushfstring(L, "%s%s", sb->stop_where[0] ? sb->stop_where : where, sb->stop_reason);
    return lua_error(L);
}

static void stop(ferry_lua_sandbox *sb, lua_State *L, const char *reason)
{
    if (!sb->stopped) {
        sb->stopped = 1;
        ferry_strlcpy(sb->stop_reason, reason, sizeof(sb->stop_reason));
        sb->stop_where[0] = '\0';
        if (L != NULL) {
            where_text(L, sb->stop_where, sizeof(sb->stop_where));
        }
    }
    /* From now on every instruction of every thread we know raises again. */
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, 1);
    if (L != NULL && L != sb->L) {
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    }
}

/* Charge and check; returns 1 when the record must stop. */
static int over_budget(ferry_lua_sandbox *sb, lua_State *L, long long cost)
{
    char why[160];
    if (sb->stopped) {
        return 1;
    }
    if (cost > 0) {
        sb->instr_used = cost > LLONG_MAX - sb->instr_used ? LLONG_MAX : sb->instr_used + cost;
    }
    if (sb->instr_used > sb->instr_limit) {
        snprintf(why, sizeof(why), "instruction limit of %lld per record exceeded (endless loop?)", sb->instr_limit);
        stop(sb, L, why);
        return 1;
    }
    if (sb->deadline_ms > 0 && ferry_monotonic_ms() > sb->deadline_ms) {
        snprintf(why, sizeof(why), "time limit of %lld ms per record exceeded", sb->time_limit_ms);
        stop(sb, L, why);
        return 1;
    }
    return 0;
}

/* The state grew past its memory limit (sandbox_alloc): collect, and stop the record if it still is. */
static int over_memory(ferry_lua_sandbox *sb, lua_State *L)
{
    char why[160], lim[64];
    sb->mem_check = 0;
    if (sb->mem_used > sb->mem_limit) {
        lua_gc(L, LUA_GCCOLLECT);
    }
    if (sb->mem_used > sb->mem_limit) {
        ferry_lua_sandbox_memory_text(sb->mem_limit, lim, sizeof(lim));
        snprintf(why, sizeof(why), "memory limit of %s exceeded", lim);
        stop(sb, L, why);
        return 1;
    }
    if (!sb->stopped) {
        lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
    }
    return 0;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    if (sb == NULL) {
        return;
    }
    if ((sb->mem_check && over_memory(sb, L)) || over_budget(sb, L, lua_gethookcount(L))) {
        raise_stopped(L, sb);
    }
}

void ferry_lua_sandbox_charge(lua_State *L, long long cost)
{
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    if (sb != NULL && over_budget(sb, L, cost)) {
        raise_stopped(L, sb);
    }
}

void ferry_lua_sandbox_begin(ferry_lua_sandbox *sb)
{
    if (sb->mem_used > sb->mem_limit) {
        lua_gc(sb->L, LUA_GCCOLLECT); /* the last record's garbage must not stop this one */
    }
    sb->mem_check = 0;
    sb->stopped = 0;
    sb->stop_where[0] = '\0';
    sb->stop_reason[0] = '\0';
    sb->instr_used = 0;
    sb->deadline_ms = sb->time_limit_ms > 0 ? ferry_monotonic_ms() + sb->time_limit_ms : 0;
    lua_sethook(sb->L, count_hook, LUA_MASKCOUNT, HOOK_STEP);
}

void ferry_lua_sandbox_stop(ferry_lua_sandbox *sb, const char *reason)
{
    stop(sb, NULL, reason != NULL ? reason : "stopped");
}

const char *ferry_lua_sandbox_stopped(const ferry_lua_sandbox *sb)
{
    return sb->stopped ? sb->stop_reason : NULL;
}

size_t ferry_lua_sandbox_memory(const ferry_lua_sandbox *sb)
{
    return sb->mem_used;
}

size_t ferry_lua_sandbox_memory_peak(const ferry_lua_sandbox *sb)
{
    return sb->mem_peak;
}

size_t ferry_lua_sandbox_memory_limit(const ferry_lua_sandbox *sb)
{
    return sb->mem_limit;
}

unsigned long ferry_lua_sandbox_memory_refusals(const ferry_lua_sandbox *sb)
{
    return sb->mem_refusals;
}

long long ferry_lua_sandbox_instructions(const ferry_lua_sandbox *sb)
{
    return sb->instr_used;
}

lua_State *ferry_lua_sandbox_state(ferry_lua_sandbox *sb)
{
    return sb->L;
}

const char *ferry_lua_sandbox_lib_dir(const ferry_lua_sandbox *sb)
{
    return sb->lib_dir;
}

/* ---- logging ---------------------------------------------------------------- */

void ferry_lua_sandbox_log(lua_State *L, int level, const char *message)
{
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    if (sb != NULL && sb->log != NULL) {
        sb->log(sb->log_ud, level, message);
    } else {
        ferry_log(level, "lua", "%s", message);
    }
}

/* Lua warnings (errors in __gc, for example) go to the log as warnings. */
static void sandbox_warn(void *ud, const char *msg, int tocont)
{
    ferry_lua_sandbox *sb = ud;
    if (sb->warning.len == 0 && !tocont && msg[0] == '@') {
        return; /* control message */
    }
    if (sb->warning.len < 4096) {
        ferry_buf_puts(&sb->warning, msg);
    }
    if (!tocont) {
        if (sb->log != NULL) {
            sb->log(sb->log_ud, FERRY_LOG_WARN, sb->warning.data ? sb->warning.data : "");
        } else {
            ferry_log(FERRY_LOG_WARN, "lua", "%s", sb->warning.data ? sb->warning.data : "");
        }
        ferry_buf_free(&sb->warning);
    }
}

/* ---- read-only proxies ------------------------------------------------------ */

static int readonly_newindex(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    const char *key = lua_type(L, 2) == LUA_TSTRING || lua_type(L, 2) == LUA_TNUMBER ? luaL_tolstring(L, 2, NULL)
                                                                                     : luaL_typename(L, 2);
    return luaL_error(L, "attempt to modify read-only table '%s' (field '%s')", name, key);
}

static int readonly_next(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_next(L, lua_upvalueindex(1)) != 0) {
        return 2;
    }
    lua_pushnil(L);
    return 1;
}

static int readonly_pairs(lua_State *L)
{
    /* The iterator hides the real table in its upvalue. */
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, readonly_next, 1);
    lua_pushnil(L);
    lua_pushnil(L);
    return 3;
}

static int readonly_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

void ferry_lua_sandbox_push_readonly(lua_State *L, int idx, const char *name)
{
    idx = lua_absindex(L, idx);
    lua_createtable(L, 0, 0); /* the proxy */
    lua_createtable(L, 0, 5); /* its metatable */
    lua_pushvalue(L, idx);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, readonly_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, readonly_pairs, 1);
    lua_setfield(L, -2, "__pairs");
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, readonly_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushliteral(L, "ferry.readonly");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    /* remember it, so rawset can refuse it */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &readonly_key);
    lua_pushvalue(L, -2);
    lua_pushstring(L, name);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

static const char *readonly_name(lua_State *L, int idx)
{
    const char *name = NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &readonly_key);
    lua_pushvalue(L, idx);
    lua_rawget(L, -2);
    name = lua_tostring(L, -1); /* anchored in the registry's weak table while the proxy lives */
    lua_pop(L, 2);
    return name;
}

/* ---- base functions ---------------------------------------------------------- */

static int sandbox_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    const char *name = readonly_name(L, 1);
    if (name != NULL) {
        return luaL_error(L, "rawset: table '%s' is read-only", name);
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sandbox_print(lua_State *L)
{
    luaL_Buffer b;
    int n = lua_gettop(L);
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        size_t len;
        const char *s = luaL_tolstring(L, i, &len);
        if (i > 1) {
            luaL_addchar(&b, '\t');
        }
        luaL_addvalue(&b);
        (void)s;
    }
    luaL_pushresult(&b);
    ferry_lua_sandbox_log(L, FERRY_LOG_INFO, lua_tostring(L, -1));
    return 0;
}

static int sandbox_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0) {
        return luaL_error(L, "collectgarbage('%s') is not available in the ferry sandbox (only 'count' is)", opt);
    }
    int kb = lua_gc(L, LUA_GCCOUNT);
    int rest = lua_gc(L, LUA_GCCOUNTB);
    lua_pushnumber(L, (lua_Number)kb + (lua_Number)rest / 1024.0);
    return 1;
}

/* load(chunk [, chunkname [, mode [, env]]]): text only, bound to the sandbox environment. */
static int sandbox_load(lua_State *L)
{
    lua_settop(L, 4);
    if (!lua_isnil(L, 4) && !lua_istable(L, 4)) {
        return luaL_argerror(L, 4, "env must be a table");
    }
    lua_pushvalue(L, lua_upvalueindex(1)); /* the real load */
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushliteral(L, "t"); /* never binary chunks, whatever mode asked for */
    if (lua_istable(L, 4)) {
        lua_pushvalue(L, 4);
    } else {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &cur_env_key);
        if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            ferry_lua_sandbox_push_env(L, 1);
        }
    }
    lua_call(L, 4, LUA_MULTRET);
    return lua_gettop(L) - 4;
}

/* __index of the library and of os: removed names raise instead of answering nil. */
static int removed_index(lua_State *L)
{
    static const char *const removed[] = {"dofile",  "loadfile",  "loadstring", "io",      "debug",
                                          "package", "module",    "setfenv",    "getfenv", "newproxy",
                                          "execute", "getenv",    "exit",       "remove",  "rename",
                                          "tmpname", "setlocale", "randomseed", NULL};
    const char *prefix = lua_tostring(L, lua_upvalueindex(1));
    if (lua_type(L, 2) == LUA_TSTRING) {
        const char *k = lua_tostring(L, 2);
        for (int i = 0; removed[i] != NULL; i++) {
            if (strcmp(k, removed[i]) == 0) {
                return luaL_error(L, "%s%s is not available in the ferry sandbox", prefix, k);
            }
        }
    }
    return 0;
}

static void set_removed_index(lua_State *L, int idx, const char *prefix)
{
    idx = lua_absindex(L, idx);
    lua_createtable(L, 0, 2);
    lua_pushstring(L, prefix);
    lua_pushcclosure(L, removed_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "ferry.library");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, idx);
}

/* ---- table functions that charge for their loops ------------------------------ */

static lua_Integer checked_len(lua_State *L, int idx)
{
    lua_Integer n = luaL_len(L, idx);
    return n < 0 ? 0 : n;
}

static int sandbox_tinsert(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer e = checked_len(L, 1);
    if (e == LUA_MAXINTEGER) {
        return luaL_error(L, "table.insert: table too long");
    }
    e++; /* first empty slot */
    lua_Integer pos;
    switch (lua_gettop(L)) {
    case 2:
        pos = e;
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, pos >= 1 && pos <= e, 2, "position out of bounds");
        ferry_lua_sandbox_charge(L, e - pos);
        for (lua_Integer i = e; i > pos; i--) {
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

static int sandbox_tremove(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer size = checked_len(L, 1);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size) {
        luaL_argcheck(L, pos >= 1 && pos <= size + 1, 2, "position out of bounds");
    }
    lua_geti(L, 1, pos);
    if (pos < size) {
        ferry_lua_sandbox_charge(L, size - pos);
    }
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

static int sandbox_tmove(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int tt = !lua_isnoneornil(L, 5) ? 5 : 1;
    luaL_checktype(L, tt, LUA_TTABLE);
    if (e >= f) {
        luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
        lua_Integer n = e - f + 1;
        luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
        ferry_lua_sandbox_charge(L, n);
        if (t > e || t <= f || (tt != 1 && !lua_rawequal(L, 1, tt))) {
            for (lua_Integer i = 0; i < n; i++) {
                lua_geti(L, 1, f + i);
                lua_seti(L, tt, t + i);
            }
        } else {
            for (lua_Integer i = n - 1; i >= 0; i--) {
                lua_geti(L, 1, f + i);
                lua_seti(L, tt, t + i);
            }
        }
    }
    lua_pushvalue(L, tt);
    return 1;
}

/*
 * table.concat(t [, sep [, i [, j]]]): charges j - i + 1, adds up the length
 * of the result (so one that would outgrow the memory limit stops with the
 * script's line, not as a bare out-of-memory), then calls the real one with
 * explicit bounds.
 */
static int sandbox_tconcat(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    size_t lsep = 0;
    luaL_optlstring(L, 2, "", &lsep);
    lua_Integer i = luaL_optinteger(L, 3, 1);
    lua_Integer j = lua_isnoneornil(L, 4) ? checked_len(L, 1) : luaL_checkinteger(L, 4);
    if (j >= i) {
        lua_Unsigned span = (lua_Unsigned)j - (lua_Unsigned)i;
        ferry_lua_sandbox_charge(L, span >= (lua_Unsigned)LLONG_MAX ? LLONG_MAX : (long long)span + 1);
        size_t total = 0;
        for (lua_Integer k = i;; k++) {
            size_t l = 0;
            int t = lua_rawgeti(L, 1, k);
            if (t == LUA_TSTRING) {
                lua_tolstring(L, -1, &l);
            } else if (t == LUA_TNUMBER) {
                l = 24; /* as long as "%.14g" or a 64-bit integer gets */
            }
            lua_pop(L, 1);
            total = total > SIZE_MAX - l - lsep ? SIZE_MAX : total + l + lsep;
            if (k == j) {
                break;
            }
        }
        ferry_lua_sandbox_check_growth(L, "table.concat", total);
    }
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_pushinteger(L, i);
    lua_pushinteger(L, j);
    lua_call(L, 4, 1);
    return 1;
}

/* table.sort: plain tables only (no metamethods that could lie about the length), charged n*log2(n). */
static int sandbox_tsort(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getmetatable(L, 1)) {
        int meta = 0;
        static const char *const events[] = {"__index", "__newindex", "__len"};
        for (int i = 0; i < 3; i++) {
            lua_pushstring(L, events[i]);
            meta |= lua_rawget(L, -2) != LUA_TNIL;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
        if (meta) {
            return luaL_error(L, "table.sort: tables with __index, __newindex or __len are not supported in the "
                                 "ferry sandbox");
        }
    }
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    lua_Integer cost = n;
    for (lua_Integer k = n; k > 1; k >>= 1) {
        cost += n;
    }
    ferry_lua_sandbox_charge(L, cost);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
}

/* string.rep: an empty result is returned at once (the real one would loop n times doing nothing). */
static int sandbox_srep(lua_State *L)
{
    size_t l, lsep = 0;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    if (sb != NULL && (lua_Unsigned)n > (lua_Unsigned)(sb->mem_limit / (l + lsep))) {
        return luaL_error(L, "string.rep: the result (%I copies of %d bytes) would exceed the memory limit of %d bytes",
                          n, (int)(l + lsep), (int)(sb->mem_limit > INT_MAX ? INT_MAX : sb->mem_limit));
    }
    ferry_lua_sandbox_charge(L, n / 1024);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* setmetatable refuses __gc: a finalizer would run during some later record, on that record's budget. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) {
            return luaL_error(L, "setmetatable: __gc is not available in the ferry sandbox (a finalizer would run "
                                 "during another record)");
        }
        lua_pop(L, 1);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/*
 * xpcall: the message handler runs with hooks off when the error was raised
 * by the hook itself (Lua calls it from inside the hook), so once the
 * record is stopped the script's handler is skipped and the error passes
 * through unchanged.
 */
static int guarded_handler(lua_State *L)
{
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    if (sb != NULL && sb->stopped) {
        lua_settop(L, 1);
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

static int xpcall_finish(lua_State *L, int status, lua_KContext base)
{
    if (status != LUA_OK && status != LUA_YIELD) {
        lua_pushboolean(L, 0);
        lua_insert(L, -2); /* false, error */
        return 2;
    }
    return lua_gettop(L) - (int)base; /* true and the results */
}

static int sandbox_xpcall(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 2);
    lua_pushcclosure(L, guarded_handler, 1);
    lua_replace(L, 2);
    lua_pushboolean(L, 1);
    lua_pushvalue(L, 1);
    for (int i = 3; i <= n; i++) {
        lua_pushvalue(L, i);
    }
    int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, n, xpcall_finish);
    return xpcall_finish(L, status, n);
}

static void wrap_field(lua_State *L, int table, const char *name, lua_CFunction fn)
{
    table = lua_absindex(L, table);
    lua_getfield(L, table, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, table, name);
}

/* ---- environments and require ------------------------------------------------ */

void ferry_lua_sandbox_push_env(lua_State *L, int current)
{
    lua_createtable(L, 0, 4);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &env_mt_key);
    lua_setmetatable(L, -2);
    if (current) {
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &cur_env_key);
    }
}

void ferry_lua_sandbox_reset_modules(lua_State *L)
{
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &loaded_key);
}

void ferry_lua_sandbox_expose(lua_State *L, const char *name)
{
    ferry_lua_sandbox_push_readonly(L, -1, name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &lib_key);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &builtin_key);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 3);
}

static int valid_module_name(const char *name, size_t len)
{
    if (len == 0 || len > 128 || name[0] == '.' || name[len - 1] == '.' || strstr(name, "..") != NULL) {
        return 0;
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.')) {
            return 0;
        }
    }
    return 1;
}

/*
 * Read a module file into a Lua-owned buffer and compile it (text only).
 * Returns 1 with the function pushed, 0 when the file does not exist;
 * raises on any other failure.
 */
static int load_module_file(lua_State *L, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) {
            return 0;
        }
        return luaL_error(L, "require: cannot read %s: %s", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) {
        return luaL_error(L, "require: %s is not a regular file", path);
    }
    if ((unsigned long long)st.st_size > FERRY_LUA_MAX_SOURCE) {
        return luaL_error(L, "require: %s is larger than %u bytes", path, (unsigned)FERRY_LUA_MAX_SOURCE);
    }
    size_t size = (size_t)st.st_size;
    char *buf = lua_newuserdatauv(L, size > 0 ? size : 1, 0); /* Lua owns it: nothing leaks if we raise */
    lua_pushfstring(L, "@%s", path);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return luaL_error(L, "require: cannot open %s: %s", path, strerror(errno));
    }
    size_t got = size > 0 ? fread(buf, 1, size, f) : 0;
    int failed = ferror(f);
    fclose(f);
    if (failed || got != size) {
        return luaL_error(L, "require: cannot read %s", path);
    }
    if (luaL_loadbufferx(L, buf, size, lua_tostring(L, -1), "t") != LUA_OK) {
        return lua_error(L);
    }
    lua_replace(L, -3); /* function over the buffer; drop the chunk name */
    lua_pop(L, 1);
    return 1;
}

static int sandbox_require(lua_State *L)
{
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    ferry_lua_sandbox *sb = ferry_lua_sandbox_of(L);
    lua_settop(L, 1);

    lua_rawgetp(L, LUA_REGISTRYINDEX, &builtin_key); /* 2 */
    if (lua_getfield(L, 2, name) != LUA_TNIL) {
        return 1;
    }
    lua_pop(L, 1);
    if (!valid_module_name(name, len)) {
        return luaL_error(L,
                          "require: module name '%s' is not allowed (letters, digits, '_' and '.' only; no "
                          "paths)",
                          name);
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &loaded_key); /* 3 */
    lua_getfield(L, 3, name);
    if (lua_touserdata(L, -1) == (void *)&loading) {
        return luaL_error(L, "require: module '%s' requires itself (circular require)", name);
    }
    if (!lua_isnil(L, -1)) {
        return 1;
    }
    lua_pop(L, 1);

    /* dots become directory separators */
    char rel[160];
    ferry_strlcpy(rel, name, sizeof(rel));
    for (char *p = rel; *p; p++) {
        if (*p == '.') {
            *p = '/';
        }
    }
    const char *dirs[2] = {sb->script_dir, sb->lib_dir};
    int found = 0;
    for (int i = 0; i < 2 && !found; i++) {
        if (dirs[i] == NULL || dirs[i][0] == '\0') {
            continue;
        }
        lua_pushfstring(L, "%s/%s.lua", dirs[i], rel); /* 4: path */
        found = load_module_file(L, lua_tostring(L, -1));
        if (!found) {
            lua_pop(L, 1);
        }
    }
    if (!found) {
        return luaL_error(L, "require: module '%s' not found (looked for %s.lua in %s%s%s)", name, rel,
                          sb->script_dir ? sb->script_dir : "", sb->script_dir ? " and " : "", sb->lib_dir);
    }
    /* stack: name, builtin, loaded, path, function */
    ferry_lua_sandbox_push_env(L, 0); /* a module keeps its own globals */
    if (lua_setupvalue(L, 5, 1) == NULL) {
        lua_pop(L, 1);
    }
    lua_pushlightuserdata(L, (void *)&loading);
    lua_setfield(L, 3, name);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 4);
    if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
        lua_pushnil(L);
        lua_setfield(L, 3, name);
        return lua_error(L); /* rethrow as it came */
    }
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 3, name);
    return 1;
}

/* ---- setup --------------------------------------------------------------------- */

void ferry_lua_sandbox_reseed(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &seed_key);
    if (lua_isfunction(L, -1)) {
        lua_pushinteger(L, RANDOM_SEED);
        lua_call(L, 1, 0);
    } else {
        lua_pop(L, 1);
    }
}

/* Open a standard library and leave its table on the stack. */
static void open_std(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 0);
}

static int setup(lua_State *L)
{
    static const char *const base_names[] = {
        "assert", "error",  "getmetatable", "ipairs",   "next",     "pairs", "pcall",  "rawequal", "rawget",
        "rawlen", "select", "setmetatable", "tonumber", "tostring", "type",  "xpcall", "_VERSION", NULL};
    luaL_checkversion(L);
    ferry_lua_json_open(L);

    /* registry tables */
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &builtin_key);
    ferry_lua_sandbox_reset_modules(L);
    lua_newtable(L); /* weak-keyed set of read-only proxies */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &readonly_key);

    /* the library table */
    lua_newtable(L);
    int lib = lua_gettop(L);
    lua_pushvalue(L, lib);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &lib_key);
    set_removed_index(L, lib, "");

    /* environments: missing names come from the library; the metatable is hidden */
    lua_createtable(L, 0, 2);
    lua_pushvalue(L, lib);
    lua_setfield(L, -2, "__index");
    lua_pushliteral(L, "ferry.env");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &env_mt_key);

    /* base */
    open_std(L, LUA_GNAME, luaopen_base);
    int g = lua_gettop(L);
    for (int i = 0; base_names[i] != NULL; i++) {
        lua_getfield(L, g, base_names[i]);
        lua_setfield(L, lib, base_names[i]);
    }
    lua_getfield(L, g, "load");
    lua_pushcclosure(L, sandbox_load, 1);
    lua_setfield(L, lib, "load");
    lua_pushcfunction(L, sandbox_rawset);
    lua_setfield(L, lib, "rawset");
    lua_pushcfunction(L, sandbox_xpcall);
    lua_setfield(L, lib, "xpcall");
    wrap_field(L, lib, "setmetatable", sandbox_setmetatable);
    lua_pushcfunction(L, sandbox_print);
    lua_setfield(L, lib, "print");
    lua_pushcfunction(L, sandbox_collectgarbage);
    lua_setfield(L, lib, "collectgarbage");
    lua_pushcfunction(L, sandbox_require);
    lua_setfield(L, lib, "require");
    /* empty the real globals table: nothing should reach it, and now nothing is there */
    lua_pushnil(L);
    while (lua_next(L, g) != 0) {
        lua_pop(L, 1);
        lua_pushvalue(L, -1);
        lua_pushnil(L);
        lua_rawset(L, g);
    }
    lua_pop(L, 1);

    /* string: guarded functions, a protected metatable */
    open_std(L, LUA_STRLIBNAME, luaopen_string);
    wrap_field(L, -1, "rep", sandbox_srep);
    ferry_lua_pattern_install(L, lua_gettop(L));
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushliteral(L, "ferry.string");
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    ferry_lua_sandbox_expose(L, "string");

    /* table: loops charge the budget */
    open_std(L, LUA_TABLIBNAME, luaopen_table);
    lua_pushcfunction(L, sandbox_tinsert);
    lua_setfield(L, -2, "insert");
    lua_pushcfunction(L, sandbox_tremove);
    lua_setfield(L, -2, "remove");
    lua_pushcfunction(L, sandbox_tmove);
    lua_setfield(L, -2, "move");
    wrap_field(L, -1, "concat", sandbox_tconcat);
    wrap_field(L, -1, "sort", sandbox_tsort);
    ferry_lua_sandbox_expose(L, "table");

    /* math: deterministic random, no randomseed */
    open_std(L, LUA_MATHLIBNAME, luaopen_math);
    lua_getfield(L, -1, "randomseed");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &seed_key);
    lua_pushnil(L);
    lua_setfield(L, -2, "randomseed");
    set_removed_index(L, -1, "math.");
    ferry_lua_sandbox_expose(L, "math");
    ferry_lua_sandbox_reseed(L);

    open_std(L, LUA_UTF8LIBNAME, luaopen_utf8);
    ferry_lua_sandbox_expose(L, "utf8");

    open_std(L, LUA_COLIBNAME, luaopen_coroutine);
    ferry_lua_sandbox_expose(L, "coroutine");

    /* os: time, date, clock, difftime only */
    open_std(L, LUA_OSLIBNAME, luaopen_os);
    lua_createtable(L, 0, 4);
    static const char *const os_names[] = {"time", "date", "clock", "difftime", NULL};
    for (int i = 0; os_names[i] != NULL; i++) {
        lua_getfield(L, -2, os_names[i]);
        lua_setfield(L, -2, os_names[i]);
    }
    set_removed_index(L, -1, "os.");
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, LUA_OSLIBNAME); /* tracebacks name os.date, and the full os is gone */
    lua_pop(L, 1);
    lua_remove(L, -2);
    ferry_lua_sandbox_expose(L, "os");

    lua_pop(L, 1); /* lib */
    return 0;
}

static char *default_lib_dir(void)
{
    const char *env = getenv("FERRY_DATADIR");
    if (env != NULL && env[0] != '\0') {
        return ferry_asprintf("%s/lua", env);
    }
    return ferry_asprintf("%s/lua", FERRY_DATADIR);
}

ferry_lua_sandbox *ferry_lua_sandbox_create(const ferry_lua_sandbox_options *opts, ferry_error *err)
{
    ferry_lua_sandbox_options none;
    memset(&none, 0, sizeof(none));
    if (opts == NULL) {
        opts = &none;
    }
    ferry_lua_sandbox *sb = calloc(1, sizeof(*sb));
    if (sb == NULL) {
        ferry_error_set(err, FERRY_FATAL, NULL, "out of memory creating the Lua sandbox");
        return NULL;
    }
    sb->mem_limit = opts->memory_limit > 0 ? opts->memory_limit : FERRY_LUA_DEFAULT_MEMORY;
    sb->mem_reserve = sb->mem_limit / 16; /* room for the instructions before the hook runs */
    sb->instr_limit = opts->instruction_limit > 0 ? opts->instruction_limit : FERRY_LUA_DEFAULT_INSTRUCTIONS;
    sb->time_limit_ms = opts->time_limit_ms == 0 ? FERRY_LUA_DEFAULT_TIME_MS : opts->time_limit_ms;
    sb->log = opts->log;
    sb->log_ud = opts->log_ud;
    sb->lib_dir = opts->lib_dir != NULL ? ferry_strdup(opts->lib_dir) : default_lib_dir();
    if (sb->lib_dir == NULL) {
        free(sb);
        ferry_error_set(err, FERRY_FATAL, NULL, "out of memory creating the Lua sandbox");
        return NULL;
    }
    sb->L = lua_newstate(sandbox_alloc, sb);
    if (sb->L == NULL) {
        ferry_error_set(err, FERRY_FATAL, NULL, "cannot create a Lua state within the memory limit of %zu bytes",
                        sb->mem_limit);
        free(sb->lib_dir);
        free(sb);
        return NULL;
    }
    lua_setwarnf(sb->L, sandbox_warn, sb);
    lua_pushcfunction(sb->L, setup);
    int rc = lua_pcall(sb->L, 0, 0, 0);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(sb->L, -1);
        ferry_error_set(err, FERRY_FATAL, NULL, "cannot set up the Lua sandbox: %s%s",
                        rc == LUA_ERRMEM ? "memory limit too small: " : "", msg ? msg : "unknown error");
        ferry_lua_sandbox_destroy(sb);
        return NULL;
    }
    ferry_lua_sandbox_begin(sb);
    return sb;
}

void ferry_lua_sandbox_destroy(ferry_lua_sandbox *sb)
{
    if (sb == NULL) {
        return;
    }
    if (sb->L != NULL) {
        /* finalizers left by scripts run now: stop them at their first instruction */
        ferry_lua_sandbox_stop(sb, "the Lua state is closing");
        lua_close(sb->L);
    }
    ferry_buf_free(&sb->warning);
    free(sb->lib_dir);
    free(sb->script_dir);
    free(sb);
}

int ferry_lua_sandbox_set_script_dir(ferry_lua_sandbox *sb, const char *dir)
{
    char *copy = NULL;
    if (dir != NULL && (copy = ferry_strdup(dir)) == NULL) {
        return -1;
    }
    free(sb->script_dir);
    sb->script_dir = copy;
    return 0;
}
