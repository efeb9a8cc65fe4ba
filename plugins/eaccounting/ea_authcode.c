/* ea_authcode.c - getting the authorization code: hand-over, listener, paste (see ea_authcode.h). */
#include "config.h"

#include "ea_authcode.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ea_conn.h"
#include "ea_str.h"
#include "util.h"

#define PAGE_OK                                                                                                        \
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ferry</title></head><body>"                             \
    "<h1>ferry is connected to eAccounting</h1><p>You can close this window.</p></body></html>"
#define PAGE_FAILED                                                                                                    \
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ferry</title></head><body>"                             \
    "<h1>ferry could not connect to eAccounting</h1><p>See the terminal for details. You can close this "              \
    "window.</p></body></html>"
#define PAGE_STALE                                                                                                     \
    "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ferry</title></head><body>"                             \
    "<h1>This answer belongs to another authorization</h1><p>Use the address ferry printed last.</p>"                  \
    "</body></html>"

/* ---- parsing what comes back ------------------------------------------------------------ */

int ea_authcode_parse(const char *text, char **code, char **state, ferry_error *err)
{
    *code = NULL;
    *state = NULL;
    while (text != NULL && (*text == ' ' || *text == '\t')) {
        text++;
    }
    if (text == NULL || ea_str_blank(text)) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code", "eaccounting: no authorization code was given");
    }
    if (strstr(text, "code=") == NULL && strstr(text, "error=") == NULL) {
        /* a bare code: trim trailing white space */
        *code = ferry_strdup(text);
        if (*code == NULL) {
            return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory");
        }
        size_t n = strlen(*code);
        while (n > 0 && (unsigned char)(*code)[n - 1] <= ' ') {
            (*code)[--n] = '\0';
        }
        return FERRY_OK;
    }
    char *error = ea_query_param(text, "error");
    if (error != NULL) {
        char *desc = ea_query_param(text, "error_description");
        ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code", "eaccounting: the authorization was not given (%s%s%s)%s",
                        error, desc ? ": " : "", desc ? desc : "",
                        strcmp(error, "access_denied") == 0 ? ". The user declined; run authorize again to retry."
                                                            : "");
        free(error);
        free(desc);
        return FERRY_CONFIG_ERROR;
    }
    *code = ea_query_param(text, "code");
    *state = ea_query_param(text, "state");
    if (*code == NULL || (*code)[0] == '\0') {
        free(*code);
        free(*state);
        *code = *state = NULL;
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code", "eaccounting: the address has no code= in it");
    }
    return FERRY_OK;
}

/* ---- the redirect URI --------------------------------------------------------------------- */

typedef struct redirect_target {
    int loopback; /* http://localhost|127.0.0.1|[::1]:PORT/... */
    int port;
    char path[256];
} redirect_target;

static redirect_target parse_redirect(const char *uri)
{
    redirect_target t;
    memset(&t, 0, sizeof(t));
    static const char *const hosts[] = {"http://localhost", "http://127.0.0.1", "http://[::1]", NULL};
    for (int i = 0; hosts[i] != NULL; i++) {
        size_t n = strlen(hosts[i]);
        if (strncmp(uri, hosts[i], n) != 0) {
            continue;
        }
        const char *p = uri + n;
        t.port = 80;
        if (*p == ':') {
            char *end = NULL;
            long port = strtol(p + 1, &end, 10);
            if (end == p + 1 || port < 1 || port > 65535) {
                return t;
            }
            t.port = (int)port;
            p = end;
        }
        if (*p != '/' && *p != '\0') {
            return t;
        }
        ferry_strlcpy(t.path, *p ? p : "/", sizeof(t.path));
        t.path[strcspn(t.path, "?#")] = '\0';
        t.loopback = 1;
    }
    return t;
}

/* ---- the one-shot listener ------------------------------------------------------------------- */

static int listen_on(int family, int port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc;
    if (family == AF_INET6) {
        struct sockaddr_in6 a6;
        memset(&a6, 0, sizeof(a6));
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((unsigned short)port);
        a6.sin6_addr = in6addr_loopback;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        rc = bind(fd, (struct sockaddr *)&a6, sizeof(a6));
    } else {
        struct sockaddr_in a4;
        memset(&a4, 0, sizeof(a4));
        a4.sin_family = AF_INET;
        a4.sin_port = htons((unsigned short)port);
        a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        rc = bind(fd, (struct sockaddr *)&a4, sizeof(a4));
    }
    if (rc != 0 || listen(fd, 4) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_page(int fd, int status, const char *reason, const char *page)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, reason, strlen(page));
    if (n > 0 && write(fd, head, (size_t)n) < 0) {
        return;
    }
    if (write(fd, page, strlen(page)) < 0) {
        return;
    }
}

