/* ea_filter.c - safe OData $filter building (see ea_filter.h). */
#include "config.h"

#include "ea_filter.h"

#include <ctype.h>
#include <string.h>

#include "ea_str.h"
#include "util.h"

typedef struct allowed_field {
    const char *resource;
    const char *field;
    int type;
} allowed_field;

/* The only fields a filter may name. */
static const allowed_field allow_list[] = {
    {"customers", "Id", EA_FIELD_GUID},
    {"customers", "CustomerNumber", EA_FIELD_STRING},
    {"customers", "EmailAddress", EA_FIELD_STRING},
    {"customers", "VatNumber", EA_FIELD_STRING},
    {"customers", "CorporateIdentityNumber", EA_FIELD_STRING},
    {"customers", "Name", EA_FIELD_STRING},
    {"customers", "IsActive", EA_FIELD_BOOL},
    {"customers", "ChangedUtc", EA_FIELD_DATETIME},
    {"articles", "Id", EA_FIELD_GUID},
    {"articles", "Number", EA_FIELD_STRING},
    {"articles", "Name", EA_FIELD_STRING},
    {"articles", "IsActive", EA_FIELD_BOOL},
    {"articles", "ChangedUtc", EA_FIELD_DATETIME},
    {"orders", "Id", EA_FIELD_GUID},
    {"orders", "Number", EA_FIELD_NUMBER},
    {"orders", "CustomerId", EA_FIELD_GUID},
    {"orders", "YourReference", EA_FIELD_STRING},
    {"orders", "OurReference", EA_FIELD_STRING},
    {"orders", "BuyersOrderReference", EA_FIELD_STRING},
    {"orders", "ModifiedUtc", EA_FIELD_DATETIME},
    {"customerinvoicedrafts", "Id", EA_FIELD_GUID},
    {"customerinvoicedrafts", "CustomerId", EA_FIELD_GUID},
    {"customerinvoicedrafts", "YourReference", EA_FIELD_STRING},
    {"customerinvoicedrafts", "OurReference", EA_FIELD_STRING},
    {"customerinvoicedrafts", "BuyersOrderReference", EA_FIELD_STRING},
    {"customerinvoicedrafts", "CreatedUtc", EA_FIELD_DATETIME},
    {"customerinvoices", "Id", EA_FIELD_GUID},
    {"customerinvoices", "InvoiceNumber", EA_FIELD_NUMBER},
    {"customerinvoices", "CustomerId", EA_FIELD_GUID},
    {"customerinvoices", "YourReference", EA_FIELD_STRING},
    {"customerinvoices", "OurReference", EA_FIELD_STRING},
    {"customerinvoices", "BuyersOrderReference", EA_FIELD_STRING},
    {"customerinvoices", "ModifiedUtc", EA_FIELD_DATETIME},
    {NULL, NULL, 0},
};

static const char *const operators[] = {"eq", "ne", "gt", "ge", "lt", "le", NULL};

int ea_filter_field_type(const char *resource, const char *field)
{
    for (const allowed_field *a = allow_list; resource && field && a->resource; a++) {
        if (strcmp(a->resource, resource) == 0 && strcmp(a->field, field) == 0) {
            return a->type;
        }
    }
    return -1;
}

static int operator_allowed(const char *op)
{
    for (int i = 0; op != NULL && operators[i]; i++) {
        if (strcmp(operators[i], op) == 0) {
            return 1;
        }
    }
    return 0;
}

int ea_filter_quote(ferry_buf *out, const char *s)
{
    ferry_buf_puts(out, "'");
    for (const char *p = s; *p; p++) {
        size_t run = strcspn(p, "'");
        ferry_buf_append(out, p, run);
        p += run;
        if (*p == '\0') {
            break;
        }
        ferry_buf_puts(out, "''");
    }
    return ferry_buf_puts(out, "'");
}

static int is_number(const char *s)
{
    if (*s == '-') {
        s++;
    }
    size_t whole = strspn(s, "0123456789");
    if (whole == 0 || whole > 18) {
        return 0;
    }
    s += whole;
    if (*s == '.') {
        size_t frac = strspn(s + 1, "0123456789");
        if (frac == 0 || frac > 8) {
            return 0;
        }
        s += frac + 1;
    }
    return *s == '\0';
}

/* ISO date or date-time, and nothing else (ea_time_parse is the grammar). */
static int is_datetime(const char *s)
{
    long long ms;
    for (const char *p = s; *p; p++) {
        if (!isdigit((unsigned char)*p) && strchr("-:T.Z+", *p) == NULL) {
            return 0;
        }
    }
    return ea_time_parse(s, &ms) == 0;
}

static int value_fits(int type, const char *value)
{
    switch (type) {
    case EA_FIELD_STRING:
        return 1;
    case EA_FIELD_GUID:
        return ea_is_guid(value);
    case EA_FIELD_DATETIME:
        return is_datetime(value);
    case EA_FIELD_NUMBER:
        return is_number(value);
    case EA_FIELD_BOOL:
        return strcmp(value, "true") == 0 || strcmp(value, "false") == 0;
    default:
        return 0;
    }
}

static const char *type_name(int type)
{
    static const char *const names[] = {"text", "id (GUID)", "date or date-time (ISO 8601)", "number", "true or false"};
    return type >= 0 && type <= EA_FIELD_BOOL ? names[type] : "value";
}

int ea_filter_add(ferry_buf *filter, const char *resource, const char *field, const char *op, const char *value,
                  ferry_error *err)
{
    int type = ea_filter_field_type(resource, field);
    if (type < 0 || !operator_allowed(op)) {
        return ferry_error_set(err, FERRY_FATAL, field, "eaccounting: filter on %s.%s with '%s' is not allowed",
                               resource ? resource : "?", field ? field : "?", op ? op : "?");
    }
    if (value == NULL || !value_fits(type, value)) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, field,
                               "eaccounting: cannot look up %s by %s: the value must be a %s", resource, field,
                               type_name(type));
    }
    if (filter->len > 0) {
        ferry_buf_puts(filter, " and ");
    }
    ferry_buf_printf(filter, "%s %s ", field, op);
    if (type == EA_FIELD_STRING) {
        ea_filter_quote(filter, value);
    } else {
        ferry_buf_puts(filter, value);
    }
    if (filter->failed) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "eaccounting: out of memory building a filter");
    }
    return FERRY_OK;
}
