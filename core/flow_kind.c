/* flow_kind.c - the flow kinds and their settings (see flow_kind.h). */
#include "config.h"

#include "flow_kind.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static const ferry_flow_setting orders_settings[] = {
    {"statuses", FERRY_FS_STRING_LIST, NULL, "[\"processing\",\"complete\"]",
     "Magento order statuses to send; other orders are skipped"},
    {"document_type", FERRY_FS_ENUM, "order|invoice_draft|invoice", "\"invoice_draft\"",
     "what to create in eAccounting: an order, an invoice draft, or a booked invoice"},
    {"customer_policy", FERRY_FS_ENUM, "per_buyer|default_debtor|default_for_guests", "\"per_buyer\"",
     "one customer per buyer (matched by e-mail), one default debtor for every order, or the default debtor for "
     "guest orders only"},
    {"default_customer_number", FERRY_FS_STRING, NULL, NULL,
     "CustomerNumber of the default debtor (needed by default_debtor and default_for_guests)"},
    {"update_customers", FERRY_FS_BOOL, NULL, "true", "update a matched customer's name and address from the order"},
    {"article_policy", FERRY_FS_ENUM, "strict|create", "\"strict\"",
     "a missing article dead-letters the order (strict) or is created from the order line (create)"},
    {"shipping_article", FERRY_FS_STRING, NULL, NULL, "article number used for the shipping row"},
    {"discount_article", FERRY_FS_STRING, NULL, NULL, "article number used for order-level discount rows"},
    {"rounding_article", FERRY_FS_STRING, NULL, NULL,
     "article number used for a rounding row when totals differ within the tolerance"},
    {"totals_tolerance", FERRY_FS_DECIMAL, NULL, "\"0.05\"",
     "largest difference between eAccounting's and Magento's totals accepted (with a rounding row)"},
    {"comment_back", FERRY_FS_BOOL, NULL, "true", "write a comment on the Magento order once it is synced"},
    {"reconcile_wait_seconds", FERRY_FS_INT, NULL, "60",
     "after a crash: a create sent less than this long before it may still be under way at eAccounting, so the "
     "next run waits until it is this old before looking it up (and sending it again if it is not there)"},
    {"status_after_sync", FERRY_FS_STRING, NULL, NULL, "Magento status to set with the comment (none = keep)"},
    {"since", FERRY_FS_STRING, NULL, NULL,
     "first run only: read orders updated at or after this UTC time (YYYY-MM-DD[ HH:MM:SS])"},
    {"page_size", FERRY_FS_INT, NULL, "50", "orders read per page"},
    {"custom_fields", FERRY_FS_OBJECT, NULL, NULL,
     "extra target fields set on every document (the mapping can set more per order)"},
    {"home_country", FERRY_FS_STRING, NULL, "\"SE\"", "the company's country: sales there are domestic"},
    {"filter_statuses_in_query", FERRY_FS_BOOL, NULL, "false",
     "ask the shop for the chosen statuses only (faster on big shops; other orders then leave no trace)"},
    {"log_payloads", FERRY_FS_ENUM, "full|standard|none", "\"standard\"",
     "what the activity log keeps per order: standard = the decoded order, the document mapped, what was sent and "
     "answered; full = also Magento's own JSON of the order; none = only the decisions"},
    {NULL, 0, NULL, NULL, NULL}};

static const char *const orders_maps[] = {"payment_terms",    "delivery_methods",  "vat",
                                          "revenue_accounts", "discount_articles", NULL};

static const ferry_flow_setting customers_settings[] = {
    {"since", FERRY_FS_STRING, NULL, NULL, "first run only: customers updated at or after this UTC time"},
    {"page_size", FERRY_FS_INT, NULL, "50", "customers read per page"},
    {"custom_fields", FERRY_FS_OBJECT, NULL, NULL, "extra target fields set on every customer"},
    {"home_country", FERRY_FS_STRING, NULL, "\"SE\"",
     "the company's country: its customers pay in home_currency (ISO 3166-1 alpha-2)"},
    {"home_currency", FERRY_FS_STRING, NULL, "\"SEK\"", "the currency of customers in home_country (ISO 4217)"},
    {"default_currency", FERRY_FS_STRING, NULL, "\"EUR\"",
     "the currency of customers in other countries, unless the currencies value map names one for the country"},
    {"terms_of_payment", FERRY_FS_STRING, NULL, NULL,
     "terms of payment of new customers: a name, a number of days or an id (none = the company's default)"},
    {NULL, 0, NULL, NULL, NULL}};

