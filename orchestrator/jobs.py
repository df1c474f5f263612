"""Job records: kept in memory, persisted in the store as `jobs/<job_id>.json` (protobuf JSON) so a
restarted orchestrator resumes every unfinished job, and watched by WatchJob streams.

Job ids are derived from the idempotency key (the client's request id, else the video digest plus the
options), so submitting the same thing twice finds the same job, even after a restart.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from google.protobuf import json_format

from mshot.errors import InvalidInput, NotFound
from mshot.rpc.convert import TERMINAL_JOB_STATES as TERMINAL
from mshot.store import ArtifactStore
from mshot.v1 import common_pb2, pipeline_pb2
from orchestrator.graph import STAGES

log = logging.getLogger("mshot.jobs")

PERSIST_PROGRESS_EVERY_S = 2.0


def job_id_for(request_id: str, video: common_pb2.ArtifactRef, options: pipeline_pb2.JobOptions) -> str:
    if request_id:
        key = f"request:{request_id}"
    else:
        options_digest = hashlib.sha256(options.SerializeToString(deterministic=True)).hexdigest()
        key = f"inputs:{video.sha256}:{options_digest}"
    return "job-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def is_terminal(job: pipeline_pb2.Job) -> bool:
    return job.state in TERMINAL


class JobBook:
    def __init__(self, store: ArtifactStore):
        self.store = store
        self._jobs: dict[str, pipeline_pb2.Job] = {}
        self._persisted_at: dict[str, float] = {}
        self._changed = threading.Condition()

    # -- persistence ---------------------------------------------------------------------------------
    def _persist(self, job: pipeline_pb2.Job) -> None:
        self.store.put_document(f"jobs/{job.job_id}.json", json_format.MessageToJson(job).encode())
        self._persisted_at[job.job_id] = time.monotonic()

    def _load(self, job_id: str) -> pipeline_pb2.Job | None:
        data = self.store.get_document(f"jobs/{job_id}.json")
        if data is None:
            return None
        return json_format.Parse(data.decode(), pipeline_pb2.Job())

    def load_unfinished(self) -> list[str]:
        """Read every stored job; return the ids of those not finished (to resume)."""
        unfinished = []
        for name in self.store.list_documents("jobs/"):
            job = self._load(name.removeprefix("jobs/").removesuffix(".json"))
            if job is None:
                continue
            with self._changed:
                self._jobs[job.job_id] = job
            if not is_terminal(job):
                unfinished.append(job.job_id)
        return unfinished

    # -- queries -------------------------------------------------------------------------------------
    def get(self, job_id: str) -> pipeline_pb2.Job:
        with self._changed:
            job = self._jobs.get(job_id)
            if job is None:
                job = self._load(job_id)
                if job is None:
                    raise NotFound(f"no job with id '{job_id}'")
                self._jobs[job_id] = job
            copy = pipeline_pb2.Job()
            copy.CopyFrom(job)
            return copy

    def list(self, limit: int) -> list[pipeline_pb2.Job]:
        with self._changed:
            jobs = sorted(self._jobs.values(), key=lambda j: j.created_unix, reverse=True)[:limit]
            return [pipeline_pb2.Job.FromString(j.SerializeToString()) for j in jobs]

    # -- changes -------------------------------------------------------------------------------------
    def create(self, request_id: str, video: common_pb2.ArtifactRef,
               options: pipeline_pb2.JobOptions) -> tuple[pipeline_pb2.Job, bool]:
        """The job for this request, and whether it was created now (False: an existing job was found)."""
        job_id = job_id_for(request_id, video, options)
        with self._changed:
            try:
                existing = self.get(job_id)
            except NotFound:
                existing = None
            if existing is not None:
                if existing.video.sha256 != video.sha256 or existing.options != options:
                    raise InvalidInput(f"request id '{request_id}' was already used for job {job_id} with other inputs")
                return existing, False
            now = time.time()
            job = pipeline_pb2.Job(
                job_id=job_id, request_id=request_id, state=pipeline_pb2.JOB_STATE_QUEUED, video=video, options=options,
                stages=[pipeline_pb2.StageStatus(stage=s.name, state=pipeline_pb2.STAGE_STATE_PENDING) for s in STAGES],
                created_unix=now, updated_unix=now)
            self._jobs[job_id] = job
            self._persist(job)
            self._changed.notify_all()
            return self.get(job_id), True

    def update(self, job_id: str, change: Callable[[pipeline_pb2.Job], None], progress_only: bool = False) -> None:
        """Apply `change` to the job and wake watchers. Progress-only changes are persisted at most every 2 s."""
        with self._changed:
            job = self._jobs[job_id]
            change(job)
            job.updated_unix = time.time()
            due = time.monotonic() - self._persisted_at.get(job_id, 0.0) >= PERSIST_PROGRESS_EVERY_S
            if not progress_only or due:
                self._persist(job)
            self._changed.notify_all()

    def update_stage(self, job_id: str, stage: str, change: Callable[[pipeline_pb2.StageStatus], None],
                     progress_only: bool = False) -> None:
        def apply(job: pipeline_pb2.Job) -> None:
            change(next(s for s in job.stages if s.stage == stage))

        self.update(job_id, apply, progress_only)

    def watch(self, job_id: str, is_active: Callable[[], bool]) -> Iterator[pipeline_pb2.Job]:
        """The current state, then every change, until the job ends or the watcher leaves."""
        last = None
        while is_active():
            with self._changed:
                job = self.get(job_id)
                if last is not None and job.updated_unix == last.updated_unix and job == last:
                    self._changed.wait(timeout=1.0)
                    continue
            last = job
            yield job
            if is_terminal(job):
                return
