/*
 * sync_records.c - the pipeline of the record flows (customers, products,
 * stock): each source record is mapped to one or more target records, and
 * each is created or updated in the target by its key.
 *
 * The id map row of a source record is kept under the record's key at the
 * source (what 'ferry dead retry' fetches it by); the mapped record's own
 * `key` (an e-mail address, an article number) is what the target is
 * searched by: the store's target index, then one find call.  The row holds
 * the hash of what an update would write: a record whose update payload has
 * not changed since it was last written costs no call at all, and a record
 * still dead-lettered with an unchanged source waits for 'ferry dead retry'.
 *
 * Products honour the flow's create vs update field control: `create_fields`
 * are only written when the target record is created, and when
 * `update_fields` is set an update writes only those (plus the keys).  Both
 * take dotted paths for members of objects ("attributes.description").
 * With `create_missing` false (stock), a record the target does not have is
 * skipped with the reason instead of created.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "engine_run.h"
#include "error.h"
#include "util.h"

static const char *str_member(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && s[0] ? s : NULL;
}

static int records_begin(ferry_run *run, ferry_error *err)
{
    (void)run;
    (void)err;
    return FERRY_OK;
}

/* ---- fields by dotted path ------------------------------------------------------------------- */

/*
 * The object holding the member `path` names ("a.b.c" -> the object at a.b)
 * and the member's own name in *last (a pointer into `path`).  With `create`
 * missing objects on the way are added; otherwise NULL when there is none.
 */
static json_t *path_parent(json_t *root, const char *path, int create, const char **last)
{
    json_t *obj = root;
    const char *p = path;
    const char *dot;
    while ((dot = strchr(p, '.')) != NULL) {
        char name[256];
        size_t n = (size_t)(dot - p);
        if (n == 0 || n >= sizeof(name)) {
            return NULL;
        }
        memcpy(name, p, n);
        name[n] = '\0';
        json_t *next = json_object_get(obj, name);
        if (!json_is_object(next)) {
            if (!create || next != NULL) {
                return NULL;
            }
            next = json_object();
            json_object_set_new(obj, name, next);
        }
        obj = next;
        p = dot + 1;
    }
    *last = p;
    return json_is_object(obj) ? obj : NULL;
}

static json_t *path_get(json_t *root, const char *path)
{
    const char *last = NULL;
    json_t *parent = path ? path_parent(root, path, 0, &last) : NULL;
    return parent ? json_object_get(parent, last) : NULL;
}

static void path_del(json_t *root, const char *path)
{
    const char *last = NULL;
    json_t *parent = path ? path_parent(root, path, 0, &last) : NULL;
    if (parent != NULL) {
        json_object_del(parent, last);
    }
}

static void path_set(json_t *root, const char *path, json_t *value)
{
    const char *last = NULL;
    json_t *parent = path_parent(root, path, 1, &last);
    if (parent != NULL) {
        json_object_set(parent, last, value);
    }
}

/* ---- what an update writes ------------------------------------------------------------------- */

/*
 * The payload an update sends: without create_fields and the fields the
 * record lists in its own `create_only`, and only update_fields (with the
 * keys) when set.
 */
static json_t *update_payload(const ferry_run *run, const json_t *mapped)
{
    json_t *p = json_deep_copy(mapped);
    size_t i;
    json_t *f;
    json_array_foreach (ferry_run_setting(run, "create_fields"), i, f) {
        path_del(p, json_string_value(f));
    }
    json_array_foreach (json_object_get(mapped, "create_only"), i, f) {
        path_del(p, json_string_value(f)); /* the record's own create-only fields (magento2.so honours them too) */
    }
    const json_t *only = ferry_run_setting(run, "update_fields");
    if (json_is_array(only) && json_array_size(only) > 0) {
        json_t *kept = json_object();
        json_array_foreach (only, i, f) {
            json_t *v = path_get(p, json_string_value(f));
            if (v != NULL) {
                path_set(kept, json_string_value(f), v);
            }
        }
        static const char *const always[] = {"key", "sku", "number", "email", "target_fields", NULL};
        for (int k = 0; always[k]; k++) {
            json_t *v = json_object_get(p, always[k]);
            if (v != NULL) {
                json_object_set(kept, always[k], v);
            }
        }
        json_decref(p);
        p = kept;
    }
    return p;
}

