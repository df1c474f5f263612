"""The CPU tracker's starting depth (services/tracking/cpu/initial3d.py) against hand-computed values: from the
torso where neck and mid-hip are seen (a seated or cut-off person's box says nothing about their size), from the
box height (1.7 m) otherwise; and the generated body model's torso length."""

from __future__ import annotations

import numpy as np
import pytest

from services.tracking.cpu.initial3d import initial_depth, model_torso_m


def _rows_and_keypoints(neck, mid_hip, confidence):
    rows = {"bbox_xyxy": np.array([[100.0, 100, 300, 500]] * 2), "focal_px": np.array([1000.0, 1000.0])}
    keypoints = np.zeros((2, 25, 3))
    keypoints[:, 1] = (*neck, confidence)
    keypoints[:, 8] = (*mid_hip, confidence)
    return rows, keypoints


def test_depth_comes_from_the_seen_torso_not_the_box():
    rows, keypoints = _rows_and_keypoints((200, 150), (200, 350), 0.9)  # 200 px torso, 400 px box
    np.testing.assert_allclose(initial_depth(rows, keypoints, 0.5), 1000 * 0.5 / 200)  # 2.5 m, not 4.25 m


def test_without_a_confident_torso_depth_comes_from_the_box_height():
    rows, keypoints = _rows_and_keypoints((200, 150), (200, 350), 0.2)
    np.testing.assert_allclose(initial_depth(rows, keypoints, 0.5), 1000 * 1.7 / 400)
    rows, keypoints = _rows_and_keypoints((200, 150), (201, 152), 0.9)  # a 2 px "torso" is no torso
    np.testing.assert_allclose(initial_depth(rows, keypoints, 0.5), 1000 * 1.7 / 400)


def test_generated_model_torso_is_half_a_metre(smpl_model):
    assert model_torso_m(smpl_model) == pytest.approx(0.5, abs=0.01)
