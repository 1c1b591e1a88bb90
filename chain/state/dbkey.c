/* Builders of every storage key and the registry of their prefixes and kinds
 * (chain/state/dbkey.h, docs/storage.md). */
#include "chain/state/dbkey.h"

#include <string.h>

#include "util/bytes.h"

static size_t by_height(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], char prefix, uint64_t height)
{
    out[0] = (uint8_t)prefix;
    util_put_u64be(out + 1, height);
    return CHAIN_DBKEY_HEIGHT_LEN;
}

static size_t by_id(uint8_t out[CHAIN_DBKEY_ID_LEN], char prefix, const uint8_t id[32])
{
    out[0] = (uint8_t)prefix;
    memcpy(out + 1, id, 32);
    return CHAIN_DBKEY_ID_LEN;
}

static size_t by_addr(uint8_t out[1 + CHAIN_ADDR_LEN], char kind, const chain_addr *a)
{
    out[0] = (uint8_t)kind;
    memcpy(out + 1, a->b, CHAIN_ADDR_LEN);
    return 1 + CHAIN_ADDR_LEN;
}

static size_t under(uint8_t out[CHAIN_DBKEY_MAX], char prefix, const uint8_t *key, size_t klen)
{
    if (klen > CHAIN_DBKEY_MAX - 1) return 0;
    out[0] = (uint8_t)prefix;
    memcpy(out + 1, key, klen);
    return klen + 1;
}

size_t chain_dbkey_head(uint8_t out[1])
{
    out[0] = CHAIN_DB_HEAD;
    return 1;
}

size_t chain_dbkey_genesis(uint8_t out[1])
{
    out[0] = CHAIN_DB_GENESIS;
    return 1;
}

size_t chain_dbkey_height(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], uint64_t height)
{
    return by_height(out, CHAIN_DB_HEIGHT, height);
}

size_t chain_dbkey_commit(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], uint64_t height)
{
    return by_height(out, CHAIN_DB_COMMIT, height);
}

size_t chain_dbkey_undo(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], uint64_t height)
{
    return by_height(out, CHAIN_DB_UNDO, height);
}

size_t chain_dbkey_evidence(uint8_t out[CHAIN_DBKEY_EVIDENCE_LEN], uint64_t height, uint32_t round,
                            uint8_t type, uint32_t validator)
{
    by_height(out, CHAIN_DB_EVIDENCE, height);
    out[9] = (uint8_t)(round >> 24);
    out[10] = (uint8_t)(round >> 16);
    out[11] = (uint8_t)(round >> 8);
    out[12] = (uint8_t)round;
    out[13] = type;
    out[14] = (uint8_t)validator;
    return CHAIN_DBKEY_EVIDENCE_LEN;
}

size_t chain_dbkey_block(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t id[32])
{
    return by_id(out, CHAIN_DB_BLOCK, id);
}

size_t chain_dbkey_receipts(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t id[32])
{
    return by_id(out, CHAIN_DB_RECEIPTS, id);
}

size_t chain_dbkey_txloc(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t txid[32])
{
    return by_id(out, CHAIN_DB_TXLOC, txid);
}

size_t chain_dbkey_node(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t hash[32])
{
    return by_id(out, CHAIN_DB_NODE, hash);
}

size_t chain_dbkey_state(uint8_t out[CHAIN_DBKEY_MAX], const uint8_t *key, size_t klen)
{
    return under(out, CHAIN_DB_STATE, key, klen);
}

size_t chain_dbkey_index(uint8_t out[CHAIN_DBKEY_MAX], const uint8_t *key, size_t klen)
{
    return under(out, CHAIN_DB_INDEX, key, klen);
}

size_t chain_dbkey_state_kind(uint8_t out[2], char kind)
{
    out[0] = CHAIN_DB_STATE;
    out[1] = (uint8_t)kind;
    return 2;
}

size_t chain_dbkey_index_prefix(uint8_t out[2 + CHAIN_ADDR_LEN], char ix, const uint8_t *a,
                                size_t alen)
{
    if (alen > CHAIN_ADDR_LEN) return 0;
    out[0] = CHAIN_DB_INDEX;
    out[1] = (uint8_t)ix;
    if (alen) memcpy(out + 2, a, alen);
    return 2 + alen;
}

void chain_account_key(uint8_t key[CHAIN_ACCOUNT_KEY_LEN], const chain_addr *a)
{
    by_addr(key, CHAIN_SK_ACCOUNT, a);
}

