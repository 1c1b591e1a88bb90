/* The key registry (chain/state/dbkey.h) and docs/storage.md say the same:
 * every prefix and kind in chain_dbkey_registry has its row in the doc's
 * table for its space (the key table, "State keys", "Index keys") with the
 * same key layout, and every row of those tables names a prefix or kind the
 * registry knows. A kind added to the registry without its doc row, or a doc
 * row for a kind nobody writes, fails here, as test_rpc_discover does for the
 * methods and docs/rpc.md. The builders' bytes are pinned too: they are the
 * database format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "chain/state/dbkey.h"
#include "util/hex.h"

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = 0;
    fclose(f);
    return s;
}

typedef struct doc_row {
    char space; /* as chain_dbkey_row.space */
    char byte;
    char layout[128];
    int line;
} doc_row;

#define MAX_ROWS 128

/* The rows "| `X` layout | ..." of the key table (before any "## "
 * heading), of "## State keys" and of "## Index keys". */
static size_t doc_rows(const char *doc, doc_row *rows)
{
    size_t n = 0;
    int space = 0, line = 0;
    for (const char *p = doc; *p; line++) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len >= 3 && strncmp(p, "## ", 3) == 0) {
            if (len == 13 && strncmp(p, "## State keys", 13) == 0)
                space = CHAIN_DB_STATE;
            else if (len == 13 && strncmp(p, "## Index keys", 13) == 0)
                space = CHAIN_DB_INDEX;
            else
                space = -1; /* a section without key rows */
        } else if (space >= 0 && len > 5 && strncmp(p, "| `", 3) == 0 && p[4] == '`') {
            assert_true(n < MAX_ROWS);
            doc_row *r = &rows[n++];
            r->space = (char)space;
            r->byte = p[3];
            r->line = line + 1;
            const char *s = p + 5, *e = memchr(s, '|', len - 5);
            if (!e) fail_msg("docs/storage.md:%d: a key row without a value column", r->line);
            while (s < e && *s == ' ')
                s++;
            while (e > s && e[-1] == ' ')
                e--;
            size_t l = (size_t)(e - s);
            assert_true(l < sizeof r->layout);
            memcpy(r->layout, s, l);
            r->layout[l] = 0;
        }
        p += len + (eol ? 1 : 0);
    }
    return n;
}

static const char *space_name(char space)
{
    return space == CHAIN_DB_STATE   ? "State keys"
           : space == CHAIN_DB_INDEX ? "Index keys"
                                     : "the key table";
}

