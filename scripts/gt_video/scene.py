"""The static set of the ground-truth video and its cameras: a paved plaza with brick and plaster walls and a few
pillars (procedural textures, seeded), lit by a sun and sky light. World frame: z up, metres, ground at z = 0.

Cameras follow docs/conventions.md: `world_to_cam` (4, 4) maps world points to the OpenCV camera frame
(x right, y down, z forward); pixel (0, 0) is the centre of the top-left pixel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyrender


def _noise(rng: np.random.Generator, size: int, octaves: int = 4) -> np.ndarray:
    """(size, size) smooth value noise in 0..1 (sum of upsampled random grids)."""
    import cv2

    out = np.zeros((size, size))
    for o in range(octaves):
        cells = 4 * 2 ** o
        grid = rng.random((cells, cells))
        out += cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC) / 2 ** o
    out -= out.min()
    return out / max(out.max(), 1e-9)


def paving_texture(rng, size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8 grey-beige stone tiles with dark joints and weathering."""
    base = np.array([150, 145, 135], float)
    tiles = 4
    tile_shade = rng.uniform(-18, 18, (tiles, tiles))
    yy, xx = np.mgrid[0:size, 0:size] * tiles / size
    shade = tile_shade[yy.astype(int), xx.astype(int)]
    joint = (np.minimum(xx % 1, 1 - xx % 1) < 0.03) | (np.minimum(yy % 1, 1 - yy % 1) < 0.03)
    image = base + shade[..., None] + 40 * (_noise(rng, size)[..., None] - 0.5)
    image[joint] *= 0.45
    return np.clip(image, 0, 255).astype(np.uint8)


def brick_texture(rng, colour, size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8 running-bond bricks of `colour` (RGB) with light mortar."""
    rows, cols = 16, 8
    yy, xx = np.mgrid[0:size, 0:size] / size
    row = (yy * rows).astype(int)
    shifted = xx * cols + 0.5 * (row % 2)
    col = shifted.astype(int) % cols
    brick_shade = rng.uniform(0.8, 1.15, (rows, cols + 1))[row, col]
    mortar = ((yy * rows) % 1 < 0.1) | (shifted % 1 < 0.05)
    image = np.asarray(colour, float) * brick_shade[..., None] * (0.85 + 0.3 * _noise(rng, size)[..., None])
    image[mortar] = [200, 195, 185]
    return np.clip(image, 0, 255).astype(np.uint8)


def plaster_texture(rng, colour, size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8 painted plaster with dark window openings in a grid."""
    image = np.asarray(colour, float) * (0.85 + 0.3 * _noise(rng, size)[..., None])
    yy, xx = np.mgrid[0:size, 0:size] / size
    window = ((xx * 3) % 1 > 0.3) & ((xx * 3) % 1 < 0.7) & ((yy * 2) % 1 > 0.25) & ((yy * 2) % 1 < 0.75)
    image[window] = np.array([40, 55, 70]) * (0.8 + 0.4 * _noise(rng, size)[window][:, None])
    return np.clip(image, 0, 255).astype(np.uint8)


def _textured_quad(corners: np.ndarray, repeats: tuple[float, float], image: np.ndarray) -> pyrender.Mesh:
    """A flat quad (4, 3) corners in order, texture repeated `repeats` times along its two edges."""
    normal = np.cross(corners[1] - corners[0], corners[3] - corners[0])
    normal /= np.linalg.norm(normal)
    uv = np.array([[0, 0], [repeats[0], 0], [repeats[0], repeats[1]], [0, repeats[1]]], float)
    texture = pyrender.Texture(source=image, source_channels="RGB", sampler=pyrender.Sampler())
    material = pyrender.MetallicRoughnessMaterial(baseColorTexture=texture, metallicFactor=0.0, roughnessFactor=0.9)
    primitive = pyrender.Primitive(positions=corners.astype(np.float32), normals=np.tile(normal, (4, 1)),
                                   texcoord_0=uv, indices=np.array([[0, 1, 2], [0, 2, 3]]), material=material)
    return pyrender.Mesh([primitive])


def _pillar(x: float, y: float, radius: float, height: float, colour) -> pyrender.Mesh:
    import trimesh

    pillar = trimesh.creation.cylinder(radius=radius, height=height, sections=24)
    pillar.apply_translation([x, y, height / 2])
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=[*np.asarray(colour) / 255, 1.0],
                                                  metallicFactor=0.0, roughnessFactor=0.7)
    return pyrender.Mesh.from_trimesh(pillar, material=material)


