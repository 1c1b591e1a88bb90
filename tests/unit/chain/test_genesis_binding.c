/* Replay protection and genesis binding (issue 9, item 4) and the validator
 * key file (item 5): a transaction signed for another genesis with the same
 * chain id is refused by execution and by the mempool; block 0 commits to
 * the genesis; a store refuses another genesis, a missing or foreign genesis
 * record, another format version and a head block that does not hash to its
 * id; the key file is created 0600, never replaced, and a bad one is refused
 * with a clear message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/mempool/mempool.h"
#include "chain/state/state.h"
#include "chain/state/store.h"
#include "node/validator_key.h"
#include "util/hex.h"

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/ol-test-binding-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fx_rm_tree(g_dir);
    return 0;
}

/* The devnet genesis with one consensus parameter changed: same chain id,
 * same validators and allocations, another genesis hash. */
static chain_genesis *other_genesis(void)
{
    static chain_genesis g;
    static int loaded;
    if (!loaded) {
        const char *js = chain_genesis_devnet_json();
        const char *at = strstr(js, "\"maxClockDriftMs\": 10000");
        assert_non_null(at);
        size_t n = strlen(js), pre = (size_t)(at - js);
        char *copy = malloc(n + 2);
        assert_non_null(copy);
        memcpy(copy, js, pre);
        strcpy(copy + pre, "\"maxClockDriftMs\": 10001");
        strcat(copy, at + strlen("\"maxClockDriftMs\": 10000"));
        util_err err = {0};
        assert_int_equal(chain_genesis_parse(&g, copy, strlen(copy), &err), 0);
        free(copy);
        loaded = 1;
    }
    assert_string_equal(g.chain_id, fx_devnet()->chain_id);
    assert_memory_not_equal(g.hash, fx_devnet()->hash, 32);
    return &g;
}

static chain_tx transfer_for(const uint8_t genesis_hash[32])
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 0), 0);
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.version = CHAIN_TX_VERSION;
    snprintf(tx.chain_id, sizeof tx.chain_id, "%s", fx_devnet()->chain_id);
    tx.type = CHAIN_TX_TRANSFER;
    tx.gas_limit = CHAIN_GAS_TRANSFER;
    tx.gas_price = 1;
    fx_dev_addr(&tx.body.transfer.to, 1);
    tx.body.transfer.amount = 5;
    util_err err = {0};
    assert_int_equal(chain_tx_sign(&tx, &kp, genesis_hash, &err), 0);
    return tx;
}

