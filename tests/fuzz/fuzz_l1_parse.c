/* libFuzzer target: the L1 answer parsers of rollup/l1/client.h on arbitrary
 * JSON. Each input goes to every parser (a block full and not, logs, a
 * receipt, a fee history); what they accept (blob hashes included) must respect the caps they were
 * given, and a refusal must say why. Seeded with real anvil answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "rollup/l1/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_INPUT 64
#define FZ_MAX_LOGS 8
#define FZ_MAX_DATA 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t je;
    json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
    if (!v) return 0;
    /* A saved JSON-RPC answer: parse its result. */
    json_t *res = json_object_get(v, "result");
    json_t *in = res ? res : v;
    util_err err = {0};

    for (int full = 0; full <= 1; full++) {
        rollup_l1_block b;
        memset(&b, 0, sizeof b);
        if (rollup_l1_parse_block(in, full, FZ_MAX_INPUT, &b, &err) == 0) {
            if (!full && b.txs) abort();
            for (size_t i = 0; i < b.ntx; i++)
                if (b.txs[i].input_len > FZ_MAX_INPUT || b.txs[i].index != i ||
                    (b.txs[i].input_len == 0) != (b.txs[i].input == NULL) ||
                    b.txs[i].nblob_hashes > 16 ||
                    (b.txs[i].type == 3) != (b.txs[i].nblob_hashes > 0) ||
                    (b.txs[i].nblob_hashes == 0) != (b.txs[i].blob_hashes == NULL))
                    abort();
            rollup_l1_block_free(&b);
        } else if (!err.msg[0]) {
            abort();
        }
        err.msg[0] = 0;
    }

    rollup_l1_log *logs = NULL;
    size_t n = 0;
    if (rollup_l1_parse_logs(in, FZ_MAX_LOGS, FZ_MAX_DATA, &logs, &n, &err) == 0) {
        if (n > FZ_MAX_LOGS) abort();
        for (size_t i = 0; i < n; i++)
            if (logs[i].data_len > FZ_MAX_DATA || logs[i].ntopics > ROLLUP_L1_MAX_TOPICS) abort();
        rollup_l1_logs_free(logs, n);
    } else if (!err.msg[0] || logs) {
        abort();
    }
    err.msg[0] = 0;

    rollup_l1_receipt r;
    if (rollup_l1_parse_receipt(in, &r, &err) == 0) {
        if (r.status != 0 && r.status != 1) abort();
    } else if (!err.msg[0]) {
        abort();
    }
    err.msg[0] = 0;

    rollup_l1_fees f;
    if (rollup_l1_parse_fee_history(in, &f, &err) == 0) {
        if (f.tip == 0) abort();
    } else if (!err.msg[0]) {
        abort();
    }

    uint64_t q;
    if (rollup_l1_parse_u64(in, &q, "q", &err) == 0) {
        /* Canonical: printing it back gives the same text. */
        json_t *back = rollup_l1_quantity(q);
        if (!back || strcasecmp(json_string_value(back), json_string_value(in)) != 0) abort();
        json_decref(back);
    }
    json_decref(v);
    return 0;
}