def build_set(scene: pyrender.Scene, seed: int, pillars: tuple) -> list[pyrender.Node]:
    """Adds ground, walls, pillars ((x, y, RGB colour), ...: 0.25 m radius, 4 m tall) and lights to `scene`;
    returns the pillar nodes (they occlude people)."""
    rng = np.random.default_rng(seed)
    half = 20.0
    ground = np.array([[-half, -half, 0], [half, -half, 0], [half, half, 0], [-half, half, 0]], float)
    scene.add(_textured_quad(ground, (20, 20), paving_texture(rng)))
    walls = [  # (corners, texture): north brick, west plaster, east brick, south plaster
        (np.array([[-half, 9, 0], [half, 9, 0], [half, 9, 6], [-half, 9, 6]]), brick_texture(rng, (150, 70, 50))),
        (np.array([[-12, -half, 0], [-12, half, 0], [-12, half, 8], [-12, -half, 8]]),
         plaster_texture(rng, (200, 185, 140))),
        (np.array([[12, half, 0], [12, -half, 0], [12, -half, 6], [12, half, 6]]), brick_texture(rng, (110, 90, 80))),
        (np.array([[half, -12, 0], [-half, -12, 0], [-half, -12, 7], [half, -12, 7]]),
         plaster_texture(rng, (150, 170, 185))),
    ]
    for corners, image in walls:
        length = np.linalg.norm(corners[1] - corners[0])
        scene.add(_textured_quad(corners.astype(float), (length / 4, (corners[2, 2] - corners[1, 2]) / 4), image))
    nodes = [scene.add(_pillar(x, y, 0.25, 4.0, c)) for x, y, c in pillars]
    sun = np.eye(4)
    sun[:3, :3] = _look_rotation(np.array([0.4, 0.6, -0.7]))
    scene.add(pyrender.DirectionalLight(color=[1.0, 0.97, 0.9], intensity=3.5), pose=sun)
    fill = np.eye(4)
    fill[:3, :3] = _look_rotation(np.array([-0.5, -0.3, -0.4]))
    scene.add(pyrender.DirectionalLight(color=[0.8, 0.85, 1.0], intensity=1.2), pose=fill)
    return nodes


def _look_rotation(forward: np.ndarray) -> np.ndarray:
    """OpenGL-style camera/light rotation (3, 3) whose -z axis points along `forward` (world z up)."""
    forward = forward / np.linalg.norm(forward)
    right = np.cross(forward, [0, 0, 1.0])
    right = right / np.linalg.norm(right) if np.linalg.norm(right) > 1e-6 else np.array([1.0, 0, 0])
    up = np.cross(right, forward)
    return np.column_stack([right, up, -forward])


@dataclass(frozen=True)
class Camera:
    world_to_cam: np.ndarray  # (4, 4) world -> OpenCV camera frame
    focal_px: float
    principal_px: np.ndarray  # (2,) px, (0, 0) = centre of the top-left pixel

    def pyrender_pose(self) -> np.ndarray:
        """Camera-to-world pose with OpenGL axes (x right, y up, z backward), as pyrender wants it."""
        return np.linalg.inv(self.world_to_cam) @ np.diag([1.0, -1.0, -1.0, 1.0])

    def pyrender_camera(self) -> pyrender.IntrinsicsCamera:
        # pyrender's pixel grid has (0, 0) at the top-left corner: shift the principal point by half a pixel.
        cx, cy = self.principal_px + 0.5
        return pyrender.IntrinsicsCamera(self.focal_px, self.focal_px, cx, cy, znear=0.1, zfar=100.0)


def look_at(eye: np.ndarray, target: np.ndarray, focal_px: float, principal_px: np.ndarray) -> Camera:
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0, 0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rotation = np.stack([right, down, forward])  # rows: camera axes in world coordinates
    world_to_cam = np.eye(4)
    world_to_cam[:3, :3] = rotation
    world_to_cam[:3, 3] = -rotation @ eye
    return Camera(world_to_cam, float(focal_px), np.asarray(principal_px, float))
