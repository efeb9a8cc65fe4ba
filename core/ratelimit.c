/* ratelimit.c - named token buckets with per-token refill (see ratelimit.h). */
#include "config.h"

#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * One bucket: a ring of the start times of the last `requests` requests.
 * While fewer than `requests` tokens were ever spent (count < requests) a
 * token is free; otherwise the oldest start time plus the period is when the
 * next token comes back.
 */
typedef struct bucket {
    char *name;
    long long period_ms;
    int requests;
    int count;        /* slots used, up to requests */
    int head;         /* index of the oldest start time once count == requests */
    long long *times; /* requests entries */
    struct bucket *next;
} bucket;

struct ferry_ratelimit {
    bucket *buckets;
    ferry_ratelimit_clock_fn now;
    ferry_ratelimit_sleep_fn sleep;
    void *ud;
};

static long long real_now(void *ud)
{
    (void)ud;
    return ferry_monotonic_ms();
}

static void real_sleep(void *ud, long long ms)
{
    (void)ud;
    ferry_sleep_ms(ms);
}

ferry_ratelimit *ferry_ratelimit_create(void)
{
    ferry_ratelimit *rl = calloc(1, sizeof(*rl));
    if (rl == NULL) {
        return NULL;
    }
    rl->now = real_now;
    rl->sleep = real_sleep;
    return rl;
}

static void bucket_free(bucket *b)
{
    if (b != NULL) {
        free(b->name);
        free(b->times);
        free(b);
    }
}

void ferry_ratelimit_destroy(ferry_ratelimit *rl)
{
    if (rl == NULL) {
        return;
    }
    bucket *b = rl->buckets;
    while (b != NULL) {
        bucket *next = b->next;
        bucket_free(b);
        b = next;
    }
    free(rl);
}

void ferry_ratelimit_set_clock(ferry_ratelimit *rl, ferry_ratelimit_clock_fn now, ferry_ratelimit_sleep_fn sleep,
                               void *ud)
{
    rl->now = now != NULL ? now : real_now;
    rl->sleep = sleep != NULL ? sleep : real_sleep;
    rl->ud = ud;
}

static bucket *find_bucket(const ferry_ratelimit *rl, const char *name)
{
    if (rl == NULL || name == NULL) {
        return NULL;
    }
    for (bucket *b = rl->buckets; b != NULL; b = b->next) {
        if (strcmp(b->name, name) == 0) {
            return b;
        }
    }
    return NULL;
}

int ferry_ratelimit_has(const ferry_ratelimit *rl, const char *name)
{
    return find_bucket(rl, name) != NULL;
}

int ferry_ratelimit_configure(ferry_ratelimit *rl, const char *name, int requests, int per_seconds)
{
    if (rl == NULL || name == NULL || name[0] == '\0' || requests < 1 || requests > FERRY_RATELIMIT_MAX_REQUESTS ||
        per_seconds < 1) {
        return -1;
    }
    long long *times = calloc((size_t)requests, sizeof(*times));
    if (times == NULL) {
        return -1;
    }
    bucket *b = find_bucket(rl, name);
    if (b == NULL) {
        b = calloc(1, sizeof(*b));
        char *copy = ferry_strdup(name);
        if (b == NULL || copy == NULL) {
            free(b);
            free(copy);
            free(times);
            return -1;
        }
        b->name = copy;
        b->next = rl->buckets;
        rl->buckets = b;
    }
    free(b->times);
    b->times = times;
    b->requests = requests;
    b->period_ms = (long long)per_seconds * 1000;
    b->count = 0;
    b->head = 0;
    return 0;
}

long long ferry_ratelimit_reserve(ferry_ratelimit *rl, const char *name)
{
    bucket *b = find_bucket(rl, name);
    if (b == NULL) {
        return 0;
    }
    long long now = rl->now(rl->ud);
    if (b->count < b->requests) {
        b->times[b->count++] = now;
        return 0;
    }
    /* All tokens spent: the oldest one comes back one period after its request started. */
    long long start = b->times[b->head] + b->period_ms;
    if (start < now) {
        start = now;
    }
    b->times[b->head] = start;
    b->head = (b->head + 1) % b->requests;
    return start - now;
}

long long ferry_ratelimit_acquire(ferry_ratelimit *rl, const char *name)
{
    long long wait = ferry_ratelimit_reserve(rl, name);
    if (wait > 0) {
        rl->sleep(rl->ud, wait);
    }
    return wait;
}
