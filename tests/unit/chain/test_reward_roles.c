/* Settlement rules the host enforces whatever the reward contract does, with
 * real ATTRIBUTE transactions on a real store:
 *   - weights_overflow: checked before the contract runs (no VM gas used);
 *   - payout roles come from the host: a contract can label a pay as a
 *     contributor payout only for an entry of the record, to that entry's
 *     contributor, with the pay's exact amount, right after the pay;
 *   - a proposer who owns the model gets the validators' share as role
 *     `validator`, told apart from the owner share;
 *   - contributor and contribution earnings totals are checked, never
 *     wrapped (earnings_overflow). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/attr.h"
#include "chain/exec/contract.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "vm/vm.h"

#define OWNER 0  /* datanet owner */
#define C1 1     /* contributor of contribution 1 */
#define C2 2     /* contributor of contribution 2 */
#define MOWNER 4 /* model owner */
#define ATTESTOR 5
#define VALIDATOR 9

static char g_dir[256];
static chain_store *g_st;
static uint64_t g_nonce[16];
static uint32_t g_proposer = VALIDATOR;
static uint64_t g_models;

typedef void (*prep_fn)(chain_exec *ex);

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-reward-roles-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    util_err err = {0};
    assert_int_equal(chain_store_open(&g_st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(g_st, fx_devnet(), &err), 0);
    memset(g_nonce, 0, sizeof g_nonce);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    chain_store_close(g_st);
    fx_rm_tree(g_dir);
    return 0;
}

/* The one place new transactions are signed (the signing domain may grow). */
static void sign(chain_tx *tx, uint32_t dev)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_err err = {0};
    if (chain_tx_sign(tx, &kp, fx_devnet()->hash, &err)) fail_msg("sign: %s", err.msg);
    chain_keypair_clear(&kp);
}

static chain_tx mk(uint32_t dev, uint8_t type)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = type;
    tx.nonce = g_nonce[dev]++;
    tx.gas_limit = 10000000;
    tx.gas_price = 1;
    return tx;
}

/* Runs one signed transaction in a new block (after prep, when given) and
 * commits it; returns its receipt. The tx is freed. */
static chain_receipt run(chain_tx tx, uint32_t dev, prep_fn prep)
{
    sign(&tx, dev);
    const chain_header *parent = chain_store_head_header(g_st);
    chain_block b;
    memset(&b, 0, sizeof b);
    b.h.version = CHAIN_BLOCK_VERSION;
    snprintf(b.h.chain_id, sizeof b.h.chain_id, "%s", fx_devnet()->chain_id);
    b.h.height = parent->height + 1;
    chain_store_head_id(g_st, b.h.parent);
    b.h.time_ms = parent->time_ms + 1000;
    fx_dev_addr(&b.h.proposer, g_proposer);
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = b.h.height,
                          .time_ms = b.h.time_ms,
                          .proposer = b.h.proposer,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(g_st, &ctx);
    assert_non_null(ex);
    if (prep) prep(ex);
    util_err err = {0};
    chain_receipt r;
    if (chain_exec_apply_tx(ex, &tx, &r, &err)) fail_msg("apply: %s", err.msg);
    assert_int_equal(chain_exec_finish(ex, b.h.state_root, &err), 0);
    b.ntx = 1;
    b.txs = &tx;
    chain_block_tx_root(&b, b.h.tx_root);
    chain_commit c;
    memset(&c, 0, sizeof c);
    if (chain_store_commit_block(g_st, &b, &r, ex, &c, &err)) fail_msg("commit: %s", err.msg);
    chain_exec_free(ex);
    chain_tx_free(&tx);
    return r;
}

static void run_ok(chain_tx tx, uint32_t dev)
{
    chain_receipt r = run(tx, dev, NULL);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("failed: %s", r.error);
    chain_receipt_free(&r);
}

