/* The block sync scheduler (p2p/sync.h): a list of ranges sorted by first
 * height, each asked of one peer, arrived, or being applied; the heights
 * between the head and the window that no range covers are the ones to ask
 * for next. Lists are short (window / range entries), so linear scans do. */
#include "p2p/sync.h"

#include <stdlib.h>
#include <string.h>

enum { S_REQ, S_ARR, S_APPLYING };

typedef struct slot {
    uint64_t from, end; /* heights from..end-1 */
    uint32_t asked;
    int state;
    uint64_t peer;
    uint64_t deadline;
    void *user;
} slot;

typedef struct peer {
    uint64_t token, height, last_used;
    uint32_t inflight;
} peer;

struct p2p_sync {
    p2p_sync_cfg cfg;
    uint64_t height;
    slot *sl;
    size_t nsl, capsl;
    peer *pe;
    size_t npe, cappe;
    uint64_t use_clock;
};

p2p_sync *p2p_sync_new(const p2p_sync_cfg *cfg, uint64_t height)
{
    p2p_sync *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->cfg = *cfg;
    if (s->cfg.range == 0 || s->cfg.range > 64) s->cfg.range = 64;
    if (s->cfg.max_per_peer == 0) s->cfg.max_per_peer = 2;
    if (s->cfg.window == 0) s->cfg.window = 1024;
    if (s->cfg.timeout_ms == 0) s->cfg.timeout_ms = 15000;
    s->height = height;
    return s;
}

static void release(p2p_sync *s, slot *x)
{
    if (x->user && s->cfg.free_user) s->cfg.free_user(x->user);
    x->user = NULL;
}

void p2p_sync_free(p2p_sync *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->nsl; i++)
        release(s, &s->sl[i]);
    free(s->sl);
    free(s->pe);
    free(s);
}

static peer *find_peer(const p2p_sync *s, uint64_t token)
{
    for (size_t i = 0; i < s->npe; i++)
        if (s->pe[i].token == token) return &s->pe[i];
    return NULL;
}

static void remove_slot(p2p_sync *s, size_t i)
{
    slot *x = &s->sl[i];
    if (x->state == S_REQ) {
        peer *p = find_peer(s, x->peer);
        if (p && p->inflight) p->inflight--;
    }
    release(s, x);
    memmove(&s->sl[i], &s->sl[i + 1], (s->nsl - i - 1) * sizeof *s->sl);
    s->nsl--;
}

int p2p_sync_peer_status(p2p_sync *s, uint64_t token, uint64_t height)
{
    peer *p = find_peer(s, token);
    if (!p) {
        if (s->npe == s->cappe) {
            size_t nc = s->cappe ? 2 * s->cappe : 8;
            peer *np = realloc(s->pe, nc * sizeof *np);
            if (!np) return UTIL_ENOMEM;
            s->pe = np;
            s->cappe = nc;
        }
        p = &s->pe[s->npe++];
        memset(p, 0, sizeof *p);
        p->token = token;
    }
    if (height > p->height) p->height = height;
    return 0;
}

void p2p_sync_peer_remove(p2p_sync *s, uint64_t token)
{
    for (size_t i = s->nsl; i-- > 0;)
        if (s->sl[i].state == S_REQ && s->sl[i].peer == token) remove_slot(s, i);
    for (size_t i = 0; i < s->npe; i++)
        if (s->pe[i].token == token) {
            s->pe[i] = s->pe[--s->npe];
            break;
        }
}

uint64_t p2p_sync_peer_height(const p2p_sync *s, uint64_t token)
{
    const peer *p = find_peer(s, token);
    return p ? p->height : 0;
}

uint64_t p2p_sync_target(const p2p_sync *s)
{
    uint64_t t = s->height;
    for (size_t i = 0; i < s->npe; i++)
        if (s->pe[i].height > t) t = s->pe[i].height;
    return t;
}

/* The first height above the head that no range covers, and where the
 * next range starts (UINT64_MAX: none). */
static void first_gap(const p2p_sync *s, uint64_t *start, uint64_t *stop)
{
    uint64_t g = s->height + 1;
    for (size_t i = 0; i < s->nsl; i++) {
        const slot *x = &s->sl[i];
        if (x->end <= g) continue;
        if (x->from > g) {
            *start = g;
            *stop = x->from;
            return;
        }
        g = x->end;
    }
    *start = g;
    *stop = UINT64_MAX;
}

static int insert_slot(p2p_sync *s, const slot *x)
{
    if (s->nsl == s->capsl) {
        size_t nc = s->capsl ? 2 * s->capsl : 16;
        slot *ns = realloc(s->sl, nc * sizeof *ns);
        if (!ns) return UTIL_ENOMEM;
        s->sl = ns;
        s->capsl = nc;
    }
    size_t i = s->nsl;
    while (i > 0 && s->sl[i - 1].from > x->from)
        i--;
    memmove(&s->sl[i + 1], &s->sl[i], (s->nsl - i) * sizeof *s->sl);
    s->sl[i] = *x;
    s->nsl++;
    return 0;
}

