/* Determinism corpus: every program in tests/unit/data/vm/ (plus the default
 * reward contract) runs in a fixed environment, and its result (status,
 * gas used, end offset, return data, a digest of the events, revert message
 * and the host state afterwards) must equal the line committed in
 * tests/unit/data/vm/expected.txt. A difference means the VM's behaviour or
 * gas schedule changed: if that is intended, regenerate with
 *   OL_VM_REGEN=1 build/test_vm_corpus
 * and commit the new file with the change that caused it.
 *
 * Directives in a program's leading comments:
 *   ;! gas N        gas limit (default 1000000)
 *   ;! input HEX    call input
 *   ;! value N      value sent with the call
 *   ;! norecord     no attribution record is being settled */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "util/hex.h"
#include "vm/host_mem.h"
#include "vm/vm.h"

#define CORPUS OL_SOURCE_DIR "/tests/unit/data/vm"
#define EXPECTED CORPUS "/expected.txt"
#define CONTRACT OL_SOURCE_DIR "/genesis/contracts/proportional_split.olasm"
#define MAX_PROGRAMS 128

static const uint8_t SELF[VM_ADDR_LEN] = {0x5e, 0x1f, 0xc0, 0xde};
static const uint8_t CALLER[VM_ADDR_LEN] = {0xca, 0x11, 0xe7};

typedef struct prog {
    char name[64];
    char path[512];
} prog;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const prog *)a)->name, ((const prog *)b)->name);
}

static size_t list_programs(prog *out)
{
    size_t n = 0;
    DIR *d = opendir(CORPUS);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 7 || strcmp(e->d_name + len - 6, ".olasm") != 0) continue;
        assert_true(n < MAX_PROGRAMS - 1 && len - 6 < sizeof out[n].name);
        memcpy(out[n].name, e->d_name, len - 6);
        out[n].name[len - 6] = 0;
        snprintf(out[n].path, sizeof out[n].path, "%s/%s", CORPUS, e->d_name);
        n++;
    }
    closedir(d);
    snprintf(out[n].name, sizeof out[n].name, "proportional_split");
    snprintf(out[n].path, sizeof out[n].path, "%s", CONTRACT);
    n++;
    qsort(out, n, sizeof *out, by_name);
    return n;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

typedef struct setup {
    uint64_t gas, value;
    uint8_t input[256];
    size_t input_len;
    int record;
} setup;

