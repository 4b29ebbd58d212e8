#!/bin/bash
# Prepares .device/ (git-ignored) for a GPU check on a machine with no Node and no FFmpeg:
# a static FFmpeg with NVDEC/NVENC/scale_cuda built from Debian's source, the fmv-core command
# linked against it, libx264, ffprobe, test clips made by the project's own synthesiser, and
# check.sh. Then, on the GPU machine: CLIPS='fhd-10s uhd-4s fhdi-3s' bash .device/check.sh
# (carry .device). Run from the repository root after `npm run build`.
set -euo pipefail
root=$(pwd)
work=${WORK:-/tmp/fmv-device-build}
mkdir -p "$work" .device
if [ ! -x "$work/prefix/bin/ffprobe" ]; then
  if [ ! -f /etc/apt/sources.list.d/debsrc.sources ]; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > /etc/apt/sources.list.d/debsrc.sources
  fi
  apt-get update -qq
  apt-get install -y -qq clang nasm libx264-dev libffmpeg-nvenc-dev >/dev/null
  (cd "$work" && apt-get source --download-only ffmpeg >/dev/null && tar xf ffmpeg_*.orig.tar.xz)
  bash "$root/scripts/device/build-ffmpeg-static.sh" "$(ls -d "$work"/ffmpeg-*/ | head -1)" "$work/prefix"
fi
rm -rf "$work/cmake" && mkdir -p "$work/cmake"
(cd "$work/cmake" && PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" cmake "$root" -DFMV_STATIC_FFMPEG=ON -DCMAKE_BUILD_TYPE=Release >/dev/null && make -j"$(nproc)" fmv-core >/dev/null)
cp "$work/cmake/fmv-core" "$work/prefix/bin/ffprobe" "$(ldconfig -p | awk '/libx264.so.164 /{print $NF; exit}')" .device/
cp scripts/device/check.sh .device/
node --input-type=module -e "
import { synthesizeFlightClip } from '$root/dist/index.js';
const clips = [['fhd-10s', 1920, 1080, 10, false], ['uhd-4s', 3840, 2160, 4, false], ['fhdi-3s', 1920, 1080, 3, true]];
for (const [name, width, height, seconds, interlaced] of clips) {
  await synthesizeFlightClip('.device/' + name + '.ts', { width, height, fps: 30, durationSeconds: seconds, interlaced, preset: 'ultrafast', videoBitRate: height > 1080 ? 25e6 : 8e6 });
}"
ls -la .device
