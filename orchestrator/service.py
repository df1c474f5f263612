"""The Pipeline gRPC service: uploads, job submission (idempotent), queries, watching and cancelling."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from mshot.config import OrchestratorConfig
from mshot.errors import DataLoss, InvalidInput, NotFound, ResourceExhausted
from mshot.geometry.camera import check_given_focal
from mshot.logs import job_context
from mshot.rpc.convert import ref_from_proto, ref_to_proto
from mshot.scratch import claim_scratch
from mshot.store import ArtifactRef, ArtifactStore
from mshot.store.base import CHUNK, check_upload, spool_chunks
from mshot.store.presign import upload_headers
from mshot.v1 import common_pb2, pipeline_pb2, pipeline_pb2_grpc
from mshot.video import VideoInfo, probe_video, record_probe, recorded_probe
from orchestrator.jobs import JobBook, is_terminal
from orchestrator.runner import JobRunner
from services.options import check_job_options

log = logging.getLogger("mshot.pipeline")

UPLOAD_URL_EXPIRY_S = 900
MAX_LIST_LIMIT = 1000
MAX_REQUEST_ID = 128
MAX_FILENAME = 255
_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def checked_job_id(job_id: str) -> str:
    """`job_id` if it can name a job (1-64 letters, digits, '_', '-'); InvalidInput otherwise."""
    if not _JOB_ID.match(job_id):
        raise InvalidInput(f"job id '{job_id[:80]}' is malformed: expected 1-64 letters, digits, '_' or '-' "
                           "(e.g. job-0123456789abcdef0123)")
    return job_id


def check_declared_size(size_bytes: int, limit: int, required: bool) -> None:
    if size_bytes < 0 or (required and size_bytes == 0):
        bound = "above 0" if required else "0 (unknown) or more"
        raise InvalidInput(f"size_bytes={size_bytes}: the file's size in bytes must be {bound}")
    if size_bytes > limit:
        raise_exhausted(size_bytes, limit)


class PipelineService(pipeline_pb2_grpc.PipelineServicer):
    def __init__(self, store: ArtifactStore, book: JobBook, runner: JobRunner, config: OrchestratorConfig,
                 scratch: Path):
        self.store = store
        self.book = book
        self.runner = runner
        self.config = config
        self.scratch = claim_scratch(scratch, "mshot-orchestrator")  # a killed orchestrator's folder is removed

    # -- videos --------------------------------------------------------------------------------------
    def _probe_and_record(self, path: Path, sha256: str) -> VideoInfo:
        """Check the file decodes as a video with frames (InvalidInput otherwise) and remember the answer."""
        info = probe_video(path)
        record_probe(self.store, sha256, info)
        return info

    def UploadVideo(self, request_iterator, context) -> common_pb2.ArtifactRef:
        first = next(request_iterator, None)
        if first is None or not first.HasField("header"):
            raise InvalidInput("an upload must start with a header message (filename, size_bytes, sha256)")
        header = first.header
        check_declared_size(header.size_bytes, self.config.max_upload_bytes, required=False)
        if len(header.filename) > MAX_FILENAME or "/" in header.filename or "\0" in header.filename:
            raise InvalidInput(f"filename '{header.filename[:80]}' is not a file name: at most {MAX_FILENAME} "
                               "characters, no '/'")
        chunks = (chunk.data for chunk in request_iterator if chunk.WhichOneof("part") == "data")
        tmp, sha256, size = spool_chunks(chunks, self.scratch, self.config.max_upload_bytes)
        try:
            check_upload(sha256, size, header.sha256 or None, header.size_bytes or None)
            try:
                self._probe_and_record(tmp, sha256)
            except InvalidInput as exc:
                raise InvalidInput(exc.message.replace(str(tmp), f"uploaded file '{header.filename}'")) from None
            media_type = header.media_type or "video/mp4"
            renamed = tmp.with_name(f"upload-{sha256}{Path(header.filename).suffix[:16]}")
            tmp.rename(renamed)
            tmp = renamed
            ref = self.store.put_file(tmp, media_type)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("video uploaded: %s (%d bytes)", ref.key, ref.size_bytes)
        return ref_to_proto(ref)

    def CreateUploadUrl(self, request, context) -> pipeline_pb2.CreateUploadUrlResponse:
        """A presigned PUT only for a key the store does not hold: a stored video (verified) is never handed out for
        writing; a corrupt one is removed by the verification and can be uploaded again."""
        check_declared_size(request.size_bytes, self.config.max_upload_bytes, required=True)
        ref = ArtifactRef.for_digest(request.sha256, request.media_type or "video/mp4", request.size_bytes)
        if self.store.exists(ref):
            try:
                self.store.verify(ref, self.scratch)
                return pipeline_pb2.CreateUploadUrlResponse(video=ref_to_proto(ref), already_stored=True)
            except DataLoss:
                log.warning("stored video %s was corrupt and is removed; issuing an upload URL", ref.key)
        url = self.store.presigned_put_url(ref, UPLOAD_URL_EXPIRY_S)
        headers = {**upload_headers(ref.sha256), "content-type": "application/octet-stream"}
        return pipeline_pb2.CreateUploadUrlResponse(
            url=url, video=ref_to_proto(ref), expires_unix=time.time() + UPLOAD_URL_EXPIRY_S, headers=headers)

    def _check_video(self, ref: ArtifactRef) -> VideoInfo:
        """The stored video's probe (probed and recorded now if it never was)."""
        info = recorded_probe(self.store, ref)
        if info is not None:
            return info
        if not self.store.exists(ref):
            raise NotFound(f"video {ref.key} is not in the store; upload it first")
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            path = self.store.get_file(ref, Path(tmp) / "video")
            return self._probe_and_record(path, ref.sha256)

    # -- jobs ----------------------------------------------------------------------------------------
    def SubmitJob(self, request, context) -> pipeline_pb2.Job:
        video = ref_from_proto(request.video, "video")
        check_job_options(request.options)
        if len(request.request_id) > MAX_REQUEST_ID:
            raise InvalidInput(f"request_id has {len(request.request_id)} characters, at most {MAX_REQUEST_ID}")
        info = self._check_video(video)
        check_given_focal(request.options.tracking.focal_px, "options.tracking.focal_px", info.height, info.width)
        self.runner.check_room()
        job, created = self.book.create(request.request_id, request.video, request.options)
        rerun = not created and self.book.new_attempt(job.job_id)  # a FAILED or CANCELLED job runs again
        with job_context(job.job_id):
            log.info("job %s", "submitted" if created else f"run again as attempt {job.attempt + 1}" if rerun
                     else "found again (idempotent submit)")
        if created or rerun or not is_terminal(job):
            self.runner.start(job.job_id)
        return self.book.get(job.job_id)

    def GetJob(self, request, context) -> pipeline_pb2.Job:
        return self.book.get(checked_job_id(request.job_id))

    def WatchJob(self, request, context) -> Iterator[pipeline_pb2.Job]:
        self.book.get(checked_job_id(request.job_id))  # NotFound before the stream starts
        yield from self.book.watch(request.job_id, context.is_active)

    def CancelJob(self, request, context) -> pipeline_pb2.Job:
        job = self.book.get(checked_job_id(request.job_id))
        if not is_terminal(job):
            self.runner.cancel(job.job_id)
        return self.book.get(request.job_id)

    def ListJobs(self, request, context) -> pipeline_pb2.ListJobsResponse:
        if not 0 <= request.limit <= MAX_LIST_LIMIT:
            raise InvalidInput(f"limit={request.limit} is out of range: expected 0 (= 100) to {MAX_LIST_LIMIT}")
        return pipeline_pb2.ListJobsResponse(jobs=self.book.list(request.limit or 100))

    # -- results -------------------------------------------------------------------------------------
    def GetArtifact(self, request, context) -> Iterator[pipeline_pb2.ArtifactChunk]:
        job = self.book.get(checked_job_id(request.job_id))
        found = [s.result.artifacts[request.name] for s in job.stages if request.name in s.result.artifacts]
        if not found:
            names = sorted(name for s in job.stages for name in s.result.artifacts)
            raise NotFound(f"job {job.job_id} has no artifact '{request.name[:40]}' (it has: "
                           f"{', '.join(names) or 'none yet'})")
        ref = ref_from_proto(found[0], request.name)
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            path = self.store.get_file(ref, Path(tmp) / "artifact")  # verified: DataLoss if corrupt
            yield pipeline_pb2.ArtifactChunk(header=ref_to_proto(ref))
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield pipeline_pb2.ArtifactChunk(data=chunk)


def raise_exhausted(size: int, limit: int) -> None:
    raise ResourceExhausted(f"upload of {size} bytes exceeds the limit of {limit} bytes (MSHOT_MAX_UPLOAD_BYTES)")
