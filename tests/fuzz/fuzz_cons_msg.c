/* libFuzzer target: consensus message decoding (proposal, vote, evidence)
 * must never crash, whatever decodes must re-encode to the identical bytes,
 * and a decoded message fed to an engine must not break it. The first byte
 * picks the decoder, as a p2p message type would. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "consensus/engine.h"

static void same(const util_buf *b, const uint8_t *data, size_t size)
{
    if (b->oom || b->len != size || memcmp(b->data, data, size) != 0) abort();
}

static cons_engine *engine(void)
{
    static cons_engine *e;
    static cons_valset vs;
    if (!e) {
        uint8_t keys[4][32];
        uint64_t p[4] = {1, 2, 3, 4};
        memset(keys, 0, sizeof keys);
        for (int i = 0; i < 4; i++)
            keys[i][0] = (uint8_t)(i + 1);
        if (cons_valset_init_raw(&vs, (const uint8_t(*)[32])keys, p, 4, NULL)) abort();
        e = malloc(sizeof *e);
        if (!e) abort();
    }
    cons_params prm = {300, 50, 100, 50, 100, 50};
    cons_engine_init(e, &prm, vs.v[0].pubkey);
    if (cons_engine_start_height(e, 1, &vs, &prm, NULL)) abort();
    return e;
}

static void drain(cons_engine *e)
{
    cons_output o;
    while (cons_engine_next(e, &o)) {
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t type = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    util_err err;
    util_buf b;
    util_buf_init(&b);
    if (n > cons_msg_max_len(type) && cons_msg_max_len(type)) return 0; /* p2p refuses first */
    if (type == CONS_MSG_VOTE) {
        cons_vote v;
        if (cons_vote_decode(&v, p, n, &err) == 0) {
            if (cons_vote_encode(&v, &b, &err) != 0) abort();
            same(&b, p, n);
            cons_engine *e = engine();
            v.height = 1;
            if (cons_engine_on_vote(e, &v, &err) == UTIL_ESTATE) abort();
            drain(e);
        }
    } else if (type == CONS_MSG_PROPOSAL) {
        cons_proposal q;
        if (cons_proposal_decode(&q, p, n, &err) == 0) {
            if (cons_proposal_encode(&q, &b, &err) != 0) abort();
            same(&b, p, n);
            cons_engine *e = engine();
            q.height = 1;
            if (cons_engine_on_proposal(e, &q, &err) == UTIL_ESTATE) abort();
            drain(e);
        }
    } else {
        cons_evidence ev;
        if (cons_evidence_decode(&ev, p, n, &err) == 0) {
            if (cons_evidence_encode(&ev, &b, &err) != 0) abort();
            same(&b, p, n);
        }
    }
    util_buf_free(&b);
    return 0;
}
