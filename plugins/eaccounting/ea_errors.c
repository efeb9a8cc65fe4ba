/* ea_errors.c - eAccounting error answers -> ferry_error (see ea_errors.h). */
#include "config.h"

#include "ea_errors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ea_str.h"
#include "plugin_util.h"
#include "util.h"

/* ---- the ErrorCode catalogue (reference §5.3) -------------------------------------- */

typedef struct code_info {
    int code;
    const char *name;
    int status;         /* enum ferry_status */
    const char *advice; /* what a shop owner can do, or NULL */
} code_info;

static const code_info codes[] = {
    {2000, "DataModelValidationError", FERRY_RECORD_ERROR, "eAccounting rejected a value of this record."},
    {3000, "ResourceNotFound", FERRY_RECORD_ERROR,
     "Something this record refers to (customer, article, terms of payment...) does not exist in eAccounting."},
    {3001, "FiscalYearDoesNotExist", FERRY_CONFIG_ERROR,
     "No fiscal year in eAccounting covers the document's date. The run stops without dead-lettering the record: "
     "create the fiscal year in eAccounting (Settings > Fiscal years), then run the flow again."},
    {3002, "AccountNotFound", FERRY_CONFIG_ERROR,
     "An account that the article account coding points to does not exist in this fiscal year's chart of "
     "accounts. Add it in eAccounting (Settings > Chart of accounts)."},
    {3003, "InsufficientApprovalPermission", FERRY_CONFIG_ERROR,
     "The eAccounting user who authorized ferry may not approve this. Give the user the right in eAccounting."},
    {4000, "Conflict", FERRY_RECORD_ERROR, "Something with the same unique number already exists in eAccounting."},
    {4001, "CanNotBeDeleted", FERRY_RECORD_ERROR, NULL},
    {4002, "CanNotBeCreatedOrUpdated", FERRY_RECORD_ERROR, "eAccounting does not allow this change."},
    {4003, "StartupGuideNotCompleted", FERRY_CONFIG_ERROR,
     "The startup guide of this eAccounting company is not completed. Log in to eAccounting, finish the "
     "startup guide, then run the flow again."},
    {4004, "CompanyNotActive", FERRY_CONFIG_ERROR,
     "The eAccounting company is not active (the subscription may have ended). Reactivate it in eAccounting, "
     "or authorize ferry for the right company with 'ferry connection authorize'."},
    {4005, "NotAuthorized", FERRY_CONFIG_ERROR,
     "eAccounting no longer accepts ferry's authorization. Run 'ferry connection authorize' to connect again."},
    {4006, "NoAccessToScopes", FERRY_CONFIG_ERROR,
     "ferry's authorization lacks a permission (scope) this needs. Make sure the connection's 'scopes' setting "
     "has ea:api offline_access ea:sales ea:accounting, then run 'ferry connection authorize' again."},
    {4007, "PermissionDenied", FERRY_CONFIG_ERROR,
     "The eAccounting user who authorized ferry lacks the permission for this. Give the user the rights in "
     "eAccounting (Settings > Users) or authorize with another user."},
    {4008, "InvalidControlDigit", FERRY_RECORD_ERROR, NULL},
    {4009, "NoAccessDueToProductVariant", FERRY_CONFIG_ERROR,
     "This company's eAccounting product variant does not include this feature (for example orders are not "
     "part of Solo). Upgrade the variant, or let the flow create invoice drafts instead."},
    {4010, "TooManyRequests", FERRY_RETRY, "eAccounting's request limit was reached; ferry waits and tries again."},
    {4011, "NoAccessForAuthenticatedUser", FERRY_CONFIG_ERROR,
     "The user who authorized ferry has no access to this eAccounting company. Authorize with a user of the "
     "company ('ferry connection authorize')."},
    {4012, "LicenceAgreementNotAccepted", FERRY_CONFIG_ERROR,
     "The eAccounting licence agreement has not been accepted. Log in to eAccounting and accept it."},
    {4013, "CannotBookkeepInvoice", FERRY_RECORD_ERROR,
     "The accounting period of the document's date is locked. Unlock it in eAccounting or change the date."},
    {4014, "AutoInvoiceMissingYourReference", FERRY_RECORD_ERROR, NULL},
    {4015, "AutoInvoiceMissingOurReference", FERRY_RECORD_ERROR, NULL},
    {4017, "AutoInvoiceMissingElectronicAddress", FERRY_RECORD_ERROR, NULL},
    {4019, "NoPermissionForReadonlyUser", FERRY_CONFIG_ERROR,
     "The eAccounting user who authorized ferry is read-only. Authorize with a user who may write."},
    {4023, "FutureDateCannotBeSet", FERRY_RECORD_ERROR, NULL},
    {4024, "SalesAccountNumberMissing", FERRY_RECORD_ERROR,
     "The article's account coding has no sales account for this sale (customer country and VAT situation). "
     "Add the account to the coding in eAccounting (Settings > Article account codings), then retry the "
     "dead letter."},
    {4025, "InvalidVatNumber", FERRY_RECORD_ERROR,
     "The VAT number is not valid (eAccounting checks it with VIES). Correct it in the shop or leave it out."},
    {4026, "VoucherDateIsInLockedPeriod", FERRY_RECORD_ERROR,
     "The document's date is in a locked accounting period. Unlock it in eAccounting or change the date."},
    {4031, "CustomerInvoiceMissingOrderArticles", FERRY_RECORD_ERROR, NULL},
    {4034, "NotAllowedWithSandboxClient", FERRY_CONFIG_ERROR,
     "A sandbox client id cannot be used with a production company. Use the production client id and secret."},
    {4035, "InvalidForceBookkeepVat", FERRY_RECORD_ERROR,
     "ForceBookkeepVat may only be set for customers outside the EU."},
    {4038, "VoucherDateIsInLockedYearException", FERRY_RECORD_ERROR,
     "The document's date is in a locked fiscal year. Change the date or unlock the year in eAccounting."},
    {4039, "NoDomesticAmountAllowedOnDomesticInvoices", FERRY_RECORD_ERROR, NULL},
    {4100, "ExternalServiceValidation", FERRY_RECORD_ERROR, NULL},
    {5000, "InternalServerError", FERRY_RETRY, "eAccounting had an internal error; ferry tries again later."},
    {5001, "CantReachSystemDependendency", FERRY_RETRY,
     "eAccounting is temporarily unavailable; ferry tries again later."},
    {5002, "OperationCanceled", FERRY_RETRY, "eAccounting cancelled the operation; ferry tries again later."},
    {5003, "StockToNonStockNoZeroBalance", FERRY_RECORD_ERROR,
     "A stock article with a stock balance cannot become a non-stock article."},
    {5004, "StockToServiceNoZeroBalance", FERRY_RECORD_ERROR,
     "A stock article with a stock balance cannot become a service article."},
    {5005, "ProjectEnded", FERRY_RECORD_ERROR, NULL},
    {5006, "InactiveCostCenter", FERRY_RECORD_ERROR, NULL},
    {6000, "QueryParameterError", FERRY_RECORD_ERROR, "eAccounting could not use a lookup value of this record."},
    {6001, "InvalidInput", FERRY_RECORD_ERROR, "A date is not in the form eAccounting expects (YYYY-MM-DD)."},
    {0, NULL, 0, NULL},
};

