/* Attribution transactions from the command line: datanet create,
 * contribute, review, model register, attribute. Each builds its body, signs
 * with --from through cli_tx_submit, waits for the receipt, then shows the
 * object the transaction created or changed, as the node now has it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chain/crypto/hash.h"
#include "cli/commands_attr.h"
#include "cli/keystore.h"
#include "cli/tx_submit.h"
#include "util/amount.h"
#include "util/bytes.h"
#include "util/hex.h"

#define FIND_PAGES 20
/* 256 entries of two 20-digit numbers fit many times over. */
#define ENTRIES_FILE_MAX (1 << 20)

/* SHA-256 and size of a file, read in chunks. */
static int hash_file(cli_ctx *ctx, const char *path, uint8_t h[32], uint64_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cli_fail(ctx, "cannot open '%s': %s", path, strerror(errno));
    chain_sha256_ctx c;
    if (chain_sha256_begin(&c)) {
        fclose(f);
        return cli_fail(ctx, "out of memory");
    }
    uint8_t buf[65536];
    size_t n;
    *size = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        chain_sha256_update(&c, buf, n);
        *size += n;
    }
    int bad = ferror(f);
    fclose(f);
    chain_sha256_final(&c, h);
    chain_sha256_free(&c);
    if (bad) return cli_fail(ctx, "cannot read '%s'", path);
    return CLI_EXIT_OK;
}

static int parse_id(cli_ctx *ctx, const char *what, const char *s, uint64_t *id)
{
    if (cli_parse_u64(s, id) || *id == 0)
        return cli_usage_fail(ctx, "%s '%s' is not an id (a whole number from 1)", what, s);
    return 0;
}

static int parse_hash_opt(cli_ctx *ctx, const cli_args *a, int opt, uint8_t out[32])
{
    const char *v = a->opt[opt];
    memset(out, 0, 32);
    if (v && util_hex_decode_exact(out, 32, v))
        return cli_usage_fail(ctx, "--%s '%s' is not 32 bytes of hex (64 digits, 0x optional)",
                              cli_optdefs[opt].name, v);
    return 0;
}

/* Sets a body string (owned by the tx, see chain/types/tx.h). */
static int set_text(cli_ctx *ctx, const char *what, char **dst, const char *s, size_t max)
{
    int rc = chain_tx_set_str(dst, s, max);
    if (rc == UTIL_ELIMIT)
        return cli_fail(ctx, "%s is too long (%zu bytes, at most %zu)", what, strlen(s), max);
    if (rc) return cli_fail(ctx, "out of memory");
    return 0;
}

/* Runs a command that builds tx, then releases what the tx owns on every
 * path. */
static int with_tx(cli_ctx *ctx, const cli_args *a, uint8_t type,
                   int (*cmd)(cli_ctx *, const cli_args *, chain_tx *))
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = type;
    int rc = cmd(ctx, a, &tx);
    chain_tx_free(&tx);
    return rc;
}

/* Prints the created object (text) or {"tx": ..., key: object} (--json),
 * then reports a failed transaction. */
static int finish(cli_ctx *ctx, cli_submit *s, const char *key, json_t *obj,
                  void (*print)(cli_ctx *, const json_t *))
{
    int rc = CLI_EXIT_OK;
    if (ctx->json) {
        json_t *o = json_pack("{s:O,s:O*}", "tx", s->result, key, obj);
        rc = o ? cli_print_json(ctx, o) : cli_fail(ctx, "out of memory");
        json_decref(o);
    } else if (obj) {
        fputc('\n', ctx->out);
        print(ctx, obj);
    }
    json_decref(obj);
    if (!rc && !s->included_ok) rc = cli_tx_report_failure(ctx, s);
    json_decref(s->result);
    s->result = NULL;
    return rc;
}

static int block_height(const cli_submit *s, uint64_t *h)
{
    json_t *v = json_object_get(s->result, "blockHeight");
    if (!json_is_integer(v)) return -1;
    *h = (uint64_t)json_integer_value(v);
    return 0;
}

