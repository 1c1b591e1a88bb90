/* Output signatures on an in-process devnet node (node/output_sigs.c,
 * docs/rollup.md "Output signatures between validators"): the validator
 * signs the output root of each output height it commits, and
 * rollup_outputSignatures returns it packed for OutputOracle; OUTPUT_SIG
 * messages from peers are refused (the peer banned) when a correct relayer
 * would never send them, ignored without an ECDSA recovery when outside the
 * window or repeated, kept when valid; a validator signing another root
 * than the node's, or two roots, is evidence in consensus_state; the window
 * slides with the head. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "chain/exec/bridge.h"
#include "node/node_internal.h"
#include "node/output_sigs.h"
#include "p2p/msg.h"
#include "rollup/output.h"
#include "util/hex.h"

static node *start_node_in(const char *datadir)
{
    char *argv[] = {
        "openledgerd",      "--dev",       "--rpc", "127.0.0.1:0", "--p2p",         "off",
        "--quiet-accounts", "--log-level", "error", "--datadir",   (char *)datadir, NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, datadir ? 11 : 9, argv, &err), NODE_CFG_RUN);
    node *n;
    if (node_start(&n, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    return n;
}

static node *start_node(void)
{
    return start_node_in(NULL);
}

static void produce_to(node *n, uint64_t h)
{
    while (chain_store_height(n->store) < h) {
        int produced = 0;
        util_err err = {0};
        if (node_produce_block(n, 1, &produced, &err)) fail_msg("produce: %s", err.msg);
        assert_true(produced);
    }
}

/* An OUTPUT_SIG payload for (h, root) signed by sk as validator idx. */
static void make_msg(node *n, util_buf *b, uint64_t h, uint16_t idx, const uint8_t root[32],
                     const uint8_t sk[32])
{
    p2p_output_sig m = {.height = h, .validator = idx};
    memcpy(m.root, root, 32);
    uint8_t digest[32];
    util_err err = {0};
    rollup_output_digest(digest, n->genesis.hash, h, root);
    assert_int_equal(rollup_output_sign(m.sig, digest, sk, &err), 0);
    util_buf_reset(b);
    assert_int_equal(p2p_output_sig_encode(&m, b, &err), 0);
}

static int deliver(node *n, const util_buf *b, util_err *err)
{
    return node_outsig_on_message(n, NULL, b->data, b->len, err);
}

static json_t *call(node *n, const char *method, const char *params, int want_code)
{
    json_error_t je;
    json_t *p = json_loads(params, 0, &je);
    assert_non_null(p);
    rpc_error e = {0};
    json_t *r = rpc_dispatch_call(n->dispatch, method, p, &e);
    json_decref(p);
    if (want_code) {
        if (r) fail_msg("%s %s: expected error %d", method, params, want_code);
        assert_int_equal(e.code, want_code);
        return NULL;
    }
    if (!r) fail_msg("%s %s: %s", method, params, e.message);
    return r;
}

static uint64_t counter(node *n, const char *name)
{
    json_t *st = call(n, "consensus_state", "[]", 0);
    json_t *os = json_object_get(st, "outputSignatures");
    assert_non_null(os);
    uint64_t v = (uint64_t)json_integer_value(json_object_get(os, name));
    json_decref(st);
    return v;
}

static void own_root(node *n, uint64_t h, uint8_t root[32])
{
    uint8_t id[32], wroot[32];
    chain_block b;
    util_err err = {0};
    assert_int_equal(chain_store_block_id_at(n->store, h, id, &err), 0);
    assert_int_equal(chain_store_get_block(n->store, id, &b, NULL, &err), 0);
    assert_int_equal(chain_bridge_wroot_at(n->store, h, wroot, &err), 0);
    rollup_output_root(root, b.h.state_root, id, wroot);
    chain_block_free(&b);
}

static void test_own_signature(void **state)
{
    (void)state;
    node *n = start_node();
    assert_int_equal(n->genesis.params.output_interval_blocks, 10);
    produce_to(n, 9);
    call(n, "rollup_outputSignatures", "[]", RPC_NOT_FOUND); /* no output height yet */
    produce_to(n, 10);
    json_t *r = call(n, "rollup_outputSignatures", "[10]", 0);
    uint8_t root[32];
    own_root(n, 10, root);
    char want[67] = "0x";
    util_hex_encode(want + 2, root, 32);
    assert_string_equal(json_string_value(json_object_get(r, "outputRoot")), want);
    assert_true(json_is_true(json_object_get(r, "ownRoot")));
    assert_true(json_is_true(json_object_get(r, "quorum")));
    assert_int_equal(json_array_size(json_object_get(r, "signers")), 1);
    /* The packed signature recovers to the validator's address: what the
     * oracle's ecrecover checks. */
    const char *sigs = json_string_value(json_object_get(r, "sigs"));
    assert_int_equal(strlen(sigs), 2 + 130);
    uint8_t sig[65], digest[32];
    assert_int_equal(util_hex_decode_exact(sig, 65, sigs + 2), 0);
    rollup_output_digest(digest, n->genesis.hash, 10, root);
    rollup_sigset set;
    util_err err = {0};
    rollup_sigset_init(&set, digest, &n->genesis);
    assert_int_equal(rollup_sigset_add(&set, &n->genesis, sig, &err), 0);
    assert_true(rollup_sigset_quorum(&set));
    json_decref(r);
    r = call(n, "rollup_outputSignatures", "[]", 0);
    assert_int_equal(json_integer_value(json_object_get(r, "height")), 10);
    json_decref(r);
    assert_int_equal(counter(n, "signed"), 1);
    call(n, "rollup_outputSignatures", "[7]", RPC_INVALID_PARAMS);
    call(n, "rollup_outputSignatures", "[0]", RPC_INVALID_PARAMS);
    call(n, "rollup_outputSignatures", "[1000]", RPC_NOT_FOUND);
    call(n, "rollup_outputSignatures", "[10, 1]", RPC_INVALID_PARAMS);
    node_free(n);
}

