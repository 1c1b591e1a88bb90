/* Timestamped log lines to stderr with a level threshold (util/log.h). */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static int g_level = UTIL_LOG_INFO;
static const char *names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void util_log_set_level(int level)
{
    g_level = level;
}

int util_log_level(void)
{
    return g_level;
}

int util_log_parse_level(const char *s)
{
    static const char *lc[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, lc[i]) == 0) return i;
    return -1;
}

void util_log(int level, const char *module, const char *fmt, ...)
{
    if (level < g_level || level < 0 || level > 3) return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char line[1024];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %-6s ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[level], module);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line) vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
