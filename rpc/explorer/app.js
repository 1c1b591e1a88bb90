/* The explorer page itself: routes, views and the live head (JSON-RPC over
 * POST / and WebSocket /ws). Uses OLX (olx.js), OLV (verify.js), OLC (charts.js). */
"use strict";
if (typeof document !== "undefined") (function () {
  const $ = function (id) { return document.getElementById(id); };
  const view = $("view");
  const state = { height: null, seq: 0, ws: null, wsLive: false, live: "down", polling: null, statusBusy: false, blockRows: null };

  /* DOM building: strings always become text nodes, never markup. */
  function el(tag, attrs) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (k === "href") e.setAttribute("href", attrs[k]);
      else if (k === "title") e.title = attrs[k];
    }
    for (let i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) c.forEach(function (x) { add(e, x); });
    else e.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  function link(href, text, mono) { return el("a", { href: href, text: text, class: mono ? "mono" : "" }); }
  function blockLink(h) { return link("#/block/" + encodeURIComponent(h), String(h)); }
  function txLink(h, full) { return link("#/tx/" + encodeURIComponent(h), full ? h : OLX.short(h), true); }
  function addrLink(a, full) {
    if (typeof a !== "string") return "—";
    const e = link("#/address/" + encodeURIComponent(a), full ? a : OLX.short(a, 6), true);
    e.title = a;
    return e;
  }
  function open(s) { return el("span", { class: "mono", text: OLX.fmtOpen(s) + " OPEN" }); }
  function table(heads, rows, cls) {
    return el("table", { class: cls || "" },
      el("thead", null, el("tr", null, heads.map(function (h) { return el("th", { text: h }); }))),
      el("tbody", null, rows));
  }
  function row(cells) { return el("tr", null, cells.map(function (c) { return el("td", null, c); })); }
  function kv(pairs) {
    return el("table", { class: "kv" }, el("tbody", null, pairs.map(function (p) {
      return el("tr", null, el("th", { text: p[0] }), el("td", null, p[1]));
    })));
  }
  function setView() {
    const f = document.createDocumentFragment();
    for (let i = 0; i < arguments.length; i++) add(f, arguments[i]);
    view.replaceChildren(f);
  }
  function card() { const c = el("div", { class: "card" }); for (let i = 0; i < arguments.length; i++) add(c, arguments[i]); return c; }
  function empty(text) { return el("p", { class: "mut", text: text }); }
  function status(s) { return el("span", { class: s === "success" ? "ok" : "bad", text: s }); }

  async function rpc(method, params) {
    const r = await fetch("/", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: method, params: params || [] }) });
    if (!r.ok) throw new Error(method + ": HTTP " + r.status);
    const j = await r.json();
    if (j.error) { const e = new Error(j.error.message); e.code = j.error.code; throw e; }
    return j.result;
  }

  /* ---- header: node_status, then newBlocks over WebSocket (polling as fallback) ---- */
  function setLive(mode, text) { state.live = mode; $("live").className = mode; $("live").textContent = text; }
  function showHead(height, hash) {
    state.height = height;
    $("s-height").textContent = String(height);
    $("s-head").textContent = OLX.short(hash);
    $("s-head").title = hash;
    $("s-head").setAttribute("href", "#/block/" + height);
  }
  /* The rollup's heads (node_status with --l1): L1 transactions link to the
   * L1 explorer given with --l1-explorer, else their hashes are shown. */
  function l1Tx(explorer, hash) {
    if (explorer && /^https?:\/\//.test(explorer))
      return el("a", { href: explorer.replace(/\/+$/, "") + "/tx/" + hash, text: OLX.short(hash), class: "mono", title: hash });
    return el("span", { class: "mono", text: hash });
  }
  function showL1(s) {
    const l1 = s.l1;
    $("l1").hidden = !l1;
    if (!l1) return;
    const num = function (v) { return v === null || v === undefined ? "–" : String(v); };
    $("l1-head").textContent = num(s.l1Head);
    $("l1-safe").textContent = num(s.safe);
    $("l1-final").textContent = num(s.finalized);
    /* A node deriving from the L1 reports what it read: lastBatch, lastOutput. */
    const b = (l1.batcher && l1.batcher.latestBatch) || l1.lastBatch,
      o = (l1.proposer && l1.proposer.latestOutput) || l1.lastOutput;
    const bs = $("l1-batch"), os = $("l1-output");
    bs.textContent = ""; os.textContent = "";
    if (b) add(bs, [b.first + "–" + b.last + " in L1 block " + b.l1Block + " ", l1Tx(l1.explorer, b.l1Tx)]);
    else bs.textContent = "none";
    if (o) add(os, ["height " + o.height + " in L1 block " + o.l1Block + " ", l1Tx(l1.explorer, o.l1Tx)]);
    else os.textContent = l1.proposer ? "posted " + l1.proposer.posted : "none";
  }
  async function refreshStatus() {
    if (state.statusBusy) return;
    state.statusBusy = true;
    try {
      const s = await rpc("node_status");
      $("s-chain").textContent = s.chainId;
      $("s-mempool").textContent = s.mempoolSize + " txs";
      const grew = state.height !== null && s.height > state.height;
      showHead(s.height, s.headHash);
      showL1(s);
      if (grew && state.blockRows) loadNewBlocks().catch(function () {});
      if (state.wsLive) setLive("ws", "live");
      else if (state.polling) setLive("poll", "polling every 2 s");
    } catch (e) {
      setLive("down", "node unreachable");
    } finally { state.statusBusy = false; }
  }
  function startPolling() {
    if (!state.polling) state.polling = setInterval(refreshStatus, 2000);
    setLive("poll", "polling every 2 s");
  }
  function connectWs() {
    let ws;
    try { ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws"); }
    catch (e) { startPolling(); return; }
    state.ws = ws;
    ws.onopen = function () {
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe_newBlocks", params: [] }));
    };
    ws.onmessage = function (m) {
      let j; try { j = JSON.parse(m.data); } catch (e) { return; }
      if (j.id === 1 && j.result) {
        if (state.polling) { clearInterval(state.polling); state.polling = null; }
        state.wsLive = true;
        setLive("ws", "live");
        refreshStatus();
      } else if (j.id === 1 && j.error) {
        ws.close();
      } else if (j.method === "subscription" && j.params && j.params.result) {
        const b = j.params.result;
        showHead(b.height, b.hash);
        if (state.blockRows) prependBlock({ height: b.height, hash: b.hash, txCount: b.txCount, header: b.header });
        refreshStatus(); /* the notification has no mempool size */
      }
    };
    ws.onclose = function () {
      if (state.ws !== ws) return;
      state.ws = null;
      state.wsLive = false;
      startPolling();
      setTimeout(connectWs, 10000);
    };
  }

  /* ---- views ---- */
  function blockRow(b) {
    const h = b.header || {};
    const r = row([blockLink(b.height), el("span", { title: OLX.fmtTime(h.timestamp), text: OLX.ago(h.timestamp, Date.now()) }),
      String(b.txCount), link("#/block/" + b.height, OLX.short(b.hash), true), addrLink(h.proposer)]);
    r.dataset.height = String(b.height);
    return r;
  }
  function prependBlock(b) {
    const tb = state.blockRows;
    if (!tb || !tb.isConnected) { state.blockRows = null; return; }
    const first = tb.firstChild;
    if (first && Number(first.dataset.height) >= b.height) return;
    tb.insertBefore(blockRow(b), first);
    while (tb.childNodes.length > 25) tb.removeChild(tb.lastChild);
  }
  async function loadNewBlocks() {
    const tb = state.blockRows;
    if (!tb || !tb.firstChild) return;
    const top = Number(tb.firstChild.dataset.height);
    const r = await rpc("chain_getBlockRange", [top + 1, 25, "asc"]);
    r.blocks.forEach(prependBlock);
  }
  async function viewHome(seq) {
    const res = await Promise.all([rpc("chain_getBlockRange", ["latest", 25, "desc"]), rpc("attribution_list", [null, null, 5, "desc"])]);
    if (seq !== state.seq) return;
    const r = res[0], recs = res[1].items;
    const tb = el("tbody");
    r.blocks.forEach(function (b) { tb.appendChild(blockRow(b)); });
    const t = el("table", null, el("thead", null, el("tr", null,
      ["Height", "Time", "Txs", "Hash", "Proposer"].map(function (h) { return el("th", { text: h }); }))), tb);
    setView(el("h2", { text: "Latest blocks" }), card(t),
      recs.length ? [el("h2", { text: "Latest attribution records" }), card(recordRows(recs)),
        el("p", { class: "pager" }, link("#/attribution", "Fees, top contributors and more →"))] : null);
    state.blockRows = tb;
  }
  function txSummary(tx) {
    if (tx.type === "transfer") return ["→ ", addrLink(tx.to), " ", open(tx.amount)];
    if (tx.type === "attribute") return ["model " + tx.model + ", fee ", open(tx.fee)];
    if (tx.type === "withdraw") return ["→ L1 ", el("span", { class: "mono", text: OLX.short(tx.l1Recipient || "", 6) }), " ", open(tx.amount)];
    if (tx.type === "deposit") return ["L1 deposit #" + tx.nonce + " → ", addrLink(tx.to), " ", open(tx.amount)];
    if (tx.name !== undefined) return String(tx.name);
    if (tx.datanet !== undefined) return "datanet " + tx.datanet;
    if (tx.contribution !== undefined) return "contribution " + tx.contribution + (tx.accept === undefined ? "" : tx.accept ? " accepted" : " rejected");
    return "";
  }
  function txRows(txs) {
    return txs.map(function (t) {
      const tx = t.tx || t;
      const cells = [txLink(tx.hash), el("span", { class: "tag", text: tx.type }), addrLink(tx.from), txSummary(tx)];
      if (t.tx) cells.push(blockLink(t.blockHeight), t.receipt ? status(t.receipt.status) : "—");
      return row(cells);
    });
  }
  async function viewBlock(seq, ref) {
    const b = await rpc("chain_getBlock", [ref]);
    if (seq !== state.seq) return;
    const h = b.header;
    const nav = el("p", { class: "pager" }, h.height > 0 ? link("#/block/" + (h.height - 1), "← " + (h.height - 1)) : null,
      "  ", state.height === null || h.height < state.height ? link("#/block/" + (h.height + 1), (h.height + 1) + " →") : null);
    setView(el("h2", { text: "Block " + h.height }), nav, card(kv([
      ["Hash", el("span", { class: "mono", text: b.hash })], ["Time", OLX.fmtTime(h.timestamp)],
      ["Proposer", addrLink(h.proposer, true)], ["Parent", h.height > 0 ? link("#/block/" + (h.height - 1), h.parentHash, true) : h.parentHash],
      ["State root", el("span", { class: "mono", text: h.stateRoot })], ["Tx root", el("span", { class: "mono", text: h.txRoot })],
      ["Receipts root", el("span", { class: "mono", text: h.receiptsRoot })], ["Size", b.size + " bytes"],
      ["Commit", "round " + h.lastCommit.round + ", " + h.lastCommit.signatures.length + " signature(s)"]])),
      el("h2", { text: "Transactions (" + b.txs.length + ")" }),
      b.txs.length ? card(table(["Hash", "Type", "From", "Summary"], txRows(b.txs))) : empty("No transactions."));
  }
  function fieldValue(k, v) {
    if (typeof v === "string" && OLX.isAddress(v)) return addrLink(v, true);
    if (["amount", "fee", "bond"].indexOf(k) >= 0 && typeof v === "string") return open(v);
    if (k === "datanets" && Array.isArray(v)) return v.join(", ");
    if (k === "entries" && Array.isArray(v)) return v.map(function (e) { return "#" + e.contribution + " × " + e.weight; }).join(", ");
    return el("span", { class: typeof v === "string" && v.startsWith("0x") ? "mono" : "", text: OLX.fmtValue(v) });
  }
  async function viewTx(seq, hash) {
    const r = await rpc("chain_getTransaction", [hash]);
    if (seq !== state.seq) return;
    const tx = r.tx, rc = r.receipt;
    const env = OLX.ENVELOPE.filter(function (k) { return k in tx; }).map(function (k) { return [k, fieldValue(k, tx[k])]; });
    const body = OLX.bodyFields(tx).map(function (k) { return [k, fieldValue(k, tx[k])]; });
    const out = [el("h2", { text: "Transaction" }), card(kv([["Status", r.pending ? el("span", { class: "tag", text: "pending (mempool)" }) : status(rc.status)],
      ["Block", r.pending ? "—" : [blockLink(r.blockHeight), " · index " + r.index]]].concat(env))),
      el("h2", { text: "Body (" + tx.type + ")" }), body.length ? card(kv(body)) : empty("No type-specific fields.")];
    if (rc) {
      out.push(el("h2", { text: "Receipt" }), card(kv([["Status", status(rc.status)], ["Gas used", String(rc.gasUsed)],
        ["Fee", open(rc.fee)], ["Error", rc.error === null ? "—" : rc.error],
        ["Return data", el("span", { class: "mono", text: rc.returnData })]].concat(
        rc.contractAddress ? [["Contract", addrLink(rc.contractAddress, true)]] : []))));
      out.push(el("h3", { text: "Events (" + rc.events.length + ")" }));
      out.push(rc.events.length ? card(table(["#", "Emitter", "Topic", "Data / payout"], rc.events.map(function (ev, i) {
        const p = OLX.decodePayout(ev);
        return row([String(i), addrLink(ev.emitter), p ? el("span", { class: "tag", text: "payout" }) : el("span", { class: "mono", text: OLX.short(ev.topic) }),
          p ? [link("#/record/" + p.record, "record " + p.record), " · " + p.role + " · ", open(p.amount), " → ", el("span", { class: "mono", text: OLX.short(p.recipientHex, 6) })]
            : el("span", { class: "mono", text: OLX.short(ev.data, 16) })]);
      }))) : empty("No events."));
    }
    setView(out);
  }
  /* A method this node may not have (an older node, no bridge): null
   * instead of an error, so the page shows what it can. */
  async function rpcOpt(method, params) {
    try { return await rpc(method, params); }
    catch (e) { if (e.code === -32601) return null; throw e; }
  }
  async function rpcBatch(calls) {
    const r = await fetch("/", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(calls.map(function (c, i) { return { jsonrpc: "2.0", id: i, method: c[0], params: c[1] }; })) });
    if (!r.ok) throw new Error("batch: HTTP " + r.status);
    const j = await r.json();
    if (!Array.isArray(j)) throw new Error("batch: " + (j.error ? j.error.message : "not an array"));
    const out = [];
    j.forEach(function (x) { out[x.id] = x; });
    return out;
  }
  function openTxt(s) { return OLX.fmtOpen(s) + " OPEN"; }
  /* The range a chart asks the indexes for: the last 1,000 blocks or days
   * (the most one request may cover), up to the head. */
  const DAY_MS = 86400000;
  function seriesRange(bucket, head) {
    const to = bucket === "day" ? Math.floor(Date.now() / DAY_MS) : head;
    return { bucket: bucket, from: Math.max(0, to - 999), to: to };
  }
  function bucketKey(b) { return b.height !== undefined ? b.height : b.day; }
  function bucketText(bucket, x) {
    return bucket === "day" ? OLX.fmtTime(x * DAY_MS).slice(0, 10) : "block " + x;
  }
  /* A SERIES (docs/rpc.md) as a chart: one point per bucket the index lists. */
  function seriesChart(id, title, se, countName) {
    let run = BigInt(se.before.amount);
    const pts = se.buckets.map(function (b) {
      run += BigInt(b.amount);
      return { x: bucketKey(b), label: bucketText(se.bucket, bucketKey(b)), amount: b.amount, total: run.toString(),
        extra: b.count + " " + countName, b: b };
    });
    return OLC.series({ id: id, title: title + " (per " + se.bucket + ")", fmt: openTxt, points: pts, before: se.before.amount,
      x0: se.from, x1: se.to, xLabel: function (x) { return se.bucket === "day" ? bucketText("day", x).slice(5) : String(x); },
      heads: [se.bucket === "day" ? "Day (UTC)" : "Block", countName[0].toUpperCase() + countName.slice(1), "Amount", "Running total"],
      numeric: [false, true, true, true],
      row: function (p) {
        return [se.bucket === "day" ? p.label : blockLink(p.x), String(p.b.count), open(p.amount), open(p.total)];
      } });
  }
  /* Buttons that redraw one chart per block or per day. */
  function bucketSwitch(current, redraw) {
    const wrap = el("p", { class: "switch" });
    wrap.setAttribute("role", "group");
    wrap.setAttribute("aria-label", "Bucket size");
    ["block", "day"].forEach(function (b) {
      const btn = el("button", { text: "per " + b });
      btn.setAttribute("aria-pressed", String(b === current));
      btn.onclick = function () { redraw(b).catch(showError); };
      wrap.appendChild(btn);
    });
    return wrap;
  }
  function earningsCard(addr, bucket, head, im) {
    const c = card();
    c.id = "earnings-card";
    const draw = async function (b) {
      const r = b === bucket && im ? im : await rpc("contributor_impact", [addr, 0, seriesRange(b, head)]);
      im = null;
      c.replaceChildren(bucketSwitch(b, draw), seriesChart("earnings", "Earnings over time", r.earnings, "payouts"));
    };
    return { card: c, draw: draw };
  }
  function bridgeSection(br) {
    if (!br) return [el("h2", { text: "Bridge" }), empty("This node has no bridge (no bridge_listByAddress).")];
    const dep = br.deposits || [], wd = br.withdrawals || [];
    /* A withdrawal's L1 status is null on a node without --l1. */
    const st = function (s) {
      return s === null || s === undefined ? el("span", { class: "tag", text: "burned (no L1 view)" })
        : el("span", { class: "tag st-" + s, text: String(s).replace(/_/g, " ") });
    };
    return [el("h2", { text: "Bridge" }),
      el("h3", { text: "Deposits from L1 (" + dep.length + ")" }),
      dep.length ? card(table(["Nonce", "Status", "Amount", "From (L1)", "L1 block", "L2 block", "L2 tx"], dep.map(function (d) {
        return row([String(d.nonce), st(d.status), open(d.amount), el("span", { class: "mono", text: OLX.short(d.from || "", 6) }),
          d.l1Block === null || d.l1Block === undefined ? "—" : String(d.l1Block), d.height === null ? "—" : blockLink(d.height),
          d.txid ? txLink(d.txid) : "—"]);
      }), "bridge-deposits")) : empty("No deposits to this address."),
      el("h3", { text: "Withdrawals to L1 (" + wd.length + ")" }),
      wd.length ? card(table(["ID", "Status", "Amount", "To (L1)", "L2 block", "Output", "Final in"], wd.map(function (w) {
        return row([String(w.id), st(w.status), open(w.amount), el("span", { class: "mono", text: OLX.short(w.l1Recipient || "", 6) }),
          blockLink(w.height), w.outputHeight === null || w.outputHeight === undefined ? "—" : "height " + w.outputHeight,
          w.status === "waiting_for_finalization" && typeof w.secondsLeft === "number" ? w.secondsLeft + " s" : "—"]);
      }), "bridge-withdrawals")) : empty("No withdrawals from this address.")];
  }
  /* The "verify" panel: runs OLV.verifyContributor and lists each step. */
  function verifyPanel(addr, shown) {
    const btn = el("button", { text: "Verify", class: "verify-btn" });
    btn.id = "verify";
    const out = el("div", { class: "verify-out" });
    out.id = "verify-result";
    out.setAttribute("aria-live", "polite");
    const steps = el("ol", { class: "steps" });
    btn.onclick = async function () {
      btn.disabled = true;
      out.replaceChildren(el("p", { class: "mut", text: "Verifying…" }));
      steps.replaceChildren();
      out.dataset.status = "running";
      const old = document.getElementById("earned-verified");
      if (old) old.remove();
      const io = { rpc: rpc, batch: rpcBatch, progress: function (done, total) {
        out.replaceChildren(el("p", { class: "mut", text: "Verifying… " + done + " of " + total + " records proven" }));
      }, step: function (text, ok) {
        steps.appendChild(el("li", { class: ok ? "ok" : "bad", text: (ok ? "✓ " : "✗ ") + text }));
      } };
      try {
        const r = await OLV.verifyContributor(io, addr, shown);
        out.dataset.status = "ok";
        const mark = document.getElementById("earned-figure");
        if (mark) {
          const tag = el("span", { class: "tag ok", text: "✓ verified at height " + r.height });
          tag.id = "earned-verified";
          mark.after(" ", tag);
        }
        out.replaceChildren(el("p", { class: "ok verdict", text: "Verified: " + r.earnedOpen + " OPEN in " + r.payouts + " payouts across " +
          r.models + " models, at height " + r.height + " against header " + r.headerHash + "." }));
      } catch (e) {
        out.dataset.status = "fail";
        out.replaceChildren(el("p", { class: "bad verdict", text: "Not verified: " + (e && e.message || e) }));
      } finally { btn.disabled = false; }
    };
    return card(el("p", null, btn, " ", el("span", { class: "mut", text: "Checks in this browser, with proofs from the node, the " +
      "figures above: the header's hash, the state proofs (SHA-256 sparse Merkle tree), the decoding of the totals and of every " +
      "record that paid this address, that the payouts add up to the totals, and the commit's BIP-340 signatures against the " +
      "genesis validators. It trusts the genesis validators as this node reports them (chain_getGenesis), and the node's list " +
      "of records only as far as the sums check it." })), out, steps);
  }
  async function viewAddress(seq, addr, cursor) {
    const head = (await rpc("node_status")).height;
    const res = await Promise.all([rpc("account_get", [addr]), rpc("tx_list", [addr, cursor || null, 25]),
      rpc("contributor_impact", [addr, 10, seriesRange("block", head)]), rpcOpt("bridge_listByAddress", [addr, { limit: 20 }])]);
    if (seq !== state.seq) return;
    const a = res[0], tl = res[1], im = res[2], br = res[3];
    /* A charts section only for an address that contributed or was paid. */
    const contributor = im.contributions > 0 || im.payouts > 0;
    const ec = earningsCard(addr, "block", head, im);
    if (contributor) await ec.draw("block");
    const more = tl.nextCursor ? el("button", { text: "Older transactions" }) : null;
    if (more) more.onclick = function () { state.seq++; viewAddress(state.seq, addr, tl.nextCursor).catch(showError); };
    setView(el("h2", { text: "Address" }), card(kv([["Address", el("span", { class: "mono", text: a.address })],
      ["Balance", open(a.balance)], ["Nonce", String(a.nonce) + (a.pendingNonce !== a.nonce ? " (pending " + a.pendingNonce + ")" : "")]])),
      el("h2", { text: "Contributor impact" }), card(kv([["Earned as contributor", (function () { const o = open(im.earned); o.id = "earned-figure"; return o; })()],
        ["Contributions", im.contributions + " (" + im.accepted + " accepted, " + im.rejected + " rejected, " + im.pending + " pending)"],
        ["Payouts received", String(im.payouts) + (im.payoutsTruncated ? " (breakdown truncated)" : "")]])),
      verifyPanel(addr, { earned: im.earned }),
      contributor ? ec.card : null,
      im.byModel.length ? card(OLC.bars({ id: "by-model", title: "Earned by model", fmt: openTxt,
        items: im.byModel.map(function (m) { return { label: "#" + m.model + " " + m.name, amount: m.earned, m: m }; }),
        heads: ["Model", "Name", "Records", "Payouts", "Earned"], numeric: [false, false, true, true, true],
        row: function (it) { return [String(it.m.model), it.m.name, String(it.m.records), String(it.m.payouts), open(it.m.earned)]; } })) : null,
      im.byDatanet && im.byDatanet.length ? card(OLC.bars({ id: "by-datanet", title: "Earned by datanet", fmt: openTxt,
        items: im.byDatanet.map(function (d) { return { label: "#" + d.datanet + " " + d.name, amount: d.earned, d: d }; }),
        heads: ["Datanet", "Name", "Contributions (acc/rej/pend)", "Times used", "Earned"], numeric: [false, false, false, true, true],
        row: function (it) { const d = it.d; return [String(d.datanet), d.name, d.contributions + " (" + d.accepted + "/" + d.rejected + "/" + d.pending + ")", String(d.timesUsed), open(d.earned)]; } })) : null,
      im.recentPayouts.length ? [el("h3", { text: "Recent payouts" }), card(table(["Record", "Model", "Contribution", "Role", "Amount"],
        im.recentPayouts.map(function (p) {
          return row([link("#/record/" + p.record, "#" + p.record), String(p.model), OLX.fmtValue(p.contribution), p.role, open(p.amount)]);
        })))] : empty("No payouts yet."),
      bridgeSection(br),
      el("h2", { text: cursor ? "Older transactions" : "Recent transactions" }),
      tl.txs.length ? card(table(["Hash", "Type", "From", "Summary", "Block", "Status"], txRows(tl.txs))) : empty("No transactions."),
      el("p", { class: "pager" }, more));
  }
  function payoutRows(r) {
    return r.payouts.map(function (p) {
      return row([el("span", { class: "tag", text: p.role }), addrLink(p.recipient), OLX.fmtValue(p.contribution), open(p.amount)]);
    });
  }
  /* Where a record's fee went, part by part: the payouts in their order, and
   * what the reward contract kept. */
  function feeSplit(r) {
    const parts = r.payouts.map(function (p) {
      const who = OLX.short(p.recipient, 6);
      if (p.role === "contributor") return { group: "contributors", label: "contribution #" + p.contribution + " (" + who + ")", short: "#" + p.contribution, amount: p.amount, p: p };
      if (p.role === "validator") return { group: "validators", label: "validator " + who, short: "validators", amount: p.amount, p: p };
      return { group: "owner", label: "model owner " + who, short: "owner", amount: p.amount, p: p };
    });
    if (r.retained && r.retained !== "0") parts.push({ group: "retained", label: "retained by the reward contract", short: "retained", amount: r.retained, p: null });
    return OLC.split({ id: "fee-split", title: "Where the fee of " + openTxt(r.fee) + " went", parts: parts, fmt: openTxt,
      heads: ["Part", "Role", "Recipient", "Amount"], numeric: [false, false, false, true],
      row: function (x) { return [x.label, x.p ? x.p.role : "retained", x.p ? addrLink(x.p.recipient) : "—", open(x.amount)]; } });
  }
  async function viewRecord(seq, id) {
    const r = await rpc("attribution_get", [id]);
    if (seq !== state.seq) return;
    setView(el("h2", { text: "Attribution record #" + r.id }), card(kv([["Model", r.model + (r.modelName ? " (" + r.modelName + ")" : "")],
      ["Transaction", txLink(r.tx, true)], ["Height", blockLink(r.height)], ["Attestor", addrLink(r.attestor, true)],
      ["Model owner", addrLink(r.owner, true)], ["Fee", open(r.fee)], ["Retained", open(r.retained)], ["Method", r.method],
      ["Output hash", el("span", { class: "mono", text: r.outputHash })], ["Evidence hash", el("span", { class: "mono", text: r.evidenceHash })],
      ["Entries", fieldValue("entries", r.entries)]])),
      card(feeSplit(r)),
      el("h2", { text: "Payouts" }), card(table(["Role", "Recipient", "Contribution", "Amount"], payoutRows(r))));
  }
  /* Fees per model over time: one stacked column per bucket that any of the
   * models lists, one colour per model. */
  function feesChart(series, models) {
    const keys = models.map(function (m) { return { key: String(m.id), label: "#" + m.id + " " + m.name }; });
    const byX = {};
    series.forEach(function (r) {
      r.series.buckets.forEach(function (b) {
        const x = bucketKey(b);
        (byX[x] = byX[x] || {})[String(r.model)] = b.amount;
      });
    });
    const xs = Object.keys(byX).map(Number).sort(function (a, b) { return a - b; });
    const bucket = series.length ? series[0].series.bucket : "block";
    return OLC.stacked({ id: "fees-per-model", title: "Fees per model over time (per " + bucket + ")", keys: keys, fmt: openTxt,
      buckets: xs.map(function (x) { return { label: bucketText(bucket, x), parts: byX[x] }; }) });
  }
  /* The models drawn: those with the highest fees, at most 10 colours. */
  function feesCard(models, head) {
    const shown = models.filter(function (m) { return m.fees !== "0"; }).sort(function (a, b) {
      const d = BigInt(b.fees) - BigInt(a.fees);
      return d > 0n ? 1 : d < 0n ? -1 : a.id - b.id;
    }).slice(0, 10);
    const c = card();
    const draw = async function (b) {
      const r = await Promise.all(shown.map(function (m) { return rpc("model_fees", [m.id, seriesRange(b, head)]); }));
      c.replaceChildren(bucketSwitch(b, draw), feesChart(r, shown));
      if (models.length > shown.length) c.appendChild(empty("The " + shown.length + " models with the highest fees."));
    };
    return { card: c, draw: draw };
  }
  function topChart(top) {
    return OLC.bars({ id: "top-contributors", title: "Top contributors (earned as contributor)", fmt: openTxt,
      items: top.items.map(function (c) { return { label: "#" + c.rank + " " + OLX.short(c.address, 8), amount: c.earned, c: c }; }),
      heads: ["Rank", "Contributor", "Payouts", "Earned"], numeric: [true, false, true, true],
      row: function (it) { return [String(it.c.rank), addrLink(it.c.address, true), String(it.c.payouts), open(it.c.earned)]; } });
  }
  function recordRows(recs) {
    return table(["Record", "Model", "Block", "Time", "Fee", "Payouts", "Transaction"], recs.map(function (r) {
      return row([link("#/record/" + r.id, "#" + r.id), r.model + (r.modelName ? " " + r.modelName : ""), blockLink(r.height),
        r.timeMs ? OLX.fmtTime(r.timeMs) : "—", open(r.fee), String(r.payoutCount !== undefined ? r.payoutCount : r.payouts.length), txLink(r.tx)]);
    }));
  }
  async function viewAttribution(seq) {
    const head = (await rpc("node_status")).height;
    const res = await Promise.all([rpc("datanet_list", [null, 50, "desc"]), rpc("model_list", [null, null, 100, "desc"]),
      rpc("attribution_list", [null, null, 15, "desc"]), rpc("contributor_top", [null, null, 10])]);
    if (seq !== state.seq) return;
    const dn = res[0].items, models = res[1].items, recs = res[2].items, top = res[3];
    const fc = feesCard(models, head);
    await fc.draw("block");
    if (seq !== state.seq) return;
    setView(el("h2", { text: "Fees and contributors" }), fc.card,
      top.items.length ? card(topChart(top)) : empty("No contributor has earned yet."),
      el("h2", { text: "Datanets" }),
      dn.length ? card(table(["ID", "Name", "Owner", "Bond", "Review", "Contributions (acc/rej/pend)", "Models"], dn.map(function (d) {
        return row([String(d.id), d.name, addrLink(d.owner), open(d.bond), d.review ? "yes" : "no",
          d.contributions + " (" + d.accepted + "/" + d.rejected + "/" + d.pending + ")", String(d.models)]);
      }))) : empty("No datanets yet (try scripts/demo-attribution)."),
      el("h2", { text: "Models" }),
      models.length ? card(table(["ID", "Name", "Owner", "Datanets", "Split owner/val/contrib", "Inferences", "Fees"], models.map(function (m) {
        return row([String(m.id), m.name, addrLink(m.owner), m.datanets.join(", "),
          (m.split.owner / 100) + "% / " + (m.split.validators / 100) + "% / " + (m.split.contributors / 100) + "%",
          String(m.inferences), open(m.fees)]);
      }))) : empty("No models yet."),
      el("h2", { text: "Latest attribution records" }),
      recs.length ? card(recordRows(recs)) : empty("No attribution records yet."));
  }
  function showError(e) {
    const msg = e && e.code === -32001 ? "Not found: " + e.message : "Error: " + (e && e.message || e);
    setView(el("div", { class: "err", text: msg }));
  }

  function route() {
    const r = OLX.parseRoute(location.hash);
    const seq = ++state.seq;
    state.blockRows = null;
    $("nav-blocks").className = r.view === "home" ? "on" : "";
    $("nav-attr").className = r.view === "attribution" || r.view === "record" ? "on" : "";
    setView(empty("Loading…"));
    let p;
    switch (r.view) {
    case "home": p = viewHome(seq); break;
    case "block": p = viewBlock(seq, r.arg); break;
    case "tx": p = viewTx(seq, r.arg); break;
    case "address": p = viewAddress(seq, r.arg); break;
    case "record": p = viewRecord(seq, r.arg); break;
    case "attribution": p = viewAttribution(seq); break;
    default: p = Promise.reject(new Error("unknown page " + location.hash));
    }
    p.catch(function (e) { if (seq === state.seq) showError(e); });
  }
  /* A 0x hash may name a block or a transaction: ask for the block first. */
  async function search(q) {
    const c = OLX.classify(q);
    if (!c) { showError(new Error("enter a height, a 0x block or transaction hash, or an ol1 address")); return; }
    if (c.kind === "height") location.hash = "#/block/" + c.value;
    else if (c.kind === "address") location.hash = "#/address/" + c.value;
    else {
      try { await rpc("chain_getBlock", [c.value]); location.hash = "#/block/" + c.value; }
      catch (e) { if (e.code !== -32001) { showError(e); return; } location.hash = "#/tx/" + c.value; }
    }
  }
  $("search").addEventListener("submit", function (ev) { ev.preventDefault(); search($("q").value); });
  window.addEventListener("hashchange", route);
  refreshStatus();
  connectWs();
  route();
})();
