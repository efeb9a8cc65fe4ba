/*
 * test_magento2_units.c - the Magento 2 plugin's pure parts, compiled in
 * (collectd-style): OAuth 1.0a signing against an independently computed
 * vector, searchCriteria encoding, street splitting, fixed-point money,
 * the keyset cursor, Magento error messages, order/product decoding and
 * product encoding.  No network; the host table is libferry's (its HMAC,
 * base64 and percent-encoding), with `setting` replaced by a fake.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "m2_address.h"
#include "m2_api.h"
#include "m2_auth.h"
#include "m2_category.h"
#include "m2_conn.h"
#include "m2_cursor.h"
#include "m2_media.h"
#include "m2_order.h"
#include "m2_product.h"
#include "m2_search.h"
#include "m2_stock.h"
#include "m2_util.h"
#include "money.h"
#include "testing.h"
#include "testsupport.h"
#include "util.h"

static ferry_host fake_host;
static json_t *fake_settings;

static const char *fake_setting(ferry_host_conn *hc, const char *name)
{
    (void)hc;
    return json_string_value(json_object_get(fake_settings, name));
}

static void fake_secret(ferry_host_conn *hc, const char *value)
{
    (void)hc;
    (void)value;
}

static const ferry_host *host(void)
{
    return &fake_host;
}

/* ---- OAuth 1.0a ------------------------------------------------------------------------- */

/*
 * The expected values were computed with Python's standard library only
 * (independently of this C code and of the emulator):
 *
 *   from urllib.parse import quote; import hmac, hashlib, base64
 *   enc = lambda s: quote(s, safe="~")
 *   params = dict(query); params.update(oauth)      # the pairs below
 *   norm = "&".join("%s=%s" % (enc(k), enc(params[k])) for k in sorted(params))
 *   base = "&".join(["GET", enc(url), enc(norm)])
 *   key = enc(consumer_secret) + "&" + enc(token_secret)
 *   base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest())
 */
static void vector_query(m2_params *q)
{
    m2_search_filter(q, 0, "status", "pending,processing", "in");
    m2_search_filter(q, 1, "customer_email", "a+b&c=d \xc3\xa9@x.se", NULL);
    m2_params_add(q, "searchCriteria[pageSize]", "50");
}

static const m2_oauth_values vector_values = {"ferryconsumerkey0000000000000001", "ferryconsumersecret0000000000001",
                                              "ferryaccesstoken0000000000000001", "ferryaccesstokensecret0000000001",
                                              "0123456789abcdef0123456789abcdef", 1760000000LL};

TEST(oauth_base_string_matches_an_independent_computation)
{
    m2_params q = M2_PARAMS_INIT;
    vector_query(&q);
    char *base = m2_oauth_base_string(host(), "get", "http://127.0.0.1:8080/index.php/rest/default/V1/orders?x=1", &q,
                                      &vector_values);
    CHECK_STR_EQ(base,
                 "GET&http%3A%2F%2F127.0.0.1%3A8080%2Findex.php%2Frest%2Fdefault%2FV1%2Forders&oauth_consumer_key%"
                 "3Dferryconsumerkey0000000000000001%26oauth_nonce%3D0123456789abcdef0123456789abcdef%26oauth_"
                 "signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1760000000%26oauth_token%"
                 "3Dferryaccesstoken0000000000000001%26oauth_version%3D1.0%26searchCriteria%255Bfilter_groups%255D%"
                 "255B0%255D%255Bfilters%255D%255B0%255D%255Bcondition_type%255D%3Din%26searchCriteria%255Bfilter_"
                 "groups%255D%255B0%255D%255Bfilters%255D%255B0%255D%255Bfield%255D%3Dstatus%26searchCriteria%"
                 "255Bfilter_groups%255D%255B0%255D%255Bfilters%255D%255B0%255D%255Bvalue%255D%3Dpending%"
                 "252Cprocessing%26searchCriteria%255Bfilter_groups%255D%255B1%255D%255Bfilters%255D%255B0%255D%"
                 "255Bfield%255D%3Dcustomer_email%26searchCriteria%255Bfilter_groups%255D%255B1%255D%255Bfilters%"
                 "255D%255B0%255D%255Bvalue%255D%3Da%252Bb%2526c%253Dd%2520%25C3%25A9%2540x.se%26searchCriteria%"
                 "255BpageSize%255D%3D50");
    free(base);
    m2_params_free(&q);
}

TEST(oauth_header_is_signed_hmac_sha256_like_python_computes)
{
    m2_params q = M2_PARAMS_INIT;
    vector_query(&q);
    char *header =
        m2_oauth_header(host(), "GET", "http://127.0.0.1:8080/index.php/rest/default/V1/orders", &q, &vector_values);
    CHECK_STR_CONTAINS(header, "OAuth oauth_consumer_key=\"ferryconsumerkey0000000000000001\"");
    CHECK_STR_CONTAINS(header, "oauth_signature_method=\"HMAC-SHA256\"");
    CHECK_STR_CONTAINS(header, "oauth_version=\"1.0\"");
    CHECK_STR_CONTAINS(header, "oauth_timestamp=\"1760000000\"");
    /* drykuOPZRAYRX3JGTFr/ga2PUHq+BB6ehQxSsWuzV3M= percent-encoded in the header */
    CHECK_STR_CONTAINS(header, "oauth_signature=\"drykuOPZRAYRX3JGTFr%2Fga2PUHq%2BBB6ehQxSsWuzV3M%3D\"");
    CHECK_STR_NOT_CONTAINS(header, "ferryconsumersecret");
    CHECK_STR_NOT_CONTAINS(header, "ferryaccesstokensecret");
    free(header);
    m2_params_free(&q);
}

TEST(oauth_url_is_normalised_like_magento)
{
    char *a = m2_oauth_base_string(host(), "POST", "HTTP://Shop.Example.COM:80/rest/V1/x?a=1#f", NULL, &vector_values);
    char *b = m2_oauth_base_string(host(), "POST", "http://shop.example.com/rest/V1/x", NULL, &vector_values);
    CHECK_STR_EQ(a, b);
    free(a);
    free(b);
    a = m2_oauth_base_string(host(), "GET", "https://shop.example.com:443/rest/V1/x", NULL, &vector_values);
    CHECK(a != NULL && strncmp(a, "GET&https%3A%2F%2Fshop.example.com%2Frest", 41) == 0);
    free(a);
    a = m2_oauth_base_string(host(), "GET", "https://shop.example.com:8443/rest/V1/x", NULL, &vector_values);
    CHECK_STR_CONTAINS(a, "shop.example.com%3A8443");
    free(a);
}

/* ---- search criteria ------------------------------------------------------------------------- */

