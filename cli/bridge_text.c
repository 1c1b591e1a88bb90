/* What the bridge commands print: durations, uint256 amounts, withdrawal
 * statuses, and the L1 contracts' custom errors in plain English (a user who
 * meets "0x6e3f5cbd" learns nothing). Pure functions, tested one by one. */
#include <stdio.h>
#include <string.h>

#include "cli/bridge.h"
#include "rollup/eth/abi.h"
#include "util/hex.h"

void cli_format_duration(char *out, size_t cap, uint64_t s)
{
    unsigned long long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
    if (s < 60)
        snprintf(out, cap, "%llu s", sec);
    else if (s < 3600)
        snprintf(out, cap, "%llu min %llu s", m, sec);
    else if (s < 86400)
        snprintf(out, cap, "%llu h %llu min", h, m);
    else
        snprintf(out, cap, "%llu d %llu h", d, h);
}

void cli_format_u256(char *out, size_t cap, const uint8_t w[32], unsigned decimals)
{
    uint8_t n[32];
    memcpy(n, w, 32);
    char digits[80]; /* 2^256 has 78 digits */
    size_t nd = 0;
    for (;;) {
        int zero = 1;
        unsigned rem = 0;
        for (size_t i = 0; i < 32; i++) {
            unsigned cur = rem * 256 + n[i];
            n[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
            zero &= n[i] == 0;
        }
        digits[nd++] = (char)('0' + rem);
        if (zero) break;
    }
    while (nd <= decimals)
        digits[nd++] = '0';
    /* digits holds the number least significant first. */
    char s[96];
    size_t k = 0;
    for (size_t i = nd; i-- > decimals;)
        s[k++] = digits[i];
    size_t frac_end = 0;
    for (size_t i = 0; i < decimals; i++)
        if (digits[i] != '0') {
            frac_end = decimals - i;
            break;
        }
    if (frac_end) {
        s[k++] = '.';
        for (size_t i = 0; i < frac_end; i++)
            s[k++] = digits[decimals - 1 - i];
    }
    s[k] = 0;
    snprintf(out, cap, "%s", s);
}

int cli_u256_to_u64(const uint8_t w[32], uint64_t *v)
{
    for (size_t i = 0; i < 24; i++)
        if (w[i]) return UTIL_ELIMIT;
    uint64_t x = 0;
    for (size_t i = 24; i < 32; i++)
        x = x << 8 | w[i];
    *v = x;
    return 0;
}

int cli_parse_quantity256(const char *s, uint8_t w[32])
{
    if (!s || strncmp(s, "0x", 2) != 0) return UTIL_EINVAL;
    s += 2;
    size_t n = strlen(s);
    if (n == 0 || n > 64) return UTIL_EINVAL;
    char pad[65];
    memset(pad, '0', 64);
    memcpy(pad + 64 - n, s, n);
    pad[64] = 0;
    return util_hex_decode_exact(w, 32, pad) ? UTIL_EINVAL : 0;
}

/* --- custom errors ---------------------------------------------------------- */

enum arg_kind { A_NONE, A_U64, A_TIME, A_OPEN, A_ADDR };

typedef struct known_error {
    const char *signature; /* its selector is keccak256 of this */
    const char *text;      /* printf format over the arguments shown */
    enum arg_kind args[3];
} known_error;

/* docs/rollup.md, "Bridge": the errors of Bridge.sol and OpenToken.sol, and
 * of OutputOracle.sol where the bridge passes them on. */
static const known_error errors[] = {
    {"ZeroAmount()", "the amount is zero", {A_NONE}},
    {"ZeroRecipient()", "the recipient is the zero address", {A_NONE}},
    {"LockLimit(uint256,uint256)",
     "the bridge would lock more than its limit of 10^19 base units (%s OPEN locked, %s OPEN "
     "more asked)",
     {A_OPEN, A_OPEN}},
    {"OutputNotFound(uint64)",
     "no output with index %s is on the L1 yet (outputs are posted every outputIntervalBlocks "
     "L2 blocks)",
     {A_U64}},
    {"OracleFrozen()",
     "the OutputOracle is frozen (conflicting outputs were signed): no withdrawal can be "
     "finalized",
     {A_NONE}},
    {"NotFinal(uint256)", CLI_L1_NOT_FINAL_TEXT ": %s", {A_TIME}},
    {"BadProofLength(uint256)",
     "the proof has %s words; the bridge takes 3 to 259 (three roots, then at most 256 "
     "siblings)",
     {A_U64}},
    {"OutputRootMismatch()",
     "the proof's state root, block hash and withdrawals root do not hash to the output's root "
     "on the L1 (a proof for another output?)",
     {A_NONE}},
    {"AlreadyFinalized(uint64)", "withdrawal %s was already finalized on the L1", {A_U64}},
    {"BadProof()",
     "the Merkle proof does not lead from the withdrawal to the withdrawals root (a forged or "
     "altered proof or withdrawal)",
     {A_NONE}},
    {"NotMinter(address)", "%s is not the token's minter", {A_ADDR}},
    {"ZeroAddress()", "the address is the zero address", {A_NONE}},
    {"InsufficientBalance(address,uint256,uint256)",
     "insufficient L1 OPEN balance: %s has %s OPEN, needs %s OPEN",
     {A_ADDR, A_OPEN, A_OPEN}},
    {"InsufficientAllowance(address,uint256,uint256)",
     "insufficient allowance: %s may spend %s OPEN, needs %s OPEN (approve the bridge first)",
     {A_ADDR, A_OPEN, A_OPEN}},
};

static void raw_data(char *out, size_t cap, const uint8_t *d, size_t len)
{
    /* Enough to recognise the error by hand; longer data is cut. */
    char hex[2 * 68 + 1];
    size_t n = len > 68 ? 68 : len;
    util_hex_encode(hex, d, n);
    snprintf(out, cap, "reverted with data 0x%s%s", hex, len > n ? "..." : "");
}

static void format_arg(char *s, size_t cap, enum arg_kind k, const uint8_t word[32], uint64_t now_s)
{
    uint64_t v;
    switch (k) {
    case A_U64:
        if (cli_u256_to_u64(word, &v) == 0)
            snprintf(s, cap, "%llu", (unsigned long long)v);
        else
            cli_format_u256(s, cap, word, 0);
        break;
    case A_OPEN: cli_format_u256(s, cap, word, 9); break;
    case A_ADDR: {
        rollup_eth_addr a;
        memcpy(a.b, word + 12, 20);
        char h[ROLLUP_ETH_ADDR_HEX_LEN + 1];
        rollup_eth_addr_hex(h, &a);
        snprintf(s, cap, "%s", h);
        break;
    }
    case A_TIME: {
        char t[48], left[48];
        if (cli_u256_to_u64(word, &v) || v > UINT64_MAX / 1000) {
            snprintf(s, cap, "final at an unreadable time");
            break;
        }
        cli_format_time_ms(t, sizeof t, v * 1000);
        if (v > now_s) {
            cli_format_duration(left, sizeof left, v - now_s);
            snprintf(s, cap, "%s left (final at %s)", left, t);
        } else {
            snprintf(s, cap, "final at %s", t);
        }
        break;
    }
    default: s[0] = 0; break;
    }
}

int cli_l1_revert_text(char *out, size_t cap, const uint8_t *d, size_t len, uint64_t now_s)
{
    if (len < 4) {
        snprintf(out, cap, "%s",
                 len ? "reverted with malformed data" : "reverted without a reason");
        return len == 0;
    }
    /* Error(string) and Panic(uint256), what require() and the compiler's
     * checks revert with. */
    uint8_t sel[4];
    rollup_abi_selector(sel, "Error(string)");
    if (memcmp(sel, d, 4) == 0) {
        const uint8_t *p;
        size_t n;
        if (rollup_abi_bytes(d + 4, len - 4, 0, &p, &n, NULL) == 0) {
            char msg[256];
            size_t k = 0;
            for (size_t i = 0; i < n && k + 1 < sizeof msg; i++)
                msg[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
            msg[k] = 0;
            snprintf(out, cap, "reverted: %s", msg);
            return 1;
        }
    }
    rollup_abi_selector(sel, "Panic(uint256)");
    uint64_t code;
    if (memcmp(sel, d, 4) == 0 && rollup_abi_u64(d + 4, len - 4, 0, &code, NULL) == 0) {
        snprintf(out, cap, "the contract panicked (code 0x%llx)", (unsigned long long)code);
        return 1;
    }
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        const known_error *k = &errors[i];
        rollup_abi_selector(sel, k->signature);
        if (memcmp(sel, d, 4) != 0) continue;
        char a[3][96] = {"", "", ""};
        int ok = 1;
        for (size_t j = 0; j < 3 && k->args[j] != A_NONE; j++) {
            uint8_t w[32];
            if (rollup_abi_word(d + 4, len - 4, j, w, NULL)) {
                ok = 0;
                break;
            }
            format_arg(a[j], sizeof a[j], k->args[j], w, now_s);
        }
        if (!ok) break;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(out, cap, k->text, a[0], a[1], a[2]);
#pragma GCC diagnostic pop
        return 1;
    }
    raw_data(out, cap, d, len);
    return 0;
}

/* --- statuses --------------------------------------------------------------- */

void cli_bridge_status_text(char *out, size_t cap, const json_t *w)
{
    const char *st = json_string_value(json_object_get(w, "status"));
    json_t *jl = json_object_get(w, "secondsLeft");
    if (!st) {
        snprintf(out, cap, "unknown: the node has no L1, it cannot tell");
    } else if (strcmp(st, "pending") == 0) {
        snprintf(out, cap, "pending: the WITHDRAW transaction is not in a block yet");
    } else if (strcmp(st, "waiting_for_output") == 0) {
        snprintf(out, cap,
                 "waiting for an output: none at or above its L2 height is on the L1 yet");
    } else if (strcmp(st, "waiting_for_finalization") == 0) {
        char left[48];
        if (json_is_integer(jl) && json_integer_value(jl) >= 0) {
            cli_format_duration(left, sizeof left, (uint64_t)json_integer_value(jl));
            snprintf(out, cap, "waiting for finalization: %s left", left);
        } else {
            snprintf(out, cap, "waiting for finalization");
        }
    } else if (strcmp(st, "ready") == 0) {
        snprintf(out, cap, "ready: final on the L1, it can be finalized");
    } else if (strcmp(st, "finalized") == 0) {
        snprintf(out, cap, "finalized: released on the L1");
    } else if (strcmp(st, "frozen") == 0) {
        snprintf(out, cap, "frozen: the OutputOracle is frozen, nothing can be finalized");
    } else {
        char safe[32];
        size_t k = 0;
        for (const char *p = st; *p && k + 1 < sizeof safe; p++)
            safe[k++] = *p >= 0x20 && *p < 0x7f ? *p : '?';
        safe[k] = 0;
        snprintf(out, cap, "unknown status '%s'", safe);
    }
}
