/* m2_order.c - Magento order -> canonical order (see m2_order.h). */
#include "config.h"

#include "m2_order.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2_address.h"
#include "m2_util.h"
#include "money.h"
#include "util.h"

/* What the line builder learns for the order-level discount. */
typedef struct line_totals {
    ferry_money discount_tax; /* tax part of the discounts, from the lines (prices excluding tax) */
    int discount_tax_rc;      /* FERRY_MONEY_OK, or the error that made discount_tax meaningless */
    int incl_votes;           /* lines whose catalogue price looks tax-inclusive */
    int excl_votes;
} line_totals;

static void set_money(json_t *obj, const char *key, const json_t *native, const char *field)
{
    ferry_money a;
    if (m2_amount_get(native, field, &a)) {
        json_object_set_new(obj, key, m2_money_json(a));
    }
}

/* native[field] as an amount; 0 when missing or not a number. */
static ferry_money amount(const json_t *native, const char *field)
{
    ferry_money a;
    m2_amount_get(native, field, &a);
    return a;
}

/* |native[field]| (amounts are at most 10^14, so it always has a negation). */
static ferry_money magnitude(const json_t *native, const char *field)
{
    ferry_money a = amount(native, field);
    return ferry_money_abs(a, &a) == FERRY_MONEY_OK ? a : ferry_money_from_int(0);
}

/* *acc += a and *acc -= a, where *rc keeps the first error (then *acc means nothing). */
static void add_to(ferry_money *acc, ferry_money a, int *rc)
{
    if (*rc == FERRY_MONEY_OK) {
        *rc = ferry_money_add(*acc, a, acc);
    }
}

static void subtract_from(ferry_money *acc, ferry_money a, int *rc)
{
    if (*rc == FERRY_MONEY_OK) {
        *rc = ferry_money_sub(*acc, a, acc);
    }
}

/* Money JSON of a sum, or null when it did not fit. */
static json_t *money_or_null(ferry_money a, int rc)
{
    return rc == FERRY_MONEY_OK ? m2_money_json(a) : json_null();
}

/* ---- lines ---------------------------------------------------------------------------- */

static json_t *unit_incl(const json_t *item, ferry_money qty)
{
    ferry_money a, unit;
    if (m2_amount_get(item, "price_incl_tax", &a)) {
        return m2_money_json(a);
    }
    if (m2_amount_get(item, "row_total_incl_tax", &a) && qty.units > 0 &&
        ferry_money_div(a, qty, M2_DECIMALS, &unit) == FERRY_MONEY_OK) {
        return m2_money_json(unit);
    }
    return m2_money_json(amount(item, "price"));
}

static json_t *row_incl(const json_t *item)
{
    ferry_money a;
    if (m2_amount_get(item, "row_total_incl_tax", &a)) {
        return m2_money_json(a);
    }
    int rc = FERRY_MONEY_OK;
    a = amount(item, "row_total");
    add_to(&a, amount(item, "tax_amount"), &rc);
    add_to(&a, amount(item, "discount_tax_compensation_amount"), &rc);
    return money_or_null(a, rc);
}

static void vote_prices(const json_t *item, line_totals *t)
{
    ferry_money price, incl, original, rate;
    if (!m2_amount_get(item, "tax_percent", &rate) || rate.units <= 0 || !m2_amount_get(item, "price", &price) ||
        !m2_amount_get(item, "price_incl_tax", &incl) || !m2_amount_get(item, "original_price", &original) ||
        ferry_money_cmp(price, incl) == 0) {
        return;
    }
    if (ferry_money_cmp(original, incl) == 0) {
        t->incl_votes++;
    } else if (ferry_money_cmp(original, price) == 0) {
        t->excl_votes++;
    }
}

