/* Memory of block decoding (docs/encoding.md, "Block"): a decoded block of
 * the smallest transactions holds at most about twice its encoding, and a
 * declared transaction count is never allocated before transactions back it.
 *
 * How it is measured. The memory a decoded block holds is computed:
 * sizeof(chain_tx) per transaction (the txs array) plus chain_tx_heap_bytes
 * of each (its body's exact allocations). Under ASan (the test build) it is
 * also observed: the sanitizer's malloc and free hooks see every byte the
 * decoder requests, so the test checks that the decoder keeps exactly that
 * and nothing else, and bounds its peak (a realloc holds the old and the new
 * array at once). Both count bytes as requested from malloc, without the
 * allocator's per-chunk overhead (16 bytes a chunk on glibc), and both are
 * deterministic. Without ASan the observed half is skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chain/types/block.h"

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_HOOKS 1
#endif
#endif

#ifdef HAVE_HOOKS
/* From the sanitizer runtime (<sanitizer/allocator_interface.h>, which GCC
 * does not install). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
size_t __sanitizer_get_allocated_size(const volatile void *p);

/* Bytes allocated minus bytes freed since the measure started, and the
 * highest value it reached. Single-threaded test: plain globals. */
static int g_on;
static int64_t g_live, g_peak;

static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    if (!g_on) return;
    g_live += (int64_t)n;
    if (g_live > g_peak) g_peak = g_live;
}

static void on_free(const volatile void *p)
{
    if (g_on && p) g_live -= (int64_t)__sanitizer_get_allocated_size(p);
}
#endif

typedef struct heap_use {
    int observed; /* 0: no hooks in this build, live and peak unknown */
    int64_t live, peak;
} heap_use;

static int decode(chain_block *b, const util_buf *enc, heap_use *u, util_err *err)
{
    memset(u, 0, sizeof *u);
#ifdef HAVE_HOOKS
    g_live = g_peak = 0;
    g_on = 1;
#endif
    int rc = chain_block_decode(b, enc->data, enc->len, err);
#ifdef HAVE_HOOKS
    g_on = 0;
    u->observed = 1;
    u->live = g_live;
    u->peak = g_peak;
#endif
    return rc;
}

static const uint8_t ALL_TYPES[] = {
    CHAIN_TX_TRANSFER,       CHAIN_TX_DATANET_CREATE, CHAIN_TX_CONTRIBUTE, CHAIN_TX_REVIEW,
    CHAIN_TX_MODEL_REGISTER, CHAIN_TX_ATTRIBUTE,      CHAIN_TX_DEPLOY,     CHAIN_TX_CALL,
    CHAIN_TX_DEPOSIT,        CHAIN_TX_WITHDRAW,
};

/* Encoded size of the smallest valid transaction of each type: a 1-byte
 * chain id, 1-byte names, empty URIs and inputs, one datanet, no entries, a
 * 1-byte contract (the table in docs/encoding.md, "Block"). */
static const size_t MIN_SIZE[] = {152, 168, 173, 137, 193, 206, 126, 153, 248, 152};

/* The smallest valid transaction of a type, encoded (the signature is not
 * checked by decoding, so it stays zero). */
static void smallest(uint8_t type, util_buf *out)
{
    static const uint64_t one = 1;
    static const uint8_t code = 0;
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    strcpy(tx.chain_id, "x");
    tx.type = type;
    switch (type) {
    case CHAIN_TX_DATANET_CREATE:
        assert_int_equal(chain_tx_set_str(&tx.body.datanet_create.name, "x", CHAIN_NAME_MAX), 0);
        break;
    case CHAIN_TX_MODEL_REGISTER:
        assert_int_equal(chain_tx_set_str(&tx.body.model_register.name, "x", CHAIN_NAME_MAX), 0);
        assert_int_equal(chain_tx_set_datanets(&tx.body.model_register, &one, 1), 0);
        tx.body.model_register.contributors_bp = CHAIN_BP_TOTAL;
        break;
    case CHAIN_TX_DEPLOY:
        tx.body.deploy.code = malloc(1);
        assert_non_null(tx.body.deploy.code);
        memcpy(tx.body.deploy.code, &code, 1);
        tx.body.deploy.len = 1;
        break;
    case CHAIN_TX_DEPOSIT: tx.body.deposit.amount = 1; break;
    case CHAIN_TX_WITHDRAW:
        tx.body.withdraw.l1_recipient[0] = 1;
        tx.body.withdraw.amount = 1;
        break;
    default: break;
    }
    util_err err = {0};
    if (chain_tx_finalize(&tx, &err)) fail_msg("finalize: %s", err.msg);
    util_buf_init(out);
    assert_int_equal(chain_tx_encode(&tx, out), 0);
    chain_tx_free(&tx);
}

