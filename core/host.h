/*
 * host.h - the core side of the plugin ABI: the host table and live
 * connections ("endpoints").
 *
 * ferry_host_table() is the one ferry_host every plugin receives.  An
 * endpoint is a connection from the store opened through its plugin: it
 * owns the plugin's connection state, the core's ferry_host_conn handle
 * (settings, secrets, HTTP client, rate limits, state, locks) and counts the
 * API calls made through it.
 */
#ifndef FERRY_HOST_INTERNAL_H
#define FERRY_HOST_INTERNAL_H

#include <ferry/plugin.h>

#include "connection.h"
#include "http.h"
#include "loader.h"
#include "store.h"

/* The host table handed to plugins (static, lives forever). */
const ferry_host *ferry_host_table(void);

typedef struct ferry_endpoint {
    const ferry_plugin *plugin; /* borrowed from the loader */
    ferry_host_conn *hc;
    ferry_conn *conn; /* the plugin's state */
} ferry_endpoint;

/* ferry_endpoint_open flags */
#define FERRY_ENDPOINT_INTERACTIVE 0x1 /* host->prompt may ask on the terminal */
#define FERRY_ENDPOINT_NO_OPEN 0x2     /* create the host handle only (authorize runs before open) */

/*
 * Open connection `name`: load its row, find its plugin, build the host
 * handle and call the plugin's open.  A connection marked needs_reauth or
 * disabled is refused (FERRY_CONFIG_ERROR with its status message) unless
 * FERRY_ENDPOINT_NO_OPEN is given.  *out is closed with ferry_endpoint_close.
 */
int ferry_endpoint_open(ferry_store *st, const ferry_loader *loader, const char *name, unsigned flags,
                        ferry_endpoint **out, ferry_error *err);

/* Call the plugin's open on an endpoint made with FERRY_ENDPOINT_NO_OPEN. */
int ferry_endpoint_start(ferry_endpoint *ep, ferry_error *err);

/* Call the plugin's close (if it was opened) and free the endpoint (NULL is fine). */
void ferry_endpoint_close(ferry_endpoint *ep);

/* The number of HTTP requests sent through this endpoint (all attempts). */
long ferry_endpoint_calls(const ferry_endpoint *ep);

/*
 * Receive every HTTP exchange of this endpoint (for the activity log); NULL
 * removes.  `bodies` (FERRY_HTTP_RECORD_*) says which bodies the recorder
 * wants: the others are not redacted for it, which saves most of the cost
 * of reading big pages.
 */
void ferry_endpoint_set_recorder(ferry_endpoint *ep, ferry_http_recorder fn, void *ud, unsigned bodies);

/* The endpoint's connection row (borrowed; replaced when settings are reloaded). */
const ferry_connection *ferry_endpoint_connection(const ferry_endpoint *ep);

/* The connection name of a host handle (for logs). */
const char *ferry_host_conn_name(const ferry_host_conn *hc);

#endif /* FERRY_HOST_INTERNAL_H */
