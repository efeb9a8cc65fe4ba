/*
 * test_magento2_plugin.c - the built magento2.so against the Magento 2
 * emulator (tests/emulators/magento2.py), through libferry's real store,
 * connections, loader and endpoints, exactly as the engine uses a plugin.
 *
 * One emulator serves every test; tests change its configuration through
 * /_emulator/config (bearer, tfa, legacy_paging, acl), its clock and faults,
 * and put it back.  Without python3 (or when the emulator does not start)
 * every test reports "ok N # SKIP".
 */
#include "config.h"

#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connection.h"
#include "host.h"
#include "loader.h"
#include "log.h"
#include "store.h"
#include "testing.h"
#include "testsupport.h"
#include "util.h"

#define CONSUMER_KEY "ferryconsumerkey0000000000000001"
#define CONSUMER_SECRET "ferryconsumersecret0000000000001"
#define ACCESS_TOKEN "ferryaccesstoken0000000000000001"
#define TOKEN_SECRET "ferryaccesstokensecret0000000001"
#define ADMIN_PASSWORD "admin123"
#define ORDERS 60

static ferry_test_server emu;
static ferry_store *store;
static ferry_loader *loader;
static const ferry_plugin *plugin;
static int ready;
static ferry_buf logged = FERRY_BUF_INIT;
static char tmpdir[512];

static void capture_log(void *ud, int level, const char *context, const char *message)
{
    (void)ud;
    (void)context;
    ferry_buf_printf(&logged, "%s: %s\n", ferry_log_level_name(level), message); /* every level, for the secret check */
}

/* ---- the emulator ---------------------------------------------------------------------- */

static json_t *emu_call(const char *method, const char *path, const char *body_json)
{
    json_t *body = body_json ? json_loads(body_json, 0, NULL) : NULL;
    long status = 0;
    json_t *out = ferry_test_http(emu.url, method, path, body, &status);
    json_decref(body);
    if (status != 200) {
        printf("# emulator %s %s answered %ld\n", method, path, status);
    }
    return out;
}

static void emu_admin(const char *path, const char *body_json)
{
    json_decref(emu_call("POST", path, body_json));
}

static json_t *emu_state(void)
{
    return emu_call("GET", "/_emulator/state", NULL);
}

/* ---- connections ----------------------------------------------------------------------------- */

/* Add connection `name` with the oauth credentials plus `extra` (JSON object text, may be NULL) and open it. */
static ferry_endpoint *open_conn(const char *name, const char *extra, ferry_error *err)
{
    json_t *settings =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "base_url", emu.url, "consumer_key", CONSUMER_KEY,
                  "consumer_secret", CONSUMER_SECRET, "access_token", ACCESS_TOKEN, "access_token_secret", TOKEN_SECRET,
                  "admin_username", "admin", "admin_password", ADMIN_PASSWORD);
    if (extra != NULL) {
        json_t *more = json_loads(extra, 0, NULL);
        json_object_update(settings, more);
        json_decref(more);
    }
    ferry_error_clear(err);
    ferry_endpoint *ep = NULL;
    if (ferry_connection_add(store, name, "magento2", plugin->desc->settings, settings, err) == FERRY_OK) {
        ferry_endpoint_open(store, loader, name, 0, &ep, err);
    }
    json_decref(settings);
    return ep;
}

static char *connection_status(const char *name)
{
    ferry_error err;
    ferry_connection *row = NULL;
    char *status = NULL;
    if (ferry_connection_get(store, name, &row, &err) == FERRY_OK) {
        status = ferry_asprintf("%s: %s", row->status, row->status_message ? row->status_message : "");
    }
    ferry_connection_free(row);
    return status ? status : ferry_strdup("(no connection)");
}

/* What `ferry connection authorize NAME` does: the plugin's authorize, then "ok" when it succeeded. */
static int authorize(const char *name, ferry_error *err)
{
    ferry_endpoint *ep = NULL;
    ferry_error_clear(err);
    if (plugin->desc->authorize == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, NULL, "the plugin has no authorize");
    }
    int rc = ferry_endpoint_open(store, loader, name, FERRY_ENDPOINT_NO_OPEN, &ep, err);
    if (rc == FERRY_OK) {
        rc = plugin->desc->authorize(ferry_host_table(), ep->hc, err);
        if (rc == FERRY_OK) {
            ferry_error ignored;
            ferry_connection_set_status(store, ferry_endpoint_connection(ep)->id, "ok", NULL, &ignored);
        }
        ferry_endpoint_close(ep);
    }
    return rc;
}

static void set_setting(const char *name, const char *key, const char *value)
{
    ferry_error err;
    ferry_connection *row = NULL;
    json_t *values = json_pack("{s:s}", key, value);
    if (ferry_connection_get(store, name, &row, &err) != FERRY_OK ||
        ferry_connection_update_settings(store, row->id, plugin->desc->settings, values, &err) != FERRY_OK) {
        printf("# set %s.%s: %s\n", name, key, err.message);
    }
    ferry_connection_free(row);
    json_decref(values);
}

static int op_test(ferry_endpoint *ep, json_t **info, ferry_error *err)
{
    ferry_error_clear(err);
    *info = NULL;
    return ep->plugin->desc->test(ep->conn, info, err);
}

static int op_read(ferry_endpoint *ep, const char *entity, const json_t *query, const json_t *cursor, json_t **records,
                   json_t **next, int *more, ferry_error *err)
{
    ferry_error_clear(err);
    return ep->plugin->desc->read_page(ep->conn, entity, query, cursor, records, next, more, err);
}

static int op_find(ferry_endpoint *ep, const char *entity, const char *key, const char *value, json_t **found,
                   ferry_error *err)
{
    ferry_error_clear(err);
    return ep->plugin->desc->find(ep->conn, entity, key, value, found, err);
}

static int op_create(ferry_endpoint *ep, const char *entity, const char *record_json, json_t **created,
                     ferry_error *err)
{
    json_t *rec = json_loads(record_json, 0, NULL);
    ferry_error_clear(err);
    int rc = ep->plugin->desc->create(ep->conn, entity, rec, created, err);
    json_decref(rec);
    return rc;
}

static int op_update(ferry_endpoint *ep, const char *entity, const char *id, const char *record_json, json_t **updated,
                     ferry_error *err)
{
    json_t *rec = json_loads(record_json, 0, NULL);
    ferry_error_clear(err);
    int rc = ep->plugin->desc->update(ep->conn, entity, id, rec, updated, err);
    json_decref(rec);
    return rc;
}

/*
 * Read pages until more == 0 (at most max_pages), starting from *cursor
 * (replaced by the last next cursor).  Returns every record; *pages counts
 * the calls; *rc is the first failure.
 */
static json_t *read_run(ferry_endpoint *ep, const char *entity, const json_t *query, json_t **cursor, int max_pages,
                        int *pages, int *rc, ferry_error *err)
{
    json_t *all = json_array();
    int more = 1;
    *pages = 0;
    *rc = FERRY_OK;
    while (more && *pages < max_pages) {
        json_t *records = NULL, *next = NULL;
        *rc = op_read(ep, entity, query, *cursor, &records, &next, &more, err);
        (*pages)++;
        if (*rc != FERRY_OK) {
            printf("# read %s failed: %s\n", entity, err->message);
            break;
        }
        json_array_extend(all, records);
        json_decref(records);
        json_decref(*cursor);
        *cursor = next;
    }
    return all;
}

/* How many records of `list` have "key" == key. */
static int count_key(const json_t *list, const char *key)
{
    int n = 0;
    size_t i;
    json_t *r;
    json_array_foreach (list, i, r) {
        const char *k = json_string_value(json_object_get(r, "key"));
        n += k != NULL && strcmp(k, key) == 0;
    }
    return n;
}

static int all_keys_unique(const json_t *list)
{
    size_t i;
    json_t *r;
    json_array_foreach (list, i, r) {
        if (count_key(list, json_string_value(json_object_get(r, "key"))) != 1) {
            printf("# duplicate key %s\n", json_string_value(json_object_get(r, "key")));
            return 0;
        }
    }
    return 1;
}

static const char *s(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

static void check_no_secret(const char *text)
{
    CHECK_STR_NOT_CONTAINS(text, CONSUMER_SECRET);
    CHECK_STR_NOT_CONTAINS(text, TOKEN_SECRET);
    CHECK_STR_NOT_CONTAINS(text, ACCESS_TOKEN);
    CHECK_STR_NOT_CONTAINS(text, ADMIN_PASSWORD);
}

/* ---- authentication ------------------------------------------------------------------------------ */

TEST(oauth_connection_test_shows_the_store)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("oauth", NULL, &err);
    CHECK(ep != NULL);
    if (ep == NULL) {
        return;
    }
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_OK);
    CHECK_STR_EQ(s(info, "store_code"), "default");
    CHECK_STR_EQ(s(info, "auth_mode"), "oauth");
    CHECK(s(info, "base_url") != NULL);
    CHECK_STR_EQ(s(info, "base_currency"), "SEK");
    json_decref(info);
    json_t *state = emu_state();
    CHECK(json_integer_value(json_object_get(json_object_get(json_object_get(state, "store"), "auth"), "nonces_used")) >
          0);
    json_decref(state);
    ferry_endpoint_close(ep);
}

