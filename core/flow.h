/*
 * flow.h - flow definitions: validation, storage, export and import.
 *
 * A flow moves one kind of record from a source connection to a target
 * connection through a Lua mapping, with settings and value maps.  Its
 * portable form is a JSON document (doc/flow-format.md):
 *
 *   {"name": "orders", "kind": "orders", "description": "...", "enabled": true,
 *    "source": {"connection": "shop", "entity": "order"},
 *    "target": {"connection": "books", "entity": "document"},
 *    "mapping": "orders.lua",
 *    "settings": {"statuses": ["processing"], ...},
 *    "maps": {"payment_terms": {"checkmo": "30"}, ...}}
 *
 * Export then import gives back an identical document.  An import with an
 * unknown key, a wrong type, an unknown connection, or a connection whose
 * plugin is not installed (or cannot read/write the entity) is refused with
 * the JSON path of the offending field in err->field, and the store is left
 * unchanged.
 */
#ifndef FERRY_FLOW_H
#define FERRY_FLOW_H

#include <ferry/plugin.h>

#include "flow_kind.h"
#include "loader.h"
#include "store.h"

typedef struct ferry_flow {
    long long id;
    char *name;
    char *kind;
    char *description;
    char *mapping; /* as given; NULL = the default mapping of the kind for these entities */
    int enabled;
    long long source_connection_id;
    long long target_connection_id;
    char *source_connection;
    char *target_connection;
    char *source_entity;
    char *target_entity;
    json_t *settings; /* as stored, without defaults */
    json_t *maps;     /* map name -> {from: to} */
    char *created_at;
    char *updated_at;
} ferry_flow;

/* Free a flow and everything it owns (NULL is fine). */
void ferry_flow_free(ferry_flow *flow);

/*
 * Check a flow document.  `loader` (may be NULL to skip plugin checks)
 * resolves the connections' plugins.  FERRY_CONFIG_ERROR with err->field set
 * to the JSON path ("$.settings.statuses[1]") on the first problem.
 */
int ferry_flow_validate(ferry_store *st, const ferry_loader *loader, const json_t *doc, ferry_error *err);

/*
 * Validate and store a flow document in one transaction.  With `replace` an
 * existing flow of that name is replaced (its id, cursors and id map kept);
 * without it an existing name is refused.
 */
int ferry_flow_import(ferry_store *st, const ferry_loader *loader, const json_t *doc, int replace, ferry_error *err);

/* Load flow `name` into *out (new); FERRY_CONFIG_ERROR when there is none. */
int ferry_flow_get(ferry_store *st, const char *name, ferry_flow **out, ferry_error *err);

/* The portable document of a flow (new reference), keys in a fixed order. */
json_t *ferry_flow_export(const ferry_flow *flow);

/* All flows as a new JSON array of summaries. */
int ferry_flow_list(ferry_store *st, json_t **out, ferry_error *err);

/* Enable or disable the flow called `name`; FERRY_CONFIG_ERROR when there is none. */
int ferry_flow_set_enabled(ferry_store *st, const char *name, int enabled, ferry_error *err);

/* Remove a flow with its cursors, id map, runs and events. */
int ferry_flow_remove(ferry_store *st, const char *name, ferry_error *err);

/* The flow's settings with the kind's defaults applied (new object). */
json_t *ferry_flow_effective_settings(const ferry_flow *flow);

/*
 * The mapping script to run: an absolute `mapping` as is; a relative one is
 * looked up in the current directory, then in <datadir>/mappings.  NULL
 * mapping = the kind's default.  Returns a new string or NULL when the file
 * does not exist (err names the paths tried).
 */
char *ferry_flow_mapping_path(const ferry_flow *flow, const char *datadir, ferry_error *err);

#endif /* FERRY_FLOW_H */
