/* Ethereum addresses, recoverable ECDSA and EIP-55 hex on libsecp256k1
 * (rollup/eth/ecdsa.h). The context is chain/crypto's shared one. */
#include "rollup/eth/ecdsa.h"

#include <openssl/crypto.h>
#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_recovery.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "rollup/eth/keccak.h"
#include "util/hex.h"

static void addr_from_pubkey(rollup_eth_addr *out, const secp256k1_pubkey *pk)
{
    uint8_t ser[65];
    size_t len = sizeof ser;
    uint8_t h[32];
    /* Cannot fail for a parsed key and a 65-byte buffer. */
    (void)secp256k1_ec_pubkey_serialize(chain_secp_ctx(), ser, &len, pk, SECP256K1_EC_UNCOMPRESSED);
    rollup_keccak256(h, ser + 1, 64);
    memcpy(out->b, h + 12, ROLLUP_ETH_ADDR_LEN);
}

int rollup_eth_addr_from_seckey(rollup_eth_addr *out, const uint8_t sk[32], util_err *err)
{
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(chain_secp_ctx(), &pk, sk))
        return util_err_set(err, UTIL_EINVAL, "invalid secret key");
    addr_from_pubkey(out, &pk);
    return 0;
}

int rollup_eth_addr_from_xonly(rollup_eth_addr *out, const uint8_t xonly[32], util_err *err)
{
    /* The compressed form 0x02 || x names the even-y point, as BIP-340 does. */
    uint8_t comp[33];
    secp256k1_pubkey pk;
    comp[0] = 0x02;
    memcpy(comp + 1, xonly, 32);
    if (!secp256k1_ec_pubkey_parse(chain_secp_ctx(), &pk, comp, sizeof comp))
        return util_err_set(err, UTIL_EINVAL, "public key is not on the curve");
    addr_from_pubkey(out, &pk);
    return 0;
}

int rollup_eth_seckey_even(uint8_t out[32], const uint8_t sk[32], util_err *err)
{
    secp256k1_keypair kp;
    secp256k1_xonly_pubkey xo;
    int parity = 0;
    int ok = secp256k1_keypair_create(chain_secp_ctx(), &kp, sk) &&
             secp256k1_keypair_xonly_pub(chain_secp_ctx(), &xo, &parity, &kp);
    OPENSSL_cleanse(&kp, sizeof kp);
    if (!ok) return util_err_set(err, UTIL_EINVAL, "invalid secret key");
    uint8_t tmp[32];
    memcpy(tmp, sk, 32);
    /* The negation of a valid key is valid: this cannot fail. */
    if (parity && !secp256k1_ec_seckey_negate(chain_secp_ctx(), tmp)) {
        OPENSSL_cleanse(tmp, sizeof tmp);
        return util_err_set(err, UTIL_EINVAL, "invalid secret key");
    }
    memcpy(out, tmp, 32);
    OPENSSL_cleanse(tmp, sizeof tmp);
    return 0;
}

int rollup_eth_sign(uint8_t sig[ROLLUP_ETH_SIG_LEN], const uint8_t digest[32], const uint8_t sk[32],
                    util_err *err)
{
    secp256k1_ecdsa_recoverable_signature rs;
    int recid = 0;
    /* NULL nonce function: RFC 6979. libsecp256k1 always signs with low s. */
    if (!secp256k1_ecdsa_sign_recoverable(chain_secp_ctx(), &rs, digest, sk, NULL, NULL))
        return util_err_set(err, UTIL_EINVAL, "invalid secret key");
    (void)secp256k1_ecdsa_recoverable_signature_serialize_compact(chain_secp_ctx(), sig, &recid,
                                                                  &rs);
    sig[64] = (uint8_t)(27 + recid);
    return 0;
}

int rollup_eth_recover(rollup_eth_addr *out, const uint8_t digest[32],
                       const uint8_t sig[ROLLUP_ETH_SIG_LEN], util_err *err)
{
    const secp256k1_context *ctx = chain_secp_ctx();
    if (sig[64] != 27 && sig[64] != 28)
        return util_err_set(err, UTIL_EINVAL, "signature v is %u, not 27 or 28", sig[64]);
    secp256k1_ecdsa_recoverable_signature rs;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, sig, sig[64] - 27))
        return util_err_set(err, UTIL_EINVAL, "signature r or s is not below the curve order");
    /* EIP-2: s in the upper half is a malleated copy; normalize says whether
     * it had to lower s. */
    secp256k1_ecdsa_signature plain;
    (void)secp256k1_ecdsa_recoverable_signature_convert(ctx, &plain, &rs);
    if (secp256k1_ecdsa_signature_normalize(ctx, NULL, &plain))
        return util_err_set(err, UTIL_EINVAL, "signature s is in the upper half of the order");
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, digest))
        return util_err_set(err, UTIL_EINVAL, "signature recovers no public key");
    addr_from_pubkey(out, &pk);
    return 0;
}

void rollup_eth_addr_hex(char out[ROLLUP_ETH_ADDR_HEX_LEN + 1], const rollup_eth_addr *a)
{
    char lower[2 * ROLLUP_ETH_ADDR_LEN + 1];
    uint8_t h[32];
    util_hex_encode(lower, a->b, ROLLUP_ETH_ADDR_LEN);
    rollup_keccak256(h, lower, 2 * ROLLUP_ETH_ADDR_LEN);
    out[0] = '0';
    out[1] = 'x';
    for (size_t i = 0; i < 2 * ROLLUP_ETH_ADDR_LEN; i++) {
        unsigned nib = (i % 2 == 0) ? (unsigned)(h[i / 2] >> 4) : (unsigned)(h[i / 2] & 0xf);
        char c = lower[i];
        if (c >= 'a' && c <= 'f' && nib >= 8) c = (char)(c - 'a' + 'A');
        out[2 + i] = c;
    }
    out[ROLLUP_ETH_ADDR_HEX_LEN] = '\0';
}

int rollup_eth_addr_parse(rollup_eth_addr *a, const char *s, util_err *err)
{
    if (strncmp(s, "0x", 2) != 0 || strlen(s) != ROLLUP_ETH_ADDR_HEX_LEN)
        return util_err_set(err, UTIL_EINVAL, "address must be 0x and 40 hex digits");
    rollup_eth_addr tmp;
    if (util_hex_decode_exact(tmp.b, ROLLUP_ETH_ADDR_LEN, s + 2))
        return util_err_set(err, UTIL_EINVAL, "address must be 0x and 40 hex digits");
    int lower = 0, upper = 0;
    for (const char *c = s + 2; *c; c++) {
        if (*c >= 'a' && *c <= 'f') lower = 1;
        if (*c >= 'A' && *c <= 'F') upper = 1;
    }
    if (lower && upper) {
        char want[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        rollup_eth_addr_hex(want, &tmp);
        if (strcmp(want, s) != 0)
            return util_err_set(err, UTIL_EINVAL, "address %s has a wrong EIP-55 checksum", s);
    }
    *a = tmp;
    return 0;
}
