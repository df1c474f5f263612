"""Rotation conversions (numpy). Axis-angle vectors are in radians; matrices act on column vectors.

Shapes: axis-angle (..., 3), rotation matrices (..., 3, 3). Works on any leading batch shape.
"""

from __future__ import annotations

import numpy as np


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula. (..., 3) radians -> (..., 3, 3)."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)  # (..., 1)
    safe = np.where(angle < 1e-12, 1.0, angle)
    axis = aa / safe
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zeros = np.zeros_like(x)
    skew = np.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], axis=-1).reshape(aa.shape[:-1] + (3, 3))
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), skew.shape)
    return eye + s * skew + (1.0 - c) * (skew @ skew)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    """Inverse of `axis_angle_to_matrix`, stable at 0 and at pi. (..., 3, 3) -> (..., 3) radians, angle in [0, pi]."""
    m = np.asarray(matrix, dtype=np.float64)
    batch = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    out = np.zeros((m.shape[0], 3))
    trace = np.trace(m, axis1=1, axis2=2)
    cos = np.clip((trace - 1.0) / 2.0, -1.0, 1.0)
    angle = np.arccos(cos)
    vee = np.stack([m[:, 2, 1] - m[:, 1, 2], m[:, 0, 2] - m[:, 2, 0], m[:, 1, 0] - m[:, 0, 1]], axis=-1)
    sin = np.sin(angle)
    regular = sin > 1e-4
    out[regular] = (angle[regular] / (2.0 * sin[regular]))[:, None] * vee[regular]
    small = (~regular) & (cos > 0)
    out[small] = 0.5 * vee[small]  # angle ~ 0: R ~ I + [w]x
    near_pi = (~regular) & (cos <= 0)
    for i in np.flatnonzero(near_pi):
        # R = 2 n n^T - I at angle pi: take the column of (R + I) / 2 with the largest diagonal entry.
        b = (m[i] + np.eye(3)) / 2.0
        k = int(np.argmax(np.diag(b)))
        n = b[:, k] / np.sqrt(max(b[k, k], 1e-12))
        out[i] = n / np.linalg.norm(n) * angle[i]
    return out.reshape(batch + (3,))


def orthonormalize(matrix: np.ndarray) -> np.ndarray:
    """Nearest rotation matrix (SVD, determinant +1) to each (..., 3, 3); for matrices read from files."""
    u, _, vt = np.linalg.svd(np.asarray(matrix, dtype=np.float64))
    det = np.sign(np.linalg.det(u @ vt))
    u[..., :, -1] *= det[..., None]
    return u @ vt
