/* m2_product.c - products: native <-> canonical (see m2_product.h). */
#include "config.h"

#include "m2_product.h"

#include <stdlib.h>
#include <string.h>

#include "m2_util.h"
#include "money.h"
#include "util.h"

/* Attributes that are first-class product fields, not custom attributes. */
static const char *const first_class[] = {"attribute_set_id", "visibility",   "status",
                                          "website_ids",      "category_ids", NULL};

static int is_first_class(const char *code)
{
    for (int i = 0; first_class[i] != NULL; i++) {
        if (strcmp(first_class[i], code) == 0) {
            return 1;
        }
    }
    return 0;
}

/* ---- decoding ---------------------------------------------------------------------------- */

static json_t *custom_value(const json_t *native, const char *code)
{
    size_t i;
    json_t *ca;
    json_array_foreach (json_object_get(native, "custom_attributes"), i, ca) {
        const char *c = m2_str(ca, "attribute_code");
        if (c != NULL && strcmp(c, code) == 0) {
            return json_object_get(ca, "value");
        }
    }
    return NULL;
}

static json_t *attributes_of(const json_t *native)
{
    json_t *attrs = json_object();
    static const char *const plain[] = {"attribute_set_id", "visibility", "status", NULL};
    m2_copy_texts(attrs, native, plain);
    json_t *websites = m2_path(native, "extension_attributes", "website_ids", NULL);
    if (json_is_array(websites)) {
        json_object_set(attrs, "website_ids", websites);
    }
    m2_copy_custom_attributes(attrs, native);
    return attrs;
}

static json_t *categories_of(const json_t *native, const m2_product_context *ctx)
{
    json_t *out = json_array();
    size_t i;
    json_t *link;
    json_array_foreach (m2_path(native, "extension_attributes", "category_links", NULL), i, link) {
        const char *id = m2_json_text(link, "category_id");
        const char *path = id && ctx->category_path ? ctx->category_path(ctx->ud, id) : NULL;
        if (path != NULL) {
            json_array_append_new(out, json_string(path));
        }
    }
    return out;
}

static json_t *media_of(const json_t *native, const m2_product_context *ctx)
{
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach (json_object_get(native, "media_gallery_entries"), i, m) {
        json_t *entry = json_object();
        const char *file = m2_str(m, "file");
        m2_set_str(entry, "file", file);
        if (file != NULL && ctx->media_base_url != NULL) {
            char *url = ferry_asprintf("%scatalog/product%s%s", ctx->media_base_url, file[0] == '/' ? "" : "/", file);
            m2_set_str(entry, "url", url);
            free(url);
        }
        m2_set_str(entry, "label", m2_str(m, "label"));
        json_t *types = json_object_get(m, "types");
        json_object_set_new(entry, "types", json_is_array(types) ? json_incref(types) : json_array());
        json_object_set_new(entry, "position", json_integer(m2_json_int(m, "position", 0)));
        json_object_set_new(entry, "disabled", json_boolean(m2_json_flag(m, "disabled", 0)));
        m2_set_str(entry, "id", m2_json_text(m, "id"));
        json_array_append_new(out, entry);
    }
    return out;
}

static json_t *options_of(const json_t *native)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *o, *v;
    json_array_foreach (m2_path(native, "extension_attributes", "configurable_product_options", NULL), i, o) {
        json_t *values = json_array();
        json_array_foreach (json_object_get(o, "values"), j, v) {
            json_array_append_new(values, json_integer(m2_json_int(v, "value_index", 0)));
        }
        json_t *opt = json_object();
        m2_set_str(opt, "attribute_id", m2_json_text(o, "attribute_id"));
        m2_set_str(opt, "label", m2_str(o, "label"));
        json_object_set_new(opt, "position", json_integer(m2_json_int(o, "position", 0)));
        json_object_set_new(opt, "values", values);
        json_array_append_new(out, opt);
    }
    return out;
}

static json_t *children_of(const json_t *native, const m2_product_context *ctx)
{
    json_t *out = json_array();
    size_t i;
    json_t *ch;
    if (ctx->children != NULL) {
        json_array_foreach (ctx->children, i, ch) {
            if (m2_str(ch, "sku") != NULL) {
                json_array_append_new(out, json_string(m2_str(ch, "sku")));
            }
        }
    }
    (void)native;
    return out;
}