TEST(oauth_wrong_secret_is_explained_as_a_signature_problem)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("oauth-bad", "{\"consumer_secret\": \"wrongwrongwrongwrongwrongwrong12\"}", &err);
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "signature");
    CHECK(err.flags & FERRY_ERROR_NEEDS_REAUTH);
    CHECK_INT_EQ(err.http_status, 401);
    CHECK_STR_NOT_CONTAINS(err.message, "wrongwrongwrong");
    check_no_secret(err.message);
    ferry_endpoint_close(ep);
    char *status = connection_status("oauth-bad");
    CHECK_STR_CONTAINS(status, "needs_reauth: ");
    CHECK_STR_CONTAINS(status, "signature");
    free(status);
}

TEST(oauth_clock_ahead_of_the_server_is_explained)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("oauth-clock", NULL, &err);
    emu_admin("/_emulator/clock", "{\"advance\": -3600}"); /* the shop's clock an hour behind ours */
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "timestamp");
    CHECK_STR_CONTAINS(err.message, "clock");
    emu_admin("/_emulator/clock", "{\"advance\": 3600}");
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_OK);
    json_decref(info);
    ferry_endpoint_close(ep);
}

TEST(hmac_sha1_refusal_is_explained)
{
    /* ferry signs with HMAC-SHA256 (test_magento2_units checks the header); this is what a server says to SHA1 */
    ferry_error err;
    ferry_endpoint *ep = open_conn("oauth-sha1", NULL, &err);
    emu_admin("/_emulator/faults", "{\"route\": \"/V1/orders\", \"method\": \"GET\", \"status\": 400, \"count\": 1,"
                                   " \"body\": {\"message\": \"Signature method %1 is not supported\","
                                   " \"parameters\": [\"HMAC-SHA1\"]}}");
    json_t *records = NULL, *next = NULL;
    int more = 0;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &records, &next, &more, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "Signature method HMAC-SHA1 is not supported");
    CHECK_STR_CONTAINS(err.message, "only HMAC-SHA256");
    ferry_endpoint_close(ep);
}

TEST(bearer_refused_by_2_4_4_is_explained_and_works_when_allowed)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("bearer", "{\"auth_mode\": \"bearer\"}", &err);
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "2.4.4");
    CHECK_STR_CONTAINS(err.message, "enable_integration_as_bearer");
    CHECK_STR_CONTAINS(err.message, "auth_mode=oauth");
    check_no_secret(err.message);
    /* Magento answers a refused Bearer token like a missing ACL resource: the connection is not stopped for it */
    CHECK(!(err.flags & FERRY_ERROR_NEEDS_REAUTH));
    char *status = connection_status("bearer");
    CHECK_STR_EQ(status, "ok: ");
    free(status);
    emu_admin("/_emulator/config", "{\"bearer\": true}");
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_OK);
    CHECK_STR_EQ(s(info, "auth_mode"), "bearer");
    json_decref(info);
    emu_admin("/_emulator/config", "{\"bearer\": false}");
    ferry_endpoint_close(ep);
}

static int live_admin_tokens(void)
{
    json_t *state = emu_state();
    int n = (int)json_integer_value(
        json_object_get(json_object_get(json_object_get(state, "store"), "auth"), "admin_tokens"));
    json_decref(state);
    return n;
}

TEST(admin_token_is_obtained_kept_and_renewed)
{
    ferry_error err;
    int before = live_admin_tokens();
    ferry_endpoint *ep = open_conn("admin", "{\"auth_mode\": \"admin\"}", &err);
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_OK);
    json_decref(info);
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_OK);
    json_decref(info);
    CHECK_INT_EQ(live_admin_tokens(), before + 1); /* one token for both calls */
    ferry_connection *row = NULL;
    ferry_connection_get(store, "admin", &row, &err);
    const char *token = row ? s(row->settings, "admin_token") : NULL;
    CHECK(token != NULL && strncmp(token, "eyJ", 3) == 0);
    CHECK(row && s(row->settings, "admin_token_expires_at") != NULL);
    CHECK(row && json_is_true(json_object_get(row->secrets, "admin_token")));
    char *first = ferry_strdup(token);
    ferry_connection_free(row);

    /* five hours later Magento has forgotten the token: the plugin renews it on the 401 */
    emu_admin("/_emulator/clock", "{\"advance\": 18000}");
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_OK);
    json_decref(info);
    emu_admin("/_emulator/clock", "{\"advance\": -18000}");
    ferry_connection_get(store, "admin", &row, &err);
    CHECK(row && s(row->settings, "admin_token") && strcmp(s(row->settings, "admin_token"), first) != 0);
    ferry_connection_free(row);
    free(first);
    ferry_endpoint_close(ep);
}

TEST(admin_wrong_password_is_named)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("admin-bad", "{\"auth_mode\": \"admin\", \"admin_password\": \"nottheone9\"}", &err);
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "user name or password");
    CHECK_STR_EQ(err.field, "admin_password");
    CHECK_STR_NOT_CONTAINS(err.message, "nottheone9");
    ferry_endpoint_close(ep);
    /* no more attempts until a person fixes it (Magento locks the admin after 6 failures) */
    ferry_connection *row = NULL;
    ferry_connection_get(store, "admin-bad", &row, &err);
    CHECK(row != NULL && strcmp(row->status, "needs_reauth") == 0);
    ferry_connection_free(row);
    CHECK(ferry_endpoint_open(store, loader, "admin-bad", 0, &ep, &err) == FERRY_CONFIG_ERROR);
}

TEST(admin_two_factor_refusal_is_explained)
{
    ferry_error err;
    emu_admin("/_emulator/config", "{\"tfa\": true}");
    ferry_endpoint *ep = open_conn("admin-2fa", "{\"auth_mode\": \"admin\"}", &err);
    json_t *info = NULL;
    CHECK_INT_EQ(op_test(ep, &info, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "two-factor authentication");
    CHECK_STR_CONTAINS(err.message, "Magento_TwoFactorAuth");
    CHECK_STR_CONTAINS(err.message, "auth_mode=oauth");
    emu_admin("/_emulator/config", "{\"tfa\": false}");
    ferry_endpoint_close(ep);
}

TEST(refused_integration_credentials_stop_the_connection_until_authorized_again)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("oauth-revoked", "{\"access_token\": \"revokedrevokedrevokedrevoked0001\"}", &err);
    json_t *records = NULL, *next = NULL;
    int more = 0;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &records, &next, &more, &err), FERRY_CONFIG_ERROR);
    CHECK(err.flags & FERRY_ERROR_NEEDS_REAUTH);
    CHECK_STR_CONTAINS(err.message, "access token");
    ferry_endpoint_close(ep);
    /* like a refused admin password: the connection is marked, and no run opens it */
    char *status = connection_status("oauth-revoked");
    CHECK_STR_CONTAINS(status, "needs_reauth: ");
    CHECK_STR_CONTAINS(status, "copy its access token");
    free(status);
    ep = NULL;
    CHECK_INT_EQ(ferry_endpoint_open(store, loader, "oauth-revoked", 0, &ep, &err), FERRY_CONFIG_ERROR);
    CHECK(ep == NULL && (err.flags & FERRY_ERROR_NEEDS_REAUTH));

    /* authorize proves the credentials: refused while they are wrong, the way back once they are right */
    CHECK_INT_EQ(authorize("oauth-revoked", &err), FERRY_CONFIG_ERROR);
    CHECK(err.flags & FERRY_ERROR_NEEDS_REAUTH);
    set_setting("oauth-revoked", "access_token", ACCESS_TOKEN);
    CHECK_INT_EQ(authorize("oauth-revoked", &err), FERRY_OK);
    status = connection_status("oauth-revoked");
    CHECK_STR_EQ(status, "ok: ");
    free(status);
    CHECK_INT_EQ(ferry_endpoint_open(store, loader, "oauth-revoked", 0, &ep, &err), FERRY_OK);
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &records, &next, &more, &err), FERRY_OK);
    json_decref(records);
    json_decref(next);
    ferry_endpoint_close(ep);
}

TEST(missing_acl_resource_is_named)
{
    ferry_error err;
    emu_admin("/_emulator/config", "{\"acl\": [\"Magento_Catalog::products\"]}");
    ferry_endpoint *ep = open_conn("oauth-acl", NULL, &err);
    json_t *records = NULL, *next = NULL;
    int more = 0;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &records, &next, &more, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "Magento_Sales::actions_view");
    CHECK_STR_CONTAINS(err.message, "Integrations");
    /* one resource missing is not a credential problem: the connection stays ok and its other flows work */
    CHECK(!(err.flags & FERRY_ERROR_NEEDS_REAUTH));
    char *status = connection_status("oauth-acl");
    CHECK_STR_EQ(status, "ok: ");
    free(status);
    json_t *p = NULL;
    CHECK_INT_EQ(op_find(ep, "product", "sku", "MUG-STONE", &p, &err), FERRY_OK);
    CHECK(p != NULL);
    json_decref(p);
    /* authorize passes: the signature was accepted, only the resource is not granted */
    CHECK_INT_EQ(authorize("oauth-acl", &err), FERRY_OK);
    emu_admin("/_emulator/config", "{\"acl\": null}");
    ferry_endpoint_close(ep);
}

TEST(settings_are_checked_at_open)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("no-secret", "{\"consumer_secret\": null}", &err);
    CHECK(ep == NULL);
    CHECK_STR_EQ(err.field, "consumer_secret");
    ep = open_conn("bad-page", "{\"page_size\": \"500\"}", &err);
    CHECK(ep == NULL);
    CHECK_STR_EQ(err.field, "page_size");
}

/* ---- orders ------------------------------------------------------------------------------------------- */

