// Shared by the browser tests and the benchmark: a static server for www/ on a free loopback port
// and a headless Debian chromium driven by playwright-core.
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { extname, join, normalize, resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const WWW = resolve(process.env.PHASELAB_WWW || join(ROOT, "www"));
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

// Serves `dir` on 127.0.0.1 (port 0: the system picks a free one). -> {url, close()}
export async function serve(dir = WWW) {
  const root = resolve(dir);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      let file = normalize(join(root, path));
      if (!file.startsWith(root)) {
        res.writeHead(403).end();
        return;
      }
      if ((await stat(file).catch(() => null))?.isDirectory()) file = join(file, "index.html");
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": MIME[extname(file)] || "application/octet-stream",
        "cache-control": "no-store",
      });
      res.end(body);
    } catch (_) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
    }
  });
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((ok) => { server.closeAllConnections?.(); server.close(() => ok()); }),
  };
}

export const BASE_ARGS = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
export const WEBGPU_ARGS = ["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"];

export async function launch({ webgpu = false } = {}) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing (apt-get install chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: webgpu ? [...BASE_ARGS, ...WEBGPU_ARGS] : BASE_ARGS,
  });
}

// A page that records console errors, page errors and failed requests.
export async function newPage(browser, { viewport = { width: 1280, height: 800 }, acceptDownloads = false } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText || ""}`));
  page.on("response", (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  // workers' console messages reach the page's console event in chromium; also catch their errors
  page.on("worker", (w) => {
    w.on("console", (m) => {
      if (m.type() === "error") problems.push(`worker console: ${m.text()}`);
    });
  });
  return { context, page, problems };
}

// Resolves when the page's body carries data-state="done"; fails early on data-state="error".
export async function waitDone(page, timeoutMs) {
  await page.waitForFunction(
    () => ["done", "error"].includes(document.body.dataset.state),
    null,
    { timeout: timeoutMs, polling: 250 },
  );
  const st = await page.evaluate(() => document.body.dataset.state);
  if (st === "error") throw new Error(`the page reports an error: ${await noticeText(page)}`);
}

export async function noticeText(page, level) {
  return page.evaluate((lvl) =>
    // a banner of several lines (a link's unusable values) counts as one notice a line
    [...document.querySelectorAll(`#notices .notice${lvl ? "." + lvl : ""}`)].flatMap((n) =>
      n.querySelector("li") ? [...n.querySelectorAll("li")].map((li) => li.textContent.trim()) : [n.textContent.replace(/×$/, "").trim()]),
  level);
}

// Rows of the metrics table as plain objects.
export async function metrics(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#metrics tbody tr")].map((tr) => ({
      id: Number(tr.dataset.id),
      kind: tr.dataset.kind,
      checkpoint: tr.dataset.checkpoint === "1",
      epoch: Number(tr.dataset.epoch || 0),
      loss: tr.dataset.loss !== undefined ? Number(tr.dataset.loss) : null,
      firstLoss: tr.dataset.firstLoss !== undefined ? Number(tr.dataset.firstLoss) : null,
      gerr: tr.dataset.gerr !== undefined ? Number(tr.dataset.gerr) : null,
      herr: tr.dataset.herr !== undefined ? Number(tr.dataset.herr) : null,
      evalEpoch: tr.dataset.evalEpoch !== undefined ? Number(tr.dataset.evalEpoch) : null,
    })));
}
