/* The signer state (consensus/signer.h): the double-sign check, the state
 * file's encoding, and signing that records the state before it hands the
 * signature out. */
#include "consensus/signer.h"

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/crc32c.h"

/* magic(8) height(8) round(4) step(1) reserved(1) digest(32) sig(64) crc(4) */
static const uint8_t MAGIC[8] = {'O', 'L', 'S', 'I', 'G', 'N', 0, 1};
#define MAX_STATE_FILE 4096u

struct cons_signer {
    const util_env *env;
    char *path;
    cons_signer_state st;
};

static const char *step_name(uint8_t step)
{
    switch (step) {
    case CONS_SIGN_PROPOSAL: return "proposal";
    case CONS_SIGN_PREVOTE: return "prevote";
    case CONS_SIGN_PRECOMMIT: return "precommit";
    default: return "none";
    }
}

int cons_signer_allow(const cons_signer_state *st, uint64_t h, uint32_t r, uint8_t step,
                      const uint8_t digest[32], util_err *err)
{
    if (h == 0 || step < CONS_SIGN_PROPOSAL || step > CONS_SIGN_PRECOMMIT) {
        util_err_fill(err, UTIL_EINVAL, "regression: nothing is signed at height %llu step %u",
                      (unsigned long long)h, (unsigned)step);
        return CONS_SIGNER_REGRESSION;
    }
    int cmp = h != st->height    ? (h < st->height ? -1 : 1)
              : r != st->round   ? (r < st->round ? -1 : 1)
              : step != st->step ? (step < st->step ? -1 : 1)
                                 : 0;
    if (cmp > 0) return CONS_SIGNER_FRESH;
    if (cmp < 0) {
        util_err_fill(err, UTIL_ESTATE,
                      "regression: %s at height %llu round %u, after signing %s at height %llu "
                      "round %u",
                      step_name(step), (unsigned long long)h, (unsigned)r, step_name(st->step),
                      (unsigned long long)st->height, (unsigned)st->round);
        return CONS_SIGNER_REGRESSION;
    }
    if (memcmp(digest, st->digest, 32) == 0) return CONS_SIGNER_SAME;
    util_err_fill(err, UTIL_ESTATE,
                  "conflict: a different %s was already signed at height %llu round %u",
                  step_name(step), (unsigned long long)h, (unsigned)r);
    return CONS_SIGNER_CONFLICT;
}

void cons_signer_encode(const cons_signer_state *st, uint8_t out[CONS_SIGNER_FILE_SIZE])
{
    memcpy(out, MAGIC, 8);
    util_put_u64le(out + 8, st->height);
    util_put_u32le(out + 16, st->round);
    out[20] = st->step;
    out[21] = 0;
    memcpy(out + 22, st->digest, 32);
    memcpy(out + 54, st->sig, 64);
    util_put_u32le(out + 118, util_crc32c(0, out, 118));
}

int cons_signer_decode(const uint8_t *p, size_t n, cons_signer_state *st, util_err *err)
{
    if (n != CONS_SIGNER_FILE_SIZE || memcmp(p, MAGIC, 8) != 0)
        return util_err_set(err, UTIL_EINVAL, "not a signer state (size %zu)", n);
    if (util_get_u32le(p + 118) != util_crc32c(0, p, 118))
        return util_err_set(err, UTIL_EINVAL, "signer state checksum mismatch");
    uint8_t step = p[20];
    uint64_t h = util_get_u64le(p + 8);
    if (step > CONS_SIGN_PRECOMMIT || p[21] != 0 || (step == 0) != (h == 0))
        return util_err_set(err, UTIL_EINVAL, "signer state has step %u at height %llu",
                            (unsigned)step, (unsigned long long)h);
    st->height = h;
    st->round = util_get_u32le(p + 16);
    st->step = step;
    memcpy(st->digest, p + 22, 32);
    memcpy(st->sig, p + 54, 64);
    return 0;
}

static int save(cons_signer *s, const cons_signer_state *st, util_err *err)
{
    uint8_t buf[CONS_SIGNER_FILE_SIZE];
    cons_signer_encode(st, buf);
    return util_env_replace_file(s->env, s->path, buf, sizeof buf, 0600, err);
}

void cons_signer_close(cons_signer *s)
{
    if (!s) return;
    free(s->path);
    free(s);
}

int cons_signer_open(const util_env *env, const char *path, int flags, cons_signer **out,
                     util_err *err)
{
    cons_signer *s = calloc(1, sizeof *s);
    if (s) s->path = strdup(path);
    if (!s || !s->path) {
        cons_signer_close(s);
        return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    s->env = env;
    char *data = NULL;
    size_t n = 0;
    unsigned mode = 0;
    int rc = util_env_read_file(env, path, MAX_STATE_FILE, &data, &n, &mode, err);
    if (rc == UTIL_ENOTFOUND && (flags & CONS_SIGNER_CREATE)) {
        util_err_clear(err);
        rc = save(s, &s->st, err);
    } else if (rc == 0) {
        rc = cons_signer_decode((const uint8_t *)data, n, &s->st, err);
    }
    free(data);
    if (rc) {
        util_err_prefix(err, "signer state %s: ", path);
        cons_signer_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

const cons_signer_state *cons_signer_get(const cons_signer *s)
{
    return &s->st;
}

int cons_signer_sign(cons_signer *s, uint64_t h, uint32_t r, uint8_t step, const uint8_t digest[32],
                     cons_sign_fn fn, void *ctx, uint8_t sig[64], util_err *err)
{
    int v = cons_signer_allow(&s->st, h, r, step, digest, err);
    if (v == CONS_SIGNER_SAME) {
        memcpy(sig, s->st.sig, 64);
        return 0;
    }
    if (v != CONS_SIGNER_FRESH) {
        util_err_prefix(err, "refusing to sign: ");
        return h == 0 || step < CONS_SIGN_PROPOSAL || step > CONS_SIGN_PRECOMMIT ? UTIL_EINVAL
                                                                                 : UTIL_ESTATE;
    }
    cons_signer_state next = {.height = h, .round = r, .step = step};
    memcpy(next.digest, digest, 32);
    int rc = fn(ctx, digest, next.sig, err);
    if (rc) return rc;
    rc = save(s, &next, err);
    if (rc) {
        util_err_prefix(err,
                        "refusing to sign %s at height %llu round %u: signer state not saved: ",
                        step_name(step), (unsigned long long)h, (unsigned)r);
        return rc;
    }
    s->st = next;
    memcpy(sig, next.sig, 64);
    return 0;
}
