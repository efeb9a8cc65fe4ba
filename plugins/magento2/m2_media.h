/*
 * m2_media.h - product images: uploaded to the media gallery
 * (POST /rest/all/V1/products/{sku}/media) from a file path a mapping gives
 * ("path") or from a URL the host fetches raw ("url").  JPEG, PNG and GIF,
 * recognised by their first bytes.  An image the product already has (same
 * label, or the same file name, which Magento may have suffixed _1, _2...)
 * is not uploaded again, so re-running a sync does not pile up copies.
 */
#ifndef M2_MEDIA_H
#define M2_MEDIA_H

#include <stddef.h>

#include <ferry/plugin.h>

#include "m2_conn.h"

/*
 * Upload each entry of `media` (canonical: {path | url, label, types,
 * position, disabled}) that `existing` (the product's
 * media_gallery_entries, may be NULL) lacks.  *uploaded counts them.
 * FERRY_RECORD_ERROR names "media[i]" for an unreadable file or a
 * non-image; errors of Magento as m2_api_call.
 */
int m2_media_upload(ferry_conn *c, const char *sku, const json_t *media, const json_t *existing, int *uploaded,
                    ferry_error *err);

/* "image/jpeg", "image/png", "image/gif" from the first bytes, or NULL. */
const char *m2_media_mime(const unsigned char *data, size_t len);

/*
 * The file name Magento gets for an image at `location` (a path or URL):
 * its last segment with characters outside [A-Za-z0-9_.-] replaced by '_'
 * and an extension matching `mime`.  Writes into buf.
 */
char *m2_media_name(const char *location, const char *mime, char *buf, size_t n);

#endif /* M2_MEDIA_H */
