/* Error codes, caller-visible error messages, and the calling conventions
 * every public function of the tree follows (util/, vm/, chain/, rpc/, node/,
 * cli/). A header that departs from a rule says so at the function.
 *
 * Arguments. Inputs first, then outputs, then `util_err *err` last. Pointer
 * arguments must not be NULL unless the function's comment says they may be;
 * err may always be NULL (the caller then gets the code without a message).
 *
 * Return values. A function that can fail returns int: 0 on success or one of
 * UTIL_E* below, and fills err with a message that can be shown to a user as
 * is. Predicates return int 1 (yes) or 0 (no), cannot fail, and are named as
 * questions: chain_id_valid, cli_key_name_valid. Documented exceptions:
 *   - module reason codes (enum chain_mempool_reason, enum
 *     chain_block_reason): 0 is success, and each other value is a reason a
 *     caller acts on, listed in the module's header;
 *   - util's low-level helpers return 0 or -1, where the reader keeps the
 *     reason (util_rd_*, in rd->err) or there is one way to fail
 *     (util_hex_decode_exact, util_amount_parse_*, util_add_u64 and kin).
 *     A reader latches its first failure, so a decoder may read a run of
 *     fields unchecked and check once, with util_rd_end or a later read
 *     whose result it tests (util/bytes.h); a failed read leaves its
 *     output as it was;
 *   - helpers that exist to be returned (util_err_set, util_err_prefix,
 *     cli_fail, rpc_fail) hand back the code they were given.
 *
 * Outputs. Written only on success, unless the header says otherwise; on
 * failure they are left as they were, so a caller's defaults survive.
 *
 * Pointers returned. A constructor or a copy (`*_new`, a json_t builder, a
 * malloc'd string) returns an owned pointer that the caller releases with the
 * matching `*_free` (free() or json_decref() where the header says so); NULL
 * then means allocation failed, and nothing else, unless the function's
 * comment names another case. A lookup returns a borrowed pointer, NULL when
 * not found; it stays valid until the next call that mutates the owner, or
 * until the point its header names ("borrowed until ...").
 *
 * Checked by the compiler. OL_MUST_CHECK marks every function whose result
 * matters: each one returning a code, a reason or a predicate, and each
 * allocator or lookup returning a pointer. Ignoring one is a warning, an
 * error under -Werror. Where ignoring is right, the call site says why in an
 * `if (f(...)) { ... }` whose body is the comment: GCC does not let a (void)
 * cast silence warn_unused_result, on purpose. */
#ifndef OL_UTIL_ERR_H
#define OL_UTIL_ERR_H

#include <stddef.h>

#define OL_MUST_CHECK __attribute__((warn_unused_result))

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
