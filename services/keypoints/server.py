"""gRPC adapter of the keypoints stage: KeypointsRequest -> engine inputs and options."""

from __future__ import annotations

from collections.abc import Mapping

from mshot.rpc.convert import device_name, optional_ref, ref_from_proto
from mshot.rpc.stage import StageRunner
from mshot.v1 import keypoints_pb2_grpc
from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings
from services.options import check_keypoints

SERVICE_NAME = "mshot.v1.Keypoints"
register = keypoints_pb2_grpc.add_KeypointsServicer_to_server


def build_engine(env: Mapping[str, str] | None = None) -> KeypointsEngine:
    return KeypointsEngine(KeypointsSettings.from_env(env))


class Servicer(keypoints_pb2_grpc.KeypointsServicer):
    def __init__(self, runner: StageRunner):
        self.runner = runner

    def Detect(self, request, context):
        check_keypoints(request.options)
        inputs = {"video": ref_from_proto(request.video, "video"),
                  "tracklets": ref_from_proto(request.tracklets, "tracklets")}
        openpose = optional_ref(request.options.openpose_json, "options.openpose_json")
        if openpose is not None:
            inputs["openpose_json"] = openpose
        options = KeypointsOptions(backend=request.options.backend or "auto",
                                   device=device_name(request.options.device))
        yield from self.runner.run(request.job_id, inputs, options, context)
