"""People of the ground-truth video: Anny bodies (anny 0.6.2, MakeHuman mesh, 104-bone rig; world z up, the
rest body faces -y) with clothes painted per vertex, walking a polyline path with a procedural gait.

Pose parameters use Anny's default `local-ref` parameterization, whose axes are the world axes at rest: a
rotation about +x swings a leg or arm backwards, about +y lowers the left arm (raises the right one), about +z
turns the body to its left. BODY_25 keypoints come from Anny's COCO-WholeBody regressor (neck and mid-hip are
midpoints of the shoulders and hips)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

# BODY_25 index -> Anny COCO keypoint label(s): a pair means the midpoint.
BODY25_FROM_COCO = (
    ("nose",), ("left_shoulder", "right_shoulder"), ("right_shoulder",), ("right_elbow",), ("right_wrist",),
    ("left_shoulder",), ("left_elbow",), ("left_wrist",), ("left_hip", "right_hip"), ("right_hip",),
    ("right_knee",), ("right_ankle",), ("left_hip",), ("left_knee",), ("left_ankle",), ("right_eye",),
    ("left_eye",), ("right_ear",), ("left_ear",), ("left_big_toe",), ("left_small_toe",), ("left_heel",),
    ("right_big_toe",), ("right_small_toe",), ("right_heel",),
)


@dataclass(frozen=True)
class Person:
    phenotype: dict  # Anny phenotype values 0..1 (gender, age, muscle, weight, height, proportions)
    path: tuple  # ((x, y), ...) world metres, walked at `speed` from time `start_s`
    speed: float  # m/s
    start_s: float  # time at which the person is at path[0]; earlier and later they stand at the ends
    shirt: tuple  # RGB 0..255
    shirt_pattern: str  # "plain", "stripes" or "checks"
    sleeves: str  # "long" or "short"
    trousers: tuple
    shoes: tuple
    skin: tuple
    hair: tuple
    stride_m: float = 1.35  # one gait cycle (two steps)
    turns: tuple = ()  # ((time_s, degrees), ...): a turn about z added to the heading, interpolated (on the spot
    # when standing: a person stands at path[0] facing along the path until start_s)


def _rot(axis: str, degrees: np.ndarray) -> np.ndarray:
    """(N,) degrees -> (N, 3, 3) rotations about a world axis."""
    a = np.radians(np.asarray(degrees, float))
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    rows = {"x": [[o, z, z], [z, c, -s], [z, s, c]], "y": [[c, z, s], [z, o, z], [-s, z, c]],
            "z": [[c, -s, z], [s, c, z], [z, z, o]]}[axis]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def walk_positions(person: Person, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (N, 2) ground position m, (N,) heading (radians about z, 0 = facing -y), (N,) distance walked m."""
    points = np.asarray(person.path, float)
    segment = np.linalg.norm(np.diff(points, axis=0), axis=1)
    knots = np.concatenate([[0.0], np.cumsum(segment)])
    distance = np.clip((times_s - person.start_s) * person.speed, 0.0, knots[-1])
    xy = np.column_stack([np.interp(distance, knots, points[:, k]) for k in range(2)])
    # Heading from a look-ahead along the path, so turns are smooth.
    ahead = np.column_stack([np.interp(np.minimum(distance + 0.5, knots[-1]), knots, points[:, k]) for k in range(2)])
    behind = np.column_stack([np.interp(np.maximum(distance - 0.5, 0), knots, points[:, k]) for k in range(2)])
    direction = ahead - behind
    heading = np.arctan2(direction[:, 0], -direction[:, 1])
    if person.turns:
        keys = np.asarray(person.turns, float)
        heading = heading + np.radians(np.interp(times_s, keys[:, 0], keys[:, 1]))
    return xy, heading, distance


