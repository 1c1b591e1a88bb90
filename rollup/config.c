/* rollup.json: the L1 side of a node's configuration (rollup/config.h,
 * docs/rollup.md "rollup.json"). Strict on purpose: a typo in a field name
 * would otherwise leave a default in place and point a node at the wrong
 * contracts. */
#include "rollup/config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "util/env.h"
#include "util/hex.h"

enum {
    F_CHAIN,
    F_GENESIS,
    F_INBOX,
    F_ORACLE,
    F_BATCHER,
    F_DEPLOY,
    F_CONF,
    F_FINAL,
    F_TIMEOUT,
    F_TOKEN,
    F_BRIDGE,
    F_DEPCONF,
    NF
};

static const char *const FIELDS[NF] = {
    "l1ChainId",
    "l2GenesisHash",
    "batchInbox",
    "outputOracle",
    "batcher",
    "deployBlock",
    "confirmations",
    "finalizationPeriodSeconds",
    "channelTimeoutBlocks",
    "token",
    "bridge",
    "depositConfirmations",
};

/* An integer field in min..max. */
static int get_uint(json_t *o, int f, uint64_t min, uint64_t max, uint64_t *out, util_err *err)
{
    json_t *v = json_object_get(o, FIELDS[f]);
    if (!v) return util_err_set(err, UTIL_EINVAL, "rollup config: %s missing", FIELDS[f]);
    if (!json_is_integer(v))
        return util_err_set(err, UTIL_EINVAL, "rollup config: %s must be an integer", FIELDS[f]);
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i < min || (uint64_t)i > max)
        return util_err_set(err, UTIL_EINVAL, "rollup config: %s must be in %llu..%llu", FIELDS[f],
                            (unsigned long long)min, (unsigned long long)max);
    *out = (uint64_t)i;
    return 0;
}

static const char *get_str(json_t *o, int f, util_err *err)
{
    json_t *v = json_object_get(o, FIELDS[f]);
    if (!v) {
        util_err_fill(err, UTIL_EINVAL, "rollup config: %s missing", FIELDS[f]);
        return NULL;
    }
    if (!json_is_string(v)) {
        util_err_fill(err, UTIL_EINVAL, "rollup config: %s must be a string", FIELDS[f]);
        return NULL;
    }
    return json_string_value(v);
}

static int get_addr(json_t *o, int f, rollup_eth_addr *a, util_err *err)
{
    const char *s = get_str(o, f, err);
    if (!s) return UTIL_EINVAL;
    util_err e = {0};
    if (rollup_eth_addr_parse(a, s, &e))
        return util_err_set(err, UTIL_EINVAL, "rollup config: %s: %s", FIELDS[f], e.msg);
    return 0;
}

int rollup_config_parse(rollup_config *c, const char *json, util_err *err)
{
    json_error_t je;
    json_t *o = json_loads(json, JSON_REJECT_DUPLICATES, &je);
    if (!o) return util_err_set(err, UTIL_EINVAL, "rollup config: line %d: %s", je.line, je.text);
    int rc = 0;
    if (!json_is_object(o)) rc = util_err_set(err, UTIL_EINVAL, "rollup config: not an object");
    const char *key;
    json_t *val;
    if (!rc) json_object_foreach(o, key, val)
        {
            int known = 0;
            for (int f = 0; f < NF && !known; f++)
                known = strcmp(key, FIELDS[f]) == 0;
            if (!known) {
                rc = util_err_set(err, UTIL_EINVAL, "rollup config: unknown field %s", key);
                break;
            }
        }
    rollup_config t;
    memset(&t, 0, sizeof t);
    uint64_t v = 0;
    if (!rc) rc = get_uint(o, F_CHAIN, 1, INT64_MAX, &t.l1_chain_id, err);
    if (!rc) {
        const char *s = get_str(o, F_GENESIS, err);
        if (!s)
            rc = UTIL_EINVAL;
        else if (strncmp(s, "0x", 2) != 0 || strlen(s) != 66 ||
                 util_hex_decode_exact(t.l2_genesis_hash, 32, s))
            rc = util_err_set(err, UTIL_EINVAL, "rollup config: %s must be 0x and 64 hex digits",
                              FIELDS[F_GENESIS]);
    }
    if (!rc) rc = get_addr(o, F_INBOX, &t.batch_inbox, err);
    if (!rc) rc = get_addr(o, F_ORACLE, &t.output_oracle, err);
    if (!rc) rc = get_addr(o, F_BATCHER, &t.batcher, err);
    if (!rc) rc = get_uint(o, F_DEPLOY, 0, INT64_MAX, &t.deploy_block, err);
    if (!rc) rc = get_uint(o, F_CONF, 0, 1000000, &v, err);
    if (!rc) t.confirmations = (uint32_t)v;
    if (!rc) rc = get_uint(o, F_FINAL, 0, INT64_MAX, &t.finalization_period_s, err);
    if (!rc) rc = get_uint(o, F_TIMEOUT, 1, 1000000, &v, err);
    if (!rc) t.channel_timeout_blocks = (uint32_t)v;
    if (!rc) rc = get_addr(o, F_TOKEN, &t.token, err);
    if (!rc) rc = get_addr(o, F_BRIDGE, &t.bridge, err);
    if (!rc) rc = get_uint(o, F_DEPCONF, 0, 1000000, &v, err);
    if (!rc) t.deposit_confirmations = (uint32_t)v;
    json_decref(o);
    if (!rc) *c = t;
    return rc;
}