/* ---- datanet create ---- */

typedef struct match_created {
    const char *owner, *name;
    uint64_t height;
} match_created;

static int match_created_fn(const json_t *it, void *arg)
{
    const match_created *m = arg;
    json_int_t h = json_integer_value(json_object_get(it, "height"));
    if ((uint64_t)h < m->height) return -1;
    const char *o = json_string_value(json_object_get(it, "owner"));
    const char *n = json_string_value(json_object_get(it, "name"));
    return (uint64_t)h == m->height && o && n && strcmp(o, m->owner) == 0 &&
           strcmp(n, m->name) == 0;
}

static int from_address(cli_ctx *ctx, const cli_args *a, char str[CHAIN_ADDR_STR_LEN + 1])
{
    chain_addr addr;
    util_err e;
    if (cli_resolve_address(ctx, a->opt[CLI_OPT_FROM], &addr, str, &e))
        return cli_fail_err(ctx, &e);
    return 0;
}

static int datanet_create(cli_ctx *ctx, const cli_args *a, chain_tx *tx)
{
    chain_tx_datanet_create *b = &tx->body.datanet_create;
    const char *name = a->pos[0], *v;
    int rc;
    if ((rc = set_text(ctx, "the name", &b->name, name, CHAIN_NAME_MAX))) return rc;
    if ((v = a->opt[CLI_OPT_URI]) && (rc = set_text(ctx, "--uri", &b->meta_uri, v, CHAIN_URI_MAX)))
        return rc;
    if ((v = a->opt[CLI_OPT_BOND]) && util_amount_parse_open(v, &b->bond))
        return cli_usage_fail(ctx, "--bond '%s' is not an OPEN amount (e.g. 0.5)", v);
    b->review = a->opt[CLI_OPT_REVIEW] != NULL;
    uint64_t size;
    if (a->npos > 1 && (rc = hash_file(ctx, a->pos[1], b->meta_hash, &size))) return rc;
    char owner[CHAIN_ADDR_STR_LEN + 1];
    if ((rc = from_address(ctx, a, owner))) return rc;

    cli_submit s = {0};
    if ((rc = cli_tx_submit(ctx, a, tx, &s)) || !s.result) return rc;
    json_t *d = NULL;
    match_created m = {owner, name, 0};
    util_err e = {0};
    if (s.included_ok && block_height(&s, &m.height) == 0)
        d = cli_attr_find(ctx, "datanet_list", NULL, match_created_fn, &m, FIND_PAGES, &e);
    return finish(ctx, &s, "datanet", d, cli_attr_print_datanet);
}

int cli_cmd_datanet_create(cli_ctx *ctx, const cli_args *a)
{
    return with_tx(ctx, a, CHAIN_TX_DATANET_CREATE, datanet_create);
}

/* ---- contribute ---- */

typedef struct match_content {
    char hash[67];
    uint64_t datanet;
} match_content;

static int match_content_fn(const json_t *it, void *arg)
{
    const match_content *m = arg;
    const char *h = json_string_value(json_object_get(it, "contentHash"));
    return h && strcmp(h, m->hash) == 0 &&
           (uint64_t)json_integer_value(json_object_get(it, "datanet")) == m->datanet;
}