TEST(search_values_cannot_add_parameters)
{
    m2_params q = M2_PARAMS_INIT;
    m2_search_filter(&q, 0, "increment_id", "1&searchCriteria[pageSize]=99999#x", "eq");
    m2_search_filter(&q, 0, "status", "x", NULL);
    m2_search_sort(&q, 0, "updated_at", "ASC");
    m2_search_page(&q, 20, 1);
    char *qs = m2_params_encode(host(), &q);
    CHECK_STR_CONTAINS(qs, "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B0%5D%5Bvalue%5D="
                           "1%26searchCriteria%5BpageSize%5D%3D99999%23x");
    CHECK_STR_CONTAINS(qs, "searchCriteria%5Bfilter_groups%5D%5B0%5D%5Bfilters%5D%5B1%5D%5Bfield%5D=status");
    CHECK_STR_CONTAINS(qs, "searchCriteria%5BpageSize%5D=20");
    CHECK_STR_NOT_CONTAINS(qs, "#");
    /* exactly the pairs we added: 3 + 2 filter members, 2 sort members, 2 paging */
    int amps = 0;
    for (const char *p = qs; p && *p; p++) {
        amps += *p == '&';
    }
    CHECK_INT_EQ(amps, 8);
    CHECK(m2_search_in_value_ok("processing") == 0);
    CHECK(m2_search_in_value_ok("a,b") != 0);
    CHECK(m2_search_in_value_ok("") != 0);
    free(qs);
    m2_params_free(&q);
}

/* ---- streets ---------------------------------------------------------------------------------- */

static void check_split(const char *line, const char *name, const char *number)
{
    char n[128], h[64];
    m2_street_split(line, n, sizeof(n), h, sizeof(h));
    CHECK_STR_EQ(n, name);
    CHECK_STR_EQ(h, number);
}

TEST(street_lines_split_into_name_and_number)
{
    check_split("Storgatan 12 B", "Storgatan", "12 B");
    check_split("12 Main Street", "Main Street", "12");
    check_split("Main Street 12a", "Main Street", "12a");
    check_split("Main Street", "Main Street", "");
    check_split("221B Baker Street", "Baker Street", "221B");
    check_split("Karl Johans gate 15", "Karl Johans gate", "15");
    check_split("  Södra Förstadsgatan   3 ", "Södra Förstadsgatan", "3");
    check_split("12 Rue de Rivoli", "Rue de Rivoli", "12");
    check_split("", "", "");
    json_t *a =
        json_pack("{s:[s,s], s:s, s:s, s:s, s:{s:s}, s:s}", "street", "Storgatan 12 B", "c/o Lindqvist", "firstname",
                  "Anna", "lastname", "Berg", "city", "Stockholm", "region", "region", "Sthlm", "country_id", "SE");
    json_t *c = m2_address_decode(a);
    CHECK_INT_EQ(json_array_size(json_object_get(c, "street")), 2);
    CHECK_STR_EQ(m2_str(c, "street_name"), "Storgatan");
    CHECK_STR_EQ(m2_str(c, "house_number"), "12 B");
    CHECK_STR_EQ(m2_str(c, "name"), "Anna Berg");
    CHECK_STR_EQ(m2_str(c, "region"), "Sthlm");
    CHECK_STR_EQ(m2_str(c, "country"), "SE");
    json_decref(a);
    json_decref(c);
}

/* ---- money ----------------------------------------------------------------------------------------- */

/* An amount from its text, the way a canonical record carries it (NULL when m2_amount_from_json refuses it). */
static const char *money_of_text(const char *text, char *buf, size_t n)
{
    json_t *v = json_string(text);
    ferry_money a;
    int ok = m2_amount_from_json(v, &a);
    json_decref(v);
    return ok ? m2_amount_money(a, buf, n) : NULL;
}

TEST(money_has_four_decimals_and_shows_two_to_four)
{
    char buf[48];
    CHECK_STR_EQ(money_of_text("199.13", buf, sizeof(buf)), "199.13");
    CHECK_STR_EQ(money_of_text("-9.8", buf, sizeof(buf)), "-9.80");
    CHECK_STR_EQ(money_of_text("0.00005", buf, sizeof(buf)), "0.0001"); /* half away from zero */
    CHECK_STR_EQ(money_of_text("-0.00005", buf, sizeof(buf)), "-0.0001");
    CHECK_STR_EQ(money_of_text("1.23449", buf, sizeof(buf)), "1.2345");
    CHECK_STR_EQ(money_of_text(" 12 ", buf, sizeof(buf)), "12.00");
    CHECK_STR_EQ(money_of_text("100000000000000", buf, sizeof(buf)), "100000000000000.00");
    CHECK(money_of_text("100000000000000.0001", buf, sizeof(buf)) == NULL); /* beyond 10^14 */
    CHECK(money_of_text("1e3", buf, sizeof(buf)) == NULL);
    CHECK(money_of_text("abc", buf, sizeof(buf)) == NULL);
    ferry_money a = {250000, 4};
    CHECK_STR_EQ(m2_amount_plain(a, buf, sizeof(buf)), "25");
    a.units = 125000;
    CHECK_STR_EQ(m2_amount_plain(a, buf, sizeof(buf)), "12.5");
    a.units = 125;
    CHECK_STR_EQ(m2_amount_money(a, buf, sizeof(buf)), "0.0125");
    /* JSON numbers as Magento prints them: 22 (not 22.0), 0.1 + 0.2 stays exact when summed as decimals */
    json_t *doc = json_loads("{\"a\": 22, \"b\": 0.1, \"c\": 0.2, \"d\": \"39.2\", \"e\": null, \"f\": true}", 0, NULL);
    ferry_money x, y;
    CHECK(m2_amount_get(doc, "a", &x) && x.units == 220000 && x.scale == 4);
    CHECK(m2_amount_get(doc, "b", &x) && m2_amount_get(doc, "c", &y) && ferry_money_add(x, y, &x) == FERRY_MONEY_OK);
    CHECK_STR_EQ(m2_amount_money(x, buf, sizeof(buf)), "0.30");
    CHECK(m2_amount_get(doc, "d", &x) && x.units == 392000);
    CHECK(!m2_amount_get(doc, "e", &x) && x.units == 0);
    CHECK(!m2_amount_get(doc, "f", &x) && x.units == 0);
    CHECK(!m2_amount_get(doc, "missing", &x));
    json_decref(doc);
}

TEST(times_convert_between_magento_and_iso)
{
    long long t;
    char buf[32];
    CHECK(m2_time_parse("2025-10-04 04:42:41", &t) == 0);
    CHECK_STR_EQ(ferry_time_iso(t, buf, sizeof(buf)), "2025-10-04T04:42:41Z");
    CHECK(m2_time_parse("2025-10-04T04:42:41Z", &t) == 0);
    CHECK_STR_EQ(m2_time_magento(t - 300, buf, sizeof(buf)), "2025-10-04 04:37:41");
    CHECK(m2_time_parse("2024-02-29", &t) == 0);
    CHECK_STR_EQ(m2_time_magento(t, buf, sizeof(buf)), "2024-02-29 00:00:00");
    CHECK(m2_time_parse("2024-13-01 00:00:00", &t) != 0);
    CHECK(m2_time_parse("yesterday", &t) != 0);
}

