/* Committed objects, decoded: how readers outside execution (the RPC
 * methods) read the store. They ask for an account proof, a contract's code
 * or storage word, a datanet, a contribution, a model, an attribution record,
 * a contributor's totals, a page of one attribution list or an address's
 * payouts, and get structs back; the keys are built and the values decoded
 * here, through chain/state/dbkey.h and chain/types/, never by them.
 *
 * All of these read the committed head and are safe from any thread, like
 * the store's other reads. Missing objects are UTIL_ENOTFOUND (with a
 * message such as "datanet 7 not found"); a stored value that does not decode
 * is UTIL_EIO ("stored datanet does not decode"). */
#ifndef OL_CHAIN_OBJECTS_H
#define OL_CHAIN_OBJECTS_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/state/dbkey.h"
#include "chain/state/smt.h"
#include "chain/state/store.h"
#include "chain/types/attr.h"
#include "util/err.h"

/* --- blocks ------------------------------------------------------------------ */

/* A block's header, transaction count and encoded size, decoding only the
 * header, so a page of large blocks stays cheap. 0, UTIL_ENOTFOUND, UTIL_EIO
 * ("stored block does not decode"), or an error of the store. */
OL_MUST_CHECK int chain_store_get_block_summary(chain_store *st, const uint8_t id[32],
                                                chain_header *h, uint64_t *ntx, size_t *size,
                                                util_err *err);

/* --- accounts and contracts ------------------------------------------------ */

/* An account's entry in the state tree, with its proof against the head's
 * state root (docs/storage.md, "Proofs"). */
typedef struct chain_account_proof {
    uint8_t key[CHAIN_ACCOUNT_KEY_LEN];     /* the state key proven */
    uint8_t path[32];                       /* its path in the tree: SHA-256(key) */
    int exists;                             /* 0: the proof is of absence */
    chain_account account;                  /* when exists */
    uint8_t value[CHAIN_ACCOUNT_VALUE_LEN]; /* the stored value, when exists */
    chain_smt_proof proof;
} chain_account_proof;

/* Fills *out (large: callers may want it on the heap). 0, UTIL_EIO, or an
 * error of the store. */
OL_MUST_CHECK int chain_store_prove_account(chain_store *st, const chain_addr *a,
                                            chain_account_proof *out, util_err *err);
/* Any state key's entry with its proof against the state root of a given
 * block (docs/proofs.md): what state_getProof serves for every kind. */
typedef struct chain_state_proof {
    uint8_t key[CHAIN_DBKEY_MAX - 1]; /* the state key proven */
    size_t klen;
    uint8_t path[32]; /* SHA-256(key) */
    int exists;       /* 0: the proof is of absence */
    uint8_t *value;   /* malloc'd when exists (chain_state_proof_free) */
    size_t vlen;
    chain_smt_proof proof;
} chain_state_proof;

/* Proves key against root, the state root of the committed block at height
 * (every committed root stays readable), and fills the value the key held
 * there (chain_store_state_get_at). *out is large: callers may want it on the
 * heap. 0; UTIL_ENOTFOUND when the value at that height is no longer kept;
 * UTIL_EINVAL for a key longer than CHAIN_DBKEY_MAX - 1; UTIL_EIO. */
OL_MUST_CHECK int chain_store_prove_at(chain_store *st, const uint8_t *key, size_t klen,
                                       uint64_t height, const uint8_t root[32],
                                       chain_state_proof *out, util_err *err);
void chain_state_proof_free(chain_state_proof *p);

/* The code deployed at a (malloc'd into *code). 0, UTIL_ENOTFOUND (no
 * contract there), or an error. */
OL_MUST_CHECK int chain_store_get_code(chain_store *st, const chain_addr *a, uint8_t **code,
                                       size_t *len, util_err *err);
/* One storage word of contract a; an absent word reads as zero. 0, UTIL_EIO
 * (a stored word that is not 32 bytes), or an error. */
OL_MUST_CHECK int chain_store_get_storage(chain_store *st, const chain_addr *a,
                                          const uint8_t key[32], uint8_t val[32], util_err *err);

/* --- attribution objects --------------------------------------------------- */

OL_MUST_CHECK int chain_store_get_datanet(chain_store *st, uint64_t id, chain_datanet *d,
                                          util_err *err);
OL_MUST_CHECK int chain_store_get_contribution(chain_store *st, uint64_t id, chain_contribution *c,
                                               util_err *err);
OL_MUST_CHECK int chain_store_get_model(chain_store *st, uint64_t id, chain_model *m,
                                        util_err *err);
/* *r owns its arrays on success: chain_record_free. */
OL_MUST_CHECK int chain_store_get_record(chain_store *st, uint64_t id, chain_record *r,
                                         util_err *err);
/* A contributor's totals; an address that never contributed reads as zeros. */
OL_MUST_CHECK int chain_store_get_contributor(chain_store *st, const chain_addr *a,
                                              chain_contributor *c, util_err *err);

