#!/usr/bin/env bash
# make images-smoke: build the CPU images with podman from a locally made Debian base (no registry needed), check
# them (non-root, no licensed model files inside, `mshot health` works in the image), then run one job across them:
# orchestrator + four stage containers against a real S3 endpoint (moto server), submitted with the mshot CLI.
#
# Needs root, podman + runc + debootstrap (apt-get install podman runc debootstrap), network to Debian and PyPI.
# Slow the first time (debootstrap, pip installs of ~1 GB per image); later runs reuse podman's layer cache.
# Environment:
#   VIDEO=data/sample/multishot_sample.mp4   the job's input (make run builds it)
#   WHEELS=/opt/wheels                        extra wheels folder mounted into builds (e.g. the CPU torch wheel)
#   BUILD_CA=/etc/ssl/certs/ca-certificates.crt  CA bundle for a TLS-inspecting proxy on the build network
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu   set empty when WHEELS provides torch
#   BASE_PORT=56050  S3_PORT=56049  SMOKE_TIMEOUT=2400  KEEP=1 (leave containers running)
set -euo pipefail
cd "$(dirname "$0")/.."

export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/docker/podman/containers.conf}
VIDEO=${VIDEO:-data/sample/multishot_sample.mp4}
WHEELS=${WHEELS:-}
BUILD_CA=${BUILD_CA:-}
TORCH_INDEX=${TORCH_INDEX-https://download.pytorch.org/whl/cpu}
BASE_IMAGE=${BASE_IMAGE:-localhost/mshot-base:bookworm}
BASE_PORT=${BASE_PORT:-56050}
S3_PORT=${S3_PORT:-56049}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-2400}
BIN=${BIN:-.venv/bin}
WORK=${WORK:-out/images-smoke}
TAG=smoke
COMPONENTS=(orchestrator tracking keypoints multishot dataset)

log() { echo "images-smoke: $*" >&2; }
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || { log "$tool is missing (apt-get install podman runc debootstrap)"; exit 2; }
done
[ -f "$VIDEO" ] || { log "no input video $VIDEO (make run builds the sample)"; exit 2; }
mkdir -p "$WORK"

# 1. base image, then every CPU image
bash docker/make_local_base.sh "$BASE_IMAGE"
build_args=(--format docker --network host --build-arg "BASE_IMAGE=$BASE_IMAGE"
            --build-arg "PIP_EXTRA_INDEX_URL=$TORCH_INDEX")
if [ -n "$WHEELS" ]; then
  build_args+=(--volume "$(realpath "$WHEELS"):/wheels:ro" --build-arg PIP_FIND_LINKS=/wheels)
fi
if [ -n "$BUILD_CA" ]; then
  build_args+=(--volume "$(realpath "$BUILD_CA"):/run/mshot-build-ca.crt:ro" --build-arg PIP_CERT=/run/mshot-build-ca.crt)
fi
for component in "${COMPONENTS[@]}"; do
  start=$SECONDS
  read -r -a component_args <<< "$(sh docker/build_args.sh "$component")"
  podman build "${build_args[@]}" "${component_args[@]}" -f docker/Dockerfile -t "localhost/mshot-$component:$TAG" . \
    > "$WORK/build-$component.log" 2>&1 || { log "build of $component failed: $WORK/build-$component.log"; exit 1; }
  log "built mshot-$component ($((SECONDS - start)) s, $(podman image inspect --format '{{.Size}}' "localhost/mshot-$component:$TAG" | numfmt --to=iec))"
done

# 2. static checks on each image: the user, and no licensed model files anywhere in it
for component in "${COMPONENTS[@]}"; do
  image="localhost/mshot-$component:$TAG"
  user=$(podman image inspect --format '{{.Config.User}}' "$image")
  [ "$user" = "10001:10001" ] || { log "$image runs as '$user', not 10001:10001"; exit 1; }
  ids=$(podman run --rm --no-healthcheck --entrypoint id "$image")
  [ "$ids" = "uid=10001(mshot) gid=10001(mshot) groups=10001(mshot)" ] || { log "$image: id says $ids"; exit 1; }
  found=$(podman run --rm --no-healthcheck --entrypoint /bin/sh "$image" -c \
    "find / -xdev -type f \( -iname '*smpl*.pkl' -o -iname 'basicModel*' -o -iname 'gmm_08.pkl' \
       -o -iname '*.caffemodel' -o -iname 'hmar*.pth' \) 2>/dev/null" || true)
  [ -z "$found" ] || { log "$image contains licensed model files: $found"; exit 1; }
  # Its own component's code only, and no generic top-level package in site-packages.
  apps=$(podman run --rm --no-healthcheck --entrypoint /bin/sh "$image" -c \
    "cd /opt/mshot/app && find . -mindepth 1 -maxdepth 2 -type d | sort | tr '\n' ' '; \
     ls /opt/venv/lib/python3*/site-packages | grep -x -E 'services|orchestrator' || true")
  log "mshot-$component holds: $apps"
  case $component in
    orchestrator) expected="./orchestrator " ;;
    tracking) expected="./services ./services/multishot ./services/tracking " ;;  # until issue 13 lands
    *) expected="./services ./services/$component " ;;
  esac
  [ "$apps" = "$expected" ] || { log "$image holds '$apps', expected '$expected'"; exit 1; }