/* ---- cursor ------------------------------------------------------------------------------------------ */

TEST(cursor_remembers_the_newest_5000_ids_of_the_window)
{
    m2_cursor cur;
    char why[128];
    CHECK(m2_cursor_load(&cur, NULL, NULL, 300, why, sizeof(why)) == 0);
    /* 6000 orders over 100 seconds, 60 per second: all inside the 300 s window */
    for (long long id = 1; id <= 6000; id++) {
        char ts[32];
        snprintf(ts, sizeof(ts), "2025-10-04 04:%02lld:%02lld", 40 + (id - 1) / 60 / 60, (id - 1) / 60 % 60);
        CHECK_INT_EQ(m2_cursor_accept(&cur, ts, id), M2_CURSOR_EMIT);
    }
    json_t *saved = m2_cursor_save(&cur, 0);
    m2_cursor_free(&cur);
    json_t *seen = json_object_get(saved, "seen");
    CHECK_INT_EQ(json_object_size(seen), 5000);
    CHECK(json_object_get(seen, "6000") != NULL); /* the newest stay */
    CHECK(json_object_get(seen, "1021") != NULL); /* second 17 on: kept whole */
    CHECK(json_object_get(seen, "960") == NULL);  /* the oldest second went */
    /* the next run drops what it remembers and hands out again what it forgot */
    CHECK(m2_cursor_load(&cur, saved, NULL, 300, why, sizeof(why)) == 0);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:40:00", 1), M2_CURSOR_EMIT);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:41:39", 6000), M2_CURSOR_DROP);
    m2_cursor_free(&cur);
    json_decref(saved);
}

TEST(cursor_pages_by_keyset_and_rewinds_with_overlap)
{
    m2_cursor cur;
    char why[128];
    CHECK(m2_cursor_load(&cur, NULL, NULL, 300, why, sizeof(why)) == 0);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 4), M2_CURSOR_EMIT);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 5), M2_CURSOR_EMIT);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 5), M2_CURSOR_STALE); /* repeated page */
    json_t *saved = m2_cursor_save(&cur, 1);
    m2_cursor_free(&cur);
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(saved, "after"), 0)), "2025-10-04 04:42:41");
    CHECK_INT_EQ(json_integer_value(json_array_get(json_object_get(saved, "after"), 1)), 5);

    /* the next page asks for (ts >= T) AND (ts > T OR id > 5), sorted by both */
    CHECK(m2_cursor_load(&cur, saved, NULL, 300, why, sizeof(why)) == 0);
    m2_params q = M2_PARAMS_INIT;
    CHECK_INT_EQ(m2_cursor_search(&cur, &q, 1, "updated_at", "entity_id"), 3);
    char *qs = m2_params_encode(host(), &q);
    CHECK_STR_CONTAINS(qs, "%5B1%5D%5Bfilters%5D%5B0%5D%5Bcondition_type%5D=gteq");
    CHECK_STR_CONTAINS(qs, "%5B2%5D%5Bfilters%5D%5B1%5D%5Bfield%5D=entity_id");
    CHECK_STR_CONTAINS(qs, "sort_orders%5D%5B1%5D%5Bfield%5D=entity_id");
    free(qs);
    m2_params_free(&q);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 6), M2_CURSOR_EMIT);
    json_decref(saved);
    saved = m2_cursor_save(&cur, 0); /* end of the run */
    m2_cursor_free(&cur);
    CHECK(json_is_true(json_object_get(saved, "rewind")));

    /* next run: starts overlap seconds back; what was handed out is dropped, a late commit is not */
    CHECK(m2_cursor_load(&cur, saved, NULL, 300, why, sizeof(why)) == 0);
    CHECK_STR_EQ(cur.after_ts, "2025-10-04 04:37:40");
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:40:00", 3), M2_CURSOR_EMIT); /* late commit */
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 4), M2_CURSOR_DROP);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 5), M2_CURSOR_DROP);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 04:42:41", 6), M2_CURSOR_DROP);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-10-04 05:00:00", 4), M2_CURSOR_EMIT); /* changed again */
    json_decref(saved);
    saved = m2_cursor_save(&cur, 0);
    m2_cursor_free(&cur);
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(saved, "high"), 0)), "2025-10-04 05:00:00");
    /* ids older than the window are forgotten */
    CHECK(json_object_get(json_object_get(saved, "seen"), "5") == NULL);
    CHECK(json_object_get(json_object_get(saved, "seen"), "4") != NULL);
    json_decref(saved);

    json_t *since = json_pack("{s:s}", "since", "2025-01-31T00:00:00Z");
    CHECK(m2_cursor_load(&cur, NULL, since, 300, why, sizeof(why)) == 0);
    CHECK_INT_EQ(m2_cursor_accept(&cur, "2025-01-31 00:00:00", 1), M2_CURSOR_EMIT);
    m2_cursor_free(&cur);
    json_object_set_new(since, "since", json_string("last tuesday"));
    CHECK(m2_cursor_load(&cur, NULL, since, 300, why, sizeof(why)) != 0);
    CHECK_STR_CONTAINS(why, "since");
    m2_cursor_free(&cur);
    json_decref(since);
}

/* ---- errors ------------------------------------------------------------------------------------------- */

static ferry_conn *fake_conn(int mode)
{
    static ferry_conn c;
    memset(&c, 0, sizeof(c));
    c.host = host();
    c.auth_mode = mode;
    c.base_url = "https://shop.example.com";
    c.store_code = "default";
    return &c;
}

