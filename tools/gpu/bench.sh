#!/usr/bin/env bash
# One prepared run on a machine with an NVIDIA GPU: wgpu (Vulkan) training-step timings beside the
# CPU (flex) on the same machine, population throughput beside batched PyTorch, the projected wall
# time of fig4 at the paper tier, and wgpu-vs-flex loss parity through the real CLI. Uses a
# prebuilt phaselab binary ($PHASELAB, default out/gpu/phaselab) so the GPU time is not spent
# compiling. Results go to ${OUT:-out/gpu}; the exit status is non-zero when any step failed.
#
#   tools/gpu/bench.sh              on the GPU machine (loader packages in ${DEBS:-.gl}, unpacked into /)
#   tools/gpu/bench.sh --lavapipe   every step on this machine's Mesa lavapipe (Vulkan on the CPU)
#                                   at tiny sizes, so that the script itself is tested (tests/run.sh)
set -uo pipefail
mode=gpu
[ "${1:-}" = "--lavapipe" ] && mode=lavapipe
B=${PHASELAB:-out/gpu/phaselab}
O=${OUT:-out/gpu}
# Unset on a bare machine; every later expansion must survive `set -u`.
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
mkdir -p "$O"
exec > >(tee "$O/gpu-bench.log") 2>&1
failed=()
fail() {
  echo "FAILED: $*"
  failed+=("$*")
}
[ -x "$B" ] || { echo "no phaselab binary at $B (set PHASELAB)"; exit 2; }
date -u
echo "mode: $mode"
if [ "$mode" = lavapipe ]; then
  steps=2 width=16 pops=1,2 batches="64" torch_device=cpu
  parity=(--epochs 2 --width 16 --n 40 --n-test 8)
else
  steps=30 width=256 pops=1,8,32,64,128,256 batches="2000 20000" torch_device=cuda
  parity=(--epochs 5 --width 64 --n 250 --n-test 20)
fi

