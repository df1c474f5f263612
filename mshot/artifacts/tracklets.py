"""tracklets.npz (`mshot.tracklets/1`): people tracked through a video (docs/artifacts.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.artifacts.schema import Schema, b, f, i, s
from mshot.errors import InvalidInput

TRACKLETS = Schema("mshot.tracklets/1", "tracklets", {
    "source": s(), "image_size": i(2), "fps": f(dtype="float64"), "num_frames": i(), "frame_shot_id": i("F"),
    "mask_source": s(), "person_id": i("M"), "frame_index": i("M"), "time_s": f("M", dtype="float64"),
    "shot_id": i("M"), "observed": b("M"), "bbox_xyxy": f("M", 4), "det_conf": f("M"), "mask_rle": s("M"),
    "global_orient": f("M", 3), "body_pose": f("M", 69), "betas": f("M", 10), "transl": f("M", 3),
    "focal_px": f("M"), "principal_px": f("M", 2), "focal_source": s(),
}, optional=("focal_source",))
MASK_SOURCES = ("phalp", "segmentation", "box", "none")
# Where focal_px comes from: the user (TrackingOptions.focal_px), assumed max(H, W) (the CPU tracker without one),
# PHALP's own camera (5000 * max(H, W) / 256, services/tracking/phalp/camera.py). Absent in older files.
FOCAL_SOURCES = ("given", "assumed", "phalp")


def check_rows(data: dict, path: str | Path, what: str = "tracklets") -> None:
    """Rows sorted by (person_id, frame_index) and unique; frame indices inside the video; shot ids agree."""
    person, frame = np.asarray(data["person_id"]), np.asarray(data["frame_index"])
    if person.size:
        order = np.lexsort((frame, person))
        if not np.array_equal(order, np.arange(person.size)):
            raise InvalidInput(f"{what} file {path}: rows are not sorted by (person_id, frame_index)")
        same = (np.diff(person) == 0) & (np.diff(frame) == 0)
        if same.any():
            k = int(np.flatnonzero(same)[0])
            raise InvalidInput(f"{what} file {path}: person {person[k]} appears twice in frame {frame[k]}")
    if "num_frames" in data:
        if frame.size and (frame.min() < 0 or frame.max() >= int(data["num_frames"])):
            raise InvalidInput(f"{what} file {path}: frame_index outside 0..{int(data['num_frames']) - 1}")
        if "frame_shot_id" in data and frame.size and "shot_id" in data:
            if not np.array_equal(np.asarray(data["frame_shot_id"])[frame], np.asarray(data["shot_id"])):
                raise InvalidInput(f"{what} file {path}: shot_id disagrees with frame_shot_id")


def load_tracklets(path: str | Path) -> dict[str, np.ndarray]:
    data = TRACKLETS.load(path)
    if str(data["mask_source"]) not in MASK_SOURCES:
        raise InvalidInput(f"tracklets file {path}: mask_source '{data['mask_source']}' is not one of {MASK_SOURCES}")
    if len(data["frame_shot_id"]) != int(data["num_frames"]):
        raise InvalidInput(f"tracklets file {path}: frame_shot_id has {len(data['frame_shot_id'])} entries, "
                           f"num_frames is {int(data['num_frames'])}")
    if "focal_source" in data and str(data["focal_source"]) not in FOCAL_SOURCES:
        raise InvalidInput(f"tracklets file {path}: focal_source '{data['focal_source']}' is not one of "
                           f"{FOCAL_SOURCES}")
    check_rows(data, path)
    return data


def save_tracklets(path: str | Path, data: dict) -> Path:
    check_rows(data, path)
    return TRACKLETS.save(path, data)


def tracklet_counts(tracklets: dict) -> dict[str, int]:
    """How many people, person-frame rows and shots a tracklets table holds (for summaries)."""
    shots = int(np.max(tracklets["frame_shot_id"])) + 1 if len(tracklets["frame_shot_id"]) else 0
    return {"people": int(len(np.unique(tracklets["person_id"]))), "rows": int(len(tracklets["person_id"])),
            "shots": shots}


def focal_note(tracklets: dict) -> dict:
    """Which focal length the rows' cameras have and where it comes from (FOCAL_SOURCES, `not recorded` in older
    files): {"focal_px": distinct values (px), "focal_source": ..., "text": one line for summaries}."""
    values = sorted({round(float(v), 1) for v in np.asarray(tracklets["focal_px"]).reshape(-1)})
    source = str(tracklets["focal_source"]) if "focal_source" in tracklets else "not recorded"
    meaning = {"given": "given", "assumed": "assumed: max(H, W), none given",
               "phalp": "PHALP's camera, 5000 * max(H, W) / 256"}.get(source, "source not recorded")
    shown = ", ".join(f"{v:g}" for v in values) if values else "none (no rows)"
    return {"focal_px": values, "focal_source": source, "text": f"focal length {shown} px ({meaning})"}
