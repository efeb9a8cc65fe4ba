/* lua_json.c - records between Jansson and Lua without losing type (see lua_json.h). */
#include "config.h"

#include "lua_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "util.h"

/* Registry keys (their addresses) and the null sentinel (its address). */
static const char array_mt_key = 'a';
static const char object_mt_key = 'o';
static const char null_sentinel = 'n';

/* ---- paths ("lines[2].sku") ----------------------------------------------- */

typedef struct path_buf {
    char s[400];
    size_t len;
} path_buf;

/* n, or less so that text[0..n) does not end inside a UTF-8 sequence. */
static size_t utf8_boundary(const char *text, size_t n)
{
    size_t k = n;
    while (k > 0 && ((unsigned char)text[k - 1] & 0xc0u) == 0x80u) {
        k--;
    }
    if (k > 0 && (unsigned char)text[k - 1] >= 0xc0u) {
        size_t want = (unsigned char)text[k - 1] >= 0xf0u ? 4 : (unsigned char)text[k - 1] >= 0xe0u ? 3 : 2;
        if (n - (k - 1) < want) {
            return k - 1; /* the last sequence is incomplete: drop it */
        }
    }
    return n;
}

static void path_append(path_buf *p, const char *text, size_t n)
{
    size_t room = sizeof(p->s) - 1 - p->len;
    if (n > room) {
        n = utf8_boundary(text, room);
    }
    memcpy(p->s + p->len, text, n);
    p->len += n;
    p->s[p->len] = '\0';
}

static int is_ident(const char *k, size_t n)
{
    if (n == 0 || n > 64 || !((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z') || k[0] == '_')) {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        char c = k[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* Append a key segment; returns the length to restore with path_pop. */
static size_t path_push_key(path_buf *p, const char *k, size_t n)
{
    size_t old = p->len;
    if (is_ident(k, n)) {
        path_append(p, ".", 1);
        path_append(p, k, n);
    } else {
        char seg[64];
        size_t o = 0;
        seg[o++] = '[';
        seg[o++] = '"';
        size_t i = 0;
        int utf8 = ferry_lua_json_utf8_valid(k, n, NULL);
        for (; i < n && o < sizeof(seg) - 12; i++) {
            unsigned char c = (unsigned char)k[i];
            if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f || (c >= 0x80 && !utf8)) {
                o += (size_t)snprintf(seg + o, sizeof(seg) - o, "\\x%02x", c);
            } else {
                seg[o++] = (char)c;
            }
        }
        if (i < n) {
            o = 2 + utf8_boundary(seg + 2, o - 2);
            seg[o++] = '.';
            seg[o++] = '.';
            seg[o++] = '.';
        }
        seg[o++] = '"';
        seg[o++] = ']';
        path_append(p, seg, o);
    }
    return old;
}

static size_t path_push_index(path_buf *p, long long i)
{
    char seg[32];
    size_t old = p->len;
    int n = snprintf(seg, sizeof(seg), "[%lld]", i);
    path_append(p, seg, (size_t)n);
    return old;
}

static void path_pop(path_buf *p, size_t old)
{
    p->len = old;
    p->s[old] = '\0';
}

/* root + path, without a leading '.', or "(top level)". */
static void path_describe(const char *root, const path_buf *p, char *out, size_t n)
{
    const char *tail = p->s;
    if (root == NULL || root[0] == '\0') {
        if (tail[0] == '.') {
            tail++;
        }
        snprintf(out, n, "%s", tail[0] ? tail : "(top level)");
    } else {
        snprintf(out, n, "%s%s", root, tail);
    }
}

/* ---- UTF-8 ---------------------------------------------------------------- */

int ferry_lua_json_utf8_valid(const char *str, size_t len, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            need = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            need = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            need = 3;
            cp = c & 0x07u;
        } else {
            goto invalid;
        }
        if (len - i <= need) {
            goto invalid;
        }
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xc0u) != 0x80u) {
                goto invalid;
            }
            cp = (cp << 6) | (s[i + k] & 0x3fu);
        }
        if ((need == 2 && cp < 0x800) || (need == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            goto invalid;
        }
        i += need + 1;
    }
    return 1;
invalid:
    if (bad != NULL) {
        *bad = i;
    }
    return 0;
}

