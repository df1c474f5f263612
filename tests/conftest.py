"""Shared fixtures: an S3 endpoint (moto server on loopback) and small helpers."""

from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")


@pytest.fixture(scope="session")
def s3_endpoint():
    """A real S3 endpoint on 127.0.0.1 (moto's threaded server); yields 'host:port'."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def s3_config(s3_endpoint):
    from mshot.config import StoreConfig

    return StoreConfig(location=f"s3://mshot-test-{uuid.uuid4().hex[:8]}", s3_endpoint=s3_endpoint,
                       s3_access_key="test", s3_secret_key="test-secret")


@pytest.fixture(scope="session")
def smpl_model_path(tmp_path_factory):
    """The generated SMPL-format body as an npz: rest pelvis 0.22 m from the model origin and non-zero pose blend
    shapes, as in SMPL, so Rh/Th and posedirs errors show (mshot/body/generate.py)."""
    from mshot.body.generate import write_generated_smpl_model

    return write_generated_smpl_model(tmp_path_factory.mktemp("m") / "generated.npz")


@pytest.fixture(scope="session")
def smpl_model(smpl_model_path):
    from mshot.body.model import BodyModel

    return BodyModel.from_file(smpl_model_path)


@pytest.fixture(scope="session")
def dataset_scene(smpl_model, tmp_path_factory):
    """(ground truth, artifact paths): one person walking over 24 frames in two shots (tests/synthetic.py)."""
    from synthetic import ground_truth, write_scene

    gt = ground_truth(frames=24, persons=1)
    return gt, write_scene(tmp_path_factory.mktemp("scene"), smpl_model, gt)


@pytest.fixture(scope="session")
def dataset_export(smpl_model, dataset_scene, tmp_path_factory):
    """(folder, report) of the dataset stage over `dataset_scene` in every format: 22 frames kept, 17 train and 5 held
    out (HumanNeRF needs 16 training frames)."""
    from services.dataset.engine import export_dataset, options_with

    out = tmp_path_factory.mktemp("out") / "dataset"
    report = export_dataset(dataset_scene[1], out, smpl_model, options_with(target_frames=22, val_fraction=0.25))
    return out, report
