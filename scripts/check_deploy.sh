#!/usr/bin/env bash
# Deployment checks that need no cluster and no registry (make deploy-check, part of make test):
#   1. `kubectl kustomize` renders every overlay in k8s/overlays/;
#   2. `kubernetes-validate --strict` accepts every rendered object (unknown fields fail);
#   3. hadolint passes on every Dockerfile (ignores are justified in place).
# Rendered manifests are left in $OUT (default: out/k8s) for inspection and for tests/test_deploy_manifests.py.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${BIN:-.venv/bin}
OUT=${OUT:-out/k8s}
KUBECTL=${KUBECTL:-kubectl}
VALIDATE=${VALIDATE:-$BIN/kubernetes-validate}
HADOLINT=${HADOLINT:-$BIN/hadolint}
K8S_VERSIONS=${K8S_VERSIONS:-1.30.0 1.37.0}  # oldest supported and newest schema bundled

for tool in "$KUBECTL" "$VALIDATE" "$HADOLINT"; do
  command -v "$tool" >/dev/null || { echo "check_deploy: $tool not found (pip pins: requirements/dev.txt)" >&2; exit 2; }
done

mkdir -p "$OUT"
status=0
overlays=(k8s/overlays/*/)
for overlay in "${overlays[@]}"; do
  name=$(basename "$overlay")
  rendered="$OUT/$name.yaml"
  if ! "$KUBECTL" kustomize "$overlay" > "$rendered"; then
    echo "FAIL render $overlay" >&2
    status=1
    continue
  fi
  for version in $K8S_VERSIONS; do
    if "$VALIDATE" --strict --quiet --kubernetes-version "$version" "$rendered"; then
      echo "ok   $overlay ($(grep -c '^kind:' "$rendered") objects, Kubernetes $version schemas, strict)"
    else
      echo "FAIL validate $rendered against Kubernetes $version" >&2
      status=1
    fi
  done
done

mapfile -t dockerfiles < <(git ls-files --cached --others --exclude-standard -- '*Dockerfile*' | grep -E '(^|/)Dockerfile(\.[a-z0-9]+)?$' | sort)
for dockerfile in "${dockerfiles[@]}"; do
  if "$HADOLINT" "$dockerfile"; then
    echo "ok   $dockerfile (hadolint)"
  else
    echo "FAIL hadolint $dockerfile" >&2
    status=1
  fi
done
[ ${#dockerfiles[@]} -gt 0 ] || { echo "FAIL no Dockerfiles found" >&2; status=1; }
exit $status
