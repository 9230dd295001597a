// plait dashboard: runs list, one run's summary, dependency graph (with level of detail),
// timeline, per-app statistics, resource use, failures and task details.
// Served by `plait dashboard` (data from /api, live updates from server-sent events) or
// embedded by `plait report` (data in window.PLAIT_REPORT, no server).
"use strict";

const REPORT = window.PLAIT_REPORT || null;
const COLORS = {
  pending: "#b8c0c8", staging_in: "#c6dbef", staging_out: "#9ecae1", launched: "#6baed6", running: "#2171b5", running_ended: "#2171b5",
  joining: "#9e9ac8", fail_retryable: "#fd8d3c", exec_done: "#41ab5d", memo_done: "#a1d99b",
  failed: "#d7301f", dep_fail: "#c51b8a", cancelled: "#fdae6b",
  completed: "#238b45", interrupted: "#e6550d", lost: "#a50f15", unknown: "#888",
};
// which state a mark standing for many tasks shows: the most alarming one among them
const SEVERITY = { failed: 9, dep_fail: 8, cancelled: 7, fail_retryable: 6, running: 5,
  running_ended: 5, launched: 4, joining: 4, staging_in: 4, staging_out: 4, pending: 3,
  memo_done: 1, exec_done: 0 };
const FAILED = new Set(["failed", "dep_fail", "cancelled"]);
const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...kids) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node[k] = v;
    else node.setAttribute(k, v);
  }
  for (const kid of kids) if (kid != null) node.append(kid);
  return node;
};
const fmtS = (s) => s == null ? "-" : s < 10 ? s.toFixed(2) + " s" : s < 60 ? s.toFixed(1) + " s"
  : s < 3600 ? Math.floor(s / 60) + " min " + String(Math.floor(s % 60)).padStart(2, "0") + " s"
  : Math.floor(s / 3600) + " h " + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + " min";
const fmtT = (ms) => ms == null ? "-" : new Date(ms).toLocaleString();
const maxOf = (xs, start = -Infinity) => xs.reduce((a, b) => (b > a ? b : a), start);
const minOf = (xs, start = Infinity) => xs.reduce((a, b) => (b < a ? b : a), start);
const badge = (state) => el("span", { class: "badge", style: `background:${COLORS[state] || "#888"}` }, state);

