/*
 * too_small.c - a descriptor that declares a size smaller than the members
 * every plugin must have (as a plugin built against a broken header would).
 */
#include <ferry/plugin.h>

static const ferry_plugin_descriptor descriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = 0,
    .struct_size = 24,
    .name = "testtoosmall",
    .version = "0.0.1",
};

FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    (void)host;
    return &descriptor;
}
