// The playground page (main thread): loads the wasm module and wires the modules together:
// settings and URL state (settings.js), the worker client (client.js), plots (plots.js), the
// metrics table (table.js) with the verdict line (verdict.js), the structure view (structure.js),
// the animation (anim.js) and file loading (files.js).

import { $, S, pl, setWasm, errText, notice, dropNotices, DRAG_STORY, CONSTRAINTS_STORY } from "./page.js";
import { applyHash, buildModelToggles, buildPicker, clamp, hashIsCurrent, presetOn, readField, renderSettings, settingsNotice, writeHash } from "./settings.js";
import { startWorker, reset, play, pause, post, setInitial, setModels } from "./client.js";
import { markDirty, phasePoint } from "./plots.js";
import { onExport, updateTableHint } from "./table.js";
import { startAnimation } from "./anim.js";
import { wireFiles } from "./files.js";
import { onStructureRequest, redrawStructure, requestStructure } from "./structure.js";

window.addEventListener("error", (e) => {
  notice("error", `unexpected error: ${errText(e.error || e.message)}`);
});
window.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  notice("error", `unexpected error: ${errText(e.reason)}`);
});

// Apply new settings (from the UI): clamp, notice, URL, restart the run.
function updateSettings(patch, { restartWorker = false } = {}) {
  // a notice about a field the user has now set is out of date
  dropNotices(Object.keys(patch));
  const { settings, notices } = clamp({ ...S.settings, ...patch });
  for (const n of notices) settingsNotice(n);
  const backendChanged = settings.backend !== S.settings.backend;
  if (settings.system !== S.settings.system) S.ic = null; // another state space: start from its test set again
  S.settings = settings;
  renderSettings();
  writeHash();
  S.wantRunning = !S.userPaused;
  if (restartWorker || backendChanged) startWorker();
  else reset();
}

// Models switched on or off: the settings and URL change, the other models' runs go on.
function changeModels(chosen) {
  const { settings, notices } = clamp({ ...S.settings, models: chosen });
  for (const n of notices) notice("warn", n);
  S.settings = settings;
  renderSettings();
  writeHash();
  setModels(settings.models);
}

/** Play or Step once the run has trained its epochs: say what to do instead of doing nothing. */
function afterTheEnd() {
  const e = S.settings.epochs;
  notice("info", `this run is done (${e} of ${e} epochs): press reset (↺) to train it again, or set more epochs in the settings to train longer`, { timeout: 12000 });
  $("reset").classList.add("nudge");
  setTimeout(() => $("reset").classList.remove("nudge"), 3000);
}

function wire() {
  $("play").addEventListener("click", () => {
    if (S.done) {
      afterTheEnd();
      return;
    }
    if (S.wantRunning) {
      S.userPaused = true;
      pause();
    } else {
      S.userPaused = false;
      play();
    }
  });
  $("step").addEventListener("click", () => {
    if (S.done) {
      afterTheEnd();
      return;
    }
    S.wantRunning = false;
    S.userPaused = true;
    post({ type: "step" });
  });
  $("reset").addEventListener("click", () => {
    S.wantRunning = !S.userPaused;
    reset();
  });
  for (const el of document.querySelectorAll("#settings [data-key]")) {
    el.addEventListener("change", () => {
      const patch = readField(el);
      if (patch) updateSettings(patch);
    });
  }
  // narrow screens: the settings fold behind one button below the plots
  $("settings-toggle").addEventListener("click", () => {
    const open = $("settings").classList.toggle("open");
    $("settings-toggle").setAttribute("aria-expanded", String(open));
  });
  $("backend").addEventListener("change", () => updateSettings({ backend: $("backend").value }, { restartWorker: true }));
  wireFiles();
  onExport((id) => post({ type: "export", id }));
  // the structure view: asked of the worker at the end of a run, on a new coordinate or on demand
  onStructureRequest((msg) => post(msg));
  $("structure-coord").addEventListener("change", () => requestStructure());
  $("structure-draw").addEventListener("click", () => requestStructure());
  $("share").addEventListener("click", async () => {
    writeHash();
    try {
      await navigator.clipboard.writeText(location.href);
      // a loaded dataset (or checkpoint) is a file, which no link can carry
      const files = S.dataset ? "the loaded dataset" : S.checkpoints.length ? "the loaded checkpoint" : null;
      notice("info", files
        ? `link copied: it holds the settings, but not ${files}, which a link cannot carry; share the file beside it`
        : "link copied: it reproduces this run", { timeout: 6000 });
    } catch (_) {
      notice("info", `link: ${location.href}`, { timeout: 15000 });
    }
  });
  // the phase portrait: a click (or the arrow keys) restarts every rollout from a new (q1, v1)
  $("plot-phase").addEventListener("click", (ev) => {
    const p = phasePoint(ev);
    if (p) setInitial(p[0], p[1]);
  });
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
  window.addEventListener("hashchange", () => {
    if (hashIsCurrent()) return;
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
    resizeTimer = setTimeout(() => {
      markDirty("loss", "gerr", "energy", "herr", "phase");
      redrawStructure();
      updateTableHint();
    }, 150);
  }).observe(document.querySelector(".layout")); // (.views has no box of its own on a phone)
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
    setWasm(mod);
    S.module = module;
    S.defaults = JSON.parse(pl.default_settings());
    S.systems = JSON.parse(pl.playground_systems());
    const kinds = JSON.parse(pl.model_kinds());
    S.kinds = kinds.filter((k) => k.playground);
  } catch (e) {
    notice("error", `the playground could not start: ${errText(e)}`);
    document.body.dataset.state = "error";
    return;
  }
  $("version").textContent = `phaselab ${pl.version()}`;
  buildModelToggles(changeModels);
  buildPicker((sys) => {
    const spec = sys.spec;
    const preset = presetOn(S.settings);
    // already the system (and the same tile): keep the run
    if (!S.dataset && spec === S.settings.system && (sys.preset || null) === (preset ? preset.preset : null)) return;
    if (S.dataset) S.dataset = null;
    // A preset brings its models; leaving it for its own system's plain tile brings the defaults.
    let models = sys.models ? [...sys.models] : preset && spec === preset.spec ? [...S.defaults.models] : S.settings.models;
    // On a drag system the paper's remedy, HNN + forcing, trains beside the HNN by default; on
    // the drag preset also the port-Hamiltonian HNN, whose learned damping can only remove energy.
    if (sys.drag && !models.includes("hnn-forced")) models = [...models, "hnn-forced"];
    if (sys.drag_preset && !models.includes("port-hnn")) models = [...models, "port-hnn"];
    // (longer than the preset's run, so that it is there while the run shows it)
    if (sys.drag_preset) notice("info", DRAG_STORY, { timeout: 40000 });
    if (sys.preset === "constraints") notice("info", CONSTRAINTS_STORY, { timeout: 40000 });
    updateSettings({ system: spec, models });
  });
  applyHash();
  renderSettings();
  wire();
  startAnimation();
  markDirty("loss", "gerr", "energy", "herr", "phase");
  S.wantRunning = true;
  startWorker();
}

main();
