/*
 * fuzz_lua_json.c - libFuzzer target for the JSON <-> Lua conversion (lua_json.c).
 *
 * The first byte picks a mode:
 *   even: the rest is JSON text.  When Jansson accepts it, JSON -> Lua -> JSON
 *         must give back an equal document, or refuse only because it nests
 *         deeper than FERRY_LUA_JSON_MAX_DEPTH.
 *   odd:  the rest is a little program that builds a Lua value (integers,
 *         floats including NaN, byte strings including invalid UTF-8, tables
 *         with any keys, markers, null, shared subtables and cycles).
 *         Converting it to JSON must either fail with a field path or give a
 *         document that survives JSON -> Lua -> JSON unchanged.
 * Any crash, sanitizer report, leak or abort() is a finding.
 * Build and run: doc/fuzzing.md.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static lua_State *L;

static int open_state(lua_State *l)
{
    ferry_lua_json_open(l);
    return 0;
}

static int push_doc(lua_State *l)
{
    const json_t *doc = lua_touserdata(l, 1);
    lua_settop(l, 0);
    ferry_lua_json_push(l, doc, "doc");
    return 1;
}

/* JSON -> Lua in protected mode; returns 1 with the value on top, 0 with the message on top. */
static int to_lua(const json_t *doc)
{
    lua_pushcfunction(L, push_doc);
    lua_pushlightuserdata(L, (void *)doc);
    return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

/* The round trip of a document that must come back unchanged. */
static void round_trip(const json_t *doc, int allow_depth_error)
{
    int top = lua_gettop(L);
    if (!to_lua(doc)) {
        const char *msg = lua_tostring(L, -1);
        if (!allow_depth_error || msg == NULL || strstr(msg, "nested deeper than") == NULL) {
            fprintf(stderr, "push failed: %s\n", msg ? msg : "?");
            abort();
        }
        lua_settop(L, top);
        return;
    }
    json_t *back = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_lua_json_to(L, -1, "", &back, &err) != FERRY_OK) {
        fprintf(stderr, "back failed: %s\n", err.message);
        abort();
    }
    if (!json_equal(doc, back)) {
        fprintf(stderr, "round trip changed the document\n");
        abort();
    }
    json_decref(back);
    lua_settop(L, top);
}

/* ---- the value-building program ----------------------------------------------------------- */

typedef struct prog {
    const uint8_t *p;
    size_t n;
} prog;

static int take(prog *g, void *out, size_t k)
{
    if (g->n < k) {
        return 0;
    }
    memcpy(out, g->p, k);
    g->p += k;
    g->n -= k;
    return 1;
}

static int build(lua_State *l)
{
    prog *g = lua_touserdata(l, 1);
    lua_settop(l, 0);
    uint8_t op;
    int steps = 0;
    while (take(g, &op, 1) && steps++ < 4096) {
        int top = lua_gettop(l);
        if (top > 200) {
            lua_settop(l, 1);
            top = 1;
        }
        luaL_checkstack(l, 4, "fuzz program"); /* a C function owns only LUA_MINSTACK slots */
        switch (op % 13) {
        case 0: {
            int64_t v = 0;
            take(g, &v, sizeof(v));
            lua_pushinteger(l, (lua_Integer)v);
            break;
        }
        case 1: {
            double d = 0;
            take(g, &d, sizeof(d));
            lua_pushnumber(l, (lua_Number)d);
            break;
        }
        case 2: {
            uint8_t len = 0;
            char buf[256];
            take(g, &len, 1);
            size_t got = len <= g->n ? len : g->n;
            take(g, buf, got);
            lua_pushlstring(l, buf, got);
            break;
        }
        case 3:
            lua_newtable(l);
            break;
        case 4: /* t[k] = v with t, k, v on top */
            if (top >= 3 && lua_istable(l, -3) && !lua_isnil(l, -2) &&
                !(lua_type(l, -2) == LUA_TNUMBER && lua_tonumber(l, -2) != lua_tonumber(l, -2))) {
                lua_rawset(l, -3);
            }
            break;
        case 5: { /* t[i] = v with t, v on top */
            int8_t i = 0;
            take(g, &i, 1);
            if (top >= 2 && lua_istable(l, -2)) {
                lua_rawseti(l, -2, i);
            }
            break;
        }
        case 6:
            if (top >= 1) {
                ferry_lua_json_mark(l, -1, FERRY_LUA_JSON_ARRAY);
            }
            break;
        case 7:
            if (top >= 1) {
                ferry_lua_json_mark(l, -1, FERRY_LUA_JSON_OBJECT);
            }
            break;
        case 8:
            ferry_lua_json_push_null(l);
            break;
        case 9:
            lua_pushboolean(l, op & 0x80);
            break;
        case 10: { /* copy a value from deeper in the stack: shared subtables and cycles */
            uint8_t k = 0;
            take(g, &k, 1);
            if (top >= 1) {
                lua_pushvalue(l, 1 + k % top);
            }
            break;
        }
        case 11:
            lua_pushcfunction(l, open_state);
            break;
        case 12:
            if (top >= 2) {
                lua_pop(l, 1);
            }
            break;
        }
    }
    if (lua_gettop(l) == 0) {
        lua_pushnil(l);
    }
    lua_settop(l, 1);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static unsigned long runs;
    if (L == NULL) {
        L = luaL_newstate();
        lua_pushcfunction(L, open_state);
        if (L == NULL || lua_pcall(L, 0, 0, 0) != LUA_OK) {
            abort();
        }
    }
    if (size == 0) {
        return 0;
    }
    lua_settop(L, 0);
    if ((data[0] & 1) == 0) {
        json_error_t e;
        json_t *doc = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (doc != NULL) {
            round_trip(doc, 1);
            json_decref(doc);
        }
    } else {
        prog g = {data + 1, size - 1};
        lua_pushcfunction(L, build);
        lua_pushlightuserdata(L, &g);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
            json_t *out = NULL;
            ferry_error err;
            ferry_error_clear(&err);
            if (ferry_lua_json_to(L, -1, "", &out, &err) == FERRY_OK) {
                round_trip(out, 0);
                json_decref(out);
            } else if (err.message[0] == '\0' || err.field[0] == '\0' ||
                       !ferry_lua_json_utf8_valid(err.message, strlen(err.message), NULL) ||
                       !ferry_lua_json_utf8_valid(err.field, strlen(err.field), NULL)) {
                fprintf(stderr, "a refusal must name a field in valid UTF-8: '%s' '%s'\n", err.field, err.message);
                abort();
            }
        }
    }
    lua_settop(L, 0);
    if (++runs % 4096 == 0) {
        lua_gc(L, LUA_GCCOLLECT);
    }
    return 0;
}
