"""Talking to a running orchestrator: upload, submit, watch with a progress bar per stage, fetch results."""

from __future__ import annotations

import hashlib
import json
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import grpc

from mshot.config import ServerConfig
from mshot.errors import InvalidInput, NotFound
from mshot.rpc.client import channel_from_config
from mshot.rpc.convert import TERMINAL_JOB_STATES, media_type_for, suffix_for
from mshot.rpc.errors import error_from_rpc
from mshot.store import ArtifactStore
from mshot.store.base import CHUNK
from mshot.v1 import pipeline_pb2, pipeline_pb2_grpc


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


def watch(stub: pipeline_pb2_grpc.PipelineStub, job_id: str, show_progress: bool = True) -> pipeline_pb2.Job:
    """Follow a job to its end, with one progress bar per stage on a terminal (one line per stage change and
    quarter of progress otherwise); reconnects if the stream drops."""
    bars: dict = {}
    lines: dict[str, tuple] = {}
    job = None
    try:
        while job is None or job.state not in TERMINAL_JOB_STATES:
            try:
                for job in stub.WatchJob(pipeline_pb2.JobId(job_id=job_id)):
                    if show_progress and sys.stderr.isatty():
                        _draw(bars, job)
                    elif show_progress:
                        _print_changes(lines, job)
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.UNAVAILABLE:
                    raise error_from_rpc(exc, f"watching job {job_id}") from None
    finally:
        for bar in bars.values():
            bar.close()
    return job


def _print_changes(last: dict[str, tuple], job: pipeline_pb2.Job) -> None:
    for status in job.stages:
        state = pipeline_pb2.StageState.Name(status.state).removeprefix("STAGE_STATE_").lower()
        key = (state, int(status.fraction * 4), status.attempts)
        if last.get(status.stage) != key:
            last[status.stage] = key
            print(f"{status.stage:>9}: {state} {status.fraction:4.0%} {status.message}"[:100], file=sys.stderr,
                  flush=True)


def _draw(bars: dict, job: pipeline_pb2.Job) -> None:
    from tqdm import tqdm

    for position, status in enumerate(job.stages):
        if status.stage not in bars:
            bars[status.stage] = tqdm(total=100, position=position, desc=f"{status.stage:>9}", file=sys.stderr,
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


def fetch_results(store: ArtifactStore, job: pipeline_pb2.Job, out: Path) -> dict[str, Path]:
    """Copy every artifact of a finished job into `out/artifacts/`, except the dataset archive: that is unpacked
    into `out/dataset/` and not kept beside it (the store holds it), so the result folder has the dataset once."""
    from mshot.store import ArtifactRef

    paths: dict[str, Path] = {}
    for status in job.stages:
        for name, ref in status.result.artifacts.items():
            local = ArtifactRef(ref.key, ref.sha256, ref.media_type, ref.size_bytes)
            paths[name] = store.get_file(local, out / "artifacts" / f"{name}{suffix_for(ref.media_type)}")
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
