/*
 * lua_json.h - records between Jansson and Lua 5.4 without losing type.
 *
 * The rules (doc/mapping-guide.md has the user's view):
 *   - A JSON object becomes a table marked "object", an array a table marked
 *     "array" (a shared, protected metatable: getmetatable(t) answers the
 *     string "ferry.object" / "ferry.array").  ferry.array{} and
 *     ferry.object{} mark new tables.  Going back, a marked table keeps its
 *     kind; an unmarked table is an array only when its keys are exactly
 *     1..n, and an empty unmarked table is an object.
 *   - JSON null is the light userdata ferry.null; Lua nil means "absent".
 *   - JSON integers are Lua integers (64 bits both ways), JSON reals are Lua
 *     floats; going back lua_isinteger decides.  NaN and infinities refuse.
 *   - Strings must be valid UTF-8 going back, object keys must be strings
 *     (without NUL bytes), sparse and mixed tables refuse, depth is at most
 *     FERRY_LUA_JSON_MAX_DEPTH, cycles refuse, and one conversion makes at most
 *     FERRY_LUA_JSON_MAX_VALUES values (a shared-subtable "bomb" cannot
 *     explode).  Every refusal is an error naming the field path, such as
 *     `lines[2].sku` (array indices are 1-based, as in Lua).
 *   - Object members come back sorted by key (bytewise), so the output of a
 *     mapping does not depend on Lua's hash order.
 *
 * Ownership: push borrows the json_t; ferry_lua_json_to hands out a new
 * reference.
 */
#ifndef FERRY_LUA_JSON_H
#define FERRY_LUA_JSON_H

#include <stddef.h>

#include <lua.h>

#include <ferry/plugin.h>

#define FERRY_LUA_JSON_MAX_DEPTH 64
#define FERRY_LUA_JSON_MAX_VALUES 1000000

/* The kind a table is marked with. */
enum ferry_lua_json_kind { FERRY_LUA_JSON_UNMARKED = 0, FERRY_LUA_JSON_ARRAY = 1, FERRY_LUA_JSON_OBJECT = 2 };

/*
 * Create the two marker metatables and the null sentinel's metatable in L's
 * registry.  Call once per state, in protected mode (it allocates and so may
 * raise a memory error).
 */
void ferry_lua_json_open(lua_State *L);

/* Push ferry.null (never raises). */
void ferry_lua_json_push_null(lua_State *L);

/* True when the value at idx is ferry.null. */
int ferry_lua_json_is_null(lua_State *L, int idx);

/* The kind the table at idx is marked with (UNMARKED for non-tables and foreign metatables). */
int ferry_lua_json_kind(lua_State *L, int idx);

/*
 * Mark the table at idx as an array or object (replacing a marker of the
 * other kind).  Returns 0, or -1 when the table has a metatable that is not
 * one of ours (it is left alone).  Never raises.
 */
int ferry_lua_json_mark(lua_State *L, int idx, int kind);

/*
 * Push `value` (borrowed) as a Lua value following the rules above.  Raises
 * a Lua error when the value nests deeper than FERRY_LUA_JSON_MAX_DEPTH
 * (naming the path below `root`, which may be NULL or "") or when memory
 * runs out, so call it in protected mode.
 */
void ferry_lua_json_push(lua_State *L, const json_t *value, const char *root);

/*
 * Convert the Lua value at idx to JSON.  On success returns 0 and sets *out
 * to a new reference.  On failure returns FERRY_RECORD_ERROR with err->field
 * set to the path (prefixed with `root`, which may be NULL or "") and a
 * message that names it.  Never raises, so it may be called outside
 * protected mode; it does not run metamethods.
 */
int ferry_lua_json_to(lua_State *L, int idx, const char *root, json_t **out, ferry_error *err);

/*
 * True when s[0..len) is valid UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF).  When it is not and bad is not NULL, *bad is
 * the offset of the first offending byte.
 */
int ferry_lua_json_utf8_valid(const char *s, size_t len, size_t *bad);

/*
 * Copy s[0..len) into out (size n > 0) as valid UTF-8: each byte that is
 * not part of a valid sequence, and each NUL, becomes the text "\xNN".  The
 * copy is cut on a character boundary when out is too small and always
 * NUL-terminated.  Returns out.  For messages that quote what a script made.
 */
char *ferry_lua_json_utf8_escape(const char *s, size_t len, char *out, size_t n);

#endif /* FERRY_LUA_JSON_H */
