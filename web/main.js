// The playground page (main thread): settings, URL state, the system picker, plots and the
// animation. Training runs in worker.js; plots are drawn by the shared plotters code (plot_lines,
// which needs the DOM) and painted onto canvases.

import { parseHash, serializeHash } from "./state.js";

// The models the page offers, in this order; their labels and descriptions come from the core
// (pl.model_kinds), filled in once the wasm module has loaded.
const PAGE_MODELS = ["node", "node-so", "hnn", "hnn-general", "hnn-forced"];
let MODELS = [];
const LADDERS = {
  width: [8, 16, 32, 64, 128, 200, 256, 512],
  depth: [1, 2, 3, 4, 5],
  lr: [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 1e-1],
};
const TRUTH_COLOUR = "#222831";

const $ = (id) => document.getElementById(id);
const errText = (e) => (e && e.message) ? e.message : String(e);

let pl = null; // the wasm module
const S = {
  module: null,
  defaults: null,
  systems: [],
  settings: null,
  hide: {},
  worker: null,
  workerGen: 0,
  backend: null,
  running: false,
  wantRunning: true,
  userPaused: false,
  models: new Map(), // id -> model view state
  info: null,
  z0: null,
  steps: 0,
  truth: null,
  positions: null, // {truth, models: Map id -> Float64Array, bodies}
  dataset: null, // {name, bytes}
  checkpoints: [], // {key, name, bytes}
  ckptKey: 0,
  run: 0,
  rolloutReq: 0,
  done: false,
  configuredAt: 0,
};

// ---------------------------------------------------------------- notices

function notice(level, text, { timeout } = {}) {
  const box = $("notices");
  if (!box) return;
  // the same text twice in a row: keep one
  for (const el of box.children) if (el.dataset.text === text) el.remove();
  const el = document.createElement("div");
  el.className = `notice ${level}`;
  el.dataset.text = text;
  el.setAttribute("role", level === "error" ? "alert" : "status");
  const span = document.createElement("span");
  span.textContent = text;
  const close = document.createElement("button");
  close.type = "button";
  close.className = "close";
  close.setAttribute("aria-label", "dismiss");
  close.textContent = "×";
  close.addEventListener("click", () => el.remove());
  el.append(span, close);
  box.append(el);
  while (box.children.length > 8) box.firstElementChild.remove();
  const t = timeout ?? (level === "info" ? 8000 : 0);
  if (t) setTimeout(() => el.remove(), t);
}

window.addEventListener("error", (e) => {
  notice("error", `unexpected error: ${errText(e.error || e.message)}`);
});
window.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  notice("error", `unexpected error: ${errText(e.reason)}`);
});

// ---------------------------------------------------------------- settings

function clamp(values) {
  // -> {settings, notices}; clamp_settings never gets a value of the wrong JSON type (parseHash).
  const merged = { ...S.defaults, ...values };
  try {
    const r = JSON.parse(pl.clamp_settings(JSON.stringify(merged)));
    return { settings: r.settings, notices: r.notices || [] };
  } catch (e) {
    return { settings: { ...S.defaults }, notices: [`settings could not be read (${errText(e)}); using the defaults`] };
  }
}

function writeHash() {
  const h = serializeHash(S.settings, S.hide);
  if (location.hash !== h) history.replaceState(null, "", h);
}

function systemEntry(spec) {
  return S.systems.find((s) => s.spec === spec) || null;
}

function fillLadder(sel, key, value) {
  const ladder = [...LADDERS[key]];
  if (!ladder.includes(value)) ladder.push(value);
  ladder.sort((a, b) => a - b);
  sel.replaceChildren(...ladder.map((v) => {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = String(v);
    return o;
  }));
  sel.value = String(value);
}

function renderSettings() {
  const s = S.settings;
  for (const key of Object.keys(LADDERS)) fillLadder($(key), key, s[key]);
  for (const key of ["epochs", "n_train", "chunk", "seed", "drag", "batch"]) $(key).value = String(s[key]);
  $("integrator").value = s.integrator;
  $("loss").value = s.loss;
  $("backend").value = s.backend;
  for (const cb of document.querySelectorAll("#model-toggles input")) cb.checked = s.models.includes(cb.value);
  const sys = systemEntry(s.system);
  $("drag").disabled = !!S.dataset || !(sys && sys.drag);
  $("drag").closest(".field").classList.toggle("off", $("drag").disabled);
  for (const tile of document.querySelectorAll("#systems .tile")) {
    const on = S.dataset ? tile.dataset.spec === "@dataset" : tile.dataset.spec === s.system;
    tile.setAttribute("aria-checked", on ? "true" : "false");
  }
  $("epochs-total").textContent = String(s.epochs);
}

// Apply new settings (from the UI): clamp, notice, URL, restart the run.
function updateSettings(patch, { restartWorker = false } = {}) {
  const { settings, notices } = clamp({ ...S.settings, ...patch });
  for (const n of notices) notice("warn", n);
  const backendChanged = settings.backend !== S.settings.backend;
  S.settings = settings;
  renderSettings();
  writeHash();
  S.wantRunning = !S.userPaused;
  if (restartWorker || backendChanged) startWorker();
  else reset();
}