static void count_discount_tax(const json_t *item, line_totals *t)
{
    ferry_money incl, excl, tax;
    if (amount(item, "discount_amount").units == 0 || !m2_amount_get(item, "row_total_incl_tax", &incl) ||
        !m2_amount_get(item, "row_total", &excl) || !m2_amount_get(item, "tax_amount", &tax)) {
        return;
    }
    /* the tax the discount took off the row: (incl - excl) - tax - compensation */
    subtract_from(&incl, excl, &t->discount_tax_rc);
    subtract_from(&incl, tax, &t->discount_tax_rc);
    subtract_from(&incl, amount(item, "discount_tax_compensation_amount"), &t->discount_tax_rc);
    add_to(&t->discount_tax, incl, &t->discount_tax_rc);
}

/* One canonical line from one Magento row's amounts. */
static json_t *line_from(const json_t *item, int discount_incl, line_totals *t)
{
    json_t *line = json_object();
    ferry_money qty = amount(item, "qty_ordered");
    ferry_money tax_rate;
    m2_set_str(line, "item_id", m2_json_text(item, "item_id"));
    m2_set_str(line, "sku", m2_json_text(item, "sku"));
    m2_set_str(line, "name", m2_str(item, "name"));
    json_object_set_new(line, "qty", m2_plain_json(qty));
    set_money(line, "unit_price_excl", item, "price");
    json_object_set_new(line, "unit_price_incl", unit_incl(item, qty));
    if (m2_amount_get(item, "tax_percent", &tax_rate)) {
        json_object_set_new(line, "tax_rate", m2_plain_json(tax_rate));
    }
    json_object_set_new(line, "tax_amount", m2_money_json(amount(item, "tax_amount")));
    json_object_set_new(line, "discount_amount", m2_money_json(magnitude(item, "discount_amount")));
    json_object_set_new(line, "discount_incl_tax", json_boolean(discount_incl));
    json_object_set_new(line, "row_total_excl", m2_money_json(amount(item, "row_total")));
    json_object_set_new(line, "row_total_incl", row_incl(item));
    m2_set_str(line, "product_type", m2_str(item, "product_type"));
    m2_set_str(line, "product_id", m2_json_text(item, "product_id"));
    json_object_set_new(line, "is_virtual", json_boolean(m2_json_flag(item, "is_virtual", 0)));
    json_object_set_new(line, "is_free",
                        json_boolean(amount(item, "price").units == 0 && amount(item, "row_total").units == 0));
    vote_prices(item, t);
    count_discount_tax(item, t);
    return line;
}

/* The rows whose parent_item_id is `parent_id`, in order (new array of borrowed items). */
static json_t *children_of(const json_t *items, long long parent_id)
{
    json_t *out = json_array();
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        if (m2_json_int(it, "parent_item_id", -1) == parent_id) {
            json_array_append(out, it);
        }
    }
    return out;
}

static int has_row(const json_t *items, long long item_id)
{
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        if (m2_json_int(it, "item_id", -2) == item_id) {
            return 1;
        }
    }
    return 0;
}

/* A dynamic-price bundle: some child carries its own price. */
static int children_priced(const json_t *children)
{
    size_t i;
    json_t *ch;
    json_array_foreach (children, i, ch) {
        if (amount(ch, "price").units != 0 || amount(ch, "row_total").units != 0) {
            return 1;
        }
    }
    return 0;
}

static void add_configurable(json_t *lines, const json_t *parent, const json_t *children, int incl, line_totals *t)
{
    json_t *line = line_from(parent, incl, t);
    json_t *child = json_array_get(children, 0);
    if (child != NULL) {
        if (m2_str(parent, "sku") == NULL) {
            m2_set_str(line, "sku", m2_json_text(child, "sku"));
        }
        m2_set_str(line, "variant_name", m2_str(child, "name"));
        m2_set_str(line, "child_product_id", m2_json_text(child, "product_id"));
    }
    json_array_append_new(lines, line);
}

/*
 * The bundle product's own SKU.  A bundle with "dynamic SKU" shows its rows
 * as bundle SKU + "-" + each chosen child's SKU (in option order, not row
 * order): take child SKUs off the end while one matches.  A fixed-SKU bundle
 * keeps its SKU, which no child SKU ends.  New string (free()).
 */
