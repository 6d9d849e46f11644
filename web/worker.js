// The playground's compute: one Playground (wasm) per worker, so the page never freezes.
//
// Every use of the Playground goes through one serial queue (`serial`): a message that arrives while
// an epoch is being awaited waits for it, so the wasm object is never entered twice. Training is a
// pump: one epoch of one model per task, round robin over the models, with a macrotask yield between
// tasks so that pause / reset / rollout requests are seen between epochs. Models are evaluated every
// few rounds (adaptively, so that training dominates) and at the end.
//
// Messages in:  init {backend, module?} | configure {settings, ic?, dataset?, checkpoints[]} | play | pause
//               | step | rollout {z0, req} | checkpoint {bytes, name} | export {id} | evaluate
//               | structure {ids, coordinate, req} | models {kinds} (switch models on or off, the rest go on)
// Messages out: ready {backend, requested, reason, notice?} | configured {info, models, z0, steps} | epoch {...}
//               | eval {id, result} | rollouts {req, z0, truth, models} | running {running}
//               | evaluating (the last epoch is trained, the final evaluation runs) | done
//               | checkpoint {...} | exported {...} | structure {req, result} | structure_failed {req, message}
//               | models {removed[], added[]} | notice {level, message} | fatal {message}

import init, * as pl from "./pkg/phaselab_wasm.js";

let pg = null;
let settings = null;
let models = []; // {id, kind, member (seed index), checkpoint, epoch, done, failed, evaluatedAt, n_params}
let running = false;
let rr = 0; // round-robin cursor
let round = { trainSeconds: 0, epochs: 0 };
let evalEvery = 5; // rounds between evaluations (adapted)
let roundsSinceEval = 0;
let z0 = null;
let steps = 0;
let info = null;
let rolloutReq = 0;

let run = 0; // the page's run id (from its latest configure that has been carried out)
const post = (msg, transfer) => self.postMessage({ run, ...msg }, transfer || []);
const message = (e) => (e && e.message) ? e.message : String(e);
const notice = (level, text) => post({ type: "notice", level, message: text });

// One queue for everything that touches the Playground.
let chain = Promise.resolve();
function serial(fn) {
  const p = chain.then(fn);
  chain = p.catch(() => {});
  return p.catch((e) => notice("error", message(e)));
}

// A macrotask yield (not clamped like nested setTimeout(0)).
function tick() {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(0);
  });
}

// What WebGPU adapter this browser offers, for "auto": -> {ok, software, name, reason}.
// A software adapter (SwiftShader, llvmpipe, lavapipe, Microsoft Basic Render Driver, or any adapter
// that says it is a fallback) is slower than the CPU path, so auto does not pick it.
const SOFTWARE = [/swiftshader/i, /llvmpipe/i, /lavapipe/i, /microsoft basic render/i, /softpipe/i];
async function probeAdapter() {
  try {
    if (!self.navigator || !self.navigator.gpu) return { ok: false, reason: "this browser has no WebGPU" };
    const a = await self.navigator.gpu.requestAdapter();
    if (!a) return { ok: false, reason: "no WebGPU adapter" };
    let info = a.info || null;
    if (!info && typeof a.requestAdapterInfo === "function") {
      try {
        info = await a.requestAdapterInfo();
      } catch (_) {
        info = null;
      }
    }
    info = info || {};
    const fields = [info.architecture, info.vendor, info.device, info.description].map((x) => String(x || "").trim());
    const text = fields.filter(Boolean).join(" ");
    const hit = SOFTWARE.map((re) => text.match(re)).find(Boolean);
    const fallback = info.isFallbackAdapter === true || a.isFallbackAdapter === true;
    const name = hit ? ({ swiftshader: "SwiftShader", llvmpipe: "llvmpipe", lavapipe: "lavapipe", softpipe: "softpipe" }[hit[0].toLowerCase()] || hit[0])
      : (info.description || [info.vendor, info.architecture].filter(Boolean).join(" ") || "");
    if (hit || fallback) return { ok: true, software: true, name: name || "fallback adapter", reason: `WebGPU adapter is software — ${name || "fallback adapter"}` };
    return { ok: true, software: false, name, reason: `hardware WebGPU adapter${name ? " — " + name : ""}` };
  } catch (e) {
    return { ok: false, reason: `WebGPU adapter request failed (${message(e)})` };
  }
}

