/* The default reward contract (genesis/contracts/proportional_split.olasm)
 * on the in-memory host: a worked example, random records checked against
 * an independent computation (payouts + what stays == fee, exactly), zero
 * weights, and every way the settle can fail leaving balances untouched. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

#define MAX_ENTRIES 200

static const char *contract_path = OL_SOURCE_DIR "/genesis/contracts/proportional_split.olasm";
static const uint8_t SELF[VM_ADDR_LEN] = {0xc0, 0x01};

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static vm_program *load_contract(void)
{
    uint8_t *code;
    size_t n;
    util_err err = {0};
    int rc = vm_asm_file(contract_path, &code, &n, &err);
    if (rc) fail_msg("%s", err.msg);
    vm_program *p;
    assert_int_equal(vm_verify(code, n, &p, NULL, &err), 0);
    free(code);
    return p;
}

static void addr_of(uint8_t out[VM_ADDR_LEN], uint32_t tag)
{
    memset(out, 0, VM_ADDR_LEN);
    out[0] = 0xa0;
    util_put_u32le(out + 16, tag);
}

typedef struct rec_fixture {
    vm_record rec;
    vm_entry entries[MAX_ENTRIES];
    vm_env env;
} rec_fixture;

static void fixture_init(rec_fixture *f, uint64_t fee, uint32_t obp, uint32_t vbp, uint32_t cbp)
{
    memset(f, 0, sizeof *f);
    f->rec.id = 77;
    f->rec.model = 5;
    f->rec.fee = fee;
    addr_of(f->rec.owner, 1);
    addr_of(f->rec.validators, 2);
    f->rec.owner_bp = obp;
    f->rec.validators_bp = vbp;
    f->rec.contributors_bp = cbp;
    f->rec.entries = f->entries;
    memcpy(f->env.self, SELF, VM_ADDR_LEN);
    addr_of(f->env.caller, 3);
    f->env.height = 10;
    f->env.record = &f->rec;
}

static void add_entry(rec_fixture *f, uint64_t id, uint32_t who, uint64_t weight)
{
    vm_entry *e = &f->entries[f->rec.n_entries++];
    e->contribution = id;
    addr_of(e->addr, who);
    e->weight = weight;
}

static void test_worked_example(void **state)
{
    (void)state;
    vm_program *p = load_contract();
    vm_memhost *h = vm_memhost_new(SELF);
    rec_fixture f;
    fixture_init(&f, 1000, 5000, 1000, 4000);
    add_entry(&f, 900, 10, 1);
    add_entry(&f, 901, 11, 1);
    add_entry(&f, 902, 12, 1);
    assert_int_equal(vm_memhost_set_balance(h, SELF, 1000), 0);
    vm_result res;
    util_err err;
    assert_int_equal(vm_memhost_call(h, p, &f.env, 1000000, &res, &err), 0);
    assert_int_equal(res.status, VM_OK);
    /* owner 500, validators 100, 3 x 133, remainder 1 to the owner */
    uint8_t a[VM_ADDR_LEN];
    addr_of(a, 1);
    assert_int_equal(vm_memhost_balance(h, a), 501);
    addr_of(a, 2);
    assert_int_equal(vm_memhost_balance(h, a), 100);
    for (uint32_t k = 10; k <= 12; k++) {
        addr_of(a, k);
        assert_int_equal(vm_memhost_balance(h, a), 133);
    }
    assert_int_equal(vm_memhost_balance(h, SELF), 0);
    /* pay owner, pay validators, (pay, log) x 3, pay remainder */
    assert_int_equal(res.n_events, 9);
    static const uint64_t amounts[] = {500, 100, 133, 0, 133, 0, 133, 0, 1};
    for (size_t i = 0; i < res.n_events; i++) {
        const vm_event *e = &res.events[i];
        if (amounts[i]) {
            assert_int_equal(e->kind, VM_EVENT_PAY);
            assert_int_equal(e->amount, amounts[i]);
            continue;
        }
        assert_int_equal(e->kind, VM_EVENT_LOG);
        assert_memory_equal(e->topic, "ol.reward.contribution\0\0\0\0\0\0\0\0\0\0", 32);
        assert_int_equal(e->data_len, 24);
        const uint8_t *d = res.event_data + e->data_off;
        assert_int_equal(util_get_u64le(d), 77);
        assert_int_equal(util_get_u64le(d + 8), 900 + (i - 3) / 2);
        assert_int_equal(util_get_u64le(d + 16), 133);
    }
    vm_result_free(&res);
    vm_memhost_free(h);
    vm_program_free(p);
}

/* Expected payout of each entry, computed independently. */
static uint64_t share_of(uint64_t share, uint64_t w, uint64_t total)
{
    return (uint64_t)((unsigned __int128)share * w / total);
}

