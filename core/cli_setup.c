/*
 * cli_setup.c - `ferry setup`, the set-up wizard: connect the shop, connect
 * the accounting company (OAuth consent), check both, and create the orders
 * flow with value maps built from what the shop's recent orders use.
 *
 * Every question has a key; answers come from --answers FILE (JSON object
 * key -> answer) first, then from the terminal, then from standard input
 * when it is not a terminal, so the wizard can run headless in a script.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "connection.h"
#include "engine.h"
#include "error.h"
#include "flow.h"
#include "host.h"
#include "loader.h"
#include "redact.h"
#include "util.h"

static const char setup_usage[] = "usage: ferry setup [--answers FILE]\n"
                                  "\n"
                                  "Set ferry up step by step: the Magento connection (URL, integration\n"
                                  "credentials), the eAccounting connection (client id and secret, then the\n"
                                  "consent in a browser), a check of both, and the orders flow with its value\n"
                                  "maps - the payment and shipping methods your shop's recent orders use are\n"
                                  "listed so each can be mapped to eAccounting's terms of payment and delivery\n"
                                  "methods.  Ends with a dry run, so you see what would be sent before anything\n"
                                  "is.\n"
                                  "\n"
                                  "  --answers FILE  a JSON object of answers by question key, for unattended\n"
                                  "                  set-up (keys are shown in brackets before each question)\n";

typedef struct wizard {
    ferry_cli *cli;
    json_t *answers; /* from --answers, may be NULL */
    int tty;
} wizard;

/* Read one line from standard input; echo off for a secret on a terminal.  NULL at end of input. */
static char *read_line(int secret, int tty)
{
    char buf[2048];
    struct termios old, quiet;
    int hidden = secret && tty && tcgetattr(STDIN_FILENO, &old) == 0;
    if (hidden) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, sizeof(buf), stdin);
    if (hidden) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    }
    if (hidden || !tty) {
        fputc('\n', stderr);
    }
    if (got == NULL) {
        return NULL;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return ferry_strdup(buf);
}

/*
 * Ask question `key`; returns a new string (the default when the answer is
 * empty; NULL only when there is no answer and no default).  Secrets are
 * registered for redaction as soon as they are known.
 */
static char *ask(wizard *w, const char *key, const char *question, const char *dflt, int secret)
{
    const json_t *a = w->answers ? json_object_get(w->answers, key) : NULL;
    char *answer = NULL;
    if (a != NULL && json_is_string(a)) {
        answer = ferry_strdup(json_string_value(a));
    } else {
        fprintf(stderr, "[%s] %s%s%s%s: ", key, question, dflt && dflt[0] ? " [" : "",
                dflt && dflt[0] ? (secret ? "***" : dflt) : "", dflt && dflt[0] ? "]" : "");
        fflush(stderr);
        answer = read_line(secret, w->tty);
    }
    if (answer == NULL || answer[0] == '\0') {
        free(answer);
        return ferry_strdup(dflt);
    }
    if (secret) {
        ferry_redact_add(answer);
    }
    return answer;
}

static int yes(wizard *w, const char *key, const char *question, int dflt)
{
    char *a = ask(w, key, question, dflt ? "yes" : "no", 0);
    int r = a != NULL && (a[0] == 'y' || a[0] == 'Y' || a[0] == 'j' || a[0] == 'J');
    free(a);
    return r;
}

static void step(const char *title)
{
    fprintf(stderr, "\n== %s\n", title);
}

/* Add a connection from answers; then authorize when the plugin wants it and test it. */
static int add_connection(wizard *w, ferry_store *st, const ferry_plugin *pl, const char *name, json_t *settings)
{
    ferry_error err;
    ferry_error_clear(&err);
    ferry_connection *existing = NULL;
    if (ferry_connection_get(st, name, &existing, &err) == FERRY_OK) {
        ferry_connection_free(existing);
        fprintf(stderr, "connection %s exists already; keeping it (ferry connection set %s ... changes it)\n", name,
                name);
        return FERRY_EXIT_OK;
    }
    ferry_error_clear(&err);
    if (ferry_connection_add(st, name, pl->name, pl->desc->settings, settings, &err) != FERRY_OK) {
        return ferry_cli_fail("ferry setup", &err);
    }
    if (pl->desc->authorize != NULL) {
        int rc = ferry_cli_authorize(w->cli, st, name, "ferry setup", 1);
        if (rc != FERRY_EXIT_OK) {
            return rc;
        }
    }
    return FERRY_EXIT_OK;
}

