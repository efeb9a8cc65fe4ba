/*
 * ea_str.h - the string, JSON and time helpers only the eAccounting plugin
 * needs: query strings, GUIDs, JSON booleans and ISO-8601 times with
 * offsets.  The common ones (ferry_buf, ferry_asprintf, ferry_url_encode,
 * ferry_time_iso: core/util.h; plugin_json_str: plugins/common/plugin_util.h)
 * are compiled into the plugin from those files.  Every function here is pure
 * (no I/O) and hidden inside the plugin (-fvisibility=hidden).
 */
#ifndef EA_STR_H
#define EA_STR_H

#include <stddef.h>

#include <ferry/plugin.h>

/* The first case-insensitive (ASCII) occurrence of needle in hay, or NULL. */
const char *ea_stristr(const char *hay, const char *needle);

/* True when s is NULL or only white space. */
int ea_str_blank(const char *s);

/* Decode %XX and '+' (as a space) of a query-string value; new string or NULL. */
char *ea_url_decode(const char *s, size_t len);

/*
 * The value of query parameter `name` in a URL or query string (after '?'
 * when there is one), decoded; new string, or NULL when absent.
 */
char *ea_query_param(const char *url_or_query, const char *name);

/* True when s is a GUID in the 8-4-4-4-12 hex form. */
int ea_is_guid(const char *s);

/* The boolean member `key`: 1 true, 0 false, -1 absent or not a boolean. */
int ea_json_bool(const json_t *obj, const char *key);

/*
 * Parse an ISO-8601 UTC date or date-time ("2026-03-01", "2026-03-01T10:11:12",
 * "...12.123Z", "...+02:00") into milliseconds since the epoch.  A time
 * without offset is taken as UTC.  Returns 0, or -1 when malformed.
 */
int ea_time_parse(const char *s, long long *ms);

/* True when s is a plain date "YYYY-MM-DD" (a valid calendar day). */
int ea_is_date(const char *s);

#endif /* EA_STR_H */
