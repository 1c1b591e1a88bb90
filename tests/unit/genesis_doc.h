/* Mutations of the devnet genesis document for the genesis tests: parse the
 * embedded document, change a field, parse it again and expect a given error.
 * Header-only (static inline) because each test is its own program; include
 * after <cmocka.h> and <jansson.h>. */
#ifndef OL_TESTS_GENESIS_DOC_H
#define OL_TESTS_GENESIS_DOC_H

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "chain/crypto/keys.h"
#include "chain/types/genesis.h"
#include "util/hex.h"

static inline json_t *devnet_doc(void)
{
    const char *j = chain_genesis_devnet_json();
    json_t *r = json_loadb(j, strlen(j), 0, NULL);
    assert_non_null(r);
    return r;
}

/* Parses the dumped document; returns the rc and fills err. */
static inline int parse_doc(json_t *doc, chain_genesis *g, util_err *err)
{
    char *s = json_dumps(doc, JSON_COMPACT);
    assert_non_null(s);
    int rc = chain_genesis_parse(g, s, strlen(s), err);
    free(s);
    return rc;
}

static inline void expect_reject(json_t *doc, const char *want)
{
    chain_genesis g;
    util_err err = {0};
    int rc = parse_doc(doc, &g, &err);
    if (rc == 0 || strstr(err.msg, want) == NULL)
        fail_msg("want error containing \"%s\", got rc %d \"%s\"", want, rc, err.msg);
    assert_null(g.vals);
    assert_null(g.alloc);
    assert_null(g.contracts);
    assert_int_equal(g.nval, 0);
    assert_int_equal(g.ncontracts, 0);
    json_decref(doc);
}

static inline json_t *at(json_t *doc, const char *arr, size_t i)
{
    json_t *o = json_array_get(json_object_get(doc, arr), i);
    assert_non_null(o);
    return o;
}

static inline void set_str(json_t *o, const char *k, const char *v)
{
    assert_int_equal(json_object_set_new(o, k, json_string(v)), 0);
}

static inline void set_param(json_t *doc, const char *k, json_t *v)
{
    assert_int_equal(json_object_set_new(json_object_get(doc, "params"), k, v), 0);
}

static inline json_t *validator(uint32_t dev, json_int_t power)
{
    chain_keypair kp;
    char hex[67] = "0x";
    assert_int_equal(chain_keypair_dev(&kp, dev), 0);
    util_hex_encode(hex + 2, kp.pubkey, 32);
    return json_pack("{s:s,s:s,s:I}", "name", "v", "pubkey", hex, "power", power);
}

#endif