static chain_addr deploy(const char *src)
{
    uint8_t *code;
    size_t len;
    util_err err = {0};
    if (vm_asm_source("test", src, strlen(src), &code, &len, &err)) fail_msg("asm: %s", err.msg);
    chain_tx tx = mk(0, CHAIN_TX_DEPLOY);
    tx.body.deploy.code = code;
    tx.body.deploy.len = (uint32_t)len;
    chain_receipt r = run(tx, 0, NULL);
    if (r.status != CHAIN_RECEIPT_OK) fail_msg("deploy: %s", r.error);
    chain_addr a = r.created;
    chain_receipt_free(&r);
    return a;
}

/* Registers a model on datanet 1 (owner MOWNER, attestor ATTESTOR) and
 * returns its id; a zero contract means the default one. */
static uint64_t model(const chain_addr *contract, uint16_t obp, uint16_t vbp)
{
    chain_tx tx = mk(MOWNER, CHAIN_TX_MODEL_REGISTER);
    chain_tx_model_register *b = &tx.body.model_register;
    char name[32];
    snprintf(name, sizeof name, "m%llu", (unsigned long long)g_models + 1);
    static const uint64_t ds[] = {1};
    assert_int_equal(chain_tx_set_str(&b->name, name, CHAIN_NAME_MAX), 0);
    assert_int_equal(chain_tx_set_datanets(b, ds, 1), 0);
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, ATTESTOR), 0);
    memcpy(b->attestor, kp.pubkey, 32);
    chain_keypair_clear(&kp);
    if (contract) b->reward_contract = *contract;
    b->owner_bp = obp;
    b->validators_bp = vbp;
    b->contributors_bp = (uint16_t)(10000 - obp - vbp);
    run_ok(tx, MOWNER);
    return ++g_models;
}

static chain_receipt attribute(uint64_t m, uint64_t fee, uint32_t n, const chain_attr_entry *es,
                               prep_fn prep)
{
    chain_tx tx = mk(ATTESTOR, CHAIN_TX_ATTRIBUTE);
    chain_tx_attribute *b = &tx.body.attribute;
    b->model = m;
    b->fee = fee;
    b->method = CHAIN_ATTR_OTHER;
    b->nentries = n;
    b->entries = malloc(n * sizeof *es);
    assert_non_null(b->entries);
    memcpy(b->entries, es, n * sizeof *es);
    return run(tx, ATTESTOR, prep);
}

/* Datanet 1 (open, no bond), contribution 1 by C1 and 2 by C2. */
static void story(void)
{
    chain_tx tx = mk(OWNER, CHAIN_TX_DATANET_CREATE);
    assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, "open", CHAIN_NAME_MAX), 0);
    run_ok(tx, OWNER);
    for (uint32_t dev = C1; dev <= C2; dev++) {
        tx = mk(dev, CHAIN_TX_CONTRIBUTE);
        tx.body.contribute.datanet = 1;
        memset(tx.body.contribute.content_hash, (int)dev, 32);
        tx.body.contribute.size = 10;
        run_ok(tx, dev);
    }
}

/* Role byte of each payout event of r, in order; returns the count. */
static size_t roles(const chain_receipt *r, uint8_t *out, uint64_t *amounts)
{
    uint8_t topic[32];
    chain_payout_topic(topic);
    size_t n = 0;
    for (uint32_t i = 0; i < r->nevents; i++) {
        if (memcmp(r->events[i].topic, topic, 32) != 0) continue;
        out[n] = r->events[i].data[36];
        amounts[n++] = util_get_u64le(r->events[i].data + 37);
    }
    return n;
}

