/* Flow definition tests: export/import round trip, and every kind of bad document refused with its path. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "connection.h"
#include "error.h"
#include "flow.h"
#include "host.h"
#include "loader.h"
#include "log.h"
#include "store.h"
#include "testing.h"
#include "testsupport.h"
#include "util.h"

static ferry_store *st;
static ferry_loader *loader;

static const char good_doc[] =
    "{\"name\": \"orders\", \"kind\": \"orders\", \"description\": \"shop to books\", \"enabled\": true,"
    " \"source\": {\"connection\": \"shop\", \"entity\": \"thing\"},"
    " \"target\": {\"connection\": \"books\", \"entity\": \"thing\"},"
    " \"mapping\": \"orders.lua\","
    " \"settings\": {\"statuses\": [\"processing\", \"complete\"], \"document_type\": \"invoice\","
    "               \"totals_tolerance\": \"0.05\", \"comment_back\": false, \"page_size\": 20,"
    "               \"custom_fields\": {\"OurReference\": \"Webshop\"}},"
    " \"maps\": {\"payment_terms\": {\"checkmo\": \"30\", \"banktransfer\": \"10\"}, \"vat\": {\"SE\": \"domestic\"}}}";

static void setup(void)
{
    char *path = ferry_asprintf("%s/ferry.db", ferry_test_tmpdir("flow"));
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_store_open(path, FERRY_STORE_CREATE, &st, &err) != FERRY_OK) {
        printf("# cannot open store: %s\n", err.message);
        exit(1);
    }
    free(path);
    loader = ferry_loader_create(ferry_host_table());
    char *so = ferry_asprintf("%s/good.so", getenv("FERRY_TEST_PLUGIN_DIR") ? getenv("FERRY_TEST_PLUGIN_DIR")
                                                                            : "tests/plugins/.libs");
    ferry_loader_load_file(loader, so, &err);
    free(so);
    const ferry_plugin *p = ferry_loader_find(loader, "testgood");
    json_t *s = json_pack("{s:s}", "url", "https://example.com");
    ferry_connection_add(st, "shop", "testgood", p->desc->settings, s, &err);
    ferry_connection_add(st, "books", "testgood", p->desc->settings, s, &err);
    /* a connection whose plugin is not installed */
    ferry_connection_add(st, "orphan", "nosuchplugin", NULL, NULL, &err);
    json_decref(s);
}

static int flow_count(void)
{
    json_t *list = NULL;
    ferry_error err;
    ferry_flow_list(st, &list, &err);
    int n = (int)json_array_size(list);
    json_decref(list);
    return n;
}

TEST(export_then_import_is_identical)
{
    json_t *doc = json_loads(good_doc, 0, NULL);
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_flow_import(st, loader, doc, 0, &err), FERRY_OK);
    ferry_flow *f = NULL;
    CHECK_INT_EQ(ferry_flow_get(st, "orders", &f, &err), FERRY_OK);
    json_t *exported = ferry_flow_export(f);
    CHECK(json_equal(doc, exported)); /* nothing lost, nothing invented */
    char *first = json_dumps(exported, JSON_INDENT(2));
    ferry_flow_free(f);
    CHECK_INT_EQ(ferry_flow_import(st, loader, exported, 1, &err), FERRY_OK);
    ferry_flow_get(st, "orders", &f, &err);
    json_t *again = ferry_flow_export(f);
    char *second = json_dumps(again, JSON_INDENT(2));
    CHECK_STR_EQ(second, first); /* byte for byte */
    /* replace kept the flow's id, so cursors and the id map survive */
    CHECK_INT_EQ(f->id, 1);
    free(first);
    free(second);
    json_decref(again);
    json_decref(exported);
    json_decref(doc);
    ferry_flow_free(f);
}

