// Browser tests of the playground (node's test runner; headless Debian chromium via playwright-core).
//   node tests/browser/run.mjs            (tests/browser/run.sh installs what it needs and builds www/)
// Environment:
//   PHASELAB_WWW         site to serve (default www/)
//   PHASELAB_BIN         the phaselab CLI (default target/release/phaselab)
//   PHASELAB_CKPT, PHASELAB_TEST_NPZ, PHASELAB_EVAL_JSON
//                        a checkpoint from `phaselab train`, a test set and `phaselab eval`'s report on
//                        them; when unset and PHASELAB_BIN exists, the tests make small ones themselves
//   PHASELAB_BROWSER_TIMEOUT  seconds allowed for the default run to finish (default 600)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { inflateRawSync } from "node:zlib";
import { join } from "node:path";
import { ROOT, WWW, serve, launch, newPage, waitDone, noticeText, metrics } from "./lib.mjs";

const LONG = Number(process.env.PHASELAB_BROWSER_TIMEOUT || 600) * 1000;
const ARTIFACTS = join(ROOT, "tests", "artifacts");
const BIN = process.env.PHASELAB_BIN || join(ROOT, "target", "release", "phaselab");
const VIEWS = ["loss", "gerr", "energy", "herr", "phase"];
// Small runs for the tests that are not about the defaults.
const SMALL = "width=32&depth=2&n_train=16&batch=16&chunk=5&epochs=3&seed=1";

let srv;
let browser;
let cli = null; // {ckpt, npz, evalJson, tmp}

before(async () => {
  assert.ok(existsSync(join(WWW, "pkg", "phaselab_wasm.js")), `${WWW} is not built (web/build.sh)`);
  srv = await serve(WWW);
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.close();
  if (cli && cli.tmp) rmSync(cli.tmp, { recursive: true, force: true });
});

function assertClean(problems, what) {
  assert.deepEqual(problems, [], `${what}: console errors or failed requests:\n${problems.join("\n")}`);
}

async function assertNoErrorNotices(page, what) {
  const errs = await noticeText(page, "error");
  assert.deepEqual(errs, [], `${what}: error notices on the page`);
}

async function drawnViews(page) {
  return page.evaluate((views) => {
    const out = {};
    for (const v of views) out[v] = document.getElementById(`plot-${v}`).dataset.drawn === "1";
    // the animation: some opaque pixels on its canvas, and one ghost per model in its legend
    const c = document.getElementById("anim");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < d.length; i += 4 * 7) if (d[i] > 0) ink++;
    out.anim = ink > 20;
    out.ghosts = document.querySelectorAll("#anim-legend .item").length;
    return out;
  }, VIEWS);
}

// Every drawn plot (the five views and the structure panels): its key lies above its plotting
// area, where it covers no plotted point, and the tick labels of each axis are distinct.
async function checkPlots(page, what, least = 5) {
  const plots = await page.evaluate(() => [...document.querySelectorAll("canvas.plot")]
    .filter((c) => c.dataset.drawn === "1")
    .map((c) => ({ id: c.id || `structure ${c.dataset.title}`, box: c.dataset.legendBox, area: c.dataset.area, x: c.dataset.xTicks, y: c.dataset.yTicks })));
  assert.ok(plots.length >= least, `${what}: only ${plots.length} plots drawn`);
  for (const p of plots) {
    assert.ok(p.box, `${what}, ${p.id}: no key above the plot`);
    const [, , , bottom] = p.box.split(",").map(Number);
    const [, top] = p.area.split(",").map(Number);
    assert.ok(bottom <= top, `${what}, ${p.id}: the key (${p.box}) reaches into the plotting area (${p.area})`);
    for (const [axis, ticks] of [["x", p.x], ["y", p.y]]) {
      const t = ticks.split("|").filter(Boolean);
      assert.ok(t.length >= 2, `${what}, ${p.id}: ${axis} ticks ${ticks}`);
      assert.equal(new Set(t).size, t.length, `${what}, ${p.id}: repeated ${axis} tick labels ${t.join(" ")}`);
    }
  }
}

// A CLI checkpoint + test set + eval report: from the environment, or made here with PHASELAB_BIN.
function cliArtifacts() {
  if (cli) return cli;
  const { PHASELAB_CKPT: ckpt, PHASELAB_TEST_NPZ: npz, PHASELAB_EVAL_JSON: evalJson } = process.env;
  if (ckpt && npz && evalJson) {
    cli = { ckpt, npz, evalJson };
    return cli;
  }
  if (!existsSync(BIN)) return null;
  const tmp = mkdtempSync(join(tmpdir(), "phaselab-browser-"));
  const run = (...args) => execFileSync(BIN, args, { stdio: ["ignore", "pipe", "pipe"], timeout: 600000 });
  run("data", "gen", "--system", "chain-pendulum:2", "--n", "40", "--n-test", "8", "--seconds", "4", "--out", join(tmp, "data"));
  run("train", "--system", "chain-pendulum:2", "--model", "hnn", "--epochs", "5", "--width", "32", "--batch", "16",
    "--data", join(tmp, "data"), "--out", join(tmp, "run"));
  run("eval", join(tmp, "run"), "--data", join(tmp, "data", "test.npz"));
  cli = { ckpt: join(tmp, "run", "model.phaselab"), npz: join(tmp, "data", "test.npz"), evalJson: join(tmp, "run", "eval.json"), tmp };
  return cli;
}

function gerrOf(report) {
  const g = report?.test?.gerr ?? report?.gerr;
  assert.ok(Number.isFinite(g), `no gerr in the eval report: ${JSON.stringify(report).slice(0, 300)}`);
  return g;
}

function close(a, b, tol) {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

// The arrays of an .npz (zip of .npy; stored or deflated; little-endian f4/f8):
// name -> {shape, data: Float64Array}.
function readNpz(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert.ok(eocd >= 0, "not a zip file");
  const entries = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const out = {};
  for (let e = 0; e < entries; e++) {
    assert.equal(buf.readUInt32LE(at), 0x02014b50, "bad zip central directory");
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const nameLen = buf.readUInt16LE(at + 28);
    const local = buf.readUInt32LE(at + 42);
    const name = buf.toString("utf8", at + 46, at + 46 + nameLen);
    at += 46 + nameLen + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const raw = buf.subarray(start, start + size);
    const npy = method === 8 ? inflateRawSync(raw) : raw;
    const v1 = npy[6] === 1;
    const hlen = v1 ? npy.readUInt16LE(8) : npy.readUInt32LE(8);
    const header = npy.toString("latin1", v1 ? 10 : 12, (v1 ? 10 : 12) + hlen);
    const descr = /'descr':\s*'([^']*)'/.exec(header)[1];
    const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").map((x) => x.trim()).filter(Boolean).map(Number);
    if (descr !== "<f4" && descr !== "<f8") continue; // metadata and the like
    const body = npy.subarray((v1 ? 10 : 12) + hlen);
    const w = descr === "<f4" ? 4 : 8;
    const data = new Float64Array(body.length / w);
    for (let i = 0; i < data.length; i++) data[i] = w === 4 ? body.readFloatLE(i * w) : body.readDoubleLE(i * w);
    out[name] = { shape, data };
  }
  return out;
}

// The rollout error (gerr, as crates/phaselab-core/src/metrics/rollout_error.rs defines it) of
// "nothing moves", z(t) = z(0), on every trajectory of the set: the geometric mean over
// trajectories and times t >= 1 of RMS(z(t) - z(0)) / (RMS(z(t)) + RMS(z(0))), floored at 1e-7.
function persistenceGerr(npz) {
  const [n, T, D] = npz["q.npy"].shape;
  const q = npz["q.npy"].data;
  const v = npz["v.npy"].data;
  const z = (i, k) => [...q.subarray((i * T + k) * D, (i * T + k + 1) * D), ...v.subarray((i * T + k) * D, (i * T + k + 1) * D)];
  const rms = (a) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  let logs = 0;
  for (let i = 0; i < n; i++) {
    const z0 = z(i, 0);
    for (let k = 1; k < T; k++) {
      const zk = z(i, k);
      const den = rms(zk) + rms(z0);
      const rel = den === 0 ? 0 : rms(zk.map((x, j) => x - z0[j])) / den;
      logs += Math.log(Math.max(rel, 1e-7));
    }
  }
  return Math.exp(logs / (n * (T - 1)));
}