static void test_weights_overflow(void **state)
{
    (void)state;
    story();
    uint64_t m = model(NULL, 2000, 1000);
    chain_attr_entry es[] = {{1, UINT64_MAX}, {2, 1}};
    chain_receipt r = attribute(m, 1000, 2, es, NULL);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_int_equal(r.code, CHAIN_FAIL_WEIGHTS_OVERFLOW);
    assert_string_equal(r.error, "weights_overflow: the total weight does not fit in 64 bits");
    /* The host refused before the contract ran: intrinsic gas only. */
    assert_int_equal(r.gas_used, CHAIN_GAS_ATTRIBUTE + 2 * CHAIN_GAS_ATTRIBUTE_PER_ENTRY);
    assert_null(r.revert);
    chain_receipt_free(&r);
}

/* A custom reward contract: reads entry 0, pays PAYEE the whole fee and logs
 * a contributor label (record id, CONTRIB, AMOUNT), in the order ORDER. */
static chain_addr labeller(const char *payee, const char *contrib, const char *amount,
                           int log_first)
{
    static const char pay[] = "    mov r1, r11\n"
                              "    mov r2, r10\n"
                              "    sys pay\n";
    static const char log[] = "    ldi r2, 0x1100\n"
                              "    st64 [r2], r15\n"
                              "    st64 [r2+8], r4\n"
                              "    st64 [r2+16], r5\n"
                              "    ldi r1, topic\n"
                              "    ldi r3, 24\n"
                              "    sys emit\n";
    char src[2048];
    snprintf(src, sizeof src,
             ".data\n"
             "topic: .ascii \"ol.reward.contribution\"\n"
             "       .zero 10\n"
             ".code\n"
             "    sys rec_fee\n"
             "    mov r10, r0\n"
             "    sys rec_id\n"
             "    mov r15, r0\n"
             "    ldi r1, 0\n"
             "    ldi r2, 0x1040\n"
             "    sys rec_entry\n"
             "    ldi r1, 0x1000\n"
             "    sys rec_owner\n"
             "    %s\n" /* r11 = the payee's address */
             "    %s\n" /* r4 = the labelled contribution */
             "    %s\n" /* r5 = the labelled amount */
             "%s%s"
             "    stop\n",
             payee, contrib, amount, log_first ? log : pay, log_first ? pay : log);
    return deploy(src);
}

#define TO_CONTRIBUTOR "ldi r11, 0x1050"
#define TO_OWNER "ldi r11, 0x1000"
#define ENTRY_ID "ldi r6, 0x1040\n    ld64 r4, [r6]"
#define FEE "mov r5, r10"

