"""Offscreen rendering of SMPL meshes in OpenCV camera coordinates (pyrender; OSMesa by default, headless)."""

from __future__ import annotations

import os

import numpy as np
import scipy.sparse

from mshot.geometry.camera import OPENCV_TO_OPENGL

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")


class MeshRenderer:
    """render(vertices (V,3) metres camera frame, K (3,3)) -> (mask (H,W) bool, colour (H,W,3) uint8 RGB);
    render_many for several bodies seen by one camera (one pass, each pixel showing the nearest body)."""

    def __init__(self, width: int, height: int, faces: np.ndarray):
        import pyrender

        self.pyrender = pyrender
        self.width, self.height = width, height
        self.faces = np.asarray(faces, dtype=np.int64)
        self._vertex_faces: scipy.sparse.csr_matrix | None = None  # (V, F), made for the first mesh's V
        self.renderer = pyrender.OffscreenRenderer(width, height)

    def render(self, vertices: np.ndarray, K: np.ndarray, colour=(0.35, 0.65, 0.95)) -> tuple[np.ndarray, np.ndarray]:
        return self.render_many([(vertices, colour)], K)

    def render_many(self, bodies: list[tuple[np.ndarray, tuple]], K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """bodies: (vertices (V, 3) metres camera frame, colour RGB 0..1) each -> (mask, colour) as `render`."""
        pyrender = self.pyrender
        scene = pyrender.Scene(bg_color=(0, 0, 0, 0), ambient_light=(0.4, 0.4, 0.4))
        for vertices, colour in bodies:
            positions = np.asarray(vertices, np.float64) @ OPENCV_TO_OPENGL.T
            material = pyrender.MetallicRoughnessMaterial(baseColorFactor=(*colour, 1.0), metallicFactor=0.1)
            primitive = pyrender.Primitive(positions=positions.astype(np.float32),
                                           normals=self._normals(positions).astype(np.float32), indices=self.faces,
                                           material=material, mode=pyrender.constants.GLTF.TRIANGLES)
            scene.add(pyrender.Mesh(primitives=[primitive]))
        camera = pyrender.IntrinsicsCamera(fx=K[0, 0], fy=K[1, 1], cx=K[0, 2], cy=K[1, 2], znear=0.05, zfar=500.0)
        scene.add(camera, pose=np.eye(4))
        scene.add(pyrender.DirectionalLight(intensity=3.0), pose=np.eye(4))
        colour_image, depth = self.renderer.render(scene)
        return depth > 0, colour_image[..., :3]

    def _normals(self, positions: np.ndarray) -> np.ndarray:
        if self._vertex_faces is None or self._vertex_faces.shape[0] != len(positions):
            self._vertex_faces = vertex_face_incidence(self.faces, len(positions))
        return vertex_normals(positions, self.faces, self._vertex_faces)

    def close(self) -> None:
        self.renderer.delete()


def vertex_normals(positions: np.ndarray, faces: np.ndarray, vertex_faces: scipy.sparse.csr_matrix) -> np.ndarray:
    """(V, 3) unit normals of a mesh (V, 3) with faces (F, 3) (counter-clockwise = front), each the area-weighted
    mean of its faces' normals (smooth shading); `vertex_faces` = vertex_face_incidence(faces, V). A vertex of no
    face gets (0, 0, 0)."""
    corners = positions[faces]  # (F, 3, 3)
    face_normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])  # length = 2 area
    normals = vertex_faces @ face_normals
    return normals / np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)


def vertex_face_incidence(faces: np.ndarray, vertex_count: int) -> scipy.sparse.csr_matrix:
    """(V, F) sparse, 1 where a vertex is a corner of a face."""
    columns = np.repeat(np.arange(len(faces)), 3)
    return scipy.sparse.csr_matrix((np.ones(faces.size), (faces.reshape(-1), columns)),
                                   shape=(vertex_count, len(faces)))


def overlay(frame_bgr: np.ndarray, mask: np.ndarray, colour_rgb: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    out = frame_bgr.copy()
    out[mask] = ((1 - alpha) * frame_bgr[mask] + alpha * colour_rgb[mask][:, ::-1]).astype(np.uint8)
    return out
