"""Talking to a running orchestrator: upload, submit, watch with a progress bar per stage, fetch results."""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TextIO

import grpc

from mshot.backoff import Backoff
from mshot.config import ServerConfig
from mshot.errors import DataLoss, InvalidInput, NotFound, Unavailable
from mshot.rpc.client import channel_from_config
from mshot.rpc.convert import TERMINAL_JOB_STATES, media_type_for, suffix_for
from mshot.rpc.errors import error_from_rpc
from mshot.store.base import CHUNK
from mshot.v1 import pipeline_pb2, pipeline_pb2_grpc

TERMINAL = TERMINAL_JOB_STATES
STAGE_ENDED = (pipeline_pb2.STAGE_STATE_DONE, pipeline_pb2.STAGE_STATE_FAILED, pipeline_pb2.STAGE_STATE_CANCELLED)


def pipeline_stub(addr: str) -> pipeline_pb2_grpc.PipelineStub:
    return pipeline_pb2_grpc.PipelineStub(channel_from_config(addr, ServerConfig.from_env("orchestrator")))


def rpc(what: str, function, *args, **kwargs):
    """Call `function`, turning a gRPC failure into the matching domain error."""
    try:
        return function(*args, **kwargs)
    except grpc.RpcError as exc:
        raise error_from_rpc(exc, what) from None