/* Open a connection and print what its test says; returns the info (new) or NULL. */
static json_t *test_connection(wizard *w, ferry_store *st, const char *name, ferry_endpoint **ep_out)
{
    ferry_error err;
    ferry_error_clear(&err);
    ferry_endpoint *ep = NULL;
    if (ferry_endpoint_open(st, ferry_cli_loader(w->cli), name, 0, &ep, &err) != FERRY_OK) {
        ferry_cli_fail("ferry setup", &err);
        return NULL;
    }
    json_t *info = NULL;
    if (ep->plugin->desc->test == NULL || ep->plugin->desc->test(ep->conn, &info, &err) != FERRY_OK) {
        if (err.message[0]) {
            ferry_cli_fail("ferry setup", &err);
        }
        ferry_endpoint_close(ep);
        json_decref(info);
        return NULL;
    }
    const char *k;
    json_t *v;
    json_object_foreach (info, k, v) {
        if (json_is_string(v)) {
            fprintf(stderr, "  %-22s %s\n", k, json_string_value(v));
        }
    }
    *ep_out = ep;
    return info;
}

static int setup_magento(wizard *w, ferry_store *st, const ferry_plugin *pl, char **name_out)
{
    step("1. Magento");
    char *url = ask(w, "magento_url", "Shop address (https://shop.example.com)", NULL, 0);
    if (url == NULL) {
        fprintf(stderr, "ferry setup: the shop address is needed\n");
        return FERRY_EXIT_USAGE;
    }
    char *mode = ask(w, "magento_auth", "Sign in with: oauth (integration, recommended), bearer, admin", "oauth", 0);
    json_t *s = json_pack("{s:s, s:s}", "base_url", url, "auth_mode", mode);
    static const char *const oauth_keys[][3] = {{"consumer_key", "Integration consumer key", "0"},
                                                {"consumer_secret", "Integration consumer secret", "1"},
                                                {"access_token", "Integration access token", "1"},
                                                {"access_token_secret", "Integration access token secret", "1"}};
    static const char *const admin_keys[][3] = {{"admin_username", "Admin user name", "0"},
                                                {"admin_password", "Admin password", "1"}};
    int admin = strcmp(mode, "admin") == 0;
    size_t n = admin ? 2 : (strcmp(mode, "bearer") == 0 ? 0 : 4);
    for (size_t i = 0; i < n; i++) {
        const char *const *q = admin ? admin_keys[i] : oauth_keys[i];
        char *key = ferry_asprintf("magento_%s", q[0]);
        char *v = ask(w, key, q[1], NULL, q[2][0] == '1');
        if (v != NULL) {
            json_object_set_new(s, q[0], json_string(v));
        }
        free(v);
        free(key);
    }
    if (strcmp(mode, "bearer") == 0) {
        char *v = ask(w, "magento_access_token", "Integration access token", NULL, 1);
        if (v != NULL) {
            json_object_set_new(s, "access_token", json_string(v));
        }
        free(v);
    }
    char *name = ask(w, "magento_name", "Name of this connection", "shop", 0);
    int rc = add_connection(w, st, pl, name, s);
    json_decref(s);
    free(url);
    free(mode);
    if (rc == FERRY_EXIT_OK) {
        ferry_endpoint *ep = NULL;
        json_t *info = test_connection(w, st, name, &ep);
        if (info == NULL) {
            rc = FERRY_EXIT_CONFIG;
        }
        json_decref(info);
        ferry_endpoint_close(ep);
    }
    *name_out = name;
    return rc;
}

