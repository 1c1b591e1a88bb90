/* `openledgerd export-blocks` and `openledgerd import-blocks`: committed
 * blocks with their commits, written to a file by one node and applied by
 * another through the block executor's validate and apply, the path every
 * block takes. The file format is chain/types/blockfile.h (docs/blocks.md,
 * "Block files"); this file is the commands' wiring. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chain/exec/blockexec.h"
#include "chain/crypto/hash.h"
#include "chain/types/blockfile.h"
#include "node/node.h"
#include "util/amount.h"
#include "util/hex.h"
#include "util/time.h"

#define PROGRESS_EVERY 1000

typedef struct blockio_args {
    char datadir[PATH_MAX];
    char genesis[PATH_MAX];
    char file[PATH_MAX];
    uint64_t from, to;
    int have_to;
} blockio_args;

static void usage(const char *cmd)
{
    if (strcmp(cmd, "export-blocks") == 0)
        printf("Usage: openledgerd export-blocks --datadir DIR --out FILE [--from H] [--to H]\n"
               "                                [--genesis FILE]\n\n"
               "Writes committed blocks H..H (default: 1 to the head) with their commits to\n"
               "FILE ('-' for standard output). The node must not be running on DIR.\n");
    else
        printf("Usage: openledgerd import-blocks --datadir DIR --in FILE [--genesis FILE]\n\n"
               "Validates and applies the blocks of FILE ('-' for standard input), written by\n"
               "export-blocks, on top of DIR's chain, each through the block executor's\n"
               "validate and apply (docs/blocks.md). Blocks the store already holds are\n"
               "skipped if identical. Stops at the first invalid block, with its reason.\n");
    printf("\nWithout --genesis the embedded devnet genesis is used (as with --dev).\n");
}

static int parse_args(blockio_args *a, const char *cmd, int argc, char **argv, util_err *err)
{
    memset(a, 0, sizeof *a);
    enum { O_DATADIR = 256, O_GENESIS, O_FILE, O_FROM, O_TO };
    int is_export = strcmp(cmd, "export-blocks") == 0;
    const struct option opts[] = {
        {"datadir", required_argument, 0, O_DATADIR},
        {"genesis", required_argument, 0, O_GENESIS},
        {is_export ? "out" : "in", required_argument, 0, O_FILE},
        {"from", required_argument, 0, O_FROM},
        {"to", required_argument, 0, O_TO},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        const char *v = optarg;
        switch (c) {
        case O_DATADIR:
        case O_GENESIS:
        case O_FILE: {
            char *dst = c == O_DATADIR ? a->datadir : c == O_GENESIS ? a->genesis : a->file;
            if (strlen(v) >= PATH_MAX) return util_err_set(err, 2, "%s: path too long", v);
            snprintf(dst, PATH_MAX, "%s", v);
            break;
        }
        case O_FROM:
        case O_TO:
            if (!is_export) return util_err_set(err, 2, "--from/--to belong to export-blocks");
            if (util_amount_parse_base(v, c == O_FROM ? &a->from : &a->to))
                return util_err_set(err, 2, "expected a block height, got '%s'", v);
            if (c == O_TO) a->have_to = 1;
            break;
        case 'h': usage(cmd); return 1;
        case ':': return util_err_set(err, 2, "%s needs a value", argv[optind - 1]);
        default:
            return util_err_set(err, 2, "unknown option '%s' (see %s --help)", argv[optind - 1],
                                cmd);
        }
    }
    if (optind < argc) return util_err_set(err, 2, "unexpected argument '%s'", argv[optind]);
    if (!a->datadir[0]) return util_err_set(err, 2, "--datadir is required");
    if (!a->file[0]) return util_err_set(err, 2, "--%s is required", is_export ? "out" : "in");
    return 0;
}

static int open_chain(const blockio_args *a, int import, chain_genesis *g, chain_store **st,
                      util_err *err)
{
    int rc;
    if (a->genesis[0])
        rc = chain_genesis_load_file(g, a->genesis, err);
    else {
        const char *js = chain_genesis_devnet_json();
        rc = chain_genesis_parse(g, js, strlen(js), err);
    }
    if (rc) return util_err_prefix(err, "genesis: ");
    char dir[PATH_MAX + 8];
    snprintf(dir, sizeof dir, "%s/chain", a->datadir);
    /* Importing into a new data directory creates it, as the node does;
     * exporting from one that does not exist is an error. */
    if (import && mkdir(a->datadir, 0700) && errno != EEXIST)
        return util_err_set(err, UTIL_EIO, "cannot create %s: %s", a->datadir, strerror(errno));
    if (!import && access(dir, F_OK))
        return util_err_set(err, UTIL_ENOTFOUND, "%s holds no chain", a->datadir);
    if ((rc = chain_store_open(st, dir, err))) {
        if (strstr(err->msg, "lock"))
            util_err_prefix(err, "is openledgerd running on %s? ", a->datadir);
        return rc;
    }
    if ((rc = chain_store_init_genesis(*st, g, err))) {
        chain_store_close(*st);
        *st = NULL;
    }
    return rc;
}

static void print_head(FILE *out, const char *what, chain_store *st)
{
    uint8_t id[32];
    char hid[65], root[65];
    chain_store_head_id(st, id);
    util_hex_encode(hid, id, 32);
    util_hex_encode(root, chain_store_head_header(st)->state_root, 32);
    fprintf(out, "%s: head %llu 0x%s state root 0x%s\n", what,
            (unsigned long long)chain_store_height(st), hid, root);
}