char *ferry_lua_json_utf8_escape(const char *s, size_t len, char *out, size_t n)
{
    size_t i = 0, o = 0;
    if (n == 0) {
        return out;
    }
    while (i < len) {
        size_t bad = 0, step;
        unsigned char c = (unsigned char)s[i];
        if (c != 0 && c < 0x80) {
            step = 1;
        } else {
            step = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
            if (c == 0 || i + step > len || !ferry_lua_json_utf8_valid(s + i, step, &bad)) {
                char esc[8];
                snprintf(esc, sizeof(esc), "\\x%02x", c);
                if (o + 4 >= n) {
                    break;
                }
                memcpy(out + o, esc, 4);
                o += 4;
                i++;
                continue;
            }
        }
        if (o + step >= n) {
            break;
        }
        memcpy(out + o, s + i, step);
        o += step;
        i += step;
    }
    out[o] = '\0';
    return out;
}

/* ---- markers and null ------------------------------------------------------ */

static int null_tostring(lua_State *L)
{
    lua_pushliteral(L, "null");
    return 1;
}

/* Indexing ferry.null says so, instead of Lua's "attempt to index a userdata value". */
static int null_index(lua_State *L)
{
    if (!ferry_lua_json_is_null(L, 1)) {
        return luaL_error(L, "attempt to index a light userdata value");
    }
    return luaL_error(L, "attempt to index ferry.null (a JSON null) with key '%s'", luaL_tolstring(L, 2, NULL));
}

static void new_marker(lua_State *L, const void *key, const char *name)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__metatable"); /* getmetatable answers the name; setmetatable refuses */
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void ferry_lua_json_open(lua_State *L)
{
    new_marker(L, &array_mt_key, "ferry.array");
    new_marker(L, &object_mt_key, "ferry.object");
    /* Every light userdata shares one metatable; ferry.null is the only one scripts see. */
    ferry_lua_json_push_null(L);
    lua_createtable(L, 0, 4);
    lua_pushliteral(L, "ferry.null");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "ferry.null");
    lua_setfield(L, -2, "__metatable");
    lua_pushcfunction(L, null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushcfunction(L, null_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

void ferry_lua_json_push_null(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&null_sentinel);
}

int ferry_lua_json_is_null(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TLIGHTUSERDATA && lua_touserdata(L, idx) == (void *)&null_sentinel;
}

int ferry_lua_json_kind(lua_State *L, int idx)
{
    int kind = FERRY_LUA_JSON_UNMARKED;
    if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 2) || !lua_getmetatable(L, idx)) {
        return kind;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);
    if (lua_rawequal(L, -1, -2)) {
        kind = FERRY_LUA_JSON_ARRAY;
    }
    lua_pop(L, 1);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &object_mt_key);
    if (lua_rawequal(L, -1, -2)) {
        kind = FERRY_LUA_JSON_OBJECT;
    }
    lua_pop(L, 2);
    return kind;
}

int ferry_lua_json_mark(lua_State *L, int idx, int kind)
{
    idx = lua_absindex(L, idx);
    if (lua_type(L, idx) != LUA_TTABLE || !lua_checkstack(L, 2)) {
        return -1;
    }
    if (ferry_lua_json_kind(L, idx) == FERRY_LUA_JSON_UNMARKED && lua_getmetatable(L, idx)) {
        lua_pop(L, 1);
        return -1; /* someone else's metatable */
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, kind == FERRY_LUA_JSON_ARRAY ? &array_mt_key : &object_mt_key);
    lua_setmetatable(L, idx);
    return 0;
}

/* ---- JSON -> Lua ----------------------------------------------------------- */

typedef struct push_state {
    path_buf path;
    const char *root;
} push_state;

