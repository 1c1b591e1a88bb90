/* The CLI's light-client check (cli/light.h): a header is believed only when
 * a commit of more than 2/3 of a trusted genesis's voting power signs it, and
 * it names that genesis's chain, validator set and parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain/crypto/keys.h"
#include "chain/state/store.h"
#include "cli/light.h"
#include "util/hex.h"

/* A genesis of four validators of power 10 (dev keys 1000..1003), the
 * devnet's otherwise. */
static void genesis4(chain_genesis *g)
{
    const char *j = chain_genesis_devnet_json();
    json_t *d = json_loadb(j, strlen(j), 0, NULL);
    assert_non_null(d);
    json_t *vs = json_array();
    for (uint32_t i = 0; i < 4; i++) {
        chain_keypair kp;
        char hex[67] = "0x", name[8];
        assert_int_equal(chain_keypair_dev(&kp, 1000 + i), 0);
        util_hex_encode(hex + 2, kp.pubkey, 32);
        snprintf(name, sizeof name, "v%u", i);
        json_array_append_new(vs,
                              json_pack("{s:s,s:s,s:i}", "name", name, "pubkey", hex, "power", 10));
    }
    json_object_set_new(d, "validators", vs);
    char *s = json_dumps(d, JSON_COMPACT);
    json_decref(d);
    util_err e = {0};
    assert_int_equal(chain_genesis_parse(g, s, strlen(s), &e), 0);
    free(s);
}

/* A header at height 7 as a block of g would carry. */
static void header(chain_header *h, const chain_genesis *g)
{
    memset(h, 0, sizeof *h);
    h->version = CHAIN_BLOCK_VERSION;
    strcpy(h->chain_id, g->chain_id);
    h->height = 7;
    h->time_ms = 1767225607000ull;
    memset(h->state_root, 0x5e, 32);
    h->proposer = g->vals[0].addr;
    chain_header_fill_sets(h, g);
}

/* A precommit for h by the validators of g whose indexes are in `who` (dev
 * keys 1000 + index, or `key` for all of them when not 0). */
static void sign(chain_commit *c, const chain_genesis *g, const chain_header *h,
                 const uint32_t *who, uint32_t n, uint32_t key, uint64_t height)
{
    uint8_t id[32], digest[32];
    chain_header_hash(h, id);
    memset(c, 0, sizeof *c);
    chain_vote_digest(digest, g->chain_id, g->hash, height, 0, CHAIN_VOTE_PRECOMMIT, id);
    for (uint32_t i = 0; i < n; i++) {
        chain_keypair kp;
        assert_int_equal(chain_keypair_dev(&kp, key ? key : 1000 + who[i]), 0);
        c->sigs[i].validator = who[i];
        assert_int_equal(chain_sign(c->sigs[i].sig, digest, &kp, NULL), 0);
        chain_keypair_clear(&kp);
    }
    c->n = n;
}

static void expect(const chain_genesis *g, const chain_header *h, const chain_commit *c,
                   const char *want)
{
    util_err e = {0};
    int rc = cli_light_verify(g, h, c, &e);
    if (!want) {
        if (rc) fail_msg("want OK, got %d: %s", rc, e.msg);
        return;
    }
    if (rc != UTIL_EINVAL || !strstr(e.msg, want))
        fail_msg("want error containing '%s', got %d: '%s'", want, rc, e.msg);
}

static void test_devnet(void **state)
{
    (void)state;
    chain_genesis g;
    util_err e = {0};
    assert_int_equal(cli_light_genesis(&g, NULL, &e), 0);
    assert_string_equal(g.chain_id, "openledger-devnet");
    chain_header h;
    chain_commit c;
    static const uint32_t v0[] = {0};
    header(&h, &g);
    sign(&c, &g, &h, v0, 1, 0, h.height);
    expect(&g, &h, &c, NULL);

    /* Signed by a key that is not the validator's. */
    sign(&c, &g, &h, v0, 1, 7, h.height);
    expect(&g, &h, &c, "does not verify");
    /* No signature at all. */
    c.n = 0;
    expect(&g, &h, &c, "0 of 10 voting power, more than 2/3 is needed");
    /* A commit for another height, or for the header before a change. */
    sign(&c, &g, &h, v0, 1, 0, h.height + 1);
    expect(&g, &h, &c, "does not verify");
    sign(&c, &g, &h, v0, 1, 0, h.height);
    h.state_root[0] ^= 1;
    expect(&g, &h, &c, "does not verify");
    expect(&g, &h, &c, "no valid commit by more than 2/3 of the validators");
    /* A header of version 3 with evidence: the commit covers its evidence
     * hash like any other field. */
    header(&h, &g);
    memset(h.evidence_hash, 0x5e, 32);
    sign(&c, &g, &h, v0, 1, 0, h.height);
    expect(&g, &h, &c, NULL);
    h.evidence_hash[31] ^= 1;
    expect(&g, &h, &c, "does not verify");
    chain_genesis_free(&g);

    assert_int_equal(cli_light_genesis(&g, "/nonexistent/genesis.json", &e), UTIL_EIO);
    assert_non_null(strstr(e.msg, "/nonexistent/genesis.json"));
}

