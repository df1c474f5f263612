"""vid2avatar (MoyGcc/vid2avatar): `code/lib/datasets/dataset.py` Dataset with our mshot_vid2avatar.yaml metainfo
(train) or the held-out frames' range (val). The body: (SMPL(poses, betas) + trans) * scale as its SMPL server
builds it, through the camera it decomposes from world_mat @ scale_mat, onto the mask it reads."""

import csv
import sys
from pathlib import Path

import cv2
import numpy as np
from common import ARGS, emit, inside_mask, sample, smpl_vertices
from omegaconf import OmegaConf

sys.path.insert(0, ".")
from lib.datasets.dataset import Dataset  # noqa: E402

root = Path(ARGS["data"])
meta = OmegaConf.load(root / "mshot_vid2avatar.yaml").metainfo
if ARGS["split"] == "val":
    with open(root / "frames.csv") as f:
        count = sum(1 for _ in csv.DictReader(f))
    meta.start_frame, meta.end_frame = meta.end_frame, count
dataset = Dataset(meta, OmegaConf.create({"num_sample": 512 if ARGS["split"] == "train" else -1}))
fractions = []
for index in sample(len(dataset)):
    inputs, _ = dataset[index]
    params = inputs["smpl_params"].numpy()
    scale, trans, thetas, betas = params[0], params[1:4], params[4:76], params[76:]
    world = (smpl_vertices(thetas[:3], thetas[3:], betas) + trans) * scale
    pose = inputs["pose"].numpy().astype(np.float64)  # camera to world
    camera = (world - pose[:3, 3]) @ pose[:3, :3]
    mask = cv2.cvtColor(cv2.imread(dataset.mask_paths[index]), cv2.COLOR_BGR2GRAY) > 0
    fractions.append(inside_mask(camera, inputs["intrinsics"].numpy(), mask))
emit(len(dataset), fractions)
