#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "chain/types/genesis.h"
#include "chain/crypto/hash.h"
#include "chain/crypto/keys.h"
#include "util/bytes.h"
#include "util/hex.h"
#include "vm/vm.h"

#include "tests/unit/genesis_doc.h"

/* The devnet genesis hash, committed so that any change to the encoding, the
 * hash rule or genesis/devnet.json is noticed. */
#define DEVNET_GENESIS_HASH "2f607e74a2b60a3bc0cfc0d71d01c49986c3e95bcb3267beead3060b5905d032"

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_embedded_equals_file(void **state)
{
    (void)state;
    size_t n;
    char *disk = read_all(OL_SOURCE_DIR "/genesis/devnet.json", &n);
    const char *emb = chain_genesis_devnet_json();
    assert_int_equal(strlen(emb), n);
    assert_memory_equal(emb, disk, n);
    free(disk);
}

static void test_devnet_content(void **state)
{
    (void)state;
    chain_genesis g;
    util_err err = {0};
    const char *j = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g, j, strlen(j), &err), 0);
    assert_string_equal(g.chain_id, "openledger-devnet");
    assert_int_equal(g.genesis_time_ms, 1767225600000ull);
    assert_int_equal(g.params.block_gas_limit, 50000000);
    assert_int_equal(g.params.block_max_bytes, 8388608);
    assert_int_equal(g.params.tx_max_bytes, 131072);
    assert_int_equal(g.params.min_gas_price, 1);
    assert_int_equal(g.params.timeout_propose_ms, 3000);
    assert_int_equal(g.params.timeout_propose_delta_ms, 500);
    assert_int_equal(g.params.timeout_prevote_ms, 1000);
    assert_int_equal(g.params.timeout_prevote_delta_ms, 500);
    assert_int_equal(g.params.timeout_precommit_ms, 1000);
    assert_int_equal(g.params.timeout_precommit_delta_ms, 500);
    assert_int_equal(g.params.timeout_commit_ms, 1000);
    assert_int_equal(g.params.max_clock_drift_ms, 10000);

    chain_keypair kp;
    chain_addr a;
    assert_int_equal(g.nval, 1);
    assert_string_equal(g.vals[0].name, "devnet-validator");
    assert_int_equal(chain_keypair_dev(&kp, 1000), 0);
    assert_memory_equal(g.vals[0].pubkey, kp.pubkey, 32);
    chain_addr_from_pubkey(&a, kp.pubkey);
    assert_memory_equal(g.vals[0].addr.b, a.b, CHAIN_ADDR_LEN);
    assert_int_equal(g.vals[0].power, 10);

    assert_int_equal(g.nalloc, 10);
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(chain_keypair_dev(&kp, i), 0);
        chain_addr_from_pubkey(&a, kp.pubkey);
        assert_memory_equal(g.alloc[i].addr.b, a.b, CHAIN_ADDR_LEN);
        assert_int_equal(g.alloc[i].balance, 10000000000000000ull);
    }

    /* validators_hash = H(0x09 || varint count || pubkey | power u64le). */
    util_buf b;
    util_buf_init(&b);
    util_buf_varint(&b, 1);
    util_buf_put(&b, g.vals[0].pubkey, 32);
    util_buf_u64(&b, 10);
    uint8_t vh[32];
    chain_hash_tagged(vh, CHAIN_TAG_VALSET, b.data, b.len);
    util_buf_free(&b);
    assert_memory_equal(g.validators_hash, vh, 32);

    char hex[65];
    util_hex_encode(hex, g.hash, 32);
    assert_string_equal(hex, DEVNET_GENESIS_HASH);
    chain_genesis_free(&g);
}

static void test_load_file(void **state)
{
    (void)state;
    chain_genesis g, g2;
    util_err err = {0};
    assert_int_equal(chain_genesis_load_file(&g, OL_SOURCE_DIR "/genesis/devnet.json", &err), 0);
    const char *j = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g2, j, strlen(j), &err), 0);
    assert_memory_equal(g.hash, g2.hash, 32);
    chain_genesis_free(&g);
    chain_genesis_free(&g2);

    assert_int_equal(chain_genesis_load_file(&g, "/nonexistent/genesis.json", &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "/nonexistent/genesis.json"));
    assert_null(g.vals);
}

