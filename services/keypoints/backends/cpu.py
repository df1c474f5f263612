"""The `cpu` keypoints backend: BlazePose (bundled with mediapipe 0.10.21, offline) on every observed
tracklet box, mapped to BODY_25 (mshot/pose2d/blazepose.py documents the synthesized joints), with BlazePose's
world landmarks from the same call. One detection per observed box in which BlazePose found a person.

BlazePose finds one person per crop, and a person's square crop often holds a neighbour too, whom it may
pick instead (on the rendered GT video a quarter of the detections landed on the wrong person this way, and the
association then refused them). So each person is looked for in a copy of the frame in which the other tracked
people's masks (dilated by 3 px, never over the person's own mask) are painted grey. A small person, or one cut
off by a side edge of the frame, whom the plain crop shows nobody is looked for once more, as the tracker does
(mshot/pose2d/retries.py).

The tracked box is tight (the union of BlazePose's mask and confident keypoints where the tracker verified the
person, in a looser predicted or proposed box), and in such a crop BlazePose's person detector often finds nobody:
on the rendered GT video 12 of its 13 observed tracked rows without keypoints were of this kind, and in the box
grown by GROWN_LOOK (mshot/pose2d/retries.py) 10 of them give the person's pose (median error 0.01-0.1 of the
person's height). So where the crop gives no pose that the association could assign to the person
(association.is_pose_of: nobody, or a neighbour), the person is looked for once more in the grown box, and that
pose is kept if it is the person's (services/keypoints/README.md: figures; the fit's root start keeps such rows
from starting at the tracker's initial root where it lies off the person)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from mshot.artifacts.masks import decode_mask
from mshot.pose2d.blazepose import WORLD_LANDMARKS, BlazePoseBody25
from mshot.pose2d.plausibility import is_upside_down
from mshot.pose2d.retries import PoseLook, pose_in_box_or_grown
from mshot.progress import Progress
from services.keypoints.association import is_pose_of, region_of_mask
from services.keypoints.backends import frames_with_observed_people, iter_observed_frames, stack_detections

UPRIGHT_CONFIDENCE = 0.5  # the keypoints that tell whether a pose is upside down (the tracker's min_keypoint_conf)


class CpuBackend:
    name = "cpu"

    def __init__(self) -> None:
        # FailedPrecondition when mediapipe's bundled model is unavailable; masks are not needed here
        self.pose = BlazePoseBody25(with_masks=False)

    def detect(self, video: Path, tracklets: dict, workdir: Path,
               progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return detect_on_boxes(self.pose, video, tracklets, progress)


def detect_on_boxes(pose: BlazePoseBody25, video: Path, tracklets: dict,
                    progress: Progress) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (det_frame_index (D,), det_keypoints_body25 (D, 25, 3), det_world_landmarks (D, 33, 4) metres +
    visibility): one detection per observed row with a pose."""
    observed = np.asarray(tracklets["observed"]).astype(bool)
    frames_needed = frames_with_observed_people(tracklets)
    det_frames: list[int] = []
    det_keypoints: list[np.ndarray] = []
    det_world: list[np.ndarray] = []
    for done, (index, frame) in enumerate(iter_observed_frames(video, tracklets), start=1):
        rows = np.flatnonzero((tracklets["frame_index"] == index) & observed)
        masks = [decode_mask(str(tracklets["mask_rle"][r]), *frame.shape[:2]) for r in rows]
        keypoints = np.zeros((len(rows), 25, 3), np.float32)
        world = np.zeros((len(rows), WORLD_LANDMARKS, 4), np.float32)
        for k, row in enumerate(rows):
            box = tracklets["bbox_xyxy"][row]
            region = region_of_mask(masks[k], box) if masks[k].any() else None
            keypoints[k], world[k] = pose_of_person(pose, others_painted_out(frame, masks, k), box, region)
        found = keypoints[..., 2].max(1) > 0
        det_frames += [index] * int(found.sum())
        det_keypoints.append(keypoints[found])
        det_world.append(world[found])
        progress(done / len(frames_needed), f"frame {index + 1}: {int(found.sum())}/{len(rows)} poses")
    frames_out, keypoints_out = stack_detections(det_frames, det_keypoints)
    world_out = np.concatenate(det_world) if det_world else np.zeros((0, WORLD_LANDMARKS, 4))
    return frames_out, keypoints_out, world_out.astype(np.float32).reshape(-1, WORLD_LANDMARKS, 4)


def _anyone(look: PoseLook) -> bool:
    """BlazePose found a person: some of its keypoints have a confidence, and it is not upside down
    (mshot/pose2d/plausibility.py: a skeleton laid over an instrument)."""
    return bool(look.keypoints[:, 2].max() > 0) and not is_upside_down(look.keypoints, UPRIGHT_CONFIDENCE)


def pose_of_person(pose: BlazePoseBody25, frame_bgr: np.ndarray, box: np.ndarray,
                   region: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """pose_in_box_or_grown (the small-person and side-edge looks, then the same in the grown box) for the person
    with the (4,) box and region (H, W) bool (its dilated mask; None: its box): the first look that is the person's
    (association.is_pose_of), else the tracked box's pose if it is anyone's -> keypoints (25, 3) px + confidence,
    world landmarks (33, 4); zeros where BlazePose found nobody upright."""
    def of_person(look: PoseLook) -> bool:
        return _anyone(look) and is_pose_of(look.keypoints, region, box)

    look = pose_in_box_or_grown(pose, frame_bgr, box, of_person)
    if _anyone(look):
        return look.keypoints, look.world
    return np.zeros_like(look.keypoints), np.zeros_like(look.world)


def others_painted_out(frame_bgr: np.ndarray, masks: list[np.ndarray], k: int) -> np.ndarray:
    """A copy of the frame with every mask but the k-th (each dilated by 3 px) painted grey (128), except where
    the k-th mask is; the frame itself when no other person has a mask."""
    others = [m for j, m in enumerate(masks) if j != k and m.any()]
    if not others:
        return frame_bgr
    cover = cv2.dilate(np.any(others, axis=0).astype(np.uint8), np.ones((7, 7), np.uint8)).astype(bool)
    cover &= ~masks[k]
    out = frame_bgr.copy()
    out[cover] = 128
    return out
