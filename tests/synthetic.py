"""Synthetic people with exact ground truth for stage tests: a generated SMPL-format body walking in front of
a pinhole camera over two shots, written as canonical tracklets / keypoints / fits artifacts and a video."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import torch

from mshot.artifacts.fits import save_fits
from mshot.artifacts.keypoints import save_keypoints
from mshot.artifacts.masks import encode_mask
from mshot.artifacts.tracklets import save_tracklets
from mshot.body.joint_maps import body25_joints
from mshot.body.model import BodyModel
from mshot.geometry.camera import intrinsics_matrix, project
from mshot.store import sha256_file

HEIGHT, WIDTH, FOCAL = 240, 320, 300.0


def ground_truth(frames: int = 20, persons: int = 1, seed: int = 0) -> dict:
    """Per row (persons x frames): pose, shape, translation; shot 1 starts at frames // 2 with a closer camera."""
    rng = np.random.default_rng(seed)
    rows = {k: [] for k in ("person_id", "frame_index", "shot_id", "global_orient", "body_pose", "transl")}
    betas = rng.normal(scale=0.5, size=(persons, 10)).astype(np.float32)
    for p in range(persons):
        for f in range(frames):
            shot = int(f >= frames // 2)
            phase = 0.4 * f
            pose = np.zeros(69, np.float32)
            pose[3 * 0 + 0] = 0.4 * np.sin(phase)  # left hip swing
            pose[3 * 1 + 0] = -0.4 * np.sin(phase)  # right hip
            pose[3 * 3 + 0] = 0.3 * (1 + np.sin(phase))  # left knee
            pose[3 * 4 + 0] = 0.3 * (1 - np.sin(phase))  # right knee
            pose[3 * 15 + 2] = -0.8  # left shoulder down
            pose[3 * 16 + 2] = 0.8
            depth = 4.5 if shot == 0 else 3.5
            x = (-0.6 + 1.2 * p) + 0.02 * f
            rows["person_id"].append(p)
            rows["frame_index"].append(f)
            rows["shot_id"].append(shot)
            rows["global_orient"].append(np.array([np.pi, 0.3 * shot, 0.0], np.float32))
            rows["body_pose"].append(pose)
            rows["transl"].append(np.array([x, 0.2, depth], np.float32))
    out = {k: np.asarray(v) for k, v in rows.items()}
    out["betas_person"] = betas
    return out


def body_outputs(model: BodyModel, gt: dict) -> tuple[np.ndarray, np.ndarray]:
    """(M, V, 3) vertices and (M, 45, 3) joints in camera coordinates."""
    with torch.no_grad():
        t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
        out = model(t(gt["global_orient"]), t(gt["body_pose"]), t(gt["betas_person"][gt["person_id"]]),
                    t(gt["transl"]))
    return out.vertices.numpy(), out.joints.numpy()


def write_scene(folder: Path, model: BodyModel, gt: dict, renderer=None) -> dict[str, Path]:
    """Write video.avi, tracklets.npz, keypoints.npz (clean projected BODY_25) and fits.npz (the truth)."""
    from mshot.render import MeshRenderer

    folder.mkdir(parents=True, exist_ok=True)
    vertices, joints = body_outputs(model, gt)
    count = len(gt["person_id"])
    K = intrinsics_matrix(FOCAL, (WIDTH / 2, HEIGHT / 2))
    renderer = renderer or MeshRenderer(WIDTH, HEIGHT, model.faces)
    frames = int(gt["frame_index"].max()) + 1
    video = folder / "video.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (WIDTH, HEIGHT))
    masks, boxes = [], []
    canvas = {f: np.full((HEIGHT, WIDTH, 3), (60, 90, 60) if f < frames // 2 else (90, 60, 60), np.uint8)
              for f in range(frames)}
    for row in range(count):
        mask, colour = renderer.render(vertices[row], K)
        masks.append(mask)
        ys, xs = np.nonzero(mask)
        boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
        canvas[int(gt["frame_index"][row])][mask] = colour[mask][:, ::-1]
    for f in range(frames):
        writer.write(canvas[f])
    writer.release()
    keypoints = np.concatenate([project(body25_joints(joints), FOCAL, K[:2, 2]),
                                np.ones((count, 25, 1))], axis=-1).astype(np.float32)
    frame_shot = np.array([int(f >= frames // 2) for f in range(frames)], np.int32)
    tracklets = {
        "source": "cpu", "image_size": [HEIGHT, WIDTH], "fps": 10.0, "num_frames": frames,
        "frame_shot_id": frame_shot, "mask_source": "segmentation", "person_id": gt["person_id"],
        "frame_index": gt["frame_index"], "time_s": gt["frame_index"] / 10.0, "shot_id": gt["shot_id"],
        "observed": np.ones(count, bool), "bbox_xyxy": np.asarray(boxes, np.float32), "det_conf": np.ones(count),
        "mask_rle": np.array([encode_mask(m) for m in masks]), "global_orient": gt["global_orient"],
        "body_pose": gt["body_pose"], "betas": gt["betas_person"][gt["person_id"]], "transl": gt["transl"],
        "focal_px": np.full(count, FOCAL), "principal_px": np.tile(K[:2, 2], (count, 1)),
    }
    paths = {"video": video, "tracklets": save_tracklets(folder / "tracklets.npz", tracklets)}
    paths["keypoints"] = save_keypoints(folder / "keypoints.npz", {
        "source": "synthetic", "tracklets_sha256": sha256_file(paths["tracklets"])[0],
        "person_id": gt["person_id"], "frame_index": gt["frame_index"], "keypoints_body25": keypoints,
        "match_score": np.ones(count), "det_frame_index": gt["frame_index"], "det_keypoints_body25": keypoints,
        "det_person_id": gt["person_id"]})
    paths["fits"] = save_fits(folder / "fits.npz", {
        "body_model": "generated", "person_id": gt["person_id"], "frame_index": gt["frame_index"],
        "shot_id": gt["shot_id"], "global_orient": gt["global_orient"], "body_pose": gt["body_pose"],
        "transl": gt["transl"], "focal_px": np.full(count, FOCAL), "principal_px": np.tile(K[:2, 2], (count, 1)),
        "valid": np.ones(count, bool), "reproj_px": np.zeros(count), "betas_person_id": np.arange(len(
            gt["betas_person"])), "betas": gt["betas_person"]})
    return paths


def projected_truth(model: BodyModel, gt: dict, rows) -> np.ndarray:
    """(N, 25, 2) pixels: the true BODY_25 joints of `rows` through the scene's camera (what the fit matched)."""
    _, joints = body_outputs(model, gt)
    return project(body25_joints(joints[np.asarray(rows)]), FOCAL, np.array([WIDTH / 2, HEIGHT / 2]))


def silhouette_iou(faces: np.ndarray, vertices_cam: np.ndarray, K: np.ndarray, mask: np.ndarray) -> float:
    """IoU of the mesh's rendered silhouette (vertices (V, 3) metres, camera frame) with a mask (H, W) bool."""
    from mshot.render import MeshRenderer

    renderer = MeshRenderer(mask.shape[1], mask.shape[0], faces)
    silhouette, _ = renderer.render(vertices_cam, K)
    renderer.close()
    return float((silhouette & mask).sum() / max((silhouette | mask).sum(), 1))
