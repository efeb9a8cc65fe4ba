/* flow.c - flow definitions in the store, validated import and export (see flow.h). */
#include "config.h"

#include "flow.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connection.h"
#include "error.h"
#include "util.h"

void ferry_flow_free(ferry_flow *f)
{
    if (f == NULL) {
        return;
    }
    free(f->name);
    free(f->kind);
    free(f->description);
    free(f->mapping);
    free(f->source_connection);
    free(f->target_connection);
    free(f->source_entity);
    free(f->target_entity);
    json_decref(f->settings);
    json_decref(f->maps);
    free(f->created_at);
    free(f->updated_at);
    free(f);
}

static int path_error(ferry_error *err, const char *path, const char *fmt, ...) FERRY_FMT(3, 4);
static int path_error(ferry_error *err, const char *path, const char *fmt, ...)
{
    va_list ap;
    char msg[512];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ferry_error_set(err, FERRY_CONFIG_ERROR, path, "%s", msg);
}

/* Refuse members of `obj` not in `allowed` (NULL-terminated). */
static int only_keys(const json_t *obj, const char *const *allowed, const char *path, ferry_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach ((json_t *)obj, key, v) {
        int ok = 0;
        for (size_t i = 0; allowed[i] != NULL; i++) {
            if (strcmp(allowed[i], key) == 0) {
                ok = 1;
                break;
            }
        }
        if (!ok) {
            char p[256];
            snprintf(p, sizeof(p), "%s.%s", path, key);
            return path_error(err, p, "unknown key");
        }
    }
    return FERRY_OK;
}

static int want_string(const json_t *doc, const char *key, const char *path, int required, ferry_error *err)
{
    json_t *v = json_object_get(doc, key);
    char p[256];
    snprintf(p, sizeof(p), "%s.%s", path, key);
    if (v == NULL || json_is_null(v)) {
        return required ? path_error(err, p, "is required") : FERRY_OK;
    }
    if (!json_is_string(v) || json_string_length(v) == 0) {
        return path_error(err, p, "expected a non-empty string");
    }
    return FERRY_OK;
}

static int entity_supports(const ferry_plugin_descriptor *d, const char *entity, unsigned ops)
{
    for (const ferry_entity_spec *e = d->entities; e != NULL && e->name != NULL; e++) {
        if (strcmp(e->name, entity) == 0) {
            return (e->ops & ops) == ops;
        }
    }
    return 0;
}

/* The plugin of connection `name` (NULL when the store, the connection or the plugin is not there). */
static const ferry_plugin_descriptor *plugin_of(ferry_store *st, const ferry_loader *loader, const char *name)
{
    if (st == NULL || loader == NULL || name == NULL) {
        return NULL;
    }
    ferry_connection *c = NULL;
    ferry_error tmp;
    ferry_error_clear(&tmp);
    if (ferry_connection_get(st, name, &c, &tmp) != FERRY_OK) {
        return NULL;
    }
    const ferry_plugin *pl = ferry_loader_find(loader, c->plugin);
    ferry_connection_free(c);
    return pl ? pl->desc : NULL;
}

/*
 * The entities of a flow document: those it names, else the first route of
 * the kind that both connections' plugins support (and that agrees with an
 * entity the document does name), else the kind's defaults.
 */
static void resolve_entities(ferry_store *st, const ferry_loader *loader, const ferry_flow_kind *kind,
                             const json_t *src, const json_t *dst, const char **src_entity, const char **dst_entity)
{
    const char *given_src = json_string_value(json_object_get(src, "entity"));
    const char *given_dst = json_string_value(json_object_get(dst, "entity"));
    *src_entity = given_src ? given_src : kind->source_entity;
    *dst_entity = given_dst ? given_dst : kind->target_entity;
    if ((given_src && given_dst) || kind->routes == NULL) {
        return;
    }
    const ferry_plugin_descriptor *sp = plugin_of(st, loader, json_string_value(json_object_get(src, "connection")));
    const ferry_plugin_descriptor *dp = plugin_of(st, loader, json_string_value(json_object_get(dst, "connection")));
    if (sp == NULL || dp == NULL) {
        return;
    }
    for (const ferry_flow_route *r = kind->routes; r->source_entity != NULL; r++) {
        if ((given_src == NULL || strcmp(given_src, r->source_entity) == 0) &&
            (given_dst == NULL || strcmp(given_dst, r->target_entity) == 0) &&
            entity_supports(sp, r->source_entity, FERRY_OP_READ) &&
            entity_supports(dp, r->target_entity, FERRY_OP_CREATE)) {
            *src_entity = r->source_entity;
            *dst_entity = r->target_entity;
            return;
        }
    }
}