TEST(magento_messages_are_filled_in_and_classified)
{
    json_t *body =
        json_loads("{\"message\":\"Invalid product data: %1\",\"parameters\":[\"Invalid attribute set\"]}", 0, NULL);
    char *msg = m2_api_message(body);
    CHECK_STR_EQ(msg, "Invalid product data: Invalid attribute set");
    free(msg);
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 400, body, NULL, "POST /V1/products", &err),
                 FERRY_RECORD_ERROR);
    json_decref(body);

    body = json_loads("{\"message\":\"No such entity with %fieldName = %fieldValue\",\"parameters\":{\"fieldName\":"
                      "\"customerId\",\"fieldValue\":7}}",
                      0, NULL);
    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 404, body, NULL, "GET /V1/customers/7", &err),
                 FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "No such entity with customerId = 7");
    CHECK_STR_EQ(err.field, "customerId");
    json_decref(body);

    body = json_loads("{\"message\":\"The consumer isn't authorized to access %resources.\",\"parameters\":"
                      "{\"resources\":\"Magento_Sales::actions_view\"}}",
                      0, NULL);
    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 401, body, NULL, "GET /V1/orders", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "Magento_Sales::actions_view");
    CHECK(!(err.flags & FERRY_ERROR_NEEDS_REAUTH)); /* one ACL resource, not the credentials */
    ferry_error_clear(&err);
    m2_api_error(fake_conn(M2_AUTH_BEARER), 401, body, NULL, "GET /V1/orders", &err);
    CHECK_STR_CONTAINS(err.message, "2.4.4");
    CHECK_STR_CONTAINS(err.message, "enable_integration_as_bearer");
    CHECK(!(err.flags & FERRY_ERROR_NEEDS_REAUTH)); /* a refused Bearer token looks the same as a missing resource */
    json_decref(body);

    /* what refuses the credentials themselves needs a person with new ones; a reused nonce does not */
    static const struct {
        const char *message;
        int needs_reauth;
    } refusals[] = {{"The signature is invalid. Verify and try again.", 1},
                    {"A consumer having the specified key does not exist", 1},
                    {"Specified token does not exist", 1},
                    {"Something else refused you", 1},
                    {"The nonce is already being used by the consumer with ID 1", 0}};
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        body = json_pack("{s:s}", "message", refusals[i].message);
        ferry_error_clear(&err);
        CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 401, body, NULL, "GET /V1/orders", &err),
                     FERRY_CONFIG_ERROR);
        CHECK_MSG(!!(err.flags & FERRY_ERROR_NEEDS_REAUTH) == refusals[i].needs_reauth, "%s", refusals[i].message);
        json_decref(body);
    }

    body = json_loads("{\"message\":\"Signature method %1 is not supported\",\"parameters\":[\"HMAC-SHA1\"]}", 0, NULL);
    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 400, body, NULL, "GET /V1/orders", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "HMAC-SHA1");
    CHECK_STR_CONTAINS(err.message, "HMAC-SHA256");
    json_decref(body);

    body = json_loads("{\"message\":\"One or more input exceptions have occurred.\",\"errors\":[{\"message\":"
                      "\"\\\"%fieldName\\\" is required. Enter and try again.\",\"parameters\":{\"fieldName\":"
                      "\"sku\"}}]}",
                      0, NULL);
    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 400, body, NULL, "POST /V1/products", &err),
                 FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "\"sku\" is required");
    CHECK_STR_EQ(err.field, "sku");
    json_decref(body);

    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 503, NULL, "<html>busy</html>", "GET /V1/orders", &err),
                 FERRY_RETRY);
    CHECK_STR_CONTAINS(err.message, "busy");
    body = json_loads("{\"message\":\"Request does not match any route.\"}", 0, NULL);
    ferry_error_clear(&err);
    CHECK_INT_EQ(m2_api_error(fake_conn(M2_AUTH_OAUTH), 404, body, NULL, "GET /V1/nothing", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "index.php");
    json_decref(body);
}

TEST(secrets_are_masked_in_messages)
{
    json_object_set_new(fake_settings, "consumer_secret", json_string("s3cr3t-value"));
    char text[256] = "Magento said s3cr3t-value twice: s3cr3t-value.";
    m2_api_scrub(fake_conn(M2_AUTH_OAUTH), text, sizeof(text));
    CHECK_STR_EQ(text, "Magento said *** twice: ***.");
    json_object_del(fake_settings, "consumer_secret");
}

/* ---- orders ----------------------------------------------------------------------------------------------- */

static json_t *line_by_sku(const json_t *order, const char *sku)
{
    size_t i;
    json_t *l;
    json_array_foreach (json_object_get(order, "lines"), i, l) {
        if (strcmp(m2_str(l, "sku") ? m2_str(l, "sku") : "", sku) == 0) {
            return l;
        }
    }
    return NULL;
}

TEST(docs_sample_order_decodes_with_configurable_and_dynamic_bundle_lines)
{
    json_error_t je;
    json_t *native = json_load_file(ferry_test_srcpath("tests/unit/data/magento2_sample_order.json"), 0, &je);
    CHECK(native != NULL);
    ferry_error err;
    ferry_error_clear(&err);
    json_t *o = m2_order_decode(native, -1, &err);
    CHECK(o != NULL);
    if (o == NULL) {
        json_decref(native);
        return;
    }
    CHECK_STR_EQ(m2_str(o, "key"), "000000003");
    CHECK_STR_EQ(m2_str(o, "id"), "3");
    CHECK_STR_EQ(m2_str(o, "created_at"), "2017-08-21T22:22:19Z");
    CHECK_STR_EQ(m2_str(o, "currency"), "USD");
    CHECK_STR_EQ(m2_str(o, "rate_to_base"), "1");
    CHECK(json_is_false(json_object_get(o, "is_guest")));
    /* simple, downloadable, the bundle's 4 priced children, the configurable: 7 lines */
    CHECK_INT_EQ(json_array_size(json_object_get(o, "lines")), 7);
    json_t *conf = line_by_sku(o, "MH01-S-Gray");
    CHECK_STR_EQ(m2_str(conf, "product_type"), "configurable");
    CHECK_STR_EQ(m2_str(conf, "unit_price_excl"), "52.00");
    CHECK_STR_EQ(m2_str(conf, "row_total_incl"), "52.00");
    CHECK_STR_EQ(m2_str(conf, "variant_name"), "Chaz Kangeroo Hoodie-S-Gray");
    json_t *child = line_by_sku(o, "24-WG082-blue");
    /* the bundle's own SKU, from Magento's composite "dynamic SKU" 24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086 */
    CHECK_STR_EQ(m2_str(child, "parent_sku"), "24-WG080");
    CHECK_STR_EQ(m2_str(child, "unit_price_excl"), "27.00");
    CHECK(line_by_sku(o, "24-WG080-24-WG084-24-WG088-24-WG082-blue-24-WG086") == NULL);
    CHECK_STR_EQ(m2_str(json_object_get(o, "totals"), "grand_total"), "165.00");
    CHECK_STR_EQ(m2_str(json_object_get(o, "totals"), "shipping_incl"), "5.00");
    json_t *shipping = json_object_get(o, "shipping");
    CHECK_STR_EQ(m2_str(shipping, "method"), "tablerate_bestway");
    CHECK_STR_EQ(m2_str(json_object_get(shipping, "address"), "street_name"), "Oak Ave");
    CHECK_STR_EQ(m2_str(json_object_get(shipping, "address"), "house_number"), "123");
    CHECK_STR_EQ(m2_str(json_object_get(o, "payment"), "method"), "banktransfer");
    CHECK_STR_EQ(m2_str(json_object_get(o, "payment"), "title"), "Bank Transfer Payment");
    CHECK(json_object_get(o, "source") != NULL);
    json_decref(o);
    json_decref(native);
}

