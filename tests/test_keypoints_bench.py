"""The keypoints benchmark's metrics (bench/keypoints.py) against hand-computed values."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench.keypoints import association_figures, median_error_by_group, pair_rows, pck


def _person(x, height=100.0):
    """GT person: 25 joints spread over `height` px vertically at column x, all visible."""
    gt = np.ones((25, 3))
    gt[:, 0], gt[:, 1] = x, np.linspace(0, height, 25)
    return gt


def test_pck_counts_missing_and_far_joints_as_misses_over_visible_joints_only():
    gt = _person(50)[None]
    gt[0, 24, 2] = 0  # not visible: ignored whatever the prediction
    pred = gt.copy()
    pred[0, :, 2] = 0.9
    pred[0, 0, 0] += 9.9  # within 0.1 x 100 px
    pred[0, 1, 0] += 10.1  # outside
    pred[0, 2, 2] = 0.0  # not predicted
    pred[0, 24, 0] += 500
    assert pck(pred, gt) == pytest.approx(22 / 24)


def test_median_error_per_group_uses_visible_predicted_joints():
    gt = _person(50)[None]
    pred = gt.copy()
    pred[0, [0, 15, 16], 0] += [2.0, 4.0, 6.0]  # head errors 2, 4, 6, and two zeros (17, 18)
    pred[0, 17, 2] = 0  # not predicted: left out -> head errors 2, 4, 6, 0
    groups = median_error_by_group(pred, gt)
    assert groups["head"] == pytest.approx(3.0)
    assert groups["legs"] == 0.0


def test_association_accuracy_judges_rows_by_the_closest_gt_person():
    a, b = _person(50), _person(150)
    gt = SimpleNamespace(frame_index=np.array([0, 0, 1]), keypoints_body25=np.stack([a, b, a]),
                         bbox_xyxy=np.array([[40, 0, 60, 100], [140, 0, 160, 100], [40, 0, 60, 100]], float))
    tracklets = {"frame_index": np.array([0, 0, 1]),
                 "bbox_xyxy": np.array([[141, 0, 161, 100], [39, 0, 59, 100], [0, 300, 10, 310]], float)}
    paired = pair_rows(tracklets, gt)
    np.testing.assert_array_equal(paired, [1, 0, -1])  # the third row overlaps nobody
    keypoints = {"keypoints_body25": np.stack([b + [3, 0, 0], b, a]), "match_score": np.array([0.9, 0.8, 0.9])}
    figures = association_figures(keypoints, paired, gt)
    # row 0 (GT person b) got b's keypoints: right; row 1 (GT person a) got b's too: wrong
    assert figures["association_accuracy"] == 0.5 and figures["rows_judged"] == 2
    keypoints["match_score"][1] = 0
    assert association_figures(keypoints, paired, gt)["rows_without_detection"] == 0.5
