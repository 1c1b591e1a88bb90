/* docs/storage.md lists every key the node writes. A node runs in this
 * process on a data directory; openledger-cli (in-process too) sends one of
 * each kind of transaction through it (a transfer, the attribution cycle, a
 * contract deploy and a call that stores a slot); then the LevelDB database
 * is read key by key, and every prefix found (the first byte, and the second
 * under 's' and 'x') must have its row in the doc and in the key registry
 * (chain/state/dbkey.h; test_dbkey holds the registry and the doc together). */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <leveldb/c.h>

#include "tests/unit/chain_fixture.h"

#include "chain/state/dbkey.h"
#include "cli/cli.h"
#include "node/node_internal.h"
#include "rpc/transport/http.h"

static node *the_node;
static pthread_t node_thread;
static int node_rc = -1; /* node_run's result, checked on the main thread after the join */
static char url[64], dir[64];

static void *run_node(void *arg)
{
    node_rc = node_run(the_node);
    return NULL;
}

static int cli(char **out, const char *const *args)
{
    const char *argv[32] = {"openledger-cli", "--rpc", url};
    int argc = 3;
    while (*args)
        argv[argc++] = *args++;
    char *err = NULL;
    size_t ol, el;
    FILE *fo = open_memstream(out, &ol), *fe = open_memstream(&err, &el);
    int rc = cli_main(argc, (char **)argv, fo, fe);
    fclose(fo);
    fclose(fe);
    if (rc) fail_msg("openledger-cli %s %s: exit %d: %s%s", argv[3], argv[4], rc, *out, err);
    free(err);
    return rc;
}

#define CLI(...) (cli(&out, (const char *const[]){__VA_ARGS__, NULL}), free(out))

