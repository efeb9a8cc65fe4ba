/*
 * cli_flow.c - `ferry flow ...`: add, list, show, enable, disable, set,
 * export, import, remove, reset.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "error.h"
#include "flow.h"
#include "syncstate.h"
#include "util.h"

static const char flow_usage[] =
    "usage: ferry flow add NAME --kind KIND --source CONN[:ENTITY] --target CONN[:ENTITY]\n"
    "                  [--mapping FILE] [--set NAME=VALUE]... [--map MAP:FROM=TO]...\n"
    "                  [--description TEXT] [--disabled]\n"
    "       ferry flow list [--json]\n"
    "       ferry flow show NAME [--json]\n"
    "       ferry flow enable|disable NAME\n"
    "       ferry flow set NAME NAME=VALUE... [--map MAP:FROM=TO]...\n"
    "       ferry flow export NAME [-o FILE]\n"
    "       ferry flow import FILE [--replace]\n"
    "       ferry flow remove NAME\n"
    "       ferry flow reset NAME [--ids]\n"
    "\n"
    "A flow moves one kind of record from a source connection to a target\n"
    "connection through a Lua mapping.  Kinds: orders, customers, products, stock.\n"
    "Without :ENTITY the kind's direction for the two plugins is picked, with its\n"
    "default mapping (products --source books --target shop: article -> product).\n"
    "Setting values are JSON when they parse as JSON (true, 10, [\"a\",\"b\"]), else\n"
    "strings.  Value maps (--map payment_terms:checkmo=30) feed ferry.map() in the\n"
    "mapping.  export writes the flow as JSON for version control; import reads it\n"
    "back and refuses unknown keys, wrong types and missing plugins with the path of\n"
    "the field.  reset forgets the read cursor (the next run starts from 'since');\n"
    "with --ids it also forgets which records were synced (they will be reconciled\n"
    "against the target by their external reference, so nothing is created twice).\n";

/* A setting value: JSON when it parses as a JSON value, else the string itself. */
static json_t *setting_value(const char *text)
{
    json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v != NULL ? v : json_string(text);
}

typedef struct add_opts {
    json_t *doc;
    int bad;
} add_opts;

static int split_endpoint(const char *arg, json_t **out)
{
    const char *colon = strchr(arg, ':');
    if (colon == NULL) {
        *out = json_pack("{s:s}", "connection", arg);
    } else {
        char *conn = ferry_asprintf("%.*s", (int)(colon - arg), arg);
        *out = json_pack("{s:s, s:s}", "connection", conn, "entity", colon + 1);
        free(conn);
    }
    return 0;
}

/* --map MAP:FROM=TO into doc.maps */
static int add_map(json_t *doc, const char *arg)
{
    const char *colon = strchr(arg, ':');
    const char *eq = colon ? strchr(colon, '=') : NULL;
    if (colon == NULL || eq == NULL || colon == arg) {
        fprintf(stderr, "ferry flow: --map expects MAP:FROM=TO, got '%s'\n", arg);
        return -1;
    }
    json_t *maps = json_object_get(doc, "maps");
    if (maps == NULL) {
        maps = json_object();
        json_object_set_new(doc, "maps", maps);
    }
    char *map = ferry_asprintf("%.*s", (int)(colon - arg), arg);
    char *from = ferry_asprintf("%.*s", (int)(eq - colon - 1), colon + 1);
    json_t *m = json_object_get(maps, map);
    if (m == NULL) {
        m = json_object();
        json_object_set_new(maps, map, m);
    }
    json_object_set_new(m, from, json_string(eq + 1));
    free(map);
    free(from);
    return 0;
}

static int add_setting(json_t *doc, const char *arg)
{
    char *name, *value;
    if (ferry_cli_parse_assignment("ferry flow", arg, &name, &value) != 0) {
        return -1;
    }
    json_t *settings = json_object_get(doc, "settings");
    if (settings == NULL) {
        settings = json_object();
        json_object_set_new(doc, "settings", settings);
    }
    json_object_set_new(settings, name, value[0] ? setting_value(value) : json_null());
    free(name);
    free(value);
    return 0;
}

