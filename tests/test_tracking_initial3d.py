"""The CPU tracker's starting depth (services/tracking/cpu/initial3d.py) against hand-computed values: from the
torso where neck and mid-hip are seen (a seated or cut-off person's box says nothing about their size), from the
visible bones of a person whose hips are cut off by the frame edge, from the box height (1.7 m) otherwise; the
generated body model's torso (pelvis to neck joint), bones and MidHip when facing the camera; the initial
translation putting that MidHip on the mid-hip pixel's ray (the Neck on the neck pixel's without hips); and the
detector's joints beyond the frame edge taken as unseen."""

from __future__ import annotations

import numpy as np
import pytest

from mshot.body.joint_maps import body25_joints
from services.tracking.cpu.initial3d import LIMB_BONES, FacingBody, facing_body, initial_depth, initial_root_guess

# A hand-made body: torso 0.5 m, every limb bone 0.3 m but the shoulders (0.4 m apart).
HAND_BODY = FacingBody(torso_m=0.5, mid_hip_m=np.zeros(3), neck_m=np.zeros(3),
                       bone_m={bone: 0.4 if bone == (2, 5) else 0.3 for bone in LIMB_BONES})


def _rows_and_keypoints(neck, mid_hip, confidence):
    rows = {"bbox_xyxy": np.array([[100.0, 100, 300, 500]] * 2), "focal_px": np.array([1000.0, 1000.0])}
    keypoints = np.zeros((2, 25, 3))
    keypoints[:, 1] = (*neck, confidence)
    keypoints[:, 8] = (*mid_hip, confidence)
    return rows, keypoints


def test_depth_comes_from_the_seen_torso_not_the_box():
    rows, keypoints = _rows_and_keypoints((200, 150), (200, 350), 0.9)  # 200 px torso, 400 px box
    np.testing.assert_allclose(initial_depth(rows, keypoints, HAND_BODY), 1000 * 0.5 / 200)  # 2.5 m, not 4.25 m


def test_without_a_confident_torso_depth_comes_from_the_box_height():
    rows, keypoints = _rows_and_keypoints((200, 150), (200, 350), 0.2)
    np.testing.assert_allclose(initial_depth(rows, keypoints, HAND_BODY), 1000 * 1.7 / 400)
    rows, keypoints = _rows_and_keypoints((200, 150), (201, 152), 0.9)  # a 2 px "torso" is no torso
    np.testing.assert_allclose(initial_depth(rows, keypoints, HAND_BODY), 1000 * 1.7 / 400)


def test_with_the_hips_cut_off_depth_comes_from_the_least_foreshortened_visible_bone():
    rows, keypoints = _rows_and_keypoints((200, 150), (200, 350), 0.0)  # mid-hip below the frame edge: unseen
    keypoints[:, 2] = (160, 150, 0.9)  # right shoulder
    keypoints[:, 5] = (240, 150, 0.9)  # left shoulder: 80 px apart, 0.4 m -> 5.0 m
    keypoints[:, 3] = (160, 250, 0.9)  # right elbow: upper arm 100 px, 0.3 m -> 3.0 m (the nearest)
    keypoints[1, 3, 2] = 0.2  # row 1: the elbow not seen, the shoulders alone
    np.testing.assert_allclose(initial_depth(rows, keypoints, HAND_BODY), [1000 * 0.3 / 100, 1000 * 0.4 / 80])


def test_generated_model_bones_are_the_distances_of_its_body25_points_at_rest(smpl_model):
    rest = facing_body(smpl_model)
    assert set(rest.bone_m) == set(LIMB_BONES)
    assert 0.2 < rest.bone_m[(2, 5)] < 0.45 and 0.2 < rest.bone_m[(2, 3)] < 0.4  # shoulders, right upper arm
    assert rest.bone_m[(2, 3)] == pytest.approx(rest.bone_m[(5, 6)], abs=0.01)  # left and right alike
    assert rest.neck_m[1] < rest.mid_hip_m[1] - 0.3  # the neck well above the hips (camera y down)


def test_generated_model_torso_runs_from_the_pelvis_to_the_neck_joint(smpl_model):
    """Generator skeleton (relative to the pelvis): neck joint (0, 0.50, -0.01)."""
    assert facing_body(smpl_model).torso_m == pytest.approx(0.50, abs=0.01)


