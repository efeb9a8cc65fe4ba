/*
 * lua_ferrylib.h - the `ferry` library that mapping scripts call.
 *
 * ferry.null, array, object, is_null, kind, skip, fail, setting, map, log,
 * round, int, decimal.*, date.*, str.*, json.* (doc/mapping-guide.md
 * documents each with an example).  The library is published read-only in
 * the sandbox and is also what require("ferry") returns.
 *
 * ferry.skip and ferry.fail record the request in the host state *and*
 * raise a signal object; a script that catches the signal with pcall still
 * has its record skipped or failed (a fail wins over a skip).
 */
#ifndef FERRY_LUA_FERRYLIB_H
#define FERRY_LUA_FERRYLIB_H

#include <lua.h>

#include <ferry/plugin.h>

/* What the library reads (settings, value maps) and what a record asked for (skip, fail). */
typedef struct ferry_lua_host {
    const json_t *settings;   /* object name -> value, borrowed; may be NULL */
    const json_t *value_maps; /* object map name -> object from -> to, borrowed; may be NULL */

    /* per record, cleared by ferry_lua_ferrylib_begin */
    int in_record;
    int skip_requested;
    char skip_reason[512];
    int fail_requested;
    char fail_message[1024];
    char fail_where[256];
    int fail_line;
} ferry_lua_host;

/*
 * Build the ferry table in the sandbox state L (host is borrowed and must
 * outlive the state) and publish it as the global `ferry`.  Protected mode
 * only.
 */
void ferry_lua_ferrylib_open(lua_State *L, ferry_lua_host *host);

/* Clear the per-record requests; `in_record` says whether skip/fail may be called. */
void ferry_lua_ferrylib_begin(ferry_lua_host *host, int in_record);

/* True when the value at idx is the signal object ferry.skip/ferry.fail raise. */
int ferry_lua_ferrylib_is_signal(lua_State *L, int idx);

#endif /* FERRY_LUA_FERRYLIB_H */
