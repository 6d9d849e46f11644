// The settings panel, the system picker and the model toggles, and the settings' URL state
// (parse/serialize in state.js; clamping by the core's clamp_settings, with notices).

import { parseHash, serializeHash } from "./state.js";
import { $, S, pl, errText, notice, noticeList, DRAG_STORY } from "./page.js";
import { addThumbnail } from "./anim.js";

const LADDERS = {
  width: [8, 16, 32, 64, 128, 200, 256, 512],
  depth: [1, 2, 3, 4], // the core's clamp allows 1-4
  seeds: [1, 2, 3, 4, 5],
  lr: [1e-4, 3e-4, 1e-3, 2e-3, 3e-3, 5e-3, 1e-2, 2e-2, 3e-2, 1e-1],
};

/** -> {settings, notices}; clamp_settings never gets a value of the wrong JSON type (parseHash). */
export function clamp(values) {
  const merged = { ...S.defaults, ...values };
  try {
    const r = JSON.parse(pl.clamp_settings(JSON.stringify(merged)));
    return { settings: r.settings, notices: r.notices || [] };
  } catch (e) {
    return { settings: { ...S.defaults }, notices: [`settings could not be read (${errText(e)}); using the defaults`] };
  }
}

/** The current hash; drag only where the system has drag (elsewhere it does nothing). */
function currentHash() {
  const sys = systemEntry(S.settings.system);
  const omit = S.dataset || (sys && sys.drag) ? [] : ["drag"];
  return serializeHash(S.settings, S.hide, S.ic, omit);
}

export function writeHash() {
  const h = currentHash();
  if (location.hash !== h) history.replaceState(null, "", h);
}

/** Is the URL's hash the current settings' (a hashchange the page made itself)? */
export function hashIsCurrent() {
  return location.hash === currentHash();
}

function systemEntry(spec) {
  return S.systems.find((s) => s.spec === spec && !s.preset) || null;
}

/** The preset tile that settings `s` are on (its system, and models on body points), or null. */
export function presetOn(s) {
  const constrained = new Set(S.kinds.filter((k) => k.constrained).map((k) => k.kind));
  if (!s.models.some((m) => constrained.has(m))) return null;
  return S.systems.find((x) => x.preset && x.spec === s.system) || null;
}

function fillLadder(sel, key, value) {
  const ladder = [...LADDERS[key]];
  if (!ladder.includes(value)) ladder.push(value);
  ladder.sort((a, b) => a - b);
  sel.replaceChildren(...ladder.map((v) => {
    const o = document.createElement("option");
    o.value = String(v);
    o.textContent = String(v);
    return o;
  }));
  sel.value = String(value);
}

/** The panel, the toggles and the picker's checked tile from S.settings (and S.dataset). */
export function renderSettings() {
  const s = S.settings;
  for (const key of Object.keys(LADDERS)) fillLadder($(key), key, s[key]);
  for (const key of ["epochs", "n_train", "chunk", "seed", "drag", "batch"]) $(key).value = String(s[key]);
  $("integrator").value = s.integrator;
  $("loss").value = s.loss;
  $("backend").value = s.backend;
  for (const cb of document.querySelectorAll("#model-toggles input")) cb.checked = s.models.includes(cb.value);
  const sys = systemEntry(s.system);
  $("drag").disabled = !!S.dataset || !(sys && sys.drag);
  $("drag").closest(".field").classList.toggle("off", $("drag").disabled);
  const tiles = [...document.querySelectorAll("#systems .tile")];
  const preset = presetOn(s);
  for (const tile of tiles) {
    const on = S.dataset ? tile.dataset.spec === "@dataset"
      : tile.dataset.spec === s.system && (tile.dataset.preset || "") === (preset ? preset.preset : "");
    tile.setAttribute("aria-checked", on ? "true" : "false");
  }
  // the Tab stop is the checked tile unless focus is inside the picker already
  if (!tiles.includes(document.activeElement)) {
    setTabStop(tiles, Math.max(0, tiles.findIndex((t) => t.getAttribute("aria-checked") === "true")));
  }
  $("epochs-total").textContent = String(s.epochs);
}

/** A message at the settings field `key` (a clamped or unreadable value), where it was typed,
 *  instead of a banner; false when there is no such field. It goes after 10 s (a newer message at
 *  the same field replaces it). */
export function fieldNotice(key, text) {
  const el = key && document.getElementById(key);
  const field = el && el.closest("#settings .field");
  if (!field) return false;
  let msg = field.nextElementSibling;
  if (!msg || !msg.classList.contains("field-msg")) {
    msg = document.createElement("p");
    msg.className = "field-msg";
    msg.setAttribute("role", "status");
    msg.id = `${key}-msg`;
    field.after(msg);
  }
  msg.textContent = text;
  el.setAttribute("aria-describedby", msg.id);
  clearTimeout(msg.timer);
  msg.timer = setTimeout(() => {
    msg.remove();
    el.removeAttribute("aria-describedby");
  }, 10000);
  return true;
}

/** A clamp notice at its field when it names one ("epochs 1000000 is out of range…"), else a banner. */
export function settingsNotice(text) {
  const key = (text.match(/^([a-z_]+) /) || [])[1];
  if (!fieldNotice(key, text)) notice("warn", text);
}

