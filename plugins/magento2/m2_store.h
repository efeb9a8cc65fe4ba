/*
 * m2_store.h - which store ferry reaches: the store configuration of the
 * connection's store code (GET /V1/store/storeConfigs), used by the `test`
 * operation and for the media base URL of product images.
 */
#ifndef M2_STORE_H
#define M2_STORE_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/*
 * The storeConfigs entry of the connection's store code (new reference), or
 * *config NULL when Magento has it under no such code.  Errors as
 * m2_api_call (a missing route or ACL resource is FERRY_CONFIG_ERROR).
 */
int m2_store_config(ferry_conn *c, json_t **config, ferry_error *err);

/*
 * What `test` shows: {base_url, store_code, store_id, website_id, locale,
 * base_currency, display_currency, timezone, weight_unit, media_url,
 * auth_mode}.  When storeConfigs cannot be read (older emulators, or an
 * integration without Magento_Backend::store), it falls back to one
 * authenticated order search and says so in "note".  New reference.
 */
int m2_store_test(ferry_conn *c, json_t **info, ferry_error *err);

/* The media base URL ("https://shop/media/"): the setting, the store config, or base_url + /media/. */
const char *m2_store_media_base(ferry_conn *c);

#endif /* M2_STORE_H */