def gait_pose(model, person: Person, times_s: np.ndarray) -> dict[str, torch.Tensor]:
    """Pose parameters {bone: (N, 4, 4)} of a walk along the person's path at the given times."""
    n = len(times_s)
    xy, heading, distance = walk_positions(person, times_s)
    moving = np.gradient(distance) > 1e-6 if n > 1 else np.zeros(n, bool)
    phase = 2 * math.pi * distance / person.stride_m
    amp = np.where(moving, 1.0, 0.0)
    poses = {}

    def put(bone, rotation, translation=None):
        matrix = np.tile(np.eye(4), (n, 1, 1))
        matrix[:, :3, :3] = rotation
        if translation is not None:
            matrix[:, :3, 3] = translation
        poses[bone] = torch.as_tensor(matrix, dtype=model.dtype)

    for side, sign in (("L", 1.0), ("R", -1.0)):
        leg_phase = phase if side == "L" else phase + math.pi
        hip = 24.0 * amp * np.sin(leg_phase)  # flexion (forward) is a rotation about -x
        knee = 6.0 + amp * 45.0 * np.maximum(np.cos(leg_phase), 0.0) ** 2  # flexes in swing
        put(f"upperleg01.{side}", _rot("x", -hip))
        put(f"lowerleg01.{side}", _rot("x", knee))
        put(f"foot.{side}", _rot("x", -0.3 * hip))
        swing = 16.0 * amp * np.sin(leg_phase)  # the arm swings against the leg of its side
        put(f"upperarm01.{side}", _rot("x", swing) @ _rot("y", np.full(n, sign * 33.0)))
        put(f"lowerarm01.{side}", _rot("x", -(14.0 + 8.0 * amp * np.maximum(np.sin(-leg_phase), 0.0))))
    put("spine03", _rot("z", 4.0 * amp * np.sin(phase)))
    translation = np.column_stack([xy, np.zeros(n)])
    put("root", _rot("z", np.degrees(heading)), translation)
    return poses


def body25_from_coco(coco: np.ndarray, labels: list[str]) -> np.ndarray:
    """(..., K, 3) Anny COCO keypoints -> (..., 25, 3) BODY_25."""
    index = {name: k for k, name in enumerate(labels)}
    return np.stack([np.mean([coco[..., index[n], :] for n in names], axis=0) for names in BODY25_FROM_COCO], -2)


def clothes_colours(model, person: Person, rest_vertices: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """(V, 3) uint8 per-vertex colours: shirt, trousers, shoes, skin, hair, eyes, by dominant bone and rest shape."""
    bones = np.asarray(model.bone_labels)
    dominant = bones[model.vertex_bone_indices.numpy()[np.arange(len(rest_vertices)),
                                                       model.vertex_bone_weights.numpy().argmax(1)]]
    v = rest_vertices
    z, y = v[:, 2], v[:, 1]
    hip_z = z.min() + 0.52 * (z.max() - z.min())
    colour = np.tile(np.asarray(person.skin, float), (len(v), 1))

    def region(*prefixes):
        return np.array([any(b.startswith(p) for p in prefixes) for b in dominant])

    torso = region("spine", "clavicle", "shoulder", "upperarm", "pelvis", "root") | (
        region("lowerarm") if person.sleeves == "long" else np.zeros(len(v), bool))
    legs = region("upperleg", "lowerleg") | (torso & (z < hip_z))
    shirt = torso & ~legs
    shirt_colour = np.tile(np.asarray(person.shirt, float), (len(v), 1))
    if person.shirt_pattern == "stripes":
        shirt_colour[np.sin(z * 2 * math.pi / 0.07) > 0.3] = [235, 235, 230]
    elif person.shirt_pattern == "checks":
        dark = (np.floor(v[:, 0] / 0.06) + np.floor(z / 0.06)) % 2 == 0
        shirt_colour[dark] *= 0.55
    colour[shirt] = shirt_colour[shirt]
    colour[legs] = person.trousers
    colour[region("foot", "toe")] = person.shoes
    head = region("head")
    eye_z = np.median(z[region("eye")]) if region("eye").any() else z.max() - 0.12
    colour[head & ((z > eye_z + 0.045) | ((z > eye_z - 0.10) & (y > -0.03)))] = person.hair  # top and back
    colour[region("eye")] = [45, 30, 25]
    colour *= rng.uniform(0.92, 1.08, (len(v), 1))  # fabric and skin variation
    return np.clip(colour, 0, 255).astype(np.uint8)