async function api(path) {
  if (REPORT) return reportApi(path);
  const response = await fetch("api/" + path);
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

function reportApi(path) {  // the same answers, from the embedded data
  const r = REPORT;
  if (path === "runs") return [r.run];
  if (path.endsWith("/graph") || path.includes("/graph?")) return r.graph;
  if (path.endsWith("/timeline")) return r.timeline;
  if (path.endsWith("/resources")) return r.resources;
  if (path.endsWith("/apps")) return r.apps;
  const task = path.match(/\/tasks\/(\d+)$/);
  if (task) return r.tasks[task[1]] || { task_id: +task[1], missing: true };
  return r;
}

// ---------------------------------------------------------------------------------------
// Routing: #/ (runs), #/run/<id>, #/run/<id>/task/<tid>
const state = { runId: null, summary: null, graph: null, timeline: null, events: null,
  refreshing: false, pending: false };

async function route() {
  const parts = location.hash.replace(/^#\/?/, "").split("/");
  if (REPORT && parts[0] !== "run") { location.hash = `#/run/${REPORT.run.run_id}`; return; }
  if (parts[0] === "run" && parts[1]) {
    if (state.runId !== parts[1]) await showRun(parts[1]);
    if (parts[2] === "task" && parts[3]) showTask(+parts[3]); else hideDetail();
  } else {
    await showRuns();
  }
}
window.addEventListener("hashchange", route);

async function showRuns() {
  closeEvents();
  state.runId = null;
  $("#run-view").hidden = true; $("#runs-view").hidden = false; hideDetail();
  $("#crumbs").textContent = "";
  const body = $("#runs tbody");
  body.replaceChildren();
  for (const run of await api("runs")) {
    const row = el("tr", { class: "clickable", onclick: () => location.hash = `#/run/${run.run_id}` },
      el("td", {}, el("a", { href: `#/run/${run.run_id}` }, run.run_id.slice(0, 8))),
      el("td", {}, run.name || ""), el("td", {}, fmtT(run.began)), el("td", {}, fmtS(run.duration)),
      el("td", {}, String(run.tasks)), el("td", {}, String(run.failed)), el("td", {}, badge(run.outcome)));
    body.append(row);
  }
}

async function showRun(runId) {
  closeEvents();
  state.runId = runId;
  $("#runs-view").hidden = true; $("#run-view").hidden = false;
  await refreshSummary();                  // first paint: header, counts, failures
  loadGraph(true); loadTimeline(); loadApps(); loadResources();
  if (!REPORT && state.summary.run.outcome === "running") openEvents(runId);
}

// ---------------------------------------------------------------------------------------
// Live updates: the server says when the run's records changed; refresh at most every 1.5 s
function openEvents(runId) {
  const source = new EventSource(`api/runs/${runId}/events`);
  state.events = source;
  $("#live").hidden = false;
  source.onmessage = (msg) => {
    const info = JSON.parse(msg.data);
    scheduleRefresh();
    if (info.outcome && info.outcome !== "running") closeEvents();
  };
}
function closeEvents() {
  if (state.events) state.events.close();
  state.events = null;
  $("#live").hidden = true;
}
function scheduleRefresh() {
  if (state.refreshing) { state.pending = true; return; }
  state.refreshing = true;
  Promise.all([refreshSummary(), loadGraph(false), loadTimeline(), loadApps(), loadResources()])
    .catch(console.error)
    .finally(() => setTimeout(() => {
      state.refreshing = false;
      if (state.pending) { state.pending = false; scheduleRefresh(); }
    }, 1500));
}

async function refreshSummary() {
  const data = await api(`runs/${state.runId}`);
  state.summary = data;
  renderHeader(data.run); renderCounts(data); renderFailures(data.failures);
}

async function loadApps() {
  const runId = state.runId;
  const apps = await api(`runs/${runId}/apps`);
  if (runId === state.runId) renderApps(apps);
}

function renderHeader(run) {
  $("#crumbs").textContent = `/ ${run.name || "unnamed"} / ${run.run_id.slice(0, 8)}`;
  document.title = `plait: ${run.name || run.run_id}`;
  const facts = `${run.user}@${run.host} · started ${fmtT(run.began)} · ` +
    `${run.completed ? "took" : "running for"} ${fmtS(run.duration)} · ${run.tasks} tasks · ${run.rundir}` +
    (run.outcome === "running" ? ` · last heard ${fmtT(run.last_update)}` : "");
  $("#run-header").replaceChildren(
    el("div", { class: "title" }, `${run.name || "unnamed"} `, el("span", { "data-testid": "outcome" }, badge(run.outcome))),
    el("div", { class: "facts" }, facts),
    el("div", { class: "muted" }, `run ${run.run_id}`));
}

function renderCounts(data) {
  const states = data.states.filter((s) => Object.values(data.run.counts).some((c) => c[s]));
  const table = $("#counts");
  table.replaceChildren(el("tr", {}, el("th", {}, "app"), ...states.map((s) => el("th", {}, badge(s))), el("th", {}, "total")));
  const totals = {};
  for (const app of Object.keys(data.run.counts).sort()) {
    const c = data.run.counts[app];
    let sum = 0;
    table.append(el("tr", {}, el("td", {}, app), ...states.map((s) => {
      sum += c[s] || 0; totals[s] = (totals[s] || 0) + (c[s] || 0);
      return el("td", {}, c[s] ? String(c[s]) : "");
    }), el("td", {}, String(sum))));
  }
  table.append(el("tr", {}, el("th", {}, "(all)"), ...states.map((s) => el("th", {}, String(totals[s] || ""))),
    el("th", { "data-testid": "total-tasks" }, String(data.run.tasks))));
}

function renderApps(apps) {
  const table = $("#apps");
  table.replaceChildren(el("tr", {}, ...["app", "tasks", "done", "failed", "tries", "mean", "median", "max", "total time",
    "walltime used (max)"].map((h) => el("th", {}, h))));
  for (const a of apps) {
    const done = (a.states.exec_done || 0) + (a.states.memo_done || 0);
    const failed = (a.states.failed || 0) + (a.states.dep_fail || 0);
    table.append(el("tr", {}, el("td", {}, a.app), el("td", {}, String(a.tasks)), el("td", {}, String(done)),
      el("td", {}, String(failed)), el("td", {}, String(a.tries)), el("td", {}, fmtS(a.mean)),
      el("td", {}, fmtS(a.median)), el("td", {}, fmtS(a.max)), el("td", {}, fmtS(a.total)),
      el("td", {}, a.walltime_used_max == null ? "-" : (100 * a.walltime_used_max).toFixed(0) + " %")));
  }
}

function renderFailures(failures) {
  const box = $("#failures");
  box.replaceChildren();
  if (!failures.length) { box.append(el("p", { class: "muted" }, "No failures.")); return; }
  const roots = failures.filter((f) => f.state !== "dep_fail");
  const blocked = failures.filter((f) => f.state === "dep_fail");
  for (const f of roots) {
    const n = blocked.filter((b) => b.root_cause_task === f.task_id).length;
    box.append(el("div", { class: "failure", "data-task": String(f.task_id), onclick: () => openTask(f.task_id) },
      el("div", { class: "what" }, `task ${f.task_id} (${f.app}) ${f.state}`, n ? el("span", { class: "muted" }, ` · blocked ${n} task(s)`) : null),
      el("div", { class: "why" }, `${f.exception_type || "?"}: ${(f.message || "").split("\n")[0]}`),
      f.last_frame ? el("div", { class: "muted" }, f.last_frame) : null));
  }
  if (blocked.length) {
    box.append(el("div", { class: "failure dep" }, el("div", { class: "what" },
      `${blocked.length} task(s) not run because a dependency failed`),
      el("div", { class: "muted" }, blocked.slice(0, 30).map((b) => `${b.task_id} (${b.app})`).join(", ") +
        (blocked.length > 30 ? " …" : ""))));
  }
}

// ---------------------------------------------------------------------------------------
// The dependency graph: tasks in columns by level (longest chain of dependencies before
// them); a level with many tasks wraps into sub-columns so the whole fits the canvas's shape.
// Zoomed out, the screen is cut into CELL-pixel cells and each cell shows the most alarming
// state among its tasks: failed and dependency-failed parts stay visible at any zoom.
const LEVEL_GAP = 60, SUB = 14, DY = 14, NODE = 10, CELL = 3;
const graph = {
  data: null, index: new Map(), px: null, py: null, width: 1, height: 1,
  k: 1, tx: 20, ty: 20, onlyFailed: false, drawnMarks: 0, lastDrawMs: 0, canvas: null,

  load(data) {
    this.data = data;
    this.index = new Map(data.ids.map((id, i) => [id, i]));
    this.layout();
    $("#graph-count").textContent = `${data.count} tasks`;
    $("#graph-count").dataset.count = String(data.count);
  },
  layout() {
    const d = this.data, sizes = d.levels, n = d.ids.length;
    const aspect = this.canvas.clientWidth / this.canvas.clientHeight || 3;
    const biggest = maxOf(sizes, 1);
    const extent = (R) => {
      let w = 0;
      for (const size of sizes) w += LEVEL_GAP + Math.ceil(size / R) * SUB;
      return w / (Math.min(R, biggest) * DY);
    };
    let lo = 1, hi = biggest;  // rows per column: the shape falls as R grows
    while (lo < hi) { const mid = (lo + hi) >> 1; if (extent(mid) > aspect) lo = mid + 1; else hi = mid; }
    const R = Math.max(1, lo), levelX = [];
    let x = 0;
    for (const size of sizes) { levelX.push(x); x += LEVEL_GAP + Math.ceil(size / R) * SUB; }
    this.px = new Float32Array(n); this.py = new Float32Array(n);
    this.room = new Float32Array(n);  // free width right of a node, for its label
    for (let i = 0; i < n; i++) {
      const row = d.row[i], column = Math.floor(row / R);
      this.px[i] = levelX[d.level[i]] + column * SUB;
      this.py[i] = (row % R) * DY;
      const size = sizes[d.level[i]], columns = Math.ceil(size / R);
      // nothing to its right in this level (columns fill in turn): up to the next level
      this.room[i] = row + R >= size ? (columns - column) * SUB - NODE + LEVEL_GAP : SUB - NODE;
    }
    this.width = Math.max(1, x); this.height = Math.max(1, Math.min(R, biggest) * DY);
  },
  updateStates(data) {
    for (let j = 0; j < data.ids.length; j++) {
      const i = this.index.get(data.ids[j]);
      if (i !== undefined) this.data.state[i] = data.state[j];
    }
  },
  stateName(i) { return this.data.states[this.data.state[i]]; },
  fit() {
    const c = this.canvas, w = c.clientWidth, h = c.clientHeight;
    this.k = Math.min(2, (w - 40) / this.width, (h - 40) / this.height);
    this.tx = 20; this.ty = 20;
    this.draw();
  },
  focus(taskId) {  // center one task at full size (links and tests use it)
    const i = this.index.get(taskId);
    if (i === undefined) return null;
    const c = this.canvas;
    this.k = 1.5;
    this.tx = c.clientWidth / 2 - this.px[i] * this.k;
    this.ty = c.clientHeight / 2 - this.py[i] * this.k;
    this.draw();
    return this.screenPositionOf(taskId);
  },
  screenPositionOf(taskId) {
    const i = this.index.get(taskId);
    if (i === undefined) return null;
    return { x: this.tx + (this.px[i] + NODE / 2) * this.k, y: this.ty + (this.py[i] + NODE / 2) * this.k };
  },
  taskAt(x, y) {  // the most alarming task drawn under (x, y)
    const k = this.k, size = Math.max(CELL, NODE * k), n = this.data.ids.length;
    let best = -1, bestSeverity = -1;
    for (let i = 0; i < n; i++) {
      const sx = this.tx + this.px[i] * k, sy = this.ty + this.py[i] * k;
      if (x < sx - 1 || x > sx + size + 1 || y < sy - 1 || y > sy + size + 1) continue;
      const severity = SEVERITY[this.stateName(i)];
      if (severity > bestSeverity) { best = i; bestSeverity = severity; }
    }
    return best < 0 ? null : this.data.ids[best];
  },
  draw() {
    const t0 = performance.now();
    const c = this.canvas, d = this.data;
    if (!c || !d) return;
    const ratio = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * ratio) || c.height !== Math.round(h * ratio)) {
      c.width = Math.round(w * ratio); c.height = Math.round(h * ratio);
    }
    const g = c.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const k = this.k, tx = this.tx, ty = this.ty, n = d.ids.length, px = this.px, py = this.py;
    const single = NODE * k >= CELL;  // tasks big enough to draw one by one
    const stateIndex = d.state, names = d.states, severity = names.map((s) => SEVERITY[s]);
    const failedOnly = this.onlyFailed;
    let marks = 0;
    if (single) {
      const visible = [];
      for (let i = 0; i < n; i++) {
        const sx = tx + px[i] * k, sy = ty + py[i] * k;
        if (sx < -NODE * k || sy < -NODE * k || sx > w || sy > h) continue;
        if (failedOnly && !FAILED.has(names[stateIndex[i]])) continue;
        visible.push(i);
      }
      if (visible.length < 20000) this.drawEdges(g, w, h, visible.length < 3000);
      const buckets = {};
      for (const i of visible) (buckets[stateIndex[i]] = buckets[stateIndex[i]] || []).push(i);
      for (const [si, list] of Object.entries(buckets)) {
        g.fillStyle = COLORS[names[si]] || "#888";
        for (const i of list) g.fillRect(tx + px[i] * k, ty + py[i] * k, NODE * k, NODE * k);
      }
      if (visible.length < 400 && k >= 0.9) {
        g.fillStyle = "#222"; g.font = "10px sans-serif";
        for (const i of visible) {  // the label if it fits before the next mark, else the id
          const room = this.room[i] * k - 4, full = `${d.ids[i]} ${d.apps[d.app[i]]}`;
          const label = g.measureText(full).width <= room ? full
            : g.measureText(String(d.ids[i])).width <= room ? String(d.ids[i]) : null;
          if (label) g.fillText(label, tx + px[i] * k + NODE * k + 2, ty + (py[i] + NODE - 1) * k);
        }
      }
      marks = visible.length;
    } else {  // level of detail: one mark per CELL-pixel cell, the worst state in it
      const cols = Math.ceil(w / CELL) + 1, rows = Math.ceil(h / CELL) + 1;
      const cells = new Int8Array(cols * rows).fill(-1), worst = new Int16Array(cols * rows).fill(-1);
      for (let i = 0; i < n; i++) {
        const cx = Math.floor((tx + px[i] * k) / CELL), cy = Math.floor((ty + py[i] * k) / CELL);
        if (cx < 0 || cy < 0 || cx >= cols || cy >= rows) continue;
        const si = stateIndex[i];
        if (failedOnly && !FAILED.has(names[si])) continue;
        const cell = cy * cols + cx;
        if (severity[si] > cells[cell]) { cells[cell] = severity[si]; worst[cell] = si; }
      }
      const buckets = {};
      for (let cell = 0; cell < cells.length; cell++) {
        if (cells[cell] < 0) continue;
        (buckets[worst[cell]] = buckets[worst[cell]] || []).push(cell);
        marks++;
      }
      for (const [si, list] of Object.entries(buckets)) {
        g.fillStyle = COLORS[names[si]] || "#888";
        const big = FAILED.has(names[si]) ? 1 : 0;  // failures drawn a little larger
        for (const cell of list) g.fillRect((cell % cols) * CELL - big, Math.floor(cell / cols) * CELL - big, CELL - 0.5 + 2 * big, CELL - 0.5 + 2 * big);
      }
    }
    this.drawnMarks = marks;
    c.dataset.marks = String(marks);
    c.dataset.detail = single ? "tasks" : "cells";
    this.lastDrawMs = performance.now() - t0;
    c.dataset.drawMs = this.lastDrawMs.toFixed(1);
  },
  drawEdges(g, w, h, all) {
    const d = this.data, k = this.k, tx = this.tx, ty = this.ty, half = NODE / 2;
    g.strokeStyle = "rgba(90,100,110,.35)"; g.lineWidth = 1; g.beginPath();
    let drawn = 0;
    for (let e = 0; e < d.edges.length && drawn < 20000; e += 2) {
      const a = this.index.get(d.edges[e]), b = this.index.get(d.edges[e + 1]);
      if (a === undefined || b === undefined) continue;
      const ax = tx + (this.px[a] + NODE) * k, ay = ty + (this.py[a] + half) * k;
      const bx = tx + this.px[b] * k, by = ty + (this.py[b] + half) * k;
      if (Math.max(ax, bx) < 0 || Math.min(ax, bx) > w || Math.max(ay, by) < 0 || Math.min(ay, by) > h) continue;
      g.moveTo(ax, ay); g.lineTo(bx, by); drawn++;
    }
    g.stroke();
  },
  attach(canvas) {
    this.canvas = canvas;
    let drag = null;
    canvas.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const f = Math.exp(-ev.deltaY * 0.0015), rect = canvas.getBoundingClientRect();
      const x = ev.clientX - rect.left, y = ev.clientY - rect.top;
      this.tx = x - (x - this.tx) * f; this.ty = y - (y - this.ty) * f; this.k *= f;
      this.draw();
    }, { passive: false });
    canvas.addEventListener("mousedown", (ev) => { drag = { x: ev.clientX, y: ev.clientY, moved: false }; });
    window.addEventListener("mousemove", (ev) => {
      if (!drag) return;
      const dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) { this.tx += dx; this.ty += dy; drag.x = ev.clientX; drag.y = ev.clientY; this.draw(); }
    });
    window.addEventListener("mouseup", (ev) => {
      if (drag && !drag.moved && ev.target === canvas) {
        const rect = canvas.getBoundingClientRect();
        const id = this.taskAt(ev.clientX - rect.left, ev.clientY - rect.top);
        if (id !== null) openTask(id);
      }
      drag = null;
    });
  },
};

