/* Attribution state: datanets, contributions, models, attribution records and
 * contributor totals, their state keys and canonical encodings
 * (docs/attribution.md). These are state entries: committed by the state
 * root and provable like accounts. Their state keys (chain_key_id and its
 * kinds CHAIN_SK_*) and the explorer indexes (CHAIN_IX_*) are in the key
 * registry, chain/state/dbkey.h. Structs with pointers own them
 * (chain_*_free). */
#ifndef OL_CHAIN_ATTR_H
#define OL_CHAIN_ATTR_H

#include <stddef.h>
#include <stdint.h>

#include "chain/crypto/address.h"
#include "chain/types/tx.h"
#include "util/bytes.h"
#include "util/err.h"

/* Where contribution bonds wait for review: an account no key controls,
 * address = first 20 bytes of SHA-256("openledger:bond-escrow"). */
void chain_bond_escrow_addr(chain_addr *a);

enum chain_contrib_status {
    CHAIN_CONTRIB_PENDING = 0,
    CHAIN_CONTRIB_ACCEPTED = 1,
    CHAIN_CONTRIB_REJECTED = 2
};
enum chain_payout_role {
    CHAIN_ROLE_OWNER = 0,
    CHAIN_ROLE_VALIDATOR = 1,
    CHAIN_ROLE_CONTRIBUTOR = 2
};

typedef struct chain_datanet {
    uint64_t id;
    chain_addr owner;
    char name[CHAIN_NAME_MAX + 1];
    uint8_t meta_hash[32];
    char meta_uri[CHAIN_URI_MAX + 1];
    uint64_t bond;
    uint8_t review;
    uint64_t height; /* created at */
    uint64_t contributions, accepted, rejected, pending;
    uint64_t models;
} chain_datanet;

typedef struct chain_contribution {
    uint64_t id;
    uint64_t datanet;
    chain_addr contributor;
    uint8_t content_hash[32];
    uint64_t size;
    char uri[CHAIN_URI_MAX + 1];
    uint8_t status;
    uint32_t reason; /* reject reason code */
    uint64_t bond;   /* locked at contribution */
    uint64_t height;
    uint64_t times_used;
    uint64_t earned;
} chain_contribution;

typedef struct chain_model {
    uint64_t id;
    chain_addr owner;
    char name[CHAIN_NAME_MAX + 1];
    uint32_t ndatanets;
    uint64_t datanets[CHAIN_MODEL_MAX_DATANETS];
    uint8_t attestor[32];
    chain_addr reward_contract;
    uint16_t owner_bp, validators_bp, contributors_bp;
    uint64_t height;
    uint64_t inferences;
    uint64_t fees;
} chain_model;

typedef struct chain_record_entry {
    uint64_t contribution;
    uint64_t weight;
    chain_addr contributor;
} chain_record_entry;

typedef struct chain_payout {
    chain_addr recipient;
    uint8_t role;
    uint64_t contribution; /* 0 unless role is contributor */
    uint64_t amount;
} chain_payout;

#define CHAIN_RECORD_MAX_PAYOUTS (CHAIN_ATTR_MAX_ENTRIES + 8)

typedef struct chain_record {
    uint64_t id;
    uint64_t model;
    chain_addr attestor;
    chain_addr owner; /* model owner at settlement: receives the remainder */
    uint8_t output_hash[32];
    uint64_t fee;
    uint8_t method;
    uint8_t evidence_hash[32];
    uint64_t height;
    uint8_t tx[32];
    uint64_t retained; /* part of the fee that stayed in the reward contract */
    uint32_t nentries;
    chain_record_entry *entries; /* owned */
    uint32_t npayouts;
    chain_payout *payouts; /* owned */
} chain_record;

typedef struct chain_contributor {
    uint64_t earned;
    uint64_t contributions, accepted, rejected;
    uint64_t payouts;
} chain_contributor;

/* Encodings (docs/attribution.md); decoders reject trailing bytes. */
OL_MUST_CHECK int chain_datanet_encode(const chain_datanet *d, util_buf *out);
OL_MUST_CHECK int chain_datanet_decode(chain_datanet *d, const uint8_t *p, size_t n);
OL_MUST_CHECK int chain_contribution_encode(const chain_contribution *c, util_buf *out);
OL_MUST_CHECK int chain_contribution_decode(chain_contribution *c, const uint8_t *p, size_t n);
OL_MUST_CHECK int chain_model_encode(const chain_model *m, util_buf *out);
OL_MUST_CHECK int chain_model_decode(chain_model *m, const uint8_t *p, size_t n);
OL_MUST_CHECK int chain_record_encode(const chain_record *r, util_buf *out);
OL_MUST_CHECK int chain_record_decode(chain_record *r, const uint8_t *p, size_t n);
void chain_record_free(chain_record *r);
void chain_contributor_encode(uint8_t out[40], const chain_contributor *c);
OL_MUST_CHECK int chain_contributor_decode(chain_contributor *c, const uint8_t *p, size_t n);

/* Topic of payout events: SHA-256("payout"). Event data: model u64le |
 * contribution u64le | recipient[20] | role u8 | amount u64le | record u64le. */
void chain_payout_topic(uint8_t out[32]);

struct chain_receipt;
/* Appends a payout to rec and its payout event (emitter = the reward
 * contract) to receipt r. The funds must already have moved. Returns 0, or
 * UTIL_ELIMIT / UTIL_ENOMEM with err set ("too_many_payouts: ...",
 * "too_many_events: ..."). */
OL_MUST_CHECK int chain_record_add_payout(chain_record *rec, struct chain_receipt *r,
                                          const chain_addr *emitter, const chain_payout *p,
                                          util_err *err);
#define CHAIN_PAYOUT_EVENT_LEN 53

#endif