// The verdict line (#verdict) against the metrics table: the models in the order of their data-gerr,
// named as in the table's first column, with the table's rollout-error text; and the reading the
// page's rule gives for a conservative system with angular coordinates (web/verdict.js: a gap
// counts only when one error is at least 1.5 times the other).
async function checkVerdict(page, { angular = true, system = /system=chain-pendulum:\d/ } = {}) {
  const v = await page.evaluate(() => {
    const box = document.getElementById("verdict");
    return {
      text: box.textContent, claim: box.dataset.claim, order: box.querySelector(".v-order")?.textContent,
      readingClass: box.querySelector(".v-reading")?.className, href: box.querySelector("a")?.href,
      rows: [...document.querySelectorAll("#metrics tbody tr")].map((tr) => ({
        kind: tr.dataset.kind, label: tr.querySelector("th").textContent.trim(),
        gerr: Number(tr.dataset.gerr), gerrText: tr.querySelector(".c-gerr").textContent,
      })),
    };
  });
  assert.ok(v.order, `no ranking in the verdict line: ${v.text}`);
  const shown = v.order.split(" < ").map((p) => {
    const i = p.lastIndexOf(" ");
    return { label: p.slice(0, i), value: p.slice(i + 1) };
  });
  const want = [...v.rows].sort((a, b) => a.gerr - b.gerr);
  assert.deepEqual(shown.map((x) => x.label), want.map((r) => r.label), `the verdict's order is not the table's: ${v.text}`);
  shown.forEach((x, i) => {
    assert.equal(x.value, want[i].gerrText, `${x.label}: the verdict shows ${x.value}, the table ${want[i].gerrText}`);
    assert.ok(Math.abs(Number(x.value) - want[i].gerr) <= 5e-3 * want[i].gerr, `${x.label}: ${x.value} is not data-gerr ${want[i].gerr}`);
  });
  // the claim first, then this run's ranking and what it shows
  assert.match(v.text, /^The paper's claim: .+\. This run: /, `the verdict line does not state the claim first: ${v.text}`);
  assert.ok(v.text.includes("This run: " + v.order + " rollout error (lower is better): "), `the ranking does not follow the claim: ${v.text}`);
  // the rule below is the one for a conservative system with angular coordinates (no drag, no controls)
  assert.match(await page.evaluate(() => location.hash), system, "not the system this rule is for: update the rule here");
  const g = Object.fromEntries(v.rows.map((r) => [r.kind, r.gerr]));
  const F = 1.5;
  let claim;
  if (g.node * F <= g["node-so"]) claim = "contradicts";
  else if (g["node-so"] * F > g.node) claim = "unresolved";
  // the HNN clearly ahead of NODE+SO: the paper's angular-coordinates effect with angles, a
  // contradiction without; the HNN behind even NODE: this run agrees only in part
  else if (g.hnn * F <= g["node-so"]) claim = angular ? "partly" : "contradicts";
  else claim = g.hnn > g.node ? "partly" : "supports";
  assert.equal(v.claim, claim, `gerr ${JSON.stringify(g)} reads "${claim}" by the rule, the verdict says "${v.claim}": ${v.text}`);
  assert.ok(v.readingClass.includes(claim), "the reading is not styled as its claim");
  assert.match(v.text, /One seed: a gap under a factor 1\.5 may be noise/);
  assert.equal(v.href, "https://arxiv.org/abs/2202.04836", "the verdict links the paper");
  return v.text;
}

// The lowest loss, rollout error and energy error are marked (bold, data-best="1"), nothing else.
async function checkBest(page) {
  const cells = await page.evaluate(() => [...document.querySelectorAll("#metrics tbody tr")].map((tr) => {
    const out = { kind: tr.dataset.kind, values: { loss: Number(tr.dataset.loss), gerr: Number(tr.dataset.gerr), herr: Number(tr.dataset.herr) }, best: {}, weight: {} };
    for (const c of ["loss", "gerr", "herr", "params", "ms", "epoch"]) {
      const td = tr.querySelector(`.c-${c}`);
      out.best[c] = td.dataset.best === "1";
      out.weight[c] = Number(getComputedStyle(td).fontWeight);
    }
    return out;
  }));
  for (const c of ["loss", "gerr", "herr"]) {
    const min = Math.min(...cells.map((r) => r.values[c]));
    for (const r of cells) {
      const isBest = r.values[c] === min;
      assert.equal(r.best[c], isBest, `${c} of ${r.kind} (${r.values[c]}, lowest ${min}): data-best is ${r.best[c]}`);
      assert.equal(r.weight[c] >= 600, isBest, `${c} of ${r.kind}: bold is ${r.weight[c] >= 600}, lowest ${isBest}`);
    }
  }
  for (const r of cells) for (const c of ["params", "ms", "epoch"]) assert.ok(!r.best[c], `${c} of ${r.kind} is marked best`);
}

// The structure view of the default run: its four panels painted, each with the truth and the models
// that have that quantity (series names and counts from the canvases' data-* hooks), each model's
// curve inked in its colour, and the gauge sentence with every model's k.
const DEFAULT_STRUCTURE = [["potential", ["truth", "hnn"]], ["inverse mass", ["truth", "node-so", "hnn"]],
  ["force", ["truth", "node-so", "hnn"]], ["acceleration", ["truth", "node", "node-so", "hnn"]],
  ["moving", ["truth", "node", "node-so", "hnn"]]];
// `hidden`: models whose curve may lie under another's (the same physics learned twice: CLNN under CHNN).
async function checkStructure(page, coordinate, afterReq = 0, want = DEFAULT_STRUCTURE, labels = ["NODE+SO", "HNN"], hidden = []) {
  await page.waitForFunction(([c, r]) => {
    const b = document.getElementById("structure-panels");
    return b.dataset.state === "drawn" && b.dataset.coordinate === String(c) && Number(b.dataset.req) > r;
  }, [coordinate, afterReq], { timeout: 120000, polling: 250 });
  const r = await page.evaluate(() => {
    const colours = Object.fromEntries([...document.querySelectorAll("#metrics tbody tr")].map((tr) =>
      [tr.dataset.kind, tr.querySelector(".swatch").style.getPropertyValue("--c")]));
    const rgb = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
    const panels = [...document.querySelectorAll("#structure-panels canvas")].map((c) => {
      const names = c.dataset.names.split(",");
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      const ink = {};
      for (const n of names) {
        if (!colours[n]) continue;
        const [R, G, B] = rgb(colours[n]);
        let k = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (Math.abs(d[i] - R) + Math.abs(d[i + 1] - G) + Math.abs(d[i + 2] - B) < 60) k++;
        }
        ink[n] = k;
      }
      return { title: c.dataset.title, xLabel: c.dataset.xLabel, drawn: c.dataset.drawn, series: Number(c.dataset.series), names, ink };
    });
    return { panels, count: document.getElementById("structure-panels").dataset.panels, gauge: document.getElementById("structure-gauge").textContent };
  });
  assert.equal(r.panels.length, want.length, `structure panels: ${JSON.stringify(r.panels.map((p) => p.title))}`);
  assert.equal(r.count, String(want.length));
  r.panels.forEach((p, i) => {
    assert.ok(p.title.startsWith(want[i][0]), `panel ${i} is "${p.title}", not ${want[i][0]}`);
    assert.ok(p.xLabel.startsWith(`q${coordinate + 1} `), `panel "${p.title}" is along "${p.xLabel}", not q${coordinate + 1}`);
    assert.equal(p.drawn, "1", `panel "${p.title}" is not drawn`);
    assert.deepEqual(p.names, want[i][1], `panel "${p.title}": series`);
    assert.equal(p.series, want[i][1].length, `panel "${p.title}": data-series`);
    for (const [n, k] of Object.entries(p.ink)) if (!hidden.includes(n)) assert.ok(k > 150, `panel "${p.title}": ${n}'s curve has ${k} pixels of its colour`);
  });
  assert.match(r.gauge, /only up to a factor/);
  // k only for the models with a learned energy or mass (none for the plain NODE)
  assert.doesNotMatch(r.gauge, /(: |, )NODE k =/, `a k for the NODE, which learns no energy: ${r.gauge}`);
  for (const label of labels) assert.match(r.gauge, new RegExp(`${label.replace("+", "\\+")} k = -?[0-9.e+-]+`), `no k for ${label}: ${r.gauge}`);
  return r;
}

async function loadDataset(page, path) {
  const before = await page.evaluate(() => document.getElementById("data-info").textContent);
  await page.setInputFiles("#dataset-file", path);
  await page.waitForFunction((b) => {
    const t = document.getElementById("data-info").textContent;
    return t !== b && t.includes(".npz");
  }, before, { timeout: 60000 });
}

