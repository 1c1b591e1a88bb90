/* Block sync scheduler (p2p/sync.h): ranges spread over several peers,
 * answers matched to requests, bans for a peer that claims a height and
 * does not serve it (no answer, an empty answer, unasked blocks), a bad
 * block sending its heights to other peers, the window bound, following the
 * head once caught up, and a randomized network of honest and lying peers
 * that always ends at the target with every height applied once, in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "p2p/sync.h"
#include "tests/seed.h"

static int freed;
static void count_free(void *u)
{
    (void)u;
    freed++;
}

static p2p_sync *mk(uint32_t range, uint32_t per_peer, uint64_t window, uint64_t height)
{
    p2p_sync_cfg c = {.range = range,
                      .max_per_peer = per_peer,
                      .window = window,
                      .timeout_ms = 1000,
                      .free_user = count_free};
    p2p_sync *s = p2p_sync_new(&c, height);
    assert_non_null(s);
    freed = 0;
    return s;
}

static int U; /* a user pointer to hand over */

static void expect_req(p2p_sync *s, uint64_t now, uint64_t peer, uint64_t from, uint32_t count)
{
    uint64_t p, f;
    uint32_t c;
    assert_int_equal(p2p_sync_next_request(s, now, &p, &f, &c), 1);
    assert_int_equal(p, peer);
    assert_int_equal(f, from);
    assert_int_equal(c, count);
}

static void expect_no_req(p2p_sync *s, uint64_t now)
{
    uint64_t p, f;
    uint32_t c;
    assert_int_equal(p2p_sync_next_request(s, now, &p, &f, &c), 0);
}

static void test_ranges_spread_over_peers(void **state)
{
    (void)state;
    p2p_sync *s = mk(64, 2, 1024, 0);
    expect_no_req(s, 0); /* no peer: nothing to ask */
    assert_int_equal(p2p_sync_peer_status(s, 1, 200), 0);
    assert_int_equal(p2p_sync_peer_status(s, 2, 200), 0);
    assert_int_equal(p2p_sync_target(s), 200);
    assert_int_equal(p2p_sync_behind(s, 2), 1);
    expect_req(s, 0, 1, 1, 64);
    expect_req(s, 0, 2, 65, 64);
    expect_req(s, 0, 1, 129, 64);
    expect_req(s, 0, 2, 193, 8);
    expect_no_req(s, 0);
    assert_int_equal(p2p_sync_in_flight(s), 4);
    assert_int_equal(p2p_sync_expecting(s, 1), 1);
    assert_int_equal(p2p_sync_expecting(s, 3), 0);

    /* Answers out of order: nothing to apply until height 1 arrives. */
    util_err err;
    assert_int_equal(p2p_sync_on_blocks(s, 2, 65, 64, &U, &err), P2P_SYNC_ACCEPTED);
    uint64_t p, f;
    uint32_t n;
    void *u;
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 0);
    assert_int_equal(p2p_sync_on_blocks(s, 1, 1, 64, &U, &err), P2P_SYNC_ACCEPTED);
    assert_int_equal(p2p_sync_held(s), 2);
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 1);
    assert_int_equal(p, 1);
    assert_int_equal(f, 1);
    assert_int_equal(n, 64);
    assert_ptr_equal(u, &U);
    /* While it is applied it is not asked again; the next range can be
     * popped ahead of it (its signatures checked meanwhile). */
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 1);
    assert_int_equal(f, 65);
    assert_int_equal(p, 2);
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 0); /* 129.. not here */
    p2p_sync_applied(s, 64);
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 0);
    p2p_sync_applied(s, 128);
    assert_int_equal(freed, 0); /* both ranges were handed over */
    /* Peer 1 has a slot free again: nothing left to ask below 200. */
    expect_no_req(s, 0);
    p2p_sync_free(s);
}

static void test_timeout_bans_and_others_serve(void **state)
{
    (void)state;
    p2p_sync *s = mk(10, 1, 1024, 0);
    assert_int_equal(p2p_sync_peer_status(s, 1, 30), 0);
    assert_int_equal(p2p_sync_peer_status(s, 2, 30), 0);
    expect_req(s, 100, 1, 1, 10);
    expect_req(s, 100, 2, 11, 10);
    util_err err;
    uint64_t bad;
    assert_int_equal(p2p_sync_expired(s, 1099, &bad, &err), 0);
    assert_int_equal(p2p_sync_on_blocks(s, 2, 11, 10, &U, &err), P2P_SYNC_ACCEPTED);
    assert_int_equal(p2p_sync_expired(s, 1100, &bad, &err), 1);
    assert_int_equal(bad, 1);
    assert_non_null(strstr(err.msg, "not_served"));
    assert_int_equal(p2p_sync_expired(s, 1100, &bad, &err), 0);
    p2p_sync_peer_remove(s, 1); /* banned: disconnected */
    /* Heights 1..10 go to peer 2, then 21..30. */
    expect_req(s, 1200, 2, 1, 10);
    expect_no_req(s, 1200);
    assert_int_equal(p2p_sync_on_blocks(s, 2, 1, 10, &U, &err), P2P_SYNC_ACCEPTED);
    expect_req(s, 1200, 2, 21, 10);
    p2p_sync_free(s);
}

