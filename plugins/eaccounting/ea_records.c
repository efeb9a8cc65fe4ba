/* ea_records.c - customers and articles: create, update, find (see ea_records.h). */
#include "config.h"

#include "ea_records.h"

#include <stdlib.h>
#include <string.h>

#include "ea_api.h"
#include "ea_conn.h"
#include "ea_filter.h"
#include "ea_map.h"
#include "ea_str.h"
#include "plugin_util.h"
#include "util.h"

/* One entity's endpoints and keys. */
typedef struct entity_info {
    const char *canonical;        /* "customer" / "article" */
    const char *resource;         /* "customers" / "articles" */
    const char *const *read_only; /* members not to send back on PUT */
    const char *const (*keys)[2]; /* canonical key -> native filter field */
    ea_read_source source;
} entity_info;

static const char *const customer_read_only[] = {"Id",
                                                 "PayToAccountId",
                                                 "LastInvoiceDate",
                                                 "ChangedUtc",
                                                 "MessageThreads",
                                                 "Notes",
                                                 "IsFutureInvoiceDateAllowed",
                                                 "UnpaidInvoicesAmount",
                                                 "TermsOfPayment",
                                                 NULL};
static const char *const article_read_only[] = {"Id",
                                                "CodingName",
                                                "UnitName",
                                                "UnitAbbreviation",
                                                "StockBalanceManuallyChangedUtc",
                                                "StockBalanceReserved",
                                                "StockBalanceAvailable",
                                                "CreatedUtc",
                                                "ChangedUtc",
                                                "PurchasePriceManuallyChangedUtc",
                                                "MessageThreads",
                                                "Notes",
                                                "ShowStockInformation",
                                                "IsServiceArticle",
                                                "FreightCostsManuallyChangedUtc",
                                                "StockValue",
                                                "NetPriceWithDiscount",
                                                NULL};

static const char *const customer_keys[][2] = {{"customer_number", "CustomerNumber"},
                                               {"email", "EmailAddress"},
                                               {"vat_number", "VatNumber"},
                                               {"organisation_number", "CorporateIdentityNumber"},
                                               {NULL, NULL}};
static const char *const article_keys[][2] = {{"number", "Number"}, {"sku", "Number"}, {NULL, NULL}};

static const entity_info entities[] = {
    {"customer", "customers", customer_read_only, customer_keys, {"customers", "ChangedUtc", 0, NULL}},
    {"article", "articles", article_read_only, article_keys, {"articles", "ChangedUtc", 0, NULL}},
};

int ea_records_is_article(const char *entity)
{
    return entity != NULL && (strcmp(entity, "article") == 0 || strcmp(entity, "product") == 0);
}

static const entity_info *info_of(const char *entity)
{
    if (entity != NULL && strcmp(entity, "customer") == 0) {
        return &entities[0];
    }
    return ea_records_is_article(entity) ? &entities[1] : NULL;
}

int ea_records_handles(const char *entity)
{
    return info_of(entity) != NULL;
}

const ea_read_source *ea_records_source(const char *entity)
{
    const entity_info *e = info_of(entity);
    return e ? &e->source : NULL;
}

int ea_records_to_native(ferry_conn *c, const char *entity, const json_t *rec, json_t **native, ferry_error *err)
{
    if (ea_records_is_article(entity)) {
        return ea_map_article_to_native(c, rec, NULL, native, err);
    }
    return ea_map_customer_to_native(c, rec, EA_MAP_CREATE, native, err);
}

json_t *ea_records_from_native(const ferry_conn *c, const char *entity, const json_t *native)
{
    if (ea_records_is_article(entity)) {
        return ea_map_article_from_native(c, native);
    }
    return ea_map_customer_from_native(c, native);
}

int ea_records_create(ferry_conn *c, const char *entity, const json_t *rec, json_t **created, ferry_error *err)
{
    *created = NULL;
    const entity_info *e = info_of(entity);
    json_t *native = NULL;
    int rc = ea_records_to_native(c, entity, rec, &native, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    char path[64], what[64];
    snprintf(path, sizeof(path), "/%s", e->resource);
    snprintf(what, sizeof(what), "create %s", e->canonical);
    ea_request rq = {"POST", path, NULL, native, what, e->canonical, 0};
    json_t *answer = NULL;
    rc = ea_api_call(c, &rq, &answer, NULL, err);
    json_decref(native);
    if (rc == FERRY_OK) {
        *created = ea_records_from_native(c, entity, answer);
    }
    json_decref(answer);
    return rc;
}

/* GET /<resource>/<id>: FERRY_OK with *obj, or FERRY_RECORD_ERROR when it does not exist. */
static int get_by_id(ferry_conn *c, const entity_info *e, const char *id, int missing_ok, json_t **obj,
                     ferry_error *err)
{
    *obj = NULL;
    if (!ea_is_guid(id)) {
        if (missing_ok) {
            return FERRY_OK; /* an id that is not a GUID names nothing */
        }
        return ferry_error_set(err, FERRY_RECORD_ERROR, "id", "eaccounting: '%s' is not an eAccounting %s id (a GUID)",
                               id ? id : "", e->canonical);
    }
    char path[96], what[64];
    snprintf(path, sizeof(path), "/%s/%s", e->resource, id);
    snprintf(what, sizeof(what), "read %s", e->canonical);
    ea_request rq = {"GET", path, NULL, NULL, what, e->canonical, 1};
    int rc = ea_api_call(c, &rq, obj, NULL, err);
    if (rc == FERRY_OK && *obj == NULL && !missing_ok) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "id", "eaccounting: there is no %s with id %s in eAccounting",
                               e->canonical, id);
    }
    return rc;
}

