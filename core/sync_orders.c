/*
 * sync_orders.c - the orders pipeline: a shop order becomes one sales
 * document (order, invoice draft or booked invoice) in the accounting
 * system, exactly once.
 *
 * Per order: only chosen statuses -> already handled? (id map) -> map with
 * the flow's Lua mapping -> already in the target? (external reference) ->
 * customer found by e-mail (created or updated), or the default debtor ->
 * every article checked (or created, by policy) -> intent committed ->
 * document created -> totals compared with the shop's -> comment (and
 * status) written back to the shop -> result recorded.
 *
 * Target lookups go through the store's target index, filled in bulk at the
 * start of a run (prefetch), so a run of new orders for known customers and
 * articles costs about one target call per order.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_run.h"
#include "error.h"
#include "log.h"
#include "money.h"
#include "util.h"

/* Target entities the orders pipeline uses (see share/ferry/schema). */
#define ENT_CUSTOMER "customer"
#define ENT_ARTICLE "article"
#define ENT_DOCUMENT "document"
#define ENT_COMMENT "order_comment"

static long long target_conn_id(const ferry_run *run)
{
    return ferry_endpoint_connection(run->dst)->id;
}

static int dst_supports(const ferry_run *run, const char *entity, unsigned ops)
{
    for (const ferry_entity_spec *e = run->dst->plugin->desc->entities; e && e->name; e++) {
        if (strcmp(e->name, entity) == 0) {
            return (e->ops & ops) == ops;
        }
    }
    return 0;
}

static int src_supports(const ferry_run *run, const char *entity, unsigned ops)
{
    for (const ferry_entity_spec *e = run->src->plugin->desc->entities; e && e->name; e++) {
        if (strcmp(e->name, entity) == 0) {
            return (e->ops & ops) == ops;
        }
    }
    return 0;
}

/* Lowercase copy of an e-mail address for index keys (new string). */
static char *email_key(const char *email)
{
    char *k = ferry_strdup(email ? email : "");
    for (char *p = k; p && *p; p++) {
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p - 'A' + 'a');
        }
    }
    return k;
}

static const char *str_member(const json_t *o, const char *k)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s && s[0] ? s : NULL;
}

/* ---- prefetch: fill the target index in bulk ----------------------------------------------- */

/* Index one target record under each of its keys. */
static void index_record(ferry_run *run, const char *entity, const json_t *rec, ferry_error *err)
{
    const char *id = str_member(rec, "id");
    if (id == NULL) {
        return;
    }
    long long cid = target_conn_id(run);
    if (strcmp(entity, ENT_CUSTOMER) == 0) {
        if (str_member(rec, "email")) {
            char *k = email_key(str_member(rec, "email"));
            ferry_target_index_put(run->st, cid, entity, "email", k, id, rec, err);
            free(k);
        }
        if (str_member(rec, "customer_number")) {
            ferry_target_index_put(run->st, cid, entity, "customer_number", str_member(rec, "customer_number"), id, rec,
                                   err);
        }
    } else if (strcmp(entity, ENT_ARTICLE) == 0) {
        const char *number = str_member(rec, "number") ? str_member(rec, "number") : str_member(rec, "sku");
        if (number != NULL) {
            ferry_target_index_put(run->st, cid, entity, "number", number, id, rec, err);
        }
    } else if (strcmp(entity, ENT_DOCUMENT) == 0) {
        const char *ref = str_member(rec, "external_reference");
        if (ref != NULL) {
            json_t *slim = json_pack("{s:s, s:s?, s:s?}", "id", id, "number", str_member(rec, "number"), "type",
                                     str_member(rec, "type"));
            ferry_target_index_put(run->st, cid, entity, "external_reference", ref, id, slim, err);
            json_decref(slim);
        }
    }
}

/*
 * Read every `entity` changed since the last prefetch (the plugin's cursor is
 * kept per flow as "target:<entity>", or "target:<entity>:<part>" when the
 * entity is read in parts) into the target index.
 */
static int prefetch(ferry_run *run, const char *entity, const char *part, unsigned flag, const json_t *query,
                    ferry_error *err)
{
    if (!dst_supports(run, entity, FERRY_OP_READ)) {
        return FERRY_OK;
    }
    char cursor_name[96];
    snprintf(cursor_name, sizeof(cursor_name), "target:%s%s%s", entity, part ? ":" : "", part ? part : "");
    json_t *cursor = NULL;
    if (ferry_syncstate_cursor_get(run->st, run->flow->id, cursor_name, &cursor, err) != FERRY_OK) {
        return err->status;
    }
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    long n = 0;
    int rc = FERRY_OK;
    for (;;) {
        json_t *records = NULL, *next = NULL;
        int more = 0;
        rc = d->read_page(run->dst->conn, entity, query, cursor, &records, &next, &more, err);
        if (rc != FERRY_OK) {
            json_decref(records);
            json_decref(next);
            break;
        }
        if ((rc = ferry_store_begin(run->st, err)) != FERRY_OK) {
            json_decref(records);
            json_decref(next);
            break;
        }
        size_t i;
        json_t *r;
        json_array_foreach (records, i, r) {
            index_record(run, entity, r, err);
            n++;
        }
        json_decref(records);
        if (next != NULL) {
            ferry_syncstate_cursor_set(run->st, run->flow->id, cursor_name, next, err);
        }
        if ((rc = ferry_store_commit(run->st, err)) != FERRY_OK) {
            json_decref(next);
            break;
        }
        json_decref(cursor);
        cursor = next;
        if (!more) {
            break;
        }
    }
    json_decref(cursor);
    if (rc == FERRY_OK) {
        run->indexed |= flag;
    }
    if (rc == FERRY_OK && n > 0) {
        ferry_run_event(run, "info", "prefetch", NULL, NULL, "%ld %s record(s) read from %s into the index", n, entity,
                        run->flow->target_connection);
    }
    return rc;
}

/* ---- reconciling what a crash may have left ------------------------------------------------- */

