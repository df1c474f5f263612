"""The dataset stage: choose each person's training frames and export them (services/dataset/README.md).

export_dataset(...) writes the folder; DatasetEngine wraps it for the gRPC stage (a .tar plus a JSON report).
"""

from __future__ import annotations

import json
import shutil
import tarfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from mshot.artifacts.fits import load_fits, row_betas
from mshot.artifacts.keypoints import check_aligned, load_keypoints
from mshot.artifacts.masks import decode_mask
from mshot.artifacts.tracklets import load_tracklets
from mshot.body.posed import FittedMeshes
from mshot.config import env_str
from mshot.engine_run import EngineRun
from mshot.errors import FailedPrecondition, InvalidInput, NotFound
from mshot.progress import Progress, no_progress
from mshot.render import MeshRenderer
from mshot.video import iter_frames
from services.dataset import previews
from services.dataset.bodies import RowRenders
from services.dataset.cameras import shared_intrinsics
from services.dataset.formats import ANIMATION_FORMATS, FORMATS, check_known, skip_reason
from services.dataset.person import ExportSources, export_person, gate
from services.dataset.selection import SelectionOptions, diverse_subset, gate_rows, silhouette_reasons, split_validation


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
    formats: tuple[str, ...] = FORMATS
    person_ids: tuple[int, ...] = ()
    previews: bool = True
    selection: SelectionOptions = field(default_factory=SelectionOptions)


SINGLE_CAMERA_FORMATS = {"neuralbody", "neuralbody_monocular", "easymocap"}


def _check_inputs(tracklets, keypoints, fits, paths) -> None:
    check_aligned(keypoints, tracklets, paths["keypoints"], paths["tracklets"])
    same = (np.array_equal(fits["person_id"], tracklets["person_id"])
            and np.array_equal(fits["frame_index"], tracklets["frame_index"]))
    if not same:
        raise InvalidInput(f"fits file {paths['fits']} does not match the tracklets {paths['tracklets']} "
                           "(different persons or frames): were they made from the same video?")


def export_dataset(paths: dict[str, Path], out: Path, body_model, options: DatasetOptions,
                   progress: Progress = no_progress) -> dict:
    """Write `out/person_<id>/...` for every chosen person plus `out/report.json`; returns the report. The export
    is written beside `out` and replaces it only when complete, so an older export in `out` is never mixed with
    the new one (nor lost if this one fails); a non-empty `out` that is not an export is refused."""
    unknown = check_known(options.formats)
    if unknown:
        raise InvalidInput(f"unknown export format(s) {unknown}; available: {', '.join(FORMATS)}")
    _check_output_folder(out)
    tracklets, keypoints, fits = (load_tracklets(paths["tracklets"]), load_keypoints(paths["keypoints"]),
                                  load_fits(paths["fits"]))
    _check_inputs(tracklets, keypoints, fits, paths)
    persons = _persons(tracklets, options)
    height, width = (int(v) for v in tracklets["image_size"])
    renderer = MeshRenderer(width, height, body_model.faces)
    meshes = FittedMeshes(body_model, fits)
    renders = RowRenders(renderer, meshes, fits)
    verdicts = {person: _select(person, tracklets, keypoints, fits, renders, options.selection)
                for person in persons}
    progress(0.4, f"selected frames of {len(persons)} person(s)")
    nothing_kept = _nothing_kept(verdicts, persons)
    for v in verdicts.values():
        v["skipped"] = _skipped_formats(options.formats, v, fits)
    _check_single_camera(verdicts, options.formats, fits)  # refuse before writing anything
    needed = {int(r) for v in verdicts.values() for r in np.concatenate([v["train"], v["val"]])}
    frames = _read_frames(paths["video"], tracklets, needed)
    staging = out.with_name(f".{out.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    sources = ExportSources(tracklets, keypoints, fits, row_betas(fits), frames, renders, meshes, body_model, options)
    try:
        report = _write_export(staging, verdicts, sources, progress, nothing_kept)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        renderer.close()
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)
    return report


def _persons(tracklets, options: DatasetOptions) -> list[int]:
    """The person ids to export: options.person_ids (NotFound for one not in the tracklets) or all."""
    all_persons = [int(p) for p in np.unique(tracklets["person_id"])]
    persons = list(options.person_ids) or all_persons
    missing = [p for p in persons if p not in all_persons]
    if missing:
        raise NotFound(f"person id(s) {missing} not in the tracklets; persons are {all_persons}")
    return persons


def _check_single_camera(verdicts: dict, formats, fits) -> None:
    """Formats with one camera per person need every kept row of a person to share its intrinsics."""
    for fmt in sorted(SINGLE_CAMERA_FORMATS.intersection(formats)):
        for person, v in verdicts.items():
            kept = np.concatenate([v["train"], v["val"]])
            if len(kept) and fmt not in v["skipped"]:
                shared_intrinsics(fits, kept, f"{fmt} export of person {person}")


