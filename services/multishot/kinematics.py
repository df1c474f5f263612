"""Joints-only SMPL forward pass: the 24 skeleton joints plus a few surface vertices, without the full mesh.

The reprojection term needs only the joints that BODY_25 keypoints map to: the 24 skeleton joints and 11 surface
vertices (nose, eyes, ears, toes, heels). The skeleton joints depend on the shape only through the rest joints
J(betas) = J_regressor (v_template + shapedirs betas), and the surface vertices need the pose blend shapes and
skinning of those vertices alone. Evaluating just these is exact (same numbers as the full model, see the tests)
and costs a small fraction of a full 6890-vertex forward/backward, which is what makes whole-tracklet fitting fast.

Output order follows smplx's SMPL joints: 24 skeleton joints, then the selected vertices in the order given
(for `BODY25_EXTRA_VERTEX_IDS`: smplx joints 24..34). Metres; joints = J(pose, betas) + transl.
"""

from __future__ import annotations

import numpy as np
import torch

from mshot.body.joint_maps import SMPLX_EXTRA_VERTEX_IDS
from mshot.geometry.torch_ops import axis_angle_to_matrix

# Vertex ids (11,) of smplx's extra SMPL joints 24..34 (the ones BODY_25 uses: face and feet), in smplx order.
BODY25_EXTRA_VERTEX_IDS = np.array(SMPLX_EXTRA_VERTEX_IDS[:11], dtype=np.int64)


