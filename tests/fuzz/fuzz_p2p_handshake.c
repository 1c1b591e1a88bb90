/* libFuzzer target: arbitrary bytes into a responder session (p2p/session.c)
 * must never crash or leak, and a refused session stays refused. The first
 * byte picks what the bytes are, so that the fuzzer gets past the AEAD:
 *   0: raw: a HELLO and frames as they come off the socket;
 *   1: an honest initiator completes the handshake, then the rest is a
 *      script: seal a frame (type, length), inject raw bytes, flip a bit of
 *      what is queued, deliver what is queued in chunks;
 *   2: an attacker with its own ephemeral key (p2p/session_crypto.h) seals
 *      the rest as its AUTH payload, then sends raw bytes.
 * Ephemeral keys are fresh per run, so a crash replays in the parsing paths
 * (all before any key matters) but not byte-identically in the ciphertext. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/keys.h"
#include "p2p/session.h"
#include "p2p/session_crypto.h"
#include "util/bytes.h"

static size_t max_len(void *ctx, uint8_t type)
{
    (void)ctx;
    if (type >= 1 && type <= 8) return (size_t)type * 512;
    return type == 0x40 ? P2P_FRAME_MAX : 0;
}

typedef struct side {
    p2p_session *s;
    util_buf out;
    int dead, opened;
} side;

/* Feeds bytes the way a transport does; returns 0 once s refused. */
static int feed(side *d, const uint8_t *p, size_t n)
{
    while (!d->dead) {
        size_t used;
        int got;
        p2p_frame f;
        util_err err;
        if (p2p_session_recv(d->s, p, n, &used, max_len, NULL, &d->out, &got, &f, &err)) {
            if (strchr(err.msg, ':') == NULL) abort(); /* every refusal has its token */
            d->dead = 1;
            /* Dead stays dead. */
            uint8_t b = 0;
            if (p2p_session_recv(d->s, &b, 1, &used, max_len, NULL, &d->out, &got, &f, &err) !=
                UTIL_ESTATE)
                abort();
            break;
        }
        if (used > n) abort();
        p += used;
        n -= used;
        if (got == 1) {
            if (!p2p_session_open(d->s) || !p2p_session_peer(d->s)) abort();
            d->opened++;
        } else if (got == 2) {
            if (!d->opened || f.len > max_len(NULL, f.type)) abort();
        } else if (used == 0) {
            if (n) abort();
            break;
        }
    }
    return !d->dead;
}

static int side_new(side *d, uint32_t dev)
{
    chain_keypair kp;
    p2p_session_cfg c;
    memset(d, 0, sizeof *d);
    memset(&c, 0, sizeof c);
    util_buf_init(&d->out);
    if (chain_keypair_dev(&kp, dev)) abort();
    c.node_key = &kp;
    c.chain_id = "fuzz-chain";
    c.genesis_hash[0] = 1;
    c.listen_port = 1;
    return p2p_session_new(&d->s, &c, &d->out, NULL);
}

static void side_free(side *d)
{
    p2p_session_free(d->s);
    util_buf_free(&d->out);
}

static void deliver(side *to, util_buf *q, size_t chunk)
{
    for (size_t i = 0; i < q->len; i += chunk)
        if (!feed(to, q->data + i, q->len - i < chunk ? q->len - i : chunk)) break;
    util_buf_reset(q);
}

static void honest(side *r, const uint8_t *p, size_t n)
{
    side in;
    if (side_new(&in, 2)) abort();
    /* Hand the HELLOs and AUTHs over. */
    for (int i = 0; i < 4 && (in.out.len || r->out.len); i++) {
        util_buf a = in.out, b = r->out;
        util_buf_init(&in.out);
        util_buf_init(&r->out);
        if (!feed(r, a.data, a.len) || !feed(&in, b.data, b.len)) abort();
        util_buf_free(&a);
        util_buf_free(&b);
    }
    if (!r->opened || !in.opened) abort();
    util_buf q; /* what the initiator has sent, not yet delivered */
    util_buf_init(&q);
    size_t i = 0;
    while (i < n && !r->dead) {
        uint8_t op = p[i++];
        switch (op & 3) {
        case 0: {
            if (n - i < 3) {
                i = n;
                break;
            }
            uint8_t type = p[i];
            size_t len = (size_t)p[i + 1] | (size_t)p[i + 2] << 8;
            i += 3;
            if (len > n - i) len = n - i;
            if (type == 0) type = 1;
            if (p2p_session_seal(in.s, type, p + i, len, &q, NULL)) abort();
            i += len;
            break;
        }
        case 1: {
            size_t len = op >> 2;
            if (len > n - i) len = n - i;
            util_buf_put(&q, p + i, len);
            i += len;
            break;
        }
        case 2:
            if (q.len && i < n) {
                size_t at = ((size_t)p[i] << 8 | op) % q.len;
                q.data[at] ^= (uint8_t)(1u << (p[i] & 7));
                i++;
            }
            break;
        default: deliver(r, &q, (size_t)(op >> 2) + 1); break;
        }
    }
    deliver(r, &q, 4096);
    util_buf_free(&q);
    side_free(&in);
}

static void attacker(side *r, const uint8_t *p, size_t n)
{
    uint8_t sec[32], pub[33], hello[P2P_HELLO_LEN], th[32], k1[32], k2[32];
    if (p2p_eph_generate(sec, pub, NULL)) abort();
    memcpy(hello, "OLP2\x01\x00", 6);
    memcpy(hello + 6, pub, 33);
    int lo = memcmp(hello, r->out.data, P2P_HELLO_LEN) < 0;
    if (p2p_key_schedule(sec, r->out.data + 6, lo ? hello : r->out.data, lo ? r->out.data : hello,
                         th, k1, k2, NULL))
        abort();
    util_buf_reset(&r->out);
    if (!feed(r, hello, sizeof hello)) abort();
    p2p_aead *tx = p2p_aead_new(lo ? k1 : k2, 1);
    if (!tx) abort();
    size_t alen = n > P2P_AUTH_MAX + 8 ? P2P_AUTH_MAX + 8 : n;
    util_buf q;
    util_buf_init(&q);
    if (util_buf_reserve(&q, 5 + alen + 16)) abort();
    util_put_u32le(q.data, (uint32_t)(alen + 16));
    q.data[4] = 0;
    if (p2p_aead_seal(tx, 0, q.data, p, alen, q.data + 5)) abort();
    q.len = 5 + alen + 16;
    if (feed(r, q.data, q.len)) feed(r, p + alen, n - alen);
    util_buf_free(&q);
    p2p_aead_free(tx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    side r;
    if (side_new(&r, 1)) abort();
    switch (data[0] % 3) {
    case 0: feed(&r, data + 1, size - 1); break;
    case 1: honest(&r, data + 1, size - 1); break;
    default: attacker(&r, data + 1, size - 1); break;
    }
    side_free(&r);
    return 0;
}