static int do_export(const blockio_args *a, chain_genesis *g, chain_store *st, util_err *err)
{
    uint64_t head = chain_store_height(st);
    uint64_t from = a->from ? a->from : 1, to = a->have_to ? a->to : head;
    if (to > head)
        return util_err_set(err, UTIL_ENOTFOUND, "--to %llu is past the head (%llu)",
                            (unsigned long long)to, (unsigned long long)head);
    if (from == 0 || from > to + 1)
        return util_err_set(err, UTIL_EINVAL, "nothing to export from %llu to %llu",
                            (unsigned long long)from, (unsigned long long)to);
    int to_stdout = strcmp(a->file, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(a->file, "wb");
    if (!f) return util_err_set(err, UTIL_EIO, "cannot create %s: %s", a->file, strerror(errno));
    FILE *log = to_stdout ? stderr : stdout;
    util_buf b;
    util_buf_init(&b);
    int rc = chain_blockfile_write_header(f, g->hash, err);
    for (uint64_t h = from; h <= to && !rc; h++) {
        uint8_t id[32];
        chain_block blk;
        chain_commit c;
        if ((rc = chain_store_block_id_at(st, h, id, err)) ||
            (rc = chain_store_get_commit(st, h, &c, err)) ||
            (rc = chain_store_get_block(st, id, &blk, NULL, err)))
            break;
        rc = chain_blockfile_write(f, &blk, &c, &b, err);
        chain_block_free(&blk);
        if (!rc && (h - from + 1) % PROGRESS_EVERY == 0)
            fprintf(log, "exported %llu blocks (height %llu of %llu)\n",
                    (unsigned long long)(h - from + 1), (unsigned long long)h,
                    (unsigned long long)to);
    }
    util_buf_free(&b);
    if (fflush(f) || ferror(f))
        rc = rc ? rc : util_err_set(err, UTIL_EIO, "writing %s failed", a->file);
    if (!to_stdout) fclose(f);
    if (!rc) {
        fprintf(log, "exported blocks %llu..%llu\n", (unsigned long long)from,
                (unsigned long long)to);
        print_head(log, "exported", st);
    }
    return rc;
}

/* One block from the file: skipped when the store already has it, else
 * validated and applied. */
static int import_one(const chain_blockexec *bx, chain_block *blk, const chain_commit *c,
                      int *applied, util_err *err)
{
    int rc;
    *applied = 0;
    uint64_t head = chain_store_height(bx->st);
    if (blk->h.height <= head) {
        uint8_t have[32], id[32];
        chain_header_hash(&blk->h, id);
        rc = chain_store_block_id_at(bx->st, blk->h.height, have, err);
        if (!rc && memcmp(have, id, 32) != 0)
            rc = util_err_set(err, UTIL_EINVAL, "block %llu differs from the one this store holds",
                              (unsigned long long)blk->h.height);
        return rc;
    }
    chain_block_result res;
    int reason;
    rc = chain_blockexec_validate(bx, blk, util_wall_ms(), &res, &reason, err);
    if (!rc) rc = chain_blockexec_apply(bx, blk, &res, c, &reason, err);
    if (rc) util_err_prefix(err, "block %llu: ", (unsigned long long)blk->h.height);
    *applied = rc == 0;
    chain_block_result_free(&res);
    return rc;
}

static int do_import(const blockio_args *a, chain_genesis *g, chain_store *st, util_err *err)
{
    int from_stdin = strcmp(a->file, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(a->file, "rb");
    if (!f) return util_err_set(err, UTIL_EIO, "cannot open %s: %s", a->file, strerror(errno));
    int rc = chain_blockfile_read_header(f, g->hash, a->file, err);
    chain_blockexec bx = {.g = g, .st = st};
    util_buf bb;
    util_buf_init(&bb);
    uint64_t applied = 0, seen = 0;
    while (!rc) {
        chain_block blk;
        chain_commit c;
        int eof;
        if ((rc = chain_blockfile_read(f, &blk, &c, &bb, &eof, err)) || eof) break;
        int ok;
        rc = import_one(&bx, &blk, &c, &ok, err);
        chain_block_free(&blk);
        if (rc) break;
        applied += (uint64_t)ok;
        if (++seen % PROGRESS_EVERY == 0)
            printf("imported %llu blocks, head %llu\n", (unsigned long long)applied,
                   (unsigned long long)chain_store_height(st));
    }
    util_buf_free(&bb);
    if (!from_stdin) fclose(f);
    printf("applied %llu blocks (%llu already held)\n", (unsigned long long)applied,
           (unsigned long long)(seen - applied));
    print_head(stdout, "imported", st);
    return rc;
}

int node_blockio_main(const char *cmd, int argc, char **argv)
{
    blockio_args a;
    util_err err = {0};
    int rc = parse_args(&a, cmd, argc, argv, &err);
    if (rc == 1) return 0;
    if (rc) {
        fprintf(stderr, "openledgerd %s: %s\n", cmd, err.msg);
        return 2;
    }
    chain_hash_init();
    chain_genesis g;
    memset(&g, 0, sizeof g);
    chain_store *st = NULL;
    rc = open_chain(&a, strcmp(cmd, "import-blocks") == 0, &g, &st, &err);
    if (!rc)
        rc = strcmp(cmd, "export-blocks") == 0 ? do_export(&a, &g, st, &err)
                                               : do_import(&a, &g, st, &err);
    if (rc) fprintf(stderr, "openledgerd %s: %s\n", cmd, err.msg);
    chain_store_close(st);
    chain_genesis_free(&g);
    return rc ? 1 : 0;
}
