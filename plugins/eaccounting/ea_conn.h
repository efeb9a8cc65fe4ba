/*
 * ea_conn.h - the plugin's state for one connection (struct ferry_conn).
 *
 * Created by the descriptor's open (and, for the length of the call, by
 * authorize) from the connection's settings.  Settings are copied: the
 * strings host->setting returns die at the next credentials_save or
 * settings_reload, and the token refresh does both.  Creating the state does
 * no network I/O.
 */
#ifndef EA_CONN_H
#define EA_CONN_H

#include <ferry/plugin.h>

/* Refresh the access token when it expires within this margin. */
#define EA_TOKEN_MARGIN_MS (5LL * 60 * 1000)

struct ferry_conn {
    const ferry_host *host;
    ferry_host_conn *hc;

    /* settings */
    char *api_base;      /* e.g. https://eaccountingapi.vismaonline.com/v2, no trailing '/' */
    char *identity_base; /* e.g. https://identity.vismaonline.com, no trailing '/' */
    char *client_id;
    char *client_secret;
    char *redirect_uri;
    char *scopes;
    char *authorize_mode;    /* auto | listen | paste */
    int authorize_timeout_s; /* how long the listener waits for the browser */
    int rate_per_minute;     /* per endpoint bucket */
    long long rate_wait_ms;  /* how long one request may wait in all after 429s (rate_limit_wait_seconds) */
    int page_size;           /* $pagesize asked for */
    char *document_type;     /* order | invoice_draft | invoice: for find/read without a type */
    char *ref_field;         /* native field holding the external reference */
    char *default_unit;      /* unit of articles that name none */
    char *default_vat_rate;  /* VAT percent of articles that name none */
    json_t *article_codings; /* article id -> coding name, read once per connection (revenue account checks) */
    json_t *customer_facts;  /* customer id -> {is_company, currency}, read once per connection */
    char *uses_moss;         /* auto | true | false */
    long long refdata_max_age_ms;

    /* tokens (managed settings) */
    char *access_token;
    char *refresh_token;
    long long expires_at_ms; /* 0 = unknown */

    /* reference data cache (ea_refdata.c), NULL until loaded */
    json_t *refdata;
    int refdata_refreshed; /* re-read from the API since this state was created */

    /* rate-limit buckets already configured with the host */
    char **buckets;
    size_t nbuckets;
};

/*
 * A new state from the connection's settings.  FERRY_CONFIG_ERROR (naming
 * the setting) when client_id or client_secret is missing or a number is
 * out of range; FERRY_FATAL when out of memory.  Free with ea_conn_destroy.
 */
int ea_conn_create(const ferry_host *host, ferry_host_conn *hc, ferry_conn **out, ferry_error *err);

/* Free the state (NULL is fine). */
void ea_conn_destroy(ferry_conn *c);

/*
 * Copy the tokens from the current settings again (after credentials_save
 * or settings_reload) and register them as secrets.  Returns 0, -1 when out
 * of memory.
 */
int ea_conn_load_tokens(ferry_conn *c);

/* A setting's value (borrowed, see host->setting), or NULL. */
const char *ea_conn_setting(const ferry_conn *c, const char *name);

/* The connection's settings schema (the descriptor's table). */
extern const ferry_setting_spec ea_settings[];

#endif /* EA_CONN_H */
