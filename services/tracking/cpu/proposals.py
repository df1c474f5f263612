"""Person proposals from MediaPipe's selfie segmentation (the landscape model bundled with mediapipe 0.10.21,
offline, about 5 ms per 640x360 frame): every connected blob of "person" pixels becomes a candidate box for
BlazePose to verify. The model is trained on close-up people and often covers only the upper body of a distant
walker, so each blob's box is extended downwards (a standing person is about 2.5 upper bodies tall) and
sideways; BlazePose finds the person anywhere inside its crop. It finds people HOG misses (side-on, small,
low contrast) and costs a fraction of HOG's time."""

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


class SegmentationProposals:
    """boxes(frame_bgr (H, W, 3)) -> (K, 4) candidate person boxes, px."""

    def __init__(self, threshold: float = 0.5):
        try:
            import mediapipe as mp

            self._segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
        except Exception as exc:  # noqa: BLE001 - any failure to load the bundled model
            raise FailedPrecondition(f"MediaPipe selfie segmentation (mediapipe 0.10.21, bundled model) is "
                                     f"unavailable: {type(exc).__name__}: {exc}") from None
        self.threshold = threshold

    def boxes(self, frame_bgr: np.ndarray) -> np.ndarray:
        result = self._segmenter.process(cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB))
        if result.segmentation_mask is None:
            return np.zeros((0, 4))
        return blob_boxes(result.segmentation_mask > self.threshold)
