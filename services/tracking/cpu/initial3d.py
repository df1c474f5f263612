"""Initial 3D bodies for the CPU tracker: SMPL's root (orientation and translation) fitted to each row's
torso keypoints, body pose at rest and mean shape - the multishot optimizer's first (torso) stage alone.
The starting depth comes from the torso (neck to mid-hip) in pixels against the body model's
(FacingBody.torso_m), where both are seen: it holds for seated people and people cut off by the frame edge,
whose box is not a standing body's height. A person whose torso is cut (hips below the frame edge) gets it from
the visible bones instead (shoulders, arms, legs: the bone giving the nearest depth, the least
foreshortened), and only a person without any seen bone from the box height (a 1.7 m body).
The starting translation puts the model's MidHip on the mid-hip pixel's ray at that depth (its Neck on the neck
pixel's ray where the hips are not seen): SMPL's model origin is neither its pelvis (about 0.22 m above it) nor
its MidHip, so the translation is not the hips' position."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mshot.body.joint_maps import body25_joints
from mshot.geometry.camera import SMPL_FACING_CAMERA, back_project
from mshot.pose2d.blazepose import unseen_outside_image
from mshot.progress import Progress, no_progress
from services.multishot.fit import FitOptions, fit_tracklets

BODY_HEIGHT_M = 1.7
NECK, MID_HIP = 1, 8  # BODY_25
SMPL_PELVIS, SMPL_NECK = 0, 12
TORSO_MIN_CONFIDENCE = 0.5
TORSO_MIN_PX = 8.0
FACING_CAMERA = SMPL_FACING_CAMERA.astype(np.float32)  # upright, facing the camera (docs/conventions.md)


# BODY_25 bones (ends) whose length in pixels gives a depth when the torso is not seen: shoulders, upper arms,
# forearms, thighs, shins. Not the hips' width: BlazePose's hip landmarks lie about twice as far apart as SMPL's
# hip joints (0.13 m generated), so it gave depths about half the torso's (seated_3people's centre singer: 1.5
# against 2.7 m) and, as the nearest bone, would win.
LIMB_BONES = ((2, 5), (2, 3), (5, 6), (3, 4), (6, 7), (9, 10), (12, 13), (10, 11), (13, 14))


def seen_length_px(keypoints: np.ndarray, a: int, b: int) -> np.ndarray:
    """(M, 25, 3) -> (M,) pixels between keypoints a and b where both have confidence >= TORSO_MIN_CONFIDENCE
    and lie at least TORSO_MIN_PX apart, NaN elsewhere."""
    length = np.linalg.norm(keypoints[:, a, :2] - keypoints[:, b, :2], axis=1)
    seen = ((keypoints[:, a, 2] >= TORSO_MIN_CONFIDENCE) & (keypoints[:, b, 2] >= TORSO_MIN_CONFIDENCE)
            & (length >= TORSO_MIN_PX))
    return np.where(seen, length, np.nan)


def initial_depth(rows: dict, keypoints: np.ndarray, rest: FacingBody) -> np.ndarray:
    """(M,) metres: focal * rest.torso_m / torso length in px where the neck and mid-hip are seen
    (seen_length_px); else the smallest focal * rest.bone_m / length px over the seen LIMB_BONES; else
    focal * BODY_HEIGHT_M / box height."""
    box = rows["bbox_xyxy"]
    focal = np.asarray(rows["focal_px"], dtype=np.float64)
    from_box = focal * BODY_HEIGHT_M / np.maximum(box[:, 3] - box[:, 1], 10.0)
    from_torso = focal * rest.torso_m / seen_length_px(keypoints, NECK, MID_HIP)
    from_bones = np.stack([focal * rest.bone_m[bone] / seen_length_px(keypoints, *bone) for bone in LIMB_BONES])
    any_bone = np.isfinite(from_bones).any(0)
    nearest_bone = np.nanmin(np.where(any_bone, from_bones, 0.0), axis=0)
    return np.where(np.isfinite(from_torso), from_torso, np.where(any_bone, nearest_bone, from_box))


def initial_root_guess(rows: dict, keypoints: np.ndarray, rest: FacingBody) -> tuple[np.ndarray, np.ndarray]:
    """(M, 3) axis-angle facing the camera upright, (M, 3) translation (metres, camera frame) that puts the
    model's MidHip at initial_depth on the ray of the mid-hip pixel; without a mid-hip (confidence <= 0.3) its
    Neck on the neck pixel's ray; without either, its MidHip on the ray of the box's lower middle."""
    box = rows["bbox_xyxy"]
    height_px = np.maximum(box[:, 3] - box[:, 1], 10.0)
    depth = initial_depth(rows, keypoints, rest)
    have_hip = keypoints[:, MID_HIP, 2] > 0.3
    have_neck = ~have_hip & (keypoints[:, NECK, 2] > 0.3)
    box_point = np.column_stack([(box[:, 0] + box[:, 2]) / 2, box[:, 1] + 0.55 * height_px])
    pixel = np.where(have_hip[:, None], keypoints[:, MID_HIP, :2],
                     np.where(have_neck[:, None], keypoints[:, NECK, :2], box_point))
    offset = np.where(have_neck[:, None], rest.neck_m, rest.mid_hip_m)  # that point of the model at rest
    transl = (back_project(pixel, depth, rows["focal_px"], rows["principal_px"]) - offset).astype(np.float32)
    orient = np.tile(FACING_CAMERA, (len(box), 1))
    return orient, transl


@dataclass(frozen=True)
class FacingBody:
    """The body model's mean shape at rest, turned to face the camera (FACING_CAMERA), zero translation."""

    # Metres from its pelvis joint to its neck joint (0.50 m generated). BlazePose's neck-to-mid-hip span is that
    # short: its Neck is the shoulders' middle and its hips sit high. The model's own MidHip->Neck (0.59 m) put the
    # rendered GT video's people 23 % too far (median root error of the initial bodies 22.8 % vs 8.0 %).
    torso_m: float
    mid_hip_m: np.ndarray  # (3,) metres, camera frame: where its BODY_25 MidHip is (not at the origin in SMPL)
    neck_m: np.ndarray  # (3,) metres, camera frame: where its BODY_25 Neck is
    bone_m: dict  # LIMB_BONES (a, b) -> metres between its BODY_25 keypoints a and b