async function loadGraph(fresh) {
  const runId = state.runId;
  if (fresh || !graph.data) {
    const data = await api(`runs/${runId}/graph`);
    if (runId !== state.runId) return;
    graph.load(data); graph.fit();
    return;
  }
  const update = await api(`runs/${runId}/graph?states_only=1`);
  if (update.count !== graph.data.count) {
    const data = await api(`runs/${runId}/graph`);
    const k = graph.k, tx = graph.tx, ty = graph.ty;
    graph.load(data); graph.k = k; graph.tx = tx; graph.ty = ty;
  } else {
    graph.updateStates(update);
  }
  graph.draw();
}

// ---------------------------------------------------------------------------------------
// Timeline (Gantt): one bar per try, by launch time, coloured by the task's final state.
const gantt = {
  data: null, canvas: null, t0: 0, t1: 1, drawnBars: 0,
  load(data) {
    this.data = data;
    const starts = data.start.filter((x) => x != null), ends = data.end.filter((x) => x != null);
    this.t0 = starts.length ? minOf(starts) : 0;
    const lastSeen = (state.summary && state.summary.run.last_update) || Date.now();
    const unfinished = data.end.some((x) => x == null);
    this.t1 = Math.max(this.t0 + 1, maxOf(ends, this.t0 + 1), maxOf(starts, this.t0 + 1),
      unfinished && !REPORT ? lastSeen : 0);
    $("#gantt-count").textContent = `${data.task.length} tries`;
    this.draw();
  },
  draw() {
    const c = this.canvas, d = this.data;
    if (!c || !d) return;
    const ratio = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
    c.width = Math.round(w * ratio); c.height = Math.round(h * ratio);
    const g = c.getContext("2d");
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const left = 50, top = 8, bottom = 22, n = d.task.length, plotW = w - left - 10, plotH = h - top - bottom;
    const sx = plotW / (this.t1 - this.t0), rowH = plotH / Math.max(1, n);
    const buckets = {};
    for (let i = 0; i < n; i++) {
      const start = d.start[i]; if (start == null) continue;
      const end = d.end[i] == null ? this.t1 : d.end[i];
      const name = d.end[i] == null ? "running" : d.states[d.state[i]];
      (buckets[name] = buckets[name] || []).push(left + (start - this.t0) * sx, top + i * rowH,
        Math.max(1, (end - start) * sx), Math.max(1, rowH - (rowH > 3 ? 1 : 0)));
    }
    for (const [name, r] of Object.entries(buckets)) {
      g.fillStyle = COLORS[name] || "#888";
      for (let i = 0; i < r.length; i += 4) g.fillRect(r[i], r[i + 1], r[i + 2], r[i + 3]);
    }
    g.fillStyle = "#555"; g.font = "11px sans-serif";
    const span = (this.t1 - this.t0) / 1000;
    for (let i = 0; i <= 5; i++) {
      const x = left + plotW * i / 5;
      g.fillText(fmtS(span * i / 5), x - 10, h - 6);
      g.fillRect(x, top + plotH, 1, 4);
    }
    g.save(); g.translate(12, top + plotH / 2); g.rotate(-Math.PI / 2); g.fillText("tries", -10, 0); g.restore();
    this.drawnBars = n;
    c.dataset.bars = String(n);
  },
  attach(canvas) {
    this.canvas = canvas;
    canvas.addEventListener("click", (ev) => {
      const d = this.data; if (!d || !d.task.length) return;
      const rect = canvas.getBoundingClientRect();
      const i = Math.floor((ev.clientY - rect.top - 8) / ((rect.height - 30) / d.task.length));
      if (i >= 0 && i < d.task.length) openTask(d.task[i]);
    });
  },
};