/* Find a document by external reference: index first, then one find call.  *id new or NULL. */
static int find_document(ferry_run *run, const char *ref, char **id, char **number, ferry_error *err)
{
    *id = NULL;
    *number = NULL;
    json_t *data = NULL;
    if (ferry_target_index_get(run->st, target_conn_id(run), ENT_DOCUMENT, "external_reference", ref, id, &data, err) !=
        FERRY_OK) {
        return err->status;
    }
    if (*id != NULL) {
        *number = ferry_strdup(str_member(data, "number"));
        json_decref(data);
        return FERRY_OK;
    }
    json_decref(data);
    /* After a complete prefetch the index knows every document: a miss is an answer. */
    if (run->dst->plugin->desc->find == NULL || (run->indexed & RUN_INDEXED_DOCUMENTS)) {
        return FERRY_OK;
    }
    json_t *found = NULL;
    int rc = run->dst->plugin->desc->find(run->dst->conn, ENT_DOCUMENT, "external_reference", ref, &found, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    if (found != NULL) {
        *id = ferry_strdup(str_member(found, "id"));
        *number = ferry_strdup(str_member(found, "number"));
        index_record(run, ENT_DOCUMENT, found, err);
        json_decref(found);
    }
    return FERRY_OK;
}

/*
 * A create sent just before a crash may still be under way at the target: the
 * request arrived, the answer never came back, and the document appears a
 * moment later.  Looking it up too early would find nothing and send it again.
 * So wait until the intent is reconcile_wait_seconds old (its time has whole
 * seconds: one more).  After a crash long ago this returns at once; an intent
 * time in the future (a clock stepped back) waits the full time, no longer.
 * FERRY_RETRY when a signal asked the run to stop while it waited.
 */
static int wait_for_interrupted_create(ferry_run *run, const char *key, long long intent_time, ferry_error *err)
{
    enum { MAX_WAIT_S = 3600 };
    const json_t *w = ferry_run_setting(run, "reconcile_wait_seconds");
    long long wait_s = json_is_integer(w) && json_integer_value(w) >= 0 ? json_integer_value(w) : 60;
    if (wait_s > MAX_WAIT_S) {
        wait_s = MAX_WAIT_S;
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (intent_time <= 0) {
        return FERRY_OK;
    }
    if (intent_time > (long long)now.tv_sec) {
        intent_time = (long long)now.tv_sec;
    }
    long long until_ms = (intent_time + 1 + wait_s) * 1000;
    if (now_ms >= until_ms) {
        return FERRY_OK;
    }
    ferry_run_event(
        run, "info", "reconcile_wait", key, NULL,
        "a create interrupted %lld s ago may still be under way in %s: waiting %lld ms before looking it up",
        (long long)now.tv_sec - intent_time, run->flow->target_connection, until_ms - now_ms);
    if (ferry_run_sleep(until_ms - now_ms) != 0) {
        return ferry_error_set(err, FERRY_RETRY, NULL, "stopped by a signal while waiting to reconcile %s", key);
    }
    return FERRY_OK;
}

/*
 * Intents are committed before each create.  One still here means a run
 * died between committing it and recording the result: the document may or
 * may not exist.  Ask the target by external reference, once a create that
 * was under way would have landed.
 */
static int reconcile_intents(ferry_run *run, ferry_error *err)
{
    json_t *keys = NULL;
    if (ferry_idmap_keys_in_state(run->st, run->flow->id, "intent", &keys, err) != FERRY_OK) {
        return err->status;
    }
    int rc = FERRY_OK;
    size_t i;
    json_t *k;
    json_array_foreach (keys, i, k) {
        const char *key = json_string_value(k);
        if (run->opts->dry_run) {
            /* a dry run changes nothing: the intent waits for a real run (which may also be going now) */
            ferry_run_event(run, "info", "reconciled", key, NULL,
                            "an interrupted create is pending: a real run looks it up in %s before anything else",
                            run->flow->target_connection);
            continue;
        }
        ferry_idmap_entry e;
        int found = 0;
        if ((rc = ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &found, err)) !=
            FERRY_OK) {
            break;
        }
        char *id = NULL, *number = NULL;
        run->current_key = key;
        rc = wait_for_interrupted_create(run, key, e.updated, err);
        if (rc != FERRY_OK) {
            run->current_key = NULL;
            ferry_idmap_entry_clear(&e);
            break;
        }
        rc = find_document(run, e.target_ref ? e.target_ref : key, &id, &number, err);
        run->current_key = NULL;
        if (rc != FERRY_OK) {
            ferry_idmap_entry_clear(&e);
            break;
        }
        if (id != NULL) {
            /* It was created: record it, and still owe the shop its comment. */
            ferry_strlcpy(e.state, "synced", sizeof(e.state));
            free(e.target_id);
            e.target_id = id;
            free(e.target_ref);
            e.target_ref = number;
            free(e.reason);
            e.reason = ferry_strdup("reconciled after an interrupted run");
            free(e.pending);
            e.pending = ferry_run_setting_bool(run, "comment_back") ? ferry_strdup("comment") : NULL;
            ferry_run_event(run, "info", "reconciled", key, NULL, "found in %s after an interrupted run (id %s)",
                            run->flow->target_connection, e.target_id);
        } else {
            /* It never arrived: forget the intent; the order is read again (its page was not settled). */
            free(id);
            free(number);
            ferry_strlcpy(e.state, "skipped", sizeof(e.state));
            free(e.reason);
            e.reason = ferry_strdup("interrupted before the document was created; will be sent again");
            ferry_run_event(run, "info", "reconciled", key, NULL,
                            "not in %s after an interrupted run; will be sent again", run->flow->target_connection);
        }
        rc = ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, err);
        ferry_idmap_entry_clear(&e);
        if (rc != FERRY_OK) {
            break;
        }
    }
    json_decref(keys);
    return rc;
}

/* ---- writing back to the shop ---------------------------------------------------------------- */

static char *comment_text(const char *doc_type, const char *number, const char *id, const char *connection)
{
    const char *what = strcmp(doc_type, "order") == 0           ? "order"
                       : strcmp(doc_type, "invoice_draft") == 0 ? "invoice draft"
                                                                : "invoice";
    /* Drafts have no number until booked: then only the id names the document. */
    if (number == NULL || number[0] == '\0') {
        return ferry_asprintf("ferry: sent to %s as %s (id %s)", connection, what, id ? id : "");
    }
    return ferry_asprintf("ferry: sent to %s as %s %s (id %s)", connection, what, number, id ? id : "");
}

/* The pending follow-ups of the id map: the comment on a document ferry sent, or on one it found there. */
#define PENDING_COMMENT "comment"
#define PENDING_COMMENT_FOUND "comment-found"

/*
 * Write the comment (and status) back; clears the pending mark.  Failures are
 * warnings: retried next run.  `found`: the document was in the target
 * already (ferry did not send it), and the comment says so.
 */
