/* p2p_badpeer: a test client that speaks the peer-to-peer protocol as a real
 * peer (handshake with its own node key, STATUS, PONG, PEERS) and then
 * misbehaves in one chosen way, to check that a node disconnects and bans
 * it (tests/integration/p2p_badpeer.sh, tests/unit/p2p/test_badpeer.c).
 *
 *   p2p_badpeer --connect HOST:PORT (--genesis-dev | --genesis FILE)
 *               --mode MODE [--id-file F] [--wait-ms N]
 *
 * Modes: garbage (a TXS frame whose contents do not decode), oversized (a
 * frame header longer than its type's limit), unknown (a frame of a reserved
 * consensus type), forged-block (claims the node's height + 5, answers
 * GET_BLOCKS with a decodable block whose roots are wrong), no-serve (claims
 * the node's height + 5, answers GET_BLOCKS with no blocks), probe (only the
 * handshake), bad-sig (as forged-block, the block holding one transfer whose
 * signature is flipped: block sync's signature checks on the pool must leave
 * it for validate to refuse), equivocate (with --validator-key FILE, a
 * validator_key.json of the genesis set: signs two prevotes of that validator
 * for different blocks at the node's consensus height (its head + 1), round
 * 0, and sends both; they are valid votes, so the node keeps the session and
 * turns them into evidence). --id-file keeps the node key (hex) so a second
 * run is the same node id, as a ban check needs.
 *
 * Exit codes (one line on stdout says what happened):
 *   0  bad modes: the node disconnected us after the bad act; probe: the
 *      node accepted the session; equivocate: both votes sent and the
 *      session still up a moment later;
 *   1  local failure or usage error (includes: could not connect);
 *   2  the node did not disconnect us within --wait-ms (default 10 s);
 *   3  the handshake was refused, or the node closed the session right
 *      after it before sending anything (a banned id);
 *   4  the node did not do its part: no STATUS, or no GET_BLOCKS, in time,
 *      or (forged-block) it hung up when asked for its head block.
 *
 * Built as a program of the test tree (never installed). With
 * BADPEER_NO_MAIN, the file is a library for the self test. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "chain/crypto/keys.h"
#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "p2p/msg.h"
#include "p2p/session.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/hex.h"

enum {
    BP_OK = 0,
    BP_LOCAL = 1,
    BP_NOT_DROPPED = 2,
    BP_REFUSED = 3,
    BP_NODE_SILENT = 4,
};

typedef enum {
    MODE_GARBAGE,
    MODE_OVERSIZED,
    MODE_UNKNOWN,
    MODE_FORGED_BLOCK,
    MODE_NO_SERVE,
    MODE_PROBE,
    MODE_BAD_SIG,
    MODE_EQUIVOCATE,
} bp_mode;

static const char *const mode_names[] = {"garbage",  "oversized", "unknown", "forged-block",
                                         "no-serve", "probe",     "bad-sig", "equivocate"};

typedef struct bp_cfg {
    int fd; /* a connected socket (closed by bp_run) */
    bp_mode mode;
    const chain_keypair *key;
    const chain_genesis *genesis;
    const chain_keypair *vkey; /* equivocate: the validator's key */
    uint32_t vindex;           /* and its index in the genesis set */
    uint64_t vheight;          /* filled: the height the votes are for */
    uint64_t wait_ms;          /* for each step the node must take */
    char line[512];            /* what happened, filled by bp_run */
} bp_cfg;

/* Events of next_event. */
enum { EV_FRAME, EV_EOF, EV_TIMEOUT, EV_ERROR };

typedef struct bp {
    bp_cfg *cfg;
    p2p_session *s;
    uint8_t rbuf[65536];
    size_t rlen, roff;
    int got; /* from the last p2p_session_recv */
    p2p_frame msg;
    util_err err;
    /* The node's STATUS, once seen. */
    int have_status;
    p2p_status status;
    int asked; /* GET_BLOCKS answered */
    /* forged-block: the node's head block, asked of the node itself, so the
     * forged block carries a real last commit and a later time. */
    int parent_state; /* 0 not asked, 1 asked, 2 have it, 3 refused */
    uint64_t parent_height, parent_time_ms;
    chain_commit parent_commit;
} bp;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* 0, or -1 when the peer is gone (a closed or reset connection). */
static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int send_buf(bp *b, util_buf *out)
{
    int rc = out->len ? send_all(b->cfg->fd, out->data, out->len) : 0;
    util_buf_reset(out);
    return rc;
}

