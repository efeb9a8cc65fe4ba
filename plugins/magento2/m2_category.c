/* m2_category.c - category paths, cached in host state (see m2_category.h). */
#include "config.h"

#include "m2_category.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2_api.h"
#include "m2_util.h"
#include "util.h"

#define STATE_KEY "categories"
#define CACHE_TTL_MS (3600LL * 1000)
#define MAX_DEPTH 16

static void index_node(const json_t *node, const char *prefix, json_t *paths, json_t *names, int depth)
{
    if (depth > MAX_DEPTH) {
        return;
    }
    size_t i;
    json_t *child;
    json_array_foreach (json_object_get(node, "children_data"), i, child) {
        const char *name = m2_str(child, "name");
        const char *id = m2_json_text(child, "id");
        if (name == NULL || id == NULL) {
            continue;
        }
        char idbuf[32];
        ferry_strlcpy(idbuf, id, sizeof(idbuf));
        char *path = prefix[0] ? ferry_asprintf("%s/%s", prefix, name) : ferry_strdup(name);
        if (path == NULL) {
            return;
        }
        if (json_object_get(paths, path) == NULL) { /* two siblings with one name: the first wins */
            json_object_set_new(paths, path, json_integer(strtoll(idbuf, NULL, 10)));
        }
        json_object_set_new(names, idbuf, json_string(path));
        index_node(child, path, paths, names, depth + 1);
        free(path);
    }
}

/* The node with id `root` in the tree, or NULL. */
static const json_t *find_node(const json_t *node, long long root, int depth)
{
    if (m2_json_int(node, "id", -1) == root) {
        return node;
    }
    if (depth > MAX_DEPTH) {
        return NULL;
    }
    size_t i;
    json_t *child;
    json_array_foreach (json_object_get(node, "children_data"), i, child) {
        const json_t *hit = find_node(child, root, depth + 1);
        if (hit != NULL) {
            return hit;
        }
    }
    return NULL;
}

json_t *m2_category_index(const json_t *tree, long long root)
{
    const json_t *start = NULL;
    if (root > 0) {
        start = find_node(tree, root, 0);
    } else {
        start = json_array_get(json_object_get(tree, "children_data"), 0);
    }
    json_t *paths = json_object();
    json_t *names = json_object();
    if (start != NULL) {
        index_node(start, "", paths, names, 0);
    }
    return json_pack("{s:I, s:o, s:o}", "root", (json_int_t)m2_json_int(start, "id", root), "paths", paths, "names",
                     names);
}

static int fetch_tree(ferry_conn *c, json_t **index, ferry_error *err)
{
    m2_params p = M2_PARAMS_INIT;
    m2_params_add(&p, "rootCategoryId", "1");
    json_t *tree = NULL;
    m2_request rq = {.method = "GET", .path = "/categories", .query = &p, .label = "category tree"};
    int rc = m2_api_call(c, &rq, &tree, NULL, err);
    m2_params_free(&p);
    if (rc != FERRY_OK) {
        return rc;
    }
    *index = m2_category_index(tree, c->root_category_id);
    json_object_set_new(*index, "fetched_ms", json_integer(c->host->now_ms(c->hc)));
    json_decref(tree);
    return FERRY_OK;
}

static void keep_cache(ferry_conn *c, json_t *index)
{
    json_decref(c->categories);
    c->categories = index;
    ferry_error e;
    ferry_error_clear(&e);
    if (c->host->state_set(c->hc, STATE_KEY, index, &e) != FERRY_OK) {
        c->host->log(c->hc, FERRY_LOG_WARN, "magento2: cannot keep the category cache: %s", e.message);
    }
}

static int cache_fresh(const ferry_conn *c, const json_t *index)
{
    long long at = m2_json_int(index, "fetched_ms", 0);
    long long now = c->host->now_ms(c->hc);
    return json_is_object(json_object_get(index, "paths")) && now - at < CACHE_TTL_MS && now >= at &&
           (c->root_category_id == 0 || m2_json_int(index, "root", 0) == c->root_category_id);
}

int m2_categories_load(ferry_conn *c, int force, ferry_error *err)
{
    if (!force && c->categories != NULL && cache_fresh(c, c->categories)) {
        return FERRY_OK;
    }
    if (!force) {
        json_t *stored = NULL;
        ferry_error e;
        ferry_error_clear(&e);
        if (c->host->state_get(c->hc, STATE_KEY, &stored, &e) == FERRY_OK && stored != NULL && cache_fresh(c, stored)) {
            json_decref(c->categories);
            c->categories = stored;
            return FERRY_OK;
        }
        json_decref(stored);
    }
    json_t *index = NULL;
    int rc = fetch_tree(c, &index, err);
    if (rc == FERRY_OK) {
        keep_cache(c, index);
    }
    return rc;
}