static json_t *links_of(const json_t *native)
{
    json_t *out = json_array();
    size_t i;
    json_t *l;
    json_array_foreach (json_object_get(native, "product_links"), i, l) {
        const char *type = m2_str(l, "link_type");
        if (type == NULL || strcmp(type, "associated") != 0) {
            continue;
        }
        json_t *link = json_object();
        ferry_money qty; /* 0 when Magento gives none */
        m2_amount_get(json_object_get(l, "extension_attributes"), "qty", &qty);
        m2_set_str(link, "sku", m2_str(l, "linked_product_sku"));
        json_object_set_new(link, "qty", m2_plain_json(qty));
        json_object_set_new(link, "position", json_integer(m2_json_int(l, "position", 0)));
        m2_set_str(link, "type", m2_str(l, "linked_product_type"));
        json_array_append_new(out, link);
    }
    return out;
}

static json_t *selection_of(const json_t *l)
{
    json_t *sel = json_object();
    ferry_money qty, price;
    m2_amount_get(l, "qty", &qty); /* 0 when Magento gives none */
    m2_set_str(sel, "sku", m2_str(l, "sku"));
    json_object_set_new(sel, "qty", m2_plain_json(qty));
    json_object_set_new(sel, "is_default", json_boolean(m2_json_flag(l, "is_default", 0)));
    if (m2_amount_get(l, "price", &price)) {
        json_object_set_new(sel, "price", m2_money_json(price));
    }
    if (json_object_get(l, "price_type") != NULL && !json_is_null(json_object_get(l, "price_type"))) {
        json_object_set_new(sel, "price_type", json_integer(m2_json_int(l, "price_type", 0)));
    }
    json_object_set_new(sel, "can_change_quantity", json_boolean(m2_json_flag(l, "can_change_quantity", 0)));
    return sel;
}

static json_t *bundle_options_of(const json_t *native)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *o, *l;
    json_array_foreach (m2_path(native, "extension_attributes", "bundle_product_options", NULL), i, o) {
        json_t *sels = json_array();
        json_array_foreach (json_object_get(o, "product_links"), j, l) {
            json_array_append_new(sels, selection_of(l));
        }
        json_t *opt = json_object();
        m2_set_str(opt, "option_id", m2_json_text(o, "option_id"));
        m2_set_str(opt, "title", m2_str(o, "title"));
        json_object_set_new(opt, "required", json_boolean(m2_json_flag(o, "required", 1)));
        m2_set_str(opt, "type", m2_str(o, "type"));
        json_object_set_new(opt, "position", json_integer(m2_json_int(o, "position", 0)));
        json_object_set_new(opt, "selections", sels);
        json_array_append_new(out, opt);
    }
    return out;
}

static json_t *stock_of(const json_t *native)
{
    json_t *item = m2_path(native, "extension_attributes", "stock_item", NULL);
    if (!json_is_object(item)) {
        return NULL;
    }
    json_t *out = json_object();
    ferry_money qty;
    if (m2_amount_get(item, "qty", &qty)) {
        json_object_set_new(out, "qty", m2_plain_json(qty));
    }
    json_object_set_new(out, "is_in_stock", json_boolean(m2_json_flag(item, "is_in_stock", 0)));
    json_object_set_new(out, "manage_stock", json_boolean(m2_json_flag(item, "manage_stock", 1)));
    return out;
}

/* Configurable parents and dynamic-price bundles show price 0 in the API (#10644): no price at all. */
static int price_is_meaningless(const json_t *native, const char *type)
{
    const char *price_type = m2_json_value_text(custom_value(native, "price_type"));
    return strcmp(type, "configurable") == 0 ||
           (strcmp(type, "bundle") == 0 && (price_type == NULL || strcmp(price_type, "1") != 0));
}

static void add_prices(json_t *out, const json_t *native, const char *type, const m2_product_context *ctx)
{
    ferry_money price;
    if (price_is_meaningless(native, type) || !m2_amount_get(native, "price", &price)) {
        return;
    }
    json_object_set_new(out, "price", m2_money_json(price));
    if (ctx->prices_include_tax == 1) {
        json_object_set_new(out, "gross_price", m2_money_json(price));
    } else if (ctx->prices_include_tax == 0) {
        json_object_set_new(out, "net_price", m2_money_json(price));
    }
}

