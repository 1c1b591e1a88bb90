/* The authenticated, encrypted peer session of p2p/session.h: node ids, the
 * HELLO/AUTH handshake and the sealed framing, without I/O (docs/p2p.md,
 * "Identity", "Handshake", "Framing"). The AEAD and key schedule live in
 * p2p/session_crypto.c. */
#include "p2p/session.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/types/tx.h"
#include "p2p/msg.h"
#include "p2p/session_crypto.h"
#include "util/hex.h"

/* AUTH payload: pubkey(32) version(2) port(2) genesis(32) idlen(1) id sig(64). */
#define AUTH_FIXED (32 + 2 + 2 + 32 + 1 + CHAIN_SIG_LEN)
/* A frame buffer above this is released once its frame was delivered, so a
 * single large block does not pin megabytes per peer. */
#define RX_KEEP (256u * 1024u)

enum { ST_HELLO, ST_AUTH, ST_OPEN, ST_DEAD };

struct p2p_session {
    int state;
    chain_keypair node_key;
    char chain_id[CHAIN_ID_MAX + 1];
    size_t chain_id_len;
    uint8_t genesis[32];
    uint16_t listen_port;
    int expect_id_set;
    uint8_t expect_id[P2P_NODE_ID_LEN];

    uint8_t eph_sec[32];
    uint8_t hello[P2P_HELLO_LEN];
    uint8_t peer_hello[P2P_HELLO_LEN];
    size_t peer_hello_n;
    uint8_t th[32];
    int lo; /* 1 when our HELLO sorts lower: we send with key 1 */

    p2p_aead *tx, *rx;
    uint64_t tx_ctr, rx_ctr;

    uint8_t hdr[P2P_FRAME_HDR_LEN];
    size_t hdr_n;
    uint32_t body_len; /* ciphertext + tag, from the header */
    uint8_t *buf;      /* the frame's body, decrypted in place */
    size_t cap, body_n;

    p2p_peer_info peer;
    int authed; /* peer is valid: kept after a later error, to name whom to ban */
};

void p2p_node_id(const uint8_t pubkey[CHAIN_PUBKEY_LEN], uint8_t id[P2P_NODE_ID_LEN])
{
    static const char tag[] = "openledger/p2p/node-id";
    uint8_t h[32];
    uint8_t in[sizeof tag - 1 + CHAIN_PUBKEY_LEN];
    memcpy(in, tag, sizeof tag - 1);
    memcpy(in + sizeof tag - 1, pubkey, CHAIN_PUBKEY_LEN);
    chain_sha256(h, in, sizeof in);
    memcpy(id, h, P2P_NODE_ID_LEN);
}

void p2p_node_id_hex(const uint8_t id[P2P_NODE_ID_LEN], char out[2 * P2P_NODE_ID_LEN + 1])
{
    util_hex_encode(out, id, P2P_NODE_ID_LEN);
}

int p2p_node_id_parse(const char *s, uint8_t id[P2P_NODE_ID_LEN], util_err *err)
{
    uint8_t tmp[P2P_NODE_ID_LEN];
    size_t n = strlen(s);
    if (n != 2 * P2P_NODE_ID_LEN)
        return util_err_set(err, UTIL_EINVAL, "node id: %zu characters, expected %d hex digits", n,
                            2 * P2P_NODE_ID_LEN);
    /* util_hex_decode_exact would skip a 0x; the length check above already
     * leaves it too few digits, so a prefixed id fails here. */
    if (util_hex_decode_exact(tmp, sizeof tmp, s) != 0)
        return util_err_set(err, UTIL_EINVAL, "node id: not %d hex digits", 2 * P2P_NODE_ID_LEN);
    memcpy(id, tmp, sizeof tmp);
    return 0;
}

/* Every failure of recv kills the session: after a refused frame the byte
 * stream has no trustworthy boundary, and after a local failure the state is
 * half-updated. */
