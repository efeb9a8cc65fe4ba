/* m2_product_write.c - create or update a product by SKU (see m2_product_write.h). */
#include "config.h"

#include "m2_product_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "m2_api.h"
#include "m2_catalog.h"
#include "m2_category.h"
#include "m2_media.h"
#include "m2_product.h"
#include "m2_util.h"
#include "util.h"

typedef struct upsert {
    ferry_conn *c;
    const char *sku;
    char *sku_seg;    /* the sku encoded for URLs */
    json_t *existing; /* the product before the write, NULL when new */
    json_t *work;     /* the record to write (create_only fields dropped on update) */
    json_t *saved;    /* Magento's answer to the save */
    int options_added, children_linked, images_uploaded;
} upsert;

json_t *m2_product_payload(ferry_conn *c, const json_t *record, ferry_error *err)
{
    m2_product_target t = {1, c->website_ids, c->ean_attribute, NULL};
    return m2_product_encode(record, &t, err);
}

static int resolve_categories(upsert *u, json_t **ids, ferry_error *err)
{
    *ids = NULL;
    json_t *paths = json_object_get(u->work, "categories");
    if (!json_is_array(paths)) {
        return FERRY_OK;
    }
    json_t *out = json_array();
    size_t i;
    json_t *p;
    json_array_foreach (paths, i, p) {
        long long id = 0;
        const char *path = json_string_value(p);
        int rc = path ? m2_category_ensure(u->c, path, &id, err)
                      : ferry_error_set(err, FERRY_RECORD_ERROR, "categories", "category paths must be strings");
        if (rc != FERRY_OK) {
            if (err->field[0] == '\0' || strcmp(err->field, "categories") == 0) {
                snprintf(err->field, sizeof(err->field), "categories[%zu]", i);
            }
            json_decref(out);
            return rc;
        }
        json_array_append_new(out, json_integer(id));
    }
    *ids = out;
    return FERRY_OK;
}