/* The hash of everything the mapped records' updates would write. */
static char *payload_hash_of(const ferry_run *run, const json_t *mapped)
{
    json_t *all = json_array();
    size_t i;
    json_t *m;
    json_array_foreach (mapped, i, m) {
        json_array_append_new(all, update_payload(run, m));
    }
    char *h = ferry_syncstate_hash(all);
    json_decref(all);
    return h;
}

/* ---- the target ------------------------------------------------------------------------------ */

/*
 * Find the target object of `entity` with key `key`: the index (unless
 * `*from_index` is NULL), then one find call, which also corrects the index.
 * *id new or NULL; *from_index 1 when the id came from the index.  A found
 * object without an id of its own (a Magento stock item) is known by its key.
 */
static int find_target(ferry_run *run, const char *entity, const char *key, char **id, int *from_index,
                       ferry_error *err)
{
    long long cid = ferry_endpoint_connection(run->dst)->id;
    *id = NULL;
    if (from_index != NULL) {
        *from_index = 0;
        int rc = ferry_target_index_get(run->st, cid, entity, "key", key, id, NULL, err);
        if (rc != FERRY_OK || *id != NULL) {
            *from_index = *id != NULL;
            return rc;
        }
    }
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    if (d->find == NULL) {
        return FERRY_OK;
    }
    json_t *found = NULL;
    int rc = d->find(run->dst->conn, entity, "key", key, &found, err);
    if (rc == FERRY_OK && found != NULL) {
        const char *fid = str_member(found, "id") ? str_member(found, "id") : key;
        *id = ferry_strdup(fid);
        ferry_target_index_put(run->st, cid, entity, "key", key, *id, NULL, err);
    } else if (rc == FERRY_OK && from_index == NULL) {
        ferry_target_index_forget(run->st, cid, entity, "key", key, err);
    }
    json_decref(found);
    return rc;
}

/* Update `id` with `payload`, or create it when `id` is NULL. */
static int send(ferry_run *run, const char *entity, const char *id, const json_t *payload, json_t **result,
                ferry_error *err)
{
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    *result = NULL;
    if (id != NULL) {
        return d->update ? d->update(run->dst->conn, entity, id, payload, result, err)
                         : ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "plugin %s cannot update %s",
                                           run->dst->plugin->name, entity);
    }
    return d->create ? d->create(run->dst->conn, entity, payload, result, err)
                     : ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "plugin %s cannot create %s",
                                       run->dst->plugin->name, entity);
}

/* What became of one mapped record. */
typedef enum write_result { WRITE_DONE, WRITE_MISSING, WRITE_FAILED } write_result;

/* The dry run: report what would be written (as the target's native payload when it can say). */
static void report_would(ferry_run *run, const char *entity, const char *tkey, const char *id, const json_t *payload)
{
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    json_t *native = NULL;
    ferry_error nerr;
    ferry_error_clear(&nerr);
    if (d->to_native == NULL || d->to_native(run->dst->conn, entity, payload, &native, &nerr) != FERRY_OK) {
        json_decref(native);
        native = json_incref((json_t *)payload);
    }
    char *decision = ferry_asprintf("would %s %s %s", id ? "update" : "create", entity, tkey);
    ferry_run_report(run, tkey, decision, native);
    free(decision);
    json_decref(native);
}

/*
 * Create or update one mapped record.  WRITE_DONE with *target_id (new) set
 * and *created 1 when it was created, WRITE_MISSING when the target has no
 * such record and create_missing is false, WRITE_FAILED with the status in
 * err (*sent: what was sent, new).
 */
static write_result write_one(ferry_run *run, const char *tkey, const json_t *mapped, char **target_id, int *created,
                              json_t **sent, ferry_error *err)
{
    const char *entity = run->flow->target_entity;
    int create_missing = !json_is_false(ferry_run_setting(run, "create_missing"));
    *target_id = NULL;
    *sent = NULL;
    char *id = NULL;
    int from_index = 0;
    if (find_target(run, entity, tkey, &id, &from_index, err) != FERRY_OK) {
        return WRITE_FAILED;
    }
    if (id == NULL && !create_missing) {
        return WRITE_MISSING;
    }
    json_t *payload = id ? update_payload(run, mapped) : json_incref((json_t *)mapped);
    if (run->opts->dry_run) {
        report_would(run, entity, tkey, id, payload);
        json_decref(payload);
        *created = id == NULL;
        *target_id = id ? id : ferry_strdup("(dry run)");
        return WRITE_DONE;
    }
    json_t *result = NULL;
    int rc = send(run, entity, id, payload, &result, err);
    if (rc == FERRY_RECORD_ERROR && from_index) {
        /* The index may be stale (the target record was deleted or merged by hand): ask the target once. */
        char *fresh = NULL;
        ferry_error ferr;
        ferry_error_clear(&ferr);
        if (find_target(run, entity, tkey, &fresh, NULL, &ferr) == FERRY_OK &&
            (fresh == NULL || strcmp(fresh, id) != 0)) {
            free(id);
            id = fresh;
            fresh = NULL;
            json_decref(payload);
            json_decref(result);
            ferry_error_clear(err);
            if (id == NULL && !create_missing) {
                return WRITE_MISSING;
            }
            payload = id ? update_payload(run, mapped) : json_incref((json_t *)mapped);
            rc = send(run, entity, id, payload, &result, err);
        }
        free(fresh);
    }
    if (rc != FERRY_OK) {
        *sent = payload;
        json_decref(result);
        free(id);
        return WRITE_FAILED;
    }
    json_decref(payload);
    *created = id == NULL;
    const char *written = id ? id : str_member(result, "id");
    if (written != NULL) {
        ferry_target_index_put(run->st, ferry_endpoint_connection(run->dst)->id, entity, "key", tkey, written, NULL,
                               err);
        *target_id = ferry_strdup(written);
    }
    ferry_run_event(run, "info", "synced", run->current_key, result, "%s %s %s", id ? "updated" : "created", entity,
                    tkey);
    json_decref(result);
    free(id);
    return WRITE_DONE;
}

/* ---- one source record ----------------------------------------------------------------------- */

static record_outcome settle_skipped(ferry_run *run, const char *key, const char *hash, const char *reason,
                                     ferry_error *err)
{
    ferry_run_event(run, "info", "skipped", key, NULL, "%s", reason);
    ferry_run_report(run, key, reason, NULL);
    return ferry_run_settle(run, key, "skipped", NULL, NULL, hash, reason, err) == FERRY_OK ? OUTCOME_SKIPPED
                                                                                            : OUTCOME_STOP;
}

/*
 * What the id map says before mapping: 1 with *outcome when a dead letter
 * waits for a retry or a change (nothing to do), else 0; *prev_payload the
 * stored payload hash of a synced record (new, or NULL).
 */
static int look_up(ferry_run *run, const char *key, const char *hash, char **prev_payload, record_outcome *outcome,
                   ferry_error *err)
{
    ferry_idmap_entry e;
    int found = 0;
    *prev_payload = NULL;
    if (ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &found, err) != FERRY_OK) {
        *outcome = OUTCOME_STOP;
        return 1;
    }
    int done = 0;
    if (found && strcmp(e.state, "dead") == 0 && e.source_hash != NULL && strcmp(e.source_hash, hash) == 0) {
        done = 1; /* still dead-lettered and unchanged: wait for 'ferry dead retry' or a change */
        *outcome = OUTCOME_SKIPPED;
    } else if (found && strcmp(e.state, "synced") == 0 && e.payload_hash != NULL) {
        *prev_payload = ferry_strdup(e.payload_hash);
    }
    ferry_idmap_entry_clear(&e);
    return done;
}