size_t chain_key_code(uint8_t out[21], const chain_addr *a)
{
    return by_addr(out, CHAIN_SK_CODE, a);
}

size_t chain_key_storage(uint8_t out[53], const chain_addr *a, const uint8_t key[32])
{
    by_addr(out, CHAIN_SK_STORAGE, a);
    memcpy(out + 21, key, 32);
    return 53;
}

size_t chain_key_id(uint8_t out[9], char kind, uint64_t id)
{
    out[0] = (uint8_t)kind;
    util_put_u64be(out + 1, id);
    return 9;
}

size_t chain_key_next(uint8_t out[2], char kind)
{
    out[0] = CHAIN_SK_NEXT;
    out[1] = (uint8_t)kind;
    return 2;
}

size_t chain_key_content(uint8_t out[41], uint64_t datanet, const uint8_t hash[32])
{
    out[0] = CHAIN_SK_CONTENT;
    util_put_u64be(out + 1, datanet);
    memcpy(out + 9, hash, 32);
    return 41;
}

size_t chain_key_contributor(uint8_t out[21], const chain_addr *a)
{
    return by_addr(out, CHAIN_SK_CONTRIBUTOR, a);
}

size_t chain_key_bridge(uint8_t out[1])
{
    out[0] = CHAIN_SK_BRIDGE;
    return 1;
}

size_t chain_key_withdrawal(uint8_t out[9], uint64_t id)
{
    return chain_key_id(out, CHAIN_SK_WITHDRAWAL, id);
}

size_t chain_ixkey_bridge_by_addr(uint8_t out[CHAIN_IXKEY_BRIDGE_ADDR_LEN], const chain_addr *a,
                                  char kind, uint64_t id)
{
    by_addr(out, CHAIN_IX_BRIDGE_BY_ADDR, a);
    out[21] = (uint8_t)kind;
    util_put_u64be(out + 22, id);
    return CHAIN_IXKEY_BRIDGE_ADDR_LEN;
}

size_t chain_ixkey_bridge_id(uint8_t out[CHAIN_IXKEY_ID_LEN], char ix, uint64_t id)
{
    out[0] = (uint8_t)ix;
    util_put_u64be(out + 1, id);
    return CHAIN_IXKEY_ID_LEN;
}

size_t chain_ixkey_tx_by_addr(uint8_t out[CHAIN_IXKEY_TX_LEN], const chain_addr *a, uint64_t height,
                              uint32_t index)
{
    by_addr(out, CHAIN_IX_TX_BY_ADDR, a);
    util_put_u64be(out + 21, height);
    out[29] = (uint8_t)(index >> 24);
    out[30] = (uint8_t)(index >> 16);
    out[31] = (uint8_t)(index >> 8);
    out[32] = (uint8_t)index;
    return CHAIN_IXKEY_TX_LEN;
}

int chain_ixkey_tx_by_addr_parse(const uint8_t *key, size_t klen, uint64_t *height, uint32_t *index)
{
    if (klen != CHAIN_IXKEY_TX_LEN || key[0] != CHAIN_IX_TX_BY_ADDR) return -1;
    *height = util_get_u64be(key + 21);
    const uint8_t *ib = key + 29;
    *index = (uint32_t)ib[0] << 24 | (uint32_t)ib[1] << 16 | (uint32_t)ib[2] << 8 | ib[3];
    return 0;
}

size_t chain_ixkey_l1_origin(uint8_t out[CHAIN_IXKEY_L1_ORIGIN_LEN], uint64_t height)
{
    out[0] = CHAIN_IX_L1_ORIGIN;
    util_put_u64be(out + 1, height);
    return CHAIN_IXKEY_L1_ORIGIN_LEN;
}

size_t chain_ixkey_attr(uint8_t out[CHAIN_IXKEY_MAX], char ix, const uint8_t *a, size_t alen,
                        uint64_t id, const uint8_t *tail, size_t tlen)
{
    if (1 + alen + 8 + tlen > CHAIN_IXKEY_MAX) return 0;
    size_t n = 0;
    out[n++] = (uint8_t)ix;
    memcpy(out + n, a, alen);
    n += alen;
    util_put_u64be(out + n, id);
    n += 8;
    if (tlen) memcpy(out + n, tail, tlen);
    return n + tlen;
}

