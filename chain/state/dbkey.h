/* The registry of storage keys: every one-byte prefix of the LevelDB store,
 * every kind of state key (under CHAIN_DB_STATE) and of index key (under
 * CHAIN_DB_INDEX), and the builders of their layouts. Nothing else in the
 * tree writes a key byte: a new kind of entry gets its constant, its builder
 * and its row in chain_dbkey_registry here, and its row in docs/storage.md
 * (tests/unit/chain/test_dbkey.c holds the two together). The model is
 * LevelDB's db/dbformat.h with its doc/impl.md.
 *
 * Three spaces of keys:
 *   store keys  the LevelDB keys themselves, prefix byte first (chain_dbkey_*);
 *   state keys  what follows CHAIN_DB_STATE, committed by the state root and
 *               the keys chain_exec_get/put and the proofs use (chain_key_*);
 *   index keys  what follows CHAIN_DB_INDEX, outside the state root
 *               (chain_ixkey_*, chain_exec_index_put).
 * Heights and ids are big-endian in keys so that LevelDB's byte order is
 * their numeric order. The layouts are part of the database format
 * (DB_FORMAT_VERSION, chain/state/store.c): changing one is a format change. */
#ifndef OL_CHAIN_DBKEY_H
#define OL_CHAIN_DBKEY_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "util/err.h"

/* --- store prefixes (first byte of every LevelDB key) --------------------- */

#define CHAIN_DB_HEAD 'H'     /* -> height u64le | block id[32] */
#define CHAIN_DB_GENESIS 'G'  /* -> genesis hash[32] | format version u8 */
#define CHAIN_DB_HEIGHT 'h'   /* height u64be -> block id[32] */
#define CHAIN_DB_BLOCK 'B'    /* id[32] -> block encoding */
#define CHAIN_DB_RECEIPTS 'R' /* id[32] -> the block's receipts */
#define CHAIN_DB_TXLOC 't'    /* txid[32] -> height u64le | index u32le */
#define CHAIN_DB_COMMIT 'c'   /* height u64be -> commit of that block */
#define CHAIN_DB_STATE 's'    /* state key -> state value */
#define CHAIN_DB_NODE 'n'     /* hash[32] -> state tree node */
#define CHAIN_DB_INDEX 'x'    /* index key -> index value */
#define CHAIN_DB_UNDO 'u'     /* height u64be -> undo record of that block */
/* height u64be | round u32be | type u8 | validator u8 -> height u64le of the
 * block that included evidence of that double vote (one inclusion each). */
#define CHAIN_DB_EVIDENCE 'e'

#define CHAIN_DBKEY_ID_LEN 33     /* prefix | id[32] */
#define CHAIN_DBKEY_HEIGHT_LEN 9  /* prefix | height u64be */
#define CHAIN_DBKEY_MAX (1 + 256) /* longest store key: prefix | state or index key */
#define CHAIN_DBKEY_EVIDENCE_LEN                                                                   \
    15 /* prefix | height u64be | round u32be | type u8 | validator u8 */

/* Single-byte records. */
size_t chain_dbkey_head(uint8_t out[1]);
size_t chain_dbkey_genesis(uint8_t out[1]);
/* Keyed by height (big-endian). */
size_t chain_dbkey_height(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], uint64_t height);
size_t chain_dbkey_commit(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], uint64_t height);
size_t chain_dbkey_undo(uint8_t out[CHAIN_DBKEY_HEIGHT_LEN], uint64_t height);
/* The double vote an evidence item proves: validator (an index in the set
 * of that height, below 256) at height, round and vote type. */
size_t chain_dbkey_evidence(uint8_t out[CHAIN_DBKEY_EVIDENCE_LEN], uint64_t height, uint32_t round,
                            uint8_t type, uint32_t validator);
/* Keyed by a 32-byte id. */
size_t chain_dbkey_block(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t id[32]);
size_t chain_dbkey_receipts(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t id[32]);
size_t chain_dbkey_txloc(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t txid[32]);
size_t chain_dbkey_node(uint8_t out[CHAIN_DBKEY_ID_LEN], const uint8_t hash[32]);
/* The store key of a state key (CHAIN_DB_STATE | key) or an index key
 * (CHAIN_DB_INDEX | key); 0 when klen exceeds CHAIN_DBKEY_MAX - 1. */
size_t chain_dbkey_state(uint8_t out[CHAIN_DBKEY_MAX], const uint8_t *key, size_t klen);
size_t chain_dbkey_index(uint8_t out[CHAIN_DBKEY_MAX], const uint8_t *key, size_t klen);
/* Scan prefixes: every state entry of one kind (CHAIN_DB_STATE | kind), and
 * one index's entries for one datanet, model, contribution or address
 * (CHAIN_DB_INDEX | ix | a); alen at most CHAIN_ADDR_LEN. */
