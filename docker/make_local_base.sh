#!/usr/bin/env bash
# Make a local Debian bookworm base image for podman when no registry is reachable (the images_smoke target):
# debootstrap a minimal rootfs, import it as IMAGE (default localhost/mshot-base:bookworm). Needs root, debootstrap
# and podman. Skips the work when the image already exists. The result stands in for debian:bookworm-slim.
set -euo pipefail
IMAGE=${1:-localhost/mshot-base:bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if podman image exists "$IMAGE"; then
  echo "base image $IMAGE exists"
  exit 0
fi
rootfs=$(mktemp -d /var/tmp/mshot-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$MIRROR"
cat > "$rootfs/etc/apt/sources.list" <<SOURCES
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$IMAGE"
echo "imported $IMAGE"
