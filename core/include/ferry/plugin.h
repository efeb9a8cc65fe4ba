/*
 * ferry/plugin.h - the connector plugin ABI.
 *
 * A ferry connector plugin is a shared object (built with libtool's
 * `-module -avoid-version -no-undefined`) that exports exactly one symbol,
 * FERRY_PLUGIN_ENTRY_SYMBOL ("ferry_plugin_entry").  The core loads it with
 * libltdl, calls the entry once with the host table, and gets back a const
 * descriptor that says who the plugin is, what it can read and write, which
 * settings a connection needs, and the operations it implements.
 *
 * Versioning rules (see doc/plugin-guide.md):
 *   - FERRY_PLUGIN_ABI_MAJOR changes only when a struct below changes in an
 *     incompatible way.  The loader refuses a plugin built for another major.
 *   - Within a major, ferry_plugin_descriptor and ferry_host only ever grow at
 *     the end.  Each carries its own struct_size; the core reads no more of a
 *     plugin's descriptor than the plugin declared, and a plugin must check
 *     host->struct_size (FERRY_HOST_HAS) before calling a newer host function.
 *   - ferry_error, ferry_setting_spec, ferry_entity_spec and ferry_action_spec
 *     are frozen for a major (they live in arrays or are filled by both sides).
 *
 * Records are Jansson values (json_t).  Ownership follows one rule: a
 * `const json_t *` argument is borrowed; a `json_t **` out-parameter hands the
 * caller a new reference that the caller must json_decref().
 *
 * Status codes: every operation returns an int that is one of enum
 * ferry_status and, when not FERRY_OK, fills the ferry_error it was given.
 * The engine - not the plugin - decides what to do about it: wait and retry,
 * dead-letter the record, stop the connection, or abort the run.
 */
#ifndef FERRY_PLUGIN_H
#define FERRY_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FERRY_PLUGIN_ABI_MAJOR 1
#define FERRY_PLUGIN_ABI_MINOR 0
#define FERRY_PLUGIN_ENTRY_SYMBOL "ferry_plugin_entry"

#if defined(__GNUC__) || defined(__clang__)
#define FERRY_PLUGIN_EXPORT __attribute__((visibility("default")))
#define FERRY_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FERRY_PLUGIN_EXPORT
#define FERRY_PRINTF(a, b)
#endif

/* What an operation answers.  Negative values so "if (rc < 0)" means failure. */
enum ferry_status {
    FERRY_OK = 0,
    FERRY_RETRY = -1,        /* transient; try again later (see retry_after_ms) */
    FERRY_RECORD_ERROR = -2, /* this record cannot be written: dead-letter it */
    FERRY_CONFIG_ERROR = -3, /* the connection or flow needs a person: stop it */
    FERRY_FATAL = -4         /* the run cannot go on (out of memory, corrupt store) */
};

/* ferry_error.flags */
#define FERRY_ERROR_MAYBE_APPLIED 0x1u /* a write may have reached the server */
#define FERRY_ERROR_NEEDS_REAUTH 0x2u  /* credentials revoked/expired: re-authorize */
/* With FERRY_CONFIG_ERROR: the account has no access to this kind of object at all (a module it does not
 * subscribe to), so it holds none of them; the engine may leave the kind out instead of stopping. */
#define FERRY_ERROR_UNAVAILABLE 0x4u

/*
 * One error, filled by whoever failed, read by the engine and shown to the
 * user.  It names what and where: the flow, the record key, the field path,
 * and a location (script or URL) with a line when there is one.  Every text
 * member is NUL-terminated and may be empty.  Never put a secret in here.
 */
typedef struct ferry_error {
    int status;               /* enum ferry_status; FERRY_OK when clear */
    unsigned flags;           /* FERRY_ERROR_* */
    int http_status;          /* HTTP status of the failing call, 0 if none */
    int line;                 /* line in `where`, 0 if none */
    long long retry_after_ms; /* FERRY_RETRY: suggested wait, 0 = engine decides */
    char code[32];            /* the remote system's error code, e.g. "4010" */
    char flow[64];            /* flow name */
    char record[128];         /* record key, e.g. the order number */
    char field[256];          /* offending field path, e.g. "lines[2].sku" */
    char where[256];          /* script path, URL, or file */
    char message[1024];       /* what went wrong, for a person */
} ferry_error;

