/* The CLI's light-client checks of a header against a trusted genesis
 * (cli/light.h). */
#include "cli/light.h"

#include <string.h>

#include "chain/exec/blockexec.h"
#include "chain/state/store.h"
#include "util/hex.h"

int cli_light_genesis(chain_genesis *g, const char *path, util_err *err)
{
    if (path) return chain_genesis_load_file(g, path, err);
    const char *j = chain_genesis_devnet_json();
    return chain_genesis_parse(g, j, strlen(j), err);
}

int cli_light_verify(const chain_genesis *g, const chain_header *h, const chain_commit *commit,
                     util_err *err)
{
    if (strcmp(h->chain_id, g->chain_id) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header is for chain '%s', the trusted genesis is for '%s' (give "
                            "that network's genesis with --genesis FILE)",
                            h->chain_id, g->chain_id);
    if (memcmp(h->validators_hash, g->validators_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header's validatorsHash is not the trusted genesis validator "
                            "set's: it names validators this chain does not have");
    if (memcmp(h->next_validators_hash, g->validators_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header's nextValidatorsHash is not the trusted genesis validator "
                            "set's (the set does not change)");
    if (memcmp(h->consensus_params_hash, g->params_hash, 32) != 0)
        return util_err_set(err, UTIL_EINVAL,
                            "the header's consensusParamsHash is not the trusted genesis "
                            "parameters'");
    uint8_t id[32];
    chain_header_hash(h, id);
    if (h->height == 0) {
        /* Nobody signs block 0: the genesis defines it, state root included,
         * so it is rebuilt here and compared whole. */
        chain_header b0;
        uint8_t want[32];
        int rc = chain_genesis_block0(g, &b0, err);
        if (rc) return rc;
        chain_header_hash(&b0, want);
        if (memcmp(id, want, 32) != 0)
            return util_err_set(err, UTIL_EINVAL,
                                "the header claims to be block 0 but is not the trusted "
                                "genesis' block 0 (its state root or another field differs)");
        return 0;
    }
    util_err e = {0};
    if (chain_blockexec_verify_commit(g, h->height, id, commit, &e)) {
        char hex[65];
        util_hex_encode(hex, id, 32);
        return util_err_set(err, UTIL_EINVAL,
                            "no valid commit by more than 2/3 of the validators for header "
                            "0x%.16s... at height %llu: %s",
                            hex, (unsigned long long)h->height, e.msg);
    }
    return 0;
}