static int die(p2p_session *s, util_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int die(p2p_session *s, util_err *err, int code, const char *fmt, ...)
{
    s->state = ST_DEAD;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void wipe_handshake(p2p_session *s)
{
    OPENSSL_cleanse(s->eph_sec, sizeof s->eph_sec);
}

int p2p_session_new(p2p_session **out, const p2p_session_cfg *cfg, util_buf *hello, util_err *err)
{
    size_t idlen = cfg->chain_id ? strlen(cfg->chain_id) : 0;
    if (!cfg->chain_id || idlen > CHAIN_ID_MAX || !chain_id_valid(cfg->chain_id))
        return util_err_set(err, UTIL_EINVAL, "p2p session: invalid chain id");
    p2p_session *s = calloc(1, sizeof *s);
    if (!s) return util_err_set(err, UTIL_ENOMEM, "p2p session: out of memory");
    s->node_key = *cfg->node_key;
    memcpy(s->chain_id, cfg->chain_id, idlen + 1);
    s->chain_id_len = idlen;
    memcpy(s->genesis, cfg->genesis_hash, 32);
    s->listen_port = cfg->listen_port;
    s->expect_id_set = cfg->expect_id_set != 0;
    memcpy(s->expect_id, cfg->expect_id, P2P_NODE_ID_LEN);

    uint8_t eph_pub[33];
    int rc = p2p_eph_generate(s->eph_sec, eph_pub, err);
    if (rc) {
        p2p_session_free(s);
        return rc;
    }
    memcpy(s->hello, "OLP2", 4);
    s->hello[4] = (uint8_t)(P2P_PROTOCOL_VERSION & 0xff);
    s->hello[5] = (uint8_t)(P2P_PROTOCOL_VERSION >> 8);
    memcpy(s->hello + 6, eph_pub, 33);
    if (util_buf_reserve(hello, P2P_HELLO_LEN)) {
        p2p_session_free(s);
        return util_err_set(err, UTIL_ENOMEM, "p2p session: out of memory");
    }
    util_buf_put(hello, s->hello, P2P_HELLO_LEN);
    s->state = ST_HELLO;
    *out = s;
    return 0;
}

void p2p_session_free(p2p_session *s)
{
    if (!s) return;
    p2p_aead_free(s->tx);
    p2p_aead_free(s->rx);
    free(s->buf);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

void p2p_session_set_counters(p2p_session *s, uint64_t tx, uint64_t rx)
{
    s->tx_ctr = tx;
    s->rx_ctr = rx;
}

int p2p_session_open(const p2p_session *s)
{
    return s->state == ST_OPEN;
}

const p2p_peer_info *p2p_session_peer(const p2p_session *s)
{
    return s->authed ? &s->peer : NULL;
}

/* Appends header || ciphertext || tag sealed with the next send nonce. */
static int seal_frame(p2p_session *s, uint8_t type, const uint8_t *payload, size_t len,
                      util_buf *out, util_err *err)
{
    if (s->tx_ctr == UINT64_MAX)
        return die(s, err, UTIL_ELIMIT, "p2p session: send nonce exhausted");
    if (util_buf_reserve(out, P2P_FRAME_HDR_LEN + len + P2P_TAG_LEN))
        return util_err_set(err, UTIL_ENOMEM, "p2p session: out of memory");
    uint8_t *p = out->data + out->len;
    util_put_u32le(p, (uint32_t)(len + P2P_TAG_LEN));
    p[4] = type;
    if (p2p_aead_seal(s->tx, s->tx_ctr, p, payload, len, p + P2P_FRAME_HDR_LEN))
        return die(s, err, UTIL_ECRYPTO, "p2p session: seal failed");
    s->tx_ctr++;
    out->len += P2P_FRAME_HDR_LEN + len + P2P_TAG_LEN;
    return 0;
}

int p2p_session_seal(p2p_session *s, uint8_t type, const uint8_t *payload, size_t len,
                     util_buf *out, util_err *err)
{
    if (s->state == ST_DEAD)
        return util_err_set(err, UTIL_ESTATE, "p2p session: closed after an error");
    if (s->state != ST_OPEN) return util_err_set(err, UTIL_ESTATE, "p2p session: not open yet");
    if (type == P2P_MSG_AUTH)
        return util_err_set(err, UTIL_EINVAL, "p2p session: type 0 is the handshake's AUTH");
    if (len > P2P_FRAME_MAX)
        return util_err_set(err, UTIL_ELIMIT, "p2p session: payload of %zu bytes, at most %u", len,
                            P2P_FRAME_MAX);
    return seal_frame(s, type, payload, len, out, err);
}

/* The digest a node signs in AUTH: it binds the transcript (both ephemeral
 * keys), the signer's side, and every field the receiver acts on. */
static int auth_digest(uint8_t out[32], const uint8_t th[32], uint8_t role, const uint8_t *body,
                       size_t n)
{
    static const char tag[] = "openledger/p2p/auth/v1";
    chain_sha256_ctx c;
    if (chain_sha256_begin(&c)) return -1;
    chain_sha256_update(&c, tag, sizeof tag - 1);
    chain_sha256_update(&c, th, 32);
    chain_sha256_update(&c, &role, 1);
    chain_sha256_update(&c, body, n);
    chain_sha256_final(&c, out);
    chain_sha256_free(&c);
    return 0;
}

static int send_auth(p2p_session *s, util_buf *out, util_err *err)
{
    uint8_t a[P2P_AUTH_MAX];
    size_t n = 0;
    memcpy(a, s->node_key.pubkey, 32);
    n = 32;
    a[n++] = (uint8_t)(P2P_PROTOCOL_VERSION & 0xff);
    a[n++] = (uint8_t)(P2P_PROTOCOL_VERSION >> 8);
    a[n++] = (uint8_t)(s->listen_port & 0xff);
    a[n++] = (uint8_t)(s->listen_port >> 8);
    memcpy(a + n, s->genesis, 32);
    n += 32;
    a[n++] = (uint8_t)s->chain_id_len;
    memcpy(a + n, s->chain_id, s->chain_id_len);
    n += s->chain_id_len;
    uint8_t m[32], aux[32];
    if (auth_digest(m, s->th, s->lo ? 0 : 1, a, n) || p2p_random(aux, sizeof aux) ||
        chain_sign(a + n, m, &s->node_key, aux))
        return die(s, err, UTIL_ECRYPTO, "p2p session: signing AUTH failed");
    n += CHAIN_SIG_LEN;
    return seal_frame(s, P2P_MSG_AUTH, a, n, out, err);
}

static int on_hello(p2p_session *s, util_buf *out, util_err *err)
{
    const uint8_t *h = s->peer_hello;
    if (memcmp(h, "OLP2", 4) != 0)
        return die(s, err, UTIL_EINVAL, "bad_magic: the peer's HELLO does not start with OLP2");
    unsigned v = (unsigned)h[4] | (unsigned)h[5] << 8;
    if (v != P2P_PROTOCOL_VERSION)
        return die(s, err, UTIL_EINVAL, "bad_version: peer speaks version %u, we speak %u", v,
                   (unsigned)P2P_PROTOCOL_VERSION);
    int c = memcmp(s->hello, h, P2P_HELLO_LEN);
    /* Our own HELLO echoed back: with equal HELLOs neither side would own
     * key 1, and the peer is us. */
    if (c == 0)
        return die(s, err, UTIL_EINVAL, "self_connection: the peer sent our own HELLO back");
    s->lo = c < 0;
    uint8_t k1[32], k2[32];
    util_err e = {0};
    int rc = p2p_key_schedule(s->eph_sec, h + 6, s->lo ? s->hello : h, s->lo ? h : s->hello, s->th,
                              k1, k2, &e);
    wipe_handshake(s);
    if (rc) {
        /* An ephemeral key off the curve is the peer's fault, anything else ours. */
        if (rc == UTIL_EINVAL) return die(s, err, UTIL_EINVAL, "malformed_hello: %s", e.msg);
        return die(s, err, rc, "p2p session: %s", e.msg);
    }
    s->tx = p2p_aead_new(s->lo ? k1 : k2, 1);
    s->rx = p2p_aead_new(s->lo ? k2 : k1, 0);
    OPENSSL_cleanse(k1, sizeof k1);
    OPENSSL_cleanse(k2, sizeof k2);
    if (!s->tx || !s->rx) return die(s, err, UTIL_ENOMEM, "p2p session: out of memory");
    s->state = ST_AUTH;
    return send_auth(s, out, err);
}

static int on_auth(p2p_session *s, const uint8_t *a, size_t n, util_err *err)
{
    if (n < AUTH_FIXED + 1 || a[68] < 1 || a[68] > CHAIN_ID_MAX || n != AUTH_FIXED + (size_t)a[68])
        return die(s, err, UTIL_EINVAL, "malformed_auth: %zu bytes", n);
    size_t idlen = a[68];
    size_t body = n - CHAIN_SIG_LEN;
    uint8_t m[32];
    if (auth_digest(m, s->th, s->lo ? 1 : 0, a, body))
        return die(s, err, UTIL_ECRYPTO, "p2p session: hashing failed");
    if (!chain_verify(a + body, m, a))
        return die(s, err, UTIL_EINVAL,
                   "bad_auth_signature: the peer's AUTH is not signed over this handshake");
    if (memcmp(a, s->node_key.pubkey, 32) == 0)
        return die(s, err, UTIL_EINVAL, "self_connection: the peer has our node key");
    uint8_t id[P2P_NODE_ID_LEN];
    p2p_node_id(a, id);
    if (s->expect_id_set && memcmp(id, s->expect_id, P2P_NODE_ID_LEN) != 0) {
        char got[2 * P2P_NODE_ID_LEN + 1], want[2 * P2P_NODE_ID_LEN + 1];
        p2p_node_id_hex(id, got);
        p2p_node_id_hex(s->expect_id, want);
        return die(s, err, UTIL_EINVAL, "unexpected_node_id: peer is %s, dialled %s", got, want);
    }
    unsigned v = (unsigned)a[32] | (unsigned)a[33] << 8;
    if (v != P2P_PROTOCOL_VERSION)
        return die(s, err, UTIL_EINVAL, "bad_version: peer's AUTH says version %u, we speak %u", v,
                   (unsigned)P2P_PROTOCOL_VERSION);
    if (idlen != s->chain_id_len || memcmp(a + 69, s->chain_id, idlen) != 0) {
        char theirs[CHAIN_ID_MAX + 1];
        size_t k;
        for (k = 0; k < idlen; k++) /* printable for the log, whatever was sent */
            theirs[k] = a[69 + k] >= 0x20 && a[69 + k] < 0x7f ? (char)a[69 + k] : '?';
        theirs[k] = 0;
        return die(s, err, UTIL_EINVAL, "wrong_chain: peer is on chain '%s', we are on '%s'",
                   theirs, s->chain_id);
    }
    if (memcmp(a + 36, s->genesis, 32) != 0) {
        char theirs[65];
        util_hex_encode(theirs, a + 36, 32);
        return die(s, err, UTIL_EINVAL, "wrong_genesis: peer's genesis hash is %s", theirs);
    }
    memcpy(s->peer.pubkey, a, 32);
    memcpy(s->peer.id, id, P2P_NODE_ID_LEN);
    s->peer.version = (uint16_t)v;
    s->peer.listen_port = (uint16_t)(a[34] | a[35] << 8);
    s->authed = 1;
    s->state = ST_OPEN;
    return 0;
}

/* Checks a complete header before any of the body is buffered: a peer cannot
 * make us allocate or wait for more than the type allows. */
static int check_header(p2p_session *s, p2p_max_len_fn max_len, void *ctx, util_err *err)
{
    uint32_t len = util_get_u32le(s->hdr);
    uint8_t type = s->hdr[4];
    if (len > P2P_FRAME_MAX + P2P_TAG_LEN)
        return die(s, err, UTIL_EINVAL, "frame_too_large: %u bytes, at most %u", len,
                   P2P_FRAME_MAX + P2P_TAG_LEN);
    size_t max;
    if (s->state == ST_AUTH) {
        if (type != P2P_MSG_AUTH)
            return die(s, err, UTIL_EINVAL, "unexpected_type: type %u before AUTH", type);
        max = P2P_AUTH_MAX;
    } else {
        if (type == P2P_MSG_AUTH) return die(s, err, UTIL_EINVAL, "unexpected_type: a second AUTH");
        max = max_len ? max_len(ctx, type) : P2P_FRAME_MAX;
        if (max == 0)
            return die(s, err, UTIL_EINVAL, "unexpected_type: type %u not expected", type);
        if (max > P2P_FRAME_MAX) max = P2P_FRAME_MAX;
    }
    if (len < P2P_TAG_LEN)
        return die(s, err, UTIL_EINVAL, "bad_tag: a frame of %u bytes cannot hold its tag", len);
    if (len - P2P_TAG_LEN > max)
        return die(s, err, UTIL_EINVAL, "frame_too_large: type %u carries %u bytes, at most %zu",
                   type, len - P2P_TAG_LEN, max);
    if (s->cap > RX_KEEP && s->cap > len) {
        free(s->buf);
        s->buf = NULL;
        s->cap = 0;
    }
    if (s->cap < len) {
        uint8_t *b = realloc(s->buf, len);
        if (!b) return die(s, err, UTIL_ENOMEM, "p2p session: out of memory");
        s->buf = b;
        s->cap = len;
    }
    s->body_len = len;
    s->body_n = 0;
    return 0;
}

static int recv_step(p2p_session *s, const uint8_t *p, size_t n, size_t *used,
                     p2p_max_len_fn max_len, void *max_ctx, util_buf *out, int *got, p2p_frame *msg,
                     util_err *err)
{
    size_t pos = 0;
    if (s->state == ST_HELLO) {
        size_t take = P2P_HELLO_LEN - s->peer_hello_n;
        if (take > n) take = n;
        if (take) memcpy(s->peer_hello + s->peer_hello_n, p, take);
        s->peer_hello_n += take;
        pos = take;
        *used = pos;
        if (s->peer_hello_n < P2P_HELLO_LEN) return 0;
        int rc = on_hello(s, out, err);
        if (rc) return rc;
    }
    while (pos < n) {
        if (s->hdr_n < P2P_FRAME_HDR_LEN) {
            size_t take = P2P_FRAME_HDR_LEN - s->hdr_n;
            if (take > n - pos) take = n - pos;
            memcpy(s->hdr + s->hdr_n, p + pos, take);
            s->hdr_n += take;
            pos += take;
            *used = pos;
            if (s->hdr_n < P2P_FRAME_HDR_LEN) break;
            int rc = check_header(s, max_len, max_ctx, err);
            if (rc) return rc;
        }
        size_t take = s->body_len - s->body_n;
        if (take > n - pos) take = n - pos;
        memcpy(s->buf + s->body_n, p + pos, take);
        s->body_n += take;
        pos += take;
        *used = pos;
        if (s->body_n < s->body_len) break;

        /* A whole frame: the next byte starts a new header. */
        s->hdr_n = 0;
        size_t plen = s->body_len - P2P_TAG_LEN;
        if (s->rx_ctr == UINT64_MAX)
            return die(s, err, UTIL_ELIMIT, "p2p session: receive nonce exhausted");
        if (p2p_aead_open(s->rx, s->rx_ctr, s->hdr, s->buf, plen, s->buf + plen))
            return die(s, err, UTIL_EINVAL,
                       "bad_tag: frame %llu does not authenticate (altered, replayed or reordered)",
                       (unsigned long long)s->rx_ctr);
        s->rx_ctr++;
        if (s->state == ST_AUTH) {
            int rc = on_auth(s, s->buf, plen, err);
            if (rc) return rc;
            *got = 1;
            return 0;
        }
        msg->type = s->hdr[4];
        msg->payload = s->buf;
        msg->len = plen;
        *got = 2;
        return 0;
    }
    return 0;
}

int p2p_session_recv(p2p_session *s, const uint8_t *p, size_t n, size_t *used,
                     p2p_max_len_fn max_len, void *max_ctx, util_buf *out, int *got, p2p_frame *msg,
                     util_err *err)
{
    *used = 0;
    *got = 0;
    if (s->state == ST_DEAD)
        return util_err_set(err, UTIL_ESTATE, "p2p session: closed after an error");
    int rc = recv_step(s, p, n, used, max_len, max_ctx, out, got, msg, err);
    if (rc) s->state = ST_DEAD; /* also after a local failure, e.g. no memory for our AUTH */
    return rc;
}