static const code_info no_module = {
    4002, "NoAccessToModule", FERRY_CONFIG_ERROR,
    "The eAccounting subscription of this company does not include the module this needs (for example Orders, "
    "or the API integration itself). Activate it in eAccounting (Apps and extensions / subscription), or let "
    "the flow create invoice drafts instead of orders."};

static const code_info *find_code(int code)
{
    for (const code_info *c = codes; c->name != NULL; c++) {
        if (c->code == code) {
            return c;
        }
    }
    return NULL;
}

/* 4002 names two errors; the module one is a 403 and says "module" (reference §10.14). */
static int is_no_module(long status, const char *message)
{
    if (status == 403) {
        return 1;
    }
    return message != NULL && ea_stristr(message, "module") != NULL;
}

/* ---- field mapping ---------------------------------------------------------------------- */

typedef struct field_map {
    const char *native;
    const char *canonical;
} field_map;

static const field_map customer_fields[] = {
    {"Name", "name"},
    {"EmailAddress", "email"},
    {"CustomerNumber", "customer_number"},
    {"CorporateIdentityNumber", "organisation_number"},
    {"VatNumber", "vat_number"},
    {"Telephone", "phone"},
    {"MobilePhone", "mobile"},
    {"IsPrivatePerson", "is_company"},
    {"IsActive", "active"},
    {"CurrencyCode", "currency"},
    {"TermsOfPaymentId", "terms_of_payment"},
    {"InvoiceAddress1", "invoice_address.street[0]"},
    {"InvoiceAddress2", "invoice_address.street[1]"},
    {"InvoicePostalCode", "invoice_address.postcode"},
    {"InvoiceCity", "invoice_address.city"},
    {"InvoiceCountryCode", "invoice_address.country"},
    {"DeliveryCustomerName", "delivery_address.name"},
    {"DeliveryAddress1", "delivery_address.street[0]"},
    {"DeliveryAddress2", "delivery_address.street[1]"},
    {"DeliveryPostalCode", "delivery_address.postcode"},
    {"DeliveryCity", "delivery_address.city"},
    {"DeliveryCountryCode", "delivery_address.country"},
    {"ContactPersonName", "contact_person"},
    {"ContactPersonEmail", "contact_person.email"},
    {"ContactPersonPhone", "contact_person.phone"},
    {NULL, NULL},
};

