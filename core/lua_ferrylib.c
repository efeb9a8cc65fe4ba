/* lua_ferrylib.c - the `ferry` library for mapping scripts (see lua_ferrylib.h). */
#define _GNU_SOURCE 1 /* memmem (glibc declares it only for _GNU_SOURCE) */
#include "config.h"

#include "lua_ferrylib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include <ferry/version.h>

#include "log.h"
#include "lua_json.h"
#include "lua_sandbox.h"
#include "money.h"
#include "util.h"

static const char signal_mt_key = 's';
static const char box_mt_key = 'b';

static ferry_lua_host *host_of(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Charge linear work on n bytes to the record's budget. */
static void charge_bytes(lua_State *L, size_t n)
{
    if (n >= 256) {
        ferry_lua_sandbox_charge(L, (long long)(n / 64));
    }
}

/* ---- boxes: malloc'd things the GC frees if a Lua error unwinds past us ------------ */

typedef struct box {
    json_t *json;
    char *text;
} box;

static int box_gc(lua_State *L)
{
    box *b = lua_touserdata(L, 1);
    json_decref(b->json);
    free(b->text);
    b->json = NULL;
    b->text = NULL;
    return 0;
}

static box *push_box(lua_State *L)
{
    box *b = lua_newuserdatauv(L, sizeof(*b), 0);
    b->json = NULL;
    b->text = NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &box_mt_key);
    lua_setmetatable(L, -2);
    return b;
}

/* ---- skip and fail ------------------------------------------------------------------ */

static int signal_tostring(lua_State *L)
{
    lua_getfield(L, 1, "kind");
    lua_getfield(L, 1, "message");
    lua_pushfstring(L, "ferry.%s: %s", lua_tostring(L, -2), lua_tostring(L, -1));
    return 1;
}

int ferry_lua_ferrylib_is_signal(lua_State *L, int idx)
{
    int yes = 0;
    if (lua_type(L, idx) == LUA_TTABLE && lua_getmetatable(L, idx)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &signal_mt_key);
        yes = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    return yes;
}

static int raise_signal(lua_State *L, const char *kind, const char *message)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, kind);
    lua_setfield(L, -2, "kind");
    lua_pushstring(L, message);
    lua_setfield(L, -2, "message");
    lua_rawgetp(L, LUA_REGISTRYINDEX, &signal_mt_key);
    lua_setmetatable(L, -2);
    return lua_error(L);
}

static const char *message_arg(lua_State *L, int idx, const char *dflt)
{
    if (lua_isnoneornil(L, idx)) {
        return dflt;
    }
    return luaL_tolstring(L, idx, NULL);
}

static int f_skip(lua_State *L)
{
    ferry_lua_host *h = host_of(L);
    if (!h->in_record) {
        return luaL_error(L, "ferry.skip can only be called while a record is mapped (inside map)");
    }
    const char *reason = message_arg(L, 1, "skipped by the mapping");
    if (!h->skip_requested) {
        h->skip_requested = 1;
        ferry_strlcpy(h->skip_reason, reason, sizeof(h->skip_reason));
    }
    return raise_signal(L, "skip", reason);
}

static int f_fail(lua_State *L)
{
    ferry_lua_host *h = host_of(L);
    lua_Debug ar;
    if (!h->in_record) {
        return luaL_error(L, "ferry.fail can only be called while a record is mapped (inside map)");
    }
    const char *msg = message_arg(L, 1, "failed by the mapping");
    if (!h->fail_requested) {
        h->fail_requested = 1;
        ferry_strlcpy(h->fail_message, msg, sizeof(h->fail_message));
        h->fail_where[0] = '\0';
        h->fail_line = 0;
        /* the innermost Lua function: the caller, or its caller when called through pcall */
        for (int level = 1; lua_getstack(L, level, &ar); level++) {
            if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
                ferry_strlcpy(h->fail_where, ar.source[0] == '@' ? ar.source + 1 : ar.short_src, sizeof(h->fail_where));
                h->fail_line = ar.currentline;
                break;
            }
        }
    }
    return raise_signal(L, "fail", msg);
}

void ferry_lua_ferrylib_begin(ferry_lua_host *host, int in_record)
{
    host->in_record = in_record;
    host->skip_requested = 0;
    host->skip_reason[0] = '\0';
    host->fail_requested = 0;
    host->fail_message[0] = '\0';
    host->fail_where[0] = '\0';
    host->fail_line = 0;
}

/* ---- settings and value maps -------------------------------------------------------- */

static int f_setting(lua_State *L)
{
    ferry_lua_host *h = host_of(L);
    const char *key = luaL_checkstring(L, 1);
    const json_t *v = h->settings != NULL ? json_object_get(h->settings, key) : NULL;
    if (v == NULL || json_is_null(v)) {
        if (lua_gettop(L) >= 2) {
            lua_settop(L, 2);
            return 1;
        }
        return luaL_error(L, "setting '%s' is not set (set it for the flow, or give ferry.setting a default)", key);
    }
    ferry_lua_json_push(L, v, key);
    return 1;
}

