"""`BodyModel`: SMPL as a small torch module (smplx underneath), loaded from any supported file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import smplx
import torch

from mshot.body.generate import is_generated
from mshot.body.smpl_file import load_smpl_arrays
from mshot.errors import InvalidInput


@dataclass(frozen=True)
class BodyOutput:
    vertices: torch.Tensor  # (B, V, 3) metres
    joints: torch.Tensor  # (B, 45, 3) metres: 24 SMPL joints + 21 extra (mshot.body.joint_maps.SMPLX45_NAMES)


class BodyModel(torch.nn.Module):
    """forward(global_orient (B,3), body_pose (B,69), betas (B,10)|(1,10), transl (B,3)) -> BodyOutput,
    smplx semantics: joints = J(pose, betas) + transl, global_orient about the root joint. float32."""

    def __init__(self, arrays: dict, num_betas: int = 10, source: str = ""):
        super().__init__()
        logging.getLogger("smplx").setLevel(logging.ERROR)
        self.source = source
        self.generated = is_generated(arrays)
        struct = smplx.utils.Struct(**{k: v for k, v in arrays.items() if k != "J"})
        self.smpl = smplx.SMPL(model_path="", data_struct=struct, num_betas=num_betas, create_betas=False,
                               create_global_orient=False, create_body_pose=False, create_transl=False)
        self.faces = np.asarray(arrays["f"], dtype=np.int64)
        self.num_betas = num_betas
        self.num_vertices = int(np.asarray(arrays["v_template"]).shape[0])
        self.parents = self.smpl.parents.clone()

    @classmethod
    def from_file(cls, path: str | Path, device: str | torch.device = "cpu", num_betas: int = 10) -> BodyModel:
        return cls(load_smpl_arrays(path), num_betas, str(path)).to(device)

    def forward(self, global_orient: torch.Tensor, body_pose: torch.Tensor, betas: torch.Tensor,
                transl: torch.Tensor) -> BodyOutput:
        batch = global_orient.shape[0]
        if body_pose.shape != (batch, 69) or transl.shape != (batch, 3) or global_orient.shape != (batch, 3):
            raise InvalidInput(f"body model input shapes: global_orient {tuple(global_orient.shape)}, body_pose "
                               f"{tuple(body_pose.shape)}, transl {tuple(transl.shape)}; expected (B,3), (B,69), (B,3)")
        betas = betas.expand(batch, -1) if betas.shape[0] == 1 else betas
        out = self.smpl(global_orient=global_orient, body_pose=body_pose, betas=betas, transl=transl)
        return BodyOutput(vertices=out.vertices, joints=out.joints)

    def rest_joints(self, betas: torch.Tensor) -> torch.Tensor:
        """(B, 24, 3): joints of the shaped body in the rest pose, before any translation."""
        shaped = self.smpl.v_template + smplx.lbs.blend_shapes(betas, self.smpl.shapedirs)
        return smplx.lbs.vertices2joints(self.smpl.J_regressor, shaped)
