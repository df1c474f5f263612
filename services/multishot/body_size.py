"""Body size from the ground the people of a shot share: one scale factor per person, carried by its betas.

A body seen in one image can be any size: scaled by s about the camera centre (s times bigger, s times farther)
it projects to the same pixels. What separates sizes is the floor. People of one shot stand on one plane, so the
camera's height above each person's lower ankle, along the shot's up, must be one number H per shot; at the fit's
current sizes person p measures a_p = H / s_p, where s_p is the factor its size is off by. Per person p and shot k
(o_pk = median of log a over the rows that are upright at the scene estimate and see both ankles and the neck):

    minimise  sum_k r_k^T C_k^-1 r_k + sum_p (log s_p / SIZE_PRIOR_SIGMA)^2,   r_pk = o_pk + log s_p - log H_k

over log s_p (one per person, shared by all its shots: the multishot point) and log H_k, a linear (generalised)
least-squares problem. C_k, the covariance of shot k's observations, holds what moves them:
- per observation, the fitted body's depth against its size (SIZE_ERROR, log: pose and pitch errors place a body
  of the right size a few per cent too near or far, which a high camera does not shrink) and the fitted ankle's
  height (ANKLE_ERROR_M / a);
- shared by the shot, the error of its up (UP_ERROR_RAD per axis): turning up by a small rotation w changes a
  person's camera height by -w . (up x A) (A: its lower ankle, camera frame), so the shot's people move together,
  each by its own lever g_pk = (up x A) / a: C_k = diag(SIZE_ERROR^2 + ANKLE_ERROR_M^2 / a^2) + UP_ERROR_RAD^2 G G^T.
  log H_k absorbs what a shot's people share, so only the differences of their gradients weigh on their ratios:
  people at one place seen alike share a tilt's effect; a near and a far person of a low camera do not. (Taking
  the tilt as independent per person, as this module once did, let a high camera's observations count up to 80
  times more than the others and left gt_video2's child 11 % too large against the man; 5 % now.)
A shot with one person fixes nothing about that person's size (its H absorbs it); several people of different
heights in one shot fix their ratios; the prior (the size after the fit's body stage) fixes the common scale,
which the video does not give (nor, without a known focal length or camera height, could it).

The up is the shots' vertical vanishing direction from the people's ankle-to-neck lines in the image (image_up):
the fitted torso axes (scene.py) follow BlazePose's sense of tilt and miss a camera's pitch by up to half of it
(17 of 34 degrees on tests/data/gt_video2's high shot), which at 10 m puts the floor metres off.
The scale becomes betas (betas_for_scale: the least-squares betas whose rest joints are s times the current ones
about their centroid); through the fit's depth parametrisation (objective.py: depth follows body size) the person
moves s times farther at the same pixels.
"""

from __future__ import annotations

import numpy as np
import torch

from services.multishot.scene import lower_ankle

NECK, LEFT_ANKLE, RIGHT_ANKLE = 1, 14, 11  # BODY_25
UP_PRIOR_WEIGHT = 1e-5  # pull of the image-line up to the torso-axis up (scene.py), against sum |n|^2 (module doc)
SIZE_PRIOR_SIGMA = 0.25  # log scale: the spread of body sizes about the size after the body stage
UP_ERROR_RAD = 0.1  # tilt error of a shot's image_up, per axis: its pitch is off by 6.4 degrees rms on the 8 GT shots
# (roll 1.5); taken for both axes (roll moves a camera height by the lateral offset, pitch by the depth)
ANKLE_ERROR_M = 0.05  # typical error of a fitted ankle's height
SIZE_ERROR = 0.05  # log: a fitted body's depth against its size, per person and shot (module doc)
MIN_CAMERA_HEIGHT_M = 0.3  # camera height above the ankles below which a row says nothing (floor seen edge-on)
MIN_ROWS = 3  # rows of one person in one shot needed for an observation
SCALE_LIMITS = (0.6, 1.35)  # of the current size: 1.0-2.3 m for a 1.7 m mean body
BETAS_RIDGE = 1e-4  # m^2 per beta^2: keeps the betas of a pure rescale near their start


def image_up(keypoints: np.ndarray, focal: np.ndarray, principal: np.ndarray, shot: np.ndarray,
             usable: np.ndarray, prior_up: np.ndarray) -> np.ndarray:
    """Each shot's up from the image: a standing person's line from the middle of its ankles to its neck is the
    image of a vertical line, so the up direction U lies in the plane through the camera centre and that line,
    whose normal is n = ray(ankles) x ray(neck) (|n| ~ the line's length / focal: long lines count more).
    U = argmin sum_i (U . n_i)^2 + UP_PRIOR_WEIGHT |U - prior|^2 over unit U: the smallest eigenvector of
    sum n n^T + UP_PRIOR_WEIGHT (I - prior prior^T), sign towards prior. Without people at several image
    positions the lines share a plane and the prior decides.
    keypoints (M, 25, 3) px, focal (M,) px, principal (M, 2) px, shot (M,) index 0..S-1, usable (M,) bool rows
    whose ankles and neck are seen and who stand upright, prior_up (S, 3) unit -> (S, 3) unit, camera frame."""
    def ray(points):
        return np.column_stack([(points - principal) / focal[:, None], np.ones(len(points))])
    ankles = (keypoints[:, LEFT_ANKLE, :2] + keypoints[:, RIGHT_ANKLE, :2]) / 2
    normals = np.cross(ray(ankles), ray(keypoints[:, NECK, :2]))
    up = np.array(prior_up, dtype=np.float64)
    for k in range(len(up)):
        mine = normals[usable & (shot == k)]
        scatter = mine.T @ mine + UP_PRIOR_WEIGHT * (np.eye(3) - np.outer(up[k], up[k]))
        vector = np.linalg.eigh(scatter)[1][:, 0]
        up[k] = vector if vector @ up[k] >= 0 else -vector
    return up


