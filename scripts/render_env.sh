#!/usr/bin/env bash
# The ground-truth video renderer's own environment (scripts/render_gt_video.py), kept apart from the project's venv
# (anny needs numpy 2 and warp-lang). Usage: bash scripts/render_env.sh [VENV_DIR]   (default /work/venvs/render)
# Needs Debian's libosmesa6 (scripts/system_deps.sh installs it). Three steps, because pip cannot resolve one:
#   1. torch first, so that anny's dependency on it does not make pip pick a multi-GB CUDA build;
#   2. requirements/render.txt (pyrender brings PyOpenGL 3.1.0, as it pins);
#   3. PyOpenGL 3.1.10 over it with --no-deps: 3.1.0 fails with OSMesa, pyrender runs with 3.1.10.
set -euo pipefail
VENV=${1:-/work/venvs/render}
PY=${PY:-python3.11}
HERE=$(cd "$(dirname "$0")/.." && pwd)
test -x "$VENV/bin/python" || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q torch==2.13.0
"$VENV/bin/pip" install -q -r "$HERE/requirements/render.txt"
"$VENV/bin/pip" install -q --no-deps -r "$HERE/requirements/render-opengl.txt"
PYOPENGL_PLATFORM=osmesa "$VENV/bin/python" -c "import anny, pyrender, OpenGL; print('render env ready:', '$VENV', 'PyOpenGL', OpenGL.__version__)"