/* Record the record as synced with what it wrote. */
static int settle_synced(ferry_run *run, const char *key, const char *target_id, const char *target_ref,
                         const char *payload_hash, const char *hash, const char *reason, ferry_error *err)
{
    if (run->opts->dry_run) {
        return FERRY_OK;
    }
    ferry_idmap_entry s;
    memset(&s, 0, sizeof(s));
    ferry_strlcpy(s.state, "synced", sizeof(s.state));
    s.target_id = (char *)target_id;
    s.target_ref = (char *)target_ref;
    s.payload_hash = (char *)payload_hash;
    s.source_hash = (char *)hash;
    s.run_id = run->run_id;
    s.reason = (char *)reason;
    if (ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &s, err) != FERRY_OK ||
        ferry_activity_dead_resolve(run->st, run->flow->id, run->flow->source_entity, key, err) != FERRY_OK) {
        return err->status ? err->status : FERRY_FATAL;
    }
    return FERRY_OK;
}

/* How many runs one record may stop with a transient error before it is dead-lettered (no poison pill). */
#define MAX_TRANSIENT_STOPS 3

/*
 * A write failed with a transient error (FERRY_RETRY): the run stops and the
 * record is tried again next run - unless it has now stopped
 * MAX_TRANSIENT_STOPS runs in a row: then it is dead-lettered so the flow
 * goes on.  A create that may have arrived is no risk: the next attempt finds
 * the target record by its key before it writes.
 */
static record_outcome transient_stop(ferry_run *run, const char *key, const json_t *record, const json_t *payload,
                                     ferry_error *err)
{
    if (run->opts->dry_run) {
        return OUTCOME_STOP;
    }
    ferry_idmap_entry e;
    int found = 0;
    ferry_error ierr;
    ferry_error_clear(&ierr);
    if (ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &found, &ierr) != FERRY_OK) {
        return OUTCOME_STOP;
    }
    if (!found) {
        memset(&e, 0, sizeof(e));
        ferry_strlcpy(e.state, "skipped", sizeof(e.state));
    }
    int attempts = e.attempts + 1;
    if (attempts < MAX_TRANSIENT_STOPS) {
        e.attempts = attempts;
        free(e.reason);
        e.reason = ferry_asprintf("transient failure %d of %d: %s", attempts, MAX_TRANSIENT_STOPS, err->message);
        ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, &ierr);
        ferry_idmap_entry_clear(&e);
        return OUTCOME_STOP;
    }
    ferry_idmap_entry_clear(&e);
    /* The same record stopped the flow run after run: dead-letter it so the others get through. */
    ferry_error why = *err;
    ferry_error_clear(err);
    return ferry_run_dead(run, key, "write", &why, record, payload, NULL, err);
}

