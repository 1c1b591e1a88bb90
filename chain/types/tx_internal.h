/* Private to chain/types/tx.c and chain/types/tx_body.c: the per-type body codec. */
#ifndef OL_CHAIN_TX_INTERNAL_H
#define OL_CHAIN_TX_INTERNAL_H

#include "chain/types/tx.h"
#include "util/err.h"

/* Error for a failed reader, with the offset relative to the transaction's
 * first byte (start). */
OL_MUST_CHECK int chain_tx_rd_error(const util_rd *r, size_t start, util_err *err);

/* 1 for the types this build encodes and decodes. */
OL_MUST_CHECK int chain_tx_type_known(uint8_t type);

/* Appends the body of tx (its type decides the layout). Never reads past the
 * struct: counts above their limits are clamped, so a corrupt struct can only
 * produce an encoding that the decoder rejects. */
void chain_tx_body_encode(const chain_tx *tx, util_buf *out);
/* Bytes chain_tx_body_encode appends. */
size_t chain_tx_body_len(const chain_tx *tx);
/* Reads and validates the body of tx->type, allocating its owned parts at
 * their exact sizes. On failure nothing stays allocated (the owned pointers
 * are NULL). */
OL_MUST_CHECK int chain_tx_body_read(chain_tx *tx, util_rd *r, size_t start, util_err *err);
/* Validates the body of a transaction built in memory, with the decoder's
 * rules and messages. */
OL_MUST_CHECK int chain_tx_body_check(const chain_tx *tx, util_err *err);
/* The envelope rules of one type: a DEPOSIT's sender key, gas limit, gas
 * price and signature must all be zero (a system transaction). Checked by
 * the decoder once the signature is read and by chain_tx_finalize. */
OL_MUST_CHECK int chain_tx_envelope_check(const chain_tx *tx, util_err *err);
/* Deep-copies the owned parts of src's body into dst (which holds a shallow
 * copy of src). On failure dst's owned pointers are NULL (partial copies are
 * freed). */
OL_MUST_CHECK int chain_tx_body_copy(chain_tx *dst, const chain_tx *src);
void chain_tx_body_free(chain_tx *tx);

#endif