/* Check one endpoint ({"connection", "entity"}) of a flow document. */
static int check_endpoint(ferry_store *st, const ferry_loader *loader, const json_t *ep, const char *path,
                          const char *default_entity, unsigned ops, ferry_error *err)
{
    static const char *const keys[] = {"connection", "entity", NULL};
    if (!json_is_object(ep)) {
        return path_error(err, path, "expected an object with connection and entity");
    }
    if (only_keys(ep, keys, path, err) != FERRY_OK || want_string(ep, "connection", path, 1, err) != FERRY_OK ||
        want_string(ep, "entity", path, 0, err) != FERRY_OK) {
        return FERRY_CONFIG_ERROR;
    }
    char p[256];
    snprintf(p, sizeof(p), "%s.connection", path);
    const char *conn_name = json_string_value(json_object_get(ep, "connection"));
    ferry_connection *c = NULL;
    ferry_error tmp;
    ferry_error_clear(&tmp);
    if (st != NULL && ferry_connection_get(st, conn_name, &c, &tmp) != FERRY_OK) {
        if (tmp.status == FERRY_CONFIG_ERROR) {
            return path_error(err, p, "no connection named '%s' (add it first: ferry connection add)", conn_name);
        }
        *err = tmp;
        return tmp.status;
    }
    if (c != NULL && loader != NULL) {
        const ferry_plugin *pl = ferry_loader_find(loader, c->plugin);
        if (pl == NULL) {
            path_error(err, p, "connection '%s' uses plugin '%s', which is not installed (see ferry plugin list)",
                       conn_name, c->plugin);
            ferry_connection_free(c);
            return FERRY_CONFIG_ERROR;
        }
        json_t *ent = json_object_get(ep, "entity");
        const char *entity = ent ? json_string_value(ent) : default_entity;
        if (!entity_supports(pl->desc, entity, ops)) {
            snprintf(p, sizeof(p), "%s.entity", path);
            path_error(err, p, "plugin '%s' cannot %s entity '%s'", c->plugin, ops & FERRY_OP_READ ? "read" : "write",
                       entity);
            ferry_connection_free(c);
            return FERRY_CONFIG_ERROR;
        }
    }
    ferry_connection_free(c);
    return FERRY_OK;
}

static int check_maps(const json_t *maps, ferry_error *err)
{
    if (maps == NULL || json_is_null(maps)) {
        return FERRY_OK;
    }
    if (!json_is_object(maps)) {
        return path_error(err, "$.maps", "expected an object of map name -> {from: to}");
    }
    const char *name;
    json_t *m;
    json_object_foreach ((json_t *)maps, name, m) {
        char p[256];
        snprintf(p, sizeof(p), "$.maps.%s", name);
        if (!json_is_object(m)) {
            return path_error(err, p, "expected an object of from -> to strings");
        }
        const char *from;
        json_t *to;
        json_object_foreach (m, from, to) {
            if (!json_is_string(to)) {
                char q[512];
                snprintf(q, sizeof(q), "%s.%s", p, from);
                return path_error(err, q, "expected a string");
            }
        }
    }
    return FERRY_OK;
}

