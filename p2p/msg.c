/* The canonical encodings of the peer-to-peer messages (p2p/msg.h,
 * docs/p2p.md "Messages"): fixed-width little-endian integers, le32 lengths,
 * le16 counts. Decoders see untrusted bytes: every count and length is
 * bounded before anything is allocated, and trailing bytes are refused, so
 * each message has exactly one encoding. */
#include "p2p/msg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_LEN 40u
#define GET_BLOCKS_LEN 12u
#define PING_LEN 8u
/* Smallest encodings of one item, to bound a count by the bytes left before
 * allocating for it. */
#define TX_ITEM_MIN 5u
#define BLOCK_ITEM_MIN 10u

int p2p_msg_known(uint8_t type)
{
    return (type >= P2P_MSG_STATUS && type <= P2P_MSG_PONG) ||
           (type >= P2P_MSG_PROPOSAL && type <= P2P_MSG_OUTPUT_SIG);
}

size_t p2p_msg_max_len(uint8_t type)
{
    switch (type) {
    case P2P_MSG_STATUS: return STATUS_LEN;
    case P2P_MSG_TXS: return P2P_TXS_MAX_LEN;
    case P2P_MSG_GET_BLOCKS: return GET_BLOCKS_LEN;
    case P2P_MSG_BLOCKS: return P2P_BLOCKS_MAX_LEN;
    case P2P_MSG_GET_PEERS: return 0;
    case P2P_MSG_PEERS: return P2P_PEERS_MAX_LEN;
    case P2P_MSG_PING:
    case P2P_MSG_PONG: return PING_LEN;
    case P2P_MSG_PROPOSAL: return P2P_PROPOSAL_MAX_LEN;
    case P2P_MSG_VOTE:
    case P2P_MSG_EVIDENCE: return cons_msg_max_len(type);
    case P2P_MSG_OUTPUT_SIG: return P2P_OUTPUT_SIG_LEN;
    default: return 0;
    }
}

int p2p_msg_len_ok(uint8_t type, size_t len)
{
    return p2p_msg_known(type) && len <= p2p_msg_max_len(type);
}

const char *p2p_msg_name(uint8_t type)
{
    switch (type) {
    case P2P_MSG_AUTH: return "auth";
    case P2P_MSG_STATUS: return "status";
    case P2P_MSG_TXS: return "txs";
    case P2P_MSG_GET_BLOCKS: return "get_blocks";
    case P2P_MSG_BLOCKS: return "blocks";
    case P2P_MSG_GET_PEERS: return "get_peers";
    case P2P_MSG_PEERS: return "peers";
    case P2P_MSG_PING: return "ping";
    case P2P_MSG_PONG: return "pong";
    case P2P_MSG_PROPOSAL: return "proposal";
    case P2P_MSG_VOTE: return "vote";
    case P2P_MSG_EVIDENCE: return "evidence";
    case P2P_MSG_OUTPUT_SIG: return "output_sig";
    default:
        if (type >= P2P_MSG_CONSENSUS_FIRST && type <= P2P_MSG_CONSENSUS_LAST) return "consensus";
        return "unknown";
    }
}

/* The reader's first failure, as an err message for a message type. */
static int rd_fail(const util_rd *r, const char *what, util_err *err)
{
    return util_err_set(err, UTIL_EINVAL, "%s: %s at byte %zu", what, r->err ? r->err : "malformed",
                        r->err_at);
}

static int finish(const util_buf *out, util_err *err)
{
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    return 0;
}

/* ---- STATUS ---- */

int p2p_status_encode(const p2p_status *m, util_buf *out, util_err *err)
{
    util_buf_u64(out, m->height);
    util_buf_put(out, m->head, 32);
    return finish(out, err);
}

int p2p_status_decode(p2p_status *m, const uint8_t *p, size_t n, util_err *err)
{
    util_rd r;
    p2p_status s;
    util_rd_init(&r, p, n);
    util_rd_u64(&r, &s.height);
    util_rd_copy(&r, s.head, 32);
    if (util_rd_end(&r)) return rd_fail(&r, "status", err);
    *m = s;
    return 0;
}

/* ---- TXS ---- */

