/* log.c - leveled, redacted diagnostics on stderr (see log.h). */
#include "config.h"

#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"

static int log_level = FERRY_LOG_WARN;
static ferry_log_sink log_sink;
static void *log_sink_ud;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void ferry_log_set_level(int level)
{
    log_level = level;
}

int ferry_log_get_level(void)
{
    return log_level;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int ferry_log_level_from_name(const char *name)
{
    for (int i = 0; i < 4; i++) {
        if (name != NULL && strcmp(name, level_names[i]) == 0) {
            return i;
        }
    }
    if (name != NULL && strcmp(name, "warning") == 0) {
        return FERRY_LOG_WARN;
    }
    return -1;
}

const char *ferry_log_level_name(int level)
{
    return level >= 0 && level < 4 ? level_names[level] : "log";
}

void ferry_log_set_sink(ferry_log_sink sink, void *ud)
{
    pthread_mutex_lock(&log_lock);
    log_sink = sink;
    log_sink_ud = ud;
    pthread_mutex_unlock(&log_lock);
}

void ferry_vlog(int level, const char *context, const char *fmt, va_list ap)
{
    ferry_log_sink sink;
    void *ud;
    pthread_mutex_lock(&log_lock);
    sink = log_sink;
    ud = log_sink_ud;
    pthread_mutex_unlock(&log_lock);
    if (level > log_level && sink == NULL) {
        return;
    }
    char *raw = ferry_vasprintf(fmt, ap);
    if (raw == NULL) {
        return;
    }
    char *line = ferry_redact_text(raw);
    free(raw);
    if (line == NULL) {
        return;
    }
    if (level <= log_level) {
        if (context != NULL && context[0]) {
            fprintf(stderr, "ferry: %s: %s: %s\n", context, ferry_log_level_name(level), line);
        } else {
            fprintf(stderr, "ferry: %s: %s\n", ferry_log_level_name(level), line);
        }
    }
    if (sink != NULL) {
        sink(ud, level, context, line);
    }
    free(line);
}

void ferry_log(int level, const char *context, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ferry_vlog(level, context, fmt, ap);
    va_end(ap);
}
