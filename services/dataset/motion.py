"""The fitted motion for animation tools (Blender, Maya, game engines): a BVH skeleton animation and a glTF
binary (GLB) of the posed mesh sequence, one of each per person, every fitted frame in time order.

Both use a y-up world, as those tools do: the video camera's OpenCV axes turned by Y_UP = diag(1, -1, -1)
(x right, y up, z towards the camera), metres, frame k at time frame_index / fps seconds.
- BVH: the 24 SMPL joints in SMPL's tree; OFFSETs are the rest skeleton of the person's betas (J_j - J_parent);
  the root has OFFSET 0 and absolute Xposition Yposition Zposition (the pelvis, Y_UP (transl + J0)); every joint's
  rotation is written as `Zrotation Xrotation Yrotation` degrees, R = Rz Rx Ry; the root's is Y_UP R(global_orient),
  the others SMPL's local body_pose rotations (the rest pose has identity joint frames, as SMPL's does).
- GLB (glTF 2.0): one mesh whose base positions are the first frame and whose morph target k holds frame k's
  vertices minus the base; an animation steps the morph weights (weight k = 1 at time k). Blender imports the
  targets as shape keys. Pose blend shapes and skinning are baked in, so any SMPL-format model renders right.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from mshot.body.joint_maps import SMPL_JOINT_NAMES, SMPL_PARENTS
from mshot.geometry.camera import OPENCV_TO_OPENGL as Y_UP
from mshot.geometry.rotations import axis_angle_to_matrix

EULER_ORDER = "ZXY"  # BVH channel order Zrotation Xrotation Yrotation: R = Rz @ Rx @ Ry


def _children(joint: int) -> list[int]:
    return [c for c, p in enumerate(SMPL_PARENTS) if p == joint and c != joint]


def _hierarchy(joint: int, offsets: np.ndarray, depth: int, order: list[int]) -> list[str]:
    pad = "  " * depth
    order.append(joint)
    head = f"{pad}ROOT {SMPL_JOINT_NAMES[joint]}" if depth == 0 else f"{pad}JOINT {SMPL_JOINT_NAMES[joint]}"
    channels = ("CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if depth == 0
                else "CHANNELS 3 Zrotation Xrotation Yrotation")
    lines = [head, f"{pad}{{", f"{pad}  OFFSET {' '.join(f'{v:.6f}' for v in offsets[joint])}", f"{pad}  {channels}"]
    for child in _children(joint):
        lines += _hierarchy(child, offsets, depth + 1, order)
    if not _children(joint):
        lines += [f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET 0.000000 0.000000 0.000000", f"{pad}  }}"]
    return lines + [f"{pad}}}"]


def write_bvh(path: Path, body_model, fits: dict, rows: np.ndarray, betas: np.ndarray, fps: float) -> Path:
    """`rows` (time order) of the fits; betas (10,). Metres, degrees."""
    with torch.no_grad():
        rest = body_model.rest_joints(torch.tensor(betas[None], dtype=torch.float32))[0, :24].double().numpy()
    offsets = np.zeros((24, 3))
    offsets[1:] = rest[1:] - rest[list(SMPL_PARENTS[1:])]
    order: list[int] = []
    lines = ["HIERARCHY", *_hierarchy(0, offsets, 0, order), "MOTION", f"Frames: {len(rows)}",
             f"Frame Time: {1.0 / fps:.8f}"]
    local = axis_angle_to_matrix(np.asarray(fits["body_pose"][rows], np.float64).reshape(-1, 23, 3))
    root = Y_UP @ axis_angle_to_matrix(np.asarray(fits["global_orient"][rows], np.float64))
    pelvis = (np.asarray(fits["transl"][rows], np.float64) + rest[0]) @ Y_UP.T
    for n in range(len(rows)):
        rotations = np.concatenate([root[n][None], local[n]])
        euler = Rotation.from_matrix(rotations[order]).as_euler(EULER_ORDER, degrees=True)
        values = np.concatenate([pelvis[n], euler.reshape(-1)])
        lines.append(" ".join(f"{v:.6f}" for v in values))
    path.write_text("\n".join(lines) + "\n")
    return path


def write_glb(path: Path, vertices: np.ndarray, faces: np.ndarray, times_s: np.ndarray) -> Path:
    """vertices (N, V, 3) metres in the video camera frame, faces (F, 3), times_s (N,) seconds."""
    frames = (np.asarray(vertices, np.float64) @ Y_UP.T).astype(np.float32)
    blobs, views, accessors = [], [], []

    def add(array: np.ndarray, kind: str, component: int, with_bounds: bool = False) -> int:
        data = np.ascontiguousarray(array).tobytes()
        offset = sum(len(b) for b in blobs)
        blobs.append(data + b"\0" * (-len(data) % 4))
        views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(data)})
        accessor = {"bufferView": len(views) - 1, "componentType": component, "count": int(array.shape[0]),
                    "type": kind}
        if with_bounds:
            flat = array.reshape(array.shape[0], -1)
            accessor.update(min=flat.min(0).astype(float).tolist(), max=flat.max(0).astype(float).tolist())
        accessors.append(accessor)
        return len(accessors) - 1

    float32, uint32 = 5126, 5125
    base = add(frames[0], "VEC3", float32, True)
    indices = add(np.asarray(faces, np.uint32).reshape(-1), "SCALAR", uint32)
    targets = [{"POSITION": add(frame - frames[0], "VEC3", float32, True)} for frame in frames]
    times = add(np.asarray(times_s, np.float32) - np.float32(times_s[0]), "SCALAR", float32, True)
    weights = add(np.eye(len(frames), dtype=np.float32).reshape(-1), "SCALAR", float32)
    document = {
        "asset": {"version": "2.0", "generator": "mshot"}, "scene": 0, "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0, "name": "body"}],
        "meshes": [{"name": "body", "weights": [0.0] * len(frames),
                    "primitives": [{"attributes": {"POSITION": base}, "indices": indices, "targets": targets}]}],
        "animations": [{"name": "fitted motion", "samplers": [{"input": times, "output": weights,
                                                               "interpolation": "STEP"}],
                        "channels": [{"sampler": 0, "target": {"node": 0, "path": "weights"}}]}],
        "buffers": [{"byteLength": sum(len(b) for b in blobs)}], "bufferViews": views, "accessors": accessors,
    }
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 4)
    binary = b"".join(blobs)
    total = 12 + 8 + len(text) + 8 + len(binary)
    path.write_bytes(struct.pack("<III", 0x46546C67, 2, total) + struct.pack("<II", len(text), 0x4E4F534A) + text
                     + struct.pack("<II", len(binary), 0x004E4942) + binary)
    return path
