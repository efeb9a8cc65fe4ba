/*
 * syncstate.h - what ferry remembers about syncing: cursors, the id map,
 * and the index of target objects prefetched in bulk.
 *
 * Cursors: one opaque JSON cursor per (flow, entity), owned by the source
 * plugin; the engine writes it in the same transaction that settles every
 * record of the page it belongs to.
 *
 * Id map: per (flow, entity, source key) the state of that record -
 * 'intent' (committed before a create, so a crash can be reconciled by the
 * external reference), then 'synced', 'skipped', 'dead' or 'mismatch' - with
 * the target id/reference and hashes of what was read and what was sent.
 *
 * Target index: per (connection, entity, key name, key value) the target id
 * of objects read in bulk (customers by e-mail, articles by number), so a run
 * does not look the same thing up twice.
 */
#ifndef FERRY_SYNCSTATE_H
#define FERRY_SYNCSTATE_H

#include <ferry/plugin.h>

#include "store.h"

/* *cursor is a new reference, or NULL when the flow has none yet. */
int ferry_syncstate_cursor_get(ferry_store *st, long long flow_id, const char *entity, json_t **cursor,
                               ferry_error *err);
int ferry_syncstate_cursor_set(ferry_store *st, long long flow_id, const char *entity, const json_t *cursor,
                               ferry_error *err);

/* Forget the flow's cursors; with `ids` also its id map (reconciled by reference on the next run). */
int ferry_syncstate_reset(ferry_store *st, long long flow_id, int ids, ferry_error *err);

/* Counts of id map states for a flow: new object {"synced": n, ...}. */
int ferry_syncstate_counts(ferry_store *st, long long flow_id, json_t **counts, ferry_error *err);

/* One id map row. */
typedef struct ferry_idmap_entry {
    char state[16];
    char *target_id;
    char *target_ref;
    char *payload_hash;
    char *source_hash;
    char *reason;
    char *source_id; /* the source's internal id (e.g. Magento entity_id), for follow-ups */
    char *pending;   /* a follow-up still to do after the write (e.g. "comment"), or NULL */
    int attempts;
    long long run_id;
    long long updated; /* when the row was last written, epoch seconds (read by ferry_idmap_get only) */
} ferry_idmap_entry;

void ferry_idmap_entry_clear(ferry_idmap_entry *e);

/* Read the row of a source key; *found 0 when there is none. */
int ferry_idmap_get(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                    ferry_idmap_entry *out, int *found, ferry_error *err);

/*
 * Write (insert or replace) the row of a source key.  NULL members of `e`
 * keep nothing (stored as NULL); attempts and run_id as given.
 */
int ferry_idmap_put(ferry_store *st, long long flow_id, const char *entity, const char *source_key,
                    const ferry_idmap_entry *e, ferry_error *err);

/* Source keys of the flow with a pending follow-up: new array of {key, source_id, pending, target_id, target_ref}. */
int ferry_idmap_pending(ferry_store *st, long long flow_id, json_t **rows, ferry_error *err);

/* Source keys of the flow in `state` (e.g. "intent"), as a new JSON array of strings. */
int ferry_idmap_keys_in_state(ferry_store *st, long long flow_id, const char *state, json_t **keys, ferry_error *err);

/* Target index lookups: *target_id (new string) and *data (new reference) or both NULL. */
int ferry_target_index_get(ferry_store *st, long long connection_id, const char *entity, const char *key_name,
                           const char *key_value, char **target_id, json_t **data, ferry_error *err);
int ferry_target_index_put(ferry_store *st, long long connection_id, const char *entity, const char *key_name,
                           const char *key_value, const char *target_id, const json_t *data, ferry_error *err);
/* Forget every index row of a connection's entity (before a full re-read). */
int ferry_target_index_clear(ferry_store *st, long long connection_id, const char *entity, ferry_error *err);
/* Forget one index row (its target record is gone). */
int ferry_target_index_forget(ferry_store *st, long long connection_id, const char *entity, const char *key_name,
                              const char *key_value, ferry_error *err);

/* A stable hash of a JSON value (sorted keys, compact): new hex string. */
char *ferry_syncstate_hash(const json_t *value);

#endif /* FERRY_SYNCSTATE_H */
