/* Output roots and the validators' signatures over them (rollup/output.h,
 * docs/rollup.md "Output roots"): the hash the OutputOracle stores, the
 * digest its ecrecover checks, and the signature set a proposer posts. The
 * byte layouts here and in OutputOracle.sol must agree exactly. */
#include "rollup/output.h"

#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/exec/bridge.h"
#include "rollup/eth/keccak.h"
#include "util/bytes.h"

static const char OUTPUT_TYPE[] =
    "OpenLedger.Output(bytes32 l2Genesis,uint64 l2Height,bytes32 outputRoot)";

void rollup_output_root(uint8_t out[32], const uint8_t state_root[32], const uint8_t block_hash[32],
                        const uint8_t withdrawals_root[32])
{
    uint8_t m[1 + 96];
    m[0] = ROLLUP_OUTPUT_VERSION;
    memcpy(m + 1, state_root, 32);
    memcpy(m + 33, block_hash, 32);
    memcpy(m + 65, withdrawals_root, 32);
    chain_hash_tagged(out, ROLLUP_TAG_OUTPUT, m, sizeof m);
}

int rollup_output_root_at(chain_store *st, uint64_t height, uint8_t root[32], uint8_t id[32],
                          util_err *err)
{
    uint8_t bid[32], wroot[32];
    chain_block b;
    memset(&b, 0, sizeof b);
    int rc = chain_store_block_id_at(st, height, bid, err);
    if (!rc) rc = chain_store_get_block(st, bid, &b, NULL, err);
    if (rc) return rc;
    rc = chain_bridge_wroot_at(st, height, wroot, err);
    if (!rc) {
        rollup_output_root(root, b.h.state_root, bid, wroot);
        if (id) memcpy(id, bid, 32);
    }
    chain_block_free(&b);
    return rc;
}

void rollup_output_digest(uint8_t out[32], const uint8_t genesis_hash[32], uint64_t height,
                          const uint8_t root[32])
{
    uint8_t m[128];
    rollup_keccak256(m, OUTPUT_TYPE, sizeof OUTPUT_TYPE - 1);
    memcpy(m + 32, genesis_hash, 32);
    memset(m + 64, 0, 24); /* uint256(height): big-endian, zero-extended */
    util_put_u64be(m + 88, height);
    memcpy(m + 96, root, 32);
    rollup_keccak256(out, m, sizeof m);
}

int rollup_output_sign(uint8_t sig[ROLLUP_ETH_SIG_LEN], const uint8_t digest[32],
                       const uint8_t validator_sk[32], util_err *err)
{
    uint8_t even[32];
    int rc = rollup_eth_seckey_even(even, validator_sk, err);
    if (!rc) rc = rollup_eth_sign(sig, digest, even, err);
    /* Not memset: the compiler may drop a store to a dead buffer. */
    volatile uint8_t *v = even;
    for (size_t i = 0; i < sizeof even; i++)
        v[i] = 0;
    return rc;
}

int rollup_validator_addrs(const chain_genesis *g, rollup_eth_addr *addrs, util_err *err)
{
    for (size_t i = 0; i < g->nval; i++) {
        int rc = rollup_eth_addr_from_xonly(&addrs[i], g->vals[i].pubkey, err);
        if (rc) {
            util_err_prefix(err, "validator %zu: ", i);
            return rc;
        }
    }
    return 0;
}

void rollup_sigset_init(rollup_sigset *s, const uint8_t digest[32], const chain_genesis *g)
{
    memset(s, 0, sizeof *s);
    memcpy(s->digest, digest, 32);
    for (size_t i = 0; i < g->nval; i++)
        s->total += g->vals[i].power; /* the genesis checks the sum fits */
}

int rollup_sigset_add(rollup_sigset *s, const chain_genesis *g,
                      const uint8_t sig[ROLLUP_ETH_SIG_LEN], util_err *err)
{
    rollup_eth_addr who;
    int rc = rollup_eth_recover(&who, s->digest, sig, err);
    if (rc) {
        util_err_prefix(err, "output signature: ");
        return UTIL_EINVAL;
    }
    for (size_t i = 0; i < s->n; i++)
        if (memcmp(s->signer[i].b, who.b, ROLLUP_ETH_ADDR_LEN) == 0) return 0;
    rollup_eth_addr addrs[CHAIN_MAX_VALIDATORS];
    rc = rollup_validator_addrs(g, addrs, err);
    if (rc) return rc;
    for (size_t i = 0; i < g->nval; i++) {
        if (memcmp(addrs[i].b, who.b, ROLLUP_ETH_ADDR_LEN) != 0) continue;
        if (s->n >= CHAIN_MAX_VALIDATORS)
            return util_err_set(err, UTIL_EINVAL, "output signature: set is full");
        s->signer[s->n] = who;
        memcpy(s->sig[s->n], sig, ROLLUP_ETH_SIG_LEN);
        s->n++;
        s->power += g->vals[i].power;
        return 0;
    }
    char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(hex, &who);
    return util_err_set(err, UTIL_EINVAL, "output signature: signer %s is not a validator", hex);
}

int rollup_sigset_quorum(const rollup_sigset *s)
{
    /* 3 * power > 2 * total, as the contract computes it in uint256; in 128
     * bits neither side can overflow. */
    return (unsigned __int128)s->power * 3 > (unsigned __int128)s->total * 2;
}

size_t rollup_sigset_pack(const rollup_sigset *s, uint8_t *out)
{
    size_t order[CHAIN_MAX_VALIDATORS];
    for (size_t i = 0; i < s->n; i++) {
        size_t j = i;
        while (j > 0 &&
               memcmp(s->signer[order[j - 1]].b, s->signer[i].b, ROLLUP_ETH_ADDR_LEN) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (size_t i = 0; i < s->n; i++)
        memcpy(out + i * ROLLUP_ETH_SIG_LEN, s->sig[order[i]], ROLLUP_ETH_SIG_LEN);
    return s->n * ROLLUP_ETH_SIG_LEN;
}
