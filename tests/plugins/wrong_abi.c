/* wrong_abi.c - a test plugin built for another ABI major: the loader must refuse it. */
#include <ferry/plugin.h>

static int x_open(const ferry_host *h, ferry_host_conn *hc, ferry_conn **c, ferry_error *e)
{
    (void)h;
    (void)hc;
    (void)c;
    (void)e;
    return FERRY_FATAL;
}

static void x_close(ferry_conn *c)
{
    (void)c;
}

static const ferry_plugin_descriptor descriptor = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR + 98,
    .abi_minor = 0,
    .struct_size = sizeof(ferry_plugin_descriptor),
    .name = "testwrongabi",
    .version = "0.0.1",
    .open = x_open,
    .close = x_close,
};

FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    (void)host;
    return &descriptor;
}
