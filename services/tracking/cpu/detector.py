"""People detection for the CPU tracker: OpenCV's HOG people detector (shipped with opencv-python-headless),
each candidate then verified by BlazePose, which also gives its BODY_25 keypoints and segmentation mask."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mshot.pose2d.blazepose import BlazePoseBody25


@dataclass(frozen=True)
class Detections:
    """K people in one frame."""

    boxes_xyxy: np.ndarray  # (K, 4) px
    confidence: np.ndarray  # (K,) 0..1
    keypoints_body25: np.ndarray  # (K, 25, 3) px + confidence
    masks: np.ndarray  # (K, H, W) bool


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4) x (M, 4) xyxy -> (N, M) intersection over union."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def non_max_suppression(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    order = np.argsort(-scores)
    keep: list[int] = []
    for i in order:
        if not keep or box_iou(boxes[[i]], boxes[keep]).max() < iou:
            keep.append(int(i))
    return np.array(keep, dtype=int)


class PeopleDetector:
    def __init__(self, upscale: float = 1.5, min_keypoints: int = 8, min_keypoint_conf: float = 0.5,
                 nms_iou: float = 0.4):
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.pose = BlazePoseBody25()
        self.upscale = upscale
        self.min_keypoints = min_keypoints
        self.min_keypoint_conf = min_keypoint_conf
        self.nms_iou = nms_iou

    def hog_candidates(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        big = cv2.resize(frame_bgr, None, fx=self.upscale, fy=self.upscale, interpolation=cv2.INTER_LINEAR)
        rects, weights = self.hog.detectMultiScale(big, winStride=(8, 8), padding=(8, 8), scale=1.05)
        if len(rects) == 0:
            return np.zeros((0, 4)), np.zeros(0)
        rects = np.asarray(rects, dtype=np.float64) / self.upscale
        boxes = np.column_stack([rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]])
        scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, dtype=np.float64).ravel()))  # SVM margin -> 0..1
        keep = non_max_suppression(boxes, scores, self.nms_iou)
        return boxes[keep], scores[keep]

    def detect(self, frame_bgr: np.ndarray) -> Detections:
        boxes, scores = self.hog_candidates(frame_bgr)
        keypoints, masks = self.pose.estimate(frame_bgr, boxes)
        confident = (keypoints[..., 2] >= self.min_keypoint_conf).sum(1) >= self.min_keypoints
        boxes, scores, keypoints, masks = boxes[confident], scores[confident], keypoints[confident], masks[confident]
        # Tighten each box to the person: the union of its mask and its confident keypoints.
        for k in range(len(boxes)):
            ys, xs = np.nonzero(masks[k])
            points = keypoints[k][keypoints[k, :, 2] >= self.min_keypoint_conf, :2]
            if len(xs) > 50:
                xs = np.concatenate([xs, points[:, 0]])
                ys = np.concatenate([ys, points[:, 1]])
                boxes[k] = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        # Two candidates on one person tighten to the same box: keep one.
        keep = non_max_suppression(boxes, scores, self.nms_iou) if len(boxes) else np.zeros(0, int)
        return Detections(boxes[keep].astype(np.float32), scores[keep].astype(np.float32), keypoints[keep],
                          masks[keep])
