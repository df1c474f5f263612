"""fits.npz (`mshot.fits/1`): SMPL fitted per person across shots (docs/artifacts.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.artifacts.schema import Schema, b, f, i, s

FITS = Schema("mshot.fits/1", "fits", {
    "body_model": s(), "person_id": i("M"), "frame_index": i("M"), "shot_id": i("M"), "global_orient": f("M", 3),
    "body_pose": f("M", 69), "transl": f("M", 3), "focal_px": f("M"), "principal_px": f("M", 2), "valid": b("M"),
    "reproj_px": f("M"), "betas_person_id": i("P"), "betas": f("P", 10),
})


def load_fits(path: str | Path) -> dict[str, np.ndarray]:
    return FITS.load(path)


def save_fits(path: str | Path, data: dict) -> Path:
    return FITS.save(path, data)


def row_betas(fits: dict) -> np.ndarray:
    """(M, 10): each row's person's betas."""
    index = np.searchsorted(fits["betas_person_id"], fits["person_id"])
    return fits["betas"][index]