static json_t *all_orders; /* every order read by the paging test, for the line checks */

TEST(orders_sharing_updated_at_are_neither_skipped_nor_repeated)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("orders", "{\"page_size\": \"2\"}", &err);
    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *got = read_run(ep, "order", NULL, &cursor, 200, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK_INT_EQ(json_array_size(got), ORDERS);
    CHECK(all_keys_unique(got));
    CHECK(pages >= ORDERS / 2);
    all_orders = json_incref(got);
    json_decref(got);

    /* the next run re-reads the overlap window and hands out nothing again */
    got = read_run(ep, "order", NULL, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK_INT_EQ(json_array_size(got), 0);
    json_decref(got);

    /* three orders change in one second, two are placed: exactly those five come next */
    json_t *first = json_array_get(all_orders, 0);
    json_t *second = json_array_get(all_orders, 1);
    json_t *third = json_array_get(all_orders, 2);
    char body[256];
    snprintf(body, sizeof(body), "{\"entity_ids\": [%s, %s, %s]}", s(first, "id"), s(second, "id"), s(third, "id"));
    emu_admin("/_emulator/orders/touch", body);
    emu_admin("/_emulator/orders/new", "{\"count\": 2}");
    got = read_run(ep, "order", NULL, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(json_array_size(got), 5);
    CHECK_INT_EQ(count_key(got, s(first, "key")), 1);
    CHECK_INT_EQ(count_key(got, s(third, "key")), 1);
    CHECK(all_keys_unique(got));
    json_decref(got);
    got = read_run(ep, "order", NULL, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(json_array_size(got), 0);
    json_decref(got);
    json_decref(cursor);
    ferry_endpoint_close(ep);
}

/*
 * The emulator's --legacy-paging repeats the last page only for a page past
 * the end, and the keyset reader always asks currentPage=1: this checks
 * that such a shop is read completely and once, not the stale-page branch
 * (the next test does that).
 */
TEST(legacy_paging_shop_is_read_completely_by_keyset)
{
    ferry_error err;
    emu_admin("/_emulator/config", "{\"legacy_paging\": true}");
    ferry_endpoint *ep = open_conn("orders-legacy", "{\"page_size\": \"7\"}", &err);
    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *got = read_run(ep, "order", NULL, &cursor, 100, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK_INT_EQ(pages, (ORDERS + 2 + 6) / 7);
    CHECK_INT_EQ(json_array_size(got), ORDERS + 2);
    CHECK(all_keys_unique(got));
    json_decref(got);
    json_decref(cursor);
    cursor = NULL;
    got = read_run(ep, "stock", NULL, &cursor, 100, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK(pages < 100 && json_array_size(got) > 7);
    CHECK(all_keys_unique(got));
    json_decref(got);
    json_decref(cursor);
    emu_admin("/_emulator/config", "{\"legacy_paging\": false}");
    ferry_endpoint_close(ep);
}

/* Make the next GET of `route` answer 200 with `body` (what a server ignoring the search filter sends). */
static void answer_next_get(const char *route, json_t *body)
{
    json_t *fault = json_pack("{s:s, s:s, s:i, s:i, s:o}", "route", route, "method", "GET", "status", 200, "count", 1,
                              "body", body);
    char *text = json_dumps(fault, JSON_COMPACT);
    emu_admin("/_emulator/faults", text);
    free(text);
    json_decref(fault);
}

/*
 * A page whose records are not after the cursor (a Magento <= 2.3 that
 * repeats a page, or an extension that drops the filter) hands out none of
 * them and ends the read with a warning instead of asking again; the next
 * run goes on from where the last good page ended.
 */
TEST(page_repeating_records_before_the_cursor_ends_the_read)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("orders-stale", "{\"page_size\": \"7\"}", &err);
    json_t *first = NULL, *cursor = NULL, *next = NULL;
    int more = 0;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &first, &cursor, &more, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(first), 7);
    CHECK(more);

    /* the server sends the first page again, as the answer to the second */
    json_t *natives = json_array();
    size_t i;
    json_t *r;
    json_array_foreach (first, i, r) {
        json_array_append(natives, json_object_get(r, "source"));
    }
    answer_next_get("/rest/default/V1/orders",
                    json_pack("{s:o, s:{}, s:i}", "items", natives, "search_criteria", "total_count", ORDERS + 2));
    size_t log_mark = logged.len;
    json_t *records = NULL;
    CHECK_INT_EQ(op_read(ep, "order", NULL, cursor, &records, &next, &more, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(records), 0);
    CHECK_INT_EQ(more, 0);
    CHECK_STR_CONTAINS(logged.data + log_mark, "repeated records before the cursor");
    json_decref(records);
    json_decref(cursor);
    cursor = next;

    /* the next run reads the rest, each order once */
    int pages = 0, rc;
    json_t *rest = read_run(ep, "order", NULL, &cursor, 100, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    json_array_extend(rest, first);
    CHECK_INT_EQ(json_array_size(rest), ORDERS + 2);
    CHECK(all_keys_unique(rest));
    json_decref(rest);
    json_decref(first);
    json_decref(cursor);

    /* stock: a product page that starts again at id 1 ends the scan the same way */
    CHECK_INT_EQ(op_read(ep, "stock", NULL, NULL, &first, &cursor, &more, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(first), 7);
    CHECK(more);
    answer_next_get("/rest/default/V1/products",
                    json_pack("{s:[{s:i, s:s, s:s, s:{s:{s:i, s:b}}}], s:i}", "items", "id", 1, "sku", "OLD-1",
                              "type_id", "simple", "extension_attributes", "stock_item", "qty", 5, "is_in_stock", 1,
                              "total_count", 100));
    log_mark = logged.len;
    CHECK_INT_EQ(op_read(ep, "stock", NULL, cursor, &records, &next, &more, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(records), 0);
    CHECK_INT_EQ(more, 0);
    json_decref(records);
    json_decref(next);
    json_decref(first);
    json_decref(cursor);
    ferry_endpoint_close(ep);
}

TEST(status_filter_and_since_reach_the_query)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("orders-status", NULL, &err);
    json_t *query = json_pack("{s:[s,s]}", "statuses", "processing", "holded");
    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *got = read_run(ep, "order", query, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    int expected = 0;
    size_t i;
    json_t *o;
    json_array_foreach (all_orders, i, o) {
        expected += strcmp(s(o, "status"), "processing") == 0 || strcmp(s(o, "status"), "holded") == 0;
    }
    CHECK(expected > 0);
    CHECK_INT_EQ((int)json_array_size(got), expected);
    json_array_foreach (got, i, o) {
        CHECK(strcmp(s(o, "status"), "processing") == 0 || strcmp(s(o, "status"), "holded") == 0);
    }
    json_decref(got);
    json_decref(cursor);
    json_decref(query);
    query = json_pack("{s:[s]}", "statuses", "a,b");
    json_t *records = NULL, *next = NULL;
    int more;
    CHECK_INT_EQ(op_read(ep, "order", query, NULL, &records, &next, &more, &err), FERRY_CONFIG_ERROR);
    json_decref(query);
    query = json_pack("{s:s}", "since", "2099-01-01T00:00:00Z");
    CHECK_INT_EQ(op_read(ep, "order", query, NULL, &records, &next, &more, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(records), 0);
    json_decref(records);
    json_decref(next);
    json_decref(query);
    ferry_endpoint_close(ep);
}

TEST(orders_are_found_by_number_and_id)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("orders-find", NULL, &err);
    json_t *one = json_array_get(all_orders, 5);
    json_t *found = NULL;
    CHECK_INT_EQ(op_find(ep, "order", "number", s(one, "number"), &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(found, "id"), s(one, "id"));
    json_decref(found);
    CHECK_INT_EQ(op_find(ep, "order", "id", s(one, "id"), &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(found, "number"), s(one, "number"));
    json_decref(found);
    CHECK_INT_EQ(op_find(ep, "order", "key", s(one, "key"), &found, &err), FERRY_OK); /* the engine's retry asks so */
    CHECK_STR_EQ(s(found, "id"), s(one, "id"));
    json_decref(found);
    CHECK_INT_EQ(op_find(ep, "order", "number", "999999999", &found, &err), FERRY_OK);
    CHECK(found == NULL);
    CHECK_INT_EQ(op_find(ep, "order", "id", "99999", &found, &err), FERRY_OK);
    CHECK(found == NULL);
    ferry_endpoint_close(ep);
}

static long long units(const char *money)
{
    /* "12.34" -> 1234 (cents), enough for the sums below */
    if (money == NULL) {
        return 0;
    }
    long long whole = 0, frac = 0;
    int neg = *money == '-', places = 0;
    const char *p = money + neg;
    for (; *p && *p != '.'; p++) {
        whole = whole * 10 + (*p - '0');
    }
    if (*p == '.') {
        for (p++; *p && places < 2; p++, places++) {
            frac = frac * 10 + (*p - '0');
        }
    }
    for (; places < 2; places++) {
        frac *= 10;
    }
    return (neg ? -1 : 1) * (whole * 100 + frac);
}

/* Lines add up to the order: subtotal, tax (with shipping) and discount. */
static void check_order_sums(const json_t *o)
{
    long long sub = 0, tax = 0, disc = 0;
    size_t i;
    json_t *l;
    json_array_foreach (json_object_get(o, "lines"), i, l) {
        sub += units(s(l, "row_total_excl"));
        tax += units(s(l, "tax_amount"));
        disc += units(s(l, "discount_amount"));
        CHECK(units(s(l, "row_total_excl")) == units(s(l, "unit_price_excl")) * atoll(s(l, "qty")));
    }
    json_t *t = json_object_get(o, "totals");
    tax += units(s(json_object_get(o, "shipping"), "tax"));
    CHECK_MSG(sub == units(s(t, "subtotal_excl")), "order %s subtotal %lld vs %s", s(o, "key"), sub,
              s(t, "subtotal_excl"));
    CHECK_MSG(tax == units(s(t, "tax")), "order %s tax %lld vs %s", s(o, "key"), tax, s(t, "tax"));
    CHECK_MSG(disc == units(s(t, "discount")), "order %s discount %lld vs %s", s(o, "key"), disc, s(t, "discount"));
    json_t *d = json_array_get(json_object_get(o, "discounts"), 0);
    if (d != NULL) {
        CHECK(units(s(d, "amount_incl")) - units(s(d, "amount_excl")) == units(s(d, "tax")));
    }
}

static const json_t *line_with(const json_t *o, const char *field, const char *value)
{
    size_t i;
    json_t *l;
    json_array_foreach (json_object_get(o, "lines"), i, l) {
        const char *v = s(l, field);
        if (v != NULL && strcmp(v, value) == 0) {
            return l;
        }
    }
    return NULL;
}

/* A number in Magento's JSON (number or numeric text) as a double; 0 when absent. */
static double number_of(const json_t *v)
{
    return json_is_string(v) ? atof(json_string_value(v)) : json_number_value(v);
}

static int has_parent(const json_t *row)
{
    json_t *p = json_object_get(row, "parent_item_id");
    return p != NULL && !json_is_null(p);
}

/*
 * How many canonical lines an order's raw rows call for, by the rules of
 * doc/magento2.md, counted here independently of the decoder: each row
 * without parent_item_id is one line, except a bundle whose children carry
 * a price or row total (dynamic price): its children are the lines instead.
 */
static size_t expected_lines(const json_t *items)
{
    size_t n = 0, i, j;
    json_t *row, *child;
    json_array_foreach (items, i, row) {
        if (has_parent(row)) {
            continue;
        }
        const char *type = s(row, "product_type");
        if (type == NULL || strcmp(type, "bundle") != 0) {
            n++;
            continue;
        }
        size_t children = 0;
        int priced = 0;
        json_array_foreach (items, j, child) {
            if (has_parent(child) &&
                number_of(json_object_get(child, "parent_item_id")) == number_of(json_object_get(row, "item_id"))) {
                children++;
                priced |= number_of(json_object_get(child, "price")) != 0 ||
                          number_of(json_object_get(child, "row_total")) != 0;
            }
        }
        n += priced ? children : 1;
    }
    return n;
}

TEST(order_lines_follow_the_configurable_bundle_grouped_rules)
{
    int configurable = 0, dynamic = 0, fixed = 0, grouped = 0, free_items = 0, disc_incl = 0, disc_excl = 0;
    size_t i;
    json_t *o;
    json_array_foreach (all_orders, i, o) {
        check_order_sums(o);
        json_t *source_items = json_object_get(json_object_get(o, "source"), "items");
        const json_t *conf = line_with(o, "product_type", "configurable");
        if (conf != NULL) {
            configurable++;
            CHECK(units(s(conf, "unit_price_excl")) > 0);
            CHECK(s(conf, "variant_name") != NULL);
        }
        size_t j;
        json_t *l;
        json_array_foreach (json_object_get(o, "lines"), j, l) {
            if (s(l, "parent_sku") != NULL) {
                dynamic++;
                CHECK(strcmp(s(l, "product_type"), "simple") == 0);
            }
            if (json_object_get(l, "bundle_children") != NULL) {
                fixed++;
                CHECK(units(s(l, "unit_price_excl")) > 0);
                CHECK(json_array_size(json_object_get(l, "bundle_children")) == 2);
            }
            if (strcmp(s(l, "product_type"), "grouped") == 0) {
                grouped++;
            }
            if (json_is_true(json_object_get(l, "is_free"))) {
                free_items++;
                CHECK_STR_EQ(s(l, "unit_price_excl"), "0.00");
            }
        }
        /* exactly the lines the rows call for: no configurable child or fixed-bundle part is a line of its own */
        CHECK_MSG(json_array_size(json_object_get(o, "lines")) == expected_lines(source_items),
                  "order %s has %zu lines, its rows call for %zu", s(o, "key"),
                  json_array_size(json_object_get(o, "lines")), expected_lines(source_items));
        json_t *d = json_array_get(json_object_get(o, "discounts"), 0);
        if (d != NULL) {
            if (json_is_true(json_object_get(d, "includes_tax"))) {
                disc_incl++;
            } else {
                disc_excl++;
            }
        }
    }
    /* the scenario orders of the seed shop, by their lines */
    const json_t *tee = NULL, *box_child = NULL, *kit = NULL, *set_mug = NULL;
    json_array_foreach (all_orders, i, o) {
        const json_t *l = line_with(o, "sku", "TEE-LOGO-M");
        if (l != NULL && strcmp(s(l, "qty"), "3") == 0) {
            tee = l;
        }
        l = line_with(o, "parent_sku", "BOX-FIKA");
        box_child = l ? l : box_child;
        l = line_with(o, "sku", "KIT-CAMP");
        kit = l ? l : kit;
        if (line_with(o, "product_type", "grouped") != NULL && strcmp(s(o, "currency"), "NOK") == 0) {
            set_mug = line_with(o, "sku", "MUG-STONE");
        }
    }
    /* configurable: the child SKU at the parent's price (249 SEK incl. 25 % = 199.20), one line */
    CHECK_STR_EQ(s(tee, "unit_price_excl"), "199.20");
    CHECK_STR_EQ(s(tee, "row_total_excl"), "597.60");
    CHECK_STR_EQ(s(tee, "discount_amount"), "59.76"); /* B2B10: 10 % of the row, excluding tax */
    CHECK_STR_EQ(s(tee, "variant_name"), "Logo T-Shirt-M");
    CHECK_STR_EQ(s(tee, "tax_rate"), "25");
    /* dynamic bundle: its children are the lines, under the bundle's own SKU */
    CHECK(box_child != NULL && units(s(box_child, "unit_price_excl")) > 0);
    CHECK_STR_EQ(s(box_child, "parent_name"), "Fika Gift Box");
    /* fixed bundle: one line with the bundle's SKU and price, its parts listed */
    CHECK(kit != NULL && s(kit, "ordered_sku") != NULL && strncmp(s(kit, "ordered_sku"), "KIT-CAMP-", 9) == 0);
    CHECK(kit != NULL && units(s(kit, "unit_price_excl")) > 0);
    /* grouped: each chosen product a line of its own, with its quantity */
    CHECK(set_mug != NULL && strcmp(s(set_mug, "product_type"), "grouped") == 0);
    CHECK(configurable > 0);
    CHECK(dynamic > 0);
    CHECK(fixed > 0);
    CHECK(grouped > 0);
    CHECK(free_items > 0);
    CHECK(disc_incl > 0);
    CHECK(disc_excl > 0);
}

/*
 * An order Magento sends without items, or with an amount that is no number,
 * is refused by itself: the page is read, the order comes as a record with
 * only its identity and "refused" {field, message} (nothing to book from),
 * and the orders around it decode as always.
 */
TEST(bad_orders_of_a_page_are_refused_one_by_one)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("orders-bad", "{\"page_size\": \"5\"}", &err);
    json_t *first = NULL, *cursor = NULL;
    int more = 0;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &first, &cursor, &more, &err), FERRY_OK);
    REQUIRE(json_array_size(first) == 5);
    json_t *natives = json_array();
    size_t i;
    json_t *r;
    json_array_foreach (first, i, r) {
        json_array_append_new(natives, json_deep_copy(json_object_get(r, "source")));
    }
    json_object_del(json_array_get(natives, 1), "items");
    json_object_set_new(json_array_get(natives, 2), "grand_total", json_string("abc"));
    json_t *row = json_array_get(json_object_get(json_array_get(natives, 3), "items"), 0);
    json_object_set_new(row, "qty_ordered", json_string("lots"));
    char *bad_sku = ferry_strdup(s(row, "sku"));
    answer_next_get("/rest/default/V1/orders",
                    json_pack("{s:O, s:i, s:{}}", "items", natives, "total_count", 5, "search_criteria"));
    json_t *page = NULL, *next = NULL;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &page, &next, &more, &err), FERRY_OK);
    REQUIRE(json_array_size(page) == 5);
    static const char *const fields[] = {NULL, "items", "grand_total", "items[0].qty_ordered", NULL};
    static const char *const messages[] = {NULL, "the order has no items", "not a number: 'abc'",
                                           "not a number: 'lots'", NULL};
    json_array_foreach (page, i, r) {
        json_t *was = json_array_get(first, i);
        CHECK_STR_EQ(s(r, "key"), s(was, "key"));
        json_t *refused = json_object_get(r, "refused");
        if (fields[i] == NULL) {
            CHECK(refused == NULL && json_array_size(json_object_get(r, "lines")) > 0);
            continue;
        }
        CHECK_STR_EQ(s(refused, "field"), fields[i]);
        CHECK_STR_CONTAINS(s(refused, "message"), messages[i]);
        /* nothing a document could be made of */
        CHECK(json_object_get(r, "lines") == NULL && json_object_get(r, "totals") == NULL &&
              json_object_get(r, "billing") == NULL && json_object_get(r, "source") == NULL);
        CHECK_STR_EQ(s(r, "status"), s(was, "status"));
        CHECK_STR_EQ(s(r, "updated_at"), s(was, "updated_at"));
    }
    CHECK_STR_CONTAINS(s(json_object_get(json_array_get(page, 3), "refused"), "message"), bad_sku);
    char line[160];
    snprintf(line, sizeof(line), "order %s refused: grand_total: not a number: 'abc'",
             s(json_array_get(first, 2), "key"));
    CHECK_STR_CONTAINS(logged.data, line);

    /* found by its number: the same refusal */
    json_t *one = json_deep_copy(json_array_get(natives, 2));
    answer_next_get("/rest/default/V1/orders",
                    json_pack("{s:[o], s:i, s:{}}", "items", one, "total_count", 1, "search_criteria"));
    json_t *found = NULL;
    CHECK_INT_EQ(op_find(ep, "order", "number", s(json_array_get(first, 2), "key"), &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(json_object_get(found, "refused"), "field"), "grand_total");
    json_decref(found);
    /* decoding alone (from_native) is a record error naming the field */
    json_t *rec = NULL;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ep->plugin->desc->from_native(ep->conn, "order", json_array_get(natives, 1), &rec, &err),
                 FERRY_RECORD_ERROR);
    CHECK(rec == NULL);
    CHECK_STR_EQ(err.field, "items");
    free(bad_sku);
    json_decref(natives);
    json_decref(page);
    json_decref(next);
    json_decref(first);
    json_decref(cursor);
    ferry_endpoint_close(ep);
}

TEST(order_comment_changes_the_status_when_magento_allows_it)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("comments", NULL, &err);
    const json_t *target = NULL;
    size_t i;
    json_t *o;
    json_array_foreach (all_orders, i, o) {
        if (strcmp(s(o, "state"), "processing") == 0 && strcmp(s(o, "status"), "processing") == 0) {
            target = o;
            break;
        }
    }
    CHECK(target != NULL);
    if (target == NULL) {
        ferry_endpoint_close(ep);
        return;
    }
    char rec[256];
    json_t *created = NULL;
    snprintf(rec, sizeof(rec),
             "{\"number\": \"%s\", \"comment\": \"Synced to eAccounting as invoice 1001\","
             " \"status\": \"fraud\", \"notify\": false}",
             s(target, "number"));
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_OK);
    CHECK_STR_EQ(s(created, "id"), s(target, "id"));
    CHECK(json_is_true(json_object_get(created, "status_applied")));
    json_decref(created);
    json_t *found = NULL;
    op_find(ep, "order", "id", s(target, "id"), &found, &err);
    CHECK_STR_EQ(s(found, "status"), "fraud");
    json_t *hist = json_array_get(json_object_get(json_object_get(found, "source"), "status_histories"), 0);
    CHECK_STR_EQ(s(hist, "comment"), "Synced to eAccounting as invoice 1001");
    json_decref(found);

    /* a status of another state is not applied: the comment stays, a warning says why */
    snprintf(rec, sizeof(rec), "{\"order_id\": %s, \"comment\": \"second\", \"status\": \"complete\"}",
             s(target, "id"));
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_OK);
    CHECK(json_is_false(json_object_get(created, "status_applied")));
    CHECK_STR_CONTAINS(logged.data, "kept status 'fraud' instead of 'complete'");
    json_decref(created);
    CHECK_INT_EQ(op_create(ep, "order_comment", "{\"number\": \"000000000\", \"comment\": \"x\"}", &created, &err),
                 FERRY_RECORD_ERROR);
    CHECK_INT_EQ(op_create(ep, "order_comment", "{\"order_id\": 1}", &created, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "comment");
    ferry_endpoint_close(ep);
}

/* How many comments with exactly `text` order `id` has in the emulator's state (orders changed since the seed). */
static int comments_in_emulator(const char *id, const char *text)
{
    json_t *state = emu_state();
    int n = 0;
    size_t i, j;
    json_t *o, *h;
    json_array_foreach (json_object_get(json_object_get(json_object_get(state, "store"), "orders"), "changed_orders"),
                        i, o) {
        if (json_integer_value(json_object_get(o, "entity_id")) != atoll(id)) {
            continue;
        }
        json_array_foreach (json_object_get(o, "status_histories"), j, h) {
            n += s(h, "comment") != NULL && strcmp(s(h, "comment"), text) == 0;
        }
    }
    json_decref(state);
    return n;
}

/*
 * An owed comment ("retry": true, its earlier write may have arrived) is
 * looked for first: there already, it is not added again; not there, it is
 * written.  A normal comment is one request.
 */
TEST(owed_comment_is_written_exactly_once)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("comments-owed", NULL, &err);
    const json_t *target = json_array_get(all_orders, 4);
    REQUIRE(target != NULL);
    const char *id = s(target, "id");
    char rec[512];
    json_t *created = NULL;

    /* written, but the answer was lost: the retry finds it and writes nothing */
    snprintf(rec, sizeof(rec), "{\"order_id\": %s, \"comment\": \"ferry: sent as invoice 77 (lost answer)\"}", id);
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_OK);
    json_decref(created);
    CHECK_INT_EQ(comments_in_emulator(id, "ferry: sent as invoice 77 (lost answer)"), 1);
    emu_admin("/_emulator/requests/reset", NULL);
    snprintf(rec, sizeof(rec),
             "{\"order_id\": %s, \"comment\": \"ferry: sent as invoice 77 (lost answer)\", \"retry\": true}", id);
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_OK);
    CHECK(json_is_true(json_object_get(created, "existing")));
    CHECK_STR_EQ(s(created, "id"), id);
    json_decref(created);
    CHECK_INT_EQ(comments_in_emulator(id, "ferry: sent as invoice 77 (lost answer)"), 1);
    CHECK_STR_CONTAINS(logged.data, "has the comment already");

    /* owed, and not there (the first request never arrived): written once */
    snprintf(rec, sizeof(rec),
             "{\"order_id\": %s, \"comment\": \"ferry: sent as invoice 78 (never arrived)\", \"retry\": true}", id);
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_OK);
    CHECK(json_object_get(created, "existing") == NULL);
    json_decref(created);
    CHECK_INT_EQ(comments_in_emulator(id, "ferry: sent as invoice 78 (never arrived)"), 1);

    /* a list of comments that is no list: not written blindly */
    char route[128];
    snprintf(route, sizeof(route), "/V1/orders/%s/comments", id);
    json_t *fault = json_pack("{s:s, s:s, s:i, s:i, s:{s:s}}", "route", route, "method", "GET", "status", 200, "count",
                              1, "body", "unexpected", "shape");
    char *text = json_dumps(fault, JSON_COMPACT);
    emu_admin("/_emulator/faults", text);
    free(text);
    json_decref(fault);
    snprintf(rec, sizeof(rec),
             "{\"order_id\": %s, \"comment\": \"ferry: sent as invoice 79 (unknown)\", \"retry\": true}", id);
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_RETRY);
    CHECK(created == NULL);
    CHECK_INT_EQ(comments_in_emulator(id, "ferry: sent as invoice 79 (unknown)"), 0);
    ferry_endpoint_close(ep);
}

