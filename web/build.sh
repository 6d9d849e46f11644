#!/usr/bin/env bash
# Builds the browser playground into www/: the phaselab-wasm crate for wasm32 (release), its
# JavaScript bindings (wasm-bindgen --target web, the CLI pinned to the crate's exact version),
# wasm-opt -Oz, and the page's own files from web/. No wasm-pack, no trunk, no CDN: every asset of
# the site is served from www/.
#   web/build.sh                    build everything
#   SKIP_CARGO=1 web/build.sh       reuse the last wasm32 build (front-end work)
#   PHASELAB_WASM_OPT=0 web/build.sh   skip wasm-opt (about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
out="$root/www"
wasm="$root/target/wasm32-unknown-unknown/wasm/phaselab_wasm.wasm"
log() { echo "web/build.sh: $*" >&2; }

# The wasm-bindgen CLI must equal the wasm-bindgen crate exactly (the lock file has the version).
wb_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
[ -n "$wb_version" ] || { log "no wasm-bindgen in Cargo.lock"; exit 1; }

if [ -z "${SKIP_CARGO:-}" ]; then
  rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
    || rustup target add wasm32-unknown-unknown
  cargo build --profile wasm --target wasm32-unknown-unknown -p phaselab-wasm
fi
[ -f "$wasm" ] || { log "$wasm is missing (build the crate first)"; exit 1; }

if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]; then
  log "installing wasm-bindgen-cli $wb_version (about 4 minutes)"
  # --locked first (the CLI's own lock file); when that names a crate version the registry does not
  # offer (wasm-bindgen-cli 0.2.130's lock names webpki-roots 1.0.11), resolve its dependencies afresh.
  cargo install wasm-bindgen-cli --version "=$wb_version" --locked \
    || cargo install wasm-bindgen-cli --version "=$wb_version"
fi

# wasm-opt: binaryen from npm (web/package.json, pinned), else Debian's. Debian bookworm's binaryen
# 108 cannot be used on this module: its read/write round trip alone turns wasm-bindgen's externref
# table into a funcref table, and the module then fails to start ("WebAssembly.Table.set(): Argument
# 1 is invalid for table"). Whichever runs, its output must load in node, else the build keeps the
# unoptimised module.
wasm_opt=""
if [ "${PHASELAB_WASM_OPT:-1}" != 0 ]; then
  if [ ! -x web/node_modules/.bin/wasm-opt ] && command -v npm >/dev/null 2>&1; then
    (cd web && npm ci --no-audit --no-fund --loglevel=error) || log "npm ci in web/ failed"
  fi
  if [ -x web/node_modules/.bin/wasm-opt ]; then
    wasm_opt=web/node_modules/.bin/wasm-opt
  else
    if ! command -v wasm-opt >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      log "installing Debian's binaryen (wasm-opt)"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq binaryen) >/dev/null || true
    fi
    if command -v wasm-opt >/dev/null 2>&1; then wasm_opt=wasm-opt; fi
  fi
fi

mkdir -p "$out"
bg="$out/pkg/phaselab_wasm_bg.wasm"
# www/pkg made from this very .wasm (and these options) already: only the page's files are copied.
stamp="$(sha256sum "$wasm" | cut -d' ' -f1) bindgen=$wb_version opt=${PHASELAB_WASM_OPT:-1}"
if [ -f "$out/pkg/.source" ] && [ "$(cat "$out/pkg/.source")" = "$stamp" ] && [ -f "$bg" ]; then
  find "$out" -maxdepth 1 -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' \) -delete
  cp web/*.html web/*.js web/*.css "$out/"
  log "www/pkg is up to date with $wasm; page files copied"
  exit 0
fi
rm -rf "$out/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$out/pkg" "$wasm"
before=$(stat -c %s "$bg")

# Does the module in www/pkg start (instantiate, call version())? Needs node; true without it.
loads() {
  command -v node >/dev/null 2>&1 || return 0
  node --input-type=module -e '
    const { readFileSync } = await import("node:fs");
    const dir = process.argv[1];
    const m = await import(dir + "/phaselab_wasm.js");
    m.initSync({ module: readFileSync(dir + "/phaselab_wasm_bg.wasm") });
    if (!m.version()) process.exit(1);' "$out/pkg"
}
loads || { log "the module from wasm-bindgen does not load in node"; exit 1; }

# rustc's wasm32 output uses these post-MVP features (every browser with WebGPU has them).
features=(--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
          --enable-mutable-globals --enable-reference-types --enable-multivalue)
if [ -n "$wasm_opt" ]; then
  log "$wasm_opt -Oz ($("$wasm_opt" --version 2>/dev/null | head -1))"
  mv "$bg" "$bg.orig"
  if "$wasm_opt" -Oz "${features[@]}" "$bg.orig" -o "$bg" 2>"$out/pkg/wasm-opt.log" \
      && loads 2>>"$out/pkg/wasm-opt.log"; then
    rm -f "$bg.orig"
  else
    mv -f "$bg.orig" "$bg"
    log "wasm-opt failed or its output does not load; keeping the unoptimised module: $(head -c 400 "$out/pkg/wasm-opt.log")"
  fi
  rm -f "$out/pkg/wasm-opt.log"
elif [ "${PHASELAB_WASM_OPT:-1}" != 0 ]; then
  log "no wasm-opt (npm binaryen or Debian's binaryen): the .wasm is not optimised"
fi
after=$(stat -c %s "$bg")
echo "$stamp" > "$out/pkg/.source"

# The page itself: copy (never edit www/ by hand).
find "$out" -maxdepth 1 -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' \) -delete
cp web/*.html web/*.js web/*.css "$out/"
gz=$(gzip -9 -c "$bg" | wc -c)
log "www/ ready: phaselab_wasm_bg.wasm $((before / 1024)) KiB -> $((after / 1024)) KiB ($((gz / 1024)) KiB gzipped); serve with web/serve.sh"
