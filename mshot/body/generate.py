"""A generated body model in SMPL's file format, for tests and trials where the licensed SMPL files are
not available. It is NOT SMPL: a 6890-vertex body made of smooth ellipsoids around an SMPL-proportioned
skeleton (1.71 m, T-pose, y up, facing +z), skinned to SMPL's 24-joint tree. Its 10 shape directions are
simple linear deformations (height, girth, leg/arm/torso length, shoulder/hip width, belly, head, neck).
Like SMPL, and so that code which mishandles either is caught by tests:
- the rest pelvis sits where SMPL's does, about 0.22 m below the model origin (`REST_PELVIS`), so rotating
  about the origin (Rh/Th conventions) and about the pelvis (smplx's global_orient) differ;
- the pose blend shapes (posedirs) are non-zero: near each joint the flesh follows the child bone partly,
  displacement = 0.35 * m(v) * (R_j - I) (v - J_j) with m = 4 w_j w_parent (largest where skinning blends),
  which is linear in SMPL's pose feature (R_j - I), as posedirs must be (about 1-2 cm at a 90 degree bend).
The vertices smplx reads its extra joints from (nose, eyes, ears, toes, heels, fingertips) sit at those
body parts, so BODY_25 maps onto it as onto SMPL.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import scipy.optimize
import scipy.sparse

from mshot.body.joint_maps import SMPL_PARENTS, SMPLX_EXTRA_NAMES, SMPLX_EXTRA_VERTEX_IDS
from mshot.npzio import save_npz

NUM_VERTICES = 6890
GENERATOR_TAG = "mshot generated stand-in body model (not SMPL)"

# Rest joints (24, 3) metres relative to the pelvis; x = the person's left, y up, z forward.
_SKELETON = np.array([
    [0.0, 0.0, 0.0], [0.065, -0.09, -0.005], [-0.065, -0.09, -0.005], [0.0, 0.11, -0.02],
    [0.10, -0.48, 0.0], [-0.10, -0.48, 0.0], [0.0, 0.24, -0.01], [0.10, -0.87, -0.04], [-0.10, -0.87, -0.04],
    [0.0, 0.30, 0.01], [0.12, -0.94, 0.09], [-0.12, -0.94, 0.09], [0.0, 0.50, -0.01], [0.07, 0.42, -0.005],
    [-0.07, 0.42, -0.005], [0.0, 0.58, 0.03], [0.18, 0.45, -0.01], [-0.18, 0.45, -0.01], [0.44, 0.44, -0.03],
    [-0.44, 0.44, -0.03], [0.69, 0.44, -0.02], [-0.69, 0.44, -0.02], [0.77, 0.44, -0.02], [-0.77, 0.44, -0.02],
])
REST_PELVIS = np.array([0.003, -0.22, 0.03])  # metres from the model origin, about where SMPL's rest pelvis is
REST_JOINTS = _SKELETON + REST_PELVIS  # (24, 3) metres in the model frame (neutral; scaled for other genders)
POSE_BLEND = 0.35  # how far the flesh near a joint follows the child bone beyond skinning

# Where smplx's extra-joint vertices should be (same order as SMPLX_EXTRA_NAMES), relative to the pelvis.
LANDMARKS = {
    "nose": (0.0, 0.635, 0.115), "right_eye": (-0.035, 0.67, 0.095), "left_eye": (0.035, 0.67, 0.095),
    "right_ear": (-0.085, 0.645, 0.015), "left_ear": (0.085, 0.645, 0.015),
    "left_big_toe": (0.10, -0.975, 0.19), "left_small_toe": (0.145, -0.975, 0.165), "left_heel": (0.11, -0.975, -0.07),
    "right_big_toe": (-0.10, -0.975, 0.19), "right_small_toe": (-0.145, -0.975, 0.165),
    "right_heel": (-0.11, -0.975, -0.07),
    "left_thumb": (0.78, 0.43, 0.06), "left_index": (0.87, 0.44, 0.02), "left_middle": (0.88, 0.44, 0.0),
    "left_ring": (0.87, 0.44, -0.02), "left_pinky": (0.85, 0.44, -0.04),
    "right_thumb": (-0.78, 0.43, 0.06), "right_index": (-0.87, 0.44, 0.02), "right_middle": (-0.88, 0.44, 0.0),
    "right_ring": (-0.87, 0.44, -0.02), "right_pinky": (-0.85, 0.44, -0.04),
}


def _ellipsoid(rings: int, segments: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit sphere: (2 + rings * segments) vertices, closed triangle mesh, outward faces."""
    theta = np.linspace(0, np.pi, rings + 2)[1:-1]
    phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    t, p = np.meshgrid(theta, phi, indexing="ij")
    ring = np.stack([np.sin(t) * np.cos(p), np.cos(t), np.sin(t) * np.sin(p)], -1).reshape(-1, 3)
    vertices = np.vstack([[0, 1, 0], ring, [0, -1, 0]])
    faces = []
    for s in range(segments):
        n = (s + 1) % segments
        faces.append([0, 1 + n, 1 + s])
        last = 1 + (rings - 1) * segments
        faces.append([len(vertices) - 1, last + s, last + n])
    for r in range(rings - 1):
        for s in range(segments):
            n = (s + 1) % segments
            a, b = 1 + r * segments + s, 1 + r * segments + n
            c, d = a + segments, b + segments
            faces += [[a, b, d], [a, d, c]]
    return vertices, np.array(faces)