def lower_ankles(points: torch.Tensor, up: torch.Tensor) -> np.ndarray:
    """points (M, >=24, 3) SMPL joints, camera frame, metres; up (M, 3) unit -> (M, 3) the row's lower ankle along
    up (the camera stands -ankle . up above it), metres, camera frame."""
    with torch.no_grad():
        return lower_ankle(points, up).cpu().numpy().astype(np.float64)


def shot_covariance(height: np.ndarray, lever: np.ndarray) -> np.ndarray:
    """One shot's observations: height (n,) camera heights a_pk, metres; lever (n, 3) up x A_pk, metres -> (n, n)
    covariance of their log a_pk (module doc)."""
    gradient = lever / height[:, None]
    return np.diag(SIZE_ERROR**2 + ANKLE_ERROR_M**2 / height**2) + UP_ERROR_RAD**2 * gradient @ gradient.T


def relative_scales(ankle: np.ndarray, up: np.ndarray, person: np.ndarray, shot: np.ndarray,
                    usable: np.ndarray) -> np.ndarray:
    """ankle (M, 3) each row's lower ankle (lower_ankles), camera frame, metres; up (M, 3) unit, its shot's up;
    person (M,) index 0..P-1, shot (M,) index, usable (M,) bool -> (P,) factors by which each person's size is off
    (module doc), clipped to SCALE_LIMITS; 1 without evidence."""
    count = int(person.max()) + 1 if len(person) else 0
    height, lever = -(ankle * up).sum(-1), np.cross(up, ankle)
    use = usable & (height > MIN_CAMERA_HEIGHT_M)
    observations = []  # (person, shot, median camera height, median lever)
    for p, k in sorted({(int(p), int(k)) for p, k in zip(person[use], shot[use], strict=True)}):
        mine = use & (person == p) & (shot == k)
        if mine.sum() >= MIN_ROWS:
            observations.append((p, k, np.median(height[mine]), np.median(lever[mine], axis=0)))
    if not observations:
        return np.ones(count)
    shots = sorted({k for _, k, _, _ in observations})
    blocks, targets = [], []
    for column, k in enumerate(shots):
        mine = [o for o in observations if o[1] == k]
        design = np.zeros((len(mine), count + len(shots)))
        for i, (p, _, _, _) in enumerate(mine):
            design[i, p], design[i, count + column] = 1.0, -1.0
        heights = np.array([o[2] for o in mine])
        whiten = np.linalg.inv(np.linalg.cholesky(shot_covariance(heights, np.array([o[3] for o in mine]))))
        blocks.append(whiten @ design)
        targets.append(whiten @ -np.log(heights))
    prior = np.zeros((count, count + len(shots)))
    prior[:, :count] = np.eye(count) / SIZE_PRIOR_SIGMA
    solution = np.linalg.lstsq(np.vstack([*blocks, prior]), np.concatenate([*targets, np.zeros(count)]),
                               rcond=None)[0]
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
    """Rescale every person of an objective.FitProblem by relative_scales over its rows that are fitted, upright
    at the scene.ShotScene estimate and see both ankles and the neck (up from image_up): its betas and its shape
    prior's mean are both rescaled (betas_for_scale). -> stats: each person's scale factor, how many rows gave
    evidence, each shot's up."""
    keypoints = problem.keypoints.cpu().numpy()
    seen = keypoints[:, [LEFT_ANKLE, RIGHT_ANKLE, NECK], 2].min(1) > 0
    usable = problem.valid & scene.upright & seen
    shot_up = image_up(keypoints, problem.focal.cpu().numpy(), problem.principal.cpu().numpy(), scene.shot,
                       usable, scene.up)
    up = torch.as_tensor(shot_up[scene.shot], dtype=torch.float32, device=problem.device)
    with torch.no_grad():
        ankles = lower_ankles(problem.body()["points"], up)
    scales = relative_scales(ankles, shot_up[scene.shot], problem.person_index, scene.shot, usable)
    betas = problem.params["betas"].detach()
    factor = torch.as_tensor(scales, dtype=betas.dtype, device=betas.device)
    problem.set_person_betas(betas_for_scale(problem.model, betas, factor),
                             betas_for_scale(problem.model, problem.betas_mean, factor))
    return {"scale": np.round(scales, 3).tolist(), "rows": int(usable.sum()), "up": shot_up.round(3).tolist()}
