#!/usr/bin/env bash
# System packages the project needs on Debian/Ubuntu: OSMesa for offscreen rendering (pyrender),
# ffmpeg libraries come with opencv-python-headless. Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
ldconfig -p 2>/dev/null | grep -q libOSMesa || missing+=(libosmesa6)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "mshot: please install: ${missing[*]} (OSMesa, for offscreen rendering)" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
