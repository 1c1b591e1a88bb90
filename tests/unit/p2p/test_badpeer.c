/* The self test of tests/tools/p2p_badpeer.c: the tool runs in a thread
 * against a scripted node in the test thread (a p2p_session responder over a
 * socketpair). Each mode must do its bad act as a decodable-or-not frame the
 * node can judge, and the exit codes must follow what the node did: 0 when
 * it hung up after the act, 2 when it kept the peer, 3 when it refused the
 * handshake or closed right after it, 4 when it never asked for blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#define BADPEER_NO_MAIN
#include "tests/tools/p2p_badpeer.c"

/* What the scripted node does. */
typedef struct node_script {
    int lenient;       /* never hangs up */
    int ban;           /* closes right after the handshake */
    int wrong_genesis; /* refuses the handshake */
    int never_ask;     /* does not answer a higher STATUS with GET_BLOCKS */
} node_script;

/* What the scripted node saw. */
typedef struct node_seen {
    int refused; /* a frame its session or decoders refused */
    uint8_t refused_type;
    int blocks_n; /* -1: no BLOCKS */
    chain_block block;
    int block_decoded;
    uint64_t claimed; /* the height of the peer's STATUS */
    char why[256];    /* the session's refusal */
    int asked_head;   /* the peer asked for our head block */
} node_seen;

static chain_genesis genesis;
static const uint8_t node_head[32] = {7, 7, 7};
#define NODE_HEIGHT 3
/* Far ahead of the wall clock: the forged block must still come after it. */
#define NODE_HEAD_TIME 4102444800000ull

static size_t node_max_len(void *ctx, uint8_t type)
{
    (void)ctx;
    if (!p2p_msg_known(type)) return 0;
    size_t m = p2p_msg_max_len(type);
    return m ? m : 1; /* GET_PEERS: empty, re-checked on delivery */
}

static void node_send(int fd, p2p_session *s, uint8_t type, const util_buf *pl)
{
    util_buf out;
    util_buf_init(&out);
    assert_int_equal(p2p_session_seal(s, type, pl->data, pl->len, &out, NULL), 0);
    if (send_all(fd, out.data, out.len)) { /* the peer left first: its exit code says so */
    }
    util_buf_free(&out);
}

/* Handles one frame from the peer; 1 when the node hangs up. */
static int node_frame(int fd, p2p_session *s, const node_script *sc, node_seen *seen,
                      const p2p_frame *f)
{
    util_buf pl;
    util_buf_init(&pl);
    int hang = 0;
    if (!p2p_msg_len_ok(f->type, f->len)) {
        seen->refused = 1;
        seen->refused_type = f->type;
        hang = 1;
    } else if (f->type == P2P_MSG_TXS) {
        p2p_txs m = {0};
        if (p2p_txs_decode(&m, f->payload, f->len, NULL)) {
            seen->refused = 1;
            seen->refused_type = f->type;
            hang = 1;
        }
        p2p_txs_free(&m);
    } else if (f->type == P2P_MSG_STATUS) {
        p2p_status st;
        assert_int_equal(p2p_status_decode(&st, f->payload, f->len, NULL), 0);
        seen->claimed = st.height;
        if (st.height > NODE_HEIGHT && !sc->never_ask) {
            p2p_get_blocks g = {NODE_HEIGHT + 1, 5};
            assert_int_equal(p2p_get_blocks_encode(&g, &pl, NULL), 0);
            node_send(fd, s, P2P_MSG_GET_BLOCKS, &pl);
        }
    } else if (f->type == P2P_MSG_GET_BLOCKS) {
        /* The peer asks for our head, to build on it: a block and the
         * commit that finalised it. */
        p2p_get_blocks g;
        assert_int_equal(p2p_get_blocks_decode(&g, f->payload, f->len, NULL), 0);
        assert_true(g.from == NODE_HEIGHT && g.count == 1);
        seen->asked_head = 1;
        chain_block head;
        memset(&head, 0, sizeof head);
        head.h.version = CHAIN_BLOCK_VERSION;
        strcpy(head.h.chain_id, genesis.chain_id);
        head.h.height = NODE_HEIGHT;
        head.h.time_ms = NODE_HEAD_TIME;
        chain_commit c;
        memset(&c, 0, sizeof c);
        c.round = 7;
        c.n = 1;
        util_buf eb, ec;
        util_buf_init(&eb);
        util_buf_init(&ec);
        assert_int_equal(chain_block_encode(&head, &eb), 0);
        assert_int_equal(chain_commit_encode(&c, &ec), 0);
        p2p_block_item it = {{eb.data, eb.len}, {ec.data, ec.len}};
        assert_int_equal(p2p_blocks_encode(NODE_HEIGHT, &it, 1, &pl, NULL), 0);
        node_send(fd, s, P2P_MSG_BLOCKS, &pl);
        util_buf_free(&eb);
        util_buf_free(&ec);
    } else if (f->type == P2P_MSG_BLOCKS) {
        p2p_blocks m = {0};
        assert_int_equal(p2p_blocks_decode(&m, f->payload, f->len, NULL), 0);
        assert_true(m.from == NODE_HEIGHT + 1);
        seen->blocks_n = (int)m.n;
        if (m.n && !seen->block_decoded &&
            chain_block_decode(&seen->block, m.items[0].block.p, m.items[0].block.n, NULL) == 0)
            seen->block_decoded = 1;
        p2p_blocks_free(&m);
        hang = 1; /* a wrong block, or none where one was claimed */
    }
    util_buf_free(&pl);
    return hang && !sc->lenient;
}