/* The existing object without read-only members, with `changes` merged over it. */
static json_t *merged_body(const entity_info *e, const json_t *existing, const json_t *changes)
{
    json_t *body = json_deep_copy(existing);
    for (const char *const *k = e->read_only; *k != NULL; k++) {
        json_object_del(body, *k);
    }
    json_object_update(body, (json_t *)changes);
    return body;
}

int ea_records_update(ferry_conn *c, const char *entity, const char *id, const json_t *rec, json_t **updated,
                      ferry_error *err)
{
    *updated = NULL;
    const entity_info *e = info_of(entity);
    json_t *existing = NULL, *changes = NULL, *answer = NULL;
    int rc = get_by_id(c, e, id, 0, &existing, err);
    if (rc == FERRY_OK) {
        rc = ea_records_is_article(entity) ? ea_map_article_to_native(c, rec, existing, &changes, err)
                                           : ea_map_customer_to_native(c, rec, EA_MAP_UPDATE, &changes, err);
    }
    if (rc == FERRY_OK) {
        json_t *body = merged_body(e, existing, changes);
        char path[96], what[64];
        snprintf(path, sizeof(path), "/%s/%s", e->resource, id);
        snprintf(what, sizeof(what), "update %s", e->canonical);
        ea_request rq = {"PUT", path, NULL, body, what, e->canonical, 0};
        rc = ea_api_call(c, &rq, &answer, NULL, err);
        json_decref(body);
    }
    if (rc == FERRY_OK) {
        *updated = ea_records_from_native(c, entity, answer);
    }
    json_decref(existing);
    json_decref(changes);
    json_decref(answer);
    return rc;
}

static const char *native_key(const entity_info *e, const char *key)
{
    for (size_t i = 0; e->keys[i][0] != NULL; i++) {
        if (strcmp(e->keys[i][0], key) == 0) {
            return e->keys[i][1];
        }
    }
    return NULL;
}

static int find_by_filter(ferry_conn *c, const entity_info *e, const char *field, const char *value, json_t **found,
                          ferry_error *err)
{
    ferry_buf filter = FERRY_BUF_INIT;
    int rc = ea_filter_add(&filter, e->resource, field, "eq", value, err);
    json_t *data = NULL;
    ea_page_meta meta;
    if (rc == FERRY_OK) {
        rc = ea_api_list_page(c, e->resource, ferry_buf_str(&filter), NULL, NULL, 1, 2, &data, &meta, err);
    }
    ferry_buf_free(&filter);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *first = json_array_get(data, 0);
    if (json_array_size(data) > 1) {
        c->host->log(c->hc, FERRY_LOG_WARN, "eaccounting: %ld %ss have %s '%s'; using the first (%s)",
                     meta.total_results, e->canonical, field, value,
                     plugin_json_str(first, "Id") ? plugin_json_str(first, "Id") : "?");
    }
    if (first != NULL) {
        *found = ea_records_from_native(c, e->canonical, first);
    }
    json_decref(data);
    return FERRY_OK;
}

int ea_records_find(ferry_conn *c, const char *entity, const char *key, const char *value, json_t **found,
                    ferry_error *err)
{
    *found = NULL;
    const entity_info *e = info_of(entity);
    if (key == NULL || value == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, key, "eaccounting: find needs a key and a value");
    }
    /* "key": the canonical key - the Id read_page hands out, or what the engine's record sync uses */
    if (strcmp(key, "id") == 0 || (strcmp(key, "key") == 0 && ea_is_guid(value))) {
        json_t *obj = NULL;
        int rc = get_by_id(c, e, value, 1, &obj, err);
        if (rc == FERRY_OK && obj != NULL) {
            *found = ea_records_from_native(c, e->canonical, obj);
        }
        json_decref(obj);
        return rc;
    }
    const char *field = native_key(e, key);
    if (strcmp(key, "key") == 0) {
        /* the engine's generic record sync: an article's key is its number (SKU), a customer's its
           e-mail address (what the default mappings use) or else its customer number */
        field = ea_records_is_article(entity) ? "Number" : strchr(value, '@') ? "EmailAddress" : "CustomerNumber";
    }
    if (field == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, key, "eaccounting: cannot find a %s by '%s'", e->canonical,
                               key);
    }
    if (value[0] == '\0') {
        return FERRY_OK; /* an empty key matches nothing worth returning */
    }
    return find_by_filter(c, e, field, value, found, err);
}