/* Read the request head (up to a blank line, 8 KiB, 5 s); returns the request target (new) or NULL. */
static char *read_request_target(int fd)
{
    char buf[8192];
    size_t len = 0;
    while (len < sizeof(buf) - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 5000) <= 0) {
            break;
        }
        ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (r <= 0) {
            break;
        }
        len += (size_t)r;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL || strstr(buf, "\n\n") != NULL) {
            break;
        }
    }
    buf[len] = '\0';
    if (strncmp(buf, "GET ", 4) != 0) {
        return NULL;
    }
    size_t n = strcspn(buf + 4, " \r\n");
    char *target = malloc(n + 1);
    if (target != NULL) {
        memcpy(target, buf + 4, n);
        target[n] = '\0';
    }
    return target;
}

typedef struct waiter {
    ferry_conn *c;
    const char *state;
    redirect_target target;
    char *code; /* the result */
} waiter;

/*
 * Handle one browser request on an accepted socket: FERRY_OK with w->code,
 * FERRY_RETRY to keep waiting (another path, a stale state), or an error.
 */
static int handle_browser(waiter *w, int fd, ferry_error *err)
{
    char *target = read_request_target(fd);
    if (target == NULL) {
        return FERRY_RETRY;
    }
    size_t plen = strcspn(target, "?");
    if (plen != strlen(w->target.path) || strncmp(target, w->target.path, plen) != 0) {
        send_page(fd, 404, "Not Found", "<!DOCTYPE html><html><body>Not found</body></html>");
        free(target);
        return FERRY_RETRY;
    }
    char *code = NULL, *state = NULL;
    int rc = ea_authcode_parse(target, &code, &state, err);
    free(target);
    if (rc != FERRY_OK) {
        send_page(fd, 400, "Bad Request", PAGE_FAILED);
        return rc;
    }
    if (state == NULL || strcmp(state, w->state) != 0) {
        w->c->host->say(w->c->hc, "Ignoring an answer for another authorization (state does not match).");
        send_page(fd, 400, "Bad Request", PAGE_STALE);
        free(code);
        free(state);
        return FERRY_RETRY;
    }
    send_page(fd, 200, "OK", PAGE_OK);
    free(state);
    w->code = code;
    return FERRY_OK;
}

/* handle_typed: the host cannot prompt here, stop watching the terminal */
#define NO_TERMINAL 1

/* A line typed on the terminal: the code or the redirect URL. */
static int handle_typed(waiter *w, ferry_error *err)
{
    char line[4096];
    if (w->c->host->prompt(w->c->hc, "", 0, line, sizeof(line)) != FERRY_OK) {
        return NO_TERMINAL;
    }
    if (ea_str_blank(line)) {
        return FERRY_RETRY;
    }
    char *code = NULL, *state = NULL;
    int rc = ea_authcode_parse(line, &code, &state, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    if (state != NULL && strcmp(state, w->state) != 0) {
        free(code);
        free(state);
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code",
                               "eaccounting: the pasted address belongs to another authorization (state does not "
                               "match); use the address ferry printed last");
    }
    free(state);
    w->code = code;
    return FERRY_OK;
}

static int wait_for_code(waiter *w, int *fds, int nfds, int watch_stdin, ferry_error *err)
{
    long long deadline = w->c->host->now_ms(w->c->hc) + (long long)w->c->authorize_timeout_s * 1000;
    for (;;) {
        struct pollfd p[3];
        int n = 0;
        for (int i = 0; i < nfds; i++) {
            p[n++] = (struct pollfd){fds[i], POLLIN, 0};
        }
        if (watch_stdin) {
            p[n++] = (struct pollfd){STDIN_FILENO, POLLIN, 0};
        }
        long long left = deadline - w->c->host->now_ms(w->c->hc);
        if (left <= 0) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL,
                                   "eaccounting: no answer from the browser within %d seconds; run authorize again",
                                   w->c->authorize_timeout_s);
        }
        int r = poll(p, (nfds_t)n, left > 1000 ? 1000 : (int)left);
        if (r < 0 && errno != EINTR) {
            return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: waiting for the browser failed");
        }
        for (int i = 0; r > 0 && i < n; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP))) {
                continue;
            }
            int rc;
            if (p[i].fd == STDIN_FILENO && watch_stdin) {
                rc = handle_typed(w, err);
                if (rc == NO_TERMINAL) {
                    watch_stdin = 0;
                    continue;
                }
            } else {
                int client = accept(p[i].fd, NULL, NULL);
                if (client < 0) {
                    continue;
                }
                rc = handle_browser(w, client, err);
                close(client);
            }
            if (rc != FERRY_RETRY) {
                return rc;
            }
            ferry_error_clear(err);
        }
    }
}

