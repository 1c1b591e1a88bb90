/* The CLI's light-client checks of a header against a trusted genesis, and
 * of a state proof against that header (cli/light.h, docs/proofs.md). */
#include "cli/light.h"

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/blockexec.h"
#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "cli/cli.h"
#include "util/hex.h"

int cli_light_genesis(chain_genesis *g, const char *path, util_err *err)
{
    if (path) return chain_genesis_load_file(g, path, err);
    const char *j = chain_genesis_devnet_json();
    return chain_genesis_parse(g, j, strlen(j), err);
}

int cli_light_verify(const chain_genesis *g, const chain_header *h, const chain_commit *commit,
                     util_err *err)
{
    if (strcmp(h->chain_id, g->chain_id) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header is for chain '%s', the trusted genesis is for '%s' (give "
                            "that network's genesis with --genesis FILE)",
                            h->chain_id, g->chain_id);
    if (memcmp(h->validators_hash, g->validators_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header's validatorsHash is not the trusted genesis validator "
                            "set's: it names validators this chain does not have");
    if (memcmp(h->next_validators_hash, g->validators_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header's nextValidatorsHash is not the trusted genesis validator "
                            "set's (the set does not change)");
    if (memcmp(h->consensus_params_hash, g->params_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header's consensusParamsHash is not the trusted genesis "
                            "parameters'");
    uint8_t id[32];
    chain_header_hash(h, id);
    if (h->height == 0) {
        /* Nobody signs block 0: the genesis defines it, state root included,
         * so it is rebuilt here and compared whole. */
        chain_header b0;
        uint8_t want[32];
        int rc = chain_genesis_block0(g, &b0, err);
        if (rc) return rc;
        chain_header_hash(&b0, want);
        if (memcmp(id, want, 32) != 0)
            return util_err_set(err, UTIL_EINVAL,
                                "the header claims to be block 0 but is not the trusted "
                                "genesis' block 0 (its state root or another field differs)");
        return 0;
    }
    util_err e = {0};
    if (chain_blockexec_verify_commit(g, h->height, id, commit, &e)) {
        char hex[65];
        util_hex_encode(hex, id, 32);
        return util_err_set(err, UTIL_EINVAL,
                            "no valid commit by more than 2/3 of the validators for header "
                            "0x%.16s... at height %llu: %s",
                            hex, (unsigned long long)h->height, e.msg);
    }
    return 0;
}

/* --- state proofs ---------------------------------------------------------- */

#define HEADER_RAW_MAX (64 * 1024)
#define PROOF_MAX (CHAIN_SMT_MAX_DEPTH * 32 + 128)
/* round, count and CHAIN_MAX_VALIDATORS x (index varint, signature). */
#define COMMIT_RAW_MAX (4 + 1 + CHAIN_MAX_VALIDATORS * (1 + 64))
#define VALUE_MAX (1024 * 1024)

/* Decodes a "0x" hex field into a malloc'd buffer. */
static int get_bytes(const json_t *o, const char *key, size_t max, uint8_t **out, size_t *n,
                     util_err *err)
{
    const char *s = cli_json_str(o, key, err);
    if (!s) return UTIL_EIO;
    if (strncmp(s, "0x", 2) != 0 || util_hex_decode_alloc(s, max, out, n))
        return util_err_set(err, UTIL_EIO,
                            "node answer: '%s' is not 0x-prefixed hex of at most "
                            "%zu bytes",
                            key, max);
    return 0;
}

/* The header: decodes headerRaw, checks it hashes to headerHash and agrees
 * with the JSON header shown. */
static int check_header(const json_t *res, chain_header *h, uint8_t hash[32], util_err *err)
{
    uint8_t *raw = NULL, want[32];
    size_t n = 0;
    int rc = get_bytes(res, "headerRaw", HEADER_RAW_MAX, &raw, &n, err);
    if (rc) return rc;
    rc = chain_header_decode(h, raw, n, err);
    free(raw);
    if (rc) {
        util_err_prefix(err, "headerRaw does not decode: ");
        return UTIL_EINVAL;
    }
    if ((rc = cli_json_hex32(res, "headerHash", want, err))) return rc;
    chain_header_hash(h, hash);
    if (memcmp(hash, want, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "headerRaw does not hash to headerHash");
    const json_t *jh = json_object_get(res, "header");
    uint64_t height;
    uint8_t root[32];
    if (!json_is_object(jh)) return util_err_set(err, UTIL_EIO, "node answer: no 'header'");
    if ((rc = cli_json_u64(jh, "height", &height, err))) return rc;
    if (height != h->height)
        return util_err_set(err, UTIL_EINVAL, "header height %llu differs from headerRaw's %llu",
                            (unsigned long long)height, (unsigned long long)h->height);
    if ((rc = cli_json_hex32(jh, "stateRoot", root, err))) return rc;
    if (memcmp(root, h->state_root, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "header stateRoot differs from headerRaw's");
    return 0;
}

/* The commit the node says finalised the header: decoded from commitRaw and
 * checked against the trusted genesis's validators, not the node's word. */
static int check_commit(const json_t *res, const chain_genesis *g, const chain_header *h,
                        util_err *err)
{
    uint8_t *raw = NULL;
    size_t n = 0;
    if (!json_object_get(res, "commitRaw"))
        return util_err_set(err, UTIL_EINVAL,
                            "the node sent no commit for the header (no 'commitRaw'), so nothing "
                            "shows that the validators signed it");
    int rc = get_bytes(res, "commitRaw", COMMIT_RAW_MAX, &raw, &n, err);
    if (rc) return rc;
    chain_commit c;
    util_rd r;
    util_rd_init(&r, raw, n);
    rc = chain_commit_read(&c, &r, err);
    if (!rc && util_rd_end(&r)) rc = util_err_set(err, UTIL_EINVAL, "trailing bytes");
    free(raw);
    if (rc) {
        util_err_prefix(err, "commitRaw does not decode: ");
        return UTIL_EINVAL;
    }
    return cli_light_verify(g, h, &c, err);
}

int cli_light_check_proof(const json_t *res, const chain_genesis *g, const uint8_t *key,
                          size_t klen, const char *what, cli_proven *out, util_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_header(res, &out->h, out->hash, err);
    if (!rc) rc = check_commit(res, g, &out->h, err);
    if (rc) return rc;

    uint8_t path[32], npath[32], vh[32], *nk = NULL;
    size_t nkl = 0;
    chain_sha256(path, key, klen);
    if ((rc = get_bytes(res, "stateKey", 256, &nk, &nkl, err))) return rc;
    int same = nkl == klen && memcmp(nk, key, klen) == 0;
    free(nk);
    if (!same) return util_err_set(err, UTIL_EINVAL, "stateKey is not %s", what);
    if ((rc = cli_json_hex32(res, "path", npath, err))) return rc;
    if (memcmp(npath, path, 32) != 0)
        return util_err_set(err, UTIL_EINVAL, "path is not SHA-256(stateKey)");

    const json_t *jv = json_object_get(res, "value");
    if (!jv) return util_err_set(err, UTIL_EIO, "node answer: no 'value'");
    if (!json_is_null(jv)) {
        if ((rc = get_bytes(res, "value", VALUE_MAX, &out->value, &out->vlen, err))) return rc;
        chain_sha256(vh, out->value, out->vlen);
        out->present = 1;
    }
    uint8_t *raw = NULL;
    size_t n = 0;
    chain_smt_proof *proof = NULL;
    if ((rc = get_bytes(res, "proof", PROOF_MAX, &raw, &n, err))) goto fail;
    proof = malloc(sizeof *proof);
    if (!proof) {
        rc = util_err_set(err, UTIL_ENOMEM, "out of memory");
        goto fail;
    }
    if (chain_smt_proof_decode(proof, raw, n, err)) {
        util_err_prefix(err, "proof does not decode: ");
        rc = UTIL_EINVAL;
    } else if (chain_smt_verify(out->h.state_root, path, out->present ? vh : NULL, proof, err)) {
        util_err_prefix(err, "proof does not hold against the state root: ");
        rc = UTIL_EINVAL;
    }
fail:
    free(raw);
    free(proof);
    if (rc) cli_proven_free(out);
    return rc;
}

void cli_proven_free(cli_proven *p)
{
    free(p->value);
    p->value = NULL;
    p->vlen = 0;
    p->present = 0;
}