static char *bundle_base_sku(const char *ordered, const json_t *children)
{
    char *base = ferry_strdup(ordered ? ordered : "");
    int stripped = 1;
    while (base != NULL && stripped) {
        stripped = 0;
        size_t i;
        json_t *ch;
        json_array_foreach (children, i, ch) {
            const char *sku = m2_str(ch, "sku");
            size_t blen = strlen(base), slen = sku ? strlen(sku) : 0;
            if (slen > 0 && blen > slen + 1 && base[blen - slen - 1] == '-' && strcmp(base + blen - slen, sku) == 0) {
                base[blen - slen - 1] = '\0';
                stripped = 1;
            }
        }
    }
    return base;
}

static void add_bundle(json_t *lines, const json_t *parent, const json_t *children, int incl, line_totals *t)
{
    size_t i;
    json_t *ch;
    char *base = bundle_base_sku(m2_json_text(parent, "sku"), children);
    const char *ordered = m2_str(parent, "sku");
    int composite = base != NULL && ordered != NULL && strcmp(base, ordered) != 0;
    if (children_priced(children)) {
        json_array_foreach (children, i, ch) {
            json_t *line = line_from(ch, incl, t);
            m2_set_str(line, "parent_sku", base);
            m2_set_str(line, "parent_name", m2_str(parent, "name"));
            m2_set_str(line, "parent_item_id", m2_json_text(parent, "item_id"));
            json_array_append_new(lines, line);
        }
        free(base);
        return;
    }
    json_t *line = line_from(parent, incl, t);
    if (composite) { /* the article sold is the bundle itself */
        m2_set_str(line, "sku", base);
        m2_set_str(line, "ordered_sku", ordered);
    }
    free(base);
    json_t *parts = json_array();
    json_array_foreach (children, i, ch) {
        json_t *part = json_object();
        m2_set_str(part, "sku", m2_json_text(ch, "sku"));
        m2_set_str(part, "name", m2_str(ch, "name"));
        json_object_set_new(part, "qty", m2_plain_json(amount(ch, "qty_ordered")));
        json_array_append_new(parts, part);
    }
    json_object_set_new(line, "bundle_children", parts);
    json_array_append_new(lines, line);
}

static json_t *decode_lines(const json_t *items, int incl, line_totals *t)
{
    json_t *lines = json_array();
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        long long parent = m2_json_int(it, "parent_item_id", -1);
        if (parent >= 0 && has_row(items, parent)) {
            continue; /* shown through its parent */
        }
        const char *type = m2_str(it, "product_type");
        json_t *children = children_of(items, m2_json_int(it, "item_id", -2));
        if (type != NULL && strcmp(type, "configurable") == 0) {
            add_configurable(lines, it, children, incl, t);
        } else if (type != NULL && strcmp(type, "bundle") == 0) {
            add_bundle(lines, it, children, incl, t);
        } else {
            json_array_append_new(lines, line_from(it, incl, t));
        }
        json_decref(children);
    }
    return lines;
}

/* ---- order-level parts --------------------------------------------------------------------- */

