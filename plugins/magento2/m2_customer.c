/* m2_customer.c - customers (see m2_customer.h). */
#include "config.h"

#include "m2_customer.h"

#include <stdlib.h>
#include <string.h>

#include "m2_address.h"
#include "m2_api.h"
#include "m2_read.h"
#include "m2_util.h"
#include "util.h"

/* The address whose id is the customer's default_<kind> (or that carries the default_<kind> flag). */
static const json_t *default_address(const json_t *native, const char *kind)
{
    json_t *addresses = json_object_get(native, "addresses");
    const char *wanted = m2_json_text(native, kind);
    char id[32] = "";
    if (wanted != NULL) {
        ferry_strlcpy(id, wanted, sizeof(id));
    }
    size_t i;
    json_t *a;
    json_array_foreach (addresses, i, a) {
        const char *aid = m2_json_text(a, "id");
        if ((id[0] && aid && strcmp(aid, id) == 0) || m2_json_flag(a, kind, 0)) {
            return a;
        }
    }
    return NULL;
}

static json_t *attributes_of(const json_t *native)
{
    json_t *attrs = json_object();
    static const char *const plain[] = {"group_id", "dob",        "gender", "website_id", "store_id", "created_in",
                                        "taxvat",   "middlename", "prefix", "suffix",     NULL};
    m2_copy_texts(attrs, native, plain);
    json_t *subscribed = m2_path(native, "extension_attributes", "is_subscribed", NULL);
    if (json_is_boolean(subscribed)) {
        json_object_set(attrs, "is_subscribed", subscribed);
    }
    m2_copy_custom_attributes(attrs, native);
    return attrs;
}

static void add_names(json_t *out, const json_t *native, const json_t *billing)
{
    const char *first = m2_str(native, "firstname");
    const char *last = m2_str(native, "lastname");
    const char *company = m2_str(billing, "company");
    m2_set_str(out, "first_name", first);
    m2_set_str(out, "last_name", last);
    json_object_set_new(out, "is_company", json_boolean(company != NULL));
    if (company != NULL) {
        m2_set_str(out, "name", company);
        json_t *contact = json_object();
        m2_set_str(contact, "first_name", first);
        m2_set_str(contact, "last_name", last);
        m2_set_str(contact, "email", m2_str(native, "email"));
        m2_set_str(contact, "phone", m2_str(billing, "telephone"));
        json_object_set_new(out, "contact_person", contact);
    } else {
        char *full = ferry_asprintf("%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
        m2_set_str(out, "name", full);
        free(full);
    }
}

json_t *m2_customer_decode(const json_t *native, ferry_error *err)
{
    const char *id = m2_json_text(native, "id");
    if (!json_is_object(native) || id == NULL) {
        ferry_error_set(err, FERRY_RECORD_ERROR, "id", "a Magento customer without id");
        return NULL;
    }
    json_t *out = json_object();
    json_object_set_new(out, "key", json_string(id));
    json_object_set_new(out, "id", json_string(id));
    m2_set_str(out, "email", m2_str(native, "email"));
    const json_t *billing = default_address(native, "default_billing");
    const json_t *shipping = default_address(native, "default_shipping");
    add_names(out, native, billing);
    const char *vat = m2_str(native, "taxvat");
    m2_set_str(out, "vat_number", vat ? vat : m2_str(billing, "vat_id"));
    m2_set_str(out, "phone", m2_str(billing, "telephone"));
    m2_set_str(out, "country", m2_str(billing, "country_id"));
    if (billing != NULL) {
        json_object_set_new(out, "invoice_address", m2_address_decode(billing));
    }
    if (shipping != NULL) {
        json_object_set_new(out, "delivery_address", m2_address_decode(shipping));
    }
    json_t *addresses = json_array();
    size_t i;
    json_t *a;
    json_array_foreach (json_object_get(native, "addresses"), i, a) {
        json_array_append_new(addresses, m2_address_decode(a));
    }
    json_object_set_new(out, "addresses", addresses);
    m2_set_str(out, "group", m2_json_text(native, "group_id"));
    json_object_set_new(out, "attributes", attributes_of(native));
    json_object_set_new(out, "active", json_boolean(m2_str(native, "confirmation") == NULL));
    m2_set_new(out, "created_at", m2_time_to_iso_json(m2_str(native, "created_at")));
    m2_set_new(out, "updated_at", m2_time_to_iso_json(m2_str(native, "updated_at")));
    json_object_set_new(out, "source", json_deep_copy(native));
    return out;
}

static json_t *decode_customer(ferry_conn *c, const json_t *native, ferry_error *err)
{
    (void)c;
    return m2_customer_decode(native, err);
}

static const m2_listing customers_listing = {"customer", "/customers/search", "updated_at", "entity_id",
                                             "id",       decode_customer};

int m2_customers_read(ferry_conn *c, const json_t *query, const json_t *cursor, json_t **records, json_t **next_cursor,
                      int *more, ferry_error *err)
{
    m2_params p = M2_PARAMS_INIT;
    int rc = m2_read_page(c, &customers_listing, &p, 0, query, cursor, records, next_cursor, more, err);
    m2_params_free(&p);
    return rc;
}

int m2_customers_find(ferry_conn *c, const char *key, const char *value, json_t **found, ferry_error *err)
{
    *found = NULL;
    json_t *native = NULL;
    int rc;
    if (strcmp(key, "email") == 0) {
        rc = m2_read_find_native(c, &customers_listing, "email", value, &native, err);
    } else if (strcmp(key, "id") == 0) {
        char *seg = m2_api_segment(c, value);
        char *path = seg ? ferry_asprintf("/customers/%s", seg) : NULL;
        m2_request rq = {.method = "GET", .path = path, .flags = M2_ACCEPT_404, .label = "customer", .record = value};
        rc = path ? m2_api_call(c, &rq, &native, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
        free(seg);
        free(path);
    } else {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, key, "customers are found by email or id, not by %s", key);
    }
    if (rc == FERRY_OK && native != NULL) {
        *found = m2_customer_decode(native, err);
        rc = *found ? FERRY_OK : err->status;
    }
    json_decref(native);
    return rc;
}
