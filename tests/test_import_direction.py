"""Dependencies point one way: the applications (services/<stage>/, orchestrator/) and the program's entry module
(mshot_main.py) depend on the shared package mshot/, never the reverse; the orchestrator and the stages do not
import each other, and a stage does not import another stage. Checked statically (ast) over every module of
the tree, imports inside functions and importlib.import_module("...") with a literal name included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("tracking", "keypoints", "multishot", "dataset")
# Known crossings, each with who removes it; an entry that no longer occurs fails the test (keep this list true).
ALLOWED_CROSSINGS = {
    ("services.tracking", "services.multishot"),  # the tracker's initial 3D fit; moved to mshot/ by issue 13 (body3d)
}


def imported_modules(source: str) -> list[str]:
    """Every module name `source` imports: import/from statements anywhere, and import_module("literal")."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if function in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.append(node.args[0].value)
    return names


def layer(module: str) -> str | None:
    """The layer a dotted module name belongs to: mshot, orchestrator, services.<stage>, or None (third party)."""
    parts = module.split(".")
    if parts[0] == "mshot":
        return "mshot"
    if parts[0] == "orchestrator":
        return "orchestrator"
    if parts[0] == "services":
        return f"services.{parts[1]}" if len(parts) > 1 and parts[1] in STAGES else "services"
    if parts[0] == "mshot_main":
        return "mshot_main"
    return None


def forbidden(importer: str, imported: str) -> bool:
    if imported is None or imported == importer:
        return False
    if importer == "mshot":
        return imported != "mshot"  # the shared package imports no application and not the entry module
    if importer in ("orchestrator", "services") or importer.startswith("services."):
        return imported not in ("mshot", "services")  # applications: the shared package only
    return False


def crossings(root: Path) -> set[tuple[str, str, str]]:
    """(file, importer layer, imported module) for every import against the direction under `root`."""
    found = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] not in ("mshot", "services", "orchestrator"):
            continue
        importer = layer(".".join(relative.with_suffix("").parts))
        for module in imported_modules(path.read_text()):
            if forbidden(importer, layer(module)):
                found.add((str(relative), importer, module))
    return found


def test_no_import_points_against_the_direction():
    unexpected = {c for c in crossings(ROOT) if (c[1], ".".join(c[2].split(".")[:2])) not in ALLOWED_CROSSINGS}
    assert not unexpected, "imports against the direction (mshot <- applications):\n" + "\n".join(
        f"  {file}: {importer} imports {module}" for file, importer, module in sorted(unexpected))


def test_every_allowed_crossing_still_exists():
    present = {(importer, ".".join(module.split(".")[:2])) for _, importer, module in crossings(ROOT)}
    stale = ALLOWED_CROSSINGS - present
    assert not stale, f"no longer imported, remove from ALLOWED_CROSSINGS: {sorted(stale)}"


@pytest.mark.parametrize(("file", "source", "caught"), [
    ("mshot/cli/x.py", "def f():\n    from orchestrator.server import start\n", True),
    ("mshot/rpc/x.py", "import importlib\nimportlib.import_module('services.tracking.server')\n", True),
    ("mshot/x.py", "import mshot_main\n", True),
    ("orchestrator/x.py", "from services.dataset.engine import E\n", True),
    ("services/keypoints/x.py", "import services.dataset.cli\n", True),
    ("services/keypoints/x.py", "from services.keypoints.engine import E\nfrom mshot.video import read_frame\n", False),
    ("mshot/x.py", "import numpy\nfrom mshot.errors import InvalidInput\n", False),
])
def test_the_check_catches_each_kind_of_reverse_import(tmp_path, file, source, caught):
    path = tmp_path / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    assert bool(crossings(tmp_path)) is caught