static const field_map article_fields[] = {
    {"Number", "number"},      {"Name", "name"},
    {"NetPrice", "net_price"}, {"GrossPrice", "gross_price"},
    {"UnitId", "unit"},        {"CodingId", "vat_rate"},
    {"Barcodes", "ean"},       {"StockBalance", "stock.qty"},
    {"IsActive", "active"},    {NULL, NULL},
};

static const field_map document_fields[] = {
    {"CustomerId", "customer_id"},
    {"YourReference", "your_reference"},
    {"OurReference", "our_reference"},
    {"OrderDate", "date"},
    {"InvoiceDate", "date"},
    {"DeliveryDate", "delivery_date"},
    {"CurrencyCode", "currency"},
    {"CurrencyRate", "currency_rate"},
    {"TermsOfPaymentId", "terms_of_payment"},
    {"DeliveryMethodCode", "delivery_method"},
    {"DeliveryMethodName", "delivery_method"},
    {"DeliveryTermCode", "delivery_term"},
    {"DeliveryTermName", "delivery_term"},
    {"DeliveryCustomerName", "delivery_address.name"},
    {"DeliveryAddress1", "delivery_address.street[0]"},
    {"DeliveryAddress2", "delivery_address.street[1]"},
    {"DeliveryPostalCode", "delivery_address.postcode"},
    {"DeliveryCity", "delivery_address.city"},
    {"DeliveryCountryCode", "delivery_address.country"},
    {"Rows", "rows"},
    {NULL, NULL},
};

static const field_map row_fields[] = {
    {"ArticleId", "article_id"},
    {"ArticleNumber", "article_number"},
    {"Quantity", "quantity"},
    {"UnitPrice", "unit_price"},
    {"DiscountPercentage", "discount_percentage"},
    {"Text", "text"},
    {"IsTextRow", "is_text_row"},
    {NULL, NULL},
};

static const char *lookup(const field_map *map, const char *native, size_t len)
{
    for (; map != NULL && map->native != NULL; map++) {
        if (strlen(map->native) == len && strncasecmp(map->native, native, len) == 0) {
            return map->canonical;
        }
    }
    return NULL;
}

/* "Rows[3].UnitPrice" -> "rows[3].unit_price" */
static int map_row_field(const char *native, char *out, size_t n)
{
    if (strncasecmp(native, "Rows[", 5) != 0) {
        return 0;
    }
    char *end = NULL;
    long index = strtol(native + 5, &end, 10);
    if (end == NULL || end == native + 5 || *end != ']') {
        return 0;
    }
    if (end[1] == '\0') {
        snprintf(out, n, "rows[%ld]", index);
        return 1;
    }
    if (end[1] != '.') {
        return 0;
    }
    const char *member = lookup(row_fields, end + 2, strlen(end + 2));
    if (member == NULL) {
        return 0;
    }
    snprintf(out, n, "rows[%ld].%s", index, member);
    return 1;
}

