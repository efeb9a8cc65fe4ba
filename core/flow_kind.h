/*
 * flow_kind.h - the kinds of flow ferry knows, and the settings each takes.
 *
 * A flow definition names its kind ("orders", "customers", "products",
 * "stock"); the kind fixes which source and target entities it moves, which
 * settings it accepts (with types and defaults) and which value maps its
 * mapping uses.  Flow import/add validate against this table so a typo in a
 * setting name is refused at once, not ignored.
 */
#ifndef FERRY_FLOW_KIND_H
#define FERRY_FLOW_KIND_H

#include <ferry/plugin.h>

enum ferry_flow_setting_type {
    FERRY_FS_STRING,
    FERRY_FS_BOOL,
    FERRY_FS_INT,
    FERRY_FS_DECIMAL,     /* a decimal number given as string or number, e.g. "0.05" */
    FERRY_FS_ENUM,        /* one of choices "a|b|c" */
    FERRY_FS_STRING_LIST, /* array of strings */
    FERRY_FS_OBJECT       /* free-form object (custom fields) */
};

typedef struct ferry_flow_setting {
    const char *name;
    int type;                 /* enum ferry_flow_setting_type */
    const char *choices;      /* FERRY_FS_ENUM */
    const char *default_json; /* default as JSON text, NULL = none */
    const char *description;
} ferry_flow_setting;

/*
 * One direction a kind can run in: the entity it reads, the entity it
 * writes, and the default mapping for that pair.  A flow document that does
 * not name its entities gets those of the first route whose source entity
 * the source connection's plugin reads and whose target entity the target
 * connection's plugin creates (products: shop:product -> books:article with
 * products.lua, or books:article -> shop:product with
 * products_from_accounting.lua).
 */
typedef struct ferry_flow_route {
    const char *source_entity;
    const char *target_entity;
    const char *mapping; /* file name under share/ferry/mappings */
} ferry_flow_route;

typedef struct ferry_flow_kind {
    const char *name;
    const char *description;
    const char *source_entity;          /* used when no route fits */
    const char *target_entity;          /* used when no route fits */
    const char *default_mapping;        /* file name under share/ferry/mappings, when no route names one */
    const ferry_flow_setting *settings; /* {NULL}-terminated */
    const char *const *maps;            /* value map names the default mapping uses, NULL-terminated */
    const ferry_flow_route *routes;     /* {NULL}-terminated, tried in order; NULL = none */
} ferry_flow_kind;

/* The kind called `name`, or NULL. */
const ferry_flow_kind *ferry_flow_kind_find(const char *name);

/* All kinds, {NULL}-terminated. */
const ferry_flow_kind *ferry_flow_kind_all(void);

/*
 * The default mapping of a flow of `kind` that reads `source_entity` and
 * writes `target_entity`: the route with exactly these entities, else the
 * kind's default_mapping.
 */
const char *ferry_flow_kind_default_mapping(const ferry_flow_kind *kind, const char *source_entity,
                                            const char *target_entity);

/* The setting `name` of `kind`, or NULL. */
const ferry_flow_setting *ferry_flow_kind_setting(const ferry_flow_kind *kind, const char *name);

/*
 * Check one setting value against its type; FERRY_CONFIG_ERROR with a
 * message that names `path` (e.g. "$.settings.statuses") otherwise.
 */
int ferry_flow_setting_check(const ferry_flow_setting *s, const json_t *value, const char *path, ferry_error *err);

/* The settings of `kind` with defaults applied under `given` (a new object). */
json_t *ferry_flow_kind_effective_settings(const ferry_flow_kind *kind, const json_t *given);

#endif /* FERRY_FLOW_KIND_H */
