"""Torch counterparts of `rotations` and `camera` for optimisation (differentiable, float32-friendly)."""

from __future__ import annotations

import torch

from mshot.geometry.camera import MIN_DEPTH_M


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula, differentiable at zero. (..., 3) radians -> (..., 3, 3)."""
    angle_sq = (axis_angle * axis_angle).sum(-1, keepdim=True)
    angle = torch.sqrt(angle_sq + 1e-12)
    # sin(a)/a and (1-cos(a))/a^2 with Taylor series near zero for stable gradients.
    small = angle_sq < 1e-6
    sin_over = torch.where(small, 1.0 - angle_sq / 6.0, torch.sin(angle) / angle)
    cos_term = torch.where(small, 0.5 - angle_sq / 24.0, (1.0 - torch.cos(angle)) / (angle * angle))
    x, y, z = axis_angle.unbind(-1)
    zeros = torch.zeros_like(x)
    skew = torch.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], dim=-1).reshape(axis_angle.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device).expand_as(skew)
    return eye + sin_over[..., None] * skew + cos_term[..., None] * (skew @ skew)


def project(points_cam: torch.Tensor, focal_px: torch.Tensor, principal_px: torch.Tensor) -> torch.Tensor:
    """points_cam (B, J, 3) metres, focal_px (B,), principal_px (B, 2) -> (B, J, 2) pixels. Depth clamped at
    MIN_DEPTH_M, as camera.project does."""
    z = points_cam[..., 2:3].clamp(min=MIN_DEPTH_M)
    return focal_px[:, None, None] * points_cam[..., :2] / z + principal_px[:, None, :]


def back_project(pixels: torch.Tensor, depth_m: torch.Tensor, focal_px: torch.Tensor,
                 principal_px: torch.Tensor) -> torch.Tensor:
    """camera.back_project for (B, 2) px, (B,) metres, (B,) px, (B, 2) px -> (B, 3) metres (differentiable)."""
    xy = (pixels - principal_px) / focal_px[:, None] * depth_m[:, None]
    return torch.cat([xy, depth_m[:, None]], dim=1)