/* A 200 whose body is not Magento's `true` is no proof of a write: a retry that may have been applied. */
TEST(comment_answered_with_something_else_than_true_is_a_retry)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("comments-malformed", NULL, &err);
    const json_t *target = json_array_get(all_orders, 6);
    REQUIRE(target != NULL);
    const char *id = s(target, "id");
    char route[128], rec[512];
    snprintf(route, sizeof(route), "/V1/orders/%s/comments", id);
    json_t *fault = json_pack("{s:s, s:s, s:i, s:i, s:{s:s, s:s}}", "route", route, "method", "POST", "status", 200,
                              "count", 1, "body", "unexpected", "shape", "items", "not-a-list");
    char *text = json_dumps(fault, JSON_COMPACT);
    emu_admin("/_emulator/faults", text);
    free(text);
    json_decref(fault);
    snprintf(rec, sizeof(rec), "{\"number\": \"%s\", \"comment\": \"ferry: sent as invoice 80\"}", s(target, "key"));
    json_t *created = NULL;
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_RETRY);
    CHECK(created == NULL);
    CHECK(err.flags & FERRY_ERROR_MAYBE_APPLIED);
    CHECK_STR_CONTAINS(err.message, s(target, "key"));
    CHECK_STR_CONTAINS(err.message, "{\"unexpected\":\"shape\"");
    CHECK_STR_CONTAINS(err.message, "instead of true");
    /* the engine keeps it owed; the next run sends it with retry and it is written once */
    snprintf(rec, sizeof(rec), "{\"number\": \"%s\", \"comment\": \"ferry: sent as invoice 80\", \"retry\": true}",
             s(target, "key"));
    CHECK_INT_EQ(op_create(ep, "order_comment", rec, &created, &err), FERRY_OK);
    json_decref(created);
    CHECK_INT_EQ(comments_in_emulator(id, "ferry: sent as invoice 80"), 1);
    ferry_endpoint_close(ep);
}

