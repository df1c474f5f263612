"""Joint names and index maps between OpenPose BODY_25 and smplx's SMPL output (24 joints + 21 extra)."""

from __future__ import annotations

BODY25_NAMES = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip", "RHip", "RKnee",
    "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar", "LBigToe", "LSmallToe", "LHeel",
    "RBigToe", "RSmallToe", "RHeel",
)

SMPL_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle", "right_ankle",
    "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)

# SMPL's kinematic tree: parent of each joint (-1 for the root).
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

# smplx's extra joints after the 24 (order of its VertexJointSelector for SMPL) and their smplh vertex ids.
SMPLX_EXTRA_NAMES = (
    "nose", "right_eye", "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe", "left_heel",
    "right_big_toe", "right_small_toe", "right_heel", "left_thumb", "left_index", "left_middle", "left_ring",
    "left_pinky", "right_thumb", "right_index", "right_middle", "right_ring", "right_pinky",
)
SMPLX_EXTRA_VERTEX_IDS = (332, 6260, 2800, 4071, 583, 3216, 3226, 3387, 6617, 6624, 6787,
                          2746, 2319, 2445, 2556, 2673, 6191, 5782, 5905, 6016, 6133)
SMPLX45_NAMES = SMPL_JOINT_NAMES + SMPLX_EXTRA_NAMES

# For each BODY_25 keypoint, the index into the 45 smplx joints as SMPLify-X and the multishot reference use it:
# MidHip (8) -> SMPL's pelvis (0), Neck (1) -> SMPL's neck (12). Only the reference glue
# (bench/reference_multishot.py) keeps that convention; everything of ours forms BODY_25 points with body25_joints.
BODY25_TO_SMPLX45 = (24, 12, 17, 19, 21, 16, 18, 20, 0, 2, 5, 8, 1, 4, 7, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34)

# Our model-side BODY_25 points: each is the midpoint of two of the 45 smplx joints, the same joint twice except
# - MidHip = midpoint of left_hip (1) and right_hip (2), where OpenPose, BlazePose (mshot/pose2d/blazepose.py) and
#   the rendered ground truth put it; SMPL's pelvis joint sits ~9 cm above that point;
# - Neck = midpoint of left_shoulder (16) and right_shoulder (17): BlazePose's Neck is synthesized there and
#   OpenPose's BODY_25 Neck lies there too (real OpenPose output of the shared seated_3people clip: median 1.7 px
#   from its shoulders' middle, shoulders 124 px apart); SMPL's neck joint sits ~20 px above it on that clip.
MIDHIP_BODY25 = BODY25_NAMES.index("MidHip")
NECK_BODY25 = BODY25_NAMES.index("Neck")
_MIDPOINTS = {MIDHIP_BODY25: (SMPL_JOINT_NAMES.index("left_hip"), SMPL_JOINT_NAMES.index("right_hip")),
              NECK_BODY25: (SMPL_JOINT_NAMES.index("left_shoulder"), SMPL_JOINT_NAMES.index("right_shoulder"))}
BODY25_JOINT_PAIRS = tuple(_MIDPOINTS.get(k, (j, j)) for k, j in enumerate(BODY25_TO_SMPLX45))
_FIRST, _SECOND = (list(side) for side in zip(*BODY25_JOINT_PAIRS, strict=True))


def body25_joints(joints):
    """(..., J, 3) smplx joints (J >= 35: the 24 SMPL joints, then the extra points in SMPLX_EXTRA_NAMES order),
    numpy array or torch tensor, any unit -> (..., 25, 3) the BODY_25 points (BODY25_JOINT_PAIRS), same type and
    unit; differentiable for tensors."""
    return (joints[..., _FIRST, :] + joints[..., _SECOND, :]) / 2


def body25_point_sources(moves_point):
    """(..., J) bool per smplx point (e.g. which points a joint rotation moves) -> (..., 25) bool per BODY_25
    point: true where either of its two source joints is."""
    return moves_point[..., _FIRST] | moves_point[..., _SECOND]
