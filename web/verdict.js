// The verdict line (#verdict) above the plots: the models ranked by their live rollout error, and
// what this run says about the paper's claim (second-order structure, not the Hamiltonian's
// symplecticity or energy conservation, is what makes HNNs good: NODE+SO matches the HNN on
// conservative systems and beats it with drag). Recomputed whenever the table is.
// Second-order structure means q's rate is the velocity rather than a free output. phaselab's
// NODE+SO ("node-so", the one the verdict tests) has it through a learned mass matrix:
// dq/dt = M^-1(q) p, dp/dt = MLP(q, p), so that v = M^-1(q) p; the plainest form,
// dq/dt = v, dv/dt = MLP(q, v), is "node-so-direct".
//
// The rule is the core's (crates/phaselab-core/src/experiments/verdict.rs, served by the wasm
// module as `verdict`), so the page and docs/results' claims decide with one implementation and one
// factor (MATCH_FACTOR = 1.5: with one seed a difference counts only when one rollout error is at
// least 1.5 times the other). Here: which models and system go in, and how the line is drawn.
// Model names are the page's display names (the core's labels: NODE, NODE+SO, HNN, ...), and the
// numbers are the table's, formatted by the same fmt.

import { $, S, ordered, pl, seedStats, gerrOf, onBodyPoints } from "./page.js";
import { fmt } from "./table.js";

export const PAPER_URL = "https://arxiv.org/abs/2202.04836";
// The factor within which two errors match, from the core (1.5 until the module is loaded).
const factor = () => (pl && pl.match_factor ? pl.match_factor() : 1.5);
const noise = () => `One seed: a gap under a factor ${factor()} may be noise (raise "seeds per model" to see the spread).`;
// The paper's claim for each kind of system, as the link's text.
const CLAIM = {
  conservative: "second-order structure, not the Hamiltonian, does the work",
  drag: "with drag NODE+SO (and HNN + forcing) beat the HNN, which conserves its learned energy and cannot dissipate",
  controls: "NODE+SO is best on MuJoCo data",
  constraints: "on body points with the constraints given, CHNN and CLNN beat the HNN in angles by 10-1000x (Finzi et al. 2020); phaselab asks whether the constraints or the Hamiltonian do that work",
};
const FINZI_URL = "https://arxiv.org/abs/2010.13581";

/**
 * The verdict for `rows` ({kind, label, gerr, checkpoint}, finite gerr) on a system described by
 * `ctx` ({drag, controls, angular}), by the core's rule. -> {order: rows sorted by gerr, claim,
 * reading}; claim is "supports", "partly", "contradicts", "unresolved" or "incomplete" (models
 * missing to test it).
 */
export function verdictFor(rows, ctx) {
  const models = rows.map((r) => ({ kind: r.kind, label: r.label, gerr: r.gerr, checkpoint: !!r.checkpoint }));
  const v = JSON.parse(pl.verdict(JSON.stringify(models), JSON.stringify(ctx)));
  return { order: v.order.map((i) => rows[i]), claim: v.claim, reading: v.reading };
}

/** What kind of system the run is on: {drag, controls, angular}. */
function context() {
  const info = S.info || {};
  const entry = S.dataset ? null : S.systems.find((s) => s.spec === S.settings?.system);
  const drag = entry ? !!entry.drag && Number(S.settings.drag) > 0 : /-drag\b/.test(String(info.system || ""));
  return { drag, controls: (info.controls || 0) > 0, angular: Array.isArray(info.angular) && info.angular.some(Boolean) };
}