int rollup_config_load(rollup_config *c, const char *path, util_err *err)
{
    char *text = NULL;
    size_t n = 0;
    unsigned mode = 0;
    int rc = util_env_read_file(NULL, path, ROLLUP_CONFIG_MAX_BYTES, &text, &n, &mode, err);
    if (rc) return rc;
    if (strlen(text) != n)
        rc = util_err_set(err, UTIL_EINVAL, "rollup config %s: contains a NUL byte", path);
    else
        rc = rollup_config_parse(c, text, err);
    free(text);
    if (rc && err && strncmp(err->msg, "rollup config:", 14) == 0)
        util_err_prefix(err, "%s: ", path);
    return rc;
}

int rollup_config_save(const rollup_config *c, const char *path, util_err *err)
{
    char gh[2 + 64 + 1] = "0x";
    util_hex_encode(gh + 2, c->l2_genesis_hash, 32);
    char inbox[ROLLUP_ETH_ADDR_HEX_LEN + 1], oracle[ROLLUP_ETH_ADDR_HEX_LEN + 1],
        batcher[ROLLUP_ETH_ADDR_HEX_LEN + 1], token[ROLLUP_ETH_ADDR_HEX_LEN + 1],
        bridge[ROLLUP_ETH_ADDR_HEX_LEN + 1];
    rollup_eth_addr_hex(inbox, &c->batch_inbox);
    rollup_eth_addr_hex(oracle, &c->output_oracle);
    rollup_eth_addr_hex(batcher, &c->batcher);
    rollup_eth_addr_hex(token, &c->token);
    rollup_eth_addr_hex(bridge, &c->bridge);
    if (c->l1_chain_id > INT64_MAX || c->deploy_block > INT64_MAX ||
        c->finalization_period_s > INT64_MAX)
        return util_err_set(err, UTIL_EINVAL, "rollup config: value too large for JSON");
    json_t *o = json_pack(
        "{sI ss ss ss ss sI sI sI sI ss ss sI}", FIELDS[F_CHAIN], (json_int_t)c->l1_chain_id,
        FIELDS[F_GENESIS], gh, FIELDS[F_INBOX], inbox, FIELDS[F_ORACLE], oracle, FIELDS[F_BATCHER],
        batcher, FIELDS[F_DEPLOY], (json_int_t)c->deploy_block, FIELDS[F_CONF],
        (json_int_t)c->confirmations, FIELDS[F_FINAL], (json_int_t)c->finalization_period_s,
        FIELDS[F_TIMEOUT], (json_int_t)c->channel_timeout_blocks, FIELDS[F_TOKEN], token,
        FIELDS[F_BRIDGE], bridge, FIELDS[F_DEPCONF], (json_int_t)c->deposit_confirmations);
    char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    if (!text) return util_err_set(err, UTIL_ENOMEM, "rollup config: out of memory");
    size_t n = strlen(text);
    char *withnl = realloc(text, n + 2);
    if (!withnl) {
        free(text);
        return util_err_set(err, UTIL_ENOMEM, "rollup config: out of memory");
    }
    withnl[n] = '\n';
    withnl[n + 1] = 0;
    /* Temporary file, fsync, rename, directory fsync: a crash leaves the old
     * file or the new one. */
    int rc = util_env_replace_file(NULL, path, withnl, n + 1, 0644, err);
    free(withnl);
    return rc;
}
