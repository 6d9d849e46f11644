// The structure view (#card-structure): what each model learned along one coordinate q_c, at rest,
// against the true system: potential V(q), inverse mass (M^-1)_cc, force and acceleration at rest,
// one panel each (the core's Playground::structure panels, painted like every plot by plots.js).
// Asked of the worker when the run is done, when the coordinate changes and on "draw now";
// where the worker cannot (a dataset of no known system, data with controls) the view says why.

import { $, S, ordered } from "./page.js";
import { paint } from "./plots.js";

let requestHandler = () => {};
let req = 0; // the latest request; older answers are dropped
let last = null; // {result, models} of the latest answer, for redraws
let pending = []; // the models of the latest request, in its order (the answer's slices follow it)

/** What a structure request does ({ids, coordinate, req}: set by main.js, which posts it to the worker). */
export function onStructureRequest(fn) {
  requestHandler = fn;
}

function setState(state, text) {
  const box = $("structure-panels");
  box.dataset.state = state;
  if (text !== undefined) {
    const p = document.createElement("p");
    p.className = "structure-note";
    p.textContent = text;
    box.replaceChildren(p);
    box.dataset.panels = "0";
    $("structure-gauge").textContent = "";
  }
}

/** A new run: the coordinate picker q1..qD (counted as the phase portrait counts) and an empty view. */
export function resetStructure() {
  req += 1;
  last = null;
  const sel = $("structure-coord");
  const D = S.info ? S.info.dof : 0;
  const keep = Number(sel.value) || 0;
  sel.replaceChildren(...Array.from({ length: D }, (_, c) => {
    const o = document.createElement("option");
    o.value = String(c);
    o.textContent = `q${c + 1}`;
    return o;
  }));
  sel.value = String(keep < D ? keep : 0);
  sel.disabled = D <= 1;
  setState("idle", "drawn when training ends (or press draw now): each model's potential, inverse mass, force and acceleration at rest, and its acceleration moving (where drag shows), against the true system's");
}

// The models to show: trained (or loaded) ones, in the page's order.
function models() {
  return ordered().filter((m) => m.checkpoint || m.epoch > 0);
}

/** Asks the worker for the structure of the trained models along the chosen coordinate. */
export function requestStructure() {
  if (!S.info) return;
  const ms = models();
  if (!ms.length) {
    setState("idle", "the structure view appears once a model has trained an epoch");
    return;
  }
  req += 1;
  const coordinate = Number($("structure-coord").value) || 0;
  setState("loading");
  $("structure-panels").setAttribute("aria-busy", "true");
  $("structure-panels").dataset.req = String(req);
  requestHandler({ type: "structure", ids: ms.map((m) => m.id), coordinate, req });
  pending = ms;
}

/** The worker's answer {req, result (JSON text)}. */
export function showStructure(m) {
  if (m.req !== req) return;
  $("structure-panels").removeAttribute("aria-busy");
  let result;
  try {
    result = JSON.parse(m.result);
  } catch (e) {
    setState("unavailable", `the structure could not be read: ${e.message}`);
    return;
  }
  last = { result, models: pending };
  draw();
}

/** The worker could not take the slice (a dataset of unknown system, data with controls): say so in the view. */
export function structureFailed(m) {
  if (m.req !== req) return;
  $("structure-panels").removeAttribute("aria-busy");
  last = null;
  setState("unavailable", `No structure view for this run: ${m.message}.`.replace(/\.\.$/, "."));
}

// Which slice field a panel shows, from its title (the core's structure_panels order and titles).
const QUANTITIES = [["potential", "potential"], ["inverse mass", "inverse_mass"], ["force", "force"], ["acceleration", "acceleration"], ["moving", "moving"]];

/** (Re)paints the latest answer: one canvas per panel, two a row; the gauge sentence. */
export function redrawStructure() {
  if (last) draw();
}

function draw() {
  const { result, models: ms } = last;
  const slices = result.slices || [];
  const panels = result.panels || [];
  const box = $("structure-panels");
  if (!panels.length) {
    setState("unavailable", "these models have no structure to show");
    return;
  }
  const canvases = panels.map((spec, i) => {
    let c = box.querySelector(`canvas[data-panel="${i}"]`);
    if (!c) {
      c = document.createElement("canvas");
      c.className = "plot";
      c.dataset.panel = String(i);
      c.setAttribute("role", "img");
    }
    // the page's series names for its models (a loaded checkpoint: "hnn (checkpoint)", as in the other plots)
    const q = QUANTITIES.find(([prefix]) => spec.title.startsWith(prefix));
    const owners = q ? slices.map((s, k) => (s[q[1]] ? ms[k] : null)).filter(Boolean) : [];
    let k = 0;
    for (const s of spec.series) {
      if (s.name === "truth") continue;
      const owner = owners[k++];
      if (owner) s.name = owner.series;
    }
    spec.legend = "above";
    c.dataset.title = spec.title;
    c.dataset.xLabel = spec.x_label || "";
    c.dataset.names = spec.series.map((s) => s.name).join(",");
    c.setAttribute("aria-label", `${spec.title}: truth and ${spec.series.length - 1} learned curves`);
    return c;
  });
  box.replaceChildren(...canvases);
  box.dataset.panels = String(panels.length);
  box.dataset.coordinate = String(slices[0] ? slices[0].coordinate : "");
  // k only for the models it was fitted for (a learned V or inverse mass); what the slice could
  // not show, in words (the core's notes: singular points, a held angle moved off a pole)
  const gauges = slices.map((s, i) => (s.gauge_fitted ? `${ms[i] ? ms[i].label : s.model} k = ${fmtK(s.gauge)}` : null)).filter(Boolean);
  const notes = [...new Set(slices.flatMap((s) => s.notes || []))];
  $("structure-gauge").textContent = (gauges.length
    ? "A learned H is defined only up to a factor (and V up to a constant), so the learned curves " +
      `are rescaled into the truth's gauge by the fitted k: ${gauges.join(", ")}.`
    : "") + notes.map((n) => ` ${n[0].toUpperCase()}${n.slice(1)}.`).join("");
  setState("drawing");
  Promise.all(panels.map((spec, i) => paint(canvases[i], spec, spec.title))).then(() => {
    if (last && box.contains(canvases[0])) setState("drawn");
  });
}

function fmtK(k) {
  return Number.isFinite(k) ? Number(k.toPrecision(3)).toString() : "–";
}