/* The value map key for the argument at idx, into buf; returns NULL for nil/null. */
static const char *map_key(lua_State *L, int idx, char *buf, size_t n)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return lua_tostring(L, idx);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
        } else if (ferry_money_format_double((double)lua_tonumber(L, idx), buf, n) != FERRY_MONEY_OK) {
            luaL_argerror(L, idx, "not a finite number");
        }
        return buf;
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? "true" : "false";
    case LUA_TNIL:
    case LUA_TNONE:
        return NULL;
    default:
        if (ferry_lua_json_is_null(L, idx)) {
            return NULL;
        }
        luaL_typeerror(L, idx, "string, number or boolean");
        return NULL;
    }
}

static int f_map(lua_State *L)
{
    ferry_lua_host *h = host_of(L);
    char buf[64];
    const char *name = luaL_checkstring(L, 1);
    const char *key = map_key(L, 2, buf, sizeof(buf));
    int has_default = lua_gettop(L) >= 3;
    const json_t *map = h->value_maps != NULL ? json_object_get(h->value_maps, name) : NULL;
    const json_t *v = NULL;
    if (map == NULL || !json_is_object(map)) {
        if (has_default) {
            lua_settop(L, 3);
            return 1;
        }
        return luaL_error(L, "value map '%s' is not defined (add it to the flow, or give ferry.map a default)", name);
    }
    if (key != NULL) {
        v = json_object_get(map, key);
    }
    if (v == NULL) {
        v = json_object_get(map, "*");
    }
    if (v != NULL) {
        ferry_lua_json_push(L, v, name);
        return 1;
    }
    if (has_default) {
        lua_settop(L, 3);
        return 1;
    }
    if (key == NULL) {
        return luaL_error(L, "value map '%s' has no entry for null and no '*' entry", name);
    }
    return luaL_error(L, "value map '%s' has no entry for '%s' and no '*' entry", name, key);
}

/* ---- log ------------------------------------------------------------------------------ */

static int f_log(lua_State *L)
{
    const char *lname = luaL_checkstring(L, 1);
    int level = ferry_log_level_from_name(lname);
    if (level < 0) {
        return luaL_argerror(L, 1, "level must be \"error\", \"warn\", \"info\" or \"debug\"");
    }
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 2; i <= n; i++) {
        luaL_tolstring(L, i, NULL);
        if (i > 2) {
            luaL_addchar(&b, ' ');
        }
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    ferry_lua_sandbox_log(L, level, lua_tostring(L, -1));
    return 0;
}

/* ---- numbers and money ------------------------------------------------------------------ */

static void trim_span(const char **s, size_t *len)
{
    while (*len > 0 && ((*s)[0] == ' ' || (*s)[0] == '\t')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t')) {
        (*len)--;
    }
}

static void money_error(lua_State *L, int idx, int rc)
{
    const char *shown = luaL_tolstring(L, idx, NULL);
    luaL_argerror(L, idx, lua_pushfstring(L, "%s: '%s'", ferry_money_strerror(rc), shown));
}

/* The exact decimal value of argument idx (integer, float through its shortest text, or numeric string). */
static ferry_money check_decimal(lua_State *L, int idx)
{
    ferry_money m = {0, 0};
    int rc;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) {
            return ferry_money_from_int((int64_t)lua_tointeger(L, idx));
        }
        rc = ferry_money_from_double((double)lua_tonumber(L, idx), &m);
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        trim_span(&s, &len);
        rc = ferry_money_parse(s, len, &m);
    } else {
        luaL_typeerror(L, idx, "number or numeric string");
        return m;
    }
    if (rc != FERRY_MONEY_OK) {
        money_error(L, idx, rc);
    }
    return m;
}

/* The value of argument idx rounded to `decimals`, half away from zero, exactly. */
static ferry_money check_rounded(lua_State *L, int idx, int decimals)
{
    ferry_money m = {0, 0};
    int rc;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) {
            rc = ferry_money_round(ferry_money_from_int((int64_t)lua_tointeger(L, idx)), decimals, &m);
        } else {
            rc = ferry_money_from_double_round((double)lua_tonumber(L, idx), decimals, &m);
        }
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        trim_span(&s, &len);
        rc = ferry_money_parse_round(s, len, decimals, &m);
    } else {
        luaL_typeerror(L, idx, "number or numeric string");
        return m;
    }
    if (rc != FERRY_MONEY_OK) {
        money_error(L, idx, rc);
    }
    return m;
}