/* ---- mutations of the devnet document (tests/unit/genesis_doc.h) ---- */

static void test_hash_ignores_formatting(void **state)
{
    (void)state;
    chain_genesis g1, g2;
    util_err err = {0};
    const char *j = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g1, j, strlen(j), &err), 0);
    json_t *d = devnet_doc();
    assert_int_equal(parse_doc(d, &g2, &err), 0); /* compact: same content */
    assert_memory_equal(g1.hash, g2.hash, 32);
    chain_genesis_free(&g2);
    set_str(at(d, "alloc", 9), "balance", "10000000000000001");
    assert_int_equal(parse_doc(d, &g2, &err), 0);
    assert_memory_not_equal(g1.hash, g2.hash, 32);
    assert_memory_equal(g1.validators_hash, g2.validators_hash, 32);
    chain_genesis_free(&g2);
    /* Every consensus parameter is hashed: into the genesis hash and into
     * the consensus parameters hash headers carry. */
    static const char *const timeouts[] = {
        "timeoutProposeMs",      "timeoutProposeDeltaMs", "timeoutPrevoteMs",
        "timeoutPrevoteDeltaMs", "timeoutPrecommitMs",    "timeoutPrecommitDeltaMs",
        "timeoutCommitMs",       "maxClockDriftMs",
    };
    set_str(at(d, "alloc", 9), "balance", "10000000000000000");
    for (size_t i = 0; i < sizeof timeouts / sizeof timeouts[0]; i++) {
        json_t *params = json_object_get(d, "params");
        json_int_t old = json_integer_value(json_object_get(params, timeouts[i]));
        set_param(d, timeouts[i], json_integer(old + 1));
        assert_int_equal(parse_doc(d, &g2, &err), 0);
        assert_memory_not_equal(g1.hash, g2.hash, 32);
        assert_memory_not_equal(g1.params_hash, g2.params_hash, 32);
        assert_memory_equal(g1.validators_hash, g2.validators_hash, 32);
        chain_genesis_free(&g2);
        set_param(d, timeouts[i], json_integer(old));
    }
    set_param(d, "minGasPrice", json_string("2"));
    assert_int_equal(parse_doc(d, &g2, &err), 0);
    assert_memory_not_equal(g1.params_hash, g2.params_hash, 32);
    chain_genesis_free(&g2);
    chain_genesis_free(&g1);
    json_decref(d);
}

static void test_valid_variants(void **state)
{
    (void)state;
    chain_genesis g;
    util_err err = {0};
    /* Empty alloc, leap day, several validators, deltas and commit wait 0,
     * the smallest step timeouts. */
    json_t *d = devnet_doc();
    json_object_set_new(d, "alloc", json_array());
    set_str(d, "genesisTime", "2024-02-29T12:34:56Z");
    set_param(d, "timeoutProposeDeltaMs", json_integer(0));
    set_param(d, "timeoutPrevoteDeltaMs", json_integer(0));
    set_param(d, "timeoutPrecommitDeltaMs", json_integer(0));
    set_param(d, "timeoutCommitMs", json_integer(0));
    set_param(d, "timeoutProposeMs", json_integer(CHAIN_TIMEOUT_MIN_MS));
    set_param(d, "timeoutPrevoteMs", json_integer(CHAIN_TIMEOUT_MIN_MS));
    set_param(d, "timeoutPrecommitMs", json_integer(CHAIN_TIMEOUT_MIN_MS));
    json_t *vs = json_object_get(d, "validators");
    json_array_append_new(vs, validator(1001, 5));
    json_array_append_new(vs, validator(1002, 7));
    assert_int_equal(parse_doc(d, &g, &err), 0);
    assert_int_equal(g.genesis_time_ms, 1709210096000ull);
    assert_int_equal(g.nalloc, 0);
    assert_null(g.alloc);
    assert_int_equal(g.nval, 3);
    assert_int_equal(g.vals[2].power, 7);
    chain_genesis_free(&g);
    json_decref(d);

    d = devnet_doc();
    set_str(d, "genesisTime", "1970-01-01T00:00:00Z");
    set_str(d, "chainId", "a");
    assert_int_equal(parse_doc(d, &g, &err), 0);
    assert_int_equal(g.genesis_time_ms, 0);
    chain_genesis_free(&g);
    json_decref(d);
}

static void test_bad_top_level(void **state)
{
    (void)state;
    json_t *d;
    d = devnet_doc();
    json_object_del(d, "chainId");
    expect_reject(d, "chainId: missing");
    d = devnet_doc();
    set_str(d, "chainId", "OpenLedger_Dev");
    expect_reject(d, "chainId: must be 1..32 characters");
    d = devnet_doc();
    set_str(d, "chainId", "");
    expect_reject(d, "chainId: must be 1..32 characters");
    d = devnet_doc();
    set_str(d, "chainId", "abcdefghijklmnopqrstuvwxyz0123456");
    expect_reject(d, "chainId: must be 1..32 characters");
    d = devnet_doc();
    json_object_set_new(d, "chainId", json_integer(7));
    expect_reject(d, "chainId: not a string");
    d = devnet_doc();
    json_object_set_new(d, "extra", json_true());
    expect_reject(d, "extra: unknown field");
    d = devnet_doc();
    json_object_del(d, "params");
    expect_reject(d, "params: missing");
    d = devnet_doc();
    json_object_set_new(d, "params", json_array());
    expect_reject(d, "params: not an object");
    d = devnet_doc();
    json_object_del(d, "validators");
    expect_reject(d, "validators: missing");
    d = devnet_doc();
    json_object_del(d, "alloc");
    expect_reject(d, "alloc: missing");
    d = devnet_doc();
    json_object_set_new(d, "alloc", json_object());
    expect_reject(d, "alloc: not an array");
}

static void test_bad_time(void **state)
{
    (void)state;
    static const char *bad[] = {
        "2026-02-30T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2026-01-01 00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:60:00Z",
        "2026-01-01T00:00:60Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T00:00:00",
        "2026-01-01T00:00:00+01:00",
        "2026-01-01T00:00:00.5Z",
        "1969-12-31T23:59:59Z",
        "2026-1-01T00:00:00Z",
        "2026-01-01t00:00:00z",
        "+026-01-01T00:00:00Z",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *d = devnet_doc();
        set_str(d, "genesisTime", bad[i]);
        expect_reject(d, "genesisTime: not a valid UTC time");
    }
    json_t *d = devnet_doc();
    json_object_set_new(d, "genesisTime", json_integer(1767225600));
    expect_reject(d, "genesisTime: not a valid UTC time");
    d = devnet_doc();
    json_object_del(d, "genesisTime");
    expect_reject(d, "genesisTime: missing");
}

static void test_bad_validators(void **state)
{
    (void)state;
    json_t *d;
    d = devnet_doc();
    json_array_clear(json_object_get(d, "validators"));
    expect_reject(d, "validators: empty");
    d = devnet_doc();
    json_object_set_new(d, "validators", json_string("v"));
    expect_reject(d, "validators: not an array");
    d = devnet_doc();
    for (uint32_t i = 0; i < CHAIN_MAX_VALIDATORS; i++)
        json_array_append_new(json_object_get(d, "validators"), validator(2000 + i, 1));
    expect_reject(d, "validators: more than 64");
    d = devnet_doc();
    json_array_append_new(json_object_get(d, "validators"), validator(1000, 3));
    expect_reject(d, "validators[1].pubkey: duplicate of validators[0]");
    d = devnet_doc();
    json_object_set_new(at(d, "validators", 0), "power", json_integer(0));
    expect_reject(d, "validators[0].power: must be at least 1");
    d = devnet_doc();
    json_object_set_new(at(d, "validators", 0), "power", json_real(1.5));
    expect_reject(d, "validators[0].power: not an integer");
    d = devnet_doc();
    json_object_set_new(at(d, "validators", 0), "power", json_string("10"));
    expect_reject(d, "validators[0].power: not an integer");
    d = devnet_doc();
    json_object_set_new(at(d, "validators", 0), "power", json_integer(INT64_MAX));
    json_array_append_new(json_object_get(d, "validators"), validator(1001, INT64_MAX));
    json_array_append_new(json_object_get(d, "validators"), validator(1002, INT64_MAX));
    expect_reject(d, "validators[2].power: total voting power overflows u64");
    d = devnet_doc();
    set_str(at(d, "validators", 0), "pubkey", "0x1234");
    expect_reject(d, "validators[0].pubkey: not 32 bytes of hex");
    d = devnet_doc();
    set_str(at(d, "validators", 0), "pubkey",
            "0xzz8eac3613e0e11264a00c15e3a23f3f5dffad08d347a24d0c96eb97bc1cf6a8");
    expect_reject(d, "validators[0].pubkey: not 32 bytes of hex");
    d = devnet_doc();
    set_str(at(d, "validators", 0), "pubkey",
            "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff");
    expect_reject(d, "validators[0].pubkey: not a valid x-only public key");
    d = devnet_doc();
    json_object_set_new(at(d, "validators", 0), "pubkey", json_integer(1));
    expect_reject(d, "validators[0].pubkey: not 32 bytes of hex");
    d = devnet_doc();
    json_object_del(at(d, "validators", 0), "pubkey");
    expect_reject(d, "validators[0].pubkey: missing");
    d = devnet_doc();
    json_object_del(at(d, "validators", 0), "name");
    expect_reject(d, "validators[0].name: missing");
    d = devnet_doc();
    set_str(at(d, "validators", 0), "name", "");
    expect_reject(d, "validators[0].name: must be 1..63 characters");
    d = devnet_doc();
    set_str(at(d, "validators", 0), "name", "tab\there");
    expect_reject(d, "validators[0].name: must be printable ASCII");
    d = devnet_doc();
    json_object_set_new(at(d, "validators", 0), "address", json_string("x"));
    expect_reject(d, "validators[0].address: unknown field");
    d = devnet_doc();
    json_array_append_new(json_object_get(d, "validators"), json_integer(1));
    expect_reject(d, "validators[1]: not an object");
}

