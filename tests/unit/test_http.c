/*
 * Tests of the HTTP service (core/http.c) and its parts: backoff, token
 * buckets, Retry-After parsing, redaction of the activity record.
 *
 * The pure parts run with injected clocks and random sources.  The rest runs
 * against tests/unit/httpd_fixture.py, a scripted local HTTP server this test
 * starts ($PYTHON3, default "python3"; the script is found through
 * $FERRY_TOP_SRCDIR) and stops at the end.  Without python3 those tests are
 * reported as skipped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ferry/version.h>

#include "backoff.h"
#include "http.h"
#include "log.h"
#include "ratelimit.h"
#include "redact.h"
#include "testing.h"
#include "util.h"

extern char **environ;

/* ---- the fixture server ------------------------------------------------------ */

static char base_url[128];
static pid_t server_pid = -1;
static int server_stdin = -1;
static FILE *server_stdout;

static int start_server(void)
{
    const char *python = getenv("PYTHON3");
    if (python == NULL || python[0] == '\0') {
        python = "python3";
    }
    if (strcmp(python, "no") == 0) {
        return -1;
    }
    const char *top = getenv("FERRY_TOP_SRCDIR");
    char script[1024];
    snprintf(script, sizeof(script), "%s/tests/unit/httpd_fixture.py", top != NULL ? top : ".");
    int out[2], in[2];
    if (pipe(out) != 0) {
        return -1;
    }
    if (pipe(in) != 0) {
        close(out[0]);
        close(out[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    char *argv[] = {(char *)python, script, NULL};
    int rc = posix_spawnp(&server_pid, python, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    close(in[0]);
    if (rc != 0) {
        close(out[0]);
        close(in[1]);
        server_pid = -1;
        return -1;
    }
    fcntl(in[1], F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    server_stdin = in[1];
    server_stdout = fdopen(out[0], "r");
    if (server_stdout == NULL || fgets(base_url, sizeof(base_url), server_stdout) == NULL ||
        !ferry_starts_with(base_url, "http://")) {
        printf("# the fixture server did not start (%s %s)\n", python, script);
        base_url[0] = '\0';
        return -1;
    }
    base_url[strcspn(base_url, "\r\n")] = '\0';
    printf("# fixture server at %s\n", base_url);
    return 0;
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = -1;
    }
    if (server_stdin >= 0) {
        close(server_stdin);
        server_stdin = -1;
    }
    if (server_stdout != NULL) {
        fclose(server_stdout);
        server_stdout = NULL;
    }
}

/* base_url + path, in a rotating set of static buffers. */
static const char *url(const char *path)
{
    static char bufs[8][1024];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s%s", base_url, path);
    return b;
}

/* ---- helpers --------------------------------------------------------------------- */

/* Everything recorded, every field of every exchange, for "contains no secret" checks. */
static ferry_buf recorded = FERRY_BUF_INIT;
static int record_count;
static int last_attempts;
static long last_status;
static int last_had_error;
static int last_request_body_null, last_response_body_null;
static size_t last_response_size, last_response_body_len;

static void recorder(void *ud, const ferry_http_exchange *ex)
{
    (void)ud;
    record_count++;
    last_attempts = ex->attempts;
    last_status = ex->status;
    last_had_error = ex->error != NULL;
    last_request_body_null = ex->request_body == NULL;
    last_response_body_null = ex->response_body == NULL;
    last_response_size = ex->response_size;
    last_response_body_len = ex->response_body != NULL ? strlen(ex->response_body) : 0;
    ferry_buf_printf(&recorded, "%s %s %s\n%s\n%s\n%ld\n%s\n%s\n---\n", ex->label ? ex->label : "-", ex->method,
                     ex->url, ex->request_headers, ex->request_body ? ex->request_body : "(none)", ex->status,
                     ex->response_body ? ex->response_body : "(none)", ex->error ? ex->error->message : "");
}

static ferry_buf logged = FERRY_BUF_INIT;

static void log_sink(void *ud, int level, const char *context, const char *message)
{
    (void)ud;
    ferry_buf_printf(&logged, "%s: %s: %s\n", ferry_log_level_name(level), context ? context : "-", message);
}

/* A client with short delays so retries are quick. */
static ferry_http_client *quick_client(int max_attempts)
{
    ferry_http_options o = {0};
    o.max_attempts = max_attempts;
    o.backoff_base_ms = 10;
    o.backoff_cap_ms = 50;
    o.timeout_ms = 5000;
    o.connect_timeout_ms = 2000;
    o.log_context = "test";
    ferry_http_client *c = ferry_http_client_create(&o);
    ferry_http_set_recorder(c, recorder, NULL);
    return c;
}

static int send_get(ferry_http_client *c, const char *u, ferry_http_response **resp, ferry_error *err)
{
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = u;
    ferry_error_clear(err);
    return ferry_http_send(c, &req, resp, err);
}

/*
 * One GET of `path` on a new quick_client(max_attempts), checked to answer
 * FERRY_OK; the response (free it).  *took_ms (when not NULL) gets how long
 * the send took.
 */
static ferry_http_response *get_ok(int max_attempts, const char *path, long long *took_ms)
{
    ferry_http_client *c = quick_client(max_attempts);
    ferry_http_response *resp = NULL;
    ferry_error err;
    long long t0 = ferry_monotonic_ms();
    CHECK_INT_EQ(send_get(c, url(path), &resp, &err), FERRY_OK);
    if (took_ms != NULL) {
        *took_ms = ferry_monotonic_ms() - t0;
    }
    ferry_http_client_destroy(c);
    return resp;
}

/* How many requests the fixture saw for key `key`. */
static long long server_calls(const char *key)
{
    ferry_http_client *c = ferry_http_client_create(NULL);
    char path[256];
    snprintf(path, sizeof(path), "/calls?of=%s", key);
    ferry_http_response *resp = NULL;
    ferry_error err;
    long long n = -1;
    if (send_get(c, url(path), &resp, &err) == FERRY_OK && resp->json != NULL) {
        n = json_integer_value(json_object_get(resp->json, "calls"));
    }
    ferry_http_response_free(resp);
    ferry_http_client_destroy(c);
    return n;
}

/* A local TCP port with nothing listening on it. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &len) == 0) {
        port = ntohs(sa.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* ---- backoff ------------------------------------------------------------------------ */

static uint64_t fixed_random(void *ud)
{
    return *(uint64_t *)ud;
}

static uint64_t xorshift_random(void *ud)
{
    uint64_t *s = ud;
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dULL;
}

TEST(backoff_ceiling_doubles_from_base_and_stops_at_cap)
{
    ferry_backoff b;
    ferry_backoff_init(&b, 100, 5000);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 0), 100);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 1), 200);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 5), 3200);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 6), 5000);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 62), 5000);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 1000), 5000); /* no overflow */
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, -3), 100);
    ferry_backoff_init(&b, 0, 0); /* defaults */
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 0), 500);
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 20), 30000);
    ferry_backoff_init(&b, 800, 100); /* cap below base is raised */
    CHECK_INT_EQ(ferry_backoff_ceiling(&b, 3), 800);
}