static int check_decimals(lua_State *L, int idx, lua_Integer dflt)
{
    lua_Integer d = luaL_optinteger(L, idx, dflt);
    luaL_argcheck(L, d >= 0 && d <= FERRY_MONEY_MAX_SCALE, idx, "decimals must be 0..18");
    return (int)d;
}

static void push_money_text(lua_State *L, ferry_money m)
{
    char buf[FERRY_MONEY_STRLEN];
    lua_pushstring(L, ferry_money_format(m, buf, sizeof(buf)));
}

static void money_result(lua_State *L, const char *what, int rc)
{
    if (rc != FERRY_MONEY_OK) {
        luaL_error(L, "%s: %s", what, ferry_money_strerror(rc));
    }
}

/* ferry.round(x [, decimals = 0]): a float, or an integer when decimals is 0. */
static int f_round(lua_State *L)
{
    int d = check_decimals(L, 2, 0);
    ferry_money m = check_rounded(L, 1, d);
    int64_t i;
    if (d == 0 && ferry_money_to_int(m, &i) == FERRY_MONEY_OK) {
        lua_pushinteger(L, (lua_Integer)i);
    } else {
        lua_pushnumber(L, (lua_Number)ferry_money_to_double(m));
    }
    return 1;
}

/* ferry.int(x): x as an integer when it is whole (12, 12.0, "12", "12.00"); an error otherwise. */
static int f_int(lua_State *L)
{
    if (lua_isinteger(L, 1)) {
        lua_settop(L, 1);
        return 1;
    }
    ferry_money m = check_decimal(L, 1);
    int64_t i;
    if (ferry_money_to_int(m, &i) != FERRY_MONEY_OK) {
        const char *shown = luaL_tolstring(L, 1, NULL);
        return luaL_argerror(L, 1,
                             lua_pushfstring(L, "'%s' is not a whole number (use ferry.round(x, 0) to round)", shown));
    }
    lua_pushinteger(L, (lua_Integer)i);
    return 1;
}

static int d_new(lua_State *L)
{
    push_money_text(L, check_decimal(L, 1));
    return 1;
}

static int d_valid(lua_State *L)
{
    ferry_money m;
    int ok = 0;
    if (lua_type(L, 1) == LUA_TNUMBER) {
        ok = lua_isinteger(L, 1) || ferry_money_from_double((double)lua_tonumber(L, 1), &m) == FERRY_MONEY_OK;
    } else if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, 1, &len);
        trim_span(&s, &len);
        ok = ferry_money_parse(s, len, &m) == FERRY_MONEY_OK;
    }
    lua_pushboolean(L, ok);
    return 1;
}

/* op folded over all the arguments, left to right (ferry.decimal.add and .mul take any number). */
static int fold_arguments(lua_State *L, const char *name, int (*op)(ferry_money, ferry_money, ferry_money *))
{
    int n = lua_gettop(L);
    ferry_money acc = check_decimal(L, 1);
    for (int i = 2; i <= n; i++) {
        money_result(L, name, op(acc, check_decimal(L, i), &acc));
    }
    push_money_text(L, acc);
    return 1;
}

static int d_add(lua_State *L)
{
    return fold_arguments(L, "ferry.decimal.add", ferry_money_add);
}

static int d_sub(lua_State *L)
{
    ferry_money r;
    money_result(L, "ferry.decimal.sub", ferry_money_sub(check_decimal(L, 1), check_decimal(L, 2), &r));
    push_money_text(L, r);
    return 1;
}

static int d_mul(lua_State *L)
{
    return fold_arguments(L, "ferry.decimal.mul", ferry_money_mul);
}

static int d_div(lua_State *L)
{
    ferry_money r;
    int d = (int)luaL_checkinteger(L, 3);
    luaL_argcheck(L, d >= 0 && d <= FERRY_MONEY_MAX_SCALE, 3, "decimals must be 0..18");
    money_result(L, "ferry.decimal.div", ferry_money_div(check_decimal(L, 1), check_decimal(L, 2), d, &r));
    push_money_text(L, r);
    return 1;
}

static int d_round(lua_State *L)
{
    int d = check_decimals(L, 2, 0);
    push_money_text(L, check_rounded(L, 1, d));
    return 1;
}

static int d_cmp(lua_State *L)
{
    lua_pushinteger(L, ferry_money_cmp(check_decimal(L, 1), check_decimal(L, 2)));
    return 1;
}

/* ferry.decimal.sum(list [, field]): exact sum of the elements (or of each element's field); nil and null count as 0.
 */
static int d_sum(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    const char *field = luaL_optstring(L, 2, NULL);
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    ferry_money acc = {0, 0};
    ferry_lua_sandbox_charge(L, n);
    lua_settop(L, 2);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        if (field != NULL) {
            if (lua_type(L, -1) != LUA_TTABLE) {
                return luaL_error(L, "ferry.decimal.sum: element %d is a %s, not a table", (int)i,
                                  luaL_typename(L, -1));
            }
            lua_getfield(L, -1, field);
            lua_remove(L, -2);
        }
        if (!lua_isnil(L, -1) && !ferry_lua_json_is_null(L, -1)) {
            money_result(L, "ferry.decimal.sum", ferry_money_add(acc, check_decimal(L, lua_gettop(L)), &acc));
        }
        lua_pop(L, 1);
    }
    push_money_text(L, acc);
    return 1;
}

