#!/bin/sh
# install_venv.sh SRC LOCK [LOCK...]
# Builds /opt/venv from hashed lock files only (--require-hashes --no-deps: nothing is resolved at build time,
# every file's hash is checked), then installs the mshot package (mshot, services, orchestrator) from SRC.
# Lock files whose name ends in -nodeps.lock hold packages whose declared dependencies are deliberately skipped;
# they are installed the same way. Honours PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS (e.g. the PyTorch CPU index).
set -eu
[ -n "${PIP_FIND_LINKS:-}" ] || unset PIP_FIND_LINKS
[ -n "${PIP_CERT:-}" ] || unset PIP_CERT
[ -n "${PIP_EXTRA_INDEX_URL:-}" ] || unset PIP_EXTRA_INDEX_URL
src=$1
shift
"${PYTHON:-python3}" -m venv /opt/venv
for lock in "$@"; do
  /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --require-hashes --no-deps -r "$lock"
done
/opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps --no-build-isolation "$src"
# Every area's commands must import and the entry point must exist: fail the build, not the first pod.
/opt/venv/bin/mshot --help >/dev/null
