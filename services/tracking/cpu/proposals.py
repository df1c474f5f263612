"""Person proposals from MediaPipe's selfie segmentation (the landscape model bundled with mediapipe 0.10.21,
offline, about 5 ms per 640x360 frame): every connected blob of "person" pixels becomes a candidate box for
BlazePose to verify. The model is trained on close-up people and often covers only the upper body of a distant
walker, so each blob's box is extended downwards (a standing person is about 2.5 upper bodies tall) and
sideways; BlazePose finds the person anywhere inside its crop. It finds people HOG misses (side-on, small,
low contrast) and costs a fraction of HOG's time.

The same mask gives a second look once people are found (residual_boxes): what is left of it after the found
people are painted out is often a person standing next to or behind one of them (a child beside an adult), whom
the shared blob's crop showed BlazePose only as part of the bigger person."""

from __future__ import annotations

import cv2
import numpy as np

from mshot.errors import FailedPrecondition


def blob_boxes(person_mask: np.ndarray, min_area: int = 40, grow_down: float = 1.3,
               grow_side: float = 0.3) -> np.ndarray:
    """(H, W) bool -> (K, 4) xyxy px: each connected blob's box, extended by `grow_down` x its height below and
    `grow_side` x its width on each side (clipped to the image)."""
    height, width = person_mask.shape
    count, _, stats, _ = cv2.connectedComponentsWithStats(person_mask.astype(np.uint8), connectivity=8)
    boxes = []
    for x, y, w, h, area in stats[1:count]:
        if area < min_area:
            continue
        boxes.append([max(x - grow_side * w, 0), y, min(x + w + grow_side * w, width),
                      min(y + h + grow_down * h, height)])
    return np.asarray(boxes, np.float64).reshape(-1, 4)


def residual_boxes(person_mask: np.ndarray, painted: np.ndarray, min_area_fraction: float = 6e-4,
                   grow_down: float = 0.3, grow_side: float = 0.3) -> np.ndarray:
    """Person pixels (H, W) bool not in `painted` (H, W) bool (the people found, dilated) -> (K, 4) xyxy px:
    boxes of the blobs left (blob_boxes, extended by `grow_down` x their height below: what is left is a whole
    small person more often than a distant walker's upper body) after a 5 x 5 opening, which drops the slivers
    at the edges of painted people; blobs under `min_area_fraction` of the image are none."""
    left = (person_mask & ~painted).astype(np.uint8)
    left = cv2.morphologyEx(left, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    min_area = max(int(min_area_fraction * person_mask.size), 1)
    return blob_boxes(left.astype(bool), min_area=min_area, grow_down=grow_down, grow_side=grow_side)


class SegmentationProposals:
    """person_mask(frame_bgr (H, W, 3)) -> (H, W) bool person pixels (blob_boxes makes candidates of them)."""

    def __init__(self, threshold: float = 0.5):
        try:
            import mediapipe as mp

            self._segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
        except Exception as exc:  # noqa: BLE001 - any failure to load the bundled model
            raise FailedPrecondition(f"MediaPipe selfie segmentation (mediapipe 0.10.21, bundled model) is "
                                     f"unavailable: {type(exc).__name__}: {exc}") from None
        self.threshold = threshold

    def person_mask(self, frame_bgr: np.ndarray) -> np.ndarray:
        result = self._segmenter.process(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        if result.segmentation_mask is None:
            return np.zeros(frame_bgr.shape[:2], bool)
        return result.segmentation_mask > self.threshold
