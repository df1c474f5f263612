#!/usr/bin/env bash
# Fetch OpenCV's vtest.avi (real footage: pedestrians seen from above, 768x576, 10 fps, 795 frames) from
# Debian's opencv-doc package into data/external/. Idempotent; not committed (see .gitignore).
set -euo pipefail
cd "$(dirname "$0")/.."
target=data/external/vtest.avi
[ -s "$target" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download opencv-doc >/dev/null 2>&1) || {
  apt-get update -qq >/dev/null && (cd "$work" && apt-get download opencv-doc >/dev/null)
}
dpkg-deb -x "$work"/opencv-doc_*.deb "$work/x"
mkdir -p data/external
found=$(find "$work/x" -name vtest.avi | head -n1)
[ -n "$found" ] || { echo "vtest.avi not found in opencv-doc" >&2; exit 1; }
cp "$found" "$target"
echo "fetched $target" >&2
