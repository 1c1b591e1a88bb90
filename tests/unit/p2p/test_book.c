/* The peer book (p2p/book.h): the file round trip, expired bans dropped on
 * load, a malformed file refused whole, and the size bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "p2p/book.h"

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_p2p_book.XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_book_file(void **state)
{
    (void)state;
    make_tmpdir();
    char path[300];
    snprintf(path, sizeof path, "%s/peers.json", tmpdir);
    p2p_book *b = p2p_book_new(NULL, path);
    assert_non_null(b);
    assert_int_equal(p2p_book_load(b, 1000, NULL), 0); /* absent: empty */
    p2p_peer_addr x;
    memset(&x, 0, sizeof x);
    memset(x.id, 0x11, P2P_NODE_ID_LEN);
    snprintf(x.host, sizeof x.host, "10.0.0.1");
    x.port = 26656;
    p2p_book_add(b, &x);
    p2p_book_mark_ok(b, x.id, 5000);
    uint8_t id2[P2P_NODE_ID_LEN], id3[P2P_NODE_ID_LEN];
    memset(id2, 0x22, sizeof id2);
    memset(id3, 0x33, sizeof id3);
    p2p_book_ban(b, id2, 100000, "bad_block: \"quoted\"");
    p2p_book_ban(b, id3, 2000, "short");
    assert_int_equal(p2p_book_save(b, NULL), 0);
    assert_int_equal(p2p_book_dirty(b), 0);
    p2p_book_free(b);

    b = p2p_book_new(NULL, path);
    assert_int_equal(p2p_book_load(b, 3000, NULL), 0);
    assert_int_equal(p2p_book_count(b), 1);
    const p2p_book_addr *e = p2p_book_find(b, x.id);
    assert_non_null(e);
    assert_string_equal(e->a.host, "10.0.0.1");
    assert_int_equal(e->a.port, 26656);
    assert_int_equal(e->last_ok_ms, 5000);
    assert_int_equal(p2p_book_ban_count(b), 1); /* id3's ban expired at 2000 */
    const p2p_ban *ban = p2p_book_banned(b, id2, 3000);
    assert_non_null(ban);
    assert_string_equal(ban->reason, "bad_block: \"quoted\"");
    assert_null(p2p_book_banned(b, id2, 100000));
    p2p_book_free(b);

    /* Not a book: refused with a reason, not half-loaded. */
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"version\": 1, \"addrs\": [{\"id\": \"zz\"}], \"bans\": []}", f);
    fclose(f);
    b = p2p_book_new(NULL, path);
    util_err err;
    assert_int_equal(p2p_book_load(b, 0, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "addrs[0]"));
    assert_int_equal(p2p_book_count(b), 0);
    p2p_book_free(b);
    rm_tmpdir();
}

static void test_book_bounded(void **state)
{
    (void)state;
    p2p_book *b = p2p_book_new(NULL, NULL);
    assert_non_null(b);
    p2p_peer_addr x;
    memset(&x, 0, sizeof x);
    snprintf(x.host, sizeof x.host, "127.0.0.1");
    x.port = 1;
    for (uint32_t i = 0; i < P2P_BOOK_MAX_ADDRS + 10; i++) {
        memcpy(x.id, &i, sizeof i);
        p2p_book_add(b, &x);
        if (i == 0) p2p_book_mark_ok(b, x.id, 1);
    }
    assert_int_equal(p2p_book_count(b), P2P_BOOK_MAX_ADDRS);
    uint32_t zero = 0;
    memcpy(x.id, &zero, sizeof zero);
    assert_non_null(p2p_book_find(b, x.id)); /* the one reached stays */
    p2p_book_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_book_file),
        cmocka_unit_test(test_book_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