static void test_messages(void **state)
{
    (void)state;
    node *n = start_node();
    produce_to(n, 10);
    util_buf b;
    util_buf_init(&b);
    util_err err = {0};
    uint8_t root[32], fake[32], other[32];
    own_root(n, 10, root);
    memset(fake, 0x5a, 32);
    memset(other, 0x6b, 32);
    const uint8_t *vsk = n->validator.seckey;
    chain_keypair stranger;
    assert_int_equal(chain_keypair_dev(&stranger, 0), 0);

    /* Refused (the peer is banned): not an output height, an index past
     * the set, a signature by someone else, a signature altered. */
    make_msg(n, &b, 7, 0, root, vsk);
    assert_int_equal(deliver(n, &b, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "not a multiple"));
    make_msg(n, &b, 10, 1, root, vsk);
    assert_int_equal(deliver(n, &b, &err), UTIL_EINVAL);
    make_msg(n, &b, 20, 0, root, stranger.seckey);
    assert_int_equal(deliver(n, &b, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "bad_output_sig"));
    make_msg(n, &b, 20, 0, root, vsk);
    b.data[8] ^= 1; /* the root no longer matches the signature */
    assert_int_equal(deliver(n, &b, &err), UTIL_EINVAL);
    uint8_t junk[P2P_OUTPUT_SIG_LEN - 1] = {0};
    assert_int_equal(node_outsig_on_message(n, NULL, junk, sizeof junk, &err), UTIL_EINVAL);
    assert_int_equal(counter(n, "refused"), 4);

    /* Ignored without a recovery: outside the window (the head is 10: 10
     * and the next 4 output heights are in it), or a repeat. A repeat with
     * a garbage signature is still a repeat: no ECDSA, no ban. */
    make_msg(n, &b, 60, 0, fake, vsk);
    assert_int_equal(deliver(n, &b, &err), 0);
    assert_int_equal(counter(n, "outsideWindow"), 1);
    make_msg(n, &b, 10, 0, root, vsk);
    b.data[50] ^= 0xff;
    assert_int_equal(deliver(n, &b, &err), 0);
    assert_int_equal(counter(n, "duplicates"), 1);
    assert_int_equal(counter(n, "accepted"), 0);

    /* Ahead of the head: kept before the block is here; once it is, a root
     * other than the node's is evidence, and the validator (this node's
     * own key, as after a restart with a diverged store) does not sign a
     * second root. */
    make_msg(n, &b, 20, 0, fake, vsk);
    assert_int_equal(deliver(n, &b, &err), 0);
    assert_int_equal(counter(n, "accepted"), 1);
    json_t *r = call(n, "rollup_outputSignatures", "[20]", 0);
    assert_false(json_is_true(json_object_get(r, "ownRoot")));
    assert_int_equal(json_array_size(json_object_get(r, "signers")), 1);
    json_decref(r);
    produce_to(n, 20);
    assert_int_equal(counter(n, "signed"), 1); /* height 10 only */
    r = call(n, "rollup_outputSignatures", "[20]", 0);
    assert_true(json_is_true(json_object_get(r, "ownRoot")));
    assert_int_equal(json_array_size(json_object_get(r, "signers")), 0);
    assert_false(json_is_true(json_object_get(r, "quorum")));
    assert_string_equal(json_string_value(json_object_get(r, "sigs")), "0x");
    json_decref(r);

    /* Two roots for one height: a conflict. The same pair again is not
     * recorded twice. */
    make_msg(n, &b, 30, 0, fake, vsk);
    assert_int_equal(deliver(n, &b, &err), 0);
    make_msg(n, &b, 30, 0, other, vsk);
    assert_int_equal(deliver(n, &b, &err), 0);
    assert_int_equal(deliver(n, &b, &err), 0);
    json_t *st = call(n, "consensus_state", "[]", 0);
    json_t *os = json_object_get(st, "outputSignatures");
    assert_int_equal(json_integer_value(json_object_get(os, "evidenceTotal")), 2);
    json_t *ev = json_object_get(os, "evidence");
    assert_int_equal(json_array_size(ev), 2);
    json_t *e0 = json_array_get(ev, 0), *e1 = json_array_get(ev, 1);
    assert_int_equal(json_integer_value(json_object_get(e0, "height")), 20);
    assert_string_equal(json_string_value(json_object_get(e0, "kind")), "wrongRoot");
    assert_int_equal(json_integer_value(json_object_get(e1, "height")), 30);
    assert_string_equal(json_string_value(json_object_get(e1, "kind")), "conflict");
    assert_non_null(json_object_get(e1, "sigA"));
    json_decref(st);

    /* The window slides: at head 200, height 10 is gone; 90 (the 12th
     * output height back from 200) is the oldest kept. */
    produce_to(n, 200);
    call(n, "rollup_outputSignatures", "[10]", RPC_NOT_FOUND);
    call(n, "rollup_outputSignatures", "[80]", RPC_NOT_FOUND);
    r = call(n, "rollup_outputSignatures", "[90]", 0);
    assert_true(json_is_true(json_object_get(r, "quorum")));
    json_decref(r);
    r = call(n, "rollup_outputSignatures", "[240]", 0);
    assert_true(json_is_null(json_object_get(r, "outputRoot")));
    json_decref(r);
    call(n, "rollup_outputSignatures", "[250]", RPC_NOT_FOUND);

    chain_keypair_clear(&stranger);
    util_buf_free(&b);
    node_free(n);
}