static chain_store *open_store(const chain_genesis *g)
{
    chain_store *st;
    util_err err = {0};
    assert_int_equal(chain_store_open(&st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(st, g, &err), 0);
    return st;
}

static void test_exec_refuses_other_genesis(void **state)
{
    (void)state;
    chain_store *st = open_store(fx_devnet());
    chain_exec_ctx ctx = {.chain_id = fx_devnet()->chain_id,
                          .genesis_hash = fx_devnet()->hash,
                          .height = 1,
                          .min_gas_price = 1};
    chain_exec *ex = chain_exec_new(st, &ctx);
    assert_non_null(ex);
    chain_receipt r;
    memset(&r, 0, sizeof r);
    util_err err = {0};
    chain_tx replay = transfer_for(other_genesis()->hash);
    assert_int_equal(chain_exec_apply_tx(ex, &replay, &r, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "bad signature");
    chain_tx mine = transfer_for(fx_devnet()->hash);
    assert_int_equal(chain_exec_apply_tx(ex, &mine, &r, &err), 0);
    assert_int_equal(r.status, CHAIN_RECEIPT_OK);
    chain_receipt_free(&r);
    /* An exec without a genesis hash verifies nothing as valid. */
    chain_exec_ctx none = ctx;
    none.genesis_hash = NULL;
    chain_exec *ex2 = chain_exec_new(st, &none);
    chain_tx again = transfer_for(fx_devnet()->hash);
    assert_int_equal(chain_exec_apply_tx(ex2, &again, &r, &err), UTIL_EINVAL);
    assert_string_equal(err.msg, "bad signature");
    chain_exec_free(ex2);
    chain_exec_free(ex);
    chain_store_close(st);
}

static int pool_account(void *ctx, const chain_addr *a, uint64_t *balance, uint64_t *nonce)
{
    (void)ctx, (void)a;
    *balance = 1000000000;
    *nonce = 0;
    return 0;
}

static void test_mempool_refuses_other_genesis(void **state)
{
    (void)state;
    chain_mempool_cfg c;
    memset(&c, 0, sizeof c);
    snprintf(c.chain_id, sizeof c.chain_id, "%s", fx_devnet()->chain_id);
    memcpy(c.genesis_hash, fx_devnet()->hash, 32);
    c.min_gas_price = 1;
    c.block_gas_limit = 1000000;
    c.max_tx_size = 4096;
    c.max_txs = 100;
    c.max_bytes = 1 << 20;
    c.max_nonce_ahead = 16;
    chain_mempool *mp = chain_mempool_new(&c, pool_account, NULL);
    assert_non_null(mp);
    util_err err = {0};
    chain_tx replay = transfer_for(other_genesis()->hash);
    assert_int_equal(chain_mempool_add(mp, &replay, &err), CHAIN_MP_BAD_SIGNATURE);
    assert_int_equal(chain_mempool_count(mp), 0);
    chain_tx mine = transfer_for(fx_devnet()->hash);
    assert_int_equal(chain_mempool_add(mp, &mine, &err), CHAIN_MP_OK);
    chain_mempool_free(mp);
}

/* Block 0's parent field is the genesis hash, so two genesis documents that
 * differ in any parameter give different block 0 ids. */
static void test_block0_commits_to_genesis(void **state)
{
    (void)state;
    uint8_t id_a[32], id_b[32];
    chain_block b;
    util_err err = {0};
    chain_store *st = open_store(fx_devnet());
    assert_int_equal(chain_store_block_id_at(st, 0, id_a, &err), 0);
    assert_int_equal(chain_store_get_block(st, id_a, &b, NULL, &err), 0);
    assert_memory_equal(b.h.parent, fx_devnet()->hash, 32);
    chain_block_free(&b);
    chain_store_close(st);
    fx_rm_tree(g_dir);
    assert_int_equal(mkdir(g_dir, 0700), 0);
    st = open_store(other_genesis());
    assert_int_equal(chain_store_block_id_at(st, 0, id_b, &err), 0);
    chain_store_close(st);
    assert_memory_not_equal(id_a, id_b, 32);
}

static void test_store_refuses_other_genesis(void **state)
{
    (void)state;
    chain_store *st = open_store(fx_devnet());
    chain_store_close(st);
    util_err err = {0};
    assert_int_equal(chain_store_open(&st, g_dir, &err), 0);
    assert_int_equal(chain_store_init_genesis(st, other_genesis(), &err), UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "belongs to another chain"));
    /* The right genesis still opens it. */
    assert_int_equal(chain_store_init_genesis(st, fx_devnet(), &err), 0);
    chain_store_close(st);
}

/* Raw LevelDB access, to damage a store the way a disk or a hand could. */
static void db_put(const char *key, size_t kl, const uint8_t *v, size_t vl)
{
    leveldb_options_t *o = leveldb_options_create();
    char *e = NULL;
    leveldb_t *db = leveldb_open(o, g_dir, &e);
    assert_null(e);
    leveldb_writeoptions_t *w = leveldb_writeoptions_create();
    if (v)
        leveldb_put(db, w, key, kl, (const char *)v, vl, &e);
    else
        leveldb_delete(db, w, key, kl, &e);
    assert_null(e);
    leveldb_writeoptions_destroy(w);
    leveldb_close(db);
    leveldb_options_destroy(o);
}

static void db_get(const char *key, size_t kl, uint8_t *out, size_t *n)
{
    leveldb_options_t *o = leveldb_options_create();
    leveldb_readoptions_t *r = leveldb_readoptions_create();
    char *e = NULL;
    leveldb_t *db = leveldb_open(o, g_dir, &e);
    assert_null(e);
    char *v = leveldb_get(db, r, key, kl, n, &e);
    assert_null(e);
    assert_non_null(v);
    memcpy(out, v, *n);
    leveldb_free(v);
    leveldb_readoptions_destroy(r);
    leveldb_close(db);
    leveldb_options_destroy(o);
}

static void expect_open_fails(const char *needle)
{
    chain_store *st = NULL;
    util_err err = {0};
    int rc = chain_store_open(&st, g_dir, &err);
    if (rc == 0) {
        chain_store_close(st);
        fail_msg("store opened, expected an error containing '%s'", needle);
    }
    if (!strstr(err.msg, needle)) fail_msg("error '%s' lacks '%s'", err.msg, needle);
}

static void test_wrong_format_version_refused(void **state)
{
    (void)state;
    chain_store_close(open_store(fx_devnet()));
    uint8_t meta[64];
    size_t n = 0;
    db_get("G", 1, meta, &n);
    assert_int_equal(n, 33);
    meta[32]++;
    db_put("G", 1, meta, n);
    expect_open_fails("format version");
    expect_open_fails("move the data directory away");
    /* A data directory of a release before: version 1 headers, without
     * the next validator set and consensus params hashes. */
    meta[32] = 2;
    db_put("G", 1, meta, n);
    expect_open_fails("has format version 2, this openledgerd needs version 5");
    /* The release just before: version 2 headers, without the evidence hash. */
    meta[32] = 3;
    db_put("G", 1, meta, n);
    expect_open_fails("has format version 3, this openledgerd needs version 5");
    /* The release before the bridge: no withdrawals roots by height. */
    meta[32] = 4;
    db_put("G", 1, meta, n);
    expect_open_fails("has format version 4, this openledgerd needs version 5");
    /* A record of another layout is refused too. */
    db_put("G", 1, meta, 32);
    expect_open_fails("genesis record");
}

static void test_missing_genesis_record_refused(void **state)
{
    (void)state;
    chain_store_close(open_store(fx_devnet()));
    db_put("G", 1, NULL, 0);
    expect_open_fails("no genesis record");
}

/* The head record names a block id; a block stored under that id that hashes
 * to something else (edited, or damaged) is refused at open. */
static void test_tampered_head_refused(void **state)
{
    (void)state;
    chain_store *st = open_store(fx_devnet());
    uint8_t head[32];
    chain_store_head_id(st, head);
    chain_block b;
    util_err err = {0};
    assert_int_equal(chain_store_get_block(st, head, &b, NULL, &err), 0);
    chain_store_close(st);
    b.h.time_ms += 1;
    util_buf enc;
    util_buf_init(&enc);
    assert_int_equal(chain_block_encode(&b, &enc), 0);
    chain_block_free(&b);
    char key[33];
    key[0] = 'B';
    memcpy(key + 1, head, 32);
    db_put(key, sizeof key, enc.data, enc.len);
    util_buf_free(&enc);
    expect_open_fails("corrupt store");
    expect_open_fails("head block hashes to");
}

/* --- validator key file ------------------------------------------------------ */

static void key_path(char *p, size_t n)
{
    util_err err = {0};
    assert_int_equal(node_key_path(p, n, g_dir, &err), 0);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_key_create_and_load(void **state)
{
    (void)state;
    char path[512];
    key_path(path, sizeof path);
    chain_keypair made, loaded, again;
    util_err err = {0};
    assert_int_equal(node_key_create(NULL, path, &made, &err), 0);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(node_key_load(NULL, path, &loaded, &err), 0);
    assert_memory_equal(loaded.pubkey, made.pubkey, 32);
    assert_memory_equal(loaded.seckey, made.seckey, 32);
    /* Never replaced: the second create fails and the key is unchanged. */
    assert_int_equal(node_key_create(NULL, path, &again, &err), UTIL_EEXIST);
    assert_non_null(strstr(err.msg, "refusing to replace"));
    assert_int_equal(node_key_load(NULL, path, &loaded, &err), 0);
    assert_memory_equal(loaded.pubkey, made.pubkey, 32);
    /* Even with a umask that would leave it world-readable. */
    mode_t old = umask(0);
    char path2[600];
    snprintf(path2, sizeof path2, "%s/second.json", g_dir);
    assert_int_equal(node_key_create(NULL, path2, &again, &err), 0);
    umask(old);
    assert_int_equal(stat(path2, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_memory_not_equal(again.pubkey, made.pubkey, 32);
}

static void expect_load_fails(const char *path, int code, const char *needle)
{
    chain_keypair kp;
    util_err err = {0};
    int rc = node_key_load(NULL, path, &kp, &err);
    if (rc != code) fail_msg("load gave %d (%s), expected %d", rc, err.msg, code);
    if (!strstr(err.msg, needle)) fail_msg("error '%s' lacks '%s'", err.msg, needle);
}

static void test_key_bad_files(void **state)
{
    (void)state;
    char path[512];
    key_path(path, sizeof path);
    expect_load_fails(path, UTIL_ENOTFOUND, "does not exist");
    chain_keypair kp;
    util_err err = {0};
    assert_int_equal(node_key_create(NULL, path, &kp, &err), 0);
    /* Readable by others: refused, and the message says how to fix it. */
    assert_int_equal(chmod(path, 0644), 0);
    expect_load_fails(path, UTIL_ESTATE, "chmod 600");
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(node_key_load(NULL, path, &kp, &err), 0);

    char pk[65], sk[65], good[1024];
    util_hex_encode(pk, kp.pubkey, 32);
    util_hex_encode(sk, kp.seckey, 32);
    chain_addr a;
    char addr[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_from_pubkey(&a, kp.pubkey);
    chain_addr_encode(addr, &a);
    const char *fmt = "{\"type\": \"%s\", \"version\": %d, \"publicKey\": \"0x%s\", "
                      "\"address\": \"%s\", \"secretKey\": \"0x%s\"%s}";
    snprintf(good, sizeof good, fmt, NODE_KEY_TYPE, 1, pk, addr, sk, "");
    write_file(path, good, 0600);
    assert_int_equal(node_key_load(NULL, path, &kp, &err), 0);

    char bad[1024];
    write_file(path, "not json at all", 0600);
    expect_load_fails(path, UTIL_EINVAL, "not JSON");
    snprintf(bad, sizeof bad, fmt, "openledger-keystore", 1, pk, addr, sk, "");
    write_file(path, bad, 0600);
    expect_load_fails(path, UTIL_EINVAL, "type is not");
    snprintf(bad, sizeof bad, fmt, NODE_KEY_TYPE, 2, pk, addr, sk, "");
    write_file(path, bad, 0600);
    expect_load_fails(path, UTIL_EINVAL, "version 2");
    snprintf(bad, sizeof bad, fmt, NODE_KEY_TYPE, 1, pk, addr, sk, ", \"extra\": 1");
    write_file(path, bad, 0600);
    expect_load_fails(path, UTIL_EINVAL, "expected exactly");
    snprintf(bad, sizeof bad, fmt, NODE_KEY_TYPE, 1, pk, addr, "00", "");
    write_file(path, bad, 0600);
    expect_load_fails(path, UTIL_EINVAL, "32 bytes of hex");
    char zero[65];
    memset(zero, '0', 64);
    zero[64] = 0;
    snprintf(bad, sizeof bad, fmt, NODE_KEY_TYPE, 1, pk, addr, zero, "");
    write_file(path, bad, 0600);
    expect_load_fails(path, UTIL_EINVAL, "not a valid secp256k1 key");
    /* A public key that is not the secret's: a damaged or spliced file. */
    char other[65];
    snprintf(other, sizeof other, "%s", pk);
    other[0] = other[0] == 'a' ? 'b' : 'a';
    snprintf(bad, sizeof bad, fmt, NODE_KEY_TYPE, 1, other, addr, sk, "");
    write_file(path, bad, 0600);
    expect_load_fails(path, UTIL_EINVAL, "does not match");
    /* Not a file. */
    unlink(path);
    assert_int_equal(mkdir(path, 0700), 0);
    expect_load_fails(path, UTIL_EINVAL, "not a regular file");
    rmdir(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_exec_refuses_other_genesis, setup, teardown),
        cmocka_unit_test(test_mempool_refuses_other_genesis),
        cmocka_unit_test_setup_teardown(test_block0_commits_to_genesis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_refuses_other_genesis, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_format_version_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_genesis_record_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampered_head_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_create_and_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_bad_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