static void test_bad_alloc(void **state)
{
    (void)state;
    json_t *d;
    d = devnet_doc();
    set_str(at(d, "alloc", 0), "address", "ol1xyz");
    expect_reject(d, "alloc[0].address: wrong length");
    d = devnet_doc();
    {
        /* Flip the last checksum character. */
        char a[64];
        snprintf(a, sizeof a, "%s",
                 json_string_value(json_object_get(at(d, "alloc", 3), "address")));
        size_t l = strlen(a);
        a[l - 1] = a[l - 1] == 'q' ? 'p' : 'q';
        set_str(at(d, "alloc", 3), "address", a);
    }
    expect_reject(d, "alloc[3].address: bad checksum");
    d = devnet_doc();
    json_object_set_new(at(d, "alloc", 1), "address", json_integer(5));
    expect_reject(d, "alloc[1].address: not a string");
    d = devnet_doc();
    set_str(at(d, "alloc", 5), "address",
            json_string_value(json_object_get(at(d, "alloc", 2), "address")));
    expect_reject(d, "alloc[5].address: duplicate of alloc[2]");
    d = devnet_doc();
    set_str(at(d, "alloc", 9), "address",
            json_string_value(json_object_get(at(d, "alloc", 4), "address")));
    set_str(at(d, "alloc", 7), "address",
            json_string_value(json_object_get(at(d, "alloc", 8), "address")));
    expect_reject(d, "alloc[8].address: duplicate of alloc[7]");
    d = devnet_doc();
    set_str(at(d, "alloc", 0), "balance", "18446744073709551615");
    expect_reject(d, "alloc[0].balance: total supply above 8446744073709551615 base units");
    d = devnet_doc();
    set_str(at(d, "alloc", 0), "balance", "8446744073709551615");
    expect_reject(d, "alloc[1].balance: total supply above 8446744073709551615 base units");
    d = devnet_doc();
    set_str(at(d, "alloc", 3), "balance", "18446744073709551616");
    expect_reject(d, "alloc[3].balance: out of range");
    d = devnet_doc();
    set_str(at(d, "alloc", 3), "balance", "-1");
    expect_reject(d, "alloc[3].balance: not a decimal amount");
    d = devnet_doc();
    set_str(at(d, "alloc", 3), "balance", "1.5");
    expect_reject(d, "alloc[3].balance: not a decimal amount");
    d = devnet_doc();
    set_str(at(d, "alloc", 3), "balance", "1e9");
    expect_reject(d, "alloc[3].balance: not a decimal amount");
    d = devnet_doc();
    set_str(at(d, "alloc", 3), "balance", "");
    expect_reject(d, "alloc[3].balance: not a decimal amount");
    d = devnet_doc();
    json_object_set_new(at(d, "alloc", 3), "balance", json_real(1.5));
    expect_reject(d, "alloc[3].balance: not a decimal amount");
    d = devnet_doc();
    json_object_set_new(at(d, "alloc", 3), "balance", json_integer(100));
    expect_reject(d, "alloc[3].balance: not a decimal amount");
    d = devnet_doc();
    set_str(at(d, "alloc", 3), "balance", "0");
    expect_reject(d, "alloc[3].balance: must be positive");
    d = devnet_doc();
    json_object_del(at(d, "alloc", 6), "balance");
    expect_reject(d, "alloc[6].balance: missing");
    d = devnet_doc();
    set_str(at(d, "alloc", 6), "note", "x");
    expect_reject(d, "alloc[6].note: unknown field");
    d = devnet_doc();
    json_array_append_new(json_object_get(d, "alloc"), json_null());
    expect_reject(d, "alloc[10]: not an object");
}