function readField(el) {
  const key = el.dataset.key;
  if (el.type === "number" || LADDERS[key]) {
    const n = Number(el.value);
    if (!Number.isFinite(n) || el.value === "") {
      notice("warn", `${key}: "${el.value}" is not a number; kept ${S.settings[key]}`);
      el.value = String(S.settings[key]);
      return;
    }
    updateSettings({ [key]: n });
  } else {
    updateSettings({ [key]: el.value });
  }
}

// ---------------------------------------------------------------- worker

function post(msg, transfer) {
  if (S.worker) S.worker.postMessage(msg, transfer || []);
}

function startWorker() {
  if (S.worker) S.worker.terminate();
  const gen = ++S.workerGen;
  S.backend = null;
  setBadge("starting…");
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  S.worker = w;
  w.onmessage = (e) => {
    if (gen !== S.workerGen) return;
    try {
      onWorker(e.data);
    } catch (err) {
      notice("error", `page: ${errText(err)}`);
    }
  };
  w.onerror = (e) => {
    e.preventDefault();
    if (gen === S.workerGen) notice("error", `compute worker: ${e.message || "failed to start"}`);
  };
  w.onmessageerror = () => notice("error", "compute worker: a message could not be read");
  post({ type: "init", backend: S.settings.backend, module: S.module });
  reset();
}

function configureMsg() {
  S.run += 1;
  return {
    type: "configure",
    run: S.run,
    settings: S.settings,
    dataset: S.dataset ? S.dataset.bytes.slice() : null,
    checkpoints: S.checkpoints.map((c) => ({ key: c.key, name: c.name, bytes: c.bytes.slice() })),
  };
}

function reset() {
  S.done = false;
  S.configuredAt = performance.now();
  document.body.dataset.state = "configuring";
  delete document.body.dataset.doneMs;
  post(configureMsg());
  if (S.wantRunning) post({ type: "play" });
}

function play() {
  S.wantRunning = true;
  post({ type: "play" });
}

function pause() {
  S.wantRunning = false;
  post({ type: "pause" });
}

function setBadge(text, kind) {
  const b = $("backend-badge");
  b.textContent = text;
  b.className = `badge ${kind || ""}`;
}

// Messages about a run the page has since replaced (reset, new settings or data) are dropped.
const RUN_MESSAGES = new Set(["configured", "configure_failed", "epoch", "model_failed", "eval", "rollouts", "done", "checkpoint", "checkpoint_failed"]);

function onWorker(m) {
  if (RUN_MESSAGES.has(m.type) && m.run !== S.run) return;
  switch (m.type) {
    case "ready":
      S.backend = m.backend;
      document.body.dataset.backend = m.backend;
      setBadge(m.backend === "webgpu" ? "WebGPU" : "CPU", m.backend);
      if (m.notice) notice("warn", m.notice);
      $("version").textContent = `phaselab ${m.version || ""}`;
      break;
    case "configured":
      onConfigured(m);
      break;
    case "configure_failed":
      if (m.dataset && S.dataset) {
        notice("error", `could not use ${S.dataset.name}: ${m.message}`);
        S.dataset = null;
        renderSettings();
        reset();
      } else {
        notice("error", `could not set up the run: ${m.message}`);
        document.body.dataset.state = "error";
      }
      break;
    case "epoch": {
      const md = S.models.get(m.id);
      if (!md) break;
      if (!document.body.dataset.firstEpochMs) document.body.dataset.firstEpochMs = String(Math.round(performance.now()));
      md.epoch = m.epoch;
      if (Number.isFinite(m.loss)) {
        md.losses.push([m.epoch, m.loss]);
        if (md.firstLoss === null) md.firstLoss = m.loss;
        md.loss = m.loss;
      }
      if (Number.isFinite(m.seconds)) md.ms = 1000 * m.seconds;
      updateProgress();
      markDirty("loss", "table");
      break;
    }
    case "model_failed": {
      const md = S.models.get(m.id);
      if (md) md.failed = true;
      notice("warn", `${md ? md.label : "a model"} stopped: ${m.message} (it keeps its last good state)`);
      markDirty("table");
      break;
    }
    case "eval": {
      const md = S.models.get(m.id);
      if (!md) break;
      md.eval = m.result;
      md.evalEpoch = m.epoch;
      if (Number.isFinite(m.result.n_params)) md.n_params = m.result.n_params;
      markDirty("gerr", "energy", "herr", "table");
      break;
    }
    case "rollouts":
      onRollouts(m);
      break;
    case "running":
      S.running = m.running;
      renderRunning();
      break;
    case "done":
      onDone();
      break;
    case "checkpoint": {
      const c = S.checkpoints.find((x) => x.key === m.key);
      addModelView(m.model, c ? c.name : null);
      const i = m.info;
      notice("info", `checkpoint ${c ? c.name : ""}: ${i.kind}, width ${i.width}, depth ${i.depth}, ${i.n_params} parameters` +
        (i.trained_epochs ? `, trained ${i.trained_epochs} epochs` : "") + (i.system ? ` on ${i.system}` : ""));
      rebuildTable();
      markDirty("table", "gerr", "energy", "herr");
      break;
    }
    case "checkpoint_failed":
      S.checkpoints = S.checkpoints.filter((c) => c.key !== m.key);
      notice("error", `could not load checkpoint ${m.name || ""}: ${m.message}`);
      break;
    case "exported":
      download(m.bytes, `${m.kind}.phaselab`);
      break;
    case "notice":
      notice(m.level || "info", m.message);
      break;
    case "fatal":
      notice("error", m.message);
      document.body.dataset.state = "error";
      break;
    default:
      break;
  }
}

