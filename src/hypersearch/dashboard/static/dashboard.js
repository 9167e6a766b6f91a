/* hypersearch dashboard: study, trial, compare and studies pages, and the static report.
 * Charts arrive as specifications built in Python (hypersearch.plot.specs, the code the
 * notebook figures of hypersearch.plot come from) and are drawn by charts.js as they say, as
 * soon as they arrive, and again at the page's width on resize and before printing. Every
 * user string goes into the DOM through textContent (never innerHTML), so notes, tags, names
 * and values stay text. */
(function () {
  "use strict";
  const cfgEl = document.getElementById("hs-config");
  if (!cfgEl) return;
  const cfg = JSON.parse(cfgEl.textContent);
  const dataEl = document.getElementById("hs-data");
  const INLINE = dataEl ? JSON.parse(dataEl.textContent) : null;
  const C = window.HSCharts;
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

  // the study page (and the report) -------------------------------------------------------------
  function studyPage() {
    const study = cfg.study;
    const remote = !INLINE;
    const base = "/api/studies/" + study.id;
    const defs = Object.assign({}, (remote ? cfg.params : INLINE.params) || study.space || {});
    let paramNames = Object.keys(defs);
    const trials = new Map();      // number -> {state, value, params}
    const selected = new Set();
    const specs = {};            // chart name -> its specification
    let cursor = null;
    const objectives = study.objectives || [];
    const multi = objectives.length > 1;  // several objectives: the Pareto front, no history
    const table = { offset: 0, limit: 50, sort: multi ? "number" : "value", order: multi ? "asc" : study.direction === "minimize" ? "asc" : "desc",
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

    // charts: each drawn from its specification, as it says ---------------------------------------
    function drawSpec(name, fn) {
      draw(name, function () {
        const spec = specs[name];
        const info = document.getElementById(name + "-info");
        const legend = document.getElementById(name + "-legend");
        if (legend) legend.textContent = "";
        if (!spec) return;
        if (spec.empty) { empty("plot-" + name, spec.empty); if (info) info.textContent = ""; return; }
        if (info) info.textContent = spec.note;
        fn(spec, document.getElementById("plot-" + name));
        if (legend) C.colorLegend(legend, spec.colorbar);
      });
    }
    function drawHistory() {
      drawSpec("history", function (spec, node) {
        C.xy(node, spec, { onClick: function (s, i) { if (s.numbers) toggle(s.numbers[i]); } });
      });
    }
    function drawTradeoffs() {
      const click = { onClick: function (s, i) { if (s.numbers) toggle(s.numbers[i]); } };
      drawSpec("pareto", function (spec, node) { if (spec.type === "matrix") C.matrix(node, spec, click); else C.xy(node, spec, click); });
      drawSpec("hypervolume", function (spec, node) { C.xy(node, spec, click); });
    }
    function setTradeoffs(charts) { specs.pareto = charts.pareto; specs.hypervolume = charts.hypervolume; drawTradeoffs(); }
    function drawCurves() {
      drawSpec("curves", function (spec, node) {
        C.xy(node, spec, { highlight: selected, onClick: function (s) { if (s.number !== undefined) toggle(s.number); } });
        if (selected.size) document.getElementById("curves-info").textContent = spec.note + "; selected in red";
      });
    }
    function drawImportance() {
      drawSpec("importance", function (spec, node) { C.bars(node, spec); });
    }
    let parcoordsChart = null;
    function drawParcoords() {
      parcoordsChart = null;
      drawSpec("parcoords", function (spec, node) {
        document.getElementById("parcoords-info").textContent = spec.note + ". Drag along an axis to filter the table; click the axis to clear.";
        parcoordsChart = C.parcoords(node, spec, function (kept) { setBrushed(kept === null ? null : kept.map(function (i) { return spec.numbers[i]; })); });
        if (table.numbers) setBrushed(null);
      });
    }
    ready.brush = function (axis, fromFrac, toFrac) {  // for tests: brush axis `axis` between two fractions of its height
      const c = parcoordsChart;
      c.brush(axis, c.top + (c.bottom - c.top) * fromFrac, c.top + (c.bottom - c.top) * toFrac);
    };
    function drawSlices() {
      drawSpec("slices", function (spec, node) { C.slices(node, spec); });
    }
    function drawContour() {
      const controlsBox = document.getElementById("contour-controls");
      const spec = specs.contour;
      controlsBox.hidden = !spec || !!spec.empty;
      if (spec && !spec.empty) {
        const names = spec.params;
        [["contour-x", spec.x.name], ["contour-y", spec.y.name]].forEach(function (pair) {
          const sel = document.getElementById(pair[0]);
          sel.textContent = "";
          names.forEach(function (p) { sel.appendChild(el("option", { value: p }, p)); });
          sel.value = pair[1];
        });
      }
      drawSpec("contour", function (s, node) { C.contour(node, s); });
    }
    function chooseContour() {
      const x = document.getElementById("contour-x").value;
      const ysel = document.getElementById("contour-y");
      if (ysel.value === x) ysel.value = specs.contour.params.find(function (p) { return p !== x; });
      const y = ysel.value;
      if (!remote) {  // a report holds the pairs of its three most important parameters
        const all = [INLINE.charts.analysis.contour].concat(Object.keys(INLINE.contours).map(function (k) { return INLINE.contours[k]; }));
        const found = all.find(function (c) { return !c.empty && ((c.x.name === x && c.y.name === y) || (c.x.name === y && c.y.name === x)); });
        if (!found) {
          empty("plot-contour", "This report holds the contours of its three most important parameters; the dashboard draws any pair.");
          document.getElementById("contour-info").textContent = "";
          return;
        }
        specs.contour = found;
        drawContour();  // the selects follow the contour's axes
        return;
      }
      api(base + "/charts/contour?x=" + encodeURIComponent(x) + "&y=" + encodeURIComponent(y))
        .then(function (spec) { specs.contour = spec; drawContour(); })
        .catch(function (e) { fail("plot-contour", e.message); });
    }
    function setAnalysis(charts) {
      ["importance", "parcoords", "slices"].forEach(function (k) { specs[k] = charts[k]; });
      const old = specs.contour;
      specs.contour = charts.contour;
      drawImportance(); drawParcoords(); drawSlices();
      // keep the axes the user chose while the numbers change
      if (remote && old && !old.empty && charts.contour && !charts.contour.empty &&
          (old.x.name !== charts.contour.x.name || old.y.name !== charts.contour.y.name) &&
          charts.contour.params.indexOf(old.x.name) >= 0 && charts.contour.params.indexOf(old.y.name) >= 0) {
        drawContour();
        document.getElementById("contour-x").value = old.x.name; document.getElementById("contour-y").value = old.y.name;
        chooseContour();
      } else drawContour();
    }

    // trials table ---------------------------------------------------------------------------
    function header() {
      const tr = el("tr");
      tr.appendChild(el("th", null, ""));
      const cols = [["number", "#", true], ["state", "State", false]];
      if (multi) objectives.forEach(function (o, i) { cols.push(["objective:" + i, o.name + (o.direction === "maximize" ? " ↑" : " ↓"), true]); });
      else cols.push(["value", study.metric, true]);
      paramNames.forEach(function (p) { cols.push(["param:" + p, p, !(defs[p] && (defs[p].type === "choice" || defs[p].type === "bool"))]); });
      cols.push(["duration", "Duration", true], [null, "Step", true], [null, "Tags", false], [null, "Note", false]);
      cols.forEach(function (c) {
        const th = el("th", { class: (c[0] ? "sortable " : "") + (c[2] ? "num" : "") + (c[1] === "Note" ? " note" : ""), title: c[0] ? "sort by " + c[1] : null },
          c[1] + (table.sort === c[0] ? (table.order === "desc" ? " ▼" : " ▲") : ""));
        if (c[0]) th.addEventListener("click", function () {
          if (table.sort === c[0]) table.order = table.order === "desc" ? "asc" : "desc";
          else {
            const up = c[0] === "value" ? study.direction === "maximize" : c[0].startsWith("objective:") && objectives[Number(c[0].slice(10))].direction === "maximize";
            table.sort = c[0]; table.order = up ? "desc" : "asc";  // best first
          }
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
      if (infeasible(r)) tr.lastChild.appendChild(el("span", { class: "state FAILED infeasible", title: "violates a constraint by " + r.constraint_violations.filter(function (v) { return !(v <= 0); }).map(fmt).join(", ") }, "infeasible"));
      const cells = multi ? objectives.map(function (o, i) { return r.values ? r.values[i] : null; }) : [r.value];
      cells.forEach(function (v) {
        const vtd = tr.appendChild(el("td", { class: "num" }, fmt(v)));
        if (r.fail_reason) vtd.title = r.fail_reason;
      });
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
    function infeasible(r) { return r.feasible === false; }
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
      const get = key.startsWith("param:") ? function (r) { return r.params[key.slice(6)]; } :
        key.startsWith("objective:") ? function (r) { return r.values ? r.values[Number(key.slice(10))] : null; } : key === "started" ? function (r) { return r.started_at; } : key === "finished" ? function (r) { return r.finished_at; } : function (r) { return r[key]; };
      return INLINE.trials.filter(matches).sort(function (a, b) {
        let x = get(a), y = get(b);
        if (x === null || x === undefined) return y === null || y === undefined ? a.number - b.number : 1;
        if (y === null || y === undefined) return -1;
        if (key === "value" && infeasible(a) !== infeasible(b)) return infeasible(a) ? 1 : -1;  // feasible first, as the server sorts
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
      const drawn = new Set(((specs.curves || {}).series || []).map(function (s) { return s.number; }));
      const missing = Array.from(selected).filter(function (m) { return !drawn.has(m); });
      if (remote && missing.length) loadCurves(); else drawCurves();
    }
    function csvLocal() {  // the report: the filtered, sorted table as CSV, built in the page
      const cell = function (v) {
        let s = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
        if (typeof v === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;  // not a formula in a spreadsheet
        return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
      };
      const several = multi ? objectives.map(function (o) { return o.name; }).concat(["feasible"]) : [];
      const head = ["number", "state", "value"].concat(several, paramNames, ["duration_s", "last_step", "tags", "note", "fail_reason"]);
      const lines = [head.map(cell).join(",")];
      sortedLocal().forEach(function (r) {
        const mo = multi ? objectives.map(function (o, i) { return r.values ? r.values[i] : null; }).concat([r.values ? String(!infeasible(r)) : null]) : [];
        lines.push([r.number, r.state, r.value].concat(mo, paramNames.map(function (p) { return r.params[p]; }),
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
      if (multi) {
        objectives.forEach(function (o, i) { line(o.name, rows.map(function (r) { return r.values ? fmt(r.values[i]) : "—"; }), false); });
      } else line(study.metric, rows.map(function (r) { return fmt(r.value); }), false);
      if (rows.some(function (r) { return r.feasible === true || r.feasible === false; })) {
        line("feasible", rows.map(function (r) { return r.feasible === true ? "yes" : r.feasible === false ? "no" : "—"; }), false);
      }
      line("duration", rows.map(function (r) { return fmtDuration(r.duration); }), false);
      const names = paramNames.filter(function (p) { return rows.some(function (r) { return r.params[p] !== undefined; }); });
      names.forEach(function (p) { line(p, rows.map(function (r) { return r.params[p] === undefined ? "" : fmt(r.params[p]); }), true); });
      line("note", rows.map(function (r) { return r.note; }), false);
      const spec = specs.curves;
      const drawn = new Set(((spec || {}).series || []).map(function (s) { return s.number; }));
      const without = picked.filter(function (n) { return !drawn.has(n); });
      document.getElementById("compare-info").textContent = without.length ? "No curve in this report for trial(s) " + without.join(", ") + " (the report keeps the best, running and latest trials' curves)." : "";
      draw("compare", function () {
        if (!spec || spec.empty || without.length === picked.length) { empty("plot-compare", "None of these trials has a learning curve in this report."); return; }
        C.xy(document.getElementById("plot-compare"), spec, { only: picked, palette: INLINE.palette });
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
      document.getElementById("contour-x").addEventListener("change", chooseContour);
      document.getElementById("contour-y").addEventListener("change", chooseContour);
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

    // live updates: a chart's specification is fetched again when its trials changed, at most
    // every few seconds (a big study's every 10 s) -------------------------------------------
    const pending = {};
    function refresh(name, url, apply) {
      if (pending[name]) return;
      const last = pending[name + "@"] || 0;
      const wait = Math.max(0, (trials.size > 5000 ? 10000 : Math.max(1000, cfg.poll_ms)) - (Date.now() - last));
      pending[name] = true;
      setTimeout(function () {
        pending[name + "@"] = Date.now();
        api(url).then(apply).catch(function () {}).then(function () { pending[name] = false; });
      }, wait);
    }
    function curvesUrl() {
      const picked = Array.from(selected).sort(function (a, b) { return a - b; });
      return base + "/charts/curves" + (picked.length ? "?trials=" + picked.join(",") : "");
    }
    function loadCurves() {
      return api(curvesUrl()).then(function (spec) { specs.curves = spec; drawCurves(); })
        .catch(function (e) { fail("plot-curves", e.message); });
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
        trials.set(r.number, { state: r.state, value: r.value });
        addParamNames(r.params);
        const i = table.rows.findIndex(function (x) { return x.number === r.number; });
        if (i >= 0) table.rows[i] = r;
      });
      drawSummary();
      refresh("curves", curvesUrl(), function (spec) { specs.curves = spec; drawCurves(); });
      if (fresh || changed) {
        if (multi) refresh("pareto", base + "/charts/pareto", setTradeoffs);
        else refresh("history", base + "/charts/history", function (spec) { specs.history = spec; drawHistory(); });
        refresh("analysis", base + "/charts/analysis", setAnalysis);
        loadTable();
      } else renderRows();
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
      if (INLINE.trials.length < INLINE.n_trials) {
        const note = document.getElementById("rows-note");
        note.hidden = false;
        note.textContent = "This report holds the rows of the best " + INLINE.trials.length + " of " + INLINE.n_trials + " trials; the charts use every trial.";
      }
      specs.history = INLINE.charts.history; specs.curves = INLINE.charts.curves;
      loadTable();
      if (multi) setTradeoffs(INLINE.charts); else drawHistory();
      drawCurves(); setAnalysis(INLINE.charts.analysis);
      return;
    }
    header();
    if (cfg.first_page) {
      cfg.first_page.trials.forEach(function (r) { addParamNames(r.params); });
      table.total = cfg.first_page.total; table.rows = cfg.first_page.trials; renderRows();
    }
    document.getElementById("csv").href = base + "/trials.csv?" + query();
    const first = api(base).then(function (s) { cursor = s.cursor; });
    api(base + "/points?params=0").then(function (p) { loadPoints(p); drawSummary(); }).catch(function () {});
    if (multi) api(base + "/charts/pareto").then(setTradeoffs).catch(function (e) { fail("plot-pareto", e.message); });
    else api(base + "/charts/history").then(function (spec) { specs.history = spec; drawHistory(); })
      .catch(function (e) { fail("plot-history", e.message); });
    api(base + "/charts/analysis").then(setAnalysis).catch(function (e) { fail("plot-parcoords", e.message); });
    loadCurves();
    first.then(function () { setTimeout(poll, cfg.poll_ms); });
  }

  // one trial ----------------------------------------------------------------------------------
  function trialPage() {
    const t = cfg.trial;
    function drawCharts(charts) {
      draw("curve", function () {
        const spec = charts.curve;
        if (spec.empty) { empty("plot-curve", spec.empty); return; }
        C.xy(document.getElementById("plot-curve"), spec);
      });
      if (charts.lr_finder) draw("lrfinder", function () { C.xy(document.getElementById("plot-lrfinder"), charts.lr_finder); });
    }
    drawCharts(cfg.charts);
    const path = "/api/studies/" + cfg.study_id + "/trials/" + t.number;
    if (t.state === "RUNNING" || t.state === "WAITING") {
      const tick = function () {
        api(path + "/charts").then(function (now) {
          ready.polls += 1;
          if (now.state !== t.state) { location.reload(); return; }
          if (now.reports !== t.reports) { t.reports = now.reports; drawCharts(now); }
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
    draw("compare", function () {
      if (cfg.chart.empty) { empty("plot-compare", cfg.chart.empty); return; }
      C.xy(document.getElementById("plot-compare"), cfg.chart);
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
          cells[9].textContent = s.front_size != null ? "front of " + s.front_size : fmt(s.best_value);
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
