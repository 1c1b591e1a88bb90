/* The CLI's side of the OPEN bridge (docs/rollup.md, "Bridge", "CLI"): a
 * blocking JSON-RPC client for the L1 that sends EIP-1559 transactions from
 * a keystore key, the texts the bridge commands print (statuses, time left,
 * the contracts' custom errors in plain English) and the local check of a
 * withdrawal proof before it is sent to the L1.
 *
 * The L1 account of a key is its secp256k1 secret normalised to the even-y
 * point (rollup_eth_seckey_even), the rule the node's keys follow: its
 * address depends on the public key alone, so `bridge l1-address` needs no
 * passphrase. Memory: cli_l1 owns its HTTP client (cli_l1_close); JSON
 * results are new references the caller releases. */
#ifndef OL_CLI_BRIDGE_H
#define OL_CLI_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli.h"
#include "rollup/bridge_abi.h"
#include "rollup/eth/ecdsa.h"
#include "util/bytes.h"
#include "util/err.h"
#include "util/hex.h"

/* Receipt polling on the L1 and on the node. */
#define CLI_BRIDGE_POLL_MS 500
/* --timeout default of the bridge commands: an L1 block, the deposit's
 * confirmations and a validator's block take longer than an L2 transfer. */
#define CLI_BRIDGE_TIMEOUT_S 300
/* Gas estimate margin, in percent (the transaction manager's). */
#define CLI_L1_GAS_MARGIN_PCT 20
/* How cli_l1_revert_text starts the Bridge's NotFinal(readyAt). */
#define CLI_L1_NOT_FINAL_TEXT "the output is not final yet"
/* Fee cap: maxFeePerGas never exceeds this (500 gwei). */
#define CLI_L1_MAX_FEE_WEI 500000000000ull

typedef struct cli_l1 {
    char url[1024];
    struct util_net_client *net;
    uint64_t chain_id; /* eth_chainId, read by cli_l1_open */
} cli_l1;

/* Connects (lazily) to url and reads eth_chainId. Errors say the L1 cannot
 * be reached at url. */
OL_MUST_CHECK int cli_l1_open(cli_l1 *l1, const char *url, util_err *err);
void cli_l1_close(cli_l1 *l1);

/* One JSON-RPC call; params stolen (NULL: []). A JSON-RPC error answer is
 * UTIL_EINVAL "METHOD: L1 error CODE: MESSAGE", and when the error carries
 * revert data ("0x..." in error.data) it is appended to revert (optional). */
OL_MUST_CHECK int cli_l1_call(cli_l1 *l1, const char *method, json_t *params, json_t **result,
                              util_buf *revert, util_err *err);
/* eth_call to `to` at "latest"; the return data appended to out. A revert is
 * UTIL_EINVAL with the decoded error as the message. */
OL_MUST_CHECK int cli_l1_eth_call(cli_l1 *l1, const rollup_eth_addr *to, const uint8_t *data,
                                  size_t len, util_buf *out, util_err *err);
/* eth_call whose answer is one uint256 word. */
OL_MUST_CHECK int cli_l1_call_word(cli_l1 *l1, const rollup_eth_addr *to, const util_buf *calldata,
                                   uint8_t word[32], util_err *err);
/* eth_getBalance(addr, "latest") as a big-endian uint256. */
OL_MUST_CHECK int cli_l1_eth_balance(cli_l1 *l1, const rollup_eth_addr *a, uint8_t word[32],
                                     util_err *err);

/* Sends a transaction from sk's account (from) to `to` with data: nonce
 * from eth_getTransactionCount(pending), fees from eth_feeHistory (maxFee =
 * 2 x next base fee + tip) or eth_gasPrice, gas from eth_estimateGas plus
 * CLI_L1_GAS_MARGIN_PCT. A revert at estimation is UTIL_EINVAL with the
 * contract's error in plain English (cli_l1_revert_text). 0 and txhash. */
OL_MUST_CHECK int cli_l1_send(cli_l1 *l1, const uint8_t sk[32], const rollup_eth_addr *from,
                              const rollup_eth_addr *to, const util_buf *data, uint8_t txhash[32],
                              util_err *err);
/* Polls eth_getTransactionReceipt every CLI_BRIDGE_POLL_MS until it is there
 * or timeout_s pass (UTIL_ESTATE "not mined after N s"). *receipt: the raw
 * receipt (logs included), *r its parsed fields. A reverted transaction is
 * returned as 0 with r->status 0: the caller says what failed. */
OL_MUST_CHECK int cli_l1_wait_receipt(cli_l1 *l1, const uint8_t txhash[32], uint64_t timeout_s,
                                      json_t **receipt, rollup_l1_receipt *r, util_err *err);

/* --- texts (cli/bridge_text.c, pure) --------------------------------------- */

