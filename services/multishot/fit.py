"""Whole-tracklet, shot-aware SMPL fitting of every person of a video in one optimisation.

Entry point: `fit_tracklets(tracklets, keypoints_body25, body_model, options, progress, pose_prior,
world_landmarks) -> FitResult`.
The parameters and terms are in objective.py (`FitProblem`). Keypoints that jump away from their own track for a
frame or two are left out from the start (keypoint_spikes.py). Stages: (1) torso: global orientation and pelvis only,
against shoulders and hips; (2) everything; (3) each person's size from the floor its shots share (body_size.py),
each shot's up direction and ankle plane estimated from the fit (scene.py), outlier gating, and refinement with
the upright and ground-contact terms. The robust 2D scale is annealed: stages 1-2 use a scale relative to the
person's size in the image (robust_scale.py), stage 3 `rho_px`. Each stage runs L-BFGS (strong Wolfe line search)
until the loss improves by less than `ftol` (relative) over a block of iterations or the iteration cap is reached.
Cost is linear in rows: the model evaluates only the joints it needs (kinematics.SparseSmplJoints) and the temporal
terms are sparse differences.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from mshot.errors import InvalidInput
from mshot.geometry.boxes import outside_image
from mshot.progress import Progress, no_progress, scaled
from services.multishot.body_size import rescale_people
from services.multishot.keypoint_spikes import temporal_spikes
from services.multishot.kinematics import SparseSmplJoints
from services.multishot.landmarks import (
    LandmarkTargets,
    fit_initial_pose,
    landmark_targets,
    pitch_from_image,
    smoothed_in_shot,
)
from services.multishot.objective import FitProblem
from services.multishot.pose_prior import DiagonalGaussianPosePrior
from services.multishot.robust_scale import person_extent_px, robust_scale_px
from services.multishot.rows import check_rows, consecutive_runs, temporal_links
from services.multishot.scene import estimate_scene


@dataclass(frozen=True)
class FitOptions:
    """Per-request fitting options. Weights multiply the summed terms of the objective (see module doc);
    temporal weights (velocity, accel) are per frame at objective.REFERENCE_FPS, but camera_joints_accel_weight,
    which is per frame at any frame rate."""

    device: str = "auto"  # auto | cpu | cuda
    seed: int = 0
    torso_iters: int = 30
    body_iters: int = 100
    refine_iters: int = 40
    ftol: float = 1e-5  # stop a stage when the loss falls by less than this fraction over `check_every` iterations
    check_every: int = 10
    min_confidence: float = 0.1  # keypoints below are treated as missing
    min_keypoints: int = 6  # a row needs this many keypoints (of the 22 used) to count as valid
    rho_px: float = 100.0  # Geman-McClure scale, pixels (the refine stage's; the floor of the earlier stages')
    rho_start_fraction: float = 0.25  # torso and body stages: max(rho_px, this * person extent) (robust_scale.py)
    outlier_factor: float = 6.0  # gating: residual > factor * the person's median residual ...
    outlier_min_px: float = 20.0  # ... and > this many pixels
    spike_fraction: float = 0.1  # keypoints this share of the person's extent off their 5-frame median ...
    spike_factor: float = 4.0  # ... and this many times their typical distance from it are left out from the
    # start (keypoint_spikes.py); spike_fraction 0 = keep them all
    pose_prior_weight: float = 4.78  # squared, as in SMPLify
    shape_weight: float = 5.0  # squared, per valid frame
    bend_weight: float = 3.17 * 4.78
    joint_limit_weight: float = 1.0e4  # per rad^2 beyond losses.JOINT_LIMITS
    pose_velocity_weight: float = 2.0e2  # per rad^2, crosses cuts
    pose_accel_weight: float = 6.0e4  # per rad^2, crosses cuts
    joints_velocity_weight: float = 2.0e2  # per m^2, root-relative joints, crosses cuts
    joints_accel_weight: float = 2.0e4  # per m^2, crosses cuts
    pelvis_accel_weight: float = 1.0e4  # per m^2, within shots
    orient_accel_weight: float = 1.0e4  # per (rotation matrix difference)^2, within shots
    camera_joints_accel_weight: float = 1.28e4  # per m^2 per frame at any fps (objective.py), pelvis-relative
    # joints in the camera frame, within shots
    depth_anchor_weight: float = 1.0e3  # per (relative depth deviation)^2
    torso_depth_anchor_weight: float = 1.0e5
    invalid_anchor_weight: float = 1.0e2  # pull of invalid rows to their initial root
    initial_pose_weight: float = 20.0  # per rad^2: the initial body pose as a weak observation
    occluded_pose_weight: float = 1000.0  # per rad^2, added for a joint in proportion to its unseen keypoints
    landmark_weight: float = 1.0e3  # BlazePose world-landmark bone directions (landmarks.py), per row
    landmark_rho: float = 0.5  # Geman-McClure scale of the bone-direction chord (0.5 ~ 29 degrees)
    landmark_init: bool = True  # rows at the rest pose start from the landmarks' pose and orientation
    landmark_init_iters: int = 40
    landmark_smoothing: bool = True  # average each row's landmark directions with its neighbours' in the shot
    landmark_pitch_from_image: bool = True  # turn each shot's landmarks to the image's up (landmarks.py)
    upright_weight: float = 2.0e3  # per (1 - cos) of the torso axis to the shot's up (scene.py), refine stage
    ground_weight: float = 2.0e4  # per m^2 (Geman-McClure) of the lower ankle above the shot's ankle plane
    size_from_ground: bool = True  # rescale each person to the floor its shots share (body_size.py)


@dataclass
class FitResult:
    """Per-row arrays (M rows, same order as the input) and one betas per person."""

    person_id: np.ndarray  # (M,) int32
    frame_index: np.ndarray  # (M,) int32
    shot_id: np.ndarray  # (M,) int32
    global_orient: np.ndarray  # (M, 3) float32 axis-angle rad
    body_pose: np.ndarray  # (M, 69) float32 axis-angle rad
    transl: np.ndarray  # (M, 3) float32 m, camera frame
    focal_px: np.ndarray  # (M,) float32
    principal_px: np.ndarray  # (M, 2) float32
    valid: np.ndarray  # (M,) bool: the row had enough keypoints to be fitted
    reproj_px: np.ndarray  # (M,) float32 px, reprojection_px: over the keypoints seen in the image, 0 where not valid
    betas_person_id: np.ndarray  # (P,) int32
    betas: np.ndarray  # (P, 10) float32
    stats: dict = field(default_factory=dict)  # evaluations per stage, seconds, outliers gated, device

    def person_betas(self) -> np.ndarray:
        """(M, 10): each row's person's betas."""
        return self.betas[np.searchsorted(self.betas_person_id, self.person_id)]


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA if available, else CPU; 'cuda' without CUDA -> InvalidInput."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise InvalidInput(f"device must be auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidInput("device 'cuda' requested but no CUDA device is available")
    return torch.device(name)


def _run_stage(problem: FitProblem, names: list[str], stage: str, rho: float | torch.Tensor, max_iters: int,
               progress: Progress) -> dict:
    """L-BFGS over the named parameters until the relative loss decrease per block is below ftol."""
    options = problem.options
    params = [problem.params[n] for n in names]
    optimizer = torch.optim.LBFGS(params, lr=1.0, max_iter=options.check_every, history_size=20,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-9, tolerance_change=1e-12)
    evaluations = 0

    def closure():
        nonlocal evaluations
        optimizer.zero_grad()
        value = problem.loss(stage, rho)
        value.backward()
        evaluations += 1
        return value

    with torch.no_grad():
        previous = float(problem.loss(stage, rho))
    start = current = previous
    done = 0
    while done < max_iters:
        optimizer.step(closure)
        done += options.check_every
        with torch.no_grad():
            current = float(problem.loss(stage, rho))
        if not np.isfinite(current):
            raise InvalidInput(f"the {stage} stage diverged (non-finite loss); check the initial estimates")
        progress(min(done / max_iters, 1.0), f"{stage}: loss {current:.4g}")
        if previous - current <= options.ftol * max(abs(previous), 1.0):
            break
        previous = current
    problem.evaluations += evaluations
    return {"evaluations": evaluations, "iterations": done, "loss_start": start, "loss_end": current}


def reprojection_px(projected_px: np.ndarray, keypoints: np.ndarray, image_hw: np.ndarray, min_confidence: float,
                    valid: np.ndarray) -> np.ndarray:
    """(M, 25, 2) projected px, (M, 25, 3) observed px + confidence, image_hw (2,) or (M, 2) [H, W] px, valid (M,)
    -> (M,) px: the confidence-weighted mean distance over the keypoints seen - confidence >= min_confidence and
    inside the image (mshot.geometry.boxes.outside_image; a joint beyond the frame edge is a guess, not a
    measurement) - 0 for a row that is not valid or has no such keypoint."""
    hw = np.broadcast_to(np.asarray(image_hw, dtype=np.float64), (len(keypoints), 2))
    inside = ~outside_image(keypoints[..., :2], hw[:, :1], hw[:, 1:])
    conf = keypoints[..., 2] * ((keypoints[..., 2] >= min_confidence) & inside)
    distance = np.linalg.norm(projected_px - keypoints[..., :2], axis=-1)
    total = conf.sum(1)
    error = np.where(total > 0, (conf * distance).sum(1) / np.maximum(total, 1e-12), 0.0)
    return np.where(valid, error, 0.0).astype(np.float32)


def _reprojection_error(problem: FitProblem, tracklets, original_keypoints: np.ndarray) -> np.ndarray:
    """reprojection_px of the fitted bodies over every seen keypoint, including the neck and hips the objective
    leaves out (IGNORED_BODY25) and keypoints gated as outliers."""
    with torch.no_grad():
        projected = problem.projected_body25(problem.body()["points"]).cpu().numpy()
    return reprojection_px(projected, original_keypoints, tracklets["image_size"], problem.options.min_confidence,
                           problem.valid)


def _scene(problem: FitProblem, tracklets: Mapping[str, np.ndarray]):
    """scene.ShotScene of the problem's current bodies."""
    with torch.no_grad():
        points = problem.body()["points"].cpu().numpy()
    return estimate_scene(points, np.asarray(tracklets["shot_id"]), problem.valid)