static void test_contract_labels_are_checked(void **state)
{
    (void)state;
    static const struct {
        const char *what, *payee, *contrib, *amount;
        int log_first;
        const char *err;
    } cases[] = {
        {"a true label", TO_CONTRIBUTOR, ENTRY_ID, FEE, 0, NULL},
        {"the owner labelled as contributor", TO_OWNER, ENTRY_ID, FEE, 0,
         "invalid_payout: a pay labelled for contribution 1 does not go to its contributor"},
        {"a contribution not in the record", TO_CONTRIBUTOR, "ldi r4, 2", FEE, 0,
         "invalid_payout: contribution 2 is not an entry of record"},
        {"another amount", TO_CONTRIBUTOR, ENTRY_ID, "addi r5, r10, -1", 0,
         "invalid_payout: a contribution log says 999, its pay moved 1000"},
        {"a label before the pay", TO_CONTRIBUTOR, ENTRY_ID, FEE, 1,
         "invalid_payout: a contribution log must follow the pay it labels"},
    };
    chain_attr_entry es[] = {{1, 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        chain_addr c =
            labeller(cases[i].payee, cases[i].contrib, cases[i].amount, cases[i].log_first);
        uint64_t m = model(&c, 0, 0);
        chain_receipt r = attribute(m, 1000, 1, es, NULL);
        if (!cases[i].err) {
            if (r.status != CHAIN_RECEIPT_OK) fail_msg("%s: %s", cases[i].what, r.error);
            uint8_t role[8];
            uint64_t amt[8];
            assert_int_equal(roles(&r, role, amt), 1);
            assert_int_equal(role[0], CHAIN_ROLE_CONTRIBUTOR);
        } else {
            if (r.status != CHAIN_RECEIPT_FAILED || r.code != CHAIN_FAIL_INVALID_PAYOUT ||
                strncmp(r.error, cases[i].err, strlen(cases[i].err)) != 0)
                fail_msg("%s: status %u code %u '%s'", cases[i].what, r.status, r.code, r.error);
            assert_int_equal(r.nevents, 0);
        }
        chain_receipt_free(&r);
    }
}

static void test_proposer_owned_model(void **state)
{
    (void)state;
    g_proposer = MOWNER;
    chain_attr_entry es[] = {{1, 1}, {2, 1}};
    /* owner 20 %, validators 10 %: owner, validator, two contributors, and no
     * remainder; then equal owner and validators' shares. */
    static const uint16_t splits[][2] = {{2000, 1000}, {2000, 2000}, {0, 3000}};
    for (size_t s = 0; s < 3; s++) {
        uint64_t m = model(NULL, splits[s][0], splits[s][1]);
        chain_receipt r = attribute(m, 1000, 2, es, NULL);
        if (r.status != CHAIN_RECEIPT_OK) fail_msg("split %zu: %s", s, r.error);
        uint8_t role[8];
        uint64_t amt[8];
        size_t n = roles(&r, role, amt), k = 0;
        if (splits[s][0]) {
            assert_int_equal(role[k], CHAIN_ROLE_OWNER);
            assert_true(amt[k++] == 1000u * splits[s][0] / 10000);
        }
        assert_int_equal(role[k], CHAIN_ROLE_VALIDATOR);
        assert_true(amt[k++] == 1000u * splits[s][1] / 10000);
        assert_int_equal(role[k++], CHAIN_ROLE_CONTRIBUTOR);
        assert_int_equal(role[k++], CHAIN_ROLE_CONTRIBUTOR);
        assert_int_equal(n, k);
        chain_receipt_free(&r);
    }
    g_proposer = VALIDATOR;
}

static void contribution(uint64_t id, chain_contribution *c)
{
    uint8_t k[9], *v;
    size_t vl;
    chain_key_id(k, 'c', id);
    assert_int_equal(chain_store_state_get(g_st, k, sizeof k, &v, &vl, NULL), 0);
    assert_int_equal(chain_contribution_decode(c, v, vl), 0);
    free(v);
}

static void near_max_contributor(chain_exec *ex)
{
    chain_addr a;
    uint8_t k[21], v[40];
    fx_dev_addr(&a, C1);
    chain_contributor c = {.earned = UINT64_MAX - 5, .contributions = 1, .accepted = 1};
    chain_key_contributor(k, &a);
    chain_contributor_encode(v, &c);
    assert_int_equal(chain_exec_put(ex, k, sizeof k, v, sizeof v, NULL), 0);
}

static void test_earnings_totals_are_checked(void **state)
{
    (void)state;
    uint64_t m = model(NULL, 0, 0);
    chain_attr_entry es[] = {{1, 1}};
    chain_contribution before, after;
    contribution(1, &before);
    chain_receipt r = attribute(m, 1000, 1, es, near_max_contributor);
    assert_int_equal(r.status, CHAIN_RECEIPT_FAILED);
    assert_int_equal(r.code, CHAIN_FAIL_EARNINGS_OVERFLOW);
    assert_non_null(strstr(r.error, "would pass 2^64-1"));
    chain_receipt_free(&r);
    /* The record was refused whole: the contribution earned nothing. */
    contribution(1, &after);
    assert_true(after.earned == before.earned && after.times_used == before.times_used);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_weights_overflow),
        cmocka_unit_test(test_contract_labels_are_checked),
        cmocka_unit_test(test_proposer_owned_model),
        cmocka_unit_test(test_earnings_totals_are_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
