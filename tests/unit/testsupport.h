/*
 * testsupport.h - helpers shared by ferry's C tests: local servers started
 * as child processes (the emulators, fixtures), calls to an emulator's
 * /_emulator/ admin routes, scratch directories and stores.
 *
 * Like curl's test suite, every networked test talks to a server it started
 * itself on a free loopback port; nothing reaches the internet.
 */
#ifndef FERRY_TESTSUPPORT_H
#define FERRY_TESTSUPPORT_H

#include <sys/types.h>

#include <jansson.h>

/* A child server: its pid and the base URL it printed as its first line. */
typedef struct ferry_test_server {
    pid_t pid;
    char url[256];
} ferry_test_server;

/*
 * Start `python3 <srcdir>/<script> --port 0 [args...]` (args NULL-terminated)
 * and wait for its first line (the base URL).  python3 is $PYTHON3 or
 * "python3"; srcdir is $FERRY_TOP_SRCDIR or "..".  Returns 0, or -1 with a
 * message on stderr.
 */
int ferry_test_server_start(ferry_test_server *srv, const char *script, const char *const *args);

/* Stop the server (SIGTERM, then SIGKILL after 3 s) and reap it. */
void ferry_test_server_stop(ferry_test_server *srv);

/*
 * Call the emulator at base_url: `method` on `path` (e.g. "/_emulator/clock")
 * with an optional JSON body.  Returns the parsed JSON answer (new reference)
 * or NULL; *status gets the HTTP status when status is not NULL.
 */
json_t *ferry_test_http(const char *base_url, const char *method, const char *path, const json_t *body, long *status);

/* A new empty directory under $TMPDIR (or /tmp); the path is static storage reused by the next call. */
const char *ferry_test_tmpdir(const char *tag);

/* rm -rf of a directory made by ferry_test_tmpdir. */
void ferry_test_rmdir(const char *path);

/* The path of a source file: $FERRY_TOP_SRCDIR/<rel> (static storage). */
const char *ferry_test_srcpath(const char *rel);

/* The path of a build file: $FERRY_TOP_BUILDDIR/<rel> (static storage). */
const char *ferry_test_buildpath(const char *rel);

#endif /* FERRY_TESTSUPPORT_H */
