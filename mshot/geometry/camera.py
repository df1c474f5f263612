"""Pinhole cameras in the project's one convention (docs/conventions.md).

Camera frame: OpenCV axes - x right, y down, z forward (away from the camera into the scene), metres.
Image: pixels, x to the right, y down, (0, 0) at the centre of the top-left pixel.
Intrinsics: square pixels, focal length `focal_px`, principal point `principal_px` (cx, cy); by default the
image centre (W / 2, H / 2) as PHALP, 4D-Humans and the multishot reference assume.
Extrinsics (world-to-camera): x_cam = R @ x_world + t.
"""

from __future__ import annotations

import numpy as np


def intrinsics_matrix(focal_px: float, principal_px: tuple[float, float] | np.ndarray) -> np.ndarray:
    """K (3, 3) for square pixels."""
    cx, cy = principal_px
    return np.array([[focal_px, 0.0, cx], [0.0, focal_px, cy], [0.0, 0.0, 1.0]])


def image_centre(height: int, width: int) -> np.ndarray:
    """Default principal point (2,) = (W / 2, H / 2) pixels."""
    return np.array([width / 2.0, height / 2.0])


def project(points_cam: np.ndarray, focal_px: np.ndarray | float, principal_px: np.ndarray) -> np.ndarray:
    """Perspective projection. points_cam (..., J, 3) metres, focal_px scalar or (...,), principal_px (2,) or (..., 2)
    -> pixels (..., J, 2). Points must be in front of the camera (z > 0)."""
    p = np.asarray(points_cam, dtype=np.float64)
    f = np.asarray(focal_px, dtype=np.float64)[..., None, None]
    c = np.asarray(principal_px, dtype=np.float64)[..., None, :]
    return f * p[..., :2] / p[..., 2:3] + c


def ray_rotation(pixels: np.ndarray, focal_px: np.ndarray | float, principal_px: np.ndarray) -> np.ndarray:
    """(..., 3, 3) the smallest rotation taking the optical axis (0, 0, 1) onto the viewing ray through each
    pixel: pixels (..., 2) px, focal_px scalar or (...,), principal_px (2,) or (..., 2). A direction seen by a
    model that looks along that ray (a person crop's own camera) maps into the camera frame as R @ d."""
    from mshot.geometry.rotations import axis_angle_to_matrix

    f = np.asarray(focal_px, dtype=np.float64)[..., None]
    xy = (np.asarray(pixels, dtype=np.float64) - np.asarray(principal_px, dtype=np.float64)) / f
    ray = np.concatenate([xy, np.ones_like(xy[..., :1])], axis=-1)
    ray /= np.linalg.norm(ray, axis=-1, keepdims=True)
    axis = np.stack([-ray[..., 1], ray[..., 0], np.zeros_like(ray[..., 0])], axis=-1)  # z x ray
    sine = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(sine, ray[..., 2:3])
    return axis_angle_to_matrix(axis / np.maximum(sine, 1e-12) * angle)
