/* plugin_util.c - JSON helpers both connector plugins compile in (see plugin_util.h). */
#include "config.h"

#include "plugin_util.h"

const char *plugin_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void plugin_json_set_str(json_t *obj, const char *key, const char *s)
{
    if (s != NULL) {
        json_object_set_new(obj, key, json_string(s));
    }
}
