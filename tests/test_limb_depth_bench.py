"""bench/limb_depth.py: the depth mirror and the wrong-way count against hand-computed values."""

from __future__ import annotations

import numpy as np

from bench.limb_depth import LIMB_BONES, limb_figures, mirrored_in_depth


def test_the_depth_mirror_negates_the_component_along_the_viewing_ray():
    assert np.allclose(mirrored_in_depth(np.array([0.6, 0.0, 0.8]), np.array([0.0, 0.0, 1.0])), [0.6, 0.0, -0.8])
    # oblique ray (0.6, 0, 0.8): (0, 0, 1) has 0.8 along it -> (0, 0, 1) - 1.6 (0.6, 0, 0.8)
    assert np.allclose(mirrored_in_depth(np.array([0.0, 0.0, 1.0]), np.array([0.6, 0.0, 0.8])), [-0.96, 0.0, -0.28])


def test_a_bone_pointing_the_wrong_way_in_depth_is_counted_and_one_in_the_image_plane_is_not():
    truth = np.tile([0.0, -0.6, 0.8], (4, 1))  # down and away from the camera
    directions = np.array([[0.0, -0.6, 0.8], [0.0, -0.6, 0.8], [0.0, -0.6, -0.8], [0.0, -1.0, 0.0]])
    rays = np.tile([0.0, 0.0, 1.0], (4, 1))
    figures = limb_figures(directions, truth, rays, np.array([True, True, True, True]))
    mirror_angle = np.degrees(np.arccos(0.36 - 0.64))  # row 2: 106.26 degrees off, 0 once mirrored
    plane_angle = np.degrees(np.arccos(0.6))  # row 3: 53.13 degrees off, the same mirrored
    assert figures["rows"] == 4 and figures["wrong_way"] == 1
    assert np.isclose(figures["angle_deg"], (mirror_angle + plane_angle) / 4)
    assert np.isclose(figures["sign_ceiling_deg"], plane_angle / 4)
    assert limb_figures(directions, truth, rays, np.array([False, False, True, False]))["wrong_way"] == 1


def test_the_limb_bones_are_the_arms_and_legs_with_their_body25_joints():
    # (blazepose_smpl.BONES index, BODY_25 start, end): upper arms, forearms, thighs, shins, left before right
    assert LIMB_BONES == ((3, 5, 6), (4, 6, 7), (5, 2, 3), (6, 3, 4), (7, 12, 13), (8, 13, 14), (9, 9, 10),
                          (10, 10, 11))
