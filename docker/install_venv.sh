#!/bin/sh
# install_venv.sh deps LOCK [LOCK...]        make /opt/venv holding exactly the hashed locks
# install_venv.sh package SRC [COMPONENT]    add the mshot package from SRC; with COMPONENT, that component's code
# Two steps so Docker caches the (large) dependency layer across source changes.
# deps: `pip install --require-hashes --no-deps -r LOCK` for each lock: nothing is resolved at build time and every
# file's hash is checked. Locks named *-nodeps.lock hold packages whose declared dependencies are deliberately
# skipped; they install the same way. Honours PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS, PIP_CERT (empty = unset).
# package: the wheel holds only the shared package `mshot` and the entry module `mshot_main`; the component's own
# code (services/<stage>/, or orchestrator/) is copied to /opt/mshot/app, which a .pth file in the venv puts on
# the import path - so no generic top-level name (`services`, `orchestrator`) lands in site-packages, and an image
# holds no other component's code.
set -eu
[ -n "${PIP_FIND_LINKS:-}" ] || unset PIP_FIND_LINKS
[ -n "${PIP_CERT:-}" ] || unset PIP_CERT
[ -n "${PIP_EXTRA_INDEX_URL:-}" ] || unset PIP_EXTRA_INDEX_URL
pip_install() { /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check "$@"; }
APP=/opt/mshot/app

# The source folders each component needs besides mshot/. The tracker still imports the multishot optimizer
# for its initial 3D fit (issue 13 moves that into mshot/; then tracking needs services/tracking only).
component_dirs() {
  case $1 in
    orchestrator) echo orchestrator ;;
    tracking) echo services/tracking services/multishot ;;
    keypoints | multishot | dataset) echo "services/$1" ;;
    *) echo "install_venv.sh: unknown component '$1'" >&2; return 2 ;;
  esac
}

mode=${1:-}
[ $# -ge 2 ] || { echo "usage: install_venv.sh deps LOCK... | install_venv.sh package SRC [COMPONENT]" >&2; exit 2; }
shift
case $mode in
  deps)
    "${PYTHON:-python3}" -m venv /opt/venv
    for lock in "$@"; do
      pip_install --require-hashes --no-deps -r "$lock"
    done
    ;;
  package)
    src=$1
    pip_install --no-deps --no-build-isolation "$src"
    if [ $# -ge 2 ]; then
      dirs=$(component_dirs "$2")
      mkdir -p "$APP"
      for dir in $dirs; do
        case $dir in services/*) mkdir -p "$APP/services" && cp "$src/services/__init__.py" "$APP/services/" ;; esac
        mkdir -p "$APP/$(dirname "$dir")"
        cp -r "$src/$dir" "$APP/$dir"
      done
      site=$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
      echo "$APP" > "$site/mshot-app.pth"
      # The component must be registered (its code and dependencies import), or the build fails, not the first pod.
      /opt/venv/bin/python -c "import mshot_main, sys; r = mshot_main.build_registry(); c = sys.argv[1]; \
        assert (r.start_orchestrator is not None) if c == 'orchestrator' else (c in r.stages), c" "$2"
    fi
    # Every command must import and the entry point must exist.
    /opt/venv/bin/mshot --help >/dev/null
    [ ! -d "$APP" ] || find "$APP" -name __pycache__ -prune -exec rm -rf {} +  # left by the checks above
    ;;
  *)
    echo "install_venv.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac
