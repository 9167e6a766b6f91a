/* hypersearch dashboard: study, trial, compare and studies pages, and the static report.
 * Charts are drawn by charts.js (SVG, no chart library) as soon as their data arrives, and
 * again at the page's width on resize and before printing. Every user string goes into the
 * DOM through textContent (never innerHTML), so notes, tags, names and values stay text. */
(function () {
  "use strict";
  const cfgEl = document.getElementById("hs-config");
  if (!cfgEl) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const dataEl = document.getElementById("hs-data");
  const INLINE = dataEl ? JSON.parse(dataEl.textContent) : null;
  const C = window.HSCharts;
  const COLORS = { COMPLETE: "#1f77b4", STOPPED: "#e07b00", FAILED: "#c62828", RUNNING: "#2463eb", WAITING: "#6e7781" };
  const ready = (window.__hs = { errors: [], polls: 0, timings: {}, t0: performance.now() });

  // helpers ---------------------------------------------------------------------------------
  function el(tag, props, text) {
    const node = document.createElement(tag);
    if (props) for (const k in props) {
      if (props[k] === undefined || props[k] === null) continue;
      if (k === "class") node.className = props[k];
      else node.setAttribute(k, props[k]);
    }
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function num(v) {
    if (v === null || v === undefined || typeof v === "boolean") return null;
    const x = typeof v === "number" ? v : Number(v);
    return Number.isNaN(x) ? null : x;
  }
  function finite(v) { const x = num(v); return x !== null && Number.isFinite(x) ? x : null; }
  function fmt(v) {
    if (v === null || v === undefined) return "—";
    if (v === "Infinity") return "inf";
    if (v === "-Infinity") return "-inf";
    if (v === "NaN") return "nan";
    if (typeof v === "number") return C.fmtNum(v);
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function api(path) {
    return fetch(path, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(path + " → HTTP " + r.status);
      return r.json();
    });
  }
  function fail(where, err) {
    ready.errors.push(where + ": " + err);
    const node = document.getElementById(where);
    if (node) { node.textContent = ""; node.appendChild(el("p", { class: "error" }, "Could not load: " + err)); }
  }
  function better(a, b, direction) { return direction === "minimize" ? a < b : a > b; }

  // charts are (re)drawn through draw(): at load, when data changes, on resize, before print
  const drawers = {};
  function draw(name, fn) {
    drawers[name] = fn;
    const t0 = performance.now();
    try { fn(); } catch (err) { ready.errors.push(name + ": " + err); throw err; }
    ready.timings[name] = Math.round(performance.now() - t0);
    ready[name] = true;
  }
  function empty(id, text) {
    const node = document.getElementById(id);
    node.textContent = "";
    node.appendChild(el("p", { class: "empty" }, text));
  }
  let resizeTimer = null, lastWidth = window.innerWidth;
  window.addEventListener("resize", function () {
    if (window.innerWidth === lastWidth) return;
    lastWidth = window.innerWidth;
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { Object.keys(drawers).forEach(function (k) { drawers[k](); }); }, 150);
  });
  window.addEventListener("beforeprint", function () { Object.keys(drawers).forEach(function (k) { drawers[k](); }); });

  // parameters: their axis in their own units and scale --------------------------------------
  function axisKind(def, column) {
    if (def) {
      if (def.type === "choice" || def.type === "bool") return "category";
      if (def.scale === "log" || def.scale === "pow2" || def.scale === "log1m") return def.scale;
      return "linear";
    }
    return column.some(function (v) { return v !== null && v !== undefined && typeof v !== "number"; }) ? "category" : "linear";
  }
  function dimension(name, def, column) {
    const kind = axisKind(def, column);
    if (kind !== "category") {
      // the axis spans the declared range, so a trial's place in the search space shows
      const declared = def && finite(def.low) !== null && finite(def.high) !== null && def.high > def.low ? [def.low, def.high] : null;
      return { name: name, kind: kind, values: column.map(finite), integer: !!def && def.type === "int", domain: declared };
    }
    const labels = column.map(function (v) { return v === undefined || v === null ? null : fmt(v); });
    let cats = def && def.values ? def.values.map(fmt) : def && def.type === "bool" ? ["false", "true"] : [];
    labels.forEach(function (l) { if (l !== null && cats.indexOf(l) < 0) cats.push(l); });
    if (!def) cats = cats.sort();
    return { name: name, kind: "category", values: labels, categories: cats };
  }

  // the study page (and the report) -------------------------------------------------------------
  function studyPage() {
    const study = cfg.study;
    const remote = !INLINE;
    const base = "/api/studies/" + study.id;
    const defs = Object.assign({}, (remote ? cfg.params : INLINE.params) || study.space || {});
    let paramNames = Object.keys(defs);
    const trials = new Map();      // number -> {state, value, params}
    const curves = new Map();      // number -> [[step, value], ...]
    const selected = new Set();
    let analysis = null;
    let cursor = null;
    const table = { offset: 0, limit: 50, sort: "value", order: study.direction === "minimize" ? "asc" : "desc",
      state: "", tag: "", q: "", numbers: null, total: 0, rows: [] };

    function addParamNames(params) {
      let added = false;
      Object.keys(params || {}).forEach(function (p) { if (paramNames.indexOf(p) < 0) { paramNames.push(p); added = true; } });
      if (added) { header(); if (ready.table) renderRows(); }
    }
    function loadPoints(p) {
      for (let i = 0; i < p.numbers.length; i++) {
        const old = trials.get(p.numbers[i]);
        const params = p.params ? (p.params[i] || {}) : (old ? old.params : {});
        if (p.params) addParamNames(params);
        trials.set(p.numbers[i], { state: p.states[i], value: p.values[i], params: params });
      }
    }

    function drawSummary() {
      const counts = {};
      let best = null;
      trials.forEach(function (t, n) {
        counts[t.state] = (counts[t.state] || 0) + 1;
        const v = finite(t.value);
        if (t.state === "COMPLETE" && v !== null && (best === null || better(v, best.value, study.direction))) best = { number: n, value: v };
      });
      const box = document.getElementById("counts");
      box.textContent = "";
      Object.keys(counts).sort().forEach(function (s) { box.appendChild(el("span", { class: "badge" }, s + " " + counts[s])); });
      document.getElementById("best").textContent = best ? "best " + fmt(best.value) + " (trial " + best.number + ")" : "";
    }

    /* y range of a plot: the values between robust bounds (so one diverged run does not squash
     * the rest); values beyond are drawn on the edge and counted in the caption */
    function robustRange(values) {
      const xs = values.filter(function (v) { return v !== null; }).sort(function (a, b) { return a - b; });
      if (xs.length < 20) return null;
      const q = function (p) { return xs[Math.floor((xs.length - 1) * p)]; };
      const spread = q(0.95) - q(0.05);
      const lo = Math.max(xs[0], q(0.05) - spread), hi = Math.min(xs[xs.length - 1], q(0.95) + spread);
      if (!(hi > lo)) return null;
      const out = xs.filter(function (v) { return v < lo || v > hi; }).length;
      return out ? { lo: lo, hi: hi, out: out } : null;
    }
    function clampTo(range, v) { return range && v !== null ? Math.max(range.lo, Math.min(range.hi, v)) : v; }

    // At most HISTORY_POINTS markers per state: above that, keep each bin's lowest and highest
    // value (by trial number), which draws the same cloud with far fewer elements.
    const HISTORY_POINTS = 2000;
    function thin(xs, ys) {
      if (xs.length <= HISTORY_POINTS) return { x: xs, y: ys, thinned: false };
      const bins = HISTORY_POINTS / 2, width = (xs[xs.length - 1] - xs[0] + 1) / bins;
      const lo = new Array(bins).fill(-1), hi = new Array(bins).fill(-1);
      for (let i = 0; i < xs.length; i++) {
        const b = Math.min(bins - 1, Math.floor((xs[i] - xs[0]) / width));
        if (lo[b] < 0 || ys[i] < ys[lo[b]]) lo[b] = i;
        if (hi[b] < 0 || ys[i] > ys[hi[b]]) hi[b] = i;
      }
      const x = [], y = [];
      for (let b = 0; b < bins; b++) {
        [lo[b], hi[b]].filter(function (i, k, a) { return i >= 0 && a.indexOf(i) === k; })
          .forEach(function (i) { x.push(xs[i]); y.push(ys[i]); });
      }
      return { x: x, y: y, thinned: true };
    }
    function drawHistory() {
      draw("history", function () {
        const byState = {};
        const bestX = [], bestY = [], all = [];
        let best = null;
        const numbers = Array.from(trials.keys()).sort(function (a, b) { return a - b; });
        for (const n of numbers) {
          const t = trials.get(n);
          const v = finite(t.value);
          if (v === null || (t.state !== "COMPLETE" && t.state !== "STOPPED")) continue;
          (byState[t.state] = byState[t.state] || { x: [], y: [] });
          byState[t.state].x.push(n); byState[t.state].y.push(v); all.push(v);
          if (t.state === "COMPLETE" && (best === null || better(v, best, study.direction))) { best = v; bestX.push(n); bestY.push(v); }
        }
        if (!all.length) { empty("plot-history", "No finished trial with a value yet."); document.getElementById("history-info").textContent = ""; return; }
        if (best !== null && numbers.length) { bestX.push(numbers[numbers.length - 1]); bestY.push(best); }
        const range = robustRange(all);
        let thinned = false;
        const series = [], legend = [];
        ["STOPPED", "COMPLETE"].forEach(function (s) {
          if (!byState[s]) return;
          const pts = thin(byState[s].x, byState[s].y);
          thinned = thinned || pts.thinned;
          series.push({ kind: "points", x: pts.x, y: pts.y.map(function (v) { return clampTo(range, v); }), color: COLORS[s], size: pts.thinned ? 4 : 7, opacity: 0.75,
            tips: pts.x.map(function (n, i) { return "trial " + n + " (" + s + ")\n" + study.metric + " " + fmt(pts.y[i]); }), numbers: pts.x });
          legend.push({ name: s === "STOPPED" ? "stopped (value when stopped)" : "completed", color: COLORS[s] });
        });
        if (bestX.length) { series.push({ kind: "hv", x: bestX, y: bestY.map(function (v) { return clampTo(range, v); }), color: "#1a7f37", width: 2 }); legend.push({ name: "best so far", color: "#1a7f37" }); }
        C.xy(document.getElementById("plot-history"), { height: 320, x: { label: "trial", integer: true }, y: { label: study.metric }, series: series, legend: legend,
          onClick: function (s, i) { if (s.numbers) toggle(s.numbers[i]); } });
        const notes = [];
        if (thinned) notes.push("above " + HISTORY_POINTS + " trials per state, each bin's lowest and highest value is drawn");
        if (range) notes.push(range.out + " outlying value(s) drawn on the edge");
        document.getElementById("history-info").textContent = notes.join("; ");
      });
    }

    function drawCurves() {
      draw("curves", function () {
        const shown = Array.from(curves.keys()).filter(function (n) { return curves.get(n).length; }).sort(function (a, b) { return a - b; });
        const info = document.getElementById("curves-info");
        const legendBox = document.getElementById("curves-legend");
        legendBox.textContent = "";
        if (!shown.length) { empty("plot-curves", "No reported learning curve yet."); info.textContent = ""; return; }
        const result = function (n) {
          const t = trials.get(n) || {};
          const v = finite(t.value);
          if (v !== null) return v;
          const pts = curves.get(n);
          return finite(pts[pts.length - 1][1]);
        };
        const cs = C.colorScale(shown.map(result), study.direction);
        const allY = [];
        shown.forEach(function (n) { curves.get(n).forEach(function (p) { const y = finite(p[1]); if (y !== null) allY.push(y); }); });
        const range = robustRange(allY);
        const series = [];
        const on = [];
        shown.forEach(function (n) {
          const pts = curves.get(n), t = trials.get(n) || { state: "?" };
          const sel = selected.has(n);
          const s = { kind: pts.length > 1 ? "line" : "points", x: pts.map(function (p) { return p[0]; }), y: pts.map(function (p) { return clampTo(range, finite(p[1])); }),
            color: sel ? "#d62728" : cs.color(result(n)), width: sel ? 3 : 1.3, opacity: sel ? 1 : 0.8, size: 6, dash: t.state === "RUNNING" ? "4 3" : null,
            name: "trial " + n + " (" + t.state + ")", number: n,
            tips: pts.map(function (p) { return "trial " + n + " (" + t.state + ")\nstep " + p[0] + ": " + fmt(p[1]); }) };
          (sel ? on : series).push(s);
        });
        C.xy(document.getElementById("plot-curves"), { height: 320, x: { label: "step", integer: true }, y: { label: study.metric }, series: series.concat(on),
          onClick: function (s) { toggle(s.number); } });
        C.colorLegend(legendBox, cs, "colour: each trial's result");
        info.textContent = shown.length + " curves (best, running and recent trials; dashed: running" +
          (selected.size ? "; selected in red)" : "; click a curve or a row to select it)") + (range ? "; " + range.out + " outlying point(s) on the edge" : "");
      });
    }

    // analysis: importance, parallel coordinates, slices, contour -------------------------------
    function analysisRows() {
      if (!analysis) return [];
      const rows = [];
      analysis.numbers.forEach(function (n, i) {
        if (finite(analysis.values[i]) !== null) rows.push([n, analysis.values[i], analysis.params[i] || {}]);
      });
      rows.sort(function (a, b) { return study.direction === "minimize" ? a[1] - b[1] : b[1] - a[1]; });
      return rows;
    }
    function setAnalysis(a) {
      if (!a.params) {  // a report leaves them to its rows when it holds every compared trial
        const byNumber = new Map(INLINE.trials.map(function (r) { return [r.number, r.params]; }));
        a.params = a.numbers.map(function (n) { return byNumber.get(n) || {}; });
      }
      analysis = a;
      a.params.forEach(addParamNames);
    }
    function basisText() { return analysis ? analysis.basis.label : ""; }
    function valueLabel() {
      return analysis && analysis.basis.kind === "step" ? study.metric + " @ step " + analysis.basis.step : study.metric;
    }
    function usedParams(rows) {
      return paramNames.filter(function (p) { return rows.some(function (r) { return r[2][p] !== undefined && r[2][p] !== null; }); });
    }

    function drawImportance() {
      draw("importance", function () {
        const info = document.getElementById("importance-info");
        const imp = analysis ? analysis.importance : {};
        const names = Object.keys(imp || {});
        if (!names.length) {
          empty("plot-importance", "Needs at least 20 trials with a value on one basis" + (analysis ? " (has " + analysis.sample + ": " + basisText() + ")." : "."));
          info.textContent = ""; return;
        }
        info.textContent = "Share of the variance each parameter explains alone (fANOVA main effect), from " + basisText() +
          (analysis.sample < analysis.n_trials ? " (a sample of " + analysis.sample + ")" : "") + ".";
        C.bars(document.getElementById("plot-importance"), { labels: names, values: names.map(function (n) { return imp[n]; }), xlabel: "main-effect share", max: Math.max(0.05, Math.min(1, Math.max.apply(null, names.map(function (n) { return imp[n]; })) * 1.15)) });
      });
    }

    let parcoordsChart = null;
    function drawParcoords() {
      draw("parcoords", function () {
        const cap = 1000;  // more lines are unreadable
        const all = analysisRows();
        const rows = all.slice(0, cap);
        const info = document.getElementById("parcoords-info");
        const names = usedParams(rows);
        parcoordsChart = null;
        if (rows.length < 2 || !names.length) { empty("plot-parcoords", "Needs two trials with a value and parameters."); info.textContent = ""; return; }
        info.textContent = (all.length > cap ? "The best " + cap + " of " + all.length + " trials" : rows.length + " trials") + ": " + basisText() +
          ". Drag along an axis to filter the table; click the axis to clear.";
        const dims = names.map(function (p) { return dimension(p, defs[p], rows.map(function (r) { return r[2][p]; })); });
        const values = rows.map(function (r) { return r[1]; });
        dims.push({ name: valueLabel(), kind: "linear", values: values });
        const cs = C.colorScale(values, study.direction);
        const legendBox = document.getElementById("parcoords-legend");
        legendBox.textContent = "";
        parcoordsChart = C.parcoords(document.getElementById("plot-parcoords"), { height: 380, dims: dims, colors: values.map(cs.color),
          tips: rows.map(function (r) { return "trial " + r[0] + ": " + fmt(r[1]); }),
          onBrush: function (kept) { setBrushed(kept === null ? null : kept.map(function (i) { return rows[i][0]; })); } });
        C.colorLegend(legendBox, cs, "colour: " + valueLabel());
        if (table.numbers) setBrushed(null);
      });
    }
    ready.brush = function (axis, fromFrac, toFrac) {  // for tests: brush axis `axis` between two fractions of its height
      const c = parcoordsChart;
      c.brush(axis, c.top + (c.bottom - c.top) * fromFrac, c.top + (c.bottom - c.top) * toFrac);
    };

    function drawSlices() {
      draw("slices", function () {
        const rows = analysisRows();
        const box = document.getElementById("plot-slices");
        const names = usedParams(rows);
        document.getElementById("slices-info").textContent = rows.length ? basisText() + "." : "";
        if (!rows.length || !names.length) { empty("plot-slices", "Needs trials with a value and parameters."); return; }
        box.textContent = "";
        const values = rows.map(function (r) { return r[1]; });
        const cs = C.colorScale(values, study.direction);
        names.forEach(function (p) {
          const cell = box.appendChild(el("div", { class: "slice" }));
          const dim = dimension(p, defs[p], rows.map(function (r) { return r[2][p]; }));
          C.xy(cell, { height: 230, x: { kind: dim.kind, label: p + (dim.kind !== "linear" && dim.kind !== "category" ? " (" + dim.kind + " scale)" : ""), categories: dim.categories, integer: dim.integer, domain: dim.domain },
            y: { label: valueLabel() },
            series: [{ kind: "points", x: dim.values, y: values, colors: values.map(cs.color), size: rows.length > 2000 ? 4 : 7, opacity: 0.8,
              tips: rows.map(function (r) { return "trial " + r[0] + "\n" + p + " = " + fmt(r[2][p]) + "\n" + fmt(r[1]); }) }] });
        });
      });
    }

    function drawContour() {
      draw("contour", function () {
        const rows = analysisRows();
        const names = usedParams(rows);
        const xs = document.getElementById("contour-x"), ys = document.getElementById("contour-y");
        const info = document.getElementById("contour-info");
        const controlsBox = document.getElementById("contour-controls");
        if (rows.length < 3 || names.length < 2) { empty("plot-contour", "Needs three trials with a value and two parameters."); info.textContent = ""; controlsBox.hidden = true; return; }
        controlsBox.hidden = false;
        const imp = analysis.importance || {};
        const ranked = names.slice().sort(function (a, b) { return (imp[b] || 0) - (imp[a] || 0); });
        [xs, ys].forEach(function (sel, k) {
          const keep = sel.value;
          sel.textContent = "";
          names.forEach(function (p) { sel.appendChild(el("option", { value: p }, p)); });
          sel.value = names.indexOf(keep) >= 0 ? keep : ranked[k];
        });
        if (xs.value === ys.value) ys.value = ranked.find(function (p) { return p !== xs.value; });
        const px = xs.value, py = ys.value;
        const sub = rows.filter(function (r) { return r[2][px] !== undefined && r[2][py] !== undefined; });
        const values = sub.map(function (r) { return r[1]; });
        const cs = C.colorScale(values, study.direction);
        const dx = dimension(px, defs[px], sub.map(function (r) { return r[2][px]; }));
        const dy = dimension(py, defs[py], sub.map(function (r) { return r[2][py]; }));
        C.contour(document.getElementById("plot-contour"), { height: 360, x: dx, y: dy, z: values, cs: cs,
          tips: sub.map(function (r) { return "trial " + r[0] + "\n" + px + " = " + fmt(r[2][px]) + "\n" + py + " = " + fmt(r[2][py]) + "\n" + fmt(r[1]); }) });
        const legendBox = document.getElementById("contour-legend");
        legendBox.textContent = "";
        C.colorLegend(legendBox, cs, "colour: kernel-smoothed " + valueLabel());
        info.textContent = sub.length + " trials: " + basisText() + ". Blank where no trial is near.";
      });
    }
    function drawAnalysis() { drawImportance(); drawParcoords(); drawSlices(); drawContour(); }

    // trials table ---------------------------------------------------------------------------
    function header() {
      const tr = el("tr");
      tr.appendChild(el("th", null, ""));
      const cols = [["number", "#", true], ["state", "State", false], ["value", study.metric, true]];
      paramNames.forEach(function (p) { cols.push(["param:" + p, p, defs[p] ? axisKind(defs[p], []) !== "category" : true]); });
      cols.push(["duration", "Duration", true], [null, "Step", true], [null, "Tags", false], [null, "Note", false]);
      cols.forEach(function (c) {
        const th = el("th", { class: (c[0] ? "sortable " : "") + (c[2] ? "num" : "") + (c[1] === "Note" ? " note" : ""), title: c[0] ? "sort by " + c[1] : null },
          c[1] + (table.sort === c[0] ? (table.order === "desc" ? " ▼" : " ▲") : ""));
        if (c[0]) th.addEventListener("click", function () {
          if (table.sort === c[0]) table.order = table.order === "desc" ? "asc" : "desc";
          else { table.sort = c[0]; table.order = c[0] === "value" && study.direction === "maximize" ? "desc" : "asc"; }
          table.offset = 0; loadTable();
        });
        tr.appendChild(th);
      });
      const thead = document.querySelector("#trials thead");
      thead.textContent = ""; thead.appendChild(tr);
    }
    function rowNode(r) {
      const tr = el("tr", { "data-number": r.number });
      if (selected.has(r.number)) tr.className = "selected";
      const box = el("input", { type: "checkbox", "aria-label": "select trial " + r.number });
      box.checked = selected.has(r.number);
      box.addEventListener("click", function (e) { e.stopPropagation(); toggle(r.number); });
      tr.appendChild(el("td")).appendChild(box);
      const link = remote ? el("a", { href: "/studies/" + study.id + "/trials/" + r.number }, r.number) : el("span", null, r.number);
      tr.appendChild(el("td", { class: "num" })).appendChild(link);
      tr.appendChild(el("td")).appendChild(el("span", { class: "state " + r.state }, r.state));
      const vtd = tr.appendChild(el("td", { class: "num" }, fmt(r.value)));
      if (r.fail_reason) vtd.title = r.fail_reason;
      paramNames.forEach(function (p) {
        const v = r.params[p];
        tr.appendChild(el("td", { class: typeof v === "number" ? "num" : null }, v === undefined ? "" : fmt(v)));
      });
      tr.appendChild(el("td", { class: "num" }, fmtDuration(r.duration)));
      tr.appendChild(el("td", { class: "num" }, r.last_step === null || r.last_step === undefined ? "—" : r.last_step));
      const tags = tr.appendChild(el("td"));
      r.tags.forEach(function (t) { tags.appendChild(el("span", { class: "tag", title: t }, t)); });
      tr.appendChild(el("td", { class: "note" }, r.note || (r.fail_reason ? "✗ " + r.fail_reason : "")));
      tr.addEventListener("click", function (e) { if (e.target.tagName !== "A") toggle(r.number); });
      return tr;
    }
    function renderRows() {
      const body = document.querySelector("#trials tbody");
      body.textContent = "";
      if (!table.rows.length) { const td = el("td", { colspan: 40, class: "empty" }, "No trials match."); body.appendChild(el("tr")).appendChild(td); }
      table.rows.forEach(function (r) { body.appendChild(rowNode(r)); });
      const last = Math.min(table.offset + table.limit, table.total);
      document.getElementById("page-info").textContent = table.total ? (table.offset + 1) + "–" + last + " of " + table.total : "0 trials";
      document.getElementById("prev").disabled = table.offset === 0;
      document.getElementById("next").disabled = last >= table.total;
      ready.table = true;
    }
    function matches(r) {
      return (!table.state || r.state === table.state) && (!table.tag || r.tags.indexOf(table.tag) >= 0) &&
        (!table.q || r.note.toLowerCase().indexOf(table.q.toLowerCase()) >= 0) &&
        (!table.numbers || table.numbers.indexOf(r.number) >= 0);
    }
    function sortedLocal() {
      const key = table.sort;
      const get = key.startsWith("param:") ? function (r) { return r.params[key.slice(6)]; } : key === "started" ? function (r) { return r.started_at; } : key === "finished" ? function (r) { return r.finished_at; } : function (r) { return r[key]; };
      return INLINE.trials.filter(matches).sort(function (a, b) {
        let x = get(a), y = get(b);
        if (x === null || x === undefined) return y === null || y === undefined ? a.number - b.number : 1;
        if (y === null || y === undefined) return -1;
        x = num(x) === null ? String(x) : num(x); y = num(y) === null ? String(y) : num(y);
        const c = x < y ? -1 : x > y ? 1 : a.number - b.number;
        return table.order === "desc" ? -c : c;
      });
    }
    function query(extra) {
      const q = new URLSearchParams(Object.assign({ sort: table.sort, order: table.order }, extra || {}));
      if (table.state) q.set("state", table.state);
      if (table.tag) q.set("tag", table.tag);
      if (table.q) q.set("q", table.q);
      if (table.numbers) q.set("numbers", table.numbers.join(","));
      return q;
    }
    function loadTable() {
      header();
      if (remote) document.getElementById("csv").href = base + "/trials.csv?" + query();
      if (!remote) { const rows = sortedLocal(); table.total = rows.length; table.rows = rows.slice(table.offset, table.offset + table.limit); renderRows(); return Promise.resolve(); }
      return api(base + "/trials?" + query({ offset: table.offset, limit: table.limit })).then(function (page) {
        table.total = page.total; table.rows = page.trials; renderRows();
        page.trials.forEach(function (r) { addParamNames(r.params); });
      }).catch(function (e) { fail("trials", e.message); });
    }
    function setBrushed(numbers) {
      table.numbers = numbers;
      const note = document.getElementById("brush-notice");
      note.hidden = !numbers;
      if (numbers) document.getElementById("brush-text").textContent = numbers.length + " trial(s) inside the parallel-coordinates ranges. ";
      table.offset = 0; loadTable();
    }
    function toggle(n) {
      if (selected.has(n)) selected.delete(n); else selected.add(n);
      document.querySelectorAll("#trials tbody tr").forEach(function (tr) {
        const on = selected.has(Number(tr.getAttribute("data-number")));
        tr.className = on ? "selected" : ""; const b = tr.querySelector("input"); if (b) b.checked = on;
      });
      const btn = document.getElementById("compare");
      btn.disabled = selected.size < 2 || selected.size > 5;
      btn.textContent = "Compare selected (" + selected.size + ")";
      const missing = Array.from(selected).filter(function (m) { return !curves.has(m); });
      if (remote && missing.length) {
        api(base + "/curves?trials=" + missing.join(",")).then(function (res) {
          missing.forEach(function (m) { curves.set(m, res.curves[m] || []); }); drawCurves();
        });
      } else drawCurves();
    }
    function csvLocal() {  // the report: the filtered, sorted table as CSV, built in the page
      const cell = function (v) {
        let s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
        if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;  // not a formula in a spreadsheet
        return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
      };
      const head = ["number", "state", "value"].concat(paramNames, ["duration_s", "last_step", "tags", "note", "fail_reason"]);
      const lines = [head.map(cell).join(",")];
      sortedLocal().forEach(function (r) {
        lines.push([r.number, r.state, r.value].concat(paramNames.map(function (p) { return r.params[p]; }),
          [r.duration, r.last_step, r.tags.join(" "), r.note, r.fail_reason]).map(cell).join(","));
      });
      return lines.join("\r\n") + "\r\n";
    }
    function compareLocal() {  // the report has no server: compare in the page
      const picked = Array.from(selected).sort(function (a, b) { return a - b; });
      const rows = picked.map(function (n) { return INLINE.trials.find(function (r) { return r.number === n; }); }).filter(Boolean);
      const panel = document.getElementById("compare-panel");
      panel.hidden = false;
      const tbl = document.getElementById("compare-table");
      tbl.textContent = "";
      const head = tbl.appendChild(el("thead")).appendChild(el("tr"));
      head.appendChild(el("th", null, "Parameter"));
      rows.forEach(function (r) { head.appendChild(el("th", null, "trial " + r.number)); });
      const body = tbl.appendChild(el("tbody"));
      const line = function (label, cells, mark) {
        const tr = body.appendChild(el("tr", { class: mark && new Set(cells).size > 1 ? "differs" : null }));
        tr.appendChild(el("td", { class: "break" }, label));
        cells.forEach(function (c) { tr.appendChild(el("td", { class: "break" }, c)); });
      };
      line("state", rows.map(function (r) { return r.state; }), false);
      body.lastChild.querySelectorAll("td + td").forEach(function (td) { const s = td.textContent; td.textContent = ""; td.appendChild(el("span", { class: "state " + s }, s)); });
      line(study.metric, rows.map(function (r) { return fmt(r.value); }), false);
      line("duration", rows.map(function (r) { return fmtDuration(r.duration); }), false);
      const names = paramNames.filter(function (p) { return rows.some(function (r) { return r.params[p] !== undefined; }); });
      names.forEach(function (p) { line(p, rows.map(function (r) { return r.params[p] === undefined ? "" : fmt(r.params[p]); }), true); });
      line("note", rows.map(function (r) { return r.note; }), false);
      const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
      const series = rows.map(function (r, i) {
        const pts = curves.get(r.number) || [];
        return { kind: pts.length > 1 ? "line" : "points", x: pts.map(function (p) { return p[0]; }), y: pts.map(function (p) { return finite(p[1]); }), color: palette[i % 5], width: 2, size: 7,
          tips: pts.map(function (p) { return "trial " + r.number + "\nstep " + p[0] + ": " + fmt(p[1]); }) };
      });
      const without = rows.filter(function (r) { return !(curves.get(r.number) || []).length; }).map(function (r) { return r.number; });
      document.getElementById("compare-info").textContent = without.length ? "No curve in this report for trial(s) " + without.join(", ") + " (the report keeps the best, running and latest trials' curves)." : "";
      draw("compare", function () {
        if (!series.some(function (s) { return s.x.length; })) { empty("plot-compare", "None of these trials has a learning curve in this report."); return; }
        C.xy(document.getElementById("plot-compare"), { height: 320, x: { label: "step" }, y: { label: study.metric }, series: series,
          legend: rows.map(function (r, i) { return { name: "trial " + r.number, color: palette[i % 5] }; }) });
      });
      panel.scrollIntoView();
    }
    function controls() {
      let timer = null;
      function later(fn) { clearTimeout(timer); timer = setTimeout(fn, 250); }
      document.getElementById("f-state").addEventListener("change", function (e) { table.state = e.target.value; table.offset = 0; loadTable(); });
      document.getElementById("f-tag").addEventListener("input", function (e) { later(function () { table.tag = e.target.value.trim(); table.offset = 0; loadTable(); }); });
      document.getElementById("f-q").addEventListener("input", function (e) { later(function () { table.q = e.target.value; table.offset = 0; loadTable(); }); });
      document.getElementById("f-limit").addEventListener("change", function (e) { table.limit = Number(e.target.value); table.offset = 0; loadTable(); });
      document.getElementById("prev").addEventListener("click", function () { table.offset = Math.max(0, table.offset - table.limit); loadTable(); });
      document.getElementById("next").addEventListener("click", function () { table.offset += table.limit; loadTable(); });
      document.getElementById("brush-clear").addEventListener("click", function () { if (parcoordsChart) parcoordsChart.clear(); else setBrushed(null); });
      document.getElementById("contour-x").addEventListener("change", drawContour);
      document.getElementById("contour-y").addEventListener("change", drawContour);
      document.getElementById("compare").addEventListener("click", function () {
        if (!remote) { compareLocal(); return; }
        location.href = "/studies/" + study.id + "/compare?trials=" + Array.from(selected).sort(function (a, b) { return a - b; }).join(",");
      });
      if (!remote) {
        document.getElementById("csv").addEventListener("click", function (e) {
          e.preventDefault();
          const a = el("a", { href: URL.createObjectURL(new Blob([csvLocal()], { type: "text/csv" })), download: (study.name.replace(/[^\w.-]+/g, "_") || "study") + "-trials.csv" });
          document.body.appendChild(a); a.click(); a.remove();
        });
      }
    }

    // live updates ------------------------------------------------------------------------
    let analysisAt = 0, analysisPending = false;
    function refreshAnalysis() {
      const wait = Math.max(0, (trials.size > 5000 ? 10000 : 3000) - (Date.now() - analysisAt));
      if (analysisPending) return;
      analysisPending = true;
      setTimeout(function () {
        analysisAt = Date.now();
        // new trials' parameters came with the changes: only the analysis is fetched again
        api(base + "/analysis").then(function (res) { setAnalysis(res); drawAnalysis(); })
          .catch(function () {}).then(function () { analysisPending = false; });
      }, wait);
    }
    function applyChanges(ch) {
      cursor = ch.cursor;
      ready.polls += 1;
      if (!ch.trials.length && !Object.keys(ch.reports).length) return;
      let fresh = 0, changed = false;
      ch.trials.forEach(function (r) {
        const old = trials.get(r.number);
        if (!old) fresh += 1;
        if (old && old.state !== r.state) changed = true;
        trials.set(r.number, { state: r.state, value: r.value, params: r.params });
        if (r.state === "RUNNING" && !curves.has(r.number)) curves.set(r.number, []);
        addParamNames(r.params);
        const i = table.rows.findIndex(function (x) { return x.number === r.number; });
        if (i >= 0) table.rows[i] = r;
      });
      Object.keys(ch.reports).forEach(function (k) {
        const n = Number(k);
        if (!curves.has(n)) curves.set(n, []);
        const pts = curves.get(n);
        ch.reports[k].forEach(function (p) { pts.push(p); });
      });
      drawSummary();
      drawCurves();
      if (fresh || changed) { drawHistory(); refreshAnalysis(); loadTable(); }
      else renderRows();
    }
    function poll() {
      const live = document.getElementById("live");
      api(base + "/changes?cursor=" + encodeURIComponent(cursor)).then(function (ch) {
        live.className = "live on"; live.textContent = "live"; applyChanges(ch);
      }).catch(function () { live.className = "live"; live.textContent = "reconnecting…"; })
        .then(function () { setTimeout(poll, cfg.poll_ms); });
    }

    // start --------------------------------------------------------------------------------
    controls();
    if (!remote) {
      loadPoints(INLINE.points);
      if (INLINE.trials.length < INLINE.points.numbers.length) {
        const note = document.getElementById("rows-note");
        note.hidden = false;
        note.textContent = "This report holds the rows of the best " + INLINE.trials.length + " of " + INLINE.points.numbers.length + " trials; the charts use every trial.";
      }
      Object.keys(INLINE.curves).forEach(function (k) { curves.set(Number(k), INLINE.curves[k]); });
      setAnalysis(INLINE.analysis);
      loadTable(); drawSummary(); drawHistory(); drawCurves(); drawAnalysis();
      return;
    }
    header();
    if (cfg.first_page) {
      cfg.first_page.trials.forEach(function (r) { addParamNames(r.params); });
      table.total = cfg.first_page.total; table.rows = cfg.first_page.trials; renderRows();
    }
    document.getElementById("csv").href = base + "/trials.csv?" + query();
    const first = api(base).then(function (s) { cursor = s.cursor; });
    // the history needs no parameters; the analysis charts get theirs with the analysis
    api(base + "/points?params=0").then(function (p) { loadPoints(p); drawSummary(); drawHistory(); })
      .then(function () { return api(base + "/analysis"); })
      .then(function (a) { setAnalysis(a); analysisAt = Date.now(); drawAnalysis(); })
      .catch(function (e) { fail("plot-parcoords", e.message); });
    api(base + "/curves").then(function (c) {
      Object.keys(c.curves).forEach(function (k) { curves.set(Number(k), c.curves[k]); });
      drawCurves();
    }).catch(function (e) { fail("plot-curves", e.message); });
    first.then(function () { setTimeout(poll, cfg.poll_ms); });
  }

  // one trial ----------------------------------------------------------------------------------
  function trialPage() {
    const t = cfg.trial;
    function drawCurve(curve) {
      draw("curve", function () {
        if (!curve.length) { empty("plot-curve", "No reported values."); return; }
        C.xy(document.getElementById("plot-curve"), { height: 300, x: { label: "step" }, y: { label: cfg.metric },
          series: [{ kind: curve.length > 1 ? "line" : "points", markers: curve.length <= 60 ? 5 : 0, size: 7, x: curve.map(function (p) { return p[0]; }), y: curve.map(function (p) { return finite(p[1]); }),
            color: COLORS[t.state] || "#1f77b4", width: 2, tips: curve.map(function (p) { return "step " + p[0] + ": " + fmt(p[1]); }) }] });
      });
    }
    drawCurve(t.curve);
    const lr = t.lr_finder;
    if (lr && Array.isArray(lr.lrs) && Array.isArray(lr.losses)) {
      const mark = finite(lr.suggestion);
      draw("lrfinder", function () {
        C.xy(document.getElementById("plot-lrfinder"), { height: 300, x: { kind: "log", label: "learning rate" }, y: { label: "loss" },
          series: [{ kind: "line", x: lr.lrs.map(finite), y: lr.losses.map(finite), color: "#1f77b4", width: 2, tips: lr.lrs.map(function (x, i) { return "lr " + fmt(x) + ": loss " + fmt(lr.losses[i]); }) }],
          shapes: mark ? [{ vline: mark, label: "suggested " + fmt(mark) }] : [] });
      });
    }
    const path = "/api/studies/" + cfg.study_id + "/trials/" + t.number;
    if (t.state === "RUNNING" || t.state === "WAITING") {
      const tick = function () {
        api(path).then(function (now) {
          ready.polls += 1;
          if (now.state !== t.state) { location.reload(); return; }
          if (now.curve.length !== t.curve.length) { t.curve = now.curve; drawCurve(now.curve); }
          setTimeout(tick, cfg.poll_ms);
        }).catch(function () { setTimeout(tick, cfg.poll_ms * 2); });
      };
      setTimeout(tick, cfg.poll_ms);
    }
    const form = document.getElementById("edit");
    if (form) form.addEventListener("submit", function (e) {
      e.preventDefault();
      const split = function (id) { return document.getElementById(id).value.split(",").map(function (s) { return s.trim(); }).filter(Boolean); };
      const body = { note: document.getElementById("edit-note").value, add_tags: split("edit-add"), remove_tags: split("edit-remove") };
      const status = document.getElementById("edit-status");
      fetch(path + "/annotations", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
        .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.error || r.status); return j; }); })
        .then(function (now) {
          const note = document.getElementById("note-text");
          note.textContent = now.note || "no note";
          const tags = document.getElementById("tags"); tags.textContent = "";
          now.tags.forEach(function (x) { tags.appendChild(el("span", { class: "tag" }, x)); });
          if (!now.tags.length) tags.appendChild(el("span", { class: "muted" }, "no tags"));
          document.getElementById("edit-add").value = ""; document.getElementById("edit-remove").value = "";
          status.textContent = "saved";
        }).catch(function (err) { status.textContent = "not saved: " + err.message; });
    });
  }

  // compare ------------------------------------------------------------------------------------
  function comparePage() {
    const palette = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"];
    draw("compare", function () {
      const series = cfg.trials.map(function (t, i) {
        return { kind: t.curve.length > 1 ? "line" : "points", color: palette[i % 5], width: 2, size: 7,
          x: t.curve.map(function (p) { return p[0]; }), y: t.curve.map(function (p) { return finite(p[1]); }),
          tips: t.curve.map(function (p) { return "trial " + t.number + "\nstep " + p[0] + ": " + fmt(p[1]); }) };
      });
      if (!series.some(function (s) { return s.x.length; })) { empty("plot-compare", "None of these trials reported a learning curve."); return; }
      C.xy(document.getElementById("plot-compare"), { height: 340, x: { label: "step" }, y: { label: cfg.metric }, series: series,
        legend: cfg.trials.map(function (t, i) { return { name: "trial " + t.number, color: palette[i % 5] }; }) });
    });
  }

  // studies list ---------------------------------------------------------------------------------
  function studiesPage() {
    ready.table = true;
    const tick = function () {
      api("/api/studies").then(function (res) {
        ready.polls += 1;
        const rows = document.querySelectorAll("#studies tbody tr");
        if (rows.length !== res.studies.length) { location.reload(); return; }
        res.studies.forEach(function (s, i) {
          const cells = rows[i].children;
          cells[1].firstChild.className = "state " + s.state; cells[1].firstChild.textContent = s.state;
          cells[4].textContent = s.n_trials;
          ["COMPLETE", "STOPPED", "FAILED", "RUNNING"].forEach(function (st, j) { cells[5 + j].textContent = s.counts[st] || 0; });
          cells[9].textContent = fmt(s.best_value);
          if (s.last_activity) cells[10].textContent = new Date(s.last_activity * 1000).toLocaleString();
        });
      }).catch(function () {}).then(function () { setTimeout(tick, Math.max(cfg.poll_ms, 3000)); });
    };
    setTimeout(tick, Math.max(cfg.poll_ms, 3000));
  }

  try {
    if (cfg.page === "study") studyPage();
    else if (cfg.page === "trial") trialPage();
    else if (cfg.page === "compare") comparePage();
    else if (cfg.page === "studies") studiesPage();
  } catch (err) { ready.errors.push(String(err)); throw err; }
})();
