"""Runs jobs: each ready stage is called over gRPC (orchestrator/stage_call.py: busy stages are queued for,
unreachable ones retried), its progress recorded, its outputs kept; cancellation stops the in-flight call.
Completed stages are never run again, also after an orchestrator restart or a re-run of a failed job.

At most `MSHOT_MAX_RUNNING_JOBS` jobs run at once (one thread each); more wait QUEUED, first come first served,
and SubmitJob answers RESOURCE_EXHAUSTED only when `MSHOT_MAX_QUEUED_JOBS` are already waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from concurrent import futures

from mshot.config import OrchestratorConfig
from mshot.errors import Cancelled, MshotError, ResourceExhausted
from mshot.logs import job_context
from mshot.v1 import pipeline_pb2
from orchestrator.graph import STAGES, StageSpec, ready_stages
from orchestrator.jobs import JobBook, is_terminal
from orchestrator.stage_call import ChannelFor, JobControl, StageCall
from orchestrator.stage_queue import StageQueue

log = logging.getLogger("mshot.runner")


class JobRunner:
    def __init__(self, book: JobBook, config: OrchestratorConfig, channel_for: ChannelFor):
        self.book = book
        self.config = config
        self.channel_for = channel_for
        self.queues = {spec.name: StageQueue(spec.name, config.busy_backoff_s, config.busy_backoff_max_s,
                                             config.stage_queue_max_wait_s) for spec in STAGES}
        self._controls: dict[str, JobControl] = {}  # running jobs
        self._waiting: OrderedDict[str, float] = OrderedDict()  # job id -> monotonic time it started waiting
        self._lock = threading.Lock()

    def counts(self) -> tuple[int, int]:
        """(jobs running, jobs waiting for a running place)."""
        with self._lock:
            return len(self._controls), len(self._waiting)

    def check_room(self) -> None:
        """ResourceExhausted when `max_queued_jobs` jobs already wait to run."""
        with self._lock:
            if len(self._waiting) >= self.config.max_queued_jobs:
                raise ResourceExhausted(
                    f"{len(self._waiting)} jobs are already waiting to run (MSHOT_MAX_QUEUED_JOBS="
                    f"{self.config.max_queued_jobs}) behind {len(self._controls)} running; retry later")

    def start(self, job_id: str) -> None:
        """Run the job in the background, or queue it when `max_running_jobs` run already; nothing if it runs or
        waits already."""
        with self._lock:
            if job_id in self._controls or job_id in self._waiting:
                return
            self._waiting[job_id] = time.monotonic()
            self._launch_waiting()

    def resume(self, job_ids: list[str]) -> None:
        for job_id in job_ids:
            log.info("resuming job", extra={"job_id": job_id})
            self.start(job_id)

    def cancel(self, job_id: str) -> None:
        with self._lock:
            control = self._controls.get(job_id)
            self._waiting.pop(job_id, None)
        if control is not None:
            control.cancel()
        else:
            self._finish(job_id, pipeline_pb2.JOB_STATE_CANCELLED, "cancelled before it ran")

    def _launch_waiting(self) -> None:
        """Under the lock: start waiting jobs, oldest first, while there is room."""
        while self._waiting and len(self._controls) < self.config.max_running_jobs:
            job_id, since = self._waiting.popitem(last=False)
            control = self._controls[job_id] = JobControl()
            threading.Thread(target=self._run, args=(job_id, control, time.monotonic() - since),
                             name=f"job-{job_id}", daemon=True).start()

    # -- one job -------------------------------------------------------------------------------------
    def _run(self, job_id: str, control: JobControl, queued_s: float) -> None:
        with job_context(job_id):
            try:
                self._run_stages(job_id, control, queued_s)
            except Cancelled as exc:
                self._finish(job_id, pipeline_pb2.JOB_STATE_CANCELLED, exc.message)
            except MshotError as exc:
                self._finish(job_id, pipeline_pb2.JOB_STATE_FAILED, exc.message)
            except Exception as exc:  # noqa: BLE001 - a job must end in a state, never hang as RUNNING
                log.exception("job crashed")
                self._finish(job_id, pipeline_pb2.JOB_STATE_FAILED, f"internal error: {type(exc).__name__}: {exc}")
            finally:
                self.book.flush(job_id)  # its end is stored before its place goes to the next job
                again = not is_terminal(self.book.get(job_id))  # submitted again while it was ending
                with self._lock:
                    self._controls.pop(job_id, None)
                    if again:
                        self._waiting[job_id] = time.monotonic()
                    self._launch_waiting()

    def _run_stages(self, job_id: str, control: JobControl, queued_s: float) -> None:
        def begin(job: pipeline_pb2.Job) -> None:
            job.state = pipeline_pb2.JOB_STATE_RUNNING
            job.queued_s = queued_s
            for status in job.stages:  # a stage interrupted by a restart runs again from its start
                if status.state == pipeline_pb2.STAGE_STATE_RUNNING:
                    status.state = pipeline_pb2.STAGE_STATE_PENDING

        if is_terminal(self.book.get(job_id)):
            return  # cancelled while it waited
        self.book.update(job_id, begin)
        with futures.ThreadPoolExecutor(max_workers=len(STAGES), thread_name_prefix=f"{job_id}-stage") as pool:
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

    def _run_stage(self, job_id: str, spec: StageSpec, control: JobControl) -> None:
        with job_context(job_id):
            StageCall(self.book, self.config, self.queues[spec.name], self.channel_for(spec.name), job_id, spec,
                      control).run()

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