async function start(msg) {
  await init(msg.module ? { module_or_path: msg.module } : undefined);
  const want = msg.backend || "auto";
  let note = null;
  let noteDetail = null;
  let why = want === "auto" ? null : "chosen";
  let tryGpu = want === "webgpu";
  if (want === "auto") {
    const probe = await probeAdapter();
    why = probe.reason;
    tryGpu = probe.ok && !probe.software;
  }
  if (tryGpu) {
    try {
      pg = await pl.Playground.create("webgpu");
    } catch (e) {
      // wgpu's message runs to several lines: its first line in words, the whole under "details"
      const first = message(e).split("\n")[0].slice(0, 120);
      note = `WebGPU did not start here (${first}): training on the CPU instead.`;
      why = "WebGPU did not start";
      noteDetail = message(e);
    }
  }
  if (!pg) pg = await pl.Playground.create("cpu");
  post({ type: "ready", backend: pg.backend(), requested: want, reason: why, notice: note, detail: noteDetail, version: pl.version() });
}

function trainable() {
  return models.filter((m) => !m.checkpoint && !m.done && !m.failed);
}

async function configure(msg) {
  run = msg.run || 0;
  settings = msg.settings;
  const sj = JSON.stringify(settings);
  pg.clear();
  models = [];
  rr = 0;
  roundsSinceEval = 0;
  round = { trainSeconds: 0, epochs: 0 };
  evalEvery = Math.max(1, Math.min(10, Math.round((settings.epochs || 100) / 20)));
  try {
    info = JSON.parse(msg.dataset ? pg.set_dataset(msg.dataset, sj) : pg.set_system(sj));
  } catch (e) {
    post({ type: "configure_failed", dataset: !!msg.dataset, message: message(e) });
    return;
  }
  for (const kind of settings.models) addMembers(kind);
  const ckptInfos = [];
  for (const c of msg.checkpoints || []) {
    try {
      const ci = JSON.parse(pg.add_checkpoint(c.bytes));
      models.push({ id: ci.id, key: c.key, kind: ci.kind, checkpoint: true, name: c.name, epoch: ci.trained_epochs || 0, done: true, failed: false, evaluatedAt: -1, n_params: ci.n_params });
      ckptInfos.push({ key: c.key, info: ci });
    } catch (e) {
      post({ type: "checkpoint_failed", key: c.key, name: c.name, message: message(e) });
    }
  }
  z0 = Array.from(pg.test_state(0));
  // the page's clicked initial condition (from its URL): (q1, v1), the other coordinates kept
  const ic = msg.ic;
  if (Array.isArray(ic) && ic.length === 2 && ic.every(Number.isFinite) && z0.length >= 2) {
    z0[0] = ic[0];
    z0[info.dof] = ic[1];
  }
  steps = info.test_steps;
  post({ type: "configured", info, z0, steps, checkpoints: ckptInfos,
    models: models.map(modelInfo) });
  await rollouts(); // the truth appears at once
  for (const m of models.filter((m) => m.checkpoint)) await evaluateModel(m);
  if (models.some((m) => m.checkpoint)) await rollouts();
}

// The page switched models on or off: drop those no longer wanted, add the new ones, and leave the
// other models' runs as they are.
async function setModels(kinds) {
  if (!pg || !settings) return;
  settings = { ...settings, models: kinds };
  const removed = models.filter((m) => !m.checkpoint && !kinds.includes(m.kind));
  for (const m of removed) pg.remove_model(m.id);
  models = models.filter((m) => !removed.includes(m));
  const added = [];
  for (const kind of kinds) {
    if (!models.some((m) => !m.checkpoint && m.kind === kind)) added.push(...addMembers(kind));
  }
  rr = 0;
  post({ type: "models", removed: removed.map((m) => m.id), added: added.map(modelInfo) });
  await rollouts();
}