int p2p_txs_encode(const p2p_bytes *txs, size_t n, util_buf *out, util_err *err)
{
    if (n == 0) return util_err_set(err, UTIL_EINVAL, "txs: no transactions");
    if (n > P2P_TXS_MAX_COUNT)
        return util_err_set(err, UTIL_ELIMIT, "txs: %zu transactions, at most %d", n,
                            P2P_TXS_MAX_COUNT);
    size_t total = 2;
    for (size_t i = 0; i < n; i++) {
        if (txs[i].n == 0) return util_err_set(err, UTIL_EINVAL, "txs: tx %zu is empty", i);
        if (txs[i].n > P2P_TX_MAX_LEN)
            return util_err_set(err, UTIL_ELIMIT, "txs: tx %zu is %zu bytes, at most %u", i,
                                txs[i].n, P2P_TX_MAX_LEN);
        total += 4 + txs[i].n;
    }
    if (total > P2P_TXS_MAX_LEN)
        return util_err_set(err, UTIL_ELIMIT, "txs: %zu bytes, at most %u", total, P2P_TXS_MAX_LEN);
    util_buf_u16(out, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        util_buf_u32(out, (uint32_t)txs[i].n);
        util_buf_put(out, txs[i].p, txs[i].n);
    }
    return finish(out, err);
}

int p2p_txs_decode(p2p_txs *m, const uint8_t *p, size_t n, util_err *err)
{
    if (n > P2P_TXS_MAX_LEN)
        return util_err_set(err, UTIL_EINVAL, "txs: %zu bytes, at most %u", n, P2P_TXS_MAX_LEN);
    util_rd r;
    uint16_t count = 0;
    util_rd_init(&r, p, n);
    if (util_rd_u16(&r, &count)) return rd_fail(&r, "txs", err);
    if (count == 0) return util_err_set(err, UTIL_EINVAL, "txs: no transactions");
    if (count > P2P_TXS_MAX_COUNT)
        return util_err_set(err, UTIL_EINVAL, "txs: %u transactions, at most %d", count,
                            P2P_TXS_MAX_COUNT);
    if ((size_t)count * TX_ITEM_MIN > util_rd_left(&r))
        return util_err_set(err, UTIL_EINVAL, "txs: %u transactions cannot fit in %zu bytes", count,
                            util_rd_left(&r));
    p2p_bytes *txs = calloc(count, sizeof *txs);
    if (!txs) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        uint32_t len = 0;
        if (util_rd_u32(&r, &len)) goto bad;
        if (len == 0) {
            free(txs);
            return util_err_set(err, UTIL_EINVAL, "txs: tx %zu is empty", i);
        }
        if (len > P2P_TX_MAX_LEN) {
            free(txs);
            return util_err_set(err, UTIL_EINVAL, "txs: tx %zu is %u bytes, at most %u", i, len,
                                P2P_TX_MAX_LEN);
        }
        if (util_rd_bytes(&r, &txs[i].p, len)) goto bad;
        txs[i].n = len;
    }
    if (util_rd_end(&r)) goto bad;
    m->txs = txs;
    m->n = count;
    return 0;
bad:
    free(txs);
    return rd_fail(&r, "txs", err);
}

void p2p_txs_free(p2p_txs *m)
{
    if (!m) return;
    free(m->txs);
    m->txs = NULL;
    m->n = 0;
}

/* ---- GET_BLOCKS ---- */

/* Heights start at 1 (height 0 is the genesis state, not a block), and a
 * range must not run past UINT64_MAX. */
static int range_ok(uint64_t from, uint64_t count)
{
    return from >= 1 && count <= UINT64_MAX - from + 1;
}

int p2p_get_blocks_encode(const p2p_get_blocks *m, util_buf *out, util_err *err)
{
    if (m->count == 0 || m->count > P2P_GET_BLOCKS_MAX_COUNT || !range_ok(m->from, m->count))
        return util_err_set(err, UTIL_EINVAL, "get_blocks: from %llu count %u out of range",
                            (unsigned long long)m->from, m->count);
    util_buf_u64(out, m->from);
    util_buf_u32(out, m->count);
    return finish(out, err);
}

int p2p_get_blocks_decode(p2p_get_blocks *m, const uint8_t *p, size_t n, util_err *err)
{
    util_rd r;
    p2p_get_blocks g;
    util_rd_init(&r, p, n);
    util_rd_u64(&r, &g.from);
    util_rd_u32(&r, &g.count);
    if (util_rd_end(&r)) return rd_fail(&r, "get_blocks", err);
    if (g.count == 0 || g.count > P2P_GET_BLOCKS_MAX_COUNT)
        return util_err_set(err, UTIL_EINVAL, "get_blocks: count %u, must be 1..%d", g.count,
                            P2P_GET_BLOCKS_MAX_COUNT);
    if (!range_ok(g.from, g.count))
        return util_err_set(err, UTIL_EINVAL, "get_blocks: range from %llu out of range",
                            (unsigned long long)g.from);
    *m = g;
    return 0;
}

