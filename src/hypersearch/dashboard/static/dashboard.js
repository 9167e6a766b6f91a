/* hypersearch dashboard: study, trial, compare and studies pages, and the static report.
 * Every user string goes into the DOM through textContent (never innerHTML) and into Plotly
 * through esc(), so notes, tags, names and parameter values always stay text. */
(function () {
  "use strict";
  const cfgEl = document.getElementById("hs-config");
  if (!cfgEl) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const dataEl = document.getElementById("hs-data");
  const INLINE = dataEl ? JSON.parse(dataEl.textContent) : null;
  const STATES = ["COMPLETE", "STOPPED", "FAILED", "RUNNING", "WAITING"];
  const COLORS = { COMPLETE: "#1f77b4", STOPPED: "#e07b00", FAILED: "#c62828", RUNNING: "#2463eb", WAITING: "#6e7781" };
  const PLOT_CFG = { displaylogo: false, responsive: true };
  const ready = (window.__hs = { errors: [], polls: 0, timings: {}, t0: performance.now() });

  // helpers ---------------------------------------------------------------------------------
  function el(tag, props, text) {
    const node = document.createElement(tag);
    if (props) for (const k in props) {
      if (k === "class") node.className = props[k];
      else if (k === "style") node.style.cssText = props[k];
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
    if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function fmtDuration(s) {
    if (s === null || s === undefined) return "—";
    if (s < 60) return s.toFixed(1) + " s";
    if (s < 3600) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(1) + " h";
  }
  function esc(s) {  // for Plotly, which reads a few HTML tags and entities in its strings
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
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
  function emptyPlot(id, text) {
    const node = document.getElementById(id);
    if (!node) return;
    if (window.Plotly) Plotly.purge(node);
    node.textContent = "";
    node.style.height = "auto";
    node.appendChild(el("p", { class: "empty" }, text));
  }
  // Plotly.js loads async (it is big): the table works while it arrives, charts wait for it
  let plotlyLoaded = null;
  const plotlyReady = new Promise(function (resolve) { plotlyLoaded = resolve; });
  if (window.Plotly) plotlyLoaded();
  else {
    const tag = document.getElementById("plotly-js");
    if (tag) tag.addEventListener("load", function () { plotlyLoaded(); });
  }
  function loadPlotly() {  // the study page asks for Plotly.js once its table is on screen
    if (window.Plotly || document.getElementById("plotly-js")) return;
    const tag = el("script", { src: "/static/plotly.min.js", id: "plotly-js" });
    tag.addEventListener("load", function () { plotlyLoaded(); });
    document.head.appendChild(tag);
  }
  function plot(id, traces, layout) {
    return plotlyReady.then(function () { return drawPlot(id, traces, layout); });
  }
  function drawPlot(id, traces, layout) {
    const node = document.getElementById(id);
    node.style.height = "";
    if (node.firstChild && !node.classList.contains("js-plotly-plot")) node.textContent = "";
    const base = { margin: { l: 60, r: 20, t: 10, b: 45 }, showlegend: false, hovermode: "closest" };
    const t0 = performance.now();
    return Plotly.react(node, traces, Object.assign(base, layout), PLOT_CFG).then(function (gd) {
      ready.timings[id] = Math.round(performance.now() - t0);
      return gd;
    });
  }
  // draw a chart when it scrolls into view (WebGL charts cost a lot to set up in software)
  const pending = new Map();
  const observer = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.isIntersecting && pending.has(e.target.id)) { const fn = pending.get(e.target.id); pending.delete(e.target.id); observer.unobserve(e.target); fn(); }
    });
  }, { rootMargin: "200px" }) : null;
  function whenVisible(id, fn) {
    const node = document.getElementById(id);
    if (!observer || !node) { fn(); return; }
    if (node.getAttribute("data-drawn")) { fn(); return; }
    pending.set(id, function () { node.setAttribute("data-drawn", "1"); fn(); });
    observer.observe(node);
  }
  function better(a, b, direction) { return direction === "minimize" ? a < b : a > b; }

  // parameter metadata ------------------------------------------------------------------------
  function paramMeta(name, column) {
    const def = (cfg.study && cfg.study.space && cfg.study.space[name]) || null;
    let categorical = def ? (def.type === "choice" || def.type === "bool") : false;
    if (!def) categorical = column.some(function (v) { return v !== null && typeof v !== "number"; });
    const log = !!def && (def.scale === "log" || def.scale === "pow2");
    return { name: name, categorical: categorical, log: log };
  }

  // the study page ---------------------------------------------------------------------------
  function studyPage() {
    const study = cfg.study;
    const remote = !INLINE;
    const base = "/api/studies/" + study.id;
    const trials = new Map();      // number -> {state, value, params}
    const curves = new Map();      // number -> [[step, value], ...]
    const selected = new Set();
    let paramNames = [];
    let importance = null;
    let cursor = null;
    const table = { offset: 0, limit: 50, sort: "number", order: "desc", state: "", tag: "", q: "", total: 0, rows: [] };

    function loadPoints(p) {
      const seen = {};
      for (let i = 0; i < p.numbers.length; i++) {
        const old = trials.get(p.numbers[i]);
        const params = p.params ? (p.params[i] || {}) : (old ? old.params : {});
        for (const name in params) seen[name] = true;
        trials.set(p.numbers[i], { state: p.states[i], value: p.values[i], params: params });
      }
      const found = Object.keys(seen).sort();
      const declared = Object.keys(study.space || {});
      paramNames = declared.filter(function (n) { return seen[n]; })
        .concat(found.filter(function (n) { return declared.indexOf(n) < 0; }));
      if (!paramNames.length) paramNames = declared;
    }

    // counts and best, from the trials we hold
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

    // At most HISTORY_POINTS markers per state: above that, keep each bin's lowest and highest
    // value (by trial number), which draws the same cloud with plain SVG and no WebGL.
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
      const byState = {};
      const bestX = [], bestY = [];
      let best = null;
      const numbers = Array.from(trials.keys()).sort(function (a, b) { return a - b; });
      for (const n of numbers) {
        const t = trials.get(n);
        const v = finite(t.value);
        if (v === null || (t.state !== "COMPLETE" && t.state !== "STOPPED")) continue;
        (byState[t.state] = byState[t.state] || { x: [], y: [] });
        byState[t.state].x.push(n); byState[t.state].y.push(v);
        if (t.state === "COMPLETE" && (best === null || better(v, best, study.direction))) {
          best = v; bestX.push(n); bestY.push(v);  // the step line needs only its corners
        }
      }
      if (best !== null && numbers.length) { bestX.push(numbers[numbers.length - 1]); bestY.push(best); }
      let thinned = false;
      const traces = Object.keys(byState).map(function (s) {
        const pts = thin(byState[s].x, byState[s].y);
        thinned = thinned || pts.thinned;
        return { type: "scatter", mode: "markers", name: s, x: pts.x, y: pts.y,
          marker: { color: COLORS[s], size: pts.thinned ? 4 : 6, opacity: 0.7 },
          hovertemplate: "trial %{x}<br>" + esc(study.metric) + " %{y}<extra>" + s + "</extra>" };
      });
      traces.push({ type: "scatter", mode: "lines", name: "best so far", x: bestX, y: bestY, line: { color: "#1a7f37", width: 2, shape: "hv" } });
      if (!bestX.length && !Object.keys(byState).length) { emptyPlot("plot-history", "No finished trial with a value yet."); ready.history = true; return; }
      const title = thinned ? "trial (each bin's lowest and highest value shown)" : "trial";
      plot("plot-history", traces, { xaxis: { title: { text: title } }, yaxis: { title: { text: esc(study.metric) } }, showlegend: true, legend: { orientation: "h", y: 1.12 } })
        .then(function () { ready.history = true; });
    }

    function drawCurves() {
      const shown = Array.from(curves.keys()).sort(function (a, b) { return a - b; });
      if (!shown.length) { emptyPlot("plot-curves", "No reported learning curve yet."); ready.curves = true; return; }
      const traces = [];
      const highlight = [];
      for (const n of shown) {
        const pts = curves.get(n);
        const t = trials.get(n) || { state: "?" };
        const on = selected.has(n);
        const trace = { type: "scatter", mode: pts.length > 1 ? "lines" : "markers", x: pts.map(function (p) { return p[0]; }),
          y: pts.map(function (p) { return finite(p[1]); }), name: "trial " + n,
          hovertemplate: "trial " + n + " (" + t.state + ")<br>step %{x}: %{y}<extra></extra>",
          line: on ? { width: 3 } : { width: 1, color: t.state === "RUNNING" ? "rgba(36,99,235,0.6)" : "rgba(120,130,145,0.35)" },
          marker: on ? { size: 7 } : { size: 4, color: "rgba(120,130,145,0.5)" } };
        (on ? highlight : traces).push(trace);
      }
      document.getElementById("curves-info").textContent = shown.length + " curves (best, running and recent trials" +
        (selected.size ? "; selected highlighted" : "; click a row to highlight") + ")";
      plot("plot-curves", traces.concat(highlight), { xaxis: { title: { text: "step" } }, yaxis: { title: { text: esc(study.metric) } }, showlegend: highlight.length > 0 })
        .then(function () { ready.curves = true; });
    }

    function finishedRows(cap) {
      const rows = [];
      trials.forEach(function (t, n) { const v = finite(t.value); if (t.state === "COMPLETE" && v !== null) rows.push([n, v, t.params]); });
      rows.sort(function (a, b) { return study.direction === "minimize" ? a[1] - b[1] : b[1] - a[1]; });
      return { rows: rows.slice(0, cap), total: rows.length };
    }

    function dimension(name, rows, get) {
      const column = rows.map(get);
      const meta = paramMeta(name, column);
      if (meta.categorical) {
        const labels = Array.from(new Set(column.map(fmt))).sort();
        return { label: esc(name), values: column.map(function (v) { return labels.indexOf(fmt(v)); }),
          tickvals: labels.map(function (_, i) { return i; }), ticktext: labels };  // parcoords ticks are plain text
      }
      if (meta.log) return { label: esc("log10 " + name), values: column.map(function (v) { const x = finite(v); return x !== null && x > 0 ? Math.log10(x) : null; }) };
      return { label: esc(name), values: column.map(finite) };
    }

    function drawParcoords() {
      const cap = 1000;  // more lines are unreadable, and slow to draw without a GPU
      const f = finishedRows(cap);
      const info = document.getElementById("parcoords-info");
      if (f.rows.length < 2 || !paramNames.length) { emptyPlot("plot-parcoords", "Needs two completed trials with parameters."); info.textContent = ""; ready.parcoords = true; return; }
      info.textContent = f.total > cap ? "the best " + cap + " of " + f.total + " completed trials" : f.total + " completed trials";
      const dims = paramNames.map(function (name) { return dimension(name, f.rows, function (r) { return r[2][name] === undefined ? null : r[2][name]; }); });
      const values = f.rows.map(function (r) { return r[1]; });
      dims.push({ label: esc(study.metric), values: values });
      plot("plot-parcoords", [{ type: "parcoords", dimensions: dims,
        line: { color: values, colorscale: "Viridis", reversescale: study.direction === "minimize", showscale: true } }],
      { margin: { l: 70, r: 70, t: 40, b: 20 } }).then(function () { ready.parcoords = true; });
    }

    function drawSlices() {  // one figure with a subplot per parameter: one WebGL context at most
      const f = finishedRows(20000);
      if (!f.rows.length || !paramNames.length) { emptyPlot("plot-slices", "Needs completed trials with parameters."); ready.slices = true; return; }
      const cols = Math.min(paramNames.length, 4), rows = Math.ceil(paramNames.length / cols);
      const layout = { grid: { rows: rows, columns: cols, pattern: "independent", ygap: 0.35, xgap: 0.12 }, margin: { l: 55, r: 10, t: 10, b: 45 } };
      const traces = paramNames.map(function (name, i) {
        const rs = f.rows.filter(function (r) { return r[2][name] !== undefined; });
        const column = rs.map(function (r) { return r[2][name]; });
        const meta = paramMeta(name, column);
        const x = meta.categorical ? column.map(function (v) { return esc(fmt(v)); }) : column.map(finite);
        const k = i === 0 ? "" : String(i + 1);
        layout["xaxis" + k] = { title: { text: esc(name), standoff: 2 }, type: meta.categorical ? "category" : (meta.log ? "log" : "linear"), automargin: true };
        layout["yaxis" + k] = { title: { text: i % cols === 0 ? esc(study.metric) : "" } };
        return { type: f.rows.length > 1500 ? "scattergl" : "scatter", mode: "markers", x: x, y: rs.map(function (r) { return r[1]; }),
          xaxis: "x" + k, yaxis: "y" + k, text: rs.map(function (r) { return "trial " + r[0]; }), hovertemplate: "%{text}<br>%{x}: %{y}<extra></extra>",
          marker: { size: rs.length > 5000 ? 3 : 6, opacity: 0.6, color: rs.map(function (r) { return r[0]; }), colorscale: "Blues" } };
      });
      document.getElementById("plot-slices").style.height = (rows * 260) + "px";
      plot("plot-slices", traces, layout).then(function () { ready.slices = true; });
    }

    function drawImportance() {
      const info = document.getElementById("importance-info");
      const names = importance ? Object.keys(importance.importance) : [];
      if (!names.length) {
        emptyPlot("plot-importance", "Needs at least 20 completed trials with a finite value.");
        info.textContent = ""; ready.importance = true; return;
      }
      info.textContent = "share of the objective's variance each parameter explains alone (fANOVA main effect, " +
        (importance.sample && importance.sample < importance.n_trials ? "a sample of " + importance.sample + " of " : "") + importance.n_trials + " completed trials)";
      const ordered = names.slice().reverse();
      plot("plot-importance", [{ type: "bar", orientation: "h", x: ordered.map(function (n) { return importance.importance[n]; }),
        y: ordered.map(esc), marker: { color: "#2463eb" }, hovertemplate: "%{y}: %{x:.3f}<extra></extra>" }],
      { margin: { l: 120, r: 20, t: 10, b: 40 }, xaxis: { range: [0, 1], title: { text: "main-effect share" } } })
        .then(function () { ready.importance = true; });
    }

    // trials table ---------------------------------------------------------------------------
    const shownParams = function () { return paramNames.slice(0, 8); };
    function header() {
      const tr = el("tr");
      tr.appendChild(el("th", null, ""));
      const cols = [["number", "#", true], ["state", "State", false], ["value", study.metric, true]];
      shownParams().forEach(function (p) { cols.push(["param:" + p, p, false]); });
      cols.push(["duration", "Duration", true], [null, "Step", true], [null, "Tags", false], [null, "Note", false]);
      cols.forEach(function (c) {
        const th = el("th", { class: (c[0] ? "sortable " : "") + (c[2] ? "num" : "") }, c[1] + (table.sort === c[0] ? (table.order === "desc" ? " ▼" : " ▲") : ""));
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
      shownParams().forEach(function (p) { tr.appendChild(el("td", { class: "num" }, fmt(r.params[p]))); });
      tr.appendChild(el("td", { class: "num" }, fmtDuration(r.duration)));
      tr.appendChild(el("td", { class: "num" }, r.last_step === null || r.last_step === undefined ? "—" : r.last_step));
      const tags = tr.appendChild(el("td"));
      r.tags.forEach(function (t) { tags.appendChild(el("span", { class: "tag", title: t }, t)); });
      tr.appendChild(el("td", { class: "note", title: r.note }, r.note || (r.fail_reason ? "✗ " + r.fail_reason : "")));
      tr.addEventListener("click", function () { toggle(r.number); });
      return tr;
    }
    function renderRows() {
      const body = document.querySelector("#trials tbody");
      body.textContent = "";
      if (!table.rows.length) { const td = el("td", { colspan: 20, class: "empty" }, "No trials match."); body.appendChild(el("tr")).appendChild(td); }
      table.rows.forEach(function (r) { body.appendChild(rowNode(r)); });
      const last = Math.min(table.offset + table.limit, table.total);
      document.getElementById("page-info").textContent = table.total ? (table.offset + 1) + "–" + last + " of " + table.total : "0 trials";
      document.getElementById("prev").disabled = table.offset === 0;
      document.getElementById("next").disabled = last >= table.total;
      ready.table = true;
    }
    function localPage() {
      let rows = INLINE.trials.filter(function (r) {
        return (!table.state || r.state === table.state) && (!table.tag || r.tags.indexOf(table.tag) >= 0) &&
          (!table.q || r.note.toLowerCase().indexOf(table.q.toLowerCase()) >= 0);
      });
      const key = table.sort;
      const get = key.startsWith("param:") ? function (r) { return r.params[key.slice(6)]; } : function (r) { return r[key]; };
      rows = rows.slice().sort(function (a, b) {
        let x = get(a), y = get(b);
        if (x === null || x === undefined) return 1;
        if (y === null || y === undefined) return -1;
        x = num(x) === null ? String(x) : num(x); y = num(y) === null ? String(y) : num(y);
        const c = x < y ? -1 : x > y ? 1 : a.number - b.number;
        return table.order === "desc" ? -c : c;
      });
      return { total: rows.length, trials: rows.slice(table.offset, table.offset + table.limit) };
    }
    function loadTable() {
      header();
      if (!remote) { const p = localPage(); table.total = p.total; table.rows = p.trials; renderRows(); return Promise.resolve(); }
      const q = new URLSearchParams({ offset: table.offset, limit: table.limit, sort: table.sort, order: table.order });
      if (table.state) q.set("state", table.state);
      if (table.tag) q.set("tag", table.tag);
      if (table.q) q.set("q", table.q);
      return api(base + "/trials?" + q).then(function (page) {
        table.total = page.total; table.rows = page.trials; renderRows();
        document.getElementById("table-notice").hidden = true;
      }).catch(function (e) { fail("trials", e.message); });
    }
    function toggle(n) {
      if (selected.has(n)) selected.delete(n); else selected.add(n);
      document.querySelectorAll("#trials tbody tr").forEach(function (tr) {
        const on = selected.has(Number(tr.getAttribute("data-number")));
        tr.className = on ? "selected" : ""; const b = tr.querySelector("input"); if (b) b.checked = on;
      });
      const btn = document.getElementById("compare");
      btn.disabled = !remote || selected.size < 2 || selected.size > 5;
      btn.textContent = "Compare selected (" + selected.size + ")";
      const missing = Array.from(selected).filter(function (m) { return !curves.has(m); });
      if (remote && missing.length) {
        api(base + "/curves?trials=" + missing.join(",")).then(function (res) {
          missing.forEach(function (m) { curves.set(m, res.curves[m] || []); }); drawCurves();
        });
      } else drawCurves();
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
      document.getElementById("compare").addEventListener("click", function () {
        location.href = "/studies/" + study.id + "/compare?trials=" + Array.from(selected).sort(function (a, b) { return a - b; }).join(",");
      });
      if (!remote) { document.getElementById("sel-hint").textContent = "click a row to highlight its curve"; document.getElementById("compare").hidden = true; }
    }

    // parameters of every trial: only the charts below the fold need them
    let paramsPromise = null;
    function needParams() {
      if (!remote) return Promise.resolve();
      if (!paramsPromise) paramsPromise = api(base + "/points").then(loadPoints);
      return paramsPromise;
    }
    function lazyParamCharts() {
      whenVisible("plot-parcoords", function () { needParams().then(drawParcoords).catch(function (e) { fail("plot-parcoords", e.message); }); });
      whenVisible("plot-slices", function () { needParams().then(drawSlices).catch(function (e) { fail("plot-slices", e.message); }); });
    }

    // live updates ------------------------------------------------------------------------
    let lastHeavy = 0, heavyPending = false, importanceAt = 0, nComplete = 0;
    function redrawHeavy() {
      const now = Date.now();
      const wait = trials.size > 5000 ? 10000 : 0;
      if (now - lastHeavy < wait) { if (!heavyPending) { heavyPending = true; setTimeout(function () { heavyPending = false; redrawHeavy(); }, wait); } return; }
      lastHeavy = now;
      drawHistory(); lazyParamCharts();
    }
    function applyChanges(ch) {
      cursor = ch.cursor;
      ready.polls += 1;
      if (!ch.trials.length && !Object.keys(ch.reports).length) return;
      let fresh = 0, finished = false;
      ch.trials.forEach(function (r) {
        const old = trials.get(r.number);
        if (!old) fresh += 1;
        if (old && old.state !== r.state) finished = true;
        trials.set(r.number, { state: r.state, value: r.value, params: r.params });
        if (r.state === "RUNNING" && !curves.has(r.number)) curves.set(r.number, []);
        Object.keys(r.params).forEach(function (p) { if (paramNames.indexOf(p) < 0) paramNames.push(p); });
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
      if (ready.curves) drawCurves();
      if (fresh || finished) redrawHeavy();
      const unfiltered = !table.state && !table.tag && !table.q;
      if (fresh && table.sort === "number" && unfiltered && (table.order === "desc" ? table.offset === 0 : table.offset + table.limit >= table.total)) loadTable();
      else {
        renderRows();
        if (fresh) { const n = document.getElementById("table-notice"); n.hidden = false; n.textContent = fresh + " new trial(s) since this page was loaded — change the sort or page to see them."; }
      }
      let complete = 0; trials.forEach(function (t) { if (t.state === "COMPLETE") complete += 1; });
      if (ready.importance && complete !== nComplete && Date.now() - importanceAt > 10000) {
        nComplete = complete; importanceAt = Date.now();
        api(base + "/importance").then(function (imp) { importance = imp; drawImportance(); });
      }
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
      Object.keys(INLINE.curves).forEach(function (k) { curves.set(Number(k), INLINE.curves[k]); });
      importance = INLINE.importance;
      table.sort = "value"; table.order = study.direction === "minimize" ? "asc" : "desc";
      loadTable(); drawSummary(); drawHistory(); drawCurves(); drawImportance();
      whenVisible("plot-parcoords", drawParcoords); whenVisible("plot-slices", drawSlices);
      return;
    }
    const declared = Object.keys(study.space || {});
    const first = api(base).then(function (s) { cursor = s.cursor; });
    let tableLoaded = Promise.resolve();
    if (declared.length) { paramNames = declared; tableLoaded = loadTable(); }  // needs no points
    tableLoaded.then(loadPlotly, loadPlotly);  // parsing Plotly.js must not delay the table
    const pts = api(base + "/points?params=0").then(function (p) { loadPoints(p); });
    Promise.all([first, pts]).then(function () {
      if (!declared.length) {  // define-by-run only: the table's columns come from the trials
        tableLoaded = needParams().then(loadTable);
        tableLoaded.then(loadPlotly, loadPlotly);
      }
      drawSummary(); drawHistory();
      return tableLoaded;
    }).then(function () {  // then what is below the fold, once the table has pushed it there
      lazyParamCharts();
      whenVisible("plot-curves", function () {
        api(base + "/curves").then(function (c) {
          Object.keys(c.curves).forEach(function (k) { curves.set(Number(k), c.curves[k]); });
          trials.forEach(function (t, n) { if (t.state === "RUNNING" && !curves.has(n)) curves.set(n, []); });
          drawCurves();
        }).catch(function (e) { fail("plot-curves", e.message); });
      });
      whenVisible("plot-importance", function () {
        api(base + "/importance").then(function (imp) { importance = imp; nComplete = imp.n_trials; importanceAt = Date.now(); drawImportance(); })
          .catch(function (e) { fail("plot-importance", e.message); });
      });
      setTimeout(poll, cfg.poll_ms);
    }).catch(function (e) { fail("plot-history", e.message); });
  }

  // one trial ----------------------------------------------------------------------------------
  function trialPage() {
    const t = cfg.trial;
    function drawCurve(curve) {
      if (!curve.length) { emptyPlot("plot-curve", "No reported values."); ready.curve = true; return; }
      plot("plot-curve", [{ type: "scatter", mode: curve.length > 1 ? "lines+markers" : "markers", x: curve.map(function (p) { return p[0]; }),
        y: curve.map(function (p) { return finite(p[1]); }), line: { color: COLORS[t.state] || "#1f77b4" } }],
      { xaxis: { title: { text: "step" } }, yaxis: { title: { text: esc(cfg.metric) } } }).then(function () { ready.curve = true; });
    }
    drawCurve(t.curve);
    const lr = t.lr_finder;
    if (lr && Array.isArray(lr.lrs) && Array.isArray(lr.losses)) {
      const mark = finite(lr.suggestion);
      plot("plot-lrfinder", [{ type: "scatter", mode: "lines", x: lr.lrs.map(finite), y: lr.losses.map(finite), name: "loss" }],
        { margin: { l: 60, r: 20, t: 30, b: 45 }, xaxis: { type: "log", title: { text: "learning rate" } }, yaxis: { title: { text: "loss" } },
          shapes: mark ? [{ type: "line", xref: "x", yref: "paper", x0: mark, x1: mark, y0: 0, y1: 1, line: { color: "#1a7f37", dash: "dash" } }] : [],
          annotations: mark ? [{ x: Math.log10(mark), xref: "x", yref: "paper", y: 1, text: "suggested " + fmt(mark), showarrow: false, yanchor: "bottom" }] : [] })
        .then(function () { ready.lrfinder = true; });
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
    const traces = cfg.trials.map(function (t, i) {
      return { type: "scatter", mode: t.curve.length > 1 ? "lines" : "markers", name: "trial " + t.number, line: { color: palette[i % 5], width: 2 },
        x: t.curve.map(function (p) { return p[0]; }), y: t.curve.map(function (p) { return finite(p[1]); }) };
    });
    if (!traces.some(function (t) { return t.x.length; })) { emptyPlot("plot-compare", "None of these trials reported a learning curve."); ready.compare = true; return; }
    plot("plot-compare", traces, { showlegend: true, xaxis: { title: { text: "step" } }, yaxis: { title: { text: esc(cfg.metric) } } })
      .then(function () { ready.compare = true; });
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
