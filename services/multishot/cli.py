"""`mshot fit TRACKLETS.npz --keypoints KEYPOINTS.npz --body-model M --out FIT.npz [--person ID]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from mshot.config import DEVICES


def add_commands(subparsers) -> None:
    fit = subparsers.add_parser("fit", help="fit SMPL across shots to tracked people's keypoints")
    fit.add_argument("tracklets", type=Path,
                     help="tracklets.npz (mshot.tracklets/1), or a multishot-reference per-person npz")
    fit.add_argument("--keypoints", type=Path, default=None,
                     help="keypoints.npz aligned with the tracklets (not needed for a reference npz)")
    fit.add_argument("--body-model", type=Path, required=True, help="SMPL .pkl/.npz")
    fit.add_argument("--pose-prior", type=Path, default=None, help="SMPLify gmm_08.pkl (default: fallback prior)")
    fit.add_argument("--device", choices=DEVICES, default="auto")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument("--person", type=int, default=None, help="write this person only (needed with several)")
    fit.add_argument("--out", type=Path, required=True, help="FIT.npz (one person) ")
    fit.set_defaults(func=fit_command)


def fit_command(args: argparse.Namespace) -> int:
    import numpy as np

    from mshot.artifacts.fits import load_fits
    from mshot.errors import InvalidInput, NotFound
    from mshot.npzio import save_npz
    from services.multishot.engine import MultishotEngine, MultishotOptions, MultishotSettings

    engine = MultishotEngine(MultishotSettings(str(args.body_model), str(args.pose_prior or ""), args.device))
    work = args.out.parent / f".{args.out.name}.work"
    work.mkdir(parents=True, exist_ok=True)
    try:
        inputs = _inputs(args, work)
        fitted = engine.run(inputs, MultishotOptions(device=args.device, seed=args.seed), work, lambda f, m="": None)
        fits_path = fitted.outputs["fits"]
        fits = load_fits(fits_path)
        persons = [int(p) for p in fits["betas_person_id"]]
        person = args.person
        if person is None:
            if len(persons) > 1:
                raise InvalidInput(f"the tracklets hold {len(persons)} persons {persons}: choose one with --person")
            person = persons[0]
        if person not in persons:
            raise NotFound(f"person {person} is not in the tracklets; persons are {persons}")
        rows = fits["person_id"] == person
        save_npz(args.out, {
            "global_orient": fits["global_orient"][rows], "body_pose": fits["body_pose"][rows],
            "betas": fits["betas"][persons.index(person)], "transl": fits["transl"][rows],
            "focal_length": fits["focal_px"][rows], "principal_px": fits["principal_px"][rows],
            "valid": fits["valid"][rows], "reproj_px": fits["reproj_px"][rows],
            "frame_index": fits["frame_index"][rows], "shot_id": fits["shot_id"][rows],
            "person_id": np.int32(person), "body_model": fits["body_model"]})
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    print(f"wrote {args.out}: person {person}, {int(rows.sum())} frames, {fitted.summary}")
    return 0


def _inputs(args: argparse.Namespace, work: Path) -> dict[str, Path]:
    from mshot.errors import InvalidInput
    from mshot.npzio import load_npz
    from services.multishot.reference_npz import convert_reference_npz, is_reference_npz

    if is_reference_npz(load_npz(args.tracklets, "tracklets")):
        return convert_reference_npz(args.tracklets, work)
    if args.keypoints is None:
        raise InvalidInput(f"{args.tracklets} is a tracklets artifact: pass its keypoints with --keypoints")
    return {"tracklets": args.tracklets, "keypoints": args.keypoints}