/* Any of the four, by kind (CHAIN_SK_DATANET, _CONTRIB, _MODEL, _RECORD). */
typedef struct chain_attr_obj {
    char kind;
    union {
        chain_datanet datanet;
        chain_contribution contribution;
        chain_model model;
        chain_record record; /* owns its arrays */
    } u;
} chain_attr_obj;

/* UTIL_EINVAL for another kind. Free *o with chain_attr_obj_free. */
OL_MUST_CHECK int chain_store_get_attr(chain_store *st, char kind, uint64_t id, chain_attr_obj *o,
                                       util_err *err);
void chain_attr_obj_free(chain_attr_obj *o);
/* "datanet", "contribution", "model", "attribution record"; "object" else. */
const char *chain_attr_kind_name(char kind);

/* --- attribution lists ----------------------------------------------------- */

/* One list: every object of a kind, in id order, or the objects one explorer
 * index names for a datanet, model, contribution or address (docs/
 * attribution.md, "Explorer indexes"), in the index's order. Built by the
 * chain_attr_list_* functions; kind 0 means an index that lists nothing. */
typedef struct chain_attr_list {
    char kind; /* what is listed: CHAIN_SK_DATANET, _CONTRIB, _MODEL or _RECORD */
    int from_state;
    uint8_t prefix[2 + CHAIN_ADDR_LEN];
    size_t plen;
} chain_attr_list;

/* A page's cursor (the position of its last object) is at most this long. */
#define CHAIN_ATTR_CURSOR_MAX (2 + CHAIN_ADDR_LEN + 8)

void chain_attr_list_all(chain_attr_list *q, char kind);
/* ix: CHAIN_IX_CONTRIB_BY_DATANET, _MODEL_BY_DATANET, _RECORD_BY_MODEL or
 * _RECORD_BY_CONTRIB (id: the datanet, model or contribution). */
void chain_attr_list_by_id(chain_attr_list *q, char ix, uint64_t id);
/* ix: CHAIN_IX_CONTRIB_BY_CONTRIBUTOR or _MODEL_BY_OWNER. */
void chain_attr_list_by_addr(chain_attr_list *q, char ix, const chain_addr *a);
/* Whether c (n bytes) is a cursor of list q, as chain_store_attr_list gives. */
int chain_attr_list_cursor_ok(const chain_attr_list *q, const uint8_t *c, size_t n);

/* fn gets each object (borrowed for the call) and the cursor that resumes
 * after it (CHAIN_ATTR_CURSOR_MAX at most); it returns 0 to go on, 1 to stop. */
typedef int (*chain_attr_fn)(void *ctx, const chain_attr_obj *o, const uint8_t *cursor,
                             size_t clen);
/* Visits at most limit objects of list q, after the cursor `after` (NULL:
 * from the start; descending order when reverse is set). *more is set when
 * another object follows the last one visited (not when fn stopped). At most
 * limit + 1 index entries are read; one of another shape is skipped. 0,
 * UTIL_EINVAL (a list of kind 0, a cursor not of this list), UTIL_EIO (an
 * index naming an object that does not exist, an object that does not
 * decode), or an error of the store. */
OL_MUST_CHECK int chain_store_attr_list(chain_store *st, const chain_attr_list *q,
                                        const uint8_t *after, size_t alen, int reverse,
                                        size_t limit, chain_attr_fn fn, void *ctx, int *more,
                                        util_err *err);

/* --- payouts --------------------------------------------------------------- */

/* One payout of an attribution record, as its recipient's index keeps it
 * (CHAIN_IX_PAYOUT_BY_RECIPIENT). */
typedef struct chain_payout_entry {
    uint64_t record;
    uint16_t seq; /* the payout's place in its record */
    uint64_t model;
    uint64_t contribution; /* 0 unless role is contributor */
    uint8_t role;          /* enum chain_payout_role */
    uint64_t amount;
} chain_payout_entry;

#define CHAIN_PAYOUT_IXVAL_LEN 25
/* The index value of a payout: model u64le | contribution u64le | role u8 |
 * amount u64le (written by chain/exec, read by chain_store_payouts_of). */
void chain_payout_ixval_encode(uint8_t out[CHAIN_PAYOUT_IXVAL_LEN], const chain_payout_entry *p);

typedef int (*chain_payout_fn)(void *ctx, const chain_payout_entry *p);
/* The payouts received by a, newest first (record descending), at most
 * limit of them; fn returns 0 to go on, 1 to stop. *more is set when older
 * ones were left out by the limit. Malformed entries are skipped, but count
 * among the limit + 1 index entries read, which bound the work. 0 or
 * UTIL_EIO. */
OL_MUST_CHECK int chain_store_payouts_of(chain_store *st, const chain_addr *a, size_t limit,
                                         chain_payout_fn fn, void *ctx, int *more, util_err *err);

#endif
