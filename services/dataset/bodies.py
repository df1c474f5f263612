"""Each export row's fitted body rendered once, shared by the silhouette gate and the previews."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mshot.body.posed import FittedMeshes
from mshot.render import MeshRenderer, overlay
from services.dataset.cameras import camera_matrices


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
