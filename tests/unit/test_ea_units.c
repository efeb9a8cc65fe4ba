/*
 * Unit tests of the eAccounting plugin's pure parts, compiled in from
 * plugins/eaccounting (collectd style): $filter building (injection
 * attempts), error classification, authorization-code parsing, cursors, and
 * canonical -> native mapping against a mock host table with cached
 * reference data (no network: the mock's http fails the test when called).
 * The plugin's decimals are ferry_money, tested in test_money.c.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/plugin.h>

#include "ea_api.h"
#include "ea_auth.h"
#include "ea_authcode.h"
#include "ea_conn.h"
#include "ea_docmap.h"
#include "ea_errors.h"
#include "ea_filter.h"
#include "ea_map.h"
#include "ea_read.h"
#include "ea_records.h"
#include "plugin_util.h"
#include "testing.h"
#include "util.h"

/* ---- a mock host ----------------------------------------------------------------------------- */

static json_t *mock_settings;
static json_t *mock_state;
static int mock_http_calls;
static long long mock_now = 1772323200000LL; /* 2026-03-01T00:00:00Z */

static void mock_log(ferry_host_conn *hc, int level, const char *fmt, ...)
{
    (void)hc;
    (void)level;
    (void)fmt;
}

static const char *mock_setting(ferry_host_conn *hc, const char *name)
{
    (void)hc;
    const char *v = plugin_json_str(mock_settings, name);
    if (v != NULL) {
        return v;
    }
    for (const ferry_setting_spec *s = ea_settings; s->name; s++) {
        if (strcmp(s->name, name) == 0) {
            return s->default_value;
        }
    }
    return NULL;
}

static void mock_secret(ferry_host_conn *hc, const char *v)
{
    (void)hc;
    (void)v;
}

static int mock_state_get(ferry_host_conn *hc, const char *key, json_t **value, ferry_error *err)
{
    (void)hc;
    (void)err;
    json_t *v = json_object_get(mock_state, key);
    *value = v ? json_incref(v) : NULL;
    return FERRY_OK;
}

static int mock_state_set(ferry_host_conn *hc, const char *key, const json_t *value, ferry_error *err)
{
    (void)hc;
    (void)err;
    json_object_set(mock_state, key, (json_t *)value);
    return FERRY_OK;
}

static int mock_http(ferry_host_conn *hc, const ferry_http_request *req, ferry_http_response **resp, ferry_error *err)
{
    (void)hc;
    (void)resp;
    mock_http_calls++;
    return ferry_error_set(err, FERRY_RETRY, NULL, "mock: no network (%s %s)", req->method, req->url);
}

static long long mock_now_ms(ferry_host_conn *hc)
{
    (void)hc;
    return mock_now;
}

static const ferry_host mock_host = {
    .abi_major = FERRY_PLUGIN_ABI_MAJOR,
    .abi_minor = FERRY_PLUGIN_ABI_MINOR,
    .struct_size = (uint32_t)sizeof(ferry_host),
    .log = mock_log,
    .setting = mock_setting,
    .secret = mock_secret,
    .state_get = mock_state_get,
    .state_set = mock_state_set,
    .http = mock_http,
    .now_ms = mock_now_ms,
};

/* Reference data as the emulator serves it (a few of each). */
static json_t *sample_refdata(void)
{
    json_t *r = json_loads(
        "{\"version\":1,\"fetched_at_ms\":1772323200000,\"notes\":{},"
        "\"companysettings\":{\"Name\":\"Ferry Demo AB\",\"CurrencyCode\":\"SEK\",\"CountryCode\":\"SE\","
        "  \"TermsOfPaymentId\":\"11111111-1111-4111-8111-111111111130\",\"ShowPricesExclVatPC\":false,"
        "  \"UsesMoss\":true,\"ActivatedModules\":[]},"
        "\"termsofpayments\":["
        "  {\"Id\":\"11111111-1111-4111-8111-111111111110\",\"Name\":\"10 dagar netto\",\"NameEnglish\":\"10 days "
        "net\","
        "   \"NumberOfDays\":10,\"TermsOfPaymentTypeId\":0,\"AvailableForSales\":true},"
        "  {\"Id\":\"11111111-1111-4111-8111-111111111130\",\"Name\":\"30 dagar netto\",\"NameEnglish\":\"30 days "
        "net\","
        "   \"NumberOfDays\":30,\"TermsOfPaymentTypeId\":0,\"AvailableForSales\":true},"
        "  {\"Id\":\"11111111-1111-4111-8111-111111111100\",\"Name\":\"Kortbetalning\",\"NameEnglish\":\"Card "
        "payment\","
        "   \"NumberOfDays\":0,\"TermsOfPaymentTypeId\":3,\"AvailableForSales\":true}],"
        "\"units\":[{\"Id\":\"22222222-2222-4222-8222-222222222201\",\"Name\":\"Styck\",\"Code\":\"ST\","
        "\"Abbreviation\":\"st\"},"
        "  "
        "{\"Id\":\"22222222-2222-4222-8222-222222222202\",\"Name\":\"Kilogram\",\"Code\":\"KG\",\"Abbreviation\":"
        "\"kg\"}],"
        "\"articleaccountcodings\":["
        "  {\"Id\":\"33333333-3333-4333-8333-333333333325\",\"Name\":\"Varor 25% "
        "moms\",\"Type\":\"Goods\",\"VatRate\":\"25%\","
        "   \"VatRatePercent\":0.25,\"IsActive\":true},"
        "  {\"Id\":\"33333333-3333-4333-8333-333333333312\",\"Name\":\"Varor 12% "
        "moms\",\"Type\":\"Goods\",\"VatRate\":\"12%\","
        "   \"VatRatePercent\":0.12,\"IsActive\":true},"
        "  {\"Id\":\"33333333-3333-4333-8333-333333333399\",\"Name\":\"Tjänster 25% "
        "moms\",\"Type\":\"Service\",\"VatRate\":\"25%\","
        "   \"VatRatePercent\":25,\"IsActive\":true}],"
        "\"deliverymethods\":[{\"Id\":\"44444444-4444-4444-8444-444444444401\",\"Name\":\"PostNord\",\"Code\":\"PN\"}],"
        "\"deliveryterms\":[{\"Id\":\"44444444-4444-4444-8444-444444444402\",\"Name\":\"Fritt vårt "
        "lager\",\"Code\":\"EXW\"}],"
        "\"countries\":[{\"Code\":\"SE\",\"Name\":\"Sverige\",\"IsEuMember\":true}],"
        "\"currencies\":[{\"Code\":\"SEK\"},{\"Code\":\"EUR\"}],"
        "\"fiscalyears\":[],\"vatcodes\":[],\"accounts\":[]}",
        0, NULL);
    return r;
}