// What the page is told of a model; `member` is its seed's index among its kind's runs.
function modelInfo(m) {
  return { id: m.id, kind: m.kind, checkpoint: m.checkpoint, name: m.name || null, epoch: m.epoch, n_params: m.n_params, member: m.member || 0 };
}

// settings.seeds runs of `kind` (seeds seed, seed + 1, ...: other weights and minibatch order, the
// same data), trained side by side; -> the new models.
function addMembers(kind) {
  const added = [];
  for (let j = 0; j < Math.max(1, settings.seeds || 1); j++) {
    try {
      const id = pg.add_model(kind, JSON.stringify({ ...settings, seed: settings.seed + j }));
      const m = { id, kind, member: j, checkpoint: false, epoch: 0, done: false, failed: false, evaluatedAt: -1, n_params: pg.n_params(id) };
      models.push(m);
      added.push(m);
    } catch (e) {
      post({ type: "model_refused", kind, message: message(e) });
      break;
    }
  }
  return added;
}

async function evaluateModel(m) {
  const t0 = performance.now();
  const r = JSON.parse(await pg.evaluate(m.id));
  m.evaluatedAt = m.epoch;
  post({ type: "eval", id: m.id, epoch: m.epoch, result: r });
  return (performance.now() - t0) / 1000;
}

async function rollouts(req) {
  if (!pg || !info || !z0) return;
  const zf = new Float64Array(z0);
  let truth = null;
  if (info.has_truth) {
    try {
      truth = pg.truth(zf, steps);
    } catch (e) {
      notice("warn", `ground truth: ${message(e)}`);
    }
  }
  const out = {};
  const transfer = truth ? [truth.buffer] : [];
  for (const m of models) {
    if (m.epoch === 0 && !m.checkpoint) continue; // an untrained model's rollout says nothing
    if (m.member) continue; // one rollout per model kind: its first seed's
    try {
      const r = await pg.rollout(m.id, zf, steps);
      out[m.id] = r;
      transfer.push(r.buffer);
    } catch (e) {
      out[m.id] = null;
    }
  }
  post({ type: "rollouts", req: req ?? rolloutReq, z0, truth, models: out }, transfer);
}

// Evaluates the models (those not evaluated at their current epoch when onlyStale), then rolls
// them out for the phase portrait and the animation; -> seconds spent.
async function evaluateAll(onlyStale) {
  const t0 = performance.now();
  for (const m of models) {
    if (onlyStale && m.evaluatedAt === m.epoch) continue;
    if (!m.checkpoint && m.epoch === 0) continue;
    await evaluateModel(m);
    await tick();
  }
  await rollouts();
  return (performance.now() - t0) / 1000;
}

// One epoch of model m, reported to the page; -> its wall-clock seconds (0 when it failed).
async function trainEpoch(m) {
  try {
    const t0 = performance.now();
    const r = JSON.parse(await pg.train_epoch(m.id));
    const wall = (performance.now() - t0) / 1000;
    m.epoch = r.epoch;
    m.done = !!r.done;
    post({ type: "epoch", id: m.id, epoch: r.epoch, loss: r.loss, lr: r.lr, seconds: wall, done: m.done });
    return wall;
  } catch (e) {
    m.failed = true;
    post({ type: "model_failed", id: m.id, message: message(e) });
    return 0;
  }
}

// One epoch of the next model in round-robin order; evaluations every few rounds; `done` at the end.
async function trainOne() {
  const todo = trainable();
  if (todo.length === 0) {
    await finish();
    return;
  }
  const m = todo[rr % todo.length];
  rr = (rr + 1) % Math.max(1, todo.length);
  round.trainSeconds += await trainEpoch(m);
  if (rr === 0) {
    // a full round: maybe evaluate
    roundsSinceEval += 1;
    const remaining = trainable();
    if (remaining.length > 0 && roundsSinceEval >= evalEvery) {
      const trainSecs = round.trainSeconds;
      const evalSecs = await evaluateAll(true);
      // keep evaluation under about a fifth of the time
      if (evalSecs > 0.25 * trainSecs) evalEvery = Math.min(200, evalEvery * 2);
      roundsSinceEval = 0;
      round.trainSeconds = 0;
    }
  }
  if (trainable().length === 0) await finish();
}

