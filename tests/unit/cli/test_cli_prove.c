/* openledger-cli prove against a fake node on 127.0.0.1 that serves a real
 * sparse Merkle proof and a header signed by the genesis validator, intact
 * and tampered with: every tampering, of the proof, the header or the commit
 * that must back it, is refused with its reason (cli/light.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "chain/types/block.h"
#include "chain/types/genesis.h"
#include "cli/cli.h"
#include "util/hex.h"

#include "tests/unit/cli_fake_node.h"

static void addr_of_dev(uint32_t i, chain_addr *a, char s[CHAIN_ADDR_STR_LEN + 1])
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, i), 0);
    chain_addr_from_pubkey(a, kp.pubkey);
    chain_addr_encode(s, a);
    chain_keypair_clear(&kp);
}

/* --- prove ----------------------------------------------------------------- */

static struct {
    uint8_t h[32];
    uint8_t node[CHAIN_SMT_NODE_LEN];
} g_nodes[256];
static size_t g_nn;

static int mget(void *c, const uint8_t h[32], uint8_t out[CHAIN_SMT_NODE_LEN])
{
    for (size_t i = 0; i < g_nn; i++)
        if (!memcmp(g_nodes[i].h, h, 32)) {
            memcpy(out, g_nodes[i].node, CHAIN_SMT_NODE_LEN);
            return 0;
        }
    return UTIL_ENOTFOUND;
}

static void mput(void *c, const uint8_t h[32], const uint8_t node[CHAIN_SMT_NODE_LEN])
{
    uint8_t tmp[CHAIN_SMT_NODE_LEN];
    if (mget(c, h, tmp) == 0) return;
    assert_true(g_nn < 256);
    memcpy(g_nodes[g_nn].h, h, 32);
    memcpy(g_nodes[g_nn++].node, node, CHAIN_SMT_NODE_LEN);
}

static const chain_smt_store g_st = {NULL, mget, mput};

enum {
    T_NONE,
    T_HEADER_HASH,
    T_HEADER_RAW,
    T_HEIGHT,
    T_SHOWN,
    T_VALUE,
    T_STATE_KEY,
    T_PATH,
    T_PROOF,
    T_CLAIM_ABSENT,
    T_OTHER_ROOT,
    T_ADDRESS,
    /* the header is not the chain's: the commit does not back it */
    T_NO_COMMIT,
    T_COMMIT_RAW,
    T_COMMIT_FORGED,
    T_COMMIT_EMPTY,
    T_COMMIT_OTHER_HEIGHT,
    T_FORGED_SET,
    T_PARAMS,
    T_BLOCK0,
    T_COUNT
};

static int g_tamper;
static uint8_t g_root[32];
/* The genesis whose validator (dev key g_val_key) signs the fake's commits. */
static chain_genesis g_gen;
static uint32_t g_val_key = 1000;
static chain_account g_accs[3] = {{1250000000, 3}, {7000000000, 0}, {100, 9}}; /* dev1..dev3 */

static void account_path(const chain_addr *a, uint8_t path[32])
{
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];
    chain_account_key(key, a);
    chain_sha256(path, key, sizeof key);
}

static char *hexdup(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    s[0] = '0', s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    return s;
}

static void set_hex(json_t *o, const char *k, const uint8_t *p, size_t n)
{
    char *s = hexdup(p, n);
    json_object_set_new(o, k, json_string(s));
    free(s);
}