static ferry_conn *mock_conn(void)
{
    json_decref(mock_settings);
    json_decref(mock_state);
    mock_settings = json_pack("{s:s, s:s}", "client_id", "id", "client_secret", "secret");
    mock_state = json_object();
    json_object_set_new(mock_state, "refdata", sample_refdata());
    ferry_conn *c = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ea_conn_create(&mock_host, NULL, &c, &err) != FERRY_OK) {
        printf("# mock conn: %s\n", err.message);
        return NULL;
    }
    c->refdata = json_incref(json_object_get(mock_state, "refdata"));
    c->refdata_refreshed = 1; /* no re-read on a miss: there is no network here */
    return c;
}

/* ---- filters ----------------------------------------------------------------------------------- */

static char *filter_of(const char *resource, const char *field, const char *value, int *rc)
{
    ferry_buf b = FERRY_BUF_INIT;
    ferry_error err;
    ferry_error_clear(&err);
    *rc = ea_filter_add(&b, resource, field, "eq", value, &err);
    return ferry_buf_finish(&b);
}

TEST(filter_quotes_strings_and_doubles_quotes)
{
    int rc;
    char *f = filter_of("customers", "EmailAddress", "a'b@x.se", &rc);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK_STR_EQ(f, "EmailAddress eq 'a''b@x.se'");
    free(f);
    f = filter_of("customers", "CustomerNumber", "x' or Name ne '", &rc);
    CHECK_STR_EQ(f, "CustomerNumber eq 'x'' or Name ne '''");
    free(f);
    f = filter_of("customers", "Name", "x' or 1 eq 1 or Name eq 'y", &rc);
    CHECK_STR_EQ(f, "Name eq 'x'' or 1 eq 1 or Name eq ''y'");
    free(f);
    f = filter_of("articles", "Number", "''", &rc);
    CHECK_STR_EQ(f, "Number eq ''''''");
    free(f);
}

/* The quoted literal, read back the way an OData parser does, is exactly the value. */
TEST(filter_literal_round_trips)
{
    const char *values[] = {"plain", "a'b", "'", "''", "x' or Name ne '", "') or (1 eq 1", "ÅÄÖ 'é'", NULL};
    for (int i = 0; values[i]; i++) {
        ferry_buf b = FERRY_BUF_INIT;
        ea_filter_quote(&b, values[i]);
        const char *s = ferry_buf_str(&b);
        CHECK(s[0] == '\'' && s[b.len - 1] == '\'');
        ferry_buf back = FERRY_BUF_INIT;
        int closed_early = 0;
        for (size_t k = 1; k + 1 < b.len; k++) {
            if (s[k] == '\'') {
                if (s[k + 1] != '\'') {
                    closed_early = 1;
                    break;
                }
                k++;
            }
            ferry_buf_append(&back, s + k, 1);
        }
        CHECK(!closed_early);
        CHECK_STR_EQ(ferry_buf_str(&back), values[i]);
        ferry_buf_free(&b);
        ferry_buf_free(&back);
    }
}