size_t chain_dbkey_state_kind(uint8_t out[2], char kind);
size_t chain_dbkey_index_prefix(uint8_t out[2 + CHAIN_ADDR_LEN], char ix, const uint8_t *a,
                                size_t alen);

/* --- state keys (after CHAIN_DB_STATE) ------------------------------------ */

#define CHAIN_SK_ACCOUNT 'a'     /* addr[20] -> balance u64le | nonce u64le */
#define CHAIN_SK_CODE 'k'        /* addr[20] -> contract code, as deployed */
#define CHAIN_SK_STORAGE 'S'     /* addr[20] | key[32] -> value[32] (absent = zero) */
#define CHAIN_SK_NEXT 'N'        /* kind -> next id of that kind u64le */
#define CHAIN_SK_DATANET 'd'     /* id u64be -> datanet */
#define CHAIN_SK_CONTRIB 'c'     /* id u64be -> contribution */
#define CHAIN_SK_CONTENT 'h'     /* datanet u64be | hash[32] -> contribution id u64le */
#define CHAIN_SK_MODEL 'm'       /* id u64be -> model */
#define CHAIN_SK_RECORD 'r'      /* id u64be -> attribution record */
#define CHAIN_SK_CONTRIBUTOR 'p' /* addr[20] -> contributor totals */
/* The bridge (docs/rollup.md, "Bridge"; value layouts in chain/exec/bridge.h). */
#define CHAIN_SK_BRIDGE 'b'     /* (nothing) -> the bridge entry (72 bytes) */
#define CHAIN_SK_WITHDRAWAL 'w' /* id u64be -> withdrawal (56 bytes); also the tree's key */
/* Where the bridge entry holds the withdrawals root (its last 32 bytes):
 * chain_exec_finish keeps it up to date, without knowing the rest. */
#define CHAIN_BRIDGE_WROOT_OFF 40

#define CHAIN_ACCOUNT_KEY_LEN 21 /* CHAIN_SK_ACCOUNT | addr[20] */

void chain_account_key(uint8_t key[CHAIN_ACCOUNT_KEY_LEN], const chain_addr *a);
size_t chain_key_code(uint8_t out[21], const chain_addr *a);
size_t chain_key_storage(uint8_t out[53], const chain_addr *a, const uint8_t key[32]);
/* An attribution object: kind is CHAIN_SK_DATANET, _CONTRIB, _MODEL or _RECORD. */
size_t chain_key_id(uint8_t out[9], char kind, uint64_t id);
/* The id counter of one of those kinds. */
size_t chain_key_next(uint8_t out[2], char kind);
size_t chain_key_content(uint8_t out[41], uint64_t datanet, const uint8_t hash[32]);
size_t chain_key_contributor(uint8_t out[21], const chain_addr *a);
size_t chain_key_bridge(uint8_t out[1]);
size_t chain_key_withdrawal(uint8_t out[9], uint64_t id);

/* --- index keys (after CHAIN_DB_INDEX) ------------------------------------ */

#define CHAIN_IX_TX_BY_ADDR 'A' /* addr[20] | height u64be | index u32be -> txid[32] */
/* The attribution indexes (docs/attribution.md, "Explorer indexes"). */
#define CHAIN_IX_CONTRIB_BY_DATANET 'D'     /* datanet u64be | contribution u64be -> "" */
#define CHAIN_IX_CONTRIB_BY_CONTRIBUTOR 'C' /* addr[20] | contribution u64be -> "" */
#define CHAIN_IX_MODEL_BY_DATANET 'M'       /* datanet u64be | model u64be -> "" */
#define CHAIN_IX_MODEL_BY_OWNER 'O'         /* addr[20] | model u64be -> "" */
#define CHAIN_IX_RECORD_BY_MODEL 'R'        /* model u64be | record u64be -> "" */
#define CHAIN_IX_RECORD_BY_CONTRIB 'Q'      /* contribution u64be | record u64be -> "" */
/* addr[20] | record u64be | seq u16be ->
 * model u64le | contribution u64le | role u8 | amount u64le */
#define CHAIN_IX_PAYOUT_BY_RECIPIENT 'P'
/* The explorer's series and rankings (docs/attribution.md, "Explorer
 * indexes"; values in chain/state/attr_ix.h). A series entry holds running
 * totals after its day or block, so the block writes it without reading it. */
