/* m2_address.c - Magento addresses as canonical addresses (see m2_address.h). */
#include "config.h"

#include "m2_address.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "m2_util.h"
#include "util.h"

#define MAX_TOKENS 32

typedef struct token {
    const char *start;
    size_t len;
} token;

static size_t tokenize(const char *line, token *t, size_t max)
{
    size_t n = 0;
    const char *p = line;
    while (*p && n < max) {
        while (*p && isspace((unsigned char)*p)) {
            p++;
        }
        if (!*p) {
            break;
        }
        t[n].start = p;
        while (*p && !isspace((unsigned char)*p)) {
            p++;
        }
        t[n].len = (size_t)(p - t[n].start);
        n++;
    }
    return n;
}

static int starts_with_digit(const token *t)
{
    return t->len > 0 && isdigit((unsigned char)t->start[0]);
}

/* "B", "bis", "a": a short letter suffix that belongs to the number before it. */
static int is_suffix(const token *t)
{
    if (t->len == 0 || t->len > 3) {
        return 0;
    }
    for (size_t i = 0; i < t->len; i++) {
        if (!isalpha((unsigned char)t->start[i])) {
            return 0;
        }
    }
    return 1;
}

/* Copy tokens [from, to) joined by single spaces. */
static void join(const token *t, size_t from, size_t to, char *out, size_t out_len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = from; i < to && out_len > 0; i++) {
        size_t need = t[i].len + (used ? 1 : 0);
        if (used + need + 1 > out_len) {
            break;
        }
        if (used) {
            out[used++] = ' ';
        }
        memcpy(out + used, t[i].start, t[i].len);
        used += t[i].len;
        out[used] = '\0';
    }
}

void m2_street_split(const char *line, char *name, size_t name_len, char *number, size_t number_len)
{
    token t[MAX_TOKENS];
    size_t n = tokenize(line ? line : "", t, MAX_TOKENS);
    name[0] = number[0] = '\0';
    if (n == 0) {
        return;
    }
    if (n >= 3 && is_suffix(&t[n - 1]) && starts_with_digit(&t[n - 2])) {
        join(t, 0, n - 2, name, name_len); /* "Storgatan 12 B" */
        join(t, n - 2, n, number, number_len);
    } else if (n >= 2 && starts_with_digit(&t[n - 1])) {
        join(t, 0, n - 1, name, name_len); /* "Main Street 12a" */
        join(t, n - 1, n, number, number_len);
    } else if (n >= 2 && starts_with_digit(&t[0])) {
        join(t, 1, n, name, name_len); /* "12 Main Street" */
        join(t, 0, 1, number, number_len);
    } else if (n == 1 && starts_with_digit(&t[0])) {
        join(t, 0, 1, number, number_len);
    } else {
        join(t, 0, n, name, name_len); /* "Main Street" */
    }
}

static const char *region_text(const json_t *native)
{
    json_t *region = json_object_get(native, "region");
    if (json_is_object(region)) {
        return m2_str(region, "region");
    }
    return m2_str(native, "region");
}

static void add_name(json_t *out, const json_t *native)
{
    const char *first = m2_str(native, "firstname");
    const char *last = m2_str(native, "lastname");
    const char *company = m2_str(native, "company");
    m2_set_str(out, "first_name", first);
    m2_set_str(out, "last_name", last);
    m2_set_str(out, "company", company);
    if (company != NULL) {
        m2_set_str(out, "name", company);
    } else if (first != NULL || last != NULL) {
        char *full = ferry_asprintf("%s%s%s", first ? first : "", first && last ? " " : "", last ? last : "");
        m2_set_str(out, "name", full);
        free(full);
    }
}

static void add_street(json_t *out, const json_t *native)
{
    json_t *street = json_object_get(native, "street");
    json_t *lines = json_array();
    if (json_is_array(street)) {
        size_t i;
        json_t *v;
        json_array_foreach (street, i, v) {
            if (json_is_string(v) && json_string_length(v) > 0) {
                json_array_append(lines, v);
            }
        }
    } else if (json_is_string(street)) {
        json_array_append(lines, street);
    }
    const char *first = json_string_value(json_array_get(lines, 0));
    char name[256], number[64];
    m2_street_split(first, name, sizeof(name), number, sizeof(number));
    json_object_set_new(out, "street", lines);
    m2_set_str(out, "street_name", name);
    json_object_set_new(out, "house_number", json_string(number));
}

json_t *m2_address_decode(const json_t *native)
{
    json_t *out = json_object();
    if (!json_is_object(native)) {
        return out;
    }
    add_name(out, native);
    add_street(out, native);
    m2_set_str(out, "postcode", m2_str(native, "postcode"));
    m2_set_str(out, "city", m2_str(native, "city"));
    m2_set_str(out, "region", region_text(native));
    m2_set_str(out, "country", m2_str(native, "country_id"));
    m2_set_str(out, "phone", m2_str(native, "telephone"));
    m2_set_str(out, "email", m2_str(native, "email"));
    m2_set_str(out, "vat_id", m2_str(native, "vat_id"));
    return out;
}
