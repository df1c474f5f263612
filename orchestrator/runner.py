"""Runs jobs: each ready stage is called over gRPC, its progress recorded, its outputs kept; stages that
fail with UNAVAILABLE or a deadline are retried with exponential backoff up to a cap; cancellation stops
the in-flight call. Completed stages are never run again, also after an orchestrator restart.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from concurrent import futures

import grpc

from mshot.config import OrchestratorConfig
from mshot.errors import Cancelled, MshotError
from mshot.logs import job_context
from mshot.rpc.errors import error_from_rpc
from mshot.v1 import pipeline_pb2
from orchestrator.graph import StageSpec, available_artifacts, ready_stages
from orchestrator.jobs import JobBook, is_terminal

log = logging.getLogger("mshot.runner")

RETRYABLE = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)


class _JobControl:
    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self.calls: set = set()
        self.lock = threading.Lock()

    def cancel(self) -> None:
        self.cancelled.set()
        with self.lock:
            for call in self.calls:
                call.cancel()


class JobRunner:
    def __init__(self, book: JobBook, config: OrchestratorConfig, channel_for: Callable[[str], grpc.Channel]):
        self.book = book
        self.config = config
        self.channel_for = channel_for
        self._controls: dict[str, _JobControl] = {}
        self._lock = threading.Lock()

    def start(self, job_id: str) -> None:
        """Run the job in the background unless it is running already."""
        with self._lock:
            if job_id in self._controls:
                return
            control = self._controls[job_id] = _JobControl()
        threading.Thread(target=self._run, args=(job_id, control), name=f"job-{job_id}", daemon=True).start()

    def resume(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            log.info("resuming job", extra={"job_id": job_id})
            self.start(job_id)

    def cancel(self, job_id: str) -> None:
        with self._lock:
            control = self._controls.get(job_id)
        if control is not None:
            control.cancel()
        else:
            self._finish(job_id, pipeline_pb2.JOB_STATE_CANCELLED, "cancelled before it ran")

    # -- one job -------------------------------------------------------------------------------------
    def _run(self, job_id: str, control: _JobControl) -> None:
        with job_context(job_id):
            try:
                self._run_stages(job_id, control)
            except Cancelled as exc:
                self._finish(job_id, pipeline_pb2.JOB_STATE_CANCELLED, exc.message)
            except MshotError as exc:
                self._finish(job_id, pipeline_pb2.JOB_STATE_FAILED, exc.message)
            except Exception as exc:  # noqa: BLE001 - a job must end in a state, never hang as RUNNING
                log.exception("job crashed")
                self._finish(job_id, pipeline_pb2.JOB_STATE_FAILED, f"internal error: {type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    self._controls.pop(job_id, None)

    def _run_stages(self, job_id: str, control: _JobControl) -> None:
        def begin(job: pipeline_pb2.Job) -> None:
            job.state = pipeline_pb2.JOB_STATE_RUNNING
            for status in job.stages:  # a stage interrupted by a restart runs again from its start
                if status.state == pipeline_pb2.STAGE_STATE_RUNNING:
                    status.state = pipeline_pb2.STAGE_STATE_PENDING

        self.book.update(job_id, begin)
        with futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix=f"{job_id}-stage") as pool:
            while True:
                job = self.book.get(job_id)
                if is_terminal(job):
                    return
                if control.cancelled.is_set():
                    raise Cancelled("cancelled by request")
                ready = ready_stages(job)
                if not ready:
                    break
                running = [pool.submit(self._run_stage, job_id, spec, control) for spec in ready]
                for done in futures.as_completed(running):
                    done.result()
        job = self.book.get(job_id)
        if all(s.state == pipeline_pb2.STAGE_STATE_DONE for s in job.stages):
            self._finish(job_id, pipeline_pb2.JOB_STATE_SUCCEEDED, "")
        else:
            stuck = [s.stage for s in job.stages if s.state != pipeline_pb2.STAGE_STATE_DONE]
            self._finish(job_id, pipeline_pb2.JOB_STATE_FAILED, f"stages could not run: {', '.join(stuck)}")

    def _run_stage(self, job_id: str, spec: StageSpec, control: _JobControl) -> None:
        with job_context(job_id):
            delay = self.config.backoff_initial_s
            for attempt in range(1, self.config.max_attempts + 1):
                try:
                    self._call_stage(job_id, spec, control, attempt)
                    return
                except grpc.RpcError as exc:
                    if control.cancelled.is_set():
                        self._stage_state(job_id, spec.name, pipeline_pb2.STAGE_STATE_CANCELLED, "cancelled")
                        raise Cancelled("cancelled by request") from None
                    error = error_from_rpc(exc, f"{spec.name} stage")
                    retry = exc.code() in RETRYABLE and attempt < self.config.max_attempts
                    log.warning("stage call failed: %s", error.message,
                                extra={"stage": spec.name, "attempt": attempt, "status": exc.code().name})
                    if not retry:
                        self._stage_state(job_id, spec.name, pipeline_pb2.STAGE_STATE_FAILED,
                                          f"{exc.code().name}: {exc.details()}")
                        raise error from None
                    self._stage_state(job_id, spec.name, pipeline_pb2.STAGE_STATE_PENDING,
                                      f"attempt {attempt} failed ({exc.code().name}); retrying in {delay:.1f} s")
                    if control.cancelled.wait(delay):
                        raise Cancelled("cancelled by request") from None
                    delay = min(delay * 2.0, self.config.backoff_max_s)

    def _call_stage(self, job_id: str, spec: StageSpec, control: _JobControl, attempt: int) -> None:
        job = self.book.get(job_id)
        request = spec.build_request(job_id, available_artifacts(job), job.options)
        stub = spec.stub(self.channel_for(spec.name))

        def running(status: pipeline_pb2.StageStatus) -> None:
            status.state = pipeline_pb2.STAGE_STATE_RUNNING
            status.attempts = attempt
            status.fraction = 0.0
            status.message = "started"
            status.error = ""

        self.book.update_stage(job_id, spec.name, running)
        call = getattr(stub, spec.method)(request, timeout=self.config.stage_deadline_s)
        with control.lock:
            control.calls.add(call)
        try:
            if control.cancelled.is_set():
                call.cancel()
            for event in call:
                if event.HasField("progress"):
                    def report(status, p=event.progress):
                        status.fraction = p.fraction
                        status.message = p.message

                    self.book.update_stage(job_id, spec.name, report, progress_only=True)
                elif event.HasField("result"):
                    self._stage_done(job_id, spec, event.result)
                    return
        finally:
            with control.lock:
                control.calls.discard(call)
        raise _EndedWithoutResult(spec.name)

    def _stage_done(self, job_id: str, spec: StageSpec, result) -> None:
        missing = [name for name in spec.produces if name not in result.artifacts]
        if missing:
            raise MshotError(f"{spec.name} stage returned no {', '.join(missing)}")

        def done(status: pipeline_pb2.StageStatus) -> None:
            status.state = pipeline_pb2.STAGE_STATE_DONE
            status.fraction = 1.0
            status.message = "done"
            status.result.CopyFrom(result)

        self.book.update_stage(job_id, spec.name, done)
        log.info("stage done: %s", json.loads(result.summary_json or "{}"), extra={"stage": spec.name})

    def _stage_state(self, job_id: str, stage: str, state: int, message: str) -> None:
        def change(status: pipeline_pb2.StageStatus) -> None:
            status.state = state
            status.message = message
            if state == pipeline_pb2.STAGE_STATE_FAILED:
                status.error = message

        self.book.update_stage(job_id, stage, change)

    def _finish(self, job_id: str, state: int, error: str) -> None:
        def change(job: pipeline_pb2.Job) -> None:
            if is_terminal(job):
                return
            job.state = state
            job.error = error
            for status in job.stages:
                if state == pipeline_pb2.JOB_STATE_CANCELLED and status.state in (
                        pipeline_pb2.STAGE_STATE_PENDING, pipeline_pb2.STAGE_STATE_RUNNING):
                    status.state = pipeline_pb2.STAGE_STATE_CANCELLED

        self.book.update(job_id, change)
        log.info("job ended: %s %s", pipeline_pb2.JobState.Name(state), error)


class _EndedWithoutResult(grpc.RpcError):
    """A stage stream that closed without a result is treated as the stage being unavailable."""

    def __init__(self, stage: str):
        self.stage = stage

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return f"{self.stage} stage closed its stream without a result"
