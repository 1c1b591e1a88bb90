// The anvil side of bench/run transfers: the same measurement as
// bench_transfers.c, against anvil through eth_sendRawTransaction batches.
//
// Funds S fresh senders with anvil_setBalance, pre-signs N legacy ETH
// transfers with viem on worker threads and pre-builds every batch body (not
// timed), then times from the first batch POST until txpool_status shows an
// empty pool, and counts the transactions in the blocks in between. Prints
//   anvil_transfers: committed_per_s=X txs=N submitted=N rejected=R blocks=K seconds=T
//
// usage: node transfers.mjs --rpc URL [--txs N] [--senders S] [--batch B]
//        [--workers W] [--peers DIR]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const here = path.dirname(fileURLToPath(import.meta.url));
const GAS = 21000n;
const GAS_PRICE = 100_000_000_000n; // 100 gwei: far above any base fee a short run reaches
const FUND_WEI = 10n ** 21n; // 1000 ETH per sender
const POLL_MS = 10;
const MAX_SHOWN_ERRORS = 5;

function parseArgs(argv) {
  const o = { rpc: null, txs: 40000, senders: 200, batch: 1000, workers: 2,
              peers: process.env.OL_BENCH_PEERS || path.join(here, '..', 'peers'), waitS: 600 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    const num = () => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) fail(`${k}: expected a positive integer, got '${v}'`);
      i++;
      return n;
    };
    switch (k) {
      case '--rpc': o.rpc = v; i++; break;
      case '--txs': o.txs = num(); break;
      case '--senders': o.senders = num(); break;
      case '--batch': o.batch = num(); break;
      case '--workers': o.workers = num(); break;
      case '--wait-s': o.waitS = num(); break;
      case '--peers': o.peers = v; i++; break;
      default: fail(`unknown argument '${k}'`);
    }
  }
  if (!o.rpc) fail('--rpc URL is required');
  if (o.senders < 2) fail('--senders must be at least 2 (each sender pays the next one)');
  return o;
}

function fail(msg) {
  console.error(`anvil_transfers: ${msg}`);
  process.exit(1);
}

// viem lives in bench/peers/node_modules, outside this folder's resolution path.
async function loadViem(peers) {
  const req = createRequire(path.join(path.resolve(peers), 'package.json'));
  let viem, accounts;
  try {
    viem = await import(pathToFileURL(req.resolve('viem')).href);
    accounts = await import(pathToFileURL(req.resolve('viem/accounts')).href);
  } catch (e) {
    fail(`cannot load viem from ${peers}/node_modules (bench/run installs it): ${e.message}`);
  }
  return { viem, accounts };
}

function senderKey(viem, i) {
  return viem.keccak256(viem.toHex(`openledger bench anvil sender ${i}`));
}

// ---- worker: signs transfers [from, to) -------------------------------------

async function workerMain() {
  const { peers, from, to, senders, nonces, addrs, chainId } = workerData;
  const { viem, accounts } = await loadViem(peers);
  const accs = new Map();
  const out = new Array(to - from);
  for (let t = from; t < to; t++) {
    const s = t % senders;
    let acc = accs.get(s);
    if (!acc) accs.set(s, (acc = accounts.privateKeyToAccount(senderKey(viem, s))));
    out[t - from] = await acc.signTransaction({
      type: 'legacy', chainId, nonce: nonces[s] + Math.floor(t / senders),
      to: addrs[(s + 1) % senders], value: 1n, gas: GAS, gasPrice: GAS_PRICE,
    });
  }
  parentPort.postMessage(out);
}

// ---- main -------------------------------------------------------------------

async function post(rpc, body) {
  const r = await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!r.ok) fail(`HTTP ${r.status} from ${rpc}: ${(await r.text()).slice(0, 300)}`);
  return r.json();
}

