"""The fitted bodies of a fits artifact's rows posed once, in batches (one body-model call per row costs ~30x
more per row): shared by the dataset stage (gates, formats, motion, previews) and the result overlay."""

from __future__ import annotations

import numpy as np
import torch

from mshot.artifacts.fits import row_betas

BATCH_ROWS = 64  # rows posed per body-model call


class FittedMeshes:
    """`meshes(row)` -> (V, 3) float32 vertices, metres, camera frame, of the row's fitted SMPL body (fits: the
    canonical fits artifact, mshot/artifacts/fits.py). The first call poses every fitted (valid) row; a row that
    is not fitted is posed on its own when asked for."""

    def __init__(self, body_model, fits: dict):
        self.body_model, self.fits, self.betas = body_model, fits, row_betas(fits)
        self._vertices: dict[int, np.ndarray] = {}

    def __call__(self, row: int) -> np.ndarray:
        row = int(row)
        if not self._vertices:
            self._pose(np.flatnonzero(self.fits["valid"]))
        if row not in self._vertices:
            self._pose(np.array([row]))
        return self._vertices[row]

    def _pose(self, rows: np.ndarray) -> None:
        arrays = (self.fits["global_orient"], self.fits["body_pose"], self.betas, self.fits["transl"])
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start:start + BATCH_ROWS]
            with torch.no_grad():
                out = self.body_model(*(torch.tensor(np.asarray(a)[batch], dtype=torch.float32) for a in arrays))
            self._vertices.update(zip(batch.tolist(), out.vertices.numpy(), strict=True))