test("(1) the page loads cleanly; default CPU training lowers every loss and fills every view, the verdict line and the structure view (7: screenshots)", { timeout: LONG + 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  // every status text beside the epoch counter, in order, and every verdict line shown while training
  await page.addInitScript(() => {
    window.__runStates = [];
    window.__verdicts = [];
    document.addEventListener("DOMContentLoaded", () => {
      const el = document.getElementById("run-state");
      new MutationObserver(() => {
        const t = el.textContent;
        if (window.__runStates.at(-1) !== t) window.__runStates.push(t);
      }).observe(el, { childList: true, characterData: true, subtree: true });
      const v = document.getElementById("verdict");
      new MutationObserver(() => window.__verdicts.push(v.textContent)).observe(v, { childList: true, characterData: true, subtree: true });
    });
  });
  await page.goto(srv.url);
  await waitDone(page, LONG);
  assertClean(problems, "default run");
  await assertNoErrorNotices(page, "default run");
  assert.equal(await page.evaluate(() => document.body.dataset.backend), "cpu");
  const rows = await metrics(page);
  const defaults = await page.evaluate(() => location.hash);
  assert.match(defaults, /models=node,node-so,hnn/, "the default models are node, node-so, hnn");
  assert.deepEqual(rows.map((r) => r.kind), ["node", "node-so", "hnn"]);
  for (const r of rows) {
    assert.ok(r.loss < r.firstLoss, `${r.kind}: loss ${r.loss} did not fall below its first epoch's ${r.firstLoss}`);
    assert.ok(Number.isFinite(r.gerr) && r.gerr > 0, `${r.kind}: no rollout error (${r.gerr})`);
    assert.ok(Number.isFinite(r.herr), `${r.kind}: no energy error`);
  }
  // the paper's point, as the defaults show it: second-order structure (node-so) and the
  // Hamiltonian (hnn) both roll out better than the plain NODE
  const gerr = Object.fromEntries(rows.map((r) => [r.kind, r.gerr]));
  assert.ok(gerr["node-so"] < gerr.node, `node-so's rollout error ${gerr["node-so"]} is not below node's ${gerr.node}`);
  assert.ok(gerr.hnn < gerr.node, `hnn's rollout error ${gerr.hnn} is not below node's ${gerr.node}`);
  const drawn = await drawnViews(page);
  for (const v of [...VIEWS, "anim"]) assert.ok(drawn[v], `view ${v} is not drawn`);
  assert.equal(drawn.ghosts, 3, "one ghost per model in the animation");
  // between the last epoch and done the status says "evaluating", not "training"
  const states = await page.evaluate(() => window.__runStates);
  const ev = states.indexOf("evaluating");
  assert.ok(ev > 0 && states[ev - 1] === "training" && states.slice(ev + 1).includes("done") && !states.slice(ev + 1).includes("training"),
    `status texts: ${states.join(" -> ")}`);
  const verdict = await checkVerdict(page);
  // the verdict followed the training: rankings from evaluations before the last epoch, marked "so far"
  const live = await page.evaluate(() => window.__verdicts.filter((t) => /This run so far \(epoch \d+\): .+ < .+ rollout error/.test(t)));
  assert.ok(live.length >= 1, "no verdict line while training");
  await checkBest(page);
  await checkStructure(page, 0);
  await checkPlots(page, "default run");
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.locator("#card-structure").screenshot({ path: join(ARTIFACTS, "structure.png") });
  writeFileSync(join(ARTIFACTS, "verdict.txt"), verdict + "\n");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, "playground.png") });
  // the structure view on demand: along another coordinate where the system has one, else redrawn
  const coords = await page.locator("#structure-coord option").count();
  if (coords > 1) {
    await page.selectOption("#structure-coord", "1");
    await checkStructure(page, 1);
  } else {
    const req = await page.evaluate(() => Number(document.getElementById("structure-panels").dataset.req));
    await page.click("#structure-draw");
    await checkStructure(page, 0, req);
  }
  // (7) also at a phone's width: one column, nothing wider than the screen
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page is ${overflow}px wider than a phone's screen`);
  // the verdict, the settings folded behind a button under it, then the plots, all within the
  // first screen; the table says it scrolls
  await page.evaluate(() => window.scrollTo(0, 0));
  const phone = await page.evaluate(() => ({
    plotsTop: document.getElementById("card-loss").getBoundingClientRect().top,
    settingsTop: document.getElementById("settings").getBoundingClientRect().top,
    verdictTop: document.getElementById("verdict").getBoundingClientRect().top,
    folded: getComputedStyle(document.getElementById("settings-body")).display === "none",
    tableScrolls: (() => { const w = document.querySelector("#card-metrics .table-wrap"); return w.scrollWidth > w.clientWidth + 1; })(),
    hint: !document.getElementById("table-hint").hidden,
    count: getComputedStyle(document.getElementById("picker"), "::after").content,
  }));
  assert.ok(phone.verdictTop < phone.settingsTop && phone.settingsTop < phone.plotsTop,
    `on a phone: verdict at ${phone.verdictTop}px, settings button at ${phone.settingsTop}px, plots at ${phone.plotsTop}px`);
  assert.ok(phone.settingsTop < 844, `the settings button is at ${phone.settingsTop}px, below a phone's first screen`);
  assert.ok(phone.folded, "the settings are not folded on a phone");
  assert.equal(phone.hint, phone.tableScrolls, "the table hint does not match whether the table scrolls");
  assert.match(phone.count, /systems.*swipe/);
  await page.click("#settings-toggle");
  assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById("settings-body")).display === "none"), false, "the settings button does not unfold them");
  assert.equal(await page.getAttribute("#settings-toggle", "aria-expanded"), "true");
  await page.click("#settings-toggle");
  await page.waitForTimeout(800); // the plots redraw at the new width
  await checkPlots(page, "phone");
  // no caption is cut short on the phone
  const cut = await page.evaluate(() => [...document.querySelectorAll(".card figcaption")]
    .filter((f) => f.scrollWidth > f.clientWidth + 1).map((f) => f.textContent.trim()));
  assert.deepEqual(cut, [], "captions cut short on a phone");
  await page.screenshot({ path: join(ARTIFACTS, "playground-phone.png"), fullPage: true });
  // clicking the phase portrait starts every model (and the truth) from a new state
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.waitForTimeout(500);
  const L = await page.evaluate(() => document.getElementById("plot-phase").layout);
  assert.ok(L && L.area, "the phase portrait has no frame to map clicks");
  await page.locator("#plot-phase").scrollIntoViewIfNeeded(); // the structure view's checks scrolled the page
  await page.waitForTimeout(300);
  const box = await page.locator("#plot-phase").boundingBox();
  const fx = 0.3;
  const fy = 0.4;
  const px = L.area[0] + fx * (L.area[2] - L.area[0]);
  const py = L.area[1] + fy * (L.area[3] - L.area[1]);
  await page.mouse.click(box.x + (px / L.w) * box.width, box.y + (py / L.h) * box.height);
  const want = [L.x[0] + fx * (L.x[1] - L.x[0]), L.y[1] - fy * (L.y[1] - L.y[0])];
  await page.waitForFunction(() => document.getElementById("plot-phase").dataset.rolloutReq === "1", null, { timeout: 60000 });
  await page.waitForTimeout(600);
  const got = await page.evaluate(() => JSON.parse(document.getElementById("plot-phase").dataset.z0));
  const span = [L.x[1] - L.x[0], L.y[1] - L.y[0]];
  assert.ok(Math.abs(got[0] - want[0]) < 0.02 * span[0] && Math.abs(got[1] - want[1]) < 0.02 * span[1],
    `clicked (q1, v1) = ${want}, the page started from ${got}`);
  const series = await page.evaluate(() => Number(document.getElementById("plot-phase").dataset.series));
  assert.equal(series, 4, "the phase portrait shows the truth and three models from the clicked state");
  // legends use the page's model names, as the toggles and the table do
  assert.equal(await page.evaluate(() => document.getElementById("plot-loss").dataset.legend), "NODE,NODE+SO,HNN");
  assert.equal(await page.evaluate(() => document.getElementById("plot-phase").dataset.legend), "truth,NODE,NODE+SO,HNN");
  assertClean(problems, "after the click");
  await context.close();
});

// SwiftShader runs WebGPU on the CPU: a training epoch of these small models takes seconds, an
// evaluation tens of seconds; so this compares first epochs and waits for one evaluation only.
async function firstLosses(page, n, timeout) {
  await page.waitForFunction((k) => {
    const rows = document.querySelectorAll("#metrics tbody tr");
    return rows.length === k && [...rows].every((tr) => tr.dataset.firstLoss !== undefined);
  }, n, { timeout, polling: 250 });
  return metrics(page);
}

/** Train `models` for two epochs on WebGPU (SwiftShader) and on the CPU: the same first-epoch losses, a finite rollout error on WebGPU. */
async function webgpuAgreesWithCpu(models) {
  const gpuBrowser = await launch({ webgpu: true });
  try {
    const hash = `#${SMALL}&epochs=2&models=${models.join(",")}`;
    const gpu = await newPage(gpuBrowser);
    await gpu.page.goto(`${srv.url}${hash}&backend=webgpu`);
    await gpu.page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 120000 });
    const backend = await gpu.page.evaluate(() => document.body.dataset.backend);
    assert.equal(backend, "webgpu", `WebGPU did not start: ${(await noticeText(gpu.page)).join(" | ")}`);
    assert.equal(await gpu.page.evaluate(() => document.getElementById("backend-badge").textContent), "WebGPU (chosen)");
    const g = await firstLosses(gpu.page, models.length, 600000);
    const cpu = await newPage(browser);
    await cpu.page.goto(`${srv.url}${hash}&backend=cpu`);
    const c = await firstLosses(cpu.page, models.length, 300000);
    assert.equal(await cpu.page.evaluate(() => document.body.dataset.backend), "cpu");
    for (let i = 0; i < c.length; i++) {
      assert.equal(g[i].kind, c[i].kind);
      const rel = Math.abs(g[i].firstLoss - c[i].firstLoss) / Math.abs(c[i].firstLoss);
      assert.ok(rel < 1e-2, `${c[i].kind}: first-epoch loss on WebGPU ${g[i].firstLoss} vs CPU ${c[i].firstLoss} (rel ${rel.toExponential(2)})`);
    }
    // and the evaluation runs on WebGPU too
    await gpu.page.waitForFunction(() => document.querySelector("#metrics tbody tr")?.dataset.gerr !== undefined, null, { timeout: 600000, polling: 500 });
    const gerr = (await metrics(gpu.page))[0].gerr;
    assert.ok(Number.isFinite(gerr) && gerr > 0, `rollout error on WebGPU: ${gerr}`);
    assertClean(gpu.problems, "webgpu run");
    await assertNoErrorNotices(gpu.page, "webgpu run");
    assertClean(cpu.problems, "cpu run");
    await gpu.context.close();
    await cpu.context.close();
  } finally {
    await gpuBrowser.close();
  }
}

