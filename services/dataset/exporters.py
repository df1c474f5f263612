"""Writers of the per-person training sets. Conventions (docs/conventions.md): OpenCV camera axes, metres,
the video camera as world (extrinsics identity), smplx semantics for the body.

- bundle (mshot's own): images/ and masks/ PNG, smpl.npz (frame_index, split, global_orient, body_pose,
  transl, betas (10,)), cameras.npz (frame_index, K (N,3,3), R (N,3,3), t (N,3), image_size [H, W]).
- humannerf ("wild" layout, chungyiweng/humannerf `tools/prepare_wild/prepare_dataset.py` reads it): images/,
  masks/, metadata.json {frame: {poses (72), betas (10), cam_intrinsics (3x3), cam_extrinsics (4x4)}}; the format
  has no translation, so the body translation is folded into the extrinsics: x_cam = I x_body + transl.
  HumanNeRF trains on every image of the folder, so `humannerf/` holds the training frames only and
  `humannerf_val/` the held-out ones, in the same layout.
- neuralbody, easymocap: zju.py; neuralbody_monocular: neuralbody_monocular.py; instantavatar (and GART):
  instantavatar.py; vid2avatar: vid2avatar.py; bvh, gltf: motion.py. Formats and minimums: formats.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mshot.npzio import save_npz
from services.dataset.cameras import camera_matrices
from services.dataset.files import RowFiles


def write_bundle(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, split: np.ndarray, betas: np.ndarray,
                 image_size) -> None:
    for sub in ("images", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    files.write_pngs(rows, out / "images", out / "masks", lambda r: f"{int(fits['frame_index'][r]):06d}.png")
    save_npz(out / "smpl.npz", {"frame_index": fits["frame_index"][rows], "split": split,
                                "global_orient": fits["global_orient"][rows], "body_pose": fits["body_pose"][rows],
                                "transl": fits["transl"][rows], "betas": betas})
    count = len(rows)
    save_npz(out / "cameras.npz", {"frame_index": fits["frame_index"][rows], "K": camera_matrices(fits, rows),
                                   "R": np.tile(np.eye(3), (count, 1, 1)), "t": np.zeros((count, 3)),
                                   "image_size": np.asarray(image_size)})


def write_humannerf(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, betas: np.ndarray) -> None:
    for sub in ("images", "masks"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    metadata = {}
    for r, K in zip(rows, camera_matrices(fits, rows), strict=True):
        frame = f"{int(fits['frame_index'][r]):06d}"
        files.image_png(r, out / "images" / f"{frame}.png")
        files.mask_png(r, out / "masks" / f"{frame}.png")
        extrinsics = np.eye(4)
        extrinsics[:3, 3] = fits["transl"][r]
        metadata[frame] = {
            "poses": np.concatenate([fits["global_orient"][r], fits["body_pose"][r]]).astype(float).tolist(),
            "betas": betas.astype(float).tolist(), "cam_intrinsics": K.tolist(), "cam_extrinsics": extrinsics.tolist(),
        }
    (out / "metadata.json").write_text(json.dumps(metadata, indent=1))