static void run_node(int fd, const node_script *sc, node_seen *seen)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_generate(&kp, NULL), 0);
    p2p_session_cfg c;
    memset(&c, 0, sizeof c);
    c.node_key = &kp;
    c.chain_id = genesis.chain_id;
    memcpy(c.genesis_hash, genesis.hash, 32);
    if (sc->wrong_genesis) c.genesis_hash[0] ^= 1;
    c.listen_port = 26656;
    util_buf out;
    util_buf_init(&out);
    p2p_session *s = NULL;
    assert_int_equal(p2p_session_new(&s, &c, &out, NULL), 0);
    if (send_all(fd, out.data, out.len)) {
    }
    util_buf_reset(&out);
    uint8_t buf[65536];
    int open = 0;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 20000) <= 0) fail_msg("the peer went quiet");
        ssize_t k = recv(fd, buf, sizeof buf, 0);
        if (k <= 0) break; /* the peer left */
        size_t off = 0;
        int hang = 0;
        while (!hang) {
            size_t used = 0;
            int got = 0;
            p2p_frame f;
            util_err err = {0};
            int rc = p2p_session_recv(s, buf + off, (size_t)k - off, &used, node_max_len, NULL,
                                      &out, &got, &f, &err);
            if (rc && !seen->why[0]) snprintf(seen->why, sizeof seen->why, "%s", err.msg);
            off += used;
            if (out.len && send_all(fd, out.data, out.len)) {
            }
            util_buf_reset(&out);
            if (rc) {
                seen->refused = 1;
                hang = !sc->lenient || !open; /* a dead session cannot go on */
                if (!hang) {
                    /* Lenient: ignore the rest, keep the connection. */
                    off = (size_t)k;
                }
                break;
            }
            if (got == 1) {
                open = 1;
                if (sc->ban) {
                    hang = 1;
                    break;
                }
                util_buf pl;
                util_buf_init(&pl);
                p2p_status st = {.height = NODE_HEIGHT};
                memcpy(st.head, node_head, 32);
                assert_int_equal(p2p_status_encode(&st, &pl, NULL), 0);
                node_send(fd, s, P2P_MSG_STATUS, &pl);
                util_buf_free(&pl);
            } else if (got == 2) {
                hang = node_frame(fd, s, sc, seen, &f);
            } else if (!used) {
                break;
            }
        }
        if (hang) break;
    }
    util_buf_free(&out);
    p2p_session_free(s);
    close(fd);
}

typedef struct tool_run {
    bp_cfg cfg;
    chain_keypair kp;
    int code;
} tool_run;

static void *tool_thread(void *arg)
{
    tool_run *t = arg;
    t->code = bp_run(&t->cfg);
    return NULL;
}

/* Runs the tool in mode against the scripted node; returns its exit code. */
static int run(bp_mode mode, const node_script *sc, node_seen *seen, uint64_t wait_ms)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    tool_run *t = calloc(1, sizeof *t);
    assert_non_null(t);
    assert_int_equal(chain_keypair_generate(&t->kp, NULL), 0);
    t->cfg.fd = sv[0];
    t->cfg.mode = mode;
    t->cfg.key = &t->kp;
    t->cfg.genesis = &genesis;
    t->cfg.wait_ms = wait_ms;
    memset(seen, 0, sizeof *seen);
    seen->blocks_n = -1;
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, tool_thread, t), 0);
    run_node(sv[1], sc, seen);
    assert_int_equal(pthread_join(th, NULL), 0);
    print_message("%s\n", t->cfg.line);
    int code = t->code;
    free(t);
    return code;
}

