"""Neural Body's monocular (People-Snapshot) layout, which its custom-data README offers for monocular video.

What Neural Body reads (zju3dv/neuralbody `lib/datasets/light_stage/monocular_dataset.py`, `Dataset.__init__`,
`prepare_input`, `__getitem__`; `lib/utils/snapshot_data_utils.py` `get_camera`; `tools/process_snapshot.py`
for the params file; `configs/snapshot_exp/snapshot_f3c.yaml`):
- camera.pkl: a pickle (latin1-readable) dict {camera_f (2,) px, camera_c (2,) px, camera_k (5,) distortion};
  R identity, T zero: the video camera is the world (docs/conventions.md);
- params.npy (np.save of a dict, read with allow_pickle): pose (N, 72) whose first 3 are Rh, trans (N, 3) = Th
  metres, beta (1, 10); the loader maps world points into the body frame as (x - Th) R(Rh), so Rh/Th are the
  origin-centred parameters of `zju.rh_th_params`;
- image/{i}.jpg, mask/{i}.png (foreground != 0), vertices/{i}.npy (V, 3) world metres, i = 0..N-1, also the
  latent code index.
Its dataset length is `num_train_frame` for both splits, so the training frames come first (0..n_train-1) and
the held-out ones after them, outside what it trains on; `frames.csv` maps i to the video frame.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from services.dataset.cameras import shared_intrinsics
from services.dataset.files import RowFiles
from services.dataset.zju import rh_th_params, training_first, write_frames_csv

CONFIG = "mshot_neuralbody_monocular.yaml"
_YAML = """# Neural Body monocular config for this folder (written by mshot). From the neuralbody checkout:
#   ln -s /path/to/this/folder data/mshot_monocular && cp data/mshot_monocular/{config} configs/
#   python train_net.py --cfg_file configs/{config} exp_name mshot_monocular
# Frames 0..num_train_frame-1 train; {held_out} held-out frame(s) follow them (frames.csv), outside training.
task: 'if_nerf'
gpus: [0]
parent_cfg: 'configs/snapshot_exp/snapshot_f3c.yaml'
train_dataset:
    data_root: 'data/mshot_monocular'
    human: 'mshot'
    ann_file: 'data/mshot_monocular/params.npy'
    split: 'train'
test_dataset:
    data_root: 'data/mshot_monocular'
    human: 'mshot'
    ann_file: 'data/mshot_monocular/params.npy'
    split: 'test'
H: {H}
W: {W}
ratio: 1.
num_train_frame: {train}
"""


def write_neuralbody_monocular(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, split: np.ndarray,
                               betas: np.ndarray, body_model, image_size) -> None:
    """The vertices are the row's smplx vertices (V, 3) metres in the camera (= world) frame."""
    K = shared_intrinsics(fits, rows, "neuralbody_monocular")
    rows, split = training_first(fits, rows, split)
    for sub in ("image", "mask", "vertices"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    params = rh_th_params(body_model, fits["global_orient"][rows], fits["body_pose"][rows], fits["transl"][rows],
                          betas)
    for n, r in enumerate(rows):
        files.image_jpeg(r, out / "image" / f"{n}.jpg")
        files.mask_png(r, out / "mask" / f"{n}.png")
        files.vertices_npy(r, out / "vertices" / f"{n}.npy")
    pose = np.concatenate([params["Rh"], params["poses"][:, 3:]], axis=1)
    np.save(out / "params.npy", {"pose": pose.astype(np.float32), "trans": params["Th"].astype(np.float32),
                                 "beta": params["shapes"].astype(np.float32)}, allow_pickle=True)
    camera = {"camera_f": np.array([K[0, 0], K[1, 1]]), "camera_c": K[:2, 2].copy(), "camera_k": np.zeros(5),
              "width": int(image_size[1]), "height": int(image_size[0])}
    with open(out / "camera.pkl", "wb") as f:
        pickle.dump(camera, f, protocol=2)
    write_frames_csv(out / "frames.csv", fits, rows, split)
    train = int((split == "train").sum())
    (out / CONFIG).write_text(_YAML.replace("{config}", CONFIG).format(
        H=int(image_size[0]), W=int(image_size[1]), train=train, held_out=len(rows) - train))