def with_landmarks(tracklets: Mapping[str, np.ndarray], keypoints: np.ndarray, world_landmarks: np.ndarray | None,
                   joints_model: SparseSmplJoints, options: FitOptions) -> tuple[dict, LandmarkTargets | None, dict]:
    """The row table with landmark-fitted initial poses where the initial body pose is the rest pose, the 3D
    targets (None without landmarks or with landmark_weight 0) and what was used, for the stats."""
    rows = dict(tracklets)
    if world_landmarks is None:
        return rows, None, {"rows_with_landmarks": 0, "rows_initialised": 0,
                            "used": "none: no world landmarks (2D keypoints and the pose prior only)"}
    targets = landmark_targets(world_landmarks, rows, keypoints)
    turn = np.zeros((0, 3))
    if options.landmark_pitch_from_image:
        targets, turn = pitch_from_image(targets, rows, keypoints, options.min_confidence)
    if options.landmark_smoothing:
        links = temporal_links(rows["person_id"], rows["frame_index"], rows["shot_id"])
        targets = smoothed_in_shot(targets, links.pairs_in_shot)
    at_rest = ~np.asarray(rows["body_pose"]).any(1)
    chosen = targets.usable & at_rest if options.landmark_init else np.zeros_like(at_rest)
    if chosen.any():
        orient, pose = fit_initial_pose(joints_model, targets, np.asarray(rows["betas"]),
                                        options.landmark_init_iters)
        rows["global_orient"] = np.where(chosen[:, None], orient, rows["global_orient"]).astype(np.float32)
        rows["body_pose"] = np.where(chosen[:, None], pose, rows["body_pose"]).astype(np.float32)
    used = targets.usable.sum() > 0 and options.landmark_weight > 0
    stats = {"rows_with_landmarks": int(targets.usable.sum()), "rows_initialised": int(chosen.sum()),
             "shot_turn_deg": np.degrees(np.linalg.norm(turn, axis=-1)).round(1).tolist(),
             "used": ("world landmarks: 3D bone-direction term" + (" and initial pose" if chosen.any() else ""))
             if used else "none: no usable world landmarks (2D keypoints and the pose prior only)"}
    return rows, (targets if used else None), stats


