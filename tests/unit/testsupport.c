/* testsupport.c - child servers, admin calls and scratch space for tests (see testsupport.h). */
#include "config.h"

#include "testsupport.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v != NULL && v[0] ? v : dflt;
}

const char *ferry_test_srcpath(const char *rel)
{
    static char buf[4][1024];
    static int n;
    char *b = buf[n++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/%s", env_or("FERRY_TOP_SRCDIR", ".."), rel);
    return b;
}

const char *ferry_test_buildpath(const char *rel)
{
    static char buf[4][1024];
    static int n;
    char *b = buf[n++ % 4];
    snprintf(b, sizeof(buf[0]), "%s/%s", env_or("FERRY_TOP_BUILDDIR", "."), rel);
    return b;
}

int ferry_test_server_start(ferry_test_server *srv, const char *script, const char *const *args)
{
    memset(srv, 0, sizeof(*srv));
    int out[2];
    if (pipe(out) != 0) {
        perror("pipe");
        return -1;
    }
    const char *python = env_or("PYTHON3", "python3");
    const char *argv[64];
    int n = 0;
    argv[n++] = python;
    argv[n++] = ferry_test_srcpath(script);
    argv[n++] = "--port";
    argv[n++] = "0";
    for (int i = 0; args != NULL && args[i] != NULL && n < 62; i++) {
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    int rc = posix_spawnp(&srv->pid, python, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (rc != 0) {
        fprintf(stderr, "cannot start %s %s: %s\n", python, script, strerror(rc));
        close(out[0]);
        return -1;
    }
    /* Read the first line: the base URL. */
    size_t len = 0;
    while (len < sizeof(srv->url) - 1) {
        ssize_t r = read(out[0], srv->url + len, 1);
        if (r <= 0 || srv->url[len] == '\n') {
            break;
        }
        len++;
    }
    srv->url[len] = '\0';
    close(out[0]);
    if (strncmp(srv->url, "http", 4) != 0) {
        fprintf(stderr, "%s did not print its URL (got '%s')\n", script, srv->url);
        ferry_test_server_stop(srv);
        return -1;
    }
    return 0;
}

void ferry_test_server_stop(ferry_test_server *srv)
{
    if (srv->pid <= 0) {
        return;
    }
    kill(srv->pid, SIGTERM);
    for (int i = 0; i < 300; i++) {
        int status;
        pid_t r = waitpid(srv->pid, &status, WNOHANG);
        if (r == srv->pid || (r < 0 && errno == ECHILD)) {
            srv->pid = 0;
            return;
        }
        ferry_sleep_ms(10);
    }
    kill(srv->pid, SIGKILL);
    waitpid(srv->pid, NULL, 0);
    srv->pid = 0;
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    ferry_buf_append(ud, data, size * n);
    return size * n;
}

json_t *ferry_test_http(const char *base_url, const char *method, const char *path, const json_t *body, long *status)
{
    CURL *c = curl_easy_init();
    if (c == NULL) {
        return NULL;
    }
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", base_url, path);
    ferry_buf resp = FERRY_BUF_INIT;
    char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (text != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{}");
    }
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (status != NULL) {
        *status = rc == CURLE_OK ? code : 0;
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    free(text);
    json_t *out = (rc == CURLE_OK && resp.data) ? json_loads(resp.data, JSON_DECODE_ANY, NULL) : NULL;
    ferry_buf_free(&resp);
    return out;
}

const char *ferry_test_tmpdir(const char *tag)
{
    static char path[512];
    static unsigned counter;
    snprintf(path, sizeof(path), "%s/ferry-test-%s-%ld-%u", env_or("TMPDIR", "/tmp"), tag, (long)getpid(), counter++);
    ferry_test_rmdir(path);
    if (mkdir(path, 0700) != 0) {
        perror(path);
    }
    return path;
}

void ferry_test_rmdir(const char *path)
{
    DIR *d = opendir(path);
    if (d == NULL) {
        unlink(path);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        char child[1024];
        snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
        struct stat sb;
        if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            ferry_test_rmdir(child);
        } else {
            unlink(child);
        }
    }
    closedir(d);
    rmdir(path);
}
