"""A stand-in for PHALP (git master) in unit tests of the phalp backend's wiring: the same config fields and
defaults (phalp/configs/base.py), and a `track()` shaped like the real one - frames from the source, the
video.end_frame cap an .mp4 source would get, `progress_bar` and `traceback` looked up in this module, every
exception caught, printed and turned into `return None`, results written with joblib.dump(compress=3).
Loaded under the name `phalp.trackers.PHALP` by tests/test_phalp_backend.py."""

from __future__ import annotations

import glob
import os
import traceback
from dataclasses import dataclass, field

import cv2
import joblib
import numpy as np
from phalp_fixtures import phalp_person


@dataclass
class VideoConfig:
    source: str = ""
    output_dir: str = "outputs/"
    extract_video: bool = True
    start_frame: int = -1
    end_frame: int = 1300


@dataclass
class PHALPConfig:
    start_frame: int = -1
    end_frame: int = 10


@dataclass
class RenderConfig:
    enable: bool = True


@dataclass
class FullConfig:
    device: str = "cuda"
    overwrite: bool = True
    detect_shots: bool = False
    track_dataset: str = "demo"
    video: VideoConfig = field(default_factory=VideoConfig)
    phalp: PHALPConfig = field(default_factory=PHALPConfig)
    render: RenderConfig = field(default_factory=RenderConfig)


def progress_bar(iterable, description="", total=None, disable=False):  # replaced by the backend during a run
    raise AssertionError("the backend did not replace PHALP's progress_bar")


class PHALP:
    instances: list = []
    fail_at_frame: int | None = None  # raise inside track()'s try at this frame, like a CUDA error would

    def __init__(self, cfg):
        self.cfg = cfg
        self.opengl_at_setup = os.environ.get("PYOPENGL_PLATFORM")
        PHALP.instances.append(self)

    def track(self):
        frames = sorted(glob.glob(self.cfg.video.source + "/*.jpg"))[: self.cfg.video.end_frame]
        try:
            if self.cfg.phalp.start_frame != -1:
                frames = frames[self.cfg.phalp.start_frame:self.cfg.phalp.end_frame]
            shots = [len(frames) // 2] if self.cfg.detect_shots else []
            rng = np.random.default_rng(0)
            results = {}
            for t, name in progress_bar(enumerate(frames), description="Tracking", total=len(frames)):
                if t == PHALP.fail_at_frame:
                    raise RuntimeError("CUDA out of memory while running HMAR")
                height, width = cv2.imread(name).shape[:2]
                record = {"time": t, "shot": int(t in shots), "frame_path": name}
                people = [phalp_person(rng, 1, (4, 4, width // 2, height // 2), height, width)] if t % 50 == 0 else []
                for key in ("tid", "bbox", "tracked_time", "conf", "size", "smpl", "camera", "camera_bbox", "mask",
                            "center", "scale", "3d_joints", "2d_joints"):
                    record[key] = [person[key] for person in people]  # one person, seen every 50th frame
                results[name] = record
            os.makedirs(self.cfg.video.output_dir + "/results", exist_ok=True)
            path = self.cfg.video.output_dir + "/results/demo_frames.pkl"
            joblib.dump(results, path, compress=3)
            return results, path
        except Exception as e:
            print(e)
            print(traceback.format_exc())
