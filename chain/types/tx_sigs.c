/* Signature checks of many transactions (chain/types/tx_sigs.h). */
#include "chain/types/tx_sigs.h"

#include <stdlib.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "chain/crypto/schnorr_batch.h"

/* Parsed sender keys, direct-mapped: a chain's senders recur, and parsing
 * and lifting an x-only key costs about a fifth of a check. Sized so that a
 * few thousand active senders mostly keep their own slot; a collision, even
 * a chosen one, only costs a parse. */
#define KEY_SLOTS 8192

typedef struct key_slot {
    uint8_t raw[32];
    int state;  /* 0 empty, 1 parsed, -1 not a key */
    int lifted; /* bpk filled (only when state == 1) */
    chain_xonly pk;
    chain_bpk bpk;
} key_slot;

/* One call's inputs for chain_verify_many. The keys are copies, not pointers
 * into the slots: two senders of one call may share a slot, and a pointer
 * would then pair a signature with the other sender's key. */
typedef struct sig_batch {
    chain_tx *tx[CHAIN_TX_SIGS_MAX];
    const uint8_t *sig[CHAIN_TX_SIGS_MAX], *msg[CHAIN_TX_SIGS_MAX];
    const chain_bpk *pk[CHAIN_TX_SIGS_MAX];
    const chain_xonly *xo[CHAIN_TX_SIGS_MAX];
    uint8_t msgs[CHAIN_TX_SIGS_MAX][32];
    chain_bpk keys[CHAIN_TX_SIGS_MAX];
    chain_xonly xos[CHAIN_TX_SIGS_MAX];
    uint8_t ok[CHAIN_TX_SIGS_MAX];
} sig_batch;

struct chain_sig_cache {
    key_slot slot[KEY_SLOTS];
    sig_batch batch;
};

chain_sig_cache *chain_sig_cache_new(void)
{
    return calloc(1, sizeof(chain_sig_cache));
}

void chain_sig_cache_free(chain_sig_cache *c)
{
    free(c);
}

/* The slot of sender s, (re)filled with its parse. */
static key_slot *key_of(chain_sig_cache *c, const uint8_t s[32])
{
    key_slot *k = &c->slot[(s[0] | (unsigned)s[1] << 8 | (unsigned)s[2] << 16) % KEY_SLOTS];
    if (k->state == 0 || memcmp(k->raw, s, 32) != 0) {
        memcpy(k->raw, s, 32);
        k->state = chain_xonly_parse(&k->pk, s) ? 1 : -1;
        k->lifted = 0;
    }
    return k;
}

/* chain_tx_check_sig's verdict and flag, with the sender's parsed key from
 * the cache when there is one. */
static int check_one(chain_tx *tx, const uint8_t gh[32], chain_sig_cache *c)
{
    if (!c) return chain_tx_check_sig(tx, gh);
    uint8_t msg[32];
    if (chain_tx_sighash(tx, gh, msg)) return 0;
    key_slot *k = key_of(c, tx->sender);
    if (k->state != 1 || !chain_verify_xonly(tx->sig, msg, &k->pk)) return 0;
    tx->sig_checked = 1;
    return 1;
}

size_t chain_tx_check_sigs(chain_tx *const *txs, size_t n, const uint8_t genesis_hash[32],
                           chain_sig_cache *c)
{
    size_t valid = 0, m = 0;
    /* No genesis hash: chain_tx_check_sig refuses every one. */
    if (!genesis_hash) c = NULL;
    sig_batch *sb = c ? &c->batch : NULL;
    for (size_t i = 0; i < n; i++) {
        chain_tx *tx = txs[i];
        if (tx->sig_checked == 1) {
            valid++;
            continue;
        }
        key_slot *k = c ? key_of(c, tx->sender) : NULL;
        if (k && k->state == 1 && !k->lifted) k->lifted = chain_bpk_lift(&k->bpk, tx->sender);
        if (!k || k->state != 1 || !k->lifted || m == CHAIN_TX_SIGS_MAX ||
            chain_tx_sighash(tx, genesis_hash, sb->msgs[m])) {
            /* Not batchable: its own check gives the verdict. */
            valid += (size_t)check_one(tx, genesis_hash, c);
            continue;
        }
        sb->keys[m] = k->bpk;
        sb->xos[m] = k->pk;
        sb->tx[m] = tx;
        sb->sig[m] = tx->sig;
        sb->msg[m] = sb->msgs[m];
        sb->pk[m] = &sb->keys[m];
        sb->xo[m] = &sb->xos[m];
        m++;
    }
    if (m > 0) {
        /* The batch, or each one again when it fails: libsecp256k1's
         * verdicts either way. */
        valid += chain_verify_many(sb->sig, sb->msg, sb->pk, sb->xo, m, sb->ok);
        for (size_t i = 0; i < m; i++)
            if (sb->ok[i]) sb->tx[i]->sig_checked = 1;
    }
    return valid;
}
