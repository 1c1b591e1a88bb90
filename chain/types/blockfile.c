/* The block file format of export-blocks / import-blocks
 * (chain/types/blockfile.h). */
#include "chain/types/blockfile.h"

#include <string.h>

#include "util/hex.h"

#define MAGIC_LEN 8

int chain_blockfile_write_header(FILE *f, const uint8_t genesis_hash[32], util_err *err)
{
    if (fwrite(CHAIN_BLOCKFILE_MAGIC, 1, MAGIC_LEN, f) != MAGIC_LEN ||
        fwrite(genesis_hash, 1, 32, f) != 32)
        return util_err_set(err, UTIL_EIO, "writing the block file header failed");
    return 0;
}

static int put_record(FILE *f, const util_buf *b)
{
    uint8_t v[10];
    size_t vn = util_varint_put(v, b->len);
    return fwrite(v, 1, vn, f) != vn || fwrite(b->data, 1, b->len, f) != b->len;
}

int chain_blockfile_write(FILE *f, const chain_block *b, const chain_commit *c, util_buf *scratch,
                          util_err *err)
{
    util_buf_reset(scratch);
    if (chain_block_encode(b, scratch))
        return util_err_set(err, UTIL_ENOMEM, "encoding block %llu",
                            (unsigned long long)b->h.height);
    if (put_record(f, scratch)) return util_err_set(err, UTIL_EIO, "writing a block failed");
    util_buf_reset(scratch);
    if (chain_commit_encode(c, scratch))
        return util_err_set(err, UTIL_EINVAL, "encoding the commit of block %llu",
                            (unsigned long long)b->h.height);
    if (put_record(f, scratch)) return util_err_set(err, UTIL_EIO, "writing a commit failed");
    return 0;
}

int chain_blockfile_read_header(FILE *f, const uint8_t genesis_hash[32], const char *name,
                                util_err *err)
{
    uint8_t head[MAGIC_LEN + 32];
    if (fread(head, 1, sizeof head, f) != sizeof head ||
        memcmp(head, CHAIN_BLOCKFILE_MAGIC, MAGIC_LEN) != 0)
        return util_err_set(err, UTIL_EINVAL, "%s is not a block file (export-blocks writes one)",
                            name);
    if (memcmp(head + MAGIC_LEN, genesis_hash, 32) != 0) {
        char want[65], got[65];
        util_hex_encode(want, genesis_hash, 32);
        util_hex_encode(got, head + MAGIC_LEN, 32);
        return util_err_set(err, UTIL_EINVAL,
                            "%s holds blocks of genesis 0x%s, this chain's genesis is 0x%s", name,
                            got, want);
    }
    return 0;
}

/* One record (varint length, bytes) of at most max bytes; *eof = 1 (and 0
 * returned) when the file ends before its first byte. */
static int get_record(FILE *f, uint64_t max, util_buf *buf, const char *what, int *eof,
                      util_err *err)
{
    *eof = 0;
    uint8_t v[10];
    size_t n = 0;
    int ch;
    while (n < sizeof v && (ch = fgetc(f)) != EOF) {
        v[n++] = (uint8_t)ch;
        if (!(ch & 0x80)) break;
    }
    if (n == 0) {
        *eof = 1;
        return 0;
    }
    util_rd r;
    util_rd_init(&r, v, n);
    uint64_t len;
    if (util_rd_varint(&r, &len, max) || util_rd_end(&r))
        return util_err_set(err, UTIL_EINVAL, "%s: bad length prefix (%s)", what,
                            r.err ? r.err : "malformed");
    util_buf_reset(buf);
    if (util_buf_reserve(buf, (size_t)len)) return util_err_set(err, UTIL_ENOMEM, "out of memory");
    if (fread(buf->data, 1, (size_t)len, f) != len)
        return util_err_set(err, UTIL_EINVAL, "%s: truncated", what);
    buf->len = (size_t)len;
    return 0;
}

int chain_blockfile_read(FILE *f, chain_block *b, chain_commit *c, util_buf *scratch, int *eof,
                         util_err *err)
{
    int rc = get_record(f, CHAIN_BLOCK_MAX_SIZE, scratch, "block", eof, err);
    if (rc || *eof) return rc;
    if (chain_block_decode(b, scratch->data, scratch->len, err))
        return util_err_prefix(err, "malformed: ");
    int end;
    rc = get_record(f, CHAIN_BLOCKFILE_COMMIT_MAX, scratch, "commit", &end, err);
    if (!rc && end) rc = util_err_set(err, UTIL_EINVAL, "commit: missing at the end of the file");
    if (!rc) {
        util_rd r;
        util_rd_init(&r, scratch->data, scratch->len);
        rc = chain_commit_read(c, &r, err);
        if (!rc && util_rd_end(&r)) rc = util_err_set(err, UTIL_EINVAL, "commit: trailing bytes");
    }
    if (rc) {
        util_err_prefix(err, "block %llu: ", (unsigned long long)b->h.height);
        chain_block_free(b);
    }
    return rc;
}