async function call(rpc, method, params = []) {
  const d = await post(rpc, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
  if (d.error) fail(`${method}: ${JSON.stringify(d.error)}`);
  return d.result;
}

// Batched calls, at most `batch` per POST; results in order.
async function callMany(rpc, method, paramsList, batch) {
  const out = [];
  for (let i = 0; i < paramsList.length; i += batch) {
    const part = paramsList.slice(i, i + batch)
      .map((params, k) => ({ jsonrpc: '2.0', id: i + k, method, params }));
    const res = await post(rpc, JSON.stringify(part));
    if (!Array.isArray(res) || res.length !== part.length) fail(`${method} batch: wrong answer`);
    res.sort((a, b) => a.id - b.id);
    for (const r of res) {
      if (r.error) fail(`${method}: ${JSON.stringify(r.error)}`);
      out.push(r.result);
    }
  }
  return out;
}

function signAll(o, nonces, addrs, chainId) {
  const jobs = [];
  for (let w = 0; w < o.workers; w++) {
    const from = Math.floor((o.txs * w) / o.workers), to = Math.floor((o.txs * (w + 1)) / o.workers);
    jobs.push(new Promise((resolve, reject) => {
      const wk = new Worker(fileURLToPath(import.meta.url), {
        workerData: { peers: o.peers, from, to, senders: o.senders, nonces, addrs, chainId },
      });
      wk.once('message', resolve);
      wk.once('error', reject);
      wk.once('exit', (c) => c && reject(new Error(`signer exited with ${c}`)));
    }));
  }
  return Promise.all(jobs).then((parts) => parts.flat());
}

async function mainThread() {
  const o = parseArgs(process.argv.slice(2));
  const { viem, accounts } = await loadViem(o.peers);
  const chainId = Number(await call(o.rpc, 'eth_chainId'));

  const t_fund = performance.now();
  const addrs = [];
  for (let s = 0; s < o.senders; s++)
    addrs.push(accounts.privateKeyToAccount(senderKey(viem, s)).address);
  await callMany(o.rpc, 'anvil_setBalance', addrs.map((a) => [a, viem.toHex(FUND_WEI)]), 1000);
  const nonces = (await callMany(o.rpc, 'eth_getTransactionCount',
    addrs.map((a) => [a, 'latest']), 1000)).map(Number);
  console.error(`anvil_transfers: ${o.senders} senders funded ` +
                `(${((performance.now() - t_fund) / 1000).toFixed(1)} s)`);

  const t_sign = performance.now();
  const raw = await signAll(o, nonces, addrs, chainId);
  const bodies = [];
  for (let i = 0; i < raw.length; i += o.batch) {
    bodies.push(JSON.stringify(raw.slice(i, i + o.batch).map((tx, k) => (
      { jsonrpc: '2.0', id: i + k, method: 'eth_sendRawTransaction', params: [tx] }))));
  }
  console.error(`anvil_transfers: ${raw.length} transfers signed in ${bodies.length} batches ` +
                `(${((performance.now() - t_sign) / 1000).toFixed(1)} s)`);

  const h0 = Number(await call(o.rpc, 'eth_blockNumber'));
  let rejected = 0, shown = 0;
  const t0 = performance.now();
  for (const body of bodies) {
    const res = await post(o.rpc, body);
    if (!Array.isArray(res)) fail(`batch answered with a non-array: ${JSON.stringify(res).slice(0, 300)}`);
    for (const r of res) {
      if (!r.error) continue;
      rejected++;
      if (shown++ < MAX_SHOWN_ERRORS) console.error(`anvil_transfers: rejected: ${JSON.stringify(r.error)}`);
    }
  }
  const t_sent = performance.now();
  let t1;
  for (;;) {
    const st = await call(o.rpc, 'txpool_status');
    if (Number(st.pending) === 0 && Number(st.queued) === 0) {
      t1 = performance.now();
      break;
    }
    if (performance.now() - t0 > o.waitS * 1000) fail(`the pool did not drain within ${o.waitS} s`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const secs = (t1 - t0) / 1000;
  console.error(`anvil_transfers: submitted in ${((t_sent - t0) / 1000).toFixed(2)} s ` +
                `(${Math.round((raw.length - rejected) / ((t_sent - t0) / 1000))}/s accepted), ` +
                `drained after ${secs.toFixed(2)} s`);

  const h1 = Number(await call(o.rpc, 'eth_blockNumber'));
  const heights = [];
  for (let h = h0 + 1; h <= h1; h++) heights.push([viem.toHex(h)]);
  const counts = await callMany(o.rpc, 'eth_getBlockTransactionCountByNumber', heights, 1000);
  const committed = counts.reduce((a, c) => a + Number(c), 0);
  console.log(`anvil_transfers: committed_per_s=${Math.round(committed / secs)} txs=${committed} ` +
              `submitted=${raw.length} rejected=${rejected} blocks=${h1 - h0} seconds=${secs.toFixed(3)}`);
  process.exit(committed + rejected === raw.length ? 0 : 1);
}

if (isMainThread) await mainThread();
else await workerMain();
