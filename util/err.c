/* Error codes with messages the caller can show (util/err.h). */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void util_err_fill(util_err *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
}

int util_err_prefix(util_err *err, const char *fmt, ...)
{
    if (!err) return 0;
    char pre[128], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s%s", pre, old);
    return err->code;
}

void util_err_clear(util_err *err)
{
    if (err) {
        err->code = 0;
        err->msg[0] = 0;
    }
}