TEST(backoff_delay_spans_zero_to_ceiling_inclusive)
{
    ferry_backoff b;
    ferry_backoff_init(&b, 100, 5000);
    uint64_t v = 0;
    ferry_backoff_set_random(&b, fixed_random, &v);
    CHECK_INT_EQ(ferry_backoff_delay(&b, 3), 0);
    v = 800; /* the ceiling of attempt 3 is reachable */
    CHECK_INT_EQ(ferry_backoff_delay(&b, 3), 800);
    v = 801;
    CHECK_INT_EQ(ferry_backoff_delay(&b, 3), 0);
    v = UINT64_MAX; /* a source stuck in the rejected range still terminates within bounds */
    long long d = ferry_backoff_delay(&b, 3);
    CHECK(d >= 0 && d <= 800);
    ferry_backoff_set_random(&b, NULL, NULL); /* the default source stays within bounds too */
    for (int i = 0; i < 1000; i++) {
        d = ferry_backoff_delay(&b, 2);
        CHECK(d >= 0 && d <= 400);
    }
}

TEST(backoff_full_jitter_is_uniform_over_the_range)
{
    ferry_backoff b;
    ferry_backoff_init(&b, 100, 10000);
    uint64_t state = 0x123456789abcdefULL;
    ferry_backoff_set_random(&b, xorshift_random, &state);
    enum { N = 20000, BINS = 10 };
    int bins[BINS] = {0};
    long long sum = 0, lo = 1000000, hi = -1;
    for (int i = 0; i < N; i++) {
        long long d = ferry_backoff_delay(&b, 3); /* ceiling 800 */
        CHECK(d >= 0 && d <= 800);
        sum += d;
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        bins[d * BINS / 801]++;
    }
    double mean = (double)sum / N;
    CHECK_MSG(mean > 388 && mean < 412, "mean %.1f, expected about 400", mean);
    CHECK_MSG(lo < 10 && hi > 790, "range %lld..%lld, expected to reach both ends", lo, hi);
    for (int i = 0; i < BINS; i++) {
        CHECK_MSG(bins[i] > N / BINS * 9 / 10 && bins[i] < N / BINS * 11 / 10, "bin %d holds %d of %d", i, bins[i], N);
    }
}

/* ---- token buckets ---------------------------------------------------------------------- */

typedef struct fake_clock {
    long long now;
    long long slept;
} fake_clock;

static long long fake_now(void *ud)
{
    return ((fake_clock *)ud)->now;
}

static void fake_sleep(void *ud, long long ms)
{
    ((fake_clock *)ud)->now += ms;
    ((fake_clock *)ud)->slept += ms;
}

TEST(ratelimit_allows_a_burst_then_one_window_per_burst)
{
    ferry_ratelimit *rl = ferry_ratelimit_create();
    fake_clock fc = {1000000, 0};
    ferry_ratelimit_set_clock(rl, fake_now, fake_sleep, &fc);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "orders", 5, 1), 0);
    long long starts[11];
    for (int i = 0; i < 11; i++) {
        ferry_ratelimit_acquire(rl, "orders");
        starts[i] = fc.now - 1000000;
    }
    for (int i = 0; i < 5; i++) {
        CHECK_INT_EQ(starts[i], 0);
    }
    for (int i = 5; i < 10; i++) {
        CHECK_INT_EQ(starts[i], 1000);
    }
    CHECK_INT_EQ(starts[10], 2000);
    ferry_ratelimit_destroy(rl);
}

TEST(ratelimit_token_returns_one_period_after_its_request)
{
    ferry_ratelimit *rl = ferry_ratelimit_create();
    fake_clock fc = {0, 0};
    ferry_ratelimit_set_clock(rl, fake_now, fake_sleep, &fc);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "b", 2, 10), 0);
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 0); /* t=0 */
    fc.now = 4000;
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 0); /* t=4000 */
    fc.now = 6000;
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 4000); /* the t=0 token is back at 10000 */
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 8000); /* the t=4000 token at 14000 */
    fc.now = 100000;                                      /* long idle: tokens are all back */
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 0);
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 0);
    CHECK(ferry_ratelimit_reserve(rl, "b") > 0);
    /* reconfiguring starts the bucket full */
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "b", 1, 1), 0);
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 0);
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "b"), 1000);
    ferry_ratelimit_destroy(rl);
}

