"""The objective of one multishot fit: its parameters, its terms and outlier gating (`FitProblem`).

What is optimised (all rows of all persons at once, float32, CPU or CUDA):
- per row: global orientation (3), body pose (69), the pelvis position as its projection (u, v) px and log depth;
- per person: one betas (10), shared by every frame and shot by construction.
The pelvis parametrisation makes image-plane position and depth equally well scaled for the optimiser; the SMPL
translation follows from it (transl = pelvis - rest pelvis(betas)).

Terms (weights in fit.FitOptions; forms in losses.py):
- robust reprojection of the BODY_25 keypoints (Geman-McClure, squared confidences, data weight 1000 / image height;
  neck and hips ignored as in SMPLify-X; the model's MidHip is the middle of SMPL's hips, not its pelvis joint, its
  Neck the middle of its shoulders, not its neck joint:
  mshot.body.joint_maps.body25_joints); keypoints whose residual is a gross outlier for their person can be gated,
  and keypoints that spike away from their own track left out (`leave_out`, keypoint_spikes.py);
- GMM (or fallback) pose prior, elbow/knee bend prior, joint-angle limits (knees and elbows bend one way, the
  spine does not fold), shape prior towards the person's median initial betas;
- BlazePose world landmarks (when the keypoints carry them): robust bone directions in the camera frame
  (landmarks.py), what fixes the depth the 2D keypoints leave open;
- the initial body pose as an observation: weak where the keypoints a joint moves are seen, strong where they are
  not (occluded limbs, and the wrists, which BODY_25 does not observe);
- temporal smoothness that crosses shot cuts (the body does not jump at a cut): first and second differences of the
  body pose and of the root-relative joints in the body frame;
- within a shot only (the camera may jump at a cut): second differences of the pelvis position, of the global
  rotation matrix and of the root-relative joints in the camera frame (what the body's orientation and pose do
  together, as a viewer sees them move; a per-frame weight, not rescaled with fps: it removes the keypoints'
  per-frame noise, which is the same at any frame rate, rather than encoding how bodies move);
- depth anchor: pelvis depth near its initial estimate, rescaled by the betas-implied body size relative to the
  initial betas (a bigger body is farther away), so size error cannot turn into depth drift;
- per shot (refine stage, scene.py): an upright prior for standing and walking people and ground contact of
  feet near the shot's ankle plane, both about the up direction and plane estimated from the shot's people;
- rows without usable keypoints ("invalid") keep only priors and smoothness, plus a weak pull to their initial root.
Temporal weights (but the camera-frame joints') are given for video at REFERENCE_FPS and rescaled to the
tracklets' `fps` so that the smoothness terms are the same time integrals (of squared velocity and acceleration) at
any frame rate (temporal_weight_scales).
"""

from __future__ import annotations

import numpy as np
import torch

from mshot.body.blazepose_smpl import TORSO_BONES
from mshot.body.joint_maps import MIDHIP_BODY25, body25_joints, body25_point_sources
from mshot.errors import InvalidInput
from mshot.geometry.torch_ops import axis_angle_to_matrix, back_project, project
from services.multishot import losses
from services.multishot.landmarks import direction_residual
from services.multishot.rows import temporal_links
from services.multishot.scene import ground_contact_cost, upright_cost

# BODY_25 keypoints ignored by the full fit: right and left hip (defined differently from SMPL's hip joints) and the
# neck (the shoulders' middle in the model as in both keypoint sources: it adds nothing the shoulders do not; fitting
# it too measured PA-MPJPE 68.1 instead of 67.7 mm on gt_video2).
IGNORED_BODY25 = (1, 9, 12)
HIPS_BODY25 = (9, 12)  # right, left hip: used in a row whose mid-hip is unseen (row_joint_weights)
# BODY_25 torso keypoints used by the first stage (right/left shoulder, right/left hip).
TORSO_BODY25 = (2, 5, 9, 12)
# Frame rate (frames per second) at which FitOptions' temporal weights are given.
REFERENCE_FPS = 30.0
# 2D residuals are weighed as if measured in an image of this height (pixels), so weights hold across resolutions.
REFERENCE_IMAGE_HEIGHT_PX = 1000.0
# An initial root at a depth of at most this (metres) is no estimate (the reference stores zeros when undetected).
MIN_INITIAL_DEPTH_M = 0.05
ROOT_BOX_MARGIN = 0.25  # root_start_px: share of the seen keypoints' box size added on each side


