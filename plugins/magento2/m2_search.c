/* m2_search.c - decoded query pairs and searchCriteria (see m2_search.h). */
#include "config.h"

#include "m2_search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2_util.h"
#include "util.h"

void m2_params_add(m2_params *p, const char *name, const char *value)
{
    if (p->failed) {
        return;
    }
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->names[i], name) == 0) {
            char *v = ferry_strdup(value ? value : "");
            if (v == NULL) {
                p->failed = 1;
                return;
            }
            free(p->values[i]);
            p->values[i] = v;
            return;
        }
    }
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        char **n = realloc(p->names, cap * sizeof(*n));
        if (n == NULL) {
            p->failed = 1;
            return;
        }
        p->names = n;
        char **v = realloc(p->values, cap * sizeof(*v));
        if (v == NULL) {
            p->failed = 1;
            return;
        }
        p->values = v;
        p->cap = cap;
    }
    p->names[p->count] = ferry_strdup(name);
    p->values[p->count] = ferry_strdup(value ? value : "");
    if (p->names[p->count] == NULL || p->values[p->count] == NULL) {
        free(p->names[p->count]);
        free(p->values[p->count]);
        p->failed = 1;
        return;
    }
    p->count++;
}

void m2_params_free(m2_params *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    free(p->names);
    free(p->values);
    memset(p, 0, sizeof(*p));
}

static int add_encoded(const ferry_host *host, ferry_buf *b, const char *text)
{
    char *enc = host->url_encode(text);
    if (enc == NULL) {
        return -1;
    }
    int rc = ferry_buf_puts(b, enc);
    host->free(enc);
    return rc;
}

char *m2_params_encode(const ferry_host *host, const m2_params *p)
{
    if (p == NULL || p->failed) {
        return p == NULL ? ferry_strdup("") : NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "");
    for (size_t i = 0; i < p->count; i++) {
        if (i > 0) {
            ferry_buf_puts(&b, "&");
        }
        if (add_encoded(host, &b, p->names[i]) != 0 || ferry_buf_puts(&b, "=") != 0 ||
            add_encoded(host, &b, p->values[i]) != 0) {
            ferry_buf_free(&b);
            return NULL;
        }
    }
    return ferry_buf_finish(&b);
}

/* How many filters group `group` has so far. */
static int filters_in_group(const m2_params *p, int group)
{
    char prefix[96];
    snprintf(prefix, sizeof(prefix), "searchCriteria[filter_groups][%d][filters][", group);
    size_t plen = strlen(prefix);
    int count = 0;
    for (size_t i = 0; i < p->count; i++) {
        const char *n = p->names[i];
        if (strncmp(n, prefix, plen) == 0 && strstr(n + plen, "][field]") != NULL) {
            count++;
        }
    }
    return count;
}

void m2_search_filter(m2_params *p, int group, const char *field, const char *value, const char *condition)
{
    int f = filters_in_group(p, group);
    char name[128];
    snprintf(name, sizeof(name), "searchCriteria[filter_groups][%d][filters][%d][field]", group, f);
    m2_params_add(p, name, field);
    snprintf(name, sizeof(name), "searchCriteria[filter_groups][%d][filters][%d][value]", group, f);
    m2_params_add(p, name, value);
    if (condition != NULL) {
        snprintf(name, sizeof(name), "searchCriteria[filter_groups][%d][filters][%d][condition_type]", group, f);
        m2_params_add(p, name, condition);
    }
}

void m2_search_sort(m2_params *p, int index, const char *field, const char *direction)
{
    char name[96];
    snprintf(name, sizeof(name), "searchCriteria[sort_orders][%d][field]", index);
    m2_params_add(p, name, field);
    snprintf(name, sizeof(name), "searchCriteria[sort_orders][%d][direction]", index);
    m2_params_add(p, name, direction);
}

void m2_search_page(m2_params *p, int page_size, int current_page)
{
    char v[32];
    snprintf(v, sizeof(v), "%d", page_size);
    m2_params_add(p, "searchCriteria[pageSize]", v);
    snprintf(v, sizeof(v), "%d", current_page);
    m2_params_add(p, "searchCriteria[currentPage]", v);
}

void m2_search_fields(m2_params *p, const char *fields)
{
    m2_params_add(p, "fields", fields);
}

int m2_search_in_value_ok(const char *value)
{
    return value != NULL && value[0] != '\0' && strchr(value, ',') == NULL ? 0 : -1;
}