static const char *write_tmp(const char *name, const char *text)
{
    static char p[4][128];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    FILE *f = fopen(p[k], "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p[k];
}

/* One of each transaction, each waited for. */
static void story(void)
{
    char *out;
    CLI("send", "--from", "dev0", "--to", "dev1", "--amount", "1");
    CLI("datanet", "create", "notes", "--review", "--from", "dev0");
    CLI("contribute", "--datanet", "1", write_tmp("note.txt", "a note\n"), "--from", "dev1");
    CLI("review", "1", "--accept", "--from", "dev0");
    CLI("model", "register", "m", "--datanet", "1", "--split", "2000/1000/7000", "--attestor",
        "dev1", "--from", "dev0");
    CLI("attribute", "--model", "1", "--fee", "1", "--entries",
        write_tmp("e.json", "[{\"contribution\": 1, \"weight\": 1}]"), "--from", "dev1");
    /* A contract that stores 7 under key 1. */
    const char *src = write_tmp("st.olasm", ".code\n.entry main\nmain:\n"
                                            "    ldi r1, 0x100\n    ldi r2, 1\n    st8 [r1], r2\n"
                                            "    ldi r2, 0x140\n    ldi r3, 7\n    st8 [r2], r3\n"
                                            "    sys sstore\n    stop\n");
    cli(&out, (const char *const[]){"contract", "deploy", src, "--from", "dev2", NULL});
    char addr[96] = "";
    const char *c = strstr(out, "\ncontract:  ");
    assert_non_null(c);
    assert_int_equal(sscanf(c, "\ncontract:  %90s", addr), 1);
    free(out);
    CLI("contract", "call", addr, "--from", "dev2");
}

static int start(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/ol-test-keys-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char *argv[] = {"openledgerd", "--dev",       "--p2p",
                    "off",         "--datadir",   dir,
                    "--rpc",       "127.0.0.1:0", "--quiet-accounts",
                    "--log-level", "warn",        "--block-time",
                    "100",         NULL};
    node_cfg cfg;
    util_err err = {0};
    assert_int_equal(node_cfg_parse(&cfg, 13, argv, &err), NODE_CFG_RUN);
    if (node_start(&the_node, &cfg, &err)) fail_msg("node_start: %s", err.msg);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", rpc_http_port(the_node->http));
    assert_int_equal(pthread_create(&node_thread, NULL, run_node, NULL), 0);
    return 0;
}

static void stop(void)
{
    kill(getpid(), SIGTERM); /* the node's signal handler stops its loop */
    pthread_join(node_thread, NULL);
    node_free(the_node);
    assert_int_equal(node_rc, 0);
}

/* The text of docs/storage.md from the heading `from` (NULL: the start) to
 * the next "## " heading. */
static char *section(const char *doc, const char *from)
{
    if (!from) from = "";
    const char *s = strstr(doc, from);
    if (!s) fail_msg("docs/storage.md has no section '%s'", from);
    s += strlen(from);
    const char *e = strstr(s, "\n## ");
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *r = malloc(n + 1);
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

static void test_every_key_is_documented(void **state)
{
    story();
    stop();

    FILE *f = fopen(OL_SOURCE_DIR "/docs/storage.md", "r");
    assert_non_null(f);
    char *doc = calloc(1, 1 << 20);
    assert_true(fread(doc, 1, (1 << 20) - 1, f) > 0);
    fclose(f);
    char *sec[3] = {section(doc, NULL), section(doc, "\n## State keys\n"),
                    section(doc, "\n## Index keys\n")};

    char path[128], *e = NULL;
    snprintf(path, sizeof path, "%s/chain", dir);
    leveldb_options_t *o = leveldb_options_create();
    leveldb_t *db = leveldb_open(o, path, &e);
    if (!db) fail_msg("leveldb_open %s: %s", path, e);
    leveldb_readoptions_t *ro = leveldb_readoptions_create();
    leveldb_iterator_t *it = leveldb_create_iterator(db, ro);
    int seen[3][256] = {{0}};
    size_t nkeys = 0;
    for (leveldb_iter_seek_to_first(it); leveldb_iter_valid(it); leveldb_iter_next(it)) {
        size_t kl;
        const unsigned char *k = (const unsigned char *)leveldb_iter_key(it, &kl);
        assert_true(kl >= 1);
        nkeys++;
        /* The first byte has its row in the key table; under 's' and 'x'
         * the second byte has its row in "State keys" / "Index keys". */
        for (int where = 0; where < 3; where++) {
            if (where && k[0] != (where == 1 ? CHAIN_DB_STATE : CHAIN_DB_INDEX)) continue;
            if (where) assert_true(kl >= 2);
            unsigned char p = where ? k[1] : k[0];
            if (seen[where][p]++) continue;
            char row[16];
            snprintf(row, sizeof row, "\n| `%c`", p);
            if (!strstr(sec[where], row))
                fail_msg("key %s'%c' (%zu bytes) is written but docs/storage.md (%s) has no row "
                         "for it",
                         where == 1   ? "'s' "
                         : where == 2 ? "'x' "
                                      : "",
                         p, kl,
                         where == 1   ? "State keys"
                         : where == 2 ? "Index keys"
                                      : "the key table");
            char space = where == 1 ? CHAIN_DB_STATE : where == 2 ? CHAIN_DB_INDEX : 0;
            int known = 0;
            for (size_t i = 0; i < chain_dbkey_registry_len; i++)
                if (chain_dbkey_registry[i].space == space &&
                    chain_dbkey_registry[i].byte == (char)p)
                    known = 1;
            if (!known)
                fail_msg("key %s'%c' is written but chain/state/dbkey.h does not register it",
                         where == 1   ? "'s' "
                         : where == 2 ? "'x' "
                                      : "",
                         p);
        }
    }
    leveldb_iter_destroy(it);
    leveldb_readoptions_destroy(ro);
    leveldb_close(db);
    leveldb_options_destroy(o);

    /* The story reached every kind of key (else the check above proves less). */
    static const char *const want[3] = {"HGhBRtcsnx", "akSNdchmrp", "ADCMORQP"};
    for (int w = 0; w < 3; w++)
        for (const char *p = want[w]; *p; p++)
            if (!seen[w][(unsigned char)*p])
                fail_msg("the story wrote no key %s'%c' (%zu keys in all)",
                         w == 1   ? "'s' "
                         : w == 2 ? "'x' "
                                  : "",
                         *p, nkeys);
    for (int i = 0; i < 3; i++)
        free(sec[i]);
    free(doc);
    fx_rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_every_key_is_documented, start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