def temporal_weight_scales(fps: float | None) -> tuple[float, float]:
    """Factors (first-difference, second-difference) that carry temporal weights given at REFERENCE_FPS to `fps`
    (frames per second; None = REFERENCE_FPS): (fps / REFERENCE_FPS) and (fps / REFERENCE_FPS)^3.

    The sums of squared differences then approximate the same time integrals, int |velocity|^2 dt and
    int |acceleration|^2 dt, whatever the frame rate (a difference over dt is velocity dt, a second difference
    acceleration dt^2, and a sum over frames is an integral divided by dt)."""
    rate = 1.0 if fps is None else fps / REFERENCE_FPS
    return rate, rate**3


def _fill_from_nearest(values: np.ndarray, usable: np.ndarray, person: np.ndarray) -> np.ndarray:
    """Copy into rows where `usable` is False the value of the nearest usable row of the same person."""
    out = values.copy()
    for pid in np.unique(person):
        rows = np.flatnonzero(person == pid)
        good = rows[usable[rows]]
        if good.size == 0 or good.size == rows.size:
            continue
        bad = rows[~usable[rows]]
        nearest = good[np.abs(bad[:, None] - good[None, :]).argmin(1)]
        out[bad] = values[nearest]
    return out


def root_start_px(initial_root_px: np.ndarray, keypoints: np.ndarray) -> np.ndarray:
    """Where each row's root starts in the image: (M, 2) px, the initial root projected, but at the MidHip
    keypoint (BODY_25 8) for a row whose MidHip is seen (keypoints (M, 25, 3) px + confidence, > 0 = seen) and
    whose projected initial root lies outside the box of its seen keypoints grown by ROOT_BOX_MARGIN of its size
    on each side: an initial estimate from other keypoints than the fit's (the tracker's pose in another crop)."""
    out = np.array(initial_root_px, dtype=np.float64, copy=True)
    for row in np.flatnonzero(keypoints[:, MIDHIP_BODY25, 2] > 0):
        seen = keypoints[row, keypoints[row, :, 2] > 0, :2]
        low, high = seen.min(0), seen.max(0)
        margin = ROOT_BOX_MARGIN * (high - low)
        if np.any((out[row] < low - margin) | (out[row] > high + margin)):
            out[row] = keypoints[row, MIDHIP_BODY25, :2]
    return out


