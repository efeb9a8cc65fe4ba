/*
 * lua_pattern.c - Lua 5.4 pattern matching with a step budget (see lua_pattern.h).
 *
 * A backtracking matcher over (subject, pattern) byte ranges.  Every call of
 * do_match and every iteration of the expansion loops is a step; steps are
 * charged to the sandbox budget in batches, so a catastrophic pattern ends
 * with the sandbox's instruction-limit error instead of hanging the engine.
 */
#define _GNU_SOURCE 1 /* memmem (glibc declares it only for _GNU_SOURCE) */
#include "config.h"

#include "lua_pattern.h"

#include <string.h>

#include <lauxlib.h>

#include "lua_sandbox.h"

#define MAX_CAPTURES 32
#define MAX_DEPTH 200 /* recursion of do_match: "pattern too complex" past it */
#define CAP_UNFINISHED (-1)
#define CAP_POSITION (-2)
#define STEP_BATCH 4096
#define STEPS_PER_UNIT 8 /* matching steps per instruction unit */

typedef struct matcher {
    lua_State *L;
    const char *src;     /* subject start */
    const char *src_end; /* subject end */
    const char *p_end;   /* pattern end */
    int depth;           /* remaining recursion */
    int level;           /* captures in use */
    long steps;          /* steps not charged yet */
    struct {
        const char *init;
        ptrdiff_t len;
    } cap[MAX_CAPTURES];
} matcher;

static void step(matcher *m)
{
    if (++m->steps >= STEP_BATCH) {
        ferry_lua_sandbox_charge(m->L, m->steps / STEPS_PER_UNIT);
        m->steps = 0;
    }
}

static void reset(matcher *m)
{
    m->level = 0;
    m->depth = MAX_DEPTH;
}

/* ---- character classes (ASCII) -------------------------------------------------- */