class SparseSmplJoints(torch.nn.Module):
    """SMPL joints and selected vertices from pose and shape.

    Arrays (SMPL file layout): v_template (V, 3), shapedirs (V, 3, S), posedirs (V, 3, 207), J_regressor (24, V)
    (dense or scipy.sparse), parents (24,) with parents[0] < 0, lbs_weights (V, 24), vertex_ids (E,).
    """

    def __init__(self, v_template, shapedirs, posedirs, J_regressor, parents, lbs_weights, vertex_ids,
                 num_betas: int = 10):
        super().__init__()
        regressor = J_regressor.toarray() if hasattr(J_regressor, "toarray") else np.asarray(J_regressor)
        regressor = regressor.astype(np.float64)
        v_template = np.asarray(v_template, dtype=np.float64)
        shapedirs = np.asarray(shapedirs, dtype=np.float64)[:, :, :num_betas]
        posedirs = np.asarray(posedirs, dtype=np.float64)
        ids = np.asarray(vertex_ids, dtype=np.int64)
        weights = np.asarray(lbs_weights, dtype=np.float64)
        self.parents = [int(p) for p in np.asarray(parents).reshape(-1)]
        self.parents[0] = -1
        self.num_betas = shapedirs.shape[2]
        f32 = torch.float32
        self.register_buffer("joint_template", torch.tensor(regressor @ v_template, dtype=f32))  # (24, 3)
        self.register_buffer("joint_shapedirs", torch.tensor(np.einsum("jv,vcs->jcs", regressor, shapedirs),
                                                             dtype=f32))  # (24, 3, S)
        self.register_buffer("vertex_template", torch.tensor(v_template[ids], dtype=f32))  # (E, 3)
        self.register_buffer("vertex_shapedirs", torch.tensor(shapedirs[ids], dtype=f32))  # (E, 3, S)
        self.register_buffer("vertex_posedirs", torch.tensor(posedirs[ids], dtype=f32))  # (E, 3, 207)
        self.register_buffer("vertex_weights", torch.tensor(weights[ids], dtype=f32))  # (E, 24)

    @classmethod
    def from_body_model(cls, body_model, num_betas: int = 10) -> SparseSmplJoints:
        """Build from a body model holding smplx-SMPL arrays (an `mshot.body.model.BodyModel`, or an smplx.SMPL
        module, or an object with such a module as an attribute): v_template, shapedirs, posedirs (207, V*3),
        J_regressor, parents, lbs_weights; extra joint vertices from its vertex_joint_selector if present."""
        source = _smpl_arrays_holder(body_model)
        if source is None:
            raise TypeError(f"{type(body_model).__name__} exposes no SMPL arrays (v_template, J_regressor, ...)")

        def array(name):
            value = getattr(source, name)
            return value.detach().cpu().double().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)

        v_template = array("v_template")
        posedirs = array("posedirs")
        if posedirs.ndim == 2:  # smplx layout (207, V * 3) -> file layout (V, 3, 207)
            posedirs = posedirs.reshape(posedirs.shape[0], -1, 3).transpose(1, 2, 0)
        selector = getattr(source, "vertex_joint_selector", None)
        if selector is not None and hasattr(selector, "extra_joints_idxs"):
            ids = selector.extra_joints_idxs.detach().cpu().numpy()[: len(BODY25_EXTRA_VERTEX_IDS)]
        else:
            ids = BODY25_EXTRA_VERTEX_IDS
        return cls(v_template, array("shapedirs"), posedirs, array("J_regressor"), array("parents"),
                   array("lbs_weights"), ids, num_betas=num_betas)

    def body_joint_moves_point(self) -> torch.Tensor:
        """(23, 24 + E) bool: entry [j - 1, p] says whether the rotation of body joint j (1..23) moves output point p.

        A skeleton joint moves with the rotations of its strict ancestors; a surface vertex with the rotations of
        its dominant skinning joint and that joint's ancestors.
        """
        owners = list(range(24)) + self.vertex_weights.argmax(1).tolist()
        moves = torch.zeros(23, len(owners), dtype=torch.bool)
        for point, owner in enumerate(owners):
            joint = owner if point >= 24 else self.parents[owner]
            while joint > 0:
                moves[joint - 1, point] = True
                joint = self.parents[joint]
        return moves

    @property
    def num_outputs(self) -> int:
        return 24 + self.vertex_template.shape[0]

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """betas (B, S) -> rest-pose skeleton joints (B, 24, 3) metres (no translation)."""
        return self.joint_template.to(betas.dtype) + torch.einsum("jcs,bs->bjc", self.joint_shapedirs.to(betas.dtype),
                                                                  betas)

    def forward(self, global_orient: torch.Tensor, body_pose: torch.Tensor, betas: torch.Tensor,
                transl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """global_orient (B, 3), body_pose (B, 69) radians, betas (B, S), transl (B, 3) metres
        -> (points (B, 24 + E, 3) metres, rotations (B, 24, 3, 3) local joint rotations)."""
        dtype = betas.dtype
        batch = betas.shape[0]
        rotations = axis_angle_to_matrix(torch.cat([global_orient, body_pose], dim=1).reshape(batch, 24, 3))
        rest = self.rest_joints(betas)  # (B, 24, 3)
        world_rot: list[torch.Tensor] = []
        world_pos: list[torch.Tensor] = []
        for j, parent in enumerate(self.parents):
            if parent < 0:
                world_rot.append(rotations[:, 0])
                world_pos.append(rest[:, 0])
            else:
                offset = rest[:, j] - rest[:, parent]
                world_rot.append(world_rot[parent] @ rotations[:, j])
                world_pos.append(world_pos[parent] + (world_rot[parent] @ offset[..., None])[..., 0])
        rot = torch.stack(world_rot, dim=1)  # (B, 24, 3, 3)
        pos = torch.stack(world_pos, dim=1)  # (B, 24, 3)
        # Skinning transform of joint k maps a rest-pose point x to rot_k x + (pos_k - rot_k rest_k).
        shift = pos - (rot @ rest[..., None])[..., 0]
        eye = torch.eye(3, dtype=dtype, device=betas.device)
        pose_feature = (rotations[:, 1:] - eye).reshape(batch, -1)  # (B, 207)
        vertices = (self.vertex_template.to(dtype)
                    + torch.einsum("ecs,bs->bec", self.vertex_shapedirs.to(dtype), betas)
                    + torch.einsum("ecp,bp->bec", self.vertex_posedirs.to(dtype), pose_feature))  # (B, E, 3)
        weights = self.vertex_weights.to(dtype)
        blended_rot = torch.einsum("ek,bkij->beij", weights, rot)
        blended_shift = torch.einsum("ek,bki->bei", weights, shift)
        skinned = (blended_rot @ vertices[..., None])[..., 0] + blended_shift
        points = torch.cat([pos, skinned], dim=1) + transl[:, None, :]
        return points, rotations


def _smpl_arrays_holder(body_model):
    """The object (body_model itself or one of its attributes) that holds the SMPL arrays, or None."""
    needed = ("v_template", "shapedirs", "posedirs", "J_regressor", "parents", "lbs_weights")
    candidates = [body_model, *vars(body_model).values()] if hasattr(body_model, "__dict__") else [body_model]
    if isinstance(body_model, torch.nn.Module):
        candidates += list(body_model.children())
    for candidate in candidates:
        if all(hasattr(candidate, name) for name in needed):
            return candidate
    return None