def fit_tracklets(tracklets: Mapping[str, np.ndarray], keypoints_body25: np.ndarray,
                  body_model: SparseSmplJoints | object, options: FitOptions = FitOptions(),
                  progress: Progress = no_progress, pose_prior: torch.nn.Module | None = None,
                  world_landmarks: np.ndarray | None = None) -> FitResult:
    """Fit SMPL to every person of a video at once.

    tracklets: canonical row table (docs/artifacts.md `mshot.tracklets/1` keys person_id, frame_index, shot_id,
      global_orient (M, 3), body_pose (M, 69), betas (M, 10), transl (M, 3) m, focal_px (M,), principal_px (M, 2),
      image_size (2,) or (M, 2) [H, W]; optional valid (M,) bool), rows sorted by (person_id, frame_index).
    keypoints_body25: (M, 25, 3) x, y px and confidence, aligned with the rows (zeros = missing).
    body_model: an `mshot.body.model.BodyModel` or a `SparseSmplJoints` built from one.
    pose_prior: `load_gmm_pose_prior(...)` result, or None for the fallback `DiagonalGaussianPosePrior`.
    world_landmarks: (M, 33, 4) BlazePose world landmarks aligned with the rows (keypoints.npz), or None: the 3D
      observation (bone directions) and, for rows whose initial body pose is the rest pose, the initial pose and
      orientation (`stats["landmarks"]` says what was used).
    Raises InvalidInput naming the key for malformed input. Deterministic for a given seed, device and thread count.
    """
    started = time.perf_counter()
    check_rows(tracklets, keypoints_body25)
    torch.manual_seed(options.seed)
    device = resolve_device(options.device)
    joints_model = body_model if isinstance(body_model, SparseSmplJoints) else SparseSmplJoints.from_body_model(
        body_model)
    prior = pose_prior if pose_prior is not None else DiagonalGaussianPosePrior()
    keypoints = np.asarray(keypoints_body25, dtype=np.float32)
    tracklets, targets, landmark_stats = with_landmarks(tracklets, keypoints, world_landmarks, joints_model, options)
    problem = FitProblem(tracklets, keypoints, joints_model, prior, options, device, targets)
    if not problem.valid.any():
        raise InvalidInput(f"no usable person: none of the {len(problem.valid)} person-frames has "
                           f"{options.min_keypoints} or more keypoints of confidence >= {options.min_confidence}")
    progress(0.0, "multishot: fitting")
    stats = {"device": str(device), "rows": int(keypoints.shape[0]), "persons": len(problem.person_ids),
             "landmarks": landmark_stats}
    _optimise(problem, tracklets, keypoints, options, progress, stats)
    result = _result(problem, tracklets, keypoints, stats)
    stats["evaluations"] = problem.evaluations
    stats["seconds"] = time.perf_counter() - started
    progress(1.0, "multishot: done")
    return result