function modelLabel(kind) {
  const d = MODELS.find((x) => x.kind === kind);
  return d ? d.label : kind;
}

function addModelView(m, name) {
  let series = m.kind;
  if (m.checkpoint) {
    const n = [...S.models.values()].filter((x) => x.checkpoint && x.kind === m.kind).length;
    series = `${m.kind} (checkpoint${n ? " " + (n + 1) : ""})`;
  }
  let colour = "#888888";
  try {
    colour = pl.model_colour(m.kind);
  } catch (_) {
    /* unknown kind: grey */
  }
  S.models.set(m.id, {
    id: m.id, kind: m.kind, checkpoint: !!m.checkpoint, name: name || null, series,
    label: m.checkpoint ? `${modelLabel(m.kind)} (checkpoint)` : modelLabel(m.kind),
    colour, epoch: m.epoch || 0, losses: [], loss: null, firstLoss: null, ms: null,
    n_params: m.n_params, eval: null, evalEpoch: -1, failed: false, rollout: null,
  });
}

function onConfigured(m) {
  S.done = false;
  S.models = new Map();
  for (const x of m.models) addModelView(x, x.name);
  S.info = m.info;
  S.z0 = m.z0;
  S.steps = m.steps;
  S.truth = null;
  S.positions = null;
  const i = m.info;
  $("data-info").textContent = `${S.dataset ? S.dataset.name + ": " : ""}${i.system}, D = ${i.dof}, dt = ${i.dt} s; ` +
    `${i.n_train} training chunks of ${i.chunk} points; ${i.n_test} held-out trajectories of ${i.test_steps} steps` +
    (i.has_truth ? "" : "; no known ground truth") +
    (i.train_on_test ? " (a test split: trained and evaluated on the same trajectories)" : "");
  document.body.dataset.state = S.wantRunning ? "training" : "paused";
  rebuildTable();
  updateProgress();
  markDirty("loss", "gerr", "energy", "herr", "phase", "table");
}

function onRollouts(m) {
  if (m.req && m.req !== S.rolloutReq) return; // a newer click is on its way
  S.truth = m.truth || null;
  S.z0 = m.z0 || S.z0;
  for (const md of S.models.values()) md.rollout = null;
  for (const [id, arr] of Object.entries(m.models || {})) {
    const md = S.models.get(Number(id));
    if (md) md.rollout = arr;
  }
  computePositions();
  const pc = $("plot-phase");
  pc.dataset.rolloutReq = String(m.req || 0);
  if (S.z0 && S.info) pc.dataset.z0 = JSON.stringify([S.z0[0], S.z0[S.info.dof]]);
  markDirty("phase");
}

async function onDone() {
  S.done = true;
  S.running = false;
  S.wantRunning = false;
  renderRunning();
  updateProgress();
  const run = S.run;
  await flush(true);
  if (!S.done || run !== S.run) return;
  document.body.dataset.state = "done";
  document.body.dataset.doneMs = String(Math.round(performance.now()));
}

function renderRunning() {
  const b = $("play");
  b.setAttribute("aria-pressed", S.running ? "true" : "false");
  b.setAttribute("aria-label", S.running ? "Pause" : "Play");
  b.classList.toggle("playing", S.running);
  const st = document.body.dataset.state;
  if (st !== "done" && st !== "error" && st !== "configuring") document.body.dataset.state = S.running ? "training" : "paused";
  $("run-state").textContent = S.running ? "training" : (S.done ? "done" : "paused");
}

function updateProgress() {
  const trainable = [...S.models.values()].filter((m) => !m.checkpoint);
  const total = S.settings.epochs * Math.max(1, trainable.length);
  const doneEpochs = trainable.reduce((a, m) => a + Math.min(m.epoch, S.settings.epochs), 0);
  const epoch = trainable.length ? Math.min(...trainable.map((m) => m.epoch)) : 0;
  $("epoch").textContent = String(epoch);
  document.body.dataset.epoch = String(epoch);
  $("progress").value = trainable.length ? doneEpochs / total : 0;
  if (S.done) $("run-state").textContent = "done";
}

function download(bytes, name) {
  const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ---------------------------------------------------------------- files

async function loadFile(file) {
  let bytes;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    notice("error", `could not read ${file.name}: ${errText(e)}`);
    return;
  }
  const name = file.name || "file";
  if (/\.phaselab$/i.test(name)) return loadCheckpoint(name, bytes);
  if (/\.npz$/i.test(name)) return loadDataset(name, bytes);
  // no telling extension: a dataset if it reads as one, else a checkpoint
  try {
    pl.dataset_summary(bytes);
    return loadDataset(name, bytes);
  } catch (_) {
    return loadCheckpoint(name, bytes);
  }
}

function loadDataset(name, bytes) {
  let summary;
  try {
    summary = pl.dataset_summary(bytes);
  } catch (e) {
    notice("error", `${name} is not a usable dataset: ${errText(e)}`);
    return;
  }
  S.dataset = { name, bytes };
  S.wantRunning = !S.userPaused;
  notice("info", `dataset ${name}: ${summary.split("\n")[0]}`);
  notice("info", "a loaded dataset is not part of the page's link", { timeout: 6000 });
  renderSettings();
  reset();
}