#define CHAIN_IX_EARN_BY_DAY 'E'   /* addr[20] | day u64be -> earned u64le | payouts u64le */
#define CHAIN_IX_EARN_BY_BLOCK 'e' /* addr[20] | height u64be -> .. | time_ms u64le */
#define CHAIN_IX_FEES_BY_DAY 'F'   /* model u64be | day u64be -> fees u64le | inferences u64le */
#define CHAIN_IX_FEES_BY_BLOCK 'f' /* model u64be | height u64be -> .. | time_ms u64le */
#define CHAIN_IX_TOP 'T'           /* earned u64be | addr[20] -> "" (contributor earnings) */
/* addr[20] | model u64be -> earned u64le | payouts u64le | records u64le */
#define CHAIN_IX_EARN_BY_MODEL 'U'
#define CHAIN_IX_TOP_BY_MODEL 'V' /* model u64be | earned u64be | addr[20] -> "" */
/* A block derived from the L1 (rollup/derive.h): height u64be ->
 * l1 number u64le | l1 block hash[32], the L1 block whose batch brought it.
 * Written in the block's own batch, so it is exactly as durable as the block. */
#define CHAIN_IX_L1_ORIGIN 'L'
#define CHAIN_IXKEY_L1_ORIGIN_LEN 9 /* CHAIN_IX_L1_ORIGIN | height u64be */

/* The bridge's indexes (docs/rollup.md, "State and indexes"). */
/* addr[20] | kind u8 ('d' deposit received, 'w' withdrawal sent) | id u64be ->
 * height u64le | txid[32] */
#define CHAIN_IX_BRIDGE_BY_ADDR 'b'
#define CHAIN_IX_DEPOSIT 'd'           /* nonce u64be -> height u64le | txid[32] */
#define CHAIN_IX_WITHDRAWAL 'w'        /* id u64be -> height u64le | txid[32] */
#define CHAIN_IX_WROOT 'W'             /* height u64be -> withdrawals root[32] after that block */
#define CHAIN_IXKEY_BRIDGE_ADDR_LEN 30 /* CHAIN_IX_BRIDGE_BY_ADDR | addr[20] | kind | id u64be */
#define CHAIN_IXKEY_ID_LEN 9           /* ix | id or height u64be */

#define CHAIN_IXKEY_TX_LEN 33 /* CHAIN_IX_TX_BY_ADDR | addr[20] | height u64be | index u32be */
#define CHAIN_IXKEY_MAX 64

size_t chain_ixkey_tx_by_addr(uint8_t out[CHAIN_IXKEY_TX_LEN], const chain_addr *a, uint64_t height,
                              uint32_t index);
/* Reads back the position of an address's transaction from its index key; -1
 * when the key is not CHAIN_IXKEY_TX_LEN bytes of that index. */
OL_MUST_CHECK int chain_ixkey_tx_by_addr_parse(const uint8_t *key, size_t klen, uint64_t *height,
                                               uint32_t *index);
/* An attribution index entry: ix | a (alen bytes: an id u64be or an
 * address) | id u64be | tail (tlen bytes). 0 when it would not fit in
 * CHAIN_IXKEY_MAX. */
size_t chain_ixkey_l1_origin(uint8_t out[CHAIN_IXKEY_L1_ORIGIN_LEN], uint64_t height);
/* The bridge's: an address's deposit or withdrawal; a deposit by nonce, a
 * withdrawal by id, a height's withdrawals root (ix CHAIN_IX_DEPOSIT,
 * _WITHDRAWAL or _WROOT). */
size_t chain_ixkey_bridge_by_addr(uint8_t out[CHAIN_IXKEY_BRIDGE_ADDR_LEN], const chain_addr *a,
                                  char kind, uint64_t id);
size_t chain_ixkey_bridge_id(uint8_t out[CHAIN_IXKEY_ID_LEN], char ix, uint64_t id);
size_t chain_ixkey_attr(uint8_t out[CHAIN_IXKEY_MAX], char ix, const uint8_t *a, size_t alen,
                        uint64_t id, const uint8_t *tail, size_t tlen);

/* --- the registry --------------------------------------------------------- */

/* One row per prefix or kind, in the order of docs/storage.md's tables. */
typedef struct chain_dbkey_row {
    char space;         /* 0: a store prefix; CHAIN_DB_STATE or CHAIN_DB_INDEX: a kind there */
    char byte;          /* the prefix or kind byte */
    const char *name;   /* short name of what is stored */
    const char *layout; /* the rest of the key, as docs/storage.md writes it ("" for none) */
} chain_dbkey_row;

extern const chain_dbkey_row chain_dbkey_registry[];
extern const size_t chain_dbkey_registry_len;

#endif