static int contribute(cli_ctx *ctx, const cli_args *a, chain_tx *tx)
{
    chain_tx_contribute *b = &tx->body.contribute;
    int rc;
    const char *v;
    if ((rc = parse_id(ctx, "--datanet", a->opt[CLI_OPT_DATANET], &b->datanet))) return rc;
    if ((v = a->opt[CLI_OPT_URI]) && (rc = set_text(ctx, "--uri", &b->uri, v, CHAIN_URI_MAX)))
        return rc;
    if ((rc = hash_file(ctx, a->pos[0], b->content_hash, &b->size))) return rc;
    char who[CHAIN_ADDR_STR_LEN + 1];
    if ((rc = from_address(ctx, a, who))) return rc;
    match_content m = {.datanet = b->datanet};
    m.hash[0] = '0';
    m.hash[1] = 'x';
    util_hex_encode(m.hash + 2, b->content_hash, 32);
    if (!ctx->json) {
        fprintf(ctx->out, "content:   %s (%llu bytes)\n", m.hash, (unsigned long long)b->size);
        fflush(ctx->out);
    }

    cli_submit s = {0};
    if ((rc = cli_tx_submit(ctx, a, tx, &s)) || !s.result) return rc;
    json_t *c = NULL;
    util_err e = {0};
    if (s.included_ok) {
        json_t *f = json_pack("{s:s}", "contributor", who);
        c = cli_attr_find(ctx, "contribution_list", f, match_content_fn, &m, FIND_PAGES, &e);
        json_decref(f);
    }
    return finish(ctx, &s, "contribution", c, cli_attr_print_contribution);
}

int cli_cmd_contribute(cli_ctx *ctx, const cli_args *a)
{
    return with_tx(ctx, a, CHAIN_TX_CONTRIBUTE, contribute);
}

/* ---- review ---- */

static json_t *get_by_id(cli_ctx *ctx, const char *method, uint64_t id)
{
    json_t *res = NULL;
    util_err e;
    if (cli_rpc_call(ctx, method, json_pack("[I]", (json_int_t)id), &res, NULL, &e)) return NULL;
    return res;
}

int cli_cmd_review(cli_ctx *ctx, const cli_args *a)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_REVIEW;
    chain_tx_review *b = &tx.body.review;
    int rc;
    if ((rc = parse_id(ctx, "contribution", a->pos[0], &b->contribution))) return rc;
    const char *rej = a->opt[CLI_OPT_REJECT];
    if (!!a->opt[CLI_OPT_ACCEPT] == !!rej)
        return cli_usage_fail(ctx, "give exactly one of --accept and --reject REASON");
    uint64_t reason = 0;
    if (rej && (cli_parse_u64(rej, &reason) || reason > UINT32_MAX))
        return cli_usage_fail(ctx, "--reject '%s' is not a reason code (0..4294967295)", rej);
    b->accept = rej == NULL;
    b->reason = (uint32_t)reason;

    cli_submit s = {0};
    if ((rc = cli_tx_submit(ctx, a, &tx, &s)) || !s.result) return rc;
    json_t *c = s.included_ok ? get_by_id(ctx, "contribution_get", b->contribution) : NULL;
    return finish(ctx, &s, "contribution", c, cli_attr_print_contribution);
}

/* ---- model register ---- */

/* --attestor: 32-byte hex public key, devN, or a keystore name (its public
 * key is in clear: no passphrase). Default: the --from key. */
static int attestor_key(cli_ctx *ctx, const cli_args *a, uint8_t pk[32])
{
    const char *v = a->opt[CLI_OPT_ATTESTOR] ? a->opt[CLI_OPT_ATTESTOR] : a->opt[CLI_OPT_FROM];
    util_err e;
    const char *hex = strncmp(v, "0x", 2) == 0 ? v + 2 : v;
    if (strlen(hex) == 64 && util_hex_decode_exact(pk, 32, hex) == 0) return 0;
    int dev = cli_dev_index(v);
    if (dev >= 0) {
        chain_keypair kp;
        if (chain_keypair_dev(&kp, (uint32_t)dev)) return cli_fail(ctx, "cannot derive %s", v);
        memcpy(pk, kp.pubkey, 32);
        chain_keypair_clear(&kp);
        return 0;
    }
    if (strncasecmp(v, "ol1", 3) == 0)
        return cli_usage_fail(ctx, "--attestor needs a public key or a key name: an address "
                                   "does not say which key signs");
    char dir[4096];
    cli_keyinfo info;
    if (cli_keystore_dir(ctx, dir, sizeof dir, &e) || cli_key_name_valid(v, &e) ||
        cli_keystore_load(dir, v, NULL, &info, &e))
        return cli_fail(ctx, "--attestor '%s': %s", v, e.msg);
    memcpy(pk, info.pubkey, 32);
    return 0;
}

