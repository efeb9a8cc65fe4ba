/* lua_runtime.c - loading mapping scripts and mapping records (see lua_runtime.h). */
#include "config.h"

#include "lua_runtime.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "error.h"
#include "log.h"
#include "lua_ferrylib.h"
#include "lua_json.h"
#include "lua_sandbox.h"
#include "util.h"

struct ferry_lua {
    ferry_lua_sandbox *sb;
    lua_State *L;
    ferry_lua_host host;
    char *flow;
    char *script;  /* the script's name as errors show it */
    int chunk_ref; /* the compiled script in the registry */
    int loaded;
    ferry_lua_log_fn log;
    void *log_ud;
    /* filled by the message handler */
    char where[256];
    int line;
    char traceback[4096];
};

/* ---- logging ---------------------------------------------------------------------------- */

static void runtime_log(void *ud, int level, const char *message)
{
    ferry_lua *rt = ud;
    if (rt->log != NULL) {
        rt->log(rt->log_ud, level, message);
    } else {
        ferry_log(level, rt->flow != NULL ? rt->flow : "mapping", "%s", message);
    }
}

/* ---- errors ------------------------------------------------------------------------------ */

/*
 * The message handler: remember the innermost Lua position and a traceback;
 * the signal objects of ferry.skip/fail pass through untouched, anything
 * else becomes a string.
 */
static int message_handler(lua_State *L)
{
    ferry_lua *rt = lua_touserdata(L, lua_upvalueindex(1));
    lua_Debug ar;
    rt->where[0] = '\0';
    rt->line = 0;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            ferry_strlcpy(rt->where, ar.source[0] == '@' ? ar.source + 1 : ar.short_src, sizeof(rt->where));
            rt->line = ar.currentline;
            break;
        }
    }
    if (ferry_lua_ferrylib_is_signal(L, 1)) {
        lua_settop(L, 1);
        return 1;
    }
    const char *msg = lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER
                          ? lua_tostring(L, 1)
                          : lua_pushfstring(L, "error object is a %s value", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    ferry_strlcpy(rt->traceback, lua_tostring(L, -1), sizeof(rt->traceback));
    lua_pop(L, 1);
    lua_pushstring(L, msg);
    return 1;
}

/*
 * Split "file:NN: text" into its parts; returns 1 when msg starts with a
 * position.  file is copied into where (size n).
 */
static int split_position(const char *msg, char *where, size_t n, int *line, const char **text)
{
    for (const char *p = msg; *p != '\0' && *p != '\n' && p - msg < 300; p++) {
        if (*p != ':' || p == msg || p[1] < '0' || p[1] > '9') {
            continue;
        }
        const char *q = p + 1;
        long v = 0;
        while (*q >= '0' && *q <= '9' && v < 100000000) {
            v = v * 10 + (*q++ - '0');
        }
        if (*q == ':') {
            size_t len = (size_t)(p - msg);
            if (len >= n) {
                len = n - 1;
            }
            memcpy(where, msg, len);
            where[len] = '\0';
            *line = (int)v;
            *text = q[1] == ' ' ? q + 2 : q + 1;
            return 1;
        }
    }
    return 0;
}

/*
 * Fill err from a Lua error message: "file:line: message" (the position
 * added from the innermost Lua frame when the message has none), where and
 * line.  Only the first line of the message is kept.
 */
static int error_from_message(ferry_lua *rt, int status, const char *raw, ferry_error *err)
{
    char first[1024], where[256];
    const char *text = NULL;
    int line = 0;
    size_t n = strcspn(raw, "\n");
    if (n >= sizeof(first)) {
        n = sizeof(first) - 1;
    }
    memcpy(first, raw, n);
    first[n] = '\0';
    if (split_position(first, where, sizeof(where), &line, &text)) {
        /* coroutine.wrap adds the position again: "f.lua:3: f.lua:3: message" -> once */
        size_t plen = (size_t)(text - first);
        while (strncmp(text, first, plen) == 0 && strlen(text) > plen) {
            memmove(first, text, strlen(text) + 1);
            text = first + plen;
        }
        /* prefer the untruncated path of the frame that raised, when it is the same place */
        const char *full = rt->where;
        size_t wl = strlen(where), fl = strlen(full);
        int same = fl > 0 && (strcmp(where, full) == 0 || (wl > 3 && strncmp(where, "...", 3) == 0 && fl >= wl - 3 &&
                                                           strcmp(full + fl - (wl - 3), where + 3) == 0));
        ferry_error_at(err, status, same ? full : where, line, "%s", first);
    } else if (rt->where[0] != '\0') {
        ferry_error_at(err, status, rt->where, rt->line, "%s:%d: %s", rt->where, rt->line, first);
    } else {
        ferry_error_at(err, status, rt->script, 0, "%s: %s", rt->script ? rt->script : "mapping", first);
    }
    (void)text;
    return status;
}

