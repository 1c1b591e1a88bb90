#!/usr/bin/env node
/* The explorer in a real browser (headless Chromium over the DevTools
 * protocol, tests/browser/cdp.js) against a devnet that ran
 * scripts/demo-attribution --small. Checks: the blocks page shows the head;
 * searching an address opens its page; the earnings chart has as many points
 * as the index returns; "verify" succeeds against the honest node and fails
 * against two lying ones (tests/browser/proxy.js); the record and
 * attribution pages draw their charts; no console errors. Writes a
 * screenshot of each page to --out.
 *   node tests/browser/explorer_test.js --rpc http://127.0.0.1:PORT --out DIR
 * Exit: 0 passed, 1 failed, 77 chromium cannot run here (skipped). */
"use strict";
const fs = require("fs");
const path = require("path");
const { Browser, findChromium } = require("./cdp.js");
const { LyingProxy } = require("./proxy.js");

function arg(name, def) {
  const i = process.argv.indexOf("--" + name);
  return i > 0 ? process.argv[i + 1] : def;
}
const RPC = arg("rpc");
const OUT = arg("out", ".");
if (!RPC) { console.error("usage: explorer_test.js --rpc URL --out DIR"); process.exit(2); }
fs.mkdirSync(OUT, { recursive: true });

let failures = 0;
function ok(what) { console.log("ok: " + what); }
function check(cond, what, detail) {
  if (cond) ok(what);
  else { failures++; console.log("FAIL: " + what + (detail ? ": " + detail : "")); }
}
async function rpc(method, params) {
  const r = await fetch(RPC, { method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: method, params: params || [] }) });
  const j = await r.json();
  if (j.error) { const e = new Error(method + ": " + j.error.message); e.code = j.error.code; throw e; }
  return j.result;
}
/* An index the page draws: a failure of its own, so the other checks still run. */
async function rpcOr(method, params, dflt) {
  try { return await rpc(method, params); }
  catch (e) { check(false, method, e.message); return dflt; }
}
async function pages(method, filter) {
  let out = [], cur = null;
  do { const p = await rpc(method, [filter, cur, 100]); out = out.concat(p.items); cur = p.nextCursor; } while (cur);
  return out;
}
/* The contributor who earned most, from the state (not from the page). */
async function topContributor() {
  const seen = new Set();
  let dns = [], cur = null;
  do { const p = await rpc("datanet_list", [cur, 100]); dns = dns.concat(p.items); cur = p.nextCursor; } while (cur);
  for (const d of dns)
    for (const c of await pages("contribution_list", { datanet: d.id })) seen.add(c.contributor);
  let best = null;
  for (const a of seen) {
    const im = await rpc("contributor_impact", [a, 0]);
    if (!best || BigInt(im.earned) > BigInt(best.earned)) best = im;
  }
  return best;
}

