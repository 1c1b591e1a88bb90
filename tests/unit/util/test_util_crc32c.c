/* util/crc32c: the published check values (RFC 3720 B.4, the CRC catalogue's
 * "123456789"), incremental use, and every split of a buffer; and util/env's
 * file operations: an env made before they existed falls back to the
 * default's, and the default reports a missing file and appends, reads,
 * truncates, renames and replaces for real. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/crc32c.h"
#include "util/env.h"

static void test_known_values(void **state)
{
    (void)state;
    uint8_t buf[32];
    assert_int_equal(util_crc32c(0, "123456789", 9), 0xE3069283u);
    memset(buf, 0, sizeof buf);
    assert_int_equal(util_crc32c(0, buf, 32), 0x8A9136AAu);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(util_crc32c(0, buf, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(util_crc32c(0, buf, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    assert_int_equal(util_crc32c(0, buf, 32), 0x113FDB5Cu);
    assert_int_equal(util_crc32c(0, "", 0), 0);
}

static void test_incremental(void **state)
{
    (void)state;
    uint8_t buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (uint8_t)(i * 7 + 3);
    uint32_t whole = util_crc32c(0, buf, sizeof buf);
    for (size_t cut = 0; cut <= sizeof buf; cut++)
        assert_int_equal(util_crc32c(util_crc32c(0, buf, cut), buf + cut, sizeof buf - cut), whole);
}

static int old_random(void *ctx, void *out, size_t n, util_err *err)
{
    (void)ctx;
    (void)err;
    memset(out, 7, n);
    return 0;
}

static void test_env_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_env_files.XXXXXX", a[64], b[64];
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof a, "%s/a", dir);
    snprintf(b, sizeof b, "%s/b", dir);
    /* An env written before the file operations: they fall back. */
    util_env old = {.random = old_random,
                    .create_file = util_env_default()->create_file,
                    .read_file = util_env_default()->read_file};
    util_err err = {0};
    util_file *f = NULL;
    assert_int_equal(util_env_file_open(&old, a, 0, 0600, &f, &err), UTIL_ENOTFOUND);
    assert_int_equal(util_env_file_open(&old, a, UTIL_FILE_CREATE, 0600, &f, &err), 0);
    assert_int_equal(util_env_file_append(&old, f, "hello world", 11, &err), 0);
    assert_int_equal(util_env_file_sync(&old, f, &err), 0);
    uint64_t size = 0;
    assert_int_equal(util_env_file_size(&old, f, &size, &err), 0);
    assert_int_equal(size, 11);
    char got[16] = {0};
    size_t n = 0;
    assert_int_equal(util_env_file_read(&old, f, 6, got, sizeof got, &n, &err), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(got, "world", 5);
    assert_int_equal(util_env_file_truncate(&old, f, 5, &err), 0);
    assert_int_equal(util_env_file_append(&old, f, "!", 1, &err), 0);
    util_env_file_close(&old, f);
    assert_int_equal(util_env_file_rename(&old, a, b, &err), 0);
    assert_int_equal(access(a, F_OK), -1);
    char *data = NULL;
    unsigned mode = 0;
    assert_int_equal(util_env_read_file(&old, b, 100, &data, &n, &mode, &err), 0);
    assert_string_equal(data, "hello!");
    assert_int_equal(mode, 0600);
    free(data);
    /* replace_file replaces, where create_file refuses. */
    assert_int_equal(util_env_create_file(&old, b, "x", 1, 0600, &err), UTIL_EEXIST);
    assert_int_equal(util_env_replace_file(&old, b, "new", 3, 0640, &err), 0);
    assert_int_equal(util_env_read_file(&old, b, 100, &data, &n, &mode, &err), 0);
    assert_string_equal(data, "new");
    assert_int_equal(mode, 0640);
    free(data);
    char missing[80];
    snprintf(missing, sizeof missing, "%s/no/such/dir/c", dir);
    assert_int_equal(util_env_replace_file(&old, missing, "x", 1, 0600, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "No such file or directory"));
    assert_int_equal(unlink(b), 0);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_values),
        cmocka_unit_test(test_incremental),
        cmocka_unit_test(test_env_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