/* ---- customers ----------------------------------------------------------------------------------------- */

TEST(customers_are_read_and_found_by_email_and_id)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("customers", "{\"page_size\": \"5\"}", &err);
    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *got = read_run(ep, "customer", NULL, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK(json_array_size(got) >= 20);
    CHECK(all_keys_unique(got));
    const json_t *company = NULL;
    size_t i;
    json_t *c;
    json_array_foreach (got, i, c) {
        if (json_is_true(json_object_get(c, "is_company")) && s(c, "vat_number") != NULL) {
            company = c;
        }
    }
    CHECK(company != NULL);
    json_t *found = NULL;
    CHECK_INT_EQ(op_find(ep, "customer", "email", s(company, "email"), &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(found, "id"), s(company, "id"));
    CHECK(s(json_object_get(found, "invoice_address"), "street_name") != NULL);
    CHECK_STR_EQ(s(json_object_get(found, "invoice_address"), "company"), s(company, "name"));
    json_decref(found);
    CHECK_INT_EQ(op_find(ep, "customer", "id", s(company, "id"), &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(found, "email"), s(company, "email"));
    CHECK(json_object_get(json_object_get(found, "attributes"), "is_subscribed") != NULL);
    json_decref(found);
    CHECK_INT_EQ(op_find(ep, "customer", "email", "nobody@example.invalid", &found, &err), FERRY_OK);
    CHECK(found == NULL);
    json_decref(got);
    json_decref(cursor);
    ferry_endpoint_close(ep);
}

/* ---- products -------------------------------------------------------------------------------------------- */

TEST(every_product_type_decodes)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("products", NULL, &err);
    json_t *p = NULL;
    CHECK_INT_EQ(op_find(ep, "product", "sku", "MUG-STONE", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "type"), "simple");
    CHECK(s(p, "ean") != NULL && strlen(s(p, "ean")) == 13);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "categories")), 2);
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(p, "categories"), 0)), "Kitchen & Coffee");
    CHECK(units(s(p, "price")) > 0);
    CHECK(s(json_object_get(p, "stock"), "qty") != NULL);
    json_decref(p);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "HOODIE-FJALL", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "type"), "configurable");
    CHECK_INT_EQ(json_array_size(json_object_get(p, "children")), 4);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "options")), 2);
    json_decref(p);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "SET-BREWING", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "type"), "grouped");
    CHECK_INT_EQ(json_array_size(json_object_get(p, "links")), 3);
    CHECK_STR_EQ(s(json_array_get(json_object_get(p, "links"), 2), "qty"), "2");
    json_decref(p);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "BOX-FIKA", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "bundle_price_type"), "dynamic");
    CHECK_INT_EQ(json_array_size(json_object_get(p, "bundle_options")), 3);
    json_decref(p);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "KIT-CAMP", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "bundle_price_type"), "fixed");
    json_decref(p);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "NO-SUCH-SKU", &p, &err), FERRY_OK);
    CHECK(p == NULL);

    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *got = read_run(ep, "product", NULL, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK(json_array_size(got) >= 20);
    CHECK(all_keys_unique(got));
    json_decref(got);
    json_decref(cursor);
    ferry_endpoint_close(ep);
}