static void add_type_parts(json_t *out, const json_t *native, const char *type, const m2_product_context *ctx)
{
    if (strcmp(type, "configurable") == 0) {
        json_object_set_new(out, "children", children_of(native, ctx));
        json_object_set_new(out, "options", options_of(native));
        json_t *ids = m2_path(native, "extension_attributes", "configurable_product_links", NULL);
        if (json_is_array(ids)) {
            json_object_set(out, "child_ids", ids);
        }
    } else if (strcmp(type, "grouped") == 0) {
        json_object_set_new(out, "links", links_of(native));
    } else if (strcmp(type, "bundle") == 0) {
        json_object_set_new(out, "bundle_options", bundle_options_of(native));
        const char *price_type = m2_json_value_text(custom_value(native, "price_type"));
        if (price_type != NULL) {
            json_object_set_new(out, "bundle_price_type",
                                json_string(strcmp(price_type, "1") == 0 ? "fixed" : "dynamic"));
        }
    }
}

json_t *m2_product_decode(const json_t *native, const m2_product_context *ctx, ferry_error *err)
{
    const char *sku = m2_str(native, "sku");
    if (sku == NULL) {
        ferry_error_set(err, FERRY_RECORD_ERROR, "sku", "a Magento product without sku");
        return NULL;
    }
    const char *type = m2_str(native, "type_id") ? m2_str(native, "type_id") : "simple";
    json_t *out = json_object();
    json_object_set_new(out, "key", json_string(sku));
    m2_set_str(out, "id", m2_json_text(native, "id"));
    json_object_set_new(out, "sku", json_string(sku));
    json_object_set_new(out, "number", json_string(sku));
    m2_set_str(out, "name", m2_str(native, "name"));
    json_object_set_new(out, "type", json_string(type));
    json_object_set_new(out, "active", json_boolean(m2_json_int(native, "status", 1) == 1));
    add_prices(out, native, type, ctx);
    ferry_money weight;
    if (m2_amount_get(native, "weight", &weight)) {
        json_object_set_new(out, "weight", m2_plain_json(weight));
    }
    m2_set_str(out, "tax_class", m2_json_value_text(custom_value(native, "tax_class_id")));
    m2_set_str(out, "ean", m2_json_value_text(custom_value(native, ctx->ean_attribute ? ctx->ean_attribute : "ean")));
    json_object_set_new(out, "attributes", attributes_of(native));
    json_object_set_new(out, "categories", categories_of(native, ctx));
    json_object_set_new(out, "media", media_of(native, ctx));
    add_type_parts(out, native, type, ctx);
    m2_set_new(out, "stock", stock_of(native));
    m2_set_new(out, "created_at", m2_time_to_iso_json(m2_str(native, "created_at")));
    m2_set_new(out, "updated_at", m2_time_to_iso_json(m2_str(native, "updated_at")));
    json_object_set_new(out, "source", json_deep_copy(native));
    return out;
}

/* ---- encoding ---------------------------------------------------------------------------- */

/* A canonical amount (string or number) as Magento's decimal text; -1 when it is not a number. */
static int amount_text(const json_t *v, int money, char *buf, size_t n)
{
    ferry_money a;
    if (!m2_amount_from_json(v, &a)) {
        return -1;
    }
    if (money) {
        m2_amount_money(a, buf, n);
    } else {
        m2_amount_plain(a, buf, n);
    }
    return 0;
}

static int put_amount(json_t *dst, const char *key, const json_t *record, const char *field, int money,
                      ferry_error *err)
{
    json_t *v = json_object_get(record, field);
    char buf[48];
    if (v == NULL || json_is_null(v)) {
        return FERRY_OK;
    }
    if (amount_text(v, money, buf, sizeof(buf)) != 0) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, field, "%s must be a decimal number", field);
    }
    json_object_set_new(dst, key, json_string(buf));
    return FERRY_OK;
}

/* A custom attribute value as Magento wants it: text, or a list of texts. */
static json_t *custom_attribute_value(const json_t *v)
{
    if (json_is_array(v)) {
        json_t *list = json_array();
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item) {
            const char *text = m2_json_value_text(item);
            if (text != NULL) {
                json_array_append_new(list, json_string(text));
            }
        }
        return list;
    }
    const char *text = m2_json_value_text(v);
    return text ? json_string(text) : NULL;
}

static void add_custom(json_t *customs, const char *code, const json_t *value)
{
    json_t *v = custom_attribute_value(value);
    if (v != NULL) {
        json_array_append_new(customs, json_pack("{s:s, s:o}", "attribute_code", code, "value", v));
    }
}

/*
 * A bundle's price type is the EAV attribute price_type ("1" fixed, "0"
 * dynamic), which decoding reads; Magento has no first-class field for it.
 * *value stays NULL when the record names none.
 */
