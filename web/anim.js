// The animation: the system drawn from pl.positions (truth and one ghost per model in #anim) and
// the system picker's moving thumbnails, both with the same drawing code (drawBodies).

import { $, S, pl, modelSwatch } from "./page.js";

const TRUTH_COLOUR = "#222831";

/** Drawing coordinates of the truth and of each model's rollout (S.positions), then the legend. */
export function computePositions() {
  S.positions = null;
  if (!S.info) return;
  if (!S.info.has_truth) {
    S.positions = { error: "no motion to draw: these data name no system phaselab simulates" };
    renderAnimLegend();
    return;
  }
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

// Frame k of positions P ([n, bodies, 2] flattened): rods from the pivot through the bodies.
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

// ---------------------------------------------------------------- picker thumbnails

const thumbs = [];

/** Animate picker system s ({spec, bodies, dt, drag}) on canvas: a short simulated trajectory. */
export function addThumbnail(canvas, s) {
  try {
    const traj = pl.simulate(s.spec, BigInt(7), 6);
    thumbs.push({ canvas, spec: s, P: pl.positions(s.spec, traj), bodies: s.bodies, dt: s.dt });
  } catch (e) {
    /* no thumbnail; the tile still works */
  }
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

/** Start both animation loops (the picker's thumbnails, then the motion view). */
export function startAnimation() {
  requestAnimationFrame(thumbFrame);
  requestAnimationFrame(animFrame);
}
