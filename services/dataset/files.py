"""The export's per-row files, each encoded once: the first format that asks for a row's image, mask or vertices
gets the file written at its place; every later one gets a hard link to that file (a copy where the filesystem
has no hard links), so the export, its archive and the downloaded result hold each content once however many
formats use it. The bytes are what each format's loader reads (exporters.py and the format modules say which)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

# zlib level 1 with its default strategy: on 640x360 frames ~30 % faster than OpenCV's default PNG setting (level
# 1, run-length strategy) and ~15 % smaller; lossless either way. Masks keep OpenCV's default (best on 0/255).
IMAGE_PNG = [cv2.IMWRITE_PNG_COMPRESSION, 1]
JPEG = [cv2.IMWRITE_JPEG_QUALITY, 95]
WRITER_THREADS = 4  # PNG encoding and file writes release the GIL


def link_or_copy(source: Path, destination: Path) -> None:
    """`destination` becomes a hard link to `source` (a copy where hard links are refused)."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copyfile(source, destination)


def _write_image(path: Path, image: np.ndarray, params: list[int]) -> None:
    ok, encoded = cv2.imencode(path.suffix, image, params)
    if not ok:
        raise OSError(f"could not encode {path}")
    path.write_bytes(encoded.tobytes())


class RowFiles:
    """Per artifact row: `frames` {row: (H, W, 3) BGR}, `masks` {row: (H, W) bool}, `meshes(row)` (V, 3) float32
    metres (bodies.FittedMeshes). Each method writes `destination` (its parent folder must exist)."""

    def __init__(self, frames: dict[int, np.ndarray], masks: dict[int, np.ndarray], meshes):
        self.frames, self.masks, self.meshes = frames, masks, meshes
        self._first: dict[tuple[str, int], Path] = {}

    def write_pngs(self, rows, image_folder: Path, mask_folder: Path, name: Callable[[int], str]) -> None:
        """Every row's image and mask PNG at `image_folder/name(row)` and `mask_folder/name(row)`, in parallel."""
        jobs = [(kind, int(r), folder / name(int(r))) for r in rows
                for kind, folder in (("image.png", image_folder), ("mask.png", mask_folder))]
        with ThreadPoolExecutor(WRITER_THREADS) as pool:
            list(pool.map(lambda job: self._encode(*job), jobs))
        self._first.update({(kind, row): path for kind, row, path in jobs})

    def image_png(self, row: int, destination: Path) -> None:
        self._place("image.png", row, destination)

    def mask_png(self, row: int, destination: Path) -> None:
        """255 = person, 0 = not."""
        self._place("mask.png", row, destination)

    def image_jpeg(self, row: int, destination: Path) -> None:
        """JPEG quality 95."""
        self._place("image.jpg", row, destination)

    def mask_npy(self, row: int, destination: Path) -> None:
        """(H, W) uint8, 1 = person."""
        self._place("mask.npy", row, destination)

    def vertices_npy(self, row: int, destination: Path) -> None:
        """(V, 3) float32 metres, camera frame."""
        self._place("vertices.npy", row, destination)

    def _place(self, kind: str, row: int, destination: Path) -> None:
        first = self._first.get((kind, int(row)))
        if first is not None:
            link_or_copy(first, destination)
            return
        self._encode(kind, int(row), destination)
        self._first[(kind, int(row))] = destination

    def _encode(self, kind: str, row: int, destination: Path) -> None:
        if kind == "image.png":
            _write_image(destination, self.frames[row], IMAGE_PNG)
        elif kind == "mask.png":
            _write_image(destination, self.masks[row].astype(np.uint8) * 255, [])
        elif kind == "image.jpg":
            _write_image(destination, self.frames[row], JPEG)
        elif kind == "mask.npy":
            np.save(destination, np.ascontiguousarray(self.masks[row], np.uint8))
        else:
            np.save(destination, np.asarray(self.meshes(row), np.float32))