test("(2) WebGPU (SwiftShader) trains and agrees with the CPU on the first epoch", { timeout: 900000 }, async () => {
  // the models on body points too: their constraint solves (Cholesky as tensor ops) on WebGPU
  await webgpuAgreesWithCpu(["node", "node-so", "hnn", "constrained-node-so", "chnn"]);
});

test("(2d) the Lagrangian networks and the dissipative HNNs train on WebGPU (SwiftShader) as on the CPU", { timeout: 900000 }, async () => {
  // DeLaN's triangular solves, the LNN's Hessian-vector products and LDLᵀ solve, the damping factor
  await webgpuAgreesWithCpu(["delan", "lnn", "port-hnn", "d-hnn"]);
});

test("(2b) auto does not pick a software WebGPU adapter (SwiftShader): it trains on the CPU and the badge says why", { timeout: 300000 }, async () => {
  const gpuBrowser = await launch({ webgpu: true });
  try {
    const { context, page, problems } = await newPage(gpuBrowser);
    await page.goto(`${srv.url}#${SMALL}&epochs=1&models=node&backend=auto`);
    // the browser does offer a WebGPU adapter, and it is SwiftShader's software one
    const adapter = await page.evaluate(async () => {
      const a = navigator.gpu && await navigator.gpu.requestAdapter();
      return a ? { arch: a.info?.architecture || "", fallback: !!(a.info?.isFallbackAdapter || a.isFallbackAdapter) } : null;
    });
    assert.ok(adapter, "this chromium offers no WebGPU adapter: the test cannot check auto's choice");
    assert.ok(adapter.arch === "swiftshader" || adapter.fallback, `not a software adapter: ${JSON.stringify(adapter)}`);
    await page.waitForFunction(() => document.body.dataset.backend, null, { timeout: 120000 });
    assert.equal(await page.evaluate(() => document.body.dataset.backend), "cpu",
      `auto picked ${await page.evaluate(() => document.body.dataset.backend)} on SwiftShader`);
    const badge = await page.evaluate(() => document.getElementById("backend-badge").textContent);
    assert.match(badge, /^CPU \(auto: WebGPU adapter is software — SwiftShader\)$/, `the badge does not say why: ${badge}`);
    await waitDone(page, 240000);
    assert.equal((await metrics(page))[0].epoch, 1);
    assertClean(problems, "auto on SwiftShader");
    await assertNoErrorNotices(page, "auto on SwiftShader");
    await context.close();
  } finally {
    await gpuBrowser.close();
  }
});

// Clicks the phase portrait at fractions (fx, fy) of its plotting area. -> the clicked (q1, v1) and the axes' spans
async function clickPhase(page, fx, fy) {
  const L = await page.evaluate(() => document.getElementById("plot-phase").layout);
  assert.ok(L && L.area, "the phase portrait has no frame to map clicks");
  await page.locator("#plot-phase").scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  const box = await page.locator("#plot-phase").boundingBox();
  const px = L.area[0] + fx * (L.area[2] - L.area[0]);
  const py = L.area[1] + fy * (L.area[3] - L.area[1]);
  await page.mouse.click(box.x + (px / L.w) * box.width, box.y + (py / L.h) * box.height);
  return { want: [L.x[0] + fx * (L.x[1] - L.x[0]), L.y[1] - fy * (L.y[1] - L.y[0])], span: [L.x[1] - L.x[0], L.y[1] - L.y[0]] };
}

