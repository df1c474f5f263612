"""Neural Body (zju3dv/neuralbody) monocular (People-Snapshot) data: its config loader on our
mshot_neuralbody_monocular.yaml and `lib/datasets/light_stage/monocular_dataset.py`. Its dataset has
num_train_frame items in both splits (upstream: the test split re-renders training frames). The body: the
vertices/{i}.npy it reads, through camera.pkl onto mask/{i}.png."""

import os
import sys

import imageio
import numpy as np
from common import ARGS, emit, inside_mask, sample

sys.argv = ["probe", "--cfg_file", "configs/mshot_neuralbody_monocular.yaml"]
from lib.config import cfg  # noqa: E402
from lib.datasets.light_stage import monocular_dataset  # noqa: E402

options = cfg.train_dataset if ARGS["split"] == "train" else cfg.test_dataset
dataset = monocular_dataset.Dataset(**options)
fractions = []
for index in sample(len(dataset)):
    dataset[index]
    vertices = np.load(os.path.join(dataset.data_root, "vertices", f"{index}.npy"))
    mask = imageio.imread(os.path.join(dataset.data_root, "mask", f"{index}.png"))
    fractions.append(inside_mask(vertices, dataset.cam["K"], mask))
emit(len(dataset), fractions, "test split = training frames (upstream)" if ARGS["split"] == "val" else "")
