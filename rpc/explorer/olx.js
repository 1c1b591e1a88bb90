/* Pure helpers of the explorer page (OLX): formatting, routes, decoding of
 * payout events. No DOM and no network, so node can load them too. */
"use strict";
const OLX = (function () {
  const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
  const PAYOUT_TOPIC = "0x04dc4f3db0e1d5ced709482dc7b86ade6e16a0503c5cab4bc0d9e5ab539a7fc1";
  const ROLES = ["owner", "validator", "contributor"];
  const ENVELOPE = ["hash", "type", "chainId", "from", "senderPubkey", "nonce", "gasLimit", "gasPrice", "signature", "size"];

  /* Base units (decimal string, 1 OPEN = 10^9) to "1,234.500000000": strings
   * only, because amounts pass 2^53 and floats would round them. */
  function fmtOpen(s) {
    if (typeof s === "number" && Number.isSafeInteger(s) && s >= 0) s = String(s);
    if (typeof s !== "string" || !/^[0-9]+$/.test(s)) return String(s);
    s = s.replace(/^0+/, "").padStart(10, "0");
    const whole = s.slice(0, -9).replace(/\B(?=(\d{3})+$)/g, ",");
    return whole + "." + s.slice(-9);
  }
  function short(h, n) {
    n = n || 8;
    if (typeof h !== "string") return String(h);
    return h.length <= 2 * n + 3 ? h : h.slice(0, n + (h.startsWith("0x") ? 2 : 0)) + "…" + h.slice(-n);
  }
  function pad2(v) { return String(v).padStart(2, "0"); }
  function fmtTime(ms) {
    if (typeof ms !== "number" || !isFinite(ms)) return String(ms);
    const d = new Date(ms);
    return d.getUTCFullYear() + "-" + pad2(d.getUTCMonth() + 1) + "-" + pad2(d.getUTCDate()) + " " +
      pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds()) + " UTC";
  }
  function ago(ms, now) {
    const s = Math.max(0, Math.floor((now - ms) / 1000));
    if (s < 60) return s + "s ago";
    if (s < 3600) return Math.floor(s / 60) + "m ago";
    if (s < 86400) return Math.floor(s / 3600) + "h ago";
    return Math.floor(s / 86400) + "d ago";
  }
  function isAddress(q) {
    if (typeof q !== "string" || q !== q.toLowerCase() && q !== q.toUpperCase()) return false;
    q = q.toLowerCase();
    if (!q.startsWith("ol1") || q.length !== 41) return false;
    for (const c of q.slice(3)) if (BECH32.indexOf(c) < 0) return false;
    return true;
  }
  /* What the search box holds: a height, a 32-byte hash (block or tx) or an address. */
  function classify(q) {
    q = String(q || "").trim();
    if (/^[0-9]{1,20}$/.test(q)) return { kind: "height", value: q.replace(/^0+(?=.)/, "") };
    if (/^0x[0-9a-fA-F]{64}$/.test(q)) return { kind: "hash", value: q.toLowerCase() };
    if (isAddress(q)) return { kind: "address", value: q.toLowerCase() };
    return null;
  }
  /* "#/block/5" -> {view:"block", arg:"5"}; unknown routes -> view "notfound". */
  function parseRoute(hash) {
    let p = String(hash || "").replace(/^#/, "").replace(/^\/+/, "").replace(/\/+$/, "");
    const parts = p ? p.split("/") : [];
    let arg = parts[1];
    try { if (arg !== undefined) arg = decodeURIComponent(arg); } catch (e) { return { view: "notfound" }; }
    if (parts.length === 0) return { view: "home" };
    if (parts.length === 1 && parts[0] === "attribution") return { view: "attribution" };
    if (parts.length !== 2) return { view: "notfound" };
    const c = classify(arg);
    switch (parts[0]) {
    case "block": if (c && (c.kind === "height" || c.kind === "hash")) return { view: "block", arg: c.value }; break;
    case "tx": if (c && c.kind === "hash") return { view: "tx", arg: c.value }; break;
    case "address": if (c && c.kind === "address") return { view: "address", arg: c.value }; break;
    case "record": if (/^[0-9]{1,20}$/.test(arg)) return { view: "record", arg: arg }; break;
    }
    return { view: "notfound" };
  }
  function u64le(hex, off) {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(parseInt(hex.substr((off + i) * 2, 2), 16));
    return v.toString();
  }
  /* A payout event's 53 data bytes (docs/rpc.md, subscribe_events):
   * model u64le | contribution u64le | recipient[20] | role u8 | amount u64le | record u64le. */
  function decodePayout(ev) {
    if (!ev || ev.topic !== PAYOUT_TOPIC || typeof ev.data !== "string") return null;
    const h = ev.data.replace(/^0x/, "");
    if (h.length !== 106 || !/^[0-9a-fA-F]*$/.test(h)) return null;
    const role = parseInt(h.substr(36 * 2, 2), 16);
    return { model: u64le(h, 0), contribution: u64le(h, 8), recipientHex: "0x" + h.substr(32, 40),
      role: role < 3 ? ROLES[role] : "unknown", amount: u64le(h, 37), record: u64le(h, 45) };
  }
  /* The type-specific fields of a transaction: everything outside the envelope. */
  function bodyFields(tx) {
    return Object.keys(tx || {}).filter(function (k) { return ENVELOPE.indexOf(k) < 0; });
  }
  function fmtValue(v) {
    if (v === null || v === undefined) return "—";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  return { fmtOpen: fmtOpen, short: short, fmtTime: fmtTime, ago: ago, classify: classify, isAddress: isAddress,
    parseRoute: parseRoute, decodePayout: decodePayout, bodyFields: bodyFields, fmtValue: fmtValue, ENVELOPE: ENVELOPE };
})();
if (typeof module !== "undefined" && module.exports) module.exports = OLX;