/* Reset an error to "no error". */
static inline void ferry_error_clear(ferry_error *err)
{
    if (err != NULL) {
        memset(err, 0, sizeof(*err));
    }
}

/*
 * Fill `err` with a status, an optional field path and a printf-style
 * message; returns `status` so a plugin can write
 * `return ferry_error_set(err, FERRY_RECORD_ERROR, "Rows", "...")`.
 * Keeps flow/record/where that the caller may already have set.
 */
static inline int ferry_error_set(ferry_error *err, int status, const char *field, const char *fmt, ...)
    FERRY_PRINTF(4, 5);
static inline int ferry_error_set(ferry_error *err, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL) {
        return status;
    }
    err->status = status;
    if (field != NULL) {
        snprintf(err->field, sizeof(err->field), "%s", field);
    }
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return status;
}

/* ---- connection settings ------------------------------------------------ */

enum ferry_setting_type {
    FERRY_SETTING_STRING = 0,
    FERRY_SETTING_INT = 1,
    FERRY_SETTING_BOOL = 2, /* "true"/"false" */
    FERRY_SETTING_URL = 3,
    FERRY_SETTING_ENUM = 4 /* one of `choices`, separated by '|' */
};

/* ferry_setting_spec.flags */
#define FERRY_SETTING_REQUIRED 0x1u /* connection add refuses without it */
#define FERRY_SETTING_SECRET 0x2u   /* masked everywhere, redacted from logs */
#define FERRY_SETTING_MANAGED 0x4u  /* written by the plugin (tokens), never asked for */

/* One connection setting; arrays of these end with a {NULL} entry. */
typedef struct ferry_setting_spec {
    const char *name;
    int type;                  /* enum ferry_setting_type */
    unsigned flags;            /* FERRY_SETTING_* */
    const char *default_value; /* NULL = no default */
    const char *choices;       /* FERRY_SETTING_ENUM: "a|b|c" */
    const char *description;
} ferry_setting_spec;

/* ---- entities ------------------------------------------------------------ */

/* ferry_entity_spec.ops */
#define FERRY_OP_READ 0x1u   /* read_page */
#define FERRY_OP_FIND 0x2u   /* find */
#define FERRY_OP_CREATE 0x4u /* create */
#define FERRY_OP_UPDATE 0x8u /* update */

/*
 * One entity the plugin handles, by its canonical name ("order", "customer",
 * "product", "stock", "article", "document", ...; see share/ferry/schema).
 * `keys` lists the key names `find` accepts, separated by '|'.
 * Arrays of these end with a {NULL} entry.
 */
typedef struct ferry_entity_spec {
    const char *name;
    unsigned ops;
    const char *keys;
    const char *description;
} ferry_entity_spec;

/* A plugin-specific action (`ferry connection action NAME ACTION`). */
typedef struct ferry_action_spec {
    const char *name;
    const char *description;
} ferry_action_spec;

/* ---- the host table (what the core offers the plugin) ------------------- */

typedef struct ferry_host ferry_host;
typedef struct ferry_host_conn ferry_host_conn; /* the core's handle for one connection */
typedef struct ferry_conn ferry_conn;           /* the plugin's own connection state */

#include <ferry/host.h>

/* ---- the descriptor ------------------------------------------------------ */

/*
 * What a plugin is and does.  Static and const in the plugin; the core never
 * writes to it.  Fields are only ever appended.
 */