test("(2c) a clicked initial condition is in the URL (ic=q1,v1) and a copied link starts from it; a bad ic is refused with a notice", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#${SMALL}&epochs=2&models=node,hnn&backend=cpu`);
  await waitDone(page, 240000);
  assert.ok(!/[#&]ic=/.test(await page.evaluate(() => location.hash)), "an ic before any click");
  const { want, span } = await clickPhase(page, 0.7, 0.25);
  await page.waitForFunction(() => document.getElementById("plot-phase").dataset.rolloutReq === "1", null, { timeout: 60000 });
  const z0 = await page.evaluate(() => JSON.parse(document.getElementById("plot-phase").dataset.z0));
  assert.ok(Math.abs(z0[0] - want[0]) < 0.02 * span[0] && Math.abs(z0[1] - want[1]) < 0.02 * span[1], `clicked ${want}, started from ${z0}`);
  // "copy link": the link carries the clicked state
  await page.click("#share");
  const link = await page.evaluate(() => location.href);
  const m = /[#&]ic=([^&]*)/.exec(new URL(link).hash);
  assert.ok(m, `the copied link has no ic: ${link}`);
  assert.deepEqual(decodeURIComponent(m[1]).split(",").map(Number), z0, "the link's ic is not the state the page started from");
  // the link, opened afresh, starts every rollout from that state and keeps it in its URL
  const p2 = await newPage(browser);
  await p2.page.goto(link);
  await waitDone(p2.page, 240000);
  await p2.page.waitForFunction(() => document.getElementById("plot-phase").dataset.z0 !== undefined, null, { timeout: 60000 });
  const z0b = await p2.page.evaluate(() => JSON.parse(document.getElementById("plot-phase").dataset.z0));
  assert.deepEqual(z0b, z0, "the copied link did not start from the clicked initial condition");
  assert.equal(new URL(p2.page.url()).hash, new URL(link).hash, "the link changed when opened");
  assert.equal(await p2.page.evaluate(() => Number(document.getElementById("plot-phase").dataset.series)), 3, "truth and two models from the linked state");
  // a bad ic: a notice, and the test set's first state
  const p3 = await newPage(browser);
  await p3.page.goto(`${srv.url}#${SMALL}&epochs=1&models=node&backend=cpu&ic=1,abc`);
  await waitDone(p3.page, 240000);
  assert.ok((await noticeText(p3.page, "warn")).some((t) => /^link: ic = "1,abc" is not an initial condition/.test(t)), "no notice for a bad ic");
  assert.ok(!/[#&]ic=/.test(await p3.page.evaluate(() => location.hash)), "the bad ic stayed in the URL");
  for (const [p, what] of [[{ page, problems }, "clicked"], [p2, "linked"], [p3, "bad ic"]]) {
    assertClean(p.problems, what);
    await assertNoErrorNotices(p.page, what);
  }
  for (const p of [p2, p3]) await p.context.close();
  await context.close();
});

test("(3) URL state round trip; bad parameters are clamped with a notice", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  // a full state, with a hide flag
  const state = {
    system: "spring-pendulum:1", models: "node-so,hnn", width: "32", depth: "3", lr: "0.001", epochs: "3",
    integrator: "rk4", n_train: "16", chunk: "4", loss: "l1", seed: "42", drag: "0.4", batch: "16", backend: "cpu",
  };
  const hash = "#" + Object.entries(state).map(([k, v]) => `${k}=${v}`).join("&") + "&hide_settings=1";
  await page.goto(srv.url + hash);
  await waitDone(page, 300000);
  assertClean(problems, "link run");
  assert.deepEqual(await noticeText(page, "warn"), [], "a valid link gave notices");
  const ui = await page.evaluate(() => ({
    width: document.getElementById("width").value, depth: document.getElementById("depth").value,
    lr: document.getElementById("lr").value, epochs: document.getElementById("epochs").value,
    integrator: document.getElementById("integrator").value, n_train: document.getElementById("n_train").value,
    chunk: document.getElementById("chunk").value, loss: document.getElementById("loss").value,
    seed: document.getElementById("seed").value, batch: document.getElementById("batch").value,
    backend: document.getElementById("backend").value,
    models: [...document.querySelectorAll("#model-toggles input:checked")].map((x) => x.value).join(","),
    system: document.querySelector('#systems .tile[aria-checked="true"]')?.dataset.spec,
    settingsHidden: getComputedStyle(document.getElementById("settings")).display === "none",
  }));
  for (const [k, v] of Object.entries(state)) if (k !== "drag") assert.equal(String(ui[k]), v, `UI ${k}`);
  assert.ok(ui.settingsHidden, "hide_settings=1 hides the settings");
  const kept = new URL(page.url()).hash;
  for (const [k, v] of Object.entries(state)) {
    // drag does nothing on a system without drag, so a link leaves it out
    if (k === "drag") assert.ok(!kept.includes("drag="), `the hash carries drag for ${state.system}: ${kept}`);
    else assert.ok(kept.includes(`${k}=${v}`), `the hash lost ${k}=${v}: ${kept}`);
  }
  assert.ok(kept.includes("hide_settings=1"));
  const rows = await metrics(page);
  assert.deepEqual(rows.map((r) => r.kind), ["node-so", "hnn"]);
  assert.ok(rows.every((r) => r.epoch === 3));

  // a change in the UI updates the hash, and the new link reproduces it
  const p2 = await newPage(browser);
  await p2.page.goto(srv.url + "#" + SMALL + "&models=node");
  await p2.page.waitForFunction(() => document.body.dataset.state !== "loading");
  await p2.page.selectOption("#width", "64");
  await p2.page.fill("#seed", "7");
  await p2.page.press("#seed", "Enter");
  await p2.page.selectOption("#loss", "l1");
  await p2.page.click('#systems .tile[data-spec="chain-pendulum:1"]');
  await p2.page.waitForFunction(() => /width=64/.test(location.hash) && /seed=7/.test(location.hash) && /loss=l1/.test(location.hash) && /system=chain-pendulum:1/.test(location.hash));
  const shared = new URL(p2.page.url()).hash;
  await waitDone(p2.page, 300000);
  const lossA = (await metrics(p2.page)).map((r) => r.firstLoss);
  // the drag preset: its tile says why in one sentence, and picking it adds HNN + forcing and says so
  const preset = '#systems .tile[data-spec="chain-pendulum-drag:1"]';
  assert.match(await p2.page.getAttribute(preset, "title"), /cannot dissipate.*HNN \+ forcing/);
  const p5 = await newPage(browser);
  await p5.page.goto(srv.url + "#" + SMALL + "&models=node,hnn&epochs=1");
  await p5.page.waitForFunction(() => document.body.dataset.state !== "loading");
  await p5.page.click(preset);
  await p5.page.waitForFunction(() => /system=chain-pendulum-drag%3A1|system=chain-pendulum-drag:1/.test(location.hash));
  assert.match(new URL(p5.page.url()).hash, /models=node,hnn,hnn-forced,port-hnn/, "picking the drag preset adds HNN + forcing and the port-Hamiltonian HNN");
  assert.ok((await noticeText(p5.page, "info")).some((t) => /cannot dissipate/.test(t)), "no notice says why the drag preset is there");
  await waitDone(p5.page, 300000);
  assertClean(p5.problems, "drag preset");
  await p5.context.close();
  const p3 = await newPage(browser);
  await p3.page.goto(srv.url + shared);
  await waitDone(p3.page, 300000);
  assert.equal(new URL(p3.page.url()).hash, shared, "the shared link changed when opened");
  assert.equal(await p3.page.evaluate(() => document.getElementById("width").value), "64");
  const lossB = (await metrics(p3.page)).map((r) => r.firstLoss);
  assert.deepEqual(lossB, lossA, "the shared link reproduces the run (same first-epoch losses)");
  assertClean(p2.problems, "UI-changed run");
  assertClean(p3.problems, "shared-link run");

  // bad parameters: clamped, each with a visible notice; the page still trains
  const p4 = await newPage(browser);
  await p4.page.goto(srv.url + "#width=100000&depth=abc&lr=-1&system=no-such-system&models=node,bogus&epochs=2&n_train=16&batch=16&foo=1&seed=%E0%A4%A");
  await waitDone(p4.page, 300000);
  const warns = (await noticeText(p4.page, "warn")).join("\n");
  for (const word of ["width", "depth", "lr", "system", "bogus", "foo", "seed"]) {
    assert.ok(warns.includes(word), `no notice mentions ${word}:\n${warns}`);
  }
  const fixed = await p4.page.evaluate(() => ({ width: document.getElementById("width").value, hash: location.hash }));
  assert.equal(fixed.width, "512");
  assert.ok(!fixed.hash.includes("bogus") && !fixed.hash.includes("foo="), `the hash keeps bad values: ${fixed.hash}`);
  assert.deepEqual((await metrics(p4.page)).map((r) => r.kind), ["node"]);
  assertClean(p4.problems, "bad link");
  await assertNoErrorNotices(p4.page, "bad link");
  for (const p of [p2, p3, p4]) await p.context.close();
  await context.close();
});

test("(4) a checkpoint from the CLI loads in the page and its rollout error equals phaselab eval's; an old format loads with a note, a damaged one is refused", { timeout: 600000 }, async (t) => {
  const a = cliArtifacts();
  if (!a) {
    t.skip(`no CLI checkpoint: set PHASELAB_CKPT, PHASELAB_TEST_NPZ, PHASELAB_EVAL_JSON or build ${BIN}`);
    return;
  }
  const want = gerrOf(JSON.parse(readFileSync(a.evalJson, "utf8")));
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#${SMALL}&epochs=1&models=node&backend=cpu`);
  await page.waitForFunction(() => document.body.dataset.state !== "loading");
  await loadDataset(page, a.npz);
  await page.setInputFiles("#checkpoint-file", a.ckpt);
  await page.waitForFunction(() => {
    const tr = document.querySelector('#metrics tbody tr[data-checkpoint="1"]');
    return tr && tr.dataset.gerr !== undefined;
  }, null, { timeout: 300000 });
  const row = (await metrics(page)).find((r) => r.checkpoint);
  assert.ok(close(row.gerr, want, 1e-4), `page gerr ${row.gerr} vs phaselab eval ${want}`);
  assertClean(problems, "checkpoint run");
  await assertNoErrorNotices(page, "checkpoint run");
  const name = a.ckpt.split("/").pop();
  assert.ok((await noticeText(page, "info")).some((t) => t.includes(name) && t.includes("parameters")), "no notice for the loaded checkpoint");
  assert.ok(!(await noticeText(page)).some((t) => t.includes("checksum")), "a checksummed checkpoint got a note");
  // the same checkpoint in the old format (version 2: no checksum) loads with a note naming the file
  const ck = readFileSync(a.ckpt);
  const old = Buffer.from(ck.subarray(0, ck.length - 4));
  old.writeUInt32LE(2, 14); // after the 14-byte magic
  await page.setInputFiles("#checkpoint-file", { name: "old-format.phaselab", mimeType: "application/octet-stream", buffer: old });
  await page.waitForFunction(() => document.querySelectorAll('#metrics tbody tr[data-checkpoint="1"]').length === 2, null, { timeout: 60000 });
  const notes = (await noticeText(page, "info")).filter((t) => t.includes("old-format.phaselab") && t.includes("checksum"));
  assert.equal(notes.length, 1, "no note for the old-format checkpoint");
  assert.match(notes[0], /^checkpoint old-format\.phaselab: checkpoint format version 2 has no checksum/, notes[0]);
  // one byte flipped near the end (in the weights, before the checksum): rejected as corrupt, naming the file
  const bad = Buffer.from(ck);
  bad[bad.length - 9] ^= 0x40;
  await page.setInputFiles("#checkpoint-file", { name: "damaged.phaselab", mimeType: "application/octet-stream", buffer: bad });
  await page.waitForFunction(() => [...document.querySelectorAll("#notices .notice.error")].some((n) => n.textContent.includes("damaged.phaselab")), null, { timeout: 60000 });
  const errs = (await noticeText(page, "error")).filter((t) => t.includes("damaged.phaselab"));
  assert.equal(errs.length, 1);
  assert.match(errs[0], /could not load checkpoint damaged\.phaselab: corrupt checkpoint/, errs[0]);
  assert.equal((await metrics(page)).filter((r) => r.checkpoint).length, 2, "the old-format checkpoint is a row, the damaged one is not");
  assertClean(problems, "old and damaged checkpoints");
  await context.close();
});

test("(5) a checkpoint exported by the page evaluates in the CLI with the page's rollout error", { timeout: 600000 }, async (t) => {
  const a = cliArtifacts();
  if (!a || !existsSync(BIN)) {
    t.skip(`needs the phaselab CLI (${BIN}) and a test set`);
    return;
  }
  const { context, page, problems } = await newPage(browser, { acceptDownloads: true });
  await page.goto(`${srv.url}#${SMALL}&epochs=3&models=node-so&backend=cpu`);
  await page.waitForFunction(() => document.body.dataset.state !== "loading");
  await loadDataset(page, a.npz);
  await waitDone(page, 300000);
  const row = (await metrics(page)).find((r) => r.kind === "node-so" && !r.checkpoint);
  assert.equal(row.epoch, 3);
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 120000 }),
    page.click('#metrics tbody tr[data-kind="node-so"] button'),
  ]);
  assert.equal(download.suggestedFilename(), "node-so.phaselab");
  const dir = mkdtempSync(join(tmpdir(), "phaselab-export-"));
  try {
    const file = join(dir, "node-so.phaselab");
    await download.saveAs(file);
    const out = execFileSync(BIN, ["eval", file, "--data", a.npz, "--json"], { encoding: "utf8", timeout: 300000 });
    const report = JSON.parse(out.slice(out.indexOf("{")));
    const g = gerrOf(report);
    assert.ok(close(g, row.gerr, 1e-4), `phaselab eval gerr ${g} vs the page's ${row.gerr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assertClean(problems, "export run");
  await context.close();
});

test("(6) a bad dataset or checkpoint file shows an error and the page keeps working", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#${SMALL}&epochs=4&models=node&backend=cpu`);
  await page.waitForFunction(() => document.body.dataset.state !== "loading");
  const bad = { name: "broken.npz", mimeType: "application/zip", buffer: Buffer.from("this is not a zip archive") };
  await page.setInputFiles("#dataset-file", bad);
  await page.waitForFunction(() => [...document.querySelectorAll("#notices .notice.error")].some((n) => n.textContent.includes("broken.npz")));
  const badCk = { name: "junk.phaselab", mimeType: "application/octet-stream", buffer: Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]) };
  await page.setInputFiles("#checkpoint-file", badCk);
  await page.waitForFunction(() => [...document.querySelectorAll("#notices .notice.error")].some((n) => n.textContent.includes("junk.phaselab")));
  // a zip that is no dataset, dropped on the page
  const zipNoNpy = Buffer.from("504b0506000000000000000000000000000000000000", "hex");
  await page.evaluate((bytes) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(bytes)], "empty.npz"));
    window.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, [...zipNoNpy]);
  await page.waitForFunction(() => [...document.querySelectorAll("#notices .notice.error")].some((n) => n.textContent.includes("empty.npz")));
  // each message says in words what the file is and what it had to be; the raw error is folded away
  const errs = await page.evaluate(() => [...document.querySelectorAll("#notices .notice.error")].map((n) => ({
    text: n.querySelector("span").textContent, detail: n.querySelector("details code")?.textContent || null,
    open: n.querySelector("details")?.open ?? null,
  })));
  const about = (name) => errs.find((e) => e.text.includes(name)) || assert.fail(`no notice about ${name}`);
  assert.match(about("broken.npz").text, /a text file starting "this is not a zip archive".*q, v, dt and metadata.*phaselab data gen/);
  assert.match(about("broken.npz").detail || "", /zip/i, "the raw error is not kept under details");
  assert.equal(about("broken.npz").open, false, "the details are not folded");
  assert.match(about("junk.phaselab").text, /binary data.*not a checkpoint/);
  assert.match(about("empty.npz").text, /an empty zip archive/);
  await waitDone(page, 300000);
  const rows = await metrics(page);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].epoch, 4, "the run went on after the bad files");
  assert.ok(!(await page.evaluate(() => document.getElementById("data-info").textContent)).includes(".npz"));
  // controls still answer: reset, then step one epoch
  await page.click("#reset");
  await page.waitForFunction(() => document.body.dataset.state !== "configuring");
  await page.click("#play"); // pause (reset keeps playing unless paused)
  await page.click("#step");
  await page.waitForFunction(() => Number(document.body.dataset.epoch) >= 1, null, { timeout: 120000 });
  assertClean(problems, "bad files");
  await context.close();
});