/* "0 s", "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
void cli_format_duration(char *out, size_t cap, uint64_t seconds);
/* A big-endian uint256 in decimal with `decimals` decimals, trailing zeros
 * of the fraction dropped: "1000", "1.5", "0.000000001". out >= 90 bytes. */
void cli_format_u256(char *out, size_t cap, const uint8_t w[32], unsigned decimals);
/* A uint256 of at most 64 bits: 0 and *v, else UTIL_ELIMIT. */
OL_MUST_CHECK int cli_u256_to_u64(const uint8_t w[32], uint64_t *v);
/* "0x..." hex quantity of up to 256 bits into a big-endian word. 0 or UTIL_EINVAL. */
OL_MUST_CHECK int cli_parse_quantity256(const char *s, uint8_t w[32]);
/* The revert data of an L1 call in plain English: the Bridge's and
 * OpenToken's custom errors (docs/rollup.md), Error(string) and
 * Panic(uint256); anything else is shown as its data. now_s (unix seconds)
 * turns NotFinal's time into a time left. Returns 1 when the error was
 * recognised, 0 when out holds the raw data. */
int cli_l1_revert_text(char *out, size_t cap, const uint8_t *data, size_t len, uint64_t now_s);
/* One line for a withdrawal object of bridge_getWithdrawal (or the CLI's own
 * "pending" for a WITHDRAW transaction not yet in a block): "waiting for
 * finalization: 3 min 20 s left", "ready to finalize", ... */
void cli_bridge_status_text(char *out, size_t cap, const json_t *w);

/* --- withdrawal proofs (cli/bridge_proof.c) -------------------------------- */

typedef struct cli_bridge_proof {
    rollup_bridge_withdrawal w;
    chain_addr sender;
    uint64_t output_index, output_height;
    uint8_t state_root[32], block_hash[32], withdrawals_root[32], output_root[32];
    /* The contract's bytes32[]: [stateRoot, blockHash, withdrawalsRoot, siblings...] */
    uint8_t words[ROLLUP_BRIDGE_PROOF_MAX_WORDS][32];
    size_t nwords;
} cli_bridge_proof;

/* Reads a bridge_getWithdrawalProof answer; checks every field's form. */
OL_MUST_CHECK int cli_bridge_proof_parse(const json_t *res, cli_bridge_proof *p, util_err *err);
/* The local check: the proof words are the roots then the siblings, the
 * three roots hash to the output root (rollup_output_root), and the
 * withdrawal's leaf folded with the siblings gives the withdrawals root
 * (chain_smt_verify). UTIL_EINVAL naming what does not hold. */
OL_MUST_CHECK int cli_bridge_proof_verify(const cli_bridge_proof *p, util_err *err);
/* finalizeWithdrawal's calldata for the proof, appended to out. */
OL_MUST_CHECK int cli_bridge_proof_calldata(const cli_bridge_proof *p, util_buf *out,
                                            util_err *err);

/* --- shared by the bridge commands (cli/commands_bridge.c) ----------------- */

/* What the bridge commands know of the bridge: the node's bridge_info and,
 * once opened, the L1. Release with cli_bridge_env_free. */
typedef struct cli_bridge_env {
    json_t *info; /* bridge_info */
    int has_token, has_bridge, has_oracle;
    rollup_eth_addr token, bridge, oracle;
    uint64_t confirmations; /* depositConfirmations */
    int l1_open;
    cli_l1 l1;
} cli_bridge_env;

/* bridge_info from the node, then (need_l1) the L1 at --l1, $OPENLEDGER_L1
 * or bridge_info.l1Url, checked to be the chain bridge_info names. need_bridge:
 * the token and bridge addresses must be known. Errors are the user's. */
OL_MUST_CHECK int cli_bridge_env_open(cli_ctx *ctx, const cli_args *a, int need_l1, int need_bridge,
                                      cli_bridge_env *b, util_err *err);
void cli_bridge_env_free(cli_bridge_env *b);
/* --timeout of a bridge command (default CLI_BRIDGE_TIMEOUT_S); usage errors printed. */
OL_MUST_CHECK int cli_bridge_timeout(cli_ctx *ctx, const cli_args *a, uint64_t *s);
/* token.balanceOf(a) */
OL_MUST_CHECK int cli_bridge_open_balance(cli_bridge_env *b, const rollup_eth_addr *a,
                                          uint8_t word[32], util_err *err);

/* The L1 account of key `name` (devN or a keystore name): its address,
 * without the passphrase (from the public key). */
OL_MUST_CHECK int cli_bridge_key_address(cli_ctx *ctx, const char *name, rollup_eth_addr *a,
                                         util_err *err);
/* The key's even-y secret (asks for the passphrase); the caller wipes it. */
OL_MUST_CHECK int cli_bridge_key_secret(cli_ctx *ctx, const char *name, uint8_t sk[32],
                                        rollup_eth_addr *a, util_err *err);

#endif