static json_t *shipping_of(const json_t *o)
{
    json_t *assignment = json_array_get(m2_path(o, "extension_attributes", "shipping_assignments", NULL), 0);
    json_t *shipping = json_object_get(assignment, "shipping");
    json_t *out = json_object();
    json_t *addr = json_object_get(shipping, "address");
    if (json_is_object(addr)) {
        json_object_set_new(out, "address", m2_address_decode(addr));
    }
    const char *method = m2_str(shipping, "method");
    m2_set_str(out, "method", method ? method : m2_str(o, "shipping_method"));
    m2_set_str(out, "description", m2_str(o, "shipping_description"));
    set_money(out, "amount_excl", o, "shipping_amount");
    set_money(out, "amount_incl", o, "shipping_incl_tax");
    set_money(out, "tax", o, "shipping_tax_amount");
    json_object_set_new(out, "discount", m2_money_json(magnitude(o, "shipping_discount_amount")));
    /* the shipping tax rate: from the applied taxes, or worked out from the amounts */
    json_t *item_taxes = m2_path(o, "extension_attributes", "item_applied_taxes", NULL);
    size_t i;
    json_t *entry;
    json_array_foreach (item_taxes, i, entry) {
        const char *type = m2_str(entry, "type");
        json_t *first = json_array_get(json_object_get(entry, "applied_taxes"), 0);
        ferry_money rate;
        if (type && strcmp(type, "shipping") == 0 && m2_amount_get(first, "percent", &rate)) {
            json_object_set_new(out, "tax_rate", m2_plain_json(rate));
        }
    }
    ferry_money pct;
    if (json_object_get(out, "tax_rate") == NULL && amount(o, "shipping_amount").units != 0 &&
        ferry_money_shift(amount(o, "shipping_tax_amount"), 2, &pct) == FERRY_MONEY_OK &&
        ferry_money_div(pct, amount(o, "shipping_amount"), 2, &pct) == FERRY_MONEY_OK) {
        json_object_set_new(out, "tax_rate", m2_plain_json(pct));
    }
    return out;
}

static json_t *payment_of(const json_t *o)
{
    json_t *p = json_object_get(o, "payment");
    json_t *out = json_object();
    m2_set_str(out, "method", m2_str(p, "method"));
    const char *title = json_string_value(json_array_get(json_object_get(p, "additional_information"), 0));
    json_t *info = m2_path(o, "extension_attributes", "payment_additional_info", NULL);
    size_t i;
    json_t *kv;
    json_array_foreach (info, i, kv) {
        const char *key = m2_str(kv, "key");
        if (title == NULL && key && strcmp(key, "method_title") == 0) {
            title = m2_str(kv, "value");
        }
    }
    m2_set_str(out, "title", title);
    m2_set_str(out, "reference", m2_json_text(p, "last_trans_id"));
    m2_set_str(out, "po_number", m2_json_text(p, "po_number"));
    return out;
}

static json_t *discounts_of(const json_t *o, const line_totals *t)
{
    json_t *out = json_array();
    ferry_money total = magnitude(o, "discount_amount");
    if (total.units == 0) {
        return out;
    }
    ferry_money dtc = amount(o, "discount_tax_compensation_amount"), other = total;
    int rc = FERRY_MONEY_OK;
    json_t *d = json_object();
    m2_set_str(d, "code", m2_str(o, "coupon_code"));
    m2_set_str(d, "description", m2_str(o, "discount_description"));
    if (dtc.units != 0) { /* discount taken from prices including tax: Magento reports its tax part as compensation */
        subtract_from(&other, dtc, &rc);
        json_object_set_new(d, "amount_incl", m2_money_json(total));
        json_object_set_new(d, "amount_excl", money_or_null(other, rc));
        json_object_set_new(d, "tax", m2_money_json(dtc));
        json_object_set_new(d, "includes_tax", json_true());
    } else {
        rc = t->discount_tax_rc;
        add_to(&other, t->discount_tax, &rc);
        json_object_set_new(d, "amount_excl", m2_money_json(total));
        json_object_set_new(d, "amount_incl", money_or_null(other, rc));
        json_object_set_new(d, "tax", money_or_null(t->discount_tax, t->discount_tax_rc));
        json_object_set_new(d, "includes_tax", json_false());
    }
    json_array_append_new(out, d);
    return out;
}

static json_t *taxes_of(const json_t *o)
{
    json_t *out = json_array();
    json_t *applied = m2_path(o, "extension_attributes", "applied_taxes", NULL);
    size_t i;
    json_t *a;
    json_array_foreach (applied, i, a) {
        json_t *tax = json_object();
        ferry_money rate;
        m2_set_str(tax, "code", m2_str(a, "code"));
        m2_set_str(tax, "title", m2_str(a, "title"));
        if (m2_amount_get(a, "percent", &rate)) {
            json_object_set_new(tax, "rate", m2_plain_json(rate));
        }
        set_money(tax, "amount", a, "amount");
        set_money(tax, "base_amount", a, "base_amount");
        json_array_append_new(out, tax);
    }
    return out;
}

