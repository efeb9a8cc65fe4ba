/*
 * connection.h - connections in the store: a name, a plugin, its settings.
 *
 * Settings are validated against the plugin's settings schema
 * (ferry_setting_spec) before they are stored: unknown names, missing
 * required values and values of the wrong type are refused with the name of
 * the setting.  Secret settings are stored with secret=1, registered with the
 * redaction registry as soon as they are read, and only ever shown masked.
 * This module also owns the per-connection key/value state and the
 * cross-process locks.
 */
#ifndef FERRY_CONNECTION_H
#define FERRY_CONNECTION_H

#include <ferry/plugin.h>

#include "store.h"

typedef struct ferry_connection {
    long long id;
    char *name;
    char *plugin;
    char *status; /* "ok", "needs_reauth", "disabled" */
    char *status_message;
    char *created_at;
    char *updated_at;
    json_t *settings; /* object name -> string, secrets included (handle with care) */
    json_t *secrets;  /* object name -> true for every secret setting */
} ferry_connection;

/* Free a connection (NULL is fine). */
void ferry_connection_free(ferry_connection *c);

/*
 * Check `settings` (object name -> string/number/bool) against `spec`.
 * With `partial`, required settings may be missing (an update of some).
 * FERRY_CONFIG_ERROR names the setting in err->field.
 */
int ferry_connection_validate(const ferry_setting_spec *spec, const json_t *settings, int partial, ferry_error *err);

/* True when `name` is a secret setting in `spec` (unknown names are treated as secret). */
int ferry_connection_setting_is_secret(const ferry_setting_spec *spec, const char *name);

/*
 * Add a connection `name` using `plugin` with validated settings (defaults
 * are not stored; they are applied when read).  FERRY_CONFIG_ERROR when the
 * name is taken or a setting is wrong.
 */
int ferry_connection_add(ferry_store *st, const char *name, const char *plugin, const ferry_setting_spec *spec,
                         const json_t *settings, ferry_error *err);

/* Load the connection `name` into *out (new); FERRY_CONFIG_ERROR when there is none. */
int ferry_connection_get(ferry_store *st, const char *name, ferry_connection **out, ferry_error *err);
int ferry_connection_get_by_id(ferry_store *st, long long id, ferry_connection **out, ferry_error *err);

/* All connections as a new JSON array of {name, plugin, status, ...} without settings. */
int ferry_connection_list(ferry_store *st, json_t **out, ferry_error *err);

/*
 * Set or delete settings: `values` maps names to strings, or to null to delete.
 * Done in one transaction.  `spec` may be NULL for managed values the plugin
 * writes (then `secret_names` flags which are secret).
 */
int ferry_connection_update_settings(ferry_store *st, long long id, const ferry_setting_spec *spec,
                                     const json_t *values, ferry_error *err);

/* Change the health status ("ok", "needs_reauth", "disabled") and its message. */
int ferry_connection_set_status(ferry_store *st, long long id, const char *status, const char *message,
                                ferry_error *err);

/* Remove a connection; refused (FERRY_CONFIG_ERROR) while a flow uses it. */
int ferry_connection_remove(ferry_store *st, const char *name, ferry_error *err);

/*
 * A JSON view for people and scripts: name, plugin, status, and settings with
 * every secret value replaced by "***" (or "(unset)").  New reference.
 */
json_t *ferry_connection_to_public_json(const ferry_connection *c, const ferry_setting_spec *spec);

/* Key/value state of a connection (values are JSON). *value is new or NULL. */
int ferry_connection_state_get(ferry_store *st, long long id, const char *key, json_t **value, ferry_error *err);
int ferry_connection_state_set(ferry_store *st, long long id, const char *key, const json_t *value, ferry_error *err);

/*
 * Take lock `name` for `owner` (e.g. "host:pid") for `ttl_ms`; waits up to
 * timeout_ms.  A lock whose holder let it expire is taken over.
 * FERRY_RETRY when it stays held by someone else.
 */
int ferry_store_lock(ferry_store *st, const char *name, const char *owner, long long ttl_ms, int timeout_ms,
                     ferry_error *err);
void ferry_store_unlock(ferry_store *st, const char *name, const char *owner);

/*
 * A lock owner name for this process: "host:pid:nonce" (new string).  A lock
 * whose owner is a process of this host that no longer runs is released at
 * once by the next ferry_store_lock, so a killed process never blocks others
 * until the lock expires.
 */
char *ferry_store_lock_owner(void);

#endif /* FERRY_CONNECTION_H */
