"""The dataset stage: choose each person's training frames and export them (services/dataset/README.md).

export_dataset(...) writes the folder; DatasetEngine wraps it for the gRPC stage (a .tar plus a JSON report).
"""

from __future__ import annotations

import csv
import json
import tarfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from mshot.artifacts.fits import load_fits, row_betas
from mshot.artifacts.keypoints import check_aligned, load_keypoints
from mshot.artifacts.masks import decode_mask
from mshot.artifacts.tracklets import load_tracklets
from mshot.config import env_str
from mshot.errors import FailedPrecondition, InvalidInput, NotFound
from mshot.progress import Progress, no_progress
from mshot.video import iter_frames
from services.dataset import exporters, previews
from services.dataset.cameras import camera_matrices, shared_intrinsics
from services.dataset.instantavatar import write_instantavatar
from services.dataset.render import MeshRenderer, overlay
from services.dataset.selection import SelectionOptions, diverse_subset, gate_rows, split_validation
from services.dataset.zju import write_easymocap, write_neuralbody


@dataclass(frozen=True)
class DatasetSettings:
    body_model: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DatasetSettings:
        path = env_str("MSHOT_BODY_MODEL", "", env)
        if not path:
            raise FailedPrecondition("MSHOT_BODY_MODEL is not set: the dataset stage renders SMPL silhouettes")
        return cls(path)


@dataclass(frozen=True)
class DatasetOptions:
    formats: tuple[str, ...] = exporters.FORMATS
    person_ids: tuple[int, ...] = ()
    previews: bool = True
    selection: SelectionOptions = field(default_factory=SelectionOptions)


SINGLE_CAMERA_FORMATS = {"neuralbody", "easymocap"}


def gate(reason: str) -> str:
    return reason.split(":", 1)[0]


def _check_inputs(tracklets, keypoints, fits, paths) -> None:
    check_aligned(keypoints, tracklets, paths["keypoints"])
    same = (np.array_equal(fits["person_id"], tracklets["person_id"])
            and np.array_equal(fits["frame_index"], tracklets["frame_index"]))
    if not same:
        raise InvalidInput(f"fits file {paths['fits']} does not match the tracklets {paths['tracklets']} "
                           "(different persons or frames): were they made from the same video?")


