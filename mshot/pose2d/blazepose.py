"""MediaPipe BlazePose (the full model bundled in mediapipe 0.10.21, offline) run per person crop and mapped
to OpenPose BODY_25, with the person's segmentation mask.

BlazePose finds one person per image, so each tracked box is cropped (enlarged by `context`), run, and the
landmarks mapped back to frame pixels. BlazePose also places the joints of a person cut off by the frame edge
that it cannot see: those outside the image keep their position with confidence 0 (`off_image_unseen`; the
tracker keeps BlazePose's visibility). A crop padded beyond the frame edge instead of clipped, to keep such a
person centred, was tried and measured worse (services/keypoints/README.md).
Mapping to BODY_25 (confidences are BlazePose visibilities):
- direct: nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles, heels, big toes (foot index);
- synthesized: Neck = midpoint of the shoulders, MidHip = midpoint of the hips (confidence: the lower of the
  two); small toes = the foot-index point (BlazePose has no small toe) at half its confidence.

World landmarks (`estimate_with_world`): BlazePose's `pose_world_landmarks` from the same call, 33 points in
metres about the centre of the hips, in BlazePose's own frame (x to the image's right, y down, z away from the
viewer, looking along the crop's viewing ray), with their visibilities: (33, 4) x, y, z, visibility.
mshot/body/blazepose_smpl.py maps them to SMPL joints.
"""

from __future__ import annotations

import numpy as np

from mshot.errors import FailedPrecondition
from mshot.geometry.boxes import outside_image

# BODY_25 index -> BlazePose landmark index (direct correspondences).
DIRECT = {0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 9: 24, 10: 26, 11: 28, 12: 23, 13: 25, 14: 27,
          15: 5, 16: 2, 17: 8, 18: 7, 19: 31, 21: 29, 22: 32, 24: 30}
MIDPOINTS = {1: (11, 12), 8: (23, 24)}
SMALL_TOES = {20: 31, 23: 32}


def blazepose_to_body25(landmarks_px: np.ndarray, visibility: np.ndarray) -> np.ndarray:
    """(33, 2) px + (33,) -> (25, 3) x, y px, confidence."""
    out = np.zeros((25, 3), dtype=np.float32)
    for body25, bp in DIRECT.items():
        out[body25] = (*landmarks_px[bp], visibility[bp])
    for body25, (a, b) in MIDPOINTS.items():
        out[body25, :2] = (landmarks_px[a] + landmarks_px[b]) / 2
        out[body25, 2] = min(visibility[a], visibility[b])
    for body25, bp in SMALL_TOES.items():
        out[body25] = (*landmarks_px[bp], 0.5 * visibility[bp])
    return out


MIN_CROP_PX = 8  # a window narrower or shorter than this (after clipping) holds no usable person


def crop_window(box_xyxy: np.ndarray, height: int, width: int, context: float,
                mirror_sides: bool = False) -> tuple[int, int, int, int] | None:
    """A square window around the box, enlarged by `context`, clipped to the image: (x0, y0, x1, y1) ints, or
    None when the clipped window is under MIN_CROP_PX on a side (a box beyond the border, zero-area or
    non-finite). `mirror_sides`: x0, x1 are not clipped to the image but to [-width, 2 * width] (the crop is
    then completed by mirroring the image across its left and right edges: mirrored_crop)."""
    box = np.asarray(box_xyxy, dtype=np.float64)
    if not np.isfinite(box).all():
        return None
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(x1 - x0, y1 - y0) * context
    x_low, x_high = (-width, 2 * width) if mirror_sides else (0, width)
    wx0, wy0 = int(np.clip(cx - side / 2, x_low, x_high)), int(np.clip(cy - side / 2, 0, height))
    wx1, wy1 = int(np.clip(cx + side / 2, x_low, x_high)), int(np.clip(cy + side / 2, 0, height))
    if min(wx1, width) - max(wx0, 0) < MIN_CROP_PX or wy1 - wy0 < MIN_CROP_PX:
        return None
    return wx0, wy0, wx1, wy1