int ferry_flow_validate(ferry_store *st, const ferry_loader *loader, const json_t *doc, ferry_error *err)
{
    static const char *const top_keys[] = {"name",   "kind",    "description", "enabled", "source",
                                           "target", "mapping", "settings",    "maps",    NULL};
    if (!json_is_object(doc)) {
        return path_error(err, "$", "a flow document must be a JSON object");
    }
    if (only_keys(doc, top_keys, "$", err) != FERRY_OK || want_string(doc, "name", "$", 1, err) != FERRY_OK ||
        want_string(doc, "kind", "$", 1, err) != FERRY_OK || want_string(doc, "mapping", "$", 0, err) != FERRY_OK) {
        return FERRY_CONFIG_ERROR;
    }
    json_t *desc = json_object_get(doc, "description");
    if (desc != NULL && !json_is_null(desc) && !json_is_string(desc)) {
        return path_error(err, "$.description", "expected a string");
    }
    const char *name = json_string_value(json_object_get(doc, "name"));
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-' || *p == '.')) {
            return path_error(err, "$.name", "'%s' may only use A-Z a-z 0-9 _ - .", name);
        }
    }
    json_t *enabled = json_object_get(doc, "enabled");
    if (enabled != NULL && !json_is_boolean(enabled)) {
        return path_error(err, "$.enabled", "expected true or false");
    }
    const char *kind_name = json_string_value(json_object_get(doc, "kind"));
    const ferry_flow_kind *kind = ferry_flow_kind_find(kind_name);
    if (kind == NULL) {
        ferry_buf known = FERRY_BUF_INIT;
        for (const ferry_flow_kind *k = ferry_flow_kind_all(); k->name; k++) {
            ferry_buf_printf(&known, "%s%s", known.len ? ", " : "", k->name);
        }
        path_error(err, "$.kind", "unknown flow kind '%s' (known: %s)", kind_name, known.data);
        ferry_buf_free(&known);
        return FERRY_CONFIG_ERROR;
    }
    json_t *src = json_object_get(doc, "source");
    json_t *dst = json_object_get(doc, "target");
    if (src == NULL) {
        return path_error(err, "$.source", "is required");
    }
    if (dst == NULL) {
        return path_error(err, "$.target", "is required");
    }
    const char *src_entity = NULL, *dst_entity = NULL;
    resolve_entities(st, loader, kind, src, dst, &src_entity, &dst_entity);
    if (check_endpoint(st, loader, src, "$.source", src_entity, FERRY_OP_READ, err) != FERRY_OK ||
        check_endpoint(st, loader, dst, "$.target", dst_entity, FERRY_OP_CREATE, err) != FERRY_OK) {
        return err->status;
    }
    json_t *settings = json_object_get(doc, "settings");
    if (settings != NULL && !json_is_null(settings)) {
        if (!json_is_object(settings)) {
            return path_error(err, "$.settings", "expected an object");
        }
        const char *key;
        json_t *v;
        json_object_foreach (settings, key, v) {
            char p[256];
            snprintf(p, sizeof(p), "$.settings.%s", key);
            const ferry_flow_setting *s = ferry_flow_kind_setting(kind, key);
            if (s == NULL) {
                return path_error(err, p, "unknown setting for a flow of kind %s", kind->name);
            }
            if (ferry_flow_setting_check(s, v, p, err) != FERRY_OK) {
                return FERRY_CONFIG_ERROR;
            }
        }
    }
    return check_maps(json_object_get(doc, "maps"), err);
}

static long long connection_id(ferry_store *st, const char *name, ferry_error *err)
{
    ferry_connection *c = NULL;
    if (ferry_connection_get(st, name, &c, err) != FERRY_OK) {
        return -1;
    }
    long long id = c->id;
    ferry_connection_free(c);
    return id;
}