/*
 * Turn a failed lua_pcall (status, error object on top) into err with the
 * given status class.
 */
static int error_from_pcall(ferry_lua *rt, int rc, int status, ferry_error *err)
{
    lua_State *L = rt->L;
    const char *stopped = ferry_lua_sandbox_stopped(rt->sb);
    const char *msg = lua_tostring(L, -1);
    if (stopped != NULL) {
        /* the budget or the deadline: the message may have been swallowed and replaced by the script */
        if (msg != NULL && strstr(msg, stopped) != NULL) {
            return error_from_message(rt, status, msg, err);
        }
        const char *where = rt->where[0] ? rt->where : rt->script;
        if (rt->line > 0) {
            ferry_error_at(err, status, where, rt->line, "%s:%d: %s", where, rt->line, stopped);
        } else {
            ferry_error_at(err, status, where, 0, "%s: %s", where, stopped);
        }
        return status;
    }
    if (rc == LUA_ERRMEM ||
        (msg != NULL && strcmp(msg, "not enough memory") == 0 && ferry_lua_sandbox_memory_refusals(rt->sb) > 0)) {
        char lim[64];
        ferry_lua_sandbox_memory_text(ferry_lua_sandbox_memory_limit(rt->sb), lim, sizeof(lim));
        ferry_error_at(err, status, rt->script, 0, "%s: memory limit of %s exceeded", rt->script, lim);
        return status;
    }
    if (msg == NULL) {
        msg = "unknown error";
    }
    return error_from_message(rt, status, msg, err);
}

/* Make every text of err valid UTF-8: Lua strings are bytes, and errors end up in JSON (events, dead letters). */
static void sanitize_error(ferry_error *err)
{
    char tmp[sizeof(err->message)];
    ferry_lua_json_utf8_escape(err->message, strlen(err->message), tmp, sizeof(err->message));
    memcpy(err->message, tmp, strlen(tmp) + 1);
    ferry_lua_json_utf8_escape(err->where, strlen(err->where), tmp, sizeof(err->where));
    memcpy(err->where, tmp, strlen(tmp) + 1);
    ferry_lua_json_utf8_escape(err->field, strlen(err->field), tmp, sizeof(err->field));
    memcpy(err->field, tmp, strlen(tmp) + 1);
    ferry_lua_json_utf8_escape(err->record, strlen(err->record), tmp, sizeof(err->record));
    memcpy(err->record, tmp, strlen(tmp) + 1);
}

/* ---- create / destroy --------------------------------------------------------------------- */

static int open_ferry(lua_State *L)
{
    ferry_lua *rt = lua_touserdata(L, 1);
    ferry_lua_ferrylib_open(L, &rt->host);
    return 0;
}

ferry_lua *ferry_lua_create(const ferry_lua_options *opts, ferry_error *err)
{
    ferry_lua_options none;
    ferry_lua_sandbox_options so;
    memset(&none, 0, sizeof(none));
    if (opts == NULL) {
        opts = &none;
    }
    ferry_lua *rt = calloc(1, sizeof(*rt));
    if (rt == NULL || (opts->flow != NULL && (rt->flow = ferry_strdup(opts->flow)) == NULL)) {
        free(rt);
        ferry_error_set(err, FERRY_FATAL, NULL, "out of memory creating the Lua runtime");
        return NULL;
    }
    rt->chunk_ref = LUA_NOREF;
    rt->log = opts->log;
    rt->log_ud = opts->log_ud;
    rt->host.settings = opts->settings;
    rt->host.value_maps = opts->value_maps;
    memset(&so, 0, sizeof(so));
    so.memory_limit = opts->memory_limit;
    so.instruction_limit = opts->instruction_limit;
    so.time_limit_ms = opts->time_limit_ms;
    so.lib_dir = opts->lib_dir;
    so.log = runtime_log;
    so.log_ud = rt;
    rt->sb = ferry_lua_sandbox_create(&so, err);
    if (rt->sb == NULL) {
        free(rt->flow);
        free(rt);
        return NULL;
    }
    rt->L = ferry_lua_sandbox_state(rt->sb);
    lua_pushcfunction(rt->L, open_ferry);
    lua_pushlightuserdata(rt->L, rt);
    int rc = lua_pcall(rt->L, 1, 0, 0);
    if (rc != LUA_OK) {
        ferry_error_set(err, FERRY_FATAL, NULL, "cannot set up the ferry library: %s",
                        rc == LUA_ERRMEM ? "memory limit too small" : lua_tostring(rt->L, -1));
        ferry_lua_destroy(rt);
        return NULL;
    }
    return rt;
}

