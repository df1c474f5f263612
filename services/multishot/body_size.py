"""Body size from the ground the people of a shot share: one scale factor per person, carried by its betas.

A body seen in one image can be any size: scaled by s about the camera centre (s times bigger, s times farther)
it projects to the same pixels. What separates sizes is the floor. People of one shot stand on one plane, so the
camera's height above each person's lower ankle (along the shot's up, scene.py) must be one number H per shot; at
the fit's current sizes person p measures a_p = H / s_p, where s_p is the factor its size is off by. Hence, per
person p and shot k with seen ankles (o_pk = median over the rows of log a, rows upright at the estimate):

    minimise  sum_pk (o_pk + log s_p - log H_k)^2 + SIZE_PRIOR_WEIGHT * sum_p (log s_p)^2

over log s_p (one per person, shared by all its shots: the multishot point) and log H_k, a linear least-squares
problem. A shot with one person fixes nothing about that person's size (its H absorbs it); several people of
different heights in one shot fix their ratios; the prior (the fit's current size, the body model's mean shape
unless the initial betas say otherwise) fixes the common scale. The scale becomes betas (betas_for_scale: the
least-squares betas whose rest joints are s times the current ones about their centroid); through the fit's
depth parametrisation (objective.py: depth follows body size) the person moves s times farther at the same pixels.
"""

from __future__ import annotations

import numpy as np
import torch

from services.multishot.scene import lower_ankle_height

LEFT_ANKLE, RIGHT_ANKLE = 14, 11  # BODY_25
SIZE_PRIOR_WEIGHT = 0.1  # per (log scale)^2, against 1 per (person, shot) observation
MIN_CAMERA_HEIGHT_M = 0.3  # camera height above the ankles below which a row says nothing (floor seen edge-on)
MIN_ROWS = 3  # rows of one person in one shot needed for an observation
SCALE_LIMITS = (0.6, 1.35)  # of the current size: 1.0-2.3 m for a 1.7 m mean body
BETAS_RIDGE = 1e-4  # m^2 per beta^2: keeps the betas of a pure rescale near their start


def camera_heights(points: torch.Tensor, up: torch.Tensor) -> np.ndarray:
    """points (M, >=24, 3) SMPL joints, camera frame, metres; up (M, 3) unit -> (M,) height of the camera above
    the row's lower ankle along up, metres (negative when the camera is below it)."""
    with torch.no_grad():
        return (-lower_ankle_height(points, up, torch.zeros(len(points), dtype=points.dtype))).cpu().numpy()


def relative_scales(camera_height: np.ndarray, person: np.ndarray, shot: np.ndarray,
                    usable: np.ndarray) -> np.ndarray:
    """camera_height (M,) metres (camera_heights), person (M,) index 0..P-1, shot (M,) index, usable (M,) bool ->
    (P,) factors by which each person's size is off (module doc), clipped to SCALE_LIMITS; 1 without evidence."""
    count = int(person.max()) + 1 if len(person) else 0
    use = usable & (camera_height > MIN_CAMERA_HEIGHT_M)
    pairs = sorted({(int(p), int(k)) for p, k in zip(person[use], shot[use], strict=True)})
    observations = [(p, k, float(np.median(np.log(camera_height[use & (person == p) & (shot == k)]))))
                    for p, k in pairs if (use & (person == p) & (shot == k)).sum() >= MIN_ROWS]
    if not observations:
        return np.ones(count)
    shots = sorted({k for _, k, _ in observations})
    column = {k: count + i for i, k in enumerate(shots)}
    design = np.zeros((len(observations) + count, count + len(shots)))
    target = np.zeros(len(observations) + count)
    for i, (p, k, value) in enumerate(observations):
        design[i, p], design[i, column[k]], target[i] = 1.0, -1.0, -value
    design[len(observations):, :count] = np.sqrt(SIZE_PRIOR_WEIGHT) * np.eye(count)
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    return np.clip(np.exp(solution[:count]), *SCALE_LIMITS)


def betas_for_scale(joints_model, betas: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """betas (P, S), scale (P,) -> (P, S) betas whose rest joints (joints_model.rest_joints) are, about their
    centroid, `scale` times those of `betas` (ridge least squares: SMPL's shape space holds no exact rescale)."""
    with torch.no_grad():
        directions = joints_model.joint_shapedirs.double()  # (24, 3, S)
        directions = (directions - directions.mean(0, keepdim=True)).reshape(-1, directions.shape[-1])
        rest = joints_model.rest_joints(betas).double()
        target = (scale.double()[:, None, None] - 1.0) * (rest - rest.mean(1, keepdim=True))  # wanted change
        normal = directions.T @ directions + BETAS_RIDGE * torch.eye(directions.shape[1], dtype=torch.float64)
        change = torch.linalg.solve(normal, directions.T @ target.reshape(len(betas), -1).T).T
        return (betas.double() + change).to(betas.dtype)


def rescale_people(problem, scene) -> dict:
    """Rescale every person of a objective.FitProblem by relative_scales over its rows that are fitted, upright at
    the scene.ShotScene estimate and see both ankles: new betas (betas_for_scale) become both the person's betas
    and its shape prior's mean. -> stats: each person's scale factor and how many rows gave evidence."""
    seen = problem.keypoints[:, [LEFT_ANKLE, RIGHT_ANKLE], 2].cpu().numpy().min(1) > 0
    usable = problem.valid & scene.upright & seen
    up = torch.as_tensor(scene.up[scene.shot], dtype=torch.float32, device=problem.device)
    with torch.no_grad():
        heights = camera_heights(problem.body()["points"], up)
    scales = relative_scales(heights, problem.person_index, scene.shot, usable)
    betas = problem.params["betas"].detach()
    problem.set_person_betas(betas_for_scale(problem.model, betas, torch.as_tensor(scales, dtype=betas.dtype,
                                                                                   device=betas.device)))
    return {"scale": np.round(scales, 3).tolist(), "rows": int(usable.sum())}