def mirrored_crop(image: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
    """image (H, W, C)[window] (x0, y0, x1, y1 px, y inside the image, x0 >= -W, x1 <= 2W), where the window
    leaves the image at the left or right completed by the image mirrored across that edge (pixel -1 is
    pixel 0, pixel W is pixel W - 1: OpenCV's BORDER_REFLECT)."""
    import cv2

    x0, y0, x1, y1 = window
    width = image.shape[1]
    inside = image[y0:y1, max(x0, 0):min(x1, width)]
    return cv2.copyMakeBorder(inside, 0, 0, max(-x0, 0), max(x1 - width, 0), cv2.BORDER_REFLECT)


def unseen_outside_image(keypoints: np.ndarray, height: int, width: int) -> np.ndarray:
    """(K, 25, 3) -> a copy whose keypoints outside the image (mshot.geometry.boxes.outside_image) have
    confidence 0: BlazePose guesses where a cut-off person's hidden joints are; they are kept, unseen."""
    out = np.array(keypoints, dtype=np.float32, copy=True)
    out[..., 2] = np.where(outside_image(out[..., :2], height, width), 0.0, out[..., 2])
    return out


WORLD_LANDMARKS = 33


def world_landmarks_array(result) -> np.ndarray:
    """MediaPipe pose result -> (33, 4) float32 x, y, z metres (hip-centred, BlazePose frame) and visibility
    in [0, 1]; zeros when the result holds no world landmarks."""
    out = np.zeros((WORLD_LANDMARKS, 4), dtype=np.float32)
    world = getattr(result, "pose_world_landmarks", None)
    if world is not None:
        out[:] = [(m.x, m.y, m.z, min(max(m.visibility, 0.0), 1.0)) for m in world.landmark]
    return out


class BlazePoseBody25:
    """estimate(frame_bgr (H,W,3), boxes_xyxy (K,4)) -> keypoints (K,25,3) px+conf, masks (K,H,W) bool.

    `with_masks=False` skips BlazePose's segmentation head (about 20 % faster); masks are then all False.
    `off_image_unseen=False` keeps BlazePose's visibility for the joints it places outside the image.
    A box in which BlazePose finds nobody, or whose window inside the image is under MIN_CROP_PX on a side,
    gives zeros (confidence 0) for all 25 keypoints."""

    def __init__(self, context: float = 1.3, crop_size: int = 256, min_detection_confidence: float = 0.3,
                 with_masks: bool = True, off_image_unseen: bool = True):
        try:
            import mediapipe as mp

            self._pose = mp.solutions.pose.Pose(
                static_image_mode=True, model_complexity=1, enable_segmentation=with_masks,
                min_detection_confidence=min_detection_confidence)
        except Exception as exc:  # noqa: BLE001 - any failure to load the bundled model
            raise FailedPrecondition(f"MediaPipe BlazePose (mediapipe 0.10.21, bundled model) is unavailable: "
                                     f"{type(exc).__name__}: {exc}") from None
        self.context = context
        self.off_image_unseen = off_image_unseen
        self.crop_size = crop_size

    def estimate(self, frame_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keypoints, masks, _ = self.estimate_with_world(frame_bgr, boxes_xyxy)
        return keypoints, masks

    def estimate_with_world(self, frame_bgr: np.ndarray, boxes_xyxy: np.ndarray,
                            mirror_sides: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """As estimate, plus world landmarks (K, 33, 4) (module doc; zeros where BlazePose found nobody).
        `mirror_sides`: a window that leaves the image at the left or right is completed by the image mirrored
        across that edge (mirrored_crop), not clipped; the landmarks BlazePose places beyond the image are then
        echoes of the mirrored half: visibility 0 (keypoints, the neck and mid-hip made from them, and world
        landmarks) whatever `off_image_unseen` says."""
        import cv2

        height, width = frame_bgr.shape[:2]
        keypoints = np.zeros((len(boxes_xyxy), 25, 3), dtype=np.float32)
        world = np.zeros((len(boxes_xyxy), WORLD_LANDMARKS, 4), dtype=np.float32)
        masks = np.zeros((len(boxes_xyxy), height, width), dtype=bool)
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        for k, box in enumerate(np.asarray(boxes_xyxy, dtype=np.float64)):
            window = crop_window(box, height, width, self.context, mirror_sides)
            if window is None:
                continue  # nothing of the box inside the image: no person (confidence 0)
            x0, y0, x1, y1 = window
            crop = mirrored_crop(rgb, window)
            scale = self.crop_size / max(crop.shape[:2])
            resized = cv2.resize(crop, (max(int(crop.shape[1] * scale), 1), max(int(crop.shape[0] * scale), 1)),
                                 interpolation=cv2.INTER_LINEAR)
            result = self._pose.process(resized)
            if result.pose_landmarks is None:
                continue
            marks = result.pose_landmarks.landmark
            xy = np.array([[m.x * crop.shape[1] + x0, m.y * crop.shape[0] + y0] for m in marks])
            visibility = np.clip(np.array([m.visibility for m in marks]), 0.0, 1.0)
            echo = outside_image(xy, height, width) if mirror_sides else np.zeros(len(xy), bool)
            visibility[echo] = 0.0  # also unseen: the neck and mid-hip of a shoulder or hip beyond the edge
            keypoints[k] = blazepose_to_body25(xy, visibility)
            if self.off_image_unseen or mirror_sides:
                keypoints[k] = unseen_outside_image(keypoints[k], height, width)
            world[k] = world_landmarks_array(result)
            world[k, echo, 3] = 0.0
            if getattr(result, "segmentation_mask", None) is not None:
                seg = cv2.resize(result.segmentation_mask, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
                inside = slice(max(-x0, 0), min(width, x1) - x0)
                masks[k, y0:y1, max(x0, 0):min(x1, width)] = seg[:, inside] > 0.5
        return keypoints, masks, world

    def close(self) -> None:
        self._pose.close()