static int write_comment(ferry_run *run, const char *key, const char *source_id, const char *target_id,
                         const char *target_ref, int found, int owed, ferry_error *err)
{
    if (!src_supports(run, ENT_COMMENT, FERRY_OP_CREATE) || run->src->plugin->desc->create == NULL) {
        return FERRY_OK;
    }
    char *text =
        found ? ferry_asprintf("ferry: already in %s (%s%s%sid %s); not sent again", run->flow->target_connection,
                               target_ref ? "number " : "", target_ref ? target_ref : "", target_ref ? ", " : "",
                               target_id ? target_id : "")
              : comment_text(ferry_run_setting_str(run, "document_type") ? ferry_run_setting_str(run, "document_type")
                                                                         : "",
                             target_ref, target_id, run->flow->target_connection);
    /* "retry": an owed comment whose earlier write may have arrived: the plugin must not add it twice */
    json_t *c = json_pack("{s:s, s:s?, s:s, s:b, s:b}", "number", key, "order_id", source_id, "comment", text, "notify",
                          0, "retry", owed);
    const char *status = ferry_run_setting_str(run, "status_after_sync");
    if (status != NULL) {
        json_object_set_new(c, "status", json_string(status));
    }
    free(text);
    json_t *created = NULL;
    ferry_error cerr;
    ferry_error_clear(&cerr);
    int rc = run->src->plugin->desc->create(run->src->conn, ENT_COMMENT, c, &created, &cerr);
    json_decref(c);
    if (rc == FERRY_OK && json_is_false(json_object_get(created, "status_applied"))) {
        /* the comment is there; the shop refused the status change (it is not retried: it would be refused again) */
        ferry_run_event(run, "warn", "status", key, created,
                        "the comment was written but %s kept status '%s' instead of status_after_sync '%s' (a comment "
                        "may only move an order to a status of its current state)",
                        run->flow->source_connection,
                        str_member(created, "status") ? str_member(created, "status") : "?", status);
    }
    json_decref(created);
    if (rc != FERRY_OK) {
        ferry_run_event(run, "warn", "comment", key, NULL, "could not write the comment back (will retry): %s",
                        cerr.message);
        return ferry_run_status_stops(rc) && rc != FERRY_RETRY ? rc : FERRY_OK;
    }
    ferry_idmap_entry e;
    int have_row = 0;
    if (ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &have_row, err) == FERRY_OK &&
        have_row) {
        free(e.pending);
        e.pending = NULL;
        ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, err);
    }
    ferry_idmap_entry_clear(&e);
    return FERRY_OK;
}

/* Comments owed from earlier runs (the run died, or the shop was down). */
static int pending_followups(ferry_run *run, ferry_error *err)
{
    json_t *rows = NULL;
    if (ferry_idmap_pending(run->st, run->flow->id, &rows, err) != FERRY_OK) {
        return err->status;
    }
    int rc = FERRY_OK;
    size_t i;
    json_t *r;
    json_array_foreach (rows, i, r) {
        const char *pending = str_member(r, "pending") ? str_member(r, "pending") : "";
        int found = strcmp(pending, PENDING_COMMENT_FOUND) == 0;
        if (!found && strcmp(pending, PENDING_COMMENT) != 0) {
            continue;
        }
        run->current_key = str_member(r, "key");
        rc = write_comment(run, str_member(r, "key"), str_member(r, "source_id"), str_member(r, "target_id"),
                           str_member(r, "target_ref"), found, 1, err);
        run->current_key = NULL;
        if (rc != FERRY_OK) {
            break;
        }
    }
    json_decref(rows);
    return rc;
}

/*
 * Index the documents of every type, the flow's own first: an order already in
 * eAccounting must be found whatever it became there (a draft the bookkeeper
 * booked is an invoice; a shop that switched document_type has the others; a
 * document made by hand may be any of them), and after this a miss in the
 * index is an answer, so no order needs a lookup of its own.  A type the
 * company cannot have (no order module: FERRY_ERROR_UNAVAILABLE) holds no
 * documents and is left out with an event.
 */
static int prefetch_documents(ferry_run *run, ferry_error *err)
{
    static const char *const types[] = {"invoice_draft", "invoice", "order"};
    const char *own = ferry_run_setting_str(run, "document_type");
    if (own == NULL) {
        own = "invoice_draft";
    }
    if (!dst_supports(run, ENT_DOCUMENT, FERRY_OP_READ)) {
        return FERRY_OK; /* no index: every order is looked up with find */
    }
    int rc = FERRY_OK;
    for (int i = -1; rc == FERRY_OK && i < (int)(sizeof(types) / sizeof(types[0])); i++) {
        const char *type = i < 0 ? own : types[i];
        if (i >= 0 && strcmp(type, own) == 0) {
            continue;
        }
        /* the index keeps id, number and reference only: say so, and the plugin reads only those */
        json_t *dq = json_pack("{s:i, s:s, s:[s,s,s,s]}", "page_size", 1000, "type", type, "fields", "id", "number",
                               "type", "external_reference");
        /* the flow's own type keeps the cursor it always had ("target:document") */
        rc = prefetch(run, ENT_DOCUMENT, i < 0 ? NULL : type, 0, dq, err);
        json_decref(dq);
        /* Only a type the account cannot have at all is left out; any other refusal (a permission, a
         * scope) stops the run: an index missing documents the account does have would send them again. */
        if (rc == FERRY_CONFIG_ERROR && i >= 0 && (err->flags & FERRY_ERROR_UNAVAILABLE)) {
            ferry_run_event(run, "info", "prefetch", NULL, NULL,
                            "%s documents cannot be listed in %s (%s): only the other types are checked for orders "
                            "already there",
                            type, run->flow->target_connection, err->message);
            ferry_error_clear(err);
            rc = FERRY_OK;
        }
    }
    if (rc == FERRY_OK) {
        run->indexed |= RUN_INDEXED_DOCUMENTS;
    }
    return rc;
}

static int orders_begin(ferry_run *run, ferry_error *err)
{
    int rc = reconcile_intents(run, err);
    if (rc == FERRY_OK && !run->opts->dry_run && ferry_run_setting_bool(run, "comment_back")) {
        rc = pending_followups(run, err);
    }
    json_t *q = json_pack("{s:i}", "page_size", 1000);
    if (rc == FERRY_OK) {
        rc = prefetch(run, ENT_CUSTOMER, NULL, RUN_INDEXED_CUSTOMERS, q, err);
    }
    if (rc == FERRY_OK) {
        rc = prefetch(run, ENT_ARTICLE, NULL, RUN_INDEXED_ARTICLES, q, err);
    }
    if (rc == FERRY_OK) {
        rc = prefetch_documents(run, err);
    }
    json_decref(q);
    return rc;
}

/* ---- customers and articles ------------------------------------------------------------------- */

/* first_name and last_name of a person as one name: "first last", trimmed (new string). */
static char *person_name(const json_t *o)
{
    const char *first = json_string_value(json_object_get(o, "first_name"));
    const char *last = json_string_value(json_object_get(o, "last_name"));
    char *name = ferry_asprintf("%s %s", first ? first : "", last ? last : "");
    char *start = name;
    while (*start == ' ') {
        start++;
    }
    size_t len = strlen(start);
    while (len > 0 && start[len - 1] == ' ') {
        len--;
    }
    memmove(name, start, len);
    name[len] = '\0';
    return name;
}

/*
 * Whether `have` already says everything `want` says: every member of `want`
 * (but key, id and target_fields) present and equal in `have`.  On a
 * difference the path of the first one is written to `diff`.  A person's
 * first and last name compare as one name: a target that keeps a single
 * name field ("Sanne de Jong") splits it back at a guess ("Sanne de" +
 * "Jong"), which is no difference to send an update for.
 */
