/* Unit tests of the core's small pieces: strings, errors, crypto, redaction. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "error.h"
#include "log.h"
#include "redact.h"
#include "testing.h"
#include "util.h"

TEST(strlcpy_truncates_and_terminates)
{
    char buf[5];
    CHECK_INT_EQ(ferry_strlcpy(buf, "abcdefgh", sizeof(buf)), 8);
    CHECK_STR_EQ(buf, "abcd");
    CHECK_INT_EQ(ferry_strlcat(buf, "xyz", sizeof(buf)), 7);
    CHECK_STR_EQ(buf, "abcd");
    char b2[10] = "ab";
    ferry_strlcat(b2, "cd", sizeof(b2));
    CHECK_STR_EQ(b2, "abcd");
}

TEST(buf_grows_and_takes)
{
    ferry_buf b = FERRY_BUF_INIT;
    for (int i = 0; i < 1000; i++) {
        CHECK_INT_EQ(ferry_buf_printf(&b, "%d,", i % 10), 0);
    }
    CHECK_INT_EQ(b.len, 2000);
    char *s = ferry_buf_take(&b);
    CHECK(strncmp(s, "0,1,2,", 6) == 0);
    CHECK(b.data == NULL);
    free(s);
}

TEST(strlcpy_takes_null_as_empty)
{
    char buf[4] = "xyz";
    CHECK_INT_EQ(ferry_strlcpy(buf, NULL, sizeof(buf)), 0);
    CHECK_STR_EQ(buf, "");
}

/* After a failed append the buffer refuses the rest, and ferry_buf_finish gives nothing rather than a hole. */
TEST(buf_failure_is_sticky_and_finish_is_all_or_nothing)
{
    ferry_buf b = FERRY_BUF_INIT;
    CHECK_STR_EQ(ferry_buf_str(&b), "");
    CHECK_INT_EQ(ferry_buf_puts(&b, NULL), 0);
    CHECK_INT_EQ(ferry_buf_puts(&b, "ab"), 0);
    CHECK_STR_EQ(ferry_buf_str(&b), "ab");
    char *s = ferry_buf_finish(&b);
    CHECK_STR_EQ(s, "ab");
    free(s);
    CHECK(b.data == NULL && b.len == 0);
    CHECK_INT_EQ(ferry_buf_puts(&b, "ab"), 0);
    b.failed = 1; /* as after an allocation failure */
    CHECK_INT_EQ(ferry_buf_puts(&b, "cd"), -1);
    CHECK_INT_EQ(ferry_buf_printf(&b, "%d", 7), -1);
    CHECK_STR_EQ(ferry_buf_str(&b), "ab");
    CHECK(ferry_buf_finish(&b) == NULL);
    CHECK(b.data == NULL && b.failed == 0);
    s = ferry_buf_finish(&b); /* an empty buffer finishes as "" */
    CHECK_STR_EQ(s, "");
    free(s);
}

TEST(calendar_and_iso_times)
{
    char buf[32];
    CHECK_INT_EQ(ferry_days_from_civil(1970, 1, 1), 0);
    CHECK_INT_EQ(ferry_days_from_civil(2024, 2, 29), 19782);
    CHECK_INT_EQ(ferry_days_from_civil(1969, 12, 31), -1);
    long long y;
    int m, d;
    ferry_civil_from_days(19782, &y, &m, &d);
    CHECK(y == 2024 && m == 2 && d == 29);
    ferry_civil_from_days(-1, &y, &m, &d);
    CHECK(y == 1969 && m == 12 && d == 31);
    CHECK_INT_EQ(ferry_days_in_month(2024, 2), 29);
    CHECK_INT_EQ(ferry_days_in_month(1900, 2), 28);
    CHECK_INT_EQ(ferry_days_in_month(2000, 2), 29);
    CHECK_INT_EQ(ferry_days_in_month(2025, 4), 30);
    CHECK_STR_EQ(ferry_time_iso(0, buf, sizeof(buf)), "1970-01-01T00:00:00Z");
    CHECK_STR_EQ(ferry_time_iso(1759552961, buf, sizeof(buf)), "2025-10-04T04:42:41Z");
    CHECK_STR_EQ(ferry_time_iso(-1, buf, sizeof(buf)), "1969-12-31T23:59:59Z");
    CHECK_STR_EQ(ferry_time_iso(253402300799LL, buf, sizeof(buf)), "9999-12-31T23:59:59Z");
}

