/*
 * testing.h - ferry's tiny unit-test harness, speaking TAP.
 *
 * Modelled on collectd's testing.h and Redis's testhelp.h: a test is a
 * function; CHECK-style macros record a failure with file and line and carry
 * on (REQUIRE ends the test); RUN_TEST prints "ok N - name" or "not ok N -
 * name" (with the failed checks as TAP diagnostics); TEST_MAIN_END prints
 * the plan and the exit status.  Automake's TAP driver counts the results, and scripts/check prints
 * the totals as "N passed, N failed".
 */
#ifndef FERRY_TESTING_H
#define FERRY_TESTING_H

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int testing_total;
static int testing_failed;
static int testing_current_failed;

#define TEST(name) static void name(void)

#define RUN_TEST(name)                                                                                                 \
    do {                                                                                                               \
        testing_current_failed = 0;                                                                                    \
        fflush(stdout);                                                                                                \
        name();                                                                                                        \
        testing_total++;                                                                                               \
        if (testing_current_failed) {                                                                                  \
            testing_failed++;                                                                                          \
            printf("not ok %d - %s\n", testing_total, #name);                                                          \
        } else {                                                                                                       \
            printf("ok %d - %s\n", testing_total, #name);                                                              \
        }                                                                                                              \
        fflush(stdout);                                                                                                \
    } while (0)

#define TEST_FAIL_(...)                                                                                                \
    do {                                                                                                               \
        printf("# %s:%d: ", __FILE__, __LINE__);                                                                       \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
        testing_current_failed = 1;                                                                                    \
    } while (0)

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            TEST_FAIL_("check failed: %s", #cond);                                                                     \
    } while (0)

/* CHECK, and end the test at once when it fails (for what the rest of the test needs). */
#define REQUIRE(cond)                                                                                                  \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            TEST_FAIL_("check failed: %s", #cond);                                                                     \
            return;                                                                                                    \
        }                                                                                                              \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                                           \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            TEST_FAIL_("check failed: %s", #cond);                                                                     \
            printf("#   ");                                                                                            \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
        }                                                                                                              \
    } while (0)

#define CHECK_INT_EQ(actual, expected)                                                                                 \
    do {                                                                                                               \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                                                \
        if (a_ != e_)                                                                                                  \
            TEST_FAIL_("%s == %lld, expected %lld", #actual, a_, e_);                                                  \
    } while (0)

#define CHECK_STR_EQ(actual, expected)                                                                                 \
    do {                                                                                                               \
        const char *a_ = (actual), *e_ = (expected);                                                                   \
        if (a_ == NULL || e_ == NULL ? a_ != e_ : strcmp(a_, e_) != 0)                                                 \
            TEST_FAIL_("%s == \"%s\", expected \"%s\"", #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");              \
    } while (0)

#define CHECK_STR_CONTAINS(haystack, needle)                                                                           \
    do {                                                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                                                   \
        if (h_ == NULL || strstr(h_, n_) == NULL)                                                                      \
            TEST_FAIL_("%s == \"%s\" does not contain \"%s\"", #haystack, h_ ? h_ : "(null)", n_);                     \
    } while (0)

#define CHECK_STR_NOT_CONTAINS(haystack, needle)                                                                       \
    do {                                                                                                               \
        const char *h_ = (haystack), *n_ = (needle);                                                                   \
        if (h_ != NULL && strstr(h_, n_) != NULL)                                                                      \
            TEST_FAIL_("%s contains \"%s\"", #haystack, n_);                                                           \
    } while (0)

#define TEST_MAIN_END()                                                                                                \
    do {                                                                                                               \
        printf("1..%d\n", testing_total);                                                                              \
        return testing_failed ? 1 : 0;                                                                                 \
    } while (0)

#endif /* FERRY_TESTING_H */