# Vulkan set-up for a container with the NVIDIA driver but no loader (or a loader without glvnd,
# whose missing libGLdispatch.so.0 makes the NVIDIA ICD fail in vkCreateInstance): unpack the
# loader packages brought from a build machine (tools/gpu/fetch-loader.sh) into / and run ldconfig,
# the recipe known to work there. VULKAN_ROOT elsewhere puts them on LD_LIBRARY_PATH instead.
# (grep -c reads the whole list: grep -q would stop early, and under pipefail ldconfig's SIGPIPE
# would read as "missing")
have() { ldconfig -p | grep -c "$1" >/dev/null; }
if ! have 'libvulkan.so.1' || ! have 'libGLdispatch.so.0'; then
  debs=${DEBS:-.gl}
  root=${VULKAN_ROOT:-/}
  if ls "$debs"/*.deb >/dev/null 2>&1; then
    for d in "$debs"/*.deb; do
      dpkg -x "$d" "$root" || fail "dpkg -x $d $root"
    done
    if [ "$root" = / ]; then
      ldconfig
    else
      export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    fi
    echo "loader packages from $debs unpacked into $root"
    if [ "$root" = / ]; then
      have 'libvulkan.so.1' || fail "libvulkan.so.1 still missing after unpacking $debs"
      have 'libGLdispatch.so.0' || fail "libGLdispatch.so.0 (libglvnd0) still missing after unpacking $debs"
    fi
  else
    echo "libvulkan.so.1 or libGLdispatch.so.0 is missing and $debs holds no loader packages (run tools/gpu/fetch-loader.sh on a build machine)"
  fi
fi
# The driver: the NVIDIA runtime's manifests live under its read-only mount, outside the
# loader's folders.
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if [ "$mode" = gpu ] && [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "VK_DRIVER_FILES=$icd"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null || echo "no Vulkan ICD directory"
echo "cores: $(nproc)"

run() {
  local what=$1
  shift
  "$@" || fail "$what (exit $?)"
}

# One training step of each model, wgpu beside flex on this machine's cores.
for m in node node-so hnn; do
  for d in wgpu cpu; do
    run "train-step $m on $d" timeout 120 "$B" bench train-step --model "$m" --device "$d" \
      --steps "$steps" --width "$width" --torch /nonexistent
  done
done
for b in $batches; do
  for d in wgpu cpu; do
    run "train-step hnn batch $b on $d" timeout 120 "$B" bench train-step --model hnn --device "$d" \
      --batch "$b" --steps "$((steps < 10 ? steps : 10))" --width "$width" --torch /nonexistent
  done
done

# Population training on the GPU (populations of K runs) beside batched PyTorch where it is
# installed (CUDA on the GPU machine).
for m in node node-so hnn; do
  timeout 400 "$B" bench train-step --model "$m" --device wgpu --steps "$steps" --width "$width" \
    --population "$pops" --torch-population "${TORCH_POP:-tools/bench/torch_population.py}" \
    --torch-device "$torch_device" | tee "$O/population-$m.txt"
  [ "${PIPESTATUS[0]}" = 0 ] || fail "population sweep of $m"
done

# fig4 at the paper tier: 6 systems x 4 models x 5 seeds x 8000 steps; hnn-general timed as hnn,
# every system at chain-pendulum:2's rate (the bench's system), each model at its best measured
# population rate (phaselab's own lines only, not PyTorch's).
awk -v mode="$mode" '
  /^phaselab /{m=$2}
  /^  population /{for(i=1;i<=NF;i++) if($i=="runs"){r=$(i-1)+0; if(r>best[m]) best[m]=r}}
  END{
    missing="";
    split("node node-so hnn", ms, " ");
    for(k in ms) if(!(best[ms[k]]>0)) missing=missing " " ms[k];
    if(missing!=""){print "fig4 not projected: no measured population rate for" missing; exit 1}
    n=6*5*8000; t=n/best["node"]+n/best["node-so"]+2*n/best["hnn"];
    printf "fig4 paper tier projected%s: %.0f s (%.1f min) from best rates node %.1f, node-so %.1f, hnn %.1f runs x steps/s\n",
      (mode=="lavapipe" ? " (lavapipe at tiny sizes: a test of the script, not a figure)" : " on this GPU"),
      t, t/60, best["node"], best["node-so"], best["hnn"]
  }' "$O"/population-node.txt "$O"/population-node-so.txt "$O"/population-hnn.txt ||
  fail "fig4 projection"

# Parity: the same model, seed and data trained for a few epochs on both devices, compared epoch
# by epoch (f32 on both: the losses agree to rounding that grows slowly over the epochs).
for d in cpu wgpu; do
  rm -rf "$O/parity-$d"
  run "parity run on $d" timeout 300 "$B" train --system chain-pendulum:2 --model hnn "${parity[@]}" \
    --device "$d" --out "$O/parity-$d" > "$O/parity-$d.txt" 2>&1
  echo "== $d"
  { cat "$O/parity-$d/history.csv" && echo; } 2>/dev/null || tail -5 "$O/parity-$d.txt"
done
awk -F, -v tol="${PARITY_TOL:-1e-2}" '
  FNR==1{next}
  NR==FNR{cpu[$1]=$2; next}
  ($1 in cpu){n++; d=($2-cpu[$1]); if(d<0) d=-d; r=d/(cpu[$1]<0?-cpu[$1]:cpu[$1]); if(r>worst) worst=r}
  END{
    if(n==0){print "parity: no epochs to compare"; exit 1}
    printf "parity: wgpu against flex over %d epochs, largest relative loss difference %.2e (tolerance %s): %s\n", n, worst, tol, (worst<=tol ? "agree" : "DIFFER");
    exit (worst<=tol ? 0 : 1)
  }' "$O/parity-cpu/history.csv" "$O/parity-wgpu/history.csv" || fail "wgpu/flex parity"

date -u
if [ "${#failed[@]}" -gt 0 ]; then
  echo "tools/gpu/bench.sh: ${#failed[@]} step(s) failed: ${failed[*]}"
  exit 1
fi
echo "tools/gpu/bench.sh: every step ran"
