/* Leveled logging to stderr, one line per call, with a UTC timestamp.
 * Thread-safe (one fprintf per line). */
#ifndef OL_UTIL_LOG_H
#define OL_UTIL_LOG_H

#include "util/err.h"
enum { UTIL_LOG_DEBUG = 0, UTIL_LOG_INFO = 1, UTIL_LOG_WARN = 2, UTIL_LOG_ERROR = 3 };

void util_log_set_level(int level);
OL_MUST_CHECK int util_log_level(void);
/* Parses "debug", "info", "warn", "error"; returns -1 if unknown. */
OL_MUST_CHECK int util_log_parse_level(const char *s);
void util_log(int level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_DEBUG(mod, ...) util_log(UTIL_LOG_DEBUG, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...) util_log(UTIL_LOG_INFO, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) util_log(UTIL_LOG_WARN, mod, __VA_ARGS__)
#define LOG_ERROR(mod, ...) util_log(UTIL_LOG_ERROR, mod, __VA_ARGS__)

#endif
