/* A small Chrome DevTools Protocol client over --remote-debugging-pipe (the
 * browser reads NUL-terminated JSON on fd 3 and writes on fd 4), so the
 * browser test needs nothing from npm: Debian's chromium and node only. */
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

function findChromium() {
  const names = [process.env.OL_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  for (const n of names) if (n && fs.existsSync(n)) return n;
  return null;
}

class Browser {
  static async launch(exe, timeoutMs) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "ol-chromium-"));
    const args = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
      "--disable-dev-shm-usage", "--disable-extensions", "--disable-background-networking", "--disable-sync",
      "--disable-component-update", "--metrics-recording-only", "--mute-audio", "--hide-scrollbars",
      "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"];
    const proc = spawn(exe, args, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });
    const b = new Browser(proc, profile);
    proc.stderr.on("data", function (d) { b.stderr += d.toString(); if (b.stderr.length > 20000) b.stderr = b.stderr.slice(-10000); });
    try { await b.send("Browser.getVersion", {}, null, timeoutMs || 20000); }
    catch (e) {
      if (!b.exited) proc.kill("SIGKILL");
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      throw e;
    }
    return b;
  }
  constructor(proc, profile) {
    this.proc = proc;
    this.profile = profile;
    this.stderr = "";
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.exited = false;
    let buf = Buffer.alloc(0);
    proc.stdio[4].on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      let i;
      while ((i = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, i).toString());
        buf = buf.subarray(i + 1);
        this.onMessage(msg);
      }
    });
    const gone = (why) => {
      this.exited = true;
      for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(new Error(why + ": " + this.stderr.slice(-2000))); }
      this.pending.clear();
    };
    proc.on("exit", () => gone("chromium exited"));
    proc.on("error", (e) => gone("chromium did not start (" + e.message + ")"));
    /* A browser that dies closes its pipes: the pending calls fail above. */
    proc.stdio[3].on("error", () => {});
    proc.stdio[4].on("error", () => {});
  }
  onMessage(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.error) p.reject(new Error(p.method + ": " + msg.error.message));
      else p.resolve(msg.result);
    } else {
      for (const l of this.listeners) l(msg);
    }
  }
  send(method, params, sessionId, timeoutMs) {
    if (this.exited) return Promise.reject(new Error("chromium is not running"));
    const id = this.nextId++;
    const m = { id: id, method: method, params: params || {} };
    if (sessionId) m.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(method + ": no answer in " + (timeoutMs || 30000) + " ms"));
      }, timeoutMs || 30000);
      this.pending.set(id, { resolve: resolve, reject: reject, timer: timer, method: method });
      this.proc.stdio[3].write(JSON.stringify(m) + "\0");
    });
  }
  on(fn) { this.listeners.push(fn); }
  async newPage() {
    const t = await this.send("Target.createTarget", { url: "about:blank" });
    const a = await this.send("Target.attachToTarget", { targetId: t.targetId, flatten: true });
    const page = new Page(this, a.sessionId);
    page.targetId = t.targetId;
    await page.init();
    return page;
  }
  async close() {
    const gone = new Promise((r) => { if (this.exited) r(); else this.proc.on("exit", r); });
    try { await this.send("Browser.close", {}, null, 5000); } catch (e) { /* killed below */ }
    const timer = setTimeout(() => { if (!this.exited) this.proc.kill("SIGKILL"); }, 5000);
    await gone;
    clearTimeout(timer);
    fs.rmSync(this.profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/* One tab: navigation, evaluation, waiting, screenshots, and every console
 * error, exception and failed load it sees (this.errors). */
class Page {
  constructor(browser, sessionId) {
    this.b = browser;
    this.sid = sessionId;
    this.errors = [];
    browser.on((msg) => {
      if (msg.sessionId !== this.sid) return;
      const p = msg.params || {};
      if (msg.method === "Runtime.consoleAPICalled" && (p.type === "error" || p.type === "assert"))
        this.errors.push("console." + p.type + ": " + (p.args || []).map(function (a) { return a.value !== undefined ? a.value : a.description; }).join(" "));
      else if (msg.method === "Runtime.exceptionThrown")
        this.errors.push("exception: " + (p.exceptionDetails.exception ? p.exceptionDetails.exception.description : p.exceptionDetails.text));
      else if (msg.method === "Log.entryAdded" && p.entry.level === "error")
        this.errors.push("log (" + p.entry.source + "): " + p.entry.text + (p.entry.url ? " " + p.entry.url : ""));
    });
  }
  send(method, params) { return this.b.send(method, params, this.sid); }
  async init() {
    await this.send("Page.enable");
    await this.send("Runtime.enable");
    await this.send("Log.enable");
    await this.send("Emulation.setDeviceMetricsOverride", { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });
  }
  async goto(url) {
    const r = await this.send("Page.navigate", { url: url });
    if (r.errorText) throw new Error("navigate " + url + ": " + r.errorText);
  }
  async eval(expr) {
    const r = await this.send("Runtime.evaluate", { expression: expr, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error("evaluate: " + (r.exceptionDetails.exception ? r.exceptionDetails.exception.description : r.exceptionDetails.text));
    return r.result.value;
  }
  /* Polls expr until it is truthy; returns its value. */
  async waitFor(expr, what, timeoutMs) {
    const end = Date.now() + (timeoutMs || 15000);
    let last;
    for (;;) {
      try { last = await this.eval(expr); } catch (e) { last = e.message; }
      if (last) return last;
      if (Date.now() > end) {
        const view = await this.eval("(document.getElementById('view')||document.body).innerText.slice(0,400)").catch(function () { return "?"; });
        throw new Error("timed out waiting for " + what + " (page shows: " + JSON.stringify(view) + ")");
      }
      await new Promise(function (r) { setTimeout(r, 100); });
    }
  }
  async close() { await this.b.send("Target.closeTarget", { targetId: this.targetId }); }
  /* A background tab does not paint: bring it to the front first. */
  async screenshot(file) {
    await this.send("Page.bringToFront");
    const m = await this.send("Page.getLayoutMetrics");
    const size = m.cssContentSize || m.contentSize;
    const shot = await this.send("Page.captureScreenshot", { format: "png", captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: Math.ceil(size.width), height: Math.min(Math.ceil(size.height), 8000), scale: 1 } });
    fs.writeFileSync(file, Buffer.from(shot.data, "base64"));
  }
}

module.exports = { Browser: Browser, findChromium: findChromium };