static int add_option(void *ud, int opt, const char *arg)
{
    add_opts *o = ud;
    json_t *ep;
    switch (opt) {
    case 'k':
        json_object_set_new(o->doc, "kind", json_string(arg));
        return 0;
    case 'S':
        split_endpoint(arg, &ep);
        json_object_set_new(o->doc, "source", ep);
        return 0;
    case 'T':
        split_endpoint(arg, &ep);
        json_object_set_new(o->doc, "target", ep);
        return 0;
    case 'm':
        json_object_set_new(o->doc, "mapping", json_string(arg));
        return 0;
    case 'D':
        json_object_set_new(o->doc, "description", json_string(arg));
        return 0;
    case 'x':
        json_object_set_new(o->doc, "enabled", json_false());
        return 0;
    case 's':
        o->bad |= add_setting(o->doc, arg) != 0;
        return 0;
    case 'M':
        o->bad |= add_map(o->doc, arg) != 0;
        return 0;
    case 'r':
        json_object_set_new(o->doc, "__replace", json_true());
        return 0;
    case 'o':
        json_object_set_new(o->doc, "__output", json_string(arg));
        return 0;
    case 'I':
        json_object_set_new(o->doc, "__ids", json_true());
        return 0;
    default:
        return -1;
    }
}

static const struct option flow_opts[] = {{"kind", required_argument, NULL, 'k'},
                                          {"source", required_argument, NULL, 'S'},
                                          {"target", required_argument, NULL, 'T'},
                                          {"mapping", required_argument, NULL, 'm'},
                                          {"description", required_argument, NULL, 'D'},
                                          {"disabled", no_argument, NULL, 'x'},
                                          {"set", required_argument, NULL, 's'},
                                          {"map", required_argument, NULL, 'M'},
                                          {"replace", no_argument, NULL, 'r'},
                                          {"output", required_argument, NULL, 'o'},
                                          {"ids", no_argument, NULL, 'I'},
                                          {NULL, 0, NULL, 0}};

/* Pop a private option marker ("__replace") out of the document. */
static json_t *take_marker(json_t *doc, const char *key)
{
    json_t *v = json_object_get(doc, key);
    if (v != NULL) {
        json_incref(v);
        json_object_del(doc, key);
    }
    return v;
}

static int open_store(ferry_cli *cli, int create, ferry_store **st)
{
    int rc = FERRY_EXIT_OK;
    *st = ferry_cli_store(cli, create, &rc);
    return *st ? FERRY_EXIT_OK : rc;
}

/*
 * Store the mapping the way every later run finds it, wherever it runs from:
 * a file named relative to the current directory becomes an absolute path (a
 * cron job starts elsewhere), the name of a mapping in DATADIR/mappings stays
 * a name, and a mapping found nowhere is refused before anything is saved.
 */
static int resolve_mapping(json_t *doc, ferry_error *err)
{
    json_t *m = json_object_get(doc, "mapping");
    if (!json_is_string(m)) {
        return FERRY_OK; /* absent, or a type error ferry_flow_import reports with its path */
    }
    const char *path = json_string_value(m);
    const char *datadir = ferry_cli_datadir();
    if (path[0] == '/') {
        if (access(path, R_OK) == 0) {
            return FERRY_OK;
        }
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "$.mapping", "mapping %s cannot be read: %s", path,
                               strerror(errno));
    }
    if (path[0] != '\0' && access(path, R_OK) == 0) {
        char *abs = realpath(path, NULL);
        if (abs == NULL) {
            return ferry_error_set(err, FERRY_CONFIG_ERROR, "$.mapping", "mapping %s: %s", path, strerror(errno));
        }
        json_object_set_new(doc, "mapping", json_string(abs));
        free(abs);
        return FERRY_OK;
    }
    char *shared = ferry_asprintf("%s/mappings/%s", datadir, path);
    int found = shared != NULL && path[0] != '\0' && access(shared, R_OK) == 0;
    free(shared);
    if (found) {
        return FERRY_OK;
    }
    return ferry_error_set(err, FERRY_CONFIG_ERROR, "$.mapping", "mapping '%s' not found (looked in . and %s/mappings)",
                           path, datadir);
}