typedef struct ferry_plugin_descriptor {
    uint32_t abi_major;   /* FERRY_PLUGIN_ABI_MAJOR at build time */
    uint32_t abi_minor;   /* FERRY_PLUGIN_ABI_MINOR at build time */
    uint32_t struct_size; /* sizeof(ferry_plugin_descriptor) at build time */

    const char *name;        /* short, unique: "magento2" */
    const char *version;     /* the plugin's own semver */
    const char *description; /* one line */

    const ferry_entity_spec *entities;  /* {NULL}-terminated */
    const ferry_setting_spec *settings; /* {NULL}-terminated */

    /*
     * Open a connection.  Settings (already validated against `settings`)
     * are read with host->setting(hc, name).  On success *conn is the
     * plugin's state, passed to every other operation and freed by close.
     * Must not do network I/O (that is what `test` is for).
     */
    int (*open)(const ferry_host *host, ferry_host_conn *hc, ferry_conn **conn, ferry_error *err);

    /*
     * Who is at the other end: returns a new JSON object describing the
     * account reached (company name, organisation number, store...), so a
     * person can check they are not syncing into the wrong one.
     */
    int (*test)(ferry_conn *conn, json_t **info, ferry_error *err);

    /*
     * Read one page of `entity` after `cursor` (NULL on the first run; the
     * plugin's own opaque JSON otherwise).  `query` carries the flow's filter
     * (for example {"statuses": ["processing"], "since": "..."}; may be NULL).
     * A "fields" member (array of canonical field names) is a hint that the
     * caller needs only those fields: a plugin may then read less (an OData
     * $select) and return records with only them and "key"; it may also
     * ignore the hint and return whole records.
     * On success *records is a new JSON array of canonical records (each with
     * a "key" member), *next_cursor the cursor to store once every record of
     * this page is settled, and *more 0 when this was the last page.
     */
    int (*read_page)(ferry_conn *conn, const char *entity, const json_t *query, const json_t *cursor, json_t **records,
                     json_t **next_cursor, int *more, ferry_error *err);

    /*
     * Find one `entity` whose `key` (one of the entity's `keys`) equals
     * `value`.  FERRY_OK with *found == NULL means "there is none".
     */
    int (*find)(ferry_conn *conn, const char *entity, const char *key, const char *value, json_t **found,
                ferry_error *err);

    /* Create `record` (canonical); *created is the stored object, with "id". */
    int (*create)(ferry_conn *conn, const char *entity, const json_t *record, json_t **created, ferry_error *err);

    /* Update the object `id` from `record` (canonical); *updated as for create. */
    int (*update)(ferry_conn *conn, const char *entity, const char *id, const json_t *record, json_t **updated,
                  ferry_error *err);

    /* Release the connection.  Never fails. */
    void (*close)(ferry_conn *conn);

    /*
     * Pure translation hooks, no network: the native payload create/update
     * would send for a canonical record (dry runs, tests), and the canonical
     * record for a native object.  Either may be NULL.
     */
    int (*to_native)(ferry_conn *conn, const char *entity, const json_t *record, json_t **native, ferry_error *err);
    int (*from_native)(ferry_conn *conn, const char *entity, const json_t *native, json_t **record, ferry_error *err);

    /*
     * Interactive set-up run by `ferry connection add` after the user's
     * settings are stored (an OAuth2 authorization, for example).  May be
     * NULL.  Uses host->say / host->prompt and stores what it obtains with
     * host->credentials_save.
     */
    int (*authorize)(const ferry_host *host, ferry_host_conn *hc, ferry_error *err);

    /* Plugin-specific actions; `actions` is {NULL}-terminated, may be NULL. */
    const ferry_action_spec *actions;
    int (*action)(ferry_conn *conn, const char *name, const json_t *args, json_t **result, ferry_error *err);
} ferry_plugin_descriptor;

/* Fill the three version fields of a descriptor initialiser. */
#define FERRY_PLUGIN_DESCRIPTOR_HEADER                                                                                 \
    .abi_major = FERRY_PLUGIN_ABI_MAJOR, .abi_minor = FERRY_PLUGIN_ABI_MINOR,                                          \
    .struct_size = (uint32_t)sizeof(ferry_plugin_descriptor)

/* The one symbol a plugin exports. */
typedef const ferry_plugin_descriptor *(*ferry_plugin_entry_fn)(const ferry_host *host);

/*
 * A plugin defines this (and nothing else visible).  It is called once, right
 * after loading, with the host table (which outlives the plugin); it returns
 * the plugin's static descriptor, or NULL to refuse this host (for example
 * when host->abi_minor or host->struct_size lacks a function it needs).
 */
FERRY_PLUGIN_EXPORT const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_PLUGIN_H */
