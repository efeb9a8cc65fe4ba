/*
 * store_migrate.h - the numbered schema migrations of the store.
 *
 * Migration N moves the schema from version N-1 to N (PRAGMA user_version).
 * Migrations are only ever appended; a released one is never edited.
 */
#ifndef FERRY_STORE_MIGRATE_H
#define FERRY_STORE_MIGRATE_H

#include <sqlite3.h>

#include <ferry/plugin.h>

/* The newest schema version this build knows. */
int ferry_store_migrate_latest(void);

/*
 * Apply every migration after `from` up to the latest, inside the caller's
 * transaction; returns FERRY_OK or FERRY_FATAL naming the failing migration.
 */
int ferry_store_migrate_apply(sqlite3 *db, int from, ferry_error *err);

#endif /* FERRY_STORE_MIGRATE_H */