TEST(filter_refuses_values_of_the_wrong_type)
{
    int rc;
    char *f = filter_of("customers", "ChangedUtc", "2026-03-01T10:11:12.123Z", &rc);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK_STR_EQ(f, "ChangedUtc eq 2026-03-01T10:11:12.123Z");
    free(f);
    f = filter_of("customers", "ChangedUtc", "2026-03-01 or 1 eq 1", &rc);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    free(f);
    f = filter_of("customers", "Id", "00000000-0000-0000-0000-000000000000) or (true", &rc);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    free(f);
    f = filter_of("orders", "Number", "12 or Number gt 0", &rc);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    free(f);
    f = filter_of("orders", "Number", "12", &rc);
    CHECK_STR_EQ(f, "Number eq 12");
    free(f);
    /* field names come from the allow-list only */
    f = filter_of("customers", "Name eq 'x' or Name", "y", &rc);
    CHECK_INT_EQ(rc, FERRY_FATAL);
    free(f);
    ferry_buf b = FERRY_BUF_INIT;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ea_filter_add(&b, "customers", "Name", "eq 'a' or Name", "x", &err), FERRY_FATAL);
    CHECK_INT_EQ(ea_filter_add(&b, "customers", "CustomerNumber", "eq", "1", &err), FERRY_OK);
    CHECK_INT_EQ(ea_filter_add(&b, "customers", "IsActive", "eq", "true", &err), FERRY_OK);
    CHECK_STR_EQ(ferry_buf_str(&b), "CustomerNumber eq '1' and IsActive eq true");
    ferry_buf_free(&b);
}

TEST(url_encoding_leaves_nothing_raw)
{
    char *e = ferry_url_encode("EmailAddress eq 'a''b@x.se'&$top=1#");
    CHECK_STR_EQ(e, "EmailAddress%20eq%20%27a%27%27b%40x.se%27%26%24top%3D1%23");
    free(e);
}

/* ---- errors ---------------------------------------------------------------------------------------- */

static int classify(long status, const char *body, const char *method, const char *entity, ferry_error *err)
{
    json_t *j = json_loads(body, 0, NULL);
    ea_answer a = {status, j, body, -1, method, "create customer", entity, "BuyersOrderReference"};
    ferry_error_clear(err);
    int rc = ea_error_from_answer(&a, err);
    json_decref(j);
    return rc;
}

TEST(validation_errors_name_the_canonical_field)
{
    ferry_error err;
    int rc =
        classify(400,
                 "{\"ErrorCode\":2000,\"DeveloperErrorMessage\":\"Validation failed.\",\"ErrorId\":\"e-1\","
                 "\"Errors\":[{\"Field\":\"InvoicePostalCode\",\"ErrorCode\":\"MaxLength\",\"Message\":\"too long\"}]}",
                 "POST", "customer", &err);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "invoice_address.postcode");
    CHECK_STR_EQ(err.code, "2000");
    CHECK_STR_CONTAINS(err.message, "ErrorId e-1");
    CHECK_STR_CONTAINS(err.message, "InvoicePostalCode (invoice_address.postcode): too long");
    rc = classify(400,
                  "{\"ErrorCode\":2000,\"DeveloperErrorMessage\":\"x\",\"ErrorId\":\"e\",\"Errors\":[{\"Field\":"
                  "\"Rows[2].UnitPrice\",\"Message\":\"decimals\"}]}",
                  "POST", "document", &err);
    CHECK_STR_EQ(err.field, "rows[2].unit_price");
    rc = classify(400, "{\"ErrorCode\":2000,\"Errors\":[{\"Field\":\"BuyersOrderReference\",\"Message\":\"long\"}]}",
                  "POST", "document", &err);
    CHECK_STR_EQ(err.field, "external_reference");
    rc = classify(400,
                  "{\"ErrorCode\":4025,\"DeveloperErrorMessage\":\"Invalid VAT number.\",\"ErrorId\":\"e\","
                  "\"Errors\":[{\"Field\":\"VatNumber\",\"Message\":\"bad\"}]}",
                  "POST", "customer", &err);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "vat_number");
    CHECK_STR_CONTAINS(err.message, "VIES");
}

TEST(error_4002_means_two_things)
{
    ferry_error err;
    int rc = classify(
        403, "{\"ErrorCode\":4002,\"DeveloperErrorMessage\":\"No access to module: Order.\",\"ErrorId\":\"e\"}", "POST",
        "document", &err);
    CHECK_INT_EQ(rc, FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "NoAccessToModule");
    rc = classify(400, "{\"ErrorCode\":4002,\"DeveloperErrorMessage\":\"The article is inactive.\",\"ErrorId\":\"e\"}",
                  "POST", "document", &err);
    CHECK_INT_EQ(rc, FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "CanNotBeCreatedOrUpdated");
}

