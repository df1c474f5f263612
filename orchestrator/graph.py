"""The pipeline as a graph of stages: what each needs, what it produces, how its request is built.

A stage runs as soon as every artifact it needs exists, so stages that only need the video could run
side by side; today keypoints needs the tracklets (crops and association), so the graph is a chain.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mshot.v1 import (
    common_pb2,
    dataset_pb2,
    dataset_pb2_grpc,
    keypoints_pb2,
    keypoints_pb2_grpc,
    multishot_pb2,
    multishot_pb2_grpc,
    pipeline_pb2,
    tracking_pb2,
    tracking_pb2_grpc,
)

Artifacts = Mapping[str, common_pb2.ArtifactRef]


@dataclass(frozen=True)
class StageSpec:
    name: str
    needs: tuple[str, ...]
    produces: tuple[str, ...]
    stub: type
    method: str
    build_request: Callable[[str, Artifacts, pipeline_pb2.JobOptions], object]


STAGES: tuple[StageSpec, ...] = (
    StageSpec(
        "tracking", ("video",), ("tracklets",), tracking_pb2_grpc.TrackingStub, "Track",
        lambda job_id, a, o: tracking_pb2.TrackRequest(job_id=job_id, video=a["video"], options=o.tracking),
    ),
    StageSpec(
        "keypoints", ("video", "tracklets"), ("keypoints",), keypoints_pb2_grpc.KeypointsStub, "Detect",
        lambda job_id, a, o: keypoints_pb2.KeypointsRequest(
            job_id=job_id, video=a["video"], tracklets=a["tracklets"], options=o.keypoints),
    ),
    StageSpec(
        "multishot", ("tracklets", "keypoints"), ("fits",), multishot_pb2_grpc.MultishotStub, "Fit",
        lambda job_id, a, o: multishot_pb2.FitRequest(
            job_id=job_id, tracklets=a["tracklets"], keypoints=a["keypoints"], options=o.multishot),
    ),
    StageSpec(
        "dataset", ("video", "tracklets", "keypoints", "fits"), ("dataset", "report"), dataset_pb2_grpc.DatasetStub,
        "Export",
        lambda job_id, a, o: dataset_pb2.ExportRequest(
            job_id=job_id, video=a["video"], tracklets=a["tracklets"], keypoints=a["keypoints"], fits=a["fits"],
            options=o.dataset),
    ),
)



def available_artifacts(job: pipeline_pb2.Job) -> dict[str, common_pb2.ArtifactRef]:
    """The video plus every artifact a finished stage of `job` produced."""
    artifacts = {"video": job.video}
    for status in job.stages:
        if status.state == pipeline_pb2.STAGE_STATE_DONE:
            artifacts.update(status.result.artifacts)
    return artifacts


def ready_stages(job: pipeline_pb2.Job) -> list[StageSpec]:
    """Pending stages whose inputs all exist."""
    artifacts = available_artifacts(job)
    pending = {s.stage for s in job.stages if s.state == pipeline_pb2.STAGE_STATE_PENDING}
    return [spec for spec in STAGES if spec.name in pending and all(n in artifacts for n in spec.needs)]