TEST(import_of_existing_name_needs_replace)
{
    json_t *doc = json_loads(good_doc, 0, NULL);
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_flow_import(st, loader, doc, 0, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_EQ(err.field, "$.name");
    CHECK_STR_CONTAINS(err.message, "--replace");
    json_decref(doc);
}

TEST(effective_settings_apply_defaults)
{
    ferry_flow *f = NULL;
    ferry_error err;
    ferry_flow_get(st, "orders", &f, &err);
    json_t *eff = ferry_flow_effective_settings(f);
    CHECK_STR_EQ(json_string_value(json_object_get(eff, "customer_policy")), "per_buyer");
    CHECK_STR_EQ(json_string_value(json_object_get(eff, "document_type")), "invoice");
    json_decref(eff);
    ferry_flow_free(f);
}

/* Apply a JSON edit (a small patch: key path -> value) to the good document and expect a refusal at `path`. */
static void expect_refused(const char *patch_json, const char *remove_key, const char *path, const char *message)
{
    json_t *doc = json_loads(good_doc, 0, NULL);
    json_object_set_new(doc, "name", json_string("bad"));
    if (patch_json != NULL) {
        json_t *patch = json_loads(patch_json, 0, NULL);
        json_object_update_recursive(doc, patch);
        json_decref(patch);
    }
    if (remove_key != NULL) {
        json_object_del(doc, remove_key);
    }
    int before = flow_count();
    ferry_error err;
    ferry_error_clear(&err);
    int rc = ferry_flow_import(st, loader, doc, 0, &err);
    CHECK_MSG(rc == FERRY_CONFIG_ERROR, "patch %s: rc %d", patch_json ? patch_json : remove_key, rc);
    CHECK_STR_EQ(err.field, path);
    CHECK_STR_CONTAINS(err.message, message);
    CHECK_INT_EQ(flow_count(), before); /* the store is unchanged */
    json_decref(doc);
}

TEST(unknown_keys_are_refused_with_their_path)
{
    expect_refused("{\"colour\": \"red\"}", NULL, "$.colour", "unknown key");
    expect_refused("{\"source\": {\"conection\": \"shop\"}}", NULL, "$.source.conection", "unknown key");
    expect_refused("{\"settings\": {\"statuse\": [\"x\"]}}", NULL, "$.settings.statuse", "unknown setting");
}

TEST(wrong_types_are_refused_with_their_path)
{
    expect_refused("{\"enabled\": \"yes\"}", NULL, "$.enabled", "true or false");
    expect_refused("{\"settings\": {\"statuses\": \"processing\"}}", NULL, "$.settings.statuses", "array of strings");
    expect_refused("{\"settings\": {\"statuses\": [\"processing\", 7]}}", NULL, "$.settings.statuses[1]",
                   "expected a string");
    expect_refused("{\"settings\": {\"document_type\": \"receipt\"}}", NULL, "$.settings.document_type",
                   "not one of order|invoice_draft|invoice");
    expect_refused("{\"settings\": {\"totals_tolerance\": \"five\"}}", NULL, "$.settings.totals_tolerance",
                   "decimal number");
    expect_refused("{\"settings\": {\"page_size\": -1}}", NULL, "$.settings.page_size", "non-negative integer");
    expect_refused("{\"maps\": {\"payment_terms\": {\"checkmo\": 30}}}", NULL, "$.maps.payment_terms.checkmo",
                   "expected a string");
    expect_refused("{\"name\": \"has space\"}", NULL, "$.name", "may only use");
    expect_refused("{\"kind\": \"invoices\"}", NULL, "$.kind", "unknown flow kind");
}

TEST(missing_required_members_are_refused)
{
    expect_refused(NULL, "source", "$.source", "is required");
    expect_refused(NULL, "kind", "$.kind", "is required");
}

TEST(unknown_connection_and_missing_plugin_are_refused)
{
    expect_refused("{\"source\": {\"connection\": \"nope\"}}", NULL, "$.source.connection", "no connection named");
    expect_refused("{\"target\": {\"connection\": \"orphan\"}}", NULL, "$.target.connection",
                   "plugin 'nosuchplugin', which is not installed");
    expect_refused("{\"target\": {\"entity\": \"invoice\"}}", NULL, "$.target.entity", "cannot write entity");
}

TEST(import_of_a_document_that_is_not_an_object_is_refused)
{
    json_t *doc = json_loads("[1,2]", 0, NULL);
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_flow_import(st, loader, doc, 0, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_EQ(err.field, "$");
    json_decref(doc);
}

int main(void)
{
    ferry_log_set_level(-1);
    setup();
    RUN_TEST(export_then_import_is_identical);
    RUN_TEST(import_of_existing_name_needs_replace);
    RUN_TEST(effective_settings_apply_defaults);
    RUN_TEST(unknown_keys_are_refused_with_their_path);
    RUN_TEST(wrong_types_are_refused_with_their_path);
    RUN_TEST(missing_required_members_are_refused);
    RUN_TEST(unknown_connection_and_missing_plugin_are_refused);
    RUN_TEST(import_of_a_document_that_is_not_an_object_is_refused);
    ferry_store_close(st);
    ferry_loader_destroy(loader);
    TEST_MAIN_END();
}
