/* The explorer's charts (OLC), drawn as inline SVG by the page itself (no
 * library, no CDN). Every chart comes with the table of the figures it
 * draws, and each mark shows its figure on hover and on keyboard focus
 * (marks are focusable and carry an aria-label), so nothing is only in the
 * picture. Amounts are decimal strings of base units: they are drawn as
 * (lossy) numbers but always labelled with the exact string. */
"use strict";
const OLC = (function () {
  const NS = "http://www.w3.org/2000/svg";
  const PALETTE = ["#2456c8", "#1a7f37", "#b26a00", "#8a3ffc", "#c62828", "#00838f", "#6d4c41", "#ad1457", "#546e7a", "#9e9d24"];
  function color(i) { return PALETTE[i % PALETTE.length]; }
  function svg(tag, attrs) {
    const e = document.createElementNS(NS, tag);
    for (const k in attrs || {}) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function h(tag, attrs, text) {
    const e = document.createElement(tag);
    for (const k in attrs || {}) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  /* Base units to a number of OPEN, only for drawing. */
  function units(s) { return Number(s) / 1e9; }
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
  }
  function fmtAxis(v) { return v >= 1000 ? Math.round(v).toLocaleString("en") : String(Math.round(v * 1000) / 1000); }

  /* One tooltip per chart: shown on hover and focus of a mark. The marks
   * are one tab stop (the first); arrow keys, Home and End move between
   * them, so a chart of many points does not trap the keyboard. */
  function withTip(fig) {
    const tip = h("div", { class: "tip", role: "status", "aria-live": "polite" });
    tip.hidden = true;
    fig.appendChild(tip);
    const marks = [];
    const move = function (ev) {
      const i = marks.indexOf(ev.currentTarget);
      let j = i;
      if (ev.key === "ArrowRight" || ev.key === "ArrowDown") j = Math.min(i + 1, marks.length - 1);
      else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") j = Math.max(i - 1, 0);
      else if (ev.key === "Home") j = 0;
      else if (ev.key === "End") j = marks.length - 1;
      else return;
      ev.preventDefault();
      marks[i].setAttribute("tabindex", "-1");
      marks[j].setAttribute("tabindex", "0");
      marks[j].focus();
    };
    return function (mark, text) {
      mark.setAttribute("tabindex", marks.length ? "-1" : "0");
      mark.setAttribute("role", "img");
      mark.setAttribute("aria-label", text);
      marks.push(mark);
      const t = svg("title");
      t.textContent = text;
      mark.appendChild(t);
      const show = function () { tip.textContent = text; tip.hidden = false; mark.classList.add("hot"); };
      const hide = function () { tip.hidden = true; mark.classList.remove("hot"); };
      mark.addEventListener("mouseenter", show);
      mark.addEventListener("focus", show);
      mark.addEventListener("mouseleave", hide);
      mark.addEventListener("blur", hide);
      mark.addEventListener("keydown", move);
    };
  }
  function figure(title, id) {
    const fig = h("figure", { class: "chart", "data-chart": id });
    fig.appendChild(h("figcaption", null, title));
    return fig;
  }
  function dataTable(caption, heads, rows, numeric) {
    const t = h("table", { class: "chart-table" });
    t.appendChild(h("caption", null, caption));
    const tr = h("tr");
    heads.forEach(function (x, i) { tr.appendChild(h("th", { scope: "col", class: numeric && numeric[i] ? "num" : "" }, x)); });
    t.appendChild(h("thead")).appendChild(tr);
    const tb = t.appendChild(h("tbody"));
    rows.forEach(function (r) {
      const row = tb.appendChild(h("tr"));
      r.forEach(function (c, i) {
        const td = h(i === 0 ? "th" : "td", { class: numeric && numeric[i] ? "num" : "" });
        if (i === 0) td.setAttribute("scope", "row");
        if (c instanceof Node) td.appendChild(c); else td.textContent = String(c);
        row.appendChild(td);
      });
    });
    return t;
  }
  function axes(g, W, H, L, T, B, max, xlabels) {
    for (let i = 0; i <= 4; i++) {
      const y = T + (H - T - B) * (1 - i / 4);
      g.appendChild(svg("line", { x1: L, x2: W - 8, y1: y, y2: y, class: "grid" }));
      const t = svg("text", { x: L - 6, y: y + 4, class: "ax", "text-anchor": "end" });
      t.textContent = fmtAxis(max * i / 4);
      g.appendChild(t);
    }
    (xlabels || []).forEach(function (xl) {
      const t = svg("text", { x: xl.x, y: H - B + 16, class: "ax", "text-anchor": "middle" });
      t.textContent = xl.text;
      g.appendChild(t);
    });
  }
  /* Some of the labels, at most n, evenly spread. */
  function sparseLabels(points, n, xOf) {
    const out = [], step = Math.max(1, Math.ceil(points.length / n));
    for (let i = 0; i < points.length; i += step) out.push({ x: xOf(i), text: points[i].label });
    return out;
  }

  /* A time series of sparse buckets: points [{x, label, amount, extra}] in
   * x order over the range [x0, x1] (heights or day numbers; buckets not
   * listed are zero). Each bucket is a stem and a circle (class "pt") at its
   * amount, left axis; the running total from opts.before is a step line on
   * the right axis. The table lists every point. */
  function series(opts) {
    const pts = opts.points, W = 720, H = 230, L = 56, R = 64, T = 12, B = 28;
    const x0 = opts.x0, x1 = Math.max(opts.x1, opts.x0 + 1);
    const fig = figure(opts.title, opts.id);
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "plot", role: "img", "data-points": pts.length,
      "data-x0": opts.x0, "data-x1": opts.x1, "aria-label": opts.title + ": " + pts.length + " points, figures in the table below" });
    const max = niceMax(Math.max.apply(null, pts.map(function (p) { return units(p.amount); }).concat([0])));
    let run = units(opts.before || "0");
    const cum = pts.map(function (p) { run += units(p.amount); return run; });
    const cmax = niceMax(Math.max.apply(null, cum.concat([units(opts.before || "0"), 0])));
    const xOf = function (x) { return L + (W - R - L) * (x - x0) / (x1 - x0); };
    const yOf = function (v) { return T + (H - T - B) * (1 - v / max); };
    const cyOf = function (v) { return T + (H - T - B) * (1 - v / cmax); };
    const ticks = [];
    for (let i = 0; i <= 6; i++) {
      const x = Math.round(x0 + (x1 - x0) * i / 6);
      if (!ticks.length || ticks[ticks.length - 1].v !== x) ticks.push({ v: x, x: xOf(x), text: opts.xLabel(x) });
    }
    axes(s, W - R + 8, H, L, T, B, max, ticks);
    for (let i = 0; i <= 4; i++) {
      const t = svg("text", { x: W - R + 6, y: T + (H - T - B) * (1 - i / 4) + 4, class: "ax cum" });
      t.textContent = fmtAxis(cmax * i / 4);
      s.appendChild(t);
    }
    /* The running total: flat between buckets, a step at each. */
    let d = "M" + L + "," + cyOf(units(opts.before || "0")).toFixed(1);
    pts.forEach(function (p, i) {
      d += "H" + xOf(p.x).toFixed(1) + "V" + cyOf(cum[i]).toFixed(1);
    });
    d += "H" + (W - R);
    s.appendChild(svg("path", { d: d, class: "line cumline" }));
    fig.appendChild(s);
    const tip = withTip(fig);
    pts.forEach(function (p, i) {
      const x = xOf(p.x).toFixed(1), y = yOf(units(p.amount)).toFixed(1);
      s.appendChild(svg("line", { x1: x, x2: x, y1: H - B, y2: y, class: "stem" }));
      const c = svg("circle", { cx: x, cy: y, r: pts.length > 60 ? 3 : 4.5, class: "pt" });
      s.appendChild(c);
      tip(c, p.label + ": " + opts.fmt(p.amount) + (p.extra ? " (" + p.extra + ")" : "") + "; running total " + opts.fmt(p.total));
    });
    fig.appendChild(legend([{ label: "per bucket (left axis)", color: PALETTE[0] }, { label: "running total (right axis)", color: PALETTE[1] }]));
    if (!pts.length) fig.appendChild(h("p", { class: "mut" }, "Nothing in this range."));
    fig.appendChild(dataTable(opts.title, opts.heads, pts.map(opts.row), opts.numeric));
    return fig;
  }

  /* Horizontal bars: items [{label, amount}] (already sorted). */
  function bars(opts) {
    const items = opts.items, W = 720, rowH = 24, L = 190, T = 6, H = T * 2 + items.length * rowH;
    const fig = figure(opts.title, opts.id);
    const s = svg("svg", { viewBox: "0 0 " + W + " " + Math.max(H, 30), class: "plot", role: "img",
      "aria-label": opts.title + ": " + items.length + " bars, figures in the table below" });
    const max = niceMax(Math.max.apply(null, items.map(function (p) { return units(p.amount); }).concat([0])));
    fig.appendChild(s);
    const tip = withTip(fig);
    items.forEach(function (it, i) {
      const y = T + i * rowH, w = (W - L - 110) * units(it.amount) / max;
      const lab = svg("text", { x: L - 8, y: y + 16, class: "ax", "text-anchor": "end" });
      lab.textContent = it.label.length > 28 ? it.label.slice(0, 27) + "…" : it.label;
      s.appendChild(lab);
      const r = svg("rect", { x: L, y: y + 3, width: Math.max(w, 1).toFixed(1), height: rowH - 6, fill: color(opts.colorBy ? opts.colorBy(it, i) : i), class: "bar" });
      s.appendChild(r);
      tip(r, it.label + ": " + opts.fmt(it.amount));
      const v = svg("text", { x: L + Math.max(w, 1) + 6, y: y + 16, class: "ax" });
      v.textContent = opts.fmt(it.amount);
      s.appendChild(v);
    });
    if (opts.table !== false) fig.appendChild(dataTable(opts.title, opts.heads, items.map(opts.row), opts.numeric));
    return fig;
  }

  /* Stacked columns: buckets [{label, parts: {key: amount}}], keys [{key,
   * label}] in legend order. The table has one row per bucket. */
  function stacked(opts) {
    const bk = opts.buckets, keys = opts.keys, W = 720, H = 240, L = 56, T = 12, B = 28;
    const fig = figure(opts.title, opts.id);
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "plot", role: "img", "data-points": bk.length,
      "aria-label": opts.title + ": " + bk.length + " columns, figures in the table below" });
    const totals = bk.map(function (b) {
      let t = 0;
      keys.forEach(function (k) { t += units(b.parts[k.key] || "0"); });
      return t;
    });
    const max = niceMax(Math.max.apply(null, totals.concat([0])));
    const slot = (W - 8 - L) / Math.max(bk.length, 1), bw = Math.max(Math.min(slot * 0.7, 40), 2);
    const xOf = function (i) { return L + slot * (i + 0.5); };
    axes(s, W, H, L, T, B, max, sparseLabels(bk, 8, xOf));
    fig.appendChild(s);
    const tip = withTip(fig);
    bk.forEach(function (b, i) {
      let y = H - B;
      keys.forEach(function (k, j) {
        const a = b.parts[k.key];
        if (!a || a === "0") return;
        const hgt = (H - T - B) * units(a) / max;
        y -= hgt;
        const r = svg("rect", { x: (xOf(i) - bw / 2).toFixed(1), y: y.toFixed(1), width: bw.toFixed(1), height: Math.max(hgt, 0.5).toFixed(1), fill: color(j), class: "bar" });
        s.appendChild(r);
        tip(r, b.label + " · " + k.label + ": " + opts.fmt(a));
      });
    });
    fig.appendChild(legend(keys.map(function (k, j) { return { label: k.label, color: color(j) }; })));
    fig.appendChild(dataTable(opts.title, ["Bucket"].concat(keys.map(function (k) { return k.label; })), bk.map(function (b) {
      return [b.label].concat(keys.map(function (k) { return opts.fmt(b.parts[k.key] || "0"); }));
    }), [false].concat(keys.map(function () { return true; }))));
    return fig;
  }
  function legend(items) {
    const ul = h("ul", { class: "legend" });
    items.forEach(function (it) {
      const li = ul.appendChild(h("li"));
      const sw = li.appendChild(h("span", { class: "sw", "aria-hidden": "true" }));
      sw.style.background = it.color;
      li.appendChild(document.createTextNode(it.label));
    });
    return ul;
  }

  /* One bar split into parts [{label, amount, group}] that sum to the
   * whole: where a fee went. Parts of a group share its colour. */
  function split(opts) {
    const parts = opts.parts, W = 720, H = 64, L = 4, R = 4;
    const fig = figure(opts.title, opts.id);
    const s = svg("svg", { viewBox: "0 0 " + W + " " + H, class: "plot", role: "img", "data-parts": parts.length,
      "aria-label": opts.title + ": " + parts.length + " parts, figures in the table below" });
    let total = 0;
    parts.forEach(function (p) { total += units(p.amount); });
    fig.appendChild(s);
    const tip = withTip(fig);
    const groups = [];
    parts.forEach(function (p) { if (groups.indexOf(p.group) < 0) groups.push(p.group); });
    let x = L;
    parts.forEach(function (p) {
      const w = total > 0 ? (W - L - R) * units(p.amount) / total : 0;
      const r = svg("rect", { x: x.toFixed(2), y: 8, width: Math.max(w, 0.8).toFixed(2), height: 40, fill: color(groups.indexOf(p.group)),
        class: "bar seg", stroke: "#fff", "stroke-width": 1 });
      s.appendChild(r);
      tip(r, p.label + ": " + opts.fmt(p.amount) + (total > 0 ? " (" + (100 * units(p.amount) / total).toFixed(2) + "%)" : ""));
      if (w > 70) {
        const t = svg("text", { x: x + w / 2, y: 33, class: "seglab", "text-anchor": "middle" });
        t.textContent = p.short || p.label;
        s.appendChild(t);
      }
      x += w;
    });
    fig.appendChild(legend(groups.map(function (g, j) { return { label: g, color: color(j) }; })));
    fig.appendChild(dataTable(opts.title, opts.heads, parts.map(opts.row), opts.numeric));
    return fig;
  }
  return { series: series, bars: bars, stacked: stacked, split: split, dataTable: dataTable, color: color };
})();