async function finish() {
  if (!running && !stepping) return;
  running = false;
  post({ type: "evaluating" });
  await evaluateAll(true);
  post({ type: "done" });
  post({ type: "running", running: false });
}

let pumping = false;
let stepping = false;
function pump() {
  if (!running || pumping) return;
  pumping = true;
  tick().then(() => {
    if (!running) {
      pumping = false;
      return;
    }
    serial(trainOne).then(() => {
      pumping = false;
      pump();
    });
  });
}

async function stepRound() {
  const todo = trainable();
  if (todo.length === 0) {
    post({ type: "running", running: false });
    return;
  }
  stepping = true;
  for (const m of todo) {
    await trainEpoch(m);
  }
  rr = 0;
  if (trainable().length === 0) await finish();
  else await evaluateAll(true);
  stepping = false;
}

self.onmessage = (ev) => {
  const msg = ev.data || {};
  switch (msg.type) {
    case "init":
      serial(() => start(msg)).then(() => {
        if (!pg) post({ type: "fatal", message: "could not start the compute worker" });
      });
      break;
    case "configure":
      serial(() => configure(msg));
      break;
    case "play":
      if (!running) {
        running = true;
        post({ type: "running", running: true });
      }
      pump();
      break;
    case "pause":
      if (running) {
        running = false;
        post({ type: "running", running: false });
      }
      break;
    case "step":
      if (running) {
        running = false;
        post({ type: "running", running: false });
      }
      serial(stepRound);
      break;
    case "rollout":
      if (msg.z0) z0 = Array.from(msg.z0);
      rolloutReq = msg.req || 0;
      serial(() => rollouts(msg.req));
      break;
    case "evaluate":
      serial(() => evaluateAll(false));
      break;
    case "checkpoint":
      serial(async () => {
        if (models.some((x) => x.key === msg.key)) return; // a configure since has added it
        let ci;
        try {
          ci = JSON.parse(pg.add_checkpoint(msg.bytes));
        } catch (e) {
          post({ type: "checkpoint_failed", key: msg.key, name: msg.name, message: message(e) });
          return;
        }
        const m = { id: ci.id, key: msg.key, kind: ci.kind, checkpoint: true, name: msg.name, epoch: ci.trained_epochs || 0, done: true, failed: false, evaluatedAt: -1, n_params: ci.n_params };
        models.push(m);
        post({ type: "checkpoint", key: msg.key, info: ci, model: { id: m.id, kind: m.kind, checkpoint: true, name: m.name, epoch: m.epoch, n_params: m.n_params } });
        await evaluateModel(m);
        await rollouts();
      });
      break;
    case "models":
      serial(() => setModels(msg.kinds || []));
      break;
    case "structure":
      // what the models learned along q_coordinate (JSON text); a rejection (no known system, data
      // with controls) goes back as structure_failed for the view to show, not as an error notice
      serial(async () => {
        try {
          const result = await pg.structure(new Uint32Array(msg.ids || []), msg.coordinate || 0);
          post({ type: "structure", req: msg.req, result });
        } catch (e) {
          post({ type: "structure_failed", req: msg.req, message: message(e) });
        }
      });
      break;
    case "export":
      serial(async () => {
        const m = models.find((x) => x.id === msg.id);
        const bytes = await pg.export_checkpoint(msg.id);
        post({ type: "exported", id: msg.id, kind: m ? m.kind : "model", bytes }, [bytes.buffer]);
      });
      break;
    default:
      notice("warn", `worker: unknown message ${msg.type}`);
  }
};

self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  notice("error", message(e.reason));
});