def facing_body(body_model) -> FacingBody:
    """FacingBody of a mshot.body.model.BodyModel (BODY_25 points through mshot.body.joint_maps.body25_joints)."""
    import torch

    with torch.no_grad():
        joints = body_model(torch.tensor(FACING_CAMERA[None]), torch.zeros(1, 69), torch.zeros(1, 10),
                            torch.zeros(1, 3)).joints
    skeleton = joints[0].double().numpy()  # (45, 3) smplx joints
    points = body25_joints(skeleton)
    torso_m = float(np.linalg.norm(skeleton[SMPL_NECK] - skeleton[SMPL_PELVIS]))
    bone_m = {(a, b): float(np.linalg.norm(points[a] - points[b])) for a, b in LIMB_BONES}
    return FacingBody(torso_m=torso_m, mid_hip_m=points[MID_HIP], neck_m=points[NECK], bone_m=bone_m)


def fit_initial_bodies(rows: dict, keypoints: np.ndarray, body_model, progress: Progress = no_progress) -> dict:
    """rows: the canonical row table without its SMPL keys (with image_size (2,) [H, W]); keypoints (M, 25, 3) the
    detector's, whose joints outside the image are taken as unseen; returns global_orient, body_pose, betas,
    transl."""
    count = len(rows["person_id"])
    keypoints = unseen_outside_image(keypoints, *(int(v) for v in rows["image_size"]))
    orient, transl = initial_root_guess(rows, keypoints, facing_body(body_model))
    table = {**rows, "global_orient": orient, "body_pose": np.zeros((count, 69), np.float32),
             "betas": np.zeros((count, 10), np.float32), "transl": transl}
    # One L-BFGS block (10 iterations): on the rendered GT video's 440 rows a second block costs 8 s more (each
    # evaluation poses the body model for every row) and lowers the median reprojection error by 0.1 px only.
    options = FitOptions(torso_iters=10, body_iters=0, refine_iters=0)
    result = fit_tracklets(table, keypoints, body_model, options, progress)
    return {"global_orient": result.global_orient, "body_pose": result.body_pose,
            "betas": np.zeros((count, 10), np.float32), "transl": result.transl}
