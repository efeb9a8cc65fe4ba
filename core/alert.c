/* alert.c - alerts listed and handed to the alert command (see alert.h). */
#include "config.h"

#include "alert.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "settings.h"
#include "util.h"

extern char **environ;

int ferry_alert_list(ferry_store *st, int pending, int limit, json_t **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(
        st,
        "SELECT * FROM (SELECT a.id, a.ts, a.kind, f.name, c.name, a.message, a.delivered FROM alerts a "
        "LEFT JOIN flows f ON f.id=a.flow_id LEFT JOIN connections c ON c.id=a.connection_id "
        "WHERE (?1=0 OR a.delivered=0) ORDER BY a.id DESC LIMIT ?2) ORDER BY id",
        err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int(s, 1, pending);
    sqlite3_bind_int(s, 2, limit > 0 ? limit : 100);
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o =
            json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:s, s:b}", "id", (json_int_t)sqlite3_column_int64(s, 0), "ts",
                      (const char *)sqlite3_column_text(s, 1), "kind", (const char *)sqlite3_column_text(s, 2), "flow",
                      (const char *)sqlite3_column_text(s, 3), "connection", (const char *)sqlite3_column_text(s, 4),
                      "message", (const char *)sqlite3_column_text(s, 5), "delivered", sqlite3_column_int(s, 6));
        json_array_append_new(arr, o);
    }
    ferry_store_done(s);
    *out = arr;
    return FERRY_OK;
}

/* Run `command` with the alert in its environment and as JSON on stdin; returns its exit status. */
static int run_command(const char *command, const json_t *alert)
{
    const char *fields[][2] = {{"FERRY_ALERT_KIND", "kind"},
                               {"FERRY_ALERT_FLOW", "flow"},
                               {"FERRY_ALERT_CONNECTION", "connection"},
                               {"FERRY_ALERT_MESSAGE", "message"},
                               {"FERRY_ALERT_TIME", "ts"}};
    size_t n_env = 0;
    while (environ[n_env] != NULL) {
        n_env++;
    }
    char **env = calloc(n_env + 6, sizeof(*env));
    if (env == NULL) {
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n_env; i++) {
        env[k++] = environ[i];
    }
    char *mine[5];
    for (int i = 0; i < 5; i++) {
        const char *v = json_string_value(json_object_get(alert, fields[i][1]));
        mine[i] = ferry_asprintf("%s=%s", fields[i][0], v ? v : "");
        env[k++] = mine[i];
    }
    env[k] = NULL;
    int in[2];
    int status = -1;
    if (pipe(in) == 0) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
        posix_spawn_file_actions_addclose(&fa, in[1]);
        char *argv[] = {"/bin/sh", "-c", (char *)command, NULL};
        pid_t pid;
        int rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, env);
        posix_spawn_file_actions_destroy(&fa);
        close(in[0]);
        if (rc == 0) {
            char *text = json_dumps(alert, JSON_COMPACT);
            if (text != NULL) {
                ssize_t w = write(in[1], text, strlen(text));
                (void)w;
                free(text);
            }
            close(in[1]);
            int ws;
            if (waitpid(pid, &ws, 0) == pid && WIFEXITED(ws)) {
                status = WEXITSTATUS(ws);
            }
        } else {
            close(in[1]);
        }
    }
    for (int i = 0; i < 5; i++) {
        free(mine[i]);
    }
    free(env);
    return status;
}

int ferry_alert_deliver(ferry_store *st, int *delivered, ferry_error *err)
{
    *delivered = 0;
    char *command = ferry_settings_get(st, "alert_command");
    if (command == NULL || command[0] == '\0') {
        free(command);
        return FERRY_OK;
    }
    json_t *pending = NULL;
    if (ferry_alert_list(st, 1, 1000, &pending, err) != FERRY_OK) {
        free(command);
        return err->status;
    }
    size_t i;
    json_t *a;
    json_array_foreach (pending, i, a) {
        int status = run_command(command, a);
        if (status != 0) {
            ferry_log(FERRY_LOG_WARN, "alert", "alert_command exited %d for alert %lld; it will be tried again", status,
                      (long long)json_integer_value(json_object_get(a, "id")));
            continue;
        }
        sqlite3_stmt *s = ferry_store_prepare(st, "UPDATE alerts SET delivered=1 WHERE id=?1", err);
        if (s != NULL) {
            sqlite3_bind_int64(s, 1, json_integer_value(json_object_get(a, "id")));
            sqlite3_step(s);
            ferry_store_done(s);
            (*delivered)++;
        }
    }
    json_decref(pending);
    free(command);
    return FERRY_OK;
}
