/*
 * log.h - the core's diagnostic log.
 *
 * Lines go to stderr as "ferry[: context]: level: message", filtered by a
 * global level (warnings by default; -v raises it, -q lowers it), and every
 * line passes through redaction first, so a secret cannot reach the log even
 * when a caller formats one by mistake.  An optional sink receives each line
 * too (the engine stores warnings and errors of a run in its events).
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include <stdarg.h>

#include <ferry/plugin.h>

#include "util.h"

/* Set the most verbose level written to stderr (enum ferry_log_level); -1 silences stderr. */
void ferry_log_set_level(int level);
int ferry_log_get_level(void);

/* The level named "error", "warn", "info" or "debug", or -1. */
int ferry_log_level_from_name(const char *name);
const char *ferry_log_level_name(int level);

/*
 * A function that also receives every line (already redacted), whatever
 * the stderr level; NULL removes it.  Called with the logging lock not held.
 */
typedef void (*ferry_log_sink)(void *ud, int level, const char *context, const char *message);
void ferry_log_set_sink(ferry_log_sink sink, void *ud);

/* Log a line; `context` (may be NULL) names the connection, flow or plugin. */
void ferry_log(int level, const char *context, const char *fmt, ...) FERRY_FMT(3, 4);
void ferry_vlog(int level, const char *context, const char *fmt, va_list ap);

#define ferry_log_error(...) ferry_log(FERRY_LOG_ERROR, NULL, __VA_ARGS__)
#define ferry_log_warn(...) ferry_log(FERRY_LOG_WARN, NULL, __VA_ARGS__)
#define ferry_log_info(...) ferry_log(FERRY_LOG_INFO, NULL, __VA_ARGS__)
#define ferry_log_debug(...) ferry_log(FERRY_LOG_DEBUG, NULL, __VA_ARGS__)

#endif /* FERRY_LOG_H */