static int setup(void **state)
{
    (void)state;
    const char *j = chain_genesis_devnet_json();
    return chain_genesis_parse(&genesis, j, strlen(j), NULL);
}

static int teardown(void **state)
{
    (void)state;
    chain_genesis_free(&genesis);
    return 0;
}

static void test_simple_modes(void **state)
{
    (void)state;
    node_script strict = {0}, lenient = {.lenient = 1};
    node_seen seen;
    static const struct {
        bp_mode mode;
        uint8_t type;
        const char *why;
    } modes[] = {
        {MODE_GARBAGE, P2P_MSG_TXS, ""},
        /* These two are refused by the session, on the header. */
        {MODE_OVERSIZED, 0, "frame_too_large"},
        {MODE_UNKNOWN, 0, "unexpected_type"},
    };
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        assert_int_equal(run(modes[i].mode, &strict, &seen, 5000), BP_OK);
        assert_true(seen.refused);
        if (modes[i].type) assert_int_equal(seen.refused_type, modes[i].type);
        assert_true(strncmp(seen.why, modes[i].why, strlen(modes[i].why)) == 0);
        /* The peer claimed nothing new: the node's own height back. */
        assert_true(seen.claimed == NODE_HEIGHT);
        assert_int_equal(run(modes[i].mode, &lenient, &seen, 300), BP_NOT_DROPPED);
        assert_true(seen.refused);
    }
}

static void test_forged_block(void **state)
{
    (void)state;
    node_script strict = {0}, lenient = {.lenient = 1}, never_ask = {.never_ask = 1};
    node_seen seen;
    assert_int_equal(run(MODE_FORGED_BLOCK, &strict, &seen, 5000), BP_OK);
    assert_true(seen.claimed == NODE_HEIGHT + 5);
    assert_int_equal(seen.blocks_n, 1);
    /* Decodable, at the asked height, on the node's head, and wrong. */
    assert_true(seen.block_decoded);
    assert_true(seen.block.h.height == NODE_HEIGHT + 1);
    assert_memory_equal(seen.block.h.parent, node_head, 32);
    assert_string_equal(seen.block.h.chain_id, genesis.chain_id);
    assert_int_equal(seen.block.h.state_root[0], 0xee);
    /* It builds on the head it asked us for: its commit, a later time. */
    assert_true(seen.asked_head);
    assert_int_equal(seen.block.h.last_commit.round, 7);
    assert_int_equal(seen.block.h.last_commit.n, 1);
    assert_true(seen.block.h.time_ms > NODE_HEAD_TIME);
    chain_block_free(&seen.block);

    assert_int_equal(run(MODE_FORGED_BLOCK, &lenient, &seen, 300), BP_NOT_DROPPED);
    chain_block_free(&seen.block);
    assert_int_equal(run(MODE_FORGED_BLOCK, &never_ask, &seen, 300), BP_NODE_SILENT);
}

static void test_no_serve(void **state)
{
    (void)state;
    node_script strict = {0}, lenient = {.lenient = 1};
    node_seen seen;
    assert_int_equal(run(MODE_NO_SERVE, &strict, &seen, 5000), BP_OK);
    assert_true(seen.claimed == NODE_HEIGHT + 5);
    assert_int_equal(seen.blocks_n, 0);
    assert_int_equal(run(MODE_NO_SERVE, &lenient, &seen, 300), BP_NOT_DROPPED);
}

static void test_probe(void **state)
{
    (void)state;
    node_script ok = {0}, ban = {.ban = 1}, wrong = {.wrong_genesis = 1};
    node_seen seen;
    assert_int_equal(run(MODE_PROBE, &ok, &seen, 5000), BP_OK);
    assert_int_equal(run(MODE_PROBE, &ban, &seen, 5000), BP_REFUSED);
    assert_int_equal(run(MODE_PROBE, &wrong, &seen, 5000), BP_REFUSED);
    /* A banned id is refused whatever the mode. */
    assert_int_equal(run(MODE_GARBAGE, &ban, &seen, 5000), BP_REFUSED);
}

static void test_id_file(void **state)
{
    (void)state;
    char path[] = "/tmp/ol_badpeer_idXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    chain_keypair a, b;
    assert_int_equal(load_key(path, &a, NULL), 0); /* created */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(load_key(path, &b, NULL), 0); /* reused */
    assert_memory_equal(a.pubkey, b.pubkey, 32);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_modes), cmocka_unit_test(test_forged_block),
        cmocka_unit_test(test_no_serve),     cmocka_unit_test(test_probe),
        cmocka_unit_test(test_id_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