class FitProblem:
    """Tensors and the objective of one fit; parameters live in `self.params`."""

    def __init__(self, rows, keypoints, joints_model, pose_prior, options, device, landmarks=None):
        """rows: a tracklets mapping (person_id, frame_index, shot_id, image_size, focal_px, principal_px, fps and
        the initial global_orient (M, 3), body_pose (M, 69), betas (M, 10), transl (M, 3) metres); keypoints (M, 25, 3)
        x, y px, confidence; landmarks: a landmarks.LandmarkTargets or None."""
        self.options = options
        self.device = device
        person = np.asarray(rows["person_id"]).astype(np.int64)
        self.person_ids, self.person_index = np.unique(person, return_inverse=True)
        self.model = joints_model.to(device)
        self.prior = pose_prior.to(device)
        kp = self._set_keypoints(rows, keypoints)
        self._set_camera(rows, count=kp.shape[0])
        orient0, pose0, betas0, pelvis0 = self._set_initial_estimates(rows, person, kp)
        self._set_temporal_links(rows, person)
        self.params = {
            "global_orient": self._tensor(orient0).requires_grad_(),
            "body_pose": self._tensor(pose0).requires_grad_(),
            "root_uv": self._tensor(root_start_px(project(pelvis0[:, None, :], self.focal, self.principal)[:, 0]
                                                  .cpu().numpy(), kp)).requires_grad_(),
            "log_depth": torch.log(self.depth_anchor).clone().requires_grad_(),
            "betas": self._tensor(betas0).requires_grad_(),
        }
        self.evaluations = 0
        self.landmark_directions = self.landmark_weights = None
        self.scene = None  # per-row tensors of a scene.ShotScene, set by use_scene before the refine stage
        if landmarks is not None:  # a LandmarkTargets (landmarks.py)
            self.landmark_directions = self._tensor(landmarks.directions)
            self.landmark_weights = self._tensor(landmarks.weights)

    def _tensor(self, array) -> torch.Tensor:
        return torch.tensor(np.asarray(array), dtype=torch.float32, device=self.device)

    def _set_keypoints(self, rows, keypoints) -> np.ndarray:
        """Keypoints below `min_confidence` zeroed; rows with fewer than `min_keypoints` used keypoints (or marked
        invalid in `rows`) not fitted. Returns the cleaned (M, 25, 3) keypoints."""
        options = self.options
        kp = np.asarray(keypoints, dtype=np.float32).copy()
        kp[kp[..., 2] < options.min_confidence] = 0.0
        used = np.ones(25, dtype=bool)
        used[list(IGNORED_BODY25)] = False
        valid = (kp[:, used, 2] > 0).sum(1) >= options.min_keypoints
        if "valid" in rows:
            valid &= np.asarray(rows["valid"]).astype(bool)
        kp[~valid] = 0.0
        self.valid = valid
        self.invalid = self._tensor(~valid)
        self.keypoints = self._tensor(kp)
        self.confidence_mask = torch.ones(kp.shape[0], 25, dtype=torch.float32, device=self.device)  # gating: 0s
        self.joint_weights = self._tensor(used.astype(np.float32))
        self.row_joint_weights = self._tensor(row_joint_weights(kp, used))
        torso = np.zeros(25, dtype=np.float32)
        torso[list(TORSO_BODY25)] = 1.0
        self.torso_weights = self._tensor(torso)
        frames_per_person = np.bincount(self.person_index[valid], minlength=len(self.person_ids))
        self.shape_frames = self._tensor(np.maximum(frames_per_person, 1))
        return kp

    def _set_camera(self, rows, count: int) -> None:
        """Intrinsics per row, the 2D data weight (residuals in units of a REFERENCE_IMAGE_HEIGHT_PX image) and the
        frame-rate scales of the temporal terms."""
        image_size = np.asarray(rows["image_size"], dtype=np.float64)
        height = image_size[0] if image_size.ndim == 1 else image_size[:, 0]
        self.data_weight = self._tensor(np.broadcast_to(REFERENCE_IMAGE_HEIGHT_PX / height, (count,)))
        self.velocity_scale, self.accel_scale = temporal_weight_scales(float(rows["fps"]) if "fps" in rows else None)
        self.focal = self._tensor(rows["focal_px"])
        self.principal = self._tensor(rows["principal_px"])

    def _set_initial_estimates(self, rows, person: np.ndarray, kp: np.ndarray):
        """The start of the fit and what its priors pull towards; rows without a usable initial root copy the
        nearest usable row of the person. Returns (orient0 (M, 3) and pose0 (M, 69) radians, betas0 (P, 10),
        pelvis0 (M, 3) metres)."""
        transl0 = np.asarray(rows["transl"], dtype=np.float64)
        usable = transl0[:, 2] > MIN_INITIAL_DEPTH_M  # the reference stores zeros when undetected
        lacking = np.setdiff1d(person, person[usable])
        if lacking.size:
            raise InvalidInput(f"tracklets: key 'transl' has no frame in front of the camera (depth > "
                               f"{MIN_INITIAL_DEPTH_M} m) for person(s) {lacking.tolist()}; no initial estimate to "
                               f"start from")
        orient0 = _fill_from_nearest(np.asarray(rows["global_orient"], dtype=np.float64), usable, person)
        pose0 = _fill_from_nearest(np.asarray(rows["body_pose"], dtype=np.float64), usable, person)
        transl0 = _fill_from_nearest(transl0, usable, person)
        betas_rows0 = _fill_from_nearest(np.asarray(rows["betas"], dtype=np.float64), usable, person)
        betas0 = []
        for p in range(len(self.person_ids)):
            mine = self.person_index == p
            chosen = mine & usable & self.valid if np.any(mine & usable & self.valid) else mine & usable
            betas0.append(np.median(betas_rows0[chosen], axis=0))
        betas0 = np.stack(betas0)
        self.betas_mean = self._tensor(betas0)
        with torch.no_grad():
            rest0 = self.model.rest_joints(self._tensor(betas_rows0))
            pelvis0 = self._tensor(transl0) + rest0[:, 0]
            self.size_reference = self._body_size(self.model.rest_joints(self.betas_mean))  # (P,) metres
            # The initial depth belongs to the row's own initial betas; at the person's reference size it becomes:
            self.depth_anchor = pelvis0[:, 2] * self.size_reference[self.person_index] / self._body_size(rest0)
        self.depth0 = pelvis0[:, 2].clone()
        self.pelvis0 = pelvis0
        self.rotation0 = axis_angle_to_matrix(self._tensor(orient0))
        self.pose0 = self._tensor(pose0)
        self.initial_pose_weights = self._initial_pose_weights(kp[..., 2] > 0)
        return orient0, pose0, betas0, pelvis0

    def _set_temporal_links(self, rows, person: np.ndarray) -> None:
        """Index tensors of the temporal terms: consecutive row pairs and triples of a person (triples_in_shot:
        those within one shot) and each row's person."""
        links = temporal_links(person, rows["frame_index"], rows["shot_id"])
        as_index = lambda a: torch.as_tensor(a, dtype=torch.long, device=self.device)  # noqa: E731
        self.pairs, self.triples = as_index(links.pairs), as_index(links.triples)
        self.triples_in_shot = as_index(links.triples_in_shot)
        self.row_person = as_index(self.person_index)

    def _initial_pose_weights(self, seen: np.ndarray) -> torch.Tensor:
        """(M, 69) weight of each body-pose coordinate's pull to its initial estimate.

        seen (M, 25) bool keypoints used by the fit. A joint whose rotation moves no seen keypoint (an occluded limb,
        or hands, which BODY_25 does not observe) has only the per-frame regressor's estimate to go by, so its pull
        grows with the fraction of the keypoints it moves that are unseen.
        """
        o = self.options
        moves = body25_point_sources(self.model.body_joint_moves_point().cpu().numpy())  # (23, 25)
        moves &= self.joint_weights.cpu().numpy()[None, :] > 0
        total = moves.sum(1)
        seen_fraction = (seen.astype(np.float32) @ moves.T.astype(np.float32)) / np.maximum(total, 1)  # (M, 23)
        unseen = np.where(total > 0, 1.0 - seen_fraction, 1.0)
        weights = o.initial_pose_weight + o.occluded_pose_weight * unseen
        return torch.tensor(np.repeat(weights, 3, axis=1), dtype=torch.float32, device=self.device)

    @staticmethod
    def _body_size(rest_joints: torch.Tensor) -> torch.Tensor:
        """(B, 24, 3) rest joints -> (B,) root-mean-square distance of the joints from their centroid, metres."""
        centred = rest_joints - rest_joints.mean(1, keepdim=True)
        return (centred * centred).sum(-1).mean(-1).sqrt()

    def body(self):
        """Current per-row body: dict of global_orient, body_pose, betas_rows, transl, pelvis, points, rotations."""
        p = self.params
        betas_rows = p["betas"][self.row_person]
        rest = self.model.rest_joints(betas_rows)
        # log_depth is the depth the row would have at the person's reference body size: scaling the body
        # (betas) moves every frame along the depth/size ambiguity, which keeps the problem well conditioned.
        reference_depth = torch.exp(p["log_depth"])
        depth = reference_depth * self._body_size(rest) / self.size_reference[self.row_person]
        pelvis = back_project(p["root_uv"], depth, self.focal, self.principal)
        transl = pelvis - rest[:, 0]
        points, rotations = self.model(p["global_orient"], p["body_pose"], betas_rows, transl)
        return {"betas_rows": betas_rows, "pelvis": pelvis, "rest": rest, "transl": transl, "points": points,
                "rotations": rotations, "reference_depth": reference_depth}

    def use_scene(self, scene) -> None:
        """Add the upright and ground-contact terms (scene.py) for a scene.ShotScene estimated from this fit."""
        tensor = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32, device=self.device)  # noqa: E731
        self.scene = {"up": tensor(scene.up[scene.shot]), "ground": tensor(scene.ground[scene.shot]),
                      "upright": tensor(scene.upright), "near_ground": tensor(scene.near_ground)}

    def set_person_betas(self, betas: torch.Tensor, mean: torch.Tensor) -> None:
        """(P, S) betas as every person's current shape and (P, S) the mean of its shape prior (body_size.py)."""
        with torch.no_grad():
            self.params["betas"].copy_(betas)
            self.betas_mean = mean.detach().clone()

    def relative_joints(self, body: dict) -> torch.Tensor:
        """(M, 25, 3) metres: the BODY_25 points of `body()` relative to the SMPL pelvis, in the body frame."""
        return losses.root_relative_joints(body25_joints(body["points"]), body["pelvis"],
                                           body["rotations"][:, 0])

    def camera_relative_joints(self, body: dict) -> torch.Tensor:
        """(M, 25, 3) metres: the BODY_25 points of `body()` relative to the SMPL pelvis, in the camera frame (so
        they turn with the global orientation: smooth only within a shot)."""
        return body25_joints(body["points"]) - body["pelvis"][:, None, :]

    def projected_body25(self, points: torch.Tensor) -> torch.Tensor:
        return project(body25_joints(points), self.focal, self.principal)

    def loss(self, stage: str, rho: float) -> torch.Tensor:
        """The objective of `stage` ('torso' or 'body') at the current parameters (a scalar)."""
        return sum(self.terms(stage, rho).values())

    def terms(self, stage: str, rho: float) -> dict[str, torch.Tensor]:
        """Each weighted term of the objective, summed over rows (scalars)."""
        o = self.options
        p = self.params
        b = self.body()
        projected = self.projected_body25(b["points"])
        keypoints = self.keypoints * torch.cat([torch.ones_like(self.keypoints[..., :2]),
                                                self.confidence_mask[..., None]], dim=-1)
        weights = self.torso_weights if stage == "torso" else self.row_joint_weights
        rotation = b["rotations"][:, 0]
        # Metric temporal terms are measured at the person's reference size: shrinking the body (and bringing it
        # closer) must not make motion look smoother, or the fit would be biased towards small bodies.
        size_ratio = (self.size_reference[self.row_person] / self._body_size(b["rest"]))[:, None]
        pelvis = b["pelvis"] * size_ratio
        anchor_weight = o.torso_depth_anchor_weight if stage == "torso" else o.depth_anchor_weight
        root_drift = ((rotation - self.rotation0) ** 2).sum((1, 2)) + (
            ((b["pelvis"] - self.pelvis0) / self.depth0[:, None]) ** 2).sum(-1) * 100.0
        terms = {
            "reprojection": losses.reprojection(projected, keypoints, self.data_weight, rho, weights).sum(),
            "pelvis_accel": o.pelvis_accel_weight * self.accel_scale
            * losses.second_difference(pelvis, self.triples_in_shot).sum(),
            "orient_accel": o.orient_accel_weight * self.accel_scale
            * losses.second_difference(rotation, self.triples_in_shot).sum(),
            "depth_anchor": anchor_weight * losses.relative_depth_anchor(b["reference_depth"], self.depth_anchor).sum(),
            "invalid_anchor": o.invalid_anchor_weight * (self.invalid * root_drift).sum(),
        }
        if self.landmark_directions is not None:
            bones = slice(0, TORSO_BONES) if stage == "torso" else slice(None)
            terms["landmarks"] = o.landmark_weight * direction_residual(
                b["points"], self.landmark_directions[:, bones], self.landmark_weights[:, bones], o.landmark_rho).sum()
        if stage == "torso":
            return terms
        pose = p["body_pose"]
        relative = self.relative_joints(b) * size_ratio[..., None]
        terms.update({
            "pose_prior": o.pose_prior_weight**2 * self.prior(pose).sum(),
            "initial_pose": (self.initial_pose_weights * (pose - self.pose0) ** 2).sum(),
            "bend_prior": o.bend_weight * losses.bend_prior(pose).sum(),
            "joint_limits": o.joint_limit_weight * losses.joint_limits(pose).sum(),
            "shape_prior": o.shape_weight**2
            * (self.shape_frames * losses.shape_prior(p["betas"], self.betas_mean)).sum(),
            "pose_velocity": o.pose_velocity_weight * self.velocity_scale
            * losses.first_difference(pose, self.pairs).sum(),
            "pose_accel": o.pose_accel_weight * self.accel_scale * losses.second_difference(pose, self.triples).sum(),
            "joints_velocity": o.joints_velocity_weight * self.velocity_scale
            * losses.first_difference(relative, self.pairs).sum(),
            "joints_accel": o.joints_accel_weight * self.accel_scale
            * losses.second_difference(relative, self.triples).sum(),
            "camera_joints_accel": o.camera_joints_accel_weight * losses.second_difference(
                self.camera_relative_joints(b) * size_ratio[..., None], self.triples_in_shot).sum(),
        })
        if self.scene is not None:
            points, up = b["points"], self.scene["up"]
            terms["upright"] = o.upright_weight * (self.scene["upright"] * upright_cost(points, up)).sum()
            terms["ground_contact"] = o.ground_weight * (
                self.scene["near_ground"] * ground_contact_cost(points, up, self.scene["ground"])).sum()
        return terms

    def leave_out(self, keypoints: np.ndarray) -> int:
        """Switch off the keypoints marked in (M, 25) bool (keypoint_spikes.temporal_spikes) that the fit would
        use; returns how many."""
        mask = torch.as_tensor(np.asarray(keypoints, bool), device=self.device) & (self.keypoints[..., 2] > 0)
        self.confidence_mask[mask] = 0.0
        return int(mask.sum())

    def gate_outliers(self) -> int:
        """Switch off keypoints whose residual is a gross outlier for their person; returns how many."""
        o = self.options
        with torch.no_grad():
            residual = (self.projected_body25(self.body()["points"]) - self.keypoints[..., :2]).norm(dim=-1)
            seen = self.keypoints[..., 2] > 0
            gated = 0
            for p in range(len(self.person_ids)):
                rows = self.row_person == p
                mask = seen & rows[:, None]
                if not mask.any():
                    continue
                typical = residual[mask].median()
                limit = max(o.outlier_min_px, o.outlier_factor * float(typical))
                bad = mask & (residual > limit)
                self.confidence_mask[bad] = 0.0
                gated += int(bad.sum())
        return gated


def row_joint_weights(keypoints: np.ndarray, used: np.ndarray) -> np.ndarray:
    """(M, 25, 3) keypoints (confidence 0 = unseen), (25,) bool joints the full fit uses -> (M, 25) float32
    weights: `used`, and in a row whose mid-hip is unseen, its seen right and left hips too. The mid-hip is
    the midpoint of the hips, so a person cut off by a side edge (one hip beyond it) has none, and without
    the hip that is in view nothing would hold the pelvis (seated_3people's musician at the right edge: 37 px
    off her right hip)."""
    weights = np.broadcast_to(used.astype(np.float32), keypoints.shape[:2]).copy()
    no_mid_hip = keypoints[:, MIDHIP_BODY25, 2] <= 0
    for hip in HIPS_BODY25:
        weights[no_mid_hip & (keypoints[:, hip, 2] > 0), hip] = 1.0
    return weights
