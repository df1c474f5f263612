"""The human-readable part of a result folder: summary.json and summary.txt - who was found, in which
shots, how well each person was fitted, which frames went into the datasets and why others did not."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from mshot.artifacts.tracklets import focal_note
from mshot.npzio import load_npz


def person_figures(paths: dict[str, Path]) -> list[dict]:
    """Per tracked person: frames, observed frames, shots; with fits, the fitted frames and the median
    reprojection error in pixels and as a share of the person's box height (over the fitted frames)."""
    if "tracklets" not in paths:
        return []
    tracklets = load_npz(paths["tracklets"], "tracklets")
    fits = load_npz(paths["fits"], "fits") if "fits" in paths else None
    persons = []
    for person_id in np.unique(tracklets["person_id"]):
        rows = tracklets["person_id"] == person_id
        entry = {
            "person_id": int(person_id),
            "frames": int(rows.sum()),
            "observed_frames": int(tracklets["observed"][rows].sum()),
            "first_frame": int(tracklets["frame_index"][rows].min()),
            "last_frame": int(tracklets["frame_index"][rows].max()),
            "shots": sorted(int(s) for s in np.unique(tracklets["shot_id"][rows])),
        }
        if fits is not None:
            fit_rows = (fits["person_id"] == person_id) & fits["valid"].astype(bool)
            entry["fitted_frames"] = int(fit_rows.sum())
            entry["median_reprojection_px"] = (
                round(float(np.median(fits["reproj_px"][fit_rows])), 2) if fit_rows.any() else None)
            box = tracklets["bbox_xyxy"][fit_rows]
            entry["median_reprojection_box_fraction"] = (round(float(np.median(
                fits["reproj_px"][fit_rows] / np.maximum(box[:, 3] - box[:, 1], 1.0))), 4) if fit_rows.any() else None)
        persons.append(entry)
    return persons


def write_summary(out: Path, job: dict, paths: dict[str, Path], body_model: Path) -> None:
    report = json.loads(paths["report"].read_text()) if "report" in paths else {}
    summary = {"job": job, "body_model": str(body_model), "persons": person_figures(paths), "dataset_report": report}
    tracklets = load_npz(paths["tracklets"], "tracklets") if "tracklets" in paths else None
    if tracklets is not None:
        summary["video"] = {"frames": int(tracklets["num_frames"]), "fps": float(tracklets["fps"]),
                            "shots": int(tracklets["frame_shot_id"].max()) + 1 if tracklets["num_frames"] else 0,
                            "image_size_hw": [int(v) for v in tracklets["image_size"]],
                            "tracker": str(tracklets["source"]), "mask_source": str(tracklets["mask_source"])}
        summary["camera"] = focal_note(tracklets)
    from mshot.body.generate import is_generated
    from mshot.body.smpl_file import load_smpl_arrays

    generated = is_generated(load_smpl_arrays(body_model))
    summary["generated_body_model"] = generated
    lines = [f"job {job['job_id']}: {job['state']}" + (f" - {job['error']}" if job["error"] else "")]
    for stage in job["stages"]:
        attempts = f", {stage['attempts']} attempts" if stage["attempts"] > 1 else ""
        lines.append(f"  {stage['stage']:<10} {stage['state']}{attempts} {stage['error']}".rstrip())
    failed = [stage for stage in job["stages"] if stage["state"] == "failed"]
    if failed:
        lines.append(f"stopped at the {failed[0]['stage']} stage: {failed[0]['error']}; the results of the stages "
                     "that finished are listed under 'written'")
    if "video" in summary:
        v = summary["video"]
        lines.append(f"video: {v['frames']} frames at {v['fps']:.1f} fps, {v['shots']} shot(s); "
                     f"tracker {v['tracker']}, masks: {v['mask_source']}")
        lines.append(f"camera: {summary['camera']['text']}; every depth, position and size of the fits assumes it")
    note = (" - a GENERATED stand-in, not SMPL: shapes and meshes are not real bodies; pass a licensed SMPL file "
            "for real results") if generated else ""
    lines.append(f"body model: {body_model}{note}")
    summary["people_observed_10_frames"] = sum(p["observed_frames"] >= 10 for p in summary["persons"])
    lines.append(f"people observed in >= 10 frames: {summary['people_observed_10_frames']}")
    for person in summary["persons"]:
        fit = ""
        if person.get("median_reprojection_px") is not None:
            fit = (f"; fitted {person['fitted_frames']} frames, median reprojection {person['median_reprojection_px']}"
                   f" px ({100 * person['median_reprojection_box_fraction']:.1f} % of box height)")
        elif "fitted_frames" in person:
            fit = "; fitted 0 frames"
        lines.append(f"person {person['person_id']}: frames {person['first_frame']}-{person['last_frame']} "
                     f"({person['observed_frames']} observed of {person['frames']}), shots {person['shots']}{fit}")
    lines += _dataset_lines(report)
    summary["files"] = _files(out, paths)
    lines.append("written: " + ", ".join(summary["files"] + ["summary.txt", "summary.json"]))
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    (out / "summary.txt").write_text("\n".join(lines) + "\n")


def _dataset_lines(report: dict) -> list[str]:
    """Per person: frames kept for training/validation and the gates that rejected the others."""
    lines = []
    if report.get("nothing_kept"):
        lines.append(f"dataset: nothing trainable - {report['nothing_kept']}")
    for person, verdict in report.get("persons", {}).items():
        reasons = ", ".join(f"{gate} {count}" for gate, count in sorted(verdict.get("reasons", {}).items()))
        lines.append(f"dataset person {person}: {verdict['kept_train']} train, {verdict['kept_val']} val, "
                     f"{verdict['rejected']} rejected" + (f" (by gate, frames: {reasons})" if reasons else ""))
    return lines


def _files(out: Path, paths: dict[str, Path]) -> list[str]:
    """What the result folder holds, relative to it: fetched artifacts, the dataset folder, overlay, log."""
    names = sorted(str(p.relative_to(out)) + ("/" if p.is_dir() else "") for p in paths.values()
                   if p.is_relative_to(out))
    return names + [name for name in ("mshot.log",) if (out / name).exists() and name not in names]
