"""Image definitions, checked without building: one image per stage (CPU, plus GPU variants), each starting
`mshot serve STAGE` as a non-root user on the stage's port; installs only from complete hashed locks that agree
with the local pins; and no licensed model file can reach an image through the build context."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mshot.config import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ("tracking", "keypoints", "multishot", "dataset", "orchestrator")
GPU_STAGES = ("tracking", "keypoints", "multishot")


def dockerfile_dir(component: str) -> Path:
    return ROOT / ("orchestrator" if component == "orchestrator" else f"services/{component}")


IMAGES = [(c, dockerfile_dir(c) / "Dockerfile") for c in COMPONENTS] + [
    (c, dockerfile_dir(c) / "Dockerfile.gpu") for c in GPU_STAGES]
IMAGE_IDS = [str(path.relative_to(ROOT)) for _, path in IMAGES]

# A requirement line in a lock: `name==version \` followed by `--hash=sha256:...` lines.
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+) \\$")


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def final_stage(dockerfile: Path) -> list[tuple[str, str]]:
    steps = instructions(dockerfile)
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[last_from:]


def lock_pins(lock: Path) -> dict[str, str]:
    pins, hashed = {}, set()
    current = None
    for line in lock.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = match.group(1).lower()
            pins[current] = match.group(2)
        elif line.strip().startswith("--hash=sha256:") and current:
            hashed.add(current)
        elif line.strip() and not line.startswith((" ", "#")):
            raise AssertionError(f"{lock}: unexpected line {line!r} (not a pinned, hashed requirement)")
    assert set(pins) == hashed, f"{lock}: requirements without hashes: {sorted(set(pins) - hashed)}"
    return pins


@pytest.mark.parametrize(("component", "dockerfile"), IMAGES, ids=IMAGE_IDS)
def test_image_serves_its_component_as_non_root_on_its_port(component, dockerfile):
    steps = dict(final_stage(dockerfile))
    assert steps["ENTRYPOINT"] == '["mshot", "serve"]'
    assert steps["CMD"] == f'["{component}"]'
    assert steps["USER"] == "10001:10001"
    user_setup = " ".join(args for word, args in final_stage(dockerfile) if word == "RUN")
    assert "groupadd --system --gid 10001 mshot" in user_setup, "USER's group must exist by that id"
    assert "useradd --system --uid 10001 --gid 10001" in user_setup
    assert steps["EXPOSE"] == str(DEFAULT_PORTS[component])
    assert f"MSHOT_PORT={DEFAULT_PORTS[component]}" in steps["ENV"]
    assert "MSHOT_HOST=0.0.0.0" in steps["ENV"]
    assert f"127.0.0.1:{DEFAULT_PORTS[component]}" in steps["HEALTHCHECK"]


@pytest.mark.parametrize(("component", "dockerfile"), IMAGES, ids=IMAGE_IDS)
def test_image_installs_only_from_its_own_hashed_locks(component, dockerfile):
    steps = instructions(dockerfile)
    lock_copies = [args for word, args in steps if word == "COPY" and ".lock" in args]
    assert len(lock_copies) == 1, "locks are copied in one step"
    locks = lock_copies[0].split()[:-1]
    assert locks and all(lock.startswith(str(dockerfile_dir(component).relative_to(ROOT)) + "/") for lock in locks)
    for lock in locks:
        assert (ROOT / lock).is_file(), lock
        assert lock_pins(ROOT / lock), lock
    deps = [args for word, args in steps if word == "RUN" and "install_venv.sh deps " in args]
    assert len(deps) == 1
    assert [f"/tmp/lock/{Path(lock).name}" for lock in locks] == deps[0].split("install_venv.sh deps ")[1].split()
    packages = [i for i, (word, args) in enumerate(steps) if word == "RUN" and args == "install_venv.sh package /src"]
    source_copies = [i for i, (word, args) in enumerate(steps) if word == "COPY" and args.endswith("/src/mshot")]
    assert len(packages) == 1 and len(source_copies) == 1
    assert steps.index(("RUN", deps[0])) < source_copies[0] < packages[0], "dependencies cached apart from sources"
    install_script = (ROOT / "docker" / "install_venv.sh").read_text()
    assert "--require-hashes --no-deps -r" in install_script


def test_locks_agree_with_the_local_runtime_pins():
    base = {}
    for line in (ROOT / "requirements" / "base.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            base[name.strip().lower()] = version.strip()
    locks = [*ROOT.glob("services/*/requirements*.lock"), ROOT / "orchestrator" / "requirements.lock"]
    assert len(locks) == 9
    for lock in locks:
        pins = lock_pins(lock)
        if lock.name.endswith("-nodeps.lock"):
            assert pins == {"mediapipe": "0.10.21"}
            continue
        for name in ("numpy", "protobuf", "grpcio", "grpcio-health-checking", "minio"):
            assert pins[name] == base[name], f"{lock}: {name} {pins[name]} != requirements/base.txt {base[name]}"
        assert "setuptools" in pins, f"{lock}: the package is built with --no-build-isolation"
        if lock.parent.name != "orchestrator":
            assert pins["smplx"] == base["smplx"]
            assert pins["pyopengl"] == "3.1.10", "pyrender's PyOpenGL 3.1.0 fails with OSMesa"
            expected_torch = "2.13.0" if lock.name == "requirements-gpu.lock" else "2.13.0+cpu"
            assert pins["torch"] == expected_torch, lock
        else:
            assert "torch" not in pins and "mediapipe" not in pins, "the orchestrator image is slim"


def test_gpu_images_pin_upstream_sources_by_full_commit():
    tracking = (ROOT / "services/tracking/Dockerfile.gpu").read_text()
    keypoints = (ROOT / "services/keypoints/Dockerfile.gpu").read_text()
    for name in ("PHALP_COMMIT", "HMR2_COMMIT", "DETECTRON2_COMMIT"):
        assert re.search(rf"^ARG {name}=[0-9a-f]{{40}}$", tracking, re.M), name
    assert re.search(r"^ARG OPENPOSE_COMMIT=[0-9a-f]{40}$", keypoints, re.M)
    assert re.search(r"^ARG BODY25_MD5=[0-9a-f]{32}$", keypoints, re.M)
    assert "md5sum -c" in keypoints
    assert "MSHOT_OPENPOSE_BIN=/opt/openpose/bin/openpose.bin" in keypoints
    assert "nvidia/cuda" in tracking and "libosmesa6" in tracking and "PYOPENGL_PLATFORM=osmesa" in tracking


def test_git_checkout_refuses_anything_but_a_full_commit_id(tmp_path):
    script = ROOT / "docker" / "git_checkout.sh"
    for commit in ("main", "96f7e6c", "96F7E6C09FB858EC3F597D59246C151AB4394BC3"):
        result = subprocess.run(["sh", str(script), "https://example.invalid/repo.git", commit, str(tmp_path / "x")],
                                capture_output=True, text=True, timeout=30)
        assert result.returncode == 2, commit
        assert "commit id" in result.stderr
        assert not (tmp_path / "x").exists()


def test_build_context_cannot_carry_licensed_models():
    patterns = [line for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line and not line.startswith("#")]
    assert patterns[0] == "*", "the context is an allow-list"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    assert allowed == {"pyproject.toml", "docker/*.sh", "mshot", "services", "orchestrator"}
    for suffix in ("pkl", "npz", "pth", "pt", "ckpt", "caffemodel"):
        assert f"**/*.{suffix}" in patterns, suffix
    for _, dockerfile in IMAGES:
        for word, args in instructions(dockerfile):
            if word == "COPY" and "--from=" not in args:
                for source in args.split()[:-1]:
                    top = source.split("/")[0]
                    assert top in {"pyproject.toml", "docker", "mshot", "services", "orchestrator"}, source



def test_images_of_stages_that_render_ship_headless_opengl():
    """pyrender renders through OSMesa, and imports pyglet, which loads libGL and libXrender even then
    (both were missing until make images-smoke ran the dataset image)."""
    rendering = []
    for component, dockerfile in IMAGES:
        if any("import pyrender" in path.read_text() for path in dockerfile_dir(component).rglob("*.py")):
            rendering.append(component)
            runtime = " ".join(args for word, args in final_stage(dockerfile) if word in ("RUN", "ENV"))
            for package in ("libosmesa6", "libgl1", "libxrender1"):
                assert package in runtime, f"{dockerfile}: {package}"
            assert "PYOPENGL_PLATFORM=osmesa" in runtime, dockerfile
    assert "dataset" in rendering