/* The devnet's one genesis contract is the default reward contract, at the
 * address chain_default_reward_addr documents, and its code is exactly what
 * assembling genesis/contracts/proportional_split.olasm gives: the source and
 * genesis/devnet.json cannot drift apart (scripts/gen-devnet-contracts
 * regenerates the JSON). */
static void test_devnet_contracts(void **state)
{
    (void)state;
    chain_genesis g;
    util_err err = {0};
    const char *j = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g, j, strlen(j), &err), 0);
    assert_int_equal(g.ncontracts, 1);
    uint8_t h[32];
    chain_sha256(h, "openledger:reward:proportional_split", 36);
    assert_memory_equal(g.contracts[0].addr.b, h, CHAIN_ADDR_LEN);
    char s[CHAIN_ADDR_STR_LEN + 1];
    chain_addr_encode(s, &g.contracts[0].addr);
    assert_string_equal(s, "ol1vklxu4jqc9asa4w3kfd6fmyauffc4t745qvywn");

    uint8_t *code;
    size_t n;
    if (vm_asm_file(OL_SOURCE_DIR "/genesis/contracts/proportional_split.olasm", &code, &n, &err))
        fail_msg("%s", err.msg);
    if (n != g.contracts[0].len || memcmp(code, g.contracts[0].code, n) != 0)
        fail_msg("genesis/devnet.json holds other code than proportional_split.olasm assembles "
                 "to: run scripts/gen-devnet-contracts");
    free(code);

    /* The genesis hash from the documented layout (docs/genesis.md), built here
     * field by field rather than by the parser's encoder. */
    util_buf b;
    util_buf_init(&b);
    util_buf_u8(&b, 5); /* encoding version */
    util_buf_lenbytes(&b, "openledger-devnet", 17);
    util_buf_u64(&b, 1767225600000ull);
    size_t params_at = b.len;
    util_buf_u64(&b, 50000000);
    util_buf_u64(&b, 8388608);
    util_buf_u64(&b, 131072);
    util_buf_u64(&b, 1);
    util_buf_u32(&b, 3000);  /* propose */
    util_buf_u32(&b, 500);   /* propose delta */
    util_buf_u32(&b, 1000);  /* prevote */
    util_buf_u32(&b, 500);   /* prevote delta */
    util_buf_u32(&b, 1000);  /* precommit */
    util_buf_u32(&b, 500);   /* precommit delta */
    util_buf_u32(&b, 1000);  /* commit */
    util_buf_u32(&b, 10000); /* max clock drift */
    util_buf_u32(&b, 10);    /* output interval */
    /* The consensus parameters hash: tag 0x10, version 2, the same 68 bytes. */
    assert_int_equal(b.len - params_at, 68);
    uint8_t pe[69], ph[32];
    pe[0] = 2;
    memcpy(pe + 1, b.data + params_at, 68);
    chain_hash_tagged(ph, 0x10, pe, sizeof pe);
    assert_memory_equal(ph, g.params_hash, 32);
    util_buf_varint(&b, 1);
    util_buf_lenbytes(&b, "devnet-validator", 16);
    util_buf_put(&b, g.vals[0].pubkey, 32);
    util_buf_u64(&b, 10);
    util_buf_varint(&b, 10);
    for (size_t i = 0; i < 10; i++) {
        util_buf_put(&b, g.alloc[i].addr.b, CHAIN_ADDR_LEN);
        util_buf_u64(&b, 10000000000000000ull);
    }
    util_buf_varint(&b, 1);
    util_buf_put(&b, h, CHAIN_ADDR_LEN);
    util_buf_lenbytes(&b, g.contracts[0].code, g.contracts[0].len);
    uint8_t gh[32];
    chain_hash_tagged(gh, CHAIN_TAG_GENESIS, b.data, b.len);
    util_buf_free(&b);
    assert_memory_equal(gh, g.hash, 32);
    chain_genesis_free(&g);
}

