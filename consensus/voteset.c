/* The votes of one height: window of rounds, tallies, POL memory, round skip
 * (rules in voteset.h). */
#include "consensus/voteset.h"

#include <string.h>

static int kind_of(uint8_t type)
{
    return type == CHAIN_VOTE_PREVOTE ? 0 : type == CHAIN_VOTE_PRECOMMIT ? 1 : -1;
}

static int in_window(const cons_voteset *s, uint32_t r)
{
    return r >= s->base && r - s->base < CONS_VS_ROUNDS;
}

/* The slot that holds round r, or NULL if it is neither in the window nor
 * kept. */
static cons_vs_round *slot_for(const cons_voteset *s, uint32_t r)
{
    cons_voteset *m = (cons_voteset *)s; /* the same lookup serves get and take */
    if (in_window(s, r)) return &m->r[r % CONS_VS_ROUNDS];
    for (int k = 0; k < 2; k++)
        if (s->keep[k] == r && r != CONS_POL_NONE) return &m->r[CONS_VS_ROUNDS + k];
    return NULL;
}

static const cons_vs_round *slot_get(const cons_voteset *s, uint32_t r)
{
    const cons_vs_round *x = slot_for(s, r);
    return x && x->used && x->round == r ? x : NULL;
}

static cons_vs_round *slot_take(cons_voteset *s, uint32_t r)
{
    cons_vs_round *x = slot_for(s, r);
    if (!x) return NULL;
    if (!x->used || x->round != r) {
        memset(x, 0, sizeof *x);
        x->used = 1;
        x->round = r;
    }
    return x;
}

void cons_voteset_init(cons_voteset *s, const cons_valset *vs, uint64_t height)
{
    memset(s, 0, sizeof *s);
    s->vs = vs;
    s->height = height;
    s->keep[0] = s->keep[1] = CONS_POL_NONE;
}

void cons_voteset_keep(cons_voteset *s, int k, uint32_t r)
{
    if (s->keep[k] == r) return;
    int o = 1 - k;
    cons_vs_round *x = &s->r[CONS_VS_ROUNDS + k];
    /* When both places keep one round, place 0 holds its votes (slot_for
     * looks there first): hand them over before place 0 moves on. */
    if (k == 0 && s->keep[o] == s->keep[0] && s->keep[0] != CONS_POL_NONE)
        s->r[CONS_VS_ROUNDS + o] = *x;
    const cons_vs_round *have = r == CONS_POL_NONE ? NULL : slot_get(s, r);
    if (have && have != x)
        *x = *have;
    else
        x->used = 0;
    s->keep[k] = r;
}

void cons_voteset_set_round(cons_voteset *s, uint32_t round)
{
    uint32_t base = round > CONS_VS_BEHIND ? round - CONS_VS_BEHIND : 0;
    if (base < s->base) return; /* the window never moves back */
    s->base = base;
    for (int i = 0; i < CONS_VS_ROUNDS; i++) {
        cons_vs_round *x = &s->r[i];
        if (!x->used || in_window(s, x->round)) continue;
        for (int k = 0; k < 2; k++) /* a kept round leaving the window moves to its place */
            if (s->keep[k] == x->round) s->r[CONS_VS_ROUNDS + k] = *x;
        x->used = 0;
    }
}

void cons_voteset_note_round(cons_voteset *s, uint32_t validator, uint32_t round)
{
    if (validator >= s->vs->n) return;
    uint64_t bit = 1ull << validator;
    if (!(s->seen & bit) || s->max_round[validator] < round) s->max_round[validator] = round;
    s->seen |= bit;
}

static void pol_remember(cons_voteset *s, uint32_t r, const uint8_t id[32])
{
    for (uint32_t i = 0; i < s->npol; i++)
        if (s->pol[i].round == r) return; /* one value per round can reach 2/3+ */
    uint32_t at = s->npol;
    if (s->npol == CONS_VS_POLS) {
        at = 0; /* replace the oldest round */
        for (uint32_t i = 1; i < s->npol; i++)
            if (s->pol[i].round < s->pol[at].round) at = i;
        if (s->pol[at].round > r) return;
    } else {
        s->npol++;
    }
    s->pol[at].round = r;
    memcpy(s->pol[at].id, id, 32);
}

int cons_voteset_add(cons_voteset *s, const cons_vote *v, cons_evidence *ev)
{
    int k = kind_of(v->type);
    if (k < 0 || v->height != s->height || v->validator >= s->vs->n) return CONS_VS_BAD;
    cons_voteset_note_round(s, v->validator, v->round);
    cons_vs_round *slot = slot_take(s, v->round);
    if (!slot) return CONS_VS_WINDOW;
    cons_vs_kind *x = &slot->k[k];
    uint64_t bit = 1ull << v->validator;
    if (x->have & bit) {
        if (memcmp(x->ids[v->validator], v->block_id, 32) == 0) return CONS_VS_DUP;
        cons_vote first = *v;
        memcpy(first.block_id, x->ids[v->validator], 32);
        memcpy(first.sig, x->sigs[v->validator], 64);
        if (cons_evidence_make(ev, &first, v, NULL)) return CONS_VS_BAD; /* cannot happen */
        return CONS_VS_CONFLICT;
    }
    uint64_t p = s->vs->v[v->validator].power;
    x->have |= bit;
    memcpy(x->ids[v->validator], v->block_id, 32);
    memcpy(x->sigs[v->validator], v->sig, 64);
    x->any_power += p;
    uint32_t t = 0;
    while (t < x->nt && memcmp(x->t[t].id, v->block_id, 32) != 0)
        t++;
    if (t == x->nt) {
        memcpy(x->t[t].id, v->block_id, 32);
        x->t[t].power = 0;
        x->nt++;
    }
    x->t[t].power += p;
    if (k == 0 && !cons_id_is_nil(v->block_id) && cons_valset_has_quorum(s->vs, x->t[t].power))
        pol_remember(s, v->round, v->block_id);
    return CONS_VS_ADDED;
}

