/* libFuzzer target: the peer-to-peer message decoders (p2p/msg.h). The first
 * byte picks the message type (its low 4 bits, so every decoder is reached
 * often, including the types without a decoder; 0x23 and a low nibble of
 * 0xe pick OUTPUT_SIG), the rest is the payload.
 * No decoder may crash or read past the payload; whatever decodes re-encodes
 * to the identical bytes (one encoding per message) and fits its type's
 * limit; a peer address survives format and parse. Leaks are caught by the
 * sanitizer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "p2p/msg.h"

static void same(const util_buf *b, const uint8_t *p, size_t n)
{
    if (b->len != n || (n && memcmp(b->data, p, n) != 0)) abort();
}

static void fuzz_peers(const uint8_t *p, size_t n, util_buf *b)
{
    util_err err;
    p2p_peers *m = calloc(1, sizeof *m);
    if (!m) return;
    if (p2p_peers_decode(m, p, n, &err) == 0) {
        if (p2p_peers_encode(m, b, &err) != 0) abort();
        same(b, p, n);
        for (size_t i = 0; i < m->n; i++) {
            char s[128];
            p2p_peer_addr a;
            p2p_peer_addr_format(&m->addrs[i], s, sizeof s);
            if (p2p_peer_addr_parse(s, &a, &err) != 0) abort();
            if (memcmp(a.id, m->addrs[i].id, P2P_NODE_ID_LEN) != 0 ||
                strcmp(a.host, m->addrs[i].host) != 0 || a.port != m->addrs[i].port)
                abort();
        }
    }
    free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    uint8_t type = data[0] == P2P_MSG_OUTPUT_SIG || (data[0] & 0x0f) == 0x0e ? P2P_MSG_OUTPUT_SIG
                                                                             : data[0] & 0x0f;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    util_buf b;
    util_err err;
    util_buf_init(&b);
    int ok = 0;
    switch (type) {
    case P2P_MSG_STATUS: {
        p2p_status m;
        if ((ok = p2p_status_decode(&m, p, n, &err) == 0)) {
            if (p2p_status_encode(&m, &b, &err) != 0) abort();
            same(&b, p, n);
        }
        break;
    }
    case P2P_MSG_TXS: {
        p2p_txs m = {0};
        if ((ok = p2p_txs_decode(&m, p, n, &err) == 0)) {
            if (p2p_txs_encode(m.txs, m.n, &b, &err) != 0) abort();
            same(&b, p, n);
            for (size_t i = 0; i < m.n; i++)
                if (m.txs[i].p < p || m.txs[i].p + m.txs[i].n > p + n) abort();
        } else if (m.txs || m.n) {
            abort(); /* a failed decode owns nothing */
        }
        p2p_txs_free(&m);
        break;
    }
    case P2P_MSG_GET_BLOCKS: {
        p2p_get_blocks m;
        if ((ok = p2p_get_blocks_decode(&m, p, n, &err) == 0)) {
            if (p2p_get_blocks_encode(&m, &b, &err) != 0) abort();
            same(&b, p, n);
        }
        break;
    }
    case P2P_MSG_BLOCKS: {
        p2p_blocks m = {0};
        if ((ok = p2p_blocks_decode(&m, p, n, &err) == 0)) {
            if (p2p_blocks_encode(m.from, m.items, m.n, &b, &err) != 0) abort();
            same(&b, p, n);
        } else if (m.items || m.n) {
            abort();
        }
        p2p_blocks_free(&m);
        break;
    }
    case P2P_MSG_PEERS: fuzz_peers(p, n, &b); break;
    case P2P_MSG_OUTPUT_SIG: {
        p2p_output_sig m;
        if ((ok = p2p_output_sig_decode(&m, p, n, &err) == 0)) {
            if (p2p_output_sig_encode(&m, &b, &err) != 0) abort();
            same(&b, p, n);
        }
        break;
    }
    case P2P_MSG_PING:
    case P2P_MSG_PONG: {
        uint64_t v;
        if ((ok = p2p_ping_decode(&v, p, n, &err) == 0)) {
            if (p2p_ping_encode(v, &b, &err) != 0) abort();
            same(&b, p, n);
        }
        break;
    }
    default: {
        /* No decoder here (AUTH, GET_PEERS, consensus: fuzz_cons_msg,
         * unknown): the length rule alone, and the reserved part of the
         * consensus range is never known. */
        if (p2p_msg_len_ok(data[0], n) && !p2p_msg_known(data[0])) abort();
        if (data[0] > P2P_MSG_OUTPUT_SIG && data[0] <= P2P_MSG_CONSENSUS_LAST &&
            p2p_msg_known(data[0]))
            abort();
        /* OUTPUT_SIG (its type has the low bits of GET_BLOCKS): a high
         * nibble of 4 picks it here. */
        p2p_output_sig os;
        if ((data[0] & 0xf0) == 0x40 && p2p_output_sig_decode(&os, p, n, &err) == 0) {
            if (p2p_output_sig_encode(&os, &b, &err) != 0) abort();
            same(&b, p, n);
            util_buf_reset(&b);
        }
        /* An ID@HOST:PORT string must parse to something that formats back
         * to an address that parses the same. */
        char s[256];
        size_t k = n < sizeof s - 1 ? n : sizeof s - 1;
        memcpy(s, p, k);
        s[k] = 0;
        p2p_peer_addr a, a2;
        if (p2p_peer_addr_parse(s, &a, &err) == 0) {
            char out[128];
            p2p_peer_addr_format(&a, out, sizeof out);
            if (p2p_peer_addr_parse(out, &a2, &err) != 0) abort();
            if (memcmp(&a.id, &a2.id, sizeof a.id) != 0 || strcmp(a.host, a2.host) != 0 ||
                a.port != a2.port)
                abort();
        }
        break;
    }
    }
    if (ok && !p2p_msg_len_ok(type, n)) abort(); /* what decodes fits the type's limit */
    util_buf_free(&b);
    return 0;
}
