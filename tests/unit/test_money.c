/* Unit tests of money.c: exact decimal parsing, rounding half away from zero, arithmetic, formatting. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "testing.h"

/* Format helper: the money value as text (static buffer per call site is enough for tests). */
static const char *fmt(ferry_money m)
{
    static char bufs[8][FERRY_MONEY_STRLEN];
    static int next;
    char *b = bufs[next++ % 8];
    return ferry_money_format(m, b, FERRY_MONEY_STRLEN);
}

static ferry_money parse(const char *s)
{
    ferry_money m = {0, 0};
    int rc = ferry_money_parse(s, strlen(s), &m);
    if (rc != FERRY_MONEY_OK) {
        printf("# parse(%s) failed: %s\n", s, ferry_money_strerror(rc));
    }
    return m;
}

static const char *round_text(const char *s, int decimals)
{
    static char buf[FERRY_MONEY_STRLEN];
    ferry_money m;
    if (ferry_money_parse_round(s, strlen(s), decimals, &m) != FERRY_MONEY_OK) {
        return "ERR";
    }
    return ferry_money_format(m, buf, sizeof(buf));
}

static const char *round_double(double d, int decimals)
{
    static char buf[FERRY_MONEY_STRLEN];
    ferry_money m;
    if (ferry_money_from_double_round(d, decimals, &m) != FERRY_MONEY_OK) {
        return "ERR";
    }
    return ferry_money_format(m, buf, sizeof(buf));
}

TEST(parse_keeps_the_written_scale_and_accepts_exponents)
{
    CHECK_STR_EQ(fmt(parse("12.345")), "12.345");
    CHECK_STR_EQ(fmt(parse("12.50")), "12.50");
    CHECK_STR_EQ(fmt(parse("-0.05")), "-0.05");
    CHECK_STR_EQ(fmt(parse("+7")), "7");
    CHECK_STR_EQ(fmt(parse(".5")), "0.5");
    CHECK_STR_EQ(fmt(parse("5.")), "5");
    CHECK_STR_EQ(fmt(parse("1e3")), "1000");
    CHECK_STR_EQ(fmt(parse("1.5E-3")), "0.0015");
    CHECK_STR_EQ(fmt(parse("000123.4500")), "123.4500");
    CHECK_STR_EQ(fmt(parse("-0")), "0");
    CHECK_STR_EQ(fmt(parse("9223372036854775807")), "9223372036854775807");
    CHECK_STR_EQ(fmt(parse("-9223372036854775808")), "-9223372036854775808");
    /* more than 18 written decimals are fine when the extra ones are zeros */
    CHECK_STR_EQ(fmt(parse("0.100000000000000000000000")), "0.1");
}

TEST(parse_refuses_what_is_not_a_plain_decimal)
{
    static const char *bad[] = {"",    "-",   ".",     "1e",  "1e+", "0x10", " 1",   "1 ",  "inf",
                                "nan", "1,5", "1.2.3", "--1", "+-1", "e5",   "1e5x", "12a", NULL};
    ferry_money m;
    for (int i = 0; bad[i] != NULL; i++) {
        CHECK_MSG(ferry_money_parse(bad[i], strlen(bad[i]), &m) == FERRY_MONEY_EINVAL, "'%s' parsed", bad[i]);
    }
    CHECK_INT_EQ(ferry_money_parse("9223372036854775808", 19, &m), FERRY_MONEY_ERANGE);
    CHECK_INT_EQ(ferry_money_parse("1e19", 4, &m), FERRY_MONEY_ERANGE);
    CHECK_INT_EQ(ferry_money_parse("0.0000000000000000001", 21, &m), FERRY_MONEY_ERANGE);
    CHECK_INT_EQ(ferry_money_parse("1e999999999999", 14, &m), FERRY_MONEY_ERANGE);
}