/* ---- BLOCKS ---- */

int p2p_blocks_encode(uint64_t from, const p2p_block_item *items, size_t n, util_buf *out,
                      util_err *err)
{
    if (n > P2P_GET_BLOCKS_MAX_COUNT)
        return util_err_set(err, UTIL_ELIMIT, "blocks: %zu blocks, at most %d", n,
                            P2P_GET_BLOCKS_MAX_COUNT);
    if (!range_ok(from, n))
        return util_err_set(err, UTIL_EINVAL, "blocks: from %llu out of range",
                            (unsigned long long)from);
    size_t total = 10;
    for (size_t i = 0; i < n; i++) {
        if (items[i].block.n == 0 || items[i].commit.n == 0)
            return util_err_set(err, UTIL_EINVAL, "blocks: item %zu has an empty block or commit",
                                i);
        /* Each term is checked against the limit before it is added, so the
         * sum cannot wrap. */
        if (items[i].block.n > P2P_BLOCKS_MAX_LEN || items[i].commit.n > P2P_BLOCKS_MAX_LEN)
            return util_err_set(err, UTIL_ELIMIT, "blocks: item %zu too large", i);
        total += 8 + items[i].block.n + items[i].commit.n;
        if (total > P2P_BLOCKS_MAX_LEN)
            return util_err_set(err, UTIL_ELIMIT, "blocks: more than %u bytes", P2P_BLOCKS_MAX_LEN);
    }
    util_buf_u64(out, from);
    util_buf_u16(out, (uint16_t)n);
    for (size_t i = 0; i < n; i++) {
        util_buf_u32(out, (uint32_t)items[i].block.n);
        util_buf_put(out, items[i].block.p, items[i].block.n);
        util_buf_u32(out, (uint32_t)items[i].commit.n);
        util_buf_put(out, items[i].commit.p, items[i].commit.n);
    }
    return finish(out, err);
}

/* One le32-prefixed, non-empty field of a BLOCKS item. */
static int read_part(util_rd *r, p2p_bytes *b, const char *what, size_t i, util_err *err)
{
    uint32_t len = 0;
    if (util_rd_u32(r, &len)) return rd_fail(r, "blocks", err);
    if (len == 0) return util_err_set(err, UTIL_EINVAL, "blocks: item %zu: empty %s", i, what);
    if (util_rd_bytes(r, &b->p, len)) return rd_fail(r, "blocks", err);
    b->n = len;
    return 0;
}

int p2p_blocks_decode(p2p_blocks *m, const uint8_t *p, size_t n, util_err *err)
{
    if (n > P2P_BLOCKS_MAX_LEN)
        return util_err_set(err, UTIL_EINVAL, "blocks: %zu bytes, at most %u", n,
                            P2P_BLOCKS_MAX_LEN);
    util_rd r;
    uint64_t from = 0;
    uint16_t count = 0;
    util_rd_init(&r, p, n);
    util_rd_u64(&r, &from);
    if (util_rd_u16(&r, &count)) return rd_fail(&r, "blocks", err);
    if (count > P2P_GET_BLOCKS_MAX_COUNT)
        return util_err_set(err, UTIL_EINVAL, "blocks: %u blocks, at most %d", count,
                            P2P_GET_BLOCKS_MAX_COUNT);
    if (!range_ok(from, count))
        return util_err_set(err, UTIL_EINVAL, "blocks: from %llu out of range",
                            (unsigned long long)from);
    if ((size_t)count * BLOCK_ITEM_MIN > util_rd_left(&r))
        return util_err_set(err, UTIL_EINVAL, "blocks: %u blocks cannot fit in %zu bytes", count,
                            util_rd_left(&r));
    p2p_block_item *items = NULL;
    if (count) {
        items = calloc(count, sizeof *items);
        if (!items) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        int rc = read_part(&r, &items[i].block, "block", i, err);
        if (!rc) rc = read_part(&r, &items[i].commit, "commit", i, err);
        if (rc) {
            free(items);
            return rc;
        }
    }
    if (util_rd_end(&r)) {
        free(items);
        return rd_fail(&r, "blocks", err);
    }
    m->from = from;
    m->items = items;
    m->n = count;
    return 0;
}

void p2p_blocks_free(p2p_blocks *m)
{
    if (!m) return;
    free(m->items);
    m->items = NULL;
    m->n = 0;
}

/* ---- PEERS ---- */

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

