// The plots: loss, rollout error, energy, energy error and phase portrait, drawn by the core's
// plotters code (pl.plot_lines -> SVG) and painted onto their canvases; redraws are batched.

import { $, S, pl, errText, notice, ordered, members, gerrCurveOf, onBodyPoints } from "./page.js";
import { updateTable } from "./table.js";
import { updateVerdict } from "./verdict.js";

const dirty = new Set();
let flushTimer = 0;
let lastFlush = 0;

/** Redraw these views ("loss", "gerr", "energy", "herr", "phase", "table": the table and the verdict line) soon: at most every 250 ms. */
export function markDirty(...names) {
  for (const n of names) dirty.add(n);
  if (flushTimer) return;
  const wait = Math.max(0, 250 - (performance.now() - lastFlush));
  flushTimer = setTimeout(() => {
    flushTimer = 0;
    flush();
  }, wait);
}

/** Redraw the marked views now (every view when `all`); resolves when they are painted. */
export async function flush(all) {
  lastFlush = performance.now();
  const names = all ? ["loss", "gerr", "energy", "herr", "phase", "table"] : [...dirty];
  dirty.clear();
  const jobs = [];
  for (const n of names) {
    try {
      if (n === "table") {
        updateTable();
        updateVerdict();
      } else jobs.push(drawView(n));
    } catch (e) {
      notice("error", `drawing ${n}: ${errText(e)}`);
    }
  }
  await Promise.all(jobs);
}

function finitePoints(points, logY) {
  return points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
}

/** A model's curve over its seeds: get(run) -> [[x, y]] for each run; -> {points: the mean at
 *  each x where every run has a value (a seed that stopped or has no value there ends the curve,
 *  rather than the mean jumping), band: [x, lowest, highest] there with two runs or more}, or null. */
function seedCurve(m, get, logY) {
  const curves = members(m).map(get).filter((c) => Array.isArray(c) && c.length);
  if (!curves.length) return null;
  const byX = new Map();
  for (const c of curves) {
    for (const [x, y] of finitePoints(c, logY)) {
      if (!byX.has(x)) byX.set(x, []);
      byX.get(x).push(y);
    }
  }
  const xs = [...byX.keys()].filter((x) => byX.get(x).length === curves.length).sort((a, b) => a - b);
  const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
  return {
    points: xs.map((x) => [x, mean(byX.get(x))]),
    band: curves.length > 1 ? xs.map((x) => [x, Math.min(...byX.get(x)), Math.max(...byX.get(x))]) : [],
  };
}

/** An error curve over the held-out steps as [t, e]: value i at (i + off) dt, a curve shorter
 *  than the held-out steps aligned to end at the last one. */
function timed(c, dt) {
  const off = S.steps && c.length < S.steps ? S.steps - c.length : 0;
  return c.map((e, i) => [(i + off) * dt, e]);
}

function band(values, factor) {
  const v = values.filter(Number.isFinite);
  if (!v.length) return null;
  let lo = Math.min(...v);
  let hi = Math.max(...v);
  const span = Math.max(hi - lo, 1e-3 * Math.max(Math.abs(lo), Math.abs(hi)), 1e-9);
  return [lo - factor * span, hi + factor * span];
}

/** The energy plot's scale, from the truth and the models together: every model's energy within
 *  100 times the truth's own scale of it is on the plot, so the plot and the table tell the same
 *  story; only a run-away energy beyond that is pinned to the edge (dashed, "off scale"). */
function energyScale(truth, models) {
  const v = truth.filter(Number.isFinite);
  if (!v.length) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const scale = Math.max(hi - lo, 0.25 * Math.max(Math.abs(lo), Math.abs(hi)), 1e-6);
  const [far0, far1] = [lo - 100 * scale, hi + 100 * scale];
  const near = models.filter((x) => Number.isFinite(x) && x >= far0 && x <= far1);
  const m0 = near.length ? Math.min(...near) : lo;
  const m1 = near.length ? Math.max(...near) : hi;
  return [Math.min(lo - 0.1 * scale, m0), Math.max(hi + 0.1 * scale, m1)];
}

const clampTo = (v, b) => (b ? Math.min(b[1], Math.max(b[0], v)) : v);

/** A model's curve split where it leaves the band b: stretches inside drawn as usual (the first
 *  with the legend entry), stretches outside pinned to the band's edge and dashed, without one. */
function offScaleStretches(m, points, b) {
  const out = (h) => !!b && (h < b[0] || h > b[1]);
  const runs = [];
  for (const [t, h] of points) {
    const off = out(h);
    const last = runs.at(-1);
    const p = [t, clampTo(h, b)];
    if (last && last.off === off) last.points.push(p);
    // a new stretch starts from the last point of the one before, so the curve stays unbroken
    else runs.push({ off, points: last ? [last.points.at(-1), p] : [p] });
  }
  const anyOff = runs.some((r) => r.off);
  let labelled = false;
  return runs.map((r) => {
    const first = !labelled;
    labelled = true;
    return {
      name: m.series, dashed: m.checkpoint || r.off, no_legend: !first, points: r.points,
      ...(first && anyOff ? { label: `${legendName(m.series)} (dashed: off scale)` } : {}),
    };
  });
}

/** One curve per model from get(run) -> [[x, y]] over its seeds (mean, with their range as a band),
 *  on a log axis; models without values are left out. */
function seedSeries(get) {
  return ordered()
    .map((m) => ({ name: m.series, dashed: m.checkpoint, ...seedCurve(m, get, true) }))
    .filter((s) => s.points && s.points.length);
}

