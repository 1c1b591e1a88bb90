/* util/env_mem: the in-memory env keeps synced bytes across a crash and a
 * prefix of the unsynced ones, replaces and renames atomically, keeps an
 * unlinked file alive for its open handle, and runs out of space on
 * request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tests/seed.h"
#include "util/env_mem.h"

static void test_crash_keeps_synced_and_a_prefix(void **state)
{
    (void)state;
    uint64_t seed = ol_test_seed("test_crash_keeps_synced_and_a_prefix", 0xc0ffee);
    int saw_none = 0, saw_all = 0, saw_part = 0;
    for (int round = 0; round < 200; round++) {
        util_memfs *m = util_memfs_new(NULL, seed + (uint64_t)round);
        assert_non_null(m);
        const util_env *env = util_memfs_env(m);
        util_err err = {0};
        util_file *f = NULL;
        assert_int_equal(util_env_file_open(env, "w", 0, 0600, &f, &err), UTIL_ENOTFOUND);
        assert_int_equal(util_env_file_open(env, "w", UTIL_FILE_CREATE, 0600, &f, &err), 0);
        assert_int_equal(util_env_file_append(env, f, "synced;", 7, &err), 0);
        assert_int_equal(util_env_file_sync(env, f, &err), 0);
        assert_int_equal(util_env_file_append(env, f, "not synced", 10, &err), 0);
        util_memfs_crash(m);
        uint64_t size = 0;
        assert_int_equal(util_env_file_size(env, f, &size, &err), 0);
        assert_true(size >= 7 && size <= 17);
        char buf[32];
        size_t got = 0;
        assert_int_equal(util_env_file_read(env, f, 0, buf, sizeof buf, &got, &err), 0);
        assert_int_equal(got, size);
        assert_memory_equal(buf, "synced;not synced", got);
        saw_none += size == 7;
        saw_all += size == 17;
        saw_part += size > 7 && size < 17;
        util_env_file_close(env, f);
        util_memfs_free(m);
    }
    assert_true(saw_none && saw_all && saw_part);
}

static void test_files(void **state)
{
    (void)state;
    util_memfs *m = util_memfs_new(NULL, 1);
    assert_non_null(m);
    const util_env *env = util_memfs_env(m);
    util_err err = {0};
    char *data = NULL;
    size_t n = 0;
    unsigned mode = 0;
    assert_int_equal(util_env_create_file(env, "a", "one", 3, 0600, &err), 0);
    assert_int_equal(util_env_create_file(env, "a", "two", 3, 0600, &err), UTIL_EEXIST);
    assert_int_equal(util_env_replace_file(env, "a", "three", 5, 0640, &err), 0);
    assert_int_equal(util_env_read_file(env, "a", 100, &data, &n, &mode, &err), 0);
    assert_string_equal(data, "three");
    assert_int_equal(mode, 0640);
    free(data);
    assert_int_equal(util_env_read_file(env, "a", 4, &data, &n, &mode, &err), UTIL_EINVAL);
    /* An open file renamed over stays readable through its handle. */
    util_file *f = NULL;
    assert_int_equal(util_env_file_open(env, "a", 0, 0, &f, &err), 0);
    assert_int_equal(util_env_create_file(env, "b", "bee", 3, 0600, &err), 0);
    assert_int_equal(util_env_file_rename(env, "b", "a", &err), 0);
    assert_int_equal(util_env_read_file(env, "b", 100, &data, &n, &mode, &err), UTIL_ENOTFOUND);
    assert_int_equal(util_env_read_file(env, "a", 100, &data, &n, &mode, &err), 0);
    assert_string_equal(data, "bee");
    free(data);
    char buf[8];
    assert_int_equal(util_env_file_read(env, f, 0, buf, sizeof buf, &n, &err), 0);
    assert_int_equal(n, 5);
    assert_memory_equal(buf, "three", 5);
    assert_int_equal(util_env_file_truncate(env, f, 2, &err), 0);
    util_env_file_close(env, f);
    assert_int_equal(util_env_file_rename(env, "zz", "a", &err), UTIL_EIO);
    /* Full: appends write at most part, then fail; replace writes nothing. */
    assert_int_equal(util_env_file_open(env, "a", 0, 0, &f, &err), 0);
    util_memfs_set_full(m, 1);
    assert_int_equal(util_env_file_append(env, f, "0123456789", 10, &err), UTIL_EIO);
    assert_non_null(strstr(err.msg, "No space left on device"));
    uint64_t size = 0;
    assert_int_equal(util_env_file_size(env, f, &size, &err), 0);
    assert_true(size >= 3 && size < 13);
    assert_int_equal(util_env_replace_file(env, "a", "x", 1, 0600, &err), UTIL_EIO);
    util_memfs_set_full(m, 0);
    assert_int_equal(util_env_read_file(env, "a", 100, &data, &n, &mode, &err), 0);
    assert_memory_equal(data, "bee", 3);
    free(data);
    util_env_file_close(env, f);
    util_memfs_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crash_keeps_synced_and_a_prefix),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