static int bundle_price_type(const json_t *record, const char **value, ferry_error *err)
{
    json_t *v = json_object_get(record, "bundle_price_type");
    const char *text = json_string_value(v);
    *value = NULL;
    if (v == NULL || json_is_null(v)) {
        return FERRY_OK;
    }
    if (text != NULL && (strcmp(text, "fixed") == 0 || strcmp(text, "dynamic") == 0)) {
        *value = text[0] == 'f' ? "1" : "0";
        return FERRY_OK;
    }
    return ferry_error_set(err, FERRY_RECORD_ERROR, "bundle_price_type",
                           "bundle_price_type must be \"fixed\" or \"dynamic\"");
}

static int encode_attributes(json_t *product, json_t *ext, const json_t *record, const m2_product_target *t,
                             ferry_error *err)
{
    const char *price_type;
    int rc = bundle_price_type(record, &price_type, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *customs = json_array();
    json_t *attrs = json_object_get(record, "attributes");
    const char *code;
    json_t *value;
    json_object_foreach (attrs, code, value) {
        if (price_type != NULL && strcmp(code, "price_type") == 0) {
            continue; /* a decoded record carries both; bundle_price_type is the canonical one */
        }
        if (strcmp(code, "website_ids") == 0 && json_is_array(value)) {
            json_object_set(ext, "website_ids", value);
        } else if (is_first_class(code)) {
            long long n = m2_json_int(attrs, code, -1);
            if (strcmp(code, "category_ids") != 0 && n >= 0) {
                json_object_set_new(product, code, json_integer(n));
            }
        } else {
            add_custom(customs, code, value);
        }
    }
    json_t *tax_class = json_object_get(record, "tax_class");
    if (tax_class != NULL) {
        add_custom(customs, "tax_class_id", tax_class);
    }
    json_t *ean = json_object_get(record, "ean");
    if (ean != NULL) {
        add_custom(customs, t->ean_attribute ? t->ean_attribute : "ean", ean);
    }
    if (price_type != NULL) {
        json_array_append_new(customs, json_pack("{s:s, s:s}", "attribute_code", "price_type", "value", price_type));
    }
    if (json_array_size(customs) > 0) {
        json_object_set_new(product, "custom_attributes", customs);
    } else {
        json_decref(customs);
    }
    return FERRY_OK;
}

static void encode_defaults(json_t *product, json_t *ext, const m2_product_target *t)
{
    if (json_object_get(product, "type_id") == NULL) {
        json_object_set_new(product, "type_id", json_string("simple"));
    }
    if (json_object_get(product, "attribute_set_id") == NULL) {
        json_object_set_new(product, "attribute_set_id", json_integer(4));
    }
    if (json_object_get(product, "visibility") == NULL) {
        json_object_set_new(product, "visibility", json_integer(4));
    }
    if (json_object_get(product, "status") == NULL) {
        json_object_set_new(product, "status", json_integer(1));
    }
    if (json_object_get(ext, "website_ids") == NULL && t->website_ids != NULL) {
        json_t *ids = json_array();
        const char *p = t->website_ids;
        while (*p) {
            char *end;
            long long id = strtoll(p, &end, 10);
            if (end != p) {
                json_array_append_new(ids, json_integer(id));
            }
            p = *end ? end + 1 : end;
        }
        json_object_set_new(ext, "website_ids", ids);
    }
}

static json_t *encode_stock(const json_t *stock, ferry_error *err)
{
    json_t *item = json_object();
    char buf[48];
    json_t *qty = json_object_get(stock, "qty");
    if (qty != NULL && !json_is_null(qty)) {
        if (amount_text(qty, 0, buf, sizeof(buf)) != 0) {
            json_decref(item);
            ferry_error_set(err, FERRY_RECORD_ERROR, "stock.qty", "stock.qty must be a decimal number");
            return NULL;
        }
        json_object_set_new(item, "qty", json_string(buf));
    }
    if (json_is_boolean(json_object_get(stock, "is_in_stock"))) {
        json_object_set(item, "is_in_stock", json_object_get(stock, "is_in_stock"));
    }
    if (json_is_boolean(json_object_get(stock, "manage_stock"))) {
        json_object_set(item, "manage_stock", json_object_get(stock, "manage_stock"));
        json_object_set_new(item, "use_config_manage_stock", json_false());
    }
    return item;
}

static json_t *encode_bundle_options(const json_t *options)
{
    json_t *out = json_array();
    size_t i, j;
    json_t *o, *s;
    json_array_foreach (options, i, o) {
        json_t *links = json_array();
        json_array_foreach (json_object_get(o, "selections"), j, s) {
            json_t *link = json_object();
            char buf[48];
            m2_set_str(link, "sku", m2_str(s, "sku"));
            json_object_set_new(
                link, "qty", json_string(amount_text(json_object_get(s, "qty"), 0, buf, sizeof(buf)) == 0 ? buf : "1"));
            json_object_set_new(link, "is_default", json_boolean(m2_json_flag(s, "is_default", 0)));
            if (amount_text(json_object_get(s, "price"), 1, buf, sizeof(buf)) == 0) {
                json_object_set_new(link, "price", json_string(buf));
            }
            json_object_set_new(link, "price_type", json_integer(m2_json_int(s, "price_type", 0)));
            json_object_set_new(link, "can_change_quantity", json_integer(m2_json_flag(s, "can_change_quantity", 0)));
            json_array_append_new(links, link);
        }
        json_t *opt = json_object();
        m2_set_str(opt, "title", m2_str(o, "title"));
        json_object_set_new(opt, "required", json_boolean(m2_json_flag(o, "required", 1)));
        json_object_set_new(opt, "type", json_string(m2_str(o, "type") ? m2_str(o, "type") : "select"));
        json_object_set_new(opt, "position", json_integer(m2_json_int(o, "position", (long long)i + 1)));
        json_object_set_new(opt, "product_links", links);
        json_array_append_new(out, opt);
    }
    return out;
}

static int encode_main(json_t *product, const json_t *record, ferry_error *err)
{
    const char *sku = m2_str(record, "sku") ? m2_str(record, "sku") : m2_str(record, "key");
    if (sku == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "sku", "a product needs a sku");
    }
    json_object_set_new(product, "sku", json_string(sku));
    m2_set_str(product, "name", m2_str(record, "name"));
    const char *type = m2_str(record, "type");
    if (type != NULL) {
        json_object_set_new(product, "type_id", json_string(type));
    }
    json_t *active = json_object_get(record, "active");
    if (json_is_boolean(active)) {
        json_object_set_new(product, "status", json_integer(json_is_true(active) ? 1 : 2));
    }
    if (put_amount(product, "price", record, "price", 1, err) != FERRY_OK ||
        put_amount(product, "weight", record, "weight", 0, err) != FERRY_OK) {
        return err->status;
    }
    return FERRY_OK;
}