static int write_settings_and_maps(ferry_store *st, long long flow_id, const json_t *doc, ferry_error *err)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "DELETE FROM flow_settings WHERE flow_id=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    if (ferry_store_step_done(st, s, err, "clear flow settings") != FERRY_OK) {
        return FERRY_FATAL;
    }
    s = ferry_store_prepare(st, "DELETE FROM value_maps WHERE flow_id=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, flow_id);
    if (ferry_store_step_done(st, s, err, "clear value maps") != FERRY_OK) {
        return FERRY_FATAL;
    }
    const char *key;
    json_t *v;
    json_object_foreach (json_object_get(doc, "settings"), key, v) {
        if (json_is_null(v)) {
            continue;
        }
        s = ferry_store_prepare(st, "INSERT INTO flow_settings(flow_id,name,value) VALUES(?1,?2,?3)", err);
        if (s == NULL) {
            return FERRY_FATAL;
        }
        sqlite3_bind_int64(s, 1, flow_id);
        sqlite3_bind_text(s, 2, key, -1, SQLITE_TRANSIENT);
        ferry_store_bind_json(s, 3, v);
        if (ferry_store_step_done(st, s, err, "save flow setting") != FERRY_OK) {
            return FERRY_FATAL;
        }
    }
    const char *map;
    json_t *m;
    json_object_foreach (json_object_get(doc, "maps"), map, m) {
        const char *from;
        json_t *to;
        json_object_foreach (m, from, to) {
            s = ferry_store_prepare(st, "INSERT INTO value_maps(flow_id,map,from_value,to_value) VALUES(?1,?2,?3,?4)",
                                    err);
            if (s == NULL) {
                return FERRY_FATAL;
            }
            sqlite3_bind_int64(s, 1, flow_id);
            sqlite3_bind_text(s, 2, map, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 3, from, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(s, 4, json_string_value(to), -1, SQLITE_TRANSIENT);
            if (ferry_store_step_done(st, s, err, "save value map") != FERRY_OK) {
                return FERRY_FATAL;
            }
        }
    }
    return FERRY_OK;
}

int ferry_flow_import(ferry_store *st, const ferry_loader *loader, const json_t *doc, int replace, ferry_error *err)
{
    if (ferry_flow_validate(st, loader, doc, err) != FERRY_OK) {
        return err->status;
    }
    const char *name = json_string_value(json_object_get(doc, "name"));
    const ferry_flow_kind *kind = ferry_flow_kind_find(json_string_value(json_object_get(doc, "kind")));
    json_t *src = json_object_get(doc, "source");
    json_t *dst = json_object_get(doc, "target");
    json_t *mapping = json_object_get(doc, "mapping");
    json_t *desc = json_object_get(doc, "description");
    json_t *enabled = json_object_get(doc, "enabled");
    const char *src_entity = NULL, *dst_entity = NULL;
    resolve_entities(st, loader, kind, src, dst, &src_entity, &dst_entity);

    if (ferry_store_begin(st, err) != FERRY_OK) {
        return err->status;
    }
    long long src_id = connection_id(st, json_string_value(json_object_get(src, "connection")), err);
    long long dst_id = src_id < 0 ? -1 : connection_id(st, json_string_value(json_object_get(dst, "connection")), err);
    if (src_id < 0 || dst_id < 0) {
        ferry_store_rollback(st);
        return err->status;
    }
    ferry_flow *existing = NULL;
    ferry_error tmp;
    ferry_error_clear(&tmp);
    ferry_flow_get(st, name, &existing, &tmp);
    if (existing != NULL && !replace) {
        ferry_flow_free(existing);
        ferry_store_rollback(st);
        return path_error(err, "$.name", "a flow named '%s' exists already (use --replace to replace it)", name);
    }
    char ts[32];
    ferry_store_timestamp(ts, sizeof(ts));
    sqlite3_stmt *s;
    if (existing != NULL) {
        s = ferry_store_prepare(st,
                                "UPDATE flows SET kind=?2, source_connection_id=?3, source_entity=?4, "
                                "target_connection_id=?5, target_entity=?6, mapping=?7, enabled=?8, "
                                "description=?9, updated_at=?10 WHERE id=?1",
                                err);
        if (s != NULL) {
            sqlite3_bind_int64(s, 1, existing->id);
        }
    } else {
        s = ferry_store_prepare(st,
                                "INSERT INTO flows(name,kind,source_connection_id,source_entity,target_connection_id,"
                                "target_entity,mapping,enabled,description,created_at,updated_at) "
                                "VALUES(?11,?2,?3,?4,?5,?6,?7,?8,?9,?10,?10)",
                                err);
        if (s != NULL) {
            sqlite3_bind_text(s, 11, name, -1, SQLITE_TRANSIENT);
        }
    }
    if (s == NULL) {
        ferry_flow_free(existing);
        ferry_store_rollback(st);
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 2, kind->name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, src_id);
    sqlite3_bind_text(s, 4, src_entity, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, dst_id);
    sqlite3_bind_text(s, 6, dst_entity, -1, SQLITE_TRANSIENT);
    ferry_store_bind_text(s, 7, mapping && json_is_string(mapping) ? json_string_value(mapping) : NULL);
    sqlite3_bind_int(s, 8, enabled == NULL || json_is_true(enabled));
    ferry_store_bind_text(s, 9, desc && json_is_string(desc) ? json_string_value(desc) : NULL);
    sqlite3_bind_text(s, 10, ts, -1, SQLITE_TRANSIENT);
    if (ferry_store_step_done(st, s, err, "save flow") != FERRY_OK) {
        ferry_flow_free(existing);
        ferry_store_rollback(st);
        return FERRY_FATAL;
    }
    long long id = existing ? existing->id : sqlite3_last_insert_rowid(ferry_store_db(st));
    ferry_flow_free(existing);
    if (write_settings_and_maps(st, id, doc, err) != FERRY_OK) {
        ferry_store_rollback(st);
        return err->status;
    }
    return ferry_store_commit(st, err);
}

#define FLOW_SELECT                                                                                                    \
    "SELECT f.id, f.name, f.kind, f.description, f.mapping, f.enabled, f.source_connection_id, "                       \
    "f.target_connection_id, s.name, t.name, f.source_entity, f.target_entity, f.created_at, f.updated_at "            \
    "FROM flows f JOIN connections s ON s.id=f.source_connection_id "                                                  \
    "JOIN connections t ON t.id=f.target_connection_id "

static char *col_text(sqlite3_stmt *s, int i)
{
    return ferry_strdup((const char *)sqlite3_column_text(s, i));
}

static int load_settings_maps(ferry_store *st, ferry_flow *f, ferry_error *err)
{
    sqlite3_stmt *s =
        ferry_store_prepare(st, "SELECT name, value FROM flow_settings WHERE flow_id=?1 ORDER BY name", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, f->id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *v = ferry_store_column_json(s, 1);
        if (v != NULL) {
            json_object_set_new(f->settings, (const char *)sqlite3_column_text(s, 0), v);
        }
    }
    ferry_store_done(s);
    s = ferry_store_prepare(
        st, "SELECT map, from_value, to_value FROM value_maps WHERE flow_id=?1 ORDER BY map, from_value", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_int64(s, 1, f->id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *map = (const char *)sqlite3_column_text(s, 0);
        json_t *m = json_object_get(f->maps, map);
        if (m == NULL) {
            m = json_object();
            json_object_set_new(f->maps, map, m);
        }
        json_object_set_new(m, (const char *)sqlite3_column_text(s, 1),
                            json_string((const char *)sqlite3_column_text(s, 2)));
    }
    ferry_store_done(s);
    return FERRY_OK;
}

int ferry_flow_get(ferry_store *st, const char *name, ferry_flow **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st, FLOW_SELECT "WHERE f.name=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        ferry_store_done(s);
        if (rc == SQLITE_DONE) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no flow named %s (see 'ferry flow list')", name);
        }
        return ferry_store_error(st, err, "read flow");
    }
    ferry_flow *f = calloc(1, sizeof(*f));
    f->id = sqlite3_column_int64(s, 0);
    f->name = col_text(s, 1);
    f->kind = col_text(s, 2);
    f->description = col_text(s, 3);
    f->mapping = col_text(s, 4);
    f->enabled = sqlite3_column_int(s, 5);
    f->source_connection_id = sqlite3_column_int64(s, 6);
    f->target_connection_id = sqlite3_column_int64(s, 7);
    f->source_connection = col_text(s, 8);
    f->target_connection = col_text(s, 9);
    f->source_entity = col_text(s, 10);
    f->target_entity = col_text(s, 11);
    f->created_at = col_text(s, 12);
    f->updated_at = col_text(s, 13);
    f->settings = json_object();
    f->maps = json_object();
    ferry_store_done(s);
    if (load_settings_maps(st, f, err) != FERRY_OK) {
        ferry_flow_free(f);
        return FERRY_FATAL;
    }
    *out = f;
    return FERRY_OK;
}

