// The worker client: starts worker.js, sends it the run (configure, play, pause, step, rollout,
// checkpoint, export, structure) and applies its messages to the page's state and views.

import { $, S, pl, errText, notice } from "./page.js";
import { renderSettings, writeHash } from "./settings.js";
import { markDirty, flush } from "./plots.js";
import { rebuildTable } from "./table.js";
import { computePositions } from "./anim.js";
import { requestStructure, resetStructure, showStructure, structureFailed } from "./structure.js";

export function post(msg, transfer) {
  if (S.worker) S.worker.postMessage(msg, transfer || []);
}

/** A fresh worker (on S.settings.backend) and a new run; the old worker's messages are dropped. */
export function startWorker() {
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
    ic: S.ic,
    dataset: S.dataset ? S.dataset.bytes.slice() : null,
    checkpoints: S.checkpoints.map((c) => ({ key: c.key, name: c.name, bytes: c.bytes.slice() })),
  };
}

/** A new run from S.settings, S.dataset and S.checkpoints (playing when S.wantRunning). */
export function reset() {
  S.done = false;
  S.evaluating = false;
  S.configuredAt = performance.now();
  document.body.dataset.state = "configuring";
  delete document.body.dataset.doneMs;
  post(configureMsg());
  if (S.wantRunning) post({ type: "play" });
}

export function play() {
  S.wantRunning = true;
  post({ type: "play" });
}

export function pause() {
  S.wantRunning = false;
  post({ type: "pause" });
}

function setBadge(text, kind) {
  const b = $("backend-badge");
  b.textContent = text;
  b.className = `badge ${kind || ""}`;
}

// Messages about a run the page has since replaced (reset, new settings or data) are dropped.
const RUN_MESSAGES = new Set(["configured", "models", "configure_failed", "epoch", "model_failed", "model_refused", "eval", "rollouts", "evaluating", "done",
  "checkpoint", "checkpoint_failed", "structure", "structure_failed"]);

function onWorker(m) {
  if (RUN_MESSAGES.has(m.type) && m.run !== S.run) return;
  switch (m.type) {
    case "ready":
      S.backend = m.backend;
      document.body.dataset.backend = m.backend;
      {
        // which backend and why: "CPU (auto: WebGPU adapter is software — SwiftShader)"
        const name = m.backend === "webgpu" ? "WebGPU" : "CPU";
        const why = m.requested === "auto" ? `auto: ${m.reason || "chosen"}` : (m.backend === m.requested ? "chosen" : m.reason || "");
        setBadge(why ? `${name} (${why})` : name, m.backend);
        document.body.dataset.backendReason = why;
        $("backend-badge").title = `Where the models train: ${name}${why ? " (" + why + ")" : ""}`;
      }
      if (m.notice) notice("warn", m.notice, { detail: m.detail || undefined });
      $("version").textContent = `phaselab ${m.version || ""}`;
      break;
    case "configured":
      onConfigured(m);
      break;
    case "models":
      onModels(m);
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
    case "model_refused": {
      // the worker could not add this model for these data (a model without controls on data
      // with actions, a model on body points for a system phaselab does not simulate): its box
      // goes off with the reason, in the page's names
      const label = (S.kinds.find((k) => k.kind === m.kind) || {}).label || m.kind;
      notice("warn", `${label} is not trained on these data: ${m.message}`);
      S.settings = { ...S.settings, models: S.settings.models.filter((k) => k !== m.kind) };
      renderSettings();
      writeHash();
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
    case "evaluating":
      // the last epoch is trained; the final evaluation runs until "done"
      S.evaluating = true;
      renderRunning();
      break;
    case "done":
      onDone();
      break;
    case "structure":
      showStructure(m);
      break;
    case "structure_failed":
      structureFailed(m);
      break;
    case "checkpoint": {
      const c = S.checkpoints.find((x) => x.key === m.key);
      if (c && c.loaded) {
        // a checkpoint loaded before, added again to a new run: no news
        addModelView(m.model, c.name);
        rebuildTable();
        break;
      }
      if (c) c.loaded = true;
      addModelView(m.model, c ? c.name : null);
      const i = m.info;
      notice("info", `checkpoint ${c ? c.name : ""}: ${i.kind}, width ${i.width}, depth ${i.depth}, ${i.n_params} parameters` +
        (i.trained_epochs ? `, trained ${i.trained_epochs} epochs` : "") + (i.system ? ` on ${i.system}` : ""));
      // an old checkpoint format (no checksum) loads with a note saying so
      if (i.note) notice("info", `checkpoint ${c ? c.name : ""}: ${i.note}`, { timeout: 20000 });
      rebuildTable();
      markDirty("table", "gerr", "energy", "herr");
      if (S.done) requestStructure();
      break;
    }
    case "checkpoint_failed": {
      // in words: what the file is, unless it is a checkpoint (then the reason is the format's own,
      // e.g. "damaged after it was written"); the raw error under "details"
      const c = S.checkpoints.find((x) => x.key === m.key);
      S.checkpoints = S.checkpoints.filter((x) => x.key !== m.key);
      if (c && c.loaded) {
        // loaded for the earlier data, it does not fit the new: the user did nothing wrong
        notice("info", `checkpoint ${c.name} is set aside: it does not fit the new data (${m.message})`, { timeout: 12000 });
        break;
      }
      const what = c ? pl.describe_file(c.bytes) : "";
      const plain = !what || what.startsWith("a phaselab checkpoint") ? m.message
        : `it is ${what}, not a checkpoint. The page loads the .phaselab files that \`phaselab train\` and this page's export write.`;
      notice("error", `could not load checkpoint ${m.name || ""}: ${plain}`, { detail: m.message });
      break;
    }
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
  const d = S.kinds.find((x) => x.kind === kind);
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
    id: m.id, kind: m.kind, member: m.member || 0, checkpoint: !!m.checkpoint, name: name || null, series,
    label: m.checkpoint ? `${modelLabel(m.kind)} (checkpoint)` : modelLabel(m.kind),
    colour, epoch: m.epoch || 0, losses: [], loss: null, firstLoss: null, ms: null,
    n_params: m.n_params, eval: null, evalEpoch: -1, failed: false, rollout: null,
  });
}

