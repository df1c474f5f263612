"""A person's pose looked at again where the plain crop finds nobody (mshot/pose2d/retries.py): the order of
the looks (a fake pose model records them), and the cause they fix on real footage - the musician cut off by
the right edge of seated_3people (../shared/real_clips/, MIT), whom no crop clipped to the image shows
BlazePose, is found in the crop mirrored across that edge, by the tracker's detector too."""

from __future__ import annotations

import numpy as np
import pytest

from mshot.pose2d.retries import pose_in_box
from scripts import real_footage


class _PoseFindingNobody:
    """Stands in for BlazePose: finds nobody, records each (box, mirror_sides) it is given."""

    context = 1.3

    def __init__(self):
        self.looks = []

    def estimate_with_world(self, frame, boxes, mirror_sides=False):
        self.looks.append((np.asarray(boxes[0]).round(2).tolist(), mirror_sides))
        return np.zeros((1, 25, 3)), np.zeros((1, *frame.shape[:2]), bool), np.zeros((1, 33, 4))


def _anyone(look) -> bool:
    return bool(look.keypoints[:, 2].max() > 0)


def test_a_box_at_a_side_edge_is_looked_at_once_more_mirrored_and_one_inside_is_not():
    frame = np.zeros((576, 768, 3), np.uint8)
    pose = _PoseFindingNobody()
    look = pose_in_box(pose, frame, np.array([619.0, 241, 703, 408]), _anyone)
    assert pose.looks == [([619, 241, 703, 408], False), ([619, 241, 917, 408], True)]
    assert look.mirrored and look.looked_in.tolist() == [619, 241, 917, 408]
    pose.looks.clear()
    pose_in_box(pose, frame, np.array([300.0, 100, 400, 300]), _anyone)
    assert pose.looks == [([300, 100, 400, 300], False)]
    pose.looks.clear()  # a small box at the left edge: the wider window first (about its centre), then mirrored
    pose_in_box(pose, frame, np.array([0.0, 100, 30, 160]), _anyone)
    half = 112 / 1.3 / 2
    assert [mirrored for _, mirrored in pose.looks] == [False, False, True]
    np.testing.assert_allclose(pose.looks[1][0], np.round([15 - half, 130 - half, 15 + half, 130 + half], 2))
    assert pose.looks[2][0] == [-30, 100, 30, 160]


CONCERT = real_footage.REAL_CLIPS / "seated_3people.mp4"
# frame 150: her face x ~745-768, y 260-330, her right shoulder and raised arm x ~630-740, the tanpura in front
FACE_X = (735, 768)


@pytest.fixture(scope="module")
def concert_frame():
    if not CONCERT.is_file():
        pytest.skip(f"{CONCERT} not present (the shared real clips)")
    return real_footage.read_frames(CONCERT, 150, 1)[0]


def test_no_crop_clipped_to_the_image_shows_blazepose_the_musician_cut_off_by_the_edge(concert_frame):
    from mshot.pose2d.blazepose import BlazePoseBody25

    pose = BlazePoseBody25(with_masks=False)
    for box in ([620, 240, 768, 470], [680, 240, 768, 470], [650, 200, 768, 480], [690, 230, 768, 420]):
        keypoints = pose.estimate(concert_frame, np.array([box], float))[0][0]
        assert keypoints[:, 2].max() == 0, box  # nobody: the clipped crops BlazePose saw on main
        mirrored = pose_in_box(pose, concert_frame, np.array(box, float), _anyone)
        assert mirrored.mirrored
        head = mirrored.keypoints[[15, 17]]  # right eye, right ear: seen, on her face (the nose is on the edge)
        assert (head[:, 2] >= 0.5).all() and (head[:, 0] >= FACE_X[0]).all() and (head[:, 1] < 340).all(), box
        assert (mirrored.keypoints[:, 0][mirrored.keypoints[:, 2] > 0] < 768).all()  # the mirror's half unseen
    pose.close()


def test_the_detector_finds_the_musician_cut_off_by_the_right_edge_and_no_body_on_her_instrument(concert_frame):
    from services.tracking.cpu.detector import PeopleDetector

    found = PeopleDetector().detect(concert_frame, None, scan=True)
    at_edge = [k for k, box in enumerate(found.boxes_xyxy) if box[2] >= 766 and box[0] > 600]
    assert len(at_edge) == 1, found.boxes_xyxy
    box, keypoints = found.boxes_xyxy[at_edge[0]], found.keypoints_body25[at_edge[0]]
    assert box[1] < 280 and box[3] - box[1] > 150  # from her head down, not a box on the hand and tanpura
    assert keypoints[15, 2] >= 0.5 and FACE_X[0] <= keypoints[15, 0] < 768  # her right eye
    # nobody else right of the centre singer: main found a "person" on the tanpura and her hand (x 611-720)
    assert not [b for k, b in enumerate(found.boxes_xyxy) if k != at_edge[0] and b[0] > 600], found.boxes_xyxy