static int covers(const json_t *have, const json_t *want, char *diff, size_t n, const char *path)
{
    if (!json_is_object(want)) {
        if (json_equal(have, want)) {
            return 1;
        }
        ferry_strlcpy(diff, path[0] ? path : "(value)", n);
        return 0;
    }
    if (!json_is_object(have)) {
        ferry_strlcpy(diff, path[0] ? path : "(object)", n);
        return 0;
    }
    int names = json_object_get(want, "first_name") != NULL || json_object_get(want, "last_name") != NULL;
    if (names) {
        char *w = person_name(want), *h = person_name(have);
        int same = strcmp(w, h) == 0;
        free(w);
        free(h);
        if (!same) {
            snprintf(diff, n, "%s%sfirst_name", path, path[0] ? "." : "");
            return 0;
        }
    }
    const char *k;
    json_t *v;
    json_object_foreach ((json_t *)want, k, v) {
        if (strcmp(k, "key") == 0 || strcmp(k, "target_fields") == 0 || strcmp(k, "id") == 0 ||
            (names && (strcmp(k, "first_name") == 0 || strcmp(k, "last_name") == 0))) {
            continue;
        }
        json_t *h = json_object_get(have, k);
        if ((json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0)) && (h == NULL || json_is_null(h))) {
            continue;
        }
        char sub[256];
        snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
        if (h == NULL) {
            ferry_strlcpy(diff, sub, n);
            return 0;
        }
        if (!covers(h, v, diff, n, sub)) {
            return 0;
        }
    }
    return 1;
}

/*
 * The default debtor: resolve a customer number to the target's id (index,
 * then one find).  *id new or NULL (the record is then dead-lettered).
 */
static int resolve_customer_number(ferry_run *run, const char *number, char **id, ferry_error *err)
{
    if (ferry_target_index_get(run->st, target_conn_id(run), ENT_CUSTOMER, "customer_number", number, id, NULL, err) !=
            FERRY_OK ||
        *id != NULL) {
        return err->status;
    }
    json_t *found = NULL;
    int rc = run->dst->plugin->desc->find(run->dst->conn, ENT_CUSTOMER, "customer_number", number, &found, err);
    if (rc == FERRY_OK && found != NULL) {
        *id = ferry_strdup(str_member(found, "id"));
        index_record(run, ENT_CUSTOMER, found, err);
    }
    json_decref(found);
    return rc;
}

/*
 * The buyer: by e-mail in the index, then one find; created when missing,
 * updated when what the mapping says differs from what the target has.
 */
static int resolve_buyer(ferry_run *run, const char *key, json_t *customer, char **id, ferry_error *err)
{
    *id = NULL;
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    const char *email = str_member(customer, "email");
    if (email == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "customer.email",
                               "the order has no e-mail address to find its customer by");
    }
    char *ekey = email_key(email);
    char diff[256] = "";
    json_t *have = NULL;
    int rc = ferry_target_index_get(run->st, target_conn_id(run), ENT_CUSTOMER, "email", ekey, id, &have, err);
    if (rc == FERRY_OK && *id == NULL && d->find != NULL && !(run->indexed & RUN_INDEXED_CUSTOMERS)) {
        /* Not in an incomplete index: ask once before creating. */
        json_t *found = NULL;
        rc = d->find(run->dst->conn, ENT_CUSTOMER, "email", email, &found, err);
        if (rc == FERRY_OK && found != NULL) {
            *id = ferry_strdup(str_member(found, "id"));
            have = json_incref(found);
            index_record(run, ENT_CUSTOMER, found, err);
        }
        json_decref(found);
    }
    if (rc != FERRY_OK) {
        free(ekey);
        json_decref(have);
        return rc;
    }
    json_t *result = NULL;
    if (*id == NULL) {
        if (run->opts->dry_run) {
            /* Said once per run: a real run creates it once, later orders find it. */
            char *dkey = ferry_asprintf("customer:%s", ekey);
            if (json_object_get(run->dry_created, dkey) == NULL) {
                json_t *native = NULL;
                if (d->to_native && d->to_native(run->dst->conn, ENT_CUSTOMER, customer, &native, err) != FERRY_OK) {
                    native = json_incref(customer);
                }
                ferry_run_report(run, key, "would create the customer", native);
                json_decref(native);
                json_object_set_new(run->dry_created, dkey, json_true());
            }
            free(dkey);
            *id = ferry_asprintf("(new customer %s)", email);
        } else {
            rc = d->create(run->dst->conn, ENT_CUSTOMER, customer, &result, err);
            if (rc == FERRY_OK && str_member(result, "id") == NULL) {
                /* an answer that is no customer: the create may or may not have happened; the next run
                 * finds the customer by e-mail if it did */
                rc = ferry_error_set(err, FERRY_RETRY, "customer",
                                     "creating the customer %s in %s answered without the customer's id", email,
                                     run->flow->target_connection);
            }
            if (rc == FERRY_OK) {
                *id = ferry_strdup(str_member(result, "id"));
                ferry_run_event(run, "info", "customer", key, NULL, "created customer %s (%s)",
                                str_member(result, "customer_number") ? str_member(result, "customer_number") : "",
                                email);
            }
        }
    } else if (ferry_run_setting_bool(run, "update_customers") && d->update != NULL &&
               !covers(have, customer, diff, sizeof(diff), "")) {
        if (run->opts->dry_run) {
            ferry_run_report(run, key, "would update the customer", customer);
        } else {
            rc = d->update(run->dst->conn, ENT_CUSTOMER, *id, customer, &result, err);
            if (rc == FERRY_OK) {
                ferry_run_event(run, "info", "customer", key, NULL, "updated customer %s (%s changed)", email, diff);
            }
        }
    }
    if (rc == FERRY_OK && result != NULL) {
        /* Remember what the target now holds, so the next order of this buyer costs nothing. */
        json_t *merged = json_deep_copy(result);
        json_object_update_missing(merged, customer);
        index_record(run, ENT_CUSTOMER, merged, err);
        json_decref(merged);
    }
    if (rc != FERRY_OK) {
        ferry_strlcpy(err->field, err->field[0] ? err->field : "customer", sizeof(err->field));
        free(*id);
        *id = NULL;
    }
    json_decref(result);
    json_decref(have);
    free(ekey);
    return rc;
}

/* The article to create for a missing number: from create_missing_articles, else built from the row. */
static json_t *article_for(const json_t *doc, const json_t *row, const char *number)
{
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(doc, "create_missing_articles"), i, a) {
        const char *n = str_member(a, "number") ? str_member(a, "number") : str_member(a, "sku");
        if (n != NULL && strcmp(n, number) == 0) {
            return json_incref(a);
        }
    }
    json_t *made = json_pack("{s:s, s:s, s:s, s:b}", "key", number, "number", number, "name",
                             str_member(row, "text") ? str_member(row, "text") : number, "active", 1);
    /*
     * A line's vat_rate is the destination country's rate (an EU sale under
     * OSS), not the company's, so it cannot pick a coding: the target's
     * default applies.  Only the rounding row says what it needs (VAT-free).
     */
    const char *kind = str_member(row, "kind");
    if (kind != NULL && strcmp(kind, "rounding") == 0) {
        json_object_set_new(made, "vat_rate", json_string("0"));
    }
    return made;
}