static int parse_split(cli_ctx *ctx, const char *s, chain_tx_model_register *b)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", s);
    uint64_t v[3];
    char *p = buf;
    for (int i = 0; i < 3; i++) {
        char *end = strchr(p, '/');
        if ((i < 2) != (end != NULL)) goto bad;
        if (end) *end = 0;
        if (cli_parse_u64(p, &v[i]) || v[i] > CHAIN_BP_TOTAL) goto bad;
        p = end ? end + 1 : p;
    }
    b->owner_bp = (uint16_t)v[0];
    b->validators_bp = (uint16_t)v[1];
    b->contributors_bp = (uint16_t)v[2];
    if (v[0] + v[1] + v[2] != CHAIN_BP_TOTAL)
        return cli_usage_fail(ctx, "--split '%s' sums to %llu basis points, not %d", s,
                              (unsigned long long)(v[0] + v[1] + v[2]), CHAIN_BP_TOTAL);
    return 0;
bad:
    return cli_usage_fail(ctx,
                          "--split '%s' is not OWNER/VALIDATORS/CONTRIBUTORS in basis points "
                          "(e.g. 2000/1000/7000)",
                          s);
}

static int model_register(cli_ctx *ctx, const cli_args *a, chain_tx *tx)
{
    chain_tx_model_register *b = &tx->body.model_register;
    const char *name = a->pos[0], *ds[CLI_MAX_REPEAT];
    uint64_t ids[CHAIN_MODEL_MAX_DATANETS];
    int rc;
    if ((rc = set_text(ctx, "the name", &b->name, name, CHAIN_NAME_MAX))) return rc;
    int nd = cli_args_values(a, CLI_OPT_DATANET, ds, CLI_MAX_REPEAT);
    if (nd > CHAIN_MODEL_MAX_DATANETS)
        return cli_usage_fail(ctx, "a model has at most %d datanets", CHAIN_MODEL_MAX_DATANETS);
    for (int i = 0; i < nd; i++)
        if ((rc = parse_id(ctx, "--datanet", ds[i], &ids[i]))) return rc;
    if (chain_tx_set_datanets(b, ids, (uint32_t)nd)) return cli_fail(ctx, "out of memory");
    if ((rc = parse_split(ctx, a->opt[CLI_OPT_SPLIT], b))) return rc;
    if ((rc = attestor_key(ctx, a, b->attestor))) return rc;
    const char *rcv = a->opt[CLI_OPT_REWARD_CONTRACT];
    util_err e;
    if (rcv && chain_addr_decode(&b->reward_contract, rcv, &e))
        return cli_usage_fail(ctx, "--reward-contract '%s': %s", rcv, e.msg);
    char owner[CHAIN_ADDR_STR_LEN + 1];
    if ((rc = from_address(ctx, a, owner))) return rc;

    cli_submit s = {0};
    if ((rc = cli_tx_submit(ctx, a, tx, &s)) || !s.result) return rc;
    json_t *m = NULL;
    match_created mc = {owner, name, 0};
    if (s.included_ok && block_height(&s, &mc.height) == 0) {
        json_t *f = json_pack("{s:s}", "owner", owner);
        m = cli_attr_find(ctx, "model_list", f, match_created_fn, &mc, FIND_PAGES, &e);
        json_decref(f);
    }
    return finish(ctx, &s, "model", m, cli_attr_print_model);
}

int cli_cmd_model_register(cli_ctx *ctx, const cli_args *a)
{
    return with_tx(ctx, a, CHAIN_TX_MODEL_REGISTER, model_register);
}

/* ---- attribute ---- */

