"""The one check of every stage option, at the door: the orchestrator's SubmitJob (all four stages' options) and
each stage RPC (its own) call the same function, so a bad option fails at once with INVALID_ARGUMENT naming the
field, never after the stages before it have run (and never as INTERNAL inside an engine).

Each `check_*` takes the protobuf options message and the field path used in messages ("options",
"options.tracking", ...) and returns nothing: the servers keep mapping the message to their engine's options.
"""

from __future__ import annotations

import math

from mshot.choices import DATASET_FORMATS, KEYPOINTS_BACKENDS, TRACKING_BACKENDS
from mshot.errors import InvalidInput
from mshot.geometry.camera import check_given_focal
from mshot.rpc.convert import DEVICES, optional_ref
from mshot.v1 import dataset_pb2, keypoints_pb2, multishot_pb2, pipeline_pb2, tracking_pb2
from mshot.video import VideoInfo

MAX_PEOPLE = 1000
MAX_ITERS = 100_000
MAX_TARGET_FRAMES = 100_000
MAX_PERSON_IDS = 1000
MAX_VAL_FRACTION = 0.5


def _choice(value: str, choices: tuple[str, ...], field: str) -> None:
    if value and value not in choices:
        raise InvalidInput(f"{field}={value[:40]!r} is not known: choose one of {', '.join(choices)}")


def _in_range(value: float, low: float, high: float, field: str, meaning: str = "") -> None:
    if not (math.isfinite(value) and low <= value <= high):
        note = f" ({meaning})" if meaning else ""
        raise InvalidInput(f"{field}={value} is out of range: expected {low} to {high}{note}")


def _device(value: int, field: str) -> None:
    if value not in DEVICES:
        raise InvalidInput(f"{field}={value} is not a device: choose one of "
                           + ", ".join(f"{number} ({name})" for number, name in DEVICES.items()))


def check_tracking(options: tracking_pb2.TrackingOptions, field: str = "options",
                   video: VideoInfo | None = None) -> None:
    """`video`: the video's probe where known, against whose size a given focal_px is checked too."""
    _choice(options.backend, TRACKING_BACKENDS, f"{field}.backend")
    _device(options.device, f"{field}.device")
    _in_range(options.max_people, 0, MAX_PEOPLE, f"{field}.max_people", "0 = no limit")
    optional_ref(options.phalp_results, f"{field}.phalp_results")
    check_given_focal(options.focal_px, f"{field}.focal_px", *((video.height, video.width) if video else ()))


def check_keypoints(options: keypoints_pb2.KeypointsOptions, field: str = "options") -> None:
    _choice(options.backend, KEYPOINTS_BACKENDS, f"{field}.backend")
    _device(options.device, f"{field}.device")
    optional_ref(options.openpose_json, f"{field}.openpose_json")


def check_multishot(options: multishot_pb2.MultishotOptions, field: str = "options") -> None:
    _device(options.device, f"{field}.device")
    _in_range(options.seed, 0, 2**31 - 1, f"{field}.seed")
    _in_range(options.max_iters, 0, MAX_ITERS, f"{field}.max_iters", "0 = the optimizer's default")


def check_dataset(options: dataset_pb2.DatasetOptions, field: str = "options") -> None:
    for name in options.formats:
        _choice(name or "''", DATASET_FORMATS, f"{field}.formats")
    if len(set(options.formats)) != len(options.formats):
        raise InvalidInput(f"{field}.formats lists a format twice: {', '.join(options.formats)}")
    if len(options.person_ids) > MAX_PERSON_IDS:
        raise InvalidInput(f"{field}.person_ids lists {len(options.person_ids)} people, at most {MAX_PERSON_IDS}")
    for person in options.person_ids:
        _in_range(person, 0, 2**31 - 1, f"{field}.person_ids")
    _in_range(options.target_frames, 0, MAX_TARGET_FRAMES, f"{field}.target_frames", "0 = the stage default")
    _in_range(options.val_fraction, 0.0, MAX_VAL_FRACTION, f"{field}.val_fraction", "0 = the stage default")


def check_job_options(options: pipeline_pb2.JobOptions) -> None:
    """Every stage's options of a job, with the same checks the stages make; those that need the video's size
    (check_given_focal) once the video is probed."""
    check_tracking(options.tracking, "options.tracking")
    check_keypoints(options.keypoints, "options.keypoints")
    check_multishot(options.multishot, "options.multishot")
    check_dataset(options.dataset, "options.dataset")
