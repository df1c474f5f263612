"""The CPU tracker looks for people where its tracks predict them (between HOG scans), so a person HOG misses
stays tracked: predicted boxes, the scan schedule, and how the detector merges predicted and HOG candidates."""

from __future__ import annotations

import numpy as np
import pytest

from services.tracking.cpu.association import AssociationOptions, Associator
from services.tracking.cpu.backend import is_scan_frame
from services.tracking.cpu.detector import Detections, PeopleDetector


def _one_person(box) -> Detections:
    keypoints = np.zeros((1, 25, 3), np.float32)
    return Detections(np.asarray([box], np.float32), np.ones(1, np.float32), keypoints, np.zeros((1, 60, 80), bool))


def test_predicted_box_moves_on_with_the_track_velocity_and_only_within_its_shot():
    associator = Associator(AssociationOptions(n_init=1))
    frame = np.full((60, 80, 3), 128, np.uint8)
    associator.update(0, 0, frame, _one_person([10, 10, 20, 40]))
    associator.update(1, 0, frame, _one_person([13, 10, 23, 40]))  # 3 px per frame to the right
    np.testing.assert_allclose(associator.predicted_boxes(2, 0), [[16, 10, 26, 40]])
    np.testing.assert_allclose(associator.predicted_boxes(4, 0, max_gap=3), [[22, 10, 32, 40]])
    assert associator.predicted_boxes(5, 0, max_gap=3).shape == (0, 4)  # unseen for too long
    assert associator.predicted_boxes(2, 1).shape == (0, 4)  # after a cut the old position means nothing


def test_scan_frames_are_each_shots_first_frame_and_every_nth():
    shots = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    assert [i for i in range(9) if is_scan_frame(i, shots, 4)] == [0, 4, 5, 8]
    assert all(is_scan_frame(i, shots, 1) for i in range(9))


class _PoseAtBoxCentre:
    """Stands in for BlazePose: finds a person (all joints confident) filling the middle of every box."""

    calls = 0
    context = 1.3

    def estimate(self, frame, boxes):
        boxes = np.asarray(boxes, float).reshape(-1, 4)
        self.calls += len(boxes)
        keypoints = np.zeros((len(boxes), 25, 3), np.float32)
        masks = np.zeros((len(boxes), *frame.shape[:2]), bool)
        for k, (x0, y0, x1, y1) in enumerate(boxes):
            keypoints[k, :, 0] = np.linspace(x0 + 2, x1 - 2, 25)
            keypoints[k, :, 1] = np.linspace(y0 + 2, y1 - 2, 25)
            keypoints[k, :, 2] = 0.9
            masks[k, int(y0) + 2:int(y1) - 2, int(x0) + 2:int(x1) - 2] = True
        return keypoints, masks

    def estimate_with_world(self, frame, boxes, mirror_sides=False):
        keypoints, masks = self.estimate(frame, boxes)
        return keypoints, masks, np.zeros((len(keypoints), 33, 4), np.float32)


def _detector() -> PeopleDetector:
    """A detector whose pose model sees the candidate boxes as they are (no minimum window: the fakes below
    find their people in the box they are given)."""
    return PeopleDetector(min_pose_window_px=0)


@pytest.fixture(scope="module")
def detector():
    detector = _detector()
    detector.pose = _PoseAtBoxCentre()
    return detector


def _with_hog(detector, hog_boxes):
    calls = []

    def hog(frame):
        calls.append(1)
        return np.asarray(hog_boxes, float).reshape(-1, 4), np.full(len(hog_boxes), 0.9)

    detector.hog_candidates = hog
    return calls


def test_between_scans_only_the_predicted_boxes_are_looked_at(detector):
    calls = _with_hog(detector, [[100, 10, 130, 90]])
    found = detector.detect(np.zeros((120, 200, 3), np.uint8), np.array([[20, 10, 50, 90]]), scan=False)
    assert not calls and len(found.boxes_xyxy) == 1
    assert 20 <= found.boxes_xyxy[0, 0] < found.boxes_xyxy[0, 2] <= 50


