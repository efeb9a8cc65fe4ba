/*
 * Unit tests of lua_json.c: JSON <-> Lua keeps every type, and every value
 * that cannot come back is refused with an error naming its field path.
 */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "lua_json.h"
#include "testing.h"

/* ---- a plain Lua state with the markers and three helpers ---------------------------- */

static int h_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_newtable(L);
    }
    lua_settop(L, 1);
    ferry_lua_json_mark(L, 1, FERRY_LUA_JSON_ARRAY);
    return 1;
}

static int h_object(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_newtable(L);
    }
    lua_settop(L, 1);
    ferry_lua_json_mark(L, 1, FERRY_LUA_JSON_OBJECT);
    return 1;
}

static int open_helpers(lua_State *L)
{
    luaL_openlibs(L);
    ferry_lua_json_open(L);
    lua_register(L, "array", h_array);
    lua_register(L, "object", h_object);
    ferry_lua_json_push_null(L);
    lua_setglobal(L, "null");
    return 0;
}

static lua_State *new_state(void)
{
    lua_State *L = luaL_newstate();
    lua_pushcfunction(L, open_helpers);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        printf("# setup failed: %s\n", lua_tostring(L, -1));
    }
    return L;
}

static int push_protected(lua_State *L)
{
    const json_t *v = lua_touserdata(L, 1);
    lua_settop(L, 0);
    ferry_lua_json_push(L, v, "record");
    return 1;
}

/* Push v in protected mode; returns the pcall status (the error message is on top on failure). */
static int push_json(lua_State *L, const json_t *v)
{
    lua_pushcfunction(L, push_protected);
    lua_pushlightuserdata(L, (void *)v);
    return lua_pcall(L, 1, 1, 0);
}

