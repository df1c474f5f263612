"""HumanNeRF (chungyiweng/humannerf): its wild-video preparation (tools/prepare_wild/prepare_dataset.py) over the
export, then its training dataset (`core.data.create_dataset`), including the 'progress' set that divides the
frame count by 16 (train only; 'val' is the humannerf_val folder, prepared the same way). The body: HumanNeRF's
Rh/Th about the pelvis, through the camera it loaded."""

import json
import subprocess
import sys

import numpy as np
import torch
from common import ARGS, emit, inside_mask, sample, smpl_vertices

subprocess.run([sys.executable, "prepare_dataset.py", "--cfg", "wild.yaml"], cwd="tools/prepare_wild", check=True,
               stdout=subprocess.DEVNULL)
sys.argv = ["probe", "--cfg", "configs/human_nerf/wild/monocular/adventure.yaml"]
# Its config needs a GPU to exist (configs/config.py sets primary_gpus only when torch sees one); the dataset
# code itself runs on the CPU, so on a CPU machine the count is reported as one.
torch.cuda.device_count = lambda: 1
from core.data.create_dataset import create_dataset  # noqa: E402
from core.utils.image_util import load_image  # noqa: E402

dataset = create_dataset("train")
training = ARGS["split"] == "train"
progress = create_dataset("progress") if training else None  # skip = n // 16: fails below 16 frames
metadata = json.load(open("dataset/wild/monocular/metadata.json"))
fractions = []
for index in sample(len(dataset)):
    dataset[index]
    frame = dataset.framelist[index]
    mesh, camera = dataset.mesh_infos[frame], dataset.cameras[frame]
    vertices = smpl_vertices(mesh["Rh"], mesh["poses"][3:], metadata[frame]["betas"])
    E = camera["extrinsics"]
    mask = np.array(load_image(f"dataset/wild/monocular/masks/{frame}.png"))
    fractions.append(inside_mask(vertices @ E[:3, :3].T + E[:3, 3], camera["intrinsics"], mask))
if training:
    progress[0]
emit(len(dataset), fractions, f"progress set {len(progress)} frames" if training else "held-out folder")