test("(8) pause, play, step and reset answer mid-run; space toggles play", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#${SMALL}&epochs=5000&models=node,hnn&backend=cpu`);
  await page.waitForFunction(() => Number(document.body.dataset.epoch) >= 3, null, { timeout: 120000 });
  await page.click("#play"); // pause
  await page.waitForFunction(() => document.body.dataset.state === "paused", null, { timeout: 10000 });
  // The epoch (and an evaluation) in flight may still land: wait until the count settles, which it
  // never does if training goes on.
  const epoch = () => page.evaluate(() => Number(document.body.dataset.epoch));
  let e1 = await epoch();
  for (let i = 0; i < 20; i++) {
    await page.waitForTimeout(700);
    const e = await epoch();
    if (e === e1) break;
    e1 = e;
  }
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => Number(document.body.dataset.epoch)), e1, "training went on while paused");
  await page.click("#step");
  await page.waitForFunction((e) => Number(document.body.dataset.epoch) === e + 1, e1, { timeout: 30000 });
  await page.locator("body").focus();
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press("Space"); // play
  await page.waitForFunction((e) => Number(document.body.dataset.epoch) > e + 3, e1, { timeout: 60000 });
  await page.click("#reset");
  await page.waitForFunction(() => Number(document.body.dataset.epoch) < 3 && document.body.dataset.state === "training", null, { timeout: 30000 });
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await page.keyboard.press("Space"); // pause
  await page.waitForFunction(() => document.body.dataset.state === "paused", null, { timeout: 10000 });
  assertClean(problems, "controls");
  await assertNoErrorNotices(page, "controls");
  await context.close();
});

test("(10) small changes keep work: a model switched off and on leaves the others' runs; Enter on the chosen tile does not restart; the picker is one Tab stop; names are words", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#${SMALL}&epochs=4&models=node,node-so&system=chain-pendulum:2&backend=cpu`);
  await waitDone(page, 300000);
  const first = await metrics(page);
  assert.deepEqual(first.map((r) => [r.kind, r.epoch]), [["node", 4], ["node-so", 4]]);
  const node = first[0];
  const run = () => page.evaluate(() => document.getElementById("plot-loss").dataset.series);
  // node-so off: node keeps its run (same model, epochs and losses); the run stays done
  await page.uncheck("#model-node-so");
  await page.waitForFunction(() => document.querySelectorAll("#metrics tbody tr").length === 1);
  let rows = await metrics(page);
  assert.deepEqual(rows.map((r) => [r.kind, r.id, r.epoch, r.firstLoss]), [["node", node.id, 4, node.firstLoss]], "switching node-so off retrained node");
  assert.equal(await page.evaluate(() => document.body.dataset.state), "done");
  assert.ok(!/node-so/.test(new URL(page.url()).hash.match(/models=[^&]*/)[0]), "the link still lists node-so");
  // hnn on: it trains from scratch to the end, node is not touched
  await page.check("#model-hnn");
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#metrics tbody tr")];
    return rows.length === 2 && document.body.dataset.state === "done" && rows.every((r) => r.dataset.epoch === "4");
  }, null, { timeout: 120000 });
  rows = await metrics(page);
  assert.deepEqual(rows.map((r) => r.kind), ["node", "hnn"]);
  assert.equal(rows[0].id, node.id, "node was replaced");
  assert.equal(rows[0].firstLoss, node.firstLoss, "node was retrained");
  assert.ok(Number.isFinite(rows[1].gerr), "the added model was not evaluated");
  assert.ok(/models=node,hnn/.test(new URL(page.url()).hash));
  assert.ok(Number(await run()) >= 2, "the loss plot lost a model");

  // Enter (or a click) on the tile already chosen keeps the run
  const chosen = '#systems .tile[aria-checked="true"]';
  assert.equal(await page.getAttribute(chosen, "data-spec"), "chain-pendulum:2");
  await page.focus(chosen);
  await page.keyboard.press("Enter");
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "done", "Enter on the chosen tile restarted the run");
  assert.deepEqual((await metrics(page)).map((r) => r.id), rows.map((r) => r.id));

  // the picker is one Tab stop (the chosen tile); arrows, Home and End move it
  const stops = () => page.evaluate(() => [...document.querySelectorAll("#systems .tile")].filter((t) => t.tabIndex === 0).map((t) => t.dataset.spec));
  assert.deepEqual(await stops(), ["chain-pendulum:2"]);
  await page.keyboard.press("ArrowRight");
  const moved = await page.evaluate(() => document.activeElement.dataset.spec);
  assert.notEqual(moved, "chain-pendulum:2");
  assert.deepEqual(await stops(), [moved], "the Tab stop did not follow the arrow key");
  await page.keyboard.press("End");
  assert.equal(await page.evaluate(() => document.activeElement.dataset.spec), "@dataset");
  await page.keyboard.press("Home");
  assert.deepEqual(await stops(), [await page.evaluate(() => document.activeElement.dataset.spec)]);
  assert.equal(await page.evaluate(() => document.body.dataset.state), "done", "moving focus in the picker restarted the run");

  // names in words: tiles, their tooltips and the info line
  const tile = await page.evaluate(() => {
    const t = document.querySelector('#systems .tile[data-spec="chain-pendulum:2"]');
    return { text: t.textContent.trim(), title: t.title, info: document.getElementById("data-info").textContent };
  });
  assert.equal(tile.text, "chain pendulum, 2 links");
  assert.match(tile.title, /^chain pendulum, 2 links: .*links in the plane.*\(chain-pendulum:2\)$/);
  assert.match(tile.info, /^chain pendulum, 2 links, D = 2/);
  const p2 = await newPage(browser);
  await p2.page.goto(`${srv.url}#${SMALL}&epochs=1&models=node&system=chain-pendulum-drag:2&drag=0.4`);
  await waitDone(p2.page, 120000);
  assert.match(await p2.page.evaluate(() => document.getElementById("data-info").textContent), /^chain pendulum \+ drag, 2 links, drag f = 0.4, D = 2/);
  assert.ok(/drag=0.4/.test(new URL(p2.page.url()).hash), "a drag system's link lost its drag");
  // a one-epoch run's single loss value is drawn (as a dot)
  assert.deepEqual(await p2.page.evaluate(() => {
    const c = document.getElementById("plot-loss");
    return [c.dataset.drawn, c.dataset.series];
  }), ["1", "1"], "a one-epoch run draws no loss");
  assertClean(p2.problems, "drag info line");
  await p2.context.close();
  // notices go away: an info notice by itself, a warning when dismissed; repeats merge into one
  await page.click("#share");
  await page.waitForFunction(() => document.querySelectorAll("#notices .notice.info").length > 0);
  // (4 s after a copied link; 15 s where the clipboard is refused and the link is shown instead)
  await page.waitForFunction(() => document.querySelectorAll("#notices .notice.info").length === 0, null, { timeout: 30000 });
  await page.goto(`${srv.url}#${SMALL}&epochs=1&models=node&width=100000`);
  await page.goto(`${srv.url}#${SMALL}&epochs=1&models=node&width=100000&seed=2`);
  await page.waitForFunction(() => [...document.querySelectorAll("#notices .notice.warn")].some((n) => /width/.test(n.textContent)));
  const widthNotices = () => page.evaluate(() => [...document.querySelectorAll("#notices .notice.warn")].filter((n) => /width/.test(n.textContent)).length);
  assert.equal(await widthNotices(), 1);
  await page.locator("#notices .notice.warn", { hasText: "width" }).locator(".close").click();
  assert.equal(await widthNotices(), 0, "a dismissed notice stayed");
  await waitDone(page, 120000);
  // a value out of range is corrected at its field, not in a banner
  await page.fill("#epochs", "1000000");
  await page.press("#epochs", "Enter");
  await page.waitForFunction(() => /5000/.test(document.getElementById("epochs-msg")?.textContent || ""));
  assert.equal(await page.inputValue("#epochs"), "5000");
  assert.deepEqual((await noticeText(page, "warn")).filter((t) => /epochs/.test(t)), [], "the epochs message is a banner");
  assertClean(problems, "small changes");
  await assertNoErrorNotices(page, "small changes");
  await context.close();
});