/* Save a flow document; `check_mapping`: the mapping was given now (not the stored one), resolve it. */
static int import_doc(ferry_cli *cli, ferry_cli_args *a, json_t *doc, int replace, int check_mapping)
{
    ferry_error err;
    ferry_error_clear(&err);
    if (check_mapping && resolve_mapping(doc, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    ferry_store *st;
    int rc = open_store(cli, 1, &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    if (ferry_flow_import(st, ferry_cli_loader(cli), doc, replace, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (!cli->quiet) {
        fprintf(stderr, "%s: flow %s saved\n", a->command, json_string_value(json_object_get(doc, "name")));
    }
    return FERRY_EXIT_OK;
}

static int cmd_add(ferry_cli *cli, ferry_cli_args *a)
{
    add_opts o = {json_object(), 0};
    int idx = ferry_cli_parse(cli, a, flow_usage, flow_opts, "k:m:s:o:r", add_option, &o);
    int rc;
    if (idx < 0 || o.bad) {
        rc = idx < 0 ? FERRY_CLI_PARSE_EXIT(idx) : FERRY_EXIT_USAGE;
    } else if (idx >= a->argc) {
        rc = ferry_cli_usage_error(a->command, "which name for the flow?");
    } else {
        json_object_set_new(o.doc, "name", json_string(a->argv[idx]));
        json_decref(take_marker(o.doc, "__replace"));
        rc = import_doc(cli, a, o.doc, 0, 1);
    }
    json_decref(o.doc);
    return rc;
}

static int cmd_list(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, flow_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = open_store(cli, 1, &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    json_t *list = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_flow_list(st, &list, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (cli->json) {
        ferry_cli_print_json(list);
    } else if (json_array_size(list) == 0) {
        printf("no flows (add one: ferry flow add NAME --kind orders --source SHOP --target BOOKS)\n");
    } else {
        printf("%-16s %-10s %-8s %s\n", "NAME", "KIND", "ENABLED", "SOURCE -> TARGET");
        size_t i;
        json_t *f;
        json_array_foreach (list, i, f) {
            printf("%-16s %-10s %-8s %s:%s -> %s:%s\n", json_string_value(json_object_get(f, "name")),
                   json_string_value(json_object_get(f, "kind")),
                   json_is_true(json_object_get(f, "enabled")) ? "yes" : "no",
                   json_string_value(json_object_get(f, "source")),
                   json_string_value(json_object_get(f, "source_entity")),
                   json_string_value(json_object_get(f, "target")),
                   json_string_value(json_object_get(f, "target_entity")));
        }
    }
    json_decref(list);
    return FERRY_EXIT_OK;
}

/* Load the flow named by the first operand. */
static int load_named(ferry_cli *cli, ferry_cli_args *a, int idx, ferry_store **st, ferry_flow **flow)
{
    int rc = ferry_cli_named_store(cli, a, idx, "which flow?", st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_flow_get(*st, a->argv[idx], flow, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    return FERRY_EXIT_OK;
}

static int cmd_show(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, flow_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    ferry_flow *f = NULL;
    int rc = load_named(cli, a, idx, &st, &f);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    json_t *doc = ferry_flow_export(f);
    json_object_set_new(doc, "effective_settings", ferry_flow_effective_settings(f));
    ferry_error err;
    ferry_error_clear(&err);
    char *mapping = ferry_flow_mapping_path(f, ferry_cli_datadir(), &err);
    json_object_set_new(doc, "mapping_file", mapping ? json_string(mapping) : json_null());
    json_t *cursor = NULL;
    ferry_syncstate_cursor_get(st, f->id, f->source_entity, &cursor, &err);
    json_object_set_new(doc, "cursor", cursor ? cursor : json_null());
    json_t *counts = NULL;
    ferry_syncstate_counts(st, f->id, &counts, &err);
    json_object_set_new(doc, "records", counts ? counts : json_object());
    free(mapping);
    ferry_cli_print_json(doc);
    json_decref(doc);
    ferry_flow_free(f);
    return FERRY_EXIT_OK;
}

static int cmd_enable(ferry_cli *cli, ferry_cli_args *a, int enabled)
{
    int idx = ferry_cli_parse(cli, a, flow_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which flow?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_flow_set_enabled(st, a->argv[idx], enabled, &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (!cli->quiet) {
        fprintf(stderr, "%s: flow %s %s\n", a->command, a->argv[idx], enabled ? "enabled" : "disabled");
    }
    return FERRY_EXIT_OK;
}

static int cmd_enable_on(ferry_cli *cli, ferry_cli_args *a)
{
    return cmd_enable(cli, a, 1);
}

static int cmd_disable(ferry_cli *cli, ferry_cli_args *a)
{
    return cmd_enable(cli, a, 0);
}

static int cmd_set(ferry_cli *cli, ferry_cli_args *a)
{
    add_opts o = {json_object(), 0};
    int idx = ferry_cli_parse(cli, a, flow_usage, flow_opts, "k:m:s:o:r", add_option, &o);
    ferry_store *st;
    ferry_flow *f = NULL;
    int rc;
    if (idx < 0 || o.bad) {
        json_decref(o.doc);
        return idx < 0 ? FERRY_CLI_PARSE_EXIT(idx) : FERRY_EXIT_USAGE;
    }
    rc = load_named(cli, a, idx, &st, &f);
    if (rc != FERRY_EXIT_OK) {
        json_decref(o.doc);
        return rc;
    }
    json_t *doc = ferry_flow_export(f);
    for (int i = idx + 1; i < a->argc; i++) {
        if (add_setting(doc, a->argv[i]) != 0) {
            json_decref(doc);
            json_decref(o.doc);
            ferry_flow_free(f);
            return FERRY_EXIT_USAGE;
        }
    }
    /* Options given to set (--map, --mapping, --set...) overlay the stored flow. */
    const char *k;
    json_t *v;
    json_object_foreach (o.doc, k, v) {
        if (strcmp(k, "settings") == 0 || strcmp(k, "maps") == 0) {
            json_t *dst = json_object_get(doc, k);
            json_object_update_recursive(dst, v);
        } else if (k[0] != '_') {
            json_object_set(doc, k, v);
        }
    }
    /* A null setting means "unset": drop it so the default applies. */
    json_t *settings = json_object_get(doc, "settings");
    void *tmp;
    json_object_foreach_safe (settings, tmp, k, v) {
        if (json_is_null(v)) {
            json_object_del(settings, k);
        }
    }
    /* only a --mapping given to set is resolved: the stored one must not move with the current directory */
    rc = import_doc(cli, a, doc, 1, json_object_get(o.doc, "mapping") != NULL);
    json_decref(doc);
    json_decref(o.doc);
    ferry_flow_free(f);
    return rc;
}

static int cmd_export(ferry_cli *cli, ferry_cli_args *a)
{
    add_opts o = {json_object(), 0};
    int idx = ferry_cli_parse(cli, a, flow_usage, flow_opts, "o:", add_option, &o);
    if (idx < 0) {
        json_decref(o.doc);
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    ferry_flow *f = NULL;
    int rc = load_named(cli, a, idx, &st, &f);
    if (rc != FERRY_EXIT_OK) {
        json_decref(o.doc);
        return rc;
    }
    json_t *doc = ferry_flow_export(f);
    json_t *out = json_object_get(o.doc, "__output");
    if (out != NULL && strcmp(json_string_value(out), "-") != 0) {
        /* the same bytes as the export to standard output */
        errno = 0;
        FILE *fp = fopen(json_string_value(out), "w");
        int bad = fp == NULL || ferry_cli_write_json(fp, doc) != 0;
        if (fp != NULL && fclose(fp) != 0) {
            bad = 1;
        }
        if (bad) {
            fprintf(stderr, "%s: cannot write %s: %s\n", a->command, json_string_value(out),
                    errno != 0 ? strerror(errno) : "out of memory");
            rc = FERRY_EXIT_FAILURE;
        }
    } else {
        ferry_cli_print_json(doc);
    }
    json_decref(doc);
    json_decref(o.doc);
    ferry_flow_free(f);
    return rc;
}

static int cmd_import(ferry_cli *cli, ferry_cli_args *a)
{
    add_opts o = {json_object(), 0};
    int idx = ferry_cli_parse(cli, a, flow_usage, flow_opts, "r", add_option, &o);
    if (idx < 0) {
        json_decref(o.doc);
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    int replace = json_object_get(o.doc, "__replace") != NULL;
    json_decref(o.doc);
    if (idx >= a->argc) {
        return ferry_cli_usage_error(a->command, "which file? ('-' reads standard input)");
    }
    json_error_t jerr;
    const char *file = a->argv[idx];
    json_t *doc = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &jerr) : json_load_file(file, 0, &jerr);
    if (doc == NULL) {
        fprintf(stderr, "%s: %s:%d:%d: not valid JSON: %s\n", a->command, file, jerr.line, jerr.column, jerr.text);
        return FERRY_EXIT_CONFIG;
    }
    int rc = import_doc(cli, a, doc, replace, 1);
    json_decref(doc);
    return rc;
}

static int cmd_remove(ferry_cli *cli, ferry_cli_args *a)
{
    int idx = ferry_cli_parse(cli, a, flow_usage, NULL, NULL, NULL, NULL);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    int rc = ferry_cli_named_store(cli, a, idx, "which flow?", &st);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_flow_remove(st, a->argv[idx], &err) != FERRY_OK) {
        return ferry_cli_fail(a->command, &err);
    }
    if (!cli->quiet) {
        fprintf(stderr, "%s: flow %s removed\n", a->command, a->argv[idx]);
    }
    return FERRY_EXIT_OK;
}

static int cmd_reset(ferry_cli *cli, ferry_cli_args *a)
{
    add_opts o = {json_object(), 0};
    int idx = ferry_cli_parse(cli, a, flow_usage, flow_opts, "", add_option, &o);
    int ids = json_object_get(o.doc, "__ids") != NULL;
    json_decref(o.doc);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    ferry_store *st;
    ferry_flow *f = NULL;
    int rc = load_named(cli, a, idx, &st, &f);
    if (rc != FERRY_EXIT_OK) {
        return rc;
    }
    ferry_error err;
    ferry_error_clear(&err);
    if (ferry_syncstate_reset(st, f->id, ids, &err) != FERRY_OK) {
        ferry_flow_free(f);
        return ferry_cli_fail(a->command, &err);
    }
    if (!cli->quiet) {
        fprintf(stderr, "%s: flow %s: cursor reset%s\n", a->command, f->name, ids ? ", id map cleared" : "");
    }
    ferry_flow_free(f);
    return FERRY_EXIT_OK;
}

int ferry_cmd_flow(ferry_cli *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*fn)(ferry_cli *, ferry_cli_args *);
    } subs[] = {{"add", cmd_add},         {"list", cmd_list}, {"show", cmd_show},     {"enable", cmd_enable_on},
                {"disable", cmd_disable}, {"set", cmd_set},   {"export", cmd_export}, {"import", cmd_import},
                {"remove", cmd_remove},   {"rm", cmd_remove}, {"reset", cmd_reset},   {NULL, NULL}};
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        ferry_cli_print_usage(argc < 2 ? stderr : stdout, flow_usage);
        return argc < 2 ? FERRY_EXIT_USAGE : FERRY_EXIT_OK;
    }
    for (size_t i = 0; subs[i].name; i++) {
        if (strcmp(subs[i].name, argv[1]) == 0) {
            char command[64];
            snprintf(command, sizeof(command), "ferry flow %s", argv[1]);
            ferry_cli_args a = {command, argc - 1, argv + 1};
            return subs[i].fn(cli, &a);
        }
    }
    return ferry_cli_usage_error("ferry flow", "unknown subcommand '%s'", argv[1]);
}
