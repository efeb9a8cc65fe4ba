/*
 * good.c - a well-formed test plugin for the loader tests: ABI 1.x, every
 * required member, one entity and two settings.  Its operations do nothing
 * useful; the loader tests only look at the descriptor.
 */
#include <ferry/plugin.h>

struct ferry_conn {
    int unused;
};

static struct ferry_conn the_conn;

static int good_open(const ferry_host *host, ferry_host_conn *hc, ferry_conn **conn, ferry_error *err)
{
    (void)host;
    (void)hc;
    (void)err;
    *conn = &the_conn;
    return FERRY_OK;
}

static void good_close(ferry_conn *conn)
{
    (void)conn;
}

static const ferry_entity_spec entities[] = {
    {"thing", FERRY_OP_READ | FERRY_OP_FIND | FERRY_OP_CREATE | FERRY_OP_UPDATE, "id", "a test entity"},
    {NULL, 0, NULL, NULL}};

static const ferry_setting_spec settings[] = {
    {"url", FERRY_SETTING_URL, FERRY_SETTING_REQUIRED, NULL, NULL, "where the things are"},
    {"password", FERRY_SETTING_STRING, FERRY_SETTING_SECRET, NULL, NULL, "a secret"},
    {NULL, 0, 0, NULL, NULL, NULL}};

static const ferry_plugin_descriptor descriptor = {
    FERRY_PLUGIN_DESCRIPTOR_HEADER, .name = "testgood",   .version = "1.2.3", .description = "loader test plugin",
    .entities = entities,           .settings = settings, .open = good_open,  .close = good_close,
};

FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    (void)host;
    return &descriptor;
}
