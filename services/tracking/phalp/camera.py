"""PHALP's camera conventions, converted to the project's full-image pinhole camera (docs/conventions.md).

PHALP (every layout) places the image of H x W pixels centred in a padded S x S square, S = max(H, W), the
offsets being left = (S - W) // 2 and top = (S - H) // 2 (integer division, as PHALP computes them), and
resizes that square to 256 x 256 (`render.res`). There it projects with focal 5000 (`EXTRA.FOCAL_LENGTH`) and
the principal point at the square's centre (128, 128):
    u_256 = 5000 * (X + t)_x / (Z + t)_z + 128, and stored `2d_joints` = u_256 / 256 (so in 0..1 over the square).
- `camera` is t, the body's root translation in metres (smplx `transl` semantics: joints = J(pose) + t);
- `camera_bbox` is HMR's weak-perspective crop camera [s, tx, ty] for the person's box (centre c, side b px,
  PHALP's `center` and max(`scale`)): t_z = 2 * 5000 / (s * b_256), t_xy = [tx, ty] + (c_256 - 128) * t_z / 5000.
Undoing the resize and the padding gives the full image's pinhole: focal 5000 * S / 256 px, principal point
(S/2 - left, S/2 - top) px (= the image centre when S - W and S - H are even), and the same t.

That focal, 5000 * S / 256 = 19.5 x max(H, W) (a 2.9-degree field of view), is HMR's crop camera, not the lens:
PHALP's depths are about 19.5 / (true focal / max(H, W)) times too far, and bodies look almost orthographic. With
a focal length the user gives, `transl_at_focal` keeps each person where PHALP sees them in the image and moves
them to the depth that focal implies.
"""

from __future__ import annotations

import numpy as np

from mshot.geometry.camera import back_project

PHALP_FOCAL = 5000.0  # px, in the 256-pixel square
PHALP_RES = 256.0  # side of the square PHALP works in


def padding(height: int, width: int) -> tuple[int, int, int]:
    """(S, left, top): the padded square's side and the image's offset in it, px."""
    side = max(height, width)
    return side, (side - width) // 2, (side - height) // 2


def full_image_intrinsics(height: int, width: int) -> tuple[float, np.ndarray]:
    """(focal_px, principal_px (2,)) of PHALP's camera expressed on the full H x W image."""
    side, left, top = padding(height, width)
    return PHALP_FOCAL * side / PHALP_RES, np.array([side / 2.0 - left, side / 2.0 - top])


def transl_from_camera_bbox(camera_bbox: np.ndarray, center_px: np.ndarray, box_side_px: np.ndarray, height: int,
                            width: int) -> np.ndarray:
    """Weak-perspective crop cameras [s, tx, ty] (N, 3) of boxes centred at center_px (N, 2) with side
    box_side_px (N,) (full-image pixels) -> root translations (N, 3) m for `full_image_intrinsics`."""
    cam = np.asarray(camera_bbox, dtype=np.float64).reshape(-1, 3)
    focal, principal = full_image_intrinsics(height, width)
    side = np.asarray(box_side_px, dtype=np.float64).reshape(-1)
    tz = 2.0 * focal / (cam[:, 0] * side + 1e-9)  # = 2 * 5000 / (s * b_256): focal and side share the resize
    # the box centre's ray at depth tz, shifted by the crop camera's [tx, ty]
    centre_ray = back_project(np.asarray(center_px, dtype=np.float64).reshape(-1, 2), tz, focal, principal)
    return centre_ray + np.column_stack([cam[:, 1:3], np.zeros(len(cam))])


def joints_2d_to_pixels(joints_2d: np.ndarray, height: int, width: int) -> np.ndarray:
    """PHALP `2d_joints` (..., 2J) or (..., J, 2), normalised over the padded square -> full-image px (..., J, 2)."""
    side, left, top = padding(height, width)
    points = np.asarray(joints_2d, dtype=np.float64)
    points = points.reshape(points.shape[:-1] + (-1, 2)) if points.shape[-1] != 2 else points
    return points * side - np.array([left, top])


def transl_at_focal(transl: np.ndarray, implied_focal_px: float, focal_px: float) -> np.ndarray:
    """Root translations (N, 3) m for a camera of `implied_focal_px` (PHALP's) -> for one of `focal_px` (both px,
    same principal point): depth times focal_px / implied_focal_px, x and y kept. The translation point then
    projects to the same pixel (f * x / z is unchanged) and the body keeps its image size (f * size / z); joints
    at a depth offset d from it move by the perspective of d against the new depth only (a few px for a body)."""
    scaled = np.array(transl, dtype=np.float64).reshape(-1, 3)
    scaled[:, 2] *= focal_px / implied_focal_px
    return scaled