TEST(ratelimit_never_lets_more_than_the_quota_start_in_any_window)
{
    ferry_ratelimit *rl = ferry_ratelimit_create();
    fake_clock fc = {0, 0};
    ferry_ratelimit_set_clock(rl, fake_now, fake_sleep, &fc);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "ep", 600, 60), 0); /* eAccounting: 600 per minute */
    enum { N = 3000 };
    static long long starts[N];
    uint64_t state = 42;
    for (int i = 0; i < N; i++) {
        uint64_t r = xorshift_random(&state);
        fc.now += r % 4 == 0 ? (long long)(r % 400) : 0; /* bursts and pauses, about 1200 per minute offered */
        ferry_ratelimit_acquire(rl, "ep");
        starts[i] = fc.now;
    }
    int violations = 0;
    for (int i = 0; i + 600 < N; i++) {
        if (starts[i + 600] - starts[i] < 60000) {
            violations++;
        }
    }
    CHECK_INT_EQ(violations, 0);
    CHECK(fc.slept > 0); /* the quota was actually reached */
    ferry_ratelimit_destroy(rl);
}

TEST(ratelimit_ignores_unknown_buckets_and_rejects_bad_arguments)
{
    ferry_ratelimit *rl = ferry_ratelimit_create();
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, "nope"), 0);
    CHECK_INT_EQ(ferry_ratelimit_reserve(rl, NULL), 0);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "x", 0, 1), -1);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "x", 1, 0), -1);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "", 1, 1), -1);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, NULL, 1, 1), -1);
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "x", FERRY_RATELIMIT_MAX_REQUESTS + 1, 1), -1);
    CHECK(!ferry_ratelimit_has(rl, "x"));
    CHECK_INT_EQ(ferry_ratelimit_configure(rl, "x", 3, 1), 0);
    CHECK(ferry_ratelimit_has(rl, "x"));
    ferry_ratelimit_destroy(rl);
    ferry_ratelimit_destroy(NULL);
}

/* ---- Retry-After and HTTP-date ---------------------------------------------------------- */

TEST(retry_after_parses_delay_seconds)
{
    CHECK_INT_EQ(ferry_http_parse_retry_after("120", 0), 120000);
    CHECK_INT_EQ(ferry_http_parse_retry_after(" 0 ", 0), 0);
    CHECK_INT_EQ(ferry_http_parse_retry_after("99999999999999999999999", 0), 1000000000LL * 1000);
    CHECK_INT_EQ(ferry_http_parse_retry_after("-5", 0), -1);
    CHECK_INT_EQ(ferry_http_parse_retry_after("1.5", 0), -1);
    CHECK_INT_EQ(ferry_http_parse_retry_after("5 seconds", 0), -1);
    CHECK_INT_EQ(ferry_http_parse_retry_after("", 0), -1);
    CHECK_INT_EQ(ferry_http_parse_retry_after(NULL, 0), -1);
}

