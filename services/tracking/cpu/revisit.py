"""A second look at the frames a finished track missed in a shot, once association and stitching have made the
whole track known: the gaps inside it and the frames before its first and after its last observed row.

- Gaps: the box interpolated between the observed rows on both sides of the gap (far closer to the person than
  the online tracker's prediction, extrapolated from two jittering boxes) is verified by BlazePose.
- Ends: from the first observed row backwards and from the last one forwards, frame by frame, the box is carried
  by the track's recent motion (the slope of its box centres over its first or last `motion_rows` rows, at their
  median size), clipped to the image; rows are kept while BlazePose verifies the person, up to the first
  failure, the shot's boundary, `max_extension` frames, or where less than `min_in_image` of the box is inside
  the image.

Verification is the online detector's (PeopleDetector.verify: BlazePose in the box's crop, a small person's
retried in a wider window and one cut off by a side edge in the crop mirrored across it, an upright pose with
its keypoints centred in the box; where it finds nobody, once more in the box grown by `retry_growth`) on a
copy of the frame in which the people of the other tracks in that frame are painted out, and a pose is kept
only when it belongs to this track: it is not one of
those people again (PeopleDetector.found_again), its height is within `max_size_ratio` of the expected box's,
its centre within `max_centre_shift` expected heights of the expected centre, and at least `min_keypoints_inside`
of its confident keypoints lie inside the expected box grown by `inside_margin`. A kept row is observed, with the
verified box, BlazePose's keypoints and mask. Small people (a window under 112 px, people under ~86 px) are looked
at too: between scan frames the online tracker loses the 72 px child of tests/data/gt_video2 on every other frame
(its predicted box, extrapolated from two jittering boxes), and the box interpolated across the gap finds her."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mshot.artifacts.masks import decode_mask, encode_mask
from mshot.geometry.boxes import grown
from mshot.pose2d.retries import GROWN_LOOK
from mshot.video import iter_frames
from services.tracking.cpu.association import Observation, Track, nested_share
from services.tracking.cpu.detector import PRIOR_SCORE, PeopleDetector, paint_out


@dataclass(frozen=True)
class RevisitOptions:
    gaps: bool = True  # verify interpolated boxes in the gaps of a track inside a shot
    ends: bool = True  # extend a track's ends inside its shot
    max_gap: int = 24  # longer gaps (frames) are left to the predicted rows / left empty
    max_extension: int = 24  # frames an end is extended at most
    motion_rows: int = 4  # observed rows at an end that give its motion and size
    min_in_image: float = 0.5  # share of the carried box's area inside the image to go on
    max_size_ratio: float = 1.5  # verified box height / expected box height, either way
    max_centre_shift: float = 0.35  # distance of the centres, in expected box heights
    min_keypoints_inside: float = 0.8  # share of the confident keypoints inside the grown expected box
    inside_margin: float = 0.15  # the expected box grown by this share of its size on each side
    retry_growth: float = GROWN_LOOK  # where BlazePose finds nobody, the looks again in the box grown so (1: none)
    max_nested_share: float = 0.8  # an expected box this much nested with another track's box is not looked at


@dataclass
class RevisitCounts:
    """What one revisit found: observed rows added in gaps and at track ends, and the looks it took."""

    gap_rows: int = 0
    end_rows: int = 0
    pose_looks: int = 0  # verifications run (each one or two BlazePose calls)


def revisit_tracks(tracks: list[Track], video: Path, frame_shot: np.ndarray, detector: PeopleDetector,
                   options: RevisitOptions) -> RevisitCounts:
    """Adds the rows found to the tracks' observations (kept sorted by frame), in place. `frame_shot` (F,): the
    shot of every frame. The frames needed are decoded once more, one shot at a time."""
    counts = RevisitCounts()
    if not (options.gaps or options.ends) or not tracks:
        return counts
    needed = _frames_needed(tracks, frame_shot, options)
    if not needed:
        return counts
    rows_at: dict[int, list[tuple[int, Observation]]] = {}
    for k, track in enumerate(tracks):
        for o in track.observations:
            rows_at.setdefault(o.frame_index, []).append((k, o))
    looker = _Looker(detector, rows_at, options, counts)
    last_needed = {}
    for f in sorted(needed):
        last_needed[int(frame_shot[f])] = f
    frames: dict[int, np.ndarray] = {}
    for index, frame in iter_frames(video, stop=max(needed) + 1):
        if index in needed:
            frames[index] = frame
        shot = int(frame_shot[index])
        if last_needed.get(shot) == index:
            looker.frames = frames
            for k, track in enumerate(tracks):
                _revisit_in_shot(looker, k, track, shot, frame_shot, options)
            frames = {}
    return counts


def _frames_needed(tracks: list[Track], frame_shot: np.ndarray, options: RevisitOptions) -> set[int]:
    needed: set[int] = set()
    for track in tracks:
        for shot in {o.shot_id for o in track.observations}:
            rows = [o.frame_index for o in track.observations if o.shot_id == shot]
            if options.gaps:
                for a, b in zip(rows, rows[1:], strict=False):
                    if 1 < b - a <= options.max_gap + 1:
                        needed.update(range(a + 1, b))
            if options.ends:
                first, stop = _shot_span(frame_shot, shot)
                needed.update(range(max(first, rows[0] - options.max_extension), rows[0]))
                needed.update(range(rows[-1] + 1, min(stop, rows[-1] + 1 + options.max_extension)))
    return needed


def _shot_span(frame_shot: np.ndarray, shot: int) -> tuple[int, int]:
    """The first frame of the shot and the frame after its last (shots are contiguous)."""
    frames = np.flatnonzero(frame_shot == shot)
    return int(frames[0]), int(frames[-1]) + 1


def _revisit_in_shot(looker: _Looker, k: int, track: Track, shot: int, frame_shot: np.ndarray,
                     options: RevisitOptions) -> None:
    rows = [o for o in track.observations if o.shot_id == shot]
    if not rows:
        return
    added: list[Observation] = []
    if options.gaps:
        for a, b in zip(rows, rows[1:], strict=False):
            if 1 < b.frame_index - a.frame_index <= options.max_gap + 1:
                for f in range(a.frame_index + 1, b.frame_index):
                    t = (f - a.frame_index) / (b.frame_index - a.frame_index)
                    found = looker.look(k, f, shot, (1 - t) * a.box + t * b.box)
                    if found is not None:
                        added.append(found)
                        looker.counts.gap_rows += 1
    if options.ends:
        rows = sorted(rows + added, key=lambda o: o.frame_index)
        first, stop = _shot_span(frame_shot, shot)
        for end, step, limit in ((rows[: options.motion_rows], -1, first - 1), (rows[-options.motion_rows:], 1, stop)):
            found = _extend_end(looker, k, shot, end, step, limit, options)
            added.extend(found)
            looker.counts.end_rows += len(found)
    if added:
        track.observations = sorted(track.observations + added, key=lambda o: o.frame_index)


def _extend_end(looker: _Looker, k: int, shot: int, end_rows: list[Observation], step: int, limit: int,
                options: RevisitOptions) -> list[Observation]:
    """Rows found stepping from the end row (end_rows[0] going back, end_rows[-1] going on) by `step` frames
    until `limit` (exclusive), the first failure or the box leaving the image."""
    velocity = centre_velocity(end_rows)
    size = np.median([o.box[2:] - o.box[:2] for o in end_rows], axis=0)
    anchor = end_rows[0] if step < 0 else end_rows[-1]
    anchor_frame, anchor_centre = anchor.frame_index, (anchor.box[:2] + anchor.box[2:]) / 2
    height, width = looker.image_hw
    found: list[Observation] = []
    for f in range(anchor.frame_index + step, limit, step):
        if len(found) >= options.max_extension:
            break
        centre = anchor_centre + velocity * (f - anchor_frame)
        box = np.concatenate([centre - size / 2, centre + size / 2])
        clipped = np.clip(box, 0, [width, height, width, height])
        if _area(clipped) < options.min_in_image * _area(box):
            break
        row = looker.look(k, f, shot, clipped)
        if row is None:
            break
        found.append(row)
        if not _touches_border(row.box, height, width):  # a cut-off person's box is not where their centre is
            anchor_frame, anchor_centre = f, (row.box[:2] + row.box[2:]) / 2
    return found


def centre_velocity(rows: list[Observation]) -> np.ndarray:
    """(2,) px/frame: the least-squares slope of the rows' box centres over their frames; zero for one row."""
    frames = np.array([o.frame_index for o in rows], np.float64)
    if len(rows) < 2 or np.ptp(frames) == 0:
        return np.zeros(2)
    centres = np.array([(o.box[:2] + o.box[2:]) / 2 for o in rows], np.float64)
    offsets = frames - frames.mean()
    return offsets @ (centres - centres.mean(axis=0)) / (offsets @ offsets)