/* Write every mapped record of source record `key`; the outcome of the whole. */
static record_outcome write_all(ferry_run *run, const char *key, const json_t *record, const json_t *mapped,
                                const char *hash, const char *payload_hash, ferry_error *err)
{
    char *first_id = NULL;
    int any_created = 0;
    const char *first_ref = NULL;
    json_t *missing = json_array();
    record_outcome outcome = OUTCOME_SYNCED;
    size_t i;
    json_t *m;
    json_array_foreach (mapped, i, m) {
        const char *tkey = str_member(m, "key") ? str_member(m, "key") : key;
        char *id = NULL;
        json_t *sent = NULL;
        int created = 0;
        write_result w = write_one(run, tkey, m, &id, &created, &sent, err);
        if (w == WRITE_FAILED) {
            if (err->status == FERRY_RETRY) {
                outcome = transient_stop(run, key, record, sent ? sent : m, err);
            } else if (ferry_run_status_stops(err->status)) {
                outcome = OUTCOME_STOP;
            } else {
                ferry_error why = *err;
                ferry_error_clear(err);
                outcome = ferry_run_dead(run, key, "write", &why, record, sent ? sent : m, NULL, err);
            }
            json_decref(sent);
            break;
        }
        if (w == WRITE_MISSING) {
            json_array_append_new(missing, json_string(tkey));
        } else {
            any_created |= created;
            if (first_id == NULL) {
                first_id = id;
                first_ref = tkey;
                id = NULL;
            }
        }
        free(id);
    }
    if (outcome == OUTCOME_SYNCED && json_array_size(missing) == json_array_size(mapped)) {
        char *list = json_dumps(missing, JSON_COMPACT);
        char *reason =
            ferry_asprintf("%s has no %s %s; not created (create_missing is false)", run->flow->target_connection,
                           run->flow->target_entity,
                           json_array_size(missing) == 1 ? json_string_value(json_array_get(missing, 0)) : list);
        outcome = settle_skipped(run, key, hash, reason, err);
        free(reason);
        free(list);
    } else if (outcome == OUTCOME_SYNCED) {
        /* A part not written yet (missing) is tried again next run: keep no payload hash then. */
        const char *ph = json_array_size(missing) == 0 ? payload_hash : NULL;
        if (settle_synced(run, key, first_id, first_ref, ph, hash, any_created ? "created" : "updated", err) !=
            FERRY_OK) {
            outcome = OUTCOME_STOP;
        }
    }
    json_decref(missing);
    free(first_id);
    return outcome;
}

static record_outcome records_process(ferry_run *run, const json_t *record, ferry_error *err)
{
    const char *key = str_member(record, "key");
    char *hash = ferry_run_source_hash(record);
    char *prev_payload = NULL;
    record_outcome outcome;
    if (look_up(run, key, hash, &prev_payload, &outcome, err)) {
        free(hash);
        return outcome;
    }
    ferry_error refused;
    if (ferry_run_refused(record, &refused)) {
        free(hash);
        free(prev_payload);
        return ferry_run_dead(run, key, "read", &refused, record, NULL, NULL, err);
    }
    json_t *mapped = NULL;
    char skip_reason[512] = "";
    int rc = ferry_run_map(run, record, &mapped, skip_reason, sizeof(skip_reason), err);
    if (rc != FERRY_OK) {
        free(hash);
        free(prev_payload);
        if (ferry_run_status_stops(rc)) {
            return OUTCOME_STOP;
        }
        ferry_error why = *err;
        ferry_error_clear(err);
        return ferry_run_dead(run, key, "map", &why, record, NULL, NULL, err);
    }
    if (json_array_size(mapped) == 0) {
        outcome = settle_skipped(run, key, hash, skip_reason[0] ? skip_reason : "the mapping returned nothing", err);
    } else {
        char *payload_hash = payload_hash_of(run, mapped);
        if (prev_payload != NULL && strcmp(prev_payload, payload_hash) == 0) {
            outcome = OUTCOME_UNCHANGED; /* written before with exactly what an update would write now */
        } else {
            if (run->payload_events) {
                /* the canonical record; the native one can be read again from the source */
                json_t *slim = json_deep_copy(record);
                json_object_del(slim, "source");
                ferry_run_event(run, "info", "read", key, slim, "read %s %s from %s", run->flow->source_entity, key,
                                run->flow->source_connection);
                json_decref(slim);
                ferry_run_event(run, "debug", "mapped", key, mapped, "mapped to %zu %s record(s)",
                                json_array_size(mapped), run->flow->target_entity);
            }
            outcome = write_all(run, key, record, mapped, hash, payload_hash, err);
        }
        free(payload_hash);
    }
    json_decref(mapped);
    free(hash);
    free(prev_payload);
    return outcome;
}

const run_kind_ops ferry_sync_records_ops = {records_begin, records_process};
