// URL-hash state: the full settings (keys of default_settings()) plus hide flags for embedding and
// the clicked initial condition (ic=q1,v1: where every rollout starts on the phase portrait),
// e.g. #system=chain-pendulum:1&models=node,node-so,hnn&width=64&...&hide_settings=1&ic=0.5,-1.2
// Parsing never throws: anything it cannot read becomes a notice and the default stays.

export const HIDE_FLAGS = ["hide_controls", "hide_settings", "hide_picker"];

function decode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch (_) {
    return null;
  }
}

export const IC_KEY = "ic";
const IC_MAX = 1e6; // |q1|, |v1| beyond this are not a state anyone clicked

/** "q1,v1" -> [q1, v1] (two finite numbers of at most IC_MAX in size), or null. */
export function parseIc(raw) {
  const parts = String(raw).split(",");
  if (parts.length !== 2) return null;
  const ic = parts.map((s) => (s.trim() === "" ? NaN : Number(s)));
  return ic.every((x) => Number.isFinite(x) && Math.abs(x) <= IC_MAX) ? ic : null;
}

// -> {values, hide, ic, notices}: values hold only keys of `defaults`, typed like the defaults;
// ic is [q1, v1] or null.
export function parseHash(hash, defaults) {
  const values = {};
  const hide = {};
  const notices = [];
  let ic = null;
  const text = (hash || "").replace(/^#/, "");
  if (!text) return { values, hide, ic, notices };
  for (const part of text.split("&")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    const key = decode(eq < 0 ? part : part.slice(0, eq));
    const raw = eq < 0 ? "" : decode(part.slice(eq + 1));
    if (key === null || raw === null) {
      notices.push(`link: could not read "${part.slice(0, 40)}"; ignored`);
      continue;
    }
    if (HIDE_FLAGS.includes(key)) {
      hide[key] = raw === "" || raw === "1" || raw === "true";
      continue;
    }
    if (key === IC_KEY) {
      const v = parseIc(raw);
      if (v) ic = v;
      else notices.push(`link: ic = "${raw.slice(0, 40)}" is not an initial condition q1,v1 (two numbers); using the test set's first state`);
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(defaults, key)) {
      notices.push(`link: unknown parameter "${key.slice(0, 40)}" ignored`);
      continue;
    }
    const d = defaults[key];
    if (Array.isArray(d)) {
      values[key] = raw.split(",").map((s) => s.trim()).filter(Boolean);
    } else if (typeof d === "number") {
      const n = raw.trim() === "" ? NaN : Number(raw);
      if (Number.isFinite(n)) values[key] = n;
      else notices.push(`link: ${key} = "${raw.slice(0, 40)}" is not a number; using ${d}`);
    } else if (typeof d === "boolean") {
      if (raw === "true" || raw === "1") values[key] = true;
      else if (raw === "false" || raw === "0") values[key] = false;
      else notices.push(`link: ${key} = "${raw.slice(0, 40)}" is not true/false; using ${d}`);
    } else {
      values[key] = raw;
    }
  }
  return { values, hide, ic, notices };
}

function enc(v) {
  return encodeURIComponent(String(v)).replace(/%2C/gi, ",").replace(/%3A/gi, ":");
}

/** The hash for `settings`, leaving out the keys in `omit` (e.g. drag on a system without drag). */
export function serializeHash(settings, hide, ic, omit = []) {
  const parts = [];
  for (const [k, v] of Object.entries(settings)) {
    if (omit.includes(k)) continue;
    parts.push(`${enc(k)}=${Array.isArray(v) ? v.map(enc).join(",") : enc(v)}`);
  }
  for (const f of HIDE_FLAGS) if (hide && hide[f]) parts.push(`${f}=1`);
  if (ic && parseIc(ic.join(","))) parts.push(`${IC_KEY}=${ic.map(enc).join(",")}`);
  return "#" + parts.join("&");
}