static json_t *totals_of(const json_t *o)
{
    json_t *t = json_object();
    set_money(t, "subtotal_excl", o, "subtotal");
    set_money(t, "subtotal_incl", o, "subtotal_incl_tax");
    json_object_set_new(t, "tax", m2_money_json(amount(o, "tax_amount")));
    set_money(t, "shipping_excl", o, "shipping_amount");
    set_money(t, "shipping_incl", o, "shipping_incl_tax");
    json_object_set_new(t, "discount", m2_money_json(magnitude(o, "discount_amount")));
    json_object_set_new(t, "grand_total", m2_money_json(amount(o, "grand_total")));
    set_money(t, "base_grand_total", o, "base_grand_total");
    set_money(t, "paid", o, "total_paid");
    set_money(t, "due", o, "total_due");
    return t;
}

static json_t *customer_of(const json_t *o)
{
    json_t *billing = json_object_get(o, "billing_address");
    json_t *c = json_object();
    m2_set_str(c, "id", m2_json_text(o, "customer_id"));
    const char *first = m2_str(o, "customer_firstname");
    const char *last = m2_str(o, "customer_lastname");
    m2_set_str(c, "first_name", first ? first : m2_str(billing, "firstname"));
    m2_set_str(c, "last_name", last ? last : m2_str(billing, "lastname"));
    m2_set_str(c, "company", m2_str(billing, "company"));
    const char *vat = m2_str(billing, "vat_id");
    m2_set_str(c, "vat_id", vat ? vat : m2_str(o, "customer_taxvat"));
    m2_set_str(c, "phone", m2_str(billing, "telephone"));
    m2_set_str(c, "group_id", m2_json_text(o, "customer_group_id"));
    return c;
}

static void add_header(json_t *out, const json_t *o)
{
    const char *number = m2_json_text(o, "increment_id");
    json_object_set_new(out, "key", json_string(number));
    json_object_set_new(out, "number", json_string(number));
    m2_set_str(out, "id", m2_json_text(o, "entity_id"));
    m2_set_new(out, "created_at", m2_time_to_iso_json(m2_str(o, "created_at")));
    m2_set_new(out, "updated_at", m2_time_to_iso_json(m2_str(o, "updated_at")));
    json_object_set_new(out, "status", json_string(m2_str(o, "status") ? m2_str(o, "status") : ""));
    m2_set_str(out, "state", m2_str(o, "state"));
    m2_set_str(out, "store", m2_json_text(o, "store_id"));
    m2_set_str(out, "currency", m2_str(o, "order_currency_code"));
    m2_set_str(out, "base_currency", m2_str(o, "base_currency_code"));
    ferry_money rate, inverse;
    if (m2_amount_get(o, "base_to_order_rate", &rate) && rate.units != 0 &&
        ferry_money_div(ferry_money_from_int(1), rate, 6, &inverse) == FERRY_MONEY_OK) {
        json_object_set_new(out, "rate_to_base", ferry_money_json_string(inverse, ferry_money_decimals(inverse)));
    }
    m2_set_str(out, "email", m2_str(o, "customer_email"));
    json_object_set_new(
        out, "is_guest",
        json_boolean(m2_json_flag(o, "customer_is_guest", 0) || json_object_get(o, "customer_id") == NULL));
    json_object_set_new(out, "is_virtual", json_boolean(m2_json_flag(o, "is_virtual", 0)));
}

/* ---- checks: an order whose numbers cannot be read is refused, never read as 0 ---------------------------- */

