/* Error codes and caller-visible error messages.
 *
 * Every fallible function returns 0 on success or one of UTIL_E* and, when the
 * caller passes a non-NULL util_err, fills a message that can be shown to a
 * user as is. The struct is caller-owned (usually on the stack). */
#ifndef OL_UTIL_ERR_H
#define OL_UTIL_ERR_H

#include <stddef.h>

enum {
    UTIL_OK = 0,
    UTIL_EINVAL = 1,    /* malformed or out-of-range input */
    UTIL_ENOMEM = 2,    /* allocation failed */
    UTIL_EIO = 3,       /* storage or OS error */
    UTIL_ENOTFOUND = 4, /* the thing asked for does not exist */
    UTIL_EEXIST = 5,    /* already present */
    UTIL_ELIMIT = 6,    /* a declared limit was exceeded */
    UTIL_ESTATE = 7,    /* valid input, but not allowed in the current state */
    UTIL_ECRYPTO = 8,   /* signature, key or crypto library failure */
};

typedef struct util_err {
    int code;
    char msg[256];
} util_err;

/* Sets code and printf-style message; a NULL err is allowed. */
void util_err_fill(util_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, and evaluates to code, so callers can write
 * `return util_err_set(err, UTIL_EINVAL, "...")`. A macro so the compiler sees
 * the returned value is the (non-zero) code it was given. `code` is evaluated
 * twice: pass a constant or a plain variable. */
#define util_err_set(err, code, ...)                                                               \
    __extension__({                                                                                \
        util_err_fill((err), (code), __VA_ARGS__);                                                 \
        (code);                                                                                    \
    })

/* Prefixes an existing message with context ("genesis: " + msg). */
int util_err_prefix(util_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void util_err_clear(util_err *err);

#endif
