"""gRPC adapter of the tracking stage: TrackRequest -> engine inputs and options."""

from __future__ import annotations

from collections.abc import Mapping

from mshot.rpc.convert import device_name, optional_ref, ref_from_proto
from mshot.rpc.stage import StageRunner
from mshot.v1 import tracking_pb2_grpc
from mshot.video import recorded_probe
from services.options import check_tracking
from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

SERVICE_NAME = "mshot.v1.Tracking"
register = tracking_pb2_grpc.add_TrackingServicer_to_server


def build_engine(env: Mapping[str, str] | None = None) -> TrackingEngine:
    return TrackingEngine(TrackingSettings.from_env(env))


class Servicer(tracking_pb2_grpc.TrackingServicer):
    def __init__(self, runner: StageRunner):
        self.runner = runner

    def Track(self, request, context):
        inputs = {"video": ref_from_proto(request.video, "video")}
        video_info = recorded_probe(self.runner.store, inputs["video"])  # None: the engine probes the video
        check_tracking(request.options, "options", video_info)
        phalp_results = optional_ref(request.options.phalp_results, "options.phalp_results")
        if phalp_results is not None:  # imported (restricted unpickler) instead of tracking
            inputs["phalp_results"] = phalp_results
        options = TrackingOptions(backend=request.options.backend or "auto", device=device_name(request.options.device),
                                  max_people=request.options.max_people, focal_px=request.options.focal_px,
                                  video_info=video_info)
        yield from self.runner.run(request.job_id, inputs, options, context)
