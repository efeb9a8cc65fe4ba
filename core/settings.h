/*
 * settings.h - ferry's own (global) settings, kept in the store's settings
 * table: log retention, the alert command, automatic purge.
 *
 * Names are checked against a fixed list so a typo is refused, not stored.
 */
#ifndef FERRY_SETTINGS_H
#define FERRY_SETTINGS_H

#include <ferry/plugin.h>

#include "store.h"

typedef struct ferry_global_setting {
    const char *name;
    const char *default_value;
    const char *description;
} ferry_global_setting;

/* The known settings, {NULL}-terminated. */
const ferry_global_setting *ferry_settings_known(void);

/* The value of `name` (new string; the default when unset, NULL when neither). */
char *ferry_settings_get(ferry_store *st, const char *name);

/* An integer setting, or `fallback` when unset or not a number. */
long ferry_settings_get_long(ferry_store *st, const char *name, long fallback);

/* Set (or with value NULL reset to the default) a known setting; FERRY_CONFIG_ERROR for an unknown name. */
int ferry_settings_set(ferry_store *st, const char *name, const char *value, ferry_error *err);

/* Every known setting with its value and whether it is the default: new object. */
json_t *ferry_settings_all(ferry_store *st);

#endif /* FERRY_SETTINGS_H */