static int is_lower(int c)
{
    return c >= 'a' && c <= 'z';
}
static int is_upper(int c)
{
    return c >= 'A' && c <= 'Z';
}
static int is_alpha(int c)
{
    return is_lower(c) || is_upper(c);
}
static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}
static int is_space(int c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}
static int is_cntrl(int c)
{
    return c < 32 || c == 127;
}
static int is_graph(int c)
{
    return c > 32 && c < 127;
}
static int is_punct(int c)
{
    return is_graph(c) && !is_alpha(c) && !is_digit(c);
}
static int is_xdigit(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Does byte c belong to class %cl? */
static int class_has(int c, int cl)
{
    int r;
    switch (is_upper(cl) ? cl + 32 : cl) {
    case 'a':
        r = is_alpha(c);
        break;
    case 'c':
        r = is_cntrl(c);
        break;
    case 'd':
        r = is_digit(c);
        break;
    case 'g':
        r = is_graph(c);
        break;
    case 'l':
        r = is_lower(c);
        break;
    case 'p':
        r = is_punct(c);
        break;
    case 's':
        r = is_space(c);
        break;
    case 'u':
        r = is_upper(c);
        break;
    case 'w':
        r = is_alpha(c) || is_digit(c);
        break;
    case 'x':
        r = is_xdigit(c);
        break;
    case 'z': /* deprecated in Lua 5.2, still understood: the NUL byte */
        r = c == 0;
        break;
    default:
        return cl == c; /* %. and friends: the character itself */
    }
    return is_upper(cl) ? !r : r;
}

/* Where the single-character class starting at p ends. */
static const char *class_end(matcher *m, const char *p)
{
    char c = *p++;
    if (c == '%') {
        if (p >= m->p_end) {
            luaL_error(m->L, "malformed pattern (ends with '%%')");
        }
        return p + 1;
    }
    if (c == '[') {
        if (p < m->p_end && *p == '^') {
            p++;
        }
        do { /* the first character after '[' or '[^' is always a member, even ']' */
            if (p >= m->p_end) {
                luaL_error(m->L, "malformed pattern (missing ']')");
            }
            c = *p++;
            if (c == '%' && p < m->p_end) {
                p++;
            }
        } while (p >= m->p_end || *p != ']');
        return p + 1;
    }
    return p;
}

/* Is c in the set [p .. close] (p at '[', close at ']')? */
static int set_has(int c, const char *p, const char *close)
{
    int want = 1;
    if (p[1] == '^') {
        want = 0;
        p++;
    }
    while (++p < close) {
        if (*p == '%') {
            p++;
            if (class_has(c, (unsigned char)*p)) {
                return want;
            }
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2]) {
                return want;
            }
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

static int single_match(matcher *m, const char *s, const char *p, const char *ep)
{
    if (s >= m->src_end) {
        return 0;
    }
    int c = (unsigned char)*s;
    switch (*p) {
    case '.':
        return 1;
    case '%':
        return class_has(c, (unsigned char)p[1]);
    case '[':
        return set_has(c, p, ep - 1);
    default:
        return (unsigned char)*p == c;
    }
}

/* ---- the matcher ------------------------------------------------------------------ */

static const char *do_match(matcher *m, const char *s, const char *p);

static const char *match_balance(matcher *m, const char *s, const char *p)
{
    if (p + 1 >= m->p_end) {
        luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
    }
    if (s >= m->src_end || *s != p[0]) {
        return NULL;
    }
    int open = 1;
    while (++s < m->src_end) {
        step(m);
        if (*s == p[1]) {
            if (--open == 0) {
                return s + 1;
            }
        } else if (*s == p[0]) {
            open++;
        }
    }
    return NULL;
}

static const char *max_expand(matcher *m, const char *s, const char *p, const char *ep)
{
    ptrdiff_t i = 0;
    while (single_match(m, s + i, p, ep)) {
        step(m);
        i++;
    }
    for (; i >= 0; i--) { /* longest first, then shorter */
        const char *r = do_match(m, s + i, ep + 1);
        if (r != NULL) {
            return r;
        }
    }
    return NULL;
}

static const char *min_expand(matcher *m, const char *s, const char *p, const char *ep)
{
    for (;;) {
        const char *r = do_match(m, s, ep + 1);
        if (r != NULL) {
            return r;
        }
        if (!single_match(m, s, p, ep)) {
            return NULL;
        }
        s++;
    }
}

static const char *open_capture(matcher *m, const char *s, const char *p, ptrdiff_t what)
{
    if (m->level >= MAX_CAPTURES) {
        luaL_error(m->L, "too many captures");
    }
    m->cap[m->level].init = s;
    m->cap[m->level].len = what;
    m->level++;
    const char *r = do_match(m, s, p);
    if (r == NULL) {
        m->level--;
    }
    return r;
}

static const char *close_capture(matcher *m, const char *s, const char *p)
{
    int l = -1;
    for (int i = m->level - 1; i >= 0; i--) {
        if (m->cap[i].len == CAP_UNFINISHED) {
            l = i;
            break;
        }
    }
    if (l < 0) {
        luaL_error(m->L, "invalid pattern capture");
    }
    m->cap[l].len = s - m->cap[l].init;
    const char *r = do_match(m, s, p);
    if (r == NULL) {
        m->cap[l].len = CAP_UNFINISHED;
    }
    return r;
}

static int capture_index(matcher *m, int c)
{
    int l = c - '1';
    if (l < 0 || l >= m->level || m->cap[l].len == CAP_UNFINISHED) {
        luaL_error(m->L, "invalid capture index %%%d", l + 1);
    }
    return l;
}

static const char *back_reference(matcher *m, const char *s, int c)
{
    int l = capture_index(m, c);
    size_t len = (size_t)m->cap[l].len;
    if (m->cap[l].len >= 0 && (size_t)(m->src_end - s) >= len && memcmp(m->cap[l].init, s, len) == 0) {
        return s + len;
    }
    return NULL;
}

static const char *do_match(matcher *m, const char *s, const char *p)
{
    if (m->depth-- == 0) {
        luaL_error(m->L, "pattern too complex");
    }
    for (;;) {
        step(m);
        if (p >= m->p_end) {
            break;
        }
        if (*p == '(') {
            s = p + 1 < m->p_end && p[1] == ')' ? open_capture(m, s, p + 2, CAP_POSITION)
                                                : open_capture(m, s, p + 1, CAP_UNFINISHED);
            break;
        }
        if (*p == ')') {
            s = close_capture(m, s, p + 1);
            break;
        }
        if (*p == '$' && p + 1 == m->p_end) {
            s = s == m->src_end ? s : NULL;
            break;
        }
        if (*p == '%' && p + 1 < m->p_end && p[1] == 'b') {
            s = match_balance(m, s, p + 2);
            if (s != NULL) {
                p += 4;
                continue;
            }
            break;
        }
        if (*p == '%' && p + 1 < m->p_end && p[1] == 'f') {
            p += 2;
            if (p >= m->p_end || *p != '[') {
                luaL_error(m->L, "missing '[' after '%%f' in pattern");
            }
            const char *ep = class_end(m, p);
            int prev = s == m->src ? 0 : (unsigned char)s[-1];
            int cur = s < m->src_end ? (unsigned char)*s : 0;
            if (!set_has(prev, p, ep - 1) && set_has(cur, p, ep - 1)) {
                p = ep;
                continue;
            }
            s = NULL;
            break;
        }
        if (*p == '%' && p + 1 < m->p_end && is_digit((unsigned char)p[1])) {
            s = back_reference(m, s, (unsigned char)p[1]);
            if (s != NULL) {
                p += 2;
                continue;
            }
            break;
        }
        /* a single-character class, maybe with a quantifier */
        const char *ep = class_end(m, p);
        char q = ep < m->p_end ? *ep : '\0';
        if (!single_match(m, s, p, ep)) {
            if (q == '*' || q == '?' || q == '-') {
                p = ep + 1; /* zero repetitions are fine */
                continue;
            }
            s = NULL;
            break;
        }
        if (q == '?') {
            const char *r = do_match(m, s + 1, ep + 1);
            if (r != NULL) {
                s = r;
                break;
            }
            p = ep + 1;
            continue;
        }
        if (q == '+') {
            s = max_expand(m, s + 1, p, ep);
            break;
        }
        if (q == '*') {
            s = max_expand(m, s, p, ep);
            break;
        }
        if (q == '-') {
            s = min_expand(m, s, p, ep);
            break;
        }
        s++;
        p = ep;
    }
    m->depth++;
    return s;
}

/* ---- captures to Lua --------------------------------------------------------------- */

/* Push capture i, or the whole match s..e when there are no captures. */
static void push_capture(matcher *m, int i, const char *s, const char *e)
{
    if (i >= m->level) {
        if (i != 0) {
            luaL_error(m->L, "invalid capture index %%%d", i + 1);
        }
        lua_pushlstring(m->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = m->cap[i].len;
    if (len == CAP_UNFINISHED) {
        luaL_error(m->L, "unfinished capture");
    } else if (len == CAP_POSITION) {
        lua_pushinteger(m->L, (lua_Integer)(m->cap[i].init - m->src) + 1);
    } else {
        lua_pushlstring(m->L, m->cap[i].init, (size_t)len);
    }
}

static int push_captures(matcher *m, const char *s, const char *e, int whole_if_none)
{
    int n = m->level == 0 && whole_if_none ? 1 : m->level;
    luaL_checkstack(m->L, n, "too many captures");
    for (int i = 0; i < n; i++) {
        push_capture(m, i, s, e);
    }
    return n;
}

static void init_matcher(matcher *m, lua_State *L, const char *s, size_t ls, const char *p, size_t lp)
{
    m->L = L;
    m->src = s;
    m->src_end = s + ls;
    m->p_end = p + lp;
    m->steps = 0;
    reset(m);
}

static void finish(matcher *m)
{
    if (m->steps > 0) {
        ferry_lua_sandbox_charge(m->L, m->steps / STEPS_PER_UNIT + 1);
        m->steps = 0;
    }
}

/* A 1-based, possibly negative, start position as a 0-based offset (may exceed len). */
static size_t start_offset(lua_Integer pos, size_t len)
{
    if (pos > 0) {
        return (size_t)pos - 1;
    }
    if (pos == 0 || pos < -(lua_Integer)len) {
        return 0;
    }
    return len + (size_t)pos;
}

static int has_specials(const char *p, size_t lp)
{
    for (size_t i = 0; i < lp; i++) {
        if (p[i] != '\0' && strchr("^$*+?.([%-", p[i]) != NULL) {
            return 1;
        }
    }
    return 0;
}

static int find_or_match(lua_State *L, int find)
{
    size_t ls, lp;
    const char *s = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    if (init > ls) {
        luaL_pushfail(L);
        return 1;
    }
    if (find && (lua_toboolean(L, 4) || !has_specials(p, lp))) {
        ferry_lua_sandbox_charge(L, (long long)((ls - init) / 64));
        const char *hit = lp == 0 ? s + init : memmem(s + init, ls - init, p, lp);
        if (hit != NULL) {
            lua_pushinteger(L, (lua_Integer)(hit - s) + 1);
            lua_pushinteger(L, (lua_Integer)(hit - s) + (lua_Integer)lp);
            return 2;
        }
        luaL_pushfail(L);
        return 1;
    }
    matcher m;
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    init_matcher(&m, L, s, ls, p, lp);
    const char *s1 = s + init;
    do {
        reset(&m);
        const char *e = do_match(&m, s1, p);
        if (e != NULL) {
            finish(&m);
            if (find) {
                lua_pushinteger(L, (lua_Integer)(s1 - s) + 1);
                lua_pushinteger(L, (lua_Integer)(e - s));
                return push_captures(&m, NULL, NULL, 0) + 2;
            }
            return push_captures(&m, s1, e, 1);
        }
    } while (s1++ < m.src_end && !anchor);
    finish(&m);
    luaL_pushfail(L);
    return 1;
}

static int pattern_find(lua_State *L)
{
    return find_or_match(L, 1);
}

static int pattern_match(lua_State *L)
{
    return find_or_match(L, 0);
}

/* gmatch state: a userdata upvalue next to the subject and pattern strings. */
typedef struct gmatch_state {
    size_t pos;  /* next start offset */
    size_t last; /* end offset of the last match, or (size_t)-1 */
} gmatch_state;

static int gmatch_next(lua_State *L)
{
    size_t ls, lp;
    const char *s = lua_tolstring(L, lua_upvalueindex(1), &ls);
    const char *p = lua_tolstring(L, lua_upvalueindex(2), &lp);
    gmatch_state *g = lua_touserdata(L, lua_upvalueindex(3));
    matcher m;
    init_matcher(&m, L, s, ls, p, lp);
    for (size_t at = g->pos; at <= ls; at++) {
        reset(&m);
        const char *e = do_match(&m, s + at, p);
        if (e != NULL && (size_t)(e - s) != g->last) {
            g->pos = g->last = (size_t)(e - s);
            finish(&m);
            return push_captures(&m, s + at, e, 1);
        }
    }
    g->pos = ls + 1;
    finish(&m);
    return 0;
}

static int pattern_gmatch(lua_State *L)
{
    size_t ls;
    luaL_checklstring(L, 1, &ls);
    luaL_checkstring(L, 2);
    size_t init = start_offset(luaL_optinteger(L, 3, 1), ls);
    lua_settop(L, 2);
    gmatch_state *g = lua_newuserdatauv(L, sizeof(*g), 0);
    g->pos = init > ls ? ls + 1 : init;
    g->last = (size_t)-1;
    lua_pushcclosure(L, gmatch_next, 3);
    return 1;
}

/* Append the replacement for the match s..e to b. */
static void add_replacement(matcher *m, luaL_Buffer *b, const char *s, const char *e, int tr)
{
    lua_State *L = m->L;
    if (tr == LUA_TSTRING || tr == LUA_TNUMBER) {
        size_t l;
        const char *news = lua_tolstring(L, 3, &l);
        for (size_t i = 0; i < l; i++) {
            step(m);
            if (news[i] != '%') {
                luaL_addchar(b, news[i]);
                continue;
            }
            i++;
            if (i < l && news[i] == '%') {
                luaL_addchar(b, '%');
            } else if (i < l && is_digit((unsigned char)news[i])) {
                if (news[i] == '0') {
                    luaL_addlstring(b, s, (size_t)(e - s));
                } else {
                    push_capture(m, news[i] - '1', s, e);
                    luaL_tolstring(L, -1, NULL);
                    lua_remove(L, -2);
                    luaL_addvalue(b);
                }
            } else {
                luaL_error(L, "invalid use of '%%' in replacement string");
            }
        }
        return;
    }
    if (tr == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = push_captures(m, s, e, 1);
        lua_call(L, n, 1);
    } else { /* table */
        push_capture(m, 0, s, e);
        lua_gettable(L, 3);
    }
    if (!lua_toboolean(L, -1)) { /* nil or false: keep the original text */
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
    } else if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    } else {
        luaL_addvalue(b);
    }
}

static int pattern_gsub(lua_State *L)
{
    size_t ls, lp;
    const char *src = luaL_checklstring(L, 1, &ls);
    const char *p = luaL_checklstring(L, 2, &lp);
    const char *last = NULL;
    int tr = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)ls + 1);
    lua_Integer n = 0;
    int changed = 0;
    luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION || tr == LUA_TTABLE, 3,
                     "string/function/table");
    int anchor = lp > 0 && *p == '^';
    if (anchor) {
        p++;
        lp--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    matcher m;
    init_matcher(&m, L, src, ls, p, lp);
    const char *s = src;
    size_t next_check = 65536; /* buffer sizes at which the memory limit is checked */
    while (n < max) {
        reset(&m);
        const char *e = do_match(&m, s, p);
        if (e != NULL && e != last) {
            n++;
            add_replacement(&m, &b, s, e, tr);
            s = last = e;
            changed = 1;
            if (luaL_bufflen(&b) >= next_check) {
                ferry_lua_sandbox_check_growth(L, "string.gsub", luaL_bufflen(&b));
                next_check = luaL_bufflen(&b) + luaL_bufflen(&b) / 2;
            }
        } else if (s < m.src_end) {
            luaL_addchar(&b, *s++);
        } else {
            break;
        }
        if (anchor) {
            break;
        }
    }
    finish(&m);
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, s, (size_t)(m.src_end - s));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

void ferry_lua_pattern_install(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_pushcfunction(L, pattern_find);
    lua_setfield(L, idx, "find");
    lua_pushcfunction(L, pattern_match);
    lua_setfield(L, idx, "match");
    lua_pushcfunction(L, pattern_gmatch);
    lua_setfield(L, idx, "gmatch");
    lua_pushcfunction(L, pattern_gsub);
    lua_setfield(L, idx, "gsub");
}