function loadCheckpoint(name, bytes) {
  const key = ++S.ckptKey;
  S.checkpoints.push({ key, name, bytes });
  post({ type: "checkpoint", key, name, bytes: bytes.slice() });
}

// ---------------------------------------------------------------- plots

const dirty = new Set();
let flushTimer = 0;
let lastFlush = 0;

function markDirty(...names) {
  for (const n of names) dirty.add(n);
  if (flushTimer) return;
  const wait = Math.max(0, 250 - (performance.now() - lastFlush));
  flushTimer = setTimeout(() => {
    flushTimer = 0;
    flush();
  }, wait);
}

async function flush(all) {
  lastFlush = performance.now();
  const names = all ? ["loss", "gerr", "energy", "herr", "phase", "table"] : [...dirty];
  dirty.clear();
  const jobs = [];
  for (const n of names) {
    try {
      if (n === "table") updateTable();
      else jobs.push(drawView(n));
    } catch (e) {
      notice("error", `drawing ${n}: ${errText(e)}`);
    }
  }
  await Promise.all(jobs);
}

function finitePoints(points, logY) {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
}

function band(values, factor) {
  const v = values.filter(Number.isFinite);
  if (!v.length) return null;
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  const span = Math.max(hi - lo, 1e-3 * Math.max(Math.abs(lo), Math.abs(hi)), 1e-9);
  return [lo - factor * span, hi + factor * span];
}

function energyBand(values) {
  const v = values.filter(Number.isFinite);
  if (!v.length) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const scale = Math.max(hi - lo, 0.25 * Math.max(Math.abs(lo), Math.abs(hi)), 1e-6);
  return [lo - 4 * scale, hi + 4 * scale];
}

const clampTo = (v, b) => (b ? Math.min(b[1], Math.max(b[0], v)) : v);

function ordered() {
  return [...S.models.values()];
}

function specFor(view) {
  const dt = S.info ? S.info.dt : 1;
  const D = S.info ? S.info.dof : 1;
  if (view === "loss") {
    const series = ordered().filter((m) => !m.checkpoint && m.losses.length)
      .map((m) => ({ name: m.series, points: finitePoints(m.losses, true) }))
      .filter((s) => s.points.length);
    if (!series.length) return { empty: "the training loss appears after the first epoch" };
    return { title: "", x_label: "epoch", y_label: "training loss", log_y: true, legend: "upper-right", series };
  }
  if (view === "gerr") {
    const series = ordered().filter((m) => m.eval && m.eval.gerr_curve)
      // curve[k - 1] belongs to time k (the error at t = 0 is zero)
      .map((m) => {
        const off = S.steps && m.eval.gerr_curve.length < S.steps ? S.steps - m.eval.gerr_curve.length : 0;
        return { name: m.series, dashed: m.checkpoint, points: finitePoints(m.eval.gerr_curve.map((e, i) => [(i + off) * dt, e]), true) };
      })
      .filter((s) => s.points.length);
    if (!series.length) return { empty: "rollout errors appear after the first evaluation" };
    return { title: "", x_label: "time (s)", y_label: "relative error", log_y: true, legend: "lower-right", series };
  }
  if (view === "herr") {
    const series = ordered().filter((m) => m.eval && Array.isArray(m.eval.herr_curve))
      .map((m) => {
        const off = S.steps && m.eval.herr_curve.length < S.steps ? S.steps - m.eval.herr_curve.length : 0;
        return { name: m.series, dashed: m.checkpoint, points: finitePoints(m.eval.herr_curve.map((e, i) => [(i + off) * dt, e]), true) };
      })
      .filter((s) => s.points.length);
    if (!series.length) {
      return { empty: S.info && !S.info.has_truth ? "no known energy for this dataset" : "energy errors appear after the first evaluation" };
    }
    return { title: "", x_label: "time (s)", y_label: "relative energy error", log_y: true, legend: "lower-right", series };
  }
  if (view === "energy") {
    const withE = ordered().filter((m) => m.eval && Array.isArray(m.eval.energy) && m.eval.energy.length);
    if (!withE.length) {
      return { empty: S.info && !S.info.has_truth ? "no known energy for this dataset" : "energies appear after the first evaluation" };
    }
    const truthE = (withE.find((m) => Array.isArray(m.eval.truth_energy)) || {}).eval?.truth_energy || [];
    // models' energies beyond a wide band around the truth's are pinned to its edges
    const b = energyBand(truthE.map((p) => p[1]));
    const series = [];
    if (truthE.length) series.push({ name: "truth", points: finitePoints(truthE, false) });
    for (const m of withE) {
      series.push({ name: m.series, dashed: m.checkpoint, points: finitePoints(m.eval.energy, false).map(([t, h]) => [t, clampTo(h, b)]) });
    }
    return { title: "", x_label: "time (s)", y_label: "energy", log_y: false, legend: "lower-left", series: series.filter((s) => s.points.length) };
  }
  if (view === "phase") {
    const series = [];
    let bx = null;
    let by = null;
    if (S.truth) {
      const pts = [];
      for (let k = 0; k < S.truth.length / (2 * D); k++) pts.push([S.truth[k * 2 * D], S.truth[k * 2 * D + D]]);
      bx = band(pts.map((p) => p[0]), 1);
      by = band(pts.map((p) => p[1]), 1);
      series.push({ name: "truth", points: finitePoints(pts, false) });
    }
    for (const m of ordered()) {
      if (!m.rollout) continue;
      const pts = [];
      for (let k = 0; k < m.rollout.length / (2 * D); k++) {
        pts.push([clampTo(m.rollout[k * 2 * D], bx), clampTo(m.rollout[k * 2 * D + D], by)]);
      }
      series.push({ name: m.series, dashed: m.checkpoint, points: finitePoints(pts, false) });
    }
    if (!series.length || !S.z0) return { empty: "rollouts appear after the first evaluation" };
    return {
      title: "", x_label: "q1", y_label: "v1", log_y: false, legend: "upper-right", series: series.filter((s) => s.points.length),
      marker: [S.z0[0], S.z0[D]],
    };
  }
  return { empty: "" };
}

