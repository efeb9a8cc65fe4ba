/* Loader tests: good plugins load, bad ones are refused with the file and reason, the rest still load. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "loader.h"
#include "log.h"
#include "testing.h"
#include "util.h"

static char plugin_dir[1024];

static char *plugin_path(const char *name)
{
    return ferry_asprintf("%s/%s.so", plugin_dir, name);
}

static int load_one(ferry_loader *l, const char *name, ferry_error *err)
{
    char *path = plugin_path(name);
    ferry_error_clear(err);
    int rc = ferry_loader_load_file(l, path, err);
    free(path);
    return rc;
}

TEST(good_plugin_loads_with_its_descriptor)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "good", &err), FERRY_OK);
    const ferry_plugin *p = ferry_loader_find(l, "testgood");
    CHECK(p != NULL);
    if (p != NULL) {
        CHECK_STR_EQ(p->desc->version, "1.2.3");
        CHECK_STR_EQ(p->desc->entities[0].name, "thing");
        CHECK_STR_EQ(p->desc->settings[1].name, "password");
        CHECK(p->desc->settings[1].flags & FERRY_SETTING_SECRET);
        CHECK_STR_CONTAINS(p->path, "good.so");
        /* members the plugin left out read as NULL */
        CHECK(p->desc->to_native == NULL);
    }
    ferry_loader_destroy(l);
}

TEST(wrong_abi_major_is_refused_naming_file_and_versions)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "wrong_abi", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "wrong_abi.so");
    CHECK_STR_CONTAINS(err.message, "ABI 99.0");
    CHECK_INT_EQ(ferry_loader_count(l), 0);
    CHECK_INT_EQ(ferry_loader_refusal_count(l), 1);
    CHECK_STR_CONTAINS(ferry_loader_refusal(l, 0), "wrong_abi.so: built for plugin ABI 99.0");
    ferry_loader_destroy(l);
}

TEST(missing_entry_symbol_is_refused)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "no_entry", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "no_entry.so: no ferry_plugin_entry symbol");
    ferry_loader_destroy(l);
}

TEST(too_small_descriptor_is_refused)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "too_small", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "too_small.so: descriptor too small (24 bytes");
    ferry_loader_destroy(l);
}

TEST(entry_returning_null_is_refused)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "null_entry", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "returned no descriptor");
    ferry_loader_destroy(l);
}

TEST(missing_file_is_refused)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "does_not_exist", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "does_not_exist.so: cannot be loaded");
    ferry_loader_destroy(l);
}

TEST(a_file_that_is_no_library_is_refused_with_the_real_reason)
{
    /* libltdl alone says "file not found" for a file that is there: the reason must be the loader's */
    char path[] = "/tmp/ferry-test-loader-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) {
        return;
    }
    CHECK(write(fd, "garbage\n", 8) == 8);
    close(fd);
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_loader_load_file(l, path, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "cannot be loaded");
    CHECK_MSG(strstr(err.message, "file not found") == NULL, "message: %s", err.message);
    ferry_loader_destroy(l);
    unlink(path);
}

TEST(newer_minor_with_bigger_descriptor_loads_reading_only_known_members)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "future_minor", &err), FERRY_OK);
    const ferry_plugin *p = ferry_loader_find(l, "testfuture");
    CHECK(p != NULL);
    if (p != NULL) {
        CHECK_INT_EQ(p->desc->abi_minor, FERRY_PLUGIN_ABI_MINOR + 7);
        CHECK(p->desc->open != NULL);
    }
    ferry_loader_destroy(l);
}

TEST(scan_loads_the_good_ones_and_lists_each_refusal_once)
{
    setenv("FERRY_PLUGIN_PATH", plugin_dir, 1);
    int old = ferry_log_get_level();
    ferry_log_set_level(-1); /* refusals are logged as warnings; keep the TAP stream clean */
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    size_t n = ferry_loader_scan(l, "/nonexistent/ferry/plugins");
    ferry_log_set_level(old);
    CHECK_INT_EQ(n, 3); /* good, future_minor and the jsonfile example */
    CHECK(ferry_loader_find(l, "testgood") != NULL);
    CHECK(ferry_loader_find(l, "testfuture") != NULL);
    CHECK(ferry_loader_find(l, "jsonfile") != NULL);
    CHECK_INT_EQ(ferry_loader_refusal_count(l), 4); /* wrong_abi, no_entry, too_small, null_entry */
    int seen_wrong = 0;
    for (size_t i = 0; i < ferry_loader_refusal_count(l); i++) {
        seen_wrong += strstr(ferry_loader_refusal(l, i), "wrong_abi.so") != NULL;
    }
    CHECK_INT_EQ(seen_wrong, 1);
    ferry_loader_destroy(l);
    unsetenv("FERRY_PLUGIN_PATH");
}

TEST(same_plugin_twice_on_the_path_keeps_the_first)
{
    ferry_loader *l = ferry_loader_create(ferry_host_table());
    ferry_error err;
    CHECK_INT_EQ(load_one(l, "good", &err), FERRY_OK);
    CHECK_INT_EQ(load_one(l, "good", &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "already loaded");
    CHECK_INT_EQ(ferry_loader_count(l), 1);
    CHECK_INT_EQ(ferry_loader_refusal_count(l), 0);
    ferry_loader_destroy(l);
}

int main(void)
{
    const char *dir = getenv("FERRY_TEST_PLUGIN_DIR");
    ferry_strlcpy(plugin_dir, dir ? dir : "tests/plugins/.libs", sizeof(plugin_dir));
    RUN_TEST(good_plugin_loads_with_its_descriptor);
    RUN_TEST(wrong_abi_major_is_refused_naming_file_and_versions);
    RUN_TEST(missing_entry_symbol_is_refused);
    RUN_TEST(too_small_descriptor_is_refused);
    RUN_TEST(entry_returning_null_is_refused);
    RUN_TEST(missing_file_is_refused);
    RUN_TEST(a_file_that_is_no_library_is_refused_with_the_real_reason);
    RUN_TEST(newer_minor_with_bigger_descriptor_loads_reading_only_known_members);
    RUN_TEST(scan_loads_the_good_ones_and_lists_each_refusal_once);
    RUN_TEST(same_plugin_twice_on_the_path_keeps_the_first);
    TEST_MAIN_END();
}
