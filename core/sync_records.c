/*
 * sync_records.c - the pipeline of the record flows (customers, products,
 * stock): each source record is mapped to one or more target records, and
 * each is created or updated in the target by its key.
 *
 * A target record is found by key through the store's target index, then one
 * find call; a record whose mapped payload has not changed since it was last
 * written is not written again (payload hash in the id map).  Products honour
 * the flow's create vs update field control: `create_fields` are only
 * written when the product is created, and when `update_fields` is set an
 * update writes only those.
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

/* The payload an update sends: without create-only fields, and only update_fields when set. */
static json_t *update_payload(const ferry_run *run, const json_t *mapped)
{
    json_t *p = json_deep_copy(mapped);
    size_t i;
    json_t *f;
    json_array_foreach (run_setting(run, "create_fields"), i, f) {
        json_object_del(p, json_string_value(f));
    }
    const json_t *only = run_setting(run, "update_fields");
    if (json_is_array(only) && json_array_size(only) > 0) {
        json_t *kept = json_object();
        json_array_foreach (only, i, f) {
            json_t *v = json_object_get(p, json_string_value(f));
            if (v != NULL) {
                json_object_set(kept, json_string_value(f), v);
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

/* Find the target object of `entity` with key `key`: index, then one find. *id new or NULL. */
static int find_target(ferry_run *run, const char *entity, const char *key, char **id, ferry_error *err)
{
    long long cid = ferry_endpoint_connection(run->dst)->id;
    if (ferry_target_index_get(run->st, cid, entity, "key", key, id, NULL, err) != FERRY_OK || *id != NULL) {
        return err->status;
    }
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    if (d->find == NULL) {
        return FERRY_OK;
    }
    json_t *found = NULL;
    int rc = d->find(run->dst->conn, entity, "key", key, &found, err);
    if (rc == FERRY_OK && found != NULL && str_member(found, "id") != NULL) {
        *id = ferry_strdup(str_member(found, "id"));
        ferry_target_index_put(run->st, cid, entity, "key", key, *id, NULL, err);
    }
    json_decref(found);
    return rc;
}

/* Write one mapped record; returns the outcome. */
static record_outcome write_one(ferry_run *run, const char *src_key, const json_t *record, json_t *mapped,
                                const char *hash, ferry_error *err)
{
    const char *entity = run->flow->target_entity;
    const char *key = str_member(mapped, "key") ? str_member(mapped, "key") : src_key;
    char *payload_hash = ferry_syncstate_hash(mapped);
    ferry_idmap_entry e;
    int found = 0;
    if (ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &found, err) != FERRY_OK) {
        free(payload_hash);
        return OUTCOME_STOP;
    }
    if (found && strcmp(e.state, "synced") == 0 && e.payload_hash && strcmp(e.payload_hash, payload_hash) == 0) {
        ferry_idmap_entry_clear(&e);
        free(payload_hash);
        return OUTCOME_UNCHANGED;
    }
    ferry_idmap_entry_clear(&e);
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    char *id = NULL;
    int rc = find_target(run, entity, key, &id, err);
    json_t *result = NULL;
    const char *action = id ? "update" : "create";
    if (rc == FERRY_OK) {
        if (run->opts->dry_run) {
            json_t *payload = id ? update_payload(run, mapped) : json_incref(mapped);
            json_t *native = NULL;
            if (d->to_native == NULL || d->to_native(run->dst->conn, entity, payload, &native, err) != FERRY_OK) {
                native = json_incref(payload);
            }
            char *decision = ferry_asprintf("would %s %s %s", action, entity, key);
            run_report(run, key, decision, native);
            free(decision);
            json_decref(native);
            json_decref(payload);
        } else if (id != NULL) {
            json_t *payload = update_payload(run, mapped);
            rc = d->update ? d->update(run->dst->conn, entity, id, payload, &result, err)
                           : ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "plugin %s cannot update %s",
                                             run->dst->plugin->name, entity);
            json_decref(payload);
        } else {
            rc = d->create ? d->create(run->dst->conn, entity, mapped, &result, err)
                           : ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "plugin %s cannot create %s",
                                             run->dst->plugin->name, entity);
        }
    }
    record_outcome outcome = OUTCOME_SYNCED;
    if (rc != FERRY_OK) {
        if (run_status_stops(rc)) {
            outcome = OUTCOME_STOP;
        } else {
            ferry_error why = *err;
            ferry_error_clear(err);
            outcome = run_dead(run, key, "write", &why, record, mapped, NULL, err);
        }
    } else if (!run->opts->dry_run) {
        const char *target_id = id ? id : str_member(result, "id");
        if (target_id != NULL) {
            ferry_target_index_put(run->st, ferry_endpoint_connection(run->dst)->id, entity, "key", key, target_id,
                                   NULL, err);
        }
        ferry_idmap_entry s;
        memset(&s, 0, sizeof(s));
        ferry_strlcpy(s.state, "synced", sizeof(s.state));
        s.target_id = (char *)target_id;
        s.payload_hash = payload_hash;
        s.source_hash = (char *)hash;
        s.run_id = run->run_id;
        s.reason = id ? "updated" : "created";
        if (ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &s, err) != FERRY_OK ||
            ferry_activity_dead_resolve(run->st, run->flow->id, run->flow->source_entity, key, err) != FERRY_OK) {
            outcome = OUTCOME_STOP;
        } else {
            run_event(run, "info", "synced", key, result, "%sd %s %s", action, entity, key);
        }
    }
    json_decref(result);
    free(id);
    free(payload_hash);
    return outcome;
}

static record_outcome records_process(ferry_run *run, const json_t *record, ferry_error *err)
{
    const char *key = str_member(record, "key");
    char *hash = run_source_hash(record);
    json_t *mapped = NULL;
    char skip_reason[512] = "";
    int rc = run_map(run, record, &mapped, skip_reason, sizeof(skip_reason), err);
    if (rc != FERRY_OK) {
        free(hash);
        if (run_status_stops(rc)) {
            return OUTCOME_STOP;
        }
        ferry_error why = *err;
        ferry_error_clear(err);
        return run_dead(run, key, "map", &why, record, NULL, NULL, err);
    }
    if (json_array_size(mapped) == 0) {
        const char *reason = skip_reason[0] ? skip_reason : "the mapping returned nothing";
        run_report(run, key, reason, NULL);
        rc = run_settle(run, key, "skipped", NULL, NULL, hash, reason, err);
        json_decref(mapped);
        free(hash);
        return rc == FERRY_OK ? OUTCOME_SKIPPED : OUTCOME_STOP;
    }
    record_outcome worst = OUTCOME_UNCHANGED;
    size_t i;
    json_t *m;
    json_array_foreach (mapped, i, m) {
        record_outcome o = write_one(run, key, record, m, hash, err);
        if (o == OUTCOME_STOP || o == OUTCOME_DEAD || (o == OUTCOME_SYNCED && worst == OUTCOME_UNCHANGED)) {
            worst = o;
        }
        if (o == OUTCOME_STOP) {
            break;
        }
    }
    json_decref(mapped);
    free(hash);
    return worst;
}

const run_kind_ops ferry_sync_records_ops = {records_begin, records_process};