def _optimise(problem: FitProblem, tracklets, keypoints: np.ndarray, options: FitOptions, progress: Progress,
              stats: dict) -> None:
    """The stages (module doc) on `problem`'s parameters, in place; each stage's figures go into `stats`."""
    root = ["global_orient", "root_uv", "log_depth"]
    everything = [*root, "body_pose", "betas"]
    extent = person_extent_px(keypoints, problem.person_index, problem.valid, options.min_confidence)
    start_rho = torch.tensor(robust_scale_px(extent, options.rho_start_fraction, options.rho_px),
                             dtype=torch.float32, device=problem.device)[:, None, None]  # (M, 1, 1) px
    stats["rho_start_px"] = float(start_rho.median())
    runs = consecutive_runs(tracklets["person_id"], tracklets["frame_index"], tracklets["shot_id"])
    spikes = temporal_spikes(keypoints, runs, problem.person_index, extent, options.spike_fraction,
                             options.min_confidence, options.spike_factor)
    stats["keypoint_spikes"] = problem.leave_out(spikes)
    stats["torso"] = _run_stage(problem, root, "torso", start_rho, options.torso_iters,
                                scaled(progress, 0.0, 0.15))
    stats["body"] = _run_stage(problem, everything, "body", start_rho, options.body_iters,
                               scaled(progress, 0.15, 0.75))
    if options.upright_weight > 0 or options.ground_weight > 0 or options.size_from_ground:
        scene = _scene(problem, tracklets)
        if options.size_from_ground:
            stats["size"] = rescale_people(problem, scene)
            scene = _scene(problem, tracklets)
        problem.use_scene(scene)
        stats["scene"] = {"up": scene.up.round(3).tolist(), "upright_rows": int(scene.upright.sum()),
                          "near_ground_rows": int(scene.near_ground.sum())}
    stats["outliers_gated"] = problem.gate_outliers()
    stats["refine"] = _run_stage(problem, everything, "body", options.rho_px, options.refine_iters,
                                 scaled(progress, 0.75, 1.0))
    with torch.no_grad():
        stats["terms"] = {name: float(value) for name, value in problem.terms("body", options.rho_px).items()}


def _result(problem: FitProblem, tracklets, keypoints: np.ndarray, stats: dict) -> FitResult:
    """The fitted parameters as float32 arrays aligned with the rows (betas per person)."""
    with torch.no_grad():
        body = problem.body()
    detached = lambda name: problem.params[name].detach().cpu().numpy().astype(np.float32)  # noqa: E731
    return FitResult(
        person_id=np.asarray(tracklets["person_id"]).astype(np.int32),
        frame_index=np.asarray(tracklets["frame_index"]).astype(np.int32),
        shot_id=np.asarray(tracklets["shot_id"]).astype(np.int32),
        global_orient=detached("global_orient"),
        body_pose=detached("body_pose"),
        transl=body["transl"].cpu().numpy().astype(np.float32),
        focal_px=np.asarray(tracklets["focal_px"], dtype=np.float32),
        principal_px=np.asarray(tracklets["principal_px"], dtype=np.float32),
        valid=problem.valid.copy(),
        reproj_px=_reprojection_error(problem, tracklets, keypoints),
        betas_person_id=problem.person_ids.astype(np.int32),
        betas=detached("betas"),
        stats=stats,
    )
