/* The peer book: known addresses and bans by node id, kept as JSON in the
 * datadir and replaced atomically (p2p/book.h, docs/p2p.md). */
#include "p2p/book.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/hex.h"

#define BOOK_VERSION 1

struct p2p_book {
    const util_env *env;
    char *path;
    p2p_book_addr *addrs;
    size_t n_addrs;
    p2p_ban *bans;
    size_t n_bans;
    int dirty;
};

p2p_book *p2p_book_new(const util_env *env, const char *path)
{
    p2p_book *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->env = env;
    b->addrs = calloc(P2P_BOOK_MAX_ADDRS, sizeof *b->addrs);
    b->bans = calloc(P2P_BOOK_MAX_BANS, sizeof *b->bans);
    if (path) b->path = strdup(path);
    if (!b->addrs || !b->bans || (path && !b->path)) {
        p2p_book_free(b);
        return NULL;
    }
    return b;
}

void p2p_book_free(p2p_book *b)
{
    if (!b) return;
    free(b->addrs);
    free(b->bans);
    free(b->path);
    free(b);
}

int p2p_book_dirty(const p2p_book *b)
{
    return b->dirty;
}

static p2p_book_addr *find_addr(const p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN])
{
    for (size_t i = 0; i < b->n_addrs; i++)
        if (memcmp(b->addrs[i].a.id, id, P2P_NODE_ID_LEN) == 0) return &b->addrs[i];
    return NULL;
}

const p2p_book_addr *p2p_book_find(const p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN])
{
    return find_addr(b, id);
}

size_t p2p_book_count(const p2p_book *b)
{
    return b->n_addrs;
}

const p2p_book_addr *p2p_book_at(const p2p_book *b, size_t i)
{
    return i < b->n_addrs ? &b->addrs[i] : NULL;
}

/* The entry to give up when the book is full: one never reached with the
 * most failures, else the one reached longest ago. */
static size_t evict_index(const p2p_book *b)
{
    size_t best = 0;
    for (size_t i = 1; i < b->n_addrs; i++) {
        const p2p_book_addr *x = &b->addrs[i], *y = &b->addrs[best];
        if (x->last_ok_ms < y->last_ok_ms ||
            (x->last_ok_ms == y->last_ok_ms && x->failures > y->failures))
            best = i;
    }
    return best;
}

static void remove_at(p2p_book *b, size_t i)
{
    memmove(&b->addrs[i], &b->addrs[i + 1], (b->n_addrs - i - 1) * sizeof *b->addrs);
    b->n_addrs--;
    b->dirty = 1;
}

void p2p_book_add(p2p_book *b, const p2p_peer_addr *a)
{
    p2p_book_addr *e = find_addr(b, a->id);
    if (e) {
        if (strcmp(e->a.host, a->host) != 0 || e->a.port != a->port) {
            e->a = *a;
            e->failures = 0;
            e->next_try_ms = 0;
            b->dirty = 1;
        }
        return;
    }
    if (b->n_addrs == P2P_BOOK_MAX_ADDRS) remove_at(b, evict_index(b));
    e = &b->addrs[b->n_addrs++];
    memset(e, 0, sizeof *e);
    e->a = *a;
    b->dirty = 1;
}

void p2p_book_remove(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN])
{
    p2p_book_addr *e = find_addr(b, id);
    if (e) remove_at(b, (size_t)(e - b->addrs));
}

void p2p_book_mark_ok(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t now_ms)
{
    p2p_book_addr *e = find_addr(b, id);
    if (!e) return;
    e->last_ok_ms = now_ms;
    e->failures = 0;
    e->next_try_ms = 0;
    b->dirty = 1;
}

void p2p_book_mark_failed(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t now_ms,
                          uint64_t backoff_ms, uint64_t max_ms)
{
    p2p_book_addr *e = find_addr(b, id);
    if (!e) return;
    if (e->failures < UINT32_MAX) e->failures++;
    uint64_t d = backoff_ms;
    for (uint32_t i = 1; i < e->failures && d < max_ms; i++)
        d *= 2;
    e->next_try_ms = now_ms + (d < max_ms ? d : max_ms);
    b->dirty = 1;
}