/* Resolve every row's article number to the target's id; FERRY_RECORD_ERROR names the row. */
static int resolve_articles(ferry_run *run, const char *key, json_t *doc, ferry_error *err)
{
    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    int create = ferry_run_setting_str(run, "article_policy") &&
                 strcmp(ferry_run_setting_str(run, "article_policy"), "create") == 0;
    size_t i;
    json_t *row;
    json_array_foreach (json_object_get(doc, "rows"), i, row) {
        const char *number = str_member(row, "article_number");
        if (number == NULL || str_member(row, "article_id") != NULL) {
            continue;
        }
        char *id = NULL;
        int rc = ferry_target_index_get(run->st, target_conn_id(run), ENT_ARTICLE, "number", number, &id, NULL, err);
        if (rc == FERRY_OK && id == NULL && d->find != NULL && !(run->indexed & RUN_INDEXED_ARTICLES)) {
            json_t *found = NULL;
            rc = d->find(run->dst->conn, ENT_ARTICLE, "number", number, &found, err);
            if (rc == FERRY_OK && found != NULL) {
                id = ferry_strdup(str_member(found, "id"));
                index_record(run, ENT_ARTICLE, found, err);
            }
            json_decref(found);
        }
        if (rc != FERRY_OK) {
            return rc;
        }
        if (id == NULL && !create) {
            char field[64];
            snprintf(field, sizeof(field), "rows[%zu].article_number", i);
            return ferry_error_set(err, FERRY_RECORD_ERROR, field,
                                   "article %s does not exist in %s (article policy is strict: create it there, "
                                   "or set article_policy=create, then 'ferry dead retry')",
                                   number, run->flow->target_connection);
        }
        if (id == NULL) {
            json_t *article = article_for(doc, row, number);
            if (run->opts->dry_run) {
                char *dkey = ferry_asprintf("article:%s", number);
                if (json_object_get(run->dry_created, dkey) == NULL) {
                    ferry_run_report(run, key, "would create the article", article);
                    json_object_set_new(run->dry_created, dkey, json_true());
                }
                free(dkey);
                id = ferry_asprintf("(new article %s)", number);
            } else {
                json_t *created = NULL;
                rc = d->create(run->dst->conn, ENT_ARTICLE, article, &created, err);
                if (rc == FERRY_OK) {
                    id = ferry_strdup(str_member(created, "id"));
                    index_record(run, ENT_ARTICLE, created, err);
                    ferry_run_event(run, "info", "article", key, NULL, "created article %s", number);
                }
                json_decref(created);
            }
            json_decref(article);
            if (rc != FERRY_OK) {
                return rc;
            }
        }
        json_object_set_new(row, "article_id", json_string(id ? id : ""));
        free(id);
    }
    return FERRY_OK;
}

/* ---- totals ------------------------------------------------------------------------------------- */

static int money_of(const json_t *o, const char *k, ferry_money *m)
{
    const json_t *v = json_object_get(o, k);
    return v != NULL && ferry_money_from_json(v, m) == FERRY_MONEY_OK;
}

typedef struct totals_check {
    int ok;    /* within tolerance */
    int exact; /* no difference at all */
    char diff_total[FERRY_MONEY_STRLEN];
    char diff_vat[FERRY_MONEY_STRLEN];
    char message[512];
} totals_check;

/*
 * Compare what the target computed with what the shop charged: total
 * (before the target's cash rounding) and VAT.
 */
static void check_totals(ferry_run *run, const json_t *doc, const json_t *created, totals_check *tc)
{
    memset(tc, 0, sizeof(*tc));
    const json_t *expect = json_object_get(doc, "expect");
    ferry_money want_total, want_vat, got_total, got_vat, roundings = ferry_money_from_int(0), tol;
    if (!money_of(expect, "total", &want_total) || !money_of(created, "total", &got_total)) {
        tc->ok = tc->exact = 1;
        ferry_strlcpy(tc->message, "no totals to compare", sizeof(tc->message));
        return;
    }
    money_of(created, "roundings", &roundings);
    if (!money_of(run->settings, "totals_tolerance", &tol)) {
        tol = ferry_money_from_int(0);
    }
    ferry_money net, dt, dv = ferry_money_from_int(0), adt, adv;
    ferry_money_sub(got_total, roundings, &net);
    ferry_money_sub(net, want_total, &dt);
    if (money_of(expect, "vat", &want_vat) && money_of(created, "vat", &got_vat)) {
        ferry_money_sub(got_vat, want_vat, &dv);
    }
    ferry_money zero = ferry_money_from_int(0);
    adt = dt;
    adv = dv;
    if (ferry_money_cmp(dt, zero) < 0) {
        ferry_money_neg(dt, &adt);
    }
    if (ferry_money_cmp(dv, zero) < 0) {
        ferry_money_neg(dv, &adv);
    }
    ferry_money_format(dt, tc->diff_total, sizeof(tc->diff_total));
    ferry_money_format(dv, tc->diff_vat, sizeof(tc->diff_vat));
    tc->exact = ferry_money_cmp(adt, zero) == 0 && ferry_money_cmp(adv, zero) == 0;
    tc->ok = ferry_money_cmp(adt, tol) <= 0 && ferry_money_cmp(adv, tol) <= 0;
    char wt[FERRY_MONEY_STRLEN], gt[FERRY_MONEY_STRLEN], ts[FERRY_MONEY_STRLEN];
    snprintf(tc->message, sizeof(tc->message), "total %s (shop %s, difference %s), VAT difference %s, tolerance %s",
             ferry_money_format(net, gt, sizeof(gt)), ferry_money_format(want_total, wt, sizeof(wt)), tc->diff_total,
             tc->diff_vat, ferry_money_format(tol, ts, sizeof(ts)));
}

/*
 * A difference within the tolerance: add a row on the rounding article so the
 * document's total is the shop's (drafts and orders only; a booked invoice
 * cannot change).  Returns FERRY_OK when added (or not needed/possible).
 */
static int add_rounding_row(ferry_run *run, const char *key, json_t *doc, const char *target_id, const json_t *created,
                            const totals_check *tc, json_t **updated, ferry_error *err)
{
    *updated = NULL;
    const char *article = ferry_run_setting_str(run, "rounding_article");
    const char *type = str_member(doc, "type");
    if (article == NULL || tc->exact || type == NULL || strcmp(type, "invoice") == 0 ||
        run->dst->plugin->desc->update == NULL) {
        return FERRY_OK;
    }
    ferry_money dt;
    if (ferry_money_parse(tc->diff_total, strlen(tc->diff_total), &dt) != FERRY_MONEY_OK ||
        ferry_money_cmp(dt, ferry_money_from_int(0)) == 0) {
        return FERRY_OK;
    }
    ferry_money neg;
    ferry_money_neg(dt, &neg);
    char price[FERRY_MONEY_STRLEN];
    ferry_money_format(neg, price, sizeof(price));
    /* VAT-free: the rounding article must have a 0 % coding, so incl. and excl. prices are the same. */
    json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "rounding", "article_number", article,
                            "text", "Rounding", "quantity", "1", "unit_price", price, "unit_price_incl", price,
                            "unit_price_excl", price, "vat_rate", "0");
    json_t *rows = json_object_get(doc, "rows");
    json_array_append_new(rows, row);
    int rc = resolve_articles(run, key, doc, err);
    if (rc == FERRY_OK) {
        /* The target's answer to the create, so the plugin need not read the document back first. */
        json_t *sent = json_deep_copy(doc);
        if (json_object_get(created, "native") != NULL) {
            json_object_set(sent, "native", json_object_get(created, "native"));
        }
        rc = run->dst->plugin->desc->update(run->dst->conn, ENT_DOCUMENT, target_id, sent, updated, err);
        json_decref(sent);
    }
    if (rc == FERRY_OK) {
        ferry_run_event(run, "info", "rounding", key, NULL, "added a rounding row of %s on article %s", price, article);
    }
    return rc;
}