json_t *ferry_flow_export(const ferry_flow *f)
{
    json_t *doc = json_object();
    json_object_set_new(doc, "name", json_string(f->name));
    json_object_set_new(doc, "kind", json_string(f->kind));
    if (f->description != NULL) {
        json_object_set_new(doc, "description", json_string(f->description));
    }
    json_object_set_new(doc, "enabled", json_boolean(f->enabled));
    json_object_set_new(doc, "source",
                        json_pack("{s:s, s:s}", "connection", f->source_connection, "entity", f->source_entity));
    json_object_set_new(doc, "target",
                        json_pack("{s:s, s:s}", "connection", f->target_connection, "entity", f->target_entity));
    if (f->mapping != NULL) {
        json_object_set_new(doc, "mapping", json_string(f->mapping));
    }
    json_object_set(doc, "settings", f->settings);
    json_object_set(doc, "maps", f->maps);
    return doc;
}

int ferry_flow_list(ferry_store *st, json_t **out, ferry_error *err)
{
    *out = NULL;
    sqlite3_stmt *s = ferry_store_prepare(st, FLOW_SELECT "ORDER BY f.name", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    json_t *arr = json_array();
    while (sqlite3_step(s) == SQLITE_ROW) {
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string((const char *)sqlite3_column_text(s, 1)));
        json_object_set_new(o, "kind", json_string((const char *)sqlite3_column_text(s, 2)));
        json_object_set_new(o, "enabled", json_boolean(sqlite3_column_int(s, 5)));
        json_object_set_new(o, "source", json_string((const char *)sqlite3_column_text(s, 8)));
        json_object_set_new(o, "target", json_string((const char *)sqlite3_column_text(s, 9)));
        json_object_set_new(o, "source_entity", json_string((const char *)sqlite3_column_text(s, 10)));
        json_object_set_new(o, "target_entity", json_string((const char *)sqlite3_column_text(s, 11)));
        json_array_append_new(arr, o);
    }
    ferry_store_done(s);
    *out = arr;
    return FERRY_OK;
}