/* Listen on the loopback redirect URI; FERRY_RETRY when the port cannot be bound. */
static int obtain_by_listening(ferry_conn *c, const char *state, const redirect_target *t, int watch_stdin, char **code,
                               ferry_error *err)
{
    int fds[2], nfds = 0;
    int fd4 = listen_on(AF_INET, t->port);
    if (fd4 >= 0) {
        fds[nfds++] = fd4;
    }
    int fd6 = listen_on(AF_INET6, t->port);
    if (fd6 >= 0) {
        fds[nfds++] = fd6;
    }
    if (nfds == 0) {
        c->host->log(c->hc, FERRY_LOG_WARN, "eaccounting: cannot listen on port %d for the browser's answer", t->port);
        return FERRY_RETRY;
    }
    c->host->say(c->hc, "Waiting for the browser to come back to %s%s", c->redirect_uri,
                 watch_stdin ? " (or paste the code or the address it lands on here and press Enter)" : "");
    waiter w = {c, state, *t, NULL};
    int rc = wait_for_code(&w, fds, nfds, watch_stdin, err);
    for (int i = 0; i < nfds; i++) {
        close(fds[i]);
    }
    *code = w.code;
    return rc;
}

static int obtain_by_pasting(ferry_conn *c, const char *state, char **code, ferry_error *err)
{
    char line[4096];
    if (c->host->prompt(c->hc, "Paste the code, or the whole address the browser was sent to: ", 0, line,
                        sizeof(line)) != FERRY_OK) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code",
                               "eaccounting: cannot ask for the authorization code here (no terminal). Open the "
                               "address above in a browser and pass the address it lands on in the environment "
                               "variable FERRY_EA_AUTH_CODE or the auth_code setting, then run authorize again");
    }
    char *got = NULL, *st = NULL;
    int rc = ea_authcode_parse(line, &got, &st, err);
    if (rc == FERRY_OK && st != NULL && strcmp(st, state) != 0) {
        free(got);
        got = NULL;
        rc = ferry_error_set(err, FERRY_CONFIG_ERROR, "auth_code",
                             "eaccounting: the pasted address belongs to another authorization (state does not "
                             "match); use the address ferry printed last");
    }
    free(st);
    *code = got;
    return rc;
}

/* The hand-over: FERRY_EA_AUTH_CODE, then the auth_code setting; FERRY_RETRY when neither is set. */
static int obtain_handed_over(ferry_conn *c, char **code, int *source, ferry_error *err)
{
    const char *env = getenv("FERRY_EA_AUTH_CODE");
    const char *given = env != NULL && env[0] ? env : ea_conn_setting(c, "auth_code");
    if (given == NULL || given[0] == '\0') {
        return FERRY_RETRY;
    }
    *source = env != NULL && env[0] ? EA_CODE_HANDOVER_ENV : EA_CODE_HANDOVER_SETTING;
    char *state = NULL;
    int rc = ea_authcode_parse(given, code, &state, err);
    free(state); /* handed over from elsewhere: the state was made by whoever opened the URL */
    if (rc == FERRY_OK) {
        c->host->say(c->hc, "Using the authorization code from %s.",
                     *source == EA_CODE_HANDOVER_ENV ? "FERRY_EA_AUTH_CODE" : "the auth_code setting");
    }
    return rc;
}

int ea_authcode_obtain(ferry_conn *c, const char *state, char **code, int *source, ferry_error *err)
{
    *code = NULL;
    *source = 0;
    int rc = obtain_handed_over(c, code, source, err);
    if (rc != FERRY_RETRY) {
        return rc;
    }
    redirect_target t = parse_redirect(c->redirect_uri);
    int paste_only = strcmp(c->authorize_mode, "paste") == 0;
    if (!paste_only && t.loopback) {
        int watch_stdin = strcmp(c->authorize_mode, "auto") == 0 && isatty(STDIN_FILENO);
        rc = obtain_by_listening(c, state, &t, watch_stdin, code, err);
        if (rc != FERRY_RETRY) {
            *source = EA_CODE_LISTENER;
            return rc;
        }
        if (strcmp(c->authorize_mode, "listen") == 0) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, "redirect_uri",
                                   "eaccounting: cannot listen on %s (port in use?); free the port, or set "
                                   "authorize_mode=paste",
                                   c->redirect_uri);
        }
    } else if (strcmp(c->authorize_mode, "listen") == 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "redirect_uri",
                               "eaccounting: authorize_mode=listen needs a redirect_uri on http://localhost:PORT "
                               "(got %s)",
                               c->redirect_uri);
    }
    *source = EA_CODE_PASTED;
    return obtain_by_pasting(c, state, code, err);
}
