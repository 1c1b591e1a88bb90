/* rollup.json (rollup/config.h): a full document parses, saves and loads
 * back the same; every missing, mistyped, out-of-range or unknown field is
 * refused with an error naming it; saving replaces the file atomically and
 * leaves no temporary file behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/chain_fixture.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "rollup/config.h"

static const char GOOD[] =
    "{\"l1ChainId\": 31337,"
    " \"l2GenesisHash\": \"0x0102030405060708091011121314151617181920212223242526272829303132\","
    " \"batchInbox\": \"0x5fbdb2315678afecb367f032d93f642f64180aa3\","
    " \"outputOracle\": \"0xE7F1725E7734CE288F8367E1BB143E90BB3F0512\","
    " \"batcher\": \"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\","
    " \"deployBlock\": 1, \"confirmations\": 2, \"finalizationPeriodSeconds\": 60,"
    " \"channelTimeoutBlocks\": 50,"
    " \"token\": \"0x9fe46736679d2d9a65f0992f2272de9f3c7fa6e0\","
    " \"bridge\": \"0xCF7ED3ACCA5A467E9E704C703E8D87F634FB0FC9\","
    " \"depositConfirmations\": 3}";

static void test_parse_good(void **state)
{
    (void)state;
    rollup_config c;
    util_err err = {0};
    if (rollup_config_parse(&c, GOOD, &err)) fail_msg("%s", err.msg);
    assert_int_equal(c.l1_chain_id, 31337);
    assert_int_equal(c.l2_genesis_hash[0], 0x01);
    assert_int_equal(c.l2_genesis_hash[31], 0x32);
    assert_int_equal(c.batch_inbox.b[0], 0x5f);
    assert_int_equal(c.output_oracle.b[19], 0x12);
    assert_int_equal(c.batcher.b[0], 0xf3);
    assert_int_equal(c.deploy_block, 1);
    assert_int_equal(c.confirmations, 2);
    assert_int_equal(c.finalization_period_s, 60);
    assert_int_equal(c.channel_timeout_blocks, 50);
    assert_int_equal(c.token.b[0], 0x9f);
    assert_int_equal(c.token.b[19], 0xe0);
    assert_int_equal(c.bridge.b[0], 0xcf);
    assert_int_equal(c.bridge.b[19], 0xc9);
    assert_int_equal(c.deposit_confirmations, 3);
}

/* GOOD with field k set to v (a JSON value; NULL removes it). */
static void expect_refused(const char *k, const char *v, const char *want)
{
    json_t *o = json_loads(GOOD, 0, NULL);
    assert_non_null(o);
    if (v) {
        json_t *val = json_loads(v, JSON_DECODE_ANY, NULL);
        assert_non_null(val);
        json_object_set_new(o, k, val);
    } else {
        json_object_del(o, k);
    }
    char *s = json_dumps(o, 0);
    json_decref(o);
    rollup_config c;
    memset(&c, 0x55, sizeof c);
    util_err err = {0};
    int rc = rollup_config_parse(&c, s, &err);
    free(s);
    if (rc != UTIL_EINVAL || !strstr(err.msg, want))
        fail_msg("%s=%s: expected \"%s\", got %d \"%s\"", k, v ? v : "(absent)", want, rc, err.msg);
    uint8_t pattern[sizeof c];
    memset(pattern, 0x55, sizeof pattern);
    assert_memory_equal(&c, pattern, sizeof c); /* untouched on failure */
}