/** #verdict from the models' latest evaluations. */
export function updateVerdict() {
  const box = $("verdict");
  if (!box) return;
  // a model trained with several seeds counts with its mean, and its seeds' range for the noise line
  const rows = ordered().map((m) => ({ m, st: seedStats(m, (x) => (gerrOf(x.eval) > 0 ? gerrOf(x.eval) : null)) }))
    .filter(({ st }) => st)
    .map(({ m, st }) => ({ kind: m.kind, label: m.label, gerr: st.mean, lo: st.lo, hi: st.hi, n: st.n, checkpoint: m.checkpoint }));
  if (!rows.length) {
    box.dataset.claim = "none";
    box.dataset.order = "";
    box.replaceChildren(span("v-wait", "The verdict appears after the first evaluation: which model rolls out best, and what that says about the paper's claim."));
    return;
  }
  const ctx = context();
  const v = verdictFor(rows, ctx);
  box.dataset.claim = v.claim;
  box.dataset.order = v.order.map((r) => r.kind).join(",");
  const epochs = Math.min(...ordered().filter((m) => !m.checkpoint).map((m) => m.evalEpoch).filter((e) => e >= 0), Infinity);
  const when = S.done ? "This run: " : Number.isFinite(epochs) ? `This run so far (epoch ${epochs}): ` : "This run so far: ";
  // models on the page still waiting for their first evaluation are not missing: say so
  const waiting = ordered().filter((m) => !m.checkpoint && !m.failed && !(gerrOf(m.eval) > 0)).map((m) => m.label);
  const reading = v.claim === "incomplete" && waiting.length
    ? `waiting for the first evaluation of ${waiting.join(" and ")}`
    : v.reading;
  const link = document.createElement("a");
  const constraints = !ctx.controls && !ctx.drag && onBodyPoints();
  link.href = constraints ? FINZI_URL : PAPER_URL;
  link.target = "_blank";
  link.rel = "noopener";
  link.textContent = CLAIM[ctx.controls ? "controls" : ctx.drag ? "drag" : constraints ? "constraints" : "conservative"];
  link.title = constraints
    ? "Finzi, Wang, Wilson: Simplifying Hamiltonian and Lagrangian neural networks via explicit constraints (NeurIPS 2020), arXiv:2010.13581"
    : "Gruver, Finzi, Stanton, Wilson: Deconstructing the inductive biases of Hamiltonian neural networks (ICLR 2022), arXiv:2202.04836";
  // the claim first, then what this run shows of it
  // every model on the page is accounted for: those the claim does not speak of, by name
  const read = new Set(ctx.controls ? ["node", "node-so", "hnn-forced"]
    : ctx.drag ? ["node", "node-so", "hnn", "hnn-forced"]
    : constraints ? ["node-so", "hnn", "constrained-node-so", "clnn", "chnn"] : ["node", "node-so", "hnn"]);
  const aside = v.order.filter((r) => !read.has(r.kind)).map((r) => `${r.label} (${fmt(r.gerr)})`);
  box.replaceChildren(
    span("v-claim", constraints ? "The claim: " : "The paper's claim: "),
    link,
    document.createTextNode(". "),
    span("v-when", when),
    span("v-order", v.order.map((r) => `${r.label} ${fmt(r.gerr)}`).join(" < ")),
    document.createTextNode(" rollout error (lower is better): "),
    span(`v-reading ${v.claim}`, reading),
    document.createTextNode(". "),
    ...(aside.length ? [span("v-aside", `Not part of this claim: ${aside.join(", ")}. `)] : []),
    span("v-noise", noiseLine(v.order)),
  );
}

/** How far to trust the ranking: one seed, or whether the two best models' seeds overlap. */
export function noiseLine(order) {
  // the two best of the run's own models (a loaded checkpoint is one run, with no spread)
  const own = order.filter((r) => !r.checkpoint);
  const n = Math.min(...own.map((r) => r.n || 1), Infinity);
  if (!Number.isFinite(n) || n < 2 || own.length < 2) return noise();
  const [a, b] = own;
  const apart = a.hi < b.lo;
  return `Means of ${n} seeds, their range shaded in the plots: ${a.label}'s and ${b.label}'s seeds ` +
    (apart ? "do not overlap." : "overlap, so that gap may be noise.");
}

function span(cls, text) {
  const s = document.createElement("span");
  s.className = cls;
  s.textContent = text;
  return s;
}
