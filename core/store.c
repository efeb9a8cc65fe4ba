/* store.c - opening, migrating and transacting the SQLite store (see store.h). */
#include "config.h"

#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "store_migrate.h"
#include "util.h"

#define BUSY_TIMEOUT_MS 15000
#define STMT_CACHE_MAX 96

typedef struct cached_stmt {
    char *sql;
    sqlite3_stmt *stmt;
} cached_stmt;

struct ferry_store {
    sqlite3 *db;
    char *path;
    int depth;         /* transaction nesting */
    int rollback_only; /* an inner rollback happened */
    cached_stmt cache[STMT_CACHE_MAX];
    int cached;
};

char *ferry_store_default_path(const char *explicit_path)
{
    if (explicit_path != NULL && explicit_path[0]) {
        return ferry_strdup(explicit_path);
    }
    const char *env = getenv("FERRY_DB");
    if (env != NULL && env[0]) {
        return ferry_strdup(env);
    }
    const char *xdg = getenv("XDG_DATA_HOME");
    if (xdg != NULL && xdg[0] == '/') {
        return ferry_asprintf("%s/ferry/ferry.db", xdg);
    }
    const char *home = getenv("HOME");
    if (home == NULL || !home[0]) {
        home = ".";
    }
    return ferry_asprintf("%s/.local/share/ferry/ferry.db", home);
}

/* mkdir -p for the directory part of path, mode 0700 for what it creates. */
static int make_parent_dirs(const char *path)
{
    char *dir = ferry_strdup(path);
    if (dir == NULL) {
        return -1;
    }
    char *slash = strrchr(dir, '/');
    if (slash == NULL || slash == dir) {
        free(dir);
        return 0;
    }
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
                free(dir);
                return -1;
            }
            *p = '/';
        }
    }
    int rc = (mkdir(dir, 0700) != 0 && errno != EEXIST) ? -1 : 0;
    free(dir);
    return rc;
}

int ferry_store_error(ferry_store *st, ferry_error *err, const char *what)
{
    int code = st && st->db ? sqlite3_errcode(st->db) : SQLITE_ERROR;
    int status = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? FERRY_RETRY : FERRY_FATAL;
    ferry_error_at(err, status, st ? st->path : NULL, 0, "store: %s: %s", what,
                   st && st->db ? sqlite3_errmsg(st->db) : "no database");
    return status;
}

static int read_user_version(sqlite3 *db, int *version)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK) {
        return -1;
    }
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *version = sqlite3_column_int(s, 0);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

int ferry_store_open(const char *path, int flags, ferry_store **out, ferry_error *err)
{
    *out = NULL;
    struct stat sb;
    int exists = stat(path, &sb) == 0;
    if (!exists) {
        if (!(flags & FERRY_STORE_CREATE)) {
            return ferry_error_at(err, FERRY_CONFIG_ERROR, path, 0,
                                  "no ferry store at %s (set --db or FERRY_DB, or run a command that creates it)",
                                  path);
        }
        if (make_parent_dirs(path) != 0) {
            return ferry_error_at(err, FERRY_FATAL, path, 0, "cannot create the directory for %s: %s", path,
                                  strerror(errno));
        }
        /* Create the file ourselves so it is 0600 from the first byte: it holds secrets. */
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST) {
            return ferry_error_at(err, FERRY_FATAL, path, 0, "cannot create %s: %s", path, strerror(errno));
        }
        if (fd >= 0) {
            close(fd);
        }
    }

    ferry_store *st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return ferry_error_at(err, FERRY_FATAL, path, 0, "out of memory");
    }
    st->path = ferry_strdup(path);
    if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        int rc = ferry_store_error(st, err, "open");
        ferry_store_close(st);
        return rc == FERRY_RETRY ? rc : FERRY_FATAL;
    }
    sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
    sqlite3_extended_result_codes(st->db, 1);

    /* Check the version before anything writes: a newer database stays untouched. */
    int version = 0;
    if (read_user_version(st->db, &version) != 0) {
        int rc = ferry_store_error(st, err, "read schema version (is this a ferry database?)");
        ferry_store_close(st);
        return rc;
    }
    int latest = ferry_store_migrate_latest();
    if (version > latest) {
        ferry_error_at(err, FERRY_CONFIG_ERROR, path, 0,
                       "%s was written by a newer ferry (schema %d; this ferry knows up to %d); "
                       "refusing to open it - upgrade ferry or use another --db",
                       path, version, latest);
        ferry_store_close(st);
        return FERRY_CONFIG_ERROR;
    }

    if (ferry_store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", err) !=
        FERRY_OK) {
        ferry_store_close(st);
        return FERRY_FATAL;
    }
    if (version < latest) {
        if (ferry_store_begin(st, err) != FERRY_OK) {
            ferry_store_close(st);
            return err->status;
        }
        /* Another process may have migrated while we waited for the lock. */
        if (read_user_version(st->db, &version) != 0 ||
            (version < latest && ferry_store_migrate_apply(st->db, version, err) != FERRY_OK)) {
            ferry_store_rollback(st);
            if (err->status == FERRY_OK) {
                ferry_store_error(st, err, "migrate");
            }
            ferry_store_close(st);
            return FERRY_FATAL;
        }
        if (ferry_store_commit(st, err) != FERRY_OK) {
            ferry_store_close(st);
            return FERRY_FATAL;
        }
    }
    /* Keep the mode right even for a file created by an older tool. */
    chmod(path, 0600);
    *out = st;
    return FERRY_OK;
}