/* A synthetic order: fixed bundle, grouped rows, a free item, a discount on prices including tax. */
static const char *synthetic_order =
    "{\"entity_id\": 9, \"increment_id\": \"000000009\", \"status\": \"processing\", \"state\": \"processing\","
    " \"created_at\": \"2025-10-01 10:00:00\", \"updated_at\": \"2025-10-01 10:05:00\","
    " \"order_currency_code\": \"EUR\", \"base_currency_code\": \"SEK\", \"base_to_order_rate\": 0.087,"
    " \"customer_email\": \"g@example.com\", \"customer_is_guest\": 1,"
    " \"discount_amount\": -25, \"discount_tax_compensation_amount\": 5, \"discount_description\": \"FIKA20\","
    " \"coupon_code\": \"FIKA20\", \"subtotal\": 200, \"subtotal_incl_tax\": 250, \"tax_amount\": 45,"
    " \"shipping_amount\": 10, \"shipping_incl_tax\": 12.5, \"shipping_tax_amount\": 2.5, \"grand_total\": 232.5,"
    " \"items\": ["
    "  {\"item_id\": 1, \"sku\": \"KIT-CAMP-THERMOS-1L-BLANKET-WOOL\", \"name\": \"Camp Kit\", \"product_type\": "
    "\"bundle\","
    "   \"qty_ordered\": 1, \"price\": 100, \"price_incl_tax\": 125, \"original_price\": 100, \"row_total\": 100,"
    "   \"row_total_incl_tax\": 125, \"tax_amount\": 20, \"tax_percent\": 25, \"discount_amount\": 25,"
    "   \"discount_tax_compensation_amount\": 5},"
    "  {\"item_id\": 2, \"parent_item_id\": 1, \"sku\": \"THERMOS-1L\", \"name\": \"Thermos\", \"product_type\": "
    "\"simple\","
    "   \"qty_ordered\": 1, \"price\": 0, \"row_total\": 0, \"tax_amount\": 0},"
    "  {\"item_id\": 3, \"parent_item_id\": 1, \"sku\": \"BLANKET-WOOL\", \"name\": \"Blanket\", \"product_type\": "
    "\"simple\","
    "   \"qty_ordered\": 1, \"price\": 0, \"row_total\": 0, \"tax_amount\": 0},"
    "  {\"item_id\": 4, \"sku\": \"COFFEE-DARK-500\", \"name\": \"Coffee\", \"product_type\": \"grouped\","
    "   \"qty_ordered\": 2, \"price\": 50, \"price_incl_tax\": 56, \"original_price\": 50, \"row_total\": 100,"
    "   \"row_total_incl_tax\": 112, \"tax_amount\": 12, \"tax_percent\": 12, \"discount_amount\": 0},"
    "  {\"item_id\": 5, \"sku\": \"GIFT-SAMPLE\", \"name\": \"Free Coffee Sample\", \"product_type\": \"simple\","
    "   \"qty_ordered\": 1, \"price\": 0, \"price_incl_tax\": 0, \"row_total\": 0, \"row_total_incl_tax\": 0,"
    "   \"tax_amount\": 0, \"tax_percent\": 12}],"
    " \"billing_address\": {\"firstname\": \"G\", \"lastname\": \"Uest\", \"street\": [\"Main Street\"], \"city\": "
    "\"X\","
    "   \"country_id\": \"DE\", \"vat_id\": \"DE123\"},"
    " \"payment\": {\"method\": \"checkmo\", \"last_trans_id\": \"T-1\"},"
    " \"extension_attributes\": {\"shipping_assignments\": [{\"shipping\": {\"method\": \"flatrate_flatrate\"}}],"
    "   \"applied_taxes\": [{\"code\": \"DE-VAT-25\", \"title\": \"VAT\", \"percent\": 25, \"amount\": 22.5}]}}";

TEST(bundle_grouped_free_and_discount_lines_follow_the_rules)
{
    json_t *native = json_loads(synthetic_order, 0, NULL);
    CHECK(native != NULL);
    ferry_error err;
    ferry_error_clear(&err);
    json_t *o = m2_order_decode(native, -1, &err);
    CHECK(o != NULL);
    if (o == NULL) {
        json_decref(native);
        return;
    }
    CHECK_INT_EQ(json_array_size(json_object_get(o, "lines")), 3);
    json_t *kit = line_by_sku(o, "KIT-CAMP"); /* the bundle sold, not its composite row SKU */
    CHECK_STR_EQ(m2_str(kit, "ordered_sku"), "KIT-CAMP-THERMOS-1L-BLANKET-WOOL");
    CHECK_STR_EQ(m2_str(kit, "unit_price_excl"), "100.00");
    CHECK_INT_EQ(json_array_size(json_object_get(kit, "bundle_children")), 2);
    CHECK(line_by_sku(o, "THERMOS-1L") == NULL);
    json_t *coffee = line_by_sku(o, "COFFEE-DARK-500");
    CHECK_STR_EQ(m2_str(coffee, "product_type"), "grouped");
    CHECK_STR_EQ(m2_str(coffee, "qty"), "2");
    CHECK_STR_EQ(m2_str(coffee, "tax_rate"), "12");
    json_t *gift = line_by_sku(o, "GIFT-SAMPLE");
    CHECK(json_is_true(json_object_get(gift, "is_free")));
    CHECK_STR_EQ(m2_str(gift, "unit_price_incl"), "0.00");
    json_t *d = json_array_get(json_object_get(o, "discounts"), 0);
    CHECK_STR_EQ(m2_str(d, "amount_incl"), "25.00");
    CHECK_STR_EQ(m2_str(d, "amount_excl"), "20.00");
    CHECK_STR_EQ(m2_str(d, "tax"), "5.00");
    CHECK_STR_EQ(m2_str(d, "code"), "FIKA20");
    CHECK(json_is_true(json_object_get(kit, "discount_incl_tax")));
    CHECK_STR_EQ(m2_str(json_object_get(o, "shipping"), "tax_rate"), "25");
    CHECK_STR_EQ(m2_str(o, "rate_to_base"), "11.494253");
    CHECK(json_is_true(json_object_get(o, "is_guest")));
    CHECK(json_is_false(json_object_get(o, "prices_include_tax")));
    CHECK_STR_EQ(m2_str(json_object_get(o, "customer"), "vat_id"), "DE123");
    CHECK_STR_EQ(m2_str(json_object_get(o, "payment"), "reference"), "T-1");
    CHECK_STR_EQ(m2_str(json_array_get(json_object_get(o, "taxes"), 0), "rate"), "25");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(o, "billing"), "house_number")), "");
    json_decref(o);

    /* the same discount taken from prices excluding tax: its tax part comes from the rows */
    json_object_set_new(native, "discount_tax_compensation_amount", json_integer(0));
    json_t *kit_row = json_array_get(json_object_get(native, "items"), 0);
    json_object_set_new(kit_row, "discount_amount", json_integer(20));
    json_object_set_new(kit_row, "discount_tax_compensation_amount", json_integer(0));
    json_object_set_new(native, "discount_amount", json_integer(-20));
    o = m2_order_decode(native, -1, &err);
    d = json_array_get(json_object_get(o, "discounts"), 0);
    CHECK_STR_EQ(m2_str(d, "amount_excl"), "20.00");
    CHECK_STR_EQ(m2_str(d, "tax"), "5.00");
    CHECK_STR_EQ(m2_str(d, "amount_incl"), "25.00");
    CHECK(json_is_false(json_object_get(line_by_sku(o, "KIT-CAMP"), "discount_incl_tax")));
    json_decref(o);
    json_decref(native);
    json_t *bad = json_pack("{s:i}", "entity_id", 1);
    CHECK(m2_order_decode(bad, -1, &err) == NULL);
    CHECK_STR_EQ(err.field, "increment_id");
    json_decref(bad);
}