def matches_expected(box: np.ndarray, keypoints: np.ndarray, expected: np.ndarray, min_confidence: float,
                     options: RevisitOptions) -> bool:
    """The verified box (4,) xyxy px and keypoints (25, 3) are the person expected at `expected` (4,) xyxy px:
    height within max_size_ratio, centre within max_centre_shift heights, confident keypoints inside."""
    expected_height = max(expected[3] - expected[1], 1.0)
    if abs(np.log(max(box[3] - box[1], 1.0) / expected_height)) > np.log(options.max_size_ratio):
        return False
    shift = np.linalg.norm((box[:2] + box[2:]) / 2 - (expected[:2] + expected[2:]) / 2)
    if shift > options.max_centre_shift * expected_height:
        return False
    grown_box = grown(expected, 1 + 2 * options.inside_margin)
    low, high = grown_box[:2], grown_box[2:]
    confident = keypoints[keypoints[:, 2] >= min_confidence, :2]
    inside = np.all((confident >= low) & (confident <= high), axis=1)
    return bool(len(confident)) and inside.mean() >= options.min_keypoints_inside


class _Looker:
    """Verifies one expected box of track k in frame f, the other tracks' people in that frame painted out."""

    def __init__(self, detector: PeopleDetector, rows_at: dict[int, list[tuple[int, Observation]]],
                 options: RevisitOptions, counts: RevisitCounts):
        self.detector, self.rows_at, self.options, self.counts = detector, rows_at, options, counts
        self.frames: dict[int, np.ndarray] = {}

    @property
    def image_hw(self) -> tuple[int, int]:
        return next(iter(self.frames.values())).shape[:2]

    def look(self, k: int, f: int, shot: int, expected: np.ndarray) -> Observation | None:
        frame = self.frames.get(f)
        if frame is None:
            return None
        others = [o for j, o in self.rows_at.get(f, []) if j != k]
        if not self._worth_a_look(expected, others):
            return None
        work, painted = frame.copy(), np.zeros(frame.shape[:2], bool)
        for o in others:
            paint_out(work, painted, o.box, decode_mask(o.mask_rle, *painted.shape))
        self.counts.pose_looks += 1
        person = self.detector.verify(work, expected, self.options.retry_growth)
        if person is None:
            return None
        box, keypoints, mask = person
        if self.detector.found_again(box, keypoints, painted, [(o.box,) for o in others]):
            return None
        if not matches_expected(box, keypoints, expected, self.detector.min_keypoint_conf, self.options):
            return None
        row = Observation(f, shot, box.astype(np.float32), PRIOR_SCORE, keypoints, encode_mask(mask))
        self.rows_at.setdefault(f, []).append((k, row))
        return row


    def _worth_a_look(self, expected: np.ndarray, others: list[Observation]) -> bool:
        """Not mostly nested with another track's person in that frame (one covering the other: a pose found
        there is a guess at the hidden one). A small person is looked at too (verify's wider window)."""
        return all(nested_share(expected, o.box) < self.options.max_nested_share for o in others)


def _area(box: np.ndarray) -> float:
    return float(max(box[2] - box[0], 0.0) * max(box[3] - box[1], 0.0))


def _touches_border(box: np.ndarray, height: int, width: int, margin: float = 2.0) -> bool:
    return bool(box[0] <= margin or box[1] <= margin or box[2] >= width - margin or box[3] >= height - margin)