async function loadTimeline() {
  const runId = state.runId;
  const data = await api(`runs/${runId}/timeline`);
  if (runId === state.runId) gantt.load(data);
}

// ---------------------------------------------------------------------------------------
// Resource use: resident memory of each sampled task over time.
async function loadResources() {
  const runId = state.runId;
  const d = await api(`runs/${runId}/resources`);
  if (runId !== state.runId) return;
  const c = $("#resources"), n = d.task_id.length;
  $("#resource-count").textContent = n ? `${n} samples (resident memory, MB)` : "no samples (resource monitoring samples tasks on pilot workers)";
  const ratio = window.devicePixelRatio || 1, w = c.clientWidth, h = c.clientHeight;
  c.width = Math.round(w * ratio); c.height = Math.round(h * ratio);
  const g = c.getContext("2d");
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, w, h);
  c.dataset.samples = String(n);
  if (!n) return;
  const t0 = minOf(d.timestamp), t1 = maxOf(d.timestamp, t0 + 1);
  const rss = d.psutil_process_memory_resident.map((x) => (x || 0) / 1e6), top = maxOf(rss, 1);
  const left = 50, plotW = w - left - 10, plotH = h - 30;
  const byTask = new Map();
  for (let i = 0; i < n; i++) {
    const key = d.task_id[i] + "/" + d.try_id[i];
    if (!byTask.has(key)) byTask.set(key, []);
    byTask.get(key).push([left + (d.timestamp[i] - t0) / (t1 - t0) * plotW, 8 + plotH - rss[i] / top * plotH]);
  }
  g.strokeStyle = "rgba(33,113,181,.7)"; g.fillStyle = "rgba(33,113,181,.9)";
  for (const points of byTask.values()) {
    g.beginPath(); points.forEach(([x, y], i) => i ? g.lineTo(x, y) : g.moveTo(x, y)); g.stroke();
    for (const [x, y] of points) g.fillRect(x - 1.5, y - 1.5, 3, 3);
  }
  g.fillStyle = "#555"; g.font = "11px sans-serif";
  g.fillText(`${top.toFixed(0)} MB`, 2, 14); g.fillText("0", 30, 8 + plotH);
  g.fillText(fmtS((t1 - t0) / 1000), w - 50, h - 6);
}

