/*
 * plugin_util.h - the JSON member helpers both connector plugins compile in.
 *
 * The plugins may not call into the ferry core at run time (they are linked
 * with -Wl,-z,defs against Jansson alone), so each compiles this file, and
 * the self-contained core/util.c and core/money.c, into its own .so, where
 * -fvisibility=hidden keeps the copies private.  Everything here is pure (no host, no I/O), so
 * the plugins' unit tests use it directly.
 */
#ifndef FERRY_PLUGIN_UTIL_H
#define FERRY_PLUGIN_UTIL_H

#include <jansson.h>

/*
 * The string member `key` of obj ("" included), or NULL when it is absent,
 * null or not a string, or obj is not an object.
 */
const char *plugin_json_str(const json_t *obj, const char *key);

/* Set obj[key] to a new string when s is not NULL (a NULL s sets nothing). */
void plugin_json_set_str(json_t *obj, const char *key, const char *s);

#endif /* FERRY_PLUGIN_UTIL_H */
