"""The BlazePose-to-SMPL correspondence (the one place it is written) and the bone directions both sides share.

BlazePose's 33 world landmarks (mshot/pose2d/blazepose.py) and SMPL's points (the 24 skeleton joints plus smplx's
extra joints 24..34, mshot/body/joint_maps.py SMPLX45_NAMES) are matched as named points, each the mean of one or
two indices on either side:

| point | SMPL (smplx 45 index) | BlazePose landmark |
|---|---|---|
| hips_centre | mean of left_hip 1, right_hip 2 | mean of left_hip 23, right_hip 24 |
| shoulders_centre | mean of left_shoulder 16, right_shoulder 17 | mean of left_shoulder 11, right_shoulder 12 |
| left/right_hip | 1 / 2 | 23 / 24 |
| left/right_shoulder | 16 / 17 | 11 / 12 |
| left/right_elbow | 18 / 19 | 13 / 14 |
| left/right_wrist | 20 / 21 | 15 / 16 |
| left/right_knee | 4 / 5 | 25 / 26 |
| left/right_ankle | 7 / 8 | 27 / 28 |
| nose | 24 | 0 |

BlazePose's hip and shoulder landmarks sit nearer the skin than SMPL's joints, so positions differ by a few
centimetres; directions of the bones between points (BONES) agree far better, and are what the fit uses.
Left and right are the person's own. Feet are left out: on the rendered GT video BlazePose's ankle-to-foot-index
direction is off by a median 35 degrees (limbs and torso: 9-20 degrees).

BlazePose's frame looks along the viewing ray through the person's crop; `mshot.geometry.camera.ray_rotation`
carries its directions into the camera frame (on the GT video: median bone error 15.4 -> 13.7 degrees).
"""

from __future__ import annotations

import numpy as np
import torch

POINTS: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "hips_centre": ((1, 2), (23, 24)), "shoulders_centre": ((16, 17), (11, 12)),
    "left_hip": ((1,), (23,)), "right_hip": ((2,), (24,)),
    "left_shoulder": ((16,), (11,)), "right_shoulder": ((17,), (12,)),
    "left_elbow": ((18,), (13,)), "right_elbow": ((19,), (14,)),
    "left_wrist": ((20,), (15,)), "right_wrist": ((21,), (16,)),
    "left_knee": ((4,), (25,)), "right_knee": ((5,), (26,)),
    "left_ankle": ((7,), (27,)), "right_ankle": ((8,), (28,)),
    "nose": ((24,), (0,)),
}
POINT_NAMES = tuple(POINTS)

# Bones (from point, to point). The first three fix the torso's orientation (the torso stage uses only those).
BONES: tuple[tuple[str, str], ...] = (
    ("hips_centre", "shoulders_centre"), ("right_hip", "left_hip"), ("right_shoulder", "left_shoulder"),
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("shoulders_centre", "nose"),
)
TORSO_BONES = 3
SMPL_POINT_COUNT = 35  # smplx joints 0..34: what services/multishot/kinematics.SparseSmplJoints returns
BLAZEPOSE_COUNT = 33


def _averaging(side: int, count: int) -> np.ndarray:
    """(P, count) matrix whose row p averages point p's indices on `side` (0 SMPL, 1 BlazePose)."""
    matrix = np.zeros((len(POINTS), count))
    for p, indices in enumerate(POINTS.values()):
        matrix[p, list(indices[side])] = 1.0 / len(indices[side])
    return matrix


def _bone_matrix() -> np.ndarray:
    """(B, P): +1 at a bone's end point, -1 at its start."""
    matrix = np.zeros((len(BONES), len(POINTS)))
    for b, (start, end) in enumerate(BONES):
        matrix[b, POINT_NAMES.index(start)] -= 1.0
        matrix[b, POINT_NAMES.index(end)] += 1.0
    return matrix


SMPL_BONES = _bone_matrix() @ _averaging(0, SMPL_POINT_COUNT)  # (B, 35): bone vectors from SMPL points
BLAZEPOSE_BONES = _bone_matrix() @ _averaging(1, BLAZEPOSE_COUNT)  # (B, 33)
# A bone is as visible as the less visible of the landmarks it is built from.
BLAZEPOSE_BONE_LANDMARKS = tuple(tuple(np.flatnonzero(row).tolist()) for row in BLAZEPOSE_BONES)


def landmark_bone_directions(world_landmarks: np.ndarray, min_length_m: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """world_landmarks (M, 33, 4) x, y, z metres + visibility -> (directions (M, B, 3) unit vectors in the
    landmarks' frame, weights (M, B) in [0, 1]: the lowest visibility among the bone's landmarks; 0 for bones
    shorter than `min_length_m`, with any non-finite value, or in rows without landmarks)."""
    world = np.asarray(world_landmarks, dtype=np.float64)
    vectors = np.einsum("bl,mlc->mbc", BLAZEPOSE_BONES, np.nan_to_num(world[..., :3]))
    length = np.linalg.norm(vectors, axis=-1)
    visibility = np.nan_to_num(world[..., 3])
    weights = np.stack([visibility[:, list(ids)].min(1) for ids in BLAZEPOSE_BONE_LANDMARKS], axis=1)
    finite = np.isfinite(world).all(-1)
    finite_bones = np.stack([finite[:, list(ids)].all(1) for ids in BLAZEPOSE_BONE_LANDMARKS], axis=1)
    usable = (length > min_length_m) & finite_bones
    directions = np.where(usable[..., None], vectors / np.maximum(length, 1e-9)[..., None], 0.0)
    return directions, np.where(usable, np.clip(weights, 0.0, 1.0), 0.0)


def model_bone_directions(points: torch.Tensor) -> torch.Tensor:
    """points (M, 35, 3) metres (SparseSmplJoints output) -> (M, B, 3) unit bone directions, same frame."""
    matrix = torch.as_tensor(SMPL_BONES, dtype=points.dtype, device=points.device)
    vectors = torch.einsum("bp,mpc->mbc", matrix, points)
    return vectors / (vectors.norm(dim=-1, keepdim=True) + 1e-9)