function onConfigured(m) {
  S.done = false;
  S.evaluating = false;
  S.models = new Map();
  for (const x of m.models) addModelView(x, x.name);
  S.info = m.info;
  S.z0 = m.z0;
  S.steps = m.steps;
  S.truth = null;
  S.positions = null;
  const i = m.info;
  // the system in words ("chain pendulum + drag, 2 links, drag f = 1"); its code name in the tooltip
  const sys = S.dataset ? null : S.systems.find((x) => x.spec === S.settings.system);
  const name = sys ? sys.label + (sys.drag ? `, drag f = ${S.settings.drag}` : "") : i.system;
  $("data-info").title = i.system;
  $("data-info").textContent = `${S.dataset ? S.dataset.name + ": " : ""}${name}, D = ${i.dof}, dt = ${i.dt} s; ` +
    `${i.n_train} training chunks of ${i.chunk} points; ${i.n_test} held-out trajectories of ${i.test_steps} steps` +
    (i.has_truth ? "" : "; no known ground truth") +
    (i.train_on_test ? " (a test split: trained and evaluated on the same trajectories)" : "") +
    // a file of short chunks leaves held-out trajectories of a few steps: the error's horizon
    (S.dataset && i.test_steps < 30 ? `. The rollout error looks only ${i.test_steps} steps ahead (the file's trajectories are that short); a file of whole trajectories gives a longer horizon` : "");
  document.body.dataset.state = S.wantRunning ? "training" : "paused";
  resetStructure();
  rebuildTable();
  updateProgress();
  markDirty("loss", "gerr", "energy", "herr", "phase", "table");
}

// Models switched on or off mid-run or after it: the others keep their runs; a new model trains
// (the run resumes if it had finished, unless the user paused it).
function onModels(m) {
  for (const id of m.removed || []) S.models.delete(id);
  for (const x of m.added || []) addModelView(x, null);
  if ((m.added || []).length && (S.done || S.evaluating)) {
    S.done = false;
    S.evaluating = false;
    document.body.dataset.state = S.userPaused ? "paused" : "training";
    delete document.body.dataset.doneMs;
    if (!S.userPaused) play();
  }
  resetStructure();
  rebuildTable();
  updateProgress();
  markDirty("loss", "gerr", "energy", "herr", "phase", "table");
}

/** Switch models on or off without restarting the others (the worker answers "models"). */
export function setModels(kinds) {
  post({ type: "models", kinds });
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
  S.evaluating = false;
  S.running = false;
  S.wantRunning = false;
  renderRunning();
  updateProgress();
  const run = S.run;
  await flush(true);
  if (!S.done || run !== S.run) return;
  document.body.dataset.state = "done";
  document.body.dataset.doneMs = String(Math.round(performance.now()));
  requestStructure();
}

function renderRunning() {
  const b = $("play");
  b.setAttribute("aria-pressed", S.running ? "true" : "false");
  b.setAttribute("aria-label", S.running ? "Pause" : "Play");
  b.classList.toggle("playing", S.running);
  const st = document.body.dataset.state;
  if (st !== "done" && st !== "error" && st !== "configuring") document.body.dataset.state = S.running ? "training" : "paused";
  $("run-state").textContent = runState();
}

// The status beside the epoch counter: "evaluating" between the last epoch and done.
function runState() {
  if (S.done) return "done";
  if (S.evaluating) return "evaluating";
  return S.running ? "training" : "paused";
}

function updateProgress() {
  const trainable = [...S.models.values()].filter((m) => !m.checkpoint);
  const total = S.settings.epochs * Math.max(1, trainable.length);
  const doneEpochs = trainable.reduce((a, m) => a + Math.min(m.epoch, S.settings.epochs), 0);
  const epoch = trainable.length ? Math.min(...trainable.map((m) => m.epoch)) : 0;
  $("epoch").textContent = String(epoch);
  document.body.dataset.epoch = String(epoch);
  $("progress").value = trainable.length ? doneEpochs / total : 0;
  if (S.done || S.evaluating) $("run-state").textContent = runState();
}

// An exported checkpoint, saved by the browser.
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

/** Start every model (and the truth) from (q1, v1), the other coordinates of z0 kept; the URL
 *  keeps (q1, v1) (rounded to 6 significant digits, which is also what runs, so a link reproduces it). */
export function setInitial(q, v) {
  q = Number(q.toPrecision(6));
  v = Number(v.toPrecision(6));
  S.ic = [q, v];
  writeHash();
  const D = S.info.dof;
  const z0 = [...S.z0];
  z0[0] = q;
  z0[D] = v;
  S.z0 = z0;
  S.rolloutReq += 1;
  post({ type: "rollout", z0: new Float64Array(z0), req: S.rolloutReq });
  markDirty("phase");
}

