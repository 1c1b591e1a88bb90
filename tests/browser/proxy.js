/* A lying node for the browser test: an HTTP proxy between the page and a
 * real node that passes everything through (the page, JSON-RPC, the
 * WebSocket) except one lie in JSON-RPC answers:
 *   "alter": the first proof of an attribution record has one payout amount
 *            changed by one base unit (in the proven value bytes);
 *   "omit":  one record that paid the contributor (the first listed by
 *            contribution) is left out of every attribution_list answer, so
 *            a payout goes missing.
 * this.lies counts the answers it altered, so the test knows a lie was told. */
"use strict";
const http = require("http");
const net = require("net");

class LyingProxy {
  constructor(target, mode) {
    this.target = new URL(target);
    this.mode = mode;
    this.lies = 0;
    this.dropId = null;
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on("upgrade", (req, sock, head) => this.tunnel(req, sock, head));
  }
  listen() {
    return new Promise((resolve) => {
      this.server.listen(0, "127.0.0.1", () => resolve("http://127.0.0.1:" + this.server.address().port));
    });
  }
  close() { this.server.closeAllConnections && this.server.closeAllConnections(); this.server.close(); }
  tunnel(req, sock, head) {
    const up = net.connect(Number(this.target.port), this.target.hostname, () => {
      let h = req.method + " " + req.url + " HTTP/1.1\r\n";
      for (let i = 0; i < req.rawHeaders.length; i += 2) h += req.rawHeaders[i] + ": " + req.rawHeaders[i + 1] + "\r\n";
      up.write(h + "\r\n");
      if (head && head.length) up.write(head);
      sock.pipe(up).pipe(sock);
    });
    up.on("error", () => sock.destroy());
    sock.on("error", () => up.destroy());
  }
  handle(req, res) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const up = http.request({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url,
        headers: req.headers }, (ur) => {
        const out = [];
        ur.on("data", (c) => out.push(c));
        ur.on("end", () => {
          let data = Buffer.concat(out);
          if (req.method === "POST" && ur.statusCode === 200) data = this.lie(body, data);
          const headers = Object.assign({}, ur.headers);
          headers["content-length"] = String(data.length);
          res.writeHead(ur.statusCode, headers);
          res.end(data);
        });
      });
      up.on("error", (e) => { res.writeHead(502); res.end(String(e)); });
      up.end(body);
    });
  }
  lie(reqBody, resBody) {
    let rq, rs;
    try { rq = JSON.parse(reqBody.toString()); rs = JSON.parse(resBody.toString()); } catch (e) { return resBody; }
    const reqs = Array.isArray(rq) ? rq : [rq], ress = Array.isArray(rs) ? rs : [rs];
    const byId = new Map();
    for (const r of reqs) byId.set(JSON.stringify(r.id), r);
    let changed = false;
    for (const a of ress) {
      const q = byId.get(JSON.stringify(a.id));
      if (!q || !a.result) continue;
      const p0 = (q.params || [])[0];
      if (this.mode === "alter" && q.method === "state_getProof" && p0 && typeof p0 === "object" && p0.record !== undefined &&
          this.lies === 0 && typeof a.result.value === "string") {
        /* The last 8 bytes of a record are its last payout's amount (u64le). */
        const v = Buffer.from(a.result.value.slice(2), "hex");
        v[v.length - 8] ^= 1;
        a.result.value = "0x" + v.toString("hex");
        this.lies++;
        changed = true;
      }
      if (this.mode === "omit" && q.method === "attribution_list" && p0 && p0.contribution !== undefined && Array.isArray(a.result.items)) {
        /* A record that pays this contribution's contributor something. */
        if (this.dropId === null) {
          const r = a.result.items.find((x) => (x.payouts || []).some((p) => p.role === "contributor" &&
            p.contribution === p0.contribution && p.amount !== "0"));
          if (r) this.dropId = r.id;
        }
        const n = a.result.items.length;
        a.result.items = a.result.items.filter((r) => r.id !== this.dropId);
        if (a.result.items.length !== n) { this.lies++; changed = true; }
      }
    }
    return changed ? Buffer.from(JSON.stringify(rs)) : resBody;
  }
}

module.exports = { LyingProxy: LyingProxy };