static void push_value(lua_State *L, const json_t *v, int depth, push_state *ps)
{
    char where[512];
    if (!lua_checkstack(L, 4)) {
        path_describe(ps->root, &ps->path, where, sizeof(where));
        luaL_error(L, "%s: nested too deeply for the Lua stack", where);
    }
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *member;
        if (depth > FERRY_LUA_JSON_MAX_DEPTH) {
            path_describe(ps->root, &ps->path, where, sizeof(where));
            luaL_error(L, "%s: nested deeper than %d levels", where, FERRY_LUA_JSON_MAX_DEPTH);
        }
        size_t size = json_object_size(v);
        lua_createtable(L, 0, size > 1000000 ? 1000000 : (int)size);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &object_mt_key);
        lua_setmetatable(L, -2);
        json_object_foreach ((json_t *)v, key, member) {
            size_t old = path_push_key(&ps->path, key, strlen(key));
            lua_pushstring(L, key);
            push_value(L, member, depth + 1, ps);
            lua_rawset(L, -3);
            path_pop(&ps->path, old);
        }
        break;
    }
    case JSON_ARRAY: {
        if (depth > FERRY_LUA_JSON_MAX_DEPTH) {
            path_describe(ps->root, &ps->path, where, sizeof(where));
            luaL_error(L, "%s: nested deeper than %d levels", where, FERRY_LUA_JSON_MAX_DEPTH);
        }
        size_t size = json_array_size(v);
        lua_createtable(L, size > 1000000 ? 1000000 : (int)size, 0);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);
        lua_setmetatable(L, -2);
        for (size_t i = 0; i < size; i++) {
            size_t old = path_push_index(&ps->path, (long long)i + 1);
            push_value(L, json_array_get(v, i), depth + 1, ps);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
            path_pop(&ps->path, old);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
    default:
        ferry_lua_json_push_null(L);
        break;
    }
}

void ferry_lua_json_push(lua_State *L, const json_t *value, const char *root)
{
    push_state ps;
    ps.path.len = 0;
    ps.path.s[0] = '\0';
    ps.root = root;
    if (value == NULL) {
        ferry_lua_json_push_null(L);
        return;
    }
    push_value(L, value, 1, &ps);
}

/* ---- Lua -> JSON ----------------------------------------------------------- */

typedef struct conv {
    lua_State *L;
    const char *root;
    ferry_error *err;
    path_buf path;
    const void *seen[FERRY_LUA_JSON_MAX_DEPTH + 2];
    int nseen;
    long values;
    int array_mt; /* stack indices of the two marker metatables */
    int object_mt;
} conv;

static json_t *conv_fail(conv *c, const char *fmt, ...) FERRY_FMT(2, 3);
static json_t *conv_fail(conv *c, const char *fmt, ...)
{
    char where[512], why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    path_describe(c->root, &c->path, where, sizeof(where));
    /* the field member is shorter than a path can be: cut it on a character boundary */
    size_t wl = strlen(where);
    if (wl >= sizeof(c->err->field)) {
        where[utf8_boundary(where, sizeof(c->err->field) - 1)] = '\0';
    }
    ferry_error_set(c->err, FERRY_RECORD_ERROR, where, "%s: %s", where, why);
    return NULL;
}

static json_t *value_to_json(conv *c, int idx, int depth);

static int kind_of(conv *c, int idx)
{
    lua_State *L = c->L;
    int kind = FERRY_LUA_JSON_UNMARKED;
    if (lua_getmetatable(L, idx)) {
        if (lua_rawequal(L, -1, c->array_mt)) {
            kind = FERRY_LUA_JSON_ARRAY;
        } else if (lua_rawequal(L, -1, c->object_mt)) {
            kind = FERRY_LUA_JSON_OBJECT;
        }
        lua_pop(L, 1);
    }
    return kind;
}

typedef struct member {
    const char *key;
    size_t klen;
    json_t *value;
} member;

static int member_cmp(const void *a, const void *b)
{
    const member *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int r = memcmp(x->key, y->key, n);
    if (r != 0) {
        return r;
    }
    return x->klen < y->klen ? -1 : x->klen > y->klen ? 1 : 0;
}

static void describe_key(lua_State *L, int idx, char *buf, size_t n)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) {
            snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
        } else {
            snprintf(buf, n, "%.14g", (double)lua_tonumber(L, idx));
        }
    } else if (t == LUA_TBOOLEAN) {
        snprintf(buf, n, "%s", lua_toboolean(L, idx) ? "true" : "false");
    } else if (ferry_lua_json_is_null(L, idx)) {
        snprintf(buf, n, "ferry.null");
    } else {
        snprintf(buf, n, "of type %s", lua_typename(L, t));
    }
}