static int seal_send(bp *b, uint8_t type, const util_buf *payload)
{
    util_buf out;
    util_buf_init(&out);
    int rc = p2p_session_seal(b->s, type, payload->data, payload->len, &out, &b->err);
    if (!rc) rc = send_all(b->cfg->fd, out.data, out.len);
    util_buf_free(&out);
    return rc ? -1 : 0;
}

/* Waits for the session's next event (the handshake completing, or a frame)
 * until deadline; handshake bytes the session produces are sent. */
static int next_event(bp *b, uint64_t deadline)
{
    util_buf out;
    util_buf_init(&out);
    for (;;) {
        while (b->roff < b->rlen) {
            size_t used = 0;
            int rc = p2p_session_recv(b->s, b->rbuf + b->roff, b->rlen - b->roff, &used, NULL, NULL,
                                      &out, &b->got, &b->msg, &b->err);
            b->roff += used;
            if (rc) {
                util_buf_free(&out);
                return EV_ERROR;
            }
            if (send_buf(b, &out)) {
                util_buf_free(&out);
                return EV_EOF;
            }
            if (b->got) {
                util_buf_free(&out);
                return EV_FRAME;
            }
            if (!used) break;
        }
        b->roff = b->rlen = 0;
        uint64_t now = now_ms();
        if (now >= deadline) break;
        struct pollfd pfd = {.fd = b->cfg->fd, .events = POLLIN};
        int pr = poll(&pfd, 1, (int)(deadline - now));
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) break;
        ssize_t k = recv(b->cfg->fd, b->rbuf, sizeof b->rbuf, 0);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            util_buf_free(&out);
            return EV_EOF; /* closed, or reset */
        }
        b->rlen = (size_t)k;
    }
    util_buf_free(&out);
    return EV_TIMEOUT;
}

/* A block the node can decode but must refuse: at the asked height, on the
 * node's head when that is its parent, with wrong roots, no proposer
 * signature that could match, and a commit signed by nobody. */