static void header(util_buf *out)
{
    chain_header h;
    memset(&h, 0, sizeof h);
    h.version = CHAIN_BLOCK_VERSION;
    strcpy(h.chain_id, "x");
    h.height = 1;
    util_buf_init(out);
    assert_int_equal(chain_header_encode(&h, out), 0);
}

/* A block of at least `bytes` bytes: the given transactions in turn. */
static size_t block_of(util_buf *out, const util_buf *txs, size_t ntypes, size_t bytes)
{
    size_t per_round = 0;
    for (size_t t = 0; t < ntypes; t++)
        per_round += 2 + txs[t].len; /* 2-byte length prefix at most */
    size_t cnt = (bytes / per_round + 1) * ntypes;
    header(out);
    util_buf_varint(out, cnt);
    for (size_t i = 0; i < cnt; i++)
        util_buf_lenbytes(out, txs[i % ntypes].data, txs[i % ntypes].len);
    util_buf_varint(out, 0); /* no evidence */
    assert_false(out->oom);
    return cnt;
}

/* Memory the decoded block holds, computed. */
static size_t held(const chain_block *b)
{
    size_t n = b->ntx * sizeof(chain_tx);
    for (size_t i = 0; i < b->ntx; i++)
        n += chain_tx_heap_bytes(&b->txs[i]);
    return n;
}

/* Decodes a ~1 MiB block of txs and checks what it holds: at most
 * max_pct percent of its encoded size, and (observed) exactly the computed
 * amount, with a peak at most 1/16 above it. Returns the ratio x100. */
static size_t check_block(const util_buf *txs, size_t ntypes, size_t max_pct)
{
    util_buf enc;
    size_t cnt = block_of(&enc, txs, ntypes, 1u << 20);
    chain_block b;
    heap_use u;
    util_err err = {0};
    if (decode(&b, &enc, &u, &err)) fail_msg("decode: %s", err.msg);
    assert_int_equal(b.ntx, cnt);
    size_t h = held(&b);
    size_t pct = h * 100 / enc.len;
    if (pct > max_pct)
        fail_msg("%zu transactions in %zu bytes hold %zu bytes (%zu%%, at most %zu%%)", cnt,
                 enc.len, h, pct, max_pct);
    if (u.observed) {
        assert_int_equal(u.live, (int64_t)h);
        assert_true(u.peak <= (int64_t)(h + h / 16));
    }
    print_message("%zu transactions, %zu bytes: %zu bytes held (%zu%%), peak %lld (%s)\n", cnt,
                  enc.len, h, pct, (long long)u.peak, u.observed ? "observed" : "not observed");
    chain_block_free(&b);
    util_buf_free(&enc);
    return pct;
}

static void test_smallest_sizes(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof ALL_TYPES; t++) {
        util_buf tx;
        smallest(ALL_TYPES[t], &tx);
        assert_int_equal(tx.len, MIN_SIZE[t]);
        util_buf_free(&tx);
    }
    /* The body union is no larger than DEPOSIT's fixed part (124 bytes of
     * fields, 128 aligned): every variable-length part is a pointer. */
    chain_tx tx;
    assert_int_equal(sizeof tx.body, sizeof tx.body.deposit);
    assert_true(sizeof tx.body <= 128);
    assert_true(sizeof(chain_tx) <= 352);
}