static json_t *array_to_json(conv *c, int idx, lua_Integer n, int depth)
{
    lua_State *L = c->L;
    json_t *arr = json_array();
    if (arr == NULL) {
        return conv_fail(c, "out of memory");
    }
    for (lua_Integer i = 1; i <= n; i++) {
        size_t old = path_push_index(&c->path, (long long)i);
        lua_rawgeti(L, idx, i);
        json_t *v = value_to_json(c, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
        if (v == NULL) {
            json_decref(arr);
            return NULL;
        }
        path_pop(&c->path, old);
        if (json_array_append_new(arr, v) != 0) {
            json_decref(arr);
            return conv_fail(c, "out of memory");
        }
    }
    return arr;
}

static json_t *object_to_json(conv *c, int idx, lua_Integer n, int depth)
{
    lua_State *L = c->L;
    member *m = calloc(n > 0 ? (size_t)n : 1, sizeof(*m));
    lua_Integer got = 0;
    json_t *obj = NULL;
    if (m == NULL) {
        return conv_fail(c, "out of memory");
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        size_t klen, bad;
        const char *k = lua_tolstring(L, -2, &klen); /* a string: checked by the caller */
        size_t old = path_push_key(&c->path, k, klen);
        if (memchr(k, '\0', klen) != NULL) {
            conv_fail(c, "object key contains a NUL byte");
            lua_pop(L, 2);
            goto fail;
        }
        if (!ferry_lua_json_utf8_valid(k, klen, &bad)) {
            conv_fail(c, "object key is not valid UTF-8 (byte %zu)", bad + 1);
            lua_pop(L, 2);
            goto fail;
        }
        json_t *v = value_to_json(c, lua_gettop(L), depth + 1);
        if (v == NULL) {
            lua_pop(L, 2);
            goto fail;
        }
        path_pop(&c->path, old);
        if (got < n) {
            m[got].key = k;
            m[got].klen = klen;
            m[got].value = v;
            got++;
        } else {
            json_decref(v); /* cannot happen: the table did not change since counting */
        }
        lua_pop(L, 1);
    }
    qsort(m, (size_t)got, sizeof(*m), member_cmp);
    obj = json_object();
    if (obj == NULL) {
        conv_fail(c, "out of memory");
        goto fail;
    }
    for (lua_Integer i = 0; i < got; i++) {
        if (json_object_set_new_nocheck(obj, m[i].key, m[i].value) != 0) {
            m[i].value = NULL;
            conv_fail(c, "out of memory");
            for (lua_Integer j = i + 1; j < got; j++) {
                json_decref(m[j].value);
            }
            json_decref(obj);
            free(m);
            return NULL;
        }
    }
    free(m);
    return obj;
fail:
    for (lua_Integer i = 0; i < got; i++) {
        json_decref(m[i].value);
    }
    json_decref(obj);
    free(m);
    return NULL;
}

static json_t *table_to_json(conv *c, int idx, int depth)
{
    lua_State *L = c->L;
    char keydesc[64] = "";
    const char *strkey = NULL;
    size_t strkeylen = 0;
    lua_Integer count = 0, nint = 0, nstr = 0, maxint = 0, badint = 0;
    int minok = 1, badtype = LUA_TNONE;

    if (depth > FERRY_LUA_JSON_MAX_DEPTH) {
        return conv_fail(c, "nested deeper than %d levels", FERRY_LUA_JSON_MAX_DEPTH);
    }
    const void *self = lua_topointer(L, idx);
    for (int i = 0; i < c->nseen; i++) {
        if (c->seen[i] == self) {
            return conv_fail(c, "cycle: this table contains itself");
        }
    }
    if (!lua_checkstack(L, 6)) {
        return conv_fail(c, "nested too deeply for the Lua stack");
    }
    int kind = kind_of(c, idx);

    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int kt = lua_type(L, -2);
        count++;
        if (kt == LUA_TSTRING) {
            if (nstr++ == 0) {
                strkey = lua_tolstring(L, -2, &strkeylen);
            }
        } else if (kt == LUA_TNUMBER && lua_isinteger(L, -2)) {
            lua_Integer k = lua_tointeger(L, -2);
            if (nint++ == 0) {
                badint = k;
            }
            if (k < 1) {
                minok = 0;
                badint = k;
            }
            if (k > maxint) {
                maxint = k;
            }
        } else if (badtype == LUA_TNONE) {
            badtype = kt;
            describe_key(L, -2, keydesc, sizeof(keydesc));
        }
        lua_pop(L, 1);
    }
    if (badtype != LUA_TNONE) {
        return conv_fail(c, "table has a key %s (JSON object keys must be strings)", keydesc);
    }

    int is_array;
    char sk[64];
    ferry_lua_json_utf8_escape(strkey != NULL ? strkey : "", strkeylen > 40 ? 40 : strkeylen, sk, 56);
    if (strkeylen > 40) {
        ferry_strlcat(sk, "...", sizeof(sk));
    }
    if (kind == FERRY_LUA_JSON_ARRAY) {
        if (nstr > 0) {
            return conv_fail(c, "array (ferry.array) has a string key \"%s\"; arrays take keys 1..n only", sk);
        }
        if (!minok || maxint != count) {
            return conv_fail(c,
                             "array (ferry.array) is sparse: %lld elements but index %lld (keys must be 1..n; "
                             "use ferry.null for an empty slot)",
                             (long long)count, (long long)(minok ? maxint : badint));
        }
        is_array = 1;
    } else if (kind == FERRY_LUA_JSON_OBJECT) {
        if (nint > 0) {
            return conv_fail(c, "object (ferry.object) has a non-string key %lld (object keys must be strings)",
                             (long long)badint);
        }
        is_array = 0;
    } else if (count == 0 || nint == 0) {
        is_array = 0;
    } else if (nstr == 0 && minok && maxint == count) {
        is_array = 1;
    } else if (nstr == 0) {
        return conv_fail(c,
                         "sparse array: %lld elements but index %lld (keys must be 1..n; use ferry.null for an "
                         "empty slot)",
                         (long long)count, (long long)(minok ? maxint : badint));
    } else {
        return conv_fail(c,
                         "table mixes integer keys (%lld) and string keys (\"%s\"); a JSON value is either an "
                         "array or an object",
                         (long long)badint, sk);
    }

    c->seen[c->nseen++] = self;
    json_t *out = is_array ? array_to_json(c, idx, count, depth) : object_to_json(c, idx, count, depth);
    c->nseen--;
    return out;
}