// ---------------------------------------------------------------------------------------
// Task details
function openTask(taskId) { location.hash = `#/run/${state.runId}/task/${taskId}`; }
function hideDetail() { $("#detail").hidden = true; }
$("#detail-close").onclick = () => { location.hash = `#/run/${state.runId}`; };

async function showTask(taskId) {
  const body = $("#detail-body");
  $("#detail").hidden = false;
  body.replaceChildren(el("p", { class: "muted" }, `loading task ${taskId}…`));
  let t;
  try { t = await api(`runs/${state.runId}/tasks/${taskId}`); } catch (e) { body.replaceChildren(el("p", {}, String(e))); return; }
  if (t.missing) { body.replaceChildren(el("h2", {}, `task ${taskId}`), el("p", { class: "muted" }, "not included in this report")); return; }
  const rows = [["app", t.task_func_name], ["executor", (t.tries[0] || {}).task_executor], ["submitted", fmtT(t.task_time_invoked)],
    ["returned", fmtT(t.task_time_returned)], ["failures", `${t.task_fail_count} (cost ${t.task_fail_cost})`],
    ["arguments", t.task_args], ["depends on", t.task_depends], ["depended on by", (t.dependents || []).join(", ")],
    ["hash", t.task_hashsum], ["stdout", t.task_stdout], ["stderr", t.task_stderr]];
  const facts = el("table", { class: "grid" }, ...rows.filter(([, v]) => v != null && v !== "")
    .map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", { style: "text-align:left" }, String(v)))));
  const tries = el("table", { class: "grid" }, el("tr", {}, ...["try", "host", "block", "launched", "returned", "duration"].map((h) => el("th", {}, h))),
    ...t.tries.map((y) => el("tr", {}, el("td", {}, String(y.try_id)), el("td", {}, y.hostname || "-"), el("td", {}, y.block_id || "-"),
      el("td", {}, fmtT(y.task_try_time_launched)), el("td", {}, fmtT(y.task_try_time_returned)),
      el("td", {}, y.task_try_time_returned && y.task_try_time_launched ? fmtS((y.task_try_time_returned - y.task_try_time_launched) / 1000) : "-"))));
  const run = state.summary && state.summary.run;
  const retryBox = el("div", { id: "retry-box" });
  if (!REPORT && run && run.live_retry && FAILED.has(t.state)) {
    retryBox.append(el("button", { "data-testid": "retry", onclick: () => retryTask(t.task_id, retryBox) },
      "retry this task and what it blocked"));
  }
  const parts = [el("h2", {}, `task ${t.task_id} `, el("span", { "data-testid": "task-state" }, badge(t.state || "pending"))), retryBox, facts,
    el("h3", {}, "states"), el("div", { class: "muted" }, t.states.map((s) => `${s.task_status_name} (try ${s.try_id}) ${fmtT(s.timestamp)}`).join(" → ")),
    el("h3", {}, "tries"), tries];
  for (const f of t.failures) {
    parts.push(el("h3", {}, `try ${f.try_id}: ${f.exception_type}`),
      el("pre", { "data-testid": "exception" }, f.message || ""), f.traceback ? el("pre", {}, f.traceback) : null);
    if (f.root_cause_task != null) parts.push(el("p", {}, "root cause: ", el("a", { href: `#/run/${state.runId}/task/${f.root_cause_task}` }, `task ${f.root_cause_task}`)));
  }
  if (t.resources.length) {
    const peak = maxOf(t.resources.map((r) => r.psutil_process_memory_resident || 0), 0);
    const last = t.resources[t.resources.length - 1];
    parts.push(el("h3", {}, "resources"), el("p", {}, `${t.resources.length} samples · peak RSS ${(peak / 1e6).toFixed(1)} MB · CPU ` +
      `${((last.psutil_process_time_user || 0) + (last.psutil_process_time_system || 0)).toFixed(2)} s · read ${((last.psutil_process_disk_read || 0) / 1e6).toFixed(1)} MB · written ${((last.psutil_process_disk_write || 0) / 1e6).toFixed(1)} MB`));
  }
  for (const [label, text] of [["stdout", t.stdout_tail], ["stderr", t.stderr_tail]]) {
    if (text) parts.push(el("h3", {}, `${label} (tail)`), el("pre", { "data-testid": label }, text));
  }
  body.replaceChildren(...parts);
}

async function retryTask(taskId, box) {
  box.replaceChildren(el("span", { class: "muted" }, "re-submitting…"));
  const response = await fetch(`api/runs/${state.runId}/tasks/${taskId}/retry`, { method: "POST" });
  const answer = await response.json();
  box.replaceChildren(el("p", { "data-testid": "retry-result" }, answer.ok
    ? `re-submitted as task(s) ${answer.tasks.join(", ")}` : `not retried: ${answer.error}`));
  scheduleRefresh();
}

// ---------------------------------------------------------------------------------------
function legend() {
  $("#legend").replaceChildren(...["pending", "launched", "running", "exec_done", "memo_done", "failed", "dep_fail", "cancelled"]
    .map((s) => el("span", {}, el("i", { style: `background:${COLORS[s]}` }), s)));
}

graph.attach($("#graph"));
gantt.attach($("#gantt"));
$("#graph-fit").onclick = () => graph.fit();
$("#graph-failed").onchange = (ev) => { graph.onlyFailed = ev.target.checked; graph.draw(); };
window.addEventListener("resize", () => { graph.draw(); gantt.draw(); });
legend();
window.plaitDashboard = { graph, gantt, state, ready: route() };