/* Decoding `native` is refused with a FERRY_RECORD_ERROR naming `field`, its message containing `message`. */
static void check_refused(json_t *native, const char *field, const char *message)
{
    ferry_error err;
    ferry_error_clear(&err);
    json_t *o = m2_order_decode(native, -1, &err);
    CHECK(o == NULL);
    CHECK_INT_EQ(err.status, FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, field);
    CHECK_STR_CONTAINS(err.message, message);
    json_decref(o);
}

TEST(orders_without_items_or_with_unreadable_amounts_are_refused)
{
    json_t *good = json_loads(synthetic_order, 0, NULL);
    REQUIRE(good != NULL);
    json_t *o;
    ferry_error err;

    /* no items at all, an empty list, something else than a list: never a shipping-only document */
    json_t *n = json_deep_copy(good);
    json_object_del(n, "items");
    check_refused(n, "items", "the order has no items");
    json_object_set_new(n, "items", json_array());
    check_refused(n, "items", "the order has no items");
    json_object_set_new(n, "items", json_null());
    check_refused(n, "items", "the order has no items");
    json_object_set_new(n, "items", json_string("x"));
    check_refused(n, "items", "not a list of items");
    json_object_set_new(n, "items", json_pack("[i]", 42));
    check_refused(n, "items[0]", "not an item object");
    json_decref(n);

    /* an order amount that is no number is refused, never read as 0.00 */
    n = json_deep_copy(good);
    json_object_set_new(n, "grand_total", json_string("abc"));
    check_refused(n, "grand_total", "not a number: 'abc'");
    json_object_set_new(n, "grand_total", json_true());
    check_refused(n, "grand_total", "not a number: true");
    json_object_set_new(n, "grand_total", json_real(1e20));
    check_refused(n, "grand_total", "out of range");
    /* a long value is cut for the message, never inside a character */
    json_object_set_new(n, "grand_total",
                        json_string("\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5x"
                                    "\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5"
                                    "\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5\xc3\xa5"));
    check_refused(n, "grand_total", "...'");
    ferry_error_clear(&err);
    CHECK(m2_order_decode(n, -1, &err) == NULL);
    json_t *shown = json_string(err.message);
    CHECK(shown != NULL);
    json_decref(shown);
    json_object_del(n, "grand_total"); /* Magento always sends it */
    check_refused(n, "grand_total", "missing");
    json_object_set_new(n, "grand_total", json_integer(232));
    json_object_set_new(n, "shipping_tax_amount", json_pack("{s:i}", "x", 1));
    check_refused(n, "shipping_tax_amount", "not a number: {\"x\":1}");
    json_decref(n);

    /* a row's quantity or price, named with the row and its SKU */
    n = json_deep_copy(good);
    json_t *row = json_array_get(json_object_get(n, "items"), 3);
    json_object_set_new(row, "qty_ordered", json_string("lots"));
    check_refused(n, "items[3].qty_ordered", "not a number: 'lots' (item COFFEE-DARK-500)");
    json_object_del(row, "qty_ordered");
    check_refused(n, "items[3].qty_ordered", "missing (item COFFEE-DARK-500)");
    json_object_set_new(row, "qty_ordered", json_integer(2));
    json_object_set_new(row, "price", json_pack("{s:i}", "x", 1));
    check_refused(n, "items[3].price", "not a number");
    json_object_set_new(row, "price", json_integer(50));
    json_object_set_new(row, "tax_percent", json_string("12%"));
    check_refused(n, "items[3].tax_percent", "not a number: '12%'");
    json_decref(n);

    /* the applied taxes' rates */
    n = json_deep_copy(good);
    json_object_set_new(json_array_get(m2_path(n, "extension_attributes", "applied_taxes", NULL), 0), "percent",
                        json_string("high"));
    check_refused(n, "extension_attributes.applied_taxes[0].percent", "not a number: 'high'");
    json_decref(n);

    /* numeric strings are numbers; null or absent where Magento leaves a member out is still 0 or unknown */
    n = json_deep_copy(good);
    json_object_set_new(n, "grand_total", json_string("232.5000"));
    json_object_set_new(n, "shipping_discount_amount", json_null());
    json_object_del(n, "total_paid");
    row = json_array_get(json_object_get(n, "items"), 3);
    json_object_set_new(row, "qty_ordered", json_string("2"));
    json_object_set_new(row, "discount_amount", json_null());
    json_object_del(row, "row_total_incl_tax");
    ferry_error_clear(&err);
    o = m2_order_decode(n, -1, &err);
    CHECK(o != NULL);
    CHECK_STR_EQ(m2_str(json_object_get(o, "totals"), "grand_total"), "232.50");
    CHECK_STR_EQ(m2_str(line_by_sku(o, "COFFEE-DARK-500"), "qty"), "2");
    json_decref(o);
    json_decref(n);
    json_decref(good);
}

/* ---- products ----------------------------------------------------------------------------------------------- */

TEST(product_encodes_money_as_text_and_drops_create_only_fields)
{
    json_t *rec = json_loads("{\"sku\": \"X-1\", \"name\": \"Shirt\", \"price\": \"19.9\", \"weight\": 0.25,"
                             " \"active\": false, \"ean\": \"7300000000017\", \"tax_class\": \"2\","
                             " \"attributes\": {\"description\": \"Soft\", \"visibility\": \"2\", \"color\": 49,"
                             "   \"category_ids\": [\"3\"]},"
                             " \"stock\": {\"qty\": \"5\", \"is_in_stock\": true},"
                             " \"create_only\": [\"name\", \"attributes.description\"]}",
                             0, NULL);
    json_t *ids = json_pack("[i,i]", 4, 9);
    m2_product_target t = {1, "1,2", "ean", ids};
    ferry_error err;
    ferry_error_clear(&err);
    json_t *body = m2_product_encode(rec, &t, &err);
    json_t *p = json_object_get(body, "product");
    CHECK_STR_EQ(m2_str(p, "price"), "19.90");
    CHECK_STR_EQ(m2_str(p, "weight"), "0.25");
    CHECK_INT_EQ(m2_json_int(p, "status", 0), 2);
    CHECK_INT_EQ(m2_json_int(p, "visibility", 0), 2);
    CHECK_INT_EQ(m2_json_int(p, "attribute_set_id", 0), 4);
    CHECK_STR_EQ(m2_str(p, "type_id"), "simple");
    json_t *ext = json_object_get(p, "extension_attributes");
    CHECK_INT_EQ(json_array_size(json_object_get(ext, "website_ids")), 2);
    CHECK_STR_EQ(m2_str(json_array_get(json_object_get(ext, "category_links"), 1), "category_id"), "9");
    CHECK_STR_EQ(m2_str(json_object_get(ext, "stock_item"), "qty"), "5");
    char *text = json_dumps(body, JSON_COMPACT);
    CHECK_STR_CONTAINS(text, "{\"attribute_code\":\"description\",\"value\":\"Soft\"}");
    CHECK_STR_CONTAINS(text, "{\"attribute_code\":\"color\",\"value\":\"49\"}");
    CHECK_STR_CONTAINS(text, "{\"attribute_code\":\"ean\",\"value\":\"7300000000017\"}");
    CHECK_STR_CONTAINS(text, "{\"attribute_code\":\"tax_class_id\",\"value\":\"2\"}");
    CHECK_STR_NOT_CONTAINS(text, "category_ids");
    free(text);
    json_decref(body);

    json_t *update = m2_product_drop_create_only(rec);
    CHECK(json_object_get(update, "name") == NULL);
    CHECK(json_object_get(json_object_get(update, "attributes"), "description") == NULL);
    CHECK(json_object_get(json_object_get(update, "attributes"), "color") != NULL);
    CHECK(json_object_get(update, "create_only") == NULL);
    m2_product_target t2 = {0, "1", "ean", NULL};
    body = m2_product_encode(update, &t2, &err);
    CHECK(json_object_get(json_object_get(body, "product"), "name") == NULL);
    CHECK(json_object_get(json_object_get(body, "product"), "type_id") == NULL);
    json_decref(body);
    json_decref(update);

    json_object_set_new(rec, "price", json_string("cheap"));
    CHECK(m2_product_encode(rec, &t, &err) == NULL);
    CHECK_STR_EQ(err.field, "price");
    json_decref(rec);
    json_decref(ids);
}

