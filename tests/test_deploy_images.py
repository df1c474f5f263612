"""Image definitions, checked without building: every CPU image comes from one Dockerfile (docker/Dockerfile, a
build argument per component), GPU variants from services/*/Dockerfile.gpu; each starts `mshot serve` for its
component as a non-root user on the component's port; installs only from its own complete hashed locks, which
agree with the local pins and differ where the stages' dependencies do; the wheel holds no generic top-level
package; and no licensed model file can reach an image through the build context."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from mshot.config import DEFAULT_PORTS

ROOT = Path(__file__).resolve().parents[1]
COMPONENTS = ("tracking", "keypoints", "multishot", "dataset", "orchestrator")
GPU_STAGES = ("tracking", "keypoints", "multishot")
CPU_DOCKERFILE = ROOT / "docker" / "Dockerfile"
GPU_DOCKERFILES = {stage: ROOT / f"services/{stage}/Dockerfile.gpu" for stage in GPU_STAGES}
LOCKS = ROOT / "docker" / "locks"

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


def build_args(component: str) -> dict[str, str]:
    """What docker/build_args.sh gives docker/Dockerfile for `component`."""
    words = subprocess.run(["sh", str(ROOT / "docker/build_args.sh"), component], capture_output=True, text=True,
                           check=True, timeout=30).stdout.split()
    assert words[::2] == ["--build-arg"] * (len(words) // 2)
    return dict(word.split("=", 1) for word in words[1::2])


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


def image_locks(component: str) -> list[Path]:
    """The locks docker/Dockerfile's `COPY docker/locks/${COMPONENT}*.lock` takes for `component`."""
    return sorted(LOCKS.glob(f"{component}*.lock"))


def image_pins(component: str) -> dict[str, str]:
    return {name: version for lock in image_locks(component) for name, version in lock_pins(lock).items()}


def test_cpu_image_serves_its_component_as_non_root_on_its_port():
    steps = dict(final_stage(CPU_DOCKERFILE))
    assert steps["ENTRYPOINT"] == '["mshot", "serve"]' and "CMD" not in steps, "mshot serve reads MSHOT_COMPONENT"
    assert steps["USER"] == "10001:10001"
    user_setup = " ".join(args for word, args in final_stage(CPU_DOCKERFILE) if word == "RUN")
    assert "groupadd --system --gid 10001 mshot" in user_setup, "USER's group must exist by that id"
    assert "useradd --system --uid 10001 --gid 10001" in user_setup
    assert steps["EXPOSE"] == "${PORT}"
    settings = ("MSHOT_COMPONENT=${COMPONENT}", "MSHOT_PORT=${PORT}", "MSHOT_HOST=0.0.0.0", "MSHOT_SCRATCH=/scratch")
    for setting in settings:
        assert setting in steps["ENV"], setting
    assert "127.0.0.1:$MSHOT_PORT" in steps["HEALTHCHECK"]
    for component in COMPONENTS:
        args = build_args(component)
        assert args["COMPONENT"] == component and args["PORT"] == str(DEFAULT_PORTS[component])


@pytest.mark.parametrize("stage", GPU_STAGES)
def test_gpu_image_serves_its_stage_as_non_root_on_its_port(stage):
    steps = dict(final_stage(GPU_DOCKERFILES[stage]))
    assert steps["ENTRYPOINT"] == '["mshot", "serve"]'
    assert steps["CMD"] == f'["{stage}"]'
    assert steps["USER"] == "10001:10001"
    assert steps["EXPOSE"] == str(DEFAULT_PORTS[stage])
    assert f"MSHOT_PORT={DEFAULT_PORTS[stage]}" in steps["ENV"] and "MSHOT_HOST=0.0.0.0" in steps["ENV"]
    assert f"127.0.0.1:{DEFAULT_PORTS[stage]}" in steps["HEALTHCHECK"]


