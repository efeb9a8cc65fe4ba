/* backoff.c - capped exponential backoff with full jitter (see backoff.h). */
#include "config.h"

#include "backoff.h"

#include <time.h>

#include "crypto.h"

#define DEFAULT_BASE_MS 500
#define DEFAULT_CAP_MS 30000

/*
 * The default random source: xorshift64* per thread, seeded once from the
 * system's random bytes (falling back to the clock).  Jitter needs spread,
 * not secrecy, so a fast generator is right here.
 */
static _Thread_local uint64_t rng_state;

static uint64_t default_random(void *ud)
{
    (void)ud;
    if (rng_state == 0) {
        uint64_t seed = 0;
        if (ferry_random_bytes(&seed, sizeof(seed)) != 0 || seed == 0) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            seed = ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ 0x9e3779b97f4a7c15u;
        }
        rng_state = seed ? seed : 0x9e3779b97f4a7c15u;
    }
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

void ferry_backoff_init(ferry_backoff *b, long long base_ms, long long cap_ms)
{
    b->base_ms = base_ms > 0 ? base_ms : DEFAULT_BASE_MS;
    b->cap_ms = cap_ms > 0 ? cap_ms : DEFAULT_CAP_MS;
    if (b->cap_ms < b->base_ms) {
        b->cap_ms = b->base_ms;
    }
    b->random = NULL;
    b->random_ud = NULL;
}

void ferry_backoff_set_random(ferry_backoff *b, ferry_backoff_random_fn fn, void *ud)
{
    b->random = fn;
    b->random_ud = fn != NULL ? ud : NULL;
}

long long ferry_backoff_ceiling(const ferry_backoff *b, int attempt)
{
    long long base = b->base_ms > 0 ? b->base_ms : DEFAULT_BASE_MS;
    long long cap = b->cap_ms >= base ? b->cap_ms : base;
    if (attempt < 0) {
        attempt = 0;
    }
    /* base * 2^attempt > cap  <=>  base > cap >> attempt (no overflow on either side). */
    if (attempt >= 62 || base > (cap >> attempt)) {
        return cap;
    }
    return base << attempt;
}

long long ferry_backoff_delay(const ferry_backoff *b, int attempt)
{
    uint64_t ceiling = (uint64_t)ferry_backoff_ceiling(b, attempt);
    ferry_backoff_random_fn fn = b->random != NULL ? b->random : default_random;
    uint64_t range = ceiling + 1; /* values 0..ceiling inclusive; ceiling < 2^63 so no overflow */
    /* Rejection sampling keeps the draw exactly uniform (no modulo bias). */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % range);
    uint64_t r;
    int tries = 0;
    do {
        r = fn(b->random_ud);
        /* A broken source that only returns values above the limit must not hang us. */
    } while (r >= limit && ++tries < 64);
    return (long long)(r % range);
}
