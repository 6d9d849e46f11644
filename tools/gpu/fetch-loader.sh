#!/usr/bin/env bash
# On a build machine with Debian's package archive: download the Vulkan/EGL loader packages a GPU
# container may lack (it has the NVIDIA driver but no loader) into ${1:-out/gpu/debs}, for
# tools/gpu/bench.sh to unpack there (the GPU machine has no package access).
set -euo pipefail
dir=${1:-out/gpu/debs}
mkdir -p "$dir"
cd "$dir"
apt-get download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2
ls -l ./*.deb