/* Run a Lua expression and convert the result; returns the status and fills *out / err. */
static int eval_to_json(lua_State *L, const char *code, json_t **out, ferry_error *err)
{
    ferry_error_clear(err);
    *out = NULL;
    if (luaL_dostring(L, code) != LUA_OK) {
        printf("# lua error: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return -99;
    }
    int rc = ferry_lua_json_to(L, -1, "", out, err);
    lua_pop(L, 1);
    return rc;
}

/* ---- a seeded generator of JSON documents --------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void add_cp(char *buf, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xc0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xe0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        buf[(*n)++] = (char)(0xf0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

/* A random valid UTF-8 string (NUL bytes only when allow_nul). */
static size_t gen_text(char *buf, int allow_nul)
{
    size_t n = 0;
    int len = (int)(rnd() % 14);
    for (int i = 0; i < len; i++) {
        unsigned cp;
        switch (rnd() % 8) {
        case 0:
            cp = (unsigned)(rnd() % 32); /* control characters */
            if (cp == 0 && !allow_nul) {
                cp = 1;
            }
            break;
        case 1:
            cp = 0x80 + (unsigned)(rnd() % 0x780); /* two bytes: å, ä, ö, é ... */
            break;
        case 2:
            cp = 0x800 + (unsigned)(rnd() % 0xd000); /* three bytes below the surrogates */
            break;
        case 3:
            cp = 0xe000 + (unsigned)(rnd() % 0x2000); /* three bytes above them */
            break;
        case 4:
            cp = 0x10000 + (unsigned)(rnd() % 0xfffff); /* four bytes: emoji and beyond */
            break;
        default:
            cp = 32 + (unsigned)(rnd() % 95); /* printable ASCII */
        }
        add_cp(buf, &n, cp);
    }
    return n;
}

static json_t *gen_value(int depth)
{
    static const json_int_t ints[] = {0,
                                      1,
                                      -1,
                                      INT64_MAX,
                                      INT64_MIN,
                                      INT64_MAX - 1,
                                      INT64_MIN + 1,
                                      9007199254740992LL,
                                      9007199254740993LL,
                                      -9007199254740993LL};
    static const double reals[] = {0.0,           -0.0,  1.0,    -1.0,   0.1,
                                   0.285,         1e308, -1e308, 5e-324, 2.2250738585072014e-308,
                                   123456789.125, 1e15,  1e16,   3.0e-5};
    char buf[64];
    int kind = (int)(rnd() % (depth >= 7 ? 6 : 9));
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(rnd() % 2);
    case 2:
        if (rnd() % 2) {
            return json_integer(ints[rnd() % (sizeof(ints) / sizeof(ints[0]))]);
        }
        return json_integer((json_int_t)rnd());
    case 3: {
        if (rnd() % 2) {
            return json_real(reals[rnd() % (sizeof(reals) / sizeof(reals[0]))]);
        }
        double d;
        do {
            uint64_t bits = rnd();
            memcpy(&d, &bits, sizeof(d));
        } while (!isfinite(d));
        return json_real(d);
    }
    case 4:
    case 5: {
        size_t n = gen_text(buf, 1);
        return json_stringn(buf, n);
    }
    case 6:
    case 7: {
        json_t *o = json_object();
        int n = (int)(rnd() % 6);
        for (int i = 0; i < n; i++) {
            size_t kn = gen_text(buf, 0);
            buf[kn] = '\0';
            json_object_set_new(o, buf, gen_value(depth + 1));
        }
        return o;
    }
    default: {
        json_t *a = json_array();
        int n = (int)(rnd() % 6);
        for (int i = 0; i < n; i++) {
            json_array_append_new(a, gen_value(depth + 1));
        }
        return a;
    }
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

TEST(json_to_lua_to_json_is_the_identity_on_5000_random_documents)
{
    lua_State *L = new_state();
    int failures = 0;
    for (int i = 0; i < 5000 && failures < 5; i++) {
        json_t *doc = gen_value(0);
        ferry_error err;
        ferry_error_clear(&err);
        json_t *back = NULL;
        if (push_json(L, doc) != LUA_OK) {
            printf("# push failed: %s\n", lua_tostring(L, -1));
            failures++;
        } else if (ferry_lua_json_to(L, -1, "", &back, &err) != FERRY_OK) {
            printf("# back failed: %s\n", err.message);
            failures++;
        } else if (!json_equal(doc, back)) {
            char *a = json_dumps(doc, JSON_ENCODE_ANY | JSON_SORT_KEYS);
            char *b = json_dumps(back, JSON_ENCODE_ANY | JSON_SORT_KEYS);
            printf("# document %d changed:\n#  in:  %s\n#  out: %s\n", i, a, b);
            free(a);
            free(b);
            failures++;
        }
        lua_settop(L, 0);
        json_decref(doc);
        json_decref(back);
    }
    CHECK_INT_EQ(failures, 0);
    CHECK_INT_EQ(lua_gettop(L), 0);
    lua_close(L);
}

TEST(types_survive_null_integers_reals_empty_containers)
{
    lua_State *L = new_state();
    json_t *doc = json_loads("{\"n\": null, \"i\": 9223372036854775807, \"neg\": -9223372036854775808,"
                             " \"r\": 1.0, \"e\": [], \"o\": {}, \"s\": \"a\\u0000b\", \"b\": false}",
                             JSON_ALLOW_NUL, NULL);
    CHECK(doc != NULL);
    CHECK_INT_EQ(push_json(L, doc), LUA_OK);
    lua_setglobal(L, "rec");
    CHECK(luaL_dostring(L, "assert(rec.n == null)\n"
                           "assert(math.type(rec.i) == 'integer' and rec.i == math.maxinteger)\n"
                           "assert(math.type(rec.neg) == 'integer' and rec.neg == math.mininteger)\n"
                           "assert(math.type(rec.r) == 'float' and rec.r == 1.0)\n"
                           "assert(getmetatable(rec.e) == 'ferry.array' and #rec.e == 0)\n"
                           "assert(getmetatable(rec.o) == 'ferry.object' and next(rec.o) == nil)\n"
                           "assert(#rec.s == 3)\n"
                           "assert(tostring(null) == 'null')\n"
                           "return rec") == LUA_OK);
    json_t *back = NULL;
    ferry_error err;
    CHECK_INT_EQ(ferry_lua_json_to(L, -1, "", &back, &err), FERRY_OK);
    CHECK(json_equal(doc, back));
    char *text = json_dumps(back, JSON_COMPACT);
    /* members come back sorted by key, whatever Lua's hash order */
    CHECK_STR_EQ(text, "{\"b\":false,\"e\":[],\"i\":9223372036854775807,\"n\":null,\"neg\":-9223372036854775808,"
                       "\"o\":{},\"r\":1.0,\"s\":\"a\\u0000b\"}");
    free(text);
    json_decref(back);
    json_decref(doc);
    lua_close(L);
}

TEST(unmarked_tables_follow_the_rules_marked_tables_keep_their_kind)
{
    lua_State *L = new_state();
    json_t *out;
    ferry_error err;
    CHECK_INT_EQ(eval_to_json(L, "return {}", &out, &err), FERRY_OK);
    CHECK(json_is_object(out) && json_object_size(out) == 0);
    json_decref(out);
    CHECK_INT_EQ(eval_to_json(L, "return array{}", &out, &err), FERRY_OK);
    CHECK(json_is_array(out) && json_array_size(out) == 0);
    json_decref(out);
    CHECK_INT_EQ(eval_to_json(L, "return {10, 20, 30}", &out, &err), FERRY_OK);
    CHECK(json_is_array(out) && json_array_size(out) == 3 && json_integer_value(json_array_get(out, 2)) == 30);
    json_decref(out);
    CHECK_INT_EQ(eval_to_json(L, "return object{}", &out, &err), FERRY_OK);
    CHECK(json_is_object(out));
    json_decref(out);
    CHECK_INT_EQ(eval_to_json(L, "return {a = 1, b = {x = null}}", &out, &err), FERRY_OK);
    CHECK(json_is_null(json_object_get(json_object_get(out, "b"), "x")));
    json_decref(out);
    /* a nil removes a key: it is not null */
    CHECK_INT_EQ(eval_to_json(L, "local t = {a = 1, b = 2}; t.b = nil; return t", &out, &err), FERRY_OK);
    CHECK(json_object_size(out) == 1 && json_object_get(out, "b") == NULL);
    json_decref(out);
    /* floats with integral values stay reals, integers stay integers, / gives a float */
    CHECK_INT_EQ(eval_to_json(L, "return {i = 6 // 2, f = 6 / 2, n = 2^53}", &out, &err), FERRY_OK);
    CHECK(json_is_integer(json_object_get(out, "i")));
    CHECK(json_is_real(json_object_get(out, "f")));
    CHECK(json_is_real(json_object_get(out, "n")));
    json_decref(out);
    /* shared (not cyclic) subtables are fine and copied */
    CHECK_INT_EQ(eval_to_json(L, "local s = {x = 1}; return {a = s, b = s}", &out, &err), FERRY_OK);
    CHECK(json_equal(json_object_get(out, "a"), json_object_get(out, "b")));
    json_decref(out);
    lua_close(L);
}

/* Each case: Lua code, the field path the error must name, a phrase it must contain. */
TEST(values_that_cannot_come_back_are_errors_naming_the_field)
{
    static const char *const cases[][3] = {
        {"return {lines = {{sku = 'A'}, {sku = 'B\\255'}}}", "lines[2].sku", "not valid UTF-8"},
        {"return {lines = {[1] = 'a', [3] = 'c'}}", "lines", "sparse"},
        {"local a = array{1, 2}; a[4] = 4; return {x = a}", "x", "sparse"},
        {"local a = array{1, 2}; a.name = 'n'; return {x = a}", "x", "string key \"name\""},
        {"return {x = {1, 2, y = 3}}", "x", "mixes integer keys"},
        {"local o = object{}; o[1] = 'a'; return {o = o}", "o", "non-string key 1"},
        {"return {x = {[true] = 1}}", "x", "key true"},
        {"return {x = {[1.5] = 1}}", "x", "key 1.5"},
        {"return {f = print}", "f", "a function cannot become JSON"},
        {"return {n = 0/0}", "n", "not finite"},
        {"return {n = math.huge}", "n", "not finite"},
        {"local t = {}; t.self = t; return {a = {b = t}}", "a.b.self", "cycle"},
        {"return {['odd key'] = {['\\0k'] = 1}}", "[\"odd key\"][\"\\x00k\"]", "NUL byte"},
        {"return {['k\\255'] = 1}", "[\"k\\xff\"]", "not valid UTF-8"},
        {"return {c = coroutine.create(print)}", "c", "thread"},
        {"local a = array{}; a['sk\\155'] = 1; return {x = a}", "x", "string key \"sk\\x9b\""},
        {NULL, NULL, NULL}};
    lua_State *L = new_state();
    for (int i = 0; cases[i][0] != NULL; i++) {
        json_t *out = NULL;
        ferry_error err;
        int rc = eval_to_json(L, cases[i][0], &out, &err);
        CHECK_MSG(rc == FERRY_RECORD_ERROR, "case %d (%s) gave %d", i, cases[i][0], rc);
        CHECK_MSG(out == NULL, "case %d returned a value", i);
        CHECK_MSG(strcmp(err.field, cases[i][1]) == 0, "case %d: field '%s', expected '%s'", i, err.field, cases[i][1]);
        CHECK_MSG(strstr(err.message, cases[i][2]) != NULL, "case %d: message '%s' lacks '%s'", i, err.message,
                  cases[i][2]);
        CHECK_MSG(strncmp(err.message, cases[i][1], strlen(cases[i][1])) == 0,
                  "case %d: message '%s' does not start with the path", i, err.message);
        CHECK_MSG(ferry_lua_json_utf8_valid(err.message, strlen(err.message), NULL), "case %d: message is not UTF-8",
                  i);
    }
    CHECK_INT_EQ(lua_gettop(L), 0);
    lua_close(L);
}

TEST(depth_is_bounded_both_ways)
{
    lua_State *L = new_state();
    /* 64 nested arrays are fine, 65 are not */
    json_t *ok = json_array(), *cur = ok;
    for (int i = 1; i < FERRY_LUA_JSON_MAX_DEPTH; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    CHECK_INT_EQ(push_json(L, ok), LUA_OK);
    json_t *back = NULL;
    ferry_error err;
    CHECK_INT_EQ(ferry_lua_json_to(L, -1, "", &back, &err), FERRY_OK);
    CHECK(json_equal(ok, back));
    json_decref(back);
    lua_settop(L, 0);
    json_array_append_new(cur, json_array());
    CHECK(push_json(L, ok) != LUA_OK);
    CHECK_STR_CONTAINS(lua_tostring(L, -1), "record[1][1]");
    CHECK_STR_CONTAINS(lua_tostring(L, -1), "nested deeper than 64 levels");
    lua_settop(L, 0);
    json_decref(ok);

    CHECK_INT_EQ(eval_to_json(L, "local t = {} for i = 1, 100 do t = {t} end return {deep = t}", &back, &err),
                 FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "nested deeper than 64 levels");
    CHECK_STR_CONTAINS(err.field, "deep[1][1][1]");
    lua_close(L);
}

TEST(a_shared_subtable_bomb_is_refused_not_expanded)
{
    lua_State *L = new_state();
    json_t *out = NULL;
    ferry_error err;
    /* 2^40 leaves if expanded; the value budget stops it */
    int rc = eval_to_json(L, "local t = {1} for i = 1, 40 do t = {t, t} end return {bomb = t}", &out, &err);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "more than 1000000 values");
    CHECK(out == NULL);
    lua_close(L);
}

TEST(markers_are_protected_and_can_be_switched)
{
    lua_State *L = new_state();
    CHECK(luaL_dostring(L, "local a = array{}\n"
                           "assert(getmetatable(a) == 'ferry.array')\n"
                           "local ok, e = pcall(setmetatable, a, {})\n"
                           "assert(not ok and e:find('protected metatable'))\n"
                           "object(a)\n"
                           "assert(getmetatable(a) == 'ferry.object')\n") == LUA_OK);
    /* a table with a foreign metatable cannot be marked */
    CHECK(luaL_dostring(L, "return setmetatable({}, {})") == LUA_OK);
    CHECK_INT_EQ(ferry_lua_json_mark(L, -1, FERRY_LUA_JSON_ARRAY), -1);
    CHECK_INT_EQ(ferry_lua_json_kind(L, -1), FERRY_LUA_JSON_UNMARKED);
    lua_close(L);
}

TEST(utf8_escape_makes_any_bytes_valid_text)
{
    char out[32];
    CHECK_STR_EQ(ferry_lua_json_utf8_escape("a\xff"
                                            "b\xc3\xa5",
                                            5, out, sizeof(out)),
                 "a\\xff"
                 "b\xc3\xa5");
    CHECK_STR_EQ(ferry_lua_json_utf8_escape("x\0y", 3, out, sizeof(out)), "x\\x00y");
    CHECK_STR_EQ(ferry_lua_json_utf8_escape("\xe2\x82", 2, out, sizeof(out)), "\\xe2\\x82");
    /* cut on a character boundary, never inside å */
    CHECK_STR_EQ(ferry_lua_json_utf8_escape("ab\xc3\xa5", 4, out, 4), "ab");
    CHECK(ferry_lua_json_utf8_valid(out, strlen(out), NULL));
}

TEST(utf8_validation_matches_the_standard)
{
    static const struct {
        const char *s;
        size_t len;
        int ok;
        size_t bad;
    } cases[] = {{"plain", 5, 1, 0},
                 {"\xc3\xa5\xc3\xa4\xc3\xb6", 6, 1, 0}, /* åäö */
                 {"\xf0\x9f\x98\x80", 4, 1, 0},         /* emoji */
                 {"a\xc0\xafz", 4, 0, 1},               /* overlong '/' */
                 {"\xed\xa0\x80", 3, 0, 0},             /* a surrogate */
                 {"\xf4\x90\x80\x80", 4, 0, 0},         /* past U+10FFFF */
                 {"ab\xc3", 3, 0, 2},                   /* cut short */
                 {"\xe2\x82", 2, 0, 0},                 /* cut short */
                 {"\x80", 1, 0, 0},                     /* a lone continuation byte */
                 {"\xef\xbf\xbf", 3, 1, 0}};            /* U+FFFF is allowed */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t bad = 99;
        int ok = ferry_lua_json_utf8_valid(cases[i].s, cases[i].len, &bad);
        CHECK_MSG(ok == cases[i].ok, "case %zu", i);
        if (!cases[i].ok) {
            CHECK_MSG(bad == cases[i].bad, "case %zu: bad at %zu, expected %zu", i, bad, cases[i].bad);
        }
    }
}

int main(void)
{
    RUN_TEST(json_to_lua_to_json_is_the_identity_on_5000_random_documents);
    RUN_TEST(types_survive_null_integers_reals_empty_containers);
    RUN_TEST(unmarked_tables_follow_the_rules_marked_tables_keep_their_kind);
    RUN_TEST(values_that_cannot_come_back_are_errors_naming_the_field);
    RUN_TEST(depth_is_bounded_both_ways);
    RUN_TEST(a_shared_subtable_bomb_is_refused_not_expanded);
    RUN_TEST(markers_are_protected_and_can_be_switched);
    RUN_TEST(utf8_validation_matches_the_standard);
    RUN_TEST(utf8_escape_makes_any_bytes_valid_text);
    TEST_MAIN_END();
}