int p2p_sync_next_request(p2p_sync *s, uint64_t now_ms, uint64_t *out_peer, uint64_t *from,
                          uint32_t *count)
{
    uint64_t start, stop;
    first_gap(s, &start, &stop);
    uint64_t limit = p2p_sync_target(s);
    uint64_t win = s->height > UINT64_MAX - s->cfg.window ? UINT64_MAX : s->height + s->cfg.window;
    if (win < limit) limit = win;
    if (start > limit) return 0;
    peer *best = NULL;
    for (size_t i = 0; i < s->npe; i++) {
        peer *p = &s->pe[i];
        if (p->height < start || p->inflight >= s->cfg.max_per_peer) continue;
        if (!best || p->inflight < best->inflight ||
            (p->inflight == best->inflight && p->last_used < best->last_used))
            best = p;
    }
    if (!best) return 0;
    uint64_t n = s->cfg.range;
    if (stop - start < n) n = stop - start;
    if (best->height - start + 1 < n) n = best->height - start + 1;
    if (limit - start + 1 < n) n = limit - start + 1;
    slot x = {.from = start,
              .end = start + n,
              .asked = (uint32_t)n,
              .state = S_REQ,
              .peer = best->token,
              .deadline = now_ms + s->cfg.timeout_ms};
    if (insert_slot(s, &x)) return 0;
    best->inflight++;
    best->last_used = ++s->use_clock;
    *out_peer = best->token;
    *from = start;
    *count = (uint32_t)n;
    return 1;
}

int p2p_sync_expecting(const p2p_sync *s, uint64_t token)
{
    for (size_t i = 0; i < s->nsl; i++)
        if (s->sl[i].state == S_REQ && s->sl[i].peer == token) return 1;
    return 0;
}

int p2p_sync_on_blocks(p2p_sync *s, uint64_t token, uint64_t from, uint32_t n, void *user,
                       util_err *err)
{
    size_t i = 0;
    while (i < s->nsl &&
           !(s->sl[i].state == S_REQ && s->sl[i].peer == token && s->sl[i].from == from))
        i++;
    if (i == s->nsl) {
        util_err_set(err, UTIL_EINVAL, "unrequested_blocks: blocks from %llu nobody asked for",
                     (unsigned long long)from);
        return P2P_SYNC_BAN;
    }
    slot *x = &s->sl[i];
    if (n > x->asked) {
        util_err_set(err, UTIL_EINVAL, "too_many_blocks: %u blocks from %llu, %u asked", n,
                     (unsigned long long)from, x->asked);
        remove_slot(s, i);
        return P2P_SYNC_BAN;
    }
    if (x->end - 1 <= s->height) {
        remove_slot(s, i);
        return P2P_SYNC_STALE;
    }
    if (n == 0) {
        util_err_set(err, UTIL_EINVAL, "not_served: claimed height %llu, served no block from %llu",
                     (unsigned long long)p2p_sync_peer_height(s, token), (unsigned long long)from);
        remove_slot(s, i);
        return P2P_SYNC_BAN;
    }
    peer *p = find_peer(s, token);
    if (p && p->inflight) p->inflight--;
    x->state = S_ARR;
    x->end = from + n;
    x->user = user;
    return P2P_SYNC_ACCEPTED;
}

int p2p_sync_expired(p2p_sync *s, uint64_t now_ms, uint64_t *out_peer, util_err *err)
{
    for (size_t i = 0; i < s->nsl;) {
        slot *x = &s->sl[i];
        if (x->state != S_REQ || x->deadline > now_ms) {
            i++;
            continue;
        }
        uint64_t token = x->peer, from = x->from;
        int stale = x->end - 1 <= s->height;
        remove_slot(s, i);
        if (stale) continue;
        util_err_set(err, UTIL_EINVAL,
                     "not_served: claimed height %llu, no blocks from %llu within %llu ms",
                     (unsigned long long)p2p_sync_peer_height(s, token), (unsigned long long)from,
                     (unsigned long long)s->cfg.timeout_ms);
        *out_peer = token;
        return 1;
    }
    return 0;
}

int p2p_sync_pop_ready(p2p_sync *s, uint64_t *out_peer, uint64_t *from, uint32_t *n, void **user)
{
    /* The lowest height not yet handed out: past the head and past the
     * ranges being applied, which follow it in order. */
    uint64_t want = s->height + 1;
    for (int moved = 1; moved;) {
        moved = 0;
        for (size_t i = 0; i < s->nsl; i++) {
            const slot *x = &s->sl[i];
            if (x->state == S_APPLYING && x->from <= want && want < x->end) {
                want = x->end;
                moved = 1;
            }
        }
    }
    for (size_t i = 0; i < s->nsl; i++) {
        slot *x = &s->sl[i];
        if (x->state != S_ARR || x->from > want || x->end <= want) continue;
        x->state = S_APPLYING;
        *out_peer = x->peer;
        *from = x->from;
        *n = (uint32_t)(x->end - x->from);
        *user = x->user;
        x->user = NULL;
        return 1;
    }
    return 0;
}

void p2p_sync_applied(p2p_sync *s, uint64_t height)
{
    if (height > s->height) s->height = height;
    for (size_t i = s->nsl; i-- > 0;) {
        slot *x = &s->sl[i];
        if ((x->state == S_APPLYING || x->state == S_ARR) && x->end - 1 <= s->height)
            remove_slot(s, i);
    }
}

void p2p_sync_abandon(p2p_sync *s)
{
    for (size_t i = s->nsl; i-- > 0;)
        if (s->sl[i].state == S_APPLYING) remove_slot(s, i);
}

uint64_t p2p_sync_height(const p2p_sync *s)
{
    return s->height;
}

int p2p_sync_behind(const p2p_sync *s, uint64_t lag)
{
    return p2p_sync_target(s) - s->height > lag;
}

size_t p2p_sync_in_flight(const p2p_sync *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->nsl; i++)
        k += s->sl[i].state == S_REQ;
    return k;
}

size_t p2p_sync_held(const p2p_sync *s)
{
    size_t k = 0;
    for (size_t i = 0; i < s->nsl; i++)
        k += s->sl[i].state == S_ARR;
    return k;
}