static int save_product(upsert *u, ferry_error *err)
{
    json_t *ids = NULL;
    int rc = resolve_categories(u, &ids, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    m2_product_target t = {u->existing == NULL, u->c->website_ids, u->c->ean_attribute, ids};
    json_t *body = m2_product_encode(u->work, &t, err);
    json_decref(ids);
    if (body == NULL) {
        return err->status;
    }
    char *path = u->existing ? ferry_asprintf("/products/%s", u->sku_seg) : ferry_strdup("/products");
    m2_request rq = {.method = u->existing ? "PUT" : "POST",
                     .path = path,
                     .body = body,
                     .flags = M2_SCOPE_ALL,
                     .label = u->existing ? "update product" : "create product",
                     .record = u->sku};
    rc = m2_api_call(u->c, &rq, &u->saved, NULL, err);
    json_decref(body);
    free(path);
    return rc;
}

/* GET a JSON list from <prefix><sku><suffix>. */
static int get_list(upsert *u, const char *prefix, const char *suffix, const char *label, json_t **list,
                    ferry_error *err)
{
    char *path = ferry_asprintf("%s%s%s", prefix, u->sku_seg, suffix);
    m2_request rq = {.method = "GET", .path = path, .label = label, .record = u->sku};
    int rc = m2_api_call(u->c, &rq, list, NULL, err);
    free(path);
    return rc;
}

/* POST `body` (taken) to <prefix><sku><suffix>. */
static int post_json(upsert *u, const char *prefix, const char *suffix, json_t *body, const char *label,
                     ferry_error *err)
{
    char *path = ferry_asprintf("%s%s%s", prefix, u->sku_seg, suffix);
    json_t *answer = NULL;
    m2_request rq = {.method = "POST", .path = path, .body = body, .label = label, .record = u->sku};
    int rc = m2_api_call(u->c, &rq, &answer, NULL, err);
    json_decref(answer);
    json_decref(body);
    free(path);
    return rc;
}

static int has_option(const json_t *options, const char *attribute_id)
{
    size_t i;
    json_t *o;
    json_array_foreach (options, i, o) {
        const char *have = m2_json_text(o, "attribute_id");
        if (have != NULL && strcmp(have, attribute_id) == 0) {
            return 1;
        }
    }
    return 0;
}

static json_t *option_body(const json_t *opt, size_t i)
{
    json_t *values = json_array();
    size_t j;
    json_t *v;
    json_array_foreach (json_object_get(opt, "values"), j, v) {
        const char *text = json_is_object(v) ? m2_json_text(v, "value_index") : m2_json_value_text(v);
        long long index = text ? strtoll(text, NULL, 10) : 0;
        json_array_append_new(values, json_pack("{s:I}", "value_index", (json_int_t)index));
    }
    json_t *option = json_object();
    json_object_set_new(option, "attribute_id", json_string(m2_json_text(opt, "attribute_id")));
    m2_set_str(option, "label", m2_str(opt, "label"));
    json_object_set_new(option, "position", json_integer(m2_json_int(opt, "position", (long long)i)));
    json_object_set_new(option, "is_use_default", json_true());
    json_object_set_new(option, "values", values);
    return json_pack("{s:o}", "option", option);
}

static int add_options(upsert *u, ferry_error *err)
{
    json_t *wanted = json_object_get(u->work, "options");
    if (json_array_size(wanted) == 0) {
        return FERRY_OK;
    }
    json_t *have = NULL;
    int rc = get_list(u, "/configurable-products/", "/options/all", "configurable options", &have, err);
    size_t i;
    json_t *opt;
    json_array_foreach (wanted, i, opt) {
        const char *attribute_id = m2_json_text(opt, "attribute_id");
        if (rc != FERRY_OK) {
            break;
        }
        if (attribute_id == NULL) {
            rc = ferry_error_set(err, FERRY_RECORD_ERROR, "options", "options[%zu] has no attribute_id", i);
        } else if (!has_option(have, attribute_id)) {
            rc = post_json(u, "/configurable-products/", "/options", option_body(opt, i), "add configurable option",
                           err);
            u->options_added += rc == FERRY_OK;
        }
    }
    json_decref(have);
    return rc;
}

static int has_child(const json_t *children, const char *sku)
{
    size_t i;
    json_t *ch;
    json_array_foreach (children, i, ch) {
        const char *have = m2_str(ch, "sku");
        if (have != NULL && strcasecmp(have, sku) == 0) {
            return 1;
        }
    }
    return 0;
}

static int link_children(upsert *u, ferry_error *err)
{
    json_t *wanted = json_object_get(u->work, "children");
    if (json_array_size(wanted) == 0) {
        return FERRY_OK;
    }
    json_t *have = NULL;
    int rc = get_list(u, "/configurable-products/", "/children", "configurable children", &have, err);
    size_t i;
    json_t *child;
    json_array_foreach (wanted, i, child) {
        const char *sku = json_string_value(child);
        if (rc != FERRY_OK) {
            break;
        }
        if (sku == NULL || has_child(have, sku)) {
            continue;
        }
        rc = post_json(u, "/configurable-products/", "/child", json_pack("{s:s}", "childSku", sku), "link child", err);
        if (rc == FERRY_OK) {
            u->children_linked++;
        } else if (rc == FERRY_RECORD_ERROR) {
            snprintf(err->field, sizeof(err->field), "children[%zu]", i);
        }
    }
    json_decref(have);
    return rc;
}

static int link_grouped(upsert *u, ferry_error *err)
{
    json_t *links = json_object_get(u->work, "links");
    if (json_array_size(links) == 0) {
        return FERRY_OK;
    }
    json_t *items = json_array();
    size_t i;
    json_t *l;
    json_array_foreach (links, i, l) {
        const char *sku = m2_str(l, "sku");
        if (sku == NULL) {
            json_decref(items);
            return ferry_error_set(err, FERRY_RECORD_ERROR, "links", "links[%zu] has no sku", i);
        }
        const char *qty = m2_json_text(l, "qty");
        json_t *link = json_pack(
            "{s:s, s:s, s:s, s:s, s:I, s:{s:s}}", "sku", u->sku, "link_type", "associated", "linked_product_sku", sku,
            "linked_product_type", m2_str(l, "type") ? m2_str(l, "type") : "simple", "position",
            (json_int_t)m2_json_int(l, "position", (long long)i + 1), "extension_attributes", "qty", qty ? qty : "1");
        json_array_append_new(items, link);
    }
    return post_json(u, "/products/", "/links", json_pack("{s:o}", "items", items), "link grouped products", err);
}

static json_t *result_of(const upsert *u)
{
    json_t *out = json_object();
    json_object_set_new(out, "id", json_string(u->sku));
    json_object_set_new(out, "sku", json_string(u->sku));
    m2_set_str(out, "entity_id", m2_json_text(u->saved, "id"));
    json_object_set_new(out, "created", json_boolean(u->existing == NULL));
    json_object_set_new(out, "options_added", json_integer(u->options_added));
    json_object_set_new(out, "children_linked", json_integer(u->children_linked));
    json_object_set_new(out, "images_uploaded", json_integer(u->images_uploaded));
    return out;
}

static int run_upsert(upsert *u, ferry_error *err)
{
    int rc = m2_product_get_native(u->c, u->sku, 1, &u->existing, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    u->work = u->existing ? m2_product_drop_create_only(u->work) : json_deep_copy(u->work);
    if (u->existing != NULL) {
        json_object_del(u->work, "type"); /* a product's type is set when it is created */
    }
    rc = save_product(u, err);
    if (rc == FERRY_OK) {
        rc = add_options(u, err);
    }
    if (rc == FERRY_OK) {
        rc = link_children(u, err);
    }
    if (rc == FERRY_OK) {
        rc = link_grouped(u, err);
    }
    if (rc == FERRY_OK && json_is_array(json_object_get(u->work, "media"))) {
        json_t *existing = json_object_get(u->existing ? u->existing : u->saved, "media_gallery_entries");
        rc = m2_media_upload(u->c, u->sku, json_object_get(u->work, "media"), existing, &u->images_uploaded, err);
    }
    return rc;
}

int m2_product_upsert(ferry_conn *c, const char *id, const json_t *record, json_t **result, ferry_error *err)
{
    *result = NULL;
    const char *sku = m2_str(record, "sku") ? m2_str(record, "sku") : id;
    if (sku == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "sku", "a product needs a sku");
    }
    upsert u = {c, sku, m2_api_segment(c, sku), NULL, (json_t *)record, NULL, 0, 0, 0};
    if (u.sku_seg == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    int rc = run_upsert(&u, err);
    if (rc == FERRY_OK) {
        *result = result_of(&u);
    } else if (err->record[0] == '\0') {
        ferry_strlcpy(err->record, sku, sizeof(err->record));
    }
    if (u.work != record) {
        json_decref(u.work);
    }
    json_decref(u.existing);
    json_decref(u.saved);
    free(u.sku_seg);
    return rc;
}
