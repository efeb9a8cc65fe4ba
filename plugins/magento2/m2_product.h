/*
 * m2_product.h - a Magento product (ProductInterface) as ferry's canonical
 * product, and a canonical product as the body of POST/PUT /V1/products.
 * Pure: the caller supplies what needs the network (a configurable's
 * children, category paths and ids).
 */
#ifndef M2_PRODUCT_H
#define M2_PRODUCT_H

#include <ferry/plugin.h>

/* What decoding needs besides the product itself (all may be NULL / 0). */
typedef struct m2_product_context {
    const char *media_base_url;                             /* ".../media/": media URLs are <it>catalog/product<file> */
    const char *ean_attribute;                              /* custom attribute with the EAN ("ean") */
    int prices_include_tax;                                 /* 1: price is gross, 0: net, -1: unknown */
    const json_t *children;                                 /* configurable: the child products (GET .../children) */
    const char *(*category_path)(void *ud, const char *id); /* id -> "Clothing/Shirts" or NULL */
    void *ud;
} m2_product_context;

/*
 * Decode `native` into a canonical product (new reference): key = sku,
 * type, active, price, weight, tax_class, ean, attributes (custom
 * attributes and attribute_set_id, visibility, status, website_ids),
 * categories (paths), media (with URLs), children and options
 * (configurable), links (grouped), bundle_options (bundle), stock, and the
 * native product under "source".  NULL with a record error when there is no
 * sku.
 */
json_t *m2_product_decode(const json_t *native, const m2_product_context *ctx, ferry_error *err);

/* What encoding needs besides the record. */
typedef struct m2_product_target {
    int creating;               /* a new product: defaults for type, attribute set, visibility, websites */
    const char *website_ids;    /* "1,2" for new products */
    const char *ean_attribute;  /* where "ean" goes */
    const json_t *category_ids; /* resolved ids of record.categories (array of integers), or NULL */
} m2_product_target;

/*
 * The {"product": {...}, "saveOptions": true} body for `record` (pure).
 * Money and quantities go as decimal strings (Magento casts them), never
 * as binary floats; bundle_price_type goes as the custom attribute
 * price_type.  Configurable options/children, grouped links and
 * media are not in the body: they have their own endpoints.  NULL with a
 * record error naming the field (e.g. "sku", "price").
 */
json_t *m2_product_encode(const json_t *record, const m2_product_target *t, ferry_error *err);

/*
 * A copy of `record` without the fields its "create_only" list names (for
 * an update).  Names are canonical fields ("name", "price", "categories",
 * "media") or attributes ("attributes.description").  New reference.
 */
json_t *m2_product_drop_create_only(const json_t *record);

#endif /* M2_PRODUCT_H */
