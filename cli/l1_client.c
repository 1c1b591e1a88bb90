/* A blocking JSON-RPC client for the L1 (over util/net, like the node's
 * client in cli/rpc_client.c) and the sending of EIP-1559 transactions from
 * a key: what the bridge commands need on Ethereum. The error answers keep
 * their revert data, which the user sees decoded (cli/bridge_text.c). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/bridge.h"
#include "cli/http_client.h"
#include "rollup/eth/tx.h"
#include "rollup/l1/client.h"
#include "util/hex.h"
#include "util/net.h"
#include "util/time.h"

#define L1_TIMEOUT_MS 30000
#define L1_MAX_RESPONSE (16u * 1024 * 1024)
#define L1_REVERT_MAX 4096

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static char *hex0x(const uint8_t *p, size_t n)
{
    char *s = malloc(2 * n + 3);
    if (!s) return NULL;
    s[0] = '0';
    s[1] = 'x';
    util_hex_encode(s + 2, p, n);
    return s;
}

int cli_l1_open(cli_l1 *l1, const char *url, util_err *err)
{
    memset(l1, 0, sizeof *l1);
    if (strlen(url) >= sizeof l1->url) return util_err_set(err, UTIL_EINVAL, "L1 URL too long");
    snprintf(l1->url, sizeof l1->url, "%s", url);
    util_net_opts o = {.timeout_ms = L1_TIMEOUT_MS,
                       .connect_timeout_ms = CLI_HTTP_CONNECT_TIMEOUT_MS,
                       .max_response = L1_MAX_RESPONSE,
                       .user_agent = "openledger-cli/" OL_VERSION,
                       .peer_name = "L1 endpoint"};
    int rc = util_net_client_new(&l1->net, &o, err);
    if (rc) return rc;
    json_t *r = NULL;
    if ((rc = cli_l1_call(l1, "eth_chainId", NULL, &r, NULL, err)) ||
        (rc = rollup_l1_parse_u64(r, &l1->chain_id, "eth_chainId", err))) {
        json_decref(r);
        util_err_prefix(err, "L1 at %s: ", url);
        cli_l1_close(l1);
        return rc;
    }
    json_decref(r);
    return 0;
}

void cli_l1_close(cli_l1 *l1)
{
    util_net_client_free(l1->net);
    l1->net = NULL;
}

/* error.data: "0x..." (geth, anvil), or {"data": "0x..."} (some proxies). */
static void keep_revert(const json_t *e, util_buf *revert)
{
    json_t *d = json_object_get(e, "data");
    if (json_is_object(d)) d = json_object_get(d, "data");
    const char *s = json_string_value(d);
    uint8_t *b = NULL;
    size_t n = 0;
    if (!s || strncmp(s, "0x", 2) != 0 || util_hex_decode_alloc(s + 2, L1_REVERT_MAX, &b, &n))
        return;
    util_buf_put(revert, b, n);
    free(b);
}

int cli_l1_call(cli_l1 *l1, const char *method, json_t *params, json_t **result, util_buf *revert,
                util_err *err)
{
    *result = NULL;
    json_t *req = json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 1, "method", method,
                            "params", params ? params : json_array());
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    util_net_resp hr;
    int rc = util_net_post_json(l1->net, l1->url, body, strlen(body), &hr, err);
    free(body);
    if (rc) {
        util_net_resp_free(&hr);
        return util_err_prefix(err, "%s: ", method);
    }
    json_error_t je;
    /* anvil and geth put raw revert bytes, NULs included, in messages. */
    json_t *doc = json_loadb(hr.body, hr.len, JSON_ALLOW_NUL, &je);
    util_net_resp_free(&hr);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return util_err_set(err, UTIL_EIO, "%s: the L1 endpoint's answer is not a JSON object",
                            method);
    }
    json_t *e = json_object_get(doc, "error");
    if (e && !json_is_null(e)) {
        json_t *code = json_object_get(e, "code");
        const char *msg = json_string_value(json_object_get(e, "message"));
        char safe[256];
        size_t k = 0;
        for (const char *p = msg ? msg : "(no message)"; *p && k + 1 < sizeof safe; p++)
            safe[k++] = (unsigned char)*p >= 0x20 && *p != 0x7f ? *p : '?';
        safe[k] = 0;
        if (revert) keep_revert(e, revert);
        util_err_set(err, UTIL_EINVAL, "%s: L1 error %lld: %s", method,
                     json_is_integer(code) ? (long long)json_integer_value(code) : 0LL, safe);
        json_decref(doc);
        return UTIL_EINVAL;
    }
    json_t *r = json_object_get(doc, "result");
    if (!r) {
        json_decref(doc);
        return util_err_set(err, UTIL_EIO, "%s: the L1 endpoint's answer has no result", method);
    }
    *result = json_incref(r);
    json_decref(doc);
    return 0;
}

