"""Shared by the probes that scripts/check_upstream_loaders.py runs inside an upstream checkout's environment.
Nothing here is mshot code: the probe runs under the upstream project's interpreter, with only its dependencies
(plus smplx, to rebuild the body the loader hands out)."""

import json
import os

import numpy as np
import smplx
import torch

ARGS = json.loads(os.environ["MSHOT_PROBE"])
_MODEL = smplx.SMPL(model_path=ARGS["body_model"])


def smpl_vertices(global_orient, body_pose, betas, transl=(0.0, 0.0, 0.0)) -> np.ndarray:
    """smplx SMPL vertices (V, 3) metres: global_orient (3,) about the rest pelvis, body_pose (69,), betas (10,)."""
    def t(x, n):
        return torch.tensor(np.asarray(x, np.float32).reshape(1, n))
    with torch.no_grad():
        out = _MODEL(global_orient=t(global_orient, 3), body_pose=t(body_pose, 69), betas=t(betas, 10),
                     transl=t(transl, 3))
    return out.vertices[0].numpy().astype(np.float64)


def inside_mask(points_camera: np.ndarray, K: np.ndarray, mask: np.ndarray) -> float:
    """Fraction of points (V, 3) in camera coordinates whose pinhole projection lands on a mask pixel (> 0)."""
    K = np.asarray(K, np.float64)[:3, :3]
    mask = mask[..., 0] if mask.ndim == 3 else mask  # loaders that read masks as RGB images
    uv = points_camera @ K.T
    uv = uv[:, :2] / np.maximum(uv[:, 2:], 1e-9)
    h, w = mask.shape[:2]
    x, y = np.round(uv[:, 0]).astype(int), np.round(uv[:, 1]).astype(int)
    ok = (x >= 0) & (x < w) & (y >= 0) & (y < h) & (points_camera[:, 2] > 0)
    hit = np.zeros(len(uv), bool)
    hit[ok] = mask[y[ok], x[ok]] > 0
    return float(hit.mean())


def emit(items: int, fractions: list[float], note: str = "") -> None:
    print("MSHOT_RESULT " + json.dumps({"items": int(items), "inside": fractions, "note": note}), flush=True)


def sample(n: int) -> list[int]:
    """The indices of up to ARGS['items'] items spread over 0..n-1."""
    count = min(n, int(ARGS.get("items", 3)))
    return sorted({int(i) for i in np.linspace(0, n - 1, count)}) if n else []
