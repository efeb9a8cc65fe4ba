/* Store tests: creation and mode, migrations, refused newer schema, round-trips of connections, state, locks. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "activity.h"
#include "connection.h"
#include "error.h"
#include "redact.h"
#include "store.h"
#include "syncstate.h"
#include "testing.h"
#include "testsupport.h"
#include "util.h"

static const ferry_setting_spec spec[] = {
    {"url", FERRY_SETTING_URL, FERRY_SETTING_REQUIRED, NULL, NULL, "base URL"},
    {"pages", FERRY_SETTING_INT, 0, "5", NULL, "pages"},
    {"mode", FERRY_SETTING_ENUM, 0, "a", "a|b", "mode"},
    {"debug", FERRY_SETTING_BOOL, 0, NULL, NULL, "debug"},
    {"password", FERRY_SETTING_STRING, FERRY_SETTING_SECRET | FERRY_SETTING_REQUIRED, NULL, NULL, "secret"},
    {"token", FERRY_SETTING_STRING, FERRY_SETTING_SECRET | FERRY_SETTING_MANAGED, NULL, NULL, "managed"},
    {NULL, 0, 0, NULL, NULL, NULL}};

static char *db_path(const char *tag)
{
    return ferry_asprintf("%s/sub/dir/ferry.db", ferry_test_tmpdir(tag));
}

/* A store created in a new file for test `tag` (*path: its name, to free); *err is cleared. */
static ferry_store *new_store(const char *tag, char **path, ferry_error *err)
{
    ferry_store *st = NULL;
    *path = db_path(tag);
    ferry_error_clear(err);
    CHECK_INT_EQ(ferry_store_open(*path, FERRY_STORE_CREATE, &st, err), FERRY_OK);
    return st;
}

/* Connection "shop" (plugin testgood, id 1) with this password. */
static void add_shop(ferry_store *st, const char *password, ferry_error *err)
{
    json_t *settings = json_pack("{s:s, s:s}", "url", "https://x.example", "password", password);
    CHECK_INT_EQ(ferry_connection_add(st, "shop", "testgood", spec, settings, err), FERRY_OK);
    json_decref(settings);
}

TEST(open_creates_file_0600_in_wal_mode_with_foreign_keys)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("create", &path, &err);
    struct stat sb;
    CHECK(stat(path, &sb) == 0);
    CHECK_INT_EQ(sb.st_mode & 0777, 0600);
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(ferry_store_db(st), "PRAGMA journal_mode", -1, &s, NULL);
    CHECK(sqlite3_step(s) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(s, 0), "wal") == 0);
    sqlite3_finalize(s);
    sqlite3_prepare_v2(ferry_store_db(st), "PRAGMA foreign_keys", -1, &s, NULL);
    CHECK(sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1);
    sqlite3_finalize(s);
    CHECK_INT_EQ(ferry_store_schema_version(st), ferry_store_latest_schema());
    ferry_store_close(st);
    free(path);
}

TEST(open_without_create_names_the_missing_file)
{
    char *path = db_path("missing");
    ferry_store *st = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_store_open(path, 0, &st, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, path);
    CHECK(st == NULL);
    free(path);
}

TEST(migrations_run_once_and_reopen_keeps_data)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("reopen", &path, &err);
    add_shop(st, "pw-very-secret", &err);
    ferry_store_close(st);
    CHECK_INT_EQ(ferry_store_open(path, 0, &st, &err), FERRY_OK);
    ferry_connection *c = NULL;
    CHECK_INT_EQ(ferry_connection_get(st, "shop", &c, &err), FERRY_OK);
    CHECK_STR_EQ(json_string_value(json_object_get(c->settings, "url")), "https://x.example");
    CHECK_STR_EQ(json_string_value(json_object_get(c->settings, "password")), "pw-very-secret");
    CHECK(json_object_get(c->secrets, "password") != NULL);
    ferry_connection_free(c);
    ferry_store_close(st);
    free(path);
    ferry_redact_reset();
}

TEST(newer_schema_is_refused_and_left_untouched)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("newer", &path, &err);
    ferry_store_exec(st, "PRAGMA user_version=999; PRAGMA journal_mode=DELETE;", &err);
    ferry_store_close(st);
    struct stat before, after;
    stat(path, &before);
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_store_open(path, 0, &st, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "newer ferry (schema 999");
    CHECK(st == NULL);
    stat(path, &after);
    CHECK_INT_EQ(before.st_size, after.st_size);
    CHECK_INT_EQ(before.st_mtime, after.st_mtime);
    /* journal mode stays DELETE: not switched to WAL by the refused open */
    char *wal = ferry_asprintf("%s-wal", path);
    struct stat sb;
    CHECK(stat(wal, &sb) != 0);
    free(wal);
    free(path);
}

