"""Readers of exported datasets written from the target methods' documented formats (not imported from them, and
not from services.dataset), so the round-trip tests check the files as those methods read them."""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import cv2
import numpy as np
import torch
import yaml


def read_neuralbody(root: Path) -> list[dict]:
    """As Neural Body's lib/datasets/light_stage/multi_view_dataset.py with training_view [0]: per frame entry of
    annots['ims'], the image, its mask_cihp mask (!= 0), camera K, R, T / 1000 and params/vertices {i}.npy where i
    is the image's basename as an integer."""
    annots = np.load(root / "annots.npy", allow_pickle=True).item()  # our own file, as the loader reads it
    cams, frames = annots["cams"], []
    for entry in annots["ims"]:
        image = entry["ims"][0]
        i = int(os.path.basename(image)[:-4])
        frames.append({
            "index": i, "image": cv2.imread(str(root / image)),
            "mask": cv2.imread(os.path.join(root, "mask_cihp", image)[:-4] + ".png", cv2.IMREAD_GRAYSCALE) != 0,
            "K": np.array(cams["K"][0]), "D": np.array(cams["D"][0]), "R": np.array(cams["R"][0]),
            "T": np.array(cams["T"][0]) / 1000.0,
            "params": np.load(root / "params" / f"{i}.npy", allow_pickle=True).item(),
            "vertices": np.load(root / "vertices" / f"{i}.npy")})
    return frames


def _mat(fs: cv2.FileStorage, key: str) -> np.ndarray:
    return fs.getNode(key).mat()


def read_easymocap(root: Path, person: int) -> list[dict]:
    """As EasyMocap's camera_utils.read_camera (names list, K_, dist_, R_ Rodrigues, T_) and read_smpl (a list of
    people per frame json): per frame of output-smpl-3d/smpl, the person's params, the camera and the mask."""
    intri = cv2.FileStorage(str(root / "intri.yml"), cv2.FILE_STORAGE_READ)
    extri = cv2.FileStorage(str(root / "extri.yml"), cv2.FILE_STORAGE_READ)
    names = intri.getNode("names")
    cam = names.at(0).string()
    assert names.size() == 1
    camera = {"K": _mat(intri, f"K_{cam}"), "dist": _mat(intri, f"dist_{cam}"),
              "R": cv2.Rodrigues(_mat(extri, f"R_{cam}"))[0], "T": _mat(extri, f"T_{cam}"),
              "H": int(intri.getNode(f"H_{cam}").real()), "W": int(intri.getNode(f"W_{cam}").real())}
    frames = []
    for path in sorted(glob.glob(str(root / "output-smpl-3d" / "smpl" / "*.json"))):
        name = Path(path).stem
        (params,) = [p for p in json.loads(Path(path).read_text()) if p["id"] == person]
        frames.append({"index": int(name), **camera, "params": {k: np.array(params[k]) for k in
                                                                  ("Rh", "Th", "poses", "shapes")},
                       "image": cv2.imread(str(root / "images" / cam / f"{name}.jpg")),
                       "mask": cv2.imread(str(root / "mask" / cam / f"{name}.png"), cv2.IMREAD_GRAYSCALE) > 127})
    return frames


def read_instantavatar(root: Path, split: str) -> dict:
    """As InstantAvatar's datasets/custom.py CustomDataset: cameras.npz, the split's start/end/skip slice (from the
    dataset yaml) of the sorted images/*.png and masks/*.png, and poses/{split}.npz (betas reshaped (1, 10))."""
    opt = yaml.safe_load((root / "dataset.yaml").read_text())["opt"][split]
    window = slice(opt["start"], opt["end"] + 1, opt.get("skip", 1))
    camera = np.load(root / "cameras.npz")
    smpl = dict(np.load(root / "poses" / f"{split}.npz"))
    return {"K": camera["intrinsic"], "c2w": np.linalg.inv(camera["extrinsic"]),
            "size": (int(camera["height"]), int(camera["width"])),
            "images": sorted(glob.glob(f"{root}/images/*.png"))[window],
            "masks": [cv2.imread(p, cv2.IMREAD_GRAYSCALE) / 255 for p in sorted(glob.glob(f"{root}/masks/*.png"))[
                window]],
            "betas": smpl["betas"].reshape(1, 10), "global_orient": smpl["global_orient"],
            "body_pose": smpl["body_pose"], "transl": smpl["transl"], "frame_index": smpl["frame_index"]}