TEST(rounding_is_half_away_from_zero_on_the_decimal_digits)
{
    CHECK_STR_EQ(round_text("0.285", 2), "0.29");
    CHECK_STR_EQ(round_text("0.284999", 2), "0.28");
    CHECK_STR_EQ(round_text("-0.285", 2), "-0.29");
    CHECK_STR_EQ(round_text("2.5", 0), "3");
    CHECK_STR_EQ(round_text("-2.5", 0), "-3");
    CHECK_STR_EQ(round_text("1.005", 2), "1.01");
    CHECK_STR_EQ(round_text("0.004999999999999999999999", 2), "0.00");
    CHECK_STR_EQ(round_text("0.28500000000000000000001", 2), "0.29");
    CHECK_STR_EQ(round_text("12", 2), "12.00");
    CHECK_STR_EQ(round_text("1e-30", 2), "0.00");
    CHECK_STR_EQ(round_text("5e-3", 2), "0.01");
    CHECK_STR_EQ(round_text("-0.001", 2), "0.00"); /* no negative zero */
    CHECK_STR_EQ(round_text("99.995", 2), "100.00");
    CHECK_STR_EQ(round_text("9223372036854775807.5", 0), "ERR");

    ferry_money m;
    CHECK_INT_EQ(ferry_money_round(parse("1.2345"), 3, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "1.235");
    CHECK_INT_EQ(ferry_money_round(parse("-1.2345"), 3, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "-1.235");
    CHECK_INT_EQ(ferry_money_round(parse("1.5"), 4, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "1.5000");
    CHECK_INT_EQ(ferry_money_round(parse("1.5"), 19, &m), FERRY_MONEY_ERANGE);
}

TEST(doubles_round_through_their_shortest_text_not_their_binary_value)
{
    /* 0.285 is 0.28499999999999998 in binary; printf("%.2f") says 0.28, money says 0.29 */
    CHECK_STR_EQ(round_double(0.285, 2), "0.29");
    CHECK_STR_EQ(round_double(1.005, 2), "1.01");
    CHECK_STR_EQ(round_double(2.675, 2), "2.68");
    CHECK_STR_EQ(round_double(0.1 + 0.2, 2), "0.30");
    CHECK_STR_EQ(round_double(-1.005, 2), "-1.01");
    CHECK_STR_EQ(round_double(1e300, 2), "ERR");
    char buf[64];
    CHECK_INT_EQ(ferry_money_format_double(0.1 + 0.2, buf, sizeof(buf)), FERRY_MONEY_OK);
    CHECK_STR_EQ(buf, "0.30000000000000004");
    CHECK_INT_EQ(ferry_money_format_double(0.285, buf, sizeof(buf)), FERRY_MONEY_OK);
    CHECK_STR_EQ(buf, "0.285");
    CHECK_INT_EQ(ferry_money_format_double(1.0 / 0.0, buf, sizeof(buf)), FERRY_MONEY_EINVAL);
    ferry_money m;
    CHECK_INT_EQ(ferry_money_from_double(0.1, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "0.1");
}

TEST(add_sub_mul_div_are_exact)
{
    ferry_money r;
    CHECK_INT_EQ(ferry_money_add(parse("0.1"), parse("0.2"), &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "0.3");
    CHECK_INT_EQ(ferry_money_add(parse("12.50"), parse("0.125"), &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "12.625");
    CHECK_INT_EQ(ferry_money_sub(parse("10"), parse("0.01"), &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "9.99");
    CHECK_INT_EQ(ferry_money_mul(parse("19.99"), parse("3"), &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "59.97");
    CHECK_INT_EQ(ferry_money_mul(parse("1.25"), parse("1.25"), &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "1.5625");
    CHECK_INT_EQ(ferry_money_div(parse("100"), parse("1.25"), 2, &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "80.00");
    CHECK_INT_EQ(ferry_money_div(parse("10"), parse("3"), 4, &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "3.3333");
    CHECK_INT_EQ(ferry_money_div(parse("-2"), parse("3"), 2, &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "-0.67");
    CHECK_INT_EQ(ferry_money_div(parse("1"), parse("0.00"), 2, &r), FERRY_MONEY_EDIV0);
    CHECK_INT_EQ(ferry_money_add(parse("9223372036854775807"), parse("1"), &r), FERRY_MONEY_ERANGE);
    CHECK_INT_EQ(ferry_money_mul(parse("9223372036854775807"), parse("2"), &r), FERRY_MONEY_ERANGE);
    CHECK_INT_EQ(ferry_money_neg(parse("-9223372036854775808"), &r), FERRY_MONEY_ERANGE);
    /* a product past 18 decimals drops trailing zeros when that makes it fit */
    CHECK_INT_EQ(ferry_money_mul(parse("0.0000000002"), parse("0.5000000000"), &r), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(r), "0.000000000100000000");
}

TEST(compare_ignores_scale)
{
    CHECK_INT_EQ(ferry_money_cmp(parse("1.50"), parse("1.5")), 0);
    CHECK_INT_EQ(ferry_money_cmp(parse("1.49"), parse("1.5")), -1);
    CHECK_INT_EQ(ferry_money_cmp(parse("-1.49"), parse("-1.5")), 1);
    CHECK_INT_EQ(ferry_money_cmp(parse("-0.5"), parse("0.1")), -1);
    CHECK_INT_EQ(ferry_money_cmp(parse("100"), parse("99.9999999999999999")), 1);
    CHECK_INT_EQ(ferry_money_cmp(parse("9223372036854775807"), parse("0.000000000000000001")), 1);
}

TEST(json_values_convert_exactly)
{
    ferry_money m;
    json_t *v = json_integer(42);
    CHECK_INT_EQ(ferry_money_from_json(v, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "42");
    json_decref(v);
    v = json_real(19.99);
    CHECK_INT_EQ(ferry_money_from_json(v, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "19.99");
    json_decref(v);
    v = json_string("1234.5600");
    CHECK_INT_EQ(ferry_money_from_json(v, &m), FERRY_MONEY_OK);
    CHECK_STR_EQ(fmt(m), "1234.5600");
    json_decref(v);
    v = json_true();
    CHECK_INT_EQ(ferry_money_from_json(v, &m), FERRY_MONEY_EINVAL);
    int64_t i;
    CHECK_INT_EQ(ferry_money_to_int(parse("12.00"), &i), FERRY_MONEY_OK);
    CHECK_INT_EQ(i, 12);
    CHECK_INT_EQ(ferry_money_to_int(parse("12.01"), &i), FERRY_MONEY_ERANGE);
    CHECK(ferry_money_to_double(parse("0.29")) == 0.29);
}

/* The value as text, or the error's name. */
static const char *result(int rc, ferry_money m)
{
    return rc == FERRY_MONEY_OK       ? fmt(m)
           : rc == FERRY_MONEY_EINVAL ? "EINVAL"
           : rc == FERRY_MONEY_ERANGE ? "ERANGE"
                                      : "?";
}

static const char *plain(const char *s, int decimals)
{
    ferry_money m = {0, 0};
    return result(ferry_money_parse_plain(s, decimals, &m), m);
}

/* How the connector plugins read amounts: white space around, no exponent, rounded once. */
TEST(plain_text_parses_and_rounds_like_the_plugins_read_amounts)
{
    CHECK_STR_EQ(plain("199.99", 4), "199.9900");
    CHECK_STR_EQ(plain("-0.005", 2), "-0.01"); /* half away from zero */
    CHECK_STR_EQ(plain("100.45", 1), "100.5");
    CHECK_STR_EQ(plain("1.23456", 4), "1.2346");
    CHECK_STR_EQ(plain("1.23449", 4), "1.2345");
    CHECK_STR_EQ(plain("0.00005", 4), "0.0001");
    CHECK_STR_EQ(plain("-0.00005", 4), "-0.0001");
    CHECK_STR_EQ(plain(" 7 ", 4), "7.0000");
    CHECK_STR_EQ(plain("\t12.5\n", 2), "12.50");
    CHECK_STR_EQ(plain("+.5", 0), "1");
    CHECK_STR_EQ(plain("5.", 0), "5");
    CHECK_STR_EQ(plain("922337203685477.5807", 4), "922337203685477.5807");
    CHECK_STR_EQ(plain("99999999999999999999", 4), "ERANGE");
    CHECK_STR_EQ(plain(NULL, 4), "EINVAL");
    static const char *bad[] = {"12,5", "", " ", ".", "-", "1e5", "1E5", "abc", "1.2.3", "1 2", "0x10", NULL};
    for (int i = 0; bad[i] != NULL; i++) {
        CHECK_MSG(strcmp(plain(bad[i], 4), "EINVAL") == 0, "'%s' parsed", bad[i]);
    }
}

/* ferry_money_from_json_round of v (which it releases) at `decimals`. */
static const char *json_rounded(json_t *v, int decimals)
{
    ferry_money m = {0, 0};
    int rc = ferry_money_from_json_round(v, decimals, &m);
    json_decref(v);
    return result(rc, m);
}

TEST(json_values_round_to_the_decimals_asked_for)
{
    CHECK_STR_EQ(json_rounded(json_real(0.1 + 0.2), 4), "0.3000"); /* 0.30000000000000004 as a double */
    CHECK_STR_EQ(json_rounded(json_real(0.00001), 4), "0.0000");
    CHECK_STR_EQ(json_rounded(json_integer(22), 4), "22.0000");
    CHECK_STR_EQ(json_rounded(json_string(" 12.34567 "), 4), "12.3457");
    CHECK_STR_EQ(json_rounded(json_string("1e2"), 4), "EINVAL");
    CHECK_STR_EQ(json_rounded(json_integer(INT64_MAX), 4), "ERANGE");
    CHECK_STR_EQ(json_rounded(json_null(), 4), "EINVAL");
    CHECK_STR_EQ(json_rounded(json_true(), 4), "EINVAL");
    CHECK_STR_EQ(json_rounded(NULL, 4), "EINVAL");
}

typedef int (*vat_fn)(ferry_money, ferry_money, int, ferry_money *);

static const char *vat(vat_fn f, const char *amount, const char *rate, int decimals)
{
    ferry_money m = {0, 0};
    return result(f(parse(amount), parse(rate), decimals, &m), m);
}

/* VAT is added or removed with one rounding, straight from the exact value. */
TEST(vat_is_added_and_removed_with_one_rounding)
{
    CHECK_STR_EQ(vat(ferry_money_add_vat, "100.00", "0.25", 2), "125.00");
    CHECK_STR_EQ(vat(ferry_money_remove_vat, "99.90", "0.25", 2), "79.92");
    /* 0.05 * 1.25 = 0.0625 -> 0.06; 0.1 * 1.25 = 0.125 -> 0.13 (half away) */
    CHECK_STR_EQ(vat(ferry_money_add_vat, "0.05", "0.25", 2), "0.06");
    CHECK_STR_EQ(vat(ferry_money_add_vat, "0.1", "0.25", 2), "0.13");
    CHECK_STR_EQ(vat(ferry_money_add_vat, "-0.1", "0.25", 2), "-0.13");
    /* one rounding, not two: 0.058 * 1.12 = 0.06496 -> 0.06 (through 4 decimals it would be 0.0650 -> 0.07) */
    CHECK_STR_EQ(vat(ferry_money_add_vat, "0.058", "0.12", 2), "0.06");
    CHECK_STR_EQ(vat(ferry_money_remove_vat, "100", "0.125", 4), "88.8889");
    CHECK_STR_EQ(vat(ferry_money_remove_vat, "100", "-1", 2), "EINVAL");
    CHECK_STR_EQ(vat(ferry_money_remove_vat, "100", "-1.5", 2), "EINVAL");
}

static const char *shifted(const char *s, int places)
{
    ferry_money m = {0, 0};
    return result(ferry_money_shift(parse(s), places, &m), m);
}

static const char *absolute(const char *s)
{
    ferry_money m = {0, 0};
    return result(ferry_money_abs(parse(s), &m), m);
}

TEST(shift_abs_and_decimals_needed)
{
    CHECK_STR_EQ(shifted("25", -2), "0.25");
    CHECK_STR_EQ(shifted("12.3450", -2), "0.123450");
    CHECK_STR_EQ(shifted("0.125", 2), "12.5");
    CHECK_STR_EQ(shifted("7", 3), "7000");
    CHECK_STR_EQ(shifted("0.000000000000000010", -1), "0.000000000000000001");
    CHECK_STR_EQ(shifted("0.000000000000000001", -1), "ERANGE");
    CHECK_STR_EQ(shifted("9223372036854775807", 1), "ERANGE");
    CHECK_STR_EQ(absolute("-3.50"), "3.50");
    CHECK_STR_EQ(absolute("2"), "2");
    CHECK_STR_EQ(absolute("-9223372036854775808"), "ERANGE");
    CHECK_INT_EQ(ferry_money_decimals(parse("12.50")), 1);
    CHECK_INT_EQ(ferry_money_decimals(parse("125.0000")), 0);
    CHECK_INT_EQ(ferry_money_decimals(parse("0.0125")), 4);
    CHECK_INT_EQ(ferry_money_decimals(parse("0.000")), 0);
    CHECK_INT_EQ(ferry_money_decimals(parse("-7")), 0);
}

/* True when v (which it releases) is written as `want`. */
static int dumps_as(json_t *v, const char *want)
{
    char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    json_decref(v);
    int same = text != NULL && strcmp(text, want) == 0;
    if (!same) {
        printf("# got %s, want %s\n", text ? text : "NULL", want);
    }
    free(text);
    return same;
}

TEST(json_strings_and_numbers_are_rounded_first)
{
    CHECK(dumps_as(ferry_money_json_string(parse("199.9900"), 2), "\"199.99\""));
    CHECK(dumps_as(ferry_money_json_string(parse("-0.005"), 2), "\"-0.01\""));
    CHECK(dumps_as(ferry_money_json_string(parse("7"), 2), "\"7.00\""));
    CHECK(dumps_as(ferry_money_json_number(parse("199.9900"), 2), "199.99"));
    CHECK(dumps_as(ferry_money_json_number(parse("22.0000"), 2), "22")); /* an integer */
    json_t *n = ferry_money_json_number(parse("0.285"), 2);
    CHECK(json_is_real(n) && json_real_value(n) == 0.29);
    json_decref(n);
    CHECK(ferry_money_json_string(parse("92233720368547758.07"), 3) == NULL);
    CHECK(ferry_money_json_number(parse("92233720368547758.07"), 3) == NULL);
}

/* Sum of many cents: the float way drifts, the decimal way does not. */
TEST(sums_of_cents_do_not_drift)
{
    ferry_money acc = {0, 0};
    double f = 0;
    for (int i = 0; i < 10000; i++) {
        CHECK_INT_EQ(ferry_money_add(acc, parse("0.01"), &acc), FERRY_MONEY_OK);
        f += 0.01;
    }
    CHECK_STR_EQ(fmt(acc), "100.00");
    CHECK(f != 100.0); /* the reason this module exists */
}

int main(void)
{
    RUN_TEST(parse_keeps_the_written_scale_and_accepts_exponents);
    RUN_TEST(parse_refuses_what_is_not_a_plain_decimal);
    RUN_TEST(rounding_is_half_away_from_zero_on_the_decimal_digits);
    RUN_TEST(doubles_round_through_their_shortest_text_not_their_binary_value);
    RUN_TEST(add_sub_mul_div_are_exact);
    RUN_TEST(compare_ignores_scale);
    RUN_TEST(json_values_convert_exactly);
    RUN_TEST(sums_of_cents_do_not_drift);
    RUN_TEST(plain_text_parses_and_rounds_like_the_plugins_read_amounts);
    RUN_TEST(json_values_round_to_the_decimals_asked_for);
    RUN_TEST(vat_is_added_and_removed_with_one_rounding);
    RUN_TEST(shift_abs_and_decimals_needed);
    RUN_TEST(json_strings_and_numbers_are_rounded_first);
    TEST_MAIN_END();
}
