/*
 * lua_pattern.h - Lua pattern matching that pays for its work.
 *
 * Lua's own string.find/match/gmatch/gsub backtrack inside one C call, so a
 * pattern like ".-.-.-x" on a long subject runs for hours without executing
 * a single VM instruction, out of reach of the sandbox's instruction hook.
 * This is a separate implementation of the same pattern language (Lua 5.4
 * semantics: classes, sets, the four quantifiers, anchors, captures and
 * position captures, %b, %f, back-references) that charges every matching
 * step to the record's budget through ferry_lua_sandbox_charge, and finds
 * plain substrings in linear time (memmem).  Character classes are ASCII,
 * whatever the process locale.
 */
#ifndef FERRY_LUA_PATTERN_H
#define FERRY_LUA_PATTERN_H

#include <lua.h>

/*
 * Set find, match, gmatch and gsub of the table at idx (the string library)
 * to the charging implementations.  Protected mode only.
 */
void ferry_lua_pattern_install(lua_State *L, int idx);

#endif /* FERRY_LUA_PATTERN_H */
