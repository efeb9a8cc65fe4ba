/*
 * m2_conn.h - one Magento 2 connection: its settings, read once at open,
 * and the little state the plugin keeps between calls.
 *
 * The plugin's `open` (magento2.c) calls m2_conn_open, which reads and checks
 * the settings without any network I/O; every other module receives the
 * ferry_conn.  Secrets (consumer secret, tokens, passwords) are not copied
 * here: they are read through host->setting when a request is signed, so a
 * token saved with credentials_save is picked up at once.
 */
#ifndef M2_CONN_H
#define M2_CONN_H

#include <ferry/plugin.h>

enum m2_auth_mode { M2_AUTH_OAUTH = 0, M2_AUTH_BEARER = 1, M2_AUTH_ADMIN = 2 };
enum m2_stock_mode { M2_STOCK_LEGACY = 0, M2_STOCK_MSI = 1 };

struct ferry_conn {
    const ferry_host *host;
    ferry_host_conn *hc;
    char *base_url;   /* scheme://host[:port][/path][/index.php], no trailing slash */
    char *store_code; /* reads go to /rest/<store_code>/V1 */
    int auth_mode;    /* enum m2_auth_mode */
    int stock_mode;   /* enum m2_stock_mode */
    char *msi_source_code;
    long msi_stock_id;
    int page_size;          /* 1..300 */
    long overlap_seconds;   /* cursor re-read window */
    long root_category_id;  /* 0 = the first store root under the tree root */
    char *website_ids;      /* "1,2": websites of created products */
    char *media_base_url;   /* ".../media/" (ends with /); NULL until known */
    char *ean_attribute;    /* custom attribute holding the EAN/GTIN */
    int prices_include_tax; /* the catalogue's prices include tax (-1 = unknown) */
    json_t *categories;     /* cache: {"paths": {"Clothing/Shirts": id}, "names": {"id": "path"}}, or NULL */
    long long categories_loaded_ms;
};

/* The plugin's settings table (NULL-terminated), shared with the descriptor. */
extern const ferry_setting_spec m2_settings[];

/*
 * Read and check the settings of `hc`; on success *out is a new connection
 * (free with m2_conn_close).  FERRY_CONFIG_ERROR names the setting that is
 * missing or wrong (for example consumer_secret in oauth mode).  No network.
 */
int m2_conn_open(const ferry_host *host, ferry_host_conn *hc, ferry_conn **out, ferry_error *err);

/* Free a connection (NULL is fine). */
void m2_conn_close(ferry_conn *c);

/* A setting's value (borrowed, see host->setting) or NULL when unset or empty. */
const char *m2_setting(const ferry_conn *c, const char *name);

#endif /* M2_CONN_H */
