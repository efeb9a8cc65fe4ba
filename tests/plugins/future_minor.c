/*
 * future_minor.c - a plugin built against a newer minor ABI whose descriptor
 * is larger than this core's: the loader must accept it and read only the
 * members it knows (the extra trailing member must not matter).
 */
#include <ferry/plugin.h>

static int f_open(const ferry_host *h, ferry_host_conn *hc, ferry_conn **c, ferry_error *e)
{
    (void)h;
    (void)hc;
    (void)e;
    *c = NULL;
    return FERRY_OK;
}

static void f_close(ferry_conn *c)
{
    (void)c;
}

/* The descriptor as a newer header would define it: one more member at the end. */
struct future_descriptor {
    ferry_plugin_descriptor base;
    void (*from_the_future)(void);
};

static void future_fn(void)
{
}

static const struct future_descriptor descriptor = {
    .base =
        {
            .abi_major = FERRY_PLUGIN_ABI_MAJOR,
            .abi_minor = FERRY_PLUGIN_ABI_MINOR + 7,
            .struct_size = sizeof(struct future_descriptor),
            .name = "testfuture",
            .version = "9.0.0",
            .open = f_open,
            .close = f_close,
        },
    .from_the_future = future_fn,
};

FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    (void)host;
    return &descriptor.base;
}