/* The amounts the decoder reads.  Magento omits a null member, so absent (or null) is allowed except where marked. */
static const char *const order_amounts[] = {"grand_total",
                                            "base_grand_total",
                                            "subtotal",
                                            "subtotal_incl_tax",
                                            "tax_amount",
                                            "discount_amount",
                                            "discount_tax_compensation_amount",
                                            "shipping_amount",
                                            "shipping_incl_tax",
                                            "shipping_tax_amount",
                                            "shipping_discount_amount",
                                            "total_paid",
                                            "total_due",
                                            "base_to_order_rate",
                                            NULL};
static const char *const item_amounts[] = {"qty_ordered",
                                           "price",
                                           "row_total",
                                           "price_incl_tax",
                                           "row_total_incl_tax",
                                           "original_price",
                                           "tax_amount",
                                           "tax_percent",
                                           "discount_amount",
                                           "discount_tax_compensation_amount",
                                           NULL};
static const char *const tax_amounts[] = {"percent", "amount", "base_amount", NULL};

/* Members Magento always prints (NOT NULL columns): missing means the order is not what it claims. */
static int required_member(const char *key, int is_item)
{
    return is_item ? strcmp(key, "qty_ordered") == 0 || strcmp(key, "price") == 0 || strcmp(key, "row_total") == 0
                   : strcmp(key, "grand_total") == 0;
}

/* Text for a message: its first `max` bytes, cut on a UTF-8 character boundary, "..." when cut. */
static void clip(const char *text, size_t max, char *buf, size_t n)
{
    size_t len = strlen(text);
    size_t keep = len > max ? max : len;
    while (keep > 0 && keep < len && ((unsigned char)text[keep] & 0xC0) == 0x80) {
        keep--; /* never half a character: the message must stay valid UTF-8 */
    }
    snprintf(buf, n, "%.*s%s", (int)keep, text, keep < len ? "..." : "");
}

/* Refuse value (at field `where`, of `about`: "" or " (item SKU)"): it is there but no amount. */
static int refuse_value(const json_t *value, const char *where, const char *about, ferry_error *err)
{
    char shown[64];
    if (json_is_string(value)) {
        char text[56];
        clip(json_string_value(value), 40, text, sizeof(text));
        snprintf(shown, sizeof(shown), "'%s'", text);
    } else {
        char *dump = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
        clip(dump ? dump : "?", 40, shown, sizeof(shown));
        free(dump);
    }
    ferry_money m; /* a number, or a numeric string, that is too large for an amount */
    int parsed = json_is_number(value) ||
                 (json_is_string(value) && ferry_money_from_json_round(value, M2_DECIMALS, &m) == FERRY_MONEY_OK);
    return ferry_error_set(err, FERRY_RECORD_ERROR, where, parsed ? "out of range: %s%s" : "not a number: %s%s", shown,
                           about);
}

/*
 * Each of `keys` in obj: absent/null (unless required) or an amount.  `prefix` names obj in the field
 * ("items[2]."); an item's SKU goes into the message.
 */
static int check_amounts(const json_t *obj, const char *const *keys, const char *prefix, int is_item, ferry_error *err)
{
    char about[96] = "";
    if (is_item && m2_json_text(obj, "sku") != NULL) {
        char sku[72];
        clip(m2_json_text(obj, "sku"), 60, sku, sizeof(sku));
        snprintf(about, sizeof(about), " (item %s)", sku);
    }
    for (size_t i = 0; keys[i] != NULL; i++) {
        json_t *v = json_object_get(obj, keys[i]);
        char where[160];
        snprintf(where, sizeof(where), "%s%s", prefix, keys[i]);
        ferry_money a;
        if (v == NULL || json_is_null(v)) {
            if (required_member(keys[i], is_item)) {
                return ferry_error_set(err, FERRY_RECORD_ERROR, where, "missing%s (Magento always sends it)", about);
            }
        } else if (!m2_amount_from_json(v, &a)) {
            return refuse_value(v, where, about, err);
        }
    }
    return FERRY_OK;
}

