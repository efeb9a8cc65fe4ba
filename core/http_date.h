/*
 * http_date.h - HTTP-date and Retry-After parsing (RFC 9110 5.6.7, 10.2.3).
 *
 * Pure functions, no I/O: the HTTP client uses them on every 429/503, and
 * tests call them with a fixed "now".  http.h includes this header, so
 * users of the HTTP service see ferry_http_parse_retry_after there too.
 */
#ifndef FERRY_HTTP_DATE_H
#define FERRY_HTTP_DATE_H

/*
 * Parse an HTTP-date in any of the three forms a recipient must accept:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"  (two-digit year read as
 *                the RFC says: never more than 50 years after now_ms)
 *   asctime      "Sun Nov  6 08:49:37 1994"
 * Leading and trailing whitespace is ignored; "UTC" is accepted for "GMT".
 * On success stores milliseconds since the epoch in *epoch_ms and returns 0;
 * returns -1 (and leaves *epoch_ms alone) when `s` is not such a date.
 */
int ferry_http_parse_date(const char *s, long long now_ms, long long *epoch_ms);

/*
 * Parse a Retry-After value - delay-seconds ("120") or an HTTP-date -
 * relative to now_ms (wall clock, ms since the epoch).  Returns the
 * milliseconds to wait (>= 0; a date in the past gives 0; huge values are
 * clamped to about 31 years, callers apply their own cap), or -1 when the
 * value is NULL, empty or cannot be parsed (negative or fractional seconds
 * included).
 */
long long ferry_http_parse_retry_after(const char *value, long long now_ms);

#endif /* FERRY_HTTP_DATE_H */