/* ---- one order ---------------------------------------------------------------------------------------- */

static int status_wanted(const ferry_run *run, const char *status)
{
    const json_t *statuses = ferry_run_setting(run, "statuses");
    if (!json_is_array(statuses) || json_array_size(statuses) == 0) {
        return 1;
    }
    size_t i;
    json_t *s;
    json_array_foreach (statuses, i, s) {
        if (status != NULL && json_is_string(s) && strcmp(json_string_value(s), status) == 0) {
            return 1;
        }
    }
    return 0;
}

static char *statuses_text(const ferry_run *run)
{
    char *t = json_dumps(ferry_run_setting(run, "statuses"), JSON_COMPACT | JSON_ENCODE_ANY);
    return t ? t : ferry_strdup("[]");
}

/*
 * What the id map says about a record read again.  Returns 1 when there is
 * nothing more to do (*outcome set), 0 to process it.
 */
static int already_handled(ferry_run *run, const char *key, const char *hash, record_outcome *outcome, ferry_error *err)
{
    ferry_idmap_entry e;
    int found = 0;
    if (ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &found, err) != FERRY_OK) {
        *outcome = OUTCOME_STOP;
        return 1;
    }
    int done = 0;
    if (found && (strcmp(e.state, "synced") == 0 || strcmp(e.state, "mismatch") == 0)) {
        done = 1;
        *outcome = OUTCOME_UNCHANGED;
        if (e.source_hash != NULL && hash != NULL && strcmp(e.source_hash, hash) != 0 &&
            (e.reason == NULL || strstr(e.reason, hash) == NULL)) {
            /* Changed in the shop after it was sent: report once per change, never send twice. */
            ferry_run_event(
                run, "warn", "edited", key, NULL,
                "changed in %s after it was sent as %s; not sent again - correct the document in %s if needed",
                run->flow->source_connection,
                e.target_ref  ? e.target_ref
                : e.target_id ? e.target_id
                              : "?",
                run->flow->target_connection);
            if (!run->opts->dry_run) {
                char *reason = ferry_asprintf("edited after sync (%s)", hash);
                free(e.reason);
                e.reason = reason;
                ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, err);
            }
        }
    } else if (found && strcmp(e.state, "dead") == 0 && e.source_hash != NULL && hash != NULL &&
               strcmp(e.source_hash, hash) == 0) {
        /* Still dead-lettered and unchanged: wait for 'ferry dead retry' or a change. */
        done = 1;
        *outcome = OUTCOME_SKIPPED;
    }
    ferry_idmap_entry_clear(&e);
    return done;
}

/* The document the mapping made, checked and completed from the record and settings. */
static json_t *document_of(ferry_run *run, const char *key, json_t *mapped, ferry_error *err)
{
    if (json_array_size(mapped) != 1 || !json_is_object(json_array_get(mapped, 0))) {
        ferry_error_set(err, FERRY_RECORD_ERROR, NULL,
                        "the mapping returned %zu records; the orders flow writes exactly one document per order",
                        json_array_size(mapped));
        return NULL;
    }
    json_t *doc = json_incref(json_array_get(mapped, 0));
    if (str_member(doc, "key") == NULL) {
        json_object_set_new(doc, "key", json_string(key));
    }
    if (str_member(doc, "external_reference") == NULL) {
        json_object_set_new(doc, "external_reference", json_string(key));
    }
    if (str_member(doc, "type") == NULL) {
        const char *type = ferry_run_setting_str(run, "document_type");
        json_object_set_new(doc, "type", json_string(type ? type : "invoice_draft"));
    }
    if (!json_is_array(json_object_get(doc, "rows")) || json_array_size(json_object_get(doc, "rows")) == 0) {
        ferry_error_set(err, FERRY_RECORD_ERROR, "rows", "the mapped document has no rows");
        json_decref(doc);
        return NULL;
    }
    return doc;
}

/* Customer: the default debtor by number, or the buyer. */
static int resolve_document_customer(ferry_run *run, const char *key, json_t *doc, ferry_error *err)
{
    char *id = NULL;
    int rc;
    const char *number = str_member(doc, "customer_number");
    if (number != NULL) {
        rc = resolve_customer_number(run, number, &id, err);
        if (rc == FERRY_OK && id == NULL) {
            return ferry_error_set(err, FERRY_RECORD_ERROR, "customer_number",
                                   "the default customer %s does not exist in %s", number,
                                   run->flow->target_connection);
        }
    } else if (json_is_object(json_object_get(doc, "customer"))) {
        rc = resolve_buyer(run, key, json_object_get(doc, "customer"), &id, err);
    } else {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "customer",
                               "the mapped document has neither a customer nor a customer_number");
    }
    if (rc == FERRY_OK) {
        json_object_set_new(doc, "customer_id", json_string(id));
    }
    free(id);
    return rc;
}