static int setup_eaccounting(wizard *w, ferry_store *st, const ferry_plugin *pl, char **name_out)
{
    step("2. Visma eAccounting");
    fprintf(stderr, "ferry needs an eAccounting API client (client id and secret from the Visma developer "
                    "portal); you then consent in a browser as a user of the company to sync with.\n");
    char *id = ask(w, "eaccounting_client_id", "Client id", NULL, 0);
    char *secret = ask(w, "eaccounting_client_secret", "Client secret", NULL, 1);
    if (id == NULL || secret == NULL) {
        free(id);
        free(secret);
        fprintf(stderr, "ferry setup: the client id and secret are needed\n");
        return FERRY_EXIT_USAGE;
    }
    json_t *s = json_pack("{s:s, s:s}", "client_id", id, "client_secret", secret);
    static const char *const optional[][2] = {{"api_base_url", "API address"},
                                              {"identity_base_url", "Identity server address"},
                                              {"redirect_uri", "Redirect URI registered for the client"}};
    for (size_t i = 0; i < 3; i++) {
        char *key = ferry_asprintf("eaccounting_%s", optional[i][0]);
        const char *dflt = NULL;
        for (const ferry_setting_spec *sp = pl->desc->settings; sp && sp->name; sp++) {
            if (strcmp(sp->name, optional[i][0]) == 0) {
                dflt = sp->default_value;
            }
        }
        char *v = ask(w, key, optional[i][1], dflt, 0);
        if (v != NULL && (dflt == NULL || strcmp(v, dflt) != 0)) {
            json_object_set_new(s, optional[i][0], json_string(v));
        }
        free(v);
        free(key);
    }
    char *name = ask(w, "eaccounting_name", "Name of this connection", "books", 0);
    int rc = add_connection(w, st, pl, name, s);
    json_decref(s);
    free(id);
    free(secret);
    if (rc == FERRY_EXIT_OK) {
        ferry_endpoint *ep = NULL;
        json_t *info = test_connection(w, st, name, &ep);
        if (info == NULL) {
            rc = FERRY_EXIT_CONFIG;
        } else if (!yes(w, "eaccounting_confirm_company", "Is this the company to book the shop's sales in?", 1)) {
            fprintf(stderr,
                    "ferry setup: stopped; remove the connection (ferry connection remove %s) and run "
                    "setup again, consenting as a user of the right company\n",
                    name);
            rc = FERRY_EXIT_CONFIG;
        }
        json_decref(info);
        ferry_endpoint_close(ep);
    }
    *name_out = name;
    return rc;
}

/* The distinct values of `path` ("payment.method") in the first page of recent orders: new array. */
static json_t *recent_values(ferry_endpoint *shop, const char *what)
{
    json_t *seen = json_array();
    if (shop->plugin->desc->read_page == NULL) {
        return seen;
    }
    json_t *records = NULL, *next = NULL;
    int more = 0;
    ferry_error err;
    ferry_error_clear(&err);
    json_t *q = json_pack("{s:i}", "page_size", 100);
    if (shop->plugin->desc->read_page(shop->conn, "order", q, NULL, &records, &next, &more, &err) == FERRY_OK) {
        size_t i;
        json_t *r;
        json_array_foreach (records, i, r) {
            const json_t *v = json_object_get(json_object_get(r, what), "method");
            int dup = 0;
            size_t j;
            json_t *s;
            json_array_foreach (seen, j, s) {
                dup |= json_equal(s, v);
            }
            if (json_is_string(v) && !dup) {
                json_array_append(seen, (json_t *)v);
            }
        }
    }
    json_decref(q);
    json_decref(records);
    json_decref(next);
    return seen;
}

/* Names of the target's terms of payment, for the person choosing (comma-separated, new string). */
static char *terms_names(ferry_endpoint *books)
{
    ferry_buf b = FERRY_BUF_INIT;
    json_t *args = json_pack("{s:s}", "kind", "termsofpayments");
    json_t *list = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    if (books->plugin->desc->action != NULL &&
        books->plugin->desc->action(books->conn, "reference-data", args, &list, &err) == FERRY_OK) {
        size_t i;
        json_t *t;
        json_array_foreach (list, i, t) {
            const char *n = json_string_value(json_object_get(t, "Name"));
            if (n != NULL) {
                ferry_buf_printf(&b, "%s%s", b.len ? ", " : "", n);
            }
        }
    }
    json_decref(args);
    json_decref(list);
    return ferry_buf_take(&b);
}

