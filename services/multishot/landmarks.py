"""BlazePose world landmarks as the fit's 3D observation: camera-frame bone directions per row, and the initial
body pose and global orientation fitted to them (instead of the CPU tracker's rest pose).

The landmarks are metric 3D points about the hips in BlazePose's own frame, which looks along the viewing ray
through the person (mshot/body/blazepose_smpl.py has the correspondence with SMPL); each shot's are then turned to
the pitch its image shows (pitch_from_image). Only bone directions are used:
they carry what 2D keypoints lack (which way a limb points in depth) and none of BlazePose's guess of body size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mshot.body.blazepose_smpl import TORSO_BONES, landmark_bone_directions, model_bone_directions
from mshot.errors import InvalidInput
from mshot.geometry.camera import ray_rotation
from mshot.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from services.multishot import losses
from services.multishot.body_size import LEFT_ANKLE, NECK, RIGHT_ANKLE, image_up
from services.multishot.scene import UPRIGHT_DEG

MID_HIP = 8  # BODY_25
# A row's landmarks are usable when its torso bones (spine, hip line, shoulder line) are this visible.
MIN_TORSO_WEIGHT = 0.3
# The initial pose fit weighs every usable bone at least this much. BlazePose's visibility says whether a landmark
# is seen, not how good its position is: for an occluded limb (legs crossed under a sari) the position is still the
# network's guess of the pose, a better start than the rest pose the pose term would otherwise leave it at (on
# seated_1person the ankles' visibility is ~0.1, and a shin left at rest hung straight down). The fit's direction
# term keeps the visibilities, so the keypoints decide wherever they are seen.
INIT_MIN_BONE_WEIGHT = 0.5
# A shot's image up turns its landmarks only when its vertical lines come from this many people: one person's lines
# barely move across the image, and their vanishing point is then set by how the person leans (a lone seated
# singer's gave a 63 degree turn on ../shared/real_clips/seated_1person.mp4).
MIN_PEOPLE_FOR_PITCH = 2


@dataclass(frozen=True)
class LandmarkTargets:
    """directions (M, B, 3) unit bone vectors in the camera frame (mshot.body.blazepose_smpl.BONES order);
    weights (M, B) in [0, 1], zero where a bone is unusable; usable (M,) rows whose torso is seen."""

    directions: np.ndarray
    weights: np.ndarray
    usable: np.ndarray


def landmark_targets(world_landmarks: np.ndarray, rows: dict, keypoints_body25: np.ndarray) -> LandmarkTargets:
    """world_landmarks (M, 33, 4) (keypoints.npz `world_landmarks`), the row table (focal_px, principal_px) and
    the keypoints (M, 25, 3) px, whose MidHip gives the ray the landmarks were seen along (the principal point
    where the MidHip is missing). InvalidInput for a wrong shape; NaN landmarks count as unseen."""
    world = np.asarray(world_landmarks, dtype=np.float64)
    count = len(np.asarray(rows["person_id"]))
    if world.shape != (count, 33, 4):
        raise InvalidInput(f"keypoints: key 'world_landmarks' has shape {world.shape}, expected (M, 33, 4) with "
                           f"M = {count}")
    directions, weights = landmark_bone_directions(world)
    principal = np.asarray(rows["principal_px"], dtype=np.float64)
    hip = np.asarray(keypoints_body25, dtype=np.float64)[:, MID_HIP]
    centre = np.where(hip[:, 2:3] > 0, hip[:, :2], principal)
    rotation = ray_rotation(centre, np.asarray(rows["focal_px"], dtype=np.float64), principal)
    directions = np.einsum("mij,mbj->mbi", rotation, directions)
    usable = (weights[:, :TORSO_BONES] >= MIN_TORSO_WEIGHT).all(1)
    weights = np.where(usable[:, None], weights, 0.0)
    return LandmarkTargets(directions.astype(np.float32), weights.astype(np.float32), usable)


def rotation_onto(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """(..., 3) unit vectors -> (..., 3, 3) the smallest rotation R with R @ source = target (identity where they
    agree; opposite vectors are not expected here)."""
    axis = np.cross(source, target)
    sine = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(sine, (source * target).sum(-1, keepdims=True))
    return axis_angle_to_matrix(axis / np.maximum(sine, 1e-12) * angle)


def pitch_from_image(targets: LandmarkTargets, rows: dict, keypoints_body25: np.ndarray,
                     min_confidence: float) -> tuple[LandmarkTargets, np.ndarray]:
    """Each shot's landmark directions turned so that their up agrees with the image's.

    BlazePose's world landmarks are about as upright in its own (ray-aligned) frame seen from above as from eye
    level: on tests/data/gt_video2's high shot (camera pitched ~30 degrees down) the landmarks' torso axis leans
    12 degrees, the fit's 17-19. A body pitched too little is foreshortened too little: it is placed too far
    (depth +22 % there at the true focal) and scores its orientation off. The image knows the pitch: standing
    people's ankle-to-neck lines meet at the vertical vanishing point (body_size.image_up). Per shot, the landmark
    up is the mean spine (bone 0) of its usable rows; the rows whose spine is within scene.UPRIGHT_DEG of it and
    whose neck and ankles are seen (confidence >= min_confidence) give image_up, with the landmark up as its
    prior; every direction of the shot is turned by rotation_onto(landmark up, image up). A shot whose lines come
    from fewer than MIN_PEOPLE_FOR_PITCH people keeps the landmarks' pitch. rows: person_id, shot_id, focal_px,
    principal_px; keypoints (M, 25, 3) px.
    -> (the turned targets, (S, 3) each shot's angle of turn as axis-angle, radians, shots in sorted order)."""
    shots, shot = np.unique(np.asarray(rows["shot_id"]), return_inverse=True)
    spine = targets.directions[:, 0].astype(np.float64)
    landmark_up = np.tile([0.0, -1.0, 0.0], (len(shots), 1))
    upright = np.zeros(len(shot), bool)
    for k in range(len(shots)):
        mine = targets.usable & (shot == k)
        if mine.any():
            landmark_up[k] = spine[mine].sum(0) / max(float(np.linalg.norm(spine[mine].sum(0))), 1e-9)
            upright |= mine & (spine @ landmark_up[k] >= np.cos(np.radians(UPRIGHT_DEG)))
    keypoints = np.asarray(keypoints_body25, dtype=np.float64)
    seen = keypoints[:, [NECK, LEFT_ANKLE, RIGHT_ANKLE], 2].min(1) >= min_confidence
    lines = upright & seen
    up = image_up(keypoints, np.asarray(rows["focal_px"], dtype=np.float64),
                  np.asarray(rows["principal_px"], dtype=np.float64), shot, lines, landmark_up)
    person = np.asarray(rows["person_id"])
    for k in range(len(shots)):
        if len(np.unique(person[lines & (shot == k)])) < MIN_PEOPLE_FOR_PITCH:
            up[k] = landmark_up[k]
    rotation = rotation_onto(landmark_up, up)
    directions = np.einsum("mij,mbj->mbi", rotation[shot], targets.directions.astype(np.float64))
    turned = LandmarkTargets(directions.astype(np.float32), targets.weights, targets.usable)
    return turned, matrix_to_axis_angle(rotation)


def smoothed_in_shot(targets: LandmarkTargets, pairs_in_shot: np.ndarray) -> LandmarkTargets:
    """Directions averaged over each row and its neighbours in time within its shot (weights 1, 2, 1 times each
    bone's weight; the camera frame changes at a cut), re-normalised; pairs_in_shot (E, 2) row indices of
    consecutive frames (rows.temporal_links). Weights and usable rows are unchanged. BlazePose sees each frame
    alone: its per-frame noise is what the average removes (at 12 fps a 1 s limb swing loses 7 % of its amplitude)."""
    weighted = targets.directions * targets.weights[..., None]
    total = 2.0 * weighted
    pairs = np.asarray(pairs_in_shot, dtype=np.int64).reshape(-1, 2)
    np.add.at(total, pairs[:, 0], weighted[pairs[:, 1]])
    np.add.at(total, pairs[:, 1], weighted[pairs[:, 0]])
    length = np.linalg.norm(total, axis=-1, keepdims=True)
    directions = np.where(length > 1e-9, total / np.maximum(length, 1e-9), targets.directions)
    return LandmarkTargets(directions.astype(np.float32), targets.weights, targets.usable)


def torso_orientation(directions: np.ndarray) -> np.ndarray:
    """(M, B, 3) camera-frame bone directions -> (M, 3) axis-angle global orientation whose SMPL body frame
    (x to the body's left, y up, z forward) has its y along the spine and x along the hip and shoulder lines."""
    spine = directions[:, 0]
    left = directions[:, 1] + directions[:, 2]  # right hip -> left hip, right shoulder -> left shoulder
    left = left - (left * spine).sum(-1, keepdims=True) * spine
    left /= np.maximum(np.linalg.norm(left, axis=-1, keepdims=True), 1e-9)
    forward = np.cross(left, spine)
    return matrix_to_axis_angle(np.stack([left, spine, forward], axis=-1))


def direction_residual(points: torch.Tensor, directions: torch.Tensor, weights: torch.Tensor,
                       rho: float) -> torch.Tensor:
    """Robust bone-direction term per row: points (M, 35, 3) SMPL points (any frame the directions share),
    directions (M, K, 3) unit, weights (M, K) for the first K bones -> (M,) sum_b w_b^2 GM(|d_model_b - d_b|; rho)
    (unit vectors: the chord |d - d'| = 2 sin(angle / 2))."""
    model = model_bone_directions(points)[:, : directions.shape[1]]
    difference = (model - directions).norm(dim=-1)
    return (weights * weights * losses.geman_mcclure(difference, rho)).sum(-1)


def fit_initial_pose(joints_model, targets: LandmarkTargets, betas: np.ndarray, iterations: int = 40,
                     pose_weight: float = 0.02) -> tuple[np.ndarray, np.ndarray]:
    """Per-row SMPL global orientation (M, 3) and body pose (M, 69), radians, whose bone directions match the
    landmarks': orientation from the torso first (torso_orientation), then L-BFGS on all rows at once over
    sum_b w_b^2 |d_model - d|^2 + pose_weight |pose|^2 + the elbow/knee bend prior (joints the bones do not fix,
    spine split, neck, twists, stay near rest), each usable bone weighted at least INIT_MIN_BONE_WEIGHT. Rows that
    are not usable get zeros."""
    f32 = torch.float32
    rows = np.flatnonzero(targets.usable)
    orient = np.zeros((len(targets.usable), 3), np.float32)
    pose = np.zeros((len(targets.usable), 69), np.float32)
    if rows.size == 0:
        return orient, pose
    directions = torch.tensor(targets.directions[rows], dtype=f32)
    bone_weights = targets.weights[rows]
    weights = torch.tensor(np.where(bone_weights > 0, np.maximum(bone_weights, INIT_MIN_BONE_WEIGHT), 0.0), dtype=f32)
    shape = torch.tensor(np.asarray(betas, dtype=np.float32)[rows])
    zeros = torch.zeros(len(rows), 3, dtype=f32)
    global_orient = torch.tensor(torso_orientation(targets.directions[rows]), dtype=f32).requires_grad_()
    body_pose = torch.zeros(len(rows), 69, dtype=f32, requires_grad=True)
    optimizer = torch.optim.LBFGS([global_orient, body_pose], lr=1.0, max_iter=iterations, history_size=20,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        points, _ = joints_model(global_orient, body_pose, shape, zeros)
        difference = model_bone_directions(points) - directions
        loss = ((weights * weights)[..., None] * difference * difference).sum() + pose_weight * (
            body_pose * body_pose).sum() + 0.01 * losses.bend_prior(body_pose).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    orient[rows] = global_orient.detach().numpy()
    pose[rows] = body_pose.detach().numpy()
    return orient, pose
