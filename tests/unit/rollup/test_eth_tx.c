/* Ethereum accounts and EIP-1559 transactions (rollup/eth/ecdsa.h, tx.h),
 * checked against published values and a real L1: anvil (foundry, pinned in
 * rollup/peers) started by this program on a free 127.0.0.1 port.
 *
 * Published values used:
 *   - anvil's first default account: key 0xac0974be...ff80 has address
 *     0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 (anvil's startup banner,
 *     foundry book "anvil" reference);
 *   - that account's first CREATE lands at 0x5FbDB2315678afecb367f032d93F642f64180aa3
 *     (the address of every foundry tutorial's first deployment);
 *   - EIP-55's example addresses (eips.ethereum.org/EIPS/eip-55, "Test Cases").
 * anvil accepting our raw transactions, naming our sender and giving the
 * contract the address we compute is the end-to-end check of the signing
 * hash, the RLP and the signature. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "chain/crypto/keys.h"
#include "rollup/eth/ecdsa.h"
#include "rollup/eth/keccak.h"
#include "rollup/eth/tx.h"
#include "util/hex.h"
#include "util/net.h"

static const char *ANVIL_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
static const char *ANVIL_ADDR = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

static void key(uint8_t sk[32])
{
    assert_int_equal(util_hex_decode_exact(sk, 32, ANVIL_KEY), 0);
}

static void test_anvil_address(void **state)
{
    (void)state;
    uint8_t sk[32];
    rollup_eth_addr a;
    char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    key(sk);
    assert_int_equal(rollup_eth_addr_from_seckey(&a, sk, NULL), 0);
    rollup_eth_addr_hex(hex, &a);
    assert_string_equal(hex, ANVIL_ADDR);

    uint8_t zero[32] = {0};
    util_err err;
    assert_int_equal(rollup_eth_addr_from_seckey(&a, zero, &err), UTIL_EINVAL);
}

static void test_eip55(void **state)
{
    (void)state;
    /* EIP-55 "Test Cases": all caps, all lower, normal. */
    static const char *const cases[] = {
        "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rollup_eth_addr a;
        char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        assert_int_equal(rollup_eth_addr_parse(&a, cases[i], NULL), 0);
        rollup_eth_addr_hex(hex, &a);
        /* The all-caps and all-lower cases are checksummed versions of themselves. */
        assert_string_equal(hex, cases[i]);
    }
    rollup_eth_addr a;
    util_err err;
    /* One letter's case flipped: a wrong checksum. */
    assert_int_equal(rollup_eth_addr_parse(&a, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", &err),
                     UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "checksum"));
    /* Lower-case input is accepted whatever its checksum would be. */
    assert_int_equal(rollup_eth_addr_parse(&a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", NULL),
                     0);
    assert_int_equal(rollup_eth_addr_parse(&a, "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed00", &err),
                     UTIL_EINVAL);
    assert_int_equal(rollup_eth_addr_parse(&a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", &err),
                     UTIL_EINVAL);
    assert_int_equal(rollup_eth_addr_parse(&a, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beazz", &err),
                     UTIL_EINVAL);
}

/* The BIP-340 public key (x of the even-y point) names the address of the
 * even-y normalised secret, for both parities. */
static void test_even_y(void **state)
{
    (void)state;
    int odd = 0, even = 0;
    for (uint32_t i = 0; i < 32; i++) {
        chain_keypair kp;
        assert_int_equal(chain_keypair_dev(&kp, i), 0);
        uint8_t ev[32];
        rollup_eth_addr from_x, from_even, from_sk;
        assert_int_equal(rollup_eth_seckey_even(ev, kp.seckey, NULL), 0);
        assert_int_equal(rollup_eth_addr_from_xonly(&from_x, kp.pubkey, NULL), 0);
        assert_int_equal(rollup_eth_addr_from_seckey(&from_even, ev, NULL), 0);
        assert_int_equal(rollup_eth_addr_from_seckey(&from_sk, kp.seckey, NULL), 0);
        assert_memory_equal(from_x.b, from_even.b, ROLLUP_ETH_ADDR_LEN);
        if (memcmp(ev, kp.seckey, 32) != 0) {
            odd++;
            /* The raw secret's own point is the odd-y one: another address. */
            assert_memory_not_equal(from_sk.b, from_x.b, ROLLUP_ETH_ADDR_LEN);
        } else {
            even++;
            assert_memory_equal(from_sk.b, from_x.b, ROLLUP_ETH_ADDR_LEN);
        }
        /* Normalising twice changes nothing. */
        uint8_t ev2[32];
        assert_int_equal(rollup_eth_seckey_even(ev2, ev, NULL), 0);
        assert_memory_equal(ev, ev2, 32);
    }
    /* 32 keys: both parities occur (probability of not 2^-31). */
    assert_true(odd > 0 && even > 0);

    /* x = 5 is not on secp256k1 (5^3 + 7 = 132 is not a square mod p). */
    uint8_t bad[32] = {0};
    bad[31] = 5;
    rollup_eth_addr a;
    util_err err;
    assert_int_equal(rollup_eth_addr_from_xonly(&a, bad, &err), UTIL_EINVAL);
}

/* n - s, big-endian, for the malleated signature. */
static void negate_s(uint8_t s[32])
{
    static const uint8_t n[32] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                  0xff, 0xff, 0xff, 0xff, 0xfe, 0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48,
                                  0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
    int borrow = 0;
    for (int i = 31; i >= 0; i--) {
        int d = n[i] - s[i] - borrow;
        borrow = d < 0;
        s[i] = (uint8_t)(d + (borrow ? 256 : 0));
    }
}

static void test_sign_recover(void **state)
{
    (void)state;
    uint8_t sk[32], digest[32], sig[65], sig2[65];
    rollup_eth_addr want, got;
    util_err err;
    key(sk);
    assert_int_equal(rollup_eth_addr_from_seckey(&want, sk, NULL), 0);
    for (int i = 0; i < 16; i++) {
        rollup_keccak256(digest, &i, sizeof i);
        assert_int_equal(rollup_eth_sign(sig, digest, sk, NULL), 0);
        assert_true(sig[64] == 27 || sig[64] == 28);
        /* RFC 6979: the same signature again. */
        assert_int_equal(rollup_eth_sign(sig2, digest, sk, NULL), 0);
        assert_memory_equal(sig, sig2, 65);
        assert_int_equal(rollup_eth_recover(&got, digest, sig, NULL), 0);
        assert_memory_equal(got.b, want.b, ROLLUP_ETH_ADDR_LEN);

        /* Another digest recovers someone else. */
        uint8_t other[32];
        memcpy(other, digest, 32);
        other[0] ^= 1;
        if (rollup_eth_recover(&got, other, sig, NULL) == 0)
            assert_memory_not_equal(got.b, want.b, ROLLUP_ETH_ADDR_LEN);

        /* v outside {27, 28}. */
        memcpy(sig2, sig, 65);
        sig2[64] = 29;
        assert_int_equal(rollup_eth_recover(&got, digest, sig2, &err), UTIL_EINVAL);
        sig2[64] = 0;
        assert_int_equal(rollup_eth_recover(&got, digest, sig2, &err), UTIL_EINVAL);

        /* (r, n - s, flipped v) is the same signature, malleated: refused. */
        memcpy(sig2, sig, 65);
        negate_s(sig2 + 32);
        sig2[64] = (uint8_t)(sig[64] == 27 ? 28 : 27);
        assert_int_equal(rollup_eth_recover(&got, digest, sig2, &err), UTIL_EINVAL);
        assert_non_null(strstr(err.msg, "upper half"));
    }
}

static void test_create_address(void **state)
{
    (void)state;
    rollup_eth_addr sender, a;
    char hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    assert_int_equal(rollup_eth_addr_parse(&sender, ANVIL_ADDR, NULL), 0);
    rollup_eth_create_address(&a, &sender, 0);
    rollup_eth_addr_hex(hex, &a);
    assert_string_equal(hex, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
}

static void sample_tx(rollup_eth_tx *tx, const uint8_t *data, size_t n)
{
    memset(tx, 0, sizeof *tx);
    tx->chain_id = 31337;
    tx->nonce = 7;
    tx->max_priority_fee_per_gas = 1000000000;
    tx->max_fee_per_gas = 30000000000;
    tx->gas_limit = 100000;
    tx->has_to = 1;
    memset(tx->to.b, 0xab, ROLLUP_ETH_ADDR_LEN);
    tx->value[31] = 0x42;
    tx->value[30] = 0x01;
    tx->data = data;
    tx->data_len = n;
}

static void test_decode_round_trip(void **state)
{
    (void)state;
    uint8_t sk[32], data[100], hash[32];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    key(sk);
    rollup_eth_addr me;
    assert_int_equal(rollup_eth_addr_from_seckey(&me, sk, NULL), 0);
    for (int create = 0; create < 2; create++) {
        rollup_eth_tx tx, back;
        sample_tx(&tx, data, sizeof data);
        tx.has_to = !create;
        if (create) memset(tx.to.b, 0, ROLLUP_ETH_ADDR_LEN);
        uint8_t *raw;
        size_t raw_len;
        assert_int_equal(rollup_eth_tx_sign(&tx, sk, &raw, &raw_len, hash, NULL), 0);
        uint8_t h2[32];
        rollup_keccak256(h2, raw, raw_len);
        assert_memory_equal(hash, h2, 32);
        assert_int_equal(raw[0], 0x02);

        rollup_eth_addr from;
        util_err err;
        assert_int_equal(rollup_eth_tx_decode(&back, &from, raw, raw_len, &err), 0);
        assert_memory_equal(from.b, me.b, ROLLUP_ETH_ADDR_LEN);
        assert_int_equal(back.chain_id, tx.chain_id);
        assert_int_equal(back.nonce, tx.nonce);
        assert_int_equal(back.max_priority_fee_per_gas, tx.max_priority_fee_per_gas);
        assert_int_equal(back.max_fee_per_gas, tx.max_fee_per_gas);
        assert_int_equal(back.gas_limit, tx.gas_limit);
        assert_int_equal(back.has_to, tx.has_to);
        assert_memory_equal(back.to.b, tx.to.b, ROLLUP_ETH_ADDR_LEN);
        assert_memory_equal(back.value, tx.value, 32);
        assert_int_equal(back.data_len, sizeof data);
        assert_memory_equal(back.data, data, sizeof data);
        assert_true(back.data > raw && back.data < raw + raw_len);

        /* Refusals: trailing byte, another type, every truncation. */
        uint8_t *longer = malloc(raw_len + 1);
        assert_non_null(longer);
        memcpy(longer, raw, raw_len);
        longer[raw_len] = 0;
        assert_int_equal(rollup_eth_tx_decode(&back, &from, longer, raw_len + 1, &err),
                         UTIL_EINVAL);
        longer[0] = 0x01;
        assert_int_equal(rollup_eth_tx_decode(&back, &from, longer, raw_len, &err), UTIL_EINVAL);
        for (size_t k = 0; k < raw_len; k++)
            assert_int_equal(rollup_eth_tx_decode(&back, &from, raw, k, &err), UTIL_EINVAL);
        /* A flipped bit in the payload changes the signer or breaks the
         * encoding; never the original sender. */
        for (size_t k = 1; k < raw_len; k++) {
            memcpy(longer, raw, raw_len);
            longer[k] ^= 0x01;
            if (rollup_eth_tx_decode(&back, &from, longer, raw_len, &err) == 0)
                assert_memory_not_equal(from.b, me.b, ROLLUP_ETH_ADDR_LEN);
        }
        free(longer);
        free(raw);
    }
}

/* ---- a real anvil ---- */

typedef struct anvil {
    pid_t pid;
    char url[64];
    util_net_client *net;
} anvil;

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* The "result" of a JSON-RPC call (a new reference), or NULL on an error
 * answer or no answer. */
static json_t *rpc(anvil *a, const char *method, const char *params)
{
    char body[8192];
    snprintf(body, sizeof body, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"%s\",\"params\":%s}",
             method, params);
    util_net_resp resp;
    util_err err;
    json_t *res = NULL;
    if (util_net_post_json(a->net, a->url, body, strlen(body), &resp, &err) == 0) {
        json_t *doc = json_loads(resp.body, 0, NULL);
        json_t *r = doc ? json_object_get(doc, "result") : NULL;
        if (!r && doc) fprintf(stderr, "anvil %s: %s\n", method, resp.body);
        if (r && !json_is_null(r)) res = json_incref(r);
        json_decref(doc);
    }
    util_net_resp_free(&resp);
    return res;
}

static int anvil_setup(void **state)
{
    anvil *a = calloc(1, sizeof *a);
    if (!a) return -1;
    int port = free_port();
    snprintf(a->url, sizeof a->url, "http://127.0.0.1:%d", port);
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    a->pid = fork();
    if (a->pid < 0) return -1;
    if (a->pid == 0) {
        /* Dies with this test, even when it crashes before its teardown. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        execl(OL_ANVIL, "anvil", "-q", "--host", "127.0.0.1", "--port", port_s, "--chain-id",
              "31337", (char *)NULL);
        _exit(127);
    }
    *state = a;
    util_net_opts o = {.timeout_ms = 10000, .peer_name = "anvil"};
    if (util_net_client_new(&a->net, &o, NULL)) return -1;
    /* Up to 60 s for anvil to listen (a loaded machine). */
    for (int i = 0; i < 600; i++) {
        json_t *r = rpc(a, "eth_chainId", "[]");
        if (r) {
            int ok = json_is_string(r) && strcmp(json_string_value(r), "0x7a69") == 0;
            json_decref(r);
            return ok ? 0 : -1;
        }
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "anvil did not answer on %s\n", a->url);
    return -1;
}

static int anvil_teardown(void **state)
{
    anvil *a = *state;
    if (!a) return 0;
    util_net_client_free(a->net);
    if (a->pid > 0) {
        kill(a->pid, SIGKILL);
        waitpid(a->pid, NULL, 0);
    }
    free(a);
    return 0;
}

/* Sends raw, checks the hash anvil returns, and returns the receipt. */
static json_t *send_and_receipt(anvil *a, const uint8_t *raw, size_t raw_len,
                                const uint8_t txhash[32])
{
    char *params = malloc(2 * raw_len + 16);
    assert_non_null(params);
    strcpy(params, "[\"0x");
    util_hex_encode(params + 4, raw, raw_len);
    strcat(params, "\"]");
    json_t *h = rpc(a, "eth_sendRawTransaction", params);
    free(params);
    assert_non_null(h);
    char want[67] = "0x";
    util_hex_encode(want + 2, txhash, 32);
    assert_string_equal(json_string_value(h), want);
    json_decref(h);

    char p[128];
    snprintf(p, sizeof p, "[\"%s\"]", want);
    json_t *rc = NULL;
    /* anvil mines on arrival; a few tries cover a slow machine. */
    for (int i = 0; i < 100 && !rc; i++) {
        rc = rpc(a, "eth_getTransactionReceipt", p);
        if (!rc) {
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    assert_non_null(rc);
    assert_string_equal(json_string_value(json_object_get(rc, "status")), "0x1");

    json_t *t = rpc(a, "eth_getTransactionByHash", p);
    assert_non_null(t);
    assert_true(strcasecmp(json_string_value(json_object_get(t, "from")), ANVIL_ADDR) == 0);
    json_decref(t);
    return rc;
}

static void test_anvil_accepts(void **state)
{
    anvil *a = *state;
    uint8_t sk[32], hash[32];
    key(sk);
    uint8_t *raw;
    size_t raw_len;

    /* A transfer with calldata to an ordinary account, nonce 0. */
    static const uint8_t note[] = "openledger";
    rollup_eth_tx tx;
    sample_tx(&tx, note, sizeof note - 1);
    tx.nonce = 0;
    assert_int_equal(rollup_eth_tx_sign(&tx, sk, &raw, &raw_len, hash, NULL), 0);
    json_t *rc = send_and_receipt(a, raw, raw_len, hash);
    free(raw);
    json_decref(rc);

    /* A contract creation, nonce 1: init code that returns the one-byte
     * runtime code 0x00 (PUSH1 1 PUSH1 12 PUSH1 0 CODECOPY PUSH1 1 PUSH1 0
     * RETURN, then the runtime byte). */
    static const uint8_t init[] = {0x60, 0x01, 0x60, 0x0c, 0x60, 0x00, 0x39,
                                   0x60, 0x01, 0x60, 0x00, 0xf3, 0x00};
    sample_tx(&tx, init, sizeof init);
    tx.nonce = 1;
    tx.has_to = 0;
    memset(tx.value, 0, 32);
    assert_int_equal(rollup_eth_tx_sign(&tx, sk, &raw, &raw_len, hash, NULL), 0);
    rc = send_and_receipt(a, raw, raw_len, hash);
    free(raw);
    rollup_eth_addr me, want, got;
    assert_int_equal(rollup_eth_addr_parse(&me, ANVIL_ADDR, NULL), 0);
    rollup_eth_create_address(&want, &me, 1);
    const char *ca = json_string_value(json_object_get(rc, "contractAddress"));
    assert_non_null(ca);
    assert_int_equal(rollup_eth_addr_parse(&got, ca, NULL), 0);
    assert_memory_equal(got.b, want.b, ROLLUP_ETH_ADDR_LEN);
    json_decref(rc);

    char p[128], hex[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(hex, &want);
    snprintf(p, sizeof p, "[\"%s\",\"latest\"]", hex);
    json_t *code = rpc(a, "eth_getCode", p);
    assert_non_null(code);
    assert_string_equal(json_string_value(code), "0x00");
    json_decref(code);
}

int main(void)
{
    const struct CMUnitTest offline[] = {
        cmocka_unit_test(test_anvil_address),  cmocka_unit_test(test_eip55),
        cmocka_unit_test(test_even_y),         cmocka_unit_test(test_sign_recover),
        cmocka_unit_test(test_create_address), cmocka_unit_test(test_decode_round_trip),
    };
    const struct CMUnitTest online[] = {
        cmocka_unit_test(test_anvil_accepts),
    };
    int fails = cmocka_run_group_tests_name("offline", offline, NULL, NULL);
    fails += cmocka_run_group_tests_name("anvil", online, anvil_setup, anvil_teardown);
    return fails;
}
