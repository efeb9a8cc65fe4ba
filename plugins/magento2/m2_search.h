/*
 * m2_search.h - query parameters and Magento searchCriteria, built safely.
 *
 * A query is a list of (name, value) pairs kept DECODED.  They are
 * percent-encoded (RFC 3986, PHP's rawurlencode) only when the URL is
 * built, names and values alike, so no value can add a parameter, end the
 * query or smuggle a bracket into a name.  The OAuth signer (m2_auth.c)
 * signs the same decoded pairs, exactly as Magento's Helper\Request reads
 * them back.
 *
 * searchCriteria helpers write the snake_case bracket names Magento
 * documents: searchCriteria[filter_groups][g][filters][f][field|value|
 * condition_type], searchCriteria[sort_orders][i][field|direction],
 * searchCriteria[pageSize|currentPage].  Filters inside one group are OR-ed,
 * groups are AND-ed.
 */
#ifndef M2_SEARCH_H
#define M2_SEARCH_H

#include <stddef.h>

#include <ferry/plugin.h>

typedef struct m2_params {
    size_t count;
    size_t cap;
    char **names;
    char **values;
    int failed; /* out of memory while adding */
} m2_params;

#define M2_PARAMS_INIT                                                                                                 \
    {                                                                                                                  \
        0, 0, NULL, NULL, 0                                                                                            \
    }

/* Add a pair (both copied).  A name already present is replaced (PHP keeps the last one anyway). */
void m2_params_add(m2_params *p, const char *name, const char *value);

void m2_params_free(m2_params *p);

/*
 * The query string "n1=v1&n2=v2" with names and values percent-encoded by
 * host->url_encode; "" when empty.  New string (free()), NULL when out of memory.
 */
char *m2_params_encode(const ferry_host *host, const m2_params *p);

/*
 * Add one filter to group `group` (its filter index is taken from how many
 * the group has so far).  `condition` may be NULL (Magento's default eq).
 */
void m2_search_filter(m2_params *p, int group, const char *field, const char *value, const char *condition);

/* Add sort order number `index` on `field`, "ASC" or "DESC". */
void m2_search_sort(m2_params *p, int index, const char *field, const char *direction);

/* searchCriteria[pageSize] and searchCriteria[currentPage]. */
void m2_search_page(m2_params *p, int page_size, int current_page);

/* Restrict the answer with ?fields=... (use the items[...] form for lists). */
void m2_search_fields(m2_params *p, const char *fields);

/*
 * Check a value meant for an "in" condition: Magento splits it on commas,
 * so a comma inside one value would split it.  Returns 0 when fine.
 */
int m2_search_in_value_ok(const char *value);

#endif /* M2_SEARCH_H */
