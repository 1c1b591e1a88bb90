/* Shared fixtures of the tests that run the chain on a real store: the
 * devnet genesis, development addresses, and removing a temporary data
 * directory. Header-only (static inline) because each test is its own
 * program; include after <cmocka.h>. */
#ifndef OL_TESTS_CHAIN_FIXTURE_H
#define OL_TESTS_CHAIN_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "chain/crypto/address.h"
#include "chain/types/genesis.h"
#include "chain/crypto/keys.h"

static inline int fx_rm_entry(const char *p, const struct stat *sb, int f, struct FTW *ftw)
{
    (void)sb, (void)f, (void)ftw;
    return remove(p);
}

/* Removes a directory tree (a test's temporary data directory). */
static inline void fx_rm_tree(const char *dir)
{
    nftw(dir, fx_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* The embedded devnet genesis, parsed once per test program. */
static inline chain_genesis *fx_devnet(void)
{
    static chain_genesis g;
    static int loaded;
    if (!loaded) {
        util_err err = {0};
        const char *js = chain_genesis_devnet_json();
        assert_int_equal(chain_genesis_parse(&g, js, strlen(js), &err), 0);
        loaded = 1;
    }
    return &g;
}

/* Address of development key i (chain_keypair_dev). */
static inline void fx_dev_addr(chain_addr *a, uint32_t i)
{
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, i), 0);
    chain_addr_from_pubkey(a, kp.pubkey);
}

#endif