static int setup_flow(wizard *w, ferry_store *st, const char *shop, const char *books)
{
    step("3. The orders flow");
    ferry_error err;
    ferry_error_clear(&err);
    ferry_endpoint *src = NULL, *dst = NULL;
    if (ferry_endpoint_open(st, ferry_cli_loader(w->cli), shop, 0, &src, &err) != FERRY_OK ||
        ferry_endpoint_open(st, ferry_cli_loader(w->cli), books, 0, &dst, &err) != FERRY_OK) {
        ferry_endpoint_close(src);
        return ferry_cli_fail("ferry setup", &err);
    }
    char *doc_type = ask(w, "document_type",
                         "Create in eAccounting: invoice_draft (checked before booking), "
                         "invoice (booked at once) or order",
                         "invoice_draft", 0);
    char *statuses = ask(w, "statuses", "Magento statuses to send, comma-separated", "processing,complete", 0);
    char *policy = ask(w, "customer_policy",
                       "Customers: per_buyer (matched by e-mail), default_debtor, "
                       "default_for_guests",
                       "per_buyer", 0);
    char *debtor = NULL;
    if (strcmp(policy, "per_buyer") != 0) {
        debtor = ask(w, "default_customer_number", "CustomerNumber of the default customer in eAccounting", NULL, 0);
    }
    char *shipping = ask(w, "shipping_article", "Article number for shipping rows", "FRAKT", 0);
    char *rounding = ask(w, "rounding_article", "Article number for rounding rows (VAT-free; empty: none)", "", 0);
    char *articles =
        ask(w, "article_policy", "An order with an SKU eAccounting lacks: strict (stop it) or create", "strict", 0);

    json_t *settings = json_pack("{s:s, s:[], s:s, s:s, s:s}", "document_type", doc_type, "statuses", "customer_policy",
                                 policy, "shipping_article", shipping, "article_policy", articles);
    for (char *p = statuses, *comma; p && *p; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        char *one = comma ? ferry_asprintf("%.*s", (int)(comma - p), p) : ferry_strdup(p);
        json_array_append_new(json_object_get(settings, "statuses"), json_string(one));
        free(one);
    }
    if (debtor != NULL && debtor[0]) {
        json_object_set_new(settings, "default_customer_number", json_string(debtor));
    }
    if (rounding != NULL && rounding[0]) {
        json_object_set_new(settings, "rounding_article", json_string(rounding));
    }

    /* Value maps from what the shop's recent orders use. */
    json_t *maps = json_pack("{s:{}, s:{}}", "payment_terms", "delivery_methods");
    json_t *methods = recent_values(src, "payment");
    char *terms = terms_names(dst);
    fprintf(stderr, "Recent orders were paid with %zu method(s). eAccounting's terms of payment: %s\n",
            json_array_size(methods), terms[0] ? terms : "(could not be read)");
    size_t i;
    json_t *m;
    json_array_foreach (methods, i, m) {
        char *key = ferry_asprintf("payment_terms.%s", json_string_value(m));
        char *q = ferry_asprintf("Terms of payment for '%s' (a name above, or days)", json_string_value(m));
        char *v = ask(w, key, q, "30", 0);
        json_object_set_new(json_object_get(maps, "payment_terms"), json_string_value(m), json_string(v));
        free(v);
        free(q);
        free(key);
    }
    char *other = ask(w, "payment_terms.*",
                      "Terms of payment for any other payment method (empty: such orders "
                      "stop with a message)",
                      "", 0);
    if (other != NULL && other[0]) {
        json_object_set_new(json_object_get(maps, "payment_terms"), "*", json_string(other));
    }
    json_t *shipments = recent_values(src, "shipping");
    json_array_foreach (shipments, i, m) {
        char *key = ferry_asprintf("delivery_methods.%s", json_string_value(m));
        char *q =
            ferry_asprintf("eAccounting delivery method for '%s' (code or name; empty: none)", json_string_value(m));
        char *v = ask(w, key, q, "", 0);
        if (v != NULL && v[0]) {
            json_object_set_new(json_object_get(maps, "delivery_methods"), json_string_value(m), json_string(v));
        }
        free(v);
        free(q);
        free(key);
    }
    char *name = ask(w, "flow_name", "Name of the flow", "orders", 0);
    json_t *doc = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s}, s:O, s:O}", "name", name, "kind", "orders",
                            "description", "Magento orders to eAccounting (set up by ferry setup)", "source",
                            "connection", shop, "entity", "order", "target", "connection", books, "entity", "document",
                            "settings", settings, "maps", maps);
    ferry_endpoint_close(src);
    ferry_endpoint_close(dst);
    int rc = FERRY_EXIT_OK;
    ferry_error_clear(&err);
    if (ferry_flow_import(st, ferry_cli_loader(w->cli), doc, 1, &err) != FERRY_OK) {
        rc = ferry_cli_fail("ferry setup", &err);
    } else {
        fprintf(stderr, "flow %s saved (ferry flow show %s; change it with ferry flow set)\n", name, name);
    }
    if (rc == FERRY_EXIT_OK && yes(w, "dry_run", "Show what the first orders would become (a dry run)?", 1)) {
        ferry_run_options opts;
        memset(&opts, 0, sizeof(opts));
        opts.dry_run = 1;
        opts.limit = 5;
        opts.datadir = ferry_cli_datadir();
        ferry_run_result result;
        ferry_error_clear(&err);
        if (ferry_engine_run(st, ferry_cli_loader(w->cli), name, &opts, &result, &err) != FERRY_OK) {
            ferry_cli_fail("ferry setup", &err);
        }
        fprintf(stderr, "dry run: %ld read, %ld would be synced, %ld skipped, %ld would fail\n", result.counts.read,
                result.counts.synced, result.counts.skipped - result.unchanged, result.counts.failed);
    }
    if (rc == FERRY_EXIT_OK) {
        fprintf(stderr,
                "\nDone. Sync now with:   ferry run %s\n"
                "and then regularly, e.g. from cron:   */10 * * * * ferry -q run %s\n"
                "Alerts: ferry settings set alert_command='...'   Dashboard: ferry status\n",
                name, name);
    }
    json_decref(doc);
    json_decref(settings);
    json_decref(maps);
    json_decref(methods);
    json_decref(shipments);
    free(terms);
    free(other);
    free(name);
    free(doc_type);
    free(statuses);
    free(policy);
    free(debtor);
    free(shipping);
    free(rounding);
    free(articles);
    return rc;
}