static void test_every_field_named(void **state)
{
    (void)state;
    static const char *const fields[] = {
        "l1ChainId",
        "l2GenesisHash",
        "batchInbox",
        "outputOracle",
        "batcher",
        "deployBlock",
        "confirmations",
        "finalizationPeriodSeconds",
        "channelTimeoutBlocks",
        "token",
        "bridge",
        "depositConfirmations",
    };
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        char want[96];
        snprintf(want, sizeof want, "%s missing", fields[i]);
        expect_refused(fields[i], NULL, want);
        /* A wrong type names the field too. */
        expect_refused(fields[i], "[1]", fields[i]);
        expect_refused(fields[i], "true", fields[i]);
    }
    expect_refused("l1ChainId", "0", "l1ChainId must be in");
    expect_refused("l1ChainId", "-1", "l1ChainId must be in");
    expect_refused("l1ChainId", "\"31337\"", "l1ChainId must be an integer");
    expect_refused("deployBlock", "1.5", "deployBlock must be an integer");
    expect_refused("confirmations", "4294967296", "confirmations must be in");
    expect_refused("channelTimeoutBlocks", "0", "channelTimeoutBlocks must be in");
    expect_refused("depositConfirmations", "1000001", "depositConfirmations must be in");
    expect_refused("depositConfirmations", "-1", "depositConfirmations must be in");
    expect_refused("depositConfirmations", "\"2\"", "depositConfirmations must be an integer");
    expect_refused("token", "\"0x9fe46736679d2d9a65f0992f2272de9f3c7fa6\"", "token: ");
    /* Mixed case with a wrong EIP-55 checksum. */
    expect_refused("bridge", "\"0xCf7ED3ACCA5A467E9E704C703E8D87F634FB0FC9\"", "bridge: ");
    expect_refused("l2GenesisHash", "\"0x0102\"", "l2GenesisHash must be 0x");
    expect_refused("l2GenesisHash",
                   "\"0102030405060708091011121314151617181920212223242526272829303132\"",
                   "l2GenesisHash must be 0x");
    expect_refused("l2GenesisHash",
                   "\"0x01020304050607080910111213141516171819202122232425262728293031zz\"",
                   "l2GenesisHash");
    expect_refused("batchInbox", "\"0x5fbdb2315678afecb367f032d93f642f64180a\"", "batchInbox: ");
    /* Mixed case with a wrong EIP-55 checksum. */
    expect_refused("batcher", "\"0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266\"", "batcher: ");
    expect_refused("outputOracle", "\"hello\"", "outputOracle: ");
    expect_refused("batchlnbox", "\"0x5fbdb2315678afecb367f032d93f642f64180aa3\"",
                   "unknown field batchlnbox");

    rollup_config c;
    util_err err = {0};
    assert_int_equal(rollup_config_parse(&c, "[]", &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "not an object"));
    assert_int_equal(rollup_config_parse(&c, "{\"l1ChainId\": ", &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, "rollup config: line 1"));
    assert_int_equal(rollup_config_parse(&c, "{\"deployBlock\": 1, \"deployBlock\": 2}", &err),
                     UTIL_EINVAL);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_save_load(void **state)
{
    (void)state;
    char dir[] = "/tmp/ol-test-rcfg-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/rollup.json", dir);
    rollup_config c, back;
    util_err err = {0};
    assert_int_equal(rollup_config_parse(&c, GOOD, &err), 0);
    assert_int_equal(rollup_config_load(&back, path, &err), UTIL_ENOTFOUND);
    if (rollup_config_save(&c, path, &err)) fail_msg("%s", err.msg);
    assert_int_equal(rollup_config_load(&back, path, &err), 0);
    assert_memory_equal(&back, &c, sizeof c);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    /* Addresses are written with their EIP-55 checksum. */
    FILE *f = fopen(path, "r");
    char text[2048];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    assert_non_null(strstr(text, "\"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266\""));
    assert_non_null(strstr(text, "\"0x5FbDB2315678afecb367f032d93F642f64180aa3\""));
    assert_non_null(strstr(text, "\"token\": \"0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0\""));
    assert_non_null(strstr(text, "\"bridge\": \"0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9\""));
    assert_non_null(strstr(text, "\"depositConfirmations\": 3"));

    /* Replacing: the new content, one file, no temporary left behind. */
    c.deploy_block = 77;
    c.channel_timeout_blocks = 3;
    c.deposit_confirmations = 1000000;
    assert_int_equal(rollup_config_save(&c, path, &err), 0);
    assert_int_equal(rollup_config_load(&back, path, &err), 0);
    assert_int_equal(back.deploy_block, 77);
    assert_int_equal(back.channel_timeout_blocks, 3);
    assert_int_equal(back.deposit_confirmations, 1000000);
    assert_int_equal(count_entries(dir), 1);

    /* A bad file names itself and its field. */
    f = fopen(path, "w");
    fputs("{\"l1ChainId\": 1, \"extra\": 2}", f);
    fclose(f);
    assert_int_equal(rollup_config_load(&back, path, &err), UTIL_EINVAL);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "unknown field extra"));

    char nodir[160];
    snprintf(nodir, sizeof nodir, "%s/missing/rollup.json", dir);
    assert_int_equal(rollup_config_save(&c, nodir, &err), UTIL_EIO);
    fx_rm_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_every_field_named),
        cmocka_unit_test(test_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