def upload_video(stub: pipeline_pb2_grpc.PipelineStub, path: Path):
    if not path.is_file():
        raise NotFound(f"video file not found: {path}")
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    size = path.stat().st_size

    def chunks() -> Iterator[pipeline_pb2.UploadChunk]:
        yield pipeline_pb2.UploadChunk(header=pipeline_pb2.UploadHeader(
            filename=path.name, size_bytes=size, sha256=digest.hexdigest(), media_type=media_type_for(path)))
        with open(path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield pipeline_pb2.UploadChunk(data=chunk)

    return rpc(f"uploading {path}", stub.UploadVideo, chunks())


WATCH_RECONNECT_S, WATCH_RECONNECT_MAX_S = 0.5, 10.0
WATCH_UNREACHABLE_LIMIT_S = 300.0


def watch(stub: pipeline_pb2_grpc.PipelineStub, job_id: str, show_progress: bool = True,
          stream: TextIO | None = None, unreachable_limit_s: float = WATCH_UNREACHABLE_LIMIT_S,
          on_job: Callable[[pipeline_pb2.Job], None] | None = None) -> pipeline_pb2.Job:
    """Follow a job to its end, showing one line per stage on `stream` (default stderr): a live progress bar
    on a terminal, else one line when the stage ends; `on_job` is called with every state of the job seen. A
    dropped stream or an unreachable orchestrator (restarting, say) is reconnected with jittered backoff (0.5 s
    doubling up to 10 s); after `unreachable_limit_s` (5 minutes) without an answer it gives up with Unavailable."""
    stream = stream or sys.stderr
    bars: dict = {}
    started: dict[str, float] = {}
    ended: set[str] = set()
    job = None
    backoff = Backoff(WATCH_RECONNECT_S, WATCH_RECONNECT_MAX_S)
    unreachable_since = None
    try:
        while job is None or job.state not in TERMINAL_JOB_STATES:
            try:
                for job in stub.WatchJob(pipeline_pb2.JobId(job_id=job_id)):
                    unreachable_since = None
                    backoff.reset()
                    if show_progress and stream.isatty():
                        _draw(bars, job, stream)
                    elif show_progress:
                        _print_ended(started, ended, job, stream)
                    if on_job is not None:
                        on_job(job)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise error_from_rpc(exc, f"watching job {job_id}") from None
                unreachable_since = unreachable_since or time.monotonic()
                if time.monotonic() - unreachable_since >= unreachable_limit_s:
                    raise Unavailable(f"the orchestrator did not answer for {unreachable_limit_s:.0f} s while "
                                      f"watching job {job_id}: {exc.details()}") from None
                time.sleep(backoff.next_delay())
            else:
                if job is None or job.state not in TERMINAL:  # the stream closed early (orchestrator stopping)
                    time.sleep(backoff.next_delay())
    finally:
        for bar in bars.values():
            bar.close()
    return job


def _print_ended(started: dict[str, float], ended: set[str], job: pipeline_pb2.Job, stream: TextIO) -> None:
    """One line per stage, when it ends (done, failed, cancelled), with the time it ran."""
    from mshot.cli.console import stage_line

    now = time.monotonic()
    for status, entry in zip(job.stages, job_summary(job)["stages"], strict=True):
        if status.state == pipeline_pb2.STAGE_STATE_RUNNING:
            started.setdefault(status.stage, now)
        if status.state in STAGE_ENDED and status.stage not in ended:
            ended.add(status.stage)
            took = now - started[status.stage] if status.stage in started else None
            print(stage_line(entry, took), file=stream, flush=True)


def _draw(bars: dict, job: pipeline_pb2.Job, stream: TextIO) -> None:
    from tqdm import tqdm

    for position, status in enumerate(job.stages):
        if status.stage not in bars:
            bars[status.stage] = tqdm(total=100, position=position, desc=f"{status.stage:>9}", file=stream,
                                      bar_format="{desc} {bar} {percentage:3.0f}% {postfix}", leave=True)
        bar = bars[status.stage]
        bar.n = round(100 * status.fraction)
        state = pipeline_pb2.StageState.Name(status.state).removeprefix("STAGE_STATE_").lower()
        retry = f" (attempt {status.attempts})" if status.attempts > 1 else ""
        bar.set_postfix_str(f"{state}{retry} {status.message}"[:70], refresh=False)
        bar.refresh()


def job_summary(job: pipeline_pb2.Job) -> dict:
    return {
        "job_id": job.job_id,
        "state": pipeline_pb2.JobState.Name(job.state).removeprefix("JOB_STATE_").lower(),
        "error": job.error,
        "video": job.video.key,
        "stages": [
            {"stage": s.stage, "state": pipeline_pb2.StageState.Name(s.state).removeprefix("STAGE_STATE_").lower(),
             "attempts": s.attempts, "error": s.error,
             "artifacts": {name: ref.key for name, ref in s.result.artifacts.items()},
             "summary": json.loads(s.result.summary_json or "{}")}
            for s in job.stages
        ],
    }


def download_artifact(stub: pipeline_pb2_grpc.PipelineStub, job_id: str, name: str, folder: Path) -> Path:
    """Stream one artifact of a job (GetArtifact) to `folder/<name><suffix>`, checking its size and sha256 against
    the header the server sent first: DataLoss on a mismatch, and no partial file is left behind."""
    what = f"artifact '{name}' of job {job_id}"
    try:
        stream = stub.GetArtifact(pipeline_pb2.GetArtifactRequest(job_id=job_id, name=name))
        first = next(stream, None)
        if first is None or not first.HasField("header"):
            raise DataLoss(f"{what}: the server's stream did not start with a header")
        header = first.header
        folder.mkdir(parents=True, exist_ok=True)
        dest = folder / f"{name}{suffix_for(header.media_type)}"
        try:
            digest, size = _write_chunks(stream, dest)
            if digest != header.sha256 or size != header.size_bytes:
                raise DataLoss(f"{what} arrived damaged: {size} bytes with sha256 {digest}, expected "
                               f"{header.size_bytes} bytes with sha256 {header.sha256}")
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
    except grpc.RpcError as exc:
        raise error_from_rpc(exc, f"downloading {what}") from None
    return dest


def _write_chunks(stream: Iterator[pipeline_pb2.ArtifactChunk], dest: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(dest, "wb") as out:
        for chunk in stream:
            digest.update(chunk.data)
            size += len(chunk.data)
            out.write(chunk.data)
    return digest.hexdigest(), size


def fetch_results(stub: pipeline_pb2_grpc.PipelineStub, job: pipeline_pb2.Job, out: Path,
                  downloaded: Mapping[str, Path] | None = None) -> dict[str, Path]:
    """Download every artifact of a job's finished stages into `out/artifacts/` over the API (GetArtifact), except
    the dataset archive: that is unpacked into `out/dataset/` and not kept beside it (the store holds it), so the
    result folder has the dataset once. `downloaded`: artifacts of this job already fetched (name -> path; a job's
    artifacts never change), not fetched again."""
    downloaded = downloaded or {}
    names = [name for status in job.stages for name in status.result.artifacts]
    paths = {name: downloaded[name] if name in downloaded else
             download_artifact(stub, job.job_id, name, out / "artifacts") for name in names}
    if "dataset" in paths:
        archive = paths.pop("dataset")
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(out, filter="data")
        except tarfile.TarError as exc:
            raise InvalidInput(f"dataset archive {archive} is unreadable: {exc}") from None
        archive.unlink()
        paths["dataset"] = out / "dataset"
    return paths
