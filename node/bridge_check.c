/* The rules a validator checks against its own view of the L1 before it
 * votes for a block with deposits (docs/rollup.md, "DEPOSIT and WITHDRAW"):
 * extra, altered or unconfirmed deposits, a deposit left out past the
 * grace, and no L1 view at all. Pure: the view is passed in, so the rules
 * are tested without an L1 (tests/unit/node/test_bridge_check.c). */
#include <stdio.h>
#include <string.h>

#include "node/bridge.h"
#include "util/hex.h"

void node_bridge_deposit_body(chain_tx_deposit *d, const rollup_deposit *dep)
{
    memset(d, 0, sizeof *d);
    d->l1_block = dep->l1_block;
    memcpy(d->l1_block_hash, dep->l1_block_hash, 32);
    memcpy(d->l1_tx_hash, dep->l1_tx_hash, 32);
    d->log_index = dep->log_index;
    memcpy(d->l1_from, dep->from.b, 20);
    memcpy(d->to.b, dep->l2_recipient, 20);
    d->amount = dep->amount;
}

static const rollup_deposit *find(const node_bridge_view *v, uint64_t nonce)
{
    if (!v->ndeps || nonce < v->deps[0].nonce) return NULL;
    uint64_t i = nonce - v->deps[0].nonce;
    if (i >= v->ndeps || v->deps[i].nonce != nonce) return NULL;
    return &v->deps[i];
}

/* The first field of the block's deposit that differs from the log. */
static const char *differs(const chain_tx_deposit *got, const chain_tx_deposit *want)
{
    if (got->l1_block != want->l1_block) return "l1Block";
    if (memcmp(got->l1_block_hash, want->l1_block_hash, 32)) return "l1BlockHash";
    if (memcmp(got->l1_tx_hash, want->l1_tx_hash, 32)) return "l1TxHash";
    if (got->log_index != want->log_index) return "logIndex";
    if (memcmp(got->l1_from, want->l1_from, 20)) return "from";
    if (memcmp(got->to.b, want->to.b, 20)) return "to";
    if (got->amount != want->amount) return "amount";
    return NULL;
}

int node_bridge_check_deposits(const node_bridge_view *v, const chain_bridge_state *st,
                               const chain_block *b, char *why, size_t whylen)
{
    size_t nd = 0;
    while (nd < b->ntx && b->txs[nd].type == CHAIN_TX_DEPOSIT)
        nd++;
    if (nd && !v->has_l1) {
        snprintf(why, whylen,
                 "deposit %llu: this validator has no view of the L1 (no --l1, or no answer "
                 "from it yet) and votes for no block with deposits",
                 (unsigned long long)b->txs[0].nonce);
        return 1;
    }
    for (size_t i = 0; i < nd; i++) {
        const chain_tx *tx = &b->txs[i];
        const rollup_deposit *dep = find(v, tx->nonce);
        if (!dep) {
            snprintf(why, whylen,
                     "deposit %llu (L1 block %llu, amount %llu) is not a DepositInitiated log "
                     "this validator sees %u L1 blocks deep (L1 head %llu): extra or not yet "
                     "confirmed",
                     (unsigned long long)tx->nonce, (unsigned long long)tx->body.deposit.l1_block,
                     (unsigned long long)tx->body.deposit.amount, v->confirmations,
                     (unsigned long long)v->l1_head);
            return 1;
        }
        if (dep->l1_block + v->confirmations > v->l1_head) {
            snprintf(why, whylen,
                     "deposit %llu is in L1 block %llu, not yet %u blocks deep (L1 head %llu)",
                     (unsigned long long)tx->nonce, (unsigned long long)dep->l1_block,
                     v->confirmations, (unsigned long long)v->l1_head);
            return 1;
        }
        chain_tx_deposit want;
        node_bridge_deposit_body(&want, dep);
        const char *f = differs(&tx->body.deposit, &want);
        if (f) {
            snprintf(why, whylen, "deposit %llu is altered: its %s differs from the L1 log",
                     (unsigned long long)tx->nonce, f);
            return 1;
        }
    }
    if (v->has_l1 && nd < CHAIN_BLOCK_MAX_DEPOSITS) {
        uint64_t next = st->next_deposit + nd;
        /* One the block could not take (its L1 block before the last one
         * minted, which validate refuses) is not held against it. */
        uint64_t last = nd ? b->txs[nd - 1].body.deposit.l1_block : st->last_deposit_l1_block;
        const rollup_deposit *dep = find(v, next);
        if (dep && dep->l1_block + v->confirmations + NODE_BRIDGE_MISSING_GRACE <= v->l1_head &&
            dep->l1_block >= last) {
            snprintf(why, whylen,
                     "deposit %llu is missing: this validator has seen it in L1 block %llu, "
                     "%llu blocks deep (more than %u + %u), and the block has room for it",
                     (unsigned long long)next, (unsigned long long)dep->l1_block,
                     (unsigned long long)(v->l1_head - dep->l1_block), v->confirmations,
                     NODE_BRIDGE_MISSING_GRACE);
            return 1;
        }
    }
    return 0;
}
