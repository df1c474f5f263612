"""EasyMocap (zju3dv/EasyMocap): `easymocap.dataset.base.ImageFolder` over images/ and annots/ (what its fitting
reads), its camera reader (`mytools.camera_utils.read_camera`) and SMPL reader (`mytools.reader.read_smpl`).
The body: R(Rh) X(poses, shapes) + Th through its camera onto our mask/cam0. No splits (a fitting input)."""

import os
import tempfile

import cv2
import numpy as np
from common import ARGS, emit, inside_mask, sample, smpl_vertices
from easymocap.dataset.base import ImageFolder
from easymocap.mytools.camera_utils import read_camera
from easymocap.mytools.reader import read_smpl

root = ARGS["data"]
dataset = ImageFolder(root, out=tempfile.mkdtemp(), annot_root="annots", kpts_type="body25")
camera = read_camera(os.path.join(root, "intri.yml"), os.path.join(root, "extri.yml"))["cam0"]
fractions = []
for index in sample(len(dataset)):
    image, annots = dataset[index]
    assert image is not None and np.asarray(annots[0]["keypoints"]).shape == (25, 3)
    name = os.path.splitext(os.path.basename(dataset.imagelist[index]))[0]
    (params,) = read_smpl(os.path.join(root, "output-smpl-3d", "smpl", f"{name}.json"))
    body = smpl_vertices(np.zeros(3), np.asarray(params["poses"]).reshape(-1)[3:], params["shapes"])
    R = cv2.Rodrigues(np.asarray(params["Rh"], np.float64).reshape(3))[0]
    world = body @ R.T + np.asarray(params["Th"]).reshape(3)
    mask = cv2.imread(os.path.join(root, "mask", "cam0", f"{name}.png"), cv2.IMREAD_GRAYSCALE) > 127
    fractions.append(inside_mask(world @ camera["R"].T + camera["T"].reshape(3), camera["K"], mask))
emit(len(dataset), fractions, "no splits (fitting input)")
