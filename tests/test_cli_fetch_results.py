"""`mshot run` fetches each artifact of a job once: what the overlay already downloaded is not fetched again."""

import hashlib

from mshot.cli.client import fetch_results
from mshot.v1 import common_pb2, pipeline_pb2


class RecordingStub:
    """Stands in for the Pipeline stub's GetArtifact: streams a header and the bytes, and records each request."""

    def __init__(self, blobs: dict[str, bytes]):
        self.blobs, self.requested = blobs, []

    def GetArtifact(self, request):  # noqa: N802 - the gRPC method's name
        self.requested.append(request.name)
        data = self.blobs[request.name]
        header = common_pb2.ArtifactRef(key=f"sha256/{hashlib.sha256(data).hexdigest()}",
                                        sha256=hashlib.sha256(data).hexdigest(),
                                        media_type="application/x-npz", size_bytes=len(data))
        return iter([pipeline_pb2.ArtifactChunk(header=header), pipeline_pb2.ArtifactChunk(data=data)])


def job_with(*names: str) -> pipeline_pb2.Job:
    job = pipeline_pb2.Job(job_id="job-1")
    stage = job.stages.add(stage="multishot", state=pipeline_pb2.STAGE_STATE_DONE)
    for name in names:
        stage.result.artifacts[name].CopyFrom(common_pb2.ArtifactRef(key=f"k/{name}"))
    return job


def test_fetch_results_skips_artifacts_already_downloaded_and_fetches_the_rest(tmp_path):
    stub = RecordingStub({"tracklets": b"t" * 10, "fits": b"f" * 7, "keypoints": b"k" * 5})
    kept = tmp_path / "artifacts" / "fits.npz"
    kept.parent.mkdir()
    kept.write_bytes(b"f" * 7)
    paths = fetch_results(stub, job_with("tracklets", "fits", "keypoints"), tmp_path, {"fits": kept})
    assert sorted(stub.requested) == ["keypoints", "tracklets"]
    assert paths["fits"] == kept
    assert paths["tracklets"].read_bytes() == b"t" * 10 and paths["keypoints"].read_bytes() == b"k" * 5


def test_fetch_results_without_downloads_fetches_every_artifact(tmp_path):
    stub = RecordingStub({"tracklets": b"t", "fits": b"f"})
    fetch_results(stub, job_with("tracklets", "fits"), tmp_path)
    assert sorted(stub.requested) == ["fits", "tracklets"]
