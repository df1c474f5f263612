"""The console of `mshot run`: one progress line per stage, nothing else, unless --verbose.

The stages run in this process, and their third-party libraries (MediaPipe/TFLite, absl, smplx) write to the
process's stdout and stderr file descriptors from C++ and Python alike, and the servers log JSON lines to
stderr. `quiet_console(log_file)` points descriptors 1 and 2 (and Python's sys.stdout/sys.stderr) at the log file
for the duration, so all of that lands there, and hands back a stream on the original stderr for what the user
should see."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def quiet_console(log_file: Path, verbose: bool) -> Iterator[TextIO]:
    """-> the stream for the user's console lines. verbose: nothing redirected, the log file gets the Python
    logs only (the terminal shows everything)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    if verbose:
        with _python_logs_to(log_file):
            yield sys.stderr
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    console = io.TextIOWrapper(os.fdopen(os.dup(saved[2]), "wb", buffering=0), write_through=True)
    with open(log_file, "ab", buffering=0) as log, open(log_file, "a", buffering=1) as log_text, \
            contextlib.redirect_stdout(log_text), contextlib.redirect_stderr(log_text):
        for fd in (1, 2):
            os.dup2(log.fileno(), fd)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, original in saved.items():
                os.dup2(original, fd)
                os.close(original)
            console.close()


@contextlib.contextmanager
def _python_logs_to(log_file: Path) -> Iterator[None]:
    import logging

    from mshot.logs import JsonFormatter

    handler = logging.FileHandler(log_file)
    handler.setFormatter(JsonFormatter("mshot-run"))
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def stage_line(stage: dict, seconds: float | None) -> str:
    """One console line for a finished (or failed) stage from its job_summary entry, e.g.
    `tracking   done        212 s  people 1, shots 1, rows 125`."""
    took = f"{seconds:5.0f} s" if seconds is not None else "       "
    detail = stage["error"] if stage["state"] == "failed" else _facts(stage["summary"])
    return f"{stage['stage']:<10} {stage['state']:<9} {took}  {detail}".rstrip()[:160]


def _facts(summary: dict) -> str:
    """A stage summary's numbers and words; a dataset person's verdict as `person 0: 12 train, 1 val`."""
    facts = []
    for key, value in summary.items():
        if isinstance(value, dict) and "kept_train" in value:
            facts.append(f"person {key}: {value['kept_train']} train, {value['kept_val']} val")
        elif isinstance(value, float):
            facts.append(f"{key} {value:.3g}")
        elif isinstance(value, int | str) and key != "nothing_kept":
            facts.append(f"{key} {value}")
    return ", ".join(facts) + ("; nothing trainable" if summary.get("nothing_kept") else "")
