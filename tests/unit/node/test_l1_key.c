/* The node's L1 account key (node/rollup.h): created once with mode 0600,
 * loaded back the same, and its address is the one its signatures recover
 * to (the even-y normalised secret). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto/hash.h"
#include "node/rollup.h"

static char dir[] = "/tmp/ol-l1key-XXXXXX";

static void test_create_load(void **state)
{
    (void)state;
    uint8_t sk1[32], sk2[32], digest[32] = {1, 2, 3}, sig[ROLLUP_ETH_SIG_LEN];
    rollup_eth_addr a1, a2, rec, own;
    int created;
    util_err err = {0};
    assert_int_equal(node_l1_key_load_or_create(NULL, dir, sk1, &a1, &created, &err), 0);
    assert_int_equal(created, 1);
    char path[256];
    snprintf(path, sizeof path, "%s/" NODE_L1_KEY_FILE, dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(node_l1_key_load_or_create(NULL, dir, sk2, &a2, &created, &err), 0);
    assert_int_equal(created, 0);
    assert_memory_equal(sk1, sk2, 32);
    assert_memory_equal(a1.b, a2.b, 20);
    /* The secret's own address is the one shown, and signatures recover to it. */
    assert_int_equal(rollup_eth_addr_from_seckey(&own, sk1, &err), 0);
    assert_memory_equal(own.b, a1.b, 20);
    assert_int_equal(rollup_eth_sign(sig, digest, sk1, &err), 0);
    assert_int_equal(rollup_eth_recover(&rec, digest, sig, &err), 0);
    assert_memory_equal(rec.b, a1.b, 20);
    /* A key readable by others is refused. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(node_l1_key_load_or_create(NULL, dir, sk2, &a2, &created, &err), UTIL_ESTATE);
    unlink(path);
}

int main(void)
{
    chain_hash_init();
    if (!mkdtemp(dir)) return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_create_load)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return rc;
}
