/*
 * ea_errors.h - turning an eAccounting answer into a ferry_error.
 *
 * eAccounting answers errors as
 *   {"ErrorCode": 2000, "DeveloperErrorMessage": "...", "ErrorId": "<guid>",
 *    "Errors": [{"Field": "Rows[0].UnitPrice", "ErrorCode": "...", "Message": "..."}]}
 * This module classifies the answer (reference §5, §6):
 *   FERRY_RECORD_ERROR  validation and business rules of one record (2000,
 *                       3000, 4000, 4001, 4002 CanNotBeCreatedOrUpdated, 4024,
 *                       4025, 4035, 6000, 6001, ...): dead-letter the record;
 *   FERRY_CONFIG_ERROR  the company or the authorization needs a person
 *                       (4002 NoAccessToModule, 4003, 4004, 4006, 4007, 4009,
 *                       4011, 4012, 4019, 4034, 3001, 3002);
 *   FERRY_RETRY         429/4010 (with the wait eAccounting asks for) and 5xx.
 * The message is a sentence for a shop owner, then eAccounting's own text,
 * the field errors, the ErrorCode and the ErrorId to quote to support.  The
 * first Errors[].Field is mapped to the canonical field path where the
 * plugin knows it (InvoicePostalCode -> invoice_address.postcode,
 * Rows[2].UnitPrice -> rows[2].unit_price).  Pure functions: no I/O.
 */
#ifndef EA_ERRORS_H
#define EA_ERRORS_H

#include <ferry/plugin.h>

/* An HTTP answer as the classifier sees it. */
typedef struct ea_answer {
    long status;              /* HTTP status */
    const json_t *json;       /* parsed body, or NULL */
    const char *body;         /* raw body, may be NULL */
    long long retry_after_ms; /* Retry-After header in ms, -1 when absent */
    const char *method;       /* "GET", "POST", ... */
    const char *what;         /* what was being done, e.g. "create customer" */
    const char *entity;       /* "customer", "article", "document" or NULL (field mapping) */
    const char *ref_field;    /* native field holding the external reference (documents) */
} ea_answer;

/*
 * Classify a non-2xx answer into `err` and return its status (never
 * FERRY_OK).  401 is classified as FERRY_CONFIG_ERROR with
 * FERRY_ERROR_NEEDS_REAUTH; callers refresh the token before they get here.
 * POST/PUT answered 5xx other than 503 carry FERRY_ERROR_MAYBE_APPLIED.
 */
int ea_error_from_answer(const ea_answer *a, ferry_error *err);

/*
 * How long to wait after a 429: the Retry-After header when it is positive,
 * else the "Try again in N seconds" of eAccounting's message, else 60 s.
 */
long long ea_error_retry_delay_ms(long long retry_after_ms, const char *message);

/*
 * The canonical path of native field `native` ("Rows[1].Quantity") of
 * `entity` into out: "rows[1].quantity".  Returns 1 when mapped, 0 when not
 * (out then holds the native name unchanged).
 */
int ea_error_canonical_field(const char *entity, const char *ref_field, const char *native, char *out, size_t n);

#endif /* EA_ERRORS_H */