def rh_th_body(model, params: dict) -> tuple[np.ndarray, np.ndarray]:
    """EasyMocap / Neural Body body: X from poses (first 3 zero) and shapes, then R(Rh) X + Th.
    -> vertices (V, 3), joints (45, 3)."""
    poses = torch.tensor(params["poses"], dtype=torch.float32).reshape(1, 72)
    zero = torch.zeros(1, 3)
    with torch.no_grad():
        out = model(poses[:, :3], poses[:, 3:], torch.tensor(params["shapes"], dtype=torch.float32).reshape(1, 10),
                    zero)
    R = cv2.Rodrigues(np.asarray(params["Rh"], np.float64).reshape(3))[0]
    Th = np.asarray(params["Th"], np.float64).reshape(3)
    return out.vertices[0].numpy() @ R.T + Th, out.joints[0].numpy() @ R.T + Th


def read_neuralbody_monocular(root: Path) -> list[dict]:
    """As Neural Body's lib/datasets/light_stage/monocular_dataset.py: camera.pkl (camera_f, camera_c, camera_k;
    R identity, T zero), params.npy pose[i][:3] = Rh, trans[i] = Th, image/{i}.jpg, mask/{i}.png, vertices/{i}.npy."""
    import pickle

    with open(root / "camera.pkl", "rb") as f:
        camera = pickle.load(f, encoding="latin1")  # our own file, as the loader reads it
    K = np.eye(3)
    K[0, 0], K[1, 1] = camera["camera_f"]
    K[:2, 2] = camera["camera_c"]
    params = np.load(root / "params.npy", allow_pickle=True).item()
    frames = []
    for i in range(len(params["pose"])):
        frames.append({"index": i, "K": K, "D": np.asarray(camera["camera_k"]), "R": np.eye(3), "T": np.zeros(3),
                       "image": cv2.imread(str(root / "image" / f"{i}.jpg")),
                       "mask": cv2.imread(str(root / "mask" / f"{i}.png"), cv2.IMREAD_GRAYSCALE) != 0,
                       "params": {"Rh": params["pose"][i][:3], "Th": params["trans"][i],
                                  "poses": np.concatenate([np.zeros(3), params["pose"][i][3:]]),
                                  "shapes": params["beta"]},
                       "vertices": np.load(root / "vertices" / f"{i}.npy")})
    return frames


def read_vid2avatar(root: Path, start: int, end: int) -> list[dict]:
    """As vid2avatar's code/lib/datasets/dataset.py for frames range(start, end): sorted image/*.png and
    mask/*.png, poses.npy, normalize_trans.npy, mean_shape.npy, and K and the camera pose decomposed (OpenCV
    decomposeProjectionMatrix, as its load_K_Rt_from_P) from world_mat_i @ scale_mat_i; scale = 1 / scale_mat[0, 0].
    Its body: (SMPL(pose, shape) without translation + trans) * scale, in the normalised world."""
    cameras = np.load(root / "cameras_normalize.npz")
    poses, trans = np.load(root / "poses.npy"), np.load(root / "normalize_trans.npy")
    images, masks = sorted(glob.glob(f"{root}/image/*.png")), sorted(glob.glob(f"{root}/mask/*.png"))
    frames = []
    for i in range(start, end):
        scale_mat = cameras[f"scale_mat_{i}"]
        P = (cameras[f"world_mat_{i}"] @ scale_mat)[:3, :4]
        K, R, centre = cv2.decomposeProjectionMatrix(P)[:3]
        frames.append({"index": i, "K": K / K[2, 2], "R": R, "T": -R @ (centre[:3, 0] / centre[3, 0]),
                       "scale": 1.0 / scale_mat[0, 0], "pose": poses[i], "trans": trans[i],
                       "shape": np.load(root / "mean_shape.npy"), "image": cv2.imread(images[i]),
                       "mask": cv2.cvtColor(cv2.imread(masks[i]), cv2.COLOR_BGR2GRAY) > 0})
    return frames
