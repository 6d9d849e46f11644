// Shared by every module of the page (main thread): the page's state S, the wasm module (pl),
// DOM lookups, error text and the notices.

// The models the page offers, their order, labels and descriptions come from the core
// (pl.model_kinds, ModelKind::PLAYGROUND), filled in (S.kinds) once the wasm module has loaded.

export const $ = (id) => document.getElementById(id);
export const errText = (e) => (e && e.message) ? e.message : String(e);

export let pl = null; // the wasm module

export function setWasm(mod) {
  pl = mod;
}

export const S = {
  module: null,
  defaults: null,
  systems: [],
  kinds: [], // {kind, label, title, constrained} of the page's models, from pl.model_kinds
  settings: null,
  hide: {},
  ic: null, // the clicked initial condition [q1, v1] (in the URL as ic=q1,v1), or null
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

/** Whether `kind` learns on the system's body points with its constraints (CHNN, CLNN, the
 *  constrained NODE+SO), by the core's word (pl.model_kinds). */
export function isConstrained(kind) {
  const k = S.kinds.find((x) => x.kind === kind);
  return !!(k && k.constrained);
}

/** Whether the page scores on body points: a model on it learns on them, so every model's rollout
 *  error is the one on the system's body points (the core's cartesian_gerr: a model in angles is
 *  mapped through x(q)), the one scale on which models in both coordinates compare. */
export function onBodyPoints() {
  return [...S.models.values()].some((m) => isConstrained(m.kind));
}

/** An evaluation's rollout error and its curve on the page's scale (see onBodyPoints). */
export function gerrOf(ev) {
  if (!ev) return null;
  return onBodyPoints() ? ev.cartesian_gerr ?? null : ev.gerr;
}
export function gerrCurveOf(ev) {
  if (!ev) return null;
  return onBodyPoints() ? ev.cartesian_gerr_curve ?? null : ev.gerr_curve;
}

/** One view state per model in the page's order: a kind's first seed (which stands for its
 *  seeds) and each loaded checkpoint. */
export function ordered() {
  return [...S.models.values()].filter((m) => m.checkpoint || !m.member);
}

/** Every seed's run of m's model kind (m alone for a checkpoint). */
export function members(m) {
  if (m.checkpoint) return [m];
  return [...S.models.values()].filter((x) => !x.checkpoint && x.kind === m.kind);
}

/** get(member) over m's seeds: {mean, lo, hi, sd, n} of the finite values (null when none). */
export function seedStats(m, get) {
  const v = members(m).map(get).filter((x) => typeof x === "number" && Number.isFinite(x));
  if (!v.length) return null;
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, lo: Math.min(...v), hi: Math.max(...v), sd, n: v.length };
}

/** A model's colour swatch (dashed for a loaded checkpoint), as in the plots' legends. */
export function modelSwatch(m) {
  const sw = document.createElement("span");
  sw.className = "swatch" + (m.checkpoint ? " dashed" : "");
  sw.style.setProperty("--c", m.colour);
  return sw;
}

/** A banner; `detail` (the raw error, say) goes in a collapsed "details" part. */
export function notice(level, text, { timeout, detail } = {}) {
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
  if (detail && detail !== text) {
    const d = document.createElement("details");
    const sum = document.createElement("summary");
    sum.textContent = "details";
    const pre = document.createElement("code");
    pre.textContent = detail;
    d.append(sum, pre);
    el.append(d);
  }
  const field = fieldOf(text);
  if (field) el.dataset.field = field;
  box.append(el);
  while (box.children.length > 8) box.firstElementChild.remove();
  const t = timeout ?? (level === "info" ? 8000 : 0);
  if (t) setTimeout(() => el.remove(), t);
}

/** The settings field a notice is about ("width -3 is out of range…", "link: lr 'banana'…"), or null. */
function fieldOf(text) {
  const m = /^(?:link: )?([a-z_]+) /.exec(text);
  const keys = S.settings || S.defaults;
  return m && keys && m[1] in keys ? m[1] : null;
}

/** Several notices of one cause (a link's unusable values) as one banner with a line each, so
 *  none pushes the page down or out of the kept eight; each line is about one field. */
export function noticeList(level, title, items) {
  if (!items.length) return;
  if (items.length === 1) {
    notice(level, items[0]);
    return;
  }
  notice(level, title);
  const el = $("notices").lastElementChild;
  const ul = document.createElement("ul");
  for (const t of items) {
    const li = document.createElement("li");
    li.textContent = t;
    const field = fieldOf(t);
    if (field) li.dataset.field = field;
    ul.append(li);
  }
  el.querySelector("span").after(ul);
}

/** The notices (or their lines) about settings fields that have since been set: their cause is gone. */
export function dropNotices(fields) {
  for (const key of fields) {
    for (const el of document.querySelectorAll(`#notices [data-field="${key}"]`)) {
      const banner = el.closest(".notice");
      el.remove();
      if (banner && banner !== el && !banner.querySelector("li")) banner.remove();
    }
  }
}

/** What the "coordinates and constraints" preset asks, in one sentence (a notice when picked). */
export const CONSTRAINTS_STORY = "coordinates and constraints: CHNN, CLNN and a constrained NODE+SO learn the double pendulum " +
  "on its body points with the link lengths given as constraints, beside NODE+SO and the HNN in angles; every rollout error " +
  "is measured on the body points. If the constrained NODE+SO, which has no energy, keeps up with CHNN and CLNN, the " +
  "constraints, not the Hamiltonian, do the work";

/** Why the drag preset is there, in one sentence (its tile's tooltip, and a notice when picked). */
export const DRAG_STORY = "drag preset: an HNN conserves its learned energy, so it cannot dissipate and " +
  "falls behind even the NODE here; HNN + forcing (a learned non-conservative force) and the port-Hamiltonian " +
  "HNN (a learned damping that can only remove energy) are the remedies, and NODE+SO needs none";
