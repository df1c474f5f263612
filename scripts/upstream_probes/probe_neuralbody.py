"""Neural Body (zju3dv/neuralbody) multi-view custom data: its config loader on our mshot_neuralbody.yaml and
`lib/datasets/light_stage/multi_view_dataset.py`; 'val' evaluates the held-out frames (test_novel_pose True).
The body: the vertices/{i}.npy it reads, through its camera (K, R, T / 1000) onto its mask."""

import os
import sys

import numpy as np
from common import ARGS, emit, inside_mask, sample

sys.argv = ["probe", "--cfg_file", "configs/mshot_neuralbody.yaml"] + (
    ["test_novel_pose", "True"] if ARGS["split"] == "val" else [])
from lib.config import cfg  # noqa: E402
from lib.datasets.light_stage import multi_view_dataset  # noqa: E402

options = cfg.train_dataset if ARGS["split"] == "train" else cfg.test_dataset
dataset = multi_view_dataset.Dataset(**options)
fractions = []
for index in sample(len(dataset)):
    dataset[index]
    i = int(os.path.basename(dataset.ims[index])[:-4])
    camera = int(dataset.cam_inds[index])
    vertices = np.load(os.path.join(dataset.data_root, cfg.vertices, f"{i}.npy"))
    R, T = np.array(dataset.cams["R"][camera]), np.array(dataset.cams["T"][camera]).reshape(3) / 1000.0
    fractions.append(inside_mask(vertices @ R.T + T, dataset.cams["K"][camera], dataset.get_mask(index)))
emit(len(dataset), fractions)