/* jansson reads a bare integer above INT64_MAX as an error (or, with
 * JSON_DECODE_INT_AS_REAL, as a double that loses the low digits). Weights
 * and ids are u64: every bare integer too large for an int64 is put in quotes
 * before parsing, so its exact digits reach cli_parse_u64, which takes values
 * up to 2^64-1 and refuses the rest. Strings are skipped with their escapes;
 * negative numbers, fractions and exponents are left to the JSON parser and
 * the entry checks. Returns a malloc'd copy (*outlen bytes), or NULL when out
 * of memory. */
static char *quote_big_ints(const char *in, size_t n, size_t *outlen)
{
    /* Each quoted integer has at least 19 digits and gains 2 bytes. */
    char *out = malloc(n + 2 * (n / 19 + 1) + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char c = in[i];
        if (c == '"') {
            size_t j = i + 1;
            while (j < n && in[j] != '"')
                j += in[j] == '\\' ? 2 : 1;
            j = j < n ? j + 1 : n;
            memcpy(out + o, in + i, j - i);
            o += j - i;
            i = j;
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + 1, digits = c != '-';
            while (j < n && ((in[j] >= '0' && in[j] <= '9') || in[j] == '.' || in[j] == 'e' ||
                             in[j] == 'E' || in[j] == '+' || in[j] == '-')) {
                digits += in[j] >= '0' && in[j] <= '9';
                j++;
            }
            size_t len = j - i;
            int plain = c != '-' && c != '0' && digits == len;
            int big =
                plain && (len > 19 || (len == 19 && memcmp(in + i, "9223372036854775807", 19) > 0));
            if (big) out[o++] = '"';
            memcpy(out + o, in + i, len);
            o += len;
            if (big) out[o++] = '"';
            i = j;
        } else {
            out[o++] = c;
            i++;
        }
    }
    out[o] = 0;
    *outlen = o;
    return out;
}

/* 0, or -1 not a whole number, -2 a whole number above 2^64-1. */
static int entry_u64(json_t *v, uint64_t *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = (uint64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_string(v)) return -1;
    const char *s = json_string_value(v);
    if (cli_parse_u64(s, out) == 0) return 0;
    return s[0] && strspn(s, "0123456789") == strlen(s) ? -2 : -1;
}

static int read_text(cli_ctx *ctx, const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return cli_fail(ctx, "--entries %s: %s", path, strerror(errno));
    util_buf b;
    util_buf_init(&b);
    char chunk[8192];
    size_t n;
    int bad = 0;
    while (!bad && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        bad = b.len + n > ENTRIES_FILE_MAX;
        util_buf_put(&b, chunk, n);
    }
    bad = bad || ferror(f) || b.oom;
    fclose(f);
    if (bad) {
        util_buf_free(&b);
        return cli_fail(ctx, "--entries %s: cannot read it, or larger than %d bytes", path,
                        ENTRIES_FILE_MAX);
    }
    *text = (char *)b.data;
    *len = b.len;
    return CLI_EXIT_OK;
}

/* [{"contribution": ID, "weight": N}, ...]; whole numbers up to 2^64-1, bare
 * or as decimal strings. */