/* What the header claims about itself must be the trusted genesis's. */
static void test_header_claims(void **state)
{
    (void)state;
    chain_genesis g, g4;
    util_err e = {0};
    assert_int_equal(cli_light_genesis(&g, NULL, &e), 0);
    genesis4(&g4);
    chain_header h;
    chain_commit c;
    static const uint32_t v0[] = {0};

    header(&h, &g);
    strcpy(h.chain_id, "openledger-other");
    sign(&c, &g, &h, v0, 1, 0, h.height);
    expect(&g, &h, &c, "the header is for chain 'openledger-other'");

    /* A forger's own set: signed by its own key, hashed into the header. */
    header(&h, &g);
    chain_validator forged = g.vals[0];
    chain_keypair kp;
    assert_int_equal(chain_keypair_dev(&kp, 7), 0);
    memcpy(forged.pubkey, kp.pubkey, 32);
    chain_validators_hash(&forged, 1, h.validators_hash);
    sign(&c, &g, &h, v0, 1, 7, h.height);
    expect(&g, &h, &c, "validatorsHash is not the trusted genesis validator set's");

    header(&h, &g);
    memcpy(h.next_validators_hash, g4.validators_hash, 32);
    sign(&c, &g, &h, v0, 1, 0, h.height);
    expect(&g, &h, &c, "nextValidatorsHash is not the trusted genesis validator set's");

    header(&h, &g);
    chain_params p = g.params;
    p.timeout_propose_ms++;
    chain_params_hash(&p, h.consensus_params_hash);
    sign(&c, &g, &h, v0, 1, 0, h.height);
    expect(&g, &h, &c, "consensusParamsHash is not the trusted genesis parameters'");

    /* Block 0: nobody signs it; it must be the genesis's block 0, which the
     * genesis alone defines, state root included. */
    assert_int_equal(chain_genesis_block0(&g, &h, &e), 0);
    c.n = 0;
    expect(&g, &h, &c, NULL);
    h.state_root[0] ^= 1;
    expect(&g, &h, &c, "is not the trusted genesis' block 0");
    header(&h, &g);
    h.height = 0;
    expect(&g, &h, &c, "is not the trusted genesis' block 0");
    /* Another genesis's block 0. */
    assert_int_equal(chain_genesis_block0(&g4, &h, &e), 0);
    expect(&g4, &h, &c, NULL);
    expect(&g, &h, &c, "validatorsHash");

    /* A header of the 4-validator chain checked against the devnet genesis. */
    header(&h, &g4);
    static const uint32_t all[] = {0, 1, 2, 3};
    sign(&c, &g4, &h, all, 4, 0, h.height);
    expect(&g4, &h, &c, NULL);
    expect(&g, &h, &c, "validatorsHash");
    chain_genesis_free(&g);
    chain_genesis_free(&g4);
}

/* More than 2/3 of the power, not of the signatures shown. */
static void test_threshold(void **state)
{
    (void)state;
    chain_genesis g;
    genesis4(&g);
    chain_header h;
    chain_commit c;
    header(&h, &g);
    static const uint32_t two[] = {1, 3}, three[] = {0, 2, 3}, dup[] = {2, 2, 3};
    sign(&c, &g, &h, two, 2, 0, h.height);
    expect(&g, &h, &c, "20 of 40 voting power, more than 2/3 is needed");
    sign(&c, &g, &h, three, 3, 0, h.height);
    expect(&g, &h, &c, NULL);
    /* One validator twice does not count twice. */
    sign(&c, &g, &h, dup, 3, 0, h.height);
    expect(&g, &h, &c, "not increasing");
    /* An index past the set. */
    sign(&c, &g, &h, three, 3, 0, h.height);
    c.sigs[2].validator = 4;
    expect(&g, &h, &c, "names validator 4 of 4");
    chain_genesis_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_devnet),
        cmocka_unit_test(test_header_claims),
        cmocka_unit_test(test_threshold),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