/** A settings field's new value as a patch {key: value}; null (with a notice) when it is no number. */
export function readField(el) {
  const key = el.dataset.key;
  if (el.type === "number" || LADDERS[key]) {
    const n = Number(el.value);
    if (!Number.isFinite(n) || el.value === "") {
      settingsNotice(`${key} "${el.value}" is not a number; kept ${S.settings[key]}`);
      el.value = String(S.settings[key]);
      return null;
    }
    return { [key]: n };
  }
  return { [key]: el.value };
}

/** S.settings and the hide flags from the URL's hash, each unusable value with a notice. */
export function applyHash() {
  const { values, hide, ic, notices } = parseHash(location.hash, S.defaults);
  const r = clamp(values);
  const all = [...notices, ...r.notices.map((n) => (n.startsWith("link") ? n : `link: ${n}`))];
  noticeList("warn", `this link has ${all.length} values the page could not use:`, all);
  S.settings = r.settings;
  if (S.settings.system === "custom" || !systemEntry(S.settings.system)) {
    if (!S.dataset) {
      notice("warn", `link: system "${S.settings.system}" needs its dataset file, which a link cannot carry; showing ${S.defaults.system} (load the .npz to use it)`);
      S.settings.system = S.defaults.system;
    }
  }
  S.hide = hide;
  S.ic = ic;
  document.body.classList.toggle("hide-controls", !!hide.hide_controls);
  document.body.classList.toggle("hide-settings", !!hide.hide_settings);
  document.body.classList.toggle("hide-picker", !!hide.hide_picker);
  writeHash();
}

/** The picker's tiles (one moving thumbnail each, drawn by anim.js) and "your data"; onPick(spec). */
export function buildPicker(onPick) {
  const box = $("systems");
  const tiles = [];
  for (const s of S.systems) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "tile";
    b.setAttribute("role", "radio");
    b.dataset.spec = s.spec;
    if (s.preset) b.dataset.preset = s.preset;
    b.title = s.drag_preset ? `${s.title}. ${DRAG_STORY}` : s.title;
    b.tabIndex = -1; // one Tab stop for the whole picker (roving tabindex, set in renderSettings)
    const c = document.createElement("canvas");
    c.width = 192;
    c.height = 112;
    c.setAttribute("aria-hidden", "true");
    const label = document.createElement("span");
    label.textContent = s.label;
    b.append(c, label);
    b.addEventListener("click", () => {
      // the picker's one Tab stop follows the tile picked (a click focuses it)
      const all = [...box.querySelectorAll(".tile")];
      setTabStop(all, all.indexOf(b));
      onPick(s);
    });
    tiles.push(b);
    addThumbnail(c, s);
  }
  const custom = document.createElement("button");
  custom.type = "button";
  custom.className = "tile custom";
  custom.setAttribute("role", "radio");
  custom.dataset.spec = "@dataset";
  custom.title = "your own trajectories: a phaselab .npz (drop it anywhere)";
  custom.tabIndex = -1;
  custom.innerHTML = '<span class="plus" aria-hidden="true">+</span><span>your data (.npz)</span>';
  custom.addEventListener("click", () => $("dataset-file").click());
  tiles.push(custom);
  box.replaceChildren(...tiles);
  // shown under the row on a narrow screen, where the row scrolls
  $("picker").dataset.count = `${S.systems.length} systems and presets, and your own data: swipe the row for more`;
  // The picker is one Tab stop; arrow keys, Home and End move between tiles (a radiogroup with a
  // roving tabindex), Enter or Space picks the focused one.
  box.addEventListener("keydown", (e) => {
    const all = [...box.querySelectorAll(".tile")];
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const next = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: all.length - 1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    focusTile(all, (next + all.length) % all.length);
  });
}

/** The picker's one Tab stop on tile i (a roving tabindex). */
function setTabStop(all, i) {
  all.forEach((t, j) => (t.tabIndex = j === i ? 0 : -1));
}

/** Move the picker's one Tab stop to tile i and focus it. */
function focusTile(all, i) {
  setTabStop(all, i);
  all[i].focus();
  all[i].scrollIntoView({ block: "nearest", inline: "nearest" });
}

/** One checkbox per model kind of S.kinds; onChange(the checked kinds). */
export function buildModelToggles(onChange) {
  const box = $("model-toggles");
  for (const m of S.kinds) {
    const id = `model-${m.kind}`;
    const wrap = document.createElement("div");
    wrap.className = "toggle";
    const cb = document.createElement("input");
    cb.type = "checkbox";
    cb.id = id;
    cb.value = m.kind;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.title = m.title;
    const sw = document.createElement("span");
    sw.className = "swatch";
    try {
      sw.style.setProperty("--c", pl.model_colour(m.kind));
    } catch (_) {
      /* grey */
    }
    label.append(sw, document.createTextNode(" " + m.label));
    cb.addEventListener("change", () => {
      const chosen = [...box.querySelectorAll("input:checked")].map((x) => x.value);
      onChange(chosen);
    });
    wrap.append(cb, label);
    box.append(wrap);
  }
}
