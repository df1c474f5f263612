"""One person's export folder: manifest.csv, formats.csv, the bundle, each requested format's folder (skipped, with
the reason, below the format's minimum: formats.py), the motion files and the previews."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mshot.artifacts.masks import decode_mask
from services.dataset import exporters, motion, previews
from services.dataset.files import RowFiles
from services.dataset.formats import ANIMATION_FORMATS
from services.dataset.instantavatar import write_instantavatar
from services.dataset.neuralbody_monocular import write_neuralbody_monocular
from services.dataset.vid2avatar import write_vid2avatar
from services.dataset.zju import write_easymocap, write_neuralbody


def gate(reason: str) -> str:
    """The gate name of a rejection reason "<gate>: <detail>"."""
    return reason.split(":", 1)[0]


@dataclass(frozen=True)
class ExportSources:
    """What every person's export reads. tracklets, keypoints, fits: the loaded artifacts; betas (M, 10) per row;
    frames: row -> (H, W, 3) BGR frame; renders, meshes: bodies.RowRenders and mshot.body.posed.FittedMeshes (each
    row's made once); body_model: the SMPL body model; options: DatasetOptions."""

    tracklets: dict
    keypoints: dict
    fits: dict
    betas: np.ndarray
    frames: dict
    renders: object
    meshes: object
    body_model: object
    options: object


def export_person(person: int, v: dict, out: Path, src: ExportSources) -> dict:
    """Write `out/person_<person>/` from the person's verdicts `v` (rows, reasons, train, val, skipped)."""
    tracklets, keypoints, fits, betas, frames = src.tracklets, src.keypoints, src.fits, src.betas, src.frames
    renders, meshes, body_model, options = src.renders, src.meshes, src.body_model, src.options
    image_size = tuple(int(x) for x in tracklets["image_size"])
    folder = out / f"person_{person:03d}"
    chosen = np.sort(np.concatenate([v["train"], v["val"]]))
    reasons = v["reasons"]
    folder.mkdir(parents=True, exist_ok=True)
    _write_manifest(folder / "manifest.csv", v, tracklets, fits)
    result = {"kept_train": int(len(v["train"])), "kept_val": int(len(v["val"])),
              "rejected": int(sum(1 for r in v["rows"] if reasons[int(r)])),
              "reasons": dict(Counter(gate(x) for r in v["rows"] for x in reasons[int(r)])),
              "skipped_formats": dict(v["skipped"])}
    if len(chosen):
        split = np.where(np.isin(chosen, v["val"]), "val", "train")
        masks = {int(r): decode_mask(str(tracklets["mask_rle"][r]), *image_size) for r in chosen}
        files = RowFiles(frames, masks, meshes)
        exporters.write_bundle(folder / "bundle", files, fits, chosen, split, betas[chosen[0]], image_size)
        context = {"folder": folder, "files": files, "fits": fits, "rows": chosen, "split": split,
                   "betas": betas[chosen[0]], "body_model": body_model, "vertices": meshes,
                   "image_size": image_size, "person": person, "keypoints": keypoints, "tracklets": tracklets}
        for fmt in options.formats:
            if fmt not in v["skipped"] and fmt not in ANIMATION_FORMATS:
                result.update(_WRITERS[fmt](**context) or {})
        if options.previews:
            _write_previews(folder, chosen, frames, tracklets, renders)
    fitted = v["rows"][fits["valid"][v["rows"]]]
    for fmt in set(ANIMATION_FORMATS).intersection(options.formats).difference(v["skipped"]):
        _write_motion(fmt, folder / "motion", person, fitted, fits, betas[fitted[0]], body_model, meshes,
                      float(tracklets["fps"]))
    result["skipped_formats"].update(result.pop("skipped_shots", {}))
    _write_format_manifest(folder / "formats.csv", options.formats, result["skipped_formats"])
    return result


def _write_manifest(path: Path, v: dict, tracklets: dict, fits: dict) -> None:
    reasons = v["reasons"]
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["frame_index", "shot_id", "verdict", "reasons", "reproj_px", "det_conf"])
        for row in v["rows"]:
            verdict = "train" if row in v["train"] else "val" if row in v["val"] else (
                "rejected" if reasons[int(row)] else "not sampled")
            writer.writerow([int(tracklets["frame_index"][row]), int(tracklets["shot_id"][row]), verdict,
                             "; ".join(reasons[int(row)]), f"{fits['reproj_px'][row]:.2f}",
                             f"{tracklets['det_conf'][row]:.2f}"])


