"""The tracker's second look at finished tracks (services/tracking/cpu/revisit.py): a gap filled from the box
interpolated across it, a track's ends extended up to the shot's boundaries, never onto another track's person,
a small person's gap filled too; the motion and consistency rules on hand-made numbers. Footage: the rendered GT
video (tests/data/gt_video), person 2 walking in full view through shot 0 (frames 0-33, 136-182 px tall), and
tests/data/gt_video2's 1.27 m child standing 72 px tall in shot 3."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.ground_truth import load_ground_truth
from services.tracking.cpu.association import Observation, Track
from services.tracking.cpu.detector import box_iou
from services.tracking.cpu.revisit import RevisitOptions, centre_velocity, matches_expected, revisit_tracks

GT_DIR = Path(__file__).resolve().parent / "data" / "gt_video"
VIDEO = GT_DIR / "gt_video.mp4"
PERSON = 2
GT2_DIR = Path(__file__).resolve().parent / "data" / "gt_video2"
CHILD = 0  # gt_video2's 1.27 m child


@pytest.fixture(scope="module")
def truth():
    return load_ground_truth(GT_DIR / "gt_video.npz")


@pytest.fixture(scope="module")
def detector():
    from services.tracking.cpu.detector import PeopleDetector

    return PeopleDetector()


def _gt_track(truth, frames, track_id=0, person=PERSON) -> Track:
    """A track whose observations are the GT rows of `person` at `frames` (GT boxes and masks)."""
    observations = []
    for f in frames:
        row = np.flatnonzero((truth.person_id == person) & (truth.frame_index == f))[0]
        observations.append(Observation(f, int(truth.frame_shot_id[f]), truth.bbox_xyxy[row].astype(np.float32),
                                        1.0, np.zeros((25, 3), np.float32), str(truth.mask_rle[row])))
    return Track(track_id, np.zeros(128), np.zeros((25, 3)), observations, len(observations))


def _gt_box(truth, f, person=PERSON) -> np.ndarray:
    return truth.bbox_xyxy[(truth.person_id == person) & (truth.frame_index == f)][0]


def test_a_gap_is_filled_and_the_ends_extended_to_the_shot_boundaries_on_the_person(truth, detector):
    track = _gt_track(truth, [*range(2, 10), *range(14, 32)])  # gap 10-13; shot 0 is frames 0-33
    counts = revisit_tracks([track], VIDEO, truth.frame_shot_id, detector, RevisitOptions())
    frames = [o.frame_index for o in track.observations]
    assert frames == list(range(0, 34))  # the gap, frames 0-1 before and 32-33 after; nothing of shot 1 (34)
    assert (counts.gap_rows, counts.end_rows) == (4, 4)
    for o in track.observations:
        if o.frame_index in (0, 1, 10, 11, 12, 13, 32, 33):
            assert box_iou(o.box[None], _gt_box(truth, o.frame_index)[None])[0, 0] > 0.6, o.frame_index
            assert o.mask_rle and (o.keypoints[:, 2] > 0.5).sum() >= 8


def test_a_gap_where_another_track_has_the_person_stays_empty(truth, detector):
    def gap_filled(options):
        track = _gt_track(truth, [*range(6, 10), *range(14, 18)])
        other = _gt_track(truth, range(10, 14), track_id=1)  # the same person in the gap, claimed by another track
        counts = revisit_tracks([track, other], VIDEO, truth.frame_shot_id, detector, options)
        assert [o.frame_index for o in track.observations] == [*range(6, 10), *range(14, 18)]
        return counts

    # the expected boxes lie on the other track's boxes: not even looked at
    assert gap_filled(RevisitOptions(ends=False)).pose_looks == 0
    # looked at anyway, the person is painted out as the other track's and not found
    counts = gap_filled(RevisitOptions(ends=False, max_nested_share=1.01))
    assert counts.gap_rows == 0 and counts.pose_looks == 4


def test_a_gap_of_a_small_person_is_filled_on_her(detector):
    """gt_video2's child, 72 px tall (BlazePose's window under 112 px), standing in shot 3 beside the woman and
    the man (their tracks cover the frames, so they are painted out): the online tracker loses her on every other
    frame; the revisit verifies her in the box interpolated across a 6-frame gap."""
    truth2 = load_ground_truth(GT2_DIR / "gt_video2.npz")
    known = [*range(150, 154), *range(160, 164)]
    child = _gt_track(truth2, known, person=CHILD)
    others = [_gt_track(truth2, range(150, 164), track_id=p, person=p) for p in (1, 2)]
    counts = revisit_tracks([child, *others], GT2_DIR / "gt_video2.mp4", truth2.frame_shot_id, detector,
                            RevisitOptions(ends=False))
    assert counts.gap_rows == 6 and [o.frame_index for o in child.observations] == list(range(150, 164))
    for o in child.observations:
        if o.frame_index not in known:
            assert box_iou(o.box[None], _gt_box(truth2, o.frame_index, CHILD)[None])[0, 0] > 0.5, o.frame_index
            assert (o.keypoints[:, 2] > 0.5).sum() >= 8


def _row(frame_index, box) -> Observation:
    return Observation(frame_index, 0, np.asarray(box, np.float64), 1.0, np.zeros((25, 3)), "")


def test_the_end_motion_is_the_least_squares_slope_of_the_box_centres():
    rows = [_row(0, [0, 0, 10, 20]), _row(1, [2, 0, 12, 20]), _row(3, [6, 3, 16, 23])]
    # frames 0, 1, 3 about their mean 4/3: -4/3, -1/3, 5/3 (squares sum to 42/9); centres x 5, 7, 11 about 23/3:
    # slope (32/9 + 2/9 + 50/9) / (42/9) = 2 px/frame; y 10, 10, 13 about 11: (4/3 + 1/3 + 10/3) / (42/9) = 15/14
    np.testing.assert_allclose(centre_velocity(rows), [2.0, 15 / 14])
    np.testing.assert_allclose(centre_velocity(rows[:1]), [0.0, 0.0])


def test_a_pose_counts_only_near_the_expected_box_at_its_size():
    expected = np.array([100.0, 100, 140, 200])  # 100 px tall, centre (120, 150)
    keypoints = np.zeros((25, 3))
    keypoints[:10] = [[120, 110 + 8 * k, 0.9] for k in range(10)]  # inside
    options = RevisitOptions()
    assert matches_expected(np.array([102.0, 105, 138, 198]), keypoints, expected, 0.5, options)
    assert not matches_expected(np.array([100.0, 100, 140, 160]), keypoints, expected, 0.5, options)  # 60 px: 1.67x
    assert not matches_expected(np.array([140.0, 100, 180, 200]), keypoints, expected, 0.5, options)  # 40 px off
    keypoints[:3, 0] = 170  # 3 of 10 beyond the box grown by 15 % (x <= 146)
    assert not matches_expected(np.array([102.0, 105, 138, 198]), keypoints, expected, 0.5, options)
