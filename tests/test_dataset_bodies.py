"""A row's body is rendered once and kept as its window: the silhouette and the overlay made from the window are
the full-frame ones, and a second request renders nothing."""

from __future__ import annotations

import numpy as np

from mshot.render import overlay
from services.dataset.bodies import RowRenders


class _CountingRenderer:  # stands in for the OSMesa renderer: a fixed silhouette and shading
    width, height = 12, 8

    def __init__(self):
        self.calls = 0
        self.mask = np.zeros((8, 12), bool)
        self.mask[2:5, 3:9] = True
        self.colour = np.arange(8 * 12 * 3, dtype=np.uint8).reshape(8, 12, 3)

    def render(self, vertices, K):
        self.calls += 1
        return self.mask.copy(), self.colour.copy()


def test_silhouette_and_overlay_from_the_window_equal_the_full_frame_ones_and_render_once():
    renderer = _CountingRenderer()
    fits = {"focal_px": np.array([100.0]), "principal_px": np.array([[6.0, 4.0]])}
    renders = RowRenders(renderer, lambda row: np.zeros((3, 3)), fits)
    frame = np.full((8, 12, 3), 200, np.uint8)
    np.testing.assert_array_equal(renders.silhouette(0), renderer.mask)
    np.testing.assert_array_equal(renders.overlay(0, frame), overlay(frame, renderer.mask, renderer.colour))
    assert renderer.calls == 1


def test_a_body_outside_the_image_gives_an_empty_silhouette_and_the_frame_unchanged():
    renderer = _CountingRenderer()
    renderer.mask[:] = False
    renders = RowRenders(renderer, lambda row: np.zeros((3, 3)), {"focal_px": np.array([1.0]),
                                                                 "principal_px": np.array([[0.0, 0.0]])})
    frame = np.full((8, 12, 3), 7, np.uint8)
    assert not renders.silhouette(0).any()
    np.testing.assert_array_equal(renders.overlay(0, frame), frame)


def test_vertex_normals_are_the_area_weighted_mean_of_the_faces_normals():
    from mshot.render import vertex_face_incidence, vertex_normals

    # two triangles sharing the edge (0, 1): one in the z = 0 plane (area 0.5, normal +z), one in the x = 0 plane
    # (area 2, normal -x: (0, 1, 0) x (0, 0, -4) = (-4, 0, 0)); vertex 4 belongs to no face
    positions = np.array([[0, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, -4], [9, 9, 9]], np.float64)
    faces = np.array([[0, 2, 1], [0, 1, 3]])
    normals = vertex_normals(positions, faces, vertex_face_incidence(faces, len(positions)))
    shared = np.array([-4.0, 0.0, 1.0]) / np.sqrt(17.0)  # cross products (0, 0, 1) and (-4, 0, 0), summed
    np.testing.assert_allclose(normals, [shared, shared, [0, 0, 1], [-1, 0, 0], [0, 0, 0]], atol=1e-12)