void p2p_book_ban(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t until_ms,
                  const char *reason)
{
    p2p_ban *x = NULL;
    for (size_t i = 0; i < b->n_bans; i++)
        if (memcmp(b->bans[i].id, id, P2P_NODE_ID_LEN) == 0) x = &b->bans[i];
    if (x && x->until_ms >= until_ms) return;
    if (!x && b->n_bans == P2P_BOOK_MAX_BANS) {
        size_t first = 0;
        for (size_t i = 1; i < b->n_bans; i++)
            if (b->bans[i].until_ms < b->bans[first].until_ms) first = i;
        x = &b->bans[first];
    } else if (!x) {
        x = &b->bans[b->n_bans++];
    }
    memcpy(x->id, id, P2P_NODE_ID_LEN);
    x->until_ms = until_ms;
    snprintf(x->reason, sizeof x->reason, "%s", reason ? reason : "");
    b->dirty = 1;
}

const p2p_ban *p2p_book_banned(p2p_book *b, const uint8_t id[P2P_NODE_ID_LEN], uint64_t now_ms)
{
    for (size_t i = 0; i < b->n_bans; i++) {
        if (memcmp(b->bans[i].id, id, P2P_NODE_ID_LEN) != 0) continue;
        if (b->bans[i].until_ms > now_ms) return &b->bans[i];
        b->bans[i] = b->bans[--b->n_bans];
        b->dirty = 1;
        return NULL;
    }
    return NULL;
}

size_t p2p_book_ban_count(const p2p_book *b)
{
    return b->n_bans;
}

/* Reading. A book is written only by this code, so anything unexpected means
 * the file is not ours (or was edited badly): refused, with what was wrong,
 * rather than half-loaded. */
static int get_id(json_t *o, const char *key, uint8_t id[P2P_NODE_ID_LEN])
{
    const char *s = json_string_value(json_object_get(o, key));
    return s && strlen(s) == 2 * P2P_NODE_ID_LEN && strncmp(s, "0x", 2) != 0 &&
                   util_hex_decode_exact(id, P2P_NODE_ID_LEN, s) == 0
               ? 0
               : -1;
}

static int get_u64(json_t *o, const char *key, uint64_t max, uint64_t *v)
{
    json_t *x = json_object_get(o, key);
    if (!json_is_integer(x) || json_integer_value(x) < 0 || (uint64_t)json_integer_value(x) > max)
        return -1;
    *v = (uint64_t)json_integer_value(x);
    return 0;
}

static int load_json(p2p_book *b, json_t *root, uint64_t now_ms, util_err *err)
{
    uint64_t version = 0;
    json_t *addrs = json_object_get(root, "addrs"), *bans = json_object_get(root, "bans");
    if (!json_is_object(root) || get_u64(root, "version", UINT32_MAX, &version) != 0 ||
        version != BOOK_VERSION || !json_is_array(addrs) || !json_is_array(bans))
        return util_err_set(err, UTIL_EINVAL, "not a peer book (version %d)", BOOK_VERSION);
    size_t i;
    json_t *e;
    json_array_foreach(addrs, i, e)
    {
        p2p_book_addr a;
        memset(&a, 0, sizeof a);
        const char *host = json_string_value(json_object_get(e, "host"));
        uint64_t port = 0, failures = 0;
        if (get_id(e, "id", a.a.id) != 0 || !host || !*host || strlen(host) > P2P_HOST_MAX ||
            get_u64(e, "port", 65535, &port) != 0 || port == 0 ||
            get_u64(e, "last_ok_ms", UINT64_MAX, &a.last_ok_ms) != 0 ||
            get_u64(e, "failures", UINT32_MAX, &failures) != 0)
            return util_err_set(err, UTIL_EINVAL, "addrs[%zu] is malformed", i);
        memcpy(a.a.host, host, strlen(host) + 1);
        a.a.port = (uint16_t)port;
        a.failures = (uint32_t)failures;
        if (find_addr(b, a.a.id)) continue;
        if (b->n_addrs == P2P_BOOK_MAX_ADDRS) remove_at(b, evict_index(b));
        b->addrs[b->n_addrs++] = a;
    }
    json_array_foreach(bans, i, e)
    {
        uint8_t id[P2P_NODE_ID_LEN];
        uint64_t until = 0;
        const char *reason = json_string_value(json_object_get(e, "reason"));
        if (get_id(e, "id", id) != 0 || get_u64(e, "until_ms", UINT64_MAX, &until) != 0 || !reason)
            return util_err_set(err, UTIL_EINVAL, "bans[%zu] is malformed", i);
        if (until > now_ms) p2p_book_ban(b, id, until, reason);
    }
    return 0;
}

