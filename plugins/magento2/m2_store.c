/* m2_store.c - the store reached, and its media URL (see m2_store.h). */
#include "config.h"

#include "m2_store.h"

#include <stdlib.h>
#include <string.h>

#include "m2_api.h"
#include "m2_util.h"
#include "util.h"

int m2_store_config(ferry_conn *c, json_t **config, ferry_error *err)
{
    *config = NULL;
    m2_params p = M2_PARAMS_INIT;
    m2_params_add(&p, "storeCodes[0]", c->store_code);
    json_t *list = NULL;
    m2_request rq = {.method = "GET", .path = "/store/storeConfigs", .query = &p, .label = "store config"};
    int rc = m2_api_call(c, &rq, &list, NULL, err);
    m2_params_free(&p);
    if (rc != FERRY_OK) {
        return rc;
    }
    size_t i;
    json_t *entry;
    json_array_foreach (list, i, entry) {
        const char *code = m2_str(entry, "code");
        if (code != NULL && strcmp(code, c->store_code) == 0) {
            *config = json_incref(entry);
            break;
        }
    }
    json_decref(list);
    return FERRY_OK;
}

static const char *mode_name(const ferry_conn *c)
{
    return c->auth_mode == M2_AUTH_OAUTH ? "oauth" : c->auth_mode == M2_AUTH_BEARER ? "bearer" : "admin";
}

static json_t *info_from_config(const ferry_conn *c, const json_t *cfg)
{
    json_t *info = json_object();
    const char *url = m2_str(cfg, "secure_base_url") ? m2_str(cfg, "secure_base_url") : m2_str(cfg, "base_url");
    m2_set_str(info, "base_url", url ? url : c->base_url);
    json_object_set_new(info, "store_code", json_string(c->store_code));
    m2_set_str(info, "store_id", m2_json_text(cfg, "id"));
    m2_set_str(info, "website_id", m2_json_text(cfg, "website_id"));
    m2_set_str(info, "locale", m2_str(cfg, "locale"));
    m2_set_str(info, "base_currency", m2_str(cfg, "base_currency_code"));
    m2_set_str(info, "display_currency", m2_str(cfg, "default_display_currency_code"));
    m2_set_str(info, "timezone", m2_str(cfg, "timezone"));
    m2_set_str(info, "weight_unit", m2_str(cfg, "weight_unit"));
    m2_set_str(info, "media_url",
               m2_str(cfg, "secure_base_media_url") ? m2_str(cfg, "secure_base_media_url")
                                                    : m2_str(cfg, "base_media_url"));
    json_object_set_new(info, "auth_mode", json_string(mode_name(c)));
    return info;
}

/* Magento's store_name is "Website\nStore\nView\n": one line, parts joined by " / ". */
static json_t *one_line(const char *text)
{
    if (text == NULL) {
        return NULL;
    }
    ferry_buf b = FERRY_BUF_INIT;
    ferry_buf_puts(&b, "");
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, "\r\n");
        if (len > 0) {
            ferry_buf_printf(&b, "%s%.*s", b.len ? " / " : "", (int)len, p);
        }
        p += len;
        p += strspn(p, "\r\n");
    }
    json_t *out = json_string(ferry_buf_str(&b));
    ferry_buf_free(&b);
    return out;
}

/* No store config: prove the credentials with one order search and show what it tells. */
static int fallback_probe(ferry_conn *c, const char *why, json_t **info, ferry_error *err)
{
    m2_params p = M2_PARAMS_INIT;
    m2_search_page(&p, 1, 1);
    m2_search_fields(&p, "items[increment_id,base_currency_code,store_name,created_at],total_count");
    json_t *page = NULL;
    m2_request rq = {.method = "GET", .path = "/orders", .query = &p, .label = "test"};
    int rc = m2_api_call(c, &rq, &page, NULL, err);
    m2_params_free(&p);
    if (rc != FERRY_OK) {
        return rc;
    }
    json_t *first = json_array_get(json_object_get(page, "items"), 0);
    json_t *out = json_object();
    json_object_set_new(out, "base_url", json_string(c->base_url));
    json_object_set_new(out, "store_code", json_string(c->store_code));
    m2_set_str(out, "base_currency", m2_str(first, "base_currency_code"));
    m2_set_new(out, "store_name", one_line(m2_str(first, "store_name")));
    json_object_set_new(out, "orders", json_integer(m2_json_int(page, "total_count", 0)));
    json_object_set_new(out, "auth_mode", json_string(mode_name(c)));
    json_object_set_new(out, "note", json_string(why));
    json_decref(page);
    *info = out;
    return FERRY_OK;
}

int m2_store_test(ferry_conn *c, json_t **info, ferry_error *err)
{
    *info = NULL;
    json_t *cfg = NULL;
    ferry_error first;
    ferry_error_clear(&first);
    int rc = m2_store_config(c, &cfg, &first);
    if (rc == FERRY_OK && cfg != NULL) {
        *info = info_from_config(c, cfg);
        json_decref(cfg);
        return FERRY_OK;
    }
    if (rc == FERRY_OK) {
        return ferry_error_set(err, FERRY_CONFIG_ERROR, "store_code",
                               "Magento has no store view with code '%s' (see Stores > All Stores)", c->store_code);
    }
    /* Authentication problems show on the fallback just as well; other refusals only hide the details. */
    int acl = first.http_status == 401 && strstr(first.message, "Magento_Backend::store") != NULL;
    int no_route = first.http_status == 404;
    if (!acl && !no_route) {
        *err = first;
        return rc;
    }
    return fallback_probe(
        c,
        acl ? "store details need the ACL resource Magento_Backend::store (Stores > Settings > All Stores)"
            : "this Magento answers no /V1/store/storeConfigs; store details unknown",
        info, err);
}

const char *m2_store_media_base(ferry_conn *c)
{
    if (c->media_base_url != NULL) {
        return c->media_base_url;
    }
    json_t *cfg = NULL;
    ferry_error e;
    ferry_error_clear(&e);
    const char *url = NULL;
    if (m2_store_config(c, &cfg, &e) == FERRY_OK && cfg != NULL) {
        url =
            m2_str(cfg, "secure_base_media_url") ? m2_str(cfg, "secure_base_media_url") : m2_str(cfg, "base_media_url");
    }
    if (url != NULL) {
        size_t n = strlen(url);
        c->media_base_url = n > 0 && url[n - 1] == '/' ? ferry_strdup(url) : ferry_asprintf("%s/", url);
    } else {
        /* the shop's own /media/, without a /index.php the base URL may carry */
        char *base = ferry_strdup(c->base_url);
        size_t n = base ? strlen(base) : 0;
        if (n >= 10 && strcmp(base + n - 10, "/index.php") == 0) {
            base[n - 10] = '\0';
        }
        c->media_base_url = base ? ferry_asprintf("%s/media/", base) : NULL;
        free(base);
    }
    json_decref(cfg);
    return c->media_base_url;
}
