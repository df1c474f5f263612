"""Per-shot scene priors: the camera's up direction and the ground (ankle) plane estimated from the people in a
shot, and the upright and ground-contact terms that use them.

Estimate (once, between the body and refine stages, from the current fit, camera frame, metres):
- up of shot s: the mean torso axis (pelvis -> middle of the shoulders) of its fitted rows, recomputed over the rows
  within UPRIGHT_DEG of that mean (the standing and walking people; someone bending over does not tilt the scene);
  (0, -1, 0), the image's up, for a shot without fitted rows;
- ground of shot s: the median over its fitted rows of the lower ankle's height along up (people stand or walk on
  one floor; at any time one foot is down). Heights are measured at the ankle joints: the plane is the ankle plane.
Terms (per row, weights in fit.FitOptions):
- upright: 1 - cos(torso axis, up) for rows that were upright at the estimate;
- ground contact: Geman-McClure of the lower ankle's height above the plane (scale GROUND_RHO_M) for rows whose feet
  were within NEAR_GROUND_M of it: ties every person of a shot to one floor, hence depth (and, with the 2D height,
  body size) to the others'.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from services.multishot.losses import geman_mcclure

PELVIS, LEFT_ANKLE, RIGHT_ANKLE, LEFT_SHOULDER, RIGHT_SHOULDER = 0, 7, 8, 16, 17  # SMPL joints
UPRIGHT_DEG = 30.0
NEAR_GROUND_M = 0.25
GROUND_RHO_M = 0.1


def torso_axes(points: torch.Tensor) -> torch.Tensor:
    """points (M, >=24, 3) SMPL joints -> (M, 3) unit vectors from the pelvis to the middle of the shoulders."""
    axis = (points[:, LEFT_SHOULDER] + points[:, RIGHT_SHOULDER]) / 2 - points[:, PELVIS]
    return axis / (axis.norm(dim=-1, keepdim=True) + 1e-9)


def lower_ankle(points: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """points (M, >=24, 3) SMPL joints, up (M, 3) unit -> (M, 3) each row's ankle that is lower along up, metres."""
    ankles = points[:, [LEFT_ANKLE, RIGHT_ANKLE]]
    lower = (ankles * up[:, None]).sum(-1).argmin(1)
    return ankles[torch.arange(len(points), device=points.device), lower]


def lower_ankle_height(points: torch.Tensor, up: torch.Tensor, ground: torch.Tensor) -> torch.Tensor:
    """points (M, >=24, 3), up (M, 3) unit, ground (M,) metres along up -> (M,) height of the lower ankle, metres
    (the objective's ground term: the min of the two heights, cheaper than gathering lower_ankle)."""
    heights = (points[:, [LEFT_ANKLE, RIGHT_ANKLE]] * up[:, None]).sum(-1)
    return heights.min(1).values - ground


@dataclass(frozen=True)
class ShotScene:
    """up (S, 3) unit camera-frame up per shot; ground (S,) ankle-plane height along up, metres; per row (M,):
    shot (index into S), upright (rows the upright prior applies to), near_ground (rows the contact term applies to)."""

    up: np.ndarray
    ground: np.ndarray
    shot: np.ndarray
    upright: np.ndarray
    near_ground: np.ndarray


def estimate_scene(points: np.ndarray, shot_id: np.ndarray, fitted: np.ndarray) -> ShotScene:
    """points (M, >=24, 3) metres camera frame, shot_id (M,), fitted (M,) bool rows to estimate from -> ShotScene."""
    shots, shot = np.unique(np.asarray(shot_id), return_inverse=True)
    joints = torch.as_tensor(np.asarray(points, dtype=np.float64))
    axes = torso_axes(joints).numpy()
    cosine_limit = np.cos(np.radians(UPRIGHT_DEG))
    up = np.tile([0.0, -1.0, 0.0], (len(shots), 1))
    for s in range(len(shots)):
        mine = fitted & (shot == s)
        if not mine.any():
            continue
        mean = _unit(axes[mine].sum(0))
        close = mine & (axes @ mean >= cosine_limit)
        up[s] = _unit(axes[close].sum(0)) if close.any() else mean
    upright = fitted & ((axes * up[shot]).sum(-1) >= cosine_limit)
    ground = np.zeros(len(shots))
    heights = lower_ankle_height(joints, torch.as_tensor(up[shot]), torch.zeros(len(shot), dtype=torch.float64))
    heights = heights.numpy()
    for s in range(len(shots)):
        mine = fitted & (shot == s)
        if mine.any():
            ground[s] = np.median(heights[mine])
    near = fitted & (np.abs(heights - ground[shot]) <= NEAR_GROUND_M)
    return ShotScene(up, ground, shot, upright, near)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)


def upright_cost(points: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
    """points (M, >=24, 3), up (M, 3) unit -> (M,) 1 - cos(angle between the torso axis and up)."""
    return 1.0 - (torso_axes(points) * up).sum(-1)


def ground_contact_cost(points: torch.Tensor, up: torch.Tensor, ground: torch.Tensor) -> torch.Tensor:
    """points (M, >=24, 3), up (M, 3), ground (M,) -> (M,) GM(lower ankle height; GROUND_RHO_M), metres^2."""
    return geman_mcclure(lower_ankle_height(points, up, ground), GROUND_RHO_M)
