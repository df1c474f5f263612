"""The `opencv-dnn` keypoints backend: OpenPose's BODY_25 Caffe model (pose_deploy.prototxt +
pose_iter_584000.caffemodel, supplied by the user) run by OpenCV's DNN module on CPU or CUDA, whole frames,
multi-person parsing by services/keypoints/paf.py.

Model files are looked up in the model folder as OpenPose lays them out (`pose/body_25/...`) or directly in it.
When a sha256 of the caffemodel is configured it is verified before loading (IntegrityError on mismatch).
Preprocessing is OpenPose's: the frame resized to the net input (height `net_height`, width keeping the aspect,
a multiple of 16), values (BGR - 128) / 256. The net gives 78 maps at 1/8 of the input; they are upsampled
4x (bicubic; OpenPose goes to 8x), parsed (peaks sub-pixel refined) and mapped back to frame pixels.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mshot.errors import FailedPrecondition, IntegrityError
from mshot.progress import Progress
from mshot.store import sha256_file
from services.keypoints.backends import frames_with_observed_people, iter_observed_frames, stack_detections
from services.keypoints.paf import DEFAULT_SETTINGS, NUM_CHANNELS, NUM_HEATMAPS, ParseSettings, parse_body25

PROTOTXT = "pose_deploy.prototxt"
CAFFEMODEL = "pose_iter_584000.caffemodel"
STRIDE = 8


def find_model_files(model_dir: Path) -> tuple[Path, Path]:
    """(prototxt, caffemodel) in `model_dir/pose/body_25/` or `model_dir/`; else FailedPrecondition naming them."""
    for folder in (model_dir / "pose" / "body_25", model_dir):
        prototxt, caffemodel = folder / PROTOTXT, folder / CAFFEMODEL
        if prototxt.is_file() and caffemodel.is_file():
            return prototxt, caffemodel
    raise FailedPrecondition(f"OpenPose BODY_25 model not found: need {PROTOTXT} and {CAFFEMODEL} in {model_dir}/"
                             f"pose/body_25/ or {model_dir}/ (set MSHOT_OPENPOSE_MODEL_DIR)")


def net_input_size(height: int, width: int, net_height: int) -> tuple[int, int]:
    """(net_w, net_h): net_height tall, width keeping the aspect ratio rounded to a multiple of 16."""
    net_width = max(16, int(round(net_height * width / height / 16.0)) * 16)
    return net_width, net_height


class OpenCvDnnBackend:
    name = "opencv-dnn"

    def __init__(self, model_dir: Path, device: str = "cpu", expected_sha256: str = "", net_height: int = 368,
                 settings: ParseSettings = DEFAULT_SETTINGS, upsample: int = 4) -> None:
        prototxt, caffemodel = find_model_files(Path(model_dir))
        if expected_sha256:
            digest = sha256_file(caffemodel)[0]
            if digest != expected_sha256.lower():
                raise IntegrityError(f"{caffemodel} has sha256 {digest}, expected {expected_sha256} "
                                     "(MSHOT_OPENPOSE_MODEL_SHA256): corrupt or a different model")
        try:
            self.net = cv2.dnn.readNet(str(caffemodel), str(prototxt))
        except cv2.error as exc:
            raise FailedPrecondition(f"OpenCV cannot load the Caffe model {prototxt} + {caffemodel}: "
                                     f"{str(exc).strip().splitlines()[-1]}") from None
        if device == "cuda":
            if cv2.cuda.getCudaEnabledDeviceCount() == 0:
                raise FailedPrecondition("device 'cuda' asked for, but this OpenCV build has no CUDA device "
                                         "(opencv-python wheels are CPU-only; build OpenCV with CUDA or use 'cpu')")
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
        else:
            self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
            self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
        self.model_path = caffemodel
        self.net_height = net_height
        self.settings = settings
        self.upsample = upsample

    def run_net(self, frame_bgr: np.ndarray) -> np.ndarray:
        """BGR (H, W, 3) uint8 -> maps (78, net_h / 8, net_w / 8) float32 in OpenPose's channel order."""
        height, width = frame_bgr.shape[:2]
        size = net_input_size(height, width, self.net_height)
        blob = cv2.dnn.blobFromImage(frame_bgr, 1 / 256, size, (128, 128, 128), swapRB=False, crop=False)
        self.net.setInput(blob)
        maps = self.net.forward()
        if maps.ndim != 4 or maps.shape[1] != NUM_CHANNELS:
            raise FailedPrecondition(f"{self.model_path} gives output of shape {maps.shape}, expected (1, "
                                     f"{NUM_CHANNELS}, h, w): not an OpenPose BODY_25 model")
        return maps[0]

    def estimate(self, frame_bgr: np.ndarray) -> np.ndarray:
        """All people in a frame: (P, 25, 3) x, y frame px, confidence."""
        maps = self.run_net(frame_bgr)
        return maps_to_people(maps, frame_bgr.shape[:2], self.settings, self.upsample)

    def detect(self, video: Path, tracklets: dict, workdir: Path,
               progress: Progress) -> tuple[np.ndarray, np.ndarray]:
        total = len(frames_with_observed_people(tracklets))
        frames: list[int] = []
        keypoints: list[np.ndarray] = []
        for done, (index, frame) in enumerate(iter_observed_frames(video, tracklets), start=1):
            people = self.estimate(frame)
            frames += [index] * len(people)
            keypoints.append(people)
            progress(done / total, f"frame {index + 1}: {len(people)} people")
        return stack_detections(frames, keypoints)


def maps_to_people(maps: np.ndarray, image_size: tuple[int, int], settings: ParseSettings,
                   upsample: int = 1) -> np.ndarray:
    """Net maps (78, h, w) for a frame of image_size (H, W) -> people (P, 25, 3) in frame px.

    `upsample` > 1 resizes the maps (bicubic) before parsing, as OpenPose does (it parses at the net input
    resolution, upsample = 8). Map pixel centre u sits at net-input pixel (u + 0.5) * stride - 0.5 with
    stride = 8 / upsample; the net input is the frame resized, so frame x = (x_net + 0.5) * W / net_w - 0.5
    (pixel centres, docs/conventions.md)."""
    height, width = image_size
    net_h, net_w = maps.shape[1] * STRIDE, maps.shape[2] * STRIDE
    if upsample > 1:
        size = (maps.shape[2] * upsample, maps.shape[1] * upsample)
        maps = np.stack([cv2.resize(m, size, interpolation=cv2.INTER_CUBIC) for m in maps])
    people = parse_body25(maps[:NUM_HEATMAPS], maps[NUM_HEATMAPS:], settings)
    stride = STRIDE / upsample
    found = people[..., 2] > 0
    for axis, (size, net_size) in enumerate(((width, net_w), (height, net_h))):
        net_coord = (people[..., axis] + 0.5) * stride - 0.5
        people[..., axis] = np.where(found, np.clip((net_coord + 0.5) * size / net_size - 0.5, 0, size - 1), 0)
    return people
