/*
 * backoff.h - capped exponential backoff with full jitter.
 *
 * The delay before retry number `attempt` (0 for the first retry) is drawn
 * uniformly from [0, min(cap, base * 2^attempt)] milliseconds ("full jitter",
 * as in Fluent Bit's backoff_full_jitter and the AWS architecture blog), so
 * many clients that failed together do not come back together.
 *
 * A ferry_backoff is a small value: fill it with ferry_backoff_init and keep
 * it wherever it is used (it owns nothing, so there is no destroy).  The
 * random source is injectable so tests can check the bounds and the
 * distribution deterministically.
 */
#ifndef FERRY_BACKOFF_H
#define FERRY_BACKOFF_H

#include <stdint.h>

/* A source of uniformly distributed 64-bit values. */
typedef uint64_t (*ferry_backoff_random_fn)(void *ud);

typedef struct ferry_backoff {
    long long base_ms;              /* first ceiling; > 0 */
    long long cap_ms;               /* largest ceiling; >= base_ms */
    ferry_backoff_random_fn random; /* NULL = the process's random source */
    void *random_ud;
} ferry_backoff;

/*
 * Fill `b` with base and cap (values <= 0 take 500 ms and 30000 ms; a cap
 * below the base is raised to the base) and the default random source.
 */
void ferry_backoff_init(ferry_backoff *b, long long base_ms, long long cap_ms);

/* Use `fn(ud)` as the random source (NULL restores the default). */
void ferry_backoff_set_random(ferry_backoff *b, ferry_backoff_random_fn fn, void *ud);

/*
 * The ceiling for retry number `attempt` (0-based): min(cap, base * 2^attempt),
 * computed without overflow for any attempt.  A negative attempt counts as 0.
 */
long long ferry_backoff_ceiling(const ferry_backoff *b, int attempt);

/* A delay in milliseconds drawn uniformly from [0, ferry_backoff_ceiling(b, attempt)]. */
long long ferry_backoff_delay(const ferry_backoff *b, int attempt);

#endif /* FERRY_BACKOFF_H */