done
log "images run as 10001:10001, hold only their component's code and no SMPL / model weight files"

# 3. one job across the containers: moto S3 on the host, every container on the host network
cleanup() {
  if [ -z "${KEEP:-}" ]; then
    for component in "${COMPONENTS[@]}"; do podman rm -f "mshot-smoke-$component" >/dev/null 2>&1 || true; done
  fi
  [ -n "${moto_pid:-}" ] && kill "$moto_pid" 2>/dev/null || true
}
trap cleanup EXIT
"$BIN/moto_server" -H 127.0.0.1 -p "$S3_PORT" > "$WORK/moto.log" 2>&1 &
moto_pid=$!
model="$WORK/models/smpl/SMPL_NEUTRAL.pkl"
[ -f "$model" ] || "$BIN/mshot" body make-model --out "$model"
chmod -R a+rX "$WORK/models"

declare -A port=([orchestrator]=$BASE_PORT [tracking]=$((BASE_PORT + 1)) [keypoints]=$((BASE_PORT + 2))
                 [multishot]=$((BASE_PORT + 3)) [dataset]=$((BASE_PORT + 4)))
common_env=(--env MSHOT_STORE=s3://mshot-smoke --env "MSHOT_S3_ENDPOINT=127.0.0.1:$S3_PORT"
            --env MSHOT_S3_ACCESS_KEY=smoke --env MSHOT_S3_SECRET_KEY=smoke-secret --env MSHOT_S3_SECURE=false
            --env MSHOT_HOST=127.0.0.1 --env MSHOT_BODY_MODEL=/models/smpl/SMPL_NEUTRAL.pkl)
for stage in tracking keypoints multishot dataset; do
  common_env+=(--env "MSHOT_${stage^^}_ADDR=dns:///127.0.0.1:${port[$stage]}")
done
for component in tracking keypoints multishot dataset orchestrator; do
  podman rm -f "mshot-smoke-$component" >/dev/null 2>&1 || true
  # As in k8s/base: read-only root, writable /tmp and /scratch (emptyDirs there), the body model read-only.
  rm -rf "$WORK/scratch/$component" && mkdir -p "$WORK/scratch/$component" && chown 10001:10001 "$WORK/scratch/$component"
  podman run -d --name "mshot-smoke-$component" --network host --read-only --no-healthcheck \
    --tmpfs /tmp:rw,mode=1777 --volume "$(realpath "$WORK/scratch/$component"):/scratch" \
    --volume "$(realpath "$WORK/models"):/models:ro" \
    "${common_env[@]}" --env "MSHOT_PORT=${port[$component]}" \
    "localhost/mshot-$component:$TAG" >/dev/null
done
for component in "${COMPONENTS[@]}"; do
  deadline=$((SECONDS + 600))
  # The image's own health command, as the TLS probes and HEALTHCHECK use it.
  until podman exec "mshot-smoke-$component" mshot health --addr "127.0.0.1:${port[$component]}" >/dev/null 2>&1; do
    if [ "$(podman inspect --format '{{.State.Running}}' "mshot-smoke-$component")" != true ] || [ $SECONDS -gt $deadline ]; then
      podman logs "mshot-smoke-$component" > "$WORK/$component.log" 2>&1 || true
      log "$component did not report SERVING; log: $WORK/$component.log"
      exit 1
    fi
    sleep 2
  done
  log "$component SERVING on ${port[$component]}"
done

start=$SECONDS
status=0
timeout "$SMOKE_TIMEOUT" "$BIN/mshot" submit "$VIDEO" --addr "127.0.0.1:${port[orchestrator]}" --watch \
  --tracking-backend cpu --keypoints-backend cpu --device cpu > "$WORK/job.json" 2> "$WORK/job.progress" || status=$?
for component in "${COMPONENTS[@]}"; do podman logs "mshot-smoke-$component" > "$WORK/$component.log" 2>&1 || true; done
if [ $status -ne 0 ]; then
  log "the job did not succeed (exit $status) after $((SECONDS - start)) s: $WORK/job.json, $WORK/*.log"
  exit 1
fi
log "job succeeded across the containers in $((SECONDS - start)) s; result: $WORK/job.json"