TEST(sha256_matches_fips_vectors)
{
    unsigned char out[32];
    ferry_sha256("abc", 3, out);
    char *hex = ferry_hex(out, 32);
    CHECK_STR_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    free(hex);
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ferry_sha256(two, strlen(two), out);
    hex = ferry_hex(out, 32);
    CHECK_STR_EQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    free(hex);
    ferry_sha256("", 0, out);
    hex = ferry_hex(out, 32);
    CHECK_STR_EQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(hex);
}

TEST(hmac_sha256_matches_rfc4231)
{
    unsigned char out[32];
    unsigned char key[20];
    memset(key, 0x0b, sizeof(key));
    ferry_hmac_sha256(key, sizeof(key), "Hi There", 8, out);
    char *hex = ferry_hex(out, 32);
    CHECK_STR_EQ(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
    free(hex);
    ferry_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    hex = ferry_hex(out, 32);
    CHECK_STR_EQ(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    free(hex);
    /* key longer than the block size is hashed first (RFC 4231 case 6) */
    unsigned char longkey[131];
    memset(longkey, 0xaa, sizeof(longkey));
    const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
    ferry_hmac_sha256(longkey, sizeof(longkey), msg, strlen(msg), out);
    hex = ferry_hex(out, 32);
    CHECK_STR_EQ(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    free(hex);
}

TEST(base64_round_trips)
{
    const char *cases[][2] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *enc = ferry_base64_encode(cases[i][0], strlen(cases[i][0]));
        CHECK_STR_EQ(enc, cases[i][1]);
        size_t n = 0;
        unsigned char *dec = ferry_base64_decode(enc, &n);
        CHECK(dec != NULL);
        CHECK_INT_EQ(n, strlen(cases[i][0]));
        CHECK(n == 0 || memcmp(dec, cases[i][0], n) == 0);
        free(dec);
        free(enc);
    }
    size_t n;
    CHECK(ferry_base64_decode("@@@@", &n) == NULL);
}

TEST(url_encode_keeps_unreserved_only)
{
    char *s = ferry_url_encode("a b&c=d/é~_.-");
    CHECK_STR_EQ(s, "a%20b%26c%3Dd%2F%C3%A9~_.-");
    free(s);
    s = ferry_url_encode(NULL);
    CHECK_STR_EQ(s, "");
    free(s);
    CHECK_INT_EQ(ferry_hex_value('7'), 7);
    CHECK_INT_EQ(ferry_hex_value('b'), 11);
    CHECK_INT_EQ(ferry_hex_value('F'), 15);
    CHECK_INT_EQ(ferry_hex_value('g'), -1);
}

TEST(random_bytes_fill_the_buffer)
{
    unsigned char a[32] = {0}, b[32] = {0};
    CHECK_INT_EQ(ferry_random_bytes(a, sizeof(a)), 0);
    CHECK_INT_EQ(ferry_random_bytes(b, sizeof(b)), 0);
    CHECK(memcmp(a, b, sizeof(a)) != 0);
}

TEST(error_format_names_flow_record_field_and_line)
{
    ferry_error err;
    ferry_error_clear(&err);
    ferry_error_set(&err, FERRY_RECORD_ERROR, "lines[1].sku", "article %s does not exist", "ABC-1");
    ferry_error_context(&err, "orders", "000000012");
    ferry_strlcpy(err.where, "orders.lua", sizeof(err.where));
    err.line = 42;
    char buf[512];
    ferry_error_format(&err, buf, sizeof(buf));
    CHECK_STR_EQ(buf,
                 "flow orders, record 000000012, field lines[1].sku (orders.lua:42): article ABC-1 does not exist");
    CHECK_INT_EQ(ferry_exit_for_status(FERRY_CONFIG_ERROR), FERRY_EXIT_CONFIG);
    json_t *j = ferry_error_to_json(&err);
    CHECK_STR_EQ(json_string_value(json_object_get(j, "status")), "record");
    CHECK_INT_EQ(json_integer_value(json_object_get(j, "line")), 42);
    json_decref(j);
}

TEST(redaction_masks_registered_secrets_and_secret_names)
{
    ferry_redact_reset();
    ferry_redact_add("s3cr3t-token-value");
    ferry_redact_add("ab"); /* too short to mask safely: ignored */
    char *t = ferry_redact_text("token=s3cr3t-token-value and s3cr3t-token-value; ab");
    CHECK_STR_EQ(t, "token=*** and ***; ab");
    free(t);
    char *h = ferry_redact_header("Authorization: Bearer eyJhbGciOi");
    CHECK_STR_EQ(h, "Authorization: Bearer ***");
    free(h);
    h = ferry_redact_header("Content-Type: application/json");
    CHECK_STR_EQ(h, "Content-Type: application/json");
    free(h);
    char *f = ferry_redact_form("grant_type=refresh_token&refresh_token=xyz123&client_secret=shh");
    CHECK_STR_EQ(f, "grant_type=refresh_token&refresh_token=***&client_secret=***");
    free(f);
    json_t *in = json_pack("{s:s, s:{s:s, s:s}, s:[s]}", "password", "hunter22", "nested", "access_token", "tok",
                           "name", "Anna", "list", "x s3cr3t-token-value y");
    const char *extra[] = {"name", NULL};
    json_t *out = ferry_redact_json(in, extra);
    CHECK_STR_EQ(json_string_value(json_object_get(out, "password")), "***");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(out, "nested"), "access_token")), "***");
    CHECK_STR_EQ(json_string_value(json_object_get(json_object_get(out, "nested"), "name")), "***");
    CHECK_STR_EQ(json_string_value(json_array_get(json_object_get(out, "list"), 0)), "x *** y");
    /* the input is untouched */
    CHECK_STR_EQ(json_string_value(json_object_get(in, "password")), "hunter22");
    json_decref(in);
    json_decref(out);
    ferry_redact_reset();
}

