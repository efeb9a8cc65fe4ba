/*
 * m2_category.h - category ids <-> category paths ("Clothing/Shirts").
 *
 * A path is the chain of category names below the store's root category
 * ("Default Category", or the setting root_category_id), joined by "/".  The
 * tree comes from GET /V1/categories?rootCategoryId=1 and is cached in the
 * connection's host state (key "categories") for an hour, so a run reads it
 * once; creating a category updates the cache.
 */
#ifndef M2_CATEGORY_H
#define M2_CATEGORY_H

#include <ferry/plugin.h>

#include "m2_conn.h"

/* Load the cache (state, else the API); `force` re-reads the tree. */
int m2_categories_load(ferry_conn *c, int force, ferry_error *err);

/* The path of category `id` (borrowed from the cache) or NULL (outside the store root, or unknown). */
const char *m2_category_path(ferry_conn *c, const char *id);

/*
 * The id of `path`, creating every missing level under its parent
 * (POST /rest/all/V1/categories).  FERRY_RECORD_ERROR for an empty path.
 */
int m2_category_ensure(ferry_conn *c, const char *path, long long *id, ferry_error *err);

/*
 * Build the cache object from a tree answer (pure, for tests):
 * {"root": id, "paths": {path: id}, "names": {"id": path}}.  `root` 0 =
 * the first child of the tree's top node.  New reference.
 */
json_t *m2_category_index(const json_t *tree, long long root);

#endif /* M2_CATEGORY_H */