static void run_random(vm_program *p, int iter)
{
    rec_fixture f;
    uint32_t obp = (uint32_t)(next() % 10001);
    uint32_t vbp = (uint32_t)(next() % (10001 - obp));
    uint64_t fee;
    switch (next() % 4) {
    case 0: fee = next() % 1000; break;
    case 1: fee = 1000000000000000000ull; break;
    default: fee = next() % 1000000000000000001ull; break;
    }
    fixture_init(&f, fee, obp, vbp, 10000 - obp - vbp);
    size_t n = next() % 4 == 0 ? next() % MAX_ENTRIES : next() % 12;
    int zero_all = next() % 8 == 0;
    /* Weights up to 2^56 keep 200 of them inside 64 bits. */
    int wbits = (int)(next() % 57);
    for (size_t i = 0; i < n; i++) {
        uint64_t w =
            zero_all || next() % 5 == 0 ? 0 : next() >> (64 - wbits > 63 ? 63 : 64 - wbits);
        if (wbits == 0) w = zero_all ? 0 : next() % 2;
        /* A small pool of contributors, so some are paid more than once. */
        add_entry(&f, 1000 + i, 100 + (uint32_t)(next() % 16), w);
    }
    uint64_t extra = next() % 3 == 0 ? next() % 1000000 : 0; /* held before the record */
    vm_memhost *h = vm_memhost_new(SELF);
    assert_non_null(h);
    assert_int_equal(vm_memhost_set_balance(h, SELF, fee + extra), 0);

    vm_result res;
    util_err err;
    assert_int_equal(vm_memhost_call(h, p, &f.env, 10000000, &res, &err), 0);
    if (res.status != VM_OK)
        fail_msg("iteration %d: %s %s", iter, vm_status_name(res.status), res.detail);

    uint64_t share = share_of(fee, 10000 - obp - vbp, 10000), total = 0;
    for (size_t i = 0; i < n; i++)
        total += f.entries[i].weight;
    uint64_t paid = 0, expect_owner = share_of(fee, obp, 10000);
    uint64_t expect_val = share_of(fee, vbp, 10000), contrib_paid = 0;
    size_t ev = 0, pays = 0;
    /* Walk the events against the expected order. */
    uint64_t want[MAX_ENTRIES + 3];
    size_t nwant = 0;
    if (expect_owner) want[nwant++] = expect_owner;
    if (expect_val) want[nwant++] = expect_val;
    for (size_t i = 0; i < n && total; i++) {
        uint64_t amt = share_of(share, f.entries[i].weight, total);
        if (amt) want[nwant++] = amt;
        contrib_paid += amt;
    }
    uint64_t rem = fee - expect_owner - expect_val - contrib_paid;
    if (rem) want[nwant++] = rem;
    for (ev = 0; ev < res.n_events; ev++) {
        if (res.events[ev].kind != VM_EVENT_PAY) continue;
        assert_true(pays < nwant);
        assert_true(res.events[ev].amount == want[pays]);
        paid += res.events[ev].amount;
        pays++;
    }
    assert_int_equal(pays, nwant);
    /* The invariant: payouts plus what stays in the contract equal the fee. */
    assert_true(paid + (vm_memhost_balance(h, SELF) - extra) == fee);
    assert_true(vm_memhost_balance(h, SELF) == extra);
    assert_true(vm_memhost_total(h) == fee + extra);
    if (!total) assert_true(contrib_paid == 0);
    vm_result_free(&res);
    vm_memhost_free(h);
}

static void test_random_records(void **state)
{
    (void)state;
    vm_program *p = load_contract();
    for (int i = 0; i < 2000; i++)
        run_random(p, i);
    vm_program_free(p);
}

static void test_zero_total_weight(void **state)
{
    (void)state;
    vm_program *p = load_contract();
    vm_memhost *h = vm_memhost_new(SELF);
    rec_fixture f;
    fixture_init(&f, 999, 2000, 1000, 7000);
    add_entry(&f, 1, 10, 0);
    add_entry(&f, 2, 11, 0);
    assert_int_equal(vm_memhost_set_balance(h, SELF, 999), 0);
    vm_result res;
    util_err err;
    assert_int_equal(vm_memhost_call(h, p, &f.env, 1000000, &res, &err), 0);
    assert_int_equal(res.status, VM_OK);
    uint8_t a[VM_ADDR_LEN];
    addr_of(a, 1);
    assert_int_equal(vm_memhost_balance(h, a), 999 - 99); /* 199 + the 700 share */
    addr_of(a, 10);
    assert_int_equal(vm_memhost_balance(h, a), 0);
    assert_int_equal(res.n_events, 3);
    vm_result_free(&res);

    /* No entries at all: the same. */
    f.rec.n_entries = 0;
    assert_int_equal(vm_memhost_set_balance(h, SELF, 999), 0);
    assert_int_equal(vm_memhost_call(h, p, &f.env, 1000000, &res, &err), 0);
    assert_int_equal(res.status, VM_OK);
    assert_int_equal(vm_memhost_balance(h, SELF), 0);
    vm_result_free(&res);
    vm_memhost_free(h);
    vm_program_free(p);
}

