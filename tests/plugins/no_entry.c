/* no_entry.c - a shared object without ferry_plugin_entry: not a ferry plugin. */
#include <ferry/plugin.h>

FERRY_PLUGIN_EXPORT int something_else(void);

FERRY_PLUGIN_EXPORT int something_else(void)
{
    return 42;
}