void ferry_lua_destroy(ferry_lua *lua)
{
    if (lua == NULL) {
        return;
    }
    ferry_lua_sandbox_destroy(lua->sb);
    free(lua->flow);
    free(lua->script);
    free(lua);
}

/* ---- load ------------------------------------------------------------------------------------ */

typedef struct load_args {
    ferry_lua *rt;
    const char *source;
    size_t len;
} load_args;

/*
 * Run the compiled script's top level in a fresh environment (pushed, and
 * current for load()); leaves the environment on the stack and returns its
 * index.
 */
static int run_top_level(lua_State *L, ferry_lua *rt)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, rt->chunk_ref);
    int chunk = lua_gettop(L);
    ferry_lua_sandbox_push_env(L, 1);
    int env = lua_gettop(L);
    lua_pushvalue(L, env);
    if (lua_setupvalue(L, chunk, 1) == NULL) { /* the first upvalue of a main chunk is _ENV */
        lua_pop(L, 1);
    }
    lua_pushvalue(L, chunk);
    lua_call(L, 0, 0);
    lua_remove(L, chunk);
    return env - 1;
}

static int do_load(lua_State *L)
{
    load_args *a = lua_touserdata(L, 1);
    ferry_lua *rt = a->rt;
    lua_settop(L, 0);
    ferry_lua_sandbox_reset_modules(L);
    ferry_lua_sandbox_reseed(L);
    lua_pushfstring(L, "@%s", rt->script);
    if (luaL_loadbufferx(L, a->source, a->len, lua_tostring(L, -1), "t") != LUA_OK) {
        return lua_error(L);
    }
    luaL_unref(L, LUA_REGISTRYINDEX, rt->chunk_ref);
    rt->chunk_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    int env = run_top_level(L, rt);
    lua_pushliteral(L, "map");
    if (lua_rawget(L, env) != LUA_TFUNCTION) {
        return luaL_error(L, "the script does not define a function map(record, ctx) (map is %s)",
                          luaL_typename(L, -1));
    }
    return 0;
}

int ferry_lua_load_buffer(ferry_lua *lua, const char *name, const char *source, size_t len, const char *script_dir,
                          ferry_error *err)
{
    ferry_error local;
    if (err == NULL) {
        err = &local;
    }
    char *copy = ferry_strdup(name != NULL ? name : "mapping");
    if (copy == NULL || ferry_lua_sandbox_set_script_dir(lua->sb, script_dir) != 0) {
        free(copy);
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory loading a mapping");
    }
    free(lua->script);
    lua->script = copy;
    lua->loaded = 0;
    lua->traceback[0] = '\0';
    lua->where[0] = '\0';
    lua->line = 0;

    load_args a = {lua, source, len};
    lua_State *L = lua->L;
    ferry_lua_ferrylib_begin(&lua->host, 0);
    ferry_lua_sandbox_begin(lua->sb);
    lua_settop(L, 0);
    lua_pushlightuserdata(L, lua);
    lua_pushcclosure(L, message_handler, 1);
    lua_pushcfunction(L, do_load);
    lua_pushlightuserdata(L, &a);
    int rc = lua_pcall(L, 1, 0, 1);
    int status = FERRY_OK;
    if (rc != LUA_OK) {
        status = error_from_pcall(lua, rc, FERRY_CONFIG_ERROR, err);
        ferry_error_context(err, lua->flow, NULL);
        sanitize_error(err);
        lua_gc(L, LUA_GCCOLLECT);
    } else {
        lua->loaded = 1;
    }
    lua_settop(L, 0);
    return status;
}

