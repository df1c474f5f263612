"""PHALP-style association for the CPU tracker: tracks matched to detections with the Hungarian method on a
cost combining appearance (colour histogram of the person's mask), location (box overlap and size, i.e.
position in 3D up to scale) and pose (normalised keypoints); track birth after `n_init` hits, death after
`max_age` frames unseen. Across a shot cut location means nothing: there only appearance and pose count,
so people keep their identity from shot to shot. The tracks followed within the shot are matched first; only the
detections they leave can re-identify an older track (a matching cascade). Pairs costing over `max_cost` take no
part in the solve."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.optimize import linear_sum_assignment

from mshot.artifacts.masks import encode_mask
from mshot.geometry.boxes import box_slices
from services.tracking.cpu.detector import Detections, box_iou


@dataclass(frozen=True)
class AssociationOptions:
    n_init: int = 3  # hits before a track is confirmed
    max_age: int = 8  # frames a track may go unseen within a shot and still be matched by location
    reid_max_age: int = 200  # frames a confirmed track stays re-identifiable by appearance (across cuts too)
    weight_location: float = 0.5
    weight_appearance: float = 0.4
    weight_pose: float = 0.1
    max_cost: float = 0.6  # matches above are refused
    max_appearance_reid: float = 0.25  # Bhattacharyya distance allowed for a match by appearance alone
    min_iou: float = 0.05


@dataclass
class Observation:
    frame_index: int
    shot_id: int
    box: np.ndarray
    confidence: float
    keypoints: np.ndarray
    mask_rle: str  # COCO RLE counts of the [H, W] mask


@dataclass
class Track:
    track_id: int
    histogram: np.ndarray
    pose: np.ndarray
    observations: list[Observation] = field(default_factory=list)
    hits: int = 0
    histogram_sum: np.ndarray | None = None  # sum of every observation's histogram (the track's mean appearance)

    @property
    def last(self) -> Observation:
        return self.observations[-1]


def appearance_histogram(frame_bgr: np.ndarray, mask: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Normalised HSV hue-saturation histogram (16 x 8) of the person's pixels (the box if the mask is empty)."""
    hsv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV)
    region = mask.astype(np.uint8)
    if region.sum() < 30:
        region = np.zeros(mask.shape, np.uint8)
        region[box_slices(box, *mask.shape)] = 1
    hist = cv2.calcHist([hsv], [0, 1], region, [16, 8], [0, 180, 0, 256]).ravel()
    return hist / max(hist.sum(), 1e-9)