static void test_empty_answer_and_unasked_are_banned(void **state)
{
    (void)state;
    p2p_sync *s = mk(16, 2, 1024, 5);
    assert_int_equal(p2p_sync_peer_status(s, 7, 100), 0);
    assert_int_equal(p2p_sync_peer_status(s, 8, 100), 0);
    expect_req(s, 0, 7, 6, 16);
    expect_req(s, 0, 8, 22, 16);
    util_err err;
    /* Nobody asked 7 for height 50, nor 9 for anything. */
    assert_int_equal(p2p_sync_on_blocks(s, 7, 50, 1, &U, &err), P2P_SYNC_BAN);
    assert_non_null(strstr(err.msg, "unrequested_blocks"));
    assert_int_equal(p2p_sync_on_blocks(s, 9, 6, 1, &U, &err), P2P_SYNC_BAN);
    /* More than asked. */
    assert_int_equal(p2p_sync_on_blocks(s, 8, 22, 17, &U, &err), P2P_SYNC_BAN);
    assert_non_null(strstr(err.msg, "too_many_blocks"));
    /* Claimed 100, served nothing from 6. */
    assert_int_equal(p2p_sync_on_blocks(s, 7, 6, 0, &U, &err), P2P_SYNC_BAN);
    assert_non_null(strstr(err.msg, "not_served"));
    p2p_sync_peer_remove(s, 7);
    p2p_sync_peer_remove(s, 8);
    assert_int_equal(p2p_sync_in_flight(s), 0);
    assert_int_equal(p2p_sync_target(s), 5);
    assert_int_equal(p2p_sync_peer_status(s, 10, 100), 0);
    expect_req(s, 0, 10, 6, 16);
    p2p_sync_free(s);
}

static void test_partial_answer_rest_asked_again(void **state)
{
    (void)state;
    p2p_sync *s = mk(64, 1, 1024, 0);
    assert_int_equal(p2p_sync_peer_status(s, 1, 64), 0);
    expect_req(s, 0, 1, 1, 64);
    util_err err;
    /* A response capped in bytes: 10 of 64 is fine. */
    assert_int_equal(p2p_sync_on_blocks(s, 1, 1, 10, &U, &err), P2P_SYNC_ACCEPTED);
    expect_req(s, 0, 1, 11, 54);
    p2p_sync_free(s);
}

static void test_bad_block_heights_go_elsewhere(void **state)
{
    (void)state;
    p2p_sync *s = mk(20, 1, 1024, 0);
    assert_int_equal(p2p_sync_peer_status(s, 1, 40), 0);
    assert_int_equal(p2p_sync_peer_status(s, 2, 40), 0);
    expect_req(s, 0, 1, 1, 20);
    expect_req(s, 0, 2, 21, 20);
    util_err err;
    assert_int_equal(p2p_sync_on_blocks(s, 1, 1, 20, &U, &err), P2P_SYNC_ACCEPTED);
    assert_int_equal(p2p_sync_on_blocks(s, 2, 21, 20, &U, &err), P2P_SYNC_ACCEPTED);
    uint64_t p, f;
    uint32_t n;
    void *u;
    /* Both popped: 21..40 has its signatures checked while 1..20 executes. */
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 1);
    assert_int_equal(p, 1);
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 1);
    assert_int_equal(f, 21);
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 0);
    /* Block 8 fails validation: 1..7 applied, peer 1 banned. */
    p2p_sync_applied(s, 7);
    expect_no_req(s, 0); /* both ranges are still the caller's */
    p2p_sync_abandon(s);
    p2p_sync_peer_remove(s, 1);
    assert_int_equal(p2p_sync_height(s), 7);
    expect_req(s, 0, 2, 8, 20); /* 8..40 again, from peer 2 */
    expect_no_req(s, 0);
    assert_int_equal(p2p_sync_on_blocks(s, 2, 8, 20, &U, &err), P2P_SYNC_ACCEPTED);
    expect_req(s, 0, 2, 28, 13);
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 1);
    assert_int_equal(f, 8);
    p2p_sync_applied(s, 27);
    assert_int_equal(freed, 0);
    p2p_sync_free(s);
}