def _write_format_manifest(path: Path, names, skipped: dict[str, str]) -> None:
    """formats.csv: per requested format (and per skipped instantavatar shot) written or skipped, and why."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["format", "written", "reason"])
        for fmt in names:
            writer.writerow([fmt, "no" if fmt in skipped else "yes", skipped.get(fmt, "")])
        for name, reason in skipped.items():
            if name not in names:
                writer.writerow([name, "no", reason])


def _humannerf(folder, files, fits, rows, split, betas, **_):
    exporters.write_humannerf(folder / "humannerf", files, fits, rows[split == "train"], betas)
    exporters.write_humannerf(folder / "humannerf_val", files, fits, rows[split == "val"], betas)


def _neuralbody(folder, files, fits, rows, split, betas, body_model, image_size, **_):
    write_neuralbody(folder / "neuralbody", files, fits, rows, split, betas, body_model, image_size)


def _neuralbody_monocular(folder, files, fits, rows, split, betas, body_model, image_size, **_):
    write_neuralbody_monocular(folder / "neuralbody_monocular", files, fits, rows, split, betas, body_model,
                               image_size)


def _easymocap(folder, files, fits, rows, split, betas, body_model, image_size, person, keypoints, tracklets, **_):
    detections = {"keypoints_body25": keypoints["keypoints_body25"], "bbox_xyxy": tracklets["bbox_xyxy"],
                  "det_conf": tracklets["det_conf"]}
    write_easymocap(folder / "easymocap", files, fits, rows, split, betas, body_model, image_size, person,
                    detections)


def _instantavatar(folder, files, fits, rows, split, betas, image_size, person, keypoints, **_):
    shots, skipped = write_instantavatar(folder / "instantavatar", files, fits, rows, split, betas, image_size,
                                         person, keypoints["keypoints_body25"])
    return {"instantavatar_shots": shots, "skipped_shots": {f"instantavatar/{k}": r for k, r in skipped.items()}}


def _vid2avatar(folder, files, fits, rows, split, betas, body_model, vertices, person, **_):
    write_vid2avatar(folder / "vid2avatar", files, fits, rows, split, betas, body_model, vertices,
                     f"mshot_person_{person:03d}")


_WRITERS = {"humannerf": _humannerf, "neuralbody": _neuralbody, "neuralbody_monocular": _neuralbody_monocular,
            "easymocap": _easymocap, "instantavatar": _instantavatar, "vid2avatar": _vid2avatar}


def _write_motion(fmt, folder, person, rows, fits, betas, body_model, vertices, fps) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "bvh":
        motion.write_bvh(folder / f"person_{person:03d}.bvh", body_model, fits, rows, betas, fps)
    else:
        meshes = np.stack([vertices(int(r)) for r in rows])
        motion.write_glb(folder / f"person_{person:03d}.glb", meshes, body_model.faces,
                         fits["frame_index"][rows] / fps)


def _write_previews(folder, chosen, frames, tracklets, renders) -> None:
    shown, crops = [], []
    for row in chosen:
        shown.append(renders.overlay(int(row), frames[int(row)]))
        crops.append(previews.crop_around(shown[-1], tracklets["bbox_xyxy"][row]))
    (folder / "previews").mkdir(exist_ok=True)
    step = max(len(crops) // 16, 1)
    previews.contact_sheet(crops[::step], folder / "previews" / "contact_sheet.png", columns=8, tile_width=160)
    previews.overlay_video(shown, folder / "previews" / "overlay.mp4", float(10))