const chain_dbkey_row chain_dbkey_registry[] = {
    {0, CHAIN_DB_HEAD, "head", ""},
    {0, CHAIN_DB_GENESIS, "genesis record", ""},
    {0, CHAIN_DB_HEIGHT, "block id by height", "height u64be"},
    {0, CHAIN_DB_BLOCK, "block", "id [32]"},
    {0, CHAIN_DB_RECEIPTS, "receipts", "id [32]"},
    {0, CHAIN_DB_TXLOC, "tx location", "txid [32]"},
    {0, CHAIN_DB_COMMIT, "commit", "height u64be"},
    {0, CHAIN_DB_STATE, "state entry", "statekey"},
    {0, CHAIN_DB_NODE, "state tree node", "hash [32]"},
    {0, CHAIN_DB_INDEX, "index entry", "indexkey"},
    {0, CHAIN_DB_UNDO, "undo record", "height u64be"},
    {0, CHAIN_DB_EVIDENCE, "included evidence", "height u64be round u32be type u8 validator u8"},
    {CHAIN_DB_STATE, CHAIN_SK_ACCOUNT, "account", "addr [20]"},
    {CHAIN_DB_STATE, CHAIN_SK_CODE, "contract code", "addr [20]"},
    {CHAIN_DB_STATE, CHAIN_SK_STORAGE, "contract storage", "addr [20] key [32]"},
    {CHAIN_DB_STATE, CHAIN_SK_NEXT, "next id", "kind (`d`, `c`, `m`, `r`)"},
    {CHAIN_DB_STATE, CHAIN_SK_DATANET, "datanet", "id u64be"},
    {CHAIN_DB_STATE, CHAIN_SK_CONTRIB, "contribution", "id u64be"},
    {CHAIN_DB_STATE, CHAIN_SK_CONTENT, "contribution by content", "datanet u64be hash [32]"},
    {CHAIN_DB_STATE, CHAIN_SK_MODEL, "model", "id u64be"},
    {CHAIN_DB_STATE, CHAIN_SK_RECORD, "attribution record", "id u64be"},
    {CHAIN_DB_STATE, CHAIN_SK_CONTRIBUTOR, "contributor totals", "addr [20]"},
    {CHAIN_DB_STATE, CHAIN_SK_BRIDGE, "bridge", ""},
    {CHAIN_DB_STATE, CHAIN_SK_WITHDRAWAL, "withdrawal", "id u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_TX_BY_ADDR, "txs by address", "addr [20] height u64be index u32be"},
    {CHAIN_DB_INDEX, CHAIN_IX_CONTRIB_BY_DATANET, "contributions by datanet",
     "datanet u64be contribution u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_CONTRIB_BY_CONTRIBUTOR, "contributions by contributor",
     "addr [20] contribution u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_MODEL_BY_DATANET, "models by datanet", "datanet u64be model u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_MODEL_BY_OWNER, "models by owner", "addr [20] model u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_RECORD_BY_MODEL, "records by model", "model u64be record u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_RECORD_BY_CONTRIB, "records by contribution",
     "contribution u64be record u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_PAYOUT_BY_RECIPIENT, "payouts by recipient",
     "addr [20] record u64be seq u16be"},
    {CHAIN_DB_INDEX, CHAIN_IX_L1_ORIGIN, "L1 origin of a derived block", "height u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_EARN_BY_DAY, "contributor earnings by day", "addr [20] day u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_EARN_BY_BLOCK, "contributor earnings by block",
     "addr [20] height u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_FEES_BY_DAY, "model fees by day", "model u64be day u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_FEES_BY_BLOCK, "model fees by block", "model u64be height u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_TOP, "contributors by earnings", "earned u64be addr [20]"},
    {CHAIN_DB_INDEX, CHAIN_IX_EARN_BY_MODEL, "contributor earnings by model",
     "addr [20] model u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_TOP_BY_MODEL, "contributors of a model by earnings",
     "model u64be earned u64be addr [20]"},
    {CHAIN_DB_INDEX, CHAIN_IX_BRIDGE_BY_ADDR, "bridge history by address",
     "addr [20] kind u8 id u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_DEPOSIT, "deposit by nonce", "nonce u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_WITHDRAWAL, "withdrawal by id", "id u64be"},
    {CHAIN_DB_INDEX, CHAIN_IX_WROOT, "withdrawals root by height", "height u64be"},
};
const size_t chain_dbkey_registry_len =
    sizeof chain_dbkey_registry / sizeof chain_dbkey_registry[0];
