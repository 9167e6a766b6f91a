/* hypersearch charts: SVG renderers of chart specifications (no chart library).
 * Every rule a chart follows (which trials it shows, axis kinds, ranges, ticks and labels,
 * colours, outliers, notes) is decided in Python by hypersearch.plot.specs, the same code
 * hypersearch.plot draws Plotly figures from; this file only draws what a specification says:
 * positions are already in each axis' own coordinate, so an axis maps them linearly to pixels.
 * Every chart is an <svg> with a viewBox, so it scales to the page and prints as drawn.
 * Text reaches the DOM only through textContent. */
(function () {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const FONT = 11;

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    if (attrs) for (const k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  /* Numbers in the trials table (charts get their texts from their specification). */
  function fmtNum(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return "—";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    if (v === 0) return "0";
    const a = Math.abs(v);
    if (Number.isInteger(v) && a < 1e6) return String(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e");
    return String(Number(v.toPrecision(4)));
  }

  /* An axis of a specification ({kind, range, ticks: [[position, label]]}) over pixels r0..r1;
   * ticks closer than minGap pixels are thinned to every k-th (a narrow chart). */
  function axis(a, r0, r1, minGap) {
    const t0 = a.range[0], t1 = a.range[1];
    const map = function (t) { return t === null || t === undefined ? null : r0 + (r1 - r0) * (t - t0) / (t1 - t0); };
    let ticks = a.ticks.map(function (t) { return { px: map(t[0]), label: t[1] }; });
    if (a.kind !== "category" && ticks.length > 1) {
      const gap = Math.abs(ticks[1].px - ticks[0].px);
      const longest = Math.max.apply(null, ticks.map(function (t) { return t.label.length; }));
      const need = Math.max(minGap || 0, longest * 6.5 + 8);
      const every = gap > 0 ? Math.ceil(need / gap) : 1;
      if (every > 1) ticks = ticks.filter(function (t, i) { return i % every === 0; });
    }
    const n = a.categories ? Math.max(1, a.categories.length) : 0;
    return { kind: a.kind, map: map, ticks: ticks, band: n ? Math.abs(r1 - r0) / n : null };
  }

  function colorLegend(parent, bar) {
    if (!bar) return;
    const box = document.createElement("div");
    box.className = "hs-colorbar";
    const name = document.createElement("span"); name.textContent = bar.title;
    const lo = document.createElement("span"); lo.textContent = bar.worst;
    const ramp = document.createElement("span"); ramp.className = "hs-ramp";
    ramp.style.background = "linear-gradient(to right," + bar.colors.join(",") + ")";
    const hi = document.createElement("span"); hi.textContent = bar.best;
    box.appendChild(name); box.appendChild(lo); box.appendChild(ramp); box.appendChild(hi);
    if (bar.clipped) { const c = document.createElement("span"); c.className = "muted"; c.textContent = "(5th–95th percentile; beyond: end colours)"; box.appendChild(c); }
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
  function axisX(g, sc, y, x0, x1, label) {
    g.appendChild(svg("line", { x1: x0, x2: x1, y1: y, y2: y, class: "hs-axis" }));
    const maxChars = sc.kind === "category" ? Math.max(3, Math.floor((sc.band || 40) / 6.5)) : 12;
    sc.ticks.forEach(function (t) {
      g.appendChild(svg("line", { x1: t.px, x2: t.px, y1: y, y2: y + 4, class: "hs-axis" }));
      const text = g.appendChild(svg("text", { x: t.px, y: y + 15, "text-anchor": "middle", class: "hs-tick" }, clipLabel(t.label, maxChars)));
      if (t.label.length > maxChars) text.appendChild(svg("title", null, t.label));
    });
    if (label) g.appendChild(svg("text", { x: (x0 + x1) / 2, y: y + 31, "text-anchor": "middle", class: "hs-label" }, label));
  }
  function axisY(g, sc, x, y0, y1, label, gridTo) {
    g.appendChild(svg("line", { x1: x, x2: x, y1: y0, y2: y1, class: "hs-axis" }));
    sc.ticks.forEach(function (t) {
      if (gridTo) g.appendChild(svg("line", { x1: x, x2: gridTo, y1: t.px, y2: t.px, class: "hs-grid" }));
      g.appendChild(svg("text", { x: x - 5, y: t.px + 4, "text-anchor": "end", class: "hs-tick" }, clipLabel(t.label, 9)));
    });
    if (label) g.appendChild(svg("text", { x: 12, y: (y0 + y1) / 2, transform: "rotate(-90 12 " + ((y0 + y1) / 2) + ")", "text-anchor": "middle", class: "hs-label" }, clipLabel(label, 40)));
  }
  /* Points drawn as one path per colour (round caps on zero-length segments): thousands of
   * points cost a handful of elements. A cross for symbol "x". */
  function dots(g, xs, ys, colors, size, opacity, symbol) {
    const paths = {};
    for (let i = 0; i < xs.length; i++) {
      if (xs[i] === null || ys[i] === null) continue;
      const c = typeof colors === "string" ? colors : colors[i];
      const x = xs[i].toFixed(1), y = ys[i].toFixed(1), h = size / 2;
      (paths[c] = paths[c] || []).push(symbol === "x"
        ? "M" + (xs[i] - h).toFixed(1) + " " + (ys[i] - h).toFixed(1) + "l" + size + " " + size + "m0 " + (-size) + "l" + (-size) + " " + size
        : "M" + x + " " + y + "h0");
    }
    Object.keys(paths).forEach(function (c) {
      g.appendChild(svg("path", { d: paths[c].join(""), stroke: c, "stroke-width": symbol === "x" ? 2 : size, "stroke-linecap": "round", "stroke-opacity": opacity === undefined ? 0.8 : opacity, fill: "none" }));
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
      showTip(f, p[0], p[1], (s.head ? [s.head] : []).concat(String(s.tips[p[3]]).split("\n")));
      overlay.style.cursor = onClick ? "pointer" : "";
    });
    overlay.addEventListener("mouseleave", function () { f.tip.hidden = true; });
    if (onClick) overlay.addEventListener("click", function (ev) { const p = nearest(ev); if (p) onClick(series[p[2]].ref, p[3]); });
  }

  /* An x/y chart (type "xy"): points, lines and steps on the specification's axes.
   * opts: {highlight: Set of trial numbers drawn in spec.highlight's style, on top;
   *        only: [trial numbers] to draw (in that order, in spec-given palette colours), onClick(series, i)} */
  function xy(node, spec, opts) {
    opts = opts || {};
    const f = frame(node, spec.height || 320);
    const m = { l: spec.y.title ? 62 : 48, r: 14, t: spec.legend || opts.legend ? 24 : 10, b: spec.x.title ? 40 : 24 };
    const sx = axis(spec.x, m.l, f.width - m.r, 40), sy = axis(spec.y, f.height - m.b, m.t, 16);
    const g = f.root.appendChild(svg("g"));
    axisY(g, sy, m.l, m.t, f.height - m.b, spec.y.title, f.width - m.r);
    axisX(g, sx, f.height - m.b, m.l, f.width - m.r, spec.x.title);
    let series = spec.series;
    let legend = spec.legend;
    if (opts.only) {
      const byNumber = new Map(series.filter(function (s) { return s.number !== undefined; }).map(function (s) { return [s.number, s]; }));
      const palette = opts.palette || ["#1f77b4"];
      series = [];
      legend = [];
      opts.only.forEach(function (n, i) {
        const s = byNumber.get(n);
        if (!s) return;
        const c = palette[i % palette.length];
        series.push(Object.assign({}, s, { color: c, width: 2, opacity: 1 }));
        legend.push({ name: "trial " + n, color: c });
      });
    } else if (opts.highlight && opts.highlight.size && spec.highlight) {
      const on = [], off = [];
      series.forEach(function (s) {
        if (s.number !== undefined && opts.highlight.has(s.number)) on.push(Object.assign({}, s, { color: spec.highlight.color, width: spec.highlight.width, opacity: 1 }));
        else off.push(s);
      });
      series = off.concat(on);
    }
    const plot = f.root.appendChild(svg("g"));
    const drawn = series.map(function (s) {
      const px = s.x.map(sx.map), py = s.y.map(sy.map);
      if (s.kind === "points") dots(plot, px, py, s.colors || s.color, s.size || 6, s.opacity, s.symbol);
      else {
        const d = linePath(px, py, s.kind === "hv" ? "hv" : null);
        if (d) {
          const path = plot.appendChild(svg("path", { d: d, fill: "none", stroke: s.color, "stroke-width": s.width || 1.5, "stroke-opacity": s.opacity === undefined ? 1 : s.opacity, "stroke-dasharray": s.dash ? "4 3" : null, "stroke-linejoin": "round" }));
          if (s.name) path.appendChild(svg("title", null, s.name));
        }
        if (s.markers) dots(plot, px, py, s.color, s.markers, 1);
      }
      return { px: px, py: py, tips: s.tips, head: s.number !== undefined ? s.name : null, ref: s };
    });
    (spec.vlines || []).forEach(function (v) {
      const x = sx.map(v.x);
      plot.appendChild(svg("line", { x1: x, x2: x, y1: m.t, y2: f.height - m.b, stroke: v.color, "stroke-dasharray": "5 4", "stroke-width": 1.5 }));
      if (v.label) plot.appendChild(svg("text", { x: x + 4, y: m.t + 10, class: "hs-tick" }, v.label));
    });
    if (legend) {
      let x = m.l;
      legend.forEach(function (item) {
        f.root.appendChild(svg("rect", { x: x, y: 6, width: 10, height: 10, rx: 2, fill: item.color }));
        const t = f.root.appendChild(svg("text", { x: x + 14, y: 15, class: "hs-tick" }, item.name));
        x += 24 + (t.getComputedTextLength ? t.getComputedTextLength() || item.name.length * 6 : item.name.length * 6);
      });
    }
    const overlay = f.root.appendChild(svg("rect", { x: m.l, y: m.t, width: Math.max(0, f.width - m.l - m.r), height: Math.max(0, f.height - m.t - m.b), fill: "transparent" }));
    hover(f, overlay, drawn, opts.onClick || null);
    return f;
  }

  /* Horizontal bars, in the specification's order (type "bars": importance). */
  function bars(node, spec) {
    const n = spec.labels.length;
    const rowH = 24;
    const f = frame(node, Math.max(120, n * rowH + 44));
    const longest = Math.max.apply(null, spec.labels.map(function (l) { return Math.min(18, String(l).length); }));
    const m = { l: Math.max(60, longest * 7 + 12), r: 50, t: 6, b: 38 };
    const sx = axis(spec.x, m.l, f.width - m.r, 40);
    const g = f.root.appendChild(svg("g"));
    axisX(g, sx, f.height - m.b, m.l, f.width - m.r, spec.x.title);
    spec.labels.forEach(function (label, i) {
      const y = m.t + i * rowH;
      const w = Math.max(1, sx.map(spec.values[i]) - m.l);
      const bar = g.appendChild(svg("rect", { x: m.l, y: y + 4, width: w, height: rowH - 8, rx: 2, fill: "#2463eb" }));
      bar.appendChild(svg("title", null, label + ": " + spec.texts[i]));
      g.appendChild(svg("text", { x: m.l - 6, y: y + rowH / 2 + 4, "text-anchor": "end", class: "hs-tick" }, clipLabel(label, 18)));
      g.appendChild(svg("text", { x: m.l + w + 4, y: y + rowH / 2 + 4, class: "hs-tick" }, spec.texts[i]));
    });
    return f;
  }

  /* Parallel coordinates (type "parcoords") with brushing: drag along an axis to keep the
   * lines inside the range (several axes combine); click an axis to clear its range.
   * onBrush(indexes | null). */
  function parcoords(node, spec, onBrush) {
    const f = frame(node, spec.height || 380);
    const n = spec.dims.length;
    const m = { l: 50, r: 50, t: 40, b: 22 };
    const step = n > 1 ? (f.width - m.l - m.r) / (n - 1) : 0;
    const scales = spec.dims.map(function (d) { return axis(d, f.height - m.b, m.t, 14); });
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
      if (onBrush) onBrush(kept);
    }
    const axes = f.root.appendChild(svg("g"));
    spec.dims.forEach(function (d, j) {
      const x = m.l + j * step, sc = scales[j];
      const g = axes.appendChild(svg("g"));
      g.appendChild(svg("line", { x1: x, x2: x, y1: m.t, y2: f.height - m.b, class: "hs-axis" }));
      sc.ticks.forEach(function (t) {
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
    f.top = m.t; f.bottom = f.height - m.b;
    return f;
  }

  /* Slices (type "slices"): one x/y panel per parameter, sharing the trials' values (y) and
   * colours; each panel a child of `node` with class "slice". */
  function slices(node, spec) {
    node.textContent = "";
    spec.panels.forEach(function (p) {
      const cell = node.appendChild(document.createElement("div"));
      cell.className = "slice";
      xy(cell, { height: spec.height, x: p.x, y: spec.y, series: [{ kind: "points", x: p.values, y: spec.values, colors: spec.colors, size: spec.size, opacity: 0.8,
        tips: spec.numbers.map(function (n, i) { return "trial " + n + "\n" + p.name + " = " + p.texts[i] + "\n" + spec.value_texts[i]; }) }] });
    });
  }

  /* Panels of x/y charts (type "matrix": each pair of objectives), in a grid. */
  function matrix(node, spec, opts) {
    node.textContent = "";
    const grid = node.appendChild(document.createElement("div"));
    grid.className = "slices";
    spec.panels.forEach(function (p) {
      const cell = grid.appendChild(document.createElement("div"));
      cell.className = "slice";
      xy(cell, p, opts);
    });
  }

  /* A contour (type "contour"): the specification's grid of colour bands ('0'..'9', '.' blank;
   * rows from the bottom), its axes, and the trials on top. */
  function contour(node, spec) {
    const f = frame(node, spec.height || 360);
    const m = { l: 62, r: 14, t: 10, b: 40 };
    const sx = axis(spec.x, m.l, f.width - m.r, 40), sy = axis(spec.y, f.height - m.b, m.t, 16);
    const W = f.width - m.l - m.r, H = f.height - m.t - m.b, G = spec.grid;
    const cw = W / G, ch = H / G;
    const g = f.root.appendChild(svg("g"));
    for (let gy = 0; gy < G; gy++) for (let gx = 0; gx < G; gx++) {
      const c = spec.cells.charAt(gy * G + gx);
      if (c === ".") continue;
      g.appendChild(svg("rect", { x: (m.l + gx * cw).toFixed(1), y: (m.t + H - (gy + 1) * ch).toFixed(1), width: (cw + 0.6).toFixed(1), height: (ch + 0.6).toFixed(1), fill: spec.colorbar.colors[Number(c)] }));
    }
    const axes = f.root.appendChild(svg("g"));
    axisY(axes, sy, m.l, m.t, f.height - m.b, spec.y.title, null);
    axisX(axes, sx, f.height - m.b, m.l, f.width - m.r, spec.x.title);
    const px = spec.points.x.map(sx.map), py = spec.points.y.map(sy.map);
    dots(f.root, px, py, "#ffffff", 7, 1);
    dots(f.root, px, py, "#1d2330", 4, 1);
    const overlay = f.root.appendChild(svg("rect", { x: m.l, y: m.t, width: W, height: H, fill: "transparent" }));
    const pt = spec.points;
    const tips = pt.numbers.map(function (n, i) { return "trial " + n + "\n" + spec.x.name + " = " + pt.x_texts[i] + "\n" + spec.y.name + " = " + pt.y_texts[i] + "\n" + pt.value_texts[i]; });
    hover(f, overlay, [{ px: px, py: py, tips: tips }], null);
    return f;
  }

  window.HSCharts = { xy: xy, bars: bars, parcoords: parcoords, slices: slices, matrix: matrix, contour: contour, colorLegend: colorLegend, fmtNum: fmtNum };
})();
