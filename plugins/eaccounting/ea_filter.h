/*
 * ea_filter.h - building OData $filter expressions that a value cannot bend.
 *
 * Every lookup the plugin makes ("CustomerNumber eq '1001'") goes through
 * here.  Field names come from a fixed allow-list per resource (never from
 * the record), each with a type; values are written by that type:
 *   string    in single quotes, a quote inside doubled ('' is OData's escape);
 *   guid      only 8-4-4-4-12 hex, written bare;
 *   datetime  only ISO-8601 (date, or date-time with optional fraction and
 *             offset), written bare;
 *   number    only -?digits[.digits], written bare;
 *   bool      only true/false.
 * Anything else is refused with FERRY_RECORD_ERROR naming the field, so a
 * value like  x' or Name ne '  stays one string literal and can never turn
 * into an operator.  The finished expression is percent-encoded by the
 * caller (ferry_url_encode) before it goes into the URL.
 */
#ifndef EA_FILTER_H
#define EA_FILTER_H

#include <ferry/plugin.h>

#include "util.h"

enum ea_field_type {
    EA_FIELD_STRING = 0,
    EA_FIELD_GUID = 1,
    EA_FIELD_DATETIME = 2,
    EA_FIELD_NUMBER = 3,
    EA_FIELD_BOOL = 4
};

/*
 * The type of `field` on list endpoint `resource` ("customers", "articles",
 * "orders", "customerinvoicedrafts", "customerinvoices"), or -1 when the
 * field is not on the allow-list.
 */
int ea_filter_field_type(const char *resource, const char *field);

/*
 * Append "<field> <op> <value>" to `filter`, joined to what is there with
 * " and ".  `op` is one of eq ne gt ge lt le.  FERRY_OK, FERRY_RECORD_ERROR
 * (value of the wrong shape for the field's type; err->field = field),
 * FERRY_FATAL (field or operator not allowed - a programming error, or out
 * of memory).
 */
int ea_filter_add(ferry_buf *filter, const char *resource, const char *field, const char *op, const char *value,
                  ferry_error *err);

/* Append `s` as an OData string literal ('...' with quotes doubled); 0 or -1 (memory). */
int ea_filter_quote(ferry_buf *out, const char *s);

#endif /* EA_FILTER_H */
