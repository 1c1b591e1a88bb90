/* Gossip seen-cache (p2p/gossip.h): a transaction is new once, its senders
 * are never sent it back, the cache stays bounded and forgets the oldest
 * first, and a randomized run agrees with a plain model of the ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "p2p/gossip.h"
#include "tests/seed.h"

static void mkid(uint8_t id[32], uint64_t v)
{
    memset(id, 0, 32);
    memcpy(id, &v, 8);
    id[31] = (uint8_t)(v * 7);
}

static void test_new_once_and_no_echo(void **state)
{
    (void)state;
    p2p_gossip *g = p2p_gossip_new(8, 1);
    assert_non_null(g);
    uint8_t id[32];
    mkid(id, 42);
    assert_int_equal(p2p_gossip_seen(g, id), 0);
    assert_int_equal(p2p_gossip_note(g, id, 7), 1); /* from peer 7: new */
    assert_int_equal(p2p_gossip_note(g, id, 7), 0);
    assert_int_equal(p2p_gossip_note(g, id, 9), 0); /* peer 9 also sent it */
    assert_int_equal(p2p_gossip_peer_has(g, id, 7), 1);
    assert_int_equal(p2p_gossip_peer_has(g, id, 9), 1);
    assert_int_equal(p2p_gossip_peer_has(g, id, 8), 0); /* relay to 8 only */
    assert_int_equal(p2p_gossip_peer_has(g, id, 0), 0);
    assert_int_equal(p2p_gossip_count(g), 1);
    p2p_gossip_free(g);
}

static void test_own_tx_goes_to_everyone(void **state)
{
    (void)state;
    p2p_gossip *g = p2p_gossip_new(8, 2);
    assert_non_null(g);
    uint8_t id[32];
    mkid(id, 1);
    assert_int_equal(p2p_gossip_note(g, id, 0), 1); /* admitted over RPC */
    for (uint64_t p = 1; p < 20; p++)
        assert_int_equal(p2p_gossip_peer_has(g, id, p), 0);
    /* A peer echoing it back is not new, and is not sent it again. */
    assert_int_equal(p2p_gossip_note(g, id, 3), 0);
    assert_int_equal(p2p_gossip_peer_has(g, id, 3), 1);
    p2p_gossip_free(g);
}

static void test_holders_bounded(void **state)
{
    (void)state;
    p2p_gossip *g = p2p_gossip_new(4, 3);
    assert_non_null(g);
    uint8_t id[32];
    mkid(id, 5);
    for (uint64_t p = 1; p <= 10; p++)
        assert_int_equal(p2p_gossip_note(g, id, p), p == 1);
    for (uint64_t p = 1; p <= P2P_GOSSIP_HOLDERS; p++)
        assert_int_equal(p2p_gossip_peer_has(g, id, p), 1);
    assert_int_equal(p2p_gossip_peer_has(g, id, P2P_GOSSIP_HOLDERS + 1), 0);
    p2p_gossip_free(g);
}

static void test_bounded_oldest_first(void **state)
{
    (void)state;
    p2p_gossip *g = p2p_gossip_new(3, 4);
    assert_non_null(g);
    uint8_t a[32], b[32], c[32], d[32];
    mkid(a, 1), mkid(b, 2), mkid(c, 3), mkid(d, 4);
    assert_int_equal(p2p_gossip_note(g, a, 1), 1);
    assert_int_equal(p2p_gossip_note(g, b, 1), 1);
    assert_int_equal(p2p_gossip_note(g, c, 1), 1);
    assert_int_equal(p2p_gossip_note(g, d, 1), 1); /* a goes */
    assert_int_equal(p2p_gossip_count(g), 3);
    assert_int_equal(p2p_gossip_seen(g, a), 0);
    assert_int_equal(p2p_gossip_seen(g, b), 1);
    assert_int_equal(p2p_gossip_seen(g, d), 1);
    assert_int_equal(p2p_gossip_peer_has(g, a, 1), 0);
    /* a comes back: new again (admission decides whether it is a duplicate). */
    assert_int_equal(p2p_gossip_note(g, a, 2), 1);
    assert_int_equal(p2p_gossip_seen(g, b), 0);
    p2p_gossip_forget(g, c);
    assert_int_equal(p2p_gossip_seen(g, c), 0);
    assert_int_equal(p2p_gossip_count(g), 2);
    p2p_gossip_forget(g, c); /* twice is harmless */
    assert_int_equal(p2p_gossip_note(g, c, 0), 1);
    p2p_gossip_free(g);
}

/* Ids that share their first 16 bytes land in one bucket whatever the seed:
 * chains of any length must still work. */
static void test_colliding_ids(void **state)
{
    (void)state;
    p2p_gossip *g = p2p_gossip_new(50, 5);
    assert_non_null(g);
    uint8_t id[32];
    for (int i = 0; i < 100; i++) {
        memset(id, 0xab, 32);
        id[31] = (uint8_t)i;
        assert_int_equal(p2p_gossip_note(g, id, 1), 1);
    }
    assert_int_equal(p2p_gossip_count(g), 50);
    for (int i = 0; i < 100; i++) {
        memset(id, 0xab, 32);
        id[31] = (uint8_t)i;
        assert_int_equal(p2p_gossip_seen(g, id), i >= 50);
    }
    p2p_gossip_free(g);
}

static uint64_t xs(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Model: the last `cap` distinct new ids, in a plain array. */
static void test_random_against_model(void **state)
{
    (void)state;
    uint64_t s = ol_test_seed("test_gossip", 0x5eed0011);
    enum { CAP = 37, N = 20000, SPACE = 120 };
    p2p_gossip *g = p2p_gossip_new(CAP, s);
    assert_non_null(g);
    uint64_t ring[CAP];
    int used[CAP] = {0};
    size_t pos = 0;
    for (int i = 0; i < N; i++) {
        uint64_t v = xs(&s) % SPACE + 1;
        uint8_t id[32];
        mkid(id, v);
        int in_model = 0;
        for (size_t k = 0; k < CAP; k++)
            if (used[k] && ring[k] == v) in_model = 1;
        assert_int_equal(p2p_gossip_seen(g, id), in_model);
        if (xs(&s) % 10 == 0) {
            p2p_gossip_forget(g, id);
            for (size_t k = 0; k < CAP; k++)
                if (used[k] && ring[k] == v) used[k] = 0;
            continue;
        }
        int fresh = p2p_gossip_note(g, id, xs(&s) % 5);
        assert_int_equal(fresh, !in_model);
        if (fresh) {
            ring[pos] = v;
            used[pos] = 1;
            pos = (pos + 1) % CAP;
        }
        size_t cnt = 0;
        for (size_t k = 0; k < CAP; k++)
            cnt += (size_t)used[k];
        assert_int_equal(p2p_gossip_count(g), cnt);
    }
    p2p_gossip_free(g);
}

static void test_bad_capacity(void **state)
{
    (void)state;
    assert_null(p2p_gossip_new(0, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_once_and_no_echo), cmocka_unit_test(test_own_tx_goes_to_everyone),
        cmocka_unit_test(test_holders_bounded),      cmocka_unit_test(test_bounded_oldest_first),
        cmocka_unit_test(test_colliding_ids),        cmocka_unit_test(test_random_against_model),
        cmocka_unit_test(test_bad_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