int ferry_flow_set_enabled(ferry_store *st, const char *name, int enabled, ferry_error *err)
{
    char ts[32];
    sqlite3_stmt *s = ferry_store_prepare(st, "UPDATE flows SET enabled=?2, updated_at=?3 WHERE name=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 2, enabled ? 1 : 0);
    sqlite3_bind_text(s, 3, ferry_store_timestamp(ts, sizeof(ts)), -1, SQLITE_TRANSIENT);
    if (ferry_store_step_done(st, s, err, "enable flow") != FERRY_OK) {
        return FERRY_FATAL;
    }
    if (sqlite3_changes(ferry_store_db(st)) == 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no flow named %s", name);
    }
    return FERRY_OK;
}

int ferry_flow_remove(ferry_store *st, const char *name, ferry_error *err)
{
    sqlite3_stmt *s = ferry_store_prepare(st, "DELETE FROM flows WHERE name=?1", err);
    if (s == NULL) {
        return FERRY_FATAL;
    }
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    if (ferry_store_step_done(st, s, err, "remove flow") != FERRY_OK) {
        return FERRY_FATAL;
    }
    if (sqlite3_changes(ferry_store_db(st)) == 0) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "no flow named %s", name);
    }
    return FERRY_OK;
}

json_t *ferry_flow_effective_settings(const ferry_flow *f)
{
    const ferry_flow_kind *kind = ferry_flow_kind_find(f->kind);
    if (kind == NULL) {
        return json_deep_copy(f->settings);
    }
    return ferry_flow_kind_effective_settings(kind, f->settings);
}

char *ferry_flow_mapping_path(const ferry_flow *f, const char *datadir, ferry_error *err)
{
    const char *mapping = f->mapping;
    if (mapping == NULL) {
        const ferry_flow_kind *kind = ferry_flow_kind_find(f->kind);
        mapping = kind ? ferry_flow_kind_default_mapping(kind, f->source_entity, f->target_entity) : NULL;
    }
    if (mapping == NULL) {
        ferry_error_set(err, FERRY_CONFIG_ERROR, "mapping", "flow %s has no mapping", f->name);
        return NULL;
    }
    if (mapping[0] == '/') {
        if (access(mapping, R_OK) == 0) {
            return ferry_strdup(mapping);
        }
        ferry_error_set(err, FERRY_CONFIG_ERROR, "mapping", "mapping %s of flow %s cannot be read", mapping, f->name);
        return NULL;
    }
    if (access(mapping, R_OK) == 0) {
        return ferry_strdup(mapping);
    }
    char *shared = ferry_asprintf("%s/mappings/%s", datadir, mapping);
    if (shared != NULL && access(shared, R_OK) == 0) {
        return shared;
    }
    ferry_error_set(err, FERRY_CONFIG_ERROR, "mapping", "mapping %s of flow %s not found (looked in . and %s/mappings)",
                    mapping, f->name, datadir);
    free(shared);
    return NULL;
}