const drawSeq = new WeakMap();

function drawView(view) {
  const canvas = $(`plot-${view}`);
  if (!canvas) return Promise.resolve();
  const seq = (drawSeq.get(canvas) || 0) + 1;
  drawSeq.set(canvas, seq);
  const rect = canvas.getBoundingClientRect();
  const w = Math.max(200, Math.round(rect.width));
  const h = Math.max(150, Math.round(rect.height));
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const spec = specFor(view);
  const ctx = canvas.getContext("2d");
  const size = () => {
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
  };
  if (spec.empty !== undefined) {
    size();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.fillStyle = "#8a93a3";
    ctx.font = "13px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.fillText(spec.empty, w / 2, h / 2);
    canvas.dataset.drawn = "0";
    canvas.layout = null;
    return Promise.resolve();
  }
  let out;
  try {
    out = JSON.parse(pl.plot_lines(JSON.stringify(spec), w, h));
  } catch (e) {
    notice("error", `plot: ${errText(e)}`);
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const url = URL.createObjectURL(new Blob([out.svg], { type: "image/svg+xml" }));
    const img = new Image();
    img.onload = () => {
      URL.revokeObjectURL(url);
      if (drawSeq.get(canvas) === seq) {
        size();
        ctx.setTransform(1, 0, 0, 1, 0, 0);
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
        canvas.layout = { area: out.area, x: out.x, y: out.y, w, h };
        canvas.dataset.drawn = "1";
        canvas.dataset.series = String(spec.series.length);
      }
      resolve();
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      notice("error", `plot: the ${view} figure could not be drawn`);
      resolve();
    };
    img.src = url;
  });
}

// Click on the phase portrait: new (q1, v1), the other coordinates kept.
function phaseClick(ev) {
  const canvas = $("plot-phase");
  const L = canvas.layout;
  if (!L || !S.z0 || !S.info) return;
  const r = canvas.getBoundingClientRect();
  const px = ((ev.clientX - r.left) / r.width) * L.w;
  const py = ((ev.clientY - r.top) / r.height) * L.h;
  const [left, top, right, bottom] = L.area;
  if (px < left || px > right || py < top || py > bottom) return;
  const q = L.x[0] + ((px - left) / (right - left)) * (L.x[1] - L.x[0]);
  const v = L.y[1] - ((py - top) / (bottom - top)) * (L.y[1] - L.y[0]);
  setInitial(q, v);
}

function setInitial(q, v) {
  const D = S.info.dof;
  const z0 = [...S.z0];
  z0[0] = q;
  z0[D] = v;
  S.z0 = z0;
  S.rolloutReq += 1;
  post({ type: "rollout", z0: new Float64Array(z0), req: S.rolloutReq });
  markDirty("phase");
}

// ---------------------------------------------------------------- metrics table