int p2p_host_valid(const char *host)
{
    size_t n = 0;
    while (n <= P2P_HOST_MAX && host[n])
        n++;
    if (n == 0 || n > P2P_HOST_MAX) return 0;
    unsigned char addr[16];
    if (strchr(host, ':')) return inet_pton(AF_INET6, host, addr) == 1;
    int dotted_digits = 1;
    for (size_t i = 0; i < n; i++) {
        if (!name_char(host[i])) return 0;
        if (!(host[i] == '.' || (host[i] >= '0' && host[i] <= '9'))) dotted_digits = 0;
    }
    if (host[0] == '.' || host[0] == '-') return 0;
    /* All digits and dots: it must then be a real IPv4 literal, not a name
     * like "1.2.3.999" that resolvers would read differently. */
    if (dotted_digits) return inet_pton(AF_INET, host, addr) == 1;
    return 1;
}

int p2p_peers_encode(const p2p_peers *m, util_buf *out, util_err *err)
{
    if (m->n > P2P_PEERS_MAX_COUNT)
        return util_err_set(err, UTIL_ELIMIT, "peers: %zu addresses, at most %d", m->n,
                            P2P_PEERS_MAX_COUNT);
    for (size_t i = 0; i < m->n; i++) {
        if (!p2p_host_valid(m->addrs[i].host))
            return util_err_set(err, UTIL_EINVAL, "peers: address %zu: invalid host", i);
        if (m->addrs[i].port == 0)
            return util_err_set(err, UTIL_EINVAL, "peers: address %zu: port 0", i);
    }
    util_buf_u16(out, (uint16_t)m->n);
    for (size_t i = 0; i < m->n; i++) {
        const p2p_peer_addr *a = &m->addrs[i];
        size_t hl = strlen(a->host);
        util_buf_put(out, a->id, P2P_NODE_ID_LEN);
        util_buf_u8(out, (uint8_t)hl);
        util_buf_put(out, a->host, hl);
        util_buf_u16(out, a->port);
    }
    return finish(out, err);
}

int p2p_peers_decode(p2p_peers *m, const uint8_t *p, size_t n, util_err *err)
{
    if (n > P2P_PEERS_MAX_LEN)
        return util_err_set(err, UTIL_EINVAL, "peers: %zu bytes, at most %u", n, P2P_PEERS_MAX_LEN);
    util_rd r;
    uint16_t count = 0;
    util_rd_init(&r, p, n);
    if (util_rd_u16(&r, &count)) return rd_fail(&r, "peers", err);
    if (count > P2P_PEERS_MAX_COUNT)
        return util_err_set(err, UTIL_EINVAL, "peers: %u addresses, at most %d", count,
                            P2P_PEERS_MAX_COUNT);
    /* Decoded aside: m is written only on success. The struct is a few KiB,
     * so it lives on the heap rather than a (possibly small) thread stack. */
    p2p_peers *t = calloc(1, sizeof *t);
    if (!t) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < count && !rc; i++) {
        p2p_peer_addr *a = &t->addrs[i];
        uint8_t hl = 0;
        const uint8_t *host = NULL;
        util_rd_copy(&r, a->id, P2P_NODE_ID_LEN);
        util_rd_u8(&r, &hl);
        if (r.err) {
            rc = rd_fail(&r, "peers", err);
            break;
        }
        if (hl == 0 || hl > P2P_HOST_MAX) {
            rc = util_err_set(err, UTIL_EINVAL, "peers: address %zu: host of %u bytes", i, hl);
            break;
        }
        if (util_rd_bytes(&r, &host, hl) || util_rd_u16(&r, &a->port)) {
            rc = rd_fail(&r, "peers", err);
            break;
        }
        memcpy(a->host, host, hl);
        a->host[hl] = 0;
        /* A NUL inside would cut the host short: the re-encoding would
         * differ, so it is refused like any other byte outside the set. */
        if (memchr(host, 0, hl) || !p2p_host_valid(a->host))
            rc = util_err_set(err, UTIL_EINVAL, "peers: address %zu: invalid host", i);
        else if (a->port == 0)
            rc = util_err_set(err, UTIL_EINVAL, "peers: address %zu: port 0", i);
    }
    if (!rc && util_rd_end(&r)) rc = rd_fail(&r, "peers", err);
    if (!rc) {
        t->n = count;
        *m = *t;
    }
    free(t);
    return rc;
}

/* ---- PING / PONG ---- */

int p2p_ping_encode(uint64_t nonce, util_buf *out, util_err *err)
{
    util_buf_u64(out, nonce);
    return finish(out, err);
}