static char *h_proof(const char *m, json_t *params)
{
    if (strcmp(m, "state_getProof")) return rpc_error(-32601, "method not found", NULL);
    chain_addr a;
    assert_int_equal(chain_addr_decode(&a, json_string_value(json_array_get(params, 0)), NULL), 0);
    int idx = -1;
    for (uint32_t i = 0; i < 3; i++) {
        chain_addr d;
        char ds[CHAIN_ADDR_STR_LEN + 1];
        addr_of_dev(i + 1, &d, ds);
        if (!memcmp(d.b, a.b, CHAIN_ADDR_LEN)) idx = (int)i;
    }
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN], path[32], val[CHAIN_ACCOUNT_VALUE_LEN];
    chain_account_key(key, &a);
    account_path(&a, path);
    chain_header hd;
    memset(&hd, 0, sizeof hd);
    hd.version = CHAIN_BLOCK_VERSION;
    strcpy(hd.chain_id, g_gen.chain_id);
    hd.height = g_tamper == T_BLOCK0 ? 0 : 12;
    memcpy(hd.state_root, g_root, 32);
    chain_header_fill_sets(&hd, &g_gen);
    if (g_tamper == T_OTHER_ROOT) hd.state_root[0] ^= 1;
    uint32_t signer = g_val_key;
    if (g_tamper == T_FORGED_SET || g_tamper == T_COMMIT_FORGED) {
        /* A forger signs with its own key; in T_FORGED_SET it also puts its
         * own one-validator set in the header. */
        chain_validator v = g_gen.vals[0];
        chain_keypair fk;
        assert_int_equal(chain_keypair_dev(&fk, 7), 0);
        memcpy(v.pubkey, fk.pubkey, 32);
        if (g_tamper == T_FORGED_SET) chain_validators_hash(&v, 1, hd.validators_hash);
        signer = 7;
    }
    if (g_tamper == T_PARAMS) hd.consensus_params_hash[3] ^= 1;
    /* The commit: a precommit of the header by the genesis validator. */
    uint8_t hid[32], digest[32];
    chain_header_hash(&hd, hid);
    chain_vote_digest(digest, g_gen.chain_id, g_gen.hash,
                      hd.height + (g_tamper == T_COMMIT_OTHER_HEIGHT), 0, CHAIN_VOTE_PRECOMMIT,
                      hid);
    chain_commit cm;
    memset(&cm, 0, sizeof cm);
    if (g_tamper != T_COMMIT_EMPTY && g_tamper != T_BLOCK0) {
        chain_keypair vk;
        assert_int_equal(chain_keypair_dev(&vk, signer), 0);
        assert_int_equal(chain_sign(cm.sigs[0].sig, digest, &vk, NULL), 0);
        cm.n = 1;
    }
    chain_smt_proof *pr = calloc(1, sizeof *pr);
    assert_int_equal(chain_smt_prove(&g_st, g_root, path, pr, NULL), 0);
    if (g_tamper == T_PROOF) {
        assert_true(pr->nsib > 0);
        pr->siblings[pr->nsib - 1][5] ^= 0x40;
    }
    util_buf pb, hb, cb;
    util_buf_init(&pb);
    util_buf_init(&hb);
    util_buf_init(&cb);
    assert_int_equal(chain_smt_proof_encode(pr, &pb), 0);
    assert_int_equal(chain_header_encode(&hd, &hb), 0);
    assert_int_equal(chain_commit_encode(&cm, &cb), 0);
    if (g_tamper == T_COMMIT_RAW) cb.len--;
    free(pr);
    uint8_t hh[32];
    chain_header_hash(&hd, hh);
    if (g_tamper == T_HEADER_HASH) hh[31] ^= 1;
    json_t *r = json_object();
    json_object_set_new(r, "address", json_copy(json_array_get(params, 0)));
    if (g_tamper == T_ADDRESS) {
        char other[CHAIN_ADDR_STR_LEN + 1];
        addr_of_dev(9, &a, other);
        json_object_set_new(r, "address", json_string(other));
    }
    if (g_tamper == T_STATE_KEY) key[1] ^= 1;
    if (g_tamper == T_PATH) path[0] ^= 1;
    set_hex(r, "stateKey", key, sizeof key);
    set_hex(r, "path", path, 32);
    if (idx >= 0 && g_tamper != T_CLAIM_ABSENT) {
        chain_account acc = g_accs[idx];
        if (g_tamper == T_VALUE) acc.balance++;
        chain_account_encode(val, &acc);
        if (g_tamper == T_SHOWN) acc.balance++;
        char bal[32];
        snprintf(bal, sizeof bal, "%llu", (unsigned long long)acc.balance);
        json_object_set_new(
            r, "account", json_pack("{s:s, s:I}", "balance", bal, "nonce", (json_int_t)acc.nonce));
        set_hex(r, "value", val, sizeof val);
    } else {
        json_object_set_new(r, "account", json_null());
        json_object_set_new(r, "value", json_null());
    }
    set_hex(r, "proof", pb.data, pb.len);
    json_t *jh = json_pack("{s:i, s:I}", "version", CHAIN_BLOCK_VERSION, "height",
                           (json_int_t)(g_tamper == T_HEIGHT ? 13 : hd.height));
    set_hex(jh, "stateRoot", hd.state_root, 32);
    json_object_set_new(r, "header", jh);
    if (g_tamper == T_HEADER_RAW) hb.len -= 3;
    set_hex(r, "headerRaw", hb.data, hb.len);
    set_hex(r, "headerHash", hh, 32);
    if (g_tamper != T_NO_COMMIT) set_hex(r, "commitRaw", cb.data, cb.len);
    util_buf_free(&pb);
    util_buf_free(&hb);
    util_buf_free(&cb);
    return ok(r);
}