static json_t *call_obj(const rollup_eth_addr *from, const rollup_eth_addr *to, const uint8_t *data,
                        size_t len)
{
    json_t *o = json_object();
    if (from) json_object_set_new(o, "from", rollup_l1_address(from));
    json_object_set_new(o, "to", rollup_l1_address(to));
    json_object_set_new(o, "data", rollup_l1_data(data, len));
    return o;
}

/* An answer refused with revert data: the message becomes the decoded error. */
static int revert_error(const char *what, const util_buf *rev, util_err *err)
{
    char text[512];
    cli_l1_revert_text(text, sizeof text, rev->data, rev->len, (uint64_t)time(NULL));
    return util_err_set(err, UTIL_EINVAL, "%s: %s", what, text);
}

int cli_l1_eth_call(cli_l1 *l1, const rollup_eth_addr *to, const uint8_t *data, size_t len,
                    util_buf *out, util_err *err)
{
    util_buf rev;
    util_buf_init(&rev);
    json_t *r = NULL;
    int rc =
        cli_l1_call(l1, "eth_call", json_pack("[o, s]", call_obj(NULL, to, data, len), "latest"),
                    &r, &rev, err);
    if (rc && rev.len) rc = revert_error("eth_call", &rev, err);
    util_buf_free(&rev);
    if (rc) return rc;
    uint8_t *b = NULL;
    size_t n = 0;
    rc = rollup_l1_parse_data(r, L1_MAX_RESPONSE, &b, &n, "eth_call result", err);
    json_decref(r);
    if (rc) return rc;
    util_buf_put(out, b, n);
    free(b);
    return 0;
}

