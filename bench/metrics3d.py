"""Accuracy metrics for fitted bodies, in millimetres and pixels."""

from __future__ import annotations

import numpy as np
import torch


def smpl_joints(model, orient, pose, betas, transl) -> np.ndarray:
    """(B, 45, 3) metres: a mshot.body.model.BodyModel's joints for (B, 3), (B, 69), (B, 10), (B, 3) arrays."""
    t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)  # noqa: E731
    with torch.no_grad():
        return model(t(orient), t(pose), t(betas), t(transl)).joints.numpy()


def mpjpe_mm(pred: np.ndarray, true: np.ndarray) -> float:
    """Mean per-joint position error after aligning the pelvis (joint 0). (N, J, 3) metres -> mm."""
    return float(np.linalg.norm((pred - pred[:, :1]) - (true - true[:, :1]), axis=-1).mean() * 1000)


def procrustes_align(pred: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Similarity transform (rotation, scale, translation) of each pred (J, 3) onto true (J, 3)."""
    mu_p, mu_t = pred.mean(0), true.mean(0)
    p, t = pred - mu_p, true - mu_t
    u, s, vt = np.linalg.svd(p.T @ t)
    d = np.sign(np.linalg.det(u @ vt))
    s[-1] *= d
    u[:, -1] *= d
    rotation = u @ vt
    scale = s.sum() / (p ** 2).sum()
    return scale * p @ rotation + mu_t


def pa_mpjpe_mm(pred: np.ndarray, true: np.ndarray) -> float:
    aligned = np.stack([procrustes_align(p, t) for p, t in zip(pred, true, strict=True)])
    return float(np.linalg.norm(aligned - true, axis=-1).mean() * 1000)


def pelvis_error_mm(pred: np.ndarray, true: np.ndarray) -> float:
    return float(np.linalg.norm(pred[:, 0] - true[:, 0], axis=-1).mean() * 1000)


def acceleration_error_mm(pred: np.ndarray, true: np.ndarray, segment: np.ndarray) -> float:
    """Mean |second difference| error of root-relative joints over triples inside one segment (shot, person)."""
    rel_p, rel_t = pred - pred[:, :1], true - true[:, :1]
    ok = (segment[:-2] == segment[1:-1]) & (segment[1:-1] == segment[2:])
    acc = lambda x: x[:-2] - 2 * x[1:-1] + x[2:]  # noqa: E731
    return float(np.linalg.norm(acc(rel_p)[ok] - acc(rel_t)[ok], axis=-1).mean() * 1000)


def error_2d_px(pred_px: np.ndarray, true_px: np.ndarray) -> float:
    return float(np.linalg.norm(pred_px - true_px, axis=-1).mean())