static void test_window_bounds_memory(void **state)
{
    (void)state;
    p2p_sync *s = mk(64, 100, 128, 0);
    assert_int_equal(p2p_sync_peer_status(s, 1, 100000), 0);
    expect_req(s, 0, 1, 1, 64);
    expect_req(s, 0, 1, 65, 64);
    expect_no_req(s, 0);
    util_err err;
    assert_int_equal(p2p_sync_on_blocks(s, 1, 1, 64, &U, &err), P2P_SYNC_ACCEPTED);
    expect_no_req(s, 0); /* held blocks count against the window */
    uint64_t p, f;
    uint32_t n;
    void *u;
    assert_int_equal(p2p_sync_pop_ready(s, &p, &f, &n, &u), 1);
    p2p_sync_applied(s, 64);
    expect_req(s, 0, 1, 129, 64);
    p2p_sync_free(s);
}

static void test_follow_head_and_stale_answers(void **state)
{
    (void)state;
    p2p_sync *s = mk(64, 2, 1024, 50);
    assert_int_equal(p2p_sync_peer_status(s, 1, 50), 0);
    expect_no_req(s, 0);
    assert_int_equal(p2p_sync_behind(s, 0), 0);
    /* A new head announced: one block asked. */
    assert_int_equal(p2p_sync_peer_status(s, 1, 51), 0);
    assert_int_equal(p2p_sync_peer_status(s, 1, 40), 0); /* lower claims are ignored */
    assert_int_equal(p2p_sync_peer_height(s, 1), 51);
    expect_req(s, 0, 1, 51, 1);
    expect_no_req(s, 0);
    /* Block 51 arrived by other means first: the answer is stale, not bad. */
    p2p_sync_applied(s, 51);
    util_err err;
    assert_int_equal(p2p_sync_on_blocks(s, 1, 51, 1, &U, &err), P2P_SYNC_STALE);
    /* A stale request that never gets an answer is dropped without a ban. */
    assert_int_equal(p2p_sync_peer_status(s, 1, 52), 0);
    expect_req(s, 0, 1, 52, 1);
    p2p_sync_applied(s, 52);
    uint64_t bad;
    assert_int_equal(p2p_sync_expired(s, 5000, &bad, &err), 0);
    assert_int_equal(p2p_sync_in_flight(s), 0);
    /* Held ranges the head passes are released. */
    assert_int_equal(p2p_sync_peer_status(s, 1, 60), 0);
    expect_req(s, 0, 1, 53, 8);
    assert_int_equal(p2p_sync_on_blocks(s, 1, 53, 8, &U, &err), P2P_SYNC_ACCEPTED);
    p2p_sync_applied(s, 60);
    assert_int_equal(freed, 1);
    assert_int_equal(p2p_sync_held(s), 0);
    p2p_sync_free(s);
}

static void test_free_releases_held(void **state)
{
    (void)state;
    p2p_sync *s = mk(4, 2, 1024, 0);
    assert_int_equal(p2p_sync_peer_status(s, 1, 8), 0);
    expect_req(s, 0, 1, 1, 4);
    expect_req(s, 0, 1, 5, 4);
    util_err err;
    assert_int_equal(p2p_sync_on_blocks(s, 1, 5, 4, &U, &err), P2P_SYNC_ACCEPTED);
    p2p_sync_free(s);
    assert_int_equal(freed, 1);
}

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Peers 1..NP: honest ones answer (sometimes in part) after a random delay;
 * liars never answer, answer empty, or serve a bad block. Every liar must
 * end banned, the head must reach the target, and heights must be applied
 * once each in order. Users are heap cells counted to catch leaks. */
enum { NP = 6, TARGET = 3000 };
typedef struct req {
    uint64_t peer, from, due;
    uint32_t count;
    int live;
} req;
static int live_users;
static void free_cell(void *u)
{
    free(u);
    live_users--;
}

