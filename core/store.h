/*
 * store.h - ferry's SQLite store: opening, migrating, transactions.
 *
 * One database file holds everything ferry must remember: connections and
 * their (secret) settings, flows, settings, value maps, cursors, the id map,
 * runs, events, dead letters.  It is opened in WAL mode with foreign keys on
 * and synchronous=NORMAL; numbered migrations (store_migrate.c) run at open
 * inside one transaction.  A database written by a newer ferry is refused
 * without being touched.  The file is created with mode 0600 (it holds
 * secrets) in a directory created 0700.
 *
 * The domain modules (connection.c, flow.c, syncstate.c, activity.c) own the
 * SQL for their tables; this module owns the file.
 */
#ifndef FERRY_STORE_H
#define FERRY_STORE_H

#include <sqlite3.h>

#include <ferry/plugin.h>

typedef struct ferry_store ferry_store;

/* ferry_store_open flags */
#define FERRY_STORE_CREATE 0x1 /* create the file when missing (else FERRY_CONFIG_ERROR) */

/*
 * The database path to use: `explicit_path` when given, else $FERRY_DB, else
 * $XDG_DATA_HOME/ferry/ferry.db, else $HOME/.local/share/ferry/ferry.db.
 * Returns a new string (free()).
 */
char *ferry_store_default_path(const char *explicit_path);

/*
 * Open (and migrate) the store at `path`.  On success *out is the store,
 * closed with ferry_store_close.  A newer schema is FERRY_CONFIG_ERROR and
 * leaves the file untouched; I/O or corruption is FERRY_FATAL.
 */
int ferry_store_open(const char *path, int flags, ferry_store **out, ferry_error *err);
void ferry_store_close(ferry_store *st);

/* The underlying handle (borrowed). */
sqlite3 *ferry_store_db(ferry_store *st);
const char *ferry_store_path(const ferry_store *st);

/* The schema version of the open store, and the newest this ferry knows. */
int ferry_store_schema_version(ferry_store *st);
int ferry_store_latest_schema(void);

/*
 * Transactions.  begin takes the write lock at once (BEGIN IMMEDIATE) and
 * waits up to the busy timeout for other processes.  Nesting is counted: only
 * the outermost commit commits; a rollback at any depth rolls back the whole
 * transaction and makes the outer commit fail.
 */
int ferry_store_begin(ferry_store *st, ferry_error *err);
int ferry_store_commit(ferry_store *st, ferry_error *err);
void ferry_store_rollback(ferry_store *st);

/* Run SQL without results (several statements allowed). */
int ferry_store_exec(ferry_store *st, const char *sql, ferry_error *err);

/*
 * Prepare a statement (cached per store: callers must sqlite3_reset it, or
 * use ferry_store_done).  NULL with err set on failure.
 */
sqlite3_stmt *ferry_store_prepare(ferry_store *st, const char *sql, ferry_error *err);

/* Reset and clear the bindings of a statement from ferry_store_prepare. */
void ferry_store_done(sqlite3_stmt *stmt);

/* Fill err from the last SQLite error on this store, naming `what`; returns FERRY_FATAL (or FERRY_RETRY when busy). */
int ferry_store_error(ferry_store *st, ferry_error *err, const char *what);

/*
 * Step a statement that returns no rows (INSERT, UPDATE, DELETE) and release
 * it (ferry_store_done): FERRY_OK, or ferry_store_error naming `what`.
 */
int ferry_store_step_done(ferry_store *st, sqlite3_stmt *stmt, ferry_error *err, const char *what);

/* Bind a JSON value as compact text (NULL binds SQL NULL); and read a column as JSON (new reference or NULL). */
int ferry_store_bind_json(sqlite3_stmt *stmt, int idx, const json_t *value);
json_t *ferry_store_column_json(sqlite3_stmt *stmt, int col);

/* Bind a string or NULL. */
int ferry_store_bind_text(sqlite3_stmt *stmt, int idx, const char *text);

/* Current UTC time as "YYYY-MM-DDTHH:MM:SSZ" into buf (>= 21 bytes). */
char *ferry_store_timestamp(char *buf, size_t n);

#endif /* FERRY_STORE_H */
