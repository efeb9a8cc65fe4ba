/*
 * ratelimit.h - named token buckets that keep a client under a server's
 * request quota (eAccounting: 600 requests per minute per endpoint).
 *
 * Each bucket holds `requests` tokens, so a burst of up to `requests` goes
 * out at once.  A token that is spent comes back exactly `per_seconds` after
 * the request it paid for started (a token bucket with per-token refill,
 * a.k.a. a sliding-window log).  That is the one refill rule that never lets
 * more than `requests` requests start within any window of `per_seconds` -
 * which is what a server counting in fixed or sliding windows enforces.
 * (A bucket refilled continuously at requests/per_seconds with the same burst
 * admits up to 2*requests - 1 in one window and earns the 429 it was meant
 * to avoid.)  Example: 5 per 1 s -> requests 1-5 at t=0, 6-10 at t=1 s,
 * 11 at t=2 s.
 *
 * Time is a monotonic clock in milliseconds; clock and sleep are injectable
 * for tests.  A ferry_ratelimit is used by one thread at a time (it belongs
 * to one HTTP client, which is).
 */
#ifndef FERRY_RATELIMIT_H
#define FERRY_RATELIMIT_H

/* The largest `requests` a bucket accepts (each token costs 8 bytes). */
#define FERRY_RATELIMIT_MAX_REQUESTS 100000

/* Monotonic milliseconds, and a sleep; `ud` is the pointer given with them. */
typedef long long (*ferry_ratelimit_clock_fn)(void *ud);
typedef void (*ferry_ratelimit_sleep_fn)(void *ud, long long ms);

typedef struct ferry_ratelimit ferry_ratelimit;

/* A new set of buckets (none configured) using the monotonic clock, or NULL when out of memory. */
ferry_ratelimit *ferry_ratelimit_create(void);

/* Free the set and all its buckets (NULL is fine). */
void ferry_ratelimit_destroy(ferry_ratelimit *rl);

/* Replace the clock and the sleep (either NULL restores the real one). */
void ferry_ratelimit_set_clock(ferry_ratelimit *rl, ferry_ratelimit_clock_fn now, ferry_ratelimit_sleep_fn sleep,
                               void *ud);

/*
 * Configure bucket `name` (copied): `requests` per `per_seconds`, burst
 * `requests`.  Reconfiguring a bucket starts it full again.  Returns 0, or -1
 * on bad arguments (NULL/empty name, requests outside
 * 1..FERRY_RATELIMIT_MAX_REQUESTS, per_seconds < 1) or when out of memory.
 */
int ferry_ratelimit_configure(ferry_ratelimit *rl, const char *name, int requests, int per_seconds);

/* True when bucket `name` is configured. */
int ferry_ratelimit_has(const ferry_ratelimit *rl, const char *name);

/*
 * Take a token from bucket `name` for a request that will start after the
 * returned number of milliseconds (0 = now).  The token is spent whether or
 * not the caller then waits, so consecutive calls queue up behind each
 * other.  An unknown bucket (or NULL name) is not limited: returns 0.
 */
long long ferry_ratelimit_reserve(ferry_ratelimit *rl, const char *name);

/*
 * Take a token and sleep until it may be used (with the set's sleep).
 * Returns the milliseconds waited.
 */
long long ferry_ratelimit_acquire(ferry_ratelimit *rl, const char *name);

#endif /* FERRY_RATELIMIT_H */