int ferry_lua_load(ferry_lua *lua, const char *script_path, ferry_error *err)
{
    ferry_error local;
    struct stat st;
    if (err == NULL) {
        err = &local;
    }
    if (stat(script_path, &st) != 0) {
        ferry_error_at(err, FERRY_CONFIG_ERROR, script_path, 0, "%s: cannot read the mapping: %s", script_path,
                       strerror(errno));
        ferry_error_context(err, lua->flow, NULL);
        return FERRY_CONFIG_ERROR;
    }
    if (!S_ISREG(st.st_mode) || (unsigned long long)st.st_size > FERRY_LUA_MAX_SOURCE) {
        ferry_error_at(err, FERRY_CONFIG_ERROR, script_path, 0, "%s: not a regular file of at most %u bytes",
                       script_path, (unsigned)FERRY_LUA_MAX_SOURCE);
        ferry_error_context(err, lua->flow, NULL);
        return FERRY_CONFIG_ERROR;
    }
    FILE *f = fopen(script_path, "rb");
    size_t size = (size_t)st.st_size;
    char *src = malloc(size > 0 ? size : 1);
    if (f == NULL || src == NULL) {
        int e = errno;
        if (f != NULL) {
            fclose(f);
        }
        free(src);
        ferry_error_at(err, FERRY_CONFIG_ERROR, script_path, 0, "%s: cannot read the mapping: %s", script_path,
                       strerror(e));
        ferry_error_context(err, lua->flow, NULL);
        return FERRY_CONFIG_ERROR;
    }
    size_t got = size > 0 ? fread(src, 1, size, f) : 0;
    int bad = ferror(f) || got != size;
    fclose(f);
    if (bad) {
        free(src);
        ferry_error_at(err, FERRY_CONFIG_ERROR, script_path, 0, "%s: cannot read the mapping", script_path);
        ferry_error_context(err, lua->flow, NULL);
        return FERRY_CONFIG_ERROR;
    }
    /* the script's directory, for require */
    char dir[1024];
    const char *slash = strrchr(script_path, '/');
    if (slash == NULL) {
        ferry_strlcpy(dir, ".", sizeof(dir));
    } else if (slash == script_path) {
        ferry_strlcpy(dir, "/", sizeof(dir));
    } else {
        size_t n = (size_t)(slash - script_path);
        if (n >= sizeof(dir)) {
            n = sizeof(dir) - 1;
        }
        memcpy(dir, script_path, n);
        dir[n] = '\0';
    }
    int rc = ferry_lua_load_buffer(lua, script_path, src, size, dir, err);
    free(src);
    return rc;
}

/* ---- map --------------------------------------------------------------------------------------- */

typedef struct map_args {
    ferry_lua *rt;
    const json_t *record;
    const json_t *ctx;
} map_args;

static int do_map(lua_State *L)
{
    map_args *a = lua_touserdata(L, 1);
    lua_settop(L, 0);
    ferry_lua_sandbox_reseed(L);
    int env = run_top_level(L, a->rt);
    lua_pushliteral(L, "map");
    if (lua_rawget(L, env) != LUA_TFUNCTION) {
        return luaL_error(L, "%s: the top level no longer defines a function map(record, ctx)", a->rt->script);
    }
    ferry_lua_json_push(L, a->record, "record");
    if (a->ctx != NULL) {
        ferry_lua_json_push(L, a->ctx, "ctx");
    } else {
        lua_newtable(L);
        ferry_lua_json_mark(L, -1, FERRY_LUA_JSON_OBJECT);
    }
    lua_call(L, 2, 1);
    return 1;
}

/* The record's key as text, for error messages. */
static void record_key(const json_t *record, char *buf, size_t n)
{
    const json_t *k = json_object_get(record, "key");
    buf[0] = '\0';
    if (json_is_string(k)) {
        ferry_strlcpy(buf, json_string_value(k), n);
    } else if (json_is_integer(k)) {
        snprintf(buf, n, "%lld", (long long)json_integer_value(k));
    }
}

/* Convert what map() returned (on top of the stack) into result->records. */
static int collect_result(ferry_lua *rt, ferry_lua_result *result, ferry_error *err)
{
    lua_State *L = rt->L;
    json_t *out = NULL;
    int t = lua_type(L, -1);
    if (t == LUA_TNIL || t == LUA_TNONE) {
        return ferry_error_at(err, FERRY_RECORD_ERROR, rt->script, 0,
                              "%s: map() returned nothing; return a record or a list of records, or call "
                              "ferry.skip(reason) to skip this one",
                              rt->script);
    }
    if (t != LUA_TTABLE) {
        return ferry_error_at(err, FERRY_RECORD_ERROR, rt->script, 0,
                              "%s: map() returned a %s; return a record (a table) or a list of records", rt->script,
                              luaL_typename(L, -1));
    }
    if (ferry_lua_json_to(L, -1, "", &out, err) != FERRY_OK) {
        char msg[sizeof(err->message)];
        ferry_strlcpy(msg, err->message, sizeof(msg));
        ferry_error_at(err, FERRY_RECORD_ERROR, rt->script, 0, "%s: map() result: %s", rt->script, msg);
        return FERRY_RECORD_ERROR;
    }
    if (json_is_object(out)) {
        result->records = json_array();
        if (result->records == NULL || json_array_append_new(result->records, out) != 0) {
            json_decref(result->records);
            result->records = NULL;
            return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
        }
        return FERRY_OK;
    }
    /* a list of records */
    if (json_array_size(out) == 0) {
        json_decref(out);
        return ferry_error_at(err, FERRY_RECORD_ERROR, rt->script, 0,
                              "%s: map() returned an empty list; call ferry.skip(reason) to skip a record", rt->script);
    }
    for (size_t i = 0; i < json_array_size(out); i++) {
        json_t *r = json_array_get(out, i);
        if (!json_is_object(r)) {
            char field[32];
            snprintf(field, sizeof(field), "[%zu]", i + 1);
            json_decref(out);
            ferry_error_at(err, FERRY_RECORD_ERROR, rt->script, 0,
                           "%s: map() result: %s: a record in the returned list must be a table with named "
                           "fields (a JSON object)",
                           rt->script, field);
            ferry_strlcpy(err->field, field, sizeof(err->field));
            return FERRY_RECORD_ERROR;
        }
    }
    result->records = out;
    return FERRY_OK;
}