def test_on_a_scan_hog_adds_people_that_no_predicted_box_covers(detector):
    calls = _with_hog(detector, [[22, 12, 52, 92], [100, 10, 130, 90]])  # the first is the predicted person
    found = detector.detect(np.zeros((120, 200, 3), np.uint8), np.array([[20, 10, 50, 90]]), scan=True)
    assert calls and len(found.boxes_xyxy) == 2
    assert sorted(found.boxes_xyxy[:, 0] < 60) == [False, True]


def test_a_new_people_candidate_inside_a_person_already_found_costs_no_pose_run(detector):
    _with_hog(detector, [[25, 20, 40, 50]])  # small, inside the predicted person: IoU 0.19 with its box
    detector.pose.calls = 0
    found = detector.detect(np.zeros((120, 200, 3), np.uint8), np.array([[20, 10, 50, 90]]), scan=True)
    assert len(found.boxes_xyxy) == 1 and detector.pose.calls == 1


class _PoseFindsTheFirstPersonAgain(_PoseAtBoxCentre):
    """The first box: a person filling it; any later box: the keypoints of a small 'person' lying mostly on the
    first one (what BlazePose does with the limbs of a painted-out person sticking into a neighbouring crop)."""

    def estimate(self, frame, boxes):
        if self.calls == 0:
            return super().estimate(frame, boxes)
        self.calls += 1
        keypoints = np.zeros((1, 25, 3), np.float32)
        keypoints[0, :, 0] = np.linspace(44, 54, 25)
        keypoints[0, :, 1] = np.linspace(20, 60, 25)
        keypoints[0, :, 2] = 0.9
        return keypoints, np.zeros((1, *frame.shape[:2]), bool)


def test_a_person_whose_keypoints_lie_on_a_person_already_found_is_not_a_second_person():
    detector = _detector()
    detector.pose = _PoseFindsTheFirstPersonAgain()
    _with_hog(detector, [[45, 10, 90, 90]])  # beside the predicted person, box IoU 0.07 with it
    found = detector.detect(np.zeros((120, 200, 3), np.uint8), np.array([[20, 10, 50, 90]]), scan=True)
    assert detector.pose.calls == 2 and len(found.boxes_xyxy) == 1
    assert found.boxes_xyxy[0, 2] <= 50


def test_a_small_box_inside_found_people_is_a_part_of_them_but_a_tall_or_outside_one_is_not():
    from services.tracking.cpu.detector import is_part_of_found

    found = np.array([[40.0, 240, 325, 576], [300, 237, 670, 576]])  # two seated musicians side by side
    assert is_part_of_found(np.array([270.0, 404, 362, 568]), found, (576, 768), 0.8, 0.6)  # hands between
    assert is_part_of_found(np.array([507.0, 414, 667, 576]), found, (576, 768), 0.8, 0.6)  # a lap
    assert not is_part_of_found(np.array([600.0, 337, 751, 522]), found, (576, 768), 0.8, 0.6)  # sticks out
    assert not is_part_of_found(np.array([330.0, 250, 600, 576]), found, (576, 768), 0.8, 0.6)  # as tall


def test_what_is_left_of_the_person_mask_outside_found_people_is_a_candidate_but_slivers_are_not():
    from services.tracking.cpu.proposals import residual_boxes

    person = np.zeros((100, 200), bool)
    person[10:90, 20:60] = True  # the person found (painted below)
    person[40:80, 60:80] = True  # a child beside them, in the same blob
    painted = np.zeros_like(person)
    painted[8:92, 18:62] = True
    person[5:95, 62:64] = True  # a 2 px sliver at the painted edge: opened away
    boxes = residual_boxes(person, painted, min_area_fraction=0.01, grow_down=0.5, grow_side=0.25)
    # the child's blob is x 60..80 minus the painted x < 62, y 40..80 -> x 62..80, y 40..80; grown by 0.25 x 18 px
    # on each side and 0.5 x 40 px below (clipped at the image's 100 px)
    np.testing.assert_allclose(boxes, [[62 - 4.5, 40, 80 + 4.5, 100]])
    assert residual_boxes(person, person | painted).shape == (0, 4)  # nothing left


class _FakeSegmentation:
    """Stands in for the selfie segmentation: one blob covering two people side by side."""

    def person_mask(self, frame):
        mask = np.zeros(frame.shape[:2], bool)
        mask[10:90, 20:80] = True
        return mask