/* A block mixing the smallest transaction of every type holds about twice
 * its size (at most 2.1 times since DEPOSIT's 124-byte body grew the body
 * union from 96 to 128 bytes). (The inline names and URIs made it 3.6 times:
 * 600 bytes a transaction.) */
static void test_mixed_block_within_twice(void **state)
{
    (void)state;
    util_buf txs[sizeof ALL_TYPES];
    for (size_t t = 0; t < sizeof ALL_TYPES; t++)
        smallest(ALL_TYPES[t], &txs[t]);
    check_block(txs, sizeof ALL_TYPES, 210);
    for (size_t t = 0; t < sizeof ALL_TYPES; t++)
        util_buf_free(&txs[t]);
}

/* A block of one type: the ratio is (sizeof(chain_tx) + body heap) / (its
 * encoded size + prefix), worst for the 126-byte DEPLOY (2.8). */
static void test_one_type_blocks(void **state)
{
    (void)state;
    for (size_t t = 0; t < sizeof ALL_TYPES; t++) {
        util_buf tx;
        smallest(ALL_TYPES[t], &tx);
        size_t pct = check_block(&tx, 1, 280);
        size_t want = (sizeof(chain_tx) + (t == 1   ? 2
                                           : t == 4 ? 10
                                           : t == 6 ? 1
                                                    : 0)) *
                      100 / (MIN_SIZE[t] + (MIN_SIZE[t] < 128 ? 1 : 2));
        assert_true(pct <= want); /* the header makes it a little less */
        util_buf_free(&tx);
    }
}

/* A declared count the bytes do not back: the decoder allocates nothing for
 * it. The count passes the cheap check (it fits the bytes present at the
 * smallest encoding), but the transactions are invalid; the old decoder
 * allocated count x sizeof(chain_tx) before reading the first one. */
static void test_hostile_count_allocates_nothing(void **state)
{
    (void)state;
    util_buf enc, tx;
    smallest(CHAIN_TX_DEPLOY, &tx);
    const size_t cnt = 8000;
    header(&enc);
    util_buf_varint(&enc, cnt);
    for (size_t i = 0; i < cnt; i++)
        util_buf_lenbytes(&enc, tx.data, tx.len);
    size_t first = enc.len - cnt * (1 + tx.len); /* offset of tx 0's prefix */
    util_buf_varint(&enc, 0);                    /* no evidence */
    chain_block b;
    heap_use u;
    util_err err = {0};

    /* Tx 0 invalid: nothing at all is allocated. */
    enc.data[first + 1] = 9; /* tx 0 version */
    assert_int_equal(decode(&b, &enc, &u, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "block: tx 0: transaction: unsupported version 9");
    assert_null(b.txs);
    assert_int_equal(b.ntx, 0);
    if (u.observed) {
        assert_int_equal(u.peak, 0);
        assert_int_equal(u.live, 0);
    }

    /* Tx 3 invalid: the first 3 decoded into the first array (64 entries),
     * then everything is released. */
    enc.data[first + 1] = CHAIN_TX_VERSION;
    enc.data[first + 3 * (1 + tx.len) + 1] = 9;
    assert_int_equal(decode(&b, &enc, &u, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "block: tx 3: transaction: unsupported version 9");
    assert_null(b.txs);
    if (u.observed) {
        assert_true(u.peak <= (int64_t)(64 * sizeof(chain_tx) + 3 * 64));
        assert_int_equal(u.live, 0);
    }

    /* Valid, the same block holds its count. */
    enc.data[first + 3 * (1 + tx.len) + 1] = CHAIN_TX_VERSION;
    assert_int_equal(decode(&b, &enc, &u, &err), 0);
    assert_int_equal(b.ntx, cnt);
    if (u.observed) assert_int_equal(u.live, (int64_t)held(&b));
    chain_block_free(&b);
    util_buf_free(&enc);
    util_buf_free(&tx);
}

int main(void)
{
#ifdef HAVE_HOOKS
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smallest_sizes),
        cmocka_unit_test(test_mixed_block_within_twice),
        cmocka_unit_test(test_one_type_blocks),
        cmocka_unit_test(test_hostile_count_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
