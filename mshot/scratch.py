"""Per-process scratch folders that do not outlive their process, even one killed with SIGKILL.

`claim_scratch(root, component)` makes `root/<component>.<random>/` for this process and holds an exclusive
`flock` on `root/<component>.<random>.lock` for the rest of its life (the kernel drops it when the process dies,
however it dies). Before that it sweeps `root`: every `<component>.*.lock` it can lock belongs to a dead process,
so that lock and its folder are removed. Several processes (stage servers of `mshot up`, replicas sharing a
volume) can share one root; none removes a live process's files. A clean exit removes the folder at once.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import tempfile
from pathlib import Path

_HELD: list[int] = []  # lock file descriptors, open for the life of the process


def _lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def sweep_dead(root: Path, component: str) -> list[Path]:
    """Remove the scratch folders of `component` whose processes are gone; return what was removed."""
    removed = []
    for lock_path in sorted(root.glob(f"{component}.*.lock")):
        try:
            fd = os.open(lock_path, os.O_RDWR)
        except FileNotFoundError:  # swept by another process just now
            continue
        try:
            if _lock(fd):
                folder = lock_path.with_suffix("")
                shutil.rmtree(folder, ignore_errors=True)
                lock_path.unlink(missing_ok=True)
                removed.append(folder)
        finally:
            os.close(fd)
    return removed


def claim_scratch(root: str | Path, component: str) -> Path:
    """A new scratch folder under `root` owned by this process, after sweeping the dead processes' folders."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    sweep_dead(root, component)
    fd, staging = tempfile.mkstemp(prefix=".claim-", dir=root)
    fcntl.flock(fd, fcntl.LOCK_EX)  # locked before it gets a name the sweep looks at
    folder = Path(tempfile.mkdtemp(prefix=f"{component}.", dir=root))
    os.replace(staging, folder.with_name(folder.name + ".lock"))
    _HELD.append(fd)
    atexit.register(_release, folder, fd)
    return folder


def _release(folder: Path, fd: int) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.with_name(folder.name + ".lock").unlink(missing_ok=True)
    os.close(fd)
