// File loading: a phaselab .npz dataset or a .phaselab checkpoint, from the file pickers or
// dropped anywhere on the page.

import { $, S, pl, errText, notice } from "./page.js";
import { renderSettings } from "./settings.js";
import { post, reset } from "./client.js";

/** A file of either kind, told apart by its extension, else by whether it reads as a dataset. */
async function loadFile(file) {
  let bytes;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    notice("error", `could not read ${file.name}: ${errText(e)}`);
    return;
  }
  const name = file.name || "file";
  if (/\.phaselab$/i.test(name)) return loadCheckpoint(name, bytes);
  if (/\.npz$/i.test(name)) return loadDataset(name, bytes);
  // no telling extension: a dataset if it reads as one, else a checkpoint
  try {
    pl.dataset_summary(bytes);
    return loadDataset(name, bytes);
  } catch (_) {
    return loadCheckpoint(name, bytes);
  }
}

function loadDataset(name, bytes) {
  let summary;
  try {
    summary = pl.dataset_summary(bytes);
  } catch (e) {
    notice("error", `${name} is not a phaselab dataset: it is ${pl.describe_file(bytes)}. The page needs an .npz ` +
      "with the arrays q, v, dt and metadata, as `phaselab data gen` writes.", { detail: errText(e) });
    return;
  }
  S.dataset = { name, bytes };
  S.wantRunning = !S.userPaused;
  notice("info", `dataset ${name}: ${summary.split("\n")[0]}`);
  notice("info", "a loaded dataset is not part of the page's link", { timeout: 6000 });
  renderSettings();
  reset();
}

function loadCheckpoint(name, bytes) {
  const key = ++S.ckptKey;
  S.checkpoints.push({ key, name, bytes });
  post({ type: "checkpoint", key, name, bytes: bytes.slice() });
}

/** The file pickers and drag and drop anywhere on the page. */
export function wireFiles() {
  // "load dataset" loads a dataset (a checkpoint chosen there by its extension is one, and is
  // loaded as such); anything else that is not a dataset is explained as not being one
  $("dataset-file").addEventListener("change", async (e) => {
    const f = e.target.files && e.target.files[0];
    e.target.value = "";
    if (!f) return;
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      if (/\.phaselab$/i.test(f.name)) loadCheckpoint(f.name, bytes);
      else loadDataset(f.name || "file", bytes);
    } catch (err) {
      notice("error", `could not read ${f.name}: ${errText(err)}`);
    }
  });
  $("checkpoint-file").addEventListener("change", async (e) => {
    const f = e.target.files && e.target.files[0];
    e.target.value = "";
    if (!f) return;
    try {
      loadCheckpoint(f.name, new Uint8Array(await f.arrayBuffer()));
    } catch (err) {
      notice("error", `could not read ${f.name}: ${errText(err)}`);
    }
  });
  // drag and drop anywhere
  let depth = 0;
  const overlay = $("drop-overlay");
  window.addEventListener("dragenter", (e) => {
    if (!e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
    depth += 1;
    overlay.hidden = false;
  });
  window.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    for (const f of e.dataTransfer ? e.dataTransfer.files : []) loadFile(f).catch((err) => notice("error", errText(err)));
  });
}