static const char *write_png(void)
{
    static char path[600];
    static const unsigned char png[] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00,
        0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff,
        0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
    snprintf(path, sizeof(path), "%s/linen-front.png", tmpdir);
    FILE *f = fopen(path, "wb");
    if (f != NULL) {
        fwrite(png, 1, sizeof(png), f);
        fclose(f);
    }
    return path;
}

static int scope_writes_all_global(const char *sku)
{
    json_t *state = emu_state();
    json_t *writes = json_object_get(json_object_get(state, "store"), "scope_writes");
    int n = 0, global = 1;
    size_t i;
    json_t *w;
    json_array_foreach (writes, i, w) {
        if (strcmp(s(w, "sku"), sku) == 0) {
            n++;
            global &= strcmp(s(w, "store_code"), "all") == 0;
        }
    }
    json_decref(state);
    return n > 0 && global;
}

TEST(product_create_then_update_respects_create_only_fields)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("products-write", NULL, &err);
    char rec[1024];
    snprintf(rec, sizeof(rec),
             "{\"sku\": \"FERRY-LINEN-1\", \"name\": \"Linen Shirt\", \"price\": \"399.2\", \"weight\": \"0.3\","
             " \"ean\": \"7350000000019\", \"attributes\": {\"description\": \"First words\", \"visibility\": 4},"
             " \"categories\": [\"Clothing/Shirts/Linen\"],"
             " \"media\": [{\"path\": \"%s\", \"label\": \"Front\", \"types\": [\"image\", \"thumbnail\"]}],"
             " \"stock\": {\"qty\": \"12\", \"is_in_stock\": true},"
             " \"create_only\": [\"name\", \"attributes.description\"]}",
             write_png());
    json_t *created = NULL;
    CHECK_INT_EQ(op_create(ep, "product", rec, &created, &err), FERRY_OK);
    if (err.message[0]) {
        printf("# %s\n", err.message);
    }
    CHECK_STR_EQ(s(created, "id"), "FERRY-LINEN-1");
    CHECK(json_is_true(json_object_get(created, "created")));
    CHECK_INT_EQ(json_integer_value(json_object_get(created, "images_uploaded")), 1);
    json_decref(created);

    json_t *p = NULL;
    CHECK_INT_EQ(op_find(ep, "product", "sku", "FERRY-LINEN-1", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "name"), "Linen Shirt");
    CHECK_STR_EQ(s(p, "price"), "399.20");
    CHECK_STR_EQ(s(p, "ean"), "7350000000019");
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(p, "categories"), 0)), "Clothing/Shirts/Linen");
    json_t *media = json_array_get(json_object_get(p, "media"), 0);
    CHECK_STR_EQ(s(media, "label"), "Front");
    CHECK_STR_CONTAINS(s(media, "url"), "/media/catalog/product/l/i/linen-front");
    CHECK_STR_EQ(s(json_object_get(p, "stock"), "qty"), "12");
    json_decref(p);

    /* the update keeps the name and description Magento has, changes the price, uploads no second image */
    snprintf(rec, sizeof(rec),
             "{\"sku\": \"FERRY-LINEN-1\", \"name\": \"Renamed\", \"price\": \"450\","
             " \"attributes\": {\"description\": \"Other words\", \"color\": \"49\"},"
             " \"categories\": [\"Clothing/Shirts/Linen\", \"Gifts\"],"
             " \"media\": [{\"path\": \"%s\", \"label\": \"Front\"}],"
             " \"create_only\": [\"name\", \"attributes.description\"]}",
             write_png());
    json_t *updated = NULL;
    CHECK_INT_EQ(op_update(ep, "product", "FERRY-LINEN-1", rec, &updated, &err), FERRY_OK);
    CHECK(json_is_false(json_object_get(updated, "created")));
    CHECK_INT_EQ(json_integer_value(json_object_get(updated, "images_uploaded")), 0);
    json_decref(updated);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "FERRY-LINEN-1", &p, &err), FERRY_OK);
    CHECK_STR_EQ(s(p, "name"), "Linen Shirt");
    CHECK_STR_EQ(s(p, "price"), "450.00");
    CHECK_STR_EQ(s(json_object_get(p, "attributes"), "description"), "First words");
    CHECK_STR_EQ(s(json_object_get(p, "attributes"), "color"), "49");
    CHECK_INT_EQ(json_array_size(json_object_get(p, "categories")), 2);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "media")), 1);
    json_decref(p);
    CHECK(scope_writes_all_global("FERRY-LINEN-1"));

    /* a bad price names the field; Magento's own refusal is substituted and a record error */
    CHECK_INT_EQ(
        op_create(ep, "product", "{\"sku\": \"FERRY-BAD\", \"name\": \"x\", \"price\": \"lots\"}", &created, &err),
        FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "price");
    CHECK_INT_EQ(op_create(ep, "product",
                           "{\"sku\": \"FERRY-BAD\", \"name\": \"x\", \"attributes\": {\"attribute_set_id\": 77}}",
                           &created, &err),
                 FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "Invalid product data: Invalid attribute set entity type");
    CHECK_STR_EQ(err.record, "FERRY-BAD");
    ferry_endpoint_close(ep);
}

