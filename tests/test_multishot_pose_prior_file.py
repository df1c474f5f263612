import math

import torch

from services.multishot.pose_prior import (
    DiagonalGaussianPosePrior,
    fallback_prior_as_gmm,
    load_gmm_pose_prior,
    write_gmm_pose_prior,
)


def test_fallback_written_as_gmm_file_reads_back_with_the_fallback_cost_plus_log_k(tmp_path):
    path = write_gmm_pose_prior(tmp_path / "gmm_08.pkl", fallback_prior_as_gmm(8))
    gmm = load_gmm_pose_prior(path)
    pose = torch.randn(5, 69, generator=torch.Generator().manual_seed(0)) * 0.5
    # 8 equal components of weight 1/8: cost = fallback + (-log 1/8), identical log-determinants cancel.
    expected = DiagonalGaussianPosePrior()(pose) + math.log(8)
    assert torch.allclose(gmm(pose), expected, rtol=1e-5, atol=1e-4)