/* Create the document with an intent committed first; reconcile when the answer was lost. */
static int create_document(ferry_run *run, const char *key, const json_t *record, json_t *doc, const char *hash,
                           json_t **created, ferry_error *err)
{
    *created = NULL;
    ferry_idmap_entry e;
    memset(&e, 0, sizeof(e));
    ferry_strlcpy(e.state, "intent", sizeof(e.state));
    char *payload_hash = ferry_syncstate_hash(doc);
    e.payload_hash = payload_hash;
    e.source_hash = (char *)hash;
    e.source_id = (char *)str_member(record, "id");
    e.run_id = run->run_id;
    e.reason = "create in progress";
    /* The reference the document is found again by, should this run die before the answer. */
    e.target_ref = (char *)str_member(doc, "external_reference");
    int rc = ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, err);
    if (rc != FERRY_OK) {
        free(payload_hash);
        return rc;
    }
    rc = run->dst->plugin->desc->create(run->dst->conn, ENT_DOCUMENT, doc, created, err);
    if (rc == FERRY_OK && str_member(*created, "id") == NULL) {
        /* Success, but the answer names no document: it may exist or not.  Treat it as a lost answer. */
        json_decref(*created);
        *created = NULL;
        rc = ferry_error_set(err, FERRY_RETRY, NULL, "creating the %s for %s in %s answered without the document's id",
                             str_member(doc, "type") ? str_member(doc, "type") : "document", key,
                             run->flow->target_connection);
        err->flags |= FERRY_ERROR_MAYBE_APPLIED;
    }
    if (rc == FERRY_RETRY && (err->flags & FERRY_ERROR_MAYBE_APPLIED)) {
        /* The request may have arrived: look before trying again, never create twice. */
        ferry_error ferr;
        ferry_error_clear(&ferr);
        json_t *found = NULL;
        const char *ref = str_member(doc, "external_reference") ? str_member(doc, "external_reference") : key;
        if (run->dst->plugin->desc->find(run->dst->conn, ENT_DOCUMENT, "external_reference", ref, &found, &ferr) ==
                FERRY_OK &&
            found != NULL) {
            *created = found;
            free(payload_hash);
            return FERRY_OK;
        }
        json_decref(found);
        /* Not there (or unknown): leave the intent; the next run reconciles it. */
        free(payload_hash);
        return rc;
    }
    if (rc != FERRY_OK) {
        /* Certainly not created: drop the intent. */
        e.reason = "not created";
        ferry_strlcpy(e.state, "skipped", sizeof(e.state));
        ferry_error ferr;
        ferry_error_clear(&ferr);
        ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, &ferr);
    }
    free(payload_hash);
    return rc;
}

/* Record the document as synced (or mismatched) with the comment still owed. */
static int settle_document(ferry_run *run, const char *key, const json_t *record, const char *hash,
                           const json_t *created, const char *state, const char *reason, int found, ferry_error *err)
{
    ferry_idmap_entry e;
    memset(&e, 0, sizeof(e));
    ferry_strlcpy(e.state, state, sizeof(e.state));
    e.target_id = (char *)str_member(created, "id");
    e.target_ref = (char *)str_member(created, "number");
    e.source_hash = (char *)hash;
    e.source_id = (char *)str_member(record, "id");
    e.reason = (char *)reason;
    e.run_id = run->run_id;
    e.attempts = 0;
    e.pending = !ferry_run_setting_bool(run, "comment_back") ? NULL : found ? PENDING_COMMENT_FOUND : PENDING_COMMENT;
    if (ferry_store_begin(run->st, err) != FERRY_OK) {
        return err->status;
    }
    int rc = ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, err);
    if (rc == FERRY_OK) {
        rc = ferry_activity_dead_resolve(run->st, run->flow->id, run->flow->source_entity, key, err);
    }
    if (rc == FERRY_OK) {
        const char *ref = str_member(created, "external_reference") ? str_member(created, "external_reference") : key;
        json_t *idx =
            json_pack("{s:s?, s:s?, s:s?, s:s}", "id", str_member(created, "id"), "number",
                      str_member(created, "number"), "type", str_member(created, "type"), "external_reference", ref);
        index_record(run, ENT_DOCUMENT, idx, err);
        json_decref(idx);
    }
    if (rc != FERRY_OK) {
        ferry_store_rollback(run->st);
        return rc;
    }
    return ferry_store_commit(run->st, err);
}

/* How many runs one record may stop with a transient error before it is dead-lettered (no poison pill). */
#define MAX_TRANSIENT_STOPS 3

static record_outcome stop_or_dead(ferry_run *run, const char *key, const char *stage, int rc, const json_t *record,
                                   const json_t *payload, ferry_error *err)
{
    if (rc == FERRY_RETRY && !run->opts->dry_run && !(err->flags & FERRY_ERROR_MAYBE_APPLIED)) {
        ferry_idmap_entry e;
        int found = 0;
        ferry_error ierr;
        ferry_error_clear(&ierr);
        ferry_idmap_get(run->st, run->flow->id, run->flow->source_entity, key, &e, &found, &ierr);
        int attempts = (found ? e.attempts : 0) + 1;
        if (attempts < MAX_TRANSIENT_STOPS) {
            ferry_strlcpy(e.state, found ? e.state : "skipped", sizeof(e.state));
            if (strcmp(e.state, "intent") == 0) {
                ferry_strlcpy(e.state, "skipped", sizeof(e.state));
            }
            e.attempts = attempts;
            free(e.reason);
            e.reason = ferry_asprintf("transient failure %d of %d: %s", attempts, MAX_TRANSIENT_STOPS, err->message);
            ferry_idmap_put(run->st, run->flow->id, run->flow->source_entity, key, &e, &ierr);
            ferry_idmap_entry_clear(&e);
            return OUTCOME_STOP;
        }
        ferry_idmap_entry_clear(&e);
        /* The same record keeps failing while others work: dead-letter it so the run can go on. */
    } else if (ferry_run_status_stops(rc)) {
        return OUTCOME_STOP;
    }
    ferry_error why = *err;
    ferry_error_clear(err);
    return ferry_run_dead(run, key, stage, &why, record, payload, NULL, err);
}