/* The custom attributes of an encoded product, as "code=value" lines. */
static char *custom_attributes_text(const json_t *body)
{
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "");
    size_t i;
    json_t *ca;
    json_array_foreach (json_object_get(json_object_get(body, "product"), "custom_attributes"), i, ca) {
        ferry_buf_printf(&b, "%s=%s\n", m2_str(ca, "attribute_code"), m2_json_value_text(json_object_get(ca, "value")));
    }
    return ferry_buf_finish(&b);
}

TEST(bundle_price_type_is_encoded_as_magento_price_type)
{
    m2_product_target t = {1, "1", "ean", NULL};
    ferry_error err;
    ferry_error_clear(&err);
    /* a decoded record carries Magento's price_type among its attributes too: the canonical field decides */
    json_t *rec = json_loads("{\"sku\": \"BOX\", \"name\": \"Box\", \"type\": \"bundle\", \"price\": \"99\","
                             " \"bundle_price_type\": \"fixed\", \"attributes\": {\"price_type\": \"0\"},"
                             " \"bundle_options\": [{\"title\": \"Mug\", \"selections\": [{\"sku\": \"MUG\"}]}]}",
                             0, NULL);
    json_t *body = m2_product_encode(rec, &t, &err);
    char *text = custom_attributes_text(body);
    CHECK_STR_EQ(text, "price_type=1\n");
    free(text);
    CHECK_STR_EQ(m2_str(json_object_get(body, "product"), "price"), "99.00");
    json_decref(body);

    json_object_set_new(rec, "bundle_price_type", json_string("dynamic"));
    body = m2_product_encode(rec, &t, &err);
    text = custom_attributes_text(body);
    CHECK_STR_EQ(text, "price_type=0\n");
    free(text);
    json_decref(body);

    /* without the field the attribute goes as it is */
    json_object_del(rec, "bundle_price_type");
    body = m2_product_encode(rec, &t, &err);
    text = custom_attributes_text(body);
    CHECK_STR_EQ(text, "price_type=0\n");
    free(text);
    json_decref(body);

    json_object_set_new(rec, "bundle_price_type", json_string("Fixed price"));
    CHECK(m2_product_encode(rec, &t, &err) == NULL);
    CHECK_INT_EQ(err.status, FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "bundle_price_type");
    json_decref(rec);
}

static const char *path_of(void *ud, const char *id)
{
    return m2_str(ud, id);
}

TEST(product_decodes_configurable_grouped_and_bundle_parts)
{
    json_t *native = json_loads(
        "{\"id\": 7, \"sku\": \"TEE\", \"name\": \"Tee\", \"type_id\": \"configurable\", \"price\": 0, \"status\": 1,"
        " \"updated_at\": \"2025-01-02 03:04:05\","
        " \"extension_attributes\": {\"category_links\": [{\"category_id\": \"4\"}, {\"category_id\": \"99\"}],"
        "   \"configurable_product_options\": [{\"attribute_id\": \"141\", \"label\": \"Size\", \"position\": 0,"
        "     \"values\": [{\"value_index\": 167}, {\"value_index\": 168}]}],"
        "   \"configurable_product_links\": [8, 9],"
        "   \"stock_item\": {\"qty\": 0, \"is_in_stock\": true, \"manage_stock\": true}},"
        " \"media_gallery_entries\": [{\"id\": 1, \"file\": \"/t/e/tee.jpg\", \"label\": \"Front\", \"types\": "
        "[\"image\"],"
        "   \"position\": 1, \"disabled\": false}],"
        " \"custom_attributes\": [{\"attribute_code\": \"ean\", \"value\": \"123\"},"
        "   {\"attribute_code\": \"tax_class_id\", \"value\": \"2\"}, {\"attribute_code\": \"category_ids\", "
        "\"value\": [\"4\"]}]}",
        0, NULL);
    json_t *children = json_loads("[{\"sku\": \"TEE-S\"}, {\"sku\": \"TEE-M\"}]", 0, NULL);
    json_t *paths = json_pack("{s:s}", "4", "Clothing");
    m2_product_context ctx = {"https://shop.example.com/media/", "ean", 0, children, path_of, paths};
    ferry_error err;
    ferry_error_clear(&err);
    json_t *p = m2_product_decode(native, &ctx, &err);
    CHECK_STR_EQ(m2_str(p, "key"), "TEE");
    CHECK_STR_EQ(m2_str(p, "type"), "configurable");
    CHECK_STR_EQ(m2_str(p, "ean"), "123");
    CHECK_STR_EQ(m2_str(p, "tax_class"), "2");
    CHECK(json_object_get(p, "price") == NULL); /* a configurable parent has no price of its own */
    CHECK_INT_EQ(json_array_size(json_object_get(p, "children")), 2);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "categories")), 1);
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(p, "categories"), 0)), "Clothing");
    json_t *opt = json_array_get(json_object_get(p, "options"), 0);
    CHECK_STR_EQ(m2_str(opt, "attribute_id"), "141");
    CHECK_INT_EQ(json_array_size(json_object_get(opt, "values")), 2);
    CHECK_STR_EQ(m2_str(json_array_get(json_object_get(p, "media"), 0), "url"),
                 "https://shop.example.com/media/catalog/product/t/e/tee.jpg");
    CHECK(json_is_true(json_object_get(json_object_get(p, "stock"), "is_in_stock")));
    CHECK_STR_EQ(m2_str(p, "updated_at"), "2025-01-02T03:04:05Z");
    json_decref(p);
    json_decref(native);
    json_decref(children);
    json_decref(paths);

    native =
        json_loads("{\"sku\": \"BOX\", \"type_id\": \"bundle\", \"custom_attributes\": [{\"attribute_code\":"
                   " \"price_type\", \"value\": \"0\"}], \"extension_attributes\": {\"bundle_product_options\": [{"
                   "\"option_id\": 1, \"title\": \"Coffee\", \"required\": true, \"type\": \"select\", \"position\": 1,"
                   " \"product_links\": [{\"sku\": \"C1\", \"qty\": 1, \"is_default\": true, \"price\": 119,"
                   " \"price_type\": null}]}]}}",
                   0, NULL);
    m2_product_context plain = {NULL, "ean", -1, NULL, NULL, NULL};
    p = m2_product_decode(native, &plain, &err);
    CHECK_STR_EQ(m2_str(p, "bundle_price_type"), "dynamic");
    json_t *sel =
        json_array_get(json_object_get(json_array_get(json_object_get(p, "bundle_options"), 0), "selections"), 0);
    CHECK_STR_EQ(m2_str(sel, "sku"), "C1");
    CHECK_STR_EQ(m2_str(sel, "price"), "119.00");
    CHECK(json_object_get(sel, "price_type") == NULL);
    json_decref(p);
    json_decref(native);

    native = json_loads(
        "{\"sku\": \"SET\", \"type_id\": \"grouped\", \"product_links\": [{\"sku\": \"SET\", \"link_type\":"
        " \"associated\", \"linked_product_sku\": \"MUG\", \"linked_product_type\": \"simple\", \"position\": 1,"
        " \"extension_attributes\": {\"qty\": 2}}, {\"sku\": \"SET\", \"link_type\": \"related\","
        " \"linked_product_sku\": \"X\"}]}",
        0, NULL);
    p = m2_product_decode(native, &plain, &err);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "links")), 1);
    CHECK_STR_EQ(m2_str(json_array_get(json_object_get(p, "links"), 0), "qty"), "2");
    json_decref(p);
    json_decref(native);
}