static const char *const customers_maps[] = {"currencies", NULL};

static const ferry_flow_setting products_settings[] = {
    {"since", FERRY_FS_STRING, NULL, NULL, "first run only: products updated at or after this UTC time"},
    {"page_size", FERRY_FS_INT, NULL, "50", "products read per page"},
    {"types", FERRY_FS_STRING_LIST, NULL,
     "[\"simple\",\"configurable\",\"grouped\",\"bundle\",\"virtual\",\"downloadable\"]",
     "product types to sync (the shop is asked for these only; containers are read to be skipped with a reason)"},
    {"create_fields", FERRY_FS_STRING_LIST, NULL, NULL,
     "fields written only when the product is created, never on update (e.g. [\"name\"]; \"attributes.description\" "
     "names one attribute)"},
    {"update_fields", FERRY_FS_STRING_LIST, NULL, NULL,
     "the only fields an update writes (e.g. [\"net_price\",\"gross_price\"]; default: every mapped field)"},
    {"custom_fields", FERRY_FS_OBJECT, NULL, NULL, "extra target fields set on every product"},
    {"number_prefix", FERRY_FS_STRING, NULL, NULL,
     "only products whose SKU (article number) starts with this; the others are skipped"},
    {"skip_inactive", FERRY_FS_BOOL, NULL, "false",
     "skip disabled products / inactive articles (false: they are written as inactive)"},
    {"unit", FERRY_FS_STRING, NULL, NULL,
     "shop -> books: the eAccounting unit of articles (code, abbreviation or name; none = the connection's "
     "default_unit)"},
    {"prices_include_tax", FERRY_FS_BOOL, NULL, "false",
     "the shop's catalogue prices include VAT: books -> shop writes the gross price, shop -> books reads the price "
     "as gross when magento2.so does not say"},
    {"category", FERRY_FS_STRING, NULL, NULL,
     "books -> shop: category path given to products ferry creates, e.g. \"Imported/eAccounting\" (create only)"},
    {NULL, 0, NULL, NULL, NULL}};

static const char *const products_maps[] = {"tax_classes", NULL};

static const ferry_flow_setting stock_settings[] = {
    {"page_size", FERRY_FS_INT, NULL, "100", "items read per page"},
    {"quantity", FERRY_FS_ENUM, "salable|qty", "\"salable\"",
     "the quantity written: salable (on hand minus reservations of open orders) or qty (on hand)"},
    {"create_missing", FERRY_FS_BOOL, NULL, "false",
     "false: a SKU the target has no article/product for is skipped with the reason (stock is only written to "
     "existing ones)"},
    {NULL, 0, NULL, NULL, NULL}};

static const char *const no_maps[] = {NULL};

static const ferry_flow_route customers_routes[] = {{"customer", "customer", "customers.lua"}, {NULL, NULL, NULL}};

/* The shop's products become articles; articles become the shop's products. */
static const ferry_flow_route products_routes[] = {
    {"product", "article", "products.lua"}, {"article", "product", "products_from_accounting.lua"}, {NULL, NULL, NULL}};

/* The shop's salable quantity becomes the article's stock balance. */
static const ferry_flow_route stock_routes[] = {{"stock", "article", "stock.lua"}, {NULL, NULL, NULL}};

static const ferry_flow_kind kinds[] = {
    {"orders", "Magento orders become eAccounting orders, invoice drafts or invoices", "order", "document",
     "orders.lua", orders_settings, orders_maps, NULL},
    {"customers", "Magento customers become eAccounting customers (matched by e-mail)", "customer", "customer",
     "customers.lua", customers_settings, customers_maps, customers_routes},
    {"products", "Magento products become eAccounting articles, or articles become products", "product", "product",
     "products.lua", products_settings, products_maps, products_routes},
    {"stock", "Magento's salable quantity becomes the articles' stock balance", "stock", "stock", "stock.lua",
     stock_settings, no_maps, stock_routes},
    {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL}};

const ferry_flow_kind *ferry_flow_kind_find(const char *name)
{
    for (const ferry_flow_kind *k = kinds; k->name != NULL; k++) {
        if (name != NULL && strcmp(k->name, name) == 0) {
            return k;
        }
    }
    return NULL;
}

