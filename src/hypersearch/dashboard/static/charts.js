/* hypersearch charts: small SVG charts for the dashboard and the report (no chart library).
 * Every chart is an <svg> with a viewBox, so it scales to the page and prints as drawn.
 * Axes are in the parameters' own units on their own scale (log, pow2, log1m, category), and
 * colours map a value range clipped at quantiles, so one outlier cannot own the scale.
 * Text reaches the DOM only through textContent. */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const FONT = 11;
  // viridis, dark (worse) to yellow (better)
  const VIRIDIS = ["#440154", "#482878", "#3e4a89", "#31688e", "#26828e", "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725"];

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    if (attrs) for (const k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function fmtNum(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (Number.isInteger(v) && a < 1e6) return String(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
    return String(Number(v.toPrecision(4)));
  }

  // scales -----------------------------------------------------------------------------------
  const TRANSFORMS = {
    linear: { f: function (v) { return v; }, inv: function (t) { return t; }, ok: function () { return true; } },
    log: { f: Math.log10, inv: function (t) { return Math.pow(10, t); }, ok: function (v) { return v > 0; } },
    pow2: { f: Math.log2, inv: function (t) { return Math.pow(2, t); }, ok: function (v) { return v > 0; } },
    log1m: { f: function (v) { return -Math.log10(1 - v); }, inv: function (t) { return 1 - Math.pow(10, -t); }, ok: function (v) { return v < 1; } },
  };
  function niceStep(span, count) {
    const raw = span / Math.max(1, count);
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const r = raw / mag;
    return mag * (r <= 1.5 ? 1 : r <= 3.5 ? 2 : r <= 7.5 ? 5 : 10);
  }
  function linearTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const step = niceStep(hi - lo, count);
    const out = [];
    for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
    return out;
  }
  function transformTicks(kind, t0, t1, count) {
    const tr = TRANSFORMS[kind];
    if (kind === "linear") return linearTicks(t0, t1, count);
    let out = [];
    if (kind === "pow2") { for (let k = Math.ceil(t0 - 1e-9); k <= t1 + 1e-9; k++) out.push(Math.pow(2, k)); }
    else if (kind === "log1m") { for (let k = Math.ceil(t0 - 1e-9); k <= t1 + 1e-9; k++) out.push(Number((1 - Math.pow(10, -k)).toPrecision(8))); }
    else {
      const decades = t1 - t0;
      const mults = decades <= 1.2 ? [1, 2, 3, 5] : decades <= 2.5 ? [1, 3] : [1];
      const every = Math.max(1, Math.ceil(decades / count));
      for (let k = Math.floor(t0); k <= Math.ceil(t1); k++) {
        if (mults.length === 1 && k % every !== 0) continue;
        mults.forEach(function (m) { const v = m * Math.pow(10, k); const t = tr.f(v); if (t >= t0 - 1e-9 && t <= t1 + 1e-9) out.push(Number(v.toPrecision(6))); });
      }
    }
    if (out.length < 2) out = linearTicks(tr.inv(t0), tr.inv(t1), count).filter(function (v) { return tr.ok(v); });
    return out;
  }
  /* A scale from data values to pixels. kind: linear | log | pow2 | log1m | category. */
  function scale(kind, values, r0, r1, opts) {
    opts = opts || {};
    if (kind === "category") {
      const cats = opts.categories || Array.from(new Set(values.filter(function (v) { return v !== null && v !== undefined; }).map(String))).sort();
      const n = Math.max(1, cats.length);
      const pos = function (v) { const i = cats.indexOf(String(v)); return i < 0 ? null : r0 + (r1 - r0) * (i + 0.5) / n; };
      return { kind: kind, categories: cats, map: pos, ticks: function () { return cats.map(function (c) { return { label: c, px: pos(c) }; }); }, band: Math.abs(r1 - r0) / n };
    }
    const tr = TRANSFORMS[kind] || TRANSFORMS.linear;
    const ts = [];
    values.forEach(function (v) { if (typeof v === "number" && Number.isFinite(v) && tr.ok(v)) ts.push(tr.f(v)); });
    const lo = ts.length ? Math.min.apply(null, ts) : 0, hi = ts.length ? Math.max.apply(null, ts) : 1;
    const dom = opts.domain && tr.ok(opts.domain[0]) && tr.ok(opts.domain[1]) ? [tr.f(opts.domain[0]), tr.f(opts.domain[1])] : null;
    let t0 = dom ? Math.min(dom[0], lo) : lo;  // the declared range, widened to any value beyond it
    let t1 = dom ? Math.max(dom[1], hi) : hi;
    if (t1 - t0 < 1e-12) { const d = kind === "linear" ? Math.max(Math.abs(t0) * 0.1, 0.5) : 0.5; t0 -= d; t1 += d; }
    if (opts.pad !== false) { const pad = (t1 - t0) * 0.04; t0 -= pad; t1 += pad; }
    const map = function (v) {
      if (typeof v !== "number" || !Number.isFinite(v) || !tr.ok(v)) return null;
      return r0 + (r1 - r0) * (tr.f(v) - t0) / (t1 - t0);
    };
    return {
      kind: kind, map: map, t0: t0, t1: t1,
      ticks: function (count) {
        return transformTicks(kind === "linear" || TRANSFORMS[kind] ? kind : "linear", t0, t1, count || 5)
          .filter(function (v) { return !opts.integer || Number.isInteger(v); })
          .map(function (v) { return { label: fmtNum(v), px: map(v) }; }).filter(function (t) { return t.px !== null; });
      },
    };
  }

  // colour ----------------------------------------------------------------------------------
  function quantile(sorted, q) {
    if (!sorted.length) return null;
    const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (i - lo);
  }
  /* Colours for values: the range is clipped at the 5th and 95th percentiles (so an outlier or
   * a diverged run cannot wash out the rest), brighter is better for the study's direction. */
  function colorScale(values, direction) {
    const xs = values.filter(function (v) { return typeof v === "number" && Number.isFinite(v); }).sort(function (a, b) { return a - b; });
    let lo = quantile(xs, xs.length >= 20 ? 0.05 : 0), hi = quantile(xs, xs.length >= 20 ? 0.95 : 1);
    if (lo === null) { lo = 0; hi = 1; }
    const clipped = xs.length >= 20 && (xs[0] < lo || xs[xs.length - 1] > hi);
    const color = function (v) {
      if (typeof v !== "number" || !Number.isFinite(v)) return "#9aa4b1";
      let t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      t = Math.max(0, Math.min(1, t));
      if (direction === "minimize") t = 1 - t;
      return VIRIDIS[Math.min(VIRIDIS.length - 1, Math.floor(t * VIRIDIS.length))];
    };
    return { color: color, lo: lo, hi: hi, clipped: clipped, direction: direction };
  }
  function colorLegend(parent, cs, label) {
    const box = document.createElement("div");
    box.className = "hs-colorbar";
    const name = document.createElement("span");
    name.textContent = label + (cs.direction === "minimize" ? " (low is good)" : "");
    const lo = document.createElement("span"); lo.textContent = fmtNum(cs.direction === "minimize" ? cs.hi : cs.lo);
    const bar = document.createElement("span"); bar.className = "hs-ramp";
    const hi = document.createElement("span"); hi.textContent = fmtNum(cs.direction === "minimize" ? cs.lo : cs.hi);
    box.appendChild(name); box.appendChild(lo); box.appendChild(bar); box.appendChild(hi);
    if (cs.clipped) { const c = document.createElement("span"); c.className = "muted"; c.textContent = "(5th–95th percentile; beyond: end colours)"; box.appendChild(c); }
    parent.appendChild(box);
  }

  // frame: an svg sized to its container, a tooltip, and axes ------------------------------------
  function frame(node, height) {
    node.textContent = "";
    node.classList.add("hs-chart");
    const width = Math.max(260, Math.round(node.clientWidth || node.getBoundingClientRect().width || 600));
    const root = svg("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img", "font-size": FONT, preserveAspectRatio: "xMinYMin meet" });
    node.appendChild(root);
    const tip = document.createElement("div");
    tip.className = "hs-tip"; tip.hidden = true;
    node.appendChild(tip);
    return { root: root, width: width, height: height, tip: tip };
  }
  function showTip(f, x, y, lines) {
    f.tip.textContent = "";
    lines.forEach(function (line, i) { if (i) f.tip.appendChild(document.createElement("br")); f.tip.appendChild(document.createTextNode(line)); });
    f.tip.hidden = false;
    const scaleX = (f.root.getBoundingClientRect().width || f.width) / f.width;
    const left = x * scaleX + 12, top = y * scaleX - 10;
    f.tip.style.left = Math.min(left, f.width * scaleX - f.tip.offsetWidth - 4) + "px";
    f.tip.style.top = Math.max(0, top) + "px";
  }
  function clipLabel(text, max) { text = String(text); return text.length > max ? text.slice(0, max - 1) + "…" : text; }
  function axisX(g, sc, y, x0, x1, label, count) {
    g.appendChild(svg("line", { x1: x0, x2: x1, y1: y, y2: y, class: "hs-axis" }));
    const ticks = sc.kind === "category" ? sc.ticks() : sc.ticks(count);
    const maxChars = sc.kind === "category" ? Math.max(3, Math.floor((sc.band || 40) / 6.5)) : 12;
    ticks.forEach(function (t) {
      g.appendChild(svg("line", { x1: t.px, x2: t.px, y1: y, y2: y + 4, class: "hs-axis" }));
      const text = g.appendChild(svg("text", { x: t.px, y: y + 15, "text-anchor": "middle", class: "hs-tick" }, clipLabel(t.label, maxChars)));
      if (t.label.length > maxChars) text.appendChild(svg("title", null, t.label));
    });
    if (label) g.appendChild(svg("text", { x: (x0 + x1) / 2, y: y + 31, "text-anchor": "middle", class: "hs-label" }, label));
  }
  function axisY(g, sc, x, y0, y1, label, count, gridTo) {
    g.appendChild(svg("line", { x1: x, x2: x, y1: y0, y2: y1, class: "hs-axis" }));
    const ticks = sc.kind === "category" ? sc.ticks() : sc.ticks(count);
    ticks.forEach(function (t) {
      if (gridTo) g.appendChild(svg("line", { x1: x, x2: gridTo, y1: t.px, y2: t.px, class: "hs-grid" }));
      g.appendChild(svg("text", { x: x - 5, y: t.px + 4, "text-anchor": "end", class: "hs-tick" }, clipLabel(t.label, 9)));
    });
    if (label) g.appendChild(svg("text", { x: 12, y: (y0 + y1) / 2, transform: "rotate(-90 12 " + ((y0 + y1) / 2) + ")", "text-anchor": "middle", class: "hs-label" }, clipLabel(label, 40)));
  }
  /* Points drawn as one path per colour (round caps on zero-length segments): thousands of
   * points cost a handful of elements. */
  function dots(g, xs, ys, colors, size, opacity) {
    const paths = {};
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] === null || ys[i] === null) continue;
      const c = typeof colors === "string" ? colors : colors[i];
      (paths[c] = paths[c] || []).push("M" + xs[i].toFixed(1) + " " + ys[i].toFixed(1) + "h0");
    }
    Object.keys(paths).forEach(function (c) {
      g.appendChild(svg("path", { d: paths[c].join(""), stroke: c, "stroke-width": size, "stroke-linecap": "round", "stroke-opacity": opacity === undefined ? 0.8 : opacity, fill: "none" }));
    });
  }
  function linePath(xs, ys, shape) {
    let d = "", on = false, py = null;
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] === null || ys[i] === null) { on = false; continue; }
      if (!on) { d += "M" + xs[i].toFixed(1) + " " + ys[i].toFixed(1); on = true; }
      else if (shape === "hv") d += "H" + xs[i].toFixed(1) + "V" + ys[i].toFixed(1);
      else d += "L" + xs[i].toFixed(1) + " " + ys[i].toFixed(1);
      py = ys[i];
    }
    return py === null ? "" : d;
  }
  /* Nearest point (in pixels) under the mouse, among the series that carry tips. */
  function hover(f, overlay, series, onClick) {
    const pts = [];
    series.forEach(function (s, si) {
      if (!s.tips) return;
      for (let i = 0; i < s.px.length; i++) if (s.px[i] !== null && s.py[i] !== null) pts.push([s.px[i], s.py[i], si, i]);
    });
    if (!pts.length) return;
    function nearest(ev) {
      const box = f.root.getBoundingClientRect();
      const k = f.width / (box.width || f.width);
      const mx = (ev.clientX - box.left) * k, my = (ev.clientY - box.top) * k;
      let best = null, bd = 400;
      for (let i = 0; i < pts.length; i++) { const dx = pts[i][0] - mx, dy = pts[i][1] - my, d = dx * dx + dy * dy; if (d < bd) { bd = d; best = pts[i]; } }
      return best;
    }
    overlay.addEventListener("mousemove", function (ev) {
      const p = nearest(ev);
      if (!p) { f.tip.hidden = true; overlay.style.cursor = ""; return; }
      const s = series[p[2]];
      showTip(f, p[0], p[1], String(s.tips[p[3]]).split("\n"));
      overlay.style.cursor = onClick ? "pointer" : "";
    });
    overlay.addEventListener("mouseleave", function () { f.tip.hidden = true; });
    if (onClick) overlay.addEventListener("click", function (ev) { const p = nearest(ev); if (p) onClick(series[p[2]], p[3]); });
  }

  /* An x/y chart of points, lines and steps.
   * spec: {height, x: {kind, label, categories}, y: {kind, label}, series: [{kind: "points" | "line" | "hv",
   *   x: [], y: [], color | colors: [], size, width, opacity, dash, tips: [], name}], legend: [{name, color}], onClick} */
  function xy(node, spec) {
    const f = frame(node, spec.height || 320);
    const m = { l: spec.y.label ? 62 : 48, r: 14, t: spec.legend ? 24 : 10, b: spec.x.label ? 40 : 24 };
    const allX = [], allY = [];
    spec.series.forEach(function (s) { s.x.forEach(function (v) { allX.push(v); }); s.y.forEach(function (v) { allY.push(v); }); });
    const sx = scale(spec.x.kind || "linear", allX, m.l, f.width - m.r, { categories: spec.x.categories, integer: spec.x.integer, domain: spec.x.domain });
    const sy = scale(spec.y.kind || "linear", allY, f.height - m.b, m.t, { categories: spec.y.categories, integer: spec.y.integer });
    const g = f.root.appendChild(svg("g"));
    axisY(g, sy, m.l, m.t, f.height - m.b, spec.y.label, 5, f.width - m.r);
    axisX(g, sx, f.height - m.b, m.l, f.width - m.r, spec.x.label, Math.max(3, Math.floor((f.width - m.l) / 90)));
    const plot = f.root.appendChild(svg("g"));
    const drawn = spec.series.map(function (s) {
      const px = s.x.map(sx.map), py = s.y.map(sy.map);
      if (spec.x.kind === "category" && s.jitter !== false) {  // spread points within their band
        for (let i = 0; i < px.length; i++) if (px[i] !== null) px[i] += ((i * 0.6180339887) % 1 - 0.5) * sx.band * 0.5;
      }
      if (s.kind === "points") dots(plot, px, py, s.colors || s.color || "#1f77b4", s.size || 6, s.opacity);
      else {
        const d = linePath(px, py, s.kind === "hv" ? "hv" : null);
        if (d) {
          const path = plot.appendChild(svg("path", { d: d, fill: "none", stroke: s.color || "#1f77b4", "stroke-width": s.width || 1.5, "stroke-opacity": s.opacity === undefined ? 1 : s.opacity, "stroke-dasharray": s.dash || null, "stroke-linejoin": "round" }));
          if (s.name) path.appendChild(svg("title", null, s.name));
        }
        if (s.markers) dots(plot, px, py, s.color || "#1f77b4", s.markers, 1);
      }
      return { px: px, py: py, tips: s.tips, ref: s };
    });
    (spec.shapes || []).forEach(function (sh) {
      if (sh.vline !== undefined) {
        const x = sx.map(sh.vline);
        if (x !== null) {
          plot.appendChild(svg("line", { x1: x, x2: x, y1: m.t, y2: f.height - m.b, stroke: sh.color || "#1a7f37", "stroke-dasharray": "5 4", "stroke-width": 1.5 }));
          if (sh.label) plot.appendChild(svg("text", { x: x + 4, y: m.t + 10, class: "hs-tick" }, sh.label));
        }
      }
    });
    if (spec.legend) {
      let x = m.l;
      spec.legend.forEach(function (item) {
        f.root.appendChild(svg("rect", { x: x, y: 6, width: 10, height: 10, rx: 2, fill: item.color }));
        const t = f.root.appendChild(svg("text", { x: x + 14, y: 15, class: "hs-tick" }, item.name));
        x += 24 + (t.getComputedTextLength ? t.getComputedTextLength() || item.name.length * 6 : item.name.length * 6);
      });
    }
    const overlay = f.root.appendChild(svg("rect", { x: m.l, y: m.t, width: Math.max(0, f.width - m.l - m.r), height: Math.max(0, f.height - m.t - m.b), fill: "transparent" }));
    hover(f, overlay, drawn, spec.onClick ? function (s, i) { spec.onClick(s.ref, i); } : null);
    return f;
  }

  /* Horizontal bars, largest first (importance). */
  function bars(node, spec) {
    const n = spec.labels.length;
    const rowH = 24;
    const f = frame(node, Math.max(120, n * rowH + 44));
    const longest = Math.max.apply(null, spec.labels.map(function (l) { return Math.min(18, String(l).length); }));
    const m = { l: Math.max(60, longest * 7 + 12), r: 50, t: 6, b: 38 };
    const sx = scale("linear", [], m.l, f.width - m.r, { domain: [0, spec.max || 1], pad: false });
    const g = f.root.appendChild(svg("g"));
    axisX(g, sx, f.height - m.b, m.l, f.width - m.r, spec.xlabel, 5);
    spec.labels.forEach(function (label, i) {
      const y = m.t + i * rowH;
      const w = Math.max(1, sx.map(spec.values[i]) - m.l);
      const bar = g.appendChild(svg("rect", { x: m.l, y: y + 4, width: w, height: rowH - 8, rx: 2, fill: spec.color || "#2463eb" }));
      bar.appendChild(svg("title", null, label + ": " + spec.values[i].toFixed(3)));
      g.appendChild(svg("text", { x: m.l - 6, y: y + rowH / 2 + 4, "text-anchor": "end", class: "hs-tick" }, clipLabel(label, 18)));
      g.appendChild(svg("text", { x: m.l + w + 4, y: y + rowH / 2 + 4, class: "hs-tick" }, spec.values[i].toFixed(2)));
    });
    return f;
  }

  /* Parallel coordinates with brushing: drag along an axis to keep the lines inside the range
   * (several axes combine); click an axis to clear its range. onBrush(indexes | null).
   * spec: {height, dims: [{name, kind, values, categories}], colors: [], tips: [], onBrush} */
  function parcoords(node, spec) {
    const f = frame(node, spec.height || 380);
    const n = spec.dims.length;
    const m = { l: 50, r: 50, t: 40, b: 22 };
    const step = n > 1 ? (f.width - m.l - m.r) / (n - 1) : 0;
    const scales = spec.dims.map(function (d) {
      return scale(d.kind, d.values, f.height - m.b, m.t, { categories: d.categories, pad: d.kind !== "category", integer: d.integer, domain: d.domain });
    });
    const rows = spec.dims.length ? spec.dims[0].values.length : 0;
    const pos = spec.dims.map(function (d, j) { return d.values.map(scales[j].map); });
    const back = f.root.appendChild(svg("g"));
    const front = f.root.appendChild(svg("g"));
    const lines = [];
    for (let i = 0; i < rows; i++) {
      let d = "", on = false;
      for (let j = 0; j < n; j++) {
        const y = pos[j][i], x = m.l + j * step;
        if (y === null) { on = false; continue; }
        d += (on ? "L" : "M") + x.toFixed(1) + " " + y.toFixed(1); on = true;
      }
      const path = svg("path", { d: d, fill: "none", stroke: spec.colors[i], "stroke-width": 1.2, "stroke-opacity": 0.75 });
      if (spec.tips) path.appendChild(svg("title", null, spec.tips[i]));
      front.appendChild(path);
      lines.push(path);
    }
    const brushes = {};
    function apply() {
      const active = Object.keys(brushes);
      let kept = null;
      if (active.length) {
        kept = [];
        for (let i = 0; i < rows; i++) {
          const ok = active.every(function (j) { const y = pos[j][i]; return y !== null && y >= brushes[j][0] && y <= brushes[j][1]; });
          if (ok) kept.push(i);
          if (ok !== (lines[i].parentNode === front)) (ok ? front : back).appendChild(lines[i]);
          lines[i].setAttribute("stroke", ok ? spec.colors[i] : "#d5dae1");
          lines[i].setAttribute("stroke-opacity", ok ? 0.8 : 0.5);
        }
      } else {
        for (let i = 0; i < rows; i++) { front.appendChild(lines[i]); lines[i].setAttribute("stroke", spec.colors[i]); lines[i].setAttribute("stroke-opacity", 0.75); }
      }
      if (spec.onBrush) spec.onBrush(kept);
    }
    const axes = f.root.appendChild(svg("g"));
    spec.dims.forEach(function (d, j) {
      const x = m.l + j * step, sc = scales[j];
      const g = axes.appendChild(svg("g"));
      g.appendChild(svg("line", { x1: x, x2: x, y1: m.t, y2: f.height - m.b, class: "hs-axis" }));
      const ticks = sc.kind === "category" ? sc.ticks() : sc.ticks(5);
      ticks.forEach(function (t) {
        g.appendChild(svg("line", { x1: x - 3, x2: x, y1: t.px, y2: t.px, class: "hs-axis" }));
        g.appendChild(svg("text", { x: x - 5, y: t.px + 4, "text-anchor": "end", class: "hs-tick hs-halo" }, clipLabel(t.label, 10)));
      });
      const anchor = j === 0 ? "start" : j === n - 1 ? "end" : "middle";
      // names alternate between two rows, so neighbours have twice the room
      const label = g.appendChild(svg("text", { x: j === 0 ? x - 8 : j === n - 1 ? x + 8 : x, y: m.t - (j % 2 ? 24 : 10), "text-anchor": anchor, class: "hs-label" }, clipLabel(d.name, Math.max(6, Math.floor(step * 1.8 / 7)))));
      if (label.textContent !== d.name) label.appendChild(svg("title", null, d.name));
      const rect = g.appendChild(svg("rect", { x: x - 9, y: m.t, width: 18, height: f.height - m.t - m.b, fill: "transparent", class: "hs-brush-area" }));
      const band = g.appendChild(svg("rect", { x: x - 7, y: 0, width: 14, height: 0, class: "hs-brush", visibility: "hidden" }));
      let start = null;
      const toY = function (ev) { const box = f.root.getBoundingClientRect(); return Math.max(m.t, Math.min(f.height - m.b, (ev.clientY - box.top) * f.width / (box.width || f.width))); };
      rect.addEventListener("pointerdown", function (ev) { start = toY(ev); rect.setPointerCapture(ev.pointerId); ev.preventDefault(); });
      rect.addEventListener("pointermove", function (ev) {
        if (start === null) return;
        const y = toY(ev), lo = Math.min(start, y), hi = Math.max(start, y);
        band.setAttribute("y", lo); band.setAttribute("height", hi - lo); band.setAttribute("visibility", "visible");
      });
      rect.addEventListener("pointerup", function (ev) {
        if (start === null) return;
        const y = toY(ev), lo = Math.min(start, y), hi = Math.max(start, y);
        start = null;
        if (hi - lo < 3) { delete brushes[j]; band.setAttribute("visibility", "hidden"); }
        else brushes[j] = [lo, hi];
        apply();
      });
    });
    f.brush = function (j, lo, hi) {  // programmatic brush in pixels (tests, keyboard users)
      brushes[j] = [Math.min(lo, hi), Math.max(lo, hi)];
      const band = axes.children[j].querySelector(".hs-brush");
      band.setAttribute("y", brushes[j][0]); band.setAttribute("height", brushes[j][1] - brushes[j][0]); band.setAttribute("visibility", "visible");
      apply();
    };
    f.clear = function () { Object.keys(brushes).forEach(function (j) { delete brushes[j]; }); axes.querySelectorAll(".hs-brush").forEach(function (b) { b.setAttribute("visibility", "hidden"); }); apply(); };
    f.axisX = function (j) { return m.l + j * step; };
    f.top = m.t; f.bottom = f.height - m.b;
    return f;
  }

  /* Filled contours of the objective over two parameters: a kernel-smoothed mean of the
   * (quantile-clipped) values on a grid in each axis' own scale, cut into colour bands, with
   * the trials on top. Cells far from any trial stay blank rather than extrapolate.
   * spec: {height, x: {name, kind, values, categories}, y: {...}, z: [], cs (colorScale), tips} */
  function contour(node, spec) {
    const f = frame(node, spec.height || 360);
    const m = { l: 62, r: 14, t: 10, b: 40 };
    const sx = scale(spec.x.kind, spec.x.values, m.l, f.width - m.r, { categories: spec.x.categories, integer: spec.x.integer, domain: spec.x.domain });
    const sy = scale(spec.y.kind, spec.y.values, f.height - m.b, m.t, { categories: spec.y.categories, integer: spec.y.integer, domain: spec.y.domain });
    const W = f.width - m.l - m.r, H = f.height - m.t - m.b;
    const pts = [];
    for (let i = 0; i < spec.z.length; i++) {
      const px = sx.map(spec.x.values[i]), py = sy.map(spec.y.values[i]), z = spec.z[i];
      if (px !== null && py !== null && typeof z === "number" && Number.isFinite(z)) pts.push([(px - m.l) / W, (py - m.t) / H, Math.max(spec.cs.lo, Math.min(spec.cs.hi, z)), px, py, i]);
    }
    const G = 40;
    const h = Math.max(0.06, 0.35 * Math.pow(Math.max(pts.length, 1), -1 / 6));  // bandwidth in axis fractions
    const g = f.root.appendChild(svg("g"));
    const cw = W / G, ch = H / G;
    for (let gx = 0; gx < G; gx++) for (let gy = 0; gy < G; gy++) {
      const cx = (gx + 0.5) / G, cy = (gy + 0.5) / G;
      let wsum = 0, zsum = 0;
      for (let k = 0; k < pts.length; k++) {
        const dx = (pts[k][0] - cx) / h, dy = (pts[k][1] - cy) / h, d2 = dx * dx + dy * dy;
        if (d2 > 9) continue;
        const w = Math.exp(-0.5 * d2);
        wsum += w; zsum += w * pts[k][2];
      }
      if (wsum < 0.05) continue;  // no trial near: leave blank
      const z = zsum / wsum;
      g.appendChild(svg("rect", { x: (m.l + gx * cw).toFixed(1), y: (m.t + gy * ch).toFixed(1), width: (cw + 0.6).toFixed(1), height: (ch + 0.6).toFixed(1), fill: spec.cs.color(z) }));
    }
    const axes = f.root.appendChild(svg("g"));
    axisY(axes, sy, m.l, m.t, f.height - m.b, spec.y.name, 5, null);
    axisX(axes, sx, f.height - m.b, m.l, f.width - m.r, spec.x.name, Math.max(3, Math.floor(W / 90)));
    const px = pts.map(function (p) { return p[3]; }), py = pts.map(function (p) { return p[4]; });
    dots(f.root, px, py, "#ffffff", 7, 1);
    dots(f.root, px, py, "#1d2330", 4, 1);
    const overlay = f.root.appendChild(svg("rect", { x: m.l, y: m.t, width: W, height: H, fill: "transparent" }));
    hover(f, overlay, [{ px: px, py: py, tips: pts.map(function (p) { return spec.tips ? spec.tips[p[5]] : ""; }) }], null);
    return f;
  }

  window.HSCharts = { xy: xy, bars: bars, parcoords: parcoords, contour: contour, colorScale: colorScale, colorLegend: colorLegend, fmtNum: fmtNum, scale: scale };
})();
