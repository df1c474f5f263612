"""The transport side of every stage: fetch input artifacts, run the stage's engine with progress and
cancellation, store the outputs, stream `StageEvent`s. Each service's servicer only maps its request
message to `(inputs, options)` and calls `StageRunner.run`.

Up to the server's job slots run at once on one engine; the engine's `run` returns an `EngineRun`
(mshot/engine_run.py), so each call reports its own outputs and summary.
"""

from __future__ import annotations

import contextvars
import json
import logging
import queue
import tempfile
import threading
import time
from collections.abc import Generator, Iterator, Mapping
from pathlib import Path
from typing import Any

import grpc

from mshot.engine_run import EngineRun
from mshot.errors import Cancelled, Unavailable
from mshot.logs import job_context
from mshot.rpc.convert import media_type_for, ref_to_proto, suffix_for
from mshot.rpc.server import JobSlots, Lifecycle
from mshot.scratch import claim_scratch
from mshot.store import ArtifactRef, ArtifactStore
from mshot.v1 import common_pb2

log = logging.getLogger("mshot.stage")

PROGRESS_INTERVAL_S = 0.5


class StageRunner:
    def __init__(self, name: str, engine: Any | None, store: ArtifactStore, slots: JobSlots, lifecycle: Lifecycle,
                 scratch: str | Path | None = None):
        """`engine` may be set later, once its models are loaded; until then calls get UNAVAILABLE."""
        self.name = name
        self.engine = engine
        self.store = store
        self.slots = slots
        self.lifecycle = lifecycle
        # This process's own folder; those of killed servers are removed here (mshot/scratch.py).
        self.scratch = claim_scratch(Path(scratch or tempfile.gettempdir()), f"mshot-{name}")

    def run(self, job_id: str, inputs: Mapping[str, ArtifactRef], options: Any,
            context: grpc.ServicerContext) -> Iterator[common_pb2.StageEvent]:
        if self.engine is None:
            raise Unavailable(f"{self.name} server is still loading its models; retry shortly")
        with job_context(job_id), self.slots.acquire(f"{self.name} stage"):
            yield _progress(self.name, 0.0, "accepted")  # at once: the orchestrator stops queueing for this call
            with tempfile.TemporaryDirectory(prefix=f"{self.name}-", dir=self.scratch) as tmp:
                work = Path(tmp)
                local = {name: self.store.get_file(ref, work / "in" / f"{name}{suffix_for(ref.media_type)}")
                         for name, ref in inputs.items()}
                yield _progress(self.name, 0.0, "inputs fetched")
                ran = yield from self._run_engine(local, options, work / "out", context)
                refs = {name: self.store.put_file(path, media_type_for(path)) for name, path in ran.outputs.items()}
                log.info("stage done", extra={"stage": self.name})
                yield common_pb2.StageEvent(result=common_pb2.StageResult(
                    artifacts={name: ref_to_proto(ref) for name, ref in refs.items()},
                    summary_json=json.dumps(ran.summary, default=str)))

    def _run_engine(self, inputs: dict[str, Path], options: Any, out: Path,
                    context: grpc.ServicerContext) -> Generator[common_pb2.StageEvent, None, EngineRun]:
        out.mkdir(parents=True)
        events: queue.Queue = queue.Queue()
        result: dict[str, Any] = {}

        def check_and_report(fraction: float, message: str = "") -> None:
            if not context.is_active():
                raise Cancelled(f"{self.name} stage cancelled by the caller")
            if self.lifecycle.must_hand_back():
                raise Unavailable(f"{self.name} server is shutting down; the work was handed back, retry")
            events.put((fraction, message))

        def work() -> None:
            try:
                result["outputs"] = self.engine.run(inputs, options, out, check_and_report)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the RPC thread
                result["error"] = exc
            finally:
                events.put(None)

        ctx = contextvars.copy_context()
        thread = threading.Thread(target=ctx.run, args=(work,), name=f"{self.name}-engine", daemon=True)
        thread.start()
        last_sent = 0.0
        while True:
            item = events.get()
            if item is None:
                break
            # Drain to the newest report so a chatty engine cannot flood the stream.
            while not events.empty():
                newer = events.get()
                if newer is None:
                    events.put(None)
                    break
                item = newer
            now = time.monotonic()
            if now - last_sent >= PROGRESS_INTERVAL_S or item[0] >= 1.0:
                last_sent = now
                yield _progress(self.name, *item)
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["outputs"]


def _progress(stage: str, fraction: float, message: str) -> common_pb2.StageEvent:
    return common_pb2.StageEvent(progress=common_pb2.Progress(stage=stage, fraction=float(fraction), message=message))

