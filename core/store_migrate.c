/* store_migrate.c - numbered schema migrations (see store_migrate.h). */
#include "config.h"

#include "store_migrate.h"

#include <stdio.h>

#include "error.h"

/*
 * Schema 1: everything ferry remembers.
 *
 * Times are UTC text "YYYY-MM-DDTHH:MM:SSZ".  JSON columns hold compact JSON.
 * Secrets live in connection_settings with secret=1: the file is 0600 and
 * nothing prints them unmasked.
 */
static const char migration_1[] =
    "CREATE TABLE settings ("
    "  name TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"

    "CREATE TABLE connections ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  plugin TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'ok' CHECK (status IN ('ok','needs_reauth','disabled')),"
    "  status_message TEXT,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"

    "CREATE TABLE connection_settings ("
    "  connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value TEXT,"
    "  secret INTEGER NOT NULL DEFAULT 0,"
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (connection_id, name));"

    /* Small per-connection plugin state: cached reference data, token expiry... */
    "CREATE TABLE connection_state ("
    "  connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (connection_id, key));"

    /* Cross-process locks (token refresh): owner is host:pid, expires_at is ms since the epoch. */
    "CREATE TABLE locks ("
    "  name TEXT PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  expires_at INTEGER NOT NULL);"

    "CREATE TABLE flows ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  kind TEXT NOT NULL,"
    "  source_connection_id INTEGER NOT NULL REFERENCES connections(id),"
    "  source_entity TEXT NOT NULL,"
    "  target_connection_id INTEGER NOT NULL REFERENCES connections(id),"
    "  target_entity TEXT NOT NULL,"
    "  mapping TEXT,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  description TEXT,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL);"

    "CREATE TABLE flow_settings ("
    "  flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (flow_id, name));"

    "CREATE TABLE value_maps ("
    "  flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    "  map TEXT NOT NULL,"
    "  from_value TEXT NOT NULL,"
    "  to_value TEXT NOT NULL,"
    "  PRIMARY KEY (flow_id, map, from_value));"

    /* One opaque cursor per (flow, entity), owned by the source plugin. */
    "CREATE TABLE cursors ("
    "  flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    "  entity TEXT NOT NULL,"
    "  cursor TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (flow_id, entity));"

    /*
     * The id map: what became of each source record.  state 'intent' is
     * committed before a create and resolved on restart by the external
     * reference; 'synced', 'skipped', 'dead', 'mismatch' are terminal.
     */
    "CREATE TABLE id_map ("
    "  flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    "  entity TEXT NOT NULL,"
    "  source_key TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('intent','synced','skipped','dead','mismatch')),"
    "  target_id TEXT,"
    "  target_ref TEXT,"
    "  payload_hash TEXT,"
    "  source_hash TEXT,"
    "  reason TEXT,"
    "  source_id TEXT,"
    "  pending TEXT,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  run_id INTEGER,"
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (flow_id, entity, source_key));"
    "CREATE INDEX id_map_state ON id_map(flow_id, state);"
    "CREATE INDEX id_map_pending ON id_map(flow_id, pending) WHERE pending IS NOT NULL;"

    /* Target objects prefetched in bulk (customers by e-mail, articles by number). */
    "CREATE TABLE target_index ("
    "  connection_id INTEGER NOT NULL REFERENCES connections(id) ON DELETE CASCADE,"
    "  entity TEXT NOT NULL,"
    "  key_name TEXT NOT NULL,"
    "  key_value TEXT NOT NULL,"
    "  target_id TEXT NOT NULL,"
    "  data TEXT,"
    "  updated_at TEXT NOT NULL,"
    "  PRIMARY KEY (connection_id, entity, key_name, key_value));"

    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    "  started_at TEXT NOT NULL,"
    "  finished_at TEXT,"
    "  status TEXT NOT NULL DEFAULT 'running',"
    "  dry_run INTEGER NOT NULL DEFAULT 0,"
    "  pid INTEGER,"
    "  read_count INTEGER NOT NULL DEFAULT 0,"
    "  synced_count INTEGER NOT NULL DEFAULT 0,"
    "  skipped_count INTEGER NOT NULL DEFAULT 0,"
    "  failed_count INTEGER NOT NULL DEFAULT 0,"
    "  source_calls INTEGER NOT NULL DEFAULT 0,"
    "  target_calls INTEGER NOT NULL DEFAULT 0,"
    "  message TEXT);"

    /*
     * The activity log: per record what came from the source, what was sent
     * and what the target answered (all redacted before they get here).
     */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY,"
    "  run_id INTEGER REFERENCES runs(id) ON DELETE CASCADE,"
    "  flow_id INTEGER REFERENCES flows(id) ON DELETE CASCADE,"
    "  connection_id INTEGER REFERENCES connections(id) ON DELETE CASCADE,"
    "  ts TEXT NOT NULL,"
    "  level TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  entity TEXT,"
    "  record_key TEXT,"
    "  message TEXT,"
    "  data TEXT);"
    "CREATE INDEX events_run ON events(run_id);"
    "CREATE INDEX events_record ON events(flow_id, record_key);"
    "CREATE INDEX events_ts ON events(ts);"

    "CREATE TABLE dead_letters ("
    "  id INTEGER PRIMARY KEY,"
    "  flow_id INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,"
    "  entity TEXT NOT NULL,"
    "  source_key TEXT NOT NULL,"
    "  stage TEXT NOT NULL,"
    "  error_class TEXT NOT NULL,"
    "  message TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 1,"
    "  first_seen TEXT NOT NULL,"
    "  last_seen TEXT NOT NULL,"
    "  record TEXT,"
    "  payload TEXT,"
    "  response TEXT,"
    "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open','resolved','discarded')));"
    "CREATE UNIQUE INDEX dead_letters_open ON dead_letters(flow_id, entity, source_key) WHERE status = 'open';"

    "CREATE TABLE alerts ("
    "  id INTEGER PRIMARY KEY,"
    "  ts TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  flow_id INTEGER REFERENCES flows(id) ON DELETE CASCADE,"
    "  connection_id INTEGER REFERENCES connections(id) ON DELETE CASCADE,"
    "  message TEXT NOT NULL,"
    "  delivered INTEGER NOT NULL DEFAULT 0);";

typedef struct migration {
    int version;
    const char *sql;
    const char *summary;
} migration;

static const migration migrations[] = {
    {1, migration_1, "initial schema"},
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int ferry_store_migrate_latest(void)
{
    return migrations[N_MIGRATIONS - 1].version;
}

int ferry_store_migrate_apply(sqlite3 *db, int from, ferry_error *err)
{
    for (int i = 0; i < N_MIGRATIONS; i++) {
        if (migrations[i].version <= from) {
            continue;
        }
        char *msg = NULL;
        if (sqlite3_exec(db, migrations[i].sql, NULL, NULL, &msg) != SQLITE_OK) {
            ferry_error_at(err, FERRY_FATAL, NULL, 0, "store: migration %d (%s) failed: %s", migrations[i].version,
                           migrations[i].summary, msg ? msg : "?");
            sqlite3_free(msg);
            return FERRY_FATAL;
        }
        char pragma[64];
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", migrations[i].version);
        if (sqlite3_exec(db, pragma, NULL, NULL, &msg) != SQLITE_OK) {
            ferry_error_at(err, FERRY_FATAL, NULL, 0, "store: setting schema version %d failed: %s",
                           migrations[i].version, msg ? msg : "?");
            sqlite3_free(msg);
            return FERRY_FATAL;
        }
    }
    return FERRY_OK;
}