def nested_share(a: np.ndarray, b: np.ndarray) -> float:
    """Boxes (4,) xyxy -> the share of the smaller box's area that lies inside the other (0..1)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(max(width, 0) * max(height, 0) / max(smaller, 1e-9))


def pose_feature(keypoints: np.ndarray, box: np.ndarray) -> np.ndarray:
    """(25, 3) keypoints -> (25, 3): positions normalised to the box (0..1), confidence kept."""
    scale = np.array([max(box[2] - box[0], 1.0), max(box[3] - box[1], 1.0)])
    out = keypoints.copy()
    out[:, :2] = (keypoints[:, :2] - box[:2]) / scale
    return out


def bhattacharyya(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(max(1.0 - np.sum(np.sqrt(a * b)), 0.0)))


def pose_distance(a: np.ndarray, b: np.ndarray) -> float:
    both = (a[:, 2] > 0.3) & (b[:, 2] > 0.3)
    if both.sum() < 4:
        return 0.5
    return float(min(np.linalg.norm(a[both, :2] - b[both, :2], axis=1).mean(), 1.0))


class Associator:
    def __init__(self, options: AssociationOptions = AssociationOptions()):
        self.options = options
        self.tracks: list[Track] = []
        self._next_id = 0

    def _cost(self, track: Track, frame_index: int, shot_id: int, box: np.ndarray, hist: np.ndarray,
              pose: np.ndarray) -> float:
        o = self.options
        gap = frame_index - track.last.frame_index
        appearance = bhattacharyya(track.histogram, hist)
        pose_cost = pose_distance(track.pose, pose)
        same_shot = track.last.shot_id == shot_id
        if same_shot and gap <= o.max_age:
            iou = float(box_iou(track.last.box[None], box[None])[0, 0])
            size = abs(np.log(max(box[3] - box[1], 1) / max(track.last.box[3] - track.last.box[1], 1)))
            if iou < o.min_iou:
                return np.inf
            location = min(1.0 - iou + size, 1.0)
            return o.weight_location * location + o.weight_appearance * appearance + o.weight_pose * pose_cost
        if track.hits >= o.n_init and gap <= o.reid_max_age and appearance <= o.max_appearance_reid:
            # Re-identification (after a cut or a long absence): appearance and pose only.
            return (o.weight_appearance * appearance + o.weight_pose * pose_cost) / (
                o.weight_appearance + o.weight_pose) * 0.9
        return np.inf

    def _assign(self, tracks: list[Track], free: list[int], frame_index: int, shot_id: int, boxes: np.ndarray,
                hists: list, poses: list) -> list[tuple[Track, int]]:
        """Hungarian matching of `tracks` to the detections `free` (indices). Pairs costing over max_cost are
        refused before the solve, not after: the most admissible pairs at the least cost. Solved with them, the
        cheapest total could take a refused pair and, to make room for it, give another track a worse person
        (the web clip's second close-up: the singer's track put on the musician beside her)."""
        cost = np.full((len(tracks), len(free)), np.inf)
        for i, track in enumerate(tracks):
            for k, j in enumerate(free):
                cost[i, k] = self._cost(track, frame_index, shot_id, boxes[j], hists[j], poses[j])
        if not cost.size:
            return []
        admissible = cost <= self.options.max_cost
        rows, cols = linear_sum_assignment(np.where(admissible, cost, 1e6))
        return [(tracks[r], free[c]) for r, c in zip(rows, cols, strict=True) if admissible[r, c]]

    def update(self, frame_index: int, shot_id: int, frame_bgr: np.ndarray, detections: Detections) -> None:
        o = self.options
        hists = [appearance_histogram(frame_bgr, m, b) for m, b in zip(detections.masks, detections.boxes_xyxy,
                                                                       strict=True)]
        poses = [pose_feature(k, b) for k, b in zip(detections.keypoints_body25, detections.boxes_xyxy, strict=True)]
        live = [t for t in self.tracks if frame_index - t.last.frame_index <= o.reid_max_age]
        followed = [t.last.shot_id == shot_id and frame_index - t.last.frame_index <= o.max_age for t in live]
        matched_detections: set[int] = set()
        # The tracks followed in this shot are matched first, by location; the others may then be re-identified
        # on the detections left, so an old track cannot take a person from the track following them.
        for stage in (True, False):
            tracks = [t for t, f in zip(live, followed, strict=True) if f == stage]
            free = [j for j in range(len(hists)) if j not in matched_detections]
            for track, j in self._assign(tracks, free, frame_index, shot_id, detections.boxes_xyxy, hists, poses):
                self._extend(track, frame_index, shot_id, detections, j, hists[j], poses[j])
                matched_detections.add(j)
        for j in range(len(hists)):
            if j not in matched_detections:
                track = Track(self._next_id, hists[j], poses[j])
                self._next_id += 1
                self.tracks.append(track)
                self._extend(track, frame_index, shot_id, detections, j, hists[j], poses[j])
        # Tentative tracks that miss a frame die.
        self.tracks = [t for t in self.tracks if t.hits >= o.n_init or t.last.frame_index >= frame_index - 1]

    def _extend(self, track: Track, frame_index, shot_id, detections: Detections, j, hist, pose) -> None:
        track.observations.append(Observation(frame_index, shot_id, detections.boxes_xyxy[j].copy(),
                                              float(detections.confidence[j]), detections.keypoints_body25[j].copy(),
                                              encode_mask(detections.masks[j])))
        track.hits += 1
        track.histogram = 0.8 * track.histogram + 0.2 * hist if track.hits > 1 else hist
        track.histogram_sum = hist.copy() if track.histogram_sum is None else track.histogram_sum + hist
        track.pose = pose

    def predicted_boxes(self, frame_index: int, shot_id: int, max_gap: int = 2) -> np.ndarray:
        """(K, 4) where the tracks seen in this shot within `max_gap` frames should be now: the last box moved on
        by the track's velocity (from its last two observations), for the detector to look there."""
        boxes = []
        for track in self.tracks:
            last = track.last
            gap = frame_index - last.frame_index
            if last.shot_id != shot_id or not 0 < gap <= max_gap:
                continue
            velocity = np.zeros(4)
            if len(track.observations) > 1:
                previous = track.observations[-2]
                if previous.shot_id == shot_id:
                    velocity = (last.box - previous.box) / max(last.frame_index - previous.frame_index, 1)
            boxes.append(last.box + gap * velocity)
        return np.asarray(boxes, np.float64).reshape(-1, 4)

    def confirmed_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.hits >= self.options.n_init]
