// Developer tool, not a test: load the page (HASH=#..., WEBGPU=1, W/H viewport), wait for done,
// print problems, notices and metrics, save a screenshot (SHOT=path, FULL=1 for the whole page).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT, serve, launch, newPage, waitDone, noticeText, metrics } from "./lib.mjs";
const srv = await serve();
const browser = await launch({ webgpu: !!process.env.WEBGPU });
const { page, problems } = await newPage(browser, { viewport: { width: +(process.env.W || 1280), height: +(process.env.H || 800) } });
const t0 = Date.now();
await page.goto(srv.url + (process.env.HASH || ""));
try { await waitDone(page, +(process.env.TIMEOUT || 120000)); } catch (e) { console.log("wait:", e.message); }
console.log("seconds", (Date.now() - t0) / 1000);
console.log("problems", problems);
console.log("notices", await noticeText(page));
console.log("metrics", await metrics(page));
console.log("hash", await page.evaluate(() => location.hash));
mkdirSync(join(ROOT, "tests", "artifacts"), { recursive: true });
await page.screenshot({ path: process.env.SHOT || join(ROOT, "tests", "artifacts", "smoke.png"), fullPage: !!process.env.FULL });
await browser.close(); await srv.close();