/* "contracts" is optional: absent and empty are the same document. A contract
 * may also have a balance (an alloc entry at its address). Its code is part of
 * the hash. */
static void test_contracts_variants(void **state)
{
    (void)state;
    chain_genesis g1, g2;
    util_err err = {0};
    json_t *d = devnet_doc();
    json_object_del(d, "contracts");
    assert_int_equal(parse_doc(d, &g1, &err), 0);
    assert_int_equal(g1.ncontracts, 0);
    assert_null(g1.contracts);
    json_object_set_new(d, "contracts", json_array());
    assert_int_equal(parse_doc(d, &g2, &err), 0);
    assert_memory_equal(g1.hash, g2.hash, 32);
    chain_genesis_free(&g2);
    json_decref(d);

    d = devnet_doc();
    json_t *c = at(d, "contracts", 0);
    json_array_append_new(
        json_object_get(d, "alloc"),
        json_pack("{s:O,s:s}", "address", json_object_get(c, "address"), "balance", "5"));
    assert_int_equal(parse_doc(d, &g2, &err), 0);
    assert_int_equal(g2.nalloc, 11);
    assert_int_equal(g2.ncontracts, 1);
    assert_memory_equal(g2.alloc[10].addr.b, g2.contracts[0].addr.b, CHAIN_ADDR_LEN);
    chain_genesis_free(&g2);
    json_decref(d);

    /* A second contract (uppercase 0X, same code) at another address. */
    chain_genesis g0;
    const char *j = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g0, j, strlen(j), &err), 0);
    d = devnet_doc();
    c = at(d, "contracts", 0);
    char *hex = malloc(2 * g0.contracts[0].len + 3);
    assert_non_null(hex);
    memcpy(hex, "0X", 2);
    util_hex_encode(hex + 2, g0.contracts[0].code, g0.contracts[0].len);
    json_array_append_new(json_object_get(d, "contracts"),
                          json_pack("{s:O,s:s}", "address",
                                    json_object_get(at(d, "alloc", 0), "address"), "code", hex));
    free(hex);
    assert_int_equal(parse_doc(d, &g2, &err), 0);
    assert_int_equal(g2.ncontracts, 2);
    assert_int_equal(g2.contracts[1].len, g0.contracts[0].len);
    assert_memory_not_equal(g0.hash, g2.hash, 32);
    chain_genesis_free(&g2);
    json_decref(d);
    chain_genesis_free(&g0);
    chain_genesis_free(&g1);
}

/* "0x" + hex of a blob of n bytes that starts like a real header. */
static char *code_hex(const uint8_t *code, size_t n)
{
    char *s = malloc(2 * n + 3);
    assert_non_null(s);
    memcpy(s, "0x", 2);
    util_hex_encode(s + 2, code, n);
    return s;
}

static void set_code(json_t *doc, const uint8_t *code, size_t n)
{
    char *s = code_hex(code, n);
    set_str(at(doc, "contracts", 0), "code", s);
    free(s);
}

