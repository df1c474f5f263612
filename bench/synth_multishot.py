"""Synthetic multi-shot tracklets with ground truth for the multishot benchmark.

One person (or several) walks and waves with smooth procedural motion within joint limits; the video has
several shots, each with its own camera (viewpoint and distance jump at a cut: ground truth is in each frame's
camera coordinates). Observations: BODY_25 projected with Gaussian noise, dropout, gross outliers, a shot with
the legs occluded (zero confidence), some invalid frames (no keypoints). Initial estimates imitate a per-frame
regressor: pose jitter plus slow drift, per-frame betas noise, depth error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mshot.body.joint_maps import body25_joints
from mshot.geometry.camera import SMPL_FACING_CAMERA, project
from mshot.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle

HEIGHT, WIDTH = 720, 1280
FOCAL = 1.2 * WIDTH
LEG_KEYPOINTS = [9, 10, 11, 12, 13, 14, 19, 20, 21, 22, 23, 24]


@dataclass(frozen=True)
class SynthOptions:
    frames: int = 150
    shots: int = 3
    persons: int = 1
    noise_px: float = 3.0
    dropout: float = 0.12
    outlier_fraction: float = 0.02
    invalid_fraction: float = 0.03
    occluded_legs_shot: int = 1  # -1 = none
    seed: int = 0
    fps: float = 30.0  # frame rate of the motion: how far the body moves between two frames


def _motion(frames: int, fps: float, rng) -> np.ndarray:
    """(N, 69) body pose: walking legs (a 0.9 Hz gait cycle), swinging and waving arms, slight torso sway."""
    t = np.arange(frames) / fps
    pose = np.zeros((frames, 23, 3))
    phase = 2 * np.pi * 0.9 * t + rng.uniform(0, 2 * np.pi)
    pose[:, 0, 0] = 0.45 * np.sin(phase)  # left hip flexion
    pose[:, 1, 0] = -0.45 * np.sin(phase)
    pose[:, 3, 0] = 0.35 * (1 + np.sin(phase + 1.2))  # knees bend only one way
    pose[:, 4, 0] = 0.35 * (1 - np.sin(phase + 1.2))
    pose[:, 15, 2] = -1.1 + 0.2 * np.sin(phase)  # shoulders
    pose[:, 16, 2] = 1.1 + 0.2 * np.sin(phase)
    pose[:, 17, 1] = -0.6 * (1 + np.sin(0.5 * phase))  # left elbow waves
    pose[:, 18, 1] = 0.3
    pose[:, 2, 1] = 0.1 * np.sin(0.3 * phase)  # spine twist
    return pose.reshape(frames, 69)


def generate(model, options: SynthOptions = SynthOptions()) -> dict:
    """Ground truth and observations as canonical row tables (docs/artifacts.md) plus truth arrays."""
    rng = np.random.default_rng(options.seed)
    n = options.frames
    bounds = np.linspace(0, n, options.shots + 1).astype(int)
    shot = np.searchsorted(bounds[1:], np.arange(n), side="right")
    rows = {k: [] for k in ("person_id", "frame_index", "shot_id")}
    truth = {k: [] for k in ("global_orient", "body_pose", "transl", "betas")}
    person_betas = rng.normal(scale=0.8, size=(options.persons, 10)).astype(np.float32)
    for p in range(options.persons):
        pose = _motion(n, options.fps, rng)
        seconds = np.arange(n) / options.fps
        heading = 0.3 * np.sin(seconds * 15.0 / 40.0)  # turning slowly in the world
        world_pos = np.column_stack([0.6 * p + 0.15 * seconds, np.zeros(n), np.zeros(n)])
        for s in range(options.shots):
            # Each shot: a camera at its own distance and yaw around the person.
            yaw = rng.uniform(-0.8, 0.8)
            distance = rng.uniform(3.0, 7.0)
            cam_R = axis_angle_to_matrix(np.array([0.0, yaw, 0.0]))
            frames = np.flatnonzero(shot == s)
            for f in frames:
                body_R = axis_angle_to_matrix(np.array([0.0, heading[f], 0.0]))
                flip = axis_angle_to_matrix(SMPL_FACING_CAMERA)  # SMPL y-up -> camera y-down
                orient = matrix_to_axis_angle(cam_R @ flip @ body_R)
                offset = cam_R @ (flip @ (world_pos[f] - world_pos[frames[0]]))
                rows["person_id"].append(p)
                rows["frame_index"].append(f)
                rows["shot_id"].append(s)
                truth["global_orient"].append(orient)
                truth["body_pose"].append(pose[f])
                truth["transl"].append(offset + np.array([0.6 * (p - (options.persons - 1) / 2), 0.3, distance]))
                truth["betas"].append(person_betas[p])
    rows = {k: np.asarray(v, dtype=np.int32) for k, v in rows.items()}
    truth = {k: np.asarray(v, dtype=np.float32) for k, v in truth.items()}
    count = len(rows["person_id"])
    with torch.no_grad():
        t = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
        joints = model(t(truth["global_orient"]), t(truth["body_pose"]), t(truth["betas"]),
                       t(truth["transl"])).joints.numpy()
    principal = np.array([WIDTH / 2, HEIGHT / 2])
    clean = project(body25_joints(joints), FOCAL, principal)
    keypoints = np.concatenate([clean + rng.normal(scale=options.noise_px, size=clean.shape),
                                rng.uniform(0.6, 1.0, size=(count, 25, 1))], axis=-1)
    keypoints[rng.random((count, 25)) < options.dropout] = 0
    outliers = rng.random((count, 25)) < options.outlier_fraction
    keypoints[outliers, :2] += rng.uniform(-150, 150, size=(int(outliers.sum()), 2))
    if 0 <= options.occluded_legs_shot < options.shots:
        legs = rows["shot_id"] == options.occluded_legs_shot
        keypoints[np.ix_(legs, LEG_KEYPOINTS)] = 0
    invalid = rng.random(count) < options.invalid_fraction
    keypoints[invalid] = 0
    # Initial estimates: jitter + slow drift on the pose, per-frame betas noise, depth error.
    drift = np.cumsum(rng.normal(scale=0.01, size=(count, 69)), axis=0)
    init_pose = truth["body_pose"] + rng.normal(scale=0.12, size=(count, 69)) + drift
    init_orient = np.stack([matrix_to_axis_angle(axis_angle_to_matrix(o) @ axis_angle_to_matrix(
        rng.normal(scale=0.1, size=3))) for o in truth["global_orient"]])
    depth_error = 1.0 + rng.normal(scale=0.08, size=count) + 0.1
    pelvis = joints[:, 0]  # a depth error moves the pelvis along its viewing ray (transl = pelvis - rest pelvis)
    init_transl = pelvis * depth_error[:, None] - (pelvis - truth["transl"])
    tracklets = {
        **rows, "fps": float(options.fps), "image_size": np.array([HEIGHT, WIDTH]),
        "global_orient": init_orient.astype(np.float32),
        "body_pose": init_pose.astype(np.float32),
        "betas": (truth["betas"] + rng.normal(scale=0.5, size=(count, 10))).astype(np.float32),
        "transl": init_transl.astype(np.float32), "focal_px": np.full(count, FOCAL, np.float32),
        "principal_px": np.tile(principal, (count, 1)).astype(np.float32),
    }
    return {"tracklets": tracklets, "keypoints": keypoints.astype(np.float32), "truth": truth,
            "clean_keypoints": clean, "joints": joints}