static record_outcome orders_process(ferry_run *run, const json_t *record, ferry_error *err)
{
    const char *key = str_member(record, "key");
    char *hash = ferry_run_source_hash(record);
    record_outcome outcome;
    if (already_handled(run, key, hash, &outcome, err)) {
        free(hash);
        return outcome;
    }
    if (run->payload_events) {
        json_t *shown = json_copy((json_t *)record); /* shallow: only "source" may be dropped */
        if (!run->native_events) {
            json_object_del(shown, "source"); /* the decoded order says what came; full keeps Magento's JSON */
        }
        ferry_run_event(run, "info", "read", key, shown, "read %s %s (%s) from %s", run->flow->source_entity, key,
                        str_member(record, "status") ? str_member(record, "status") : "?",
                        run->flow->source_connection);
        json_decref(shown);
    }
    const char *status = str_member(record, "status");
    if (!status_wanted(run, status)) {
        char *wanted = statuses_text(run);
        char *reason = ferry_asprintf("status %s is not sent (statuses: %s)", status ? status : "(none)", wanted);
        ferry_run_event(run, "info", "skipped", key, NULL, "%s", reason);
        ferry_run_report(run, key, reason, NULL);
        int rc = ferry_run_settle(run, key, "skipped", NULL, NULL, hash, reason, err);
        free(reason);
        free(wanted);
        free(hash);
        return rc == FERRY_OK ? OUTCOME_SKIPPED : OUTCOME_STOP;
    }

    ferry_error refused;
    if (ferry_run_refused(record, &refused)) {
        /* the source refused to decode it (e.g. an order without items): nothing to map or send */
        free(hash);
        return ferry_run_dead(run, key, "read", &refused, record, NULL, NULL, err);
    }

    json_t *mapped = NULL;
    char skip_reason[512] = "";
    int rc = ferry_run_map(run, record, &mapped, skip_reason, sizeof(skip_reason), err);
    if (rc != FERRY_OK) {
        free(hash);
        return stop_or_dead(run, key, "map", rc, record, NULL, err);
    }
    if (json_array_size(mapped) == 0) {
        const char *reason = skip_reason[0] ? skip_reason : "the mapping returned nothing";
        ferry_run_event(run, "info", "skipped", key, NULL, "%s", reason);
        ferry_run_report(run, key, reason, NULL);
        rc = ferry_run_settle(run, key, "skipped", NULL, NULL, hash, reason, err);
        json_decref(mapped);
        free(hash);
        return rc == FERRY_OK ? OUTCOME_SKIPPED : OUTCOME_STOP;
    }
    json_t *doc = document_of(run, key, mapped, err);
    json_decref(mapped);
    if (doc == NULL) {
        free(hash);
        return stop_or_dead(run, key, "map", FERRY_RECORD_ERROR, record, NULL, err);
    }

    if (run->payload_events) {
        ferry_run_event(run, "debug", "mapped", key, doc, "mapped to a %s", str_member(doc, "type"));
    }

    /* Skip what already exists in the target (sent by hand, by another tool, or before a reset). */
    char *existing_id = NULL, *existing_number = NULL;
    rc = find_document(run, str_member(doc, "external_reference"), &existing_id, &existing_number, err);
    if (rc == FERRY_OK && existing_id != NULL) {
        char *reason = ferry_asprintf("already in %s as %s", run->flow->target_connection,
                                      existing_number ? existing_number : existing_id);
        ferry_run_event(run, "info", "exists", key, NULL, "%s; not sent again", reason);
        ferry_run_report(run, key, reason, NULL);
        json_t *created = json_pack("{s:s, s:s?}", "id", existing_id, "number", existing_number);
        rc = run->opts->dry_run ? FERRY_OK : settle_document(run, key, record, hash, created, "synced", reason, 1, err);
        if (rc == FERRY_OK && !run->opts->dry_run && ferry_run_setting_bool(run, "comment_back")) {
            rc = write_comment(run, key, str_member(record, "id"), existing_id, existing_number, 1, 0, err);
        }
        json_decref(created);
        free(reason);
        free(existing_id);
        free(existing_number);
        json_decref(doc);
        free(hash);
        return rc == FERRY_OK ? OUTCOME_SKIPPED : OUTCOME_STOP;
    }
    free(existing_id);
    free(existing_number);
    if (rc != FERRY_OK) {
        json_decref(doc);
        free(hash);
        return stop_or_dead(run, key, "write", rc, record, NULL, err);
    }

    rc = resolve_document_customer(run, key, doc, err);
    if (rc == FERRY_OK) {
        rc = resolve_articles(run, key, doc, err);
    }
    if (rc != FERRY_OK) {
        record_outcome o = stop_or_dead(run, key, "write", rc, record, doc, err);
        json_decref(doc);
        free(hash);
        return o;
    }

    const ferry_plugin_descriptor *d = run->dst->plugin->desc;
    if (run->opts->dry_run) {
        json_t *native = NULL;
        if (d->to_native == NULL || d->to_native(run->dst->conn, ENT_DOCUMENT, doc, &native, err) != FERRY_OK) {
            native = json_incref(doc);
        }
        char *decision = ferry_asprintf("would create %s", str_member(doc, "type"));
        ferry_run_report(run, key, decision, native);
        free(decision);
        json_decref(native);
        json_decref(doc);
        free(hash);
        return OUTCOME_SYNCED;
    }

    json_t *created = NULL;
    rc = create_document(run, key, record, doc, hash, &created, err);
    if (rc != FERRY_OK) {
        json_t *native = NULL;
        ferry_error nerr;
        ferry_error_clear(&nerr);
        if (d->to_native != NULL) {
            d->to_native(run->dst->conn, ENT_DOCUMENT, doc, &native, &nerr);
        }
        record_outcome o = stop_or_dead(run, key, "write", rc, record, native ? native : doc, err);
        json_decref(native);
        json_decref(doc);
        free(hash);
        return o;
    }

    totals_check tc;
    check_totals(run, doc, created, &tc);
    const char *state = "synced";
    char reason[700];
    snprintf(reason, sizeof(reason), "%s", tc.message);
    if (tc.ok && !tc.exact) {
        json_t *updated = NULL;
        ferry_error rerr;
        ferry_error_clear(&rerr);
        int rrc = add_rounding_row(run, key, doc, str_member(created, "id"), created, &tc, &updated, &rerr);
        if (rrc == FERRY_OK && updated != NULL && str_member(updated, "id") == NULL) {
            /* an answer that is no document: whether the row is there is unknown */
            json_decref(updated);
            updated = NULL;
            rrc = ferry_error_set(&rerr, FERRY_RETRY, NULL, "the update answered without the document");
        }
        if (rrc == FERRY_OK && updated != NULL) {
            json_decref(created);
            created = updated;
            check_totals(run, doc, created, &tc);
            snprintf(reason, sizeof(reason), "rounding row added; %s", tc.message);
        } else if (rerr.message[0]) {
            /* The document is there but its total is not the shop's: a person must look (never silent). */
            ferry_run_event(run, "warn", "rounding", key, NULL, "could not add the rounding row: %s", rerr.message);
            tc.ok = 0;
            char *why = ferry_asprintf("%s; the rounding row could not be added: %s", reason, rerr.message);
            ferry_strlcpy(tc.message, why ? why : reason, sizeof(tc.message));
            free(why);
            snprintf(reason, sizeof(reason), "%s", tc.message);
        } else {
            ferry_run_event(run, "info", "totals", key, NULL, "within tolerance: %s", tc.message);
        }
    }
    if (!tc.ok) {
        state = "mismatch";
        ferry_run_event(run, "error", "mismatch", key, created, "totals differ: %s", tc.message);
        char *alert = ferry_asprintf("order %s: %s totals differ from the shop's: %s", key,
                                     run->flow->target_connection, tc.message);
        ferry_activity_alert(run->st, "totals_mismatch", run->flow->id, 0, alert, err);
        free(alert);
    }
    rc = settle_document(run, key, record, hash, created, state, reason, 0, err);
    if (rc != FERRY_OK) {
        json_decref(created);
        json_decref(doc);
        free(hash);
        return OUTCOME_STOP;
    }
    json_t *summary = json_deep_copy(created);
    json_object_del(summary, "native"); /* the full answer is in the create's http event */
    ferry_run_event(run, "info", "synced", key, summary, "sent as %s %s", str_member(doc, "type"),
                    str_member(created, "number") ? str_member(created, "number") : str_member(created, "id"));
    json_decref(summary);
    if (ferry_run_setting_bool(run, "comment_back")) {
        rc = write_comment(run, key, str_member(record, "id"), str_member(created, "id"), str_member(created, "number"),
                           0, 0, err);
    }
    json_decref(created);
    json_decref(doc);
    free(hash);
    if (rc != FERRY_OK) {
        return OUTCOME_STOP;
    }
    return tc.ok ? OUTCOME_SYNCED : OUTCOME_MISMATCH;
}

const run_kind_ops ferry_sync_orders_ops = {orders_begin, orders_process};