int p2p_book_load(p2p_book *b, uint64_t now_ms, util_err *err)
{
    b->n_addrs = b->n_bans = 0;
    b->dirty = 0;
    if (!b->path) return 0;
    char *text = NULL;
    size_t n = 0;
    unsigned mode = 0;
    int rc = util_env_read_file(b->env, b->path, P2P_BOOK_FILE_MAX, &text, &n, &mode, err);
    if (rc == UTIL_ENOTFOUND) {
        util_err_clear(err);
        return 0;
    }
    if (rc != 0) return rc;
    json_error_t je;
    json_t *root = json_loadb(text, n, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!root)
        return util_err_set(err, UTIL_EINVAL, "peer book %s: %s (line %d)", b->path, je.text,
                            je.line);
    rc = load_json(b, root, now_ms, err);
    json_decref(root);
    if (rc != 0) {
        b->n_addrs = b->n_bans = 0;
        return util_err_prefix(err, "peer book %s: ", b->path);
    }
    /* Expired bans were dropped on the way in: the file is out of date. */
    b->dirty = 0;
    return 0;
}

static json_t *to_json(const p2p_book *b)
{
    json_t *root = json_object(), *addrs = json_array(), *bans = json_array();
    int bad = !root || !addrs || !bans;
    char hex[2 * P2P_NODE_ID_LEN + 1];
    for (size_t i = 0; !bad && i < b->n_addrs; i++) {
        const p2p_book_addr *a = &b->addrs[i];
        util_hex_encode(hex, a->a.id, P2P_NODE_ID_LEN);
        bad |= json_array_append_new(addrs, json_pack("{s:s, s:s, s:i, s:I, s:I}", "id", hex,
                                                      "host", a->a.host, "port", (int)a->a.port,
                                                      "last_ok_ms", (json_int_t)a->last_ok_ms,
                                                      "failures", (json_int_t)a->failures));
    }
    for (size_t i = 0; !bad && i < b->n_bans; i++) {
        const p2p_ban *x = &b->bans[i];
        util_hex_encode(hex, x->id, P2P_NODE_ID_LEN);
        bad |= json_array_append_new(bans, json_pack("{s:s, s:I, s:s}", "id", hex, "until_ms",
                                                     (json_int_t)x->until_ms, "reason", x->reason));
    }
    if (!bad) {
        bad |= json_object_set_new(root, "version", json_integer(BOOK_VERSION));
        bad |= json_object_set(root, "addrs", addrs);
        bad |= json_object_set(root, "bans", bans);
    }
    json_decref(addrs);
    json_decref(bans);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}

int p2p_book_save(p2p_book *b, util_err *err)
{
    if (!b->path) return 0;
    json_t *root = to_json(b);
    char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (!text) return util_err_set(err, UTIL_ENOMEM, "peer book: out of memory");
    size_t plen = strlen(b->path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(text);
        return util_err_set(err, UTIL_ENOMEM, "peer book: out of memory");
    }
    memcpy(tmp, b->path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    /* create_file writes, syncs and links the temporary file durably; a
     * leftover from a crash is stale by definition. rename then replaces the
     * book in one step, and the directory sync makes the rename durable. */
    unlink(tmp);
    int rc = util_env_create_file(b->env, tmp, text, strlen(text), 0600, err);
    free(text);
    if (rc == 0 && rename(tmp, b->path) != 0) {
        rc = util_err_set(err, UTIL_EIO, "peer book: cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
    }
    if (rc == 0) {
        char *slash = strrchr(b->path, '/');
        char dir[4096];
        if (!slash)
            snprintf(dir, sizeof dir, ".");
        else
            snprintf(dir, sizeof dir, "%.*s", (int)(slash == b->path ? 1 : slash - b->path),
                     b->path);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            if (fsync(fd) != 0) rc = util_err_set(err, UTIL_EIO, "peer book: fsync %s", dir);
            close(fd);
        }
    }
    free(tmp);
    if (rc == 0) b->dirty = 0;
    return rc;
}
