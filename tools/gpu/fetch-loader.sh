#!/usr/bin/env bash
# On a build machine with Debian's package archive: download the amd64 Vulkan/EGL loader packages
# a GPU container may lack (it has the NVIDIA driver but no loader, or a loader without glvnd)
# into ${1:-.gl}, for tools/gpu/bench.sh to unpack into / there (the GPU machine has no package
# access). Carry the folder with the run (the device tool's `carry`).
set -euo pipefail
dir=${1:-.gl}
mkdir -p "$dir" /tmp/amd64/partial
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
apt-get "${o[@]}" update -qq
cd "$dir"
apt-get "${o[@]}" download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2
for f in ./*.deb; do dpkg-deb --info "$f" >/dev/null || { echo "$f is not a Debian package" >&2; exit 1; }; done
ls -l ./*.deb