static json_t *value_to_json(conv *c, int idx, int depth)
{
    lua_State *L = c->L;
    if (++c->values > FERRY_LUA_JSON_MAX_VALUES) {
        return conv_fail(c, "more than %d values in one record", FERRY_LUA_JSON_MAX_VALUES);
    }
    switch (lua_type(L, idx)) {
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? json_true() : json_false();
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            return json_integer((json_int_t)lua_tointeger(L, idx));
        } else {
            double d = (double)lua_tonumber(L, idx);
            if (!isfinite(d)) {
                return conv_fail(c, "number %s is not finite (JSON has no NaN or infinity)",
                                 isnan(d) ? "nan"
                                 : d > 0  ? "inf"
                                          : "-inf");
            }
            json_t *r = json_real(d);
            return r != NULL ? r : conv_fail(c, "out of memory");
        }
    case LUA_TSTRING: {
        size_t len, bad;
        const char *s = lua_tolstring(L, idx, &len);
        if (!ferry_lua_json_utf8_valid(s, len, &bad)) {
            return conv_fail(c, "string is not valid UTF-8 (byte %zu of %zu)", bad + 1, len);
        }
        json_t *r = json_stringn_nocheck(s, len);
        return r != NULL ? r : conv_fail(c, "out of memory");
    }
    case LUA_TLIGHTUSERDATA:
        if (ferry_lua_json_is_null(L, idx)) {
            return json_null();
        }
        return conv_fail(c, "a light userdata cannot become JSON");
    case LUA_TTABLE:
        return table_to_json(c, idx, depth);
    case LUA_TNIL:
        return conv_fail(c, "value is nil (use ferry.null for JSON null)");
    default:
        return conv_fail(c, "a %s cannot become JSON", lua_typename(L, lua_type(L, idx)));
    }
}

int ferry_lua_json_to(lua_State *L, int idx, const char *root, json_t **out, ferry_error *err)
{
    conv c;
    ferry_error local;
    memset(&c, 0, sizeof(c));
    c.L = L;
    c.root = root;
    c.err = err != NULL ? err : &local;
    *out = NULL;
    idx = lua_absindex(L, idx);
    if (!lua_checkstack(L, 4)) {
        conv_fail(&c, "no Lua stack space left");
        return FERRY_RECORD_ERROR;
    }
    int top = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key);
    c.array_mt = lua_gettop(L);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &object_mt_key);
    c.object_mt = lua_gettop(L);
    *out = value_to_json(&c, idx, 1);
    lua_settop(L, top);
    return *out != NULL ? FERRY_OK : FERRY_RECORD_ERROR;
}
