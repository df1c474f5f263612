"""JSON logs, one object per line on stderr, carrying the job id of the work being done.

`job_context(job_id)` sets the job id for everything logged inside it (threads started inside copy it
explicitly with `contextvars.copy_context()`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import time

_job_id: contextvars.ContextVar[str] = contextvars.ContextVar("mshot_job_id", default="")


@contextlib.contextmanager
def job_context(job_id: str):
    token = _job_id.set(job_id)
    try:
        yield
    finally:
        _job_id.reset(token)


def current_job_id() -> str:
    return _job_id.get()


class JsonFormatter(logging.Formatter):
    def __init__(self, component: str):
        super().__init__()
        self.component = component

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "component": self.component,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        job_id = getattr(record, "job_id", "") or _job_id.get()
        if job_id:
            entry["job_id"] = job_id
        for key in ("stage", "attempt", "status", "peer", "method"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def setup_logging(component: str, level: str | None = None) -> None:
    """Route every logger to one JSON handler on stderr (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_mshot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(component))
    handler._mshot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("MSHOT_LOG_LEVEL", "INFO")).upper())
