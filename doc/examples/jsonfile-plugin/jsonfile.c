/*
 * jsonfile.c - an example ferry connector plugin that reads records from a
 * JSON file and writes records as JSON lines.
 *
 * It is the template for third-party plugins: it builds against nothing but
 * the installed <ferry/plugin.h> and Jansson (see Makefile: pkg-config
 * ferry-plugin), exports only ferry_plugin_entry, and keeps every other
 * function static.  ferry's own tests also use it as an offline source and
 * target.
 *
 * Settings:
 *   input      a JSON file: an array of records, or {"<entity>": [records]}
 *   output     a directory; created/updated records are appended to
 *              <output>/<entity>.jsonl
 *   fail_keys  comma-separated record keys whose create fails with a record
 *              error (to try dead letters)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/plugin.h>

struct ferry_conn {
    const ferry_host *host;
    ferry_host_conn *hc;
    json_t *input; /* what the input file holds (or NULL) */
    char output[1024];
    char fail_keys[1024];
    long created;
};

static int jf_open(const ferry_host *host, ferry_host_conn *hc, ferry_conn **out, ferry_error *err)
{
    ferry_conn *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    }
    c->host = host;
    c->hc = hc;
    const char *input = host->setting(hc, "input");
    if (input != NULL && input[0]) {
        json_error_t jerr;
        c->input = json_load_file(input, 0, &jerr);
        if (c->input == NULL) {
            free(c);
            ferry_error_set(err, FERRY_CONFIG_ERROR, "input", "%s:%d: %s", input, jerr.line, jerr.text);
            return FERRY_CONFIG_ERROR;
        }
    }
    const char *output = host->setting(hc, "output");
    snprintf(c->output, sizeof(c->output), "%s", output ? output : "");
    const char *fail = host->setting(hc, "fail_keys");
    snprintf(c->fail_keys, sizeof(c->fail_keys), ",%s,", fail ? fail : "");
    *out = c;
    return FERRY_OK;
}

static void jf_close(ferry_conn *c)
{
    json_decref(c->input);
    free(c);
}

/* The records of `entity` in the input (borrowed), or NULL. */
static json_t *records_of(ferry_conn *c, const char *entity)
{
    if (c->input == NULL) {
        return NULL;
    }
    if (json_is_array(c->input)) {
        return c->input;
    }
    return json_object_get(c->input, entity);
}

static int jf_test(ferry_conn *c, json_t **info, ferry_error *err)
{
    (void)err;
    *info = json_pack("{s:s, s:s}", "input", c->host->setting(c->hc, "input") ? c->host->setting(c->hc, "input") : "",
                      "output", c->output);
    return FERRY_OK;
}

static int jf_read_page(ferry_conn *c, const char *entity, const json_t *query, const json_t *cursor, json_t **records,
                        json_t **next_cursor, int *more, ferry_error *err)
{
    (void)err;
    json_t *all = records_of(c, entity);
    size_t total = all ? json_array_size(all) : 0;
    size_t offset = cursor ? (size_t)json_integer_value(json_object_get(cursor, "offset")) : 0;
    json_int_t page = query ? json_integer_value(json_object_get(query, "page_size")) : 0;
    if (page <= 0) {
        page = 50;
    }
    *records = json_array();
    size_t i = offset;
    for (; i < total && i < offset + (size_t)page; i++) {
        json_array_append(*records, json_array_get(all, i));
    }
    *next_cursor = json_pack("{s:I}", "offset", (json_int_t)i);
    *more = i < total;
    return FERRY_OK;
}

static int jf_find(ferry_conn *c, const char *entity, const char *key, const char *value, json_t **found,
                   ferry_error *err)
{
    (void)err;
    *found = NULL;
    json_t *all = records_of(c, entity);
    size_t i;
    json_t *r;
    json_array_foreach (all, i, r) {
        const char *v = json_string_value(json_object_get(r, key));
        if (v != NULL && strcmp(v, value) == 0) {
            *found = json_incref(r);
            return FERRY_OK;
        }
    }
    return FERRY_OK;
}

