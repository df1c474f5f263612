"""Offscreen rendering of SMPL meshes in OpenCV camera coordinates (pyrender; OSMesa by default, headless)."""

from __future__ import annotations

import os

import numpy as np

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

_OPENCV_TO_OPENGL = np.diag([1.0, -1.0, -1.0])


class MeshRenderer:
    """render(vertices (V,3) metres camera frame, K (3,3)) -> (mask (H,W) bool, colour (H,W,3) uint8)."""

    def __init__(self, width: int, height: int, faces: np.ndarray):
        import pyrender

        self.pyrender = pyrender
        self.width, self.height = width, height
        self.faces = np.asarray(faces, dtype=np.int64)
        self.renderer = pyrender.OffscreenRenderer(width, height)

    def render(self, vertices: np.ndarray, K: np.ndarray, colour=(0.35, 0.65, 0.95)) -> tuple[np.ndarray, np.ndarray]:
        import trimesh

        pyrender = self.pyrender
        mesh = trimesh.Trimesh(np.asarray(vertices) @ _OPENCV_TO_OPENGL.T, self.faces, process=False)
        material = pyrender.MetallicRoughnessMaterial(baseColorFactor=(*colour, 1.0), metallicFactor=0.1)
        scene = pyrender.Scene(bg_color=(0, 0, 0, 0), ambient_light=(0.4, 0.4, 0.4))
        scene.add(pyrender.Mesh.from_trimesh(mesh, material=material, smooth=True))
        camera = pyrender.IntrinsicsCamera(fx=K[0, 0], fy=K[1, 1], cx=K[0, 2], cy=K[1, 2], znear=0.05, zfar=500.0)
        scene.add(camera, pose=np.eye(4))
        scene.add(pyrender.DirectionalLight(intensity=3.0), pose=np.eye(4))
        colour_image, depth = self.renderer.render(scene)
        return depth > 0, colour_image[..., :3]

    def close(self) -> None:
        self.renderer.delete()


def overlay(frame_bgr: np.ndarray, mask: np.ndarray, colour_rgb: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    out = frame_bgr.copy()
    out[mask] = ((1 - alpha) * frame_bgr[mask] + alpha * colour_rgb[mask][:, ::-1]).astype(np.uint8)
    return out
