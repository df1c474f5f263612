"""The cpu keypoints backend's second look (services/keypoints/backends/cpu.py pose_of_person): where the tracked
box's crop gives no pose of the person, the box grown by GROWN_LOOK is tried, and its pose kept only if it is the
person's. BlazePose is replaced by a fake that answers per crop box, so the boxes asked for are checked by hand."""

from __future__ import annotations

import numpy as np

from mshot.pose2d.retries import GROWN_LOOK
from services.keypoints.backends.cpu import pose_of_person

BOX = np.array([100.0, 100.0, 140.0, 200.0])  # 40 x 100 px: not small (window 130 px >= 112)
GROWN = np.array([92.0, 80.0, 148.0, 220.0])  # BOX scaled by 1.4 about its centre (120, 150)


def pose_at(x: float, y: float) -> np.ndarray:
    """(25, 3): every keypoint at (x, y) px with confidence 0.9, spread 1 px apart vertically."""
    keypoints = np.zeros((25, 3), np.float32)
    keypoints[:, 0], keypoints[:, 1], keypoints[:, 2] = x, y + np.arange(25), 0.9
    return keypoints


class FakePose:
    """Stands in for BlazePoseBody25: per crop box (rounded) the pose it finds, none (zeros) elsewhere."""

    context = 1.3

    def __init__(self, answers: dict[tuple, np.ndarray]):
        self.answers, self.asked = answers, []

    def estimate_with_world(self, frame, boxes, mirror_sides=False):
        key = tuple(np.round(boxes[0], 1))
        self.asked.append(key)
        keypoints = self.answers.get(key, np.zeros((25, 3), np.float32))
        world = np.full((1, 33, 4), float(keypoints[:, 2].max()), np.float32)
        return keypoints[None], np.zeros((1, *frame.shape[:2]), bool), world


def test_grown_box_matches_the_hand_computed_scaling():
    assert GROWN_LOOK == 1.4
    np.testing.assert_allclose(GROWN, [120 - 28, 150 - 70, 120 + 28, 150 + 70])


def test_a_pose_of_the_person_in_the_tracked_box_needs_no_second_look():
    pose = FakePose({tuple(BOX): pose_at(120, 130)})
    keypoints, _ = pose_of_person(pose, np.zeros((300, 300, 3), np.uint8), BOX, None)
    assert pose.asked == [tuple(BOX)]
    np.testing.assert_array_equal(keypoints, pose_at(120, 130))


def test_nobody_in_the_tracked_box_takes_the_persons_pose_from_the_grown_box():
    pose = FakePose({tuple(GROWN): pose_at(118, 140)})
    keypoints, world = pose_of_person(pose, np.zeros((300, 300, 3), np.uint8), BOX, None)
    assert pose.asked == [tuple(BOX), tuple(GROWN)]
    np.testing.assert_array_equal(keypoints, pose_at(118, 140))
    assert world[0, 3] == np.float32(0.9)


def test_a_neighbour_in_the_tracked_box_is_replaced_by_the_persons_pose_from_the_grown_box():
    region = np.zeros((300, 300), bool)
    region[100:200, 100:140] = True  # the person's (dilated) mask
    pose = FakePose({tuple(BOX): pose_at(250, 130), tuple(GROWN): pose_at(120, 130)})
    keypoints, _ = pose_of_person(pose, np.zeros((300, 300, 3), np.uint8), BOX, region)
    np.testing.assert_array_equal(keypoints, pose_at(120, 130))


def test_a_neighbour_in_the_grown_box_is_not_taken_and_the_first_answer_stays():
    pose = FakePose({tuple(GROWN): pose_at(250, 130)})  # the grown crop finds someone outside the person's box
    keypoints, world = pose_of_person(pose, np.zeros((300, 300, 3), np.uint8), BOX, None)
    assert pose.asked == [tuple(BOX), tuple(GROWN)]
    assert keypoints[:, 2].max() == 0 and world[:, 3].max() == 0