int ferry_lua_map(ferry_lua *lua, const json_t *record, const json_t *ctx, ferry_lua_result *result, ferry_error *err)
{
    ferry_error local;
    char key[128];
    int status;
    if (err == NULL) {
        err = &local;
    }
    memset(result, 0, sizeof(*result));
    if (!lua->loaded) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no mapping script is loaded");
    }
    if (!json_is_object(record)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, NULL, "the record to map is not a JSON object");
    }
    record_key(record, key, sizeof(key));

    lua_State *L = lua->L;
    map_args a = {lua, record, ctx};
    lua->traceback[0] = '\0';
    lua->where[0] = '\0';
    lua->line = 0;
    ferry_lua_ferrylib_begin(&lua->host, 1);
    ferry_lua_sandbox_begin(lua->sb);
    lua_settop(L, 0);
    lua_pushlightuserdata(L, lua);
    lua_pushcclosure(L, message_handler, 1);
    lua_pushcfunction(L, do_map);
    lua_pushlightuserdata(L, &a);
    int rc = lua_pcall(L, 1, 1, 1);
    const ferry_lua_host *h = &lua->host;

    if (h->fail_requested) {
        /* ferry.fail wins, even when the script caught it */
        const char *where = h->fail_where[0] ? h->fail_where : lua->script;
        if (h->fail_line > 0) {
            ferry_error_at(err, FERRY_RECORD_ERROR, where, h->fail_line, "%s:%d: %s", where, h->fail_line,
                           h->fail_message);
        } else {
            ferry_error_at(err, FERRY_RECORD_ERROR, where, 0, "%s: %s", where, h->fail_message);
        }
        status = FERRY_RECORD_ERROR;
    } else if (ferry_lua_sandbox_stopped(lua->sb) != NULL || (rc != LUA_OK && !ferry_lua_ferrylib_is_signal(L, -1))) {
        status = error_from_pcall(lua, rc, FERRY_RECORD_ERROR, err);
    } else if (h->skip_requested) {
        result->records = json_array();
        result->skipped = 1;
        ferry_lua_json_utf8_escape(h->skip_reason, strlen(h->skip_reason), result->skip_reason,
                                   sizeof(result->skip_reason));
        status = result->records != NULL ? FERRY_OK : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    } else if (rc != LUA_OK) {
        /* a signal object with neither flag set cannot happen; be safe */
        status = error_from_pcall(lua, rc, FERRY_RECORD_ERROR, err);
    } else {
        status = collect_result(lua, result, err);
    }
    lua->host.in_record = 0;
    lua_settop(L, 0);
    if (status != FERRY_OK) {
        ferry_error_context(err, lua->flow, key[0] ? key : NULL);
        sanitize_error(err);
        lua_gc(L, LUA_GCCOLLECT); /* give back what a failed record left */
    }
    return status;
}

void ferry_lua_result_clear(ferry_lua_result *result)
{
    if (result == NULL) {
        return;
    }
    json_decref(result->records);
    memset(result, 0, sizeof(*result));
}

const char *ferry_lua_traceback(const ferry_lua *lua)
{
    return lua->traceback;
}

void ferry_lua_get_stats(const ferry_lua *lua, ferry_lua_stats *stats)
{
    stats->memory_used = ferry_lua_sandbox_memory(lua->sb);
    stats->memory_peak = ferry_lua_sandbox_memory_peak(lua->sb);
    stats->memory_limit = ferry_lua_sandbox_memory_limit(lua->sb);
    stats->instructions = ferry_lua_sandbox_instructions(lua->sb);
}