/* Append one line to <output>/<entity>.jsonl. */
static int append(ferry_conn *c, const char *entity, const json_t *line, ferry_error *err)
{
    if (!c->output[0]) {
        return FERRY_OK;
    }
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s.jsonl", c->output, entity);
    FILE *f = fopen(path, "a");
    if (f == NULL) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "output", "cannot append to %s", path);
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
    fprintf(f, "%s\n", text ? text : "null");
    free(text);
    fclose(f);
    return FERRY_OK;
}

static int jf_create(ferry_conn *c, const char *entity, const json_t *record, json_t **created, ferry_error *err)
{
    const char *key = json_string_value(json_object_get(record, "key"));
    if (key != NULL) {
        char needle[300];
        snprintf(needle, sizeof(needle), ",%s,", key);
        if (strstr(c->fail_keys, needle) != NULL) {
            return ferry_error_set(err, FERRY_RECORD_ERROR, "key", "record %s is on the fail_keys list", key);
        }
    }
    json_t *copy = json_deep_copy(record);
    char id[32];
    snprintf(id, sizeof(id), "%s-%ld", entity, ++c->created);
    json_object_set_new(copy, "id", json_string(id));
    int rc = append(c, entity, copy, err);
    if (rc != FERRY_OK) {
        json_decref(copy);
        return rc;
    }
    c->host->log(c->hc, FERRY_LOG_DEBUG, "created %s %s", entity, id);
    *created = copy;
    return FERRY_OK;
}

static int jf_update(ferry_conn *c, const char *entity, const char *id, const json_t *record, json_t **updated,
                     ferry_error *err)
{
    json_t *copy = json_deep_copy(record);
    json_object_set_new(copy, "id", json_string(id));
    int rc = append(c, entity, copy, err);
    if (rc != FERRY_OK) {
        json_decref(copy);
        return rc;
    }
    *updated = copy;
    return FERRY_OK;
}

static int jf_to_native(ferry_conn *c, const char *entity, const json_t *record, json_t **native, ferry_error *err)
{
    (void)c;
    (void)entity;
    (void)err;
    *native = json_deep_copy(record);
    return FERRY_OK;
}

#define ALL_OPS (FERRY_OP_READ | FERRY_OP_FIND | FERRY_OP_CREATE | FERRY_OP_UPDATE)

static const ferry_entity_spec entities[] = {{"order", ALL_OPS, "key|number", "orders"},
                                             {"customer", ALL_OPS, "key|email", "customers"},
                                             {"product", ALL_OPS, "key|sku", "products"},
                                             {"stock", ALL_OPS, "key|sku", "stock levels"},
                                             {"document", ALL_OPS, "key", "sales documents"},
                                             {"order_comment", FERRY_OP_CREATE, NULL, "order comments"},
                                             {NULL, 0, NULL, NULL}};

static const ferry_setting_spec settings[] = {
    {"input", FERRY_SETTING_STRING, 0, NULL, NULL, "JSON file with the records to read"},
    {"output", FERRY_SETTING_STRING, 0, NULL, NULL, "directory for <entity>.jsonl files of written records"},
    {"fail_keys", FERRY_SETTING_STRING, 0, NULL, NULL, "comma-separated keys whose create fails (testing)"},
    {NULL, 0, 0, NULL, NULL, NULL}};

static const ferry_plugin_descriptor descriptor = {
    FERRY_PLUGIN_DESCRIPTOR_HEADER,
    .name = "jsonfile",
    .version = "1.0.0",
    .description = "records from a JSON file, written as JSON lines (example plugin)",
    .entities = entities,
    .settings = settings,
    .open = jf_open,
    .test = jf_test,
    .read_page = jf_read_page,
    .find = jf_find,
    .create = jf_create,
    .update = jf_update,
    .close = jf_close,
    .to_native = jf_to_native,
};

const ferry_plugin_descriptor *ferry_plugin_entry(const ferry_host *host)
{
    /* This plugin needs nothing newer than ABI 1.0: check the table is at least that big. */
    if (!FERRY_HOST_HAS(host, prompt)) {
        return NULL;
    }
    return &descriptor;
}