async function main() {
  const t0 = Date.now();
  const exe = findChromium();
  if (!exe) { console.log("SKIP: no chromium on this machine (scripts/deps.sh installs Debian's chromium)"); return 77; }
  let browser;
  try { browser = await Browser.launch(exe, 30000); }
  catch (e) { console.log("SKIP: chromium cannot run here: " + e.message.slice(0, 500)); return 77; }
  const proxies = [];
  try {
    const page = await browser.newPage();
    const status = await rpc("node_status");
    const top = await topContributor();
    if (!top || top.earned === "0") throw new Error("the devnet has no paid contributor: did demo-attribution run?");

    /* 1. The blocks page shows the head. */
    await page.goto(RPC + "/");
    await page.waitFor("document.querySelector('#view tbody tr') !== null", "the blocks table");
    const head = await rpc("node_status");
    const shown = await page.waitFor("(function(){const r=document.querySelector('#view tbody tr');" +
      "return r && document.getElementById('s-height').textContent !== '…' ? [r.dataset.height, document.getElementById('s-height').textContent] : null})()", "the head");
    check(shown[0] === String(head.height) && shown[1] === String(head.height), "blocks page shows the head " + head.height,
      "first row " + shown[0] + ", header " + shown[1]);
    await page.screenshot(path.join(OUT, "blocks.png"));

    /* 2. Searching an address opens its page. */
    await page.eval("document.getElementById('q').value = " + JSON.stringify(top.address) +
      "; document.querySelector('#search button').click(); true");
    await page.waitFor("location.hash === " + JSON.stringify("#/address/" + top.address), "the address route");
    const h2 = await page.waitFor("(function(){const m=[...document.querySelectorAll('#view h2')].map(e=>e.textContent);" +
      "return m.indexOf('Contributor impact')>=0 ? m : null})()", "the address page");
    const shownAddr = await page.eval("document.querySelector('#view table.kv td').textContent");
    check(shownAddr === top.address && h2.indexOf("Bridge") >= 0, "search opens the address page with its bridge section",
      shownAddr + " " + JSON.stringify(h2));

    /* 3. The earnings chart has as many points as the index returns for
     * the range the chart shows. */
    const pts = await page.waitFor("(function(){const f=document.querySelector('figure[data-chart=earnings]');" +
      "return f ? [f.querySelectorAll('circle.pt').length, f.querySelectorAll('tbody tr').length," +
      "Number(f.querySelector('svg').dataset.x0), Number(f.querySelector('svg').dataset.x1)] : null})()", "the earnings chart", 5000)
      .catch(function (e) { check(false, "earnings chart drawn", e.message); return [-1, -1, 0, 0]; });
    const ts = (await rpcOr("contributor_impact", [top.address, 0, { bucket: "block", from: pts[2], to: pts[3] }],
      { earnings: { buckets: [], total: {} } })).earnings;
    check(ts.buckets.length > 0 && pts[0] === ts.buckets.length && pts[1] === ts.buckets.length && ts.total.amount === top.earned,
      "earnings chart: " + pts[0] + " points and table rows for blocks " + pts[2] + "-" + pts[3] + ", the index returns " +
      ts.buckets.length + " (summing to " + ts.total.amount + ")");
    const bars = await page.eval("document.querySelectorAll('figure[data-chart=by-model] rect.bar').length");
    check(bars === top.byModel.length, "breakdown by model: " + bars + " bars for " + top.byModel.length + " models");
    /* Hover shows the figure. */
    const tip = await page.eval("(function(){const c=document.querySelector('figure[data-chart=earnings] circle.pt');" +
      "if(!c) return 'no point';c.dispatchEvent(new MouseEvent('mouseenter'));const t=document.querySelector('figure[data-chart=earnings] .tip');" +
      "return t.hidden ? '' : t.textContent})()");
    check(/OPEN/.test(tip), "hovering a point shows its figure", tip);
    /* Keyboard: one tab stop per chart, arrows move along the marks; every
     * chart has its table with a caption. */
    const kb = await page.eval("(function(){const f=document.querySelector('figure[data-chart=earnings]');" +
      "const m=[...f.querySelectorAll('circle.pt')];if(m.length<2)return 'fewer than 2 points';" +
      "const stops=m.filter(x=>x.getAttribute('tabindex')==='0').length;m[0].focus();" +
      "m[0].dispatchEvent(new KeyboardEvent('keydown',{key:'ArrowRight',bubbles:true}));" +
      "const tables=[...document.querySelectorAll('figure.chart')].every(x=>x.querySelector('table caption'));" +
      "return stops===1 && document.activeElement===m[1] && tables ? 'ok' : 'stops '+stops+', focus moved '+(document.activeElement===m[1])+', tables '+tables})()");
    check(kb === "ok", "charts: one tab stop, arrow keys move between points, a captioned table each", kb);
    await page.screenshot(path.join(OUT, "address.png"));

    /* 4. "verify" against the honest node. */
    const verify = async function (p) {
      await p.waitFor("document.getElementById('verify') !== null", "the verify button");
      await p.eval("document.getElementById('verify').click(); true");
      return p.waitFor("(function(){const o=document.getElementById('verify-result');" +
        "return o && (o.dataset.status==='ok'||o.dataset.status==='fail') ? [o.dataset.status, o.textContent] : null})()", "the verdict", 30000);
    };
    const v = await verify(page);
    const earnedOpen = (BigInt(top.earned) / 1000000000n) + "." + (BigInt(top.earned) % 1000000000n).toString().padStart(9, "0");
    check(v[0] === "ok" && v[1].indexOf(earnedOpen + " OPEN in " + top.payouts + " payouts") >= 0,
      "verify succeeds against the honest node", v.join(": "));
    await page.screenshot(path.join(OUT, "address-verified.png"));

    /* 5. ... and fails against a lying one, for each lie. */
    for (const mode of ["alter", "omit"]) {
      const px = new LyingProxy(RPC, mode);
      proxies.push(px);
      const url = await px.listen();
      const lp = await browser.newPage();
      await lp.goto(url + "/#/address/" + top.address);
      const lv = await verify(lp);
      check(px.lies > 0 && lv[0] === "fail", "verify fails against a node that lies (" + mode + ", " + px.lies + " answers altered)", lv.join(": "));
      await lp.screenshot(path.join(OUT, "address-lying-" + mode + ".png"));
      check(lp.errors.length === 0, "no console errors on the lying node's page (" + mode + ")", lp.errors.join("; "));
      await lp.close();
    }

    /* 6. A record: where its fee went, as a picture and a table. */
    const rec = await rpc("attribution_get", [top.recentPayouts.length ? top.recentPayouts[0].record : 1]);
    await page.goto(RPC + "/#/record/" + rec.id);
    const parts = await page.waitFor("(function(){const f=document.querySelector('figure[data-chart=fee-split]');" +
      "return f ? [f.querySelectorAll('rect.seg').length, f.querySelectorAll('tbody tr').length] : null})()", "the fee split");
    const want = rec.payouts.length + (rec.retained !== "0" ? 1 : 0);
    check(parts[0] === want && parts[1] === want, "record page draws " + parts[0] + " parts of the fee, the record has " + want);
    await page.screenshot(path.join(OUT, "record.png"));

    /* 7. The attribution tab: fees per model over time and top contributors. */
    await page.goto(RPC + "/#/attribution");
    const at = await page.waitFor("(function(){const f=document.querySelector('figure[data-chart=fees-per-model]')," +
      "t=document.querySelector('figure[data-chart=top-contributors]');" +
      "return f && t ? [Number(f.querySelector('svg').dataset.points), t.querySelectorAll('tbody tr').length," +
      "t.querySelector('tbody tr td a') && t.querySelector('tbody tr td a').title," +
      "f.querySelectorAll('rect.bar').length] : null})()", "the attribution charts", 5000)
      .catch(function (e) { check(false, "attribution charts drawn", e.message); return [-1, -1, null, -1]; });
    const ms = (await rpc("model_list", [null, null, 100])).items.filter(function (m) { return m.fees !== "0"; });
    const xs = new Set();
    let segs = 0;
    for (const m of ms) {
      const f = await rpcOr("model_fees", [m.id, { bucket: "block", from: Math.max(0, head.height - 999), to: head.height }],
        { series: { buckets: [] } });
      for (const b of f.series.buckets) { xs.add(b.height); segs++; }
    }
    check(xs.size > 0 && at[0] === xs.size && at[3] === segs, "fees per model: " + at[0] + " columns of " + at[3] +
      " segments, the index returns " + xs.size + " blocks, " + segs + " buckets over " + ms.length + " models");
    const tc = await rpcOr("contributor_top", [null, null, 10], { items: [] });
    check(tc.items.length > 0 && at[1] === tc.items.length && at[2] === top.address && tc.items[0].address === top.address,
      "top contributors: " + at[1] + " rows, first " + at[2], "index: " + tc.items.length + ", top by state " + top.address);
    await page.screenshot(path.join(OUT, "attribution.png"));

    /* 8. The bridge: a withdrawal appears on its sender's page with its status. */
    const wd = arg("withdrawer");
    if (wd) {
      const bl = await rpc("bridge_listByAddress", [wd, { limit: 20 }]);
      await page.goto(RPC + "/#/address/" + wd);
      const rows = await page.waitFor("(function(){const t=document.querySelector('table.bridge-withdrawals');" +
        "return t ? [...t.querySelectorAll('tbody tr')].map(r=>r.innerText) : null})()", "the withdrawals table", 5000)
        .catch(function (e) { check(false, "withdrawals table drawn", e.message); return []; });
      const w0 = bl.withdrawals[0] || {};
      const amountText = (BigInt(w0.amount || 0) / 1000000000n) + "." + (BigInt(w0.amount || 0) % 1000000000n).toString().padStart(9, "0");
      const statusText = w0.status === null || w0.status === undefined ? "burned (no L1 view)" : String(w0.status).replace(/_/g, " ");
      check(bl.withdrawals.length > 0 && rows.length === bl.withdrawals.length && rows[0].indexOf(amountText + " OPEN") >= 0 &&
        rows[0].indexOf(statusText) >= 0 && rows[0].startsWith(String(w0.id)),
        "bridge: " + rows.length + " withdrawal(s) on the sender's page, the node lists " + bl.withdrawals.length +
        " (first: " + amountText + " OPEN, " + statusText + ")", JSON.stringify(rows[0]));
      await page.screenshot(path.join(OUT, "address-bridge.png"));
    }

    /* 9. No console errors on the honest node's pages. */
    check(page.errors.length === 0, "no console errors", page.errors.join("; "));
    console.log("explorer browser test: " + (failures ? failures + " check(s) failed" : "all checks passed") +
      " in " + ((Date.now() - t0) / 1000).toFixed(1) + " s (chromium " + exe + ", head " + status.height + ")");
    return failures ? 1 : 0;
  } finally {
    for (const p of proxies) p.close();
    await browser.close();
  }
}

main().then((rc) => process.exit(rc), (e) => { console.log("FAIL: " + (e && e.stack || e)); process.exit(1); });
