"""The dataset stage's row files: each row's image, mask and vertices encoded once, every other place a hard link
to the same bytes, and those bytes what the formats read (lossless PNG, JPEG 95, 0/255 masks, uint8 0/1 npy)."""

from __future__ import annotations

import os

import cv2
import numpy as np

from services.dataset.files import RowFiles


def _files(tmp_path):
    rng = np.random.default_rng(0)
    frames = {3: rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)}
    mask = np.zeros((20, 30), bool)
    mask[5:15, 10:20] = True
    meshes = lambda row: np.full((4, 3), row, np.float64)  # noqa: E731
    return RowFiles(frames, {3: np.asfortranarray(mask)}, meshes), frames[3], mask


def test_a_rows_png_is_written_once_and_hard_linked_at_every_other_place(tmp_path):
    files, frame, mask = _files(tmp_path)
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    files.write_pngs([3], tmp_path / "images", tmp_path / "masks", lambda row: f"{row:06d}.png")
    files.image_png(3, tmp_path / "copy.png")
    files.mask_png(3, tmp_path / "mask_copy.png")
    assert os.path.samefile(tmp_path / "images" / "000003.png", tmp_path / "copy.png")
    assert os.path.samefile(tmp_path / "masks" / "000003.png", tmp_path / "mask_copy.png")
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "copy.png")), frame)  # lossless
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "mask_copy.png"), cv2.IMREAD_GRAYSCALE), mask * 255)


def test_jpeg_mask_npy_and_vertices_are_encoded_on_first_request_then_linked(tmp_path):
    files, frame, mask = _files(tmp_path)
    files.image_jpeg(3, tmp_path / "a.jpg")
    files.image_jpeg(3, tmp_path / "b.jpg")
    assert os.path.samefile(tmp_path / "a.jpg", tmp_path / "b.jpg")
    ok, expected = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert (tmp_path / "a.jpg").read_bytes() == expected.tobytes()
    files.mask_npy(3, tmp_path / "m.npy")
    saved = np.load(tmp_path / "m.npy")
    assert saved.dtype == np.uint8 and saved.flags.c_contiguous
    np.testing.assert_array_equal(saved, mask.astype(np.uint8))
    files.vertices_npy(3, tmp_path / "v1.npy")
    files.vertices_npy(3, tmp_path / "v2.npy")
    assert os.path.samefile(tmp_path / "v1.npy", tmp_path / "v2.npy")
    vertices = np.load(tmp_path / "v1.npy")
    assert vertices.dtype == np.float32 and vertices.shape == (4, 3) and (vertices == 3).all()