test("(11) the drag preset shows the HNN failing: NODE+SO, HNN + forcing and the port-Hamiltonian HNN roll out far better, and the HNN keeps its energy while the true energy decays", { timeout: LONG + 60000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#system=chain-pendulum-drag:1&models=node,node-so,hnn,hnn-forced,port-hnn&backend=cpu`);
  await waitDone(page, LONG);
  const rows = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#metrics tbody tr")].map((tr) => [tr.dataset.kind, {
    gerr: Number(tr.dataset.gerr), change: Number(tr.dataset.energyChange), truth: Number(tr.dataset.truthEnergyChange),
  }])));
  const g = Object.fromEntries(Object.entries(rows).map(([k, r]) => [k, r.gerr]));
  assert.ok(2 * g["node-so"] < g.hnn, `NODE+SO does not beat the HNN clearly: ${JSON.stringify(g)}`);
  assert.ok(2 * g["hnn-forced"] < g.hnn, `HNN + forcing does not beat the HNN clearly: ${JSON.stringify(g)}`);
  assert.ok(2 * g["port-hnn"] < g.hnn, `the port-Hamiltonian HNN does not beat the HNN clearly: ${JSON.stringify(g)}`);
  assert.ok(g.hnn > g.node, `the HNN is not behind even the NODE: ${JSON.stringify(g)}`);
  const truth = rows.hnn.truth;
  assert.ok(truth < 0, `the true energy does not decay: ${truth}`);
  assert.ok(Math.abs(rows.hnn.change) < 0.5 * Math.abs(truth), `the HNN's energy follows the decay: ${rows.hnn.change} against ${truth}`);
  assert.ok(Math.abs(rows["node-so"].change - truth) < 0.25 * Math.abs(truth), `NODE+SO's energy does not decay with the truth: ${rows["node-so"].change} against ${truth}`);
  // the energy plot has each model's legend entry once, whatever stretches are off scale
  const legend = await page.evaluate(() => document.getElementById("plot-energy").dataset.legend);
  for (const label of ["NODE", "NODE+SO", "HNN", "HNN + forcing", "port-Hamiltonian HNN"]) {
    assert.equal(legend.split(",").filter((x) => x.replace(/ \(dashed: off scale\)$/, "") === label).length, 1, `energy legend: ${legend}`);
  }
  assertClean(problems, "drag preset");
  await assertNoErrorNotices(page, "drag preset");
  await context.close();
});

test("(12) seeds as bands: several seeds per model train side by side; the plots shade their range, the table shows mean ± sd and the verdict says whether the seeds overlap", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#${SMALL}&epochs=4&models=node,node-so&seeds=3&backend=cpu`);
  await waitDone(page, 300000);
  assert.equal(await page.inputValue("#seeds"), "3");
  const rows = await page.evaluate(() => [...document.querySelectorAll("#metrics tbody tr")].map((tr) => ({
    kind: tr.dataset.kind, seeds: tr.dataset.seeds, epoch: tr.dataset.epoch, gerr: Number(tr.dataset.gerr), sd: Number(tr.dataset.gerrSd),
    text: tr.querySelector(".c-gerr").textContent,
  })));
  assert.deepEqual(rows.map((r) => [r.kind, r.seeds, r.epoch]), [["node", "3", "4"], ["node-so", "3", "4"]], "one row per model, three seeds each");
  for (const r of rows) {
    assert.ok(r.sd > 0, `${r.kind}: the seeds gave identical errors (${r.sd})`);
    assert.match(r.text, /^[0-9.e-]+ ± [0-9.e-]+ SD$/, `${r.kind}: the table shows ${r.text}`);
  }
  const plots = await page.evaluate(() => Object.fromEntries(["loss", "gerr", "herr"].map((v) => {
    const c = document.getElementById(`plot-${v}`);
    return [v, { series: c.dataset.series, bands: c.dataset.bands }];
  })));
  for (const v of ["loss", "gerr", "herr"]) assert.deepEqual(plots[v], { series: "2", bands: "2" }, `${v}: ${JSON.stringify(plots[v])}`);
  assert.match(await page.evaluate(() => document.getElementById("verdict").textContent), /Means of 3 seeds.*(do not overlap|overlap, so that gap may be noise)/);
  // one ghost and one rollout per model, from its first seed
  assert.equal(await page.evaluate(() => document.getElementById("plot-phase").dataset.series), "3");
  assert.ok(/seeds=3/.test(new URL(page.url()).hash));
  assertClean(problems, "seeds");
  await assertNoErrorNotices(page, "seeds");
  await context.close();
});

test("(13) the coordinates-and-constraints preset: CHNN, CLNN and the constrained NODE+SO train on body points beside NODE+SO and the HNN; every error is on body points, the verdict asks constraints or Hamiltonian, and every view draws them in angles", { timeout: LONG + 120000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  await page.goto(`${srv.url}#backend=cpu`);
  await page.waitForFunction(() => document.querySelector('#systems .tile[data-preset="constraints"]'));
  await page.click('#systems .tile[data-preset="constraints"]');
  await page.waitForFunction(() => /models=node-so,hnn,constrained-node-so,clnn,chnn/.test(location.hash) && /system=chain-pendulum(%3A|:)2/.test(location.hash));
  assert.ok((await noticeText(page, "info")).some((t) => /^coordinates and constraints: /.test(t)), "no notice says what the preset asks");
  const t0 = Date.now();
  await waitDone(page, LONG);
  const seconds = (Date.now() - t0) / 1000;
  const checked = await page.evaluate(() => [...document.querySelectorAll("#systems .tile[aria-checked=true]")].map((t) => t.dataset.preset || t.dataset.spec));
  assert.deepEqual(checked, ["constraints"], "the preset's tile is not the one checked");
  assert.equal(await page.evaluate(() => document.getElementById("gerr-head").textContent), "rollout err (body points)");
  const rows = await page.evaluate(() => [...document.querySelectorAll("#metrics tbody tr")].map((tr) => ({ kind: tr.dataset.kind, gerr: Number(tr.dataset.gerr) })));
  assert.deepEqual(rows.map((r) => r.kind), ["node-so", "hnn", "constrained-node-so", "clnn", "chnn"]);
  for (const r of rows) assert.ok(Number.isFinite(r.gerr) && r.gerr > 0, `${r.kind}: gerr ${r.gerr}`);
  const v = await page.evaluate(() => ({ text: document.getElementById("verdict").textContent, claim: document.getElementById("verdict").dataset.claim, href: document.querySelector("#verdict a")?.href }));
  const g = Object.fromEntries(rows.map((r) => [r.kind, r.gerr]));
  const best = Math.min(g.chnn, g.clnn);
  const want = best * 1.5 <= g["constrained-node-so"] ? "contradicts" : "supports";
  assert.equal(v.claim, want, `body-point gerr ${JSON.stringify(g)}: ${v.text}`);
  assert.match(v.text, want === "supports" ? /the constraints, not the Hamiltonian, do the work/ : /the Hamiltonian adds to the constraints/);
  assert.equal(v.href, "https://arxiv.org/abs/2010.13581", "the verdict links Finzi et al.");
  // the animation, the phase portrait (in angles) and the plots draw every model
  const drawn = await drawnViews(page);
  for (const [view, ok] of Object.entries(drawn)) if (view !== "ghosts") assert.ok(ok, `${view} is not drawn: ${JSON.stringify(drawn)}`);
  assert.equal(drawn.ghosts, 5, "one ghost per model in the animation");
  assert.equal(await page.evaluate(() => document.getElementById("plot-phase").dataset.series), "6", "the truth and five models in the phase portrait");
  await checkStructure(page, 0, 0, [["potential", ["truth", "hnn", "clnn", "chnn"]], ["inverse mass", ["truth", "node-so", "hnn", "clnn", "chnn"]],
    ["force", ["truth", "node-so", "hnn", "clnn", "chnn"]], ["acceleration", ["truth", "node-so", "hnn", "constrained-node-so", "clnn", "chnn"]],
    ["moving", ["truth", "node-so", "hnn", "constrained-node-so", "clnn", "chnn"]]],
  ["NODE+SO", "HNN", "CLNN", "CHNN"], ["clnn"]);
  await checkPlots(page, "constraints preset");
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "constraints-preset.png"), fullPage: true });
  console.log(`# constraints preset: trained and drawn in ${seconds.toFixed(1)} s after the click; body-point gerr ${JSON.stringify(g)}; ${v.text}`);
  assertClean(problems, "constraints preset");
  await assertNoErrorNotices(page, "constraints preset");
  await context.close();
});

