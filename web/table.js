// The metrics table (#metrics): one row per model with its epoch, loss, rollout and energy errors,
// parameters and time per epoch; the rows' data-* attributes are the tests' read-only hooks. The
// lowest value of each lower-is-better column (loss, rollout error, energy error) is bold and
// carries data-best="1"; parameters and time per epoch are costs, not scores, and are not marked.

import { S, ordered, members, modelSwatch, seedStats, gerrOf, onBodyPoints } from "./page.js";

let exportHandler = () => {};

/** What a row's "export" button does with the model's id (set by main.js: ask the worker). */
export function onExport(fn) {
  exportHandler = fn;
}

export function fmt(x, digits = 3) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)) return x.toExponential(digits - 1);
  return Number(x.toPrecision(digits)).toString();
}

/** New rows for the current models (after a configure or a loaded checkpoint), then their values. */
export function rebuildTable() {
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
    b.addEventListener("click", () => exportHandler(m.id));
    act.append(b);
    tr.append(act);
    tbody.append(tr);
  }
  updateTable();
}

/** Say when the table is wider than its card (a phone) and has to be scrolled sideways. */
export function updateTableHint() {
  const wrap = document.querySelector("#card-metrics .table-wrap");
  const hint = document.getElementById("table-hint");
  if (wrap && hint) hint.hidden = !(wrap.scrollWidth > wrap.clientWidth + 1);
}

/** The rows' values from the models' view states. */
export function updateTable() {
  const head = document.getElementById("gerr-head");
  if (head) {
    const points = onBodyPoints();
    head.textContent = points ? "rollout err (body points)" : "rollout err";
    head.title = points
      ? "geometric-mean relative rollout error of the system's body points (models in angles mapped through x(q)), the scale on which models in both coordinates compare"
      : "geometric-mean relative rollout error";
  }
  for (const tr of document.querySelectorAll("#metrics tbody tr")) {
    const m = S.models.get(Number(tr.dataset.id));
    if (!m) continue;
    const set = (c, text) => {
      tr.querySelector(`.c-${c}`).textContent = text;
    };
    // a model trained with several seeds: the mean over them, ± their standard deviation (the
    // cell says "SD"; docs/results' pages give ± standard errors, and say so)
    const runs = members(m);
    const epoch = Math.min(...runs.map((x) => x.epoch));
    const failed = runs.some((x) => x.failed);
    const [loss, gerr, herr, ms] = BEST_GETTERS.map((get) => seedStats(m, get));
    // a seed without a value (diverged) is left out of the mean, and the cell says so
    const meanSd = (st) => (!st ? "–" : (st.n > 1 ? `${fmt(st.mean)} ± ${fmt(st.sd, 2)} SD` : fmt(st.mean)) +
      (st.n < runs.length && runs.every((x) => x.eval) ? ` (${st.n} of ${runs.length} seeds ⚠)` : ""));
    set("epoch", String(epoch) + (failed ? " ⚠" : ""));
    set("loss", meanSd(loss));
    set("gerr", meanSd(gerr));
    set("herr", meanSd(herr));
    set("params", m.n_params ? Number(m.n_params).toLocaleString("en") : "–");
    set("ms", ms ? fmt(ms.mean, 3) : "–");
    tr.dataset.epoch = String(epoch);
    tr.dataset.seeds = String(runs.length);
    if (loss) tr.dataset.loss = String(loss.mean);
    if (m.firstLoss !== null) tr.dataset.firstLoss = String(m.firstLoss);
    if (gerr) {
      tr.dataset.gerr = String(gerr.mean);
      tr.dataset.gerrSd = String(gerr.sd);
      if (herr) tr.dataset.herr = String(herr.mean);
      tr.dataset.evalEpoch = String(Math.min(...runs.map((x) => x.evalEpoch)));
    }
    if (m.eval) {
      // the energy's change along held-out trajectory 0, learned (first seed) and true
      const change = (e) => (Array.isArray(e) && e.length > 1 ? e.at(-1)[1] - e[0][1] : null);
      const [de, dt] = [change(m.eval.energy), change(m.eval.truth_energy)];
      if (Number.isFinite(de)) tr.dataset.energyChange = String(de);
      if (Number.isFinite(dt)) tr.dataset.truthEnergyChange = String(dt);
    }
    tr.classList.toggle("failed", failed);
  }
  markBest();
  updateTableHint();
}

// loss, rollout error, energy error and ms per epoch of one run
const BEST_GETTERS = [(x) => x.loss, (x) => gerrOf(x.eval), (x) => (x.eval ? x.eval.herr : null), (x) => x.ms];

// The columns where lower is better, with each model's full-precision value (mean over seeds).
const BEST_COLUMNS = {
  loss: (m) => seedStats(m, BEST_GETTERS[0])?.mean,
  gerr: (m) => seedStats(m, BEST_GETTERS[1])?.mean,
  herr: (m) => seedStats(m, BEST_GETTERS[2])?.mean,
};

/** Bold + data-best="1" on the lowest value of each BEST_COLUMNS column (with two values or more). */
function markBest() {
  const trs = [...document.querySelectorAll("#metrics tbody tr")];
  for (const [c, get] of Object.entries(BEST_COLUMNS)) {
    const vals = trs.map((tr) => {
      const m = S.models.get(Number(tr.dataset.id));
      const v = m ? get(m) : null;
      return typeof v === "number" && Number.isFinite(v) ? v : null;
    });
    const present = vals.filter((v) => v !== null);
    const best = present.length >= 2 ? Math.min(...present) : null;
    trs.forEach((tr, i) => {
      const td = tr.querySelector(`.c-${c}`);
      const on = best !== null && vals[i] === best;
      td.classList.toggle("best", on);
      if (on) {
        td.dataset.best = "1";
        td.title = "lowest in this column";
      } else {
        delete td.dataset.best;
        td.removeAttribute("title");
      }
    });
  }
}