function specFor(view) {
  const dt = S.info ? S.info.dt : 1;
  const D = S.info ? S.info.dof : 1;
  if (view === "loss") {
    const series = seedSeries((x) => !x.checkpoint && x.losses);
    if (!series.length) return { empty: "the training loss appears after the first epoch" };
    return { title: "", x_label: "epoch", y_label: "training loss", log_y: true, legend: "above", series };
  }
  if (view === "gerr") {
    const series = seedSeries((x) => gerrCurveOf(x.eval) && timed(gerrCurveOf(x.eval), dt));
    if (!series.length) return { empty: "rollout errors appear after the first evaluation" };
    const y_label = onBodyPoints() ? "relative error of the body points" : "relative error";
    return { title: "", x_label: "time (s)", y_label, log_y: true, legend: "above", series };
  }
  if (view === "herr") {
    const series = seedSeries((x) => x.eval && Array.isArray(x.eval.herr_curve) && timed(x.eval.herr_curve, dt));
    if (!series.length) {
      return { empty: S.info && !S.info.has_truth ? "no known energy for this dataset" : "energy errors appear after the first evaluation" };
    }
    return { title: "", x_label: "time (s)", y_label: "relative energy error", log_y: true, legend: "above", series };
  }
  if (view === "energy") {
    const withE = ordered().filter((m) => m.eval && Array.isArray(m.eval.energy) && m.eval.energy.length);
    if (!withE.length) {
      return { empty: S.info && !S.info.has_truth ? "no known energy for this dataset" : "energies appear after the first evaluation" };
    }
    const truthE = (withE.find((m) => Array.isArray(m.eval.truth_energy)) || {}).eval?.truth_energy || [];
    // Models' energies beyond a wide band around the truth's are pinned to its edges, and those
    // stretches are drawn dashed with "(dashed: off scale)" in the legend, so a pinned value does
    // not read as a real one.
    const b = energyScale(truthE.map((p) => p[1]), withE.flatMap((m) => m.eval.energy.map((p) => p[1])));
    const series = [];
    if (truthE.length) series.push({ name: "truth", points: finitePoints(truthE, false) });
    for (const m of withE) series.push(...offScaleStretches(m, finitePoints(m.eval.energy, false), b));
    return { title: "", x_label: "time (s)", y_label: "energy (system units)", log_y: false, legend: "above", series: series.filter((s) => s.points.length) };
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
      title: "", x_label: "q1", y_label: "v1", log_y: false, legend: "above", series: series.filter((s) => s.points.length),
      marker: [S.z0[0], S.z0[D]],
    };
  }
  return { empty: "" };
}

const drawSeq = new WeakMap();

function drawView(view) {
  const canvas = $(`plot-${view}`);
  if (!canvas) return Promise.resolve();
  return paint(canvas, specFor(view), view);
}

/** A series' legend text: a model's page label, keeping any suffix (" (checkpoint)"); else the name. */
export function legendName(name) {
  const base = name.split(" ")[0];
  const kind = S.kinds.find((k) => k.kind === base);
  return kind ? kind.label + name.slice(base.length) : name;
}

/**
 * Paints a plot_lines spec (or {empty: text}) onto `canvas` at its CSS size; resolves when painted.
 * Sets canvas.layout (the plotting area, for clicks), data-drawn="1" and data-series (the number of
 * curves); an empty spec writes its text and data-drawn="0".
 */
export function paint(canvas, spec, what = "plot") {
  const seq = (drawSeq.get(canvas) || 0) + 1;
  drawSeq.set(canvas, seq);
  const rect = canvas.getBoundingClientRect();
  const w = Math.max(200, Math.round(rect.width));
  const h = Math.max(150, Math.round(rect.height));
  const dpr = Math.min(2, window.devicePixelRatio || 1);
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
  // Legends use the page's model names (NODE+SO, not node-so); the core's name keeps the colour.
  const series = spec.series.map((c) => ({ ...c, label: c.label || legendName(c.name) }));
  let out;
  try {
    out = JSON.parse(pl.plot_lines(JSON.stringify({ ...spec, series }), w, h));
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
        canvas.dataset.series = String(spec.series.filter((c) => !c.no_legend).length);
        canvas.dataset.bands = String(spec.series.filter((c) => c.band && c.band.length).length);
        canvas.dataset.legend = series.filter((c) => !c.no_legend).map((c) => c.label).join(",");
        canvas.dataset.legendCorner = out.legend || "";
        // the tests' hooks: the key's box and the plotting area in pixels, the tick labels
        canvas.dataset.legendBox = out.legend_box ? out.legend_box.join(",") : "";
        canvas.dataset.area = out.area.join(",");
        canvas.dataset.xTicks = (out.x_ticks || []).join("|");
        canvas.dataset.yTicks = (out.y_ticks || []).join("|");
      }
      resolve();
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      notice("error", `plot: the ${what} figure could not be drawn`);
      resolve();
    };
    img.src = url;
  });
}

/** A click on the phase portrait in data coordinates [q1, v1]; null outside its plotting area. */
export function phasePoint(ev) {
  const canvas = $("plot-phase");
  const L = canvas.layout;
  if (!L || !S.z0 || !S.info) return null;
  const r = canvas.getBoundingClientRect();
  const px = ((ev.clientX - r.left) / r.width) * L.w;
  const py = ((ev.clientY - r.top) / r.height) * L.h;
  const [left, top, right, bottom] = L.area;
  if (px < left || px > right || py < top || py > bottom) return null;
  const q = L.x[0] + ((px - left) / (right - left)) * (L.x[1] - L.x[0]);
  const v = L.y[1] - ((py - top) / (bottom - top)) * (L.y[1] - L.y[0]);
  return [q, v];
}