void ferry_store_close(ferry_store *st)
{
    if (st == NULL) {
        return;
    }
    for (int i = 0; i < st->cached; i++) {
        sqlite3_finalize(st->cache[i].stmt);
        free(st->cache[i].sql);
    }
    if (st->db != NULL) {
        sqlite3_close_v2(st->db);
    }
    free(st->path);
    free(st);
}

sqlite3 *ferry_store_db(ferry_store *st)
{
    return st->db;
}

const char *ferry_store_path(const ferry_store *st)
{
    return st->path;
}

int ferry_store_schema_version(ferry_store *st)
{
    int v = -1;
    read_user_version(st->db, &v);
    return v;
}

int ferry_store_latest_schema(void)
{
    return ferry_store_migrate_latest();
}

int ferry_store_exec(ferry_store *st, const char *sql, ferry_error *err)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int code = sqlite3_errcode(st->db);
        ferry_error_at(err, code == SQLITE_BUSY ? FERRY_RETRY : FERRY_FATAL, st->path, 0, "store: %s",
                       msg ? msg : "exec failed");
        sqlite3_free(msg);
        return err ? err->status : FERRY_FATAL;
    }
    return FERRY_OK;
}

int ferry_store_begin(ferry_store *st, ferry_error *err)
{
    if (st->depth > 0) {
        st->depth++;
        return FERRY_OK;
    }
    if (ferry_store_exec(st, "BEGIN IMMEDIATE", err) != FERRY_OK) {
        return err ? err->status : FERRY_FATAL;
    }
    st->depth = 1;
    st->rollback_only = 0;
    return FERRY_OK;
}

int ferry_store_commit(ferry_store *st, ferry_error *err)
{
    if (st->depth <= 0) {
        return ferry_error_at(err, FERRY_FATAL, st->path, 0, "store: commit without a transaction");
    }
    if (--st->depth > 0) {
        return FERRY_OK;
    }
    if (st->rollback_only) {
        ferry_store_exec(st, "ROLLBACK", NULL);
        return ferry_error_at(err, FERRY_FATAL, st->path, 0, "store: transaction was rolled back by an inner step");
    }
    if (ferry_store_exec(st, "COMMIT", err) != FERRY_OK) {
        ferry_store_exec(st, "ROLLBACK", NULL);
        return err ? err->status : FERRY_FATAL;
    }
    return FERRY_OK;
}

void ferry_store_rollback(ferry_store *st)
{
    if (st->depth <= 0) {
        return;
    }
    if (--st->depth > 0) {
        st->rollback_only = 1;
        return;
    }
    ferry_store_exec(st, "ROLLBACK", NULL);
}

sqlite3_stmt *ferry_store_prepare(ferry_store *st, const char *sql, ferry_error *err)
{
    for (int i = 0; i < st->cached; i++) {
        if (strcmp(st->cache[i].sql, sql) == 0) {
            sqlite3_reset(st->cache[i].stmt);
            sqlite3_clear_bindings(st->cache[i].stmt);
            return st->cache[i].stmt;
        }
    }
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
        ferry_store_error(st, err, "prepare");
        return NULL;
    }
    if (st->cached == STMT_CACHE_MAX) {
        /* Full: drop the oldest entry. */
        sqlite3_finalize(st->cache[0].stmt);
        free(st->cache[0].sql);
        memmove(st->cache, st->cache + 1, sizeof(st->cache[0]) * (STMT_CACHE_MAX - 1));
        st->cached--;
    }
    st->cache[st->cached].sql = ferry_strdup(sql);
    st->cache[st->cached].stmt = stmt;
    st->cached++;
    return stmt;
}

void ferry_store_done(sqlite3_stmt *stmt)
{
    if (stmt != NULL) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
    }
}

int ferry_store_step_done(ferry_store *st, sqlite3_stmt *stmt, ferry_error *err, const char *what)
{
    int rc = sqlite3_step(stmt);
    ferry_store_done(stmt);
    return rc == SQLITE_DONE ? FERRY_OK : ferry_store_error(st, err, what);
}

int ferry_store_bind_json(sqlite3_stmt *stmt, int idx, const json_t *value)
{
    if (value == NULL) {
        return sqlite3_bind_null(stmt, idx);
    }
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    if (text == NULL) {
        return SQLITE_NOMEM;
    }
    return sqlite3_bind_text(stmt, idx, text, -1, free);
}

json_t *ferry_store_column_json(sqlite3_stmt *stmt, int col)
{
    const char *text = (const char *)sqlite3_column_text(stmt, col);
    if (text == NULL) {
        return NULL;
    }
    return json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

int ferry_store_bind_text(sqlite3_stmt *stmt, int idx, const char *text)
{
    if (text == NULL) {
        return sqlite3_bind_null(stmt, idx);
    }
    return sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
}

char *ferry_store_timestamp(char *buf, size_t n)
{
    return ferry_time_iso((long long)time(NULL), buf, n);
}