/* ---- dates ---------------------------------------------------------------------------- */

#define MIN_EPOCH (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define MAX_EPOCH 253402300799LL   /* 9999-12-31T23:59:59Z */

/* n digits at s[*i], as a number; -1 when they are not all digits. */
static int take_digits(const char *s, size_t len, size_t *i, int n)
{
    int v = 0;
    if (*i + (size_t)n > len) {
        return -1;
    }
    for (int k = 0; k < n; k++) {
        char c = s[*i + (size_t)k];
        if (c < '0' || c > '9') {
            return -1;
        }
        v = v * 10 + (c - '0');
    }
    *i += (size_t)n;
    return v;
}

/*
 * "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" (UTC, as Magento writes) and ISO 8601
 * "YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM|+HHMM|+HH]" to epoch seconds.
 */
static int parse_date(const char *s, size_t len, long long *out)
{
    size_t i = 0;
    int y = take_digits(s, len, &i, 4);
    if (y < 0 || i >= len || s[i++] != '-') {
        return -1;
    }
    int mo = take_digits(s, len, &i, 2);
    if (mo < 1 || mo > 12 || i >= len || s[i++] != '-') {
        return -1;
    }
    int d = take_digits(s, len, &i, 2);
    if (d < 1 || d > ferry_days_in_month(y, mo) || y < 1) {
        return -1;
    }
    int h = 0, mi = 0, sec = 0, offset = 0;
    if (i < len) {
        if (s[i] != ' ' && s[i] != 'T' && s[i] != 't') {
            return -1;
        }
        i++;
        h = take_digits(s, len, &i, 2);
        if (h < 0 || h > 23 || i >= len || s[i++] != ':') {
            return -1;
        }
        mi = take_digits(s, len, &i, 2);
        if (mi < 0 || mi > 59) {
            return -1;
        }
        if (i < len && s[i] == ':') {
            i++;
            sec = take_digits(s, len, &i, 2);
            if (sec < 0 || sec > 60) {
                return -1;
            }
            if (i < len && (s[i] == '.' || s[i] == ',')) {
                size_t start = ++i;
                while (i < len && s[i] >= '0' && s[i] <= '9') {
                    i++;
                }
                if (i == start) {
                    return -1;
                }
            }
        }
        if (i < len) {
            if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == len) {
                i++;
            } else if (s[i] == '+' || s[i] == '-') {
                int sign = s[i++] == '-' ? -1 : 1;
                int oh = take_digits(s, len, &i, 2), om = 0;
                if (oh < 0 || oh > 23) {
                    return -1;
                }
                if (i < len && s[i] == ':') {
                    i++;
                }
                if (i < len) {
                    om = take_digits(s, len, &i, 2);
                    if (om < 0 || om > 59) {
                        return -1;
                    }
                }
                offset = sign * (oh * 3600 + om * 60);
            }
        }
    }
    if (i != len) {
        return -1;
    }
    *out = ferry_days_from_civil(y, mo, d) * 86400LL + h * 3600LL + mi * 60LL + sec - offset;
    return 0;
}

/* Epoch seconds from argument idx: an integer, a float (floored) or a date string. */
static long long check_epoch(lua_State *L, int idx)
{
    long long t = 0;
    if (lua_isinteger(L, idx)) {
        t = (long long)lua_tointeger(L, idx);
    } else if (lua_type(L, idx) == LUA_TNUMBER) {
        double d = floor((double)lua_tonumber(L, idx));
        if (!(d >= (double)MIN_EPOCH && d <= (double)MAX_EPOCH)) {
            luaL_argerror(L, idx, "time out of range (years 1..9999)");
        }
        t = (long long)d;
    } else if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        if (parse_date(s, len, &t) != 0) {
            luaL_argerror(L, idx, lua_pushfstring(L, "'%s' is not a date (YYYY-MM-DD[ HH:MM:SS] or ISO 8601)", s));
        }
    } else {
        luaL_typeerror(L, idx, "epoch seconds or a date string");
        return 0;
    }
    if (t < MIN_EPOCH || t > MAX_EPOCH) {
        luaL_argerror(L, idx, "time out of range (years 1..9999)");
    }
    return t;
}

static int dt_parse(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)check_epoch(L, 1));
    return 1;
}