TEST(config_errors_say_what_to_do)
{
    ferry_error err;
    CHECK_INT_EQ(
        classify(403, "{\"ErrorCode\":4003,\"DeveloperErrorMessage\":\"x\",\"ErrorId\":\"e\"}", "GET", NULL, &err),
        FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "startup guide");
    CHECK_INT_EQ(classify(403, "{\"ErrorCode\":4004,\"ErrorId\":\"e\"}", "GET", NULL, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "not active");
    CHECK_INT_EQ(classify(400, "{\"ErrorCode\":3001,\"ErrorId\":\"e\"}", "POST", "document", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "fiscal year");
    /* a configuration error stops the run and dead-letters nothing: there is nothing to retry */
    CHECK_STR_CONTAINS(err.message, "run the flow again");
    CHECK_STR_NOT_CONTAINS(err.message, "retry the dead letters");
    CHECK_INT_EQ(classify(403, "{\"ErrorCode\":4006,\"ErrorId\":\"e\"}", "GET", NULL, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "scope");
    CHECK_INT_EQ(classify(403, "{\"ErrorCode\":4009,\"ErrorId\":\"e\"}", "GET", NULL, &err), FERRY_CONFIG_ERROR);
}

TEST(retry_after_comes_from_header_message_or_default)
{
    CHECK_INT_EQ(ea_error_retry_delay_ms(7000, "Try again in 55 seconds."), 7000);
    CHECK_INT_EQ(ea_error_retry_delay_ms(
                     -1, "API calls quota exceeded! maximum admitted 600 per Minute. Try again in 55 seconds."),
                 55000);
    CHECK_INT_EQ(ea_error_retry_delay_ms(0, "Try again in 3 seconds."), 3000);
    CHECK_INT_EQ(ea_error_retry_delay_ms(-1, "API calls quota exceeded!"), 60000);
    CHECK_INT_EQ(ea_error_retry_delay_ms(-1, NULL), 60000);
    ferry_error err;
    CHECK_INT_EQ(
        classify(429,
                 "{\"ErrorCode\":4010,\"DeveloperErrorMessage\":\"API calls quota exceeded! maximum admitted 600 "
                 "per Minute. Try again in 12 seconds.\",\"ErrorId\":\"e\"}",
                 "GET", NULL, &err),
        FERRY_RETRY);
    CHECK_INT_EQ(err.retry_after_ms, 12000);
    CHECK_INT_EQ(classify(500, "{\"ErrorCode\":5000,\"ErrorId\":\"e\"}", "POST", "document", &err), FERRY_RETRY);
    CHECK(err.flags & FERRY_ERROR_MAYBE_APPLIED);
    CHECK_INT_EQ(classify(503, "<html>busy</html>", "POST", "document", &err), FERRY_RETRY);
    CHECK(!(err.flags & FERRY_ERROR_MAYBE_APPLIED));
    CHECK_STR_CONTAINS(err.message, "busy");
}

/* ---- a refused refresh token ---------------------------------------------------------------------------- */

static char token_status[1200];

static int token_lock(ferry_host_conn *hc, const char *name, int timeout_ms, ferry_error *err)
{
    (void)hc;
    (void)name;
    (void)timeout_ms;
    (void)err;
    return FERRY_OK;
}

static void token_unlock(ferry_host_conn *hc, const char *name)
{
    (void)hc;
    (void)name;
}

static int token_reload(ferry_host_conn *hc, ferry_error *err)
{
    (void)hc;
    (void)err;
    return FERRY_OK;
}

static int token_connection_status(ferry_host_conn *hc, const char *status, const char *message)
{
    (void)hc;
    snprintf(token_status, sizeof(token_status), "%s: %s", status, message ? message : "");
    return FERRY_OK;
}

/* The identity server refuses the refresh token: 400 {"error": "invalid_grant"}. */
static int token_http(ferry_host_conn *hc, const ferry_http_request *req, ferry_http_response **resp, ferry_error *err)
{
    (void)hc;
    (void)req;
    (void)err;
    static char body[] = "{\"error\":\"invalid_grant\"}";
    ferry_http_response *r = calloc(1, sizeof(*r));
    r->struct_size = sizeof(*r);
    r->status = 400;
    r->body = body;
    r->body_len = strlen(body);
    r->json = json_loads(body, 0, NULL);
    r->retry_after_ms = -1;
    *resp = r;
    return FERRY_OK;
}

/* The Basic header's content is not what these tests look at. */
static char *token_base64(const void *data, size_t len)
{
    (void)data;
    (void)len;
    return ferry_strdup("aWQ6c2VjcmV0");
}

static void token_free(void *p)
{
    free(p);
}

static void token_http_free(ferry_http_response *r)
{
    json_decref(r->json);
    free(r);
}

TEST(refused_refresh_token_names_every_cause_and_the_way_back)
{
    ferry_host host = mock_host;
    host.lock = token_lock;
    host.unlock = token_unlock;
    host.settings_reload = token_reload;
    host.connection_status = token_connection_status;
    host.http = token_http;
    host.http_free = token_http_free;
    host.base64_encode = token_base64;
    host.free = token_free;
    json_decref(mock_settings);
    json_decref(mock_state);
    mock_settings = json_pack("{s:s, s:s, s:s}", "client_id", "id", "client_secret", "secret", "refresh_token", "rt-1");
    mock_state = json_object();
    ferry_conn *c = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    token_status[0] = '\0';
    REQUIRE(ea_conn_create(&host, NULL, &c, &err) == FERRY_OK);
    CHECK_INT_EQ(ea_auth_refresh(c, NULL, &err), FERRY_CONFIG_ERROR);
    CHECK(err.flags & FERRY_ERROR_NEEDS_REAUTH);
    CHECK_STR_EQ(err.code, "invalid_grant");
    /* a changed password or a removed integration, and a refresh whose answer was lost (rotating tokens) */
    CHECK_STR_CONTAINS(err.message, "changes the password or removes the integration");
    CHECK_STR_CONTAINS(err.message, "the answer to a token refresh was lost");
    CHECK_STR_CONTAINS(err.message, "refresh tokens work once");
    CHECK_STR_CONTAINS(err.message, "ferry connection authorize books");
    CHECK_STR_CONTAINS(token_status, "needs_reauth: ");
    CHECK_STR_CONTAINS(token_status, "the answer to a token refresh was lost");
    CHECK_STR_CONTAINS(token_status, "ferry connection authorize");
    ea_conn_destroy(c);
}

/* ---- authorization code, buckets, cursors ------------------------------------------------------------- */

TEST(authorization_code_from_code_or_url)
{
    char *code, *state;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ea_authcode_parse("ABC123\n", &code, &state, &err), FERRY_OK);
    CHECK_STR_EQ(code, "ABC123");
    CHECK(state == NULL);
    free(code);
    CHECK_INT_EQ(ea_authcode_parse("http://localhost:53682/callback?code=X%2BY&scope=ea%3Aapi&state=s1&session_state=z",
                                   &code, &state, &err),
                 FERRY_OK);
    CHECK_STR_EQ(code, "X+Y");
    CHECK_STR_EQ(state, "s1");
    free(code);
    free(state);
    CHECK_INT_EQ(ea_authcode_parse("http://localhost/cb?error=access_denied&state=s", &code, &state, &err),
                 FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "declined");
}

TEST(rate_buckets_collapse_ids)
{
    char b[128];
    CHECK_STR_EQ(ea_api_bucket_name("/customers", b, sizeof(b)), "/v2/customers");
    CHECK_STR_EQ(ea_api_bucket_name("/Customers/8a0b1c2d-0000-4000-8000-000000000001", b, sizeof(b)),
                 "/v2/customers/{id}");
    CHECK_STR_EQ(
        ea_api_bucket_name("/customerinvoicedrafts/8a0b1c2d-0000-4000-8000-000000000001/convert", b, sizeof(b)),
        "/v2/customerinvoicedrafts/{id}/convert");
}

TEST(rate_limit_waits_are_capped_and_bounded)
{
    /* as long as eAccounting asks, at most 120 s a time */
    CHECK(ea_api_rate_limit_wait_ms(1000, 0, 0, 300000) == 1000);
    CHECK(ea_api_rate_limit_wait_ms(60000, 2, 120000, 300000) == 60000);
    CHECK(ea_api_rate_limit_wait_ms(3600000, 0, 0, 300000) == EA_RATE_WAIT_MAX_MS);
    CHECK(ea_api_rate_limit_wait_ms(0, 0, 0, 300000) == 1);
    /* at most 3 waits, and never past the budget (rate_limit_wait_seconds) */
    CHECK(ea_api_rate_limit_wait_ms(1000, EA_RATE_WAITS_MAX, 3000, 300000) == -1);
    CHECK(ea_api_rate_limit_wait_ms(120000, 2, 240000, 300000) == -1);
    CHECK(ea_api_rate_limit_wait_ms(42000, 0, 0, 2000) == -1);
    CHECK(ea_api_rate_limit_wait_ms(1000, 1, 1000, 2000) == 1000);
    CHECK(ea_api_rate_limit_wait_ms(1000, 0, 0, 0) == -1);
}

TEST(cursor_skips_seen_ids_and_never_loses_ties)
{
    json_t *page = json_loads("[{\"Id\":\"a\",\"ChangedUtc\":\"2026-03-01T10:00:00.000Z\"},"
                              "{\"Id\":\"b\",\"ChangedUtc\":\"2026-03-01T10:00:01.000Z\"},"
                              "{\"Id\":\"c\",\"ChangedUtc\":\"2026-03-01T10:00:01.000Z\"}]",
                              0, NULL);
    json_t *fresh = NULL, *cursor = NULL;
    int more = 0;
    ea_read_advance(page, "ChangedUtc", NULL, NULL, 1, 1, &fresh, &cursor, &more);
    CHECK_INT_EQ(json_array_size(fresh), 3);
    CHECK_STR_EQ(plugin_json_str(cursor, "since"), "2026-03-01T10:00:01.000Z");
    CHECK_INT_EQ(json_array_size(json_object_get(cursor, "seen")), 2);
    CHECK_INT_EQ(json_integer_value(json_object_get(cursor, "page")), 1);
    CHECK_INT_EQ(more, 1);
    /* next query (ge since) returns b and c again plus d: only d is new */
    json_t *page2 = json_loads("[{\"Id\":\"b\",\"ChangedUtc\":\"2026-03-01T10:00:01.000Z\"},"
                               "{\"Id\":\"c\",\"ChangedUtc\":\"2026-03-01T10:00:01.000Z\"},"
                               "{\"Id\":\"d\",\"ChangedUtc\":\"2026-03-01T10:00:01Z\"}]",
                               0, NULL);
    json_t *fresh2 = NULL, *cursor2 = NULL;
    ea_read_advance(page2, "ChangedUtc", plugin_json_str(cursor, "since"), json_object_get(cursor, "seen"), 1, 1,
                    &fresh2, &cursor2, &more);
    CHECK_INT_EQ(json_array_size(fresh2), 1);
    CHECK_STR_EQ(plugin_json_str(json_array_get(fresh2, 0), "Id"), "d");
    /* a whole page on one timestamp: step to page 2 of the same query */
    CHECK_INT_EQ(json_integer_value(json_object_get(cursor2, "page")), 2);
    CHECK_INT_EQ(json_array_size(json_object_get(cursor2, "seen")), 3);
    json_decref(page);
    json_decref(page2);
    json_decref(fresh);
    json_decref(fresh2);
    json_decref(cursor);
    json_decref(cursor2);
}

/* ---- mapping --------------------------------------------------------------------------------------------- */

TEST(customer_private_and_company_to_native)
{
    ferry_conn *c = mock_conn();
    CHECK(c != NULL);
    if (c == NULL) {
        return;
    }
    ferry_error err;
    ferry_error_clear(&err);
    json_t *rec =
        json_loads("{\"key\":\"k\",\"first_name\":\"Anna\",\"last_name\":\"Andersson\",\"email\":\"anna@example.se\","
                   "\"invoice_address\":{\"street\":[\"Storgatan 1\",\"lgh 1102\",\"uppg. B\"],\"postcode\":\"111 22\","
                   "\"city\":\"Stockholm\",\"country\":\"se\"},\"target_fields\":{\"Note\":\"from the shop\"}}",
                   0, NULL);
    json_t *n = NULL;
    CHECK_INT_EQ(ea_map_customer_to_native(c, rec, EA_MAP_CREATE, &n, &err), FERRY_OK);
    CHECK_STR_EQ(plugin_json_str(n, "Name"), "Anna Andersson");
    CHECK(json_is_true(json_object_get(n, "IsPrivatePerson")));
    CHECK(json_is_true(json_object_get(n, "IsActive")));
    CHECK_STR_EQ(plugin_json_str(n, "InvoiceAddress1"), "Storgatan 1");
    CHECK_STR_EQ(plugin_json_str(n, "InvoiceAddress2"), "lgh 1102, uppg. B");
    CHECK_STR_EQ(plugin_json_str(n, "InvoiceCountryCode"), "SE");
    CHECK_STR_EQ(plugin_json_str(n, "TermsOfPaymentId"), "11111111-1111-4111-8111-111111111130");
    CHECK_STR_EQ(plugin_json_str(n, "Note"), "from the shop");
    json_decref(n);
    json_decref(rec);

    rec =
        json_loads("{\"key\":\"k\",\"is_company\":true,\"name\":\"Bolaget AB\",\"organisation_number\":\"556012-3456\","
                   "\"vat_number\":\"SE556012345601\",\"terms_of_payment\":\"10\","
                   "\"contact_person\":{\"first_name\":\"Bo\",\"last_name\":\"Ek\",\"email\":\"bo@bolaget.se\"},"
                   "\"addresses\":[{\"street_name\":\"Kungsgatan\",\"house_number\":\"5\",\"postcode\":\"41119\","
                   "\"city\":\"Göteborg\",\"country\":\"SE\"}]}",
                   0, NULL);
    CHECK_INT_EQ(ea_map_customer_to_native(c, rec, EA_MAP_CREATE, &n, &err), FERRY_OK);
    CHECK(json_is_false(json_object_get(n, "IsPrivatePerson")));
    CHECK_STR_EQ(plugin_json_str(n, "CorporateIdentityNumber"), "556012-3456");
    CHECK_STR_EQ(plugin_json_str(n, "ContactPersonName"), "Bo Ek");
    CHECK_STR_EQ(plugin_json_str(n, "InvoiceAddress1"), "Kungsgatan 5");
    CHECK_STR_EQ(plugin_json_str(n, "TermsOfPaymentId"), "11111111-1111-4111-8111-111111111110");
    json_decref(n);
    json_decref(rec);

    /* unknown terms: a record error naming the field, the value and the valid ones */
    rec =
        json_loads("{\"key\":\"k\",\"name\":\"X\",\"terms_of_payment\":\"45 days\",\"invoice_address\":{\"city\":\"A\","
                   "\"postcode\":\"1\"}}",
                   0, NULL);
    CHECK_INT_EQ(ea_map_customer_to_native(c, rec, EA_MAP_CREATE, &n, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "terms_of_payment");
    CHECK_STR_CONTAINS(err.message, "'45 days'");
    CHECK_STR_CONTAINS(err.message, "'30 dagar netto'");
    json_decref(rec);
    /* no city: a record error before any request */
    rec = json_loads("{\"key\":\"k\",\"name\":\"X\"}", 0, NULL);
    CHECK_INT_EQ(ea_map_customer_to_native(c, rec, EA_MAP_CREATE, &n, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "invoice_address.city");
    json_decref(rec);
    CHECK_INT_EQ(mock_http_calls, 0);
    ea_conn_destroy(c);
}

TEST(article_prices_agree_with_the_coding)
{
    ferry_conn *c = mock_conn();
    REQUIRE(c != NULL);
    ferry_error err;
    ferry_error_clear(&err);
    json_t *n = NULL;
    json_t *rec =
        json_loads("{\"key\":\"k\",\"sku\":\"SKU-1\",\"name\":\"Kaffe\",\"gross_price\":\"99.90\",\"vat_rate\":\"12\","
                   "\"ean\":\"7310865004703\",\"unit\":\"KG\",\"stock\":{\"qty\":\"12\"}}",
                   0, NULL);
    CHECK_INT_EQ(ea_map_article_to_native(c, rec, NULL, &n, &err), FERRY_OK);
    CHECK_STR_EQ(plugin_json_str(n, "Number"), "SKU-1");
    CHECK_STR_EQ(plugin_json_str(n, "CodingId"), "33333333-3333-4333-8333-333333333312");
    CHECK_STR_EQ(plugin_json_str(n, "UnitId"), "22222222-2222-4222-8222-222222222202");
    char *text = json_dumps(json_object_get(n, "NetPrice"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    CHECK_STR_EQ(text, "89.2"); /* 99.90 / 1.12 = 89.196... */
    free(text);
    text = json_dumps(json_object_get(n, "GrossPrice"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    CHECK_STR_EQ(text, "99.9");
    free(text);
    CHECK_STR_EQ(plugin_json_str(json_array_get(json_object_get(n, "Barcodes"), 0), "Barcode"), "7310865004703");
    CHECK_INT_EQ(json_integer_value(json_object_get(n, "StockBalance")), 12);
    CHECK(json_is_true(json_object_get(n, "UsesMoss")));
    json_decref(n);
    json_decref(rec);
    /* a service at the default rate, net price given */
    rec = json_loads(
        "{\"key\":\"k\",\"number\":\"SRV\",\"name\":\"Install\",\"type\":\"virtual\",\"net_price\":\"100\"}", 0, NULL);
    CHECK_INT_EQ(ea_map_article_to_native(c, rec, NULL, &n, &err), FERRY_OK);
    CHECK_STR_EQ(plugin_json_str(n, "CodingId"), "33333333-3333-4333-8333-333333333399");
    CHECK_INT_EQ(json_integer_value(json_object_get(n, "GrossPrice")), 125);
    CHECK_STR_EQ(plugin_json_str(n, "UnitId"), "22222222-2222-4222-8222-222222222201");
    json_decref(n);
    json_decref(rec);
    /* a rate with no coding */
    rec = json_loads("{\"key\":\"k\",\"number\":\"X\",\"name\":\"X\",\"vat_rate\":\"7\"}", 0, NULL);
    CHECK_INT_EQ(ea_map_article_to_native(c, rec, NULL, &n, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "vat_rate");
    CHECK_STR_CONTAINS(err.message, "Varor 25% moms");
    json_decref(rec);
    CHECK_INT_EQ(mock_http_calls, 0);
    ea_conn_destroy(c);
}

TEST(document_rows_and_reference)
{
    ferry_conn *c = mock_conn();
    REQUIRE(c != NULL);
    ferry_error err;
    ferry_error_clear(&err);
    json_t *rec = json_loads(
        "{\"key\":\"7\",\"type\":\"order\",\"external_reference\":\"100000023\",\"date\":\"2026-02-27T13:14:15Z\","
        "\"customer_id\":\"55555555-5555-4555-8555-555555555555\",\"delivery_method\":\"postnord\",\"prices_include_"
        "vat\":true,"
        "\"terms_of_payment\":\"Card payment\",\"rows\":["
        " {\"article_id\":\"66666666-6666-4666-8666-666666666666\",\"quantity\":\"2\",\"unit_price\":\"125.00\","
        "  \"unit_price_excl\":\"100.00\",\"discount_percentage\":\"0.1\",\"vat_rate\":\"25\"},"
        " {\"article_id\":\"66666666-6666-4666-8666-666666666667\",\"quantity\":\"1\",\"unit_price\":\"99.90\",\"vat_"
        "rate\":\"12\"},"
        " {\"kind\":\"text\",\"text\":\"Thank you\"}]}",
        0, NULL);
    json_t *n = NULL;
    /* eAccounting reads this customer's prices excl. VAT: rows are converted */
    CHECK_INT_EQ(ea_docmap_to_native(c, rec, EA_DOC_ORDER, 0, &n, &err), FERRY_OK);
    CHECK_STR_EQ(plugin_json_str(n, "BuyersOrderReference"), "100000023");
    CHECK_STR_EQ(plugin_json_str(n, "OrderDate"), "2026-02-27");
    CHECK_STR_EQ(plugin_json_str(n, "CurrencyCode"), "SEK");
    CHECK_INT_EQ(json_integer_value(json_object_get(n, "Status")), 2);
    CHECK_STR_EQ(plugin_json_str(n, "DeliveryMethodCode"), "PN");
    CHECK_STR_EQ(plugin_json_str(n, "TermsOfPaymentId"), "11111111-1111-4111-8111-111111111100");
    json_t *rows = json_object_get(n, "Rows");
    CHECK_INT_EQ(json_array_size(rows), 3);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(rows, 0), "UnitPrice")), 100);
    char *text =
        json_dumps(json_object_get(json_array_get(rows, 1), "UnitPrice"), JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    CHECK_STR_EQ(text, "89.2");
    free(text);
    CHECK(json_is_true(json_object_get(json_array_get(rows, 2), "IsTextRow")));
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(rows, 2), "LineNumber")), 3);
    json_decref(n);
    /* as an invoice: no row flags, no delivery method (read-only there) */
    CHECK_INT_EQ(ea_docmap_to_native(c, rec, EA_DOC_INVOICE, 1, &n, &err), FERRY_OK);
    CHECK(json_object_get(json_array_get(json_object_get(n, "Rows"), 0), "IsTextRow") == NULL);
    CHECK(json_object_get(n, "DeliveryMethodCode") == NULL);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(json_object_get(n, "Rows"), 0), "UnitPrice")), 125);
    json_decref(n);
    json_decref(rec);
    /* too many quantity decimals on an invoice, a discount in percent, a long reference */
    rec = json_loads(
        "{\"type\":\"invoice_draft\",\"customer_id\":\"55555555-5555-4555-8555-555555555555\",\"rows\":["
        "{\"article_id\":\"66666666-6666-4666-8666-666666666666\",\"quantity\":\"1.125\",\"unit_price\":\"1\"}]}",
        0, NULL);
    CHECK_INT_EQ(ea_docmap_to_native(c, rec, EA_DOC_DRAFT, -1, &n, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "rows[0].quantity");
    json_decref(rec);
    rec = json_loads("{\"type\":\"invoice_draft\",\"customer_id\":\"55555555-5555-4555-8555-555555555555\",\"rows\":["
                     "{\"article_id\":\"66666666-6666-4666-8666-666666666666\",\"quantity\":\"1\",\"unit_price\":\"1\","
                     "\"discount_percentage\":\"10\"}]}",
                     0, NULL);
    CHECK_INT_EQ(ea_docmap_to_native(c, rec, EA_DOC_DRAFT, -1, &n, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "rows[0].discount_percentage");
    json_decref(rec);
    rec = json_loads("{\"type\":\"invoice\",\"external_reference\":\"0123456789012345678901234567890123456789\","
                     "\"customer_id\":\"55555555-5555-4555-8555-555555555555\",\"rows\":[{\"text\":\"x\"}]}",
                     0, NULL);
    CHECK_INT_EQ(ea_docmap_to_native(c, rec, EA_DOC_INVOICE, -1, &n, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "external_reference");
    json_decref(rec);
    CHECK_INT_EQ(mock_http_calls, 0);
    ea_conn_destroy(c);
}

TEST(document_totals_from_native)
{
    ferry_conn *c = mock_conn();
    REQUIRE(c != NULL);
    json_t *inv =
        json_loads("{\"Id\":\"i\",\"InvoiceNumber\":7,\"CurrencyCode\":\"SEK\",\"CustomerId\":\"cu\","
                   "\"BuyersOrderReference\":\"100000023\",\"InvoiceDate\":\"2026-03-01T00:00:00\","
                   "\"TotalAmountInvoiceCurrency\":351,\"TotalVatAmountInvoiceCurrency\":70.11,\"TotalRoundings\":0.4,"
                   "\"VatSpecification\":[{\"AmountInvoiceCurrency\":280.49,\"VatAmountInvoiceCurrency\":70.11,"
                   "\"VatPercent\":0.25}],\"IncludesVat\":true,\"Rows\":[]}",
                   0, NULL);
    json_t *r = ea_docmap_from_native(c, EA_DOC_INVOICE, inv, 1);
    CHECK_STR_EQ(plugin_json_str(r, "number"), "7");
    CHECK_STR_EQ(plugin_json_str(r, "total"), "351.00");
    CHECK_STR_EQ(plugin_json_str(r, "vat"), "70.11");
    CHECK_STR_EQ(plugin_json_str(r, "roundings"), "0.40");
    CHECK_STR_EQ(plugin_json_str(r, "net"), "280.49");
    CHECK_STR_EQ(plugin_json_str(r, "external_reference"), "100000023");
    CHECK_STR_EQ(plugin_json_str(r, "date"), "2026-03-01");
    CHECK(json_object_get(r, "native") != NULL);
    json_decref(r);
    json_decref(inv);
    json_t *order = json_loads("{\"Id\":\"o\",\"Number\":3,\"CurrencyCode\":\"SEK\",\"Amount\":200,\"VatAmount\":50,"
                               "\"RoundingsAmount\":0,\"Rows\":[]}",
                               0, NULL);
    r = ea_docmap_from_native(c, EA_DOC_ORDER, order, 0);
    CHECK_STR_EQ(plugin_json_str(r, "total"), "250.00");
    CHECK_STR_EQ(plugin_json_str(r, "number"), "3");
    CHECK(json_is_null(json_object_get(r, "external_reference")));
    json_decref(r);
    json_decref(order);
    ea_conn_destroy(c);
}

int main(void)
{
    RUN_TEST(filter_quotes_strings_and_doubles_quotes);
    RUN_TEST(filter_literal_round_trips);
    RUN_TEST(filter_refuses_values_of_the_wrong_type);
    RUN_TEST(url_encoding_leaves_nothing_raw);
    RUN_TEST(validation_errors_name_the_canonical_field);
    RUN_TEST(error_4002_means_two_things);
    RUN_TEST(config_errors_say_what_to_do);
    RUN_TEST(retry_after_comes_from_header_message_or_default);
    RUN_TEST(refused_refresh_token_names_every_cause_and_the_way_back);
    RUN_TEST(authorization_code_from_code_or_url);
    RUN_TEST(rate_buckets_collapse_ids);
    RUN_TEST(rate_limit_waits_are_capped_and_bounded);
    RUN_TEST(cursor_skips_seen_ids_and_never_loses_ties);
    RUN_TEST(customer_private_and_company_to_native);
    RUN_TEST(article_prices_agree_with_the_coding);
    RUN_TEST(document_rows_and_reference);
    RUN_TEST(document_totals_from_native);
    json_decref(mock_settings);
    json_decref(mock_state);
    TEST_MAIN_END();
}
