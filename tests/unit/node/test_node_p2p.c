/* The node's peer-to-peer configuration and identity: the --p2p, --peers,
 * --p2p-pex and --follower flags, and the node key file (created 0600 by the
 * validator key's code, with its own type and the node id beside the
 * secret; a validator key is not taken for a node key, nor the reverse, and
 * the validator key file keeps its exact format). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/crypto/hash.h"
#include "node/node.h"
#include "node/validator_key.h"
#include "p2p/session.h"

#define ID "0123456789abcdef0123456789abcdef01234567"

static int parse(node_cfg *cfg, util_err *err, int argc, const char **args)
{
    char *argv[16] = {"openledgerd", "--dev"};
    for (int i = 0; i < argc; i++)
        argv[2 + i] = (char *)args[i];
    memset(err, 0, sizeof *err);
    return node_cfg_parse(cfg, argc + 2, argv, err);
}

static void test_p2p_flags(void **state)
{
    (void)state;
    node_cfg cfg;
    util_err err;
    assert_int_equal(parse(&cfg, &err, 0, NULL), NODE_CFG_RUN);
    assert_string_equal(cfg.p2p_host, NODE_DEFAULT_P2P_HOST);
    assert_int_equal(cfg.p2p_port, NODE_DEFAULT_P2P_PORT);
    assert_int_equal(cfg.p2p_default, 1);
    assert_int_equal(cfg.p2p_no_pex, 0);
    assert_int_equal(cfg.follower, 0);
    assert_string_equal(cfg.p2p_peers, "");

    const char *a[] = {"--p2p",
                       "[::1]:0",
                       "--p2p-pex",
                       "off",
                       "--follower",
                       "--peers",
                       ID "@127.0.0.1:26656," ID "@[::1]:7"};
    assert_int_equal(parse(&cfg, &err, 7, a), NODE_CFG_RUN);
    assert_string_equal(cfg.p2p_host, "::1");
    assert_int_equal(cfg.p2p_port, 0);
    assert_int_equal(cfg.p2p_default, 0);
    assert_int_equal(cfg.p2p_no_pex, 1);
    assert_int_equal(cfg.follower, 1);
    assert_string_equal(cfg.p2p_peers, ID "@127.0.0.1:26656," ID "@[::1]:7");

    const char *off[] = {"--p2p", "off"};
    assert_int_equal(parse(&cfg, &err, 2, off), NODE_CFG_RUN);
    assert_string_equal(cfg.p2p_host, "");

    const char *bad[][2] = {
        {"--p2p", "nowhere"},
        {"--p2p", "::1:5"},
        {"--p2p", "1.2.3.4:70000"},
        {"--peers", "127.0.0.1:26656"},
        {"--peers", "abc@1.2.3.4:5"},
        {"--peers", ID "@1.2.3.4"},
        {"--peers", ","},
        {"--p2p-pex", "maybe"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse(&cfg, &err, 2, bad[i]) != NODE_CFG_USAGE)
            fail_msg("accepted %s %s", bad[i][0], bad[i][1]);
    const char *peers_off[] = {"--p2p", "off", "--peers", ID "@127.0.0.1:1"};
    assert_int_equal(parse(&cfg, &err, 4, peers_off), NODE_CFG_USAGE);
    assert_non_null(strstr(err.msg, "--p2p off"));
}

static json_t *load_json(const char *path)
{
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    assert_non_null(j);
    return j;
}

static void test_node_key_file(void **state)
{
    (void)state;
    chain_hash_init();
    char dir[] = "/tmp/ol-test-nodekey-XXXXXX";
    assert_non_null(mkdtemp(dir));
    chain_keypair kp, again;
    int created = 0;
    util_err err = {0};
    assert_int_equal(
        node_keyfile_load_or_create(&node_node_key_kind, NULL, dir, &kp, &created, &err), 0);
    assert_int_equal(created, 1);
    char path[256];
    snprintf(path, sizeof path, "%s/node_key.json", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    json_t *j = load_json(path);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "openledger-node-key");
    uint8_t id[P2P_NODE_ID_LEN];
    char hex[2 * P2P_NODE_ID_LEN + 1];
    p2p_node_id(kp.pubkey, id);
    p2p_node_id_hex(id, hex);
    assert_string_equal(json_string_value(json_object_get(j, "nodeId")), hex);
    assert_null(json_object_get(j, "address"));
    json_decref(j);
    /* The second start loads the same key. */
    assert_int_equal(
        node_keyfile_load_or_create(&node_node_key_kind, NULL, dir, &again, &created, &err), 0);
    assert_int_equal(created, 0);
    assert_memory_equal(kp.pubkey, again.pubkey, 32);
    chain_keypair_clear(&again);

    /* A node key is not a validator key. */
    assert_int_equal(node_key_load(NULL, path, &again, &err), UTIL_EINVAL);
    char vpath[256];
    snprintf(vpath, sizeof vpath, "%s/validator_key.json", dir);
    assert_int_equal(node_key_create(NULL, vpath, &again, &err), 0);
    chain_keypair_clear(&again);
    /* ... nor the reverse; and the validator key keeps its fields. */
    assert_int_equal(node_keyfile_load(&node_node_key_kind, NULL, vpath, &again, &err),
                     UTIL_EINVAL);
    j = load_json(vpath);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "openledger-validator-key");
    assert_non_null(json_object_get(j, "address"));
    assert_null(json_object_get(j, "nodeId"));
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);
    assert_int_equal(node_key_create(NULL, vpath, &again, &err), UTIL_EEXIST);
    assert_non_null(strstr(err.msg, "validator key"));

    /* A node key others may read is refused, as a validator key is. */
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(
        node_keyfile_load_or_create(&node_node_key_kind, NULL, dir, &again, &created, &err),
        UTIL_ESTATE);
    assert_non_null(strstr(err.msg, "chmod 600"));
    chain_keypair_clear(&kp);
    unlink(path);
    unlink(vpath);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p2p_flags),
        cmocka_unit_test(test_node_key_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
