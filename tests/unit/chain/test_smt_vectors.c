/* The state-proof test vectors (tests/data/smt_vectors.json, docs/proofs.md)
 * read back and checked with the node's verifier, chain_smt_verify: every
 * vector's path is SHA-256 of its key, its valueHash SHA-256 of its value,
 * its encodedProof decodes to its JSON proof, and the verifier accepts
 * exactly the vectors marked valid. The other verifiers (the explorer's
 * JavaScript) check the same file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "chain/crypto/hash.h"
#include "chain/state/smt.h"
#include "util/hex.h"

static json_t *load(void)
{
    json_error_t je;
    json_t *doc = json_load_file(OL_SOURCE_DIR "/tests/data/smt_vectors.json", 0, &je);
    if (!doc) fail_msg("smt_vectors.json: %s (line %d)", je.text, je.line);
    assert_int_equal(json_integer_value(json_object_get(doc, "version")), 1);
    return doc;
}

static void hex32(uint8_t out[32], json_t *j)
{
    assert_true(json_is_string(j));
    assert_int_equal(util_hex_decode_exact(out, 32, json_string_value(j)), 0);
}

/* The JSON form of a proof, into p. */
static void proof_of(chain_smt_proof *p, json_t *jp)
{
    memset(p, 0, sizeof *p);
    json_t *sibs = json_object_get(jp, "siblings");
    assert_true(json_is_array(sibs));
    assert_true(json_array_size(sibs) <= CHAIN_SMT_MAX_DEPTH);
    p->nsib = (uint32_t)json_array_size(sibs);
    for (size_t i = 0; i < p->nsib; i++)
        hex32(p->siblings[i], json_array_get(sibs, i));
    json_t *leaf = json_object_get(jp, "leaf");
    if (json_is_null(leaf)) return;
    p->has_leaf = 1;
    hex32(p->leaf_path, json_object_get(leaf, "path"));
    hex32(p->leaf_value_hash, json_object_get(leaf, "valueHash"));
}

static void test_every_vector(void **state)
{
    (void)state;
    json_t *doc = load();
    json_t *vecs = json_object_get(doc, "vectors");
    assert_true(json_array_size(vecs) >= 20);
    chain_smt_proof *p = malloc(sizeof *p), *q = malloc(sizeof *q);
    assert_non_null(p);
    assert_non_null(q);
    size_t nvalid = 0, ninvalid = 0;
    for (size_t i = 0; i < json_array_size(vecs); i++) {
        json_t *v = json_array_get(vecs, i);
        const char *name = json_string_value(json_object_get(v, "name"));
        assert_non_null(name);
        uint8_t root[32], path[32], want[32], vh[32];
        uint8_t *key = NULL, *val = NULL, *enc = NULL;
        size_t klen = 0, vlen = 0, elen = 0;
        hex32(root, json_object_get(v, "root"));
        assert_int_equal(
            util_hex_decode_alloc(json_string_value(json_object_get(v, "key")), 256, &key, &klen),
            0);
        chain_sha256(want, key, klen);
        hex32(path, json_object_get(v, "path"));
        assert_memory_equal(path, want, 32);

        json_t *jv = json_object_get(v, "value");
        if (!json_is_null(jv)) {
            assert_int_equal(util_hex_decode_alloc(json_string_value(jv), 1 << 20, &val, &vlen), 0);
            chain_sha256(want, val, vlen);
            hex32(vh, json_object_get(v, "valueHash"));
            assert_memory_equal(vh, want, 32);
        } else {
            assert_true(json_is_null(json_object_get(v, "valueHash")));
        }

        proof_of(p, json_object_get(v, "proof"));
        assert_int_equal(
            util_hex_decode_alloc(json_string_value(json_object_get(v, "encodedProof")), 1 << 20,
                                  &enc, &elen),
            0);
        util_err err = {0};
        assert_int_equal(chain_smt_proof_decode(q, enc, elen, &err), 0);
        assert_int_equal(q->nsib, p->nsib);
        assert_int_equal(q->has_leaf, p->has_leaf);
        assert_memory_equal(q->siblings, p->siblings, (size_t)p->nsib * 32);
        assert_memory_equal(q->leaf_path, p->leaf_path, 32);
        assert_memory_equal(q->leaf_value_hash, p->leaf_value_hash, 32);

        int valid = json_is_true(json_object_get(v, "valid"));
        int rc = chain_smt_verify(root, path, val ? vh : NULL, p, &err);
        if ((rc == 0) != valid)
            fail_msg("%s: marked %s, chain_smt_verify says %s", name, valid ? "valid" : "invalid",
                     rc ? err.msg : "valid");
        if (valid)
            nvalid++;
        else {
            ninvalid++;
            assert_true(json_is_string(json_object_get(v, "reason")));
        }
        free(key);
        free(val);
        free(enc);
    }
    assert_true(nvalid >= 10);
    assert_true(ninvalid >= 8);
    free(p);
    free(q);
    json_decref(doc);
}

/* The trap vector is a trap: its root is reached by folding alone, so the
 * off-path check is what rejects it (a verifier without the check would
 * pass it). */
static void test_trap_needs_the_off_path_check(void **state)
{
    (void)state;
    json_t *doc = load();
    json_t *vecs = json_object_get(doc, "vectors");
    int found = 0;
    chain_smt_proof *p = malloc(sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < json_array_size(vecs); i++) {
        json_t *v = json_array_get(vecs, i);
        const char *name = json_string_value(json_object_get(v, "name"));
        if (!strstr(name, "root folded along the key's bits")) continue;
        found = 1;
        uint8_t root[32], path[32], cur[32];
        hex32(root, json_object_get(v, "root"));
        hex32(path, json_object_get(v, "path"));
        proof_of(p, json_object_get(v, "proof"));
        assert_true(p->has_leaf);
        assert_memory_not_equal(p->leaf_path, path, 32);
        chain_hash_tagged2(cur, CHAIN_TAG_SMT_LEAF, p->leaf_path, 32, p->leaf_value_hash, 32);
        for (uint32_t d = p->nsib; d-- > 0;) {
            if ((path[d >> 3] >> (7 - (d & 7))) & 1)
                chain_hash_tagged2(cur, CHAIN_TAG_SMT_NODE, p->siblings[d], 32, cur, 32);
            else
                chain_hash_tagged2(cur, CHAIN_TAG_SMT_NODE, cur, 32, p->siblings[d], 32);
        }
        assert_memory_equal(cur, root, 32);
        util_err err = {0};
        assert_int_not_equal(chain_smt_verify(root, path, NULL, p, &err), 0);
        assert_non_null(strstr(err.msg, "off the key's path"));
    }
    assert_true(found);
    free(p);
    json_decref(doc);
}

int main(void)
{
    chain_hash_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_vector),
        cmocka_unit_test(test_trap_needs_the_off_path_check),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
