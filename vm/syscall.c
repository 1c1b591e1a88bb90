/* Host functions (SYS): argument checks, dynamic gas, and the calls into the
 * host table. Order inside every call: memory ranges, then arguments and
 * limits, then dynamic gas, then the effect; a call that faults charges no
 * dynamic gas and changes nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "vm/internal.h"
#include "vm/isa.h"

static int fault(vm_run *run, int status, const char *what)
{
    snprintf(run->res->detail, sizeof run->res->detail, "%s", what);
    return status;
}

static int need(vm_run *run, uint64_t p, uint64_t n, const char *fn)
{
    if (vm_range_ok(p, n)) return VM_OK;
    snprintf(run->res->detail, sizeof run->res->detail,
             "%s: %llu bytes at address %llu are outside memory", fn, (unsigned long long)n,
             (unsigned long long)p);
    return VM_E_MEMORY;
}

static int charge(vm_run *run, uint64_t *gas, uint64_t g)
{
    if (*gas < g) {
        *gas = 0;
        return fault(run, VM_E_GAS, "out of gas in a host call");
    }
    *gas -= g;
    return VM_OK;
}

static int push_event(vm_run *run, const vm_event *ev)
{
    vm_result *res = run->res;
    if (res->n_events == run->ev_cap) {
        size_t cap = run->ev_cap ? run->ev_cap * 2 : 16;
        vm_event *e = realloc(res->events, cap * sizeof *e);
        if (!e) return VM_RUN_ENOMEM;
        res->events = e;
        run->ev_cap = cap;
    }
    res->events[res->n_events++] = *ev;
    return VM_OK;
}

static int sys_pay(vm_run *run, uint64_t *reg)
{
    int rc = need(run, reg[1], VM_ADDR_LEN, "pay");
    if (rc) return rc;
    uint64_t amount = reg[2];
    if (amount == 0) return VM_OK;
    if (run->res->n_events >= VM_MAX_EVENTS)
        return fault(run, VM_E_EVENTS, "pay: the call already has the maximum number of events");
    vm_event ev = {.kind = VM_EVENT_PAY, .amount = amount};
    memcpy(ev.to, run->mem + reg[1], VM_ADDR_LEN);
    rc = run->h->pay(run->h->ctx, ev.to, amount);
    if (rc == VM_HOST_FUNDS) {
        snprintf(run->res->detail, sizeof run->res->detail,
                 "pay of %llu is more than the contract holds", (unsigned long long)amount);
        return VM_E_BALANCE;
    }
    if (rc != VM_HOST_OK) return VM_RUN_EIO;
    return push_event(run, &ev);
}

static int sys_emit(vm_run *run, uint64_t *reg, uint64_t *gas)
{
    uint64_t len = reg[3];
    int rc = need(run, reg[1], VM_KEY_LEN, "emit topic");
    if (!rc) rc = need(run, reg[2], len, "emit data");
    if (rc) return rc;
    if (len > VM_MAX_LOG_DATA) {
        snprintf(run->res->detail, sizeof run->res->detail,
                 "emit: %llu data bytes, over the limit of %d", (unsigned long long)len,
                 VM_MAX_LOG_DATA);
        return VM_E_EVENTS;
    }
    if (run->res->n_events >= VM_MAX_EVENTS)
        return fault(run, VM_E_EVENTS, "emit: the call already has the maximum number of events");
    if (run->evdata.len + len > VM_MAX_LOG_TOTAL)
        return fault(run, VM_E_EVENTS, "emit: total log data over the limit");
    rc = charge(run, gas, VM_GAS_LOG_WORD * vm_words(len));
    if (rc) return rc;
    vm_event ev = {
        .kind = VM_EVENT_LOG, .data_off = (uint32_t)run->evdata.len, .data_len = (uint32_t)len};
    memcpy(ev.topic, run->mem + reg[1], VM_KEY_LEN);
    util_buf_put(&run->evdata, run->mem + reg[2], (size_t)len);
    if (run->evdata.oom) return VM_RUN_ENOMEM;
    return push_event(run, &ev);
}

static int sys_storage(vm_run *run, uint64_t *reg, int store, uint64_t *gas)
{
    int rc = need(run, reg[1], VM_KEY_LEN, store ? "sstore key" : "sload key");
    if (!rc) rc = need(run, reg[2], VM_KEY_LEN, store ? "sstore value" : "sload value");
    if (rc) return rc;
    uint8_t key[VM_KEY_LEN], val[VM_KEY_LEN];
    memcpy(key, run->mem + reg[1], VM_KEY_LEN);
    if (store) {
        if (run->sstores >= VM_MAX_SSTORES) {
            snprintf(run->res->detail, sizeof run->res->detail,
                     "sstore: more than %d storage writes in one call", VM_MAX_SSTORES);
            return VM_E_STORAGE;
        }
        rc = charge(run, gas, (uint64_t)VM_GAS_SSTORE_BYTE * VM_SSTORE_BYTES);
        if (rc) return rc;
        memcpy(val, run->mem + reg[2], VM_KEY_LEN);
        if (run->h->sstore(run->h->ctx, key, val) != VM_HOST_OK) return VM_RUN_EIO;
        run->sstores++;
        return VM_OK;
    }
    rc = run->h->sload(run->h->ctx, key, val);
    if (rc < 0) return VM_RUN_EIO;
    if (rc == 0) memset(val, 0, sizeof val);
    memcpy(run->mem + reg[2], val, VM_KEY_LEN);
    reg[0] = rc ? 1 : 0;
    return VM_OK;
}

static int copy_out(vm_run *run, uint64_t dst, const void *src, size_t n, const char *fn)
{
    int rc = need(run, dst, n, fn);
    if (rc) return rc;
    memcpy(run->mem + dst, src, n);
    return VM_OK;
}

static int sys_record(vm_run *run, uint64_t *reg, int64_t no)
{
    const vm_record *rec = run->env->record;
    if (!rec) return fault(run, VM_E_HOST, "no attribution record is being settled");
    uint8_t buf[36];
    switch (no) {
    case SYS_REC_ID: reg[0] = rec->id; return VM_OK;
    case SYS_REC_MODEL: reg[0] = rec->model; return VM_OK;
    case SYS_REC_FEE: reg[0] = rec->fee; return VM_OK;
    case SYS_REC_COUNT: reg[0] = rec->n_entries; return VM_OK;
    case SYS_REC_OWNER: return copy_out(run, reg[1], rec->owner, VM_ADDR_LEN, "rec_owner");
    case SYS_REC_VALIDATORS:
        return copy_out(run, reg[1], rec->validators, VM_ADDR_LEN, "rec_validators");
    case SYS_REC_SPLIT:
        util_put_u64le(buf, rec->owner_bp);
        util_put_u64le(buf + 8, rec->validators_bp);
        util_put_u64le(buf + 16, rec->contributors_bp);
        return copy_out(run, reg[1], buf, 24, "rec_split");
    default: break; /* SYS_REC_ENTRY */
    }
    int rc = need(run, reg[2], sizeof buf, "rec_entry");
    if (rc) return rc;
    if (reg[1] >= rec->n_entries) {
        snprintf(run->res->detail, sizeof run->res->detail,
                 "rec_entry: index %llu, the record has %zu entries", (unsigned long long)reg[1],
                 rec->n_entries);
        return VM_E_HOST;
    }
    const vm_entry *e = &rec->entries[reg[1]];
    util_put_u64le(buf, e->contribution);
    util_put_u64le(buf + 8, e->weight);
    memcpy(buf + 16, e->addr, VM_ADDR_LEN);
    memcpy(run->mem + reg[2], buf, sizeof buf);
    reg[0] = e->weight;
    return VM_OK;
}

