"""Body-pose priors: the SMPLify Gaussian mixture (gmm_08.pkl) and a documented fallback when none is given.

Both are callables `prior(body_pose (B, 69) radians) -> (B,)` costs in the same unit (a negative log-likelihood up
to a constant), so the optimiser uses one weight for either.

- `GaussianMixturePosePrior`: SMPLify's max-mixture approximation of a K-component Gaussian mixture over the
  69-d axis-angle body pose: cost = min_k [0.5 (x - mu_k)^T Sigma_k^-1 (x - mu_k) - log w_k + 0.5 log det Sigma_k]
  minus the constant min_k 0.5 log det Sigma_k (so the best component of a likely pose costs about -log w_k).
  `load_gmm_pose_prior` reads SMPLify's `gmm_08.pkl` (a Python-2 pickle of a dict with `means` (K, 69),
  `covars` (K, 69, 69), `weights` (K,)) through the restricted loader (mshot/safe_pickle.py), which only
  rebuilds numpy arrays.
- `DiagonalGaussianPosePrior` (the fallback): an independent zero-mean Gaussian per body-pose coordinate,
  cost = 0.5 sum_i (x_i / sigma_i)^2, with hand-set standard deviations `FALLBACK_SIGMA_RAD` per joint (radians):
  loose for hips, knees, shoulders and elbows, tight for the spine, wrists, feet and hands. It keeps poses near the
  rest pose without the learned correlations of the GMM; use the GMM when you have the file.
- `fallback_prior_as_gmm` / `write_gmm_pose_prior`: the fallback written in the gmm_XX.pkl layout (K identical
  zero-mean components with covariance diag(sigma^2)), for tools that insist on a gmm_08.pkl, e.g. the multishot
  reference in bench/reference_multishot.py, so both optimisers use the same prior.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from mshot.errors import InvalidInput
from mshot.safe_pickle import Admit, load_restricted

# Per-joint standard deviation (radians) of the fallback prior, SMPL body joints 1..23 in order.
FALLBACK_SIGMA_RAD = (
    0.8, 0.8, 0.35,  # left hip, right hip, spine1
    1.0, 1.0, 0.3,  # left knee, right knee, spine2
    0.3, 0.3, 0.25,  # left ankle, right ankle, spine3
    0.15, 0.15, 0.35,  # left foot, right foot, neck
    0.35, 0.35, 0.4,  # left collar, right collar, head
    0.9, 0.9, 1.0,  # left shoulder, right shoulder, left elbow
    1.0, 0.5, 0.5,  # right elbow, left wrist, right wrist
    0.15, 0.15,  # left hand, right hand
)

class GaussianMixturePosePrior(torch.nn.Module):
    """Max-mixture Gaussian prior over the body pose. means (K, D), covars (K, D, D), weights (K,); D = 69."""

    def __init__(self, means: np.ndarray, covars: np.ndarray, weights: np.ndarray):
        super().__init__()
        means = np.asarray(means, dtype=np.float64)
        covars = np.asarray(covars, dtype=np.float64)
        weights = np.asarray(weights, dtype=np.float64)
        chol = np.linalg.cholesky(covars)  # Sigma_k = L_k L_k^T; then x^T Sigma^-1 x = |L^-1 x|^2
        whitening = np.linalg.inv(chol)
        half_log_det = np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(-1)
        offset = -np.log(weights) + half_log_det - half_log_det.min()
        self.register_buffer("means", torch.tensor(means, dtype=torch.float32))
        self.register_buffer("whitening", torch.tensor(whitening, dtype=torch.float32))
        self.register_buffer("offset", torch.tensor(offset, dtype=torch.float32))

    def forward(self, body_pose: torch.Tensor) -> torch.Tensor:
        """body_pose (B, 69) radians -> (B,) cost of the best-fitting component."""
        diff = body_pose[:, None, :] - self.means.to(body_pose.dtype)  # (B, K, D)
        white = torch.einsum("kij,bkj->bki", self.whitening.to(body_pose.dtype), diff)
        cost = 0.5 * (white * white).sum(-1) + self.offset.to(body_pose.dtype)
        return cost.min(dim=1).values


class DiagonalGaussianPosePrior(torch.nn.Module):
    """The fallback prior: 0.5 sum_i (x_i / sigma_i)^2 with `FALLBACK_SIGMA_RAD` per joint (see module doc)."""

    def __init__(self, sigma_rad: tuple[float, ...] = FALLBACK_SIGMA_RAD):
        super().__init__()
        if len(sigma_rad) != 23:
            raise ValueError(f"need 23 per-joint standard deviations, got {len(sigma_rad)}")
        inverse = 1.0 / torch.tensor(sigma_rad, dtype=torch.float32).repeat_interleave(3)
        self.register_buffer("inverse_sigma", inverse)

    def forward(self, body_pose: torch.Tensor) -> torch.Tensor:
        """body_pose (B, 69) radians -> (B,)."""
        scaled = body_pose * self.inverse_sigma.to(body_pose.dtype)
        return 0.5 * (scaled * scaled).sum(-1)


def load_gmm_pose_prior(path: str | Path) -> GaussianMixturePosePrior:
    """Read SMPLify's gmm_XX.pkl safely (no code runs from the file) and validate it.

    Raises NotFound if the file is missing, InvalidInput naming the problem if it is not a dict of `means` (K, 69),
    `covars` (K, 69, 69) positive definite and `weights` (K,) positive.
    """
    path = Path(path)
    data = load_restricted(path, "pose prior file", Admit(python2=True))
    if not isinstance(data, dict):
        raise InvalidInput(f"pose prior file {path} holds a {type(data).__name__}, expected a dict of arrays")
    missing = [k for k in ("means", "covars", "weights") if k not in data]
    if missing:
        raise InvalidInput(f"pose prior file {path} lacks key(s): {', '.join(missing)}")
    means, covars, weights = (np.asarray(data[k], dtype=np.float64) for k in ("means", "covars", "weights"))
    k = means.shape[0] if means.ndim == 2 else -1
    if means.ndim != 2 or means.shape[1] != 69:
        raise InvalidInput(f"pose prior file {path}: 'means' has shape {means.shape}, expected (K, 69)")
    if covars.shape != (k, 69, 69):
        raise InvalidInput(f"pose prior file {path}: 'covars' has shape {covars.shape}, expected ({k}, 69, 69)")
    if weights.shape != (k,) or not np.all(weights > 0):
        raise InvalidInput(f"pose prior file {path}: 'weights' must be ({k},) positive, got shape {weights.shape}")
    for key, value in (("means", means), ("covars", covars), ("weights", weights)):
        if not np.all(np.isfinite(value)):
            raise InvalidInput(f"pose prior file {path}: '{key}' holds NaN or infinite values")
    try:
        return GaussianMixturePosePrior(means, covars, weights)
    except np.linalg.LinAlgError:
        raise InvalidInput(f"pose prior file {path}: 'covars' are not positive definite") from None


def fallback_prior_as_gmm(components: int = 8) -> dict[str, np.ndarray]:
    """The fallback prior as `components` identical Gaussians: means (K, 69) zeros, covars (K, 69, 69)
    diag(FALLBACK_SIGMA_RAD^2) (rad^2), weights (K,) 1/K. Its max-mixture cost equals the fallback's."""
    variance = np.repeat(np.asarray(FALLBACK_SIGMA_RAD, dtype=np.float64), 3) ** 2
    return {"means": np.zeros((components, 69)), "covars": np.tile(np.diag(variance), (components, 1, 1)),
            "weights": np.full(components, 1.0 / components)}


def write_gmm_pose_prior(path: str | Path, gmm: dict[str, np.ndarray]) -> Path:
    """Write a dict of `means`, `covars`, `weights` arrays as a gmm_XX.pkl (plain arrays only, pickle protocol 4)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({key: np.asarray(gmm[key], dtype=np.float64) for key in ("means", "covars", "weights")}, f,
                    protocol=4)
    return path