int cons_voteset_quorum_any(const cons_voteset *s, uint32_t r, uint8_t type)
{
    return cons_valset_has_quorum(s->vs, cons_voteset_power(s, r, type));
}

uint64_t cons_voteset_power(const cons_voteset *s, uint32_t r, uint8_t type)
{
    const cons_vs_round *x = slot_get(s, r);
    int k = kind_of(type);
    return x && k >= 0 ? x->k[k].any_power : 0;
}

static const cons_vs_tally *tally_for(const cons_voteset *s, uint32_t r, uint8_t type,
                                      const uint8_t id[32])
{
    const cons_vs_round *x = slot_get(s, r);
    int k = kind_of(type);
    if (!x || k < 0) return NULL;
    for (uint32_t t = 0; t < x->k[k].nt; t++)
        if (memcmp(x->k[k].t[t].id, id, 32) == 0) return &x->k[k].t[t];
    return NULL;
}

int cons_voteset_quorum_for(const cons_voteset *s, uint32_t r, uint8_t type, const uint8_t id[32])
{
    const cons_vs_tally *t = tally_for(s, r, type, id);
    return t && cons_valset_has_quorum(s->vs, t->power);
}

int cons_voteset_quorum_value(const cons_voteset *s, uint32_t r, uint8_t type, uint8_t id[32])
{
    const cons_vs_round *x = slot_get(s, r);
    int k = kind_of(type);
    if (!x || k < 0) return 0;
    for (uint32_t t = 0; t < x->k[k].nt; t++)
        if (cons_valset_has_quorum(s->vs, x->k[k].t[t].power)) {
            memcpy(id, x->k[k].t[t].id, 32);
            return 1;
        }
    return 0;
}

int cons_voteset_pol(const cons_voteset *s, uint32_t r, const uint8_t id[32])
{
    if (cons_id_is_nil(id)) return 0;
    for (uint32_t i = 0; i < s->npol; i++)
        if (s->pol[i].round == r && memcmp(s->pol[i].id, id, 32) == 0) return 1;
    return 0;
}

int cons_voteset_skip_round(const cons_voteset *s, uint32_t cur, uint32_t *to)
{
    /* Walk validators by highest round, descending; the round at which the
     * accumulated power first passes 1/3 is reached by more than 1/3. */
    uint64_t done = 0, power = 0;
    for (;;) {
        int best = -1;
        for (uint32_t i = 0; i < s->vs->n; i++) {
            uint64_t bit = 1ull << i;
            if (!(s->seen & bit) || (done & bit)) continue;
            if (best < 0 || s->max_round[i] > s->max_round[best]) best = (int)i;
        }
        if (best < 0 || s->max_round[best] <= cur) return 0;
        done |= 1ull << best;
        power += s->vs->v[best].power;
        if (cons_valset_has_one_third(s->vs, power)) {
            *to = s->max_round[best];
            return 1;
        }
    }
}

int cons_voteset_get(const cons_voteset *s, uint32_t r, uint8_t type, uint32_t i, cons_vote *v)
{
    const cons_vs_round *x = slot_get(s, r);
    int k = kind_of(type);
    if (!x || k < 0 || i >= s->vs->n || !(x->k[k].have & (1ull << i))) return 0;
    memset(v, 0, sizeof *v);
    v->type = type;
    v->height = s->height;
    v->round = r;
    v->validator = i;
    memcpy(v->block_id, x->k[k].ids[i], 32);
    memcpy(v->sig, x->k[k].sigs[i], 64);
    return 1;
}

int cons_voteset_commit(const cons_voteset *s, uint32_t r, const uint8_t id[32], chain_commit *c)
{
    if (cons_id_is_nil(id) || !cons_voteset_quorum_for(s, r, CHAIN_VOTE_PRECOMMIT, id)) return 0;
    const cons_vs_round *slot = slot_get(s, r);
    if (!slot) return 0;
    const cons_vs_kind *x = &slot->k[1];
    c->round = r;
    c->n = 0;
    for (uint32_t i = 0; i < s->vs->n; i++) {
        if (!(x->have & (1ull << i)) || memcmp(x->ids[i], id, 32) != 0) continue;
        c->sigs[c->n].validator = i;
        memcpy(c->sigs[c->n].sig, x->sigs[i], 64);
        c->n++;
    }
    return 1;
}