static int read_entries(cli_ctx *ctx, const char *path, chain_tx_attribute *b)
{
    char *raw = NULL, *text;
    size_t rawlen = 0, len = 0;
    int rc = read_text(ctx, path, &raw, &rawlen);
    if (rc) return rc;
    text = quote_big_ints(raw ? raw : "", rawlen, &len);
    free(raw);
    if (!text) return cli_fail(ctx, "out of memory");
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!doc) return cli_fail(ctx, "--entries %s: line %d: %s", path, je.line, je.text);
    size_t n = json_array_size(doc);
    if (!json_is_array(doc)) {
        rc = cli_fail(ctx, "--entries %s: expected a JSON array of entries", path);
    } else if (n > CHAIN_ATTR_MAX_ENTRIES) {
        rc = cli_fail(ctx, "--entries %s: too_many_entries: %zu entries, at most %d", path, n,
                      CHAIN_ATTR_MAX_ENTRIES);
    } else if (n && !(b->entries = calloc(n, sizeof *b->entries))) {
        rc = cli_fail(ctx, "out of memory");
    }
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *it = json_array_get(doc, i);
        chain_attr_entry *en = &b->entries[i];
        static const char *const field[2] = {"contribution", "weight"};
        uint64_t *dst[2] = {&en->contribution, &en->weight};
        int bad = !json_is_object(it) || json_object_size(it) != 2;
        for (int k = 0; !bad && k < 2; k++) {
            json_t *v = json_object_get(it, field[k]);
            bad = entry_u64(v, dst[k]);
            if (bad == -2)
                rc = cli_fail(ctx,
                              "--entries %s: entry %zu: %s %s is above the largest value, "
                              "18446744073709551615 (2^64-1)",
                              path, i, field[k], json_string_value(v));
        }
        if (bad && !rc)
            rc = cli_fail(ctx,
                          "--entries %s: entry %zu must be {\"contribution\": ID, \"weight\": N} "
                          "with whole numbers",
                          path, i);
    }
    if (rc) {
        free(b->entries);
        b->entries = NULL;
    }
    b->nentries = rc ? 0 : (uint32_t)n;
    json_decref(doc);
    return rc;
}

static int match_tx_fn(const json_t *it, void *arg)
{
    const char *tx = json_string_value(json_object_get(it, "tx"));
    return tx && strcmp(tx, arg) == 0;
}

int cli_cmd_attribute(cli_ctx *ctx, const cli_args *a)
{
    chain_tx tx;
    memset(&tx, 0, sizeof tx);
    tx.type = CHAIN_TX_ATTRIBUTE;
    chain_tx_attribute *b = &tx.body.attribute;
    int rc;
    const char *v;
    if ((rc = parse_id(ctx, "--model", a->opt[CLI_OPT_MODEL], &b->model))) return rc;
    if (util_amount_parse_open(a->opt[CLI_OPT_FEE], &b->fee))
        return cli_usage_fail(ctx, "--fee '%s' is not an OPEN amount (e.g. 2.5)",
                              a->opt[CLI_OPT_FEE]);
    if ((rc = parse_hash_opt(ctx, a, CLI_OPT_OUTPUT_HASH, b->output_hash)) ||
        (rc = parse_hash_opt(ctx, a, CLI_OPT_EVIDENCE_HASH, b->evidence_hash)))
        return rc;
    b->method = CHAIN_ATTR_OTHER;
    if ((v = a->opt[CLI_OPT_METHOD])) {
        if (strcmp(v, "gradient") == 0)
            b->method = CHAIN_ATTR_GRADIENT;
        else if (strcmp(v, "suffix-array") == 0)
            b->method = CHAIN_ATTR_SUFFIX_ARRAY;
        else if (strcmp(v, "other") != 0)
            return cli_usage_fail(ctx, "--method '%s': gradient, suffix-array or other", v);
    }
    if ((rc = read_entries(ctx, a->opt[CLI_OPT_ENTRIES], b))) return rc;

    uint64_t model = b->model;
    cli_submit s = {.extra_gas =
                        CLI_ATTR_VM_GAS_BASE + (uint64_t)CLI_ATTR_VM_GAS_PER_ENTRY * b->nentries};
    rc = cli_tx_submit(ctx, a, &tx, &s);
    chain_tx_free(&tx);
    if (rc || !s.result) return rc;
    json_t *rec = NULL;
    util_err e = {0};
    if (s.included_ok) {
        json_t *f = json_pack("{s:I}", "model", (json_int_t)model);
        rec = cli_attr_find(ctx, "attribution_list", f, match_tx_fn, s.txid, FIND_PAGES, &e);
        json_decref(f);
    }
    return finish(ctx, &s, "record", rec, cli_attr_print_record);
}
