/* What RPC and /metrics show of the node's consensus (node/consensus.h):
 * node_status's "consensus" field, consensus_state, and the consensus
 * metrics. Callers hold node_lock (RPC methods and /metrics run under it). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/consensus_int.h"
#include "node/node_internal.h"
#include "rpc/jsonrpc.h"
#include "util/hex.h"

static json_t *hex32(const uint8_t id[32])
{
    char h[2 + 64 + 1] = "0x";
    util_hex_encode(h + 2, id, 32);
    return json_string(h);
}

int node_cons_status_json(void *ctx, json_t *st)
{
    node *n = ctx;
    node_cons *c = n->cons;
    if (!c) return json_object_set_new(st, "consensus", json_null()) ? -1 : 0;
    cons_state s;
    cons_engine_state_get(c->e, &s);
    json_t *o = json_pack("{s:I,s:i,s:s,s:b}", "height", (json_int_t)s.height, "round",
                          (int)s.round, "step", cons_step_name(s.step), "signing", !c->signing_off);
    if (!o) return -1;
    if (c->signing_off) json_object_set_new(o, "signingStopped", json_string(c->signing_off_why));
    return json_object_set_new(st, "consensus", o) ? -1 : 0;
}

static json_t *round_json(int r)
{
    return r < 0 ? json_null() : json_integer(r);
}

json_t *node_cons_state_json(void *ctx)
{
    node *n = ctx;
    node_cons *c = n->cons;
    if (!c) return json_pack("{s:b}", "running", 0);
    cons_state s;
    cons_engine_state_get(c->e, &s);
    json_t *votes = json_array();
    if (!votes) return NULL;
    const cons_voteset *vs = cons_engine_votes(c->e);
    for (uint32_t r = s.round > 1 ? s.round - 2 : 0; r <= s.round + 1; r++)
        for (uint8_t type = CHAIN_VOTE_PREVOTE; type <= CHAIN_VOTE_PRECOMMIT; type++)
            for (uint32_t i = 0; i < c->vs.n; i++) {
                cons_vote v;
                if (!cons_voteset_get(vs, r, type, i, &v)) continue;
                json_array_append_new(
                    votes, json_pack("{s:i,s:s,s:i,s:o}", "round", (int)r, "type",
                                     type == CHAIN_VOTE_PREVOTE ? "prevote" : "precommit",
                                     "validator", (int)i, "blockHash",
                                     cons_id_is_nil(v.block_id) ? json_null() : hex32(v.block_id)));
            }
    json_t *evs = json_array();
    for (uint32_t i = 0; evs && i < c->nevidence && i < NODE_CONS_EVIDENCE; i++) {
        const cons_evidence *ev = &c->evidence[i];
        /* Asked of the store, not of the pool: block sync may have applied
         * the including block since the pool last looked. */
        chain_evidence ce;
        uint64_t at = 0;
        util_err e = {0};
        node_cons_evidence_to_chain(&ce, ev);
        int in = chain_store_evidence_included(n->store, &ce, &at, &e) == 0;
        json_array_append_new(
            evs, json_pack("{s:I,s:i,s:s,s:i,s:o,s:o,s:o}", "height", (json_int_t)ev->a.height,
                           "round", (int)ev->a.round, "type",
                           ev->a.type == CHAIN_VOTE_PREVOTE ? "prevote" : "precommit", "validator",
                           (int)ev->a.validator, "blockHashA",
                           cons_id_is_nil(ev->a.block_id) ? json_null() : hex32(ev->a.block_id),
                           "blockHashB",
                           cons_id_is_nil(ev->b.block_id) ? json_null() : hex32(ev->b.block_id),
                           "includedAt", in ? json_integer((json_int_t)at) : json_null()));
    }
    json_t *o = json_pack(
        "{s:b,s:I,s:i,s:s,s:i,s:i,s:o,s:o,s:o,s:I,s:I,s:I,s:b,s:o,s:o}", "running", 1, "height",
        (json_int_t)s.height, "round", (int)s.round, "step", cons_step_name(s.step), "proposer",
        (int)s.proposer, "self", (int)c->self, "lockedRound",
        round_json(s.locked_round == CONS_POL_NONE ? -1 : (int)s.locked_round), "validRound",
        round_json(s.valid_round == CONS_POL_NONE ? -1 : (int)s.valid_round), "proposal",
        s.has_proposal ? hex32(s.proposal_id) : json_null(), "prevotePower",
        (json_int_t)s.prevote_power, "precommitPower", (json_int_t)s.precommit_power, "totalPower",
        (json_int_t)s.total_power, "signing", !c->signing_off, "votes", votes, "evidence",
        evs ? evs : json_array());
    return o;
}