def _aligned(start, end, radii_xz, overshoot, rings, segments):
    """An ellipsoid whose long axis runs from `start` to `end` (extended by `overshoot` m at both ends)."""
    v, f = _ellipsoid(rings, segments)
    start, end = np.asarray(start, float), np.asarray(end, float)
    axis = end - start
    length = np.linalg.norm(axis)
    y = axis / length
    helper = np.array([0.0, 0.0, 1.0]) if abs(y[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    x = np.cross(y, helper)
    x /= np.linalg.norm(x)
    z = np.cross(x, y)
    scaled = v * np.array([radii_xz[0], length / 2 + overshoot, radii_xz[1]])
    return (start + end) / 2 + scaled @ np.stack([x, y, z]), f


def _primitives():
    J = _SKELETON
    parts = [  # (start, end, (rx, rz), overshoot, rings, segments)
        ((0, -0.12, 0), (0, 0.5, 0), (0.165, 0.115), 0.02, 34, 40),  # torso
        ((0, 0.49, 0), (0, 0.6, 0.01), (0.055, 0.055), 0.0, 8, 16),  # neck
        ((0, 0.55, 0.02), (0, 0.75, 0.02), (0.085, 0.1), 0.0, 18, 26),  # head
    ]
    for side in (1, -1):
        hip, knee, ankle = (1, 4, 7) if side > 0 else (2, 5, 8)
        shoulder, elbow, wrist, hand = (16, 18, 20, 22) if side > 0 else (17, 19, 21, 23)
        parts += [
            (J[hip], J[knee], (0.08, 0.085), 0.04, 18, 20),
            (J[knee], J[ankle], (0.055, 0.06), 0.04, 18, 18),
            ((J[ankle][0], -0.955, -0.08), (J[ankle][0] + side * 0.02, -0.955, 0.2), (0.05, 0.03), 0.0, 14, 16),
            ((J[shoulder][0] - side * 0.06, J[shoulder][1], J[shoulder][2]), J[elbow], (0.055, 0.055), 0.03, 16, 16),
            (J[elbow], J[wrist], (0.045, 0.042), 0.03, 14, 14),
            (J[wrist], (J[hand][0] + side * 0.1, J[hand][1], J[hand][2]), (0.018, 0.05), 0.0, 10, 14),
        ]
    return [_aligned(*part) for part in parts]


def _bone_distances(points: np.ndarray) -> np.ndarray:
    """(V, 24) distance of each point to each joint's bone (the segment to its child, a point for leaves)."""
    out = np.empty((len(points), 24))
    children = {j: [c for c, p in enumerate(SMPL_PARENTS) if p == j] for j in range(24)}
    for j in range(24):
        a = _SKELETON[j]
        ends = [_SKELETON[c] for c in children[j]] or [a]
        best = np.full(len(points), np.inf)
        for b in ends:
            ab = b - a
            t = np.clip(((points - a) @ ab) / max(ab @ ab, 1e-12), 0, 1) if ab @ ab > 0 else np.zeros(len(points))
            best = np.minimum(best, np.linalg.norm(points - (a + t[:, None] * ab), axis=1))
        out[:, j] = best
    return out


def _shapedirs(v: np.ndarray, nearest_bone_point: np.ndarray) -> np.ndarray:
    y, x = v[:, 1], v[:, 0]
    legs = np.clip((-0.09 - y) / 0.88, 0, 1)
    arms = np.clip((np.abs(x) - 0.18) / 0.6, 0, 1)
    upper = np.clip((y - 0.0) / 0.5, 0, 1)
    dirs = np.zeros((len(v), 3, 10))
    dirs[:, :, 0] = 0.04 * v  # overall size
    dirs[:, :, 1] = 0.12 * (v - nearest_bone_point)  # girth
    dirs[:, 1, 2] = -0.05 * legs  # leg length
    dirs[:, 0, 3] = 0.04 * arms * np.sign(x)  # arm length
    dirs[:, 0, 4] = 0.02 * np.sign(x) * (np.abs(x) > 0.1) * (y > 0.3)  # shoulder width
    dirs[:, 1, 5] = 0.03 * upper  # torso length
    dirs[:, 2, 6] = 0.03 * np.clip(v[:, 2] / 0.12, 0, 1) * (np.abs(y - 0.15) < 0.25)  # belly
    dirs[:, 0, 7] = 0.015 * np.sign(x) * (y < 0.05) * (y > -0.5)  # hip width
    head = y > 0.56
    dirs[head, :, 8] = 0.08 * (v[head] - [0, 0.65, 0.02])  # head size
    dirs[:, 1, 9] = 0.01 * (y > 0.5)  # neck length
    return dirs


def make_generated_smpl_arrays(seed: int = 0, gender: str = "neutral") -> dict[str, object]:
    """The model's arrays under SMPL's file keys. Deterministic; `seed` only jitters vertex positions slightly
    (< 2 mm) so different seeds give distinct but equivalent models; `gender` scales the body (f 0.95, m 1.04)."""
    rng = np.random.default_rng(seed)
    vertices, faces, offset = [], [], 0
    for v, f in _primitives():
        vertices.append(v)
        faces.append(f + offset)
        offset += len(v)
    v = np.vstack(vertices)
    f = np.vstack(faces)
    if len(v) > NUM_VERTICES:
        raise AssertionError(f"primitives give {len(v)} vertices, more than {NUM_VERTICES}")
    referenced = len(v)
    # Pad to SMPL's vertex count with copies of torso vertices (referenced by no face).
    v = np.vstack([v, v[: NUM_VERTICES - referenced]])
    v = v + rng.normal(scale=0.0005, size=v.shape)
    scale = {"neutral": 1.0, "female": 0.95, "male": 1.04}[gender]
    v *= scale
    joints = _SKELETON * scale
    # Move the landmark vertices to smplx's extra-joint vertex ids by swapping indices.
    order = np.arange(NUM_VERTICES)
    taken: set[int] = set()
    for name, vid in zip(SMPLX_EXTRA_NAMES, SMPLX_EXTRA_VERTEX_IDS, strict=True):
        target = np.asarray(LANDMARKS[name]) * scale
        positions = v[order]
        distance = np.linalg.norm(positions - target, axis=1)
        distance[list(taken)] = np.inf
        is_referenced = order < referenced
        distance[~is_referenced] = np.inf
        best = int(np.argmin(distance))
        order[[best, vid]] = order[[vid, best]]
        taken.add(vid)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(NUM_VERTICES)
    v = v[order]
    f = inverse[f]
    distances = _bone_distances(v / scale)
    logits = -(distances / 0.025) ** 2
    weights = np.exp(logits - logits.max(1, keepdims=True))
    weights[weights < 1e-3] = 0
    weights /= weights.sum(1, keepdims=True)
    closest = np.argmin(distances, axis=1)
    nearest_bone = _nearest_bone_points(v / scale, closest) * scale
    regressor = np.zeros((24, NUM_VERTICES))
    for j in range(24):
        # Non-negative weights on the 400 nearest vertices that sum to 1 and reproduce the designed joint.
        near = np.argsort(np.linalg.norm(v - joints[j], axis=1))[:400]
        system = np.vstack([v[near].T, 10.0 * np.ones(len(near))])
        weights_j, _ = scipy.optimize.nnls(system, np.append(joints[j], 10.0))
        regressor[j, near] = weights_j / weights_j.sum()
    kintree = np.array([[4294967295, *SMPL_PARENTS[1:]], list(range(24))], dtype=np.int64)
    shapedirs, posedirs = _shapedirs(v, nearest_bone), _posedirs(v, joints, weights)  # about the pelvis
    v, joints = v + REST_PELVIS, joints + REST_PELVIS
    return {
        "v_template": v, "f": f.astype(np.uint32), "weights": weights, "kintree_table": kintree,
        "J_regressor": scipy.sparse.csc_matrix(regressor), "J": regressor @ v,
        "shapedirs": shapedirs, "posedirs": posedirs,
        "bs_style": "lbs", "bs_type": "lrotmin", "generator": GENERATOR_TAG, "gender": gender,
    }


def _posedirs(v: np.ndarray, joints: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(V, 3, 207): column 9 (j - 1) + 3 k + l (SMPL's pose feature, (R_j - I)[k, l] for joints 1..23) moves
    coordinate k of a vertex by POSE_BLEND * 4 w_j w_parent * (v - J_j)_l, metres per unit of the feature."""
    posedirs = np.zeros((len(v), 3, 207))
    for j in range(1, 24):
        blend = POSE_BLEND * 4 * weights[:, j] * weights[:, SMPL_PARENTS[j]]
        offset = v - joints[j]
        for k in range(3):
            posedirs[:, k, 9 * (j - 1) + 3 * k: 9 * (j - 1) + 3 * k + 3] = blend[:, None] * offset
    return posedirs


def _nearest_bone_points(points: np.ndarray, bone: np.ndarray) -> np.ndarray:
    children = {j: [c for c, p in enumerate(SMPL_PARENTS) if p == j] for j in range(24)}
    out = np.empty_like(points)
    for j in range(24):
        rows = bone == j
        a = _SKELETON[j]
        b = _SKELETON[children[j][0]] if children[j] else a
        ab = b - a
        t = np.clip(((points[rows] - a) @ ab) / max(ab @ ab, 1e-12), 0, 1) if ab @ ab > 0 else 0.0
        out[rows] = a + np.atleast_1d(t)[:, None] * ab
    return out


def write_generated_smpl_model(path: str | Path, seed: int = 0, gender: str = "neutral") -> Path:
    """Write the generated model as an SMPL-layout .pkl (plain arrays, sparse J_regressor) or .npz."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = make_generated_smpl_arrays(seed, gender)
    if path.suffix == ".npz":
        dense = {k: (v.toarray() if scipy.sparse.issparse(v) else v) for k, v in arrays.items()}
        save_npz(path, dense)
    else:
        tmp = path.with_name(f".{path.name}.tmp")
        with open(tmp, "wb") as f:
            pickle.dump(arrays, f, protocol=4)
        tmp.replace(path)
    return path


def is_generated(arrays: dict) -> bool:
    """True for a model written by this module (its results are not real SMPL bodies)."""
    return str(arrays.get("generator", "")) == GENERATOR_TAG