static int forged_blocks(bp *b, const p2p_get_blocks *req, util_buf *payload)
{
    const chain_genesis *g = b->cfg->genesis;
    chain_block blk;
    memset(&blk, 0, sizeof blk);
    blk.h.version = CHAIN_BLOCK_VERSION;
    memcpy(blk.h.chain_id, g->chain_id, sizeof blk.h.chain_id);
    blk.h.height = req->from;
    if (b->have_status && req->from == b->status.height + 1)
        memcpy(blk.h.parent, b->status.head, 32);
    /* Now (a test tool may read the clock): after any parent, within the
     * drift allowed, so validation goes on to the roots. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    blk.h.time_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    if (blk.h.time_ms <= g->genesis_time_ms) blk.h.time_ms = g->genesis_time_ms + 1;
    if (b->parent_state == 2 && req->from == b->parent_height + 1) {
        if (blk.h.time_ms <= b->parent_time_ms) blk.h.time_ms = b->parent_time_ms + 1;
        blk.h.last_commit = b->parent_commit;
    }
    if (g->nval) blk.h.proposer = g->vals[0].addr;
    memset(blk.h.state_root, 0xee, 32); /* the wrong state root */
    memset(blk.h.receipts_root, 0xee, 32);
    chain_header_fill_sets(&blk.h, g); /* the sets and parameters it commits to */
    chain_tx tx;
    chain_keypair kp;
    memset(&tx, 0, sizeof tx);
    if (b->cfg->mode == MODE_BAD_SIG) {
        tx.version = CHAIN_TX_VERSION;
        memcpy(tx.chain_id, g->chain_id, sizeof tx.chain_id);
        tx.type = CHAIN_TX_TRANSFER;
        tx.gas_limit = CHAIN_GAS_TRANSFER;
        tx.gas_price = g->params.min_gas_price;
        tx.body.transfer.amount = 1;
        if (chain_keypair_dev(&kp, 0) || chain_tx_sign(&tx, &kp, g->hash, &b->err)) return -1;
        chain_keypair_clear(&kp);
        tx.sig[0] ^= 1;
        if (chain_tx_finalize(&tx, &b->err)) return -1; /* the id covers the signature */
        blk.txs = &tx;
        blk.ntx = 1;
    }
    chain_block_tx_root(&blk, blk.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    c.n = 1;
    memset(c.sigs[0].sig, 0x11, sizeof c.sigs[0].sig);

    util_buf eb, ec;
    util_buf_init(&eb);
    util_buf_init(&ec);
    int rc = chain_block_encode(&blk, &eb) || chain_commit_encode(&c, &ec);
    if (!rc) {
        p2p_block_item it = {{eb.data, eb.len}, {ec.data, ec.len}};
        rc = p2p_blocks_encode(req->from, &it, 1, payload, &b->err);
    }
    util_buf_free(&eb);
    util_buf_free(&ec);
    return rc;
}

/* The node's answer to our GET_BLOCKS for its head: the head's time and the
 * commit that finalised it. */
static void on_parent(bp *b)
{
    if (b->parent_state != 1) return;
    p2p_blocks m = {0};
    chain_block blk;
    memset(&blk, 0, sizeof blk);
    b->parent_state = 3;
    if (p2p_blocks_decode(&m, b->msg.payload, b->msg.len, &b->err) == 0 && m.n >= 1 &&
        m.from == b->parent_height &&
        chain_block_decode(&blk, m.items[0].block.p, m.items[0].block.n, &b->err) == 0) {
        util_rd r;
        util_rd_init(&r, m.items[0].commit.p, m.items[0].commit.n);
        if (chain_commit_read(&b->parent_commit, &r, &b->err) == 0 && util_rd_end(&r) == 0) {
            b->parent_time_ms = blk.h.time_ms;
            b->parent_state = 2;
        }
    }
    chain_block_free(&blk);
    p2p_blocks_free(&m);
}

/* What a real peer does with the node's messages; answers GET_BLOCKS per
 * mode. Returns 0, or -1 when the connection is gone. */
static int on_frame(bp *b)
{
    util_buf pl;
    util_buf_init(&pl);
    int rc = 0;
    switch (b->msg.type) {
    case P2P_MSG_STATUS: {
        p2p_status st;
        if (p2p_status_decode(&st, b->msg.payload, b->msg.len, &b->err) == 0) {
            b->status = st;
            b->have_status = 1;
        }
        break;
    }
    case P2P_MSG_PING: {
        uint64_t nonce;
        if (p2p_ping_decode(&nonce, b->msg.payload, b->msg.len, &b->err) == 0 &&
            p2p_ping_encode(nonce, &pl, &b->err) == 0)
            rc = seal_send(b, P2P_MSG_PONG, &pl);
        break;
    }
    case P2P_MSG_GET_PEERS: {
        p2p_peers none;
        memset(&none, 0, sizeof none);
        if (p2p_peers_encode(&none, &pl, &b->err) == 0) rc = seal_send(b, P2P_MSG_PEERS, &pl);
        break;
    }
    case P2P_MSG_GET_BLOCKS: {
        p2p_get_blocks req;
        if (p2p_get_blocks_decode(&req, b->msg.payload, b->msg.len, &b->err) != 0) break;
        int enc = 0;
        if (b->cfg->mode == MODE_FORGED_BLOCK || b->cfg->mode == MODE_BAD_SIG)
            enc = forged_blocks(b, &req, &pl);
        else
            enc = p2p_blocks_encode(req.from, NULL, 0, &pl, &b->err);
        if (enc) break;
        b->asked = 1;
        rc = seal_send(b, P2P_MSG_BLOCKS, &pl);
        break;
    }
    case P2P_MSG_BLOCKS: on_parent(b); break;
    default: break;
    }
    util_buf_free(&pl);
    return rc;
}

/* Reads and answers frames until `until` holds, the connection closes, or
 * the deadline passes. */
static int pump(bp *b, uint64_t deadline, int (*until)(const bp *))
{
    while (!until || !until(b)) {
        int ev = next_event(b, deadline);
        if (ev != EV_FRAME) return ev;
        if (b->got == 2 && on_frame(b)) return EV_EOF;
    }
    return EV_FRAME;
}

static int has_status(const bp *b)
{
    return b->have_status;
}

static int was_asked(const bp *b)
{
    return b->asked;
}

static int parent_done(const bp *b)
{
    return b->parent_state >= 2;
}

/* A prevote of cfg->vkey's validator at (height, round 0) for block_id, in
 * the consensus vote encoding (consensus/msg.h): type u8 | height u64 |
 * round u32 | validator u8 | block_id[32] | sig[64]. */
static int put_prevote(bp *b, uint64_t height, const uint8_t block_id[32], util_buf *out)
{
    const chain_genesis *g = b->cfg->genesis;
    uint8_t d[32], sig[64];
    chain_vote_digest(d, g->chain_id, g->hash, height, 0, CHAIN_VOTE_PREVOTE, block_id);
    if (chain_sign(sig, d, b->cfg->vkey, NULL)) return -1;
    util_buf_u8(out, CHAIN_VOTE_PREVOTE);
    util_buf_u64(out, height);
    util_buf_u32(out, 0);
    util_buf_u8(out, (uint8_t)b->cfg->vindex);
    util_buf_put(out, block_id, 32);
    util_buf_put(out, sig, 64);
    return out->oom ? -1 : 0;
}

/* Two conflicting prevotes: the node's engine keeps the first and reports
 * the second as evidence. 0, -1 when the node is gone, -2 on a local
 * failure. */
static int equivocate(bp *b)
{
    uint8_t x[32], y[32];
    memset(x, 0xe1, 32);
    memset(y, 0xe2, 32);
    uint64_t h = b->status.height + 1;
    b->cfg->vheight = h;
    util_buf pl;
    util_buf_init(&pl);
    int rc = put_prevote(b, h, x, &pl) ? -2 : seal_send(b, P2P_MSG_VOTE, &pl);
    util_buf_reset(&pl);
    if (!rc) rc = put_prevote(b, h, y, &pl) ? -2 : seal_send(b, P2P_MSG_VOTE, &pl);
    util_buf_free(&pl);
    return rc;
}

/* The bad act of the simple modes. 0, or -1 when the node is already gone. */
static int bad_act(bp *b)
{
    util_buf pl;
    util_buf_init(&pl);
    int rc = 0;
    switch (b->cfg->mode) {
    case MODE_GARBAGE:
        /* One tx announced with 1000 bytes, 3 present: the TXS itself does
         * not decode. */
        util_buf_u16(&pl, 1);
        util_buf_u32(&pl, 1000);
        util_buf_put(&pl, "bad", 3);
        rc = seal_send(b, P2P_MSG_TXS, &pl);
        break;
    case MODE_OVERSIZED: {
        /* Only the header: a node that waited for the body before checking
         * the length would keep us connected (exit 2). */
        uint8_t hdr[P2P_FRAME_HDR_LEN];
        util_put_u32le(hdr, (uint32_t)(p2p_msg_max_len(P2P_MSG_TXS) + 1 + P2P_TAG_LEN));
        hdr[4] = P2P_MSG_TXS;
        rc = send_all(b->cfg->fd, hdr, sizeof hdr);
        break;
    }
    case MODE_UNKNOWN:
        util_buf_u8(&pl, 0);
        rc = seal_send(b, P2P_MSG_CONSENSUS_LAST, &pl); /* reserved: unknown */
        break;
    default: break;
    }
    util_buf_free(&pl);
    return rc;
}

static int finish(bp_cfg *cfg, int code, const char *fmt, const char *detail)
{
    snprintf(cfg->line, sizeof cfg->line, "p2p_badpeer %s: %s%s%s", mode_names[cfg->mode], fmt,
             detail && *detail ? ": " : "", detail ? detail : "");
    return code;
}

/* Runs one session on cfg->fd (closed on return) and returns the exit code;
 * cfg->line says what happened. */
static int bp_run(bp_cfg *cfg)
{
    bp *b = calloc(1, sizeof *b);
    if (!b) {
        close(cfg->fd);
        return finish(cfg, BP_LOCAL, "out of memory", NULL);
    }
    b->cfg = cfg;
    int code;
    util_buf hello;
    util_buf_init(&hello);
    p2p_session_cfg sc;
    memset(&sc, 0, sizeof sc);
    sc.node_key = cfg->key;
    sc.chain_id = cfg->genesis->chain_id;
    memcpy(sc.genesis_hash, cfg->genesis->hash, 32);
    if (p2p_session_new(&b->s, &sc, &hello, &b->err)) {
        code = finish(cfg, BP_LOCAL, "session", b->err.msg);
        goto out;
    }
    if (send_buf(b, &hello)) {
        code = finish(cfg, BP_REFUSED, "handshake refused (connection closed)", NULL);
        goto out;
    }

    /* The handshake. */
    int ev = next_event(b, now_ms() + cfg->wait_ms);
    if (ev == EV_ERROR) {
        code = finish(cfg, BP_REFUSED, "handshake refused", b->err.msg);
        goto out;
    }
    if (ev != EV_FRAME || b->got != 1) {
        code = finish(cfg, BP_REFUSED,
                      ev == EV_TIMEOUT ? "handshake refused (no answer in time)"
                                       : "handshake refused (connection closed)",
                      NULL);
        goto out;
    }

    /* The node's first frame (its STATUS) says it kept the session: a
     * banned id is closed right after the handshake, before any frame. */
    ev = pump(b, now_ms() + cfg->wait_ms, has_status);
    if (ev == EV_EOF || ev == EV_ERROR) {
        code = finish(cfg, BP_REFUSED, "the node closed the session after the handshake",
                      ev == EV_ERROR ? b->err.msg : NULL);
        goto out;
    }
    if (cfg->mode == MODE_PROBE) {
        code = finish(cfg, BP_OK,
                      b->have_status ? "session accepted"
                                     : "session accepted "
                                       "(no STATUS yet)",
                      NULL);
        goto out;
    }

    util_buf pl;
    util_buf_init(&pl);
    int gone = 0;
    if (cfg->mode == MODE_FORGED_BLOCK || cfg->mode == MODE_NO_SERVE || cfg->mode == MODE_BAD_SIG) {
        if (!b->have_status) {
            util_buf_free(&pl);
            code = finish(cfg, BP_NODE_SILENT, "no STATUS from the node in time", NULL);
            goto out;
        }
        if ((cfg->mode == MODE_FORGED_BLOCK || cfg->mode == MODE_BAD_SIG) &&
            b->status.height >= 1) {
            /* The head block and its commit, from the node: a forged block
             * that passes the parent, time and last-commit checks is refused
             * only for what execution finds (its roots). Without them it is
             * still invalid, just caught earlier. */
            p2p_get_blocks g = {b->status.height, 1};
            b->parent_height = g.from;
            b->parent_state = 1;
            if (p2p_get_blocks_encode(&g, &pl, &b->err) == 0)
                gone = seal_send(b, P2P_MSG_GET_BLOCKS, &pl);
            util_buf_reset(&pl);
            if (!gone) {
                ev = pump(b, now_ms() + cfg->wait_ms, parent_done);
                gone = ev == EV_EOF || ev == EV_ERROR;
            }
            if (gone) {
                util_buf_free(&pl);
                code = finish(cfg, BP_NODE_SILENT, "the node hung up when asked for its head block",
                              NULL);
                goto out;
            }
        }
        p2p_status claim = b->status;
        claim.height += 5;
        memset(claim.head, 0xab, 32);
        if (p2p_status_encode(&claim, &pl, &b->err) == 0) gone = seal_send(b, P2P_MSG_STATUS, &pl);
        util_buf_free(&pl);
        if (!gone) {
            ev = pump(b, now_ms() + cfg->wait_ms, was_asked);
            if (ev == EV_TIMEOUT) {
                code =
                    finish(cfg, BP_NODE_SILENT, "the node did not send GET_BLOCKS in time", NULL);
                goto out;
            }
            gone = ev != EV_FRAME;
            if (gone && !b->asked) {
                code = finish(cfg, BP_OK, "disconnected after claiming a height, before GET_BLOCKS",
                              NULL);
                goto out;
            }
        }
    } else {
        /* In step with the node: its own height and head back. */
        if (b->have_status && p2p_status_encode(&b->status, &pl, &b->err) == 0)
            gone = seal_send(b, P2P_MSG_STATUS, &pl);
        util_buf_free(&pl);
        if (!gone && cfg->mode == MODE_EQUIVOCATE) {
            if (!b->have_status) {
                code = finish(cfg, BP_NODE_SILENT, "no STATUS from the node in time", NULL);
                goto out;
            }
            int erc = equivocate(b);
            if (erc == -2) {
                code = finish(cfg, BP_LOCAL, "signing the votes", b->err.msg);
                goto out;
            }
            /* Valid votes: the node must keep the session. Answer like a
             * peer for a while (a second at most) and leave. */
            if (!erc) ev = pump(b, now_ms() + (cfg->wait_ms < 1000 ? cfg->wait_ms : 1000), NULL);
            char what[96];
            snprintf(what, sizeof what, "validator %u, height %llu", cfg->vindex,
                     (unsigned long long)cfg->vheight);
            if (erc || ev == EV_EOF || ev == EV_ERROR)
                code = finish(cfg, BP_REFUSED, "the node hung up after the two prevotes", what);
            else
                code = finish(cfg, BP_OK, "sent two conflicting prevotes", what);
            goto out;
        }
        if (!gone) gone = bad_act(b);
    }

    /* After the bad act: keep answering like a peer until the node hangs up. */
    if (!gone) ev = pump(b, now_ms() + cfg->wait_ms, NULL);
    if (gone || ev == EV_EOF || ev == EV_ERROR)
        code = finish(cfg, BP_OK, "disconnected by the node after the bad act", NULL);
    else
        code = finish(cfg, BP_NOT_DROPPED, "still connected after the bad act", NULL);
out:
    util_buf_free(&hello);
    p2p_session_free(b->s);
    close(cfg->fd);
    free(b);
    return code;
}

/* The node key from path (64 hex digits of the secret key), or a fresh one
 * written there (mode 0600) so the next run has the same id. */
static int load_key(const char *path, chain_keypair *kp, util_err *err)
{
    if (!path) return chain_keypair_generate(kp, err);
    FILE *f = fopen(path, "r");
    if (f) {
        char hex[80] = {0};
        size_t n = fread(hex, 1, sizeof hex - 1, f);
        fclose(f);
        while (n && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
            hex[--n] = 0;
        uint8_t sk[32];
        if (util_hex_decode_exact(sk, 32, hex))
            return util_err_set(err, UTIL_EINVAL, "%s: not a 64-hex-digit key", path);
        return chain_keypair_from_seckey(kp, sk, err);
    }
    int rc = chain_keypair_generate(kp, err);
    if (rc) return rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return util_err_set(err, UTIL_EIO, "%s: %s", path, strerror(errno));
    char hex[65];
    util_hex_encode(hex, kp->seckey, 32);
    hex[64] = '\n';
    int bad = write(fd, hex, 65) != 65;
    bad |= close(fd) != 0;
    if (bad) return util_err_set(err, UTIL_EIO, "%s: cannot write", path);
    return 0;
}

#ifndef BADPEER_NO_MAIN
static int dial(const char *hostport, int *out, util_err *err)
{
    char host[128];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof host)
        return util_err_set(err, UTIL_EINVAL, "--connect %s: want HOST:PORT", hostport);
    const char *h = hostport;
    size_t hl = (size_t)(colon - hostport);
    if (h[0] == '[' && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    memcpy(host, h, hl);
    host[hl] = 0;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int gr = getaddrinfo(host, colon + 1, &hints, &ai);
    if (gr) return util_err_set(err, UTIL_EINVAL, "%s: %s", hostport, gai_strerror(gr));
    int fd = -1;
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0) return util_err_set(err, UTIL_EIO, "cannot connect to %s", hostport);
    *out = fd;
    return 0;
}

/* The secret key of a validator_key.json (its "secretKey": "0x<64 hex>")
 * and the validator's index in the genesis set. */
static int load_validator_key(const char *path, const chain_genesis *g, chain_keypair *kp,
                              uint32_t *index, util_err *err)
{
    char text[2048] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return util_err_set(err, UTIL_EIO, "%s: %s", path, strerror(errno));
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    const char *k = strstr(text, "\"secretKey\"");
    const char *x = k ? strstr(k, "\"0x") : NULL;
    char hex[65] = {0};
    if (!x || strlen(x) < 3 + 64) return util_err_set(err, UTIL_EINVAL, "%s: no secretKey", path);
    memcpy(hex, x + 3, 64);
    uint8_t sk[32];
    if (util_hex_decode_exact(sk, 32, hex))
        return util_err_set(err, UTIL_EINVAL, "%s: secretKey is not 64 hex digits", path);
    int rc = chain_keypair_from_seckey(kp, sk, err);
    if (rc) return rc;
    for (size_t i = 0; i < g->nval; i++)
        if (memcmp(g->vals[i].pubkey, kp->pubkey, 32) == 0) {
            *index = (uint32_t)i;
            return 0;
        }
    return util_err_set(err, UTIL_EINVAL, "%s: not a validator of the genesis", path);
}

static int usage(void)
{
    fprintf(stderr, "usage: p2p_badpeer --connect HOST:PORT (--genesis-dev | --genesis FILE)\n"
                    "       --mode garbage|oversized|unknown|forged-block|no-serve|probe|bad-sig|\n"
                    "              equivocate [--validator-key FILE]\n"
                    "       [--id-file FILE] [--wait-ms N]\n");
    return BP_LOCAL;
}

int main(int argc, char **argv)
{
    const char *connect_to = NULL, *genesis_file = NULL, *id_file = NULL, *mode = NULL,
               *vkey_file = NULL;
    int dev = 0;
    uint64_t wait_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--genesis-dev")) {
            dev = 1;
            continue;
        }
        if (!v) return usage();
        if (!strcmp(a, "--connect"))
            connect_to = v;
        else if (!strcmp(a, "--genesis"))
            genesis_file = v;
        else if (!strcmp(a, "--mode"))
            mode = v;
        else if (!strcmp(a, "--id-file"))
            id_file = v;
        else if (!strcmp(a, "--validator-key"))
            vkey_file = v;
        else if (!strcmp(a, "--wait-ms"))
            wait_ms = strtoull(v, NULL, 10);
        else
            return usage();
        i++;
    }
    if (!connect_to || !mode || dev == !!genesis_file || !wait_ms) return usage();
    bp_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    size_t m = 0;
    while (m < sizeof mode_names / sizeof *mode_names && strcmp(mode, mode_names[m]))
        m++;
    if (m == sizeof mode_names / sizeof *mode_names) return usage();
    cfg.mode = (bp_mode)m;
    cfg.wait_ms = wait_ms;
    if ((cfg.mode == MODE_EQUIVOCATE) != !!vkey_file) return usage();

    util_err err = {0};
    chain_genesis g;
    memset(&g, 0, sizeof g);
    int rc = dev ? chain_genesis_parse(&g, chain_genesis_devnet_json(),
                                       strlen(chain_genesis_devnet_json()), &err)
                 : chain_genesis_load_file(&g, genesis_file, &err);
    chain_keypair kp, vkp;
    if (!rc) rc = load_key(id_file, &kp, &err);
    if (!rc && vkey_file) rc = load_validator_key(vkey_file, &g, &vkp, &cfg.vindex, &err);
    if (!rc) rc = dial(connect_to, &cfg.fd, &err);
    if (rc) {
        printf("p2p_badpeer %s: %s\n", mode, err.msg);
        chain_genesis_free(&g);
        return BP_LOCAL;
    }
    uint8_t id[P2P_NODE_ID_LEN];
    char idhex[2 * P2P_NODE_ID_LEN + 1];
    p2p_node_id(kp.pubkey, id);
    p2p_node_id_hex(id, idhex);
    cfg.key = &kp;
    cfg.genesis = &g;
    cfg.vkey = vkey_file ? &vkp : NULL;
    int code = bp_run(&cfg);
    printf("%s (id %s, exit %d)\n", cfg.line, idhex, code);
    chain_keypair_clear(&kp);
    if (vkey_file) chain_keypair_clear(&vkp);
    chain_genesis_free(&g);
    return code;
}
#endif