int ea_error_canonical_field(const char *entity, const char *ref_field, const char *native, char *out, size_t n)
{
    ferry_strlcpy(out, native, n);
    if (native == NULL || entity == NULL) {
        return 0;
    }
    const char *mapped = NULL;
    if (strcmp(entity, "customer") == 0) {
        mapped = lookup(customer_fields, native, strlen(native));
    } else if (strcmp(entity, "article") == 0) {
        mapped = lookup(article_fields, native, strlen(native));
    } else if (strcmp(entity, "document") == 0) {
        if (map_row_field(native, out, n)) {
            return 1;
        }
        if (ref_field != NULL && strcasecmp(native, ref_field) == 0) {
            mapped = "external_reference";
        } else {
            mapped = lookup(document_fields, native, strlen(native));
        }
    }
    if (mapped == NULL) {
        return 0;
    }
    ferry_strlcpy(out, mapped, n);
    return 1;
}

/* ---- retry delay ------------------------------------------------------------------------- */

long long ea_error_retry_delay_ms(long long retry_after_ms, const char *message)
{
    if (retry_after_ms > 0) {
        return retry_after_ms;
    }
    const char *p = message != NULL ? ea_stristr(message, "try again in ") : NULL;
    if (p != NULL) {
        p += strlen("try again in ");
        char *end = NULL;
        long seconds = strtol(p, &end, 10);
        if (end != p && seconds >= 0 && seconds < 24 * 3600) {
            while (*end == ' ') {
                end++;
            }
            if (strncasecmp(end, "second", 6) == 0) {
                return (seconds > 0 ? seconds : 1) * 1000LL;
            }
            if (strncasecmp(end, "minute", 6) == 0) {
                return seconds * 60000LL;
            }
        }
    }
    return 60000;
}

/* ---- the message ---------------------------------------------------------------------------- */

static int json_code(const json_t *body)
{
    json_t *c = json_is_object(body) ? json_object_get(body, "ErrorCode") : NULL;
    if (json_is_integer(c)) {
        return (int)json_integer_value(c);
    }
    if (json_is_string(c)) {
        return atoi(json_string_value(c));
    }
    return 0;
}

/* The first non-empty Errors[].Field. */
static const char *first_field(const json_t *body)
{
    json_t *errors = json_is_object(body) ? json_object_get(body, "Errors") : NULL;
    size_t i;
    json_t *e;
    json_array_foreach (errors, i, e) {
        const char *f = plugin_json_str(e, "Field");
        if (f != NULL && f[0] != '\0') {
            return f;
        }
    }
    return NULL;
}

static void append_field_errors(ferry_buf *m, const ea_answer *a)
{
    json_t *errors = json_is_object(a->json) ? json_object_get(a->json, "Errors") : NULL;
    size_t i;
    json_t *e;
    int shown = 0;
    json_array_foreach (errors, i, e) {
        const char *field = plugin_json_str(e, "Field");
        const char *msg = plugin_json_str(e, "Message");
        if (shown == 5) {
            ferry_buf_printf(m, " (and %zu more)", json_array_size(errors) - 5);
            break;
        }
        char canon[128];
        int mapped = ea_error_canonical_field(a->entity, a->ref_field, field, canon, sizeof(canon));
        ferry_buf_printf(m, "%s%s", shown ? "; " : " Fields: ", field && field[0] ? field : "(record)");
        if (mapped) {
            ferry_buf_printf(m, " (%s)", canon);
        }
        ferry_buf_printf(m, ": %s", msg ? msg : "invalid");
        shown++;
    }
    if (shown && m->len > 0 && m->data[m->len - 1] != '.') {
        ferry_buf_puts(m, ".");
    }
}

/* The raw body for the message when it is not eAccounting's JSON: one line, at most 200 bytes. */
static void append_raw_body(ferry_buf *m, const char *body)
{
    if (body == NULL || body[0] == '\0') {
        return;
    }
    ferry_buf_puts(m, " The answer was: ");
    size_t n = 0;
    for (const char *p = body; *p && n < 200; p++, n++) {
        char c = (*p == '\n' || *p == '\r' || *p == '\t') ? ' ' : *p;
        ferry_buf_append(m, &c, 1);
    }
    if (strlen(body) > 200) {
        ferry_buf_puts(m, "...");
    }
}

static const char *status_sentence(int status)
{
    switch (status) {
    case FERRY_RETRY:
        return "eAccounting cannot take it right now.";
    case FERRY_CONFIG_ERROR:
        return "the eAccounting connection or company needs attention.";
    default:
        return "eAccounting refused it.";
    }
}

