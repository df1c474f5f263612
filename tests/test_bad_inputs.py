"""Bad inputs at every door: each row of docs/bad_inputs.md is one case here (interface, input, status, message),
run against real servers on loopback (the orchestrator, the real stage adapters over fake engines) and the real
CLI. `test_the_docs_table_is_exactly_these_cases` keeps the table and the cases the same;
`python tests/test_bad_inputs.py` prints the table.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from fake_stages import FakeEngine, fast_retry_config

from mshot.config import STAGES, ServerConfig
from mshot.rpc.server import GrpcServer
from mshot.rpc.stage import StageRunner
from mshot.v1 import (
    common_pb2,
    dataset_pb2,
    dataset_pb2_grpc,
    keypoints_pb2,
    keypoints_pb2_grpc,
    multishot_pb2,
    multishot_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
    tracking_pb2,
    tracking_pb2_grpc,
)

TABLE = Path(__file__).resolve().parents[1] / "docs" / "bad_inputs.md"
P = pipeline_pb2


@dataclass(frozen=True)
class Case:
    interface: str  # "SubmitJob", "Track", "mshot import openpose", ...
    given: str  # the bad input, in words
    status: str  # gRPC status name, or "exit N" for the CLI
    message: str  # a fragment of the message the caller gets
    call: Callable  # (world) -> None, raising grpc.RpcError; for the CLI: -> (exit code, stderr)


class World:
    """An orchestrator and the four real stage adapters (fake engines) on loopback over one local store, with
    one finished job and one uploaded video."""

    def __init__(self, tmp: Path):
        from mshot.cli.client import upload_video, watch
        from mshot.store.local import LocalStore
        from orchestrator.server import start_orchestrator

        self.tmp = tmp
        self.store = LocalStore(tmp / "store")
        self.servers, self.stage_stubs = [], {}
        stubs = {"tracking": tracking_pb2_grpc.TrackingStub, "keypoints": keypoints_pb2_grpc.KeypointsStub,
                 "multishot": multishot_pb2_grpc.MultishotStub, "dataset": dataset_pb2_grpc.DatasetStub}
        addresses = {}
        for name in STAGES:
            module = importlib.import_module(f"services.{name}.server")
            server = GrpcServer(name, ServerConfig(port=0))
            runner = StageRunner(name, FakeEngine(name), self.store, server.slots, server.lifecycle, tmp / "scratch")
            server.add(module.register, module.Servicer(runner), module.SERVICE_NAME)
            server.start()
            server.set_serving()
            self.servers.append(server)
            addresses[name] = f"127.0.0.1:{server.port}"
            self.stage_stubs[name] = stubs[name](grpc.insecure_channel(addresses[name]))
        orchestrator = start_orchestrator(ServerConfig(port=0), fast_retry_config(addresses), self.store,
                                          tmp / "scratch")
        self.servers.append(orchestrator)
        self.addr = f"127.0.0.1:{orchestrator.port}"
        self.stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(self.addr))
        self.video_path = write_video(tmp / "clip.avi")
        self.video = upload_video(self.stub, self.video_path)
        self.job = watch(self.stub, self.stub.SubmitJob(P.SubmitJobRequest(video=self.video)).job_id, False)
        assert self.job.state == P.JOB_STATE_SUCCEEDED

    def submit(self, **options) -> None:
        self.stub.SubmitJob(P.SubmitJobRequest(video=self.video, options=P.JobOptions(**options)))

    def close(self) -> None:
        for server in self.servers:
            server.server.stop(0)


def write_video(path: Path, shade: int = 0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(12):
        writer.write(np.full((48, 64, 3), (shade + i * 20) % 256, np.uint8))
    writer.release()
    return path


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("world"))
    yield w
    w.close()


# -- calls -----------------------------------------------------------------------------------------------
T, K, M, D = tracking_pb2.TrackingOptions, keypoints_pb2.KeypointsOptions, multishot_pb2.MultishotOptions, \
    dataset_pb2.DatasetOptions
BAD_HEX = common_pb2.ArtifactRef(key="sha256/xyz", sha256="xyz")


def _ref(w, **change) -> common_pb2.ArtifactRef:
    ref = common_pb2.ArtifactRef()
    ref.CopyFrom(w.video)
    for name, value in change.items():
        setattr(ref, name, value)
    return ref


def _upload(w, header: P.UploadHeader, chunks: list[bytes]) -> None:
    messages = ([P.UploadChunk(header=header)] if header is not None else []) + [P.UploadChunk(data=c) for c in chunks]
    w.stub.UploadVideo(iter(messages))


def _upload_declared(w, data: bytes, size: int | None = None, sha256: str | None = None) -> None:
    header = P.UploadHeader(filename="x.avi", size_bytes=len(data) if size is None else size,
                            sha256=hashlib.sha256(data).hexdigest() if sha256 is None else sha256)
    _upload(w, header, [data])


def _poisoned_video(w) -> None:
    """A video uploaded, then its stored bytes overwritten (a rogue PUT), before any job checked it."""
    from mshot.cli.client import upload_video

    ref = upload_video(w.stub, write_video(w.tmp / "poisoned.avi", shade=7))
    (w.store.root / "docs" / "videos" / f"{ref.sha256}.json").unlink()
    stored = w.store.root / ref.key
    stored.chmod(0o644)
    stored.write_bytes(b"garbage over a stored video")
    w.stub.SubmitJob(P.SubmitJobRequest(video=ref))


def _track(w, **options) -> None:
    request = tracking_pb2.TrackRequest(job_id="job-t", video=w.video, options=T(**options))
    list(w.stage_stubs["tracking"].Track(request))


def _detect(w, **options) -> None:
    list(w.stage_stubs["keypoints"].Detect(keypoints_pb2.KeypointsRequest(
        job_id="job-k", video=w.video, tracklets=w.video, options=K(**options))))


def _fit(w, **options) -> None:
    list(w.stage_stubs["multishot"].Fit(multishot_pb2.FitRequest(
        job_id="job-m", tracklets=w.video, keypoints=w.video, options=M(**options))))


def _export(w, **options) -> None:
    list(w.stage_stubs["dataset"].Export(dataset_pb2.ExportRequest(
        job_id="job-d", video=w.video, tracklets=w.video, keypoints=w.video, fits=w.video, options=D(**options))))


def _cli(argv: list[str]):
    """Run the real CLI in-process: (exit code, stderr)."""
    import contextlib
    import io

    from mshot_main import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def _openpose_zip(w, name: str, text: str) -> Path:
    path = w.tmp / f"{abs(hash((name, len(text))))}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return path


def _import_openpose(w, name: str, text: str):
    return _cli(["import", "openpose", str(_openpose_zip(w, name, text)), "--out", str(w.tmp / "kp.npz")])


def _import_phalp(w, data: bytes):
    path = w.tmp / "results.pkl"
    path.write_bytes(data)
    return _cli(["import", "phalp", str(path), "--out", str(w.tmp / "t.npz"), "--fps", "10"])


def _fit_text_file(w):
    path = w.tmp / "notes.npz"
    path.write_text("just some text, not arrays\n")
    from mshot.body.generate import write_generated_smpl_model

    model = write_generated_smpl_model(w.tmp / "model.npz")  # a body model that exists: the tracklets are at fault
    return _cli(["fit", str(path), "--body-model", str(model), "--out", str(w.tmp / "fit.npz")])


def _run_with_focal(w):
    """`mshot run` on a trackable 160x120 video with a focal length for 16 mm frames: refused before it starts."""
    path = w.tmp / "noise.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    for i in range(6):
        writer.write(np.random.default_rng(i).integers(0, 255, (120, 160, 3), dtype=np.uint8))
    writer.release()
    out = w.tmp / "run-out"
    result = _cli(["run", str(path), "--out", str(out), "--store", str(w.tmp / "run-store"), "--focal-px", "5"])
    assert not out.exists()  # nothing started, nothing written
    return result


BYTEARRAY_3GB = (b"\x80\x04\x8c\x08builtins\x94\x8c\tbytearray\x94\x93\x94\x8a\x05"
                 + (3_000_000_000).to_bytes(5, "little") + b"\x85\x94R\x94.")
DEEP = '{"people": ' + "[" * 100_000 + "]" * 100_000 + "}"
LONG = "j" * 300

CASES = [
    # SubmitJob: every stage's options, checked before anything runs
    Case("SubmitJob", "tracking backend 'nope'", "INVALID_ARGUMENT", "options.tracking.backend='nope' is not known",
         lambda w: w.submit(tracking=T(backend="nope"))),
    Case("SubmitJob", "tracking device 99", "INVALID_ARGUMENT", "options.tracking.device=99 is not a device",
         lambda w: w.submit(tracking=T(device=99))),
    Case("SubmitJob", "tracking max_people -1", "INVALID_ARGUMENT", "options.tracking.max_people=-1 is out of range",
         lambda w: w.submit(tracking=T(max_people=-1))),
    Case("SubmitJob", "tracking focal_px NaN", "INVALID_ARGUMENT",
         "options.tracking.focal_px=nan is not a focal length", lambda w: w.submit(tracking=T(focal_px=math.nan))),
    Case("SubmitJob", "tracking focal_px -600", "INVALID_ARGUMENT",
         "options.tracking.focal_px=-600.0 is not a focal length", lambda w: w.submit(tracking=T(focal_px=-600))),
    Case("SubmitJob", "tracking focal_px 1e6 for 64x48 frames (over 100 x max(H, W))", "INVALID_ARGUMENT",
         "options.tracking.focal_px=1e+06 px is out of range for 64x48 frames: expected 6.4 to 6400 px",
         lambda w: w.submit(tracking=T(focal_px=1e6))),
    Case("SubmitJob", "tracking phalp_results with a malformed sha256", "INVALID_ARGUMENT",
         "'options.tracking.phalp_results'", lambda w: w.submit(tracking=T(phalp_results=BAD_HEX))),
    Case("SubmitJob", "keypoints backend 'gif'", "INVALID_ARGUMENT", "options.keypoints.backend='gif' is not known",
         lambda w: w.submit(keypoints=K(backend="gif"))),
    Case("SubmitJob", "keypoints device 99", "INVALID_ARGUMENT", "options.keypoints.device=99 is not a device",
         lambda w: w.submit(keypoints=K(device=99))),
    Case("SubmitJob", "keypoints openpose_json with a malformed sha256", "INVALID_ARGUMENT",
         "'options.keypoints.openpose_json'", lambda w: w.submit(keypoints=K(openpose_json=BAD_HEX))),
    Case("SubmitJob", "multishot max_iters -1", "INVALID_ARGUMENT", "options.multishot.max_iters=-1 is out of range",
         lambda w: w.submit(multishot=M(max_iters=-1))),
    Case("SubmitJob", "multishot max_iters 1000000", "INVALID_ARGUMENT",
         "options.multishot.max_iters=1000000 is out of range", lambda w: w.submit(multishot=M(max_iters=1_000_000))),
    Case("SubmitJob", "multishot seed -5", "INVALID_ARGUMENT", "options.multishot.seed=-5 is out of range",
         lambda w: w.submit(multishot=M(seed=-5))),
    Case("SubmitJob", "multishot device 99", "INVALID_ARGUMENT", "options.multishot.device=99 is not a device",
         lambda w: w.submit(multishot=M(device=99))),
    Case("SubmitJob", "dataset format 'gif'", "INVALID_ARGUMENT", "options.dataset.formats='gif' is not known",
         lambda w: w.submit(dataset=D(formats=["gif"]))),
    Case("SubmitJob", "dataset format ''", "INVALID_ARGUMENT", "options.dataset.formats=\"''\" is not known",
         lambda w: w.submit(dataset=D(formats=[""]))),
    Case("SubmitJob", "dataset format listed twice", "INVALID_ARGUMENT", "lists a format twice",
         lambda w: w.submit(dataset=D(formats=["humannerf", "humannerf"]))),
    Case("SubmitJob", "dataset target_frames -5", "INVALID_ARGUMENT",
         "options.dataset.target_frames=-5 is out of range", lambda w: w.submit(dataset=D(target_frames=-5))),
    Case("SubmitJob", "dataset val_fraction NaN", "INVALID_ARGUMENT",
         "options.dataset.val_fraction=nan is out of range",
         lambda w: w.submit(dataset=D(val_fraction=math.nan))),
    Case("SubmitJob", "dataset val_fraction 5", "INVALID_ARGUMENT", "options.dataset.val_fraction=5.0 is out of range",
         lambda w: w.submit(dataset=D(val_fraction=5))),
    Case("SubmitJob", "dataset val_fraction -0.1", "INVALID_ARGUMENT",
         "options.dataset.val_fraction=-0.1 is out of range", lambda w: w.submit(dataset=D(val_fraction=-0.1))),
    Case("SubmitJob", "dataset person id -1", "INVALID_ARGUMENT", "options.dataset.person_ids=-1 is out of range",
         lambda w: w.submit(dataset=D(person_ids=[-1]))),
    Case("SubmitJob", "request_id of 300 characters", "INVALID_ARGUMENT", "request_id has 300 characters",
         lambda w: w.stub.SubmitJob(P.SubmitJobRequest(request_id=LONG, video=w.video))),
    Case("SubmitJob", "no video reference", "INVALID_ARGUMENT", "'video' artifact reference is missing",
         lambda w: w.stub.SubmitJob(P.SubmitJobRequest())),
    Case("SubmitJob", "video sha256 that is not hex", "INVALID_ARGUMENT", "no valid sha256",
         lambda w: w.stub.SubmitJob(P.SubmitJobRequest(video=BAD_HEX))),
    Case("SubmitJob", "video key that is not its sha256", "INVALID_ARGUMENT", "does not match its sha256",
         lambda w: w.stub.SubmitJob(P.SubmitJobRequest(video=_ref(w, key="sha256/../../etc/passwd")))),
    Case("SubmitJob", "video never uploaded", "NOT_FOUND", "is not in the store; upload it first",
         lambda w: w.stub.SubmitJob(P.SubmitJobRequest(video=_ref(w, sha256="0" * 64, key="sha256/" + "0" * 64)))),
    Case("SubmitJob", "video whose stored bytes were overwritten", "DATA_LOSS", "is corrupt", _poisoned_video),
    # job ids, listing, downloads
    Case("GetJob", "job id of 300 characters", "INVALID_ARGUMENT", "is malformed",
         lambda w: w.stub.GetJob(P.JobId(job_id=LONG))),
    Case("GetJob", "job id '../../etc/passwd'", "INVALID_ARGUMENT", "is malformed",
         lambda w: w.stub.GetJob(P.JobId(job_id="../../etc/passwd"))),
    Case("GetJob", "empty job id", "INVALID_ARGUMENT", "is malformed", lambda w: w.stub.GetJob(P.JobId(job_id=""))),
    Case("GetJob", "well-formed unknown job id", "NOT_FOUND", "no job with id 'job-0000'",
         lambda w: w.stub.GetJob(P.JobId(job_id="job-0000"))),
    Case("WatchJob", "job id with a '/'", "INVALID_ARGUMENT", "is malformed",
         lambda w: list(w.stub.WatchJob(P.JobId(job_id="jobs/x")))),
    Case("CancelJob", "job id of 300 characters", "INVALID_ARGUMENT", "is malformed",
         lambda w: w.stub.CancelJob(P.JobId(job_id=LONG))),
    Case("ListJobs", "limit -1", "INVALID_ARGUMENT", "limit=-1 is out of range",
         lambda w: w.stub.ListJobs(P.ListJobsRequest(limit=-1))),
    Case("ListJobs", "limit 1001", "INVALID_ARGUMENT", "limit=1001 is out of range",
         lambda w: w.stub.ListJobs(P.ListJobsRequest(limit=1001))),
    Case("GetArtifact", "artifact name the job does not have", "NOT_FOUND", "has no artifact 'nope'",
         lambda w: list(w.stub.GetArtifact(P.GetArtifactRequest(job_id=w.job.job_id, name="nope")))),
    Case("GetArtifact", "job id of 300 characters", "INVALID_ARGUMENT", "is malformed",
         lambda w: list(w.stub.GetArtifact(P.GetArtifactRequest(job_id=LONG, name="fits")))),
    # uploads
    Case("UploadVideo", "bytes without a header first", "INVALID_ARGUMENT", "must start with a header",
         lambda w: _upload(w, None, [b"abc"])),
    Case("UploadVideo", "declared size_bytes -5", "INVALID_ARGUMENT", "size_bytes=-5",
         lambda w: _upload_declared(w, b"abc", size=-5)),
    Case("UploadVideo", "declared size over MSHOT_MAX_UPLOAD_BYTES", "RESOURCE_EXHAUSTED", "exceeds the limit",
         lambda w: _upload_declared(w, b"abc", size=2**62)),
    Case("UploadVideo", "bytes that do not match the declared sha256", "INVALID_ARGUMENT", "checksum mismatch",
         lambda w: _upload_declared(w, b"abc", sha256="0" * 64)),
    Case("UploadVideo", "fewer bytes than declared", "INVALID_ARGUMENT", "truncated or padded",
         lambda w: _upload_declared(w, b"abc", size=10)),
    Case("UploadVideo", "a text file", "INVALID_ARGUMENT", "uploaded file 'x.avi'",
         lambda w: _upload_declared(w, b"hello, not a video\n" * 10)),
    Case("UploadVideo", "file name of 300 characters", "INVALID_ARGUMENT", "is not a file name",
         lambda w: _upload(w, P.UploadHeader(filename="a." + "x" * 298, size_bytes=3), [b"abc"])),
    Case("UploadVideo", "file name with a '/'", "INVALID_ARGUMENT", "is not a file name",
         lambda w: _upload(w, P.UploadHeader(filename="../../etc/x.mp4", size_bytes=3), [b"abc"])),
    Case("CreateUploadUrl", "size_bytes -5", "INVALID_ARGUMENT", "size_bytes=-5",
         lambda w: w.stub.CreateUploadUrl(P.CreateUploadUrlRequest(sha256="0" * 64, size_bytes=-5))),
    Case("CreateUploadUrl", "size_bytes 0", "INVALID_ARGUMENT", "size_bytes=0",
         lambda w: w.stub.CreateUploadUrl(P.CreateUploadUrlRequest(sha256="0" * 64, size_bytes=0))),
    Case("CreateUploadUrl", "sha256 'abc'", "INVALID_ARGUMENT", "is not a sha256 hex digest",
         lambda w: w.stub.CreateUploadUrl(P.CreateUploadUrlRequest(sha256="abc", size_bytes=3))),
    Case("CreateUploadUrl", "a local-store server", "FAILED_PRECONDITION", "need an S3 store",
         lambda w: w.stub.CreateUploadUrl(P.CreateUploadUrlRequest(sha256="1" * 64, size_bytes=3))),
    # the stage RPCs check their own options with the same functions
    Case("Track", "backend 'nope'", "INVALID_ARGUMENT", "options.backend='nope' is not known",
         lambda w: _track(w, backend="nope")),
    Case("Track", "device 99", "INVALID_ARGUMENT", "options.device=99 is not a device", lambda w: _track(w, device=99)),
    Case("Track", "focal_px inf", "INVALID_ARGUMENT", "options.focal_px=inf is not a focal length",
         lambda w: _track(w, focal_px=math.inf)),
    Case("Track", "focal_px 5 for 64x48 frames (under 0.1 x max(H, W))", "INVALID_ARGUMENT",
         "options.focal_px=5 px is out of range for 64x48 frames", lambda w: _track(w, focal_px=5)),
    Case("Detect", "backend 'x'", "INVALID_ARGUMENT", "options.backend='x' is not known",
         lambda w: _detect(w, backend="x")),
    Case("Fit", "max_iters -1", "INVALID_ARGUMENT", "options.max_iters=-1 is out of range",
         lambda w: _fit(w, max_iters=-1)),
    Case("Export", "val_fraction NaN", "INVALID_ARGUMENT", "options.val_fraction=nan is out of range",
         lambda w: _export(w, val_fraction=math.nan)),
    Case("Export", "format 'gif'", "INVALID_ARGUMENT", "options.formats='gif' is not known",
         lambda w: _export(w, formats=["gif"])),
    Case("Export", "target_frames -5", "INVALID_ARGUMENT", "options.target_frames=-5 is out of range",
         lambda w: _export(w, target_frames=-5)),
    # the CLI
    Case("mshot import openpose", "a zip whose one entry inflates past 16 MiB", "exit 2", "larger than",
         lambda w: _import_openpose(w, "v_000000000000_keypoints.json", " " * (17 << 20) + '{"people": []}')),
    Case("mshot import openpose", "JSON nested 100,000 deep", "exit 2", "nests JSON more than 16 levels deep",
         lambda w: _import_openpose(w, "v_000000000000_keypoints.json", DEEP)),
    Case("mshot import openpose", "frame number 1e21 in a file name", "exit 2", "above 1000000000",
         lambda w: _import_openpose(w, "v_1" + "0" * 21 + "_keypoints.json", '{"people": []}')),
    Case("mshot import phalp", "a 39-byte pickle asking for bytearray(3e9)", "exit 2", "bytearray of length 3000000000",
         lambda w: _import_phalp(w, BYTEARRAY_3GB)),
    Case("mshot import phalp", "a text file", "exit 2", "is not a pickle", lambda w: _import_phalp(w, b"hello\n")),
    Case("mshot fit", "a text file as tracklets", "exit 2", "is not an npz archive", _fit_text_file),
    Case("mshot run", "--focal-px 5 for 160x120 frames", "exit 2",
         "--focal-px=5 px is out of range for 160x120 frames: expected 16 to 16000 px", _run_with_focal),
    Case("mshot submit", "--focal-px nan", "exit 2", "--focal-px=nan is not a focal length",
         lambda w: _cli(["submit", str(w.video_path), "--addr", w.addr, "--focal-px", "nan"])),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{c.interface}: {c.given}" for c in CASES])
def test_bad_input_gets_its_status_and_a_message_naming_the_problem(world, case):
    if case.status.startswith("exit "):
        code, stderr = case.call(world)
        assert f"exit {code}" == case.status, stderr
        assert case.message in stderr and "Traceback" not in stderr
        return
    with pytest.raises(grpc.RpcError) as info:
        case.call(world)
    assert info.value.code().name == case.status, info.value.details()
    assert case.message in info.value.details()
    assert str(world.tmp) not in info.value.details()  # no server paths


def table() -> str:
    rows = [f"| {c.interface} | {c.given} | {c.status} | {c.message} |" for c in CASES]
    return "\n".join(["| interface | input | status | message (contains) |", "|---|---|---|---|", *rows])


def test_the_docs_table_is_exactly_these_cases():
    text = TABLE.read_text()
    start = text.index("| interface |")
    assert text[start:].strip().startswith(table()), "regenerate the table: python tests/test_bad_inputs.py"
    assert len(CASES) >= 40


def test_a_stage_error_message_names_the_input_not_the_servers_scratch_path(tmp_path):
    from mshot.errors import InvalidInput
    from mshot.store.local import LocalStore
    from services.tracking import server as tracking_server

    class NamesItsInput:
        def run(self, inputs, options, out, progress):
            raise InvalidInput(f"tracklets file {inputs['video']} lacks required key(s): person_id")

    store = LocalStore(tmp_path / "store")
    ref = store.put_file(write_video(tmp_path / "v.avi"), "video/x-msvideo")
    server = GrpcServer("tracking", ServerConfig(port=0))
    runner = StageRunner("tracking", NamesItsInput(), store, server.slots, server.lifecycle, tmp_path / "scratch")
    server.add(tracking_server.register, tracking_server.Servicer(runner), tracking_server.SERVICE_NAME)
    server.start()
    try:
        stub = tracking_pb2_grpc.TrackingStub(grpc.insecure_channel(f"127.0.0.1:{server.port}"))
        video = common_pb2.ArtifactRef(key=ref.key, sha256=ref.sha256, media_type=ref.media_type,
                                       size_bytes=ref.size_bytes)
        with pytest.raises(grpc.RpcError) as info:
            list(stub.Track(tracking_pb2.TrackRequest(job_id="job-1", video=video)))
        assert info.value.details() == "tracklets file video.avi lacks required key(s): person_id"
    finally:
        server.server.stop(0)


if __name__ == "__main__":
    print(table())
    print(json.dumps({"cases": len(CASES)}), file=sys.stderr)
