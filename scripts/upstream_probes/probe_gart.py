"""GART (JiahuiLei/GART): `lib_data/instant_avatar_wild.py` Dataset over an InstantAvatar shot folder with the
split of our gart_split.json (`ins_avt_wild_start_end_skip`). The body: each item's smpl_pose / smpl_beta /
smpl_trans through its K onto its mask."""

import json
import sys
from pathlib import Path

import numpy as np
from common import ARGS, emit, inside_mask, sample, smpl_vertices

sys.path.insert(0, "lib_data")
from instant_avatar_wild import Dataset  # noqa: E402

root = Path(ARGS["data"])
split = json.loads((root / "gart_split.json").read_text())[ARGS["split"]]
dataset = Dataset(data_root=str(root.parent), video_name=root.name, split=ARGS["split"], image_zoom_ratio=1.0,
                  start_end_skip=split)
fractions = []
for index in sample(len(dataset)):
    item, _ = dataset[index]  # (data, meta_info)
    pose = np.asarray(item["smpl_pose"]).reshape(24, 3)
    vertices = smpl_vertices(pose[0], pose[1:], item["smpl_beta"], item["smpl_trans"])
    fractions.append(inside_mask(vertices, item["K"], item["mask"] > 0.5))
emit(len(dataset), fractions)