TEST(category_tree_becomes_paths_below_the_store_root)
{
    json_t *tree = json_loads("{\"id\": 1, \"name\": \"Root Catalog\", \"children_data\": [{\"id\": 2, \"name\":"
                              " \"Default Category\", \"children_data\": [{\"id\": 4, \"name\": \"Clothing\","
                              " \"children_data\": [{\"id\": 9, \"name\": \"Shirts\", \"children_data\": []}]},"
                              " {\"id\": 5, \"name\": \"Books\", \"children_data\": []}]}]}",
                              0, NULL);
    json_t *index = m2_category_index(tree, 0);
    CHECK_INT_EQ(m2_json_int(index, "root", 0), 2);
    CHECK_INT_EQ(m2_json_int(json_object_get(index, "paths"), "Clothing/Shirts", 0), 9);
    CHECK_STR_EQ(m2_str(json_object_get(index, "names"), "5"), "Books");
    CHECK(json_object_get(json_object_get(index, "names"), "2") == NULL);
    json_decref(index);
    index = m2_category_index(tree, 4);
    CHECK_INT_EQ(m2_json_int(json_object_get(index, "paths"), "Shirts", 0), 9);
    json_decref(index);
    json_decref(tree);
}

TEST(images_are_recognised_and_named_for_magento)
{
    char name[64];
    CHECK_STR_EQ(m2_media_mime((const unsigned char *)"\x89PNG\r\n\x1a\n....", 12), "image/png");
    CHECK_STR_EQ(m2_media_mime((const unsigned char *)"\xff\xd8\xff\xe0", 4), "image/jpeg");
    CHECK_STR_EQ(m2_media_mime((const unsigned char *)"GIF89a..", 8), "image/gif");
    CHECK(m2_media_mime((const unsigned char *)"<html>", 6) == NULL);
    CHECK_STR_EQ(m2_media_name("/tmp/x/Mug front (1).png", "image/png", name, sizeof(name)), "Mug_front__1_.png");
    CHECK_STR_EQ(m2_media_name("https://cdn.example.com/img/abc?size=2", "image/jpeg", name, sizeof(name)), "abc.jpg");
    CHECK_STR_EQ(m2_media_name("https://cdn.example.com/", "image/gif", name, sizeof(name)), "image.gif");
}

TEST(stock_items_decode)
{
    json_t *item = json_loads("{\"item_id\": 3, \"stock_id\": 1, \"qty\": 12.5, \"is_in_stock\": true,"
                              " \"manage_stock\": false}",
                              0, NULL);
    json_t *s = m2_stock_from_item("MUG", item);
    CHECK_STR_EQ(m2_str(s, "key"), "MUG");
    CHECK_STR_EQ(m2_str(s, "qty"), "12.5");
    CHECK_STR_EQ(m2_str(s, "salable_qty"), "12.5");
    CHECK(json_is_false(json_object_get(s, "manage_stock")));
    json_decref(s);
    json_decref(item);
}

int main(void)
{
    fake_host = *ferry_host_table();
    fake_host.setting = fake_setting;
    fake_host.secret = fake_secret;
    fake_settings = json_object();

    RUN_TEST(oauth_base_string_matches_an_independent_computation);
    RUN_TEST(oauth_header_is_signed_hmac_sha256_like_python_computes);
    RUN_TEST(oauth_url_is_normalised_like_magento);
    RUN_TEST(search_values_cannot_add_parameters);
    RUN_TEST(street_lines_split_into_name_and_number);
    RUN_TEST(money_has_four_decimals_and_shows_two_to_four);
    RUN_TEST(times_convert_between_magento_and_iso);
    RUN_TEST(cursor_pages_by_keyset_and_rewinds_with_overlap);
    RUN_TEST(cursor_remembers_the_newest_5000_ids_of_the_window);
    RUN_TEST(magento_messages_are_filled_in_and_classified);
    RUN_TEST(secrets_are_masked_in_messages);
    RUN_TEST(docs_sample_order_decodes_with_configurable_and_dynamic_bundle_lines);
    RUN_TEST(bundle_grouped_free_and_discount_lines_follow_the_rules);
    RUN_TEST(orders_without_items_or_with_unreadable_amounts_are_refused);
    RUN_TEST(product_encodes_money_as_text_and_drops_create_only_fields);
    RUN_TEST(bundle_price_type_is_encoded_as_magento_price_type);
    RUN_TEST(product_decodes_configurable_grouped_and_bundle_parts);
    RUN_TEST(category_tree_becomes_paths_below_the_store_root);
    RUN_TEST(images_are_recognised_and_named_for_magento);
    RUN_TEST(stock_items_decode);

    json_decref(fake_settings);
    TEST_MAIN_END();
}
