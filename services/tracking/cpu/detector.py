"""People detection for the CPU tracker. Candidates: the boxes the tracker predicts for the people it follows,
and on "scan" frames blobs of MediaPipe's selfie segmentation (proposals.py) and OpenCV's HOG people detector
(shipped with opencv-python-headless). BlazePose verifies each candidate and gives its BODY_25 keypoints and
segmentation mask. HOG is slow and misses many people (small, side-on, partly hidden), so it runs only on scan
frames; in between, people are re-found around their predicted boxes.

Candidates are verified one after another on a working copy of the frame in which every person already found
is painted out, so BlazePose (one person per crop) cannot lock onto the same person twice and finds the person
behind; a found person whose keypoints are not centred in the candidate box belongs to another candidate and
is refused, and so is one found again (its box overlapping a found person's, or most of its keypoints on people
already painted out: BlazePose completing a painted person from what sticks out). A segmentation blob may hold
several people: it is tried again once after its first person, and once every candidate is verified, what is
left of the segmentation mask outside the people found becomes one more round of candidates (residual_boxes).

A candidate in which BlazePose finds no person is looked at once more where it is small (a wider window) or its
window leaves the image at a side (the crop mirrored across that edge: a person cut off by the frame edge, whose
half face BlazePose's detector does not take for one; mshot/pose2d/retries.py); a mirrored look needs only half
the keypoints in the image. A pose that is no body is refused: upside down (mshot/pose2d/plausibility.py), or its
confident keypoints spanning under `min_span` of the candidate box's height (a detail: a tanpura's pegs).

Last, a person found as two (the head and shoulders in one box, the lap and hands in another: split_bodies.py)
is merged into one box around the whole person."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mshot.geometry.boxes import box_slices, points_in_mask
from mshot.pose2d.blazepose import BlazePoseBody25
from mshot.pose2d.crops import MIN_WINDOW_PX
from mshot.pose2d.plausibility import is_upside_down
from mshot.pose2d.retries import PoseLook, pose_in_box_or_grown
from services.tracking.cpu.proposals import SegmentationProposals, blob_boxes, residual_boxes
from services.tracking.cpu.split_bodies import merge_split_bodies


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


PRIOR_SCORE = 0.5  # the confidence given to a person re-found at a predicted box
PREDICTED, BLOB, HOG, RESIDUAL = 0, 1, 2, 3  # where a candidate box comes from
BLOB_SCORE = 0.4  # the confidence given to a person found in a segmentation blob (or what is left of one)


class PeopleDetector:
    def __init__(self, upscale: float = 1.5, min_keypoints: int = 8, min_keypoint_conf: float = 0.5,
                 nms_iou: float = 0.4, prior_overlap: float = 0.3, hit_threshold: float = -1.0,
                 pyramid_scale: float = 1.1, segmentation_proposals: bool = True, max_painted: float = 0.5,
                 hog_max_height: int = 900, max_keypoints_on_found: float = 0.6, part_coverage: float = 0.6,
                 part_height: float = 0.6, min_pose_window_px: float = MIN_WINDOW_PX, min_span: float = 0.25,
                 min_share_on_body: float = 0.6):
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        # BlazePose's joints beyond the frame edge keep their visibility here: they count towards a verified person
        # and its box (unseen, a runner leaving the frame at the side lost her track 9 frames earlier, 89 against
        # 113 observed frames); initial3d treats them as unseen.
        self.pose = BlazePoseBody25(off_image_unseen=False)
        self.proposals = SegmentationProposals() if segmentation_proposals else None
        self.upscale = upscale
        # HOG runs on the frame scaled by `upscale`, but at most to this height: its 64x128 window finds people
        # of 128 px and up, and a 1080p frame upscaled 1.5x costs ~10 s per frame for no more people
        self.hog_max_height = hog_max_height
        self.min_keypoints = min_keypoints
        self.min_keypoint_conf = min_keypoint_conf
        self.nms_iou = nms_iou
        self.prior_overlap = prior_overlap  # a scan candidate overlapping a predicted box this much is that person
        # A permissive SVM threshold: BlazePose rejects the extra false candidates (on the rendered GT video,
        # -1.0 finds 79 % of people at IoU 0.3 against 68 % at 0; pyramid step 1.1 is 2.5x faster than 1.05).
        self.hit_threshold = hit_threshold
        self.pyramid_scale = pyramid_scale
        self.max_painted = max_painted  # a new-people candidate this much covered by people found is skipped
        self.max_keypoints_on_found = max_keypoints_on_found  # a person with this share of keypoints on found ones
        self.part_coverage, self.part_height = part_coverage, part_height  # is_part_of_found
        self.min_pose_window_px = min_pose_window_px  # a small person's crop is widened to this (crops.py)
        self.min_share_on_body = min_share_on_body  # split_bodies.is_rest_of_body
        self.min_span = min_span  # a person's confident keypoints span this share of its box's height (_person_in)

    def hog_candidates(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """HOG boxes (K, 4) xyxy px and scores (K,); none on an image smaller than HOG's window (64 x 128 px
        after the upscale): nobody fits in it, and there OpenCV 4.11's detectMultiScale corrupts memory."""
        scale = min(self.upscale, self.hog_max_height / frame_bgr.shape[0])
        big = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        window_w, window_h = self.hog.winSize
        if big.shape[0] < window_h or big.shape[1] < window_w:
            return np.zeros((0, 4)), np.zeros(0)
        rects, weights = self.hog.detectMultiScale(big, hitThreshold=self.hit_threshold, winStride=(8, 8),
                                                   padding=(8, 8), scale=self.pyramid_scale)
        if len(rects) == 0:
            return np.zeros((0, 4)), np.zeros(0)
        rects = np.asarray(rects, dtype=np.float64) / scale
        boxes = np.column_stack([rects[:, 0], rects[:, 1], rects[:, 0] + rects[:, 2], rects[:, 1] + rects[:, 3]])
        scores = 1.0 / (1.0 + np.exp(-np.asarray(weights, dtype=np.float64).ravel()))  # SVM margin -> 0..1
        keep = non_max_suppression(boxes, scores, self.nms_iou)
        return boxes[keep], scores[keep]

    def candidates(self, frame_bgr: np.ndarray, prior_boxes: np.ndarray | None, scan: bool,
                   person_mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> boxes (K, 4), scores (K,), kinds (K,) (PREDICTED, BLOB or HOG): predicted boxes (score 0.5) first,
        then on scan frames segmentation blobs of `person_mask` (H, W) bool (0.4) and HOG boxes that overlap no
        predicted box."""
        priors = np.zeros((0, 4)) if prior_boxes is None else np.asarray(prior_boxes, np.float64).reshape(-1, 4)
        parts = [(priors, np.full(len(priors), PRIOR_SCORE), np.full(len(priors), PREDICTED))]
        if scan:
            if person_mask is not None:
                blobs = blob_boxes(person_mask)
                parts.append((blobs, np.full(len(blobs), BLOB_SCORE), np.full(len(blobs), BLOB)))
            hog, scores = self.hog_candidates(frame_bgr)
            parts.append((hog, scores, np.full(len(hog), HOG)))
        boxes, scores, kinds = (np.concatenate(x) for x in zip(*parts, strict=True))
        new = np.ones(len(boxes), bool)
        if len(priors) and len(boxes) > len(priors):
            new[len(priors):] = box_iou(boxes[len(priors):], priors).max(1) < self.prior_overlap
        return boxes[new].reshape(-1, 4), scores[new], kinds[new]

    def _covered(self, box: np.ndarray, painted: np.ndarray, found: list[tuple]) -> bool:
        """A new-people candidate not worth a BlazePose run: mostly painted out, or on a person already found."""
        if not found:
            return False
        window = painted[box_slices(box, *painted.shape)]
        if window.size and window.mean() >= self.max_painted:
            return True
        return box_iou(box[None], np.array([f[0] for f in found])).max() >= self.prior_overlap

    def _inside_found(self, box: np.ndarray, found: list[tuple], image_hw: tuple[int, int]) -> bool:
        """A candidate that is a part of the people found (is_part_of_found), not worth a BlazePose run."""
        boxes = np.array([f[0] for f in found]).reshape(-1, 4)
        return bool(len(boxes)) and is_part_of_found(box, boxes, image_hw, self.part_coverage, self.part_height)

    def verify(self, frame_bgr: np.ndarray, box: np.ndarray, growth: float = 1.0):
        """BlazePose in the candidate's crop, looked at again for a small person or one cut off by a side edge,
        then in the box grown `growth` times (1: not; mshot/pose2d/retries.py) -> (tight box, keypoints (25, 3),
        mask (H, W)) or None."""
        look = pose_in_box_or_grown(self.pose, frame_bgr, box, self._person_in, growth, self.min_pose_window_px)
        if not self._person_in(look):
            return None
        keypoints, mask = look.keypoints, look.mask
        confident = keypoints[:, 2] >= self.min_keypoint_conf
        # The box of the person: the union of its mask and its confident keypoints.
        xs, ys = keypoints[confident, 0], keypoints[confident, 1]
        if mask.sum() > 50:
            mys, mxs = np.nonzero(mask)
            xs, ys = np.concatenate([xs, mxs]), np.concatenate([ys, mys])
        return np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]), keypoints, mask

    def _person_in(self, look: PoseLook) -> bool:
        """The look found a person in its box: at least min_keypoints keypoints of confidence >=
        min_keypoint_conf (half as many in a mirrored look: a person cut through the middle by the frame edge
        shows half of them), their median inside `look.looked_in` (else BlazePose found someone else in the
        enlarged crop), spanning at least min_span of its height (else a detail: a tanpura's pegs) and not
        upside down (mshot/pose2d/plausibility.py)."""
        keypoints = look.keypoints
        confident = keypoints[:, 2] >= self.min_keypoint_conf
        if confident.sum() < (self.min_keypoints // 2 if look.mirrored else self.min_keypoints):
            return False
        cx, cy = np.median(keypoints[confident, :2], axis=0)
        x0, y0, x1, y1 = look.looked_in
        if not (x0 <= cx <= x1 and y0 <= cy <= y1):
            return False
        ys = keypoints[confident, 1]
        if ys.max() - ys.min() < self.min_span * (y1 - y0):
            return False
        return not is_upside_down(keypoints, self.min_keypoint_conf)

    def found_again(self, box: np.ndarray, keypoints: np.ndarray, painted: np.ndarray, found: list[tuple]) -> bool:
        """A person verified again: its box overlaps a found one (IoU >= nms_iou), or most of its confident
        keypoints lie on people already found and painted out (BlazePose completing a painted person from the
        limbs that stick out), or it is a part of found people (a lap, hands and an instrument seen as a small
        person: is_part_of_found)."""
        if not found:
            return False
        boxes = np.array([f[0] for f in found])
        if box_iou(box[None], boxes).max() >= self.nms_iou:
            return True
        if keypoints_on_region(keypoints, painted, self.min_keypoint_conf) >= self.max_keypoints_on_found:
            return True
        return is_part_of_found(box, boxes, painted.shape, self.part_coverage, self.part_height)

    def _verify_all(self, candidates: tuple[np.ndarray, np.ndarray, np.ndarray], work: np.ndarray,
                    painted: np.ndarray, found: list[tuple]) -> None:
        """Verify candidates (boxes (K, 4), scores (K,), kinds (K,)) in order on `work`, appending the people
        found to `found` and painting them out of `work` and into `painted`, all in place."""
        for box, score, kind in zip(*candidates, strict=True):
            for _ in range(2 if kind == BLOB else 1):  # a blob may hold two people
                if kind != PREDICTED and self._covered(box, painted, found):
                    break
                if kind == RESIDUAL and self._inside_found(box, found, painted.shape):
                    break  # what BlazePose's mask of a found person left out (a sleeve, a skirt)
                person = self.verify(work, box)
                if person is None:
                    break
                tight, keypoints, mask = person
                if self.found_again(tight, keypoints, painted, found):
                    break
                found.append((tight, score, keypoints, mask))
                paint_out(work, painted, tight, mask)

    def detect(self, frame_bgr: np.ndarray, prior_boxes: np.ndarray | None = None, scan: bool = True) -> Detections:
        """People in one frame. prior_boxes (K, 4): where tracked people are expected; scan: also look for new
        people (segmentation blobs and HOG)."""
        person_mask = self.proposals.person_mask(frame_bgr) if scan and self.proposals is not None else None
        work = frame_bgr.copy()
        painted = np.zeros(frame_bgr.shape[:2], bool)
        found: list[tuple] = []
        self._verify_all(self.candidates(frame_bgr, prior_boxes, scan, person_mask), work, painted, found)
        if person_mask is not None and found:  # a second look at the person pixels no one found explains
            left = residual_boxes(person_mask, painted)
            self._verify_all((left, np.full(len(left), BLOB_SCORE), np.full(len(left), RESIDUAL)), work, painted,
                             found)
        found = merge_split_bodies(found, self.min_keypoint_conf, self.min_share_on_body)
        height, width = frame_bgr.shape[:2]
        if not found:
            return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros((0, 25, 3), np.float32),
                              np.zeros((0, height, width), bool))
        tight, score, keypoints, masks = (np.asarray(x) for x in zip(*found, strict=True))
        return Detections(tight.astype(np.float32), score.astype(np.float32), keypoints.astype(np.float32),
                          masks.astype(bool))


def is_part_of_found(box: np.ndarray, found_boxes: np.ndarray, image_hw: tuple[int, int], coverage: float,
                     height_ratio: float) -> bool:
    """The box (4,) lies at least `coverage` inside the union of the found boxes (K, 4) and is at most
    `height_ratio` as tall as the tallest found box it overlaps."""
    covered = np.zeros(image_hw, bool)
    for found in found_boxes:
        covered[box_slices(found, *image_hw)] = True
    inside = covered[box_slices(box, *image_hw)]
    if inside.size == 0 or inside.mean() < coverage:
        return False
    overlapping = box_iou(box[None], found_boxes)[0] > 0
    tallest = (found_boxes[overlapping, 3] - found_boxes[overlapping, 1]).max()
    return bool(box[3] - box[1] <= height_ratio * tallest)


def keypoints_on_region(keypoints: np.ndarray, region: np.ndarray, min_confidence: float) -> float:
    """Fraction of the keypoints (25, 3) with confidence >= min_confidence whose pixel lies in region (H, W)
    bool; 0 when none is confident. Keypoints outside the image are not in the region."""
    confident = keypoints[:, 2] >= min_confidence
    return float(points_in_mask(keypoints[confident, :2], region).mean()) if confident.any() else 0.0


def paint_out(frame_bgr: np.ndarray, painted: np.ndarray, box: np.ndarray, mask: np.ndarray) -> None:
    """Grey out a found person (its mask dilated by 4 px, or its box when the mask is nearly empty) in the
    frame and mark it in `painted`, both in place."""
    if mask.sum() > 50:
        region = cv2.dilate(mask.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    else:
        region = np.zeros(painted.shape, bool)
        region[box_slices(box, *painted.shape)] = True
    frame_bgr[region] = 128
    painted |= region
