// Benchmark of the playground (not a pass/fail test):
//   - transfer size: the sum of gzip -9 sizes of every file of www/ (what a visitor downloads);
//   - time from page load to the default models trained and drawn on the CPU path (body
//     data-state="done"), and to the first epoch.
//   node tests/browser/bench.mjs [runs] [settings]   (www/ built; e.g. `3 seeds=3`; PHASELAB_WWW to bench another site)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { WWW, serve, launch, newPage, waitDone, metrics } from "./lib.mjs";

function files(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const kib = (b) => (b / 1024).toFixed(1);
const rows = files(WWW).filter((f) => !f.endsWith(".gitkeep")).map((f) => {
  const raw = readFileSync(f);
  return { file: relative(WWW, f), raw: raw.length, gz: gzipSync(raw, { level: 9 }).length };
}).sort((a, b) => b.gz - a.gz);
const total = rows.reduce((a, r) => ({ raw: a.raw + r.raw, gz: a.gz + r.gz }), { raw: 0, gz: 0 });
console.log("\nsite size (www/)");
console.log("file".padEnd(36), "KiB".padStart(9), "gzip -9 KiB".padStart(12));
for (const r of rows) console.log(r.file.padEnd(36), kib(r.raw).padStart(9), kib(r.gz).padStart(12));
console.log("total".padEnd(36), kib(total.raw).padStart(9), kib(total.gz).padStart(12));

const runs = Number(process.argv[2] || 1);
// extra settings for the run, e.g. `node tests/browser/bench.mjs 3 seeds=3`
const extra = process.argv[3] ? `&${process.argv[3]}` : "";
const srv = await serve(WWW);
const browser = await launch();
const results = [];
try {
  for (let i = 0; i < runs; i++) {
    const { context, page } = await newPage(browser);
    await page.goto(srv.url + "#backend=cpu" + extra);
    await waitDone(page, 1800000);
    const t = await page.evaluate(() => ({
      first: Number(document.body.dataset.firstEpochMs), done: Number(document.body.dataset.doneMs),
      epochs: document.getElementById("epochs").value,
    }));
    const m = await metrics(page);
    const ms = await page.evaluate(() => [...document.querySelectorAll("#metrics tbody tr .c-ms")].map((td) => td.textContent));
    results.push({ ...t, models: m.map((r, j) => `${r.kind} ${ms[j]} ms/epoch, gerr ${r.gerr.toPrecision(3)}`) });
    await context.close();
  }
} finally {
  await browser.close();
  await srv.close();
}
console.log(`\ndefault run${extra ? " with " + extra.slice(1) : ""} on the CPU path (headless chromium, this machine)`);
console.log("run".padEnd(5), "first epoch s".padStart(14), "trained+drawn s".padStart(16), "epochs".padStart(7), "  models");
results.forEach((r, i) => console.log(String(i + 1).padEnd(5), (r.first / 1000).toFixed(2).padStart(14), (r.done / 1000).toFixed(2).padStart(16),
  String(r.epochs).padStart(7), "  " + r.models.join("; ")));