static void test_registry_matches_docs(void **state)
{
    (void)state;
    char *doc = read_file(OL_SOURCE_DIR "/docs/storage.md");
    static doc_row rows[MAX_ROWS];
    size_t n = doc_rows(doc, rows);
    int bad = 0;
    assert_true(chain_dbkey_registry_len > 0);
    for (size_t i = 0; i < chain_dbkey_registry_len; i++) {
        const chain_dbkey_row *g = &chain_dbkey_registry[i];
        if (g->space != 0 && g->space != CHAIN_DB_STATE && g->space != CHAIN_DB_INDEX) {
            print_error("registry row %zu ('%c'): unknown space %d\n", i, g->byte, g->space);
            bad++;
        }
        if (!g->name || !g->name[0] || !g->layout) {
            print_error("registry row %zu ('%c'): no name or layout\n", i, g->byte);
            bad++;
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (chain_dbkey_registry[j].space == g->space &&
                chain_dbkey_registry[j].byte == g->byte) {
                print_error("registry: '%c' twice in %s\n", g->byte, space_name(g->space));
                bad++;
            }
        size_t found = 0;
        for (size_t j = 0; j < n; j++) {
            if (rows[j].space != g->space || rows[j].byte != g->byte) continue;
            found++;
            if (strcmp(rows[j].layout, g->layout) != 0) {
                print_error("docs/storage.md:%d: '%c' (%s) has key layout \"%s\", the registry "
                            "says \"%s\"\n",
                            rows[j].line, g->byte, g->name, rows[j].layout, g->layout);
                bad++;
            }
        }
        if (found != 1) {
            print_error("docs/storage.md (%s): %zu rows for '%c' (%s), want exactly 1\n",
                        space_name(g->space), found, g->byte, g->name);
            bad++;
        }
    }
    for (size_t j = 0; j < n; j++) {
        int known = 0;
        for (size_t i = 0; i < chain_dbkey_registry_len; i++)
            if (chain_dbkey_registry[i].space == rows[j].space &&
                chain_dbkey_registry[i].byte == rows[j].byte)
                known = 1;
        if (!known) {
            print_error("docs/storage.md:%d: a row for '%c' in %s, a prefix chain/state/dbkey.h "
                        "does not know\n",
                        rows[j].line, rows[j].byte, space_name(rows[j].space));
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    free(doc);
}

static void expect(const uint8_t *k, size_t n, size_t want_len, const char *want_hex)
{
    char hex[2 * CHAIN_DBKEY_MAX + 1];
    assert_int_equal(n, want_len);
    util_hex_encode(hex, k, n);
    assert_string_equal(hex, want_hex);
}

/* The bytes every builder writes, spelled out: these keys are on disk in
 * every existing data directory. */
static void test_builders_bytes(void **state)
{
    (void)state;
    uint8_t k[CHAIN_DBKEY_MAX], id[32], ix[CHAIN_IXKEY_MAX];
    chain_addr a;
    for (int i = 0; i < 32; i++)
        id[i] = (uint8_t)i;
    for (int i = 0; i < CHAIN_ADDR_LEN; i++)
        a.b[i] = (uint8_t)(0xa0 + i);
    const char *idh = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const char *ah = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3";
    char want[256];

    expect(k, chain_dbkey_head(k), 1, "48");    /* 'H' */
    expect(k, chain_dbkey_genesis(k), 1, "47"); /* 'G' */
    expect(k, chain_dbkey_height(k, 0x0102030405060708u), 9, "680102030405060708");
    expect(k, chain_dbkey_commit(k, 7), 9, "630000000000000007");
    snprintf(want, sizeof want, "42%s", idh);
    expect(k, chain_dbkey_block(k, id), 33, want);
    snprintf(want, sizeof want, "52%s", idh);
    expect(k, chain_dbkey_receipts(k, id), 33, want);
    snprintf(want, sizeof want, "74%s", idh);
    expect(k, chain_dbkey_txloc(k, id), 33, want);
    snprintf(want, sizeof want, "6e%s", idh);
    expect(k, chain_dbkey_node(k, id), 33, want);

    /* state keys, and their store keys under 's' */
    chain_account_key(k, &a);
    snprintf(want, sizeof want, "61%s", ah);
    expect(k, CHAIN_ACCOUNT_KEY_LEN, 21, want);
    uint8_t sk[CHAIN_DBKEY_MAX];
    snprintf(want, sizeof want, "7361%s", ah);
    expect(sk, chain_dbkey_state(sk, k, CHAIN_ACCOUNT_KEY_LEN), 22, want);
    snprintf(want, sizeof want, "6b%s", ah);
    expect(k, chain_key_code(k, &a), 21, want);
    snprintf(want, sizeof want, "53%s%s", ah, idh);
    expect(k, chain_key_storage(k, &a, id), 53, want);
    expect(k, chain_key_id(k, CHAIN_SK_DATANET, 1), 9, "640000000000000001");
    expect(k, chain_key_id(k, CHAIN_SK_CONTRIB, 2), 9, "630000000000000002");
    expect(k, chain_key_id(k, CHAIN_SK_MODEL, 3), 9, "6d0000000000000003");
    expect(k, chain_key_id(k, CHAIN_SK_RECORD, 4), 9, "720000000000000004");
    expect(k, chain_key_next(k, CHAIN_SK_RECORD), 2, "4e72");
    snprintf(want, sizeof want, "680000000000000009%s", idh);
    expect(k, chain_key_content(k, 9, id), 41, want);
    snprintf(want, sizeof want, "70%s", ah);
    expect(k, chain_key_contributor(k, &a), 21, want);
    expect(k, chain_dbkey_state_kind(k, CHAIN_SK_MODEL), 2, "736d");

    /* index keys, and their store keys under 'x' */
    size_t n = chain_ixkey_tx_by_addr(ix, &a, 0x1122, 0x01020304u);
    snprintf(want, sizeof want, "41%s000000000000112201020304", ah);
    expect(ix, n, CHAIN_IXKEY_TX_LEN, want);
    uint64_t h;
    uint32_t i;
    assert_int_equal(chain_ixkey_tx_by_addr_parse(ix, n, &h, &i), 0);
    assert_int_equal(h, 0x1122);
    assert_int_equal(i, 0x01020304u);
    assert_int_equal(chain_ixkey_tx_by_addr_parse(ix, n - 1, &h, &i), -1);
    snprintf(want, sizeof want, "7841%s000000000000112201020304", ah);
    expect(sk, chain_dbkey_index(sk, ix, n), 34, want);
    snprintf(want, sizeof want, "7841%s", ah);
    expect(k, chain_dbkey_index_prefix(k, CHAIN_IX_TX_BY_ADDR, a.b, CHAIN_ADDR_LEN), 22, want);

    uint8_t be[8] = {0, 0, 0, 0, 0, 0, 0, 5}, seq[2] = {0, 3};
    expect(ix, chain_ixkey_attr(ix, CHAIN_IX_CONTRIB_BY_DATANET, be, 8, 6, NULL, 0), 17,
           "4400000000000000050000000000000006");
    snprintf(want, sizeof want, "50%s00000000000000070003", ah);
    expect(ix, chain_ixkey_attr(ix, CHAIN_IX_PAYOUT_BY_RECIPIENT, a.b, CHAIN_ADDR_LEN, 7, seq, 2),
           31, want);
    expect(k, chain_dbkey_index_prefix(k, CHAIN_IX_RECORD_BY_MODEL, be, 8), 10,
           "78520000000000000005");

    /* too long: refused, not truncated */
    static const uint8_t big[CHAIN_DBKEY_MAX] = {0};
    assert_int_equal(chain_dbkey_state(sk, big, CHAIN_DBKEY_MAX), 0);
    assert_int_equal(chain_ixkey_attr(ix, CHAIN_IX_RECORD_BY_MODEL, big, 60, 1, NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_matches_docs),
        cmocka_unit_test(test_builders_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
