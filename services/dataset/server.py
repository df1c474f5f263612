"""gRPC adapter of the dataset stage: ExportRequest -> engine inputs and options."""

from __future__ import annotations

from collections.abc import Mapping

from mshot.rpc.convert import ref_from_proto
from mshot.rpc.stage import StageRunner
from mshot.v1 import dataset_pb2_grpc
from services.dataset.engine import DatasetEngine, DatasetSettings, options_with
from services.options import check_dataset

SERVICE_NAME = "mshot.v1.Dataset"
register = dataset_pb2_grpc.add_DatasetServicer_to_server


def build_engine(env: Mapping[str, str] | None = None) -> DatasetEngine:
    return DatasetEngine(DatasetSettings.from_env(env))


class Servicer(dataset_pb2_grpc.DatasetServicer):
    def __init__(self, runner: StageRunner):
        self.runner = runner

    def Export(self, request, context):
        check_dataset(request.options)
        inputs = {name: ref_from_proto(getattr(request, name), name)
                  for name in ("video", "tracklets", "keypoints", "fits")}
        o = request.options
        options = options_with(o.formats, o.person_ids, o.target_frames, o.val_fraction, not o.skip_previews)
        yield from self.runner.run(request.job_id, inputs, options, context)
