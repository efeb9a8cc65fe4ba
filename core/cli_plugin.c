/* cli_plugin.c - `ferry plugin list|show`: the connector plugins ferry found. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "error.h"
#include "loader.h"
#include "util.h"

static const char plugin_usage[] = "usage: ferry plugin list [--json]\n"
                                   "       ferry plugin show NAME [--json]\n"
                                   "\n"
                                   "List the connector plugins found in $FERRY_PLUGIN_PATH and in the installed\n"
                                   "plugin directory (" FERRY_PLUGINDIR "), with their version, ABI, file,\n"
                                   "the entities they read and write, and their connection settings.  Files that\n"
                                   "were refused are listed with the reason.\n";

static const char *type_name(int type)
{
    switch (type) {
    case FERRY_SETTING_INT:
        return "int";
    case FERRY_SETTING_BOOL:
        return "bool";
    case FERRY_SETTING_URL:
        return "url";
    case FERRY_SETTING_ENUM:
        return "enum";
    default:
        return "string";
    }
}

static json_t *ops_json(unsigned ops)
{
    json_t *a = json_array();
    if (ops & FERRY_OP_READ) {
        json_array_append_new(a, json_string("read"));
    }
    if (ops & FERRY_OP_FIND) {
        json_array_append_new(a, json_string("find"));
    }
    if (ops & FERRY_OP_CREATE) {
        json_array_append_new(a, json_string("create"));
    }
    if (ops & FERRY_OP_UPDATE) {
        json_array_append_new(a, json_string("update"));
    }
    return a;
}

static json_t *plugin_json(const ferry_plugin *p)
{
    const ferry_plugin_descriptor *d = p->desc;
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(d->name));
    json_object_set_new(o, "version", json_string(d->version));
    char abi[32];
    snprintf(abi, sizeof(abi), "%u.%u", d->abi_major, d->abi_minor);
    json_object_set_new(o, "abi", json_string(abi));
    json_object_set_new(o, "path", json_string(p->path));
    if (d->description != NULL) {
        json_object_set_new(o, "description", json_string(d->description));
    }
    json_t *ents = json_array();
    for (const ferry_entity_spec *e = d->entities; e && e->name; e++) {
        json_t *eo = json_pack("{s:s, s:o}", "name", e->name, "operations", ops_json(e->ops));
        if (e->keys != NULL) {
            json_object_set_new(eo, "keys", json_string(e->keys));
        }
        json_array_append_new(ents, eo);
    }
    json_object_set_new(o, "entities", ents);
    json_t *sets = json_array();
    for (const ferry_setting_spec *s = d->settings; s && s->name; s++) {
        json_t *so =
            json_pack("{s:s, s:s, s:b, s:b}", "name", s->name, "type", type_name(s->type), "required",
                      (s->flags & FERRY_SETTING_REQUIRED) != 0, "secret", (s->flags & FERRY_SETTING_SECRET) != 0);
        if (s->flags & FERRY_SETTING_MANAGED) {
            json_object_set_new(so, "managed", json_true());
        }
        if (s->default_value != NULL) {
            json_object_set_new(so, "default", json_string(s->default_value));
        }
        if (s->choices != NULL) {
            json_object_set_new(so, "choices", json_string(s->choices));
        }
        if (s->description != NULL) {
            json_object_set_new(so, "description", json_string(s->description));
        }
        json_array_append_new(sets, so);
    }
    json_object_set_new(o, "settings", sets);
    json_t *acts = json_array();
    for (const ferry_action_spec *a = d->actions; a && a->name; a++) {
        json_array_append_new(
            acts, json_pack("{s:s, s:s}", "name", a->name, "description", a->description ? a->description : ""));
    }
    json_object_set_new(o, "actions", acts);
    return o;
}

static void print_plugin(const ferry_plugin *p, int detailed)
{
    const ferry_plugin_descriptor *d = p->desc;
    printf("%-14s %-9s ABI %u.%u  %s\n", d->name, d->version, d->abi_major, d->abi_minor, p->path);
    if (d->description != NULL) {
        printf("    %s\n", d->description);
    }
    printf("    entities:");
    for (const ferry_entity_spec *e = d->entities; e && e->name; e++) {
        printf(" %s(%s%s%s%s)", e->name, e->ops & FERRY_OP_READ ? "r" : "", e->ops & FERRY_OP_FIND ? "f" : "",
               e->ops & FERRY_OP_CREATE ? "c" : "", e->ops & FERRY_OP_UPDATE ? "u" : "");
    }
    printf("\n    settings:");
    for (const ferry_setting_spec *s = d->settings; s && s->name; s++) {
        if (!(s->flags & FERRY_SETTING_MANAGED) || detailed) {
            printf(" %s%s%s", s->name, s->flags & FERRY_SETTING_REQUIRED ? "*" : "",
                   s->flags & FERRY_SETTING_SECRET ? "(secret)" : "");
        }
    }
    printf("\n");
    if (!detailed) {
        return;
    }
    printf("\n  %-24s %-7s %-9s %s\n", "SETTING", "TYPE", "", "DESCRIPTION");
    for (const ferry_setting_spec *s = d->settings; s && s->name; s++) {
        char flags[32];
        snprintf(flags, sizeof(flags), "%s%s%s", s->flags & FERRY_SETTING_REQUIRED ? "required " : "",
                 s->flags & FERRY_SETTING_SECRET ? "secret " : "", s->flags & FERRY_SETTING_MANAGED ? "managed" : "");
        printf("  %-24s %-7s %-9s %s%s%s%s\n", s->name, type_name(s->type), flags, s->description ? s->description : "",
               s->default_value ? " [default: " : "", s->default_value ? s->default_value : "",
               s->default_value ? "]" : "");
    }
    if (d->actions != NULL && d->actions->name != NULL) {
        printf("\n  actions:\n");
        for (const ferry_action_spec *a = d->actions; a && a->name; a++) {
            printf("    %-22s %s\n", a->name, a->description ? a->description : "");
        }
    }
}

int ferry_cmd_plugin(ferry_cli *cli, int argc, char **argv)
{
    static const struct option longopts[] = {FERRY_CLI_COMMON_LONGOPTS, {NULL, 0, NULL, 0}};
    int has_sub = argc > 1 && argv[1][0] != '-';
    const char *sub = has_sub ? argv[1] : "list";
    int opt;
    optind = 0;
    int sub_argc = has_sub ? argc - 1 : argc;
    char **sub_argv = has_sub ? argv + 1 : argv;
    while ((opt = getopt_long(sub_argc, sub_argv, "qvh", longopts, NULL)) != -1) {
        if (opt == 'h') {
            return ferry_cli_print_usage(stdout, plugin_usage);
        }
        if (!ferry_cli_common_option(cli, opt, optarg)) {
            return ferry_cli_usage_error("ferry plugin", "unknown option");
        }
    }
    ferry_loader *loader = ferry_cli_loader(cli);
    if (loader == NULL) {
        fprintf(stderr, "ferry plugin: cannot initialise the plugin loader\n");
        return FERRY_EXIT_INTERNAL;
    }
    if (strcmp(sub, "list") == 0) {
        if (optind < sub_argc) {
            return ferry_cli_usage_error("ferry plugin list", "unexpected argument '%s'", sub_argv[optind]);
        }
        if (cli->json) {
            json_t *out = json_object();
            json_t *arr = json_array();
            for (size_t i = 0; i < ferry_loader_count(loader); i++) {
                json_array_append_new(arr, plugin_json(ferry_loader_get(loader, i)));
            }
            json_t *refused = json_array();
            for (size_t i = 0; i < ferry_loader_refusal_count(loader); i++) {
                json_array_append_new(refused, json_string(ferry_loader_refusal(loader, i)));
            }
            json_object_set_new(out, "plugins", arr);
            json_object_set_new(out, "refused", refused);
            ferry_cli_print_json(out);
            json_decref(out);
            return FERRY_EXIT_OK;
        }
        if (ferry_loader_count(loader) == 0) {
            printf("no plugins found (searched $FERRY_PLUGIN_PATH and %s)\n", FERRY_PLUGINDIR);
        }
        for (size_t i = 0; i < ferry_loader_count(loader); i++) {
            print_plugin(ferry_loader_get(loader, i), 0);
        }
        for (size_t i = 0; i < ferry_loader_refusal_count(loader); i++) {
            printf("refused: %s\n", ferry_loader_refusal(loader, i));
        }
        return FERRY_EXIT_OK;
    }
    if (strcmp(sub, "show") == 0 || strcmp(sub, "info") == 0) {
        if (optind >= sub_argc) {
            return ferry_cli_usage_error("ferry plugin show", "which plugin?");
        }
        const ferry_plugin *p = ferry_loader_find(loader, sub_argv[optind]);
        if (p == NULL) {
            fprintf(stderr, "ferry plugin show: no plugin named %s (see 'ferry plugin list')\n", sub_argv[optind]);
            return FERRY_EXIT_CONFIG;
        }
        if (cli->json) {
            json_t *o = plugin_json(p);
            ferry_cli_print_json(o);
            json_decref(o);
        } else {
            print_plugin(p, 1);
        }
        return FERRY_EXIT_OK;
    }
    return ferry_cli_usage_error("ferry plugin", "unknown subcommand '%s'", sub);
}