TEST(connection_settings_are_validated_by_name_and_type)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("validate", &path, &err);
    struct {
        const char *json;
        const char *field;
        const char *message;
    } cases[] = {
        {"{\"password\":\"x\"}", "url", "setting url is required"},
        {"{\"url\":\"ftp://x\",\"password\":\"x\"}", "url", "http:// or https://"},
        {"{\"url\":\"http://x\",\"password\":\"x\",\"pages\":\"ten\"}", "pages", "must be an integer"},
        {"{\"url\":\"http://x\",\"password\":\"x\",\"mode\":\"c\"}", "mode", "one of a|b"},
        {"{\"url\":\"http://x\",\"password\":\"x\",\"debug\":\"yes\"}", "debug", "true or false"},
        {"{\"url\":\"http://x\",\"password\":\"x\",\"colour\":\"red\"}", "colour", "unknown setting colour"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *s = json_loads(cases[i].json, 0, NULL);
        ferry_error_clear(&err);
        CHECK_INT_EQ(ferry_connection_add(st, "c", "testgood", spec, s, &err), FERRY_CONFIG_ERROR);
        CHECK_STR_EQ(err.field, cases[i].field);
        CHECK_STR_CONTAINS(err.message, cases[i].message);
        json_decref(s);
    }
    json_t *list = NULL;
    ferry_connection_list(st, &list, &err);
    CHECK_INT_EQ(json_array_size(list), 0); /* nothing half-stored */
    json_decref(list);
    ferry_store_close(st);
    free(path);
}

TEST(public_view_masks_secrets)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("mask", &path, &err);
    add_shop(st, "hunter2-secret", &err);
    json_t *managed = json_pack("{s:s}", "token", "tok-abcdef-123");
    CHECK_INT_EQ(ferry_connection_update_settings(st, 1, spec, managed, &err), FERRY_OK);
    json_decref(managed);
    ferry_connection *c = NULL;
    ferry_connection_get(st, "shop", &c, &err);
    json_t *pub = ferry_connection_to_public_json(c, spec);
    char *text = json_dumps(pub, 0);
    CHECK_STR_NOT_CONTAINS(text, "hunter2-secret");
    CHECK_STR_NOT_CONTAINS(text, "tok-abcdef-123");
    CHECK_STR_CONTAINS(text, "\"password\": \"***\"");
    CHECK_STR_CONTAINS(text, "\"pages\": \"5\""); /* defaults shown */
    free(text);
    json_decref(pub);
    ferry_connection_free(c);
    ferry_store_close(st);
    free(path);
    ferry_redact_reset();
}

TEST(state_and_cursor_round_trip_as_json)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("state", &path, &err);
    add_shop(st, "pw", &err);
    json_t *v = json_loads("{\"a\":[1,2.5,\"x\",null,{}],\"b\":true}", 0, NULL);
    CHECK_INT_EQ(ferry_connection_state_set(st, 1, "k", v, &err), FERRY_OK);
    json_t *back = NULL;
    CHECK_INT_EQ(ferry_connection_state_get(st, 1, "k", &back, &err), FERRY_OK);
    CHECK(back != NULL && json_equal(v, back));
    json_decref(back);
    CHECK_INT_EQ(ferry_connection_state_set(st, 1, "k", NULL, &err), FERRY_OK);
    ferry_connection_state_get(st, 1, "k", &back, &err);
    CHECK(back == NULL);
    json_decref(v);
    ferry_store_close(st);
    free(path);
}

TEST(lock_is_exclusive_until_released_or_expired)
{
    char *path = db_path("lock");
    ferry_store *a = NULL, *b = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    ferry_store_open(path, FERRY_STORE_CREATE, &a, &err);
    ferry_store_open(path, 0, &b, &err);
    CHECK_INT_EQ(ferry_store_lock(a, "token", "A", 60000, 0, &err), FERRY_OK);
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_store_lock(b, "token", "B", 60000, 100, &err), FERRY_RETRY);
    ferry_store_unlock(a, "token", "A");
    CHECK_INT_EQ(ferry_store_lock(b, "token", "B", 1, 0, &err), FERRY_OK);
    ferry_sleep_ms(5);
    /* B's lock expired after 1 ms: A takes it over */
    CHECK_INT_EQ(ferry_store_lock(a, "token", "A", 60000, 0, &err), FERRY_OK);
    ferry_store_close(a);
    ferry_store_close(b);
    free(path);
}

TEST(nested_transaction_rollback_undoes_the_outer_one)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("tx", &path, &err);
    CHECK_INT_EQ(ferry_store_begin(st, &err), FERRY_OK);
    ferry_store_exec(st, "INSERT INTO settings(name,value,updated_at) VALUES('a','1','t')", &err);
    CHECK_INT_EQ(ferry_store_begin(st, &err), FERRY_OK);
    ferry_store_rollback(st);
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_store_commit(st, &err), FERRY_FATAL);
    sqlite3_stmt *s = NULL;
    sqlite3_prepare_v2(ferry_store_db(st), "SELECT count(*) FROM settings", -1, &s, NULL);
    sqlite3_step(s);
    CHECK_INT_EQ(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    ferry_store_close(st);
    free(path);
}

