/* A bounded, thread-safe cache of verified contract programs, keyed by the
 * SHA-256 of the code (docs/contracts.md, "Verified programs are cached").
 *
 * Code is verified once when it is deployed, but the interpreter needs the
 * vm_program that vm_verify builds (decoded instructions and the static gas
 * of every basic block), which used to be rebuilt on every call: ~85 us for a
 * 24 KiB contract. The cache keeps those programs.
 *
 * The cache only saves CPU; it never changes a result. Its key is the hash of
 * the exact bytes being run, so code that differs in any byte (a corrupt
 * store, another contract) is verified on its own, and a miss verifies just
 * as an uncached call did. Hashing 24 KiB costs ~16 us, most of what a
 * cached call costs, so the cache also remembers, per contract address, the
 * hash of the code last run there, and keeps a copy of each program's code:
 * a call whose code is byte for byte that copy (memcmp, ~1 us) is a hit
 * without hashing. The address is only a hint; a hit always means the same
 * bytes. Consensus gas must never depend on it: different
 * nodes have different cache contents (the code-load gas a call pays is
 * charged per byte of code, hit or miss, chain/exec/contract.h).
 *
 * Bounded by bytes: the sum of vm_program_mem of the cached programs, their
 * code and CHAIN_CODE_CACHE_ENTRY_BYTES each stays at or below max_bytes; the least recently
 * used programs are evicted first. A program larger than max_bytes is
 * verified and returned but not cached.
 *
 * Thread-safe: the block producer, admission dry runs on worker threads and
 * read-only calls on RPC threads share one cache (the store's). A mutex
 * guards the table; hashing and verifying run outside it. Programs handed out
 * are references (vm_program_ref): eviction never frees a program a caller
 * still runs. */
#ifndef OL_CHAIN_CODECACHE_H
#define OL_CHAIN_CODECACHE_H

#include <stddef.h>
#include <stdint.h>

#include "util/env.h"
#include "util/err.h"
#include "vm/vm.h"

/* What each cached program counts besides vm_program_mem: its entry. */
#define CHAIN_CODE_CACHE_ENTRY_BYTES 128

/* The store's cache: about 490 programs of the maximum code size (24,576
 * bytes of code and ~110 KiB of program each), thousands of typical ones.
 * The address hints add at most ~4 MiB. */
#define CHAIN_CODE_CACHE_BYTES ((size_t)64 << 20)

typedef struct chain_code_cache chain_code_cache;

/* NULL when out of memory. The seed of the cache's bucket hash is drawn
 * from env's randomness (NULL: util_env_default()). */
OL_MUST_CHECK chain_code_cache *chain_code_cache_new_env(size_t max_bytes, const util_env *env);
/* chain_code_cache_new_env with the default environment. */
OL_MUST_CHECK chain_code_cache *chain_code_cache_new(size_t max_bytes);
/* Drops the cache's references; programs still held by callers stay valid. */
void chain_code_cache_free(chain_code_cache *c);

#define CHAIN_CODE_CACHE_ADDR_LEN 20

/* The verified program of code: the cached one when a program for
 * SHA-256(code) is cached, else vm_verify(code) (cached on success). `where`
 * (CHAIN_CODE_CACHE_ADDR_LEN bytes, or NULL) is the address the code is
 * stored at, a hint that saves hashing it. *out is a reference the caller
 * releases with vm_program_free. Returns 0, or vm_verify's error (UTIL_EINVAL
 * with its message: the code does not verify; UTIL_ENOMEM). c may be NULL:
 * then it only verifies. */
OL_MUST_CHECK int chain_code_cache_get(chain_code_cache *c, const uint8_t *where,
                                       const uint8_t *code, size_t len, vm_program **out,
                                       util_err *err);

/* Empties the cache (tests: a cold cache). */
void chain_code_cache_clear(chain_code_cache *c);

typedef struct chain_code_cache_stats {
    uint64_t hits, misses, evictions;
    size_t entries;
    size_t bytes, max_bytes;
} chain_code_cache_stats;

void chain_code_cache_get_stats(chain_code_cache *c, chain_code_cache_stats *out);

#endif
