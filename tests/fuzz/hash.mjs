// Fuzzes the page's URL-hash parser (web/state.js parseHash): random and mutated hashes must never
// throw, must yield only keys of the defaults with the defaults' types (and an initial condition ic
// of two finite numbers or none), and a hash written by serializeHash must read back to the same settings.
//   node tests/fuzz/hash.mjs [cases]        (default 20000; the long run uses 1000000)
import { parseHash, serializeHash, HIDE_FLAGS } from "../../web/state.js";

const cases = Number(process.argv[2] || 20000);
// The page's defaults (default_settings() of the wasm crate), with every kind of value it has.
const defaults = {
  system: "chain-pendulum:1", models: ["node", "node-so", "hnn"], width: 128, depth: 2, lr: 0.001,
  epochs: 60, integrator: "rk4-38", n_train: 400, chunk: 5, loss: "l2", seed: 0, drag: 0.5,
  batch: 200, backend: "auto", flag: false,
};
let state = 0x9e3779b9;
const rand = (n) => {
  state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
  return state % n;
};
const ALPHABET = "abcdefghijklmnopqrstuvwxyz_-0123456789.,:=&%#+ eE\u00e9\u{1F600}\\\"'<>/?";
const pieces = [...Object.keys(defaults), ...HIDE_FLAGS, "ic", "ic=0.5,-1", "__proto__", "constructor", "toString",
  "%", "%E0%A4%A", "%FF", "%00", "=", "&&", "NaN", "Infinity", "-1e309", "1e-400", "0x10", ",,,", "true", "1"];
const randomText = (len) => {
  let s = "";
  for (let i = 0; i < len; i++) {
    s += rand(3) === 0 ? pieces[rand(pieces.length)] : ALPHABET[rand(ALPHABET.length)];
  }
  return s;
};
const IC = [0.123456, -1.5e-3];
const valid = serializeHash(defaults, { hide_settings: true }, IC);
const mutate = (s) => {
  const a = [...s];
  for (let k = 0, n = 1 + rand(4); k < n; k++) {
    const i = rand(a.length + 1);
    switch (rand(4)) {
      case 0: a.splice(i, 1); break;
      case 1: a.splice(i, 0, pieces[rand(pieces.length)]); break;
      case 2: a.splice(i, rand(8)); break;
      default: a.splice(i, 0, ALPHABET[rand(ALPHABET.length)]);
    }
  }
  return a.join("");
};

const typeOf = (v) => (Array.isArray(v) ? "array" : typeof v);
let withNotices = 0;
const t0 = Date.now();
for (let c = 0; c < cases; c++) {
  const hash = c % 2 ? mutate(valid) : "#" + randomText(rand(80));
  let out;
  try {
    out = parseHash(hash, defaults);
  } catch (e) {
    throw new Error(`parseHash threw on case ${c}: ${JSON.stringify(hash)}: ${e}`);
  }
  for (const [k, v] of Object.entries(out.values)) {
    if (!Object.prototype.hasOwnProperty.call(defaults, k)) throw new Error(`case ${c}: unknown key ${k} from ${JSON.stringify(hash)}`);
    if (typeOf(v) !== typeOf(defaults[k])) throw new Error(`case ${c}: ${k} = ${JSON.stringify(v)} is not a ${typeOf(defaults[k])}: ${JSON.stringify(hash)}`);
    if (typeof v === "number" && !Number.isFinite(v)) throw new Error(`case ${c}: ${k} = ${v} from ${JSON.stringify(hash)}`);
  }
  if (Object.getPrototypeOf(out.values) !== Object.prototype) throw new Error(`case ${c}: values' prototype changed by ${JSON.stringify(hash)}`);
  for (const k of Object.keys(out.hide)) if (!HIDE_FLAGS.includes(k)) throw new Error(`case ${c}: hide flag ${k}`);
  if (out.ic !== null && !(Array.isArray(out.ic) && out.ic.length === 2 && out.ic.every((x) => typeof x === "number" && Number.isFinite(x)))) {
    throw new Error(`case ${c}: ic = ${JSON.stringify(out.ic)} from ${JSON.stringify(hash)}`);
  }
  if (out.notices.length) withNotices++;
}
// A written hash reads back to what was written.
const back = parseHash(valid, defaults);
if (JSON.stringify(back.values) !== JSON.stringify(defaults) || !back.hide.hide_settings || JSON.stringify(back.ic) !== JSON.stringify(IC) || back.notices.length) {
  throw new Error(`round trip changed the settings: ${JSON.stringify(back)}`);
}
console.log(`fuzz url hash: ${cases} cases in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${withNotices} with notices, none threw`);