TEST(retry_after_parses_all_three_http_date_forms)
{
    const long long t = 784111777000LL; /* 1994-11-06 08:49:37 UTC */
    long long when = 0;
    CHECK_INT_EQ(ferry_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", t, &when), 0);
    CHECK_INT_EQ(when, t);
    when = 0;
    CHECK_INT_EQ(ferry_http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", t, &when), 0);
    CHECK_INT_EQ(when, t);
    when = 0;
    CHECK_INT_EQ(ferry_http_parse_date("Sun Nov  6 08:49:37 1994", t, &when), 0);
    CHECK_INT_EQ(when, t);
    /* relative to now: 30 s ahead, and in the past (wait 0) */
    CHECK_INT_EQ(ferry_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t - 30000), 30000);
    CHECK_INT_EQ(ferry_http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", t + 5000), 0);
    CHECK_INT_EQ(ferry_http_parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", t - 1500), 1500);
    CHECK_INT_EQ(ferry_http_parse_retry_after("Sun Nov  6 08:49:37 1994", t - 2000), 2000);
    /* leap day, end of year */
    CHECK_INT_EQ(ferry_http_parse_date("Thu, 29 Feb 2024 23:59:59 GMT", 0, &when), 0);
    CHECK_INT_EQ(when, 1709251199000LL);
    CHECK_INT_EQ(ferry_http_parse_date("Thu, 31 Dec 2099 00:00:00 GMT", 0, &when), 0);
    CHECK_INT_EQ(when, 4102358400000LL);
}

TEST(http_date_reads_two_digit_years_within_fifty_years_of_now)
{
    const long long now_2024 = 1718000000000LL; /* June 2024 */
    long long when = 0;
    CHECK_INT_EQ(ferry_http_parse_date("Monday, 01-Jan-30 00:00:00 GMT", now_2024, &when), 0);
    CHECK_INT_EQ(when, 1893456000000LL); /* 2030 */
    CHECK_INT_EQ(ferry_http_parse_date("Tuesday, 01-Jan-80 00:00:00 GMT", now_2024, &when), 0);
    CHECK_INT_EQ(when, 315532800000LL); /* 1980, not 2080 */
}

TEST(http_date_rejects_malformed_dates)
{
    long long when = 7;
    const char *bad[] = {"Sun, 31 Feb 2024 00:00:00 GMT",
                         "Sun, 06 Nov 1994 24:00:00 GMT",
                         "Sun, 06 Nov 1994 08:49:37 CET",
                         "Funday, 06-Nov-94 08:49:37 GMT",
                         "Sun, 06 Nov 1994 08:49:37 GMT trailing",
                         "Sun, 06 Nov 94 08:49:37 GMT",
                         "06 Nov 1994 08:49:37 GMT",
                         "Sun Nov  6 08:49 1994",
                         "Sun, 06 Xyz 1994 08:49:37 GMT",
                         "",
                         NULL};
    for (size_t i = 0; bad[i] != NULL; i++) {
        CHECK_MSG(ferry_http_parse_date(bad[i], 0, &when) == -1, "accepted \"%s\"", bad[i]);
        CHECK_MSG(ferry_http_parse_retry_after(bad[i], 0) == -1, "Retry-After accepted \"%s\"", bad[i]);
    }
    CHECK_INT_EQ(when, 7);
}

/* ---- redaction helpers used by the record -------------------------------------------------- */

TEST(redaction_masks_urls_forms_headers_and_broken_json)
{
    ferry_redact_reset();
    ferry_redact_add("reg+secret/42");
    const char *extra[] = {"shopKey", NULL};
    char *s = ferry_redact_url("https://u:pw-123@h.example/p?access_token=tok1&page=2&shopKey=k9#frag", extra);
    CHECK_STR_EQ(s, "https://u:***@h.example/p?access_token=***&page=2&shopKey=***#frag");
    free(s);
    s = ferry_redact_url("https://h.example/p?q=reg%2Bsecret%2F42", NULL); /* percent-encoded registered secret */
    CHECK_STR_EQ(s, "https://h.example/p?q=***");
    free(s);
    s = ferry_redact_form_names("client%5Fsecret=a1&shopKey=b2&x=reg+secret/42", extra);
    CHECK_STR_EQ(s, "client%5Fsecret=***&shopKey=***&x=***");
    free(s);
    s = ferry_redact_header_names("X-Auth-Token: abc", NULL);
    CHECK_STR_EQ(s, "X-Auth-Token: ***");
    free(s);
    s = ferry_redact_header_names("ShopKey: abc", extra);
    CHECK_STR_EQ(s, "ShopKey: ***");
    free(s);
    s = ferry_redact_json_text("{\"user\": \"bob\", \"password\": \"pw-9\", \"n\": {\"access_token\": \"tr", NULL);
    CHECK_STR_EQ(s, "{\"user\": \"bob\", \"password\": \"***\", \"n\": {\"access_token\": \"***\"");
    free(s);
    json_t *in = json_pack("{s:s, s:s, s:s}", "next", "/api?page=3&access_token=zz9", "body",
                           "grant_type=x&client_secret=cs1", "raw", "{\"password\":\"p1\"}");
    json_t *out = ferry_redact_json(in, NULL);
    char *dumped = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK_STR_NOT_CONTAINS(dumped, "zz9");
    CHECK_STR_NOT_CONTAINS(dumped, "cs1");
    CHECK_STR_NOT_CONTAINS(dumped, "p1\\\"");
    CHECK_STR_CONTAINS(dumped, "page=3");
    free(dumped);
    json_decref(in);
    json_decref(out);
    ferry_redact_reset();
}

/* ---- against the fixture server -------------------------------------------------------------- */

TEST(get_sends_accept_and_user_agent_and_parses_json)
{
    ferry_http_response *resp = get_ok(3, "/echo?x=1", NULL);
    if (resp != NULL) {
        CHECK_INT_EQ(resp->status, 200);
        CHECK_INT_EQ(resp->attempts, 1);
        CHECK_STR_EQ(resp->content_type, "application/json");
        CHECK_INT_EQ(resp->retry_after_ms, -1);
        CHECK(resp->json != NULL);
        json_t *h = json_object_get(resp->json, "headers");
        CHECK_STR_EQ(json_string_value(json_object_get(h, "accept")), "application/json");
        CHECK(ferry_starts_with(json_string_value(json_object_get(h, "user-agent")), "ferry/" FERRY_VERSION " "));
        CHECK_STR_EQ(json_string_value(json_object_get(resp->json, "method")), "GET");
        CHECK(resp->body != NULL && resp->body_len == strlen(resp->body));
        CHECK_STR_CONTAINS(resp->url, "/echo?x=1");
    }
    ferry_http_response_free(resp);
}

TEST(json_body_is_sent_compact_with_its_content_type)
{
    ferry_http_client *c = quick_client(3);
    json_t *body = json_pack("{s:i, s:[i,i], s:s}", "a", 1, "b", 1, 2, "c", "å");
    const char *headers[] = {"X-Trace: t1", NULL};
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "PUT";
    req.url = url("/echo");
    req.json = body;
    req.headers = headers;
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    if (resp != NULL && resp->json != NULL) {
        json_t *h = json_object_get(resp->json, "headers");
        CHECK_STR_EQ(json_string_value(json_object_get(resp->json, "method")), "PUT");
        CHECK_STR_EQ(json_string_value(json_object_get(h, "content-type")), "application/json");
        CHECK_STR_EQ(json_string_value(json_object_get(h, "x-trace")), "t1");
        CHECK(json_object_get(h, "expect") == NULL);
        char *sent = json_dumps(body, JSON_COMPACT);
        CHECK_STR_EQ(json_string_value(json_object_get(resp->json, "body")), sent);
        CHECK(strchr(sent, ' ') == NULL);
        free(sent);
    }
    ferry_http_response_free(resp);
    json_decref(body);
    ferry_http_client_destroy(c);
}

TEST(get_is_retried_after_503_then_succeeds)
{
    ferry_http_client *c = quick_client(3);
    ferry_http_response *resp = NULL;
    ferry_error err;
    CHECK_INT_EQ(send_get(c, url("/status/503-then-200?key=t503"), &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->status == 200 && resp->attempts == 2);
    CHECK_INT_EQ(last_attempts, 2);
    CHECK_INT_EQ(server_calls("t503"), 2);
    ferry_http_response_free(resp);
    /* 502 and 504 are retried for a GET too */
    CHECK_INT_EQ(send_get(c, url("/status/502-504-then-200?key=t5024"), &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->status == 200 && resp->attempts == 3);
    ferry_http_response_free(resp);
    /* 500 is not a transient status: one attempt, the answer returned */
    CHECK_INT_EQ(send_get(c, url("/status/500-then-200?key=t500"), &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->status == 500 && resp->attempts == 1);
    ferry_http_response_free(resp);
    ferry_http_client_destroy(c);
}

TEST(retry_after_in_seconds_is_honoured)
{
    long long took;
    ferry_http_response *resp = get_ok(3, "/retry-after/1?key=ras&code=429", &took);
    CHECK(resp != NULL && resp->status == 200 && resp->attempts == 2);
    CHECK_MSG(took >= 950 && took < 5000, "took %lld ms, expected about 1000 (backoff alone would be <= 10)", took);
    ferry_http_response_free(resp);
}

TEST(retry_after_as_http_date_is_honoured)
{
    /* the server names the second after next: a wait of 1 to 2 s */
    long long took;
    ferry_http_response *resp = get_ok(3, "/retry-after-date?key=rad&secs=1", &took);
    CHECK(resp != NULL && resp->status == 200 && resp->attempts == 2);
    CHECK_MSG(took >= 900 && took < 5000, "took %lld ms, expected 1000-2000", took);
    ferry_http_response_free(resp);
}

TEST(retry_after_is_capped_by_max_retry_after)
{
    ferry_http_options o = {0};
    o.backoff_base_ms = 10;
    o.max_retry_after_ms = 300;
    ferry_http_client *c = ferry_http_client_create(&o);
    ferry_http_response *resp = NULL;
    ferry_error err;
    long long t0 = ferry_monotonic_ms();
    CHECK_INT_EQ(send_get(c, url("/retry-after/100?key=rac"), &resp, &err), FERRY_OK);
    long long took = ferry_monotonic_ms() - t0;
    CHECK(resp != NULL && resp->status == 200 && resp->attempts == 2);
    CHECK_MSG(took >= 280 && took < 3000, "took %lld ms, expected about 300 (the cap), not 100 s", took);
    ferry_http_response_free(resp);
    /* the response reports the capped value too */
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = url("/always/429?retry_after=100&key=rac2");
    req.flags = FERRY_HTTP_NO_RETRY;
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->status == 429 && resp->retry_after_ms == 300 && resp->attempts == 1);
    ferry_http_response_free(resp);
    ferry_http_client_destroy(c);
}

TEST(spent_retries_return_the_last_answer)
{
    ferry_http_response *resp = get_ok(3, "/always/503?key=a503", NULL);
    CHECK(resp != NULL && resp->status == 503 && resp->attempts == 3);
    CHECK(resp != NULL && resp->json != NULL);
    CHECK_INT_EQ(server_calls("a503"), 3);
    ferry_http_response_free(resp);
}

TEST(retries_stop_at_max_elapsed_time)
{
    ferry_http_options o = {0};
    o.max_attempts = 10;
    o.max_elapsed_ms = 500;
    ferry_http_client *c = ferry_http_client_create(&o);
    ferry_http_response *resp = NULL;
    ferry_error err;
    long long t0 = ferry_monotonic_ms();
    /* waiting the server's 2 s would pass the 500 ms budget: give up at once with the answer */
    CHECK_INT_EQ(send_get(c, url("/always/503?retry_after=2&key=elap"), &resp, &err), FERRY_OK);
    long long took = ferry_monotonic_ms() - t0;
    CHECK(resp != NULL && resp->status == 503 && resp->attempts == 1 && resp->retry_after_ms == 2000);
    CHECK_MSG(took < 1000, "took %lld ms", took);
    ferry_http_response_free(resp);
    ferry_http_client_destroy(c);
}

TEST(timeout_gives_a_clear_error_naming_method_and_url)
{
    ferry_http_client *c = quick_client(2);
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = url("/hang/3?key=hang");
    req.timeout_ms = 300;
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    long long t0 = ferry_monotonic_ms();
    int rc = ferry_http_send(c, &req, &resp, &err);
    long long took = ferry_monotonic_ms() - t0;
    CHECK_INT_EQ(rc, FERRY_RETRY);
    CHECK(resp == NULL);
    CHECK_STR_CONTAINS(err.message, "GET ");
    CHECK_STR_CONTAINS(err.message, url("/hang/3?key=hang"));
    CHECK_STR_CONTAINS(err.message, "Timeout");
    CHECK_STR_CONTAINS(err.message, "no answer after 2 attempts");
    CHECK_STR_EQ(err.where, url("/hang/3?key=hang"));
    CHECK(!(err.flags & FERRY_ERROR_MAYBE_APPLIED));
    CHECK_INT_EQ(err.http_status, 0);
    CHECK_MSG(took >= 550 && took < 3000, "took %lld ms for 2 attempts of 300 ms", took);
    CHECK(last_had_error && last_status == 0 && last_attempts == 2);
    ferry_http_client_destroy(c);
}

TEST(connection_reset_is_retried_for_get)
{
    ferry_http_response *resp = get_ok(3, "/reset?key=rst&times=1", NULL);
    CHECK(resp != NULL && resp->status == 200 && resp->attempts == 2);
    CHECK_INT_EQ(server_calls("rst"), 2);
    ferry_http_response_free(resp);
}

TEST(connection_reset_after_post_is_not_retried_and_maybe_applied)
{
    ferry_http_client *c = quick_client(3);
    json_t *body = json_pack("{s:s}", "number", "100001");
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url("/post-reset?key=prst");
    req.json = body;
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RETRY);
    CHECK(resp == NULL);
    CHECK(err.flags & FERRY_ERROR_MAYBE_APPLIED);
    CHECK_STR_CONTAINS(err.message, "POST ");
    CHECK_STR_CONTAINS(err.message, "/post-reset");
    CHECK_STR_CONTAINS(err.message, "may have received");
    CHECK_INT_EQ(server_calls("prst"), 1);
    /* PATCH is treated the same; PUT (idempotent) is retried */
    req.method = "PATCH";
    req.url = url("/post-reset?key=prst2");
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RETRY);
    CHECK(err.flags & FERRY_ERROR_MAYBE_APPLIED);
    CHECK_INT_EQ(server_calls("prst2"), 1);
    req.method = "PUT";
    req.url = url("/post-reset?key=prst3");
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RETRY);
    CHECK_INT_EQ(server_calls("prst3"), 3);
    CHECK(!(err.flags & FERRY_ERROR_MAYBE_APPLIED));
    /* the caller may declare a POST safe to repeat */
    req.method = "POST";
    req.url = url("/post-reset?key=prst4");
    req.flags = FERRY_HTTP_RETRY_UNSAFE;
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RETRY);
    CHECK_INT_EQ(server_calls("prst4"), 3);
    CHECK(err.flags & FERRY_ERROR_MAYBE_APPLIED);
    json_decref(body);
    ferry_http_client_destroy(c);
}

TEST(post_is_retried_after_429_and_503_answers)
{
    ferry_http_client *c = quick_client(4);
    json_t *body = json_pack("{s:s}", "number", "100002");
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url("/status/429-503-then-201?key=p429");
    req.json = body;
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->status == 201 && resp->attempts == 3);
    ferry_http_response_free(resp);
    /* 502/504 may come after the server did the work: a POST is not repeated */
    req.url = url("/status/502-then-201?key=p502");
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->status == 502 && resp->attempts == 1);
    CHECK_INT_EQ(server_calls("p502"), 1);
    ferry_http_response_free(resp);
    json_decref(body);
    ferry_http_client_destroy(c);
}

