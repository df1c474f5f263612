"""The exported cameras: per-row intrinsics from the fits; the video camera is the world (docs/conventions.md)."""

from __future__ import annotations

import numpy as np

from mshot.errors import FailedPrecondition
from mshot.geometry.camera import intrinsics_matrix


def camera_matrices(fits: dict, rows) -> np.ndarray:
    """K (N, 3, 3) of the fitted rows."""
    return np.stack([intrinsics_matrix(fits["focal_px"][r], fits["principal_px"][r]) for r in rows])


def shared_intrinsics(fits: dict, rows: np.ndarray, what: str) -> np.ndarray:
    """K (3, 3) common to every row, for formats with one camera for the whole sequence; FailedPrecondition
    naming the frames whose intrinsics differ otherwise."""
    K = camera_matrices(fits, rows)
    differ = np.flatnonzero(np.abs(K - K[0]).max(axis=(1, 2)) > 1e-6)
    if len(differ):
        frames = fits["frame_index"][rows[differ]][:5].tolist()
        raise FailedPrecondition(
            f"{what} has one camera for all frames, but frames {frames} have intrinsics different from frame "
            f"{int(fits['frame_index'][rows[0]])} (focal/principal point): export instantavatar (one camera per "
            "shot) or choose fewer formats")
    return K[0]
