"""Association of detections with tracked persons (services/keypoints/association.py): mask tolerance, the
cost cap inside the Hungarian assignment, tie-breaking between nested boxes, and coasting rows."""

from __future__ import annotations

import numpy as np
import pytest

from mshot.artifacts.masks import encode_mask
from services.keypoints.association import MIN_SCORE, associate, fit_score, match_frame, person_region


def _detection(x0, y0, x1, y1, conf=0.9):
    """25 keypoints on a 5 x 5 grid spanning (x0, y0)-(x1, y1)."""
    gx, gy = np.meshgrid(np.linspace(x0, x1, 5), np.linspace(y0, y1, 5))
    return np.stack([gx.ravel(), gy.ravel(), np.full(25, conf)], axis=1)


def test_keypoints_on_the_silhouette_edge_count_as_inside_the_dilated_mask():
    mask = np.zeros((200, 100), bool)
    mask[20:180, 30:60] = True  # box height 160 -> tolerance round(0.03 * 160) = 5 px
    box = np.array([30, 20, 60, 180.0])
    region = person_region(encode_mask(mask), box, 200, 100)
    assert region[100, 64] and not region[100, 66]
    edge = _detection(26, 30, 63, 170)  # the outer columns 3-4 px outside the mask
    assert fit_score(edge, region, box) > 0.9 * 0.99
    assert fit_score(edge, mask, box) < 0.9 * 0.7  # without the tolerance 2 of 5 columns are outside


def test_the_cost_cap_keeps_a_poor_pair_from_displacing_a_good_one():
    """d0 fits person 0 best and person 1 fairly; d1 fits only person 0, poorly (below the cap). Maximising the
    raw scores pairs d0-p1 and d1-p0 (then refuses d1-p0), leaving d0 on the worse person; capping first keeps
    d0-p0."""
    from scipy.optimize import linear_sum_assignment

    boxes = np.array([[200, 0, 300, 100], [260, 0, 360, 100]], float)
    d0, d1 = _detection(254, 5, 300, 95), _detection(120, 5, 220, 95)
    raw = np.array([[fit_score(d, None, b) for b in boxes] for d in (d0, d1)])
    assert raw[1, 0] < MIN_SCORE and raw[1, 1] == 0 and raw[0, 0] > raw[0, 1] >= MIN_SCORE
    np.testing.assert_array_equal(linear_sum_assignment(-raw)[1], [1, 0])  # what an uncapped assignment does
    assigned, score = match_frame(np.stack([d0, d1]), ["", ""], boxes, (100, 400))
    np.testing.assert_array_equal(assigned, [0, -1])
    assert score[0] == pytest.approx(raw[0, 0]) and score[1] == 0


def test_a_detection_inside_two_boxes_goes_to_the_box_its_keypoints_fill():
    boxes = np.array([[0, 0, 100, 200], [30, 50, 90, 150]], float)  # a small person in front of a big one
    small = _detection(32, 52, 88, 148)  # inside both boxes: only the keypoint-box overlap tells them apart
    assigned, score = match_frame(small[None], ["", ""], boxes, (200, 200))
    assert assigned[0] == 1 and score[0] > 0.9 + 0.1 * 0.8
    big = _detection(5, 5, 95, 195)
    assigned, _ = match_frame(np.stack([small, big]), ["", ""], boxes, (200, 200))
    np.testing.assert_array_equal(assigned, [1, 0])


def test_coasting_rows_get_nothing_and_unmatched_detections_stay_on_record():
    tracklets = {"person_id": np.array([4, 4]), "frame_index": np.array([0, 1]), "observed": np.array([True, False]),
                 "image_size": np.array([100, 100]), "mask_rle": np.array(["", ""]),
                 "bbox_xyxy": np.array([[10, 10, 50, 90], [10, 10, 50, 90]], np.float32)}
    detections = np.stack([_detection(12, 12, 48, 88), _detection(12, 12, 48, 88)]).astype(np.float32)
    matched = associate(tracklets, np.array([0, 1]), detections)
    np.testing.assert_array_equal(matched["det_person_id"], [4, -1])
    assert matched["match_score"][0] == pytest.approx(0.9 + 0.1 * (36 * 76) / (40 * 80), abs=1e-5)
    assert matched["match_score"][1] == 0 and not matched["keypoints_body25"][1].any()


def test_keypoints_of_a_person_cut_off_by_the_frame_edge_are_kept_only_inside_the_image():
    from services.keypoints.association import inside_image_only

    keypoints = np.zeros((25, 3), np.float32)
    keypoints[:, 2] = 0.9
    keypoints[0, :2] = (-0.6, 10)  # left of the first pixel's edge
    keypoints[1, :2] = (-0.4, 10)  # still on the first pixel
    keypoints[2, :2] = (99.6, 10)  # right of the last pixel (width 100)
    keypoints[3, :2] = (50, 60.2)  # below the bottom (height 60)
    keypoints[4, :2] = (99.4, 59.4)
    kept = inside_image_only(keypoints, (60, 100))
    assert kept[[0, 2, 3]].tolist() == [[0, 0, 0]] * 3
    np.testing.assert_array_equal(kept[[1, 4]], keypoints[[1, 4]])
    assert keypoints[0, 2] == np.float32(0.9)  # the input is not changed