/* The applied taxes' rates and amounts: extension_attributes.<list>[i](.applied_taxes[j]) */
static int check_taxes(const json_t *o, const char *list, int nested, ferry_error *err)
{
    json_t *entries = m2_path(o, "extension_attributes", list, NULL);
    size_t i;
    json_t *entry;
    json_array_foreach (entries, i, entry) {
        char prefix[128];
        if (!nested) {
            snprintf(prefix, sizeof(prefix), "extension_attributes.%s[%zu].", list, i);
            if (check_amounts(entry, tax_amounts, prefix, 0, err) != FERRY_OK) {
                return err->status;
            }
            continue;
        }
        size_t j;
        json_t *tax;
        json_array_foreach (json_object_get(entry, "applied_taxes"), j, tax) {
            snprintf(prefix, sizeof(prefix), "extension_attributes.%s[%zu].applied_taxes[%zu].", list, i, j);
            if (check_amounts(tax, tax_amounts, prefix, 0, err) != FERRY_OK) {
                return err->status;
            }
        }
    }
    return FERRY_OK;
}

/* FERRY_OK, or FERRY_RECORD_ERROR naming the first member that cannot be read as Magento means it. */
static int check_order(const json_t *o, ferry_error *err)
{
    json_t *items = json_object_get(o, "items");
    if (items != NULL && !json_is_null(items) && !json_is_array(items)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "items", "not a list of items");
    }
    if (json_array_size(items) == 0) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, "items", "the order has no items");
    }
    if (check_amounts(o, order_amounts, "", 0, err) != FERRY_OK) {
        return err->status;
    }
    size_t i;
    json_t *it;
    json_array_foreach (items, i, it) {
        char prefix[48];
        snprintf(prefix, sizeof(prefix), "items[%zu].", i);
        if (!json_is_object(it)) {
            snprintf(prefix, sizeof(prefix), "items[%zu]", i);
            return ferry_error_set(err, FERRY_RECORD_ERROR, prefix, "not an item object");
        }
        if (check_amounts(it, item_amounts, prefix, 1, err) != FERRY_OK) {
            return err->status;
        }
    }
    if (check_taxes(o, "applied_taxes", 0, err) != FERRY_OK ||
        check_taxes(o, "item_applied_taxes", 1, err) != FERRY_OK) {
        return err->status;
    }
    return FERRY_OK;
}

json_t *m2_order_decode(const json_t *native, int prices_include_tax, ferry_error *err)
{
    if (!json_is_object(native) || m2_json_text(native, "increment_id") == NULL) {
        ferry_error_set(err, FERRY_RECORD_ERROR, "increment_id", "a Magento order without increment_id");
        return NULL;
    }
    if (check_order(native, err) != FERRY_OK) {
        return NULL;
    }
    json_t *out = json_object();
    add_header(out, native);
    json_object_set_new(out, "customer", customer_of(native));
    json_object_set_new(out, "billing", m2_address_decode(json_object_get(native, "billing_address")));
    json_object_set_new(out, "shipping", shipping_of(native));
    json_object_set_new(out, "payment", payment_of(native));
    line_totals t = {ferry_money_from_int(0), FERRY_MONEY_OK, 0, 0};
    int discount_incl = amount(native, "discount_tax_compensation_amount").units != 0;
    json_object_set_new(out, "lines", decode_lines(json_object_get(native, "items"), discount_incl, &t));
    json_object_set_new(out, "discounts", discounts_of(native, &t));
    json_object_set_new(out, "taxes", taxes_of(native));
    json_object_set_new(out, "totals", totals_of(native));
    if (t.incl_votes > 0 && t.excl_votes == 0) {
        json_object_set_new(out, "prices_include_tax", json_true());
    } else if (t.excl_votes > 0 && t.incl_votes == 0) {
        json_object_set_new(out, "prices_include_tax", json_false());
    } else if (prices_include_tax >= 0) {
        json_object_set_new(out, "prices_include_tax", json_boolean(prices_include_tax));
    }
    json_object_set_new(out, "source", json_deep_copy(native));
    return out;
}