static char sink_line[256];
static void capture(void *ud, int level, const char *ctx, const char *msg)
{
    (void)ud;
    (void)level;
    (void)ctx;
    ferry_strlcpy(sink_line, msg, sizeof(sink_line));
}

TEST(log_lines_are_redacted_before_any_output)
{
    ferry_redact_add("password-123456");
    ferry_log_set_sink(capture, NULL);
    int old = ferry_log_get_level();
    ferry_log_set_level(-1);
    ferry_log(FERRY_LOG_ERROR, "test", "login with password-123456 failed");
    ferry_log_set_level(old);
    ferry_log_set_sink(NULL, NULL);
    CHECK_STR_EQ(sink_line, "login with *** failed");
    ferry_redact_reset();
}

int main(void)
{
    RUN_TEST(strlcpy_truncates_and_terminates);
    RUN_TEST(buf_grows_and_takes);
    RUN_TEST(strlcpy_takes_null_as_empty);
    RUN_TEST(buf_failure_is_sticky_and_finish_is_all_or_nothing);
    RUN_TEST(calendar_and_iso_times);
    RUN_TEST(sha256_matches_fips_vectors);
    RUN_TEST(hmac_sha256_matches_rfc4231);
    RUN_TEST(base64_round_trips);
    RUN_TEST(url_encode_keeps_unreserved_only);
    RUN_TEST(random_bytes_fill_the_buffer);
    RUN_TEST(error_format_names_flow_record_field_and_line);
    RUN_TEST(redaction_masks_registered_secrets_and_secret_names);
    RUN_TEST(log_lines_are_redacted_before_any_output);
    TEST_MAIN_END();
}
