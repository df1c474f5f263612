"""Job records: kept in memory, persisted in the store as `jobs/<job_id>.json` (protobuf JSON) so a
restarted orchestrator resumes every unfinished job, and watched by WatchJob streams.

Changes apply in memory under one lock (cheap: GetJob and WatchJob never wait for the store); one writer thread
stores the newest version of every changed job outside that lock. When the store is unreachable the writer
retries with jittered backoff (up to 30 s apart) for as long as the outage lasts, the jobs' state stays
complete in memory, and `flush` - called by a job at the points it must not lose (a stage done, the job's end) -
blocks until its record is stored: an outage pauses jobs, it never fails or kills them.

Job ids are derived from the idempotency key (the client's request id, else the pipeline version, the video
digest and the options), so submitting the same thing twice finds the same job, even after a restart, and a
new pipeline version computes afresh (mshot/version.py).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator

from google.protobuf import json_format

from mshot.backoff import Backoff
from mshot.errors import InvalidInput, NotFound, Unavailable
from mshot.rpc.convert import TERMINAL_JOB_STATES as TERMINAL
from mshot.store import ArtifactStore
from mshot.v1 import common_pb2, pipeline_pb2
from mshot.version import PIPELINE_VERSION
from orchestrator.graph import STAGES

log = logging.getLogger("mshot.jobs")

PERSIST_PROGRESS_EVERY_S = 2.0
STORE_RETRY_S, STORE_RETRY_MAX_S = 0.5, 30.0
SUBMIT_DURABLE_WITHIN_S = 10.0


def job_id_for(request_id: str, video: common_pb2.ArtifactRef, options: pipeline_pb2.JobOptions) -> str:
    if request_id:
        key = f"request:{request_id}"
    else:
        options_digest = hashlib.sha256(options.SerializeToString(deterministic=True)).hexdigest()
        key = f"inputs:{PIPELINE_VERSION}:{video.sha256}:{options_digest}"
    return "job-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def is_terminal(job: pipeline_pb2.Job) -> bool:
    return job.state in TERMINAL


class JobBook:
    def __init__(self, store: ArtifactStore, store_retry_s: float = STORE_RETRY_S,
                 store_retry_max_s: float = STORE_RETRY_MAX_S):
        self.store = store
        self._jobs: dict[str, pipeline_pb2.Job] = {}
        self._version: dict[str, int] = {}  # bumped by every change that must be stored
        self._stored: dict[str, int] = {}  # the version last written to the store
        self._marked_at: dict[str, float] = {}
        self._dirty: dict[str, None] = {}  # ordered set: oldest change first
        self._changed = threading.Condition()
        self._store_backoff = Backoff(store_retry_s, store_retry_max_s)
        self.store_error = ""  # the last write failure while the store is out; "" when writes succeed
        threading.Thread(target=self._write_loop, name="jobbook-writer", daemon=True).start()

    # -- persistence ---------------------------------------------------------------------------------
    def _load(self, job_id: str) -> pipeline_pb2.Job | None:
        data = self.store.get_document(f"jobs/{job_id}.json")
        if data is None:
            return None
        return json_format.Parse(data.decode(), pipeline_pb2.Job())

    def _mark(self, job_id: str) -> None:
        """Under the lock: the job changed and must be stored."""
        self._version[job_id] = self._version.get(job_id, 0) + 1
        self._marked_at[job_id] = time.monotonic()
        self._dirty[job_id] = None

    def _write_loop(self) -> None:
        while True:
            with self._changed:
                while not self._dirty:
                    self._changed.wait()
                job_id = next(iter(self._dirty))
                del self._dirty[job_id]
                version, data = self._version[job_id], json_format.MessageToJson(self._jobs[job_id]).encode()
            try:
                self.store.put_document(f"jobs/{job_id}.json", data)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive any store failure
                delay = self._store_backoff.next_delay()
                message = exc.message if isinstance(exc, Unavailable) else f"{type(exc).__name__}: {exc}"
                log.warning("job record not stored, retrying in %.1f s: %s", delay, message,
                            extra={"job_id": job_id})
                with self._changed:
                    self.store_error = message
                    self._dirty.setdefault(job_id, None)
                time.sleep(delay)
                continue
            self._store_backoff.reset()
            with self._changed:
                self.store_error = ""
                self._stored[job_id] = max(self._stored.get(job_id, 0), version)
                self._changed.notify_all()

    def flush(self, job_id: str, timeout_s: float | None = None) -> bool:
        """Wait until the job's newest change is in the store; False if `timeout_s` passed first."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while self._stored.get(job_id, 0) < self._version.get(job_id, 0):
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def pending_writes(self) -> int:
        with self._changed:
            return len(self._dirty)

    def load_unfinished(self) -> list[str]:
        """Read every stored job; return the ids of those not finished (to resume), oldest first."""
        unfinished = []
        for name in self.store.list_documents("jobs/"):
            job = self._load(name.removeprefix("jobs/").removesuffix(".json"))
            if job is None:
                continue
            with self._changed:
                self._jobs[job.job_id] = job
            if not is_terminal(job):
                unfinished.append(job)
        return [job.job_id for job in sorted(unfinished, key=lambda j: j.created_unix)]

    # -- queries -------------------------------------------------------------------------------------
    def get(self, job_id: str) -> pipeline_pb2.Job:
        with self._changed:
            job = self._jobs.get(job_id)
            if job is not None:
                return _copy(job)
        loaded = self._load(job_id)  # store I/O outside the lock
        if loaded is None:
            raise NotFound(f"no job with id '{job_id}'")
        with self._changed:
            return _copy(self._jobs.setdefault(job_id, loaded))

    def list(self, limit: int) -> list[pipeline_pb2.Job]:
        with self._changed:
            jobs = sorted(self._jobs.values(), key=lambda j: j.created_unix, reverse=True)[:limit]
            return [_copy(j) for j in jobs]

    # -- changes -------------------------------------------------------------------------------------
    def create(self, request_id: str, video: common_pb2.ArtifactRef,
               options: pipeline_pb2.JobOptions) -> tuple[pipeline_pb2.Job, bool]:
        """The job for this request, and whether it was created now (False: an existing job was found).
        A new job is stored before this returns; Unavailable if the store cannot take it within 10 s (the job
        is kept and stored once the store is back: submitting again finds it)."""
        job_id = job_id_for(request_id, video, options)
        try:
            existing = self.get(job_id)
        except NotFound:
            existing = None
        with self._changed:
            existing = self._jobs.get(job_id, existing)
            if existing is not None:
                if existing.video.sha256 != video.sha256 or existing.options != options:
                    raise InvalidInput(f"request id '{request_id}' was already used for job {job_id} with other inputs")
                return _copy(existing), False
            now = time.time()
            self._jobs[job_id] = pipeline_pb2.Job(
                job_id=job_id, request_id=request_id, state=pipeline_pb2.JOB_STATE_QUEUED, video=video, options=options,
                stages=[pipeline_pb2.StageStatus(stage=s.name, state=pipeline_pb2.STAGE_STATE_PENDING) for s in STAGES],
                created_unix=now, updated_unix=now, attempt=1)
            self._mark(job_id)
            self._changed.notify_all()
        if not self.flush(job_id, SUBMIT_DURABLE_WITHIN_S):
            raise Unavailable(f"job {job_id} could not be stored within {SUBMIT_DURABLE_WITHIN_S:.0f} s "
                              f"({self.store_error or 'store slow'}); it is kept and stored when the store is back: "
                              "submit again to get it")
        return self.get(job_id), True

    def new_attempt(self, job_id: str) -> bool:
        """Queue a FAILED or CANCELLED job again with the same inputs (attempt + 1): its done stages stay done and
        are not run again, the others start over. False (nothing changed) when the job has not ended that way."""
        with self._changed:
            job = self._jobs[job_id]
            if job.state not in (pipeline_pb2.JOB_STATE_FAILED, pipeline_pb2.JOB_STATE_CANCELLED):
                return False
            job.state, job.error, job.queued_s = pipeline_pb2.JOB_STATE_QUEUED, "", 0.0
            job.attempt = max(job.attempt, 1) + 1
            for status in job.stages:
                if status.state != pipeline_pb2.STAGE_STATE_DONE:
                    name = status.stage
                    status.Clear()
                    status.stage, status.state = name, pipeline_pb2.STAGE_STATE_PENDING
            job.updated_unix = time.time()
            self._mark(job_id)
            self._changed.notify_all()
            return True

    def update(self, job_id: str, change: Callable[[pipeline_pb2.Job], None], progress_only: bool = False) -> None:
        """Apply `change` to the job in memory and wake watchers; the writer stores it (progress-only changes at
        most every 2 s). Never waits for the store."""
        with self._changed:
            job = self._jobs[job_id]
            change(job)
            job.updated_unix = time.time()
            due = time.monotonic() - self._marked_at.get(job_id, 0.0) >= PERSIST_PROGRESS_EVERY_S
            if not progress_only or due:
                self._mark(job_id)
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
            job = self.get(job_id)
            if last is not None and job == last:
                with self._changed:
                    if self._jobs.get(job_id) == last:
                        self._changed.wait(timeout=1.0)
                continue
            last = job
            yield job
            if is_terminal(job):
                return


def _copy(job: pipeline_pb2.Job) -> pipeline_pb2.Job:
    copy = pipeline_pb2.Job()
    copy.CopyFrom(job)
    return copy
