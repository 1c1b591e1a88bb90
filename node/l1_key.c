/* The node's L1 account key, DATADIR/l1_key.json: the key files' code path
 * (node/validator_key.h) with an Ethereum address as the derived field
 * (node/rollup.h). */
#include <limits.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "node/rollup.h"
#include "node/validator_key.h"

static void derive_eth(const uint8_t pubkey[CHAIN_PUBKEY_LEN], char *out)
{
    rollup_eth_addr a;
    if (rollup_eth_addr_from_xonly(&a, pubkey, NULL)) {
        snprintf(out, 8, "invalid");
        return;
    }
    rollup_eth_addr_hex(out, &a);
}

static const node_key_kind l1_key_kind = {NODE_L1_KEY_FILE, NODE_L1_KEY_TYPE, "L1 key",
                                          "ethAddress", derive_eth};

int node_l1_key_load_or_create(const util_env *env, const char *datadir, uint8_t sk[32],
                               rollup_eth_addr *addr, int *created, util_err *err)
{
    chain_keypair kp;
    int rc = node_keyfile_load_or_create(&l1_key_kind, env, datadir, &kp, created, err);
    if (rc) return rc;
    uint8_t even[32];
    rc = rollup_eth_seckey_even(even, kp.seckey, err);
    if (!rc) rc = rollup_eth_addr_from_xonly(addr, kp.pubkey, err);
    chain_keypair_clear(&kp);
    if (!rc) memcpy(sk, even, 32);
    OPENSSL_cleanse(even, sizeof even);
    return rc;
}