def export_dataset(paths: dict[str, Path], out: Path, body_model, options: DatasetOptions,
                   progress: Progress = no_progress) -> dict:
    """Write `out/person_<id>/...` for every chosen person plus `out/report.json`; returns the report."""
    unknown = [f for f in options.formats if f not in exporters.FORMATS]
    if unknown:
        raise InvalidInput(f"unknown export format(s) {unknown}; available: {', '.join(exporters.FORMATS)}")
    tracklets, keypoints, fits = (load_tracklets(paths["tracklets"]), load_keypoints(paths["keypoints"]),
                                  load_fits(paths["fits"]))
    _check_inputs(tracklets, keypoints, fits, paths)
    all_persons = [int(p) for p in np.unique(tracklets["person_id"])]
    persons = list(options.person_ids) or all_persons
    missing = [p for p in persons if p not in all_persons]
    if missing:
        raise NotFound(f"person id(s) {missing} not in the tracklets; persons are {all_persons}")
    height, width = (int(v) for v in tracklets["image_size"])
    sel = options.selection
    betas = row_betas(fits)
    renderer = MeshRenderer(width, height, body_model.faces)
    vertices_cache: dict[int, np.ndarray] = {}

    def vertices(row: int) -> np.ndarray:
        if row not in vertices_cache:
            with torch.no_grad():
                out_ = body_model(torch.tensor(fits["global_orient"][row:row + 1]),
                                  torch.tensor(fits["body_pose"][row:row + 1]), torch.tensor(betas[row:row + 1]),
                                  torch.tensor(fits["transl"][row:row + 1]))
            vertices_cache[row] = out_.vertices[0].numpy()
        return vertices_cache[row]

    real_masks = str(tracklets["mask_source"]) in ("segmentation", "phalp")
    verdicts: dict[int, dict] = {}
    for n, person in enumerate(persons):
        rows = np.flatnonzero(tracklets["person_id"] == person)
        reasons = gate_rows(rows, tracklets, keypoints["keypoints_body25"], fits, sel)
        if real_masks:
            for row in rows:
                if reasons[int(row)]:
                    continue
                K = camera_matrices(fits, [row])[0]
                silhouette, _ = renderer.render(vertices(int(row)), K)
                mask = decode_mask(str(tracklets["mask_rle"][row]), height, width)
                iou = (silhouette & mask).sum() / max((silhouette | mask).sum(), 1)
                if iou < sel.min_silhouette_iou:
                    reasons[int(row)].append(f"silhouette: SMPL silhouette IoU {iou:.2f} (< {sel.min_silhouette_iou})")
        passing = np.array([r for r in rows if not reasons[int(r)]], dtype=int)
        features = np.column_stack([fits["body_pose"][passing], 2 * fits["global_orient"][passing]]) if len(
            passing) else np.zeros((0, 72))
        chosen = passing[diverse_subset(features, sel.target_frames)] if len(passing) else passing
        train, val = split_validation(chosen, sel.val_fraction)
        verdicts[person] = {"rows": rows, "reasons": reasons, "train": train, "val": val}
        progress(0.4 * (n + 1) / len(persons), f"selected frames of person {person}")
    kept_any = any(len(v["train"]) + len(v["val"]) for v in verdicts.values())
    if not kept_any:
        counts = Counter(gate(reason) for v in verdicts.values() for rs in v["reasons"].values() for reason in rs)
        top = "; ".join(f"{name} gate {count} frames" for name, count in counts.most_common(4))
        raise InvalidInput(f"no frame passed the selection for person(s) {persons}; rejections: {top}")
    for fmt in sorted(SINGLE_CAMERA_FORMATS.intersection(options.formats)):  # refuse before writing anything
        for person, v in verdicts.items():
            kept = np.concatenate([v["train"], v["val"]])
            if len(kept):
                shared_intrinsics(fits, kept, f"{fmt} export of person {person}")
    needed = {int(r) for v in verdicts.values() for r in np.concatenate([v["train"], v["val"]])}
    frames = {}
    for index, frame in iter_frames(paths["video"], stop=int(tracklets["frame_index"][list(needed)].max()) + 1):
        for row in needed:
            if tracklets["frame_index"][row] == index:
                frames[row] = frame
    report = {"persons": {}, "formats": list(options.formats), "thresholds": sel.__dict__,
              "mask_source": str(tracklets["mask_source"])}
    for n, (person, v) in enumerate(verdicts.items()):
        report["persons"][str(person)] = _export_person(person, v, frames, tracklets, fits, betas, out, options,
                                                        renderer, vertices, body_model, (height, width))
        progress(0.4 + 0.6 * (n + 1) / len(verdicts), f"exported person {person}")
    kept_by_person = {p: np.isin(v["rows"], np.concatenate([v["train"], v["val"]])) for p, v in verdicts.items()}
    if options.previews:
        out.mkdir(parents=True, exist_ok=True)
        previews.track_plot(tracklets, kept_by_person, out / "tracks.png")
    renderer.close()
    report["summary"] = {p: {k: r[k] for k in ("kept_train", "kept_val", "rejected")}
                         for p, r in report["persons"].items()}
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def _export_person(person, v, frames, tracklets, fits, betas, out, options, renderer, vertices, body_model,
                   image_size):
    height, width = image_size
    folder = out / f"person_{person:03d}"
    chosen = np.sort(np.concatenate([v["train"], v["val"]]))
    reasons = v["reasons"]
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "manifest.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["frame_index", "shot_id", "verdict", "reasons", "reproj_px", "det_conf"])
        for row in v["rows"]:
            verdict = "train" if row in v["train"] else "val" if row in v["val"] else (
                "rejected" if reasons[int(row)] else "not sampled")
            writer.writerow([int(tracklets["frame_index"][row]), int(tracklets["shot_id"][row]), verdict,
                             "; ".join(reasons[int(row)]), f"{fits['reproj_px'][row]:.2f}",
                             f"{tracklets['det_conf'][row]:.2f}"])
    result = {"kept_train": int(len(v["train"])), "kept_val": int(len(v["val"])),
              "rejected": int(sum(1 for r in v["rows"] if reasons[int(r)])),
              "reasons": dict(Counter(gate(x) for r in v["rows"] for x in reasons[int(r)]))}
    if len(chosen) == 0:
        return result
    split = np.where(np.isin(chosen, v["val"]), "val", "train")
    masks = {int(r): decode_mask(str(tracklets["mask_rle"][r]), height, width) for r in chosen}
    person_betas = betas[chosen[0]]
    bundle = folder / "bundle"
    exporters.write_bundle(bundle, frames, masks, fits, chosen, split, person_betas, (height, width))
    if "humannerf" in options.formats:
        exporters.write_humannerf(folder / "humannerf", bundle, fits, chosen, person_betas)
    if "neuralbody" in options.formats:
        write_neuralbody(folder / "neuralbody", bundle, fits, chosen, split, person_betas, body_model, vertices,
                         image_size)
    if "easymocap" in options.formats:
        write_easymocap(folder / "easymocap", bundle, fits, chosen, split, person_betas, body_model, image_size,
                        person)
    if "instantavatar" in options.formats:
        result["instantavatar_shots"] = write_instantavatar(
            folder / "instantavatar", bundle, fits, chosen, split, person_betas, image_size, person)
    if options.previews:
        shown, crops = [], []
        for row in chosen:
            silhouette, colour = renderer.render(vertices(int(row)), camera_matrices(fits, [row])[0])
            shown.append(overlay(frames[int(row)], silhouette, colour))
            crops.append(previews.crop_around(shown[-1], tracklets["bbox_xyxy"][row]))
        (folder / "previews").mkdir(exist_ok=True)
        step = max(len(crops) // 16, 1)
        previews.contact_sheet(crops[::step], folder / "previews" / "contact_sheet.png", columns=8, tile_width=160)
        previews.overlay_video(shown, folder / "previews" / "overlay.mp4", float(10))
    return result


class DatasetEngine:
    name = "dataset"

    def __init__(self, settings: DatasetSettings):
        from mshot.body.model import BodyModel

        self.body_model = BodyModel.from_file(settings.body_model)

    def run(self, inputs: dict[str, Path], options: DatasetOptions, workdir: Path, progress: Progress) -> dict:
        for name in ("video", "tracklets", "keypoints", "fits"):
            if name not in inputs:
                raise InvalidInput(f"the dataset stage needs '{name}'")
        folder = workdir / "dataset"
        report = export_dataset(inputs, folder, self.body_model, options, progress)
        archive = workdir / "dataset.tar"
        with tarfile.open(archive, "w") as tar:
            tar.add(folder, arcname="dataset")
        report_path = workdir / "report.json"
        report_path.write_text(json.dumps(report, default=str))
        self.last_summary = report["summary"]
        return {"dataset": archive, "report": report_path}

    def summarize(self, outputs: dict) -> dict:
        return getattr(self, "last_summary", {})


def options_with(formats=(), person_ids=(), target_frames=0, val_fraction=0.0, previews=True) -> DatasetOptions:
    selection = SelectionOptions()
    if target_frames:
        selection = replace(selection, target_frames=target_frames)
    if val_fraction:
        selection = replace(selection, val_fraction=val_fraction)
    return DatasetOptions(formats=tuple(formats) or exporters.FORMATS, person_ids=tuple(person_ids),
                          previews=previews, selection=selection)
