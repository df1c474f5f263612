"""The API surface around stored artifacts (issue 14, findings 3, 10 and 12): presigned uploads only for new keys,
DATA_LOSS for a stored artifact whose bytes changed and repair by uploading again, downloads over the API
(GetArtifact, `mshot get JOB --out DIR`), the pipeline version in the derived job id, keypoints bound to their
tracklets, scratch folders of killed servers removed on the next start."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tarfile
import textwrap
import urllib.request
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from fake_stages import fast_retry_config, start_fake_stage

from mshot.cli.client import upload_video, watch
from mshot.config import STAGES, ServerConfig
from mshot.store.local import LocalStore
from mshot.v1 import pipeline_pb2, pipeline_pb2_grpc, tracking_pb2
from orchestrator.server import start_orchestrator

P = pipeline_pb2


def _video(path, shade=0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (64, 48))
    for i in range(12):
        writer.write(np.full((48, 64, 3), (shade + i * 20) % 256, np.uint8))
    writer.release()
    return path


class Cluster:
    def __init__(self, tmp_path, store, auth_token=""):
        self.store = store
        self.stages = {name: start_fake_stage(name, store)[0] for name in STAGES}
        addresses = {name: f"127.0.0.1:{server.port}" for name, server in self.stages.items()}
        self.orchestrator = start_orchestrator(ServerConfig(port=0, auth_token=auth_token),
                                               fast_retry_config(addresses), store, tmp_path / "scratch")
        self.addr = f"127.0.0.1:{self.orchestrator.port}"
        self.stub = pipeline_pb2_grpc.PipelineStub(grpc.insecure_channel(self.addr))

    def run(self, ref, **options) -> pipeline_pb2.Job:
        job = self.stub.SubmitJob(P.SubmitJobRequest(video=ref, options=P.JobOptions(**options)))
        return watch(self.stub, job.job_id, show_progress=False)

    def close(self):
        for server in [*self.stages.values(), self.orchestrator]:
            server.server.stop(0)


@pytest.fixture
def local_cluster(tmp_path):
    cluster = Cluster(tmp_path, LocalStore(tmp_path / "store"))
    yield cluster
    cluster.close()


def _put(url: str, body: bytes, headers) -> None:
    urllib.request.urlopen(urllib.request.Request(url, data=body, method="PUT", headers=dict(headers))).close()


def test_upload_url_is_never_given_for_a_stored_video_and_a_poisoned_one_is_removed_then_reissued(tmp_path, s3_config):
    from mshot.store import open_store

    cluster = Cluster(tmp_path, open_store(s3_config))
    try:
        path = _video(tmp_path / "v.avi")
        data = path.read_bytes()
        ref = upload_video(cluster.stub, path)
        grant = cluster.stub.CreateUploadUrl(P.CreateUploadUrlRequest(sha256=ref.sha256, size_bytes=len(data)))
        assert grant.already_stored and grant.url == "" and grant.video.key == ref.key
        store = cluster.store  # a rogue PUT made earlier lands over the stored object
        store.client.put_object(store.bucket, store._object(ref.key), io.BytesIO(b"garbage"), 7)
        grant = cluster.stub.CreateUploadUrl(P.CreateUploadUrlRequest(sha256=ref.sha256, size_bytes=len(data)))
        assert not grant.already_stored and grant.url  # verified, found corrupt, removed: may be uploaded again
        assert set(grant.headers) == {"x-amz-checksum-sha256", "if-none-match", "content-type"}
        _put(grant.url, data, grant.headers)
        assert cluster.run(grant.video).state == P.JOB_STATE_SUCCEEDED
    finally:
        cluster.close()


def test_a_video_overwritten_in_the_store_fails_its_job_with_data_loss_and_uploading_it_again_repairs_it(
        local_cluster, tmp_path):
    path = _video(tmp_path / "v.avi")
    ref = upload_video(local_cluster.stub, path)
    assert local_cluster.run(ref).state == P.JOB_STATE_SUCCEEDED
    stored = local_cluster.store.root / ref.key
    stored.chmod(0o644)
    stored.write_bytes(b"garbage over the stored video")
    job = local_cluster.run(ref, tracking=tracking_pb2.TrackingOptions(max_people=3))  # a new job, same video
    assert job.state == P.JOB_STATE_FAILED
    assert job.stages[0].error.startswith("DATA_LOSS: stored artifact") and "upload the file again" in job.error
    assert upload_video(local_cluster.stub, path) == ref
    assert local_cluster.run(ref, tracking=tracking_pb2.TrackingOptions(max_people=4)).state == P.JOB_STATE_SUCCEEDED


def test_mshot_get_out_downloads_every_artifact_over_the_api_with_its_sha256_checked(local_cluster, tmp_path,
                                                                                    monkeypatch):
    from mshot_main import main

    job = local_cluster.run(upload_video(local_cluster.stub, _video(tmp_path / "v.avi")))
    monkeypatch.setenv("MSHOT_STORE", str(tmp_path / "not-the-servers-store"))  # the CLI never reads a store
    out = tmp_path / "results"
    assert main(["get", job.job_id, "--addr", local_cluster.addr, "--out", str(out)]) == 0
    expected = {name: ref for status in job.stages for name, ref in status.result.artifacts.items()}
    got = {p.stem: p for p in (out / "artifacts").iterdir()}  # the dataset archive is unpacked, not kept
    assert sorted(expected) == ["dataset", "fits", "keypoints", "report", "tracklets"]
    assert sorted(got) == ["fits", "keypoints", "report", "tracklets"]
    for name, path in got.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == expected[name].sha256
    assert (out / "dataset" / "note.txt").read_text() == "dataset call 1"  # the tar is unpacked


def test_get_artifact_streams_in_chunks_after_a_header_and_needs_the_token_like_every_call(tmp_path):
    cluster = Cluster(tmp_path, LocalStore(tmp_path / "store"), auth_token="s3cret")
    try:
        token = (("authorization", "Bearer s3cret"),)
        path = _video(tmp_path / "v.avi")
        from mshot.rpc.client import open_channel

        stub = pipeline_pb2_grpc.PipelineStub(open_channel(cluster.addr, auth_token="s3cret"))
        job = watch(stub, stub.SubmitJob(P.SubmitJobRequest(video=upload_video(stub, path))).job_id, False)
        with pytest.raises(grpc.RpcError) as info:
            list(cluster.stub.GetArtifact(P.GetArtifactRequest(job_id=job.job_id, name="dataset")))
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
        chunks = list(cluster.stub.GetArtifact(P.GetArtifactRequest(job_id=job.job_id, name="dataset"),
                                               metadata=token))
        header, body = chunks[0].header, b"".join(c.data for c in chunks[1:])
        assert header.media_type == "application/x-tar" and len(body) == header.size_bytes
        assert hashlib.sha256(body).hexdigest() == header.sha256
        assert tarfile.open(fileobj=io.BytesIO(body)).getnames() == ["dataset/note.txt"]
    finally:
        cluster.close()


def test_the_pipeline_version_is_part_of_the_derived_job_id_but_not_of_a_clients_request_id(monkeypatch):
    from orchestrator import jobs

    video = P.Job().video
    video.sha256 = "a" * 64
    before = jobs.job_id_for("", video, P.JobOptions()), jobs.job_id_for("r1", video, P.JobOptions())
    monkeypatch.setattr(jobs, "PIPELINE_VERSION", "9.9.9+code99")
    after = jobs.job_id_for("", video, P.JobOptions()), jobs.job_id_for("r1", video, P.JobOptions())
    assert before[0] != after[0]  # an upgraded pipeline computes afresh
    assert before[1] == after[1]  # a client's own idempotency key keeps finding its job


def test_keypoints_made_from_other_tracklets_are_refused_by_their_consumers(dataset_scene, smpl_model, tmp_path):
    from mshot.artifacts.keypoints import load_keypoints, save_keypoints
    from mshot.errors import InvalidInput
    from services.dataset.engine import export_dataset, options_with

    _, paths = dataset_scene
    keypoints = load_keypoints(paths["keypoints"])
    keypoints["tracklets_sha256"] = np.array("b" * 64)
    wrong = save_keypoints(tmp_path / "keypoints.npz", keypoints)
    with pytest.raises(InvalidInput, match="was made from other tracklets"):
        export_dataset({**paths, "keypoints": wrong}, tmp_path / "out", smpl_model, options_with(formats=["humannerf"]))


def test_a_killed_stage_servers_scratch_folder_is_removed_when_the_next_one_starts(tmp_path):
    from mshot.rpc.server import JobSlots, Lifecycle
    from mshot.rpc.stage import StageRunner

    store = LocalStore(tmp_path / "store")
    root = tmp_path / "scratch"
    code = textwrap.dedent(f"""
        import sys, tempfile, time
        from pathlib import Path
        from mshot.rpc.server import JobSlots, Lifecycle
        from mshot.rpc.stage import StageRunner
        from mshot.store.local import LocalStore
        runner = StageRunner("tracking", None, LocalStore({str(tmp_path / 'store')!r}), JobSlots(1), Lifecycle(),
                             {str(root)!r})
        work = Path(tempfile.mkdtemp(prefix="tracking-", dir=runner.scratch))  # as a job's work folder is made
        (work / "in.mp4").write_bytes(b"x" * 1000)
        print(work, flush=True)
        time.sleep(120)
    """)
    repo = str(Path(__file__).resolve().parents[1])
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=repo,
                               env={**os.environ, "PYTHONPATH": repo})
    try:
        left_behind = process.stdout.readline().strip()
        assert left_behind and Path(left_behind).exists()
        live = StageRunner("tracking", None, store, JobSlots(1), Lifecycle(), root)  # a live server keeps its files
        assert Path(left_behind).exists()
    finally:
        process.kill()  # SIGKILL: no clean-up of its own
        process.wait()
    StageRunner("tracking", None, store, JobSlots(1), Lifecycle(), root)
    assert not Path(left_behind).exists()
    assert live.scratch.exists()


def test_the_orchestrator_checks_stage_options_without_importing_any_stage_engine():
    code = ("import sys, orchestrator.service; "
            "print(sorted(m for m in ('scipy', 'torch', 'mediapipe', 'services.keypoints.engine', "
            "'services.dataset.exporters', 'services.tracking.engine') if m in sys.modules))")
    repo = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=repo,
                         env={**os.environ, "PYTHONPATH": repo}).stdout
    assert out.strip() == "[]"  # its image has none of them
