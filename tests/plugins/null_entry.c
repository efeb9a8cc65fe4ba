/* null_entry.c - a plugin whose entry refuses the host by returning NULL. */
#include <ferry/plugin.h>

FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    (void)host;
    return NULL;
}