TEST(post_is_retried_when_the_connection_is_refused)
{
    ferry_http_client *c = quick_client(3);
    char u[128];
    snprintf(u, sizeof(u), "http://127.0.0.1:%d/orders", closed_port());
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = u;
    req.body = "a=1";
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RETRY);
    CHECK(resp == NULL);
    CHECK_INT_EQ(last_attempts, 3);
    CHECK(!(err.flags & FERRY_ERROR_MAYBE_APPLIED));
    CHECK_STR_CONTAINS(err.message, "POST http://127.0.0.1:");
    CHECK_STR_CONTAINS(err.message, "connect");
    CHECK_STR_CONTAINS(err.message, "no answer after 3 attempts");
    ferry_http_client_destroy(c);
}

TEST(truncated_json_is_an_error_naming_url_and_byte_offset)
{
    ferry_http_client *c = quick_client(3);
    ferry_http_response *resp = NULL;
    ferry_error err;
    const char *u = url("/truncated-json");
    CHECK_INT_EQ(send_get(c, u, &resp, &err), FERRY_RETRY);
    CHECK(resp == NULL);
    CHECK_STR_CONTAINS(err.message, "GET ");
    CHECK_STR_CONTAINS(err.message, u);
    CHECK_STR_CONTAINS(err.message, "not valid JSON");
    CHECK_STR_CONTAINS(err.message, "at byte 30"); /* strlen("{\"items\": [1, 2, {\"name\": \"abc") */
    CHECK_INT_EQ(err.http_status, 200);
    CHECK(!(err.flags & FERRY_ERROR_MAYBE_APPLIED));
    CHECK(last_had_error && last_status == 200);
    /* after a POST the write may have happened */
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = u;
    req.body = "{}";
    const char *headers[] = {"Content-Type: application/json", NULL};
    req.headers = headers;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RETRY);
    CHECK(err.flags & FERRY_ERROR_MAYBE_APPLIED);
    CHECK_STR_CONTAINS(err.message, "at byte 30");
    /* FERRY_HTTP_RAW hands the bytes over unparsed */
    req.method = "GET";
    req.body = NULL;
    req.headers = NULL;
    req.flags = FERRY_HTTP_RAW;
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    CHECK(resp != NULL && resp->json == NULL && resp->body_len == 30);
    ferry_http_response_free(resp);
    ferry_http_client_destroy(c);
}