static int push_formatted(lua_State *L, long long t, const char *fmt)
{
    static const char allowed[] = "aAbBcCdDeFgGhHIjmMnpRStTuUVwWyYzZ%";
    char out[512];
    struct tm tm;
    time_t tt = (time_t)t;
    size_t flen = strlen(fmt);
    if (flen > 200) {
        return luaL_error(L, "ferry.date.format: format longer than 200 characters");
    }
    for (size_t i = 0; i < flen; i++) {
        if (fmt[i] == '%' && (i + 1 >= flen || strchr(allowed, fmt[i + 1]) == NULL || fmt[i + 1] == '\0')) {
            return luaL_error(L, "ferry.date.format: invalid conversion '%%%c' in format",
                              i + 1 < flen ? fmt[i + 1] : ' ');
        }
        if (fmt[i] == '%') {
            i++;
        }
    }
    if (gmtime_r(&tt, &tm) == NULL) {
        return luaL_error(L, "ferry.date.format: time out of range");
    }
    /* fmt was checked against the conversions above */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    size_t n = strftime(out, sizeof(out), fmt, &tm);
#pragma GCC diagnostic pop
    if (n == 0 && flen > 0) {
        out[0] = '\0';
    }
    lua_pushlstring(L, out, n);
    return 1;
}

static int dt_format(lua_State *L)
{
    long long t = check_epoch(L, 1);
    return push_formatted(L, t, luaL_optstring(L, 2, "%Y-%m-%dT%H:%M:%SZ"));
}

static int dt_to_iso(lua_State *L)
{
    return push_formatted(L, check_epoch(L, 1), "%Y-%m-%dT%H:%M:%SZ");
}

static int dt_to_date(lua_State *L)
{
    return push_formatted(L, check_epoch(L, 1), "%Y-%m-%d");
}

static int dt_add_days(lua_State *L)
{
    long long t = check_epoch(L, 1);
    lua_Integer days = luaL_checkinteger(L, 2);
    luaL_argcheck(L, days > -4000000 && days < 4000000, 2, "too many days");
    t += (long long)days * 86400LL;
    if (t < MIN_EPOCH || t > MAX_EPOCH) {
        return luaL_error(L, "ferry.date.add_days: result out of range (years 1..9999)");
    }
    lua_pushinteger(L, (lua_Integer)t);
    return 1;
}

/* ---- strings (UTF-8) ---------------------------------------------------------------------- */

/* Decode the code point at s[*i]; returns 0 (and leaves *i) when the bytes are not valid UTF-8. */
static int utf8_next(const char *str, size_t len, size_t *i, unsigned *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t at = *i, need;
    unsigned c = s[at];
    if (c < 0x80) {
        *cp = c;
        *i = at + 1;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        need = 1;
        c &= 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        need = 2;
        c &= 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        need = 3;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len - at <= need) {
        return 0;
    }
    for (size_t k = 1; k <= need; k++) {
        if ((s[at + k] & 0xc0) != 0x80) {
            return 0;
        }
        c = (c << 6) | (s[at + k] & 0x3f);
    }
    if ((need == 2 && c < 0x800) || (need == 3 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff)) {
        return 0;
    }
    *cp = c;
    *i = at + need + 1;
    return 1;
}

static void add_utf8(luaL_Buffer *b, unsigned cp)
{
    char u[4];
    if (cp < 0x80) {
        luaL_addchar(b, (char)cp);
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3f));
        luaL_addlstring(b, u, 2);
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        luaL_addlstring(b, u, 3);
    } else {
        u[0] = (char)(0xf0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        luaL_addlstring(b, u, 4);
    }
}

/* Number of code points, or -1 when s is not valid UTF-8. */
static long utf8_count(const char *s, size_t len)
{
    size_t i = 0;
    long n = 0;
    unsigned cp;
    while (i < len) {
        if (!utf8_next(s, len, &i, &cp)) {
            return -1;
        }
        n++;
    }
    return n;
}

/* Lower/upper case for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic. */
static unsigned cp_lower(unsigned c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) || (c >= 0x391 && c <= 0x3a9 && c != 0x3a2) ||
        (c >= 0x410 && c <= 0x42f)) {
        return c + 32;
    }
    if (c >= 0x400 && c <= 0x40f) {
        return c + 80;
    }
    if ((c >= 0x100 && c <= 0x137 && c % 2 == 0) || (c >= 0x14a && c <= 0x177 && c % 2 == 0) ||
        (c >= 0x139 && c <= 0x148 && c % 2 == 1) || (c >= 0x179 && c <= 0x17e && c % 2 == 1)) {
        return c + 1;
    }
    if (c == 0x178) {
        return 0xff;
    }
    return c;
}

