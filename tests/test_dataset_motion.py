"""Animation exports read back with maintained third-party readers: the BVH (parsed by the `bvh` package, forward
kinematics from its offsets and channels) puts every SMPL joint where the body model does, and the GLB (read by
pygltflib and by trimesh) holds every fitted frame's posed mesh."""

from __future__ import annotations

import numpy as np
import pygltflib
import torch
import trimesh
from bvh import Bvh
from scipy.spatial.transform import Rotation

from mshot.artifacts.fits import load_fits, row_betas
from mshot.body.joint_maps import SMPL_JOINT_NAMES, SMPL_PARENTS

Y_UP = np.diag([1.0, -1.0, -1.0])


def _model_output(smpl_model, fits):
    with torch.no_grad():
        out = smpl_model(*(torch.tensor(fits[k]) for k in ("global_orient", "body_pose")),
                         torch.tensor(row_betas(fits)), torch.tensor(fits["transl"]))
    return out.vertices.numpy() @ Y_UP.T, out.joints.numpy()[:, :24] @ Y_UP.T


def _bvh_joints(mocap: Bvh, frame: int) -> np.ndarray:
    """(24, 3) world joint positions by forward kinematics over the parsed hierarchy (R = Rz Rx Ry per joint)."""
    world_r, world_t = {}, {}
    for j, name in enumerate(SMPL_JOINT_NAMES):
        offset = np.array(mocap.joint_offset(name))
        angles = mocap.frame_joint_channels(frame, name, ["Zrotation", "Xrotation", "Yrotation"])
        local = Rotation.from_euler("ZXY", angles, degrees=True).as_matrix()
        if j == 0:
            position = mocap.frame_joint_channels(frame, name, ["Xposition", "Yposition", "Zposition"])
            world_t[j], world_r[j] = offset + np.array(position), local
        else:
            parent = SMPL_PARENTS[j]
            world_t[j] = world_t[parent] + world_r[parent] @ offset
            world_r[j] = world_r[parent] @ local
    return np.stack([world_t[j] for j in range(24)])


def test_bvh_read_back_puts_every_joint_where_the_body_model_does(smpl_model, dataset_scene, dataset_export):
    out, _ = dataset_export
    fits = load_fits(dataset_scene[1]["fits"])
    mocap = Bvh((out / "person_000" / "motion" / "person_000.bvh").read_text())
    assert mocap.nframes == 24 and sorted(mocap.get_joints_names()) == sorted(SMPL_JOINT_NAMES)
    assert abs(mocap.frame_time - 0.1) < 1e-6  # the scene's 10 fps
    for j, name in enumerate(SMPL_JOINT_NAMES[1:], start=1):  # the file's hierarchy is SMPL's tree
        assert mocap.joint_parent(name).name == SMPL_JOINT_NAMES[SMPL_PARENTS[j]]
    _, joints = _model_output(smpl_model, fits)
    for frame in (0, 7, 23):
        np.testing.assert_allclose(_bvh_joints(mocap, frame), joints[frame], atol=1e-4)
    assert joints[:, 15, 1].mean() > joints[:, 0, 1].mean() + 0.3  # y up: the head above the pelvis


def test_glb_read_back_holds_every_fitted_frame_of_the_posed_mesh(smpl_model, dataset_scene, dataset_export):
    path = dataset_export[0] / "person_000" / "motion" / "person_000.glb"
    fits = load_fits(dataset_scene[1]["fits"])
    vertices, _ = _model_output(smpl_model, fits)
    gltf = pygltflib.GLTF2.load(str(path))
    blob = gltf.binary_blob()

    def read(index: int, width: int) -> np.ndarray:
        accessor = gltf.accessors[index]
        view = gltf.bufferViews[accessor.bufferView]
        data = np.frombuffer(blob, np.float32, accessor.count * width, view.byteOffset + (accessor.byteOffset or 0))
        return data.reshape(accessor.count, width)

    primitive = gltf.meshes[0].primitives[0]
    base = read(primitive.attributes.POSITION, 3)
    assert len(primitive.targets) == 24
    for frame in (0, 11, 23):
        np.testing.assert_allclose(base + read(primitive.targets[frame]["POSITION"], 3), vertices[frame], atol=1e-5)
    sampler = gltf.animations[0].samplers[0]
    times, weights = read(sampler.input, 1)[:, 0], read(sampler.output, 1).reshape(24, 24)
    np.testing.assert_allclose(times, np.arange(24) / 10.0, atol=1e-6)
    assert np.array_equal(weights, np.eye(24)) and sampler.interpolation == "STEP"
    mesh = trimesh.load(str(path), force="mesh", process=False)  # an independent reader of the same file
    np.testing.assert_allclose(mesh.vertices, vertices[0], atol=1e-5)
    assert len(mesh.faces) == len(smpl_model.faces)
