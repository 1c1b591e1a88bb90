/* JSON shapes of chain objects (headers, blocks, transactions, receipts)
 * shared by the methods (rpc/methods/methods.h). */
#include <string.h>

#include "rpc/methods/methods.h"
#include "rpc/methods/attr.h"
#include "rpc/params.h"

json_t *rpc_json_commit(const chain_commit *c)
{
    json_t *sigs = json_array();
    uint32_t n = c->n <= CHAIN_MAX_VALIDATORS ? c->n : CHAIN_MAX_VALIDATORS;
    for (uint32_t i = 0; i < n; i++)
        json_array_append_new(sigs,
                              json_pack("{s:I,s:o}", "validator", (json_int_t)c->sigs[i].validator,
                                        "signature", rpc_json_hex(c->sigs[i].sig, 64)));
    return json_pack("{s:I,s:o}", "round", (json_int_t)c->round, "signatures", sigs);
}

static json_t *vote_id(const uint8_t id[32])
{
    static const uint8_t nil[32];
    return memcmp(id, nil, 32) ? rpc_json_hex(id, 32) : json_null();
}

json_t *rpc_json_evidence(const chain_evidence *e)
{
    const chain_vote *a = &e->a;
    const char *type = a->type == CHAIN_VOTE_PREVOTE     ? "prevote"
                       : a->type == CHAIN_VOTE_PRECOMMIT ? "precommit"
                                                         : "unknown";
    return json_pack("{s:I,s:I,s:I,s:s,s:o,s:o,s:o,s:o}", "validator", (json_int_t)a->validator,
                     "height", (json_int_t)a->height, "round", (json_int_t)a->round, "type", type,
                     "blockHashA", vote_id(a->block_id), "blockHashB", vote_id(e->b.block_id),
                     "signatureA", rpc_json_hex(a->sig, 64), "signatureB",
                     rpc_json_hex(e->b.sig, 64));
}

json_t *rpc_json_header(const chain_header *h)
{
    json_t *o = json_pack(
        "{s:i,s:s,s:I,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "version", h->version, "chainId",
        h->chain_id, "height", (json_int_t)h->height, "parentHash", rpc_json_hex(h->parent, 32),
        "timestamp", (json_int_t)h->time_ms, "proposer", rpc_json_addr(&h->proposer), "txRoot",
        rpc_json_hex(h->tx_root, 32), "stateRoot", rpc_json_hex(h->state_root, 32), "receiptsRoot",
        rpc_json_hex(h->receipts_root, 32), "validatorsHash", rpc_json_hex(h->validators_hash, 32),
        "nextValidatorsHash", rpc_json_hex(h->next_validators_hash, 32), "consensusParamsHash",
        rpc_json_hex(h->consensus_params_hash, 32), "lastCommit", rpc_json_commit(&h->last_commit));
    if (o && json_object_set_new(o, "evidenceHash", rpc_json_hex(h->evidence_hash, 32))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *rpc_json_tx(const chain_tx *tx)
{
    json_t *o = json_pack("{s:o,s:s,s:s,s:o,s:o,s:I,s:I,s:o,s:o,s:I}", "hash",
                          rpc_json_hex(tx->id, 32), "type", chain_tx_type_name(tx->type), "chainId",
                          tx->chain_id, "from", rpc_json_addr(&tx->from), "senderPubkey",
                          rpc_json_hex(tx->sender, 32), "nonce", (json_int_t)tx->nonce, "gasLimit",
                          (json_int_t)tx->gas_limit, "gasPrice", rpc_json_u64str(tx->gas_price),
                          "signature", rpc_json_hex(tx->sig, 64), "size", (json_int_t)tx->size);
    if (o && tx->type == CHAIN_TX_TRANSFER) {
        json_object_set_new(o, "to", rpc_json_addr(&tx->body.transfer.to));
        json_object_set_new(o, "amount", rpc_json_u64str(tx->body.transfer.amount));
    }
    if (o && tx->type == CHAIN_TX_DEPOSIT) {
        /* L1 addresses in lowercase 0x hex: the EIP-55 checksum needs
         * Keccak-256, which lives in rollup/ (rpc does not include it). */
        const chain_tx_deposit *d = &tx->body.deposit;
        json_object_set_new(o, "l1Block", json_integer((json_int_t)d->l1_block));
        json_object_set_new(o, "l1BlockHash", rpc_json_hex(d->l1_block_hash, 32));
        json_object_set_new(o, "l1TxHash", rpc_json_hex(d->l1_tx_hash, 32));
        json_object_set_new(o, "logIndex", json_integer((json_int_t)d->log_index));
        json_object_set_new(o, "l1From", rpc_json_hex(d->l1_from, 20));
        json_object_set_new(o, "to", rpc_json_addr(&d->to));
        json_object_set_new(o, "amount", rpc_json_u64str(d->amount));
    }
    if (o && tx->type == CHAIN_TX_WITHDRAW) {
        json_object_set_new(o, "l1Recipient", rpc_json_hex(tx->body.withdraw.l1_recipient, 20));
        json_object_set_new(o, "amount", rpc_json_u64str(tx->body.withdraw.amount));
    }
    if (o && rpc_json_attr_tx_body(o, tx)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *rpc_json_event(const chain_event *ev)
{
    return json_pack("{s:o,s:o,s:o}", "emitter", rpc_json_addr(&ev->emitter), "topic",
                     rpc_json_hex(ev->topic, 32), "data", rpc_json_hex(ev->data, ev->len));
}

/* A JSON string of text that should be UTF-8 already; ill-formed bytes
 * become '?' rather than a NULL that would drop the whole reply. */
static json_t *json_text(const char *text)
{
    size_t n = strlen(text);
    json_t *j = json_stringn(text, n);
    if (j) return j;
    char buf[CHAIN_RECEIPT_ERR_MAX + 1];
    size_t k = chain_utf8_sanitize(buf, sizeof buf, (const uint8_t *)text, n);
    return json_stringn(buf, k);
}

/* Receipt shape (docs/rpc.md): failureCode is null on success and the
 * failure's token otherwise; error is the human message (null on success);
 * revertData only when the contract reverted with data, revertText only when
 * that data is well-formed UTF-8. */
json_t *rpc_json_receipt(const chain_receipt *r)
{
    static const chain_addr zero;
    json_t *evs = json_array();
    for (uint32_t i = 0; evs && i < r->nevents; i++)
        if (json_array_append_new(evs, rpc_json_event(&r->events[i]))) {
            json_decref(evs);
            evs = NULL;
        }
    const char *code = chain_fail_token(r->code);
    json_t *o =
        json_pack("{s:s,s:o,s:I,s:o,s:o,s:o,s:o}", "status",
                  r->status == CHAIN_RECEIPT_OK ? "success" : "failed", "failureCode",
                  code ? json_string(code) : json_null(), "gasUsed", (json_int_t)r->gas_used, "fee",
                  rpc_json_u64str(r->fee), "error", r->error[0] ? json_text(r->error) : json_null(),
                  "returnData", rpc_json_hex(r->ret, r->ret_len), "events", evs);
    if (!o) return NULL;
    int bad = 0;
    if (memcmp(r->created.b, zero.b, CHAIN_ADDR_LEN) != 0)
        bad |= json_object_set_new(o, "contractAddress", rpc_json_addr(&r->created));
    if (r->revert && r->revert_len) {
        bad |= json_object_set_new(o, "revertData", rpc_json_hex(r->revert, r->revert_len));
        if (chain_utf8_valid(r->revert, r->revert_len))
            bad |= json_object_set_new(o, "revertText",
                                       json_stringn((const char *)r->revert, r->revert_len));
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