TEST(json_is_recognised_without_a_content_type)
{
    ferry_http_response *resp = get_ok(1, "/no-type-json", NULL);
    CHECK(resp != NULL && resp->content_type == NULL && resp->json != NULL);
    CHECK(resp != NULL && json_is_false(json_object_get(resp->json, "typed")));
    ferry_http_response_free(resp);
}

TEST(location_is_captured_and_redirects_are_not_followed)
{
    ferry_http_response *resp = get_ok(1, "/redirect", NULL);
    CHECK(resp != NULL && resp->status == 302);
    CHECK_STR_EQ(resp != NULL ? resp->location : NULL, "/echo");
    ferry_http_response_free(resp);
}

TEST(one_tcp_connection_serves_many_requests)
{
    ferry_http_client *c = quick_client(1);
    long long first = -1;
    int same = 1;
    for (int i = 0; i < 5; i++) {
        ferry_http_response *resp = NULL;
        ferry_error err;
        CHECK_INT_EQ(send_get(c, url("/count-connections"), &resp, &err), FERRY_OK);
        long long id = resp != NULL ? json_integer_value(json_object_get(resp->json, "connection")) : -2;
        if (first < 0) {
            first = id;
        } else if (id != first) {
            same = 0;
        }
        ferry_http_response_free(resp);
    }
    CHECK_MSG(same, "the server saw more than one connection");
    CHECK_INT_EQ(ferry_http_connections_opened(c), 1);
    ferry_http_client_destroy(c);
}

TEST(rate_limited_requests_wait_for_their_bucket)
{
    ferry_http_client *c = quick_client(1);
    CHECK_INT_EQ(ferry_http_rate_limit(c, "echo", 5, 1), 0);
    CHECK_INT_EQ(ferry_http_rate_limit(c, "bad", 0, 1), -1);
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = url("/echo");
    req.rate_bucket = "echo";
    long long t0 = ferry_monotonic_ms(), done[11];
    for (int i = 0; i < 11; i++) {
        ferry_http_response *resp = NULL;
        ferry_error err;
        ferry_error_clear(&err);
        CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
        done[i] = ferry_monotonic_ms() - t0;
        ferry_http_response_free(resp);
    }
    CHECK_MSG(done[4] < 900, "the first five took %lld ms (a burst was expected)", done[4]);
    CHECK_MSG(done[5] >= 950, "the sixth finished after %lld ms, expected >= 1000", done[5]);
    CHECK_MSG(done[10] >= 1900, "the eleventh finished after %lld ms, expected >= 2000", done[10]);
    CHECK_MSG(done[10] < 6000, "the eleventh finished after %lld ms", done[10]);
    ferry_http_client_destroy(c);
}

/* The secrets of the redaction test; none may appear in the record or the log. */
static const char *const secrets[] = {"bear-9931-tok", "qtok-555x",       "csec-4412x", "pw-6623x",
                                      "sig-77x1",      "reg-secret-7781", "ots-1212x",  NULL};

