/*
 * error.h - core helpers around struct ferry_error (defined in ferry/plugin.h).
 *
 * A ferry_error travels from whoever failed (a plugin, the Lua runtime, the
 * HTTP service, the store) up to the engine and the user.  Each layer adds
 * what it knows - the flow, the record key, the script line - and the
 * message then names what failed and where.
 */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#include <stddef.h>

#include <ferry/plugin.h>

#include "util.h"

/* "ok", "retry", "record error", "configuration error", "fatal". */
const char *ferry_status_name(int status);

/* The short machine name: "ok", "retry", "record", "config", "fatal". */
const char *ferry_status_key(int status);

/* Set the error like ferry_error_set, also naming a location (file or URL) and line. */
int ferry_error_at(ferry_error *err, int status, const char *where, int line, const char *fmt, ...) FERRY_FMT(5, 6);

/* Record which flow and record an error belongs to (either may be NULL: kept). */
void ferry_error_context(ferry_error *err, const char *flow, const char *record);

/*
 * Render an error for a person, e.g.
 *   flow orders, record 000000012, field lines[1].sku (orders.lua:42): message
 * into buf of size n; returns buf.
 */
char *ferry_error_format(const ferry_error *err, char *buf, size_t n);

/* The same as a newly allocated JSON object (members that are empty are left out). */
json_t *ferry_error_to_json(const ferry_error *err);

/* Exit codes of the ferry command (documented in ferry(1)). */
enum ferry_exit {
    FERRY_EXIT_OK = 0,          /* everything done */
    FERRY_EXIT_FAILURE = 1,     /* a run finished but some records failed */
    FERRY_EXIT_USAGE = 2,       /* bad command line */
    FERRY_EXIT_CONFIG = 3,      /* configuration problem: flow, connection, mapping, credentials */
    FERRY_EXIT_UNAVAILABLE = 4, /* a service could not be reached / kept failing */
    FERRY_EXIT_STORE = 5,       /* the store could not be opened or is from a newer ferry */
    FERRY_EXIT_INTERNAL = 70    /* internal error (EX_SOFTWARE) */
};

/* The exit code that matches an error status. */
int ferry_exit_for_status(int status);

#endif /* FERRY_ERROR_H */
