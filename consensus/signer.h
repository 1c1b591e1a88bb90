/* The signer state: the last height, round and step this validator signed,
 * with the signed digest and the signature, kept in a small file of its own
 * that is replaced atomically and synced before any signature leaves the
 * process. It is what stops a restarted validator from signing a second,
 * conflicting proposal or vote (equivocating), whatever its WAL says.
 * CometBFT's privval FilePV (privval/file.go) is the model, with one
 * difference: there the state is saved after signing and a failed save
 * panics; here a failed save refuses the signature, and the state in memory
 * stays as it was.
 *
 * The key stays with the caller: signing is a callback. All file I/O goes
 * through a util_env (NULL: the default). Not thread-safe: one owner. */
#ifndef OL_CONSENSUS_SIGNER_H
#define OL_CONSENSUS_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "util/env.h"
#include "util/err.h"

/* Steps that are signed, in the order they happen within a round. */
enum cons_sign_step {
    CONS_SIGN_PROPOSAL = 1,
    CONS_SIGN_PREVOTE = 2,
    CONS_SIGN_PRECOMMIT = 3,
};

typedef struct cons_signer_state {
    uint64_t height; /* 0 with step 0: nothing signed yet */
    uint32_t round;
    uint8_t step;       /* enum cons_sign_step, 0 when nothing signed */
    uint8_t digest[32]; /* the 32 bytes that were signed (the message's signing digest) */
    uint8_t sig[64];    /* their signature */
} cons_signer_state;

/* cons_signer_allow's verdict: 0 may sign, every other value is a reason
 * (a module reason code, util/err.h). */
enum cons_signer_verdict {
    CONS_SIGNER_FRESH = 0,      /* after the state: sign, then record */
    CONS_SIGNER_SAME = 1,       /* this very digest at this height/round/step: reuse st->sig */
    CONS_SIGNER_CONFLICT = 2,   /* another digest at this height/round/step: refuse */
    CONS_SIGNER_REGRESSION = 3, /* before the state: refuse */
};

/* Whether (h, r, step, digest) may be signed after st: FRESH when it comes
 * strictly after (height, then round, then step), SAME when it is the same
 * step with the same digest (re-signing after a crash returns the stored
 * signature, so nothing new is signed), CONFLICT or REGRESSION otherwise,
 * with err saying which height/round/step. An invalid step or height 0 is
 * REGRESSION too: nothing is ever signed for them. Pure. */
OL_MUST_CHECK int cons_signer_allow(const cons_signer_state *st, uint64_t h, uint32_t r,
                                    uint8_t step, const uint8_t digest[32], util_err *err);

typedef struct cons_signer cons_signer;

enum { CONS_SIGNER_CREATE = 1 };

/* Loads the state at path. When it is absent: with CONS_SIGNER_CREATE a
 * fresh state (nothing signed) is written durably first; without it,
 * UTIL_ENOTFOUND (a validator that has signed before must not silently
 * start over). A file that is damaged or not a signer state is an error
 * naming it: it is never replaced by a fresh one. */
OL_MUST_CHECK int cons_signer_open(const util_env *env, const char *path, int flags,
                                   cons_signer **out, util_err *err);

/* The state as last recorded; borrowed until the next call on s. */
OL_MUST_CHECK const cons_signer_state *cons_signer_get(const cons_signer *s);

/* Signs digest (the caller's key, through fn) into sig[64]. */
typedef int (*cons_sign_fn)(void *ctx, const uint8_t digest[32], uint8_t sig[64], util_err *err);

/* Signs (h, r, step, digest) if cons_signer_allow lets it: SAME gives the
 * stored signature without calling fn; FRESH calls fn, writes the new state
 * (replace_file: temporary file, sync, rename, directory sync) and only
 * then fills sig. Refused (UTIL_ESTATE) on CONFLICT or REGRESSION. When the
 * state cannot be written (disk full, I/O error) the signature is dropped,
 * the state in memory stays as it was, and the error (UTIL_EIO) says why;
 * the caller must then stop signing. sig is written only on success. */
OL_MUST_CHECK int cons_signer_sign(cons_signer *s, uint64_t h, uint32_t r, uint8_t step,
                                   const uint8_t digest[32], cons_sign_fn fn, void *ctx,
                                   uint8_t sig[64], util_err *err);

/* Size of the state file (docs/consensus_wal.md has its layout). */
#define CONS_SIGNER_FILE_SIZE 122u

/* The state's file bytes, and back; decode fails (UTIL_EINVAL) on a wrong
 * size, magic, checksum or step. */
void cons_signer_encode(const cons_signer_state *st, uint8_t out[CONS_SIGNER_FILE_SIZE]);
OL_MUST_CHECK int cons_signer_decode(const uint8_t *p, size_t n, cons_signer_state *st,
                                     util_err *err);

void cons_signer_close(cons_signer *s);

#endif
