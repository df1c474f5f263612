#!/bin/sh
# docker/build_args.sh COMPONENT: the --build-arg flags docker/Dockerfile needs for one component, one word each:
#   docker build -f docker/Dockerfile $(sh docker/build_args.sh dataset) -t REGISTRY/mshot-dataset:VERSION .
# COMPONENT picks the lock (docker/locks/COMPONENT*.lock) and the code; PORT is its port (mshot.config.DEFAULT_PORTS);
# OSMESA=1 adds headless OpenGL for the stages that render (pyrender through OSMesa).
set -eu
osmesa=""
case ${1:-} in
  orchestrator) port=50050 ;;
  tracking) port=50051 ;;
  keypoints) port=50052 ;;
  multishot) port=50053 ;;
  dataset) port=50054 osmesa=1 ;;
  *) echo "usage: build_args.sh orchestrator|tracking|keypoints|multishot|dataset" >&2; exit 2 ;;
esac
echo "--build-arg COMPONENT=$1 --build-arg PORT=$port --build-arg OSMESA=$osmesa"