test("(14) views that hold on every system, and the rough edges: the rotor's axes, the gyroscope's structure view, one banner for a bad link, Play after the end", { timeout: LONG + 120000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  // the rotor: distinct ticks on every axis of every plot
  await page.goto(`${srv.url}#system=rotor&${SMALL}&backend=cpu`);
  await waitDone(page, LONG);
  await page.waitForFunction(() => document.getElementById("structure-panels").dataset.state === "drawn", null, { timeout: 120000 });
  await checkPlots(page, "rotor");
  // Play after the end says what to do
  await page.click("#play");
  await page.waitForFunction(() => [...document.querySelectorAll("#notices .notice.info")].some((n) => /this run is done/.test(n.textContent)));
  // the gyroscope: the structure view along every coordinate has finite gauges, or says in words why not
  await page.goto(`${srv.url}#system=gyroscope&${SMALL}&backend=cpu`);
  await waitDone(page, LONG);
  for (const c of [0, 1, 2]) {
    const req = await page.evaluate(() => Number(document.getElementById("structure-panels").dataset.req || 0));
    await page.selectOption("#structure-coord", String(c));
    await page.waitForFunction(([cc, r]) => {
      const b = document.getElementById("structure-panels");
      return ["drawn", "unavailable"].includes(b.dataset.state) && b.dataset.coordinate === String(cc) && Number(b.dataset.req) > r;
    }, [c, req], { timeout: 120000, polling: 250 });
    const s = await page.evaluate(() => ({ state: document.getElementById("structure-panels").dataset.state,
      text: document.getElementById("structure-panels").textContent, gauge: document.getElementById("structure-gauge").textContent }));
    const ks = [...s.gauge.matchAll(/ k = (-?[0-9][0-9.e+-]*[0-9])/g)].map((m) => Number(m[1]));
    assert.ok(ks.every((k) => Number.isFinite(k) && Math.abs(k) < 1e6 && Math.abs(k) > 1e-6), `gyroscope q${c + 1}: gauges ${s.gauge}`);
    assert.doesNotMatch(s.gauge + s.text, /e[+]?[1-9][0-9]|NaN|Infinity/, `gyroscope q${c + 1}: ${s.gauge} ${s.text}`);
    if (s.state === "unavailable") assert.match(s.text, /singular|pole/, `gyroscope q${c + 1}: ${s.text}`);
  }
  await checkPlots(page, "gyroscope");
  await page.locator("#card-structure").screenshot({ path: join(ARTIFACTS, "structure-gyroscope.png") });
  assertClean(problems, "rotor and gyroscope");
  // the spring pendulum (Cartesian coordinates): the verdict follows the rule there too, and says
  // "agrees" only when the HNN is not behind the NODE
  await page.goto(`${srv.url}#system=spring-pendulum:1&${SMALL}&epochs=20&backend=cpu`);
  await waitDone(page, LONG);
  const spring = await checkVerdict(page, { angular: false, system: /system=spring-pendulum(%3A|:)1/ });
  const sg = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("#metrics tbody tr")].map((tr) => [tr.dataset.kind, Number(tr.dataset.gerr)])));
  if (sg.hnn > sg.node) assert.doesNotMatch(spring, /this run agrees[.:]/, `the HNN is behind the NODE and the verdict agrees: ${spring}`);
  // a link with several bad values: one banner with a line each; a line goes when its field is set
  const p2 = await newPage(browser);
  await p2.page.goto(`${srv.url}#lr=banana&width=-3&epochs=0&seed=x&backend=cpu`);
  await p2.page.waitForFunction(() => document.querySelectorAll("#notices .notice.warn li").length >= 4);
  assert.equal(await p2.page.evaluate(() => document.querySelectorAll("#notices .notice.warn").length), 1, "a bad link's values are not one banner");
  await p2.page.selectOption("#width", "64");
  await p2.page.waitForFunction(() => ![...document.querySelectorAll("#notices li")].some((li) => /width/.test(li.textContent)));
  assert.ok((await noticeText(p2.page, "warn")).some((t) => /^link: lr /.test(t)), "the other lines went with the width's");
  await p2.context.close();
  await context.close();
});

test("(9) a MuJoCo dataset with controls trains the control-aware models in the page, each beating persistence (nothing moves)", { timeout: 300000 }, async () => {
  const { context, page, problems } = await newPage(browser);
  // the HNN too: it takes no controls, so the page drops it with the reason, in its words
  await page.goto(`${srv.url}#width=16&depth=2&batch=8&chunk=3&epochs=3&seed=0&models=node,node-so,hnn,hnn-forced&backend=cpu`);
  await page.waitForFunction(() => document.body.dataset.state !== "loading");
  await page.click("#play"); // pause the default system's run
  const fixture = join(ROOT, "crates", "phaselab-core", "tests", "data", "mujoco", "hopper_test.npz");
  await page.setInputFiles("#dataset-file", { name: "hopper_test.npz", mimeType: "application/zip", buffer: readFileSync(fixture) });
  await page.waitForFunction(() => /mujoco:Hopper/.test(document.getElementById("data-info").textContent), null, { timeout: 60000 });
  if ((await page.evaluate(() => document.body.dataset.state)) !== "training") await page.click("#play");
  await waitDone(page, 240000);
  assert.ok((await noticeText(page, "warn")).some((t) => /^HNN is not trained on these data: it takes no controls: .*choose NODE, NODE\+SO or HNN \+ forcing/.test(t)),
    `no notice says why the HNN was dropped: ${(await noticeText(page, "warn")).join(" | ")}`);
  assert.equal(await page.evaluate(() => document.querySelector('#model-toggles input[value="hnn"]').checked), false, "the HNN's box stays ticked");
  assert.match(await page.evaluate(() => document.getElementById("data-info").textContent), /looks only \d+ steps ahead/);
  const rows = await metrics(page);
  assert.deepEqual(rows.map((r) => r.kind).sort(), ["hnn-forced", "node", "node-so"]);
  // The bar every model must clear: "nothing moves", z(t) = z(0), scored like the page's models.
  // The fixture is a test split, which the page trains and evaluates on whole (train_on_test), so
  // the held-out trajectories are the file's.
  const info = await page.evaluate(() => document.getElementById("data-info").textContent);
  const npz = readNpz(readFileSync(fixture));
  const [n, T] = npz["q.npy"].shape;
  assert.ok(info.includes("a test split") && info.includes(`${n} held-out trajectories of ${T} steps`),
    `the page's held-out set is not the file's ${n} trajectories of ${T} steps: ${info}`);
  const still = persistenceGerr(npz);
  for (const r of rows) {
    assert.equal(r.epoch, 3, `${r.kind} trained its epochs`);
    assert.ok(Number.isFinite(r.gerr) && r.gerr > 0, `${r.kind} evaluated on the held-out trajectories: ${r.gerr}`);
    assert.ok(r.gerr < still, `${r.kind}: rollout error ${r.gerr} does not beat "nothing moves" (${still})`);
  }
  // no true system to compare with: the structure view says so in place, with no error notice
  await page.waitForFunction(() => document.getElementById("structure-panels").dataset.state === "unavailable", null, { timeout: 60000 });
  const note = await page.evaluate(() => document.getElementById("structure-panels").textContent);
  assert.match(note, /^No structure view for this run: .*true system/, note);
  // a loaded control dataset's axes (time steps of 0.008 s): distinct ticks everywhere
  // (loss, rollout error and the portrait: no energies without a known system)
  await checkPlots(page, "control dataset", 3);
  await assertNoErrorNotices(page, "control dataset");
  assertClean(problems, "control dataset");
  await context.close();
});