static void expect_unchanged_failure(vm_program *p, rec_fixture *f, uint64_t balance, int status,
                                     const char *msg)
{
    vm_memhost *h = vm_memhost_new(SELF);
    assert_int_equal(vm_memhost_set_balance(h, SELF, balance), 0);
    vm_result res;
    util_err err;
    assert_int_equal(vm_memhost_call(h, p, &f->env, 1000000, &res, &err), 0);
    assert_int_equal(res.status, status);
    assert_true(res.gas_used > 0);
    assert_int_equal(res.n_events, 0);
    if (msg) {
        assert_int_equal(res.revert_len, strlen(msg));
        assert_memory_equal(res.revert, msg, strlen(msg));
    }
    assert_true(vm_memhost_balance(h, SELF) == balance);
    assert_true(vm_memhost_total(h) == balance);
    vm_result_free(&res);
    vm_memhost_free(h);
}

static void test_failures_change_nothing(void **state)
{
    (void)state;
    vm_program *p = load_contract();
    rec_fixture f;

    fixture_init(&f, 1000, 5000, 1000, 4000);
    add_entry(&f, 1, 10, UINT64_MAX);
    add_entry(&f, 2, 11, 1);
    expect_unchanged_failure(p, &f, 1000, VM_REVERTED, "total weight does not fit in 64 bits");

    fixture_init(&f, 1000, 5000, 1000, 3999);
    expect_unchanged_failure(p, &f, 1000, VM_REVERTED,
                             "split does not add up to 10000 basis points");

    fixture_init(&f, 1000, 5000, 1000, 4000);
    f.env.record = NULL;
    expect_unchanged_failure(p, &f, 1000, VM_REVERTED, "no attribution record");

    /* The fee was not escrowed: the owner share is paid, then a later pay
     * fails, and the owner share is rolled back with everything else. */
    fixture_init(&f, 1000, 5000, 1000, 4000);
    add_entry(&f, 1, 10, 5);
    expect_unchanged_failure(p, &f, 600, VM_E_BALANCE, NULL);
    vm_program_free(p);
}

static void test_hundred_entries_gas(void **state)
{
    (void)state;
    vm_program *p = load_contract();
    vm_memhost *h = vm_memhost_new(SELF);
    rec_fixture f;
    fixture_init(&f, 1000000000000ull, 1000, 500, 8500);
    for (int i = 0; i < 100; i++)
        add_entry(&f, (uint64_t)i, 100 + (uint32_t)i, 1 + (uint64_t)i);
    assert_int_equal(vm_memhost_set_balance(h, SELF, f.rec.fee), 0);
    vm_result res;
    util_err err;
    assert_int_equal(vm_memhost_call(h, p, &f.env, 1000000, &res, &err), 0);
    assert_int_equal(res.status, VM_OK);
    assert_int_equal(res.n_events, 3 + 200);
    /* Gas is deterministic: a change here is a change of the gas schedule or
     * of the contract, and must be deliberate. */
    print_message("100-entry settle: %llu gas\n", (unsigned long long)res.gas_used);
    assert_true(res.gas_used < 100000);
    uint64_t used = res.gas_used;
    vm_result_free(&res);
    /* Exactly the gas it needs succeeds; one less runs out. */
    assert_int_equal(vm_memhost_set_balance(h, SELF, f.rec.fee), 0);
    assert_int_equal(vm_memhost_call(h, p, &f.env, used, &res, &err), 0);
    assert_int_equal(res.status, VM_OK);
    vm_result_free(&res);
    assert_int_equal(vm_memhost_set_balance(h, SELF, f.rec.fee), 0);
    uint64_t before = vm_memhost_total(h);
    assert_int_equal(vm_memhost_call(h, p, &f.env, used - 1, &res, &err), 0);
    assert_int_equal(res.status, VM_E_GAS);
    assert_true(res.gas_used == used - 1);
    assert_true(vm_memhost_balance(h, SELF) == f.rec.fee);
    assert_true(vm_memhost_total(h) == before);
    vm_result_free(&res);
    vm_memhost_free(h);
    vm_program_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),      cmocka_unit_test(test_random_records),
        cmocka_unit_test(test_zero_total_weight),   cmocka_unit_test(test_failures_change_nothing),
        cmocka_unit_test(test_hundred_entries_gas),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