int p2p_ping_decode(uint64_t *nonce, const uint8_t *p, size_t n, util_err *err)
{
    util_rd r;
    uint64_t v = 0;
    util_rd_init(&r, p, n);
    util_rd_u64(&r, &v);
    if (util_rd_end(&r)) return rd_fail(&r, "ping", err);
    *nonce = v;
    return 0;
}

int p2p_output_sig_encode(const p2p_output_sig *m, util_buf *out, util_err *err)
{
    util_buf_u64(out, m->height);
    util_buf_put(out, m->root, 32);
    util_buf_put(out, m->sig, 65);
    if (out->oom) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    return 0;
}

int p2p_output_sig_decode(p2p_output_sig *m, const uint8_t *p, size_t n, util_err *err)
{
    if (n != P2P_OUTPUT_SIG_LEN)
        return util_err_set(err, UTIL_EINVAL, "output_sig: %zu bytes, expected %u", n,
                            P2P_OUTPUT_SIG_LEN);
    m->height = util_get_u64le(p);
    memcpy(m->root, p + 8, 32);
    memcpy(m->sig, p + 40, 65);
    return 0;
}

/* ---- ID@HOST:PORT ---- */

static int hex_val(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int p2p_peer_addr_parse(const char *s, p2p_peer_addr *a, util_err *err)
{
    p2p_peer_addr t;
    memset(&t, 0, sizeof t);
    const char *at = strchr(s, '@');
    if (!at || at - s != 2 * P2P_NODE_ID_LEN)
        return util_err_set(err, UTIL_EINVAL,
                            "peer address %.80s: want ID@HOST:PORT with a "
                            "40-hex-digit id",
                            s);
    for (size_t i = 0; i < P2P_NODE_ID_LEN; i++) {
        int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return util_err_set(err, UTIL_EINVAL, "peer address %.80s: id is not hex", s);
        t.id[i] = (uint8_t)(hi << 4 | lo);
    }
    const char *h = at + 1, *hend, *colon;
    if (*h == '[') {
        hend = strchr(h, ']');
        if (!hend || hend[1] != ':')
            return util_err_set(err, UTIL_EINVAL, "peer address %.80s: want [IPV6]:PORT", s);
        colon = hend + 1;
        h++;
        if (!memchr(h, ':', (size_t)(hend - h)))
            return util_err_set(err, UTIL_EINVAL, "peer address %.80s: brackets are for IPv6", s);
    } else {
        colon = strrchr(h, ':');
        if (!colon) return util_err_set(err, UTIL_EINVAL, "peer address %.80s: no port", s);
        hend = colon;
        if (memchr(h, ':', (size_t)(hend - h)))
            return util_err_set(err, UTIL_EINVAL,
                                "peer address %.80s: an IPv6 host goes in brackets", s);
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0 || hl > P2P_HOST_MAX)
        return util_err_set(err, UTIL_EINVAL, "peer address %.80s: host of %zu characters", s, hl);
    memcpy(t.host, h, hl);
    t.host[hl] = 0;
    if (!p2p_host_valid(t.host))
        return util_err_set(err, UTIL_EINVAL, "peer address %.80s: invalid host", s);
    const char *ps = colon + 1;
    size_t pl = strlen(ps);
    unsigned long port = 0;
    if (pl == 0 || pl > 5 || ps[0] == '0')
        return util_err_set(err, UTIL_EINVAL, "peer address %.80s: invalid port", s);
    for (size_t i = 0; i < pl; i++) {
        if (ps[i] < '0' || ps[i] > '9')
            return util_err_set(err, UTIL_EINVAL, "peer address %.80s: invalid port", s);
        port = port * 10 + (unsigned long)(ps[i] - '0');
    }
    if (port == 0 || port > 65535)
        return util_err_set(err, UTIL_EINVAL, "peer address %.80s: port out of range", s);
    t.port = (uint16_t)port;
    *a = t;
    return 0;
}

void p2p_peer_addr_format(const p2p_peer_addr *a, char *out, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    char id[2 * P2P_NODE_ID_LEN + 1];
    for (size_t i = 0; i < P2P_NODE_ID_LEN; i++) {
        id[2 * i] = digits[a->id[i] >> 4];
        id[2 * i + 1] = digits[a->id[i] & 15];
    }
    id[2 * P2P_NODE_ID_LEN] = 0;
    int v6 = strchr(a->host, ':') != NULL;
    snprintf(out, n, "%s@%s%s%s:%u", id, v6 ? "[" : "", a->host, v6 ? "]" : "", a->port);
}
