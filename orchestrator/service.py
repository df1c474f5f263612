"""The Pipeline gRPC service: uploads, job submission (idempotent), queries, watching and cancelling."""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from mshot.config import OrchestratorConfig
from mshot.errors import InvalidInput, NotFound, ResourceExhausted
from mshot.logs import job_context
from mshot.rpc.convert import ref_from_proto, ref_to_proto
from mshot.store import ArtifactRef, ArtifactStore
from mshot.store.base import check_upload, spool_chunks
from mshot.v1 import common_pb2, pipeline_pb2, pipeline_pb2_grpc
from mshot.video import probe_video, record_probe, recorded_probe
from orchestrator.jobs import JobBook, is_terminal
from orchestrator.runner import JobRunner

log = logging.getLogger("mshot.pipeline")

UPLOAD_URL_EXPIRY_S = 3600


class PipelineService(pipeline_pb2_grpc.PipelineServicer):
    def __init__(self, store: ArtifactStore, book: JobBook, runner: JobRunner, config: OrchestratorConfig,
                 scratch: Path):
        self.store = store
        self.book = book
        self.runner = runner
        self.config = config
        self.scratch = scratch
        scratch.mkdir(parents=True, exist_ok=True)

    # -- videos --------------------------------------------------------------------------------------
    def _probe_and_record(self, path: Path, sha256: str) -> None:
        """Check the file decodes as a video with frames (InvalidInput otherwise) and remember the answer."""
        record_probe(self.store, sha256, probe_video(path))

    def UploadVideo(self, request_iterator, context) -> common_pb2.ArtifactRef:
        first = next(request_iterator, None)
        if first is None or not first.HasField("header"):
            raise InvalidInput("an upload must start with a header message (filename, size_bytes, sha256)")
        header = first.header
        if header.size_bytes > self.config.max_upload_bytes:
            raise_exhausted(header.size_bytes, self.config.max_upload_bytes)
        chunks = (chunk.data for chunk in request_iterator if chunk.WhichOneof("part") == "data")
        tmp, sha256, size = spool_chunks(chunks, self.scratch, self.config.max_upload_bytes)
        try:
            check_upload(sha256, size, header.sha256 or None, header.size_bytes or None)
            try:
                self._probe_and_record(tmp, sha256)
            except InvalidInput as exc:
                raise InvalidInput(exc.message.replace(str(tmp), f"uploaded file '{header.filename}'")) from None
            media_type = header.media_type or "video/mp4"
            renamed = tmp.with_name(f"upload-{sha256}{Path(header.filename).suffix}")
            tmp.rename(renamed)
            tmp = renamed
            ref = self.store.put_file(tmp, media_type)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("video uploaded: %s (%d bytes)", ref.key, ref.size_bytes)
        return ref_to_proto(ref)

    def CreateUploadUrl(self, request, context) -> pipeline_pb2.CreateUploadUrlResponse:
        if request.size_bytes > self.config.max_upload_bytes:
            raise_exhausted(request.size_bytes, self.config.max_upload_bytes)
        ref = ArtifactRef.for_digest(request.sha256, request.media_type or "video/mp4", request.size_bytes)
        url = self.store.presigned_put_url(ref, UPLOAD_URL_EXPIRY_S)
        return pipeline_pb2.CreateUploadUrlResponse(
            url=url, video=ref_to_proto(ref), expires_unix=time.time() + UPLOAD_URL_EXPIRY_S)

    def _check_video(self, ref: ArtifactRef) -> None:
        if recorded_probe(self.store, ref) is not None:
            return
        if not self.store.exists(ref):
            raise NotFound(f"video {ref.key} is not in the store; upload it first")
        with tempfile.TemporaryDirectory(dir=self.scratch) as tmp:
            path = self.store.get_file(ref, Path(tmp) / "video")
            self._probe_and_record(path, ref.sha256)

    # -- jobs ----------------------------------------------------------------------------------------
    def SubmitJob(self, request, context) -> pipeline_pb2.Job:
        video = ref_from_proto(request.video, "video")
        self._check_video(video)
        job, created = self.book.create(request.request_id, request.video, request.options)
        with job_context(job.job_id):
            log.info("job %s", "submitted" if created else "found again (idempotent submit)")
        if created or not is_terminal(job):
            self.runner.start(job.job_id)
        return job

    def GetJob(self, request, context) -> pipeline_pb2.Job:
        return self.book.get(request.job_id)

    def WatchJob(self, request, context) -> Iterator[pipeline_pb2.Job]:
        self.book.get(request.job_id)  # NotFound before the stream starts
        yield from self.book.watch(request.job_id, context.is_active)

    def CancelJob(self, request, context) -> pipeline_pb2.Job:
        job = self.book.get(request.job_id)
        if not is_terminal(job):
            self.runner.cancel(job.job_id)
        return self.book.get(request.job_id)

    def ListJobs(self, request, context) -> pipeline_pb2.ListJobsResponse:
        return pipeline_pb2.ListJobsResponse(jobs=self.book.list(request.limit or 100))


def raise_exhausted(size: int, limit: int) -> None:
    raise ResourceExhausted(f"upload of {size} bytes exceeds the limit of {limit} bytes (MSHOT_MAX_UPLOAD_BYTES)")