static void test_random_network(void **state)
{
    (void)state;
    uint64_t seed = ol_test_seed("test_sync", 0x5eed5eed);
    for (int round = 0; round < 20; round++) {
        p2p_sync_cfg c = {.range = (uint32_t)(xs(&seed) % 64 + 1),
                          .max_per_peer = (uint32_t)(xs(&seed) % 3 + 1),
                          .window = xs(&seed) % 500 + 64,
                          .timeout_ms = 50,
                          .free_user = free_cell};
        p2p_sync *s = p2p_sync_new(&c, 0);
        assert_non_null(s);
        int kind[NP + 1], banned[NP + 1] = {0};
        int honest = 0;
        for (int p = 1; p <= NP; p++) {
            kind[p] = (int)(xs(&seed) % 4); /* 0 honest, 1 silent, 2 empty, 3 bad block */
            if (p == 1) kind[p] = 0;
            honest += kind[p] == 0;
            assert_int_equal(p2p_sync_peer_status(s, (uint64_t)p, TARGET), 0);
        }
        req q[NP * 8];
        memset(q, 0, sizeof q);
        uint64_t now = 0, height = 0;
        live_users = 0;
        size_t depth = (size_t)(xs(&seed) % 3 + 1), nq = 0;
        uint64_t q_peer[4], q_from[4];
        uint32_t q_n[4];
        void *q_user[4];
        for (int step = 0; step < 200000 && height < TARGET; step++) {
            now++;
            uint64_t p, f;
            uint32_t n;
            while (p2p_sync_next_request(s, now, &p, &f, &n)) {
                assert_false(banned[p]);
                assert_true(f > height && n >= 1 && n <= c.range);
                size_t k = 0;
                while (q[k].live)
                    k++;
                q[k] = (req){p, f, now + xs(&seed) % 20, n, 1};
            }
            for (size_t k = 0; k < sizeof q / sizeof q[0]; k++) {
                if (!q[k].live || q[k].due > now) continue;
                if (banned[q[k].peer]) {
                    q[k].live = 0;
                    continue;
                }
                int kd = kind[q[k].peer];
                if (kd == 1) continue; /* silent: the timeout catches it */
                q[k].live = 0;
                uint32_t cnt = kd == 2 ? 0 : (uint32_t)(xs(&seed) % q[k].count + 1);
                uint64_t *cell = malloc(sizeof *cell);
                assert_non_null(cell);
                *cell = q[k].peer;
                live_users++;
                util_err err;
                int v = p2p_sync_on_blocks(s, q[k].peer, q[k].from, cnt, cell, &err);
                if (v != P2P_SYNC_ACCEPTED) free_cell(cell);
                if (v == P2P_SYNC_BAN) {
                    assert_int_equal(kd, 2);
                    banned[q[k].peer] = 1;
                    p2p_sync_peer_remove(s, q[k].peer);
                }
            }
            util_err err;
            uint64_t bad;
            while (p2p_sync_expired(s, now, &bad, &err)) {
                assert_int_equal(kind[bad], 1);
                banned[bad] = 1;
                p2p_sync_peer_remove(s, bad);
            }
            /* A pipeline of up to `depth` popped ranges, applied in order. */
            void *u;
            while (nq < depth && p2p_sync_pop_ready(s, &p, &f, &n, &u)) {
                uint64_t due = nq ? q_from[nq - 1] + q_n[nq - 1] : height + 1;
                assert_true(f <= due && f + n > due);
                assert_int_equal(*(uint64_t *)u, p);
                q_peer[nq] = p, q_from[nq] = f, q_n[nq] = n, q_user[nq] = u;
                nq++;
            }
            if (nq && xs(&seed) % 2) {
                p = q_peer[0], f = q_from[0], n = q_n[0];
                free_cell(q_user[0]);
                memmove(q_peer, q_peer + 1, (nq - 1) * sizeof *q_peer);
                memmove(q_from, q_from + 1, (nq - 1) * sizeof *q_from);
                memmove(q_n, q_n + 1, (nq - 1) * sizeof *q_n);
                memmove(q_user, q_user + 1, (nq - 1) * sizeof *q_user);
                nq--;
                if (kind[p] == 3) { /* its first new block fails validation */
                    banned[p] = 1;
                    p2p_sync_applied(s, height);
                    p2p_sync_abandon(s);
                    for (size_t k = 0; k < nq; k++)
                        free_cell(q_user[k]);
                    nq = 0;
                    p2p_sync_peer_remove(s, p);
                } else {
                    if (f + n - 1 > height) height = f + n - 1;
                    p2p_sync_applied(s, height);
                }
            }
        }
        assert_int_equal(height, TARGET);
        assert_int_equal(p2p_sync_height(s), TARGET);
        assert_int_equal(p2p_sync_behind(s, 0), 0);
        assert_true(honest >= 1);
        p2p_sync_free(s);
        assert_int_equal(live_users, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ranges_spread_over_peers),
        cmocka_unit_test(test_timeout_bans_and_others_serve),
        cmocka_unit_test(test_empty_answer_and_unasked_are_banned),
        cmocka_unit_test(test_partial_answer_rest_asked_again),
        cmocka_unit_test(test_bad_block_heights_go_elsewhere),
        cmocka_unit_test(test_window_bounds_memory),
        cmocka_unit_test(test_follow_head_and_stale_answers),
        cmocka_unit_test(test_free_releases_held),
        cmocka_unit_test(test_random_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