@pytest.mark.parametrize("dockerfile", [CPU_DOCKERFILE, *GPU_DOCKERFILES.values()], ids=lambda p: p.parent.name)
def test_image_installs_only_from_hashed_locks_then_its_own_component(dockerfile):
    steps = instructions(dockerfile)
    lock_copies = [args for word, args in steps if word == "COPY" and ".lock" in args]
    assert len(lock_copies) == 1, "locks are copied in one step"
    assert all(source.startswith("docker/locks/") for source in lock_copies[0].split()[:-1])
    deps = [i for i, (word, args) in enumerate(steps) if word == "RUN" and "install_venv.sh deps " in args]
    packages = [i for i, (word, args) in enumerate(steps) if word == "RUN" and "install_venv.sh package /src " in args]
    sources = [i for i, (word, args) in enumerate(steps) if word == "COPY" and args.endswith("/src/mshot")]
    assert len(deps) == len(packages) == len(sources) == 1
    assert deps[0] < sources[0] < packages[0], "dependencies cached apart from sources"
    component = steps[packages[0]][1].split("install_venv.sh package /src ")[1]
    assert component in ("${COMPONENT}", '"${COMPONENT}"', *GPU_STAGES)
    assert ("COPY", "--from=build /opt/mshot /opt/mshot") in final_stage(dockerfile), "the component's code"
    for source in lock_copies[0].split()[:-1]:
        if "$" not in source:
            assert lock_pins(ROOT / source), source
    install_script = (ROOT / "docker" / "install_venv.sh").read_text()
    assert "--require-hashes --no-deps -r" in install_script