TEST(configurable_and_grouped_products_are_written_with_their_links)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("products-composite", NULL, &err);
    json_t *r = NULL;
    CHECK_INT_EQ(op_create(ep, "product",
                           "{\"sku\": \"FERRY-TEE-S\", \"name\": \"Ferry Tee S\", \"price\": \"100\","
                           " \"attributes\": {\"size\": \"167\", \"visibility\": 1}}",
                           &r, &err),
                 FERRY_OK);
    json_decref(r);
    CHECK_INT_EQ(op_create(ep, "product",
                           "{\"sku\": \"FERRY-TEE-M\", \"name\": \"Ferry Tee M\", \"price\": \"100\","
                           " \"attributes\": {\"size\": \"168\", \"visibility\": 1}}",
                           &r, &err),
                 FERRY_OK);
    json_decref(r);
    CHECK_INT_EQ(op_create(ep, "product",
                           "{\"sku\": \"FERRY-TEE\", \"name\": \"Ferry Tee\", \"type\": \"configurable\","
                           " \"categories\": [\"Clothing\"],"
                           " \"options\": [{\"attribute_id\": \"141\", \"label\": \"Size\", \"values\": [167, 168]}],"
                           " \"children\": [\"FERRY-TEE-S\", \"FERRY-TEE-M\"]}",
                           &r, &err),
                 FERRY_OK);
    if (err.message[0]) {
        printf("# %s\n", err.message);
    }
    CHECK_INT_EQ(json_integer_value(json_object_get(r, "options_added")), 1);
    CHECK_INT_EQ(json_integer_value(json_object_get(r, "children_linked")), 2);
    json_decref(r);
    json_t *p = NULL;
    CHECK_INT_EQ(op_find(ep, "product", "sku", "FERRY-TEE", &p, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "children")), 2);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "options")), 1);
    json_decref(p);
    /* writing it again adds nothing twice */
    CHECK_INT_EQ(
        op_update(ep, "product", "FERRY-TEE",
                  "{\"sku\": \"FERRY-TEE\", \"options\": [{\"attribute_id\": \"141\", \"values\": [167, 168]}],"
                  " \"children\": [\"FERRY-TEE-S\", \"FERRY-TEE-M\"]}",
                  &r, &err),
        FERRY_OK);
    CHECK_INT_EQ(json_integer_value(json_object_get(r, "children_linked")), 0);
    json_decref(r);
    /* a child that does not exist is a record error naming it */
    CHECK_INT_EQ(
        op_update(ep, "product", "FERRY-TEE", "{\"sku\": \"FERRY-TEE\", \"children\": [\"FERRY-TEE-XXL\"]}", &r, &err),
        FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "children[0]");

    CHECK_INT_EQ(
        op_create(ep, "product",
                  "{\"sku\": \"FERRY-SET\", \"name\": \"Ferry Set\", \"type\": \"grouped\","
                  " \"links\": [{\"sku\": \"MUG-STONE\", \"qty\": \"2\"}, {\"sku\": \"FILTER-V60\", \"qty\": 1}]}",
                  &r, &err),
        FERRY_OK);
    json_decref(r);
    CHECK_INT_EQ(op_find(ep, "product", "sku", "FERRY-SET", &p, &err), FERRY_OK);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "links")), 2);
    CHECK_STR_EQ(s(json_array_get(json_object_get(p, "links"), 0), "qty"), "2");
    json_decref(p);
    ferry_endpoint_close(ep);
}

TEST(bundle_price_type_is_written_and_read_back)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("products-bundle", NULL, &err);
    static const char *const options =
        "[{\"title\": \"Mug\", \"type\": \"select\", \"required\": true, \"selections\": [{\"sku\": "
        "\"MUG-STONE\", \"qty\": 1, \"is_default\": true, \"price\": \"0\", \"price_type\": 0}]},"
        " {\"title\": \"Light\", \"type\": \"radio\", \"required\": false, \"selections\": [{\"sku\": "
        "\"CANDLE-BIRCH\", \"qty\": 2}]}]";
    static const struct {
        const char *sku, *price_type, *price;
    } bundles[] = {{"FERRY-BOX-FIXED", "fixed", "499.00"}, {"FERRY-BOX-DYNAMIC", "dynamic", NULL}};
    for (size_t i = 0; i < sizeof(bundles) / sizeof(bundles[0]); i++) {
        char rec[1024];
        snprintf(rec, sizeof(rec),
                 "{\"sku\": \"%s\", \"name\": \"Ferry Box\", \"type\": \"bundle\", \"price\": \"499\","
                 " \"bundle_price_type\": \"%s\", \"bundle_options\": %s}",
                 bundles[i].sku, bundles[i].price_type, options);
        json_t *r = NULL;
        CHECK_INT_EQ(op_create(ep, "product", rec, &r, &err), FERRY_OK);
        json_decref(r);
        json_t *p = NULL;
        CHECK_INT_EQ(op_find(ep, "product", "sku", bundles[i].sku, &p, &err), FERRY_OK);
        CHECK_STR_EQ(s(p, "type"), "bundle");
        CHECK_STR_EQ(s(p, "bundle_price_type"), bundles[i].price_type);
        if (bundles[i].price != NULL) {
            CHECK_STR_EQ(s(p, "price"), bundles[i].price);
        } else {
            CHECK(json_object_get(p, "price") == NULL); /* a dynamic bundle's price is its parts' */
        }
        CHECK_INT_EQ(json_array_size(json_object_get(p, "bundle_options")), 2);
        json_decref(p);
    }
    json_t *bad = NULL;
    CHECK_INT_EQ(op_create(ep, "product",
                           "{\"sku\": \"FERRY-BOX-BAD\", \"name\": \"x\", \"type\": \"bundle\","
                           " \"bundle_price_type\": \"free\"}",
                           &bad, &err),
                 FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "bundle_price_type");
    ferry_endpoint_close(ep);
}

extern char **environ;

/* Serve the files of `dir` over HTTP (python3's http.server), as a web shop's image host would. */
static int start_file_server(ferry_test_server *srv, const char *dir)
{
    static const char script[] = "import http.server, os, sys, threading\n"
                                 "class H(http.server.SimpleHTTPRequestHandler):\n"
                                 "    def __init__(self, *a, **k):\n"
                                 "        super().__init__(*a, directory=sys.argv[1], **k)\n"
                                 "    def log_message(self, *a):\n"
                                 "        pass\n"
                                 "srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)\n"
                                 "print('http://127.0.0.1:%d' % srv.server_address[1], flush=True)\n"
                                 "threading.Timer(300, lambda: os._exit(0)).start()\n"
                                 "srv.serve_forever()\n";
    const char *python = getenv("PYTHON3") ? getenv("PYTHON3") : "python3";
    const char *argv[] = {python, "-c", script, dir, NULL};
    int out[2];
    memset(srv, 0, sizeof(*srv));
    if (pipe(out) != 0) {
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    int rc = posix_spawnp(&srv->pid, python, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    size_t len = 0;
    while (rc == 0 && len < sizeof(srv->url) - 1 && read(out[0], srv->url + len, 1) == 1 && srv->url[len] != '\n') {
        len++;
    }
    srv->url[len] = '\0';
    close(out[0]);
    if (rc != 0 || strncmp(srv->url, "http://", 7) != 0) {
        ferry_test_server_stop(srv);
        return -1;
    }
    return 0;
}

TEST(image_given_by_url_is_fetched_and_uploaded)
{
    ferry_test_server files;
    write_png(); /* tmpdir/linen-front.png */
    char *copy = ferry_asprintf("%s/not-an-image.txt", tmpdir);
    FILE *f = fopen(copy, "w");
    if (f != NULL) {
        fputs("hello\n", f);
        fclose(f);
    }
    free(copy);
    CHECK(start_file_server(&files, tmpdir) == 0);
    if (files.pid <= 0) {
        return;
    }
    ferry_error err;
    ferry_endpoint *ep = open_conn("products-url-image", NULL, &err);
    char rec[1024];
    snprintf(rec, sizeof(rec),
             "{\"sku\": \"FERRY-URL-IMG\", \"name\": \"Linen Shirt by URL\", \"price\": \"10\","
             " \"media\": [{\"url\": \"%s/linen-front.png?v=2\", \"label\": \"Front\", \"types\": [\"image\"]}]}",
             files.url);
    json_t *r = NULL;
    CHECK_INT_EQ(op_create(ep, "product", rec, &r, &err), FERRY_OK);
    CHECK_INT_EQ(json_integer_value(json_object_get(r, "images_uploaded")), 1);
    json_decref(r);
    json_t *p = NULL;
    CHECK_INT_EQ(op_find(ep, "product", "sku", "FERRY-URL-IMG", &p, &err), FERRY_OK);
    json_t *media = json_array_get(json_object_get(p, "media"), 0);
    CHECK_INT_EQ(json_array_size(json_object_get(p, "media")), 1);
    CHECK_STR_EQ(s(media, "label"), "Front");
    CHECK_STR_CONTAINS(s(media, "file"), "/l/i/linen-front"); /* named after the URL's file, not its query */
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(media, "types"), 0)), "image");
    json_decref(p);

    /* a missing image and one that is not an image are record errors on that media entry */
    snprintf(rec, sizeof(rec), "{\"sku\": \"FERRY-URL-IMG\", \"media\": [{\"url\": \"%s/missing.png\"}]}", files.url);
    CHECK_INT_EQ(op_update(ep, "product", "FERRY-URL-IMG", rec, &r, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "media[0]");
    CHECK_STR_CONTAINS(err.message, "HTTP 404");
    snprintf(rec, sizeof(rec),
             "{\"sku\": \"FERRY-URL-IMG\", \"media\": [{\"url\": \"%s/not-an-image.txt\", \"label\": \"Back\"}]}",
             files.url);
    CHECK_INT_EQ(op_update(ep, "product", "FERRY-URL-IMG", rec, &r, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "media[0]");
    CHECK_STR_CONTAINS(err.message, "not a JPEG, PNG or GIF");
    ferry_endpoint_close(ep);
    ferry_test_server_stop(&files);
}

/* ---- stock -------------------------------------------------------------------------------------------------- */

TEST(legacy_stock_is_read_and_written)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("stock-legacy", NULL, &err);
    json_t *r = NULL;
    CHECK_INT_EQ(op_update(ep, "stock", "CANDLE-BIRCH", "{\"qty\": \"42\", \"manage_stock\": true}", &r, &err),
                 FERRY_OK);
    CHECK_STR_EQ(s(r, "id"), "CANDLE-BIRCH");
    json_decref(r);
    json_t *found = NULL;
    CHECK_INT_EQ(op_find(ep, "stock", "sku", "CANDLE-BIRCH", &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(found, "qty"), "42");
    CHECK(json_is_true(json_object_get(found, "is_in_stock")));
    json_decref(found);
    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *got = read_run(ep, "stock", NULL, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    size_t i;
    json_t *rec;
    int seen = 0;
    json_array_foreach (got, i, rec) {
        if (strcmp(s(rec, "sku"), "CANDLE-BIRCH") == 0) {
            seen++;
            CHECK_STR_EQ(s(rec, "qty"), "42");
            CHECK_STR_EQ(s(rec, "salable_qty"), "42");
        }
        CHECK(strcmp(s(rec, "sku"), "TEE-LOGO") != 0); /* a configurable has no stock of its own */
    }
    CHECK_INT_EQ(seen, 1);
    json_decref(got);
    json_decref(cursor);
    CHECK_INT_EQ(op_update(ep, "stock", "NO-SUCH-SKU", "{\"qty\": 1}", &r, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.record, "NO-SUCH-SKU");
    CHECK_INT_EQ(op_update(ep, "stock", "CANDLE-BIRCH", "{\"qty\": \"many\"}", &r, &err), FERRY_RECORD_ERROR);
    CHECK_STR_EQ(err.field, "qty");
    ferry_endpoint_close(ep);
}

static double reserved_for(const char *sku_lower)
{
    json_t *state = emu_state();
    json_t *res = json_object_get(json_object_get(json_object_get(state, "store"), "inventory"), "reservations");
    double r = json_number_value(json_object_get(res, sku_lower));
    json_decref(state);
    return r;
}

TEST(msi_stock_reads_salable_quantity_with_reservations_and_writes_source_items)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("stock-msi", "{\"stock_mode\": \"msi\"}", &err);
    double reserved = reserved_for("mug-stone");
    CHECK(reserved < 0); /* open orders hold mugs */
    json_t *r = NULL;
    CHECK_INT_EQ(op_update(ep, "stock", "MUG-STONE", "{\"qty\": 100}", &r, &err), FERRY_OK);
    CHECK_STR_EQ(s(r, "mode"), "msi");
    json_decref(r);
    json_t *found = NULL;
    CHECK_INT_EQ(op_find(ep, "stock", "sku", "MUG-STONE", &found, &err), FERRY_OK);
    CHECK_STR_EQ(s(found, "qty"), "100");
    CHECK_STR_EQ(s(found, "source"), "default");
    char expected[32];
    snprintf(expected, sizeof(expected), "%g", 100 + reserved);
    CHECK_STR_EQ(s(found, "salable_qty"), expected);
    snprintf(expected, sizeof(expected), "%g", -reserved);
    CHECK_STR_EQ(s(found, "reserved"), expected);
    json_decref(found);

    json_t *cursor = NULL;
    int pages = 0, rc;
    json_t *query = json_pack("{s:i}", "page_size", 4);
    json_t *got = read_run(ep, "stock", query, &cursor, 50, &pages, &rc, &err);
    CHECK_INT_EQ(rc, FERRY_OK);
    CHECK(pages > 2);
    CHECK(all_keys_unique(got));
    CHECK_INT_EQ(count_key(got, "MUG-STONE"), 1);
    json_decref(got);
    json_decref(query);
    json_decref(cursor);
    /* the source item carries no manage flag: it goes to the legacy stock item */
    CHECK_INT_EQ(op_update(ep, "stock", "CANDLE-BIRCH", "{\"qty\": 0, \"manage_stock\": false}", &r, &err), FERRY_OK);
    json_decref(r);
    ferry_endpoint_close(ep);
    ep = open_conn("stock-msi-check", NULL, &err);
    CHECK_INT_EQ(op_find(ep, "stock", "sku", "CANDLE-BIRCH", &found, &err), FERRY_OK);
    CHECK(json_is_false(json_object_get(found, "manage_stock")));
    json_decref(found);
    ferry_endpoint_close(ep);
}

/* ---- errors ------------------------------------------------------------------------------------------------- */

TEST(server_errors_are_retryable_and_logs_hold_no_secret)
{
    ferry_error err;
    ferry_endpoint *ep = open_conn("errors", NULL, &err);
    emu_admin("/_emulator/faults", "{\"route\": \"/V1/orders\", \"method\": \"GET\", \"status\": 500, \"count\": 1}");
    json_t *records = NULL, *next = NULL;
    int more;
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &records, &next, &more, &err), FERRY_RETRY);
    CHECK_STR_CONTAINS(err.message, "Internal Error");
    CHECK_INT_EQ(err.http_status, 500);
    CHECK_INT_EQ(op_read(ep, "order", NULL, NULL, &records, &next, &more, &err), FERRY_OK);
    json_decref(records);
    json_decref(next);
    CHECK_INT_EQ(op_read(ep, "invoice", NULL, NULL, &records, &next, &more, &err), FERRY_CONFIG_ERROR);
    check_no_secret(logged.data);
    ferry_endpoint_close(ep);
}

#define RUN_EMU_TEST(name)                                                                                             \
    do {                                                                                                               \
        if (ready) {                                                                                                   \
            RUN_TEST(name);                                                                                            \
        } else {                                                                                                       \
            testing_total++;                                                                                           \
            printf("ok %d - %s # SKIP python3 or the Magento emulator is not available\n", testing_total, #name);      \
        }                                                                                                              \
    } while (0)

static int setup(void)
{
    const char *python = getenv("PYTHON3");
    if (python != NULL && strcmp(python, "no") == 0) {
        return -1;
    }
    const char *args[] = {"--orders", "60", "--seed", "1", NULL};
    if (ferry_test_server_start(&emu, "tests/emulators/magento2.py", args) != 0) {
        return -1;
    }
    ferry_strlcpy(tmpdir, ferry_test_tmpdir("m2plugin"), sizeof(tmpdir));
    char *db = ferry_asprintf("%s/ferry.db", tmpdir);
    ferry_error err;
    ferry_error_clear(&err);
    int rc = ferry_store_open(db, FERRY_STORE_CREATE, &store, &err);
    free(db);
    if (rc != FERRY_OK) {
        printf("# store: %s\n", err.message);
        return -1;
    }
    loader = ferry_loader_create(ferry_host_table());
    const char *dir = getenv("FERRY_BUILT_PLUGIN_DIR");
    char *so = ferry_asprintf("%s/magento2.so", dir ? dir : ".libs");
    rc = ferry_loader_load_file(loader, so, &err);
    free(so);
    if (rc != FERRY_OK) {
        printf("# loader: %s\n", err.message);
        return -1;
    }
    plugin = ferry_loader_find(loader, "magento2");
    return plugin ? 0 : -1;
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    ferry_log_set_sink(capture_log, NULL);
    ferry_log_set_level(-1);
    ready = setup() == 0;
    if (!ready) {
        printf("# setup failed: the Magento tests are skipped\n");
    }
    RUN_EMU_TEST(oauth_connection_test_shows_the_store);
    RUN_EMU_TEST(oauth_wrong_secret_is_explained_as_a_signature_problem);
    RUN_EMU_TEST(oauth_clock_ahead_of_the_server_is_explained);
    RUN_EMU_TEST(hmac_sha1_refusal_is_explained);
    RUN_EMU_TEST(bearer_refused_by_2_4_4_is_explained_and_works_when_allowed);
    RUN_EMU_TEST(admin_token_is_obtained_kept_and_renewed);
    RUN_EMU_TEST(admin_wrong_password_is_named);
    RUN_EMU_TEST(admin_two_factor_refusal_is_explained);
    RUN_EMU_TEST(refused_integration_credentials_stop_the_connection_until_authorized_again);
    RUN_EMU_TEST(missing_acl_resource_is_named);
    RUN_EMU_TEST(settings_are_checked_at_open);
    RUN_EMU_TEST(orders_sharing_updated_at_are_neither_skipped_nor_repeated);
    RUN_EMU_TEST(legacy_paging_shop_is_read_completely_by_keyset);
    RUN_EMU_TEST(page_repeating_records_before_the_cursor_ends_the_read);
    RUN_EMU_TEST(status_filter_and_since_reach_the_query);
    RUN_EMU_TEST(orders_are_found_by_number_and_id);
    RUN_EMU_TEST(order_lines_follow_the_configurable_bundle_grouped_rules);
    RUN_EMU_TEST(bad_orders_of_a_page_are_refused_one_by_one);
    RUN_EMU_TEST(order_comment_changes_the_status_when_magento_allows_it);
    RUN_EMU_TEST(owed_comment_is_written_exactly_once);
    RUN_EMU_TEST(comment_answered_with_something_else_than_true_is_a_retry);
    RUN_EMU_TEST(customers_are_read_and_found_by_email_and_id);
    RUN_EMU_TEST(every_product_type_decodes);
    RUN_EMU_TEST(product_create_then_update_respects_create_only_fields);
    RUN_EMU_TEST(configurable_and_grouped_products_are_written_with_their_links);
    RUN_EMU_TEST(bundle_price_type_is_written_and_read_back);
    RUN_EMU_TEST(image_given_by_url_is_fetched_and_uploaded);
    RUN_EMU_TEST(legacy_stock_is_read_and_written);
    RUN_EMU_TEST(msi_stock_reads_salable_quantity_with_reservations_and_writes_source_items);
    RUN_EMU_TEST(server_errors_are_retryable_and_logs_hold_no_secret);

    json_decref(all_orders);
    if (loader != NULL) {
        ferry_loader_destroy(loader);
    }
    if (store != NULL) {
        ferry_store_close(store);
    }
    ferry_test_server_stop(&emu);
    if (tmpdir[0]) {
        ferry_test_rmdir(tmpdir);
    }
    ferry_buf_free(&logged);
    TEST_MAIN_END();
}
