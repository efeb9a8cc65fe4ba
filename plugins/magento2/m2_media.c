/* m2_media.c - product image uploads (see m2_media.h). */
#include "config.h"

#include "m2_media.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "m2_api.h"
#include "m2_util.h"
#include "util.h"

#define MAX_IMAGE_BYTES (32L * 1024 * 1024)

const char *m2_media_mime(const unsigned char *data, size_t len)
{
    if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
        return "image/jpeg";
    }
    if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0) {
        return "image/png";
    }
    if (len >= 6 && (memcmp(data, "GIF87a", 6) == 0 || memcmp(data, "GIF89a", 6) == 0)) {
        return "image/gif";
    }
    return NULL;
}

static const char *extension_of(const char *mime)
{
    return strcmp(mime, "image/png") == 0 ? ".png" : strcmp(mime, "image/gif") == 0 ? ".gif" : ".jpg";
}

static int has_image_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".png") == 0 ||
                   strcasecmp(dot, ".gif") == 0);
}

char *m2_media_name(const char *location, const char *mime, char *buf, size_t n)
{
    size_t end = strcspn(location, "?#");
    size_t start = end;
    while (start > 0 && location[start - 1] != '/') {
        start--;
    }
    size_t used = 0;
    for (size_t i = start; i < end && used + 6 < n; i++) {
        unsigned char ch = (unsigned char)location[i];
        buf[used++] = isalnum(ch) || ch == '.' || ch == '_' || ch == '-' ? (char)ch : '_';
    }
    buf[used] = '\0';
    if (used == 0 || buf[0] == '.') {
        ferry_strlcpy(buf, "image", n);
    }
    if (!has_image_extension(buf)) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s", extension_of(mime));
    }
    return buf;
}

/* The stem of a stored file ("/m/u/mug_2.jpg" -> "mug") or of a name ("mug.jpg" -> "mug"), lower-cased. */
static void stem_of(const char *file, char *buf, size_t n)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t len = strcspn(base, ".");
    size_t i = 0;
    for (; i < len && i + 1 < n; i++) {
        buf[i] = (char)tolower((unsigned char)base[i]);
    }
    buf[i] = '\0';
    char *us = strrchr(buf, '_');
    if (us != NULL && us[1] != '\0' && strspn(us + 1, "0123456789") == strlen(us + 1)) {
        *us = '\0'; /* Magento's _1, _2 suffix for a name already taken */
    }
}

