/* libFuzzer target: chain_tx_check_sigs (chain/types/tx_sigs.h) flags exactly
 * the transactions chain_tx_check_sig finds valid, and returns how many, for
 * any mix of transactions and whatever its key cache holds from earlier
 * inputs (the cache is kept across inputs on purpose: its contents may only
 * change the cost, never a verdict). The input is a list of items, each
 * opened by a mode byte:
 *   0: a signed transfer from a fixed pool (next byte: which);
 *   1: a pool transfer with a bit of its signature flipped (next byte: where);
 *   2: a pool transfer whose sender is a twin: its last byte XORed with the
 *      next byte, so it shares a cache slot with the real sender;
 *   3: a pool transfer whose sender is the next 32 bytes (often not a key);
 *   4: a pool transfer with another nonce (signed over another message);
 *   5: a pool transfer already flagged (skipped, counted);
 *   6: a copy of the previous item.
 * Up to 300 items, past CHAIN_TX_SIGS_MAX, so the overflow path runs too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "chain/types/tx.h"
#include "chain/types/tx_sigs.h"
#include "util/err.h"

#define POOL 8
#define MAXN 300

static chain_tx pool[POOL];
static chain_tx txs[MAXN];
static uint8_t gh[32];
static chain_sig_cache *cache;
static int ready;

static void init(void)
{
    memset(gh, 0x47, sizeof gh);
    for (uint32_t i = 0; i < POOL; i++) {
        chain_keypair kp;
        if (chain_keypair_dev(&kp, i % 5)) abort();
        chain_tx *t = &pool[i];
        memset(t, 0, sizeof *t);
        t->version = CHAIN_TX_VERSION;
        strcpy(t->chain_id, "fuzz");
        t->type = CHAIN_TX_TRANSFER;
        t->nonce = i;
        t->gas_limit = CHAIN_GAS_TRANSFER;
        t->gas_price = 1;
        t->body.transfer.amount = i + 1;
        util_err err = {0};
        if (chain_tx_sign(t, &kp, gh, &err)) abort();
        t->sig_checked = 0;
        chain_keypair_clear(&kp);
    }
    cache = chain_sig_cache_new();
    if (!cache) abort();
    ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) init();
    size_t n = 0, at = 0;
    int flagged[MAXN];
    while (at < size && n < MAXN) {
        uint8_t mode = data[at++] % 7;
        uint8_t k = at < size ? data[at++] : 0;
        chain_tx *t = &txs[n];
        if (mode == 6 && n > 0) {
            txs[n] = txs[n - 1]; /* transfers own no heap memory */
            flagged[n] = flagged[n - 1];
            n++;
            continue;
        }
        *t = pool[k % POOL];
        flagged[n] = 0;
        if (mode == 1) {
            t->sig[(k >> 3) % 64] ^= (uint8_t)(1u << (k & 7));
        } else if (mode == 2) {
            t->sender[31] ^= k ? k : 1;
        } else if (mode == 3) {
            size_t m = size - at < 32 ? size - at : 32;
            memset(t->sender, 0, 32);
            memcpy(t->sender, data + at, m);
            at += m;
        } else if (mode == 4) {
            t->nonce += 1u + k;
        } else if (mode == 5) {
            t->sig_checked = 1;
            flagged[n] = 1;
        }
        n++;
    }
    /* The single check's verdicts, on copies. */
    int want[MAXN];
    size_t nwant = 0;
    for (size_t i = 0; i < n; i++) {
        chain_tx c = txs[i];
        want[i] = flagged[i] ? 1 : chain_tx_check_sig(&c, gh);
        nwant += (size_t)want[i];
    }
    chain_tx *p[MAXN];
    for (size_t i = 0; i < n; i++)
        p[i] = &txs[i];
    size_t got = chain_tx_check_sigs(p, n, gh, cache);
    if (got != nwant) abort();
    for (size_t i = 0; i < n; i++)
        if (txs[i].sig_checked != want[i]) abort();
    return 0;
}