static void parse_directives(const char *text, setup *s)
{
    *s = (setup){.gas = 1000000, .record = 1};
    for (const char *p = text; (p = strstr(p, ";!")); p += 2) {
        char word[16] = {0}, arg[600] = {0};
        if (sscanf(p + 2, " %15s %599[^\n]", word, arg) < 1) continue;
        if (!strcmp(word, "gas"))
            s->gas = strtoull(arg, NULL, 10);
        else if (!strcmp(word, "value"))
            s->value = strtoull(arg, NULL, 10);
        else if (!strcmp(word, "norecord"))
            s->record = 0;
        else if (!strcmp(word, "input")) {
            s->input_len = strlen(arg) / 2;
            assert_true(s->input_len <= sizeof s->input);
            assert_int_equal(util_hex_decode_exact(s->input, s->input_len, arg), 0);
        } else
            fail_msg("unknown directive %s", word);
    }
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void hex_field(char *out, size_t cap, const char *key, const uint8_t *p, size_t n)
{
    size_t k = (size_t)snprintf(out, cap, " %s=", key);
    if (!n) {
        snprintf(out + k, cap - k, "-");
        return;
    }
    assert_true(k + 2 * n + 1 <= cap);
    util_hex_encode(out + k, p, n);
}

/* Runs one program and formats its result line. */
static void run_program(const prog *pg, char *line, size_t cap)
{
    char *text = read_text(pg->path);
    assert_non_null(text);
    setup s;
    parse_directives(text, &s);
    uint8_t *code;
    size_t n;
    util_err err = {0};
    if (vm_asm_source(pg->name, text, strlen(text), &code, &n, &err)) fail_msg("%s", err.msg);
    free(text);
    vm_program *p;
    if (vm_verify(code, n, &p, NULL, &err)) fail_msg("%s: %s", pg->name, err.msg);
    free(code);

    vm_entry entries[3] = {{11, {0xe1}, 5}, {12, {0xe2}, 0}, {13, {0xe3}, 15}};
    vm_record rec = {.id = 41,
                     .model = 7,
                     .fee = 1000000,
                     .owner_bp = 6000,
                     .validators_bp = 1000,
                     .contributors_bp = 3000,
                     .n_entries = 3,
                     .entries = entries};
    memset(rec.owner, 0x0a, VM_ADDR_LEN);
    memset(rec.validators, 0x0b, VM_ADDR_LEN);
    vm_env env = {.value = s.value,
                  .height = 100,
                  .time_ms = 1700000000000ull,
                  .input = s.input,
                  .input_len = s.input_len,
                  .record = s.record ? &rec : NULL};
    memcpy(env.self, SELF, VM_ADDR_LEN);
    memcpy(env.caller, CALLER, VM_ADDR_LEN);

    vm_memhost *h = vm_memhost_new(SELF);
    assert_int_equal(vm_memhost_set_balance(h, SELF, 1000000 + s.value), 0);
    vm_result res;
    assert_int_equal(vm_memhost_call(h, p, &env, s.gas, &res, &err), 0);

    uint64_t ev = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < res.n_events; i++) {
        const vm_event *e = &res.events[i];
        uint8_t fixed[1 + 32 + 20 + 8 + 4];
        fixed[0] = e->kind;
        memcpy(fixed + 1, e->topic, 32);
        memcpy(fixed + 33, e->to, 20);
        util_put_u64le(fixed + 53, e->amount);
        util_put_u32le(fixed + 61, e->data_len);
        ev = fnv(ev, fixed, sizeof fixed);
        ev = fnv(ev, res.event_data + e->data_off, e->data_len);
    }
    size_t k =
        (size_t)snprintf(line, cap, "%s status=%s gas=%llu pc=%u", pg->name,
                         vm_status_name(res.status), (unsigned long long)res.gas_used, res.end_pc);
    hex_field(line + k, cap - k, "ret", res.ret, res.ret_len);
    k = strlen(line);
    k += (size_t)snprintf(line + k, cap - k, " events=%zu:%016llx", res.n_events,
                          (unsigned long long)ev);
    hex_field(line + k, cap - k, "revert", res.revert, res.revert_len);
    k = strlen(line);
    snprintf(line + k, cap - k, " state=%llu:%zu:%llu",
             (unsigned long long)vm_memhost_balance(h, SELF), vm_memhost_slots(h),
             (unsigned long long)vm_memhost_total(h));
    vm_result_free(&res);
    vm_memhost_free(h);
    vm_program_free(p);
}

static void test_corpus(void **state)
{
    (void)state;
    static prog progs[MAX_PROGRAMS];
    size_t n = list_programs(progs);
    assert_true(n >= 20);
    static char lines[MAX_PROGRAMS][8192];
    for (size_t i = 0; i < n; i++) {
        run_program(&progs[i], lines[i], sizeof lines[i]);
        /* Same process, same inputs: the same result. */
        char again[8192];
        run_program(&progs[i], again, sizeof again);
        assert_string_equal(lines[i], again);
    }
    if (getenv("OL_VM_REGEN")) {
        FILE *f = fopen(EXPECTED, "w");
        assert_non_null(f);
        for (size_t i = 0; i < n; i++)
            fprintf(f, "%s\n", lines[i]);
        fclose(f);
        print_message("wrote %s (%zu programs)\n", EXPECTED, n);
        return;
    }
    char *want = read_text(EXPECTED);
    if (!want) fail_msg("missing %s (run with OL_VM_REGEN=1)", EXPECTED);
    size_t seen = 0;
    for (char *l = strtok(want, "\n"); l; l = strtok(NULL, "\n")) {
        size_t i;
        for (i = 0; i < n; i++) {
            size_t nl = strlen(progs[i].name);
            if (!strncmp(l, progs[i].name, nl) && l[nl] == ' ') break;
        }
        if (i == n) fail_msg("expected.txt names a program that is not in the corpus: %.40s", l);
        if (strcmp(l, lines[i]) != 0)
            fail_msg("result changed:\n  expected %s\n  got      %s", l, lines[i]);
        seen++;
    }
    free(want);
    if (seen != n) fail_msg("%zu programs but %zu expected results (regenerate)", n, seen);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