static void test_bad_contracts(void **state)
{
    (void)state;
    chain_genesis g0;
    util_err err = {0};
    const char *j = chain_genesis_devnet_json();
    assert_int_equal(chain_genesis_parse(&g0, j, strlen(j), &err), 0);
    const uint8_t *code = g0.contracts[0].code;
    size_t n = g0.contracts[0].len;
    json_t *d;

    d = devnet_doc();
    json_object_set_new(d, "contracts", json_object());
    expect_reject(d, "contracts: not an array");
    d = devnet_doc();
    json_array_append_new(json_object_get(d, "contracts"), json_integer(1));
    expect_reject(d, "contracts[1]: not an object");
    d = devnet_doc();
    json_object_set_new(at(d, "contracts", 0), "balance", json_string("1"));
    expect_reject(d, "contracts[0].balance: unknown field");
    d = devnet_doc();
    json_object_del(at(d, "contracts", 0), "address");
    expect_reject(d, "contracts[0].address: missing");
    d = devnet_doc();
    set_str(at(d, "contracts", 0), "address", "ol1xyz");
    expect_reject(d, "contracts[0].address: wrong length");
    d = devnet_doc();
    json_array_append(json_object_get(d, "contracts"), at(d, "contracts", 0));
    expect_reject(d, "contracts[1].address: duplicate of contracts[0]");
    d = devnet_doc();
    json_object_del(at(d, "contracts", 0), "code");
    expect_reject(d, "contracts[0].code: missing");
    d = devnet_doc();
    json_object_set_new(at(d, "contracts", 0), "code", json_integer(0));
    expect_reject(d, "contracts[0].code: not a string");
    d = devnet_doc();
    set_str(at(d, "contracts", 0), "code", "0x");
    expect_reject(d, "contracts[0].code: empty");
    d = devnet_doc();
    set_str(at(d, "contracts", 0), "code", "0x4f4c564d0");
    expect_reject(d, "contracts[0].code: not hex");
    d = devnet_doc();
    set_str(at(d, "contracts", 0), "code", "0x4f4c564dzz");
    expect_reject(d, "contracts[0].code: not hex");
    /* Truncated: the header's lengths no longer add up. */
    d = devnet_doc();
    set_code(d, code, n - 8);
    expect_reject(d, "contracts[0].code: invalid code: offset");
    d = devnet_doc();
    set_code(d, code, 10);
    expect_reject(d, "contracts[0].code: invalid code: offset");
    {
        /* Oversized: one byte past the limit. */
        uint8_t *big = calloc(1, CHAIN_CODE_MAX + 1);
        assert_non_null(big);
        memcpy(big, code, n);
        d = devnet_doc();
        set_code(d, big, CHAIN_CODE_MAX + 1);
        expect_reject(d, "contracts[0].code: larger than 24576 bytes");
        free(big);
    }
    {
        /* An unknown opcode in the first instruction. */
        uint8_t *bad = malloc(n);
        assert_non_null(bad);
        memcpy(bad, code, n);
        bad[VM_HEADER_SIZE] = 0xff;
        d = devnet_doc();
        set_code(d, bad, n);
        expect_reject(d, "contracts[0].code: invalid code: offset 16: unknown opcode");
        free(bad);
    }
    chain_genesis_free(&g0);
}

static void expect_raw_reject(const char *s, size_t n, const char *want)
{
    chain_genesis g;
    util_err err = {0};
    int rc = chain_genesis_parse(&g, s, n, &err);
    if (rc == 0 || strstr(err.msg, want) == NULL)
        fail_msg("want error containing \"%s\", got rc %d \"%s\"", want, rc, err.msg);
    assert_null(g.vals);
}

static void test_bad_json(void **state)
{
    (void)state;
    expect_raw_reject("{", 1, "not valid JSON");
    expect_raw_reject("", 0, "not valid JSON");
    expect_raw_reject("{\"chainId\":\"a\",\"chainId\":\"b\"}", 29, "not valid JSON");
    expect_raw_reject("{\"chainId\":\"a\0b\"}", 17, "not valid JSON");
    expect_raw_reject("[]", 2, "not a JSON object");
    expect_raw_reject("42", 2, "not a JSON object");
    expect_raw_reject("\"x\"", 3, "not a JSON object");
    expect_raw_reject("{} x", 4, "not valid JSON");

    size_t n = CHAIN_GENESIS_MAX_BYTES + 1;
    char *big = malloc(n);
    assert_non_null(big);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    expect_raw_reject(big, n, "larger than");
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_equals_file),
        cmocka_unit_test(test_devnet_content),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_hash_ignores_formatting),
        cmocka_unit_test(test_valid_variants),
        cmocka_unit_test(test_bad_top_level),
        cmocka_unit_test(test_bad_time),
        cmocka_unit_test(test_bad_validators),
        cmocka_unit_test(test_bad_alloc),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_devnet_contracts),
        cmocka_unit_test(test_contracts_variants),
        cmocka_unit_test(test_bad_contracts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
