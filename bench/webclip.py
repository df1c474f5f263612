"""The tracking stage on the portrait web clip (scripts/webclip_footage.py, made from ../shared/real_clips/):
`python -m bench.webclip [--frames N] [--keep DIR] [--tracklets T.npz --truth webclip_portrait.json] [--json OUT]`
(part of `make bench`).

Makes the clip (5 shots of 4N frames) and runs the `cpu` tracker on it, unless `--tracklets` gives a finished run
(e.g. `artifacts/tracklets.npz` of `mshot run webclip_portrait.avi`). Scores, against the clip's ground truth:
- cuts found vs true (within bench.tracking's CUT_TOLERANCE), false cuts;
- identities: tracks with >= 10 observed frames, and the identity each one mostly is (the box centre mapped back
  into the concert frame, `identity_splits_x`). Two people are in every shot; a third, the musician at the right
  edge of the concert, is partly in view at the edge of the wide shots and is a real person too, so 2 or 3
  identities are right and `people_split` (tracks beyond the first of one person) is the figure to hold at 0;
- duplicate boxes: observed rows beyond the first of one identity in one frame;
- rows on another identity: observed rows of a counted track that are not the identity it mostly is (a track
  that jumped from one person to the other);
- misses: frames of the wide shots (both people in full view) where an identity has no observed row;
- rows on the screen recording (nobody is there).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.tracking import cut_precision_recall, cuts_of

MIN_OBSERVED = 10


def identity_of_rows(tracklets: dict, truth: dict) -> np.ndarray:
    """(R,) per tracklet row: index into truth["identities"], len(identities) for the third musician at the
    right edge, -1 on the screen recording. The box centre mapped back to a source x, split at identity_splits_x."""
    boxes = np.asarray(tracklets["bbox_xyxy"], float)
    centre_x = (boxes[:, 0] + boxes[:, 2]) / 2
    out = np.full(len(boxes), -1, int)
    for row, frame in enumerate(np.asarray(tracklets["frame_index"])):
        source_to_canvas = truth["source_to_canvas"][int(frame)]
        if source_to_canvas is None:
            continue
        scale, tx, _ = source_to_canvas
        source_x = (centre_x[row] - tx) / scale / truth["source_wh"][0]
        out[row] = int(np.searchsorted(truth["identity_splits_x"], source_x))
    return out


def score(tracklets: dict, truth: dict, min_observed: int = MIN_OBSERVED) -> dict:
    """The figures of the module docstring; a track counts as an identity with >= `min_observed` observed rows."""
    observed = np.asarray(tracklets["observed"], bool)
    person, frame = np.asarray(tracklets["person_id"])[observed], np.asarray(tracklets["frame_index"])[observed]
    identity = identity_of_rows(tracklets, truth)[observed]
    cuts = cut_precision_recall(cuts_of(tracklets["frame_shot_id"]), np.asarray(truth["cuts"]))
    people = [p for p in np.unique(person) if (person == p).sum() >= min_observed]
    track_identity = {int(p): int(np.bincount(identity[person == p] + 1).argmax()) - 1 for p in people}
    on_other = sum(int((identity[person == p] != i).sum()) for p, i in track_identity.items())
    pairs = np.unique(np.stack([frame, identity]), axis=1, return_counts=True)[1] if len(frame) else np.zeros(0)
    wide = [s for s in truth["shots"] if s["full_view"]]
    seen = {(int(f), int(i)) for f, i in zip(frame, identity, strict=True)}
    missed = sum((f, i) not in seen for s in wide for f in range(s["start"], s["end"])
                 for i in range(len(truth["identities"])))
    names = [*truth["identities"], "right_musician"]
    return {
        "cuts_true": cuts["cuts_true"], "cuts_found": cuts["cuts_predicted"],
        "false_cuts": round(len(cuts["cuts_predicted"]) * (1 - cuts["cut_precision"])),
        "missed_cuts": round(len(cuts["cuts_true"]) * (1 - cuts["cut_recall"])),
        "identities": len(people),
        "people_split": len(track_identity) - len(set(track_identity.values())),
        "track_identity": {p: (names[i] if i >= 0 else "screen") for p, i in track_identity.items()},
        "duplicate_boxes": int((pairs - 1).clip(0).sum()),
        "rows_on_other_identity": on_other,
        "missed_in_full_view": int(missed),
        "full_view_person_frames": sum(s["end"] - s["start"] for s in wide) * len(truth["identities"]),
        "rows_on_screen_recording": int((identity < 0).sum()),
    }


def run_tracker(video: Path, out: Path, body_model: Path) -> tuple[Path, float, float]:
    """The cpu tracking engine on `video` -> (tracklets path, wall s, CPU s)."""
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    engine = TrackingEngine(TrackingSettings(backend="cpu", body_model=str(body_model)))
    wall, cpu = time.perf_counter(), time.process_time()
    tracklets = engine.run({"video": video}, TrackingOptions(backend="cpu"), out, lambda f, m="": None)
    return tracklets.outputs["tracklets"], time.perf_counter() - wall, time.process_time() - cpu


def main(argv: list[str] | None = None) -> int:
    from mshot.artifacts.tracklets import load_tracklets
    from mshot.body.generate import write_generated_smpl_model
    from scripts.real_footage import REAL_CLIPS, webclip_portrait

    parser = argparse.ArgumentParser(prog="bench.webclip", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10, help="a shot is 4x this many frames")
    parser.add_argument("--tracklets", type=Path)
    parser.add_argument("--truth", type=Path)
    parser.add_argument("--body-model", type=Path, help="default: a generated SMPL-format model")
    parser.add_argument("--keep", type=Path, help="write the clip, its truth and the tracklets here (else a temp dir)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if not args.tracklets and not REAL_CLIPS.is_dir():
        print(f"web-clip benchmark skipped: {REAL_CLIPS} not found (the shared real clips)")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        if args.tracklets:
            tracklets_path, truth_path = args.tracklets, args.truth
        else:
            folder = args.keep or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            model = args.body_model or write_generated_smpl_model(Path(tmp) / "model.pkl")
            video = webclip_portrait(folder, args.frames)
            truth_path = folder / "webclip_portrait.json"
            tracklets_path, wall, cpu = run_tracker(video, folder, model)
            frames = json.loads(truth_path.read_text())["num_frames"]
            figures = {"frames": frames, "wall_s": round(wall, 1), "frames_per_cpu_s": round(frames / cpu, 2)}
        figures = {**score(load_tracklets(tracklets_path), json.loads(truth_path.read_text())), **figures}
    print("web-clip benchmark (scripts/webclip_footage.py: portrait, captions, blur, cut-off close-ups, a screen "
          "recording; 2 people in every shot, a third partly at the edge of the wide shots)")
    for key, value in figures.items():
        print(f"{key}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
