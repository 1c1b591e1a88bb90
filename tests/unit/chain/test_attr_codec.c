/* The canonical encodings of the attribution state entries (chain/types/attr.h):
 * each round-trips, and every truncation, trailing byte or out-of-range
 * field is rejected (these bytes come from storage, and a corrupt entry must
 * be an error, never a crash). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "chain/types/attr.h"

typedef int (*dec_fn)(void *obj, const uint8_t *p, size_t n);
typedef void (*free_fn)(void *obj);

/* Every strict prefix and the encoding plus one byte must fail to decode. */
static void check_rejections(const util_buf *b, dec_fn dec, void *scratch, free_fn fr)
{
    for (size_t n = 0; n < b->len; n++) {
        assert_int_not_equal(dec(scratch, b->data, n), 0);
        if (fr) fr(scratch);
    }
    uint8_t *longer = malloc(b->len + 1);
    memcpy(longer, b->data, b->len);
    longer[b->len] = 0;
    assert_int_not_equal(dec(scratch, longer, b->len + 1), 0);
    if (fr) fr(scratch);
    free(longer);
}

static void test_datanet(void **state)
{
    (void)state;
    chain_datanet d = {.id = 7,
                       .bond = 5,
                       .review = 1,
                       .height = 3,
                       .contributions = 9,
                       .accepted = 4,
                       .rejected = 2,
                       .pending = 3,
                       .models = 1};
    memset(d.owner.b, 0xab, CHAIN_ADDR_LEN);
    memset(d.meta_hash, 0x11, 32);
    strcpy(d.name, "clinical-notes");
    strcpy(d.meta_uri, "ipfs://bafy");
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_datanet_encode(&d, &b), 0);
    chain_datanet got;
    assert_int_equal(chain_datanet_decode(&got, b.data, b.len), 0);
    assert_memory_equal(&got, &d, sizeof d);
    check_rejections(&b, (dec_fn)chain_datanet_decode, &got, NULL);
    util_buf_free(&b);
}

static void test_contribution(void **state)
{
    (void)state;
    chain_contribution c = {.id = 2,
                            .datanet = 7,
                            .size = 1024,
                            .status = CHAIN_CONTRIB_REJECTED,
                            .reason = 4,
                            .bond = 5,
                            .height = 3,
                            .times_used = 0,
                            .earned = 0};
    memset(c.contributor.b, 0x22, CHAIN_ADDR_LEN);
    memset(c.content_hash, 0x33, 32);
    strcpy(c.uri, "s3://bucket/x");
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_contribution_encode(&c, &b), 0);
    chain_contribution got;
    assert_int_equal(chain_contribution_decode(&got, b.data, b.len), 0);
    assert_memory_equal(&got, &c, sizeof c);
    check_rejections(&b, (dec_fn)chain_contribution_decode, &got, NULL);
    /* status past "rejected" */
    c.status = 3;
    util_buf_reset(&b);
    assert_int_equal(chain_contribution_encode(&c, &b), 0);
    assert_int_not_equal(chain_contribution_decode(&got, b.data, b.len), 0);
    util_buf_free(&b);
}

static void test_model(void **state)
{
    (void)state;
    chain_model m = {.id = 1,
                     .ndatanets = 3,
                     .datanets = {1, 2, 3},
                     .owner_bp = 2000,
                     .validators_bp = 1000,
                     .contributors_bp = 7000,
                     .height = 4,
                     .inferences = 10,
                     .fees = 99};
    strcpy(m.name, "notes-7b");
    memset(m.attestor, 0x44, 32);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_model_encode(&m, &b), 0);
    chain_model got;
    assert_int_equal(chain_model_decode(&got, b.data, b.len), 0);
    assert_memory_equal(&got, &m, sizeof m);
    check_rejections(&b, (dec_fn)chain_model_decode, &got, NULL);
    /* more datanets than a model may have: patch the count (after id, owner
     * and the 8-byte name with its length byte) */
    size_t at = 8 + CHAIN_ADDR_LEN + 1 + strlen(m.name);
    assert_int_equal(b.data[at], 3);
    b.data[at] = CHAIN_MODEL_MAX_DATANETS + 1;
    assert_int_not_equal(chain_model_decode(&got, b.data, b.len), 0);
    util_buf_free(&b);
}

static void test_record(void **state)
{
    (void)state;
    chain_record_entry es[2] = {{.contribution = 1, .weight = 3}, {.contribution = 4, .weight = 1}};
    chain_payout ps[3] = {{.role = CHAIN_ROLE_OWNER, .amount = 5},
                          {.role = CHAIN_ROLE_CONTRIBUTOR, .contribution = 1, .amount = 7},
                          {.role = CHAIN_ROLE_VALIDATOR, .amount = 1}};
    chain_record r = {.id = 9,
                      .model = 1,
                      .fee = 13,
                      .method = 1,
                      .height = 5,
                      .retained = 0,
                      .nentries = 2,
                      .entries = es,
                      .npayouts = 3,
                      .payouts = ps};
    memset(r.output_hash, 0x55, 32);
    util_buf b;
    util_buf_init(&b);
    assert_int_equal(chain_record_encode(&r, &b), 0);
    chain_record got;
    assert_int_equal(chain_record_decode(&got, b.data, b.len), 0);
    assert_int_equal(got.nentries, 2);
    assert_int_equal(got.npayouts, 3);
    assert_memory_equal(got.entries, es, sizeof es);
    assert_memory_equal(got.payouts, ps, sizeof ps);
    assert_true(got.fee == 13 && got.id == 9);
    chain_record_free(&got);
    check_rejections(&b, (dec_fn)chain_record_decode, &got, (free_fn)chain_record_free);
    util_buf_free(&b);
}

static void test_contributor(void **state)
{
    (void)state;
    chain_contributor c = {.earned = 1,
                           .contributions = 2,
                           .accepted = 3,
                           .rejected = 4,
                           .payouts = 5},
                      got;
    uint8_t v[41] = {0};
    chain_contributor_encode(v, &c);
    assert_int_equal(chain_contributor_decode(&got, v, 40), 0);
    assert_memory_equal(&got, &c, sizeof c);
    assert_int_not_equal(chain_contributor_decode(&got, v, 39), 0);
    assert_int_not_equal(chain_contributor_decode(&got, v, 41), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_datanet),     cmocka_unit_test(test_contribution),
        cmocka_unit_test(test_model),       cmocka_unit_test(test_record),
        cmocka_unit_test(test_contributor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