const ferry_flow_kind *ferry_flow_kind_all(void)
{
    return kinds;
}

const char *ferry_flow_kind_default_mapping(const ferry_flow_kind *kind, const char *source_entity,
                                            const char *target_entity)
{
    for (const ferry_flow_route *r = kind->routes; r != NULL && r->source_entity != NULL; r++) {
        if (source_entity != NULL && target_entity != NULL && strcmp(r->source_entity, source_entity) == 0 &&
            strcmp(r->target_entity, target_entity) == 0) {
            return r->mapping;
        }
    }
    return kind->default_mapping;
}

const ferry_flow_setting *ferry_flow_kind_setting(const ferry_flow_kind *kind, const char *name)
{
    for (const ferry_flow_setting *s = kind->settings; s && s->name != NULL; s++) {
        if (strcmp(s->name, name) == 0) {
            return s;
        }
    }
    return NULL;
}

/* A plain decimal: optional sign, digits, optional fraction ("0.05", "-12", "3."), no exponent. */
static int is_decimal(const char *t)
{
    int digits = 0;
    if (*t == '-' || *t == '+') {
        t++;
    }
    while (*t >= '0' && *t <= '9') {
        t++;
        digits++;
    }
    if (*t == '.') {
        t++;
        while (*t >= '0' && *t <= '9') {
            t++;
            digits++;
        }
    }
    return digits > 0 && *t == '\0';
}

int ferry_flow_setting_check(const ferry_flow_setting *s, const json_t *v, const char *path, ferry_error *err)
{
    if (json_is_null(v)) {
        return FERRY_OK; /* null = unset, the default applies */
    }
    switch (s->type) {
    case FERRY_FS_STRING:
        if (!json_is_string(v)) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected a string");
        }
        return FERRY_OK;
    case FERRY_FS_BOOL:
        if (!json_is_boolean(v)) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected true or false");
        }
        return FERRY_OK;
    case FERRY_FS_INT:
        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected a non-negative integer");
        }
        return FERRY_OK;
    case FERRY_FS_DECIMAL: {
        char buf[64];
        const char *text = NULL;
        if (json_is_string(v)) {
            text = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            text = buf;
        } else if (json_is_real(v)) {
            snprintf(buf, sizeof(buf), "%.15g", json_real_value(v));
            text = buf;
        }
        if (text == NULL || !is_decimal(text)) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected a decimal number such as \"0.05\"");
        }
        return FERRY_OK;
    }
    case FERRY_FS_ENUM: {
        if (!json_is_string(v)) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected one of %s", s->choices);
        }
        const char *val = json_string_value(v);
        size_t vlen = strlen(val);
        for (const char *c = s->choices; *c;) {
            size_t len = strcspn(c, "|");
            if (len == vlen && strncmp(c, val, len) == 0) {
                return FERRY_OK;
            }
            c += len + (c[len] == '|');
        }
        return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "'%s' is not one of %s", val, s->choices);
    }
    case FERRY_FS_STRING_LIST: {
        if (!json_is_array(v)) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected an array of strings");
        }
        size_t i;
        json_t *item;
        json_array_foreach (v, i, item) {
            if (!json_is_string(item)) {
                char item_path[300];
                snprintf(item_path, sizeof(item_path), "%s[%zu]", path, i);
                return ferry_error_set(err, FERRY_CONFIG_ERROR, item_path, "expected a string");
            }
        }
        return FERRY_OK;
    }
    case FERRY_FS_OBJECT:
        if (!json_is_object(v)) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "expected an object");
        }
        return FERRY_OK;
    default:
        return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "unsupported setting type");
    }
}

json_t *ferry_flow_kind_effective_settings(const ferry_flow_kind *kind, const json_t *given)
{
    json_t *out = json_object();
    for (const ferry_flow_setting *s = kind->settings; s && s->name != NULL; s++) {
        json_t *v = given ? json_object_get(given, s->name) : NULL;
        if (v != NULL && !json_is_null(v)) {
            json_object_set(out, s->name, v);
        } else if (s->default_json != NULL) {
            json_t *d = json_loads(s->default_json, JSON_DECODE_ANY, NULL);
            if (d != NULL) {
                json_object_set_new(out, s->name, d);
            }
        }
    }
    return out;
}