def _select(person: int, tracklets, keypoints, fits, renders: RowRenders, sel) -> dict:
    """A person's verdicts: rows (their row indices), reasons (row -> rejection reasons), train and val rows."""
    height, width = (int(v) for v in tracklets["image_size"])
    rows = np.flatnonzero(tracklets["person_id"] == person)
    reasons = gate_rows(rows, tracklets, keypoints["keypoints_body25"], fits, sel)
    if str(tracklets["mask_source"]) in ("segmentation", "phalp"):  # real masks: the body must agree with them
        for row in rows:
            if not reasons[int(row)]:
                mask = decode_mask(str(tracklets["mask_rle"][row]), height, width)
                reasons[int(row)] += silhouette_reasons(renders.silhouette(int(row)), mask, sel)
    passing = np.array([r for r in rows if not reasons[int(r)]], dtype=int)
    features = np.column_stack([fits["body_pose"][passing], 2 * fits["global_orient"][passing]]) if len(
        passing) else np.zeros((0, 72))
    chosen = passing[diverse_subset(features, sel.target_frames)] if len(passing) else passing
    train, val = split_validation(chosen, sel.val_fraction)
    return {"rows": rows, "reasons": reasons, "train": train, "val": val}


def _nothing_kept(verdicts: dict, persons: list[int]) -> str:
    """"" when some frame is kept; else the message naming the gates that rejected most (a result, not an error:
    every frame's verdict is in the manifests and the report)."""
    if any(len(v["train"]) + len(v["val"]) for v in verdicts.values()):
        return ""
    counts = Counter(gate(reason) for v in verdicts.values() for rs in v["reasons"].values() for reason in rs)
    top = "; ".join(f"{name} gate {count} frames" for name, count in counts.most_common(4))
    return f"no frame passed the selection for person(s) {persons}; rejections: {top}"


def _write_export(out: Path, verdicts: dict, src: ExportSources, progress: Progress, nothing_kept: str) -> dict:
    options, tracklets = src.options, src.tracklets
    report = {"persons": {}, "formats": list(options.formats), "thresholds": options.selection.__dict__,
              "mask_source": str(tracklets["mask_source"]), "nothing_kept": nothing_kept}
    for n, (person, v) in enumerate(verdicts.items()):
        report["persons"][str(person)] = export_person(person, v, out, src)
        progress(0.4 + 0.6 * (n + 1) / len(verdicts), f"exported person {person}")
    out.mkdir(parents=True, exist_ok=True)
    if options.previews:
        kept = {p: np.isin(v["rows"], np.concatenate([v["train"], v["val"]])) for p, v in verdicts.items()}
        previews.track_plot(tracklets, kept, out / "tracks.png")
    report["summary"] = {p: {k: r[k] for k in ("kept_train", "kept_val", "rejected", "reasons", "skipped_formats")}
                         for p, r in report["persons"].items()}
    if nothing_kept:
        report["summary"]["nothing_kept"] = nothing_kept
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def _check_output_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / "report.json").is_file())):
        raise InvalidInput(f"output folder {out} exists and is not an mshot export (no report.json): choose an "
                           "empty or new folder; an older export there would be replaced")


def _read_frames(video: Path, tracklets: dict, rows: set[int]) -> dict[int, np.ndarray]:
    """The video frames (H, W, 3) BGR of `rows`; InvalidInput if a frame's size differs from the tracklets'."""
    height, width = (int(v) for v in tracklets["image_size"])
    frames = {}
    rows_at: dict[int, list[int]] = {}
    for row in rows:
        rows_at.setdefault(int(tracklets["frame_index"][row]), []).append(row)
    if not rows_at:
        return frames
    for index, frame in iter_frames(video, stop=max(rows_at) + 1):
        if index in rows_at and frame.shape[:2] != (height, width):
            raise InvalidInput(f"video {video} frame {index} is {frame.shape[1]}x{frame.shape[0]} px but the "
                               f"tracklets were made at {width}x{height}: frames of different sizes")
        frames.update((row, frame) for row in rows_at.get(index, []))
    return frames


def _skipped_formats(names, verdict: dict, fits: dict) -> dict[str, str]:
    """{format: why it is not written for this person} (services/dataset/formats.py minimums)."""
    fitted = int(fits["valid"][verdict["rows"]].sum())
    skipped = {}
    for fmt in names:
        counts = (fitted, 0) if fmt in ANIMATION_FORMATS else (len(verdict["train"]), len(verdict["val"]))
        reason = skip_reason(fmt, *counts)
        if reason:
            skipped[fmt] = reason
    return skipped


class DatasetEngine:
    """Thread-safe: the body model is read-only; each run renders with its own offscreen renderer."""

    name = "dataset"

    def __init__(self, settings: DatasetSettings):
        from mshot.body.model import BodyModel

        self.body_model = BodyModel.from_file(settings.body_model)

    def run(self, inputs: dict[str, Path], options: DatasetOptions, workdir: Path, progress: Progress) -> EngineRun:
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
        return EngineRun({"dataset": archive, "report": report_path}, report["summary"])


def options_with(formats=(), person_ids=(), target_frames=0, val_fraction=0.0, previews=True) -> DatasetOptions:
    selection = SelectionOptions()
    if target_frames:
        selection = replace(selection, target_frames=target_frames)
    if val_fraction:
        selection = replace(selection, val_fraction=val_fraction)
    return DatasetOptions(formats=tuple(formats) or FORMATS, person_ids=tuple(person_ids),
                          previews=previews, selection=selection)
