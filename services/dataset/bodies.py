"""The fitted bodies of an export's rows, each made once and shared by the selection gates, the formats, the
motion files and the previews: the SMPL vertices (posed in batches) and the render (silhouette and shading)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mshot.render import MeshRenderer, overlay
from services.dataset.cameras import camera_matrices

BATCH_ROWS = 64  # rows posed per body-model call (one call per row costs ~30x more per row)


class FittedMeshes:
    """`meshes(row)` -> (V, 3) float32 vertices, metres, camera frame, of the row's fitted SMPL body. The first
    call poses every fitted (valid) row in batches; a row that is not fitted is posed on its own when asked for."""

    def __init__(self, body_model, fits: dict, betas: np.ndarray):
        self.body_model, self.fits, self.betas = body_model, fits, betas
        self._vertices: dict[int, np.ndarray] = {}

    def __call__(self, row: int) -> np.ndarray:
        row = int(row)
        if not self._vertices:
            self._pose(np.flatnonzero(self.fits["valid"]))
        if row not in self._vertices:
            self._pose(np.array([row]))
        return self._vertices[row]

    def _pose(self, rows: np.ndarray) -> None:
        for start in range(0, len(rows), BATCH_ROWS):
            batch = rows[start:start + BATCH_ROWS]
            arrays = (self.fits["global_orient"], self.fits["body_pose"], self.betas, self.fits["transl"])
            with torch.no_grad():
                out = self.body_model(*(torch.tensor(np.asarray(a)[batch], dtype=torch.float32) for a in arrays))
            self._vertices.update(zip(batch.tolist(), out.vertices.numpy(), strict=True))


@dataclass(frozen=True)
class _Render:
    window: tuple[slice, slice]  # rows, columns of the image the body covers
    mask: np.ndarray  # (h, w) bool, the silhouette in the window
    colour: np.ndarray  # (h, w, 3) uint8 RGB shading in the window


class RowRenders:
    """Each row's fitted body rendered once with the row's camera: `silhouette(row)` (H, W) bool and
    `overlay(row, frame)` (H, W, 3) BGR, the shaded body blended over the frame. Kept as the body's window only
    (a few tens of kB a row)."""

    def __init__(self, renderer: MeshRenderer, meshes: FittedMeshes, fits: dict):
        self.renderer, self.meshes, self.fits = renderer, meshes, fits
        self._renders: dict[int, _Render] = {}

    def silhouette(self, row: int) -> np.ndarray:
        render = self._render(row)
        full = np.zeros((self.renderer.height, self.renderer.width), bool)
        full[render.window] = render.mask
        return full

    def overlay(self, row: int, frame_bgr: np.ndarray) -> np.ndarray:
        render = self._render(row)
        out = frame_bgr.copy()
        out[render.window] = overlay(frame_bgr[render.window], render.mask, render.colour)
        return out

    def _render(self, row: int) -> _Render:
        row = int(row)
        if row not in self._renders:
            mask, colour = self.renderer.render(self.meshes(row), camera_matrices(self.fits, [row])[0])
            ys, xs = np.nonzero(mask)
            window = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)) if len(xs) else (
                slice(0, 0), slice(0, 0))
            self._renders[row] = _Render(window, mask[window].copy(), colour[window].copy())
        return self._renders[row]
