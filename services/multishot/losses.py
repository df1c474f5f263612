"""The terms of the multishot objective, one function each (torch, differentiable, any float dtype).

Every function returns per-item costs (no reduction over the batch) so the optimiser can weight and sum them.
Units: pixels for 2D, metres for 3D, radians for axis-angle. The forms follow the SMPLify-X / multishot objective
(Geman-McClure robust reprojection with squared confidences, elbow/knee bend prior, L2 shape prior, temporal
differences) with the additions this stage makes: second differences within shots for the root, root-relative
joints in the body frame, and a depth anchor.
"""

from __future__ import annotations

import torch

# Elbow and knee bend prior: (index into the 69-d body pose, sign). Positive sign * angle = unnatural bend.
# body_pose holds joints 1..23, joint j at columns 3(j-1)..3(j-1)+2. Left elbow (joint 18) bends about y with
# a negative angle, right elbow (19) with a positive one; knees (4 left, 5 right) bend about x with positive angles.
BEND_PRIOR_COLUMNS = (52, 55, 9, 12)
BEND_PRIOR_SIGNS = (1.0, -1.0, -1.0, -1.0)


def geman_mcclure(residual: torch.Tensor, rho: float | torch.Tensor) -> torch.Tensor:
    """Geman-McClure penalty rho^2 r^2 / (r^2 + rho^2), elementwise: ~r^2 for |r| << rho, -> rho^2 for |r| >> rho.

    residual (...) pixels, rho pixels (scalar, or broadcastable to residual) -> (...) pixels^2.
    """
    squared = residual * residual
    rho_sq = rho * rho
    return rho_sq * squared / (squared + rho_sq)


def reprojection(projected_px: torch.Tensor, keypoints: torch.Tensor, data_weight: torch.Tensor,
                 rho: float | torch.Tensor, joint_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Robust 2D keypoint term per row.

    projected_px (B, J, 2) model joints projected to pixels; keypoints (B, J, 3) observed (x, y, confidence);
    data_weight (B,) per-row scale (the reference uses 1000 / image height); joint_weights (J,) or None (all 1).
    cost_b = data_weight_b^2 * sum_j (w_j c_bj)^2 * sum_{x,y} GM(kp_bj - proj_bj; rho). -> (B,) pixels^2.
    """
    weights = keypoints[..., 2] if joint_weights is None else keypoints[..., 2] * joint_weights
    per_joint = geman_mcclure(keypoints[..., :2] - projected_px, rho).sum(-1)
    return data_weight * data_weight * (weights * weights * per_joint).sum(-1)


def shape_prior(betas: torch.Tensor, mean: torch.Tensor | None = None) -> torch.Tensor:
    """L2 shape prior: betas (P, 10), mean (P, 10) or None (zero) -> (P,) sum of squared deviations."""
    deviation = betas if mean is None else betas - mean
    return (deviation * deviation).sum(-1)


def bend_prior(body_pose: torch.Tensor) -> torch.Tensor:
    """Elbow/knee bend prior: body_pose (B, 69) radians -> (B,) sum over the 4 joints of exp(sign * angle)^2.

    exp(s a)^2 is 1 at the rest pose, grows fast when a joint bends the wrong way and vanishes for natural bends.
    """
    columns = torch.as_tensor(BEND_PRIOR_COLUMNS, device=body_pose.device)
    signs = torch.as_tensor(BEND_PRIOR_SIGNS, dtype=body_pose.dtype, device=body_pose.device)
    return torch.exp(2.0 * body_pose[:, columns] * signs).sum(-1)


# Joint-angle limits: (body_pose column, lowest, highest) radians, per axis-angle coordinate. Knees (joints 4, 5)
# bend about x with positive angles only and hardly twist or splay; elbows (18 left, 19 right) bend about y, the
# left with negative, the right with positive angles, twist about x (the forearm) and hardly bend about z; each
# spine joint (3, 6, 9) bends and twists a little only,
# so the three together cannot fold the trunk (at most 3 x 0.6 rad forward, 3 x 0.3 rad back or sideways).
JOINT_LIMITS = (
    (9, 0.0, 2.6), (10, -0.3, 0.3), (11, -0.3, 0.3),  # left knee x, y, z
    (12, 0.0, 2.6), (13, -0.3, 0.3), (14, -0.3, 0.3),  # right knee
    (51, -1.5, 1.5), (52, -2.6, 0.0), (53, -0.5, 0.5),  # left elbow x (twist), y, z
    (54, -1.5, 1.5), (55, 0.0, 2.6), (56, -0.5, 0.5),  # right elbow
    *((column + axis, low, high) for column in (6, 15, 24)  # spine1, spine2, spine3
      for axis, (low, high) in enumerate(((-0.3, 0.6), (-0.4, 0.4), (-0.3, 0.3)))),
)


def joint_limits(body_pose: torch.Tensor) -> torch.Tensor:
    """Joint-angle limits: body_pose (B, 69) radians -> (B,) sum over JOINT_LIMITS of the squared excess beyond
    the range (rad^2): max(low - a, 0)^2 + max(a - high, 0)^2, zero inside it."""
    table = torch.as_tensor([row[1:] for row in JOINT_LIMITS], dtype=body_pose.dtype, device=body_pose.device)
    angles = body_pose[:, [row[0] for row in JOINT_LIMITS]]
    below = torch.clamp(table[:, 0] - angles, min=0.0)
    above = torch.clamp(angles - table[:, 1], min=0.0)
    return (below * below + above * above).sum(-1)


def first_difference(values: torch.Tensor, pairs: torch.Tensor) -> torch.Tensor:
    """Squared first difference over chosen row pairs.

    values (B, ...) any per-row quantity; pairs (E, 2) long row indices (earlier, later) -> (E,) sum of squares of
    values[later] - values[earlier] over the trailing dimensions.
    """
    diff = values[pairs[:, 1]] - values[pairs[:, 0]]
    return (diff * diff).flatten(1).sum(-1)


def second_difference(values: torch.Tensor, triples: torch.Tensor) -> torch.Tensor:
    """Squared second difference (discrete acceleration) over row triples.

    values (B, ...); triples (T, 3) long row indices of three consecutive frames -> (T,) sum of squares of
    values[a] - 2 values[b] + values[c] over the trailing dimensions.
    """
    acc = values[triples[:, 0]] - 2.0 * values[triples[:, 1]] + values[triples[:, 2]]
    return (acc * acc).flatten(1).sum(-1)


def root_relative_joints(joints: torch.Tensor, root: torch.Tensor, root_rotation: torch.Tensor) -> torch.Tensor:
    """Joints relative to the body's root (the SMPL pelvis), expressed in the body frame.

    joints (B, J, 3) metres in the camera frame, root (B, 3) metres (the pelvis joint: BODY_25's first joint is the
    Nose, which is no root), root_rotation (B, 3, 3) global orientation matrix
    -> (B, J, 3) metres, R^T (joint - root): invariant to the global orientation and translation, so its temporal
    smoothness can cross a shot cut where the camera, not the body, jumped.
    """
    relative = joints - root[:, None, :]
    return torch.einsum("bij,bki->bkj", root_rotation, relative)


def relative_depth_anchor(depth: torch.Tensor, anchor: torch.Tensor) -> torch.Tensor:
    """Relative deviation of the pelvis depth from its anchor: depth (B,) metres, anchor (B,) metres (> 0)
    -> (B,) ((depth - anchor) / anchor)^2, dimensionless."""
    relative = (depth - anchor) / anchor
    return relative * relative