TEST(record_and_log_carry_no_secret)
{
    ferry_redact_reset();
    ferry_redact_add("reg-secret-7781");
    ferry_buf_free(&recorded);
    ferry_buf_free(&logged);
    ferry_log_set_sink(log_sink, NULL);
    ferry_http_client *c = quick_client(2);
    ferry_http_response *resp = NULL;
    ferry_error err;

    /* a bearer token in a header, a token in the query, a registered secret echoed back */
    const char *h1[] = {"Authorization: Bearer bear-9931-tok", "X-Shop: reg-secret-7781", NULL};
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    req.url = url("/echo?access_token=qtok-555x&page=2");
    req.headers = h1;
    req.label = "list orders";
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    CHECK(resp != NULL && strstr(resp->body, "reg-secret-7781") != NULL); /* the plugin gets the real data */
    ferry_http_response_free(resp);

    /* a client secret in a form body */
    const char *h2[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
    ferry_http_request form = FERRY_HTTP_REQUEST_INIT;
    form.method = "POST";
    form.url = url("/echo");
    form.headers = h2;
    form.body = "grant_type=client_credentials&client_secret=csec-4412x&scope=ea";
    CHECK_INT_EQ(ferry_http_send(c, &form, &resp, &err), FERRY_OK);
    ferry_http_response_free(resp);

    /* a password and a configured secret field in a JSON body */
    const char *fields[] = {"apiSig", NULL};
    json_t *body =
        json_pack("{s:s, s:s, s:{s:s}}", "user", "bob", "password", "pw-6623x", "meta", "apiSig", "sig-77x1");
    ferry_http_request js = FERRY_HTTP_REQUEST_INIT;
    js.method = "POST";
    js.url = url("/echo");
    js.json = body;
    js.secret_fields = fields;
    CHECK_INT_EQ(ferry_http_send(c, &js, &resp, &err), FERRY_OK);
    ferry_http_response_free(resp);

    /* a registered secret in a plain-text response, a form-encoded token response */
    ferry_http_request tx = FERRY_HTTP_REQUEST_INIT;
    tx.method = "POST";
    tx.url = url("/echo-text");
    tx.body = "note: reg-secret-7781 is here";
    CHECK_INT_EQ(ferry_http_send(c, &tx, &resp, &err), FERRY_OK);
    ferry_http_response_free(resp);
    tx.method = "GET";
    tx.body = NULL;
    tx.url = url("/form-response?token=tokpublic&secret=ots-1212x");
    CHECK_INT_EQ(ferry_http_send(c, &tx, &resp, &err), FERRY_OK);
    ferry_http_response_free(resp);

    /* an error message (timeout) with a secret in the query */
    ferry_http_request to = FERRY_HTTP_REQUEST_INIT;
    to.method = "GET";
    to.url = url("/hang/2?access_token=qtok-555x");
    to.timeout_ms = 100;
    to.flags = FERRY_HTTP_NO_RETRY;
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &to, &resp, &err), FERRY_RETRY);

    ferry_log_set_sink(NULL, NULL);
    CHECK_INT_EQ(record_count > 0, 1);
    for (size_t i = 0; secrets[i] != NULL; i++) {
        CHECK_STR_NOT_CONTAINS(recorded.data, secrets[i]);
        CHECK_STR_NOT_CONTAINS(logged.data, secrets[i]);
        CHECK_STR_NOT_CONTAINS(err.message, secrets[i]);
        CHECK_STR_NOT_CONTAINS(err.where, secrets[i]);
    }
    /* what is not secret stays readable */
    CHECK_STR_CONTAINS(recorded.data, "list orders GET ");
    CHECK_STR_CONTAINS(recorded.data, "access_token=***&page=2");
    CHECK_STR_CONTAINS(recorded.data, "Authorization: Bearer ***");
    CHECK_STR_CONTAINS(recorded.data, "client_secret=***&scope=ea");
    CHECK_STR_CONTAINS(recorded.data, "\"user\":\"bob\"");
    CHECK_STR_CONTAINS(recorded.data, "oauth_token=***&oauth_token_secret=***");
    CHECK_STR_CONTAINS(logged.data, "debug: test: GET ");
    CHECK_STR_CONTAINS(logged.data, "/echo?access_token=***&page=2 -> HTTP 200 in ");
    CHECK_STR_CONTAINS(logged.data, "(attempt 1 of 2)");
    if (testing_current_failed) {
        printf("# recorded:\n# %s\n# logged:\n# %s\n", recorded.data, logged.data);
    }
    json_decref(body);
    ferry_http_client_destroy(c);
    ferry_redact_reset();
}

TEST(quiet_requests_are_recorded_without_bodies)
{
    ferry_http_client *c = quick_client(1);
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "POST";
    req.url = url("/echo");
    req.body = "grant_type=authorization_code&code=abc";
    req.flags = FERRY_HTTP_QUIET;
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_error_clear(&err);
    int before = record_count;
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_OK);
    CHECK_INT_EQ(record_count, before + 1);
    CHECK(last_request_body_null && last_response_body_null);
    CHECK_INT_EQ(last_status, 200);
    ferry_http_response_free(resp);
    ferry_http_client_destroy(c);
}

TEST(recorded_response_is_truncated_to_64_kib)
{
    ferry_http_response *resp = get_ok(1, "/big/200000", NULL);
    CHECK(resp != NULL && resp->body_len == 200000 && resp->json != NULL);
    CHECK_INT_EQ(last_response_size, 200000);
    CHECK(last_response_body_len > 0 && last_response_body_len <= FERRY_HTTP_RECORD_MAX);
    ferry_http_response_free(resp);
}

TEST(insecure_client_logs_a_warning)
{
    ferry_buf_free(&logged);
    ferry_log_set_sink(log_sink, NULL);
    ferry_http_options o = {0};
    o.insecure = 1;
    o.log_context = "shop";
    ferry_http_client *c = ferry_http_client_create(&o);
    ferry_log_set_sink(NULL, NULL);
    CHECK(c != NULL);
    CHECK_STR_CONTAINS(logged.data, "warn: shop: TLS certificate verification is disabled");
    ferry_http_client_destroy(c);
}