function fmt(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

function rebuildTable() {
  const tbody = document.querySelector("#metrics tbody");
  tbody.replaceChildren();
  for (const m of ordered()) {
    const tr = document.createElement("tr");
    tr.dataset.id = String(m.id);
    tr.dataset.kind = m.kind;
    tr.dataset.checkpoint = m.checkpoint ? "1" : "0";
    const name = document.createElement("th");
    name.scope = "row";
    name.append(modelSwatch(m), document.createTextNode(" " + m.label));
    if (m.name) name.title = m.name;
    tr.append(name);
    for (const c of ["epoch", "loss", "gerr", "herr", "params", "ms"]) {
      const td = document.createElement("td");
      td.className = `c-${c}`;
      tr.append(td);
    }
    const act = document.createElement("td");
    const b = document.createElement("button");
    b.type = "button";
    b.className = "small";
    b.textContent = "export";
    b.title = `download ${m.kind}.phaselab (phaselab eval reads it)`;
    b.setAttribute("aria-label", `export ${m.label} checkpoint`);
    b.addEventListener("click", () => post({ type: "export", id: m.id }));
    act.append(b);
    tr.append(act);
    tbody.append(tr);
  }
  updateTable();
}

function updateTable() {
  for (const tr of document.querySelectorAll("#metrics tbody tr")) {
    const m = S.models.get(Number(tr.dataset.id));
    if (!m) continue;
    const set = (c, text) => {
      tr.querySelector(`.c-${c}`).textContent = text;
    };
    set("epoch", String(m.epoch) + (m.failed ? " ⚠" : ""));
    set("loss", fmt(m.loss));
    set("gerr", fmt(m.eval ? m.eval.gerr : null));
    set("herr", fmt(m.eval ? m.eval.herr : null));
    set("params", m.n_params ? Number(m.n_params).toLocaleString("en") : "–");
    set("ms", m.ms ? fmt(m.ms, 3) : "–");
    tr.dataset.epoch = String(m.epoch);
    if (m.loss !== null) tr.dataset.loss = String(m.loss);
    if (m.firstLoss !== null) tr.dataset.firstLoss = String(m.firstLoss);
    if (m.eval) {
      tr.dataset.gerr = String(m.eval.gerr);
      if (m.eval.herr !== null && m.eval.herr !== undefined) tr.dataset.herr = String(m.eval.herr);
      tr.dataset.evalEpoch = String(m.evalEpoch);
    }
    tr.classList.toggle("failed", m.failed);
  }
}

// ---------------------------------------------------------------- animation

function computePositions() {
  S.positions = null;
  if (!S.info) return;
  const spec = S.info.system;
  try {
    const P = { truth: null, models: new Map() };
    if (S.truth) P.truth = pl.positions(spec, S.truth);
    for (const m of S.models.values()) {
      if (m.rollout) {
        try {
          P.models.set(m.id, pl.positions(spec, m.rollout));
        } catch (_) {
          /* a diverged rollout: no ghost */
        }
      }
    }
    P.bodies = S.info.bodies;
    S.positions = P;
  } catch (_) {
    S.positions = { error: "no drawing for this system" };
  }
  renderAnimLegend();
}

/** A model's colour swatch (dashed for a loaded checkpoint), as in the plots' legends. */
function modelSwatch(m) {
  const sw = document.createElement("span");
  sw.className = "swatch" + (m.checkpoint ? " dashed" : "");
  sw.style.setProperty("--c", m.colour);
  return sw;
}

function renderAnimLegend() {
  const box = $("anim-legend");
  const items = [];
  for (const m of S.models.values()) {
    if (!S.positions || !S.positions.models || !S.positions.models.has(m.id)) continue;
    const s = document.createElement("span");
    s.className = "item";
    s.append(modelSwatch(m), document.createTextNode(" " + m.label));
    items.push(s);
  }
  box.replaceChildren(...items);
}

function drawBodies(ctx, P, k, bodies, toPx, colour, alpha, lw) {
  const base = k * bodies * 2;
  if (base + bodies * 2 > P.length) return;
  ctx.globalAlpha = alpha;
  ctx.strokeStyle = colour;
  ctx.fillStyle = colour;
  ctx.lineWidth = lw;
  ctx.beginPath();
  let [x0, y0] = toPx(0, 0);
  ctx.moveTo(x0, y0);
  for (let b = 0; b < bodies; b++) {
    const [x, y] = toPx(P[base + 2 * b], P[base + 2 * b + 1]);
    ctx.lineTo(x, y);
  }
  ctx.stroke();
  for (let b = 0; b < bodies; b++) {
    const [x, y] = toPx(P[base + 2 * b], P[base + 2 * b + 1]);
    ctx.beginPath();
    ctx.arc(x, y, lw * 2.2, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
}

// Bounding box of drawing coordinates (x, y pairs) and the pivot: [xmin, xmax, ymin, ymax].
function bbox(P) {
  const b = [0, 0, 0, 0];
  for (let i = 0; i + 1 < P.length; i += 2) {
    const x = P[i];
    const y = P[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < b[0]) b[0] = x;
    if (x > b[1]) b[1] = x;
    if (y < b[2]) b[2] = y;
    if (y > b[3]) b[3] = y;
  }
  return b;
}

// A map from drawing coordinates to canvas pixels fitting box b (y up), with a margin.
function fitter(b, W, H, margin) {
  const w = Math.max(b[1] - b[0], 1e-6);
  const h = Math.max(b[3] - b[2], 1e-6);
  const scale = Math.min((W - 2 * margin) / w, (H - 2 * margin) / h);
  const cx = (b[0] + b[1]) / 2;
  const cy = (b[2] + b[3]) / 2;
  return (x, y) => [W / 2 + (x - cx) * scale, H / 2 - (y - cy) * scale];
}

function animFrame(now) {
  requestAnimationFrame(animFrame);
  const canvas = $("anim");
  const rect = canvas.getBoundingClientRect();
  if (rect.width < 10) return;
  const dpr = Math.min(2, window.devicePixelRatio || 1);
  const W = Math.round(rect.width * dpr);
  const H = Math.round(rect.height * dpr);
  if (canvas.width !== W || canvas.height !== H) {
    canvas.width = W;
    canvas.height = H;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, W, H);
  const P = S.positions;
  if (!P || P.error || (!P.truth && !P.models.size)) {
    ctx.fillStyle = "#8a93a3";
    ctx.font = `${13 * dpr}px system-ui, sans-serif`;
    ctx.textAlign = "center";
    ctx.fillText(P && P.error ? P.error : "the motion appears with the first rollout", W / 2, H / 2);
    return;
  }
  const bodies = P.bodies || 1;
  const ref = P.truth || P.models.values().next().value;
  const n = Math.floor(ref.length / (bodies * 2));
  if (!P.box || P.boxFor !== ref) {
    // the truth's box, grown to hold the ghosts, but not beyond one more truth-size on each side
    const t = bbox(ref);
    const size = Math.max(t[1] - t[0], t[3] - t[2], 1e-6);
    const b = [...t];
    for (const Pm of P.models.values()) {
      const m = bbox(Pm);
      b[0] = Math.min(b[0], m[0]);
      b[1] = Math.max(b[1], m[1]);
      b[2] = Math.min(b[2], m[2]);
      b[3] = Math.max(b[3], m[3]);
    }
    P.box = [Math.max(b[0], t[0] - size), Math.min(b[1], t[1] + size), Math.max(b[2], t[2] - size), Math.min(b[3], t[3] + size)];
    P.boxFor = ref;
  }
  const toPx = fitter(P.box, W, H, 16 * dpr);
  const dt = S.info ? S.info.dt : 0.03;
  const k = n ? Math.floor(now / 1000 / dt) % n : 0;
  // pivot
  const [px0, py0] = toPx(0, 0);
  ctx.fillStyle = "#9aa3b2";
  ctx.fillRect(px0 - 3 * dpr, py0 - 3 * dpr, 6 * dpr, 6 * dpr);
  for (const m of S.models.values()) {
    const Pm = P.models.get(m.id);
    if (Pm) drawBodies(ctx, Pm, Math.min(k, Math.floor(Pm.length / (bodies * 2)) - 1), bodies, toPx, m.colour, 0.6, 2.5 * dpr);
  }
  if (P.truth) drawBodies(ctx, P.truth, k, bodies, toPx, TRUTH_COLOUR, 1, 3 * dpr);
  ctx.fillStyle = "#5b6474";
  ctx.font = `${12 * dpr}px system-ui, sans-serif`;
  ctx.textAlign = "left";
  ctx.fillText(`t = ${(k * dt).toFixed(2)} s`, 8 * dpr, 18 * dpr);
}

// ---------------------------------------------------------------- system picker

const thumbs = [];

function buildPicker() {
  const box = $("systems");
  const tiles = [];
  for (const s of S.systems) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tile";
    b.setAttribute("role", "radio");
    b.dataset.spec = s.spec;
    b.title = s.spec;
    const c = document.createElement("canvas");
    c.width = 192;
    c.height = 112;
    c.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.textContent = s.label;
    b.append(c, label);
    b.addEventListener("click", () => {
      if (S.dataset) S.dataset = null;
      updateSettings({ system: s.spec });
    });
    tiles.push(b);
    try {
      const traj = pl.simulate(s.spec, BigInt(7), 6);
      thumbs.push({ canvas: c, spec: s, P: pl.positions(s.spec, traj), bodies: s.bodies, dt: s.dt });
    } catch (e) {
      /* no thumbnail; the tile still works */
    }
  }
  const custom = document.createElement("button");
  custom.type = "button";
  custom.className = "tile custom";
  custom.setAttribute("role", "radio");
  custom.dataset.spec = "@dataset";
  custom.title = "your own trajectories: a phaselab .npz (drop it anywhere)";
  custom.innerHTML = '<span class="plus" aria-hidden="true">+</span><span>your data (.npz)</span>';
  custom.addEventListener("click", () => $("dataset-file").click());
  tiles.push(custom);
  box.replaceChildren(...tiles);
  // arrow keys move between tiles (radiogroup)
  box.addEventListener("keydown", (e) => {
    const all = [...box.querySelectorAll(".tile")];
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    if (e.key === "ArrowRight" || e.key === "ArrowDown") all[(i + 1) % all.length].focus();
    else if (e.key === "ArrowLeft" || e.key === "ArrowUp") all[(i - 1 + all.length) % all.length].focus();
    else return;
    e.preventDefault();
  });
}

const reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
function thumbFrame(now) {
  if (!reducedMotion) requestAnimationFrame(thumbFrame);
  for (const t of thumbs) {
    const ctx = t.canvas.getContext("2d");
    const W = t.canvas.width;
    const H = t.canvas.height;
    ctx.clearRect(0, 0, W, H);
    const n = Math.floor(t.P.length / (t.bodies * 2));
    if (!n) continue;
    if (!t.box) t.box = bbox(t.P);
    const toPx = fitter(t.box, W, H, 8);
    const k = Math.floor(now / 1000 / t.dt) % n;
    drawBodies(ctx, t.P, k, t.bodies, toPx, t.spec.drag ? "#8a5a00" : "#31456a", 1, 2.6);
  }
}

// ---------------------------------------------------------------- UI wiring

function buildModelToggles() {
  const box = $("model-toggles");
  for (const m of MODELS) {
    const id = `model-${m.kind}`;
    const wrap = document.createElement("div");
    wrap.className = "toggle";
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.id = id;
    cb.value = m.kind;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.title = m.title;
    const sw = document.createElement("span");
    sw.className = "swatch";
    try {
      sw.style.setProperty("--c", pl.model_colour(m.kind));
    } catch (_) {
      /* grey */
    }
    label.append(sw, document.createTextNode(" " + m.label));
    cb.addEventListener("change", () => {
      const chosen = [...box.querySelectorAll("input:checked")].map((x) => x.value);
      updateSettings({ models: chosen });
    });
    wrap.append(cb, label);
    box.append(wrap);
  }
}

function wire() {
  $("play").addEventListener("click", () => {
    if (S.wantRunning) {
      S.userPaused = true;
      pause();
    } else {
      S.userPaused = false;
      play();
    }
  });
  $("step").addEventListener("click", () => {
    S.wantRunning = false;
    S.userPaused = true;
    post({ type: "step" });
  });
  $("reset").addEventListener("click", () => {
    S.wantRunning = !S.userPaused;
    reset();
  });
  for (const el of document.querySelectorAll("#settings [data-key]")) {
    el.addEventListener("change", () => readField(el));
  }
  $("backend").addEventListener("change", () => updateSettings({ backend: $("backend").value }, { restartWorker: true }));
  $("dataset-file").addEventListener("change", (e) => {
    const f = e.target.files && e.target.files[0];
    e.target.value = "";
    if (f) {
      loadFile(f).catch((err) => notice("error", errText(err)));
    }
  });
  $("checkpoint-file").addEventListener("change", async (e) => {
    const f = e.target.files && e.target.files[0];
    e.target.value = "";
    if (!f) return;
    try {
      loadCheckpoint(f.name, new Uint8Array(await f.arrayBuffer()));
    } catch (err) {
      notice("error", `could not read ${f.name}: ${errText(err)}`);
    }
  });
  $("share").addEventListener("click", async () => {
    writeHash();
    try {
      await navigator.clipboard.writeText(location.href);
      notice("info", "link copied: it reproduces this run", { timeout: 4000 });
    } catch (_) {
      notice("info", `link: ${location.href}`, { timeout: 15000 });
    }
  });
  $("plot-phase").addEventListener("click", phaseClick);
  $("plot-phase").addEventListener("keydown", (e) => {
    // keyboard: arrows nudge the initial condition
    if (!S.z0 || !S.info || !$("plot-phase").layout) return;
    const L = $("plot-phase").layout;
    const dq = (L.x[1] - L.x[0]) / 40;
    const dv = (L.y[1] - L.y[0]) / 40;
    const D = S.info.dof;
    const moves = { ArrowLeft: [-dq, 0], ArrowRight: [dq, 0], ArrowUp: [0, dv], ArrowDown: [0, -dv] };
    const mv = moves[e.key];
    if (!mv) return;
    e.preventDefault();
    setInitial(S.z0[0] + mv[0], S.z0[D] + mv[1]);
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== " " || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && t.closest && t.closest("input, select, textarea, button, [role=radio], canvas[tabindex]")) return;
    e.preventDefault();
    $("play").click();
  });
  // drag and drop anywhere
  let depth = 0;
  const overlay = $("drop-overlay");
  window.addEventListener("dragenter", (e) => {
    if (!e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    for (const f of e.dataTransfer ? e.dataTransfer.files : []) loadFile(f).catch((err) => notice("error", errText(err)));
  });
  window.addEventListener("hashchange", () => {
    if (location.hash === serializeHash(S.settings, S.hide)) return;
    const backend = S.settings.backend;
    applyHash();
    renderSettings();
    S.wantRunning = !S.userPaused;
    if (S.settings.backend !== backend) startWorker();
    else reset();
  });
  let resizeTimer = 0;
  new ResizeObserver(() => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => markDirty("loss", "gerr", "energy", "herr", "phase"), 150);
  }).observe(document.querySelector(".views"));
}