static int setup_option(void *ud, int opt, const char *arg)
{
    if (opt != 'a') {
        return -1;
    }
    *(const char **)ud = arg;
    return 0;
}

int ferry_cmd_setup(ferry_cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"answers", required_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    const char *answers_file = NULL;
    ferry_cli_args a = {"ferry setup", argc, argv};
    int idx = ferry_cli_parse(cli, &a, setup_usage, opts, "a:", setup_option, &answers_file);
    if (idx < 0) {
        return FERRY_CLI_PARSE_EXIT(idx);
    }
    if (idx < argc) {
        return ferry_cli_usage_error(a.command, "unexpected argument '%s'", argv[idx]);
    }
    wizard w = {cli, NULL, isatty(STDIN_FILENO)};
    if (answers_file != NULL) {
        json_error_t jerr;
        w.answers = json_load_file(answers_file, 0, &jerr);
        if (!json_is_object(w.answers)) {
            fprintf(stderr, "ferry setup: %s:%d: %s\n", answers_file, jerr.line,
                    w.answers ? "expected a JSON object of answers" : jerr.text);
            json_decref(w.answers);
            return FERRY_EXIT_USAGE;
        }
    }
    int rc = FERRY_EXIT_OK;
    ferry_store *st = ferry_cli_store(cli, 1, &rc);
    ferry_loader *loader = st ? ferry_cli_loader(cli) : NULL;
    const ferry_plugin *m2 = loader ? ferry_loader_find(loader, "magento2") : NULL;
    const ferry_plugin *ea = loader ? ferry_loader_find(loader, "eaccounting") : NULL;
    if (st == NULL) {
        json_decref(w.answers);
        return rc;
    }
    if (m2 == NULL || ea == NULL) {
        fprintf(stderr, "ferry setup: the magento2 and eaccounting plugins are needed (see ferry plugin list)\n");
        json_decref(w.answers);
        return FERRY_EXIT_CONFIG;
    }
    fprintf(stderr, "ferry setup - store: %s\n", ferry_store_path(st));
    char *shop = NULL, *books = NULL;
    rc = setup_magento(&w, st, m2, &shop);
    if (rc == FERRY_EXIT_OK) {
        rc = setup_eaccounting(&w, st, ea, &books);
    }
    if (rc == FERRY_EXIT_OK) {
        rc = setup_flow(&w, st, shop, books);
    }
    free(shop);
    free(books);
    json_decref(w.answers);
    return rc;
}
