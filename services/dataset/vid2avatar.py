"""vid2avatar writer (MoyGcc/vid2avatar).

What vid2avatar reads (`code/lib/datasets/dataset.py`, `Dataset.__init__` / `__getitem__`; `code/lib/utils/utils.py`
`load_K_Rt_from_P`; `code/lib/model/smpl.py` `SMPLServer.forward`; the layout its `preprocessing/preprocessing.py`
and `normalize_cameras.py` write; `code/confs/dataset/video.yaml`):
- image/NNNN.png, mask/NNNN.png (any channel > 0 = person), sorted by name, frames `range(start_frame, end_frame)`;
- poses.npy (N, 72) SMPL axis-angle with the global orientation first; mean_shape.npy (10,);
  normalize_trans.npy (N, 3); the body it builds is (SMPL(poses, betas), no translation, + trans) * scale;
- cameras_normalize.npz: world_mat_i (4, 4) = K @ [R | t] (world to pixels), scale_mat_i = diag(s, s, s, 1), and
  scale = 1 / s; P = world_mat @ scale_mat is decomposed into K and the camera pose.
Its conventions, which this writer follows: the world is the camera turned to OpenGL's orientation
(R = diag(1, -1, -1)) and moved each frame so the body's bounding box is centred on the world origin
("centre the human for every frame"); s = 1.1 * the largest camera distance / 3 (a scene sphere of radius 3).
For our frame (video camera = OpenCV camera frame, smplx transl t, rest pelvis J0): with c the centre of the
posed body's bounding box in the camera frame, world = A (x_cam - c), A = diag(1, -1, -1), so
global orientation A R, trans = A (t + J0 - c) - J0 and the extrinsic [A | c].
Images are numbered training frames first, then held-out frames; `mshot_vid2avatar.yaml` sets
start_frame/end_frame to the training frames (vid2avatar's validation renders one of those, its own choice).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mshot.geometry.camera import OPENCV_TO_OPENGL as OPENGL_AXES
from mshot.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle
from mshot.npzio import save_npz
from services.dataset.cameras import camera_matrices
from services.dataset.files import RowFiles
from services.dataset.zju import training_first, write_frames_csv

SCENE_RADIUS = 3.0
CONFIG = "mshot_vid2avatar.yaml"
_YAML = """# vid2avatar dataset config, by mshot: copy to code/confs/dataset/mshot.yaml and this folder to data/{name}/.
# Images 0..{last_train} are training frames; {held_out} held-out frame(s) follow (frames.csv), outside the range.
metainfo:
    gender: 'neutral'
    data_dir : {name}/
    subject: "{name}"
    start_frame: 0
    end_frame: {train}
"""


def vid2avatar_frame(j0: np.ndarray, fits: dict, row: int, vertices: np.ndarray) -> dict:
    """One row in vid2avatar's conventions: pose (72,), trans (3,), world_to_camera (4, 4) metres.
    `j0` (3,) the person's rest pelvis (metres), `vertices` (V, 3) the row's smplx vertices in the camera frame."""
    centre = (vertices.max(0) + vertices.min(0)) / 2
    R = OPENGL_AXES @ axis_angle_to_matrix(np.asarray(fits["global_orient"][row], np.float64))
    trans = OPENGL_AXES @ (fits["transl"][row] + j0 - centre) - j0
    extrinsic = np.eye(4)
    extrinsic[:3, :3], extrinsic[:3, 3] = OPENGL_AXES, centre
    pose = np.concatenate([matrix_to_axis_angle(R), fits["body_pose"][row]])
    return {"pose": pose, "trans": trans, "world_to_camera": extrinsic}


def write_vid2avatar(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, split: np.ndarray, betas: np.ndarray,
                     body_model, vertices, name: str) -> None:
    rows, split = training_first(fits, rows, split)
    for sub in ("image", "mask"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        j0 = body_model.rest_joints(torch.tensor(betas[None], dtype=torch.float32))[0, 0].double().numpy()
    frames = [vid2avatar_frame(j0, fits, int(r), vertices(int(r))) for r in rows]
    world_mats = []
    for n, (r, K) in enumerate(zip(rows, camera_matrices(fits, rows), strict=True)):
        files.image_png(r, out / "image" / f"{n:04d}.png")
        files.mask_png(r, out / "mask" / f"{n:04d}.png")
        P = np.eye(4)
        P[:3] = K @ frames[n]["world_to_camera"][:3]
        world_mats.append(P)
    radius = 1.1 * max(float(np.linalg.norm(f["world_to_camera"][:3, 3])) for f in frames)
    scale_mat = np.diag([radius / SCENE_RADIUS] * 3 + [1.0])
    cameras = {f"{kind}_mat_{n}": m for n, P in enumerate(world_mats)
               for kind, m in (("world", P), ("scale", scale_mat))}
    save_npz(out / "cameras_normalize.npz", cameras, compress=False)
    np.save(out / "poses.npy", np.stack([f["pose"] for f in frames]).astype(np.float32))
    np.save(out / "normalize_trans.npy", np.stack([f["trans"] for f in frames]).astype(np.float32))
    np.save(out / "mean_shape.npy", np.asarray(betas, np.float32))
    write_frames_csv(out / "frames.csv", fits, rows, split)
    train = int((split == "train").sum())
    (out / CONFIG).write_text(_YAML.format(name=name, last_train=train - 1, train=train, held_out=len(rows) - train))
