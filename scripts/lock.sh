#!/usr/bin/env bash
# Regenerate every image's hashed lock file from docker/requirements/*.in (see docker/README.md).
#
#   scripts/lock.sh            # all locks
#   UV=/path/to/uv scripts/lock.sh
#
# Uses uv (`pip install uv` into a tool venv OUTSIDE the repo, e.g. python3 -m venv /tmp/lockvenv) so the project
# venv's pins are never touched. The CPU torch wheel comes from TORCH_CPU_SOURCE: the PyTorch CPU index by default,
# or a folder of wheels (e.g. /opt/wheels on build machines without access to download.pytorch.org).
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-uv}
TORCH_CPU_SOURCE=${TORCH_CPU_SOURCE:-https://download.pytorch.org/whl/cpu}
if [ -d "$TORCH_CPU_SOURCE" ]; then
  torch_source=(--find-links "$TORCH_CPU_SOURCE")
else
  torch_source=(--extra-index-url "$TORCH_CPU_SOURCE")
fi

in=docker/requirements
compile() {  # compile OUT IN... : a hashed lock for Linux x86_64, CPython 3.11 (the images' interpreter)
  local out=$1
  shift
  "$UV" pip compile --quiet --generate-hashes --no-cache \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --index-url https://pypi.org/simple --index-strategy unsafe-best-match \
    --override "$in/overrides.txt" --custom-compile-command "scripts/lock.sh" \
    "$@" -o "$out"
  echo "wrote $out"
}

cpu_stage=("$in/stage-cpu.in" "$in/build.in" "$in/torch-cpu.in")
for stage in tracking keypoints multishot dataset; do
  compile "services/$stage/requirements.lock" "${torch_source[@]}" "${cpu_stage[@]}"
done
compile services/tracking/requirements-gpu.lock "$in/tracking-gpu.in" "$in/build.in"
compile services/multishot/requirements-gpu.lock "$in/stage-gpu.in" "$in/build.in"
compile orchestrator/requirements.lock "$in/orchestrator.in" "$in/build.in"
# MediaPipe's declared dependencies (opencv-contrib, jax, sounddevice) are never imported: --no-deps.
for stage in tracking keypoints; do
  compile "services/$stage/requirements-nodeps.lock" --no-deps "$in/mediapipe.in"
done