const char *m2_category_path(ferry_conn *c, const char *id)
{
    return json_string_value(json_object_get(json_object_get(c->categories, "names"), id));
}

/* POST /rest/all/V1/categories {"category": {parent_id, name, is_active}} -> the new id. */
static int create_category(ferry_conn *c, long long parent, const char *name, long long *id, ferry_error *err)
{
    json_t *body = json_pack("{s:{s:I, s:s, s:b, s:b}}", "category", "parent_id", (json_int_t)parent, "name", name,
                             "is_active", 1, "include_in_menu", 1);
    json_t *answer = NULL;
    m2_request rq = {.method = "POST",
                     .path = "/categories",
                     .body = body,
                     .flags = M2_SCOPE_ALL,
                     .label = "create category",
                     .record = name};
    int rc = m2_api_call(c, &rq, &answer, NULL, err);
    json_decref(body);
    if (rc == FERRY_OK) {
        *id = m2_json_int(answer, "id", -1);
        if (*id <= 0) {
            rc = ferry_error_set(err, FERRY_RETRY, "categories", "Magento created category '%s' without an id", name);
        }
    }
    json_decref(answer);
    return rc;
}

static void remember(ferry_conn *c, const char *path, long long id)
{
    json_t *index = json_deep_copy(c->categories);
    char idtext[32];
    snprintf(idtext, sizeof(idtext), "%lld", id);
    json_object_set_new(json_object_get(index, "paths"), path, json_integer(id));
    json_object_set_new(json_object_get(index, "names"), idtext, json_string(path));
    keep_cache(c, index);
}

/* The next "/"-separated name of *p, trimmed, into name; advances *p.  0 when the path is used up. */
static int next_level(const char **p, char *name, size_t n)
{
    while (**p) {
        size_t len = strcspn(*p, "/");
        size_t start = 0, end = len;
        while (start < len && (*p)[start] == ' ') {
            start++;
        }
        while (end > start && (*p)[end - 1] == ' ') {
            end--;
        }
        snprintf(name, n, "%.*s", (int)(end - start), *p + start);
        *p += len + ((*p)[len] == '/');
        if (name[0] != '\0') {
            return 1;
        }
    }
    return 0;
}

/* The id of `path` in the cache, re-reading the tree once per ensure when it is not there; -1 when unknown. */
static long long cached_id(ferry_conn *c, const char *path, int *reloaded, int *rc, ferry_error *err)
{
    json_t *known = json_object_get(json_object_get(c->categories, "paths"), path);
    if (!json_is_integer(known) && !*reloaded) {
        /* someone may have added it in Magento since the cache was filled: look once more before creating */
        *reloaded = 1;
        *rc = m2_categories_load(c, 1, err);
        known = *rc == FERRY_OK ? json_object_get(json_object_get(c->categories, "paths"), path) : NULL;
    }
    return json_is_integer(known) ? json_integer_value(known) : -1;
}

int m2_category_ensure(ferry_conn *c, const char *path, long long *id, ferry_error *err)
{
    int rc = m2_categories_load(c, 0, err);
    long long parent = m2_json_int(c->categories, "root", 0);
    ferry_buf prefix = FERRY_BUF_INIT;
    const char *p = path;
    char name[256];
    int levels = 0, reloaded = 0;
    while (rc == FERRY_OK && next_level(&p, name, sizeof(name))) {
        ferry_buf_printf(&prefix, "%s%s", levels++ ? "/" : "", name);
        long long known = cached_id(c, ferry_buf_str(&prefix), &reloaded, &rc, err);
        if (rc != FERRY_OK) {
            break;
        }
        if (known > 0) {
            parent = known;
            continue;
        }
        long long created = 0;
        rc = create_category(c, parent, name, &created, err);
        if (rc == FERRY_OK) {
            remember(c, ferry_buf_str(&prefix), created);
            parent = created;
        }
    }
    ferry_buf_free(&prefix);
    if (rc == FERRY_OK && levels == 0) {
        rc = ferry_error_set(err, FERRY_RECORD_ERROR, "categories", "an empty category path");
    }
    *id = parent;
    return rc;
}
