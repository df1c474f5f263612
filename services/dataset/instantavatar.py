"""InstantAvatar writer: one fixed camera per dataset, so one dataset per shot (`shot_SS/`).

What InstantAvatar reads (tijiang13/InstantAvatar):
- `instant_avatar/datasets/custom.py`, `CustomDataset.__init__` (the loader for custom videos):
  `cameras.npz` {intrinsic (3,3), extrinsic (4,4) world-to-camera (it inverts it to camera-to-world), height,
  width}; `sorted(glob(images/*.png))[start:end + 1:skip]` and the same slice of `masks/*.png` (grayscale, / 255);
  SMPL from `poses/{split}.npz` for split in train, val, test, not sliced, row n belonging to the n-th image of the
  slice, read by `load_smpl_param` as betas reshaped (1, 10), body_pose (N,69), global_orient (N,3), transl (N,3)
  metres; without `poses/{split}.npz` (or with SMPL fitting on) it slices `poses_optimized.npz` like the images.
- `instant_avatar/datasets/peoplesnapshot.py` reads `masks/*.npy` instead and prefers `poses/anim_nerf_{split}.npz`,
  falling back to `poses/{split}.npz`; so masks are written both ways and the per-split poses once.
- The split's frames are chosen only by `start`, `end`, `skip` in the dataset yaml (`confs/dataset/...`), so
  images are numbered training frames first, then held-out frames; `dataset.yaml` holds those ranges. A shot
  without a held-out frame is not written (the summary says so): it could only validate on a training frame.
- `scripts/custom/refine-smpl.py` (`main`) and the refine path of `peoplesnapshot.py` read `poses.npz` (every
  image's SMPL, as poses_optimized.npz) and `keypoints.npy` (N, 25, 3): BODY_25 x, y pixels and confidence per image.
- GART (JiahuiLei/GART `lib_data/instant_avatar_wild.py`) reads this layout too, but its default split is images
  0-41 / 42-51 unless `start_end_skip` is given (end exclusive, `[start:end:skip]`): `gart_split.json` holds
  {train, val, test: [start, end, skip]} for this shot, to pass as `ins_avt_wild_start_end_skip`.
The body translation stays in `transl` (the camera is the world, extrinsic identity; docs/conventions.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mshot.npzio import save_npz
from services.dataset.cameras import camera_matrices
from services.dataset.files import RowFiles

_DATASET_YAML = """# InstantAvatar dataset config (copy to confs/dataset/mshot/{name}.yaml); written by mshot.
# Images 0..{last_train} are training frames, {first_val}..{last_val} the held-out ones (poses/<split>.npz).
_target_: instant_avatar.datasets.custom.CustomDataModule
name: mshot
subject: {name}
gender: neutral
opt:
  dataroot: ./data/custom/${{dataset.subject}}/
  subject: ${{dataset.subject}}
  train:
    num_workers: 8
    batch_size: 1
    start: 0
    end: {last_train}
    skip: 1
    downscale: 1
    sampler: ${{sampler}}
    fitting: ${{model.opt.optimize_SMPL.enable}}
    refine: ${{model.opt.optimize_SMPL.is_refine}}
{eval_splits}"""

_EVAL_SPLIT = """  {split}:
    num_workers: 4
    batch_size: 1
    start: {first_val}
    end: {last_val}
    skip: 1
    downscale: 1
"""


def _smpl(fits: dict, rows: np.ndarray, betas: np.ndarray) -> dict:
    return {"betas": betas[None], "global_orient": fits["global_orient"][rows], "body_pose": fits["body_pose"][rows],
            "transl": fits["transl"][rows], "frame_index": fits["frame_index"][rows]}


def write_instantavatar(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, split: np.ndarray,
                        betas: np.ndarray, image_size, person: int, keypoints: np.ndarray) -> tuple[list[str], dict]:
    """Write `out/shot_SS/` for each shot of `rows` (time order, `split` 'train'/'val' per row) that has training
    and held-out frames; `keypoints` (R, 25, 3) per artifact row. Returns (folder names, {shot folder: why not})."""
    written, skipped = [], {}
    for shot in np.unique(fits["shot_id"][rows]):
        in_shot = fits["shot_id"][rows] == shot
        train, val = rows[in_shot & (split == "train")], rows[in_shot & (split == "val")]
        if len(train) == 0 or len(val) == 0:
            skipped[f"shot_{int(shot):02d}"] = (f"{len(train)} training and {len(val)} held-out frame(s) in this shot; "
                                                "instantavatar needs at least 1 of each per shot")
            continue
        ordered = np.concatenate([train, val])
        folder = out / f"shot_{int(shot):02d}"
        for sub in ("images", "masks", "poses"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        for n, r in enumerate(ordered):
            files.image_png(r, folder / "images" / f"image_{n:04d}.png")
            files.mask_png(r, folder / "masks" / f"mask_{n:04d}.png")
            files.mask_npy(r, folder / "masks" / f"mask_{n:04d}.npy")
        K = camera_matrices(fits, ordered[:1])[0]
        save_npz(folder / "cameras.npz", {"intrinsic": K, "extrinsic": np.eye(4), "height": int(image_size[0]),
                                          "width": int(image_size[1])}, compress=False)
        first_val = len(train)
        for name, chosen in (("train", train), ("val", val), ("test", val)):
            save_npz(folder / "poses" / f"{name}.npz", _smpl(fits, chosen, betas), compress=False)
        for name in ("poses_optimized.npz", "poses.npz"):
            save_npz(folder / name, _smpl(fits, ordered, betas), compress=False)
        np.save(folder / "keypoints.npy", keypoints[ordered].astype(np.float32))
        (folder / "gart_split.json").write_text(json.dumps(
            {"train": [0, len(train), 1], "val": [first_val, len(ordered), 1], "test": [first_val, len(ordered), 1]}))
        name = f"person_{person:03d}_{folder.name}"
        last_val = len(ordered) - 1
        eval_splits = "".join(_EVAL_SPLIT.format(split=s, first_val=first_val, last_val=last_val)
                              for s in ("val", "test"))
        (folder / "dataset.yaml").write_text(_DATASET_YAML.format(
            name=name, last_train=len(train) - 1, first_val=first_val, last_val=last_val, eval_splits=eval_splits))
        written.append(folder.name)
    return written, skipped
