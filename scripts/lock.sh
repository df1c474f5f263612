#!/usr/bin/env bash
# Regenerate every image's hashed lock file, docker/locks/<name>.lock, from docker/requirements/<name>.in
# (see docker/README.md). Each CPU image has its own dependency set, so the locks differ where the stages do.
#
#   scripts/lock.sh            # all locks
#   UV=/path/to/uv scripts/lock.sh
#   LOCKS="tracking dataset" scripts/lock.sh   # some of them
#
# Uses uv (`pip install uv` into a tool venv OUTSIDE the repo, e.g. python3 -m venv /tmp/lockvenv) so the project
# venv's pins are never touched. The CPU torch wheel comes from TORCH_CPU_SOURCE: the PyTorch CPU index by default,
# or a folder of wheels (e.g. /opt/wheels on build machines without access to download.pytorch.org).
set -euo pipefail
cd "$(dirname "$0")/.."

UV=${UV:-uv}
TORCH_CPU_SOURCE=${TORCH_CPU_SOURCE:-https://download.pytorch.org/whl/cpu}
LOCKS=${LOCKS:-orchestrator tracking keypoints multishot dataset gpu-tracking gpu-multishot mediapipe}
if [ -d "$TORCH_CPU_SOURCE" ]; then
  torch_source=(--find-links "$TORCH_CPU_SOURCE")
else
  torch_source=(--extra-index-url "$TORCH_CPU_SOURCE")
fi

in=docker/requirements
out=docker/locks
compile() {  # compile OUT IN... : a hashed lock for Linux x86_64, CPython 3.11 (the images' interpreter)
  local lock=$1
  shift
  "$UV" pip compile --quiet --generate-hashes --no-cache \
    --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
    --index-url https://pypi.org/simple --index-strategy unsafe-best-match \
    --override "$in/overrides.txt" --custom-compile-command "scripts/lock.sh" \
    "$@" -o "$out/$lock.lock"
  echo "wrote $out/$lock.lock"
}

for name in $LOCKS; do
  case $name in
    orchestrator) compile orchestrator "$in/orchestrator.in" "$in/build.in" ;;
    keypoints) compile keypoints "$in/keypoints.in" "$in/build.in" ;;
    tracking | multishot | dataset)  # the stages that run torch: its CPU build
      compile "$name" "${torch_source[@]}" "$in/$name.in" "$in/build.in" "$in/torch-cpu.in" ;;
    gpu-tracking | gpu-multishot) compile "$name" "$in/$name.in" "$in/build.in" ;;
    # MediaPipe's declared dependencies (opencv-contrib, jax, sounddevice) are never imported: --no-deps. One lock
    # for both stages that run BlazePose, under each one's name (docker/README.md, "Lock files").
    mediapipe)
      compile tracking-nodeps --no-deps "$in/mediapipe.in"
      cp "$out/tracking-nodeps.lock" "$out/keypoints-nodeps.lock" ;;
    *) echo "lock.sh: unknown lock '$name'" >&2; exit 2 ;;
  esac
done