json_t *m2_product_encode(const json_t *record, const m2_product_target *t, ferry_error *err)
{
    json_t *product = json_object();
    json_t *ext = json_object();
    int rc = encode_main(product, record, err);
    if (rc == FERRY_OK) {
        rc = encode_attributes(product, ext, record, t, err);
    }
    json_t *stock = json_object_get(record, "stock");
    if (rc == FERRY_OK && json_is_object(stock)) {
        json_t *item = encode_stock(stock, err);
        rc = item ? FERRY_OK : err->status;
        m2_set_new(ext, "stock_item", item);
    }
    if (rc != FERRY_OK) {
        json_decref(product);
        json_decref(ext);
        return NULL;
    }
    if (json_is_array(json_object_get(record, "bundle_options"))) {
        json_object_set_new(ext, "bundle_product_options",
                            encode_bundle_options(json_object_get(record, "bundle_options")));
    }
    if (t->category_ids != NULL) {
        json_t *links = json_array();
        size_t i;
        json_t *id;
        json_array_foreach (t->category_ids, i, id) {
            json_array_append_new(
                links, json_pack("{s:I, s:s}", "position", (json_int_t)i, "category_id", m2_json_value_text(id)));
        }
        json_object_set_new(ext, "category_links", links);
    }
    if (t->creating) {
        encode_defaults(product, ext, t);
    }
    if (json_object_size(ext) > 0) {
        json_object_set_new(product, "extension_attributes", ext);
    } else {
        json_decref(ext);
    }
    return json_pack("{s:o, s:b}", "product", product, "saveOptions", 1);
}

/* ---- create-only fields -------------------------------------------------------------------- */

json_t *m2_product_drop_create_only(const json_t *record)
{
    json_t *copy = json_deep_copy(record);
    json_t *list = json_object_get(record, "create_only");
    size_t i;
    json_t *name;
    json_array_foreach (list, i, name) {
        const char *field = json_string_value(name);
        if (field == NULL) {
            continue;
        }
        if (strncmp(field, "attributes.", 11) == 0) {
            json_object_del(json_object_get(copy, "attributes"), field + 11);
        } else {
            json_object_del(copy, field);
        }
    }
    json_object_del(copy, "create_only");
    return copy;
}