class _PoseFindsTheLeftmostUnpaintedPerson(_PoseAtBoxCentre):
    """Two people of the fake blob, x 20-50 and x 55-80: in a crop, the leftmost one not painted grey."""

    def estimate(self, frame, boxes):
        self.calls += 1
        x0, y0, x1, y1 = np.asarray(boxes, float).reshape(4)
        people = [(20, 50), (55, 80)]
        keypoints = np.zeros((1, 25, 3), np.float32)
        masks = np.zeros((1, *frame.shape[:2]), bool)
        for a, b in people:
            if a >= x0 - 10 and b <= x1 + 10 and (frame[50, a + 2:b - 2] != 128).all():
                keypoints[0, :, 0] = np.linspace(a + 2, b - 2, 25)
                keypoints[0, :, 1] = np.linspace(12, 88, 25)
                keypoints[0, :, 2] = 0.9
                masks[0, 10:90, a:b] = True
                break
        return keypoints, masks


def test_a_person_sharing_a_segmentation_blob_is_found_in_what_is_left_of_it():
    detector = _detector()
    detector.pose = _PoseFindsTheLeftmostUnpaintedPerson()
    detector.proposals = _FakeSegmentation()
    _with_hog(detector, [])
    blob_box = [[20, 10, 80, 90]]
    # the blob's own two tries find only the left person: its crop is the whole blob, whose second try is
    # refused as covered by the found person (most of the blob painted)
    detector.candidates = lambda frame, priors, scan, mask: (np.array(blob_box, float), np.array([0.4]),
                                                               np.array([1]))
    found = detector.detect(np.zeros((120, 200, 3), np.uint8), None, scan=True)
    assert len(found.boxes_xyxy) == 2 and detector.pose.calls == 2  # the blob once, what is left of it once
    np.testing.assert_allclose(sorted(found.boxes_xyxy[:, 0]), [20, 55])


class _PoseWithAnUpperBodyMask(_PoseAtBoxCentre):
    """Keypoints spanning the whole box, a mask of its upper 60 % only (a mask that misses the legs)."""

    def estimate(self, frame, boxes):
        keypoints, masks = super().estimate(frame, boxes)
        masks[:, 70:] = False
        return keypoints, masks


class _SegmentationWithLegs:
    def person_mask(self, frame):
        mask = np.zeros(frame.shape[:2], bool)
        mask[10:70, 20:60] = True  # the upper body
        mask[70:110, 30:50] = True  # the legs, which the pose mask left out
        return mask


def test_what_the_pose_mask_of_a_found_person_left_out_costs_no_pose_run():
    detector = _detector()
    detector.pose = _PoseWithAnUpperBodyMask()
    detector.proposals = _SegmentationWithLegs()
    _with_hog(detector, [])
    detector.candidates = lambda frame, priors, scan, mask: (np.array([[20.0, 10, 60, 110]]), np.array([0.5]),
                                                               np.array([0]))
    found = detector.detect(np.zeros((120, 200, 3), np.uint8), None, scan=True)
    assert len(found.boxes_xyxy) == 1 and detector.pose.calls == 1


class _PoseOfADetail(_PoseAtBoxCentre):
    """Keypoints in the middle of the box spanning 10 px of its 80 px height (a tanpura's pegs taken for a person),
    or, with `upside_down`, spanning the box with the head at the bottom and the hips at the top."""

    def __init__(self, upside_down: bool):
        self.upside_down = upside_down

    def estimate(self, frame, boxes):
        keypoints, masks = super().estimate(frame, boxes)
        x0, y0, x1, y1 = np.asarray(boxes, float).reshape(4)
        if self.upside_down:
            keypoints[0, :, 1] = y1 - 2 - (keypoints[0, :, 1] - y0 - 2)  # the joint order flipped top to bottom
        else:
            keypoints[0, :, 1] = np.linspace((y0 + y1) / 2 - 5, (y0 + y1) / 2 + 5, 25)
        return keypoints, np.zeros_like(masks)


def test_a_pose_spanning_a_sliver_of_its_box_or_upside_down_is_no_person():
    for upside_down in (False, True):
        detector = _detector()
        detector.pose = _PoseOfADetail(upside_down)
        _with_hog(detector, [[100, 10, 130, 90]])
        found = detector.detect(np.zeros((120, 200, 3), np.uint8), None, scan=True)
        assert len(found.boxes_xyxy) == 0, upside_down