/* The sink (the proposer's add_sig) gets each signature of the node's own
 * root once it takes it; "not now" (UTIL_ESTATE) offers it again after the
 * next block. */
typedef struct sink_rec {
    uint64_t limit; /* heights above: not now */
    uint64_t taken[8], calls;
    size_t ntaken;
} sink_rec;

static int sink(void *ctx, uint64_t height, const uint8_t root[32], const uint8_t sig[65])
{
    sink_rec *r = ctx;
    (void)root, (void)sig;
    r->calls++;
    if (height > r->limit) return UTIL_ESTATE;
    assert_true(r->ntaken < 8);
    r->taken[r->ntaken++] = height;
    return 0;
}

static void test_sink(void **state)
{
    (void)state;
    node *n = start_node();
    sink_rec r = {.limit = 10};
    node_outsig_set_sink(n, sink, &r);
    produce_to(n, 10);
    assert_int_equal(r.ntaken, 1);
    assert_int_equal(r.taken[0], 10);
    produce_to(n, 20);
    assert_int_equal(r.ntaken, 1); /* 20: not now */
    uint64_t calls = r.calls;
    produce_to(n, 21);
    assert_true(r.calls > calls); /* offered again */
    assert_int_equal(r.ntaken, 1);
    r.limit = 1000;
    produce_to(n, 22);
    assert_int_equal(r.ntaken, 2);
    assert_int_equal(r.taken[1], 20);
    calls = r.calls;
    produce_to(n, 29);
    assert_int_equal(r.calls, calls); /* taken: never offered again */
    node_free(n);
}

/* After a restart the slots are empty: asked for a height the store holds,
 * the node takes its root from the stored block; at the next block, as a
 * validator, it signs the window's heights again (the same signature: RFC
 * 6979). */
static void test_restart(void **state)
{
    (void)state;
    char dir[] = "/tmp/ol-outsig-XXXXXX";
    assert_non_null(mkdtemp(dir));
    node *n = start_node_in(dir);
    produce_to(n, 20);
    json_t *r = call(n, "rollup_outputSignatures", "[20]", 0);
    char *before = strdup(json_string_value(json_object_get(r, "sigs")));
    json_decref(r);
    node_free(n);
    n = start_node_in(dir);
    assert_int_equal(chain_store_height(n->store), 20);
    assert_int_equal(counter(n, "signed"), 0);
    /* The method reads the root from the store but signs nothing (it may
     * run on an RPC worker loop, away from the network)... */
    r = call(n, "rollup_outputSignatures", "[20]", 0);
    assert_true(json_is_true(json_object_get(r, "ownRoot")));
    assert_false(json_is_true(json_object_get(r, "quorum")));
    json_decref(r);
    assert_int_equal(counter(n, "signed"), 0);
    /* ... the next block does: every output height of the window the store
     * holds (10 and 20), the same signature as before the restart. */
    produce_to(n, 21);
    assert_int_equal(counter(n, "signed"), 2);
    r = call(n, "rollup_outputSignatures", "[20]", 0);
    assert_true(json_is_true(json_object_get(r, "quorum")));
    assert_string_equal(json_string_value(json_object_get(r, "sigs")), before);
    json_decref(r);
    free(before);
    node_free(n);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_signature),
        cmocka_unit_test(test_messages),
        cmocka_unit_test(test_restart),
        cmocka_unit_test(test_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