static unsigned cp_upper(unsigned c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 0xe0 && c <= 0xfe && c != 0xf7) || (c >= 0x3b1 && c <= 0x3c9 && c != 0x3c2) ||
        (c >= 0x430 && c <= 0x44f)) {
        return c - 32;
    }
    if (c == 0x3c2) {
        return 0x3a3;
    }
    if (c >= 0x450 && c <= 0x45f) {
        return c - 80;
    }
    if ((c >= 0x101 && c <= 0x137 && c % 2 == 1 && c != 0x131) || (c >= 0x14b && c <= 0x177 && c % 2 == 1) ||
        (c >= 0x13a && c <= 0x148 && c % 2 == 0) || (c >= 0x17a && c <= 0x17e && c % 2 == 0)) {
        return c - 1;
    }
    if (c == 0xff) {
        return 0x178;
    }
    return c;
}

static int change_case(lua_State *L, unsigned (*conv)(unsigned))
{
    size_t len, i = 0;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;
    charge_bytes(L, len);
    luaL_buffinitsize(L, &b, len);
    while (i < len) {
        unsigned cp;
        if (utf8_next(s, len, &i, &cp)) {
            add_utf8(&b, conv(cp));
        } else {
            luaL_addchar(&b, s[i++]); /* not UTF-8: keep the byte */
        }
    }
    luaL_pushresult(&b);
    return 1;
}

static int s_lower(lua_State *L)
{
    return change_case(L, cp_lower);
}

static int s_upper(lua_State *L)
{
    return change_case(L, cp_upper);
}

/* Length of the leading whitespace (ASCII and U+00A0 NO-BREAK SPACE) of s[0..len). */
static size_t lead_space(const char *s, size_t len)
{
    size_t i = 0;
    for (;;) {
        if (i < len && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r'))) {
            i++;
        } else if (i + 1 < len && (unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] == 0xa0) {
            i += 2;
        } else {
            return i;
        }
    }
}

static size_t trail_space(const char *s, size_t len)
{
    size_t n = 0;
    for (;;) {
        if (n < len && (s[len - n - 1] == ' ' || (s[len - n - 1] >= '\t' && s[len - n - 1] <= '\r'))) {
            n++;
        } else if (n + 1 < len && (unsigned char)s[len - n - 2] == 0xc2 && (unsigned char)s[len - n - 1] == 0xa0) {
            n += 2;
        } else {
            return n;
        }
    }
}

static int s_trim(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    size_t a = lead_space(s, len);
    size_t z = a < len ? trail_space(s + a, len - a) : 0;
    lua_pushlstring(L, s + a, len - a - z);
    return 1;
}

static int s_starts_with(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    lua_pushboolean(L, plen <= len && memcmp(s, p, plen) == 0);
    return 1;
}

static int s_ends_with(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    lua_pushboolean(L, plen <= len && memcmp(s + len - plen, p, plen) == 0);
    return 1;
}

/* ferry.str.split(s, sep [, max]): a ferry.array of the parts around the plain separator sep. */
static int s_split(lua_State *L)
{
    size_t len, slen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *sep = luaL_checklstring(L, 2, &slen);
    lua_Integer max = luaL_optinteger(L, 3, 0);
    luaL_argcheck(L, slen > 0, 2, "separator must not be empty");
    charge_bytes(L, len);
    lua_newtable(L);
    ferry_lua_json_mark(L, -1, FERRY_LUA_JSON_ARRAY);
    lua_Integer n = 0;
    const char *at = s, *end = s + len;
    for (;;) {
        const char *hit = (max <= 0 || n + 1 < max) ? memmem(at, (size_t)(end - at), sep, slen) : NULL;
        if (hit == NULL) {
            lua_pushlstring(L, at, (size_t)(end - at));
            lua_rawseti(L, -2, ++n);
            break;
        }
        lua_pushlstring(L, at, (size_t)(hit - at));
        lua_rawseti(L, -2, ++n);
        at = hit + slen;
    }
    return 1;
}

/* ferry.str.replace(s, old, new [, max]): plain (not pattern) replacement; returns the string and the count. */
static int s_replace(lua_State *L)
{
    size_t len, olen, nlen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *old = luaL_checklstring(L, 2, &olen);
    const char *neu = luaL_checklstring(L, 3, &nlen);
    lua_Integer max = luaL_optinteger(L, 4, LUA_MAXINTEGER);
    luaL_argcheck(L, olen > 0, 2, "the text to replace must not be empty");
    charge_bytes(L, len);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Integer n = 0;
    const char *at = s, *end = s + len;
    while (n < max) {
        const char *hit = memmem(at, (size_t)(end - at), old, olen);
        if (hit == NULL) {
            break;
        }
        luaL_addlstring(&b, at, (size_t)(hit - at));
        luaL_addlstring(&b, neu, nlen);
        at = hit + olen;
        n++;
    }
    luaL_addlstring(&b, at, (size_t)(end - at));
    luaL_pushresult(&b);
    lua_pushinteger(L, n);
    return 2;
}

