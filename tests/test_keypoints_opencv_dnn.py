"""The `opencv-dnn` backend's loading and running path, through the real cv2.dnn Caffe importer, on a small
weightless Caffe net generated here (average pooling by the BODY_25 stride, the input channels repeated to the
output channel count): model lookup, checksum, OpenPose's preprocessing, output checks, the engine path."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from mshot.errors import FailedPrecondition, IntegrityError
from services.keypoints.backends.opencv_dnn import OpenCvDnnBackend
from services.keypoints.engine import KeypointsEngine, KeypointsOptions, KeypointsSettings
from tests.keypoints_fixtures import write_tracklets, write_video

PROTOTXT_HEAD = """name: "pooled_input"
input: "image"
input_dim: 1
input_dim: 3
input_dim: 368
input_dim: 496
layer { name: "pool" type: "Pooling" bottom: "image" top: "pool"
        pooling_param { pool: AVE kernel_size: 8 stride: 8 } }
"""


def write_model(folder, copies: int = 26):
    """pose/body_25/{pose_deploy.prototxt, pose_iter_584000.caffemodel}: output = the 3 input channels,
    average-pooled 8x8, repeated `copies` times (26 -> 78 channels, OpenPose BODY_25's count)."""
    body25 = folder / "pose" / "body_25"
    body25.mkdir(parents=True)
    bottoms = " ".join('bottom: "pool"' for _ in range(copies))
    (body25 / "pose_deploy.prototxt").write_text(
        PROTOTXT_HEAD + f'layer {{ name: "net_output" type: "Concat" {bottoms} top: "net_output" '
                        "concat_param { axis: 1 } }\n")
    (body25 / "pose_iter_584000.caffemodel").write_bytes(b"\x0a\x0cpooled_input")  # NetParameter{name}
    return body25


def test_net_runs_with_openpose_preprocessing_at_the_stride_8_resolution(tmp_path):
    write_model(tmp_path)
    backend = OpenCvDnnBackend(tmp_path)
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[..., 0], frame[..., 1], frame[..., 2] = 192, 128, 0
    maps = backend.run_net(frame)
    # net input 368 tall, width 368 * 64 / 48 = 490.7 -> 496 (multiple of 16); maps at 1/8
    assert maps.shape == (78, 46, 62)
    # (value - 128) / 256 per BGR channel, channel order kept (no RB swap)
    np.testing.assert_allclose(maps[:3, 10, 10], [0.25, 0.0, -0.5], atol=1e-6)
    assert backend.estimate(np.zeros((48, 64, 3), np.uint8)).shape == (0, 25, 3)  # all maps -0.5: no peaks


def test_a_net_with_the_wrong_output_is_refused(tmp_path):
    write_model(tmp_path, copies=19)  # 57 channels: the COCO layout, not BODY_25
    backend = OpenCvDnnBackend(tmp_path)
    with pytest.raises(FailedPrecondition, match="not an OpenPose BODY_25 model"):
        backend.run_net(np.zeros((48, 64, 3), np.uint8))


def test_model_files_and_checksum_are_verified(tmp_path):
    with pytest.raises(FailedPrecondition, match="pose_deploy.prototxt"):
        OpenCvDnnBackend(tmp_path)
    body25 = write_model(tmp_path)
    digest = hashlib.sha256((body25 / "pose_iter_584000.caffemodel").read_bytes()).hexdigest()
    OpenCvDnnBackend(tmp_path, expected_sha256=digest.upper())
    with pytest.raises(IntegrityError, match="expected 00"):
        OpenCvDnnBackend(tmp_path, expected_sha256="00" * 32)
    (body25 / "pose_deploy.prototxt").write_text("layer { this is not a prototxt")
    with pytest.raises(FailedPrecondition, match="cannot load the Caffe model"):
        OpenCvDnnBackend(tmp_path)


def test_engine_picks_opencv_dnn_when_the_model_folder_holds_the_model(tmp_path):
    write_model(tmp_path / "models")
    video = write_video(tmp_path / "clip.mp4", frames=4)
    rows = [(3, 1, True, (5, 5, 30, 40)), (3, 2, True, (5, 5, 30, 40))]
    tracklets = write_tracklets(tmp_path / "tracklets.npz", rows, num_frames=4)
    engine = KeypointsEngine(KeypointsSettings(openpose_model_dir=str(tmp_path / "models")))
    assert engine.default_backend == "opencv-dnn"
    reports = []
    out = engine.run({"video": video, "tracklets": tracklets}, KeypointsOptions(), tmp_path,
                     lambda fraction, message="": reports.append(message))
    data = np.load(out.outputs["keypoints"])
    assert str(data["source"]) == "opencv-dnn"
    assert data["keypoints_body25"].shape == (2, 25, 3) and data["det_keypoints_body25"].shape == (0, 25, 3)
    assert "frame 2: 0 people" in reports and "frame 3: 0 people" in reports
    if cv2.cuda.getCudaEnabledDeviceCount() > 0:
        return  # the CUDA path is only refused where OpenCV has no CUDA device
    with pytest.raises(FailedPrecondition, match="no CUDA device"):
        engine.run({"video": video, "tracklets": tracklets}, KeypointsOptions(device="cuda"), tmp_path,
                   lambda fraction, message="": None)
