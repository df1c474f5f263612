"""gRPC adapter of the multishot stage: FitRequest -> engine inputs and options."""

from __future__ import annotations

from collections.abc import Mapping

from mshot.rpc.convert import device_name, ref_from_proto
from mshot.rpc.stage import StageRunner
from mshot.v1 import multishot_pb2_grpc
from services.multishot.engine import MultishotEngine, MultishotOptions, MultishotSettings
from services.options import check_multishot

SERVICE_NAME = "mshot.v1.Multishot"
register = multishot_pb2_grpc.add_MultishotServicer_to_server


def build_engine(env: Mapping[str, str] | None = None) -> MultishotEngine:
    return MultishotEngine(MultishotSettings.from_env(env))


class Servicer(multishot_pb2_grpc.MultishotServicer):
    def __init__(self, runner: StageRunner):
        self.runner = runner

    def Fit(self, request, context):
        check_multishot(request.options)
        inputs = {"tracklets": ref_from_proto(request.tracklets, "tracklets"),
                  "keypoints": ref_from_proto(request.keypoints, "keypoints")}
        options = MultishotOptions(device=device_name(request.options.device), seed=request.options.seed,
                                   max_iters=request.options.max_iters)
        yield from self.runner.run(request.job_id, inputs, options, context)
