#!/usr/bin/env bash
# One prepared run on a machine with an NVIDIA GPU: wgpu (Vulkan) training-step timings beside the
# CPU (flex) on the same machine, and wgpu-vs-flex loss parity through the real CLI. Uses a
# prebuilt phaselab binary ($PHASELAB, default out/gpu/phaselab) so the GPU time is not spent
# compiling. Results go to ${OUT:-out/gpu}.
set -uo pipefail
B=${PHASELAB:-out/gpu/phaselab}
O=${OUT:-out/gpu}
mkdir -p "$O"
exec > >(tee "$O/gpu-bench.log") 2>&1
date -u
# Vulkan set-up for a container with the NVIDIA driver but no loader: unpack the loader packages
# brought from a build machine (tools/gpu/fetch-loader.sh), and point the loader at the driver's
# manifest under the runtime's mount. phaselab also searches these folders itself.
if ! ldconfig -p | grep -q 'libvulkan.so.1'; then
  debs=${DEBS:-out/gpu/debs}
  if ls "$debs"/*.deb >/dev/null 2>&1; then
    root="$O/vulkan-root"
    for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
    export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    echo "Vulkan loader unpacked from $debs into $root"
  else
    echo "no libvulkan.so.1 and no loader packages in $debs (run tools/gpu/fetch-loader.sh on a build machine)"
  fi
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
if [ -f "$icd" ]; then
  export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  [ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH="/usr/local/nvidia/lib64:$LD_LIBRARY_PATH"
  echo "VK_DRIVER_FILES=$icd"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>/dev/null || echo "no Vulkan ICD directory"
nproc
for m in node node-so hnn; do
  timeout 120 "$B" bench train-step --model "$m" --device wgpu --steps 30 --torch /nonexistent
  timeout 120 "$B" bench train-step --model "$m" --device cpu --steps 30 --torch /nonexistent
done
for b in 2000 20000; do
  timeout 120 "$B" bench train-step --model hnn --device wgpu --batch "$b" --steps 10 --torch /nonexistent
  timeout 120 "$B" bench train-step --model hnn --device cpu --batch "$b" --steps 5 --torch /nonexistent
done
# Population training on the GPU (populations of K = 1 to 256 runs) beside batched PyTorch on
# CUDA, then the projected wall time of fig4 at the paper tier from the best measured rate of each model.
for m in node node-so hnn; do
  timeout 400 "$B" bench train-step --model "$m" --device wgpu --steps 10 \
    --population 1,8,32,64,128,256 --torch-population "${TORCH_POP:-tools/bench/torch_population.py}" \
    --torch-device cuda | tee "$O/population-$m.txt"
done
# fig4 at the paper tier: 6 systems x 4 models x 5 seeds x 8000 steps; hnn-general timed as hnn,
# every system at chain-pendulum:2's rate (the bench's system).
awk '/^phaselab /{m=$2} /runs x steps\/s/{for(i=1;i<=NF;i++) if($i=="runs"){r=$(i-1)+0; if(r>best[m]) best[m]=r}}
  END{n=6*5*8000; t=n/best["node"]+n/best["node-so"]+2*n/best["hnn"];
      printf "fig4 paper tier projected on this GPU: %.0f s (%.1f min) from best rates node %.1f, node-so %.1f, hnn %.1f runs x steps/s\n", t, t/60, best["node"], best["node-so"], best["hnn"]}' \
  "$O"/population-node.txt "$O"/population-node-so.txt "$O"/population-hnn.txt
# Parity: the same model, seed and data trained for a few epochs on both devices.
for d in cpu wgpu; do
  timeout 200 "$B" train --system chain-pendulum:2 --model hnn --epochs 5 --width 64 --n 250 --n-test 20 \
    --device "$d" --out "$O/parity-$d" > "$O/parity-$d.txt" 2>&1
  echo "== $d"; cat "$O/parity-$d/history.csv" 2>/dev/null || tail -5 "$O/parity-$d.txt"
done
date -u