/* ferry.str.truncate(s, n [, ellipsis]): at most n UTF-8 characters, never cutting one in half. */
static int s_truncate(lua_State *L)
{
    size_t len, elen = 0;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer max = luaL_checkinteger(L, 2);
    const char *ell = luaL_optlstring(L, 3, NULL, &elen);
    luaL_argcheck(L, max >= 0, 2, "length must not be negative");
    charge_bytes(L, len);
    long chars = utf8_count(s, len);
    if (chars < 0) {
        return luaL_argerror(L, 1, "not valid UTF-8");
    }
    if (chars <= max) {
        lua_settop(L, 1);
        return 1;
    }
    long ell_chars = ell != NULL ? utf8_count(ell, elen) : 0;
    if (ell_chars < 0) {
        return luaL_argerror(L, 3, "not valid UTF-8");
    }
    if (ell_chars > max) {
        ell_chars = 0;
        ell = NULL;
        elen = 0;
    }
    lua_Integer keep = max - ell_chars;
    size_t i = 0;
    unsigned cp;
    for (lua_Integer k = 0; k < keep; k++) {
        utf8_next(s, len, &i, &cp);
    }
    lua_pushlstring(L, s, i);
    if (ell != NULL) {
        lua_pushlstring(L, ell, elen);
        lua_concat(L, 2);
    }
    return 1;
}

/* ferry.str.pad(s, width [, fill = " " [, side = "right"]]): pad to width characters on the given side. */
static int s_pad(lua_State *L)
{
    size_t len, flen;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer width = luaL_checkinteger(L, 2);
    const char *fill = luaL_optlstring(L, 3, " ", &flen);
    const char *side = luaL_optstring(L, 4, "right");
    int left = strcmp(side, "left") == 0;
    luaL_argcheck(L, left || strcmp(side, "right") == 0, 4, "side must be \"left\" or \"right\"");
    luaL_argcheck(L, width >= 0 && width <= 100000, 2, "width must be 0..100000");
    luaL_argcheck(L, utf8_count(fill, flen) == 1, 3, "fill must be exactly one character");
    long chars = utf8_count(s, len);
    if (chars < 0) {
        return luaL_argerror(L, 1, "not valid UTF-8");
    }
    if (chars >= width) {
        lua_settop(L, 1);
        return 1;
    }
    charge_bytes(L, (size_t)width * flen);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    if (!left) {
        luaL_addlstring(&b, s, len);
    }
    for (lua_Integer k = chars; k < width; k++) {
        luaL_addlstring(&b, fill, flen);
    }
    if (left) {
        luaL_addlstring(&b, s, len);
    }
    luaL_pushresult(&b);
    return 1;
}

/*
 * ferry.str.street(line) -> street name, house number.  "Storgatan 12 B" ->
 * "Storgatan", "12 B"; "12 Main Street" -> "Main Street", "12"; no number ->
 * the line, "".  The number is the first word after the first that starts
 * with a digit, with everything after it; a line that starts with a number
 * has that number first.
 */
static int s_street(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    charge_bytes(L, len);
    size_t a = lead_space(s, len);
    size_t z = a < len ? trail_space(s + a, len - a) : 0;
    s += a;
    len -= a + z;
    /* word starts */
    size_t words[64];
    int nw = 0;
    for (size_t i = 0; i < len && nw < 64;) {
        while (i < len && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
        if (i < len) {
            words[nw++] = i;
        }
        while (i < len && s[i] != ' ' && s[i] != '\t') {
            i++;
        }
    }
    size_t name_start = 0, name_end = len, num_start = len, num_end = len;
    if (nw >= 2 && s[words[0]] >= '0' && s[words[0]] <= '9') {
        size_t e = words[0];
        while (e < len && s[e] != ' ' && s[e] != '\t') {
            e++;
        }
        num_start = words[0];
        num_end = e;
        name_start = words[1];
        name_end = len;
    } else {
        for (int k = 1; k < nw; k++) {
            if (s[words[k]] >= '0' && s[words[k]] <= '9') {
                num_start = words[k];
                num_end = len;
                name_end = words[k];
                break;
            }
        }
    }
    /* trim the name: spaces and a trailing comma; the number: a trailing comma */
    while (name_end > name_start && (s[name_end - 1] == ' ' || s[name_end - 1] == '\t' || s[name_end - 1] == ',')) {
        name_end--;
    }
    while (num_end > num_start && (s[num_end - 1] == ',' || s[num_end - 1] == ' ')) {
        num_end--;
    }
    lua_pushlstring(L, s + name_start, name_end - name_start);
    lua_pushlstring(L, s + num_start, num_end - num_start);
    return 2;
}

/* ---- JSON -------------------------------------------------------------------------------- */

static int j_encode(lua_State *L)
{
    int pretty = 0;
    ferry_error err;
    luaL_checkany(L, 1);
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "pretty");
        pretty = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    box *b = push_box(L);
    ferry_error_clear(&err);
    if (ferry_lua_json_to(L, 1, "", &b->json, &err) != FERRY_OK) {
        return luaL_error(L, "ferry.json.encode: %s", err.message);
    }
    size_t flags =
        JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_REAL_PRECISION(17) | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
    b->text = json_dumps(b->json, flags);
    if (b->text == NULL) {
        return luaL_error(L, "ferry.json.encode: out of memory");
    }
    charge_bytes(L, strlen(b->text));
    lua_pushstring(L, b->text);
    return 1;
}

