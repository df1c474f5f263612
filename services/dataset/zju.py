"""Neural Body (ZJU-MoCap layout) and EasyMocap writers: SMPL as Rh/Th/poses/shapes, one camera `cam0`.

Body parameters (EasyMocap `doc/02_output.md`; `easymocap/bodymodel/smpl.py`, `SMPLModel.forward` and
`convert_from_standard_smpl`; Neural Body `zju_smpl/smplmodel/body_model.py`, `SMPLlayer.forward`):
vertices = R(Rh) X(poses, shapes) + Th, where X is the posed body with the first 3 entries of `poses` (72) zero,
so Rh rotates about the model origin, while smplx's global_orient rotates about the rest-pose pelvis J0:
Th = transl + J0 - R(global_orient) J0, Rh = global_orient. Metres.

Multi-shot monocular video: the video camera is the world for every frame (extrinsics identity, docs/conventions.md),
each frame's body placed by its own Rh/Th, so the whole sequence is one dataset with one camera; this needs one set
of intrinsics for all frames (`cameras.shared_intrinsics`). Frames are numbered 0..N-1, training frames first
(in time order), then the held-out ones; `frames.csv` maps the numbers back to the video.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import torch

from mshot.geometry.rotations import axis_angle_to_matrix
from services.dataset.cameras import shared_intrinsics
from services.dataset.files import RowFiles

CAMERA = "cam0"


def rh_th_params(body_model, global_orient: np.ndarray, body_pose: np.ndarray, transl: np.ndarray,
                 betas: np.ndarray) -> dict[str, np.ndarray]:
    """smplx parameters (N,3), (N,69), (N,3) metres, betas (10,) -> Rh (N,3), Th (N,3) metres, poses (N,72) with
    the first 3 zero, shapes (1,10)."""
    with torch.no_grad():
        j0 = body_model.rest_joints(torch.tensor(betas[None], dtype=torch.float32))[0, 0].double().numpy()
    R = axis_angle_to_matrix(global_orient)
    Th = np.asarray(transl, np.float64) + j0 - R @ j0
    poses = np.concatenate([np.zeros((len(body_pose), 3)), body_pose], axis=1)
    return {"Rh": np.asarray(global_orient, np.float64), "Th": Th, "poses": poses, "shapes": betas[None].astype(float)}


def training_first(fits: dict, rows: np.ndarray, split: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """rows and split reordered: the training rows (time order), then the held-out ones."""
    order = np.concatenate([np.flatnonzero(split == "train"), np.flatnonzero(split == "val")])
    return rows[order], split[order]


def write_frames_csv(path: Path, fits: dict, rows: np.ndarray, split: np.ndarray) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["index", "frame_index", "shot_id", "split"])
        for n, (r, s) in enumerate(zip(rows, split, strict=True)):
            writer.writerow([n, int(fits["frame_index"][r]), int(fits["shot_id"][r]), s])


def write_neuralbody(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, split: np.ndarray, betas: np.ndarray,
                     body_model, image_size) -> None:
    """What Neural Body's `lib/datasets/light_stage/multi_view_dataset.py` (`Dataset.__init__`, `get_mask`,
    `prepare_input`, `__getitem__`; configs/multi_view_custom.yaml) reads:
    - annots.npy: a dict (np.save, read with allow_pickle) {'cams': {'K': [(3,3)], 'D': [(5,1)], 'R': [(3,3)],
      'T': [(3,1)] millimetres (the loader divides by 1000)}, 'ims': [{'ims': [image path per camera]} per frame]};
    - images under data_root; the mask at mask_cihp/<image path without its 4-char extension>.png, foreground != 0;
    - the image's basename as an integer i selects params/{i}.npy (dict Rh (1,3), Th (1,3), poses (1,72),
      shapes (1,10)) and vertices/{i}.npy ((6890,3) world metres); i is also the latent code index.
    The vertices are the row's smplx vertices in the camera (= world) frame."""
    K = shared_intrinsics(fits, rows, "neuralbody")
    rows, split = training_first(fits, rows, split)
    for sub in (f"images/{CAMERA}", f"mask_cihp/images/{CAMERA}", "params", "vertices"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    params = rh_th_params(body_model, fits["global_orient"][rows], fits["body_pose"][rows], fits["transl"][rows],
                          betas)
    ims = []
    for n, r in enumerate(rows):
        image = f"images/{CAMERA}/{n:06d}.png"
        files.image_png(r, out / image)
        files.mask_png(r, out / "mask_cihp" / image)
        np.save(out / "params" / f"{n}.npy", {k: (v if k == "shapes" else v[n:n + 1]).astype(np.float32)
                                              for k, v in params.items()}, allow_pickle=True)
        files.vertices_npy(r, out / "vertices" / f"{n}.npy")
        ims.append({"ims": [image]})
    t_metres = np.zeros((3, 1))  # the video camera is the world
    cams = {"K": [K], "D": [np.zeros((5, 1))], "R": [np.eye(3)], "T": [t_metres * 1000.0]}
    np.save(out / "annots.npy", {"cams": cams, "ims": ims}, allow_pickle=True)
    write_frames_csv(out / "frames.csv", fits, rows, split)
    train = int((split == "train").sum())
    (out / NEURALBODY_CONFIG).write_text(_NEURALBODY_YAML.format(
        H=int(image_size[0]), W=int(image_size[1]), train=train, held_out=len(rows) - train))


NEURALBODY_CONFIG = "mshot_neuralbody.yaml"
_NEURALBODY_YAML = """# Neural Body config for this folder (written by mshot), complete and valid YAML.
# From the neuralbody checkout:
#   ln -s /path/to/this/folder data/mshot && cp data/mshot/{config} configs/
#   python train_net.py --cfg_file configs/{config} exp_name mshot
# Frames 0..num_train_frame-1 train; the next num_novel_pose_frame are held out: evaluate them with
#   python run.py --type evaluate --cfg_file configs/{config} exp_name mshot test_novel_pose True
task: 'if_nerf'
gpus: [0]
parent_cfg: 'configs/zju_mocap_exp/latent_xyzc_313.yaml'
train_dataset:
    data_root: 'data/mshot'
    human: 'mshot'
    ann_file: 'data/mshot/annots.npy'
    split: 'train'
test_dataset:
    data_root: 'data/mshot'
    human: 'mshot'
    ann_file: 'data/mshot/annots.npy'
    split: 'test'
H: {H}
W: {W}
ratio: 1.
training_view: [0]
begin_ith_frame: 0
frame_interval: 1
num_train_frame: {train}
num_novel_pose_frame: {held_out}
smpl: 'smpl'
vertices: 'vertices'
params: 'params'
big_box: True
""".replace("{config}", "mshot_neuralbody.yaml")


def _write_matrix(fs: cv2.FileStorage, key: str, value: np.ndarray) -> None:
    fs.write(key, np.asarray(value, np.float64))


def _open_yml(path: Path) -> cv2.FileStorage:
    fs = cv2.FileStorage(str(path), cv2.FILE_STORAGE_WRITE)
    fs.startWriteStruct("names", cv2.FileNode_SEQ)
    fs.write("", CAMERA)
    fs.endWriteStruct()
    return fs


def _write_annot(path: Path, image: str, image_size, person: int, detection: dict) -> None:
    x0, y0, x1, y1 = (float(v) for v in detection["bbox_xyxy"])
    annot = {"personID": int(person), "bbox": [x0, y0, x1, y1, float(detection["det_conf"])],
             "keypoints": np.asarray(detection["keypoints_body25"], float).tolist(), "area": (x1 - x0) * (y1 - y0)}
    path.write_text(json.dumps({"filename": image, "height": int(image_size[0]), "width": int(image_size[1]),
                                "annots": [annot]}))


def write_easymocap(out: Path, files: RowFiles, fits: dict, rows: np.ndarray, split: np.ndarray, betas: np.ndarray,
                    body_model, image_size, person: int, detections: dict) -> None:
    """What EasyMocap reads (`easymocap/mytools/camera_utils.py` `read_camera`/`FileStorage.read`;
    `easymocap/mytools/reader.py` `read_smpl`; `easymocap/dataset/base.py` `read_smpl` and its image lists,
    `getFileList(..., '.jpg')`; `doc/dataset.md`, `doc/02_output.md`):
    - intri.yml: names [cam0], K_cam0 (3,3), dist_cam0 (1,5), H_cam0, W_cam0; extri.yml: names, R_cam0 (3,1)
      Rodrigues vector, Rot_cam0 (3,3), T_cam0 (3,1) metres; world-to-camera x_cam = R x + T;
    - images/cam0/NNNNNN.jpg; output-smpl-3d/smpl/NNNNNN.json: a list of {id, Rh (1,3), Th (1,3), poses (1,72),
      shapes (1,10)}; masks (not read by EasyMocap's fitting) in mask/cam0/NNNNNN.png, 255 = person;
    - annots/cam0/NNNNNN.json (doc/dataset.md "2D Pose", read by `mytools/file_utils.py` `read_annot`): {filename,
      height, width, annots: [{personID, bbox [l, t, r, b, conf] px, keypoints (25, 3) BODY_25 x, y px and
      confidence, area}]}; `detections` holds `keypoints_body25` (R, 25, 3), `bbox_xyxy` (R, 4), `det_conf` (R,)
      per artifact row.
    The smpl json is the current EasyMocap output (a list of people). Neural Body's
    `zju_smpl/easymocap_to_neuralbody.py` reads an older form ({'annots': [...]}, poses (1, 69)); it is not needed:
    the neuralbody export already holds the params/ and vertices/ that script would make."""
    K = shared_intrinsics(fits, rows, "easymocap")
    rows, split = training_first(fits, rows, split)
    for sub in (f"images/{CAMERA}", f"mask/{CAMERA}", f"annots/{CAMERA}", "output-smpl-3d/smpl"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    fs = _open_yml(out / "intri.yml")
    _write_matrix(fs, f"K_{CAMERA}", K)
    _write_matrix(fs, f"dist_{CAMERA}", np.zeros((1, 5)))
    fs.write(f"H_{CAMERA}", int(image_size[0]))
    fs.write(f"W_{CAMERA}", int(image_size[1]))
    fs.release()
    fs = _open_yml(out / "extri.yml")
    _write_matrix(fs, f"R_{CAMERA}", np.zeros((3, 1)))
    _write_matrix(fs, f"Rot_{CAMERA}", np.eye(3))
    _write_matrix(fs, f"T_{CAMERA}", np.zeros((3, 1)))
    fs.release()
    params = rh_th_params(body_model, fits["global_orient"][rows], fits["body_pose"][rows], fits["transl"][rows],
                          betas)
    for n, r in enumerate(rows):
        files.image_jpeg(r, out / "images" / CAMERA / f"{n:06d}.jpg")
        files.mask_png(r, out / "mask" / CAMERA / f"{n:06d}.png")
        person_params = {"id": int(person), "Rh": params["Rh"][n:n + 1].tolist(), "Th": params["Th"][n:n + 1].tolist(),
                         "poses": params["poses"][n:n + 1].tolist(), "shapes": params["shapes"].tolist()}
        (out / "output-smpl-3d" / "smpl" / f"{n:06d}.json").write_text(json.dumps([person_params], indent=1))
        _write_annot(out / "annots" / CAMERA / f"{n:06d}.json", f"images/{CAMERA}/{n:06d}.jpg", image_size, person,
                     {k: v[r] for k, v in detections.items()})
    write_frames_csv(out / "frames.csv", fits, rows, split)