def test_facing_body_mid_hip_is_off_the_origin_like_smpl(smpl_model):
    """Rest pelvis (0.003, -0.22, 0.03) stays put under global_orient (about the pelvis); the hips' middle is
    0.09 m below it in the body, so 0.09 m lower in the image once turned upright (camera y down)."""
    np.testing.assert_allclose(facing_body(smpl_model).mid_hip_m, [0.003, -0.13, 0.035], atol=0.01)


def test_initial_translation_puts_the_model_mid_hip_on_the_mid_hip_ray(smpl_model):
    import torch

    rows, keypoints = _rows_and_keypoints((420, 140), (420, 340), 0.9)  # 200 px torso
    rows["principal_px"] = np.array([[320.0, 240.0]] * 2)
    rest = facing_body(smpl_model)
    orient, transl = initial_root_guess(rows, keypoints, rest)
    with torch.no_grad():
        joints = smpl_model(torch.tensor(orient), torch.zeros(2, 69), torch.zeros(2, 10), torch.tensor(transl)).joints
    depth = 1000 * rest.torso_m / 200  # about 2.95 m
    expected = [100 * depth / 1000, 100 * depth / 1000, depth]  # 100 px right of and below the principal point
    np.testing.assert_allclose(body25_joints(joints.numpy())[:, 8], [expected] * 2, atol=1e-4)


def test_without_hips_the_initial_translation_puts_the_model_neck_on_the_neck_ray(smpl_model):
    import torch

    rows, keypoints = _rows_and_keypoints((420, 140), (420, 340), 0.0)  # hips cut off
    keypoints[:, 1, 2] = 0.9
    keypoints[:, 2] = (380, 140, 0.9)
    keypoints[:, 5] = (460, 140, 0.9)  # shoulders 80 px apart
    rows["principal_px"] = np.array([[320.0, 240.0]] * 2)
    rest = facing_body(smpl_model)
    orient, transl = initial_root_guess(rows, keypoints, rest)
    with torch.no_grad():
        joints = smpl_model(torch.tensor(orient), torch.zeros(2, 69), torch.zeros(2, 10), torch.tensor(transl)).joints
    depth = 1000 * rest.bone_m[(2, 5)] / 80
    expected = [100 * depth / 1000, -100 * depth / 1000, depth]  # 100 px right of and above the principal point
    np.testing.assert_allclose(body25_joints(joints.numpy())[:, 1], [expected] * 2, atol=1e-4)


def test_joints_the_detector_places_beyond_the_frame_edge_are_unseen_for_the_initial_bodies(smpl_model):
    from services.tracking.cpu.initial3d import fit_initial_bodies

    rows, keypoints = _rows_and_keypoints((420, 140), (420, 340), 0.9)  # mid-hip guessed at y 340 ...
    rows.update({"principal_px": np.array([[320.0, 240.0]] * 2), "image_size": np.array([300, 640]),  # ... below
                 "person_id": np.array([0, 0]), "frame_index": np.array([0, 1]), "shot_id": np.array([0, 0]),
                 "focal_px": np.array([1000.0, 1000.0])})
    keypoints[:, 2], keypoints[:, 5] = (380, 140, 0.9), (460, 140, 0.9)
    keypoints[:, 3], keypoints[:, 6] = (375, 220, 0.9), (465, 220, 0.9)
    keypoints[:, 4], keypoints[:, 7] = (372, 290, 0.9), (468, 290, 0.9)
    keypoints[:, 0], keypoints[:, 15], keypoints[:, 16] = (420, 90, 0.9), (410, 82, 0.9), (430, 82, 0.9)
    keypoints[:, 9], keypoints[:, 12] = (400, 340, 0.9), (440, 340, 0.9)  # hips beyond the 300 px tall frame
    unseen = keypoints.copy()
    unseen[:, [8, 9, 12], 2] = 0.0
    guessed = fit_initial_bodies(rows, keypoints, smpl_model)
    expected = fit_initial_bodies(rows, unseen, smpl_model)
    np.testing.assert_allclose(guessed["transl"], expected["transl"], atol=1e-6)
