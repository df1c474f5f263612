"""Pinhole cameras in the project's one convention (docs/conventions.md).

Camera frame: OpenCV axes - x right, y down, z forward (away from the camera into the scene), metres.
Image: pixels, x to the right, y down, (0, 0) at the centre of the top-left pixel.
Intrinsics: square pixels, focal length `focal_px`, principal point `principal_px` (cx, cy); by default the
image centre (W / 2, H / 2) as PHALP, 4D-Humans and the multishot reference assume.
Extrinsics (world-to-camera): x_cam = R @ x_world + t.
Depth: `project` divides by max(z, MIN_DEPTH_M), as the torch version does (mshot/geometry/torch_ops.py), so both
agree everywhere; a point closer than 1 cm (or behind the camera) is not meaningfully projected by either.
"""

from __future__ import annotations

import math

import numpy as np

from mshot.errors import InvalidInput

MIN_DEPTH_M = 1e-2  # metres: the depth `project` divides by at least (both numpy and torch)

# OpenCV camera axes (x right, y down, z forward) -> OpenGL's camera axes (x right, y up, z towards the viewer):
# a half turn about x (det +1). Also the y-up frame of exports whose readers expect y up (docs/conventions.md).
OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0])

# SMPL's body frame is y up, the person facing +z: turned by pi about x (axis-angle, radians) it stands upright
# (head towards -y) facing an OpenCV camera (looking along -z). As a matrix it is OPENCV_TO_OPENGL.
SMPL_FACING_CAMERA = np.array([np.pi, 0.0, 0.0])


def default_focal_px(height: int, width: int) -> float:
    """The focal length (px) assumed for a video without one: the image's larger side, a typical video camera
    (a 53-degree field of view across that side)."""
    return 1.0 * max(height, width)


# A focal length a user gives (TrackingOptions.focal_px), in multiples of max(H, W): 0.1x is a 157-degree field of
# view across the larger side, 100x 0.6 degrees. Outside that it is a wrong unit (millimetres, a 35 mm-equivalent
# figure) or a typo, not a lens. PHALP's own camera (19.5x, services/tracking/phalp/camera.py) lies inside.
GIVEN_FOCAL_RANGE = (0.1, 100.0)


def check_given_focal(focal_px: float, field: str, height: int | None = None, width: int | None = None) -> None:
    """InvalidInput naming `field` unless `focal_px` is 0 (not given) or a finite focal length > 0 px; with the
    image size (px) also unless it lies within GIVEN_FOCAL_RANGE x max(H, W)."""
    if focal_px == 0:
        return
    if not (math.isfinite(focal_px) and focal_px > 0):
        raise InvalidInput(f"{field}={focal_px} is not a focal length: expected a finite number of pixels > 0 "
                           "(0 = not given: max(H, W) is assumed)")
    if height is not None and width is not None:
        low, high = (k * default_focal_px(height, width) for k in GIVEN_FOCAL_RANGE)
        if not low <= focal_px <= high:
            raise InvalidInput(f"{field}={focal_px:g} px is out of range for {width}x{height} frames: expected "
                               f"{low:g} to {high:g} px ({GIVEN_FOCAL_RANGE[0]:g} to {GIVEN_FOCAL_RANGE[1]:g} x "
                               "max(H, W)); a focal length in millimetres must be converted to pixels first")


def intrinsics_matrix(focal_px: float, principal_px: tuple[float, float] | np.ndarray) -> np.ndarray:
    """K (3, 3) for square pixels."""
    cx, cy = principal_px
    return np.array([[focal_px, 0.0, cx], [0.0, focal_px, cy], [0.0, 0.0, 1.0]])


def image_centre(height: int, width: int) -> np.ndarray:
    """Default principal point (2,) = (W / 2, H / 2) pixels."""
    return np.array([width / 2.0, height / 2.0])


def project(points_cam: np.ndarray, focal_px: np.ndarray | float, principal_px: np.ndarray) -> np.ndarray:
    """Perspective projection. points_cam (..., J, 3) metres, focal_px scalar or (...,), principal_px (2,) or (..., 2)
    -> pixels (..., J, 2). Depth clamped at MIN_DEPTH_M (points are meant to be in front of the camera)."""
    p = np.asarray(points_cam, dtype=np.float64)
    f = np.asarray(focal_px, dtype=np.float64)[..., None, None]
    c = np.asarray(principal_px, dtype=np.float64)[..., None, :]
    return f * p[..., :2] / np.maximum(p[..., 2:3], MIN_DEPTH_M) + c


def back_project(pixels: np.ndarray, depth_m: np.ndarray | float, focal_px: np.ndarray | float,
                 principal_px: np.ndarray) -> np.ndarray:
    """The camera-frame point (..., 3) metres at depth `depth_m` (scalar or (...,)) on the ray through `pixels`
    (..., 2) px: x = (u - cx) * z / f, y = (v - cy) * z / f; focal_px scalar or (...,), principal_px (2,) or
    (..., 2). The inverse of `project` for z >= MIN_DEPTH_M."""
    z = np.asarray(depth_m, dtype=np.float64)[..., None]
    f = np.asarray(focal_px, dtype=np.float64)[..., None]
    xy = (np.asarray(pixels, dtype=np.float64) - np.asarray(principal_px, dtype=np.float64)) * z / f
    return np.concatenate([xy, np.broadcast_to(z, xy.shape[:-1] + (1,))], axis=-1)


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