static int j_decode(lua_State *L)
{
    size_t len;
    json_error_t jerr;
    const char *s = luaL_checklstring(L, 1, &len);
    charge_bytes(L, len);
    box *b = push_box(L);
    b->json = json_loadb(s, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (b->json == NULL) {
        return luaL_error(L, "ferry.json.decode: %s (line %d, column %d)", jerr.text, jerr.line, jerr.column);
    }
    ferry_lua_json_push(L, b->json, "");
    return 1;
}

/* ---- markers ------------------------------------------------------------------------------ */

static int mark(lua_State *L, int kind)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    if (ferry_lua_json_mark(L, 1, kind) != 0) {
        return luaL_argerror(L, 1, "the table already has a metatable of its own");
    }
    return 1;
}

static int f_array(lua_State *L)
{
    return mark(L, FERRY_LUA_JSON_ARRAY);
}

static int f_object(lua_State *L)
{
    return mark(L, FERRY_LUA_JSON_OBJECT);
}

static int f_is_null(lua_State *L)
{
    lua_pushboolean(L, ferry_lua_json_is_null(L, 1));
    return 1;
}

static int f_kind(lua_State *L)
{
    switch (ferry_lua_json_kind(L, 1)) {
    case FERRY_LUA_JSON_ARRAY:
        lua_pushliteral(L, "array");
        break;
    case FERRY_LUA_JSON_OBJECT:
        lua_pushliteral(L, "object");
        break;
    default:
        lua_pushnil(L);
    }
    return 1;
}

/* ---- assembly ----------------------------------------------------------------------------- */

static void sub_library(lua_State *L, const char *name, const char *full, const luaL_Reg *fns)
{
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    ferry_lua_sandbox_push_readonly(L, -1, full);
    lua_setfield(L, -3, name);
    lua_pop(L, 1);
}

void ferry_lua_ferrylib_open(lua_State *L, ferry_lua_host *host)
{
    static const luaL_Reg with_host[] = {
        {"skip", f_skip}, {"fail", f_fail}, {"setting", f_setting}, {"map", f_map}, {NULL, NULL}};
    static const luaL_Reg plain[] = {{"log", f_log},       {"round", f_round},     {"int", f_int},   {"array", f_array},
                                     {"object", f_object}, {"is_null", f_is_null}, {"kind", f_kind}, {NULL, NULL}};
    static const luaL_Reg decimal[] = {{"new", d_new}, {"valid", d_valid}, {"add", d_add},     {"sub", d_sub},
                                       {"mul", d_mul}, {"div", d_div},     {"round", d_round}, {"cmp", d_cmp},
                                       {"sum", d_sum}, {NULL, NULL}};
    static const luaL_Reg date[] = {{"parse", dt_parse},     {"format", dt_format},     {"to_iso", dt_to_iso},
                                    {"to_date", dt_to_date}, {"add_days", dt_add_days}, {NULL, NULL}};
    static const luaL_Reg str[] = {{"trim", s_trim},           {"split", s_split}, {"starts_with", s_starts_with},
                                   {"ends_with", s_ends_with}, {"lower", s_lower}, {"upper", s_upper},
                                   {"truncate", s_truncate},   {"pad", s_pad},     {"street", s_street},
                                   {"replace", s_replace},     {NULL, NULL}};
    static const luaL_Reg json[] = {{"encode", j_encode}, {"decode", j_decode}, {NULL, NULL}};

    /* metatables of the signal objects and of the GC boxes */
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, signal_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "ferry.signal");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "ferry.signal");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &signal_mt_key);
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "ferry.box");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &box_mt_key);

    lua_newtable(L);
    lua_pushlightuserdata(L, host);
    luaL_setfuncs(L, with_host, 1);
    luaL_setfuncs(L, plain, 0);
    ferry_lua_json_push_null(L);
    lua_setfield(L, -2, "null");
    lua_pushliteral(L, FERRY_VERSION);
    lua_setfield(L, -2, "version");
    sub_library(L, "decimal", "ferry.decimal", decimal);
    sub_library(L, "date", "ferry.date", date);
    sub_library(L, "str", "ferry.str", str);
    sub_library(L, "json", "ferry.json", json);

    /* tracebacks name functions by their place in the loaded table ("ferry.setting") */
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "ferry");
    lua_pop(L, 1);
    ferry_lua_sandbox_expose(L, "ferry");
}