void node_cons_metrics(node *n, char **body, size_t *len)
{
    node_cons *c = n->cons;
    if (!c || !*body) return;
    cons_state s;
    cons_engine_state_get(c->e, &s);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_height Height the engine is deciding.\n"
        "# TYPE openledger_consensus_height gauge\nopenledger_consensus_height %llu\n",
        (unsigned long long)s.height);
    node_metrics_appendf(body, len,
                         "# TYPE openledger_consensus_round gauge\nopenledger_consensus_round %u\n",
                         s.round);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_step 1 propose, 2 prevote, 3 precommit, 4 decided.\n"
        "# TYPE openledger_consensus_step gauge\nopenledger_consensus_step %u\n",
        (unsigned)s.step);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_heights_total Heights decided here; rounds_total / "
        "heights_total is the mean rounds per height.\n"
        "# TYPE openledger_consensus_heights_total counter\n"
        "openledger_consensus_heights_total %llu\n"
        "# TYPE openledger_consensus_rounds_total counter\n"
        "openledger_consensus_rounds_total %llu\n",
        (unsigned long long)c->heights, (unsigned long long)c->rounds);
    node_metrics_appendf(
        body, len,
        "# TYPE openledger_consensus_last_height_rounds gauge\n"
        "openledger_consensus_last_height_rounds %llu\n"
        "# HELP openledger_consensus_last_height_seconds Time from the start of the last "
        "decided height to its decision.\n"
        "# TYPE openledger_consensus_last_height_seconds gauge\n"
        "openledger_consensus_last_height_seconds %.3f\n",
        (unsigned long long)c->last_rounds, (double)c->last_height_ns / 1e9);
    node_metrics_appendf(
        body, len,
        "# TYPE openledger_consensus_signed_total counter\n"
        "openledger_consensus_signed_total %llu\n"
        "# TYPE openledger_consensus_sign_failures_total counter\n"
        "openledger_consensus_sign_failures_total %llu\n"
        "# TYPE openledger_consensus_signing gauge\nopenledger_consensus_signing %d\n",
        (unsigned long long)c->signed_msgs, (unsigned long long)c->sign_failures, !c->signing_off);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_tx_waits_total Round-0 builds that waited for a "
        "first transaction (as the proposer, the pool offering none).\n"
        "# TYPE openledger_consensus_tx_waits_total counter\n"
        "openledger_consensus_tx_waits_total %llu\n",
        (unsigned long long)c->empty_waits);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_commit_waits_skipped_total Decided heights whose "
        "timeoutCommitMs wait ended early, every validator's precommit being in.\n"
        "# TYPE openledger_consensus_commit_waits_skipped_total counter\n"
        "openledger_consensus_commit_waits_skipped_total %llu\n",
        (unsigned long long)c->commit_skips);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_step_seconds_total Time spent in each step (propose: "
        "with a proposer's wait for transactions; decided: the commit wait).\n"
        "# TYPE openledger_consensus_step_seconds_total counter\n");
    for (uint8_t st = CONS_STEP_PROPOSE; st <= CONS_STEP_DECIDED; st++)
        node_metrics_appendf(body, len,
                             "openledger_consensus_step_seconds_total{step=\"%s\"} %.3f\n",
                             cons_step_name(st), (double)c->step_ns[st] / 1e9);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_missed_proposals_total Propose timeouts with no "
        "proposal, by the round's proposer.\n"
        "# TYPE openledger_consensus_missed_proposals_total counter\n");
    for (uint32_t i = 0; i < c->vs.n; i++)
        node_metrics_appendf(body, len,
                             "openledger_consensus_missed_proposals_total{validator=\"%s\"} %llu\n",
                             n->genesis.vals[i].name, (unsigned long long)c->missed_proposals[i]);
    node_metrics_appendf(
        body, len,
        "# HELP openledger_consensus_missed_votes_total Decided heights whose commit "
        "lacks the validator's precommit.\n"
        "# TYPE openledger_consensus_missed_votes_total counter\n");
    for (uint32_t i = 0; i < c->vs.n; i++)
        node_metrics_appendf(body, len,
                             "openledger_consensus_missed_votes_total{validator=\"%s\"} %llu\n",
                             n->genesis.vals[i].name, (unsigned long long)c->missed_votes[i]);
}
