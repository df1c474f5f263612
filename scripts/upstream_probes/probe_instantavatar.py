"""InstantAvatar (tijiang13/InstantAvatar): `instant_avatar.datasets.custom.CustomDataset` with the split options
of our dataset.yaml (the training split's sampler from its confs/sampler/edge.yaml). The body: the SMPL
parameters of each item through cameras.npz onto the mask it loads."""

from pathlib import Path

import cv2
import numpy as np
from common import ARGS, emit, inside_mask, sample, smpl_vertices
from instant_avatar.datasets.custom import CustomDataset
from omegaconf import OmegaConf

root = Path(ARGS["data"])
config = OmegaConf.load(root / "dataset.yaml")
options = OmegaConf.to_container(config.opt[ARGS["split"]], resolve=False)
options.update(fitting=False, refine=False)
if ARGS["split"] == "train":
    options["sampler"] = OmegaConf.to_container(OmegaConf.load("confs/sampler/edge.yaml"))
dataset = CustomDataset(root, config.subject, ARGS["split"], OmegaConf.create(options))
K = np.load(root / "cameras.npz")["intrinsic"]
fractions = []
for index in sample(len(dataset)):
    item = dataset[index]
    vertices = smpl_vertices(item["global_orient"], item["body_pose"], item["betas"], item["transl"])
    mask = cv2.imread(dataset.msk_lists[index], cv2.IMREAD_GRAYSCALE) / 255 > 0.5
    fractions.append(inside_mask(vertices, K, mask))
emit(len(dataset), fractions)
