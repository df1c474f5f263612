#!/bin/sh
# install_venv.sh deps LOCK [LOCK...]   make /opt/venv holding exactly the hashed locks
# install_venv.sh package SRC           add the mshot package (mshot, services, orchestrator) from SRC
# Two steps so Docker caches the (large) dependency layer across source changes.
# deps: `pip install --require-hashes --no-deps -r LOCK` for each lock: nothing is resolved at build time and every
# file's hash is checked. Locks named *-nodeps.lock hold packages whose declared dependencies are deliberately
# skipped; they install the same way. Honours PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_CERT (empty = unset).
set -eu
[ -n "${PIP_FIND_LINKS:-}" ] || unset PIP_FIND_LINKS
[ -n "${PIP_CERT:-}" ] || unset PIP_CERT
[ -n "${PIP_EXTRA_INDEX_URL:-}" ] || unset PIP_EXTRA_INDEX_URL
pip_install() { /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "$@"; }

mode=${1:-}
[ $# -ge 2 ] || { echo "usage: install_venv.sh deps LOCK... | install_venv.sh package SRC" >&2; exit 2; }
shift
case $mode in
  deps)
    "${PYTHON:-python3}" -m venv /opt/venv
    for lock in "$@"; do
      pip_install --require-hashes --no-deps -r "$lock"
    done
    ;;
  package)
    pip_install --no-deps --no-build-isolation "$1"
    # Every area's commands must import and the entry point must exist: fail the build, not the first pod.
    /opt/venv/bin/mshot --help >/dev/null
    ;;
  *)
    echo "install_venv.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
