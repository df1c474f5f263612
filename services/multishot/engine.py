"""The multishot stage's engine: tracklets + keypoints in, fits.npz out (`mshot.fits/1`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mshot.artifacts.fits import save_fits
from mshot.artifacts.keypoints import check_aligned, load_keypoints
from mshot.artifacts.tracklets import focal_note, load_tracklets
from mshot.config import env_device, env_str
from mshot.engine_run import EngineRun
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.progress import Progress
from mshot.store import sha256_file
from services.multishot.fit import FitOptions, FitResult, fit_tracklets, resolve_device


@dataclass(frozen=True)
class MultishotSettings:
    body_model: str
    pose_prior: str = ""
    device: str = "auto"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MultishotSettings:
        body_model = env_str("MSHOT_BODY_MODEL", "", env)
        if not body_model:
            raise FailedPrecondition("MSHOT_BODY_MODEL is not set: the multishot stage needs an SMPL model file")
        return cls(body_model, env_str("MSHOT_POSE_PRIOR", "", env), env_device(env))


@dataclass(frozen=True)
class MultishotOptions:
    device: str = "auto"
    seed: int = 0
    max_iters: int = 0  # 0 = the optimizer's default for the main stage


def fits_arrays(result: FitResult, body_model_label: str) -> dict:
    return {
        "body_model": body_model_label, "person_id": result.person_id, "frame_index": result.frame_index,
        "shot_id": result.shot_id, "global_orient": result.global_orient, "body_pose": result.body_pose,
        "transl": result.transl, "focal_px": result.focal_px, "principal_px": result.principal_px,
        "valid": result.valid, "reproj_px": result.reproj_px, "betas_person_id": result.betas_person_id,
        "betas": result.betas,
    }


class MultishotEngine:
    """Thread-safe: the body model, joint regressor and pose prior are read-only; every run keeps its own state."""

    name = "multishot"

    def __init__(self, settings: MultishotSettings):
        from mshot.body.model import BodyModel
        from services.multishot.kinematics import SparseSmplJoints
        from services.multishot.pose_prior import load_gmm_pose_prior

        self.settings = settings
        model = BodyModel.from_file(settings.body_model)
        self.joints_model = SparseSmplJoints.from_body_model(model)
        self.generated = model.generated
        self.label = f"{Path(settings.body_model).name} sha256:{sha256_file(settings.body_model)[0][:16]}"
        self.pose_prior = load_gmm_pose_prior(settings.pose_prior) if settings.pose_prior else None

    def run(self, inputs: dict[str, Path], options: MultishotOptions, workdir: Path, progress: Progress) -> EngineRun:
        for name in ("tracklets", "keypoints"):
            if name not in inputs:
                raise InvalidInput(f"the multishot stage needs '{name}'")
        tracklets = load_tracklets(inputs["tracklets"])
        keypoints = load_keypoints(inputs["keypoints"])
        check_aligned(keypoints, tracklets, inputs["keypoints"], inputs["tracklets"])
        device = options.device if options.device not in ("", "auto") else self.settings.device
        resolve_device(device)
        fit_options = FitOptions(device=device, seed=options.seed,
                                 **({"body_iters": options.max_iters} if options.max_iters else {}))
        out = workdir / "fits.npz"
        if len(tracklets["person_id"]) == 0:
            raise InvalidInput("the tracklets hold no person: nothing to fit")
        result = fit_tracklets(tracklets, keypoints["keypoints_body25"], self.joints_model, fit_options, progress,
                               self.pose_prior, keypoints.get("world_landmarks"))
        save_fits(out, fits_arrays(result, self.label))
        valid = result.valid
        summary = {"persons": int(len(result.betas_person_id)), "rows": int(len(valid)),
                   "fitted_rows": int(valid.sum()), "seconds": round(result.stats["seconds"], 2),
                   "median_reproj_px": float(np.median(result.reproj_px[valid])) if valid.any() else None,
                   "pose_prior": "gmm" if self.pose_prior is not None else "diagonal gaussian (fallback)",
                   "landmarks": result.stats["landmarks"]["used"],
                   "camera": focal_note(tracklets)["text"],
                   "generated_body_model": self.generated}
        return EngineRun({"fits": out}, summary)