static void test_prove(void **state)
{
    g_nn = 0;
    chain_smt_update ups[3];
    for (uint32_t i = 0; i < 3; i++) {
        chain_addr a;
        char s[CHAIN_ADDR_STR_LEN + 1];
        uint8_t v[CHAIN_ACCOUNT_VALUE_LEN];
        addr_of_dev(i + 1, &a, s);
        account_path(&a, ups[i].path);
        chain_account_encode(v, &g_accs[i]);
        chain_sha256(ups[i].value_hash, v, sizeof v);
        ups[i].remove = 0;
    }
    uint8_t zero[32] = {0};
    assert_int_equal(chain_smt_apply(&g_st, zero, ups, 3, g_root, NULL), 0);
    util_err ge = {0};
    const char *dj = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g_gen, dj, strlen(dj), &ge), 0);
    g_val_key = 1000;
    fake_start(h_proof);
    char *out, *err, want[256], root[67] = "0x";
    util_hex_encode(root + 2, g_root, 32);
    chain_addr a;
    char s1[CHAIN_ADDR_STR_LEN + 1], s5[CHAIN_ADDR_STR_LEN + 1];
    addr_of_dev(1, &a, s1);
    addr_of_dev(5, &a, s5);

    g_tamper = T_NONE;
    assert_int_equal(RUN("prove", "dev1"), 0);
    snprintf(want, sizeof want,
             "proof OK: %s has 1.25 OPEN, nonce 3 at height 12 (state root %s)\n", s1, root);
    assert_string_equal(out, want);
    DROP();
    assert_int_equal(RUN("prove", "dev5"), 0);
    snprintf(want, sizeof want, "proof OK: %s is absent at height 12 (state root %s)\n", s5, root);
    assert_string_equal(out, want);
    DROP();
    assert_int_equal(RUN("--json", "prove", s1), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(json_object_get(j, "proof"));
    json_decref(j);
    DROP();

    static const char *const reasons[T_COUNT] = {
        [T_HEADER_HASH] = "does not hash to headerHash",
        [T_HEADER_RAW] = "headerRaw does not decode",
        [T_HEIGHT] = "header height 13 differs",
        [T_SHOWN] = "is not the proven value",
        [T_VALUE] = "does not hold against the state root",
        [T_STATE_KEY] = "stateKey is not this address's account key",
        [T_PATH] = "path is not SHA-256(stateKey)",
        [T_PROOF] = "does not hold against the state root",
        [T_CLAIM_ABSENT] = "does not hold against the state root",
        [T_OTHER_ROOT] = "does not hold against the state root",
        [T_ADDRESS] = "the proof is for",
        [T_NO_COMMIT] = "the node sent no commit for the header",
        [T_COMMIT_RAW] = "commitRaw does not decode",
        [T_COMMIT_FORGED] = "no valid commit by more than 2/3 of the validators",
        [T_COMMIT_EMPTY] = "0 of 10 voting power, more than 2/3 is needed",
        [T_COMMIT_OTHER_HEIGHT] = "signature of validator 0 (devnet-validator) does not verify",
        [T_FORGED_SET] = "validatorsHash is not the trusted genesis validator set's",
        [T_PARAMS] = "consensusParamsHash is not the trusted genesis parameters'",
        [T_BLOCK0] = "the header claims to be block 0 but is not the trusted genesis' block 0",
    };
    for (g_tamper = T_HEADER_HASH; g_tamper < T_COUNT; g_tamper++) {
        assert_int_equal(RUN("prove", "dev1"), 1);
        snprintf(want, sizeof want, "error: proof verification FAILED for %s: ", s1);
        if (strncmp(err, want, strlen(want)) || !strstr(err, reasons[g_tamper]))
            fail_msg("tamper %d: got '%s'", g_tamper, err);
        assert_string_equal(out, "");
        DROP();
    }
    /* An absent account with a forged proof root fails too. */
    g_tamper = T_OTHER_ROOT;
    assert_int_equal(RUN("prove", "dev5"), 1);
    DROP();

    /* Another network: its genesis, given with --genesis, is what the
     * header must be signed under; the built-in devnet genesis refuses it. */
    char gpath[] = "/tmp/ol-test-genesis-XXXXXX";
    int fd = mkstemp(gpath);
    assert_true(fd >= 0);
    json_t *doc = json_loads(dj, 0, NULL);
    chain_keypair vk;
    char pk[67] = "0x";
    assert_int_equal(chain_keypair_dev(&vk, 2000), 0);
    util_hex_encode(pk + 2, vk.pubkey, 32);
    json_object_set_new(doc, "chainId", json_string("openledger-other"));
    json_object_set_new(doc, "validators",
                        json_pack("[{s:s,s:s,s:i}]", "name", "other", "pubkey", pk, "power", 3));
    char *gj = json_dumps(doc, 0);
    json_decref(doc);
    assert_int_equal(write(fd, gj, strlen(gj)), (ssize_t)strlen(gj));
    close(fd);
    chain_genesis_free(&g_gen);
    assert_int_equal(chain_genesis_parse(&g_gen, gj, strlen(gj), &ge), 0);
    free(gj);
    g_val_key = 2000;
    g_tamper = T_NONE;
    assert_int_equal(RUN("prove", "--genesis", gpath, "dev1"), 0);
    assert_non_null(strstr(out, "proof OK"));
    DROP();
    assert_int_equal(RUN("prove", "dev1"), 1);
    assert_non_null(strstr(err, "the header is for chain 'openledger-other'"));
    DROP();
    assert_int_equal(RUN("prove", "--genesis", "/nonexistent/g.json", "dev1"), 1);
    assert_non_null(strstr(err, "trusted genesis: /nonexistent/g.json"));
    DROP();
    unlink(gpath);
    chain_genesis_free(&g_gen);
    fake_stop();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prove),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