TEST(a_bad_ca_file_is_a_configuration_error)
{
    ferry_http_options o = {0};
    o.ca_file = "/nonexistent/ferry-test-ca.pem";
    o.max_attempts = 3;
    ferry_http_client *c = ferry_http_client_create(&o);
    char u[256];
    /* https to the local plain-HTTP server: TLS set-up fails at the CA file, before any byte is sent */
    snprintf(u, sizeof(u), "https://%s/echo", base_url + strlen("http://"));
    ferry_http_response *resp = NULL;
    ferry_error err;
    int rc = send_get(c, u, &resp, &err);
    CHECK_MSG(rc == FERRY_CONFIG_ERROR, "rc %d: %s", rc, err.message);
    CHECK_STR_CONTAINS(err.message, "no answer after 1 attempt ");
    ferry_http_client_destroy(c);
}

TEST(malformed_requests_are_refused_before_sending)
{
    ferry_http_client *c = quick_client(1);
    ferry_http_response *resp = NULL;
    ferry_error err;
    ferry_http_request req = FERRY_HTTP_REQUEST_INIT;
    req.method = "GET";
    ferry_error_clear(&err);
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_FATAL); /* no URL */
    req.url = "ftp://example.com/file";
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_CONFIG_ERROR);
    CHECK_STR_CONTAINS(err.message, "not an http:// or https:// URL");
    req.url = url("/echo");
    req.method = "get";
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_FATAL);
    req.method = "GET";
    const char *inject[] = {"X-Ok: 1", "X-Evil: a\r\nX-Injected: b", NULL};
    req.headers = inject;
    CHECK_INT_EQ(ferry_http_send(c, &req, &resp, &err), FERRY_RECORD_ERROR);
    CHECK_STR_CONTAINS(err.message, "header 2");
    ferry_http_request old = {0}; /* struct_size 0: never initialised */
    old.method = "GET";
    old.url = url("/echo");
    CHECK_INT_EQ(ferry_http_send(c, &old, &resp, &err), FERRY_FATAL);
    CHECK(resp == NULL);
    CHECK_INT_EQ(ferry_http_send(NULL, &req, &resp, NULL), FERRY_FATAL);
    ferry_http_client_destroy(c);
}

static void skip(const char *name)
{
    testing_total++;
    printf("ok %d - %s # SKIP python3 or the fixture server is not available\n", testing_total, name);
}

#define RUN_SERVER_TEST(name)                                                                                          \
    do {                                                                                                               \
        if (have_server)                                                                                               \
            RUN_TEST(name);                                                                                            \
        else                                                                                                           \
            skip(#name);                                                                                               \
    } while (0)

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    ferry_http_global_init();

    RUN_TEST(backoff_ceiling_doubles_from_base_and_stops_at_cap);
    RUN_TEST(backoff_delay_spans_zero_to_ceiling_inclusive);
    RUN_TEST(backoff_full_jitter_is_uniform_over_the_range);
    RUN_TEST(ratelimit_allows_a_burst_then_one_window_per_burst);
    RUN_TEST(ratelimit_token_returns_one_period_after_its_request);
    RUN_TEST(ratelimit_never_lets_more_than_the_quota_start_in_any_window);
    RUN_TEST(ratelimit_ignores_unknown_buckets_and_rejects_bad_arguments);
    RUN_TEST(retry_after_parses_delay_seconds);
    RUN_TEST(retry_after_parses_all_three_http_date_forms);
    RUN_TEST(http_date_reads_two_digit_years_within_fifty_years_of_now);
    RUN_TEST(http_date_rejects_malformed_dates);
    RUN_TEST(redaction_masks_urls_forms_headers_and_broken_json);

    int have_server = start_server() == 0;
    RUN_SERVER_TEST(get_sends_accept_and_user_agent_and_parses_json);
    RUN_SERVER_TEST(json_body_is_sent_compact_with_its_content_type);
    RUN_SERVER_TEST(get_is_retried_after_503_then_succeeds);
    RUN_SERVER_TEST(retry_after_in_seconds_is_honoured);
    RUN_SERVER_TEST(retry_after_as_http_date_is_honoured);
    RUN_SERVER_TEST(retry_after_is_capped_by_max_retry_after);
    RUN_SERVER_TEST(spent_retries_return_the_last_answer);
    RUN_SERVER_TEST(retries_stop_at_max_elapsed_time);
    RUN_SERVER_TEST(timeout_gives_a_clear_error_naming_method_and_url);
    RUN_SERVER_TEST(connection_reset_is_retried_for_get);
    RUN_SERVER_TEST(connection_reset_after_post_is_not_retried_and_maybe_applied);
    RUN_SERVER_TEST(post_is_retried_after_429_and_503_answers);
    RUN_SERVER_TEST(post_is_retried_when_the_connection_is_refused);
    RUN_SERVER_TEST(truncated_json_is_an_error_naming_url_and_byte_offset);
    RUN_SERVER_TEST(json_is_recognised_without_a_content_type);
    RUN_SERVER_TEST(location_is_captured_and_redirects_are_not_followed);
    RUN_SERVER_TEST(one_tcp_connection_serves_many_requests);
    RUN_SERVER_TEST(rate_limited_requests_wait_for_their_bucket);
    RUN_SERVER_TEST(record_and_log_carry_no_secret);
    RUN_SERVER_TEST(quiet_requests_are_recorded_without_bodies);
    RUN_SERVER_TEST(recorded_response_is_truncated_to_64_kib);
    RUN_SERVER_TEST(insecure_client_logs_a_warning);
    RUN_SERVER_TEST(a_bad_ca_file_is_a_configuration_error);
    RUN_SERVER_TEST(malformed_requests_are_refused_before_sending);
    stop_server();

    ferry_buf_free(&recorded);
    ferry_buf_free(&logged);
    ferry_http_global_cleanup();
    TEST_MAIN_END();
}