int cli_l1_call_word(cli_l1 *l1, const rollup_eth_addr *to, const util_buf *calldata,
                     uint8_t word[32], util_err *err)
{
    util_buf out;
    util_buf_init(&out);
    int rc = cli_l1_eth_call(l1, to, calldata->data, calldata->len, &out, err);
    if (!rc && out.len < 32) {
        char h[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        rollup_eth_addr_hex(h, to);
        rc = util_err_set(err, UTIL_EIO,
                          "eth_call to %s answered %zu bytes, not a word: is it the contract "
                          "bridge_info names, on this L1?",
                          h, out.len);
    }
    if (!rc) memcpy(word, out.data, 32);
    util_buf_free(&out);
    return rc;
}

int cli_l1_eth_balance(cli_l1 *l1, const rollup_eth_addr *a, uint8_t word[32], util_err *err)
{
    json_t *r = NULL;
    int rc = cli_l1_call(l1, "eth_getBalance", json_pack("[o, s]", rollup_l1_address(a), "latest"),
                         &r, NULL, err);
    if (rc) return rc;
    if (cli_parse_quantity256(json_string_value(r), word))
        rc = util_err_set(err, UTIL_EIO, "eth_getBalance: not a quantity");
    json_decref(r);
    return rc;
}

static int get_u64(cli_l1 *l1, const char *method, json_t *params, uint64_t *v, util_err *err)
{
    json_t *r = NULL;
    int rc = cli_l1_call(l1, method, params, &r, NULL, err);
    if (!rc) rc = rollup_l1_parse_u64(r, v, method, err);
    json_decref(r);
    return rc;
}

/* EIP-1559 fees as the node's transaction manager sets them; eth_gasPrice
 * for endpoints without eth_feeHistory. */
static int fees(cli_l1 *l1, uint64_t *max_fee, uint64_t *tip, util_err *err)
{
    json_t *r = NULL;
    rollup_l1_fees f;
    if (cli_l1_call(l1, "eth_feeHistory",
                    json_pack("[o, s, [i]]", rollup_l1_quantity(10), "latest", 50), &r, NULL,
                    NULL) == 0 &&
        rollup_l1_parse_fee_history(r, &f, NULL) == 0) {
        json_decref(r);
        uint64_t fee = f.next_base_fee > (CLI_L1_MAX_FEE_WEI - f.tip) / 2
                           ? CLI_L1_MAX_FEE_WEI
                           : 2 * f.next_base_fee + f.tip;
        *max_fee = fee;
        *tip = f.tip < fee ? f.tip : fee;
        return 0;
    }
    json_decref(r);
    uint64_t gp;
    int rc = get_u64(l1, "eth_gasPrice", NULL, &gp, err);
    if (rc) return rc;
    *max_fee = *tip = gp > CLI_L1_MAX_FEE_WEI ? CLI_L1_MAX_FEE_WEI : gp;
    return 0;
}

static int no_eth(const char *addr, util_err *err)
{
    char was[sizeof err->msg];
    memcpy(was, err->msg, sizeof was);
    return util_err_set(err, UTIL_EINVAL,
                        "the L1 account %s has not enough ETH to pay for gas (%s)", addr, was);
}

int cli_l1_send(cli_l1 *l1, const uint8_t sk[32], const rollup_eth_addr *from,
                const rollup_eth_addr *to, const util_buf *data, uint8_t txhash[32], util_err *err)
{
    char fh[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(fh, from);
    rollup_eth_tx tx = {.chain_id = l1->chain_id,
                        .has_to = 1,
                        .to = *to,
                        .data = data->data,
                        .data_len = data->len};
    int rc;
    util_buf rev;
    util_buf_init(&rev);
    uint64_t gas = 0;
    json_t *est = NULL;
    rc = cli_l1_call(l1, "eth_estimateGas",
                     json_pack("[o]", call_obj(from, to, data->data, data->len)), &est, &rev, err);
    if (!rc) rc = rollup_l1_parse_u64(est, &gas, "eth_estimateGas", err);
    json_decref(est);
    if (rc) {
        if (rev.len) {
            rc = revert_error("the L1 refuses the transaction", &rev, err);
        } else if (err &&
                   (strstr(err->msg, "insufficient funds") || strstr(err->msg, "gas required"))) {
            rc = no_eth(fh, err);
        }
        util_buf_free(&rev);
        return rc;
    }
    util_buf_free(&rev);
    tx.gas_limit = gas + gas * CLI_L1_GAS_MARGIN_PCT / 100;
    if ((rc = fees(l1, &tx.max_fee_per_gas, &tx.max_priority_fee_per_gas, err)) ||
        (rc = get_u64(l1, "eth_getTransactionCount",
                      json_pack("[o, s]", rollup_l1_address(from), "pending"), &tx.nonce, err)))
        return rc;
    uint8_t *raw = NULL;
    size_t rawlen = 0;
    if ((rc = rollup_eth_tx_sign(&tx, sk, &raw, &rawlen, txhash, err))) return rc;
    json_t *r = NULL;
    rc = cli_l1_call(l1, "eth_sendRawTransaction", json_pack("[o]", rollup_l1_data(raw, rawlen)),
                     &r, NULL, err);
    free(raw);
    json_decref(r);
    if (rc && err && strstr(err->msg, "insufficient funds")) rc = no_eth(fh, err);
    return rc;
}

int cli_l1_wait_receipt(cli_l1 *l1, const uint8_t txhash[32], uint64_t timeout_s, json_t **receipt,
                        rollup_l1_receipt *out, util_err *err)
{
    uint64_t deadline = util_mono_ns() + timeout_s * 1000000000ull;
    char *h = hex0x(txhash, 32);
    if (!h) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    for (;;) {
        json_t *r = NULL;
        int rc = cli_l1_call(l1, "eth_getTransactionReceipt", json_pack("[s]", h), &r, NULL, err);
        if (rc) {
            free(h);
            return rc;
        }
        if (!json_is_null(r)) {
            rc = rollup_l1_parse_receipt(r, out, err);
            if (rc) {
                json_decref(r);
                free(h);
                return rc;
            }
            *receipt = r;
            free(h);
            return 0;
        }
        json_decref(r);
        if (util_mono_ns() >= deadline) {
            rc = util_err_set(err, UTIL_ESTATE,
                              "L1 transaction %s not mined after %llu s (it may still be; look it "
                              "up on the L1)",
                              h, (unsigned long long)timeout_s);
            free(h);
            return rc;
        }
        sleep_ms(CLI_BRIDGE_POLL_MS);
    }
}