def test_each_cpu_image_has_its_own_locks_that_agree_with_the_local_pins():
    base = {}
    for line in (ROOT / "requirements" / "base.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            base[name.strip().lower()] = version.strip()
    for component in COMPONENTS:
        pins = image_pins(component)
        assert [lock.stem for lock in image_locks(component)] in ([component], [f"{component}-nodeps", component])
        for name in ("numpy", "protobuf", "grpcio", "grpcio-health-checking", "minio", "opencv-python-headless"):
            assert pins[name] == base[name], f"{component}: {name} {pins[name]} != requirements/base.txt {base[name]}"
        assert "setuptools" in pins, f"{component}: the package is built with --no-build-isolation"
        if "smplx" in pins:
            assert pins["smplx"] == base["smplx"] and pins["torch"] == "2.13.0+cpu", component
    for lock in ("gpu-tracking", "gpu-multishot"):
        pins = lock_pins(LOCKS / f"{lock}.lock")
        assert pins["torch"] == "2.13.0" and pins["smplx"] == base["smplx"] and pins["numpy"] == base["numpy"]


def test_cpu_locks_differ_where_the_stages_do():
    pins = {component: image_pins(component) for component in COMPONENTS}
    with_mediapipe = {c for c, p in pins.items() if "mediapipe" in p}
    with_torch = {c for c, p in pins.items() if "torch" in p}
    with_pyrender = {c for c, p in pins.items() if "pyrender" in p}
    assert with_mediapipe == {"tracking", "keypoints"}
    assert with_torch == {"tracking", "multishot", "dataset"}, "keypoints runs BlazePose without torch"
    assert with_pyrender == {"dataset"} and pins["dataset"]["pyopengl"] == "3.1.10"
    assert "scenedetect-headless" in pins["tracking"] and "scenedetect-headless" not in pins["keypoints"]
    assert not {"scipy", "smplx", "pycocotools"} & set(pins["orchestrator"]), "the orchestrator image is slim"
    texts = [lock.read_text() for lock in LOCKS.glob("*.lock") if not lock.stem.endswith("-nodeps")]
    assert len(texts) == len(set(texts)) == 7


def test_the_two_nodeps_locks_are_one_mediapipe_lock_under_each_stages_name():
    nodeps = sorted(LOCKS.glob("*-nodeps.lock"))
    assert [lock.stem for lock in nodeps] == ["keypoints-nodeps", "tracking-nodeps"]
    assert nodeps[0].read_bytes() == nodeps[1].read_bytes(), "scripts/lock.sh compiles it once and copies it"
    assert set(lock_pins(nodeps[0])) == {"mediapipe"}, "only the package installed without its dependencies"


def test_pyproject_declares_per_stage_extras_the_locks_satisfy_and_packages_only_mshot():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    setuptools = project["tool"]["setuptools"]
    assert setuptools["packages"]["find"]["include"] == ["mshot", "mshot.*"]
    assert setuptools["py-modules"] == ["mshot_main"]
    assert project["project"]["scripts"]["mshot"] == "mshot_main:main"

    def names(requirements):
        return {re.split(r"[<>=!\[ ]", r, maxsplit=1)[0].lower() for r in requirements}

    core = names(project["project"]["dependencies"])
    extras = project["project"]["optional-dependencies"]
    assert set(extras) == set(COMPONENTS)
    for component in COMPONENTS:
        missing = (core | names(extras[component])) - set(image_pins(component))
        assert not missing, f"{component}: pyproject names {sorted(missing)} that its image's locks lack"
    assert "mediapipe" not in names(extras["multishot"]) | names(extras["dataset"])


def test_gpu_images_pin_upstream_sources_by_full_commit():
    tracking = GPU_DOCKERFILES["tracking"].read_text()
    keypoints = GPU_DOCKERFILES["keypoints"].read_text()
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
    assert allowed == {"pyproject.toml", "mshot_main.py", "docker/*.sh", "docker/locks", "mshot", "services",
                       "orchestrator"}
    for suffix in ("pkl", "npz", "pth", "pt", "ckpt", "caffemodel"):
        assert f"**/*.{suffix}" in patterns, suffix
    for dockerfile in [CPU_DOCKERFILE, *GPU_DOCKERFILES.values()]:
        for word, args in instructions(dockerfile):
            if word == "COPY" and "--from=" not in args:
                for source in args.split()[:-1]:
                    top = source.split("/")[0]
                    assert top in {"pyproject.toml", "mshot_main.py", "docker", "mshot", "services",
                                   "orchestrator"}, source


def test_images_of_stages_that_render_ship_headless_opengl():
    """pyrender renders through OSMesa, and imports pyglet, which loads libGL and libXrender even then
    (both were missing until make images-smoke ran the dataset image)."""
    rendering = {stage for stage in ("tracking", "keypoints", "multishot", "dataset")
                 if any(word in p.read_text() for p in (ROOT / "services" / stage).rglob("*.py")
                        for word in ("import pyrender", "from mshot.render import"))}
    assert "dataset" in rendering
    runtime = " ".join(args for word, args in final_stage(CPU_DOCKERFILE) if word in ("RUN", "ENV"))
    assert "${OSMESA:+libosmesa6 libgl1 libxrender1}" in runtime and "PYOPENGL_PLATFORM=osmesa" in runtime
    for stage in rendering:
        assert build_args(stage)["OSMESA"] == "1", stage


# Import name -> distribution, for the third-party modules the stages' code imports.
DISTRIBUTIONS = {"cv2": "opencv-python-headless", "PIL": "pillow", "google": "protobuf", "grpc": "grpcio",
                 "grpc_health": "grpcio-health-checking", "grpc_reflection": "grpcio-reflection",
                 "scenedetect": "scenedetect-headless", "OpenGL": "pyopengl"}
GPU_ONLY = {"phalp", "hmr2", "detectron2", "omegaconf"}  # the PHALP backend, in services/tracking/Dockerfile.gpu


@pytest.mark.parametrize("stage", ("tracking", "keypoints", "multishot", "dataset"))
def test_each_cpu_image_lock_has_every_package_its_stage_code_imports(stage):
    """The dataset image once lacked matplotlib (its previews import it lazily): found by make images-smoke."""
    import ast
    import sys

    imported = set()
    for path in (ROOT / "services" / stage).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"mshot", "services", "__future__"} - GPU_ONLY
    missing = {DISTRIBUTIONS.get(name, name).lower() for name in third_party} - set(image_pins(stage))
    assert not missing, f"{stage}: its code imports {sorted(missing)}, which docker/locks/{stage}*.lock lack"