int vm_syscall(vm_run *run, uint64_t *reg, int64_t no, uint64_t *gas)
{
    const vm_env *env = run->env;
    int rc;
    switch (no) {
    case SYS_CALLER: return copy_out(run, reg[1], env->caller, VM_ADDR_LEN, "caller");
    case SYS_SELF: return copy_out(run, reg[1], env->self, VM_ADDR_LEN, "self");
    case SYS_VALUE: reg[0] = env->value; return VM_OK;
    case SYS_INPUT_SIZE: reg[0] = env->input_len; return VM_OK;
    case SYS_HEIGHT: reg[0] = env->height; return VM_OK;
    case SYS_TIME: reg[0] = env->time_ms; return VM_OK;
    case SYS_REC_HAS: reg[0] = env->record != NULL; return VM_OK;
    case SYS_INPUT: {
        uint64_t dst = reg[1], off = reg[2], len = reg[3];
        rc = need(run, dst, len, "input");
        if (rc) return rc;
        if (off > env->input_len || len > env->input_len - off) {
            snprintf(run->res->detail, sizeof run->res->detail,
                     "input: bytes %llu..+%llu, the input has %zu", (unsigned long long)off,
                     (unsigned long long)len, env->input_len);
            return VM_E_HOST;
        }
        rc = charge(run, gas, VM_GAS_COPY_WORD * vm_words(len));
        if (rc) return rc;
        if (len) memcpy(run->mem + dst, env->input + off, (size_t)len);
        return VM_OK;
    }
    case SYS_BALANCE: {
        rc = need(run, reg[1], VM_ADDR_LEN, "balance");
        if (rc) return rc;
        uint8_t a[VM_ADDR_LEN];
        memcpy(a, run->mem + reg[1], sizeof a);
        if (run->h->balance(run->h->ctx, a, &reg[0]) != VM_HOST_OK) return VM_RUN_EIO;
        return VM_OK;
    }
    case SYS_PAY: return sys_pay(run, reg);
    case SYS_SLOAD: return sys_storage(run, reg, 0, gas);
    case SYS_SSTORE: return sys_storage(run, reg, 1, gas);
    case SYS_EMIT: return sys_emit(run, reg, gas);
    default: return sys_record(run, reg, no);
    }
}