/* The class for an answer without an ErrorCode, from the HTTP status alone. */
static int status_class(long http)
{
    if (http == 401 || http == 403) {
        return FERRY_CONFIG_ERROR;
    }
    if (http == 408 || http == 429 || http >= 500 || http < 200) {
        return FERRY_RETRY;
    }
    return FERRY_RECORD_ERROR;
}

static int is_write(const char *method)
{
    return method != NULL && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0);
}

/* The ferry status of an answer. */
static int answer_status(const ea_answer *a, int code, const code_info *info)
{
    if (a->status == 429 || code == 4010) {
        return FERRY_RETRY;
    }
    if (a->status == 401 || (info == NULL && a->status == 403)) {
        return FERRY_CONFIG_ERROR;
    }
    return info != NULL ? info->status : status_class(a->status);
}

/* The message: a sentence, the advice, eAccounting's text, the fields, status / code / ErrorId. */
static void build_message(ferry_buf *m, const ea_answer *a, int status, int code, const code_info *info)
{
    const char *dev = plugin_json_str(a->json, "DeveloperErrorMessage");
    const char *error_id = plugin_json_str(a->json, "ErrorId");
    ferry_buf_printf(m, "eaccounting: %s: %s", a->what ? a->what : "request", status_sentence(status));
    if (info != NULL && info->advice != NULL) {
        ferry_buf_printf(m, " %s", info->advice);
    } else if (a->status == 401) {
        ferry_buf_puts(m, " eAccounting does not accept ferry's access token; run 'ferry connection authorize'.");
    }
    if (dev != NULL && dev[0] != '\0') {
        ferry_buf_printf(m, " eAccounting says: \"%s\"", dev);
    } else if (a->json == NULL) {
        append_raw_body(m, a->body);
    }
    append_field_errors(m, a);
    ferry_buf_printf(m, " (HTTP %ld", a->status);
    if (code != 0) {
        ferry_buf_printf(m, ", ErrorCode %d%s%s", code, info ? " " : "", info ? info->name : "");
    }
    if (error_id != NULL) {
        ferry_buf_printf(m, ", ErrorId %s - quote it to eAccounting support", error_id);
    }
    ferry_buf_puts(m, ")");
}

/* code, http_status, retry_after_ms and flags of the error. */
static void fill_details(ferry_error *err, const ea_answer *a, int status, int code)
{
    err->http_status = (int)a->status;
    if (code != 0) {
        snprintf(err->code, sizeof(err->code), "%d", code);
    } else {
        snprintf(err->code, sizeof(err->code), "HTTP %ld", a->status);
    }
    if (status == FERRY_RETRY) {
        int rate_limited = a->status == 429 || code == 4010;
        const char *dev = plugin_json_str(a->json, "DeveloperErrorMessage");
        err->retry_after_ms = rate_limited            ? ea_error_retry_delay_ms(a->retry_after_ms, dev)
                              : a->retry_after_ms > 0 ? a->retry_after_ms
                                                      : 0;
    }
    if (a->status == 401) {
        err->flags |= FERRY_ERROR_NEEDS_REAUTH;
    }
    if (is_write(a->method) && a->status >= 500 && a->status != 503) {
        err->flags |= FERRY_ERROR_MAYBE_APPLIED;
    }
}

int ea_error_from_answer(const ea_answer *a, ferry_error *err)
{
    int code = json_code(a->json);
    const code_info *info = find_code(code);
    if (code == 4002 && is_no_module(a->status, plugin_json_str(a->json, "DeveloperErrorMessage"))) {
        info = &no_module;
    }
    int status = answer_status(a, code, info);
    ferry_buf m = FERRY_BUF_INIT;
    build_message(&m, a, status, code, info);
    char canon[256] = "";
    const char *field = first_field(a->json);
    if (field != NULL) {
        ea_error_canonical_field(a->entity, a->ref_field, field, canon, sizeof(canon));
    }
    ferry_error_set(err, status, field ? canon : NULL, "%s", ferry_buf_str(&m));
    ferry_buf_free(&m);
    if (err != NULL) {
        fill_details(err, a, status, code);
        if (info == &no_module) {
            err->flags |= FERRY_ERROR_UNAVAILABLE; /* no order module: the company has no orders to find */
        }
    }
    return status;
}