function applyHash() {
  const { values, hide, notices } = parseHash(location.hash, S.defaults);
  const r = clamp(values);
  for (const n of [...notices, ...r.notices.map((n) => (n.startsWith("link") ? n : `link: ${n}`))]) notice("warn", n);
  S.settings = r.settings;
  if (S.settings.system === "custom" || !systemEntry(S.settings.system)) {
    if (!S.dataset) {
      notice("warn", `link: system "${S.settings.system}" needs its dataset file, which a link cannot carry; showing ${S.defaults.system} (load the .npz to use it)`);
      S.settings.system = S.defaults.system;
    }
  }
  S.hide = hide;
  document.body.classList.toggle("hide-controls", !!hide.hide_controls);
  document.body.classList.toggle("hide-settings", !!hide.hide_settings);
  document.body.classList.toggle("hide-picker", !!hide.hide_picker);
  writeHash();
}

async function loadWasm() {
  const mod = await import("./pkg/phaselab_wasm.js");
  const url = new URL("./pkg/phaselab_wasm_bg.wasm", import.meta.url);
  let module = null;
  try {
    module = await WebAssembly.compileStreaming(fetch(url));
  } catch (_) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url.pathname}: HTTP ${r.status}`);
    module = await WebAssembly.compile(await r.arrayBuffer());
  }
  await mod.default({ module_or_path: module });
  return { mod, module };
}

async function main() {
  try {
    const { mod, module } = await loadWasm();
    pl = mod;
    S.module = module;
    S.defaults = JSON.parse(pl.default_settings());
    S.systems = JSON.parse(pl.playground_systems());
    const kinds = JSON.parse(pl.model_kinds());
    MODELS = PAGE_MODELS.map((k) => kinds.find((x) => x.kind === k)).filter(Boolean);
  } catch (e) {
    notice("error", `the playground could not start: ${errText(e)}`);
    document.body.dataset.state = "error";
    return;
  }
  $("version").textContent = `phaselab ${pl.version()}`;
  buildModelToggles();
  buildPicker();
  applyHash();
  renderSettings();
  wire();
  requestAnimationFrame(thumbFrame);
  requestAnimationFrame(animFrame);
  markDirty("loss", "gerr", "energy", "herr", "phase");
  S.wantRunning = true;
  startWorker();
}

main();