static int already_there(const json_t *existing, const char *label, const char *name)
{
    char want[256], have[256];
    stem_of(name, want, sizeof(want));
    size_t i;
    json_t *e;
    json_array_foreach (existing, i, e) {
        const char *elabel = m2_str(e, "label");
        const char *file = m2_str(e, "file");
        if (label != NULL && elabel != NULL && strcmp(label, elabel) == 0) {
            return 1;
        }
        if (file != NULL) {
            stem_of(file, have, sizeof(have));
            if (strcmp(have, want) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int read_file(const char *path, unsigned char **data, size_t *len, const char *field, ferry_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return ferry_error_set(err, FERRY_RECORD_ERROR, field, "cannot read image %s: %s", path, strerror(errno));
    }
    ferry_buf b = FERRY_BUF_INIT;
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len <= (size_t)MAX_IMAGE_BYTES) {
        ferry_buf_append(&b, chunk, got);
    }
    int failed = ferror(f);
    fclose(f);
    if (failed || b.failed || b.len > (size_t)MAX_IMAGE_BYTES) {
        ferry_buf_free(&b);
        return ferry_error_set(err, FERRY_RECORD_ERROR, field, "cannot read image %s (unreadable or over 32 MiB)",
                               path);
    }
    *len = b.len;
    *data = (unsigned char *)ferry_buf_finish(&b);
    return FERRY_OK;
}

static int fetch_url(ferry_conn *c, const char *url, unsigned char **data, size_t *len, const char *field,
                     ferry_error *err)
{
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = url;
    req.flags = FERRY_HTTP_RAW | FERRY_HTTP_QUIET;
    req.label = "fetch image";
    ferry_http_response *resp = NULL;
    int rc = c->host->http(c->hc, &req, &resp, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    if (resp->status != 200) {
        rc = ferry_error_set(err, resp->status >= 500 || resp->status == 429 ? FERRY_RETRY : FERRY_RECORD_ERROR, field,
                             "fetching image %s answered HTTP %ld", url, resp->status);
    } else {
        *data = malloc(resp->body_len ? resp->body_len : 1);
        if (*data == NULL) {
            rc = ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
        } else {
            memcpy(*data, resp->body, resp->body_len);
            *len = resp->body_len;
        }
    }
    c->host->http_free(resp);
    return rc;
}

static json_t *entry_body(const ferry_conn *c, const json_t *entry, const unsigned char *data, size_t len,
                          const char *mime, const char *name, long long index)
{
    char *b64 = c->host->base64_encode(data, len);
    json_t *types = json_object_get(entry, "types");
    json_t *content = json_pack("{s:s, s:s, s:s}", "base64_encoded_data", b64 ? b64 : "", "type", mime, "name", name);
    c->host->free(b64);
    json_t *body = json_object();
    json_object_set_new(body, "media_type", json_string("image"));
    json_object_set_new(body, "label", json_string(m2_str(entry, "label") ? m2_str(entry, "label") : ""));
    json_object_set_new(body, "position", json_integer(m2_json_int(entry, "position", index + 1)));
    json_object_set_new(body, "disabled", json_boolean(m2_json_flag(entry, "disabled", 0)));
    json_object_set_new(body, "types", json_is_array(types) ? json_incref(types) : json_array());
    json_object_set_new(body, "content", content);
    return json_pack("{s:o}", "entry", body);
}

static int post_entry(ferry_conn *c, const char *sku, json_t *body, ferry_error *err)
{
    char *seg = m2_api_segment(c, sku);
    char *path = seg ? ferry_asprintf("/products/%s/media", seg) : NULL;
    json_t *answer = NULL;
    m2_request rq = {.method = "POST",
                     .path = path,
                     .body = body,
                     .flags = M2_SCOPE_ALL | M2_QUIET,
                     .label = "upload image",
                     .record = sku};
    int rc = path ? m2_api_call(c, &rq, &answer, NULL, err) : ferry_error_set(err, FERRY_FATAL, NULL, "out of memory");
    json_decref(answer);
    free(seg);
    free(path);
    return rc;
}

static int upload_one(ferry_conn *c, const char *sku, const json_t *entry, size_t i, const json_t *existing,
                      int *uploaded, ferry_error *err)
{
    const char *path = m2_str(entry, "path");
    const char *url = m2_str(entry, "url");
    if (path == NULL && url == NULL) {
        return FERRY_OK; /* an entry Magento already holds (only "file") */
    }
    char field[32];
    snprintf(field, sizeof(field), "media[%zu]", i);
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = path ? read_file(path, &data, &len, field, err) : fetch_url(c, url, &data, &len, field, err);
    if (rc != FERRY_OK) {
        return rc;
    }
    const char *mime = m2_media_mime(data, len);
    char name[128];
    if (mime == NULL) {
        rc = ferry_error_set(err, FERRY_RECORD_ERROR, field, "%s is not a JPEG, PNG or GIF image", path ? path : url);
    } else if (!already_there(existing, m2_str(entry, "label"),
                              m2_media_name(path ? path : url, mime, name, sizeof(name)))) {
        json_t *body = entry_body(c, entry, data, len, mime, name, (long long)i);
        rc = post_entry(c, sku, body, err);
        json_decref(body);
        if (rc == FERRY_OK) {
            (*uploaded)++;
        } else if (err->field[0] == '\0') {
            ferry_strlcpy(err->field, field, sizeof(err->field));
        }
    }
    free(data);
    return rc;
}

int m2_media_upload(ferry_conn *c, const char *sku, const json_t *media, const json_t *existing, int *uploaded,
                    ferry_error *err)
{
    *uploaded = 0;
    size_t i;
    json_t *entry;
    json_array_foreach (media, i, entry) {
        int rc = upload_one(c, sku, entry, i, existing, uploaded, err);
        if (rc != FERRY_OK) {
            return rc;
        }
    }
    return FERRY_OK;
}