TEST(id_map_and_dead_letters_round_trip)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("idmap", &path, &err);
    add_shop(st, "pw", &err);
    ferry_store_exec(st,
                     "INSERT INTO flows(name,kind,source_connection_id,source_entity,target_connection_id,"
                     "target_entity,created_at,updated_at) VALUES('f','orders',1,'order',1,'document','t','t')",
                     &err);
    ferry_idmap_entry e;
    memset(&e, 0, sizeof(e));
    ferry_strlcpy(e.state, "intent", sizeof(e.state));
    e.payload_hash = "abc";
    CHECK_INT_EQ(ferry_idmap_put(st, 1, "order", "100001", &e, &err), FERRY_OK);
    ferry_idmap_entry got;
    int found = 0;
    CHECK_INT_EQ(ferry_idmap_get(st, 1, "order", "100001", &got, &found, &err), FERRY_OK);
    CHECK(found);
    CHECK_STR_EQ(got.state, "intent");
    CHECK_STR_EQ(got.payload_hash, "abc");
    ferry_idmap_entry_clear(&got);
    json_t *keys = NULL;
    ferry_idmap_keys_in_state(st, 1, "intent", &keys, &err);
    CHECK_INT_EQ(json_array_size(keys), 1);
    json_decref(keys);
    /* a bad state is refused by the schema */
    ferry_strlcpy(e.state, "bogus", sizeof(e.state));
    CHECK(ferry_idmap_put(st, 1, "order", "100002", &e, &err) != FERRY_OK);
    /* dead letters: a second failure of the same key bumps attempts on the open letter */
    json_t *rec = json_pack("{s:s}", "key", "100001");
    CHECK_INT_EQ(
        ferry_activity_dead_put(st, 1, "order", "100001", "map", "record", "no such article", rec, NULL, NULL, &err),
        FERRY_OK);
    CHECK_INT_EQ(
        ferry_activity_dead_put(st, 1, "order", "100001", "write", "record", "still no article", rec, NULL, NULL, &err),
        FERRY_OK);
    json_decref(rec);
    json_t *list = NULL;
    ferry_activity_dead_list(st, 1, "open", &list, &err);
    CHECK_INT_EQ(json_array_size(list), 1);
    CHECK_INT_EQ(json_integer_value(json_object_get(json_array_get(list, 0), "attempts")), 2);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(list, 0), "message")), "still no article");
    json_decref(list);
    ferry_store_close(st);
    free(path);
}

TEST(purge_matching_removes_a_persons_events_only)
{
    char *path;
    ferry_error err;
    ferry_store *st = new_store("purge", &path, &err);
    json_t *d1 = json_pack("{s:s}", "email", "Anna.Svensson@example.se");
    json_t *d2 = json_pack("{s:s}", "email", "bo@example.se");
    ferry_event e1 = {0, 0, 0, "info", "read", "order", "100001", "read order", d1};
    ferry_event e2 = {0, 0, 0, "info", "read", "order", "100002", "read order", d2};
    ferry_activity_event(st, &e1, &err);
    ferry_activity_event(st, &e2, &err);
    json_t *counts = NULL;
    CHECK_INT_EQ(ferry_activity_purge_matching(st, "anna.svensson@example.se", &counts, &err), FERRY_OK);
    CHECK_INT_EQ(json_integer_value(json_object_get(counts, "events")), 1);
    json_decref(counts);
    ferry_log_filter f = {0};
    json_t *left = NULL;
    ferry_activity_events(st, &f, &left, &err);
    CHECK_INT_EQ(json_array_size(left), 1);
    CHECK_STR_EQ(json_string_value(json_object_get(json_array_get(left, 0), "key")), "100002");
    json_decref(left);
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_activity_purge_matching(st, "a", &counts, &err), FERRY_CONFIG_ERROR);
    json_decref(d1);
    json_decref(d2);
    ferry_store_close(st);
    free(path);
}

int main(void)
{
    RUN_TEST(open_creates_file_0600_in_wal_mode_with_foreign_keys);
    RUN_TEST(open_without_create_names_the_missing_file);
    RUN_TEST(migrations_run_once_and_reopen_keeps_data);
    RUN_TEST(newer_schema_is_refused_and_left_untouched);
    RUN_TEST(connection_settings_are_validated_by_name_and_type);
    RUN_TEST(public_view_masks_secrets);
    RUN_TEST(state_and_cursor_round_trip_as_json);
    RUN_TEST(lock_is_exclusive_until_released_or_expired);
    RUN_TEST(nested_transaction_rollback_undoes_the_outer_one);
    RUN_TEST(id_map_and_dead_letters_round_trip);
    RUN_TEST(purge_matching_removes_a_persons_events_only);
    TEST_MAIN_END();
}
