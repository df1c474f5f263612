"""Run the CPU tracker on a video (optionally its first N frames) and draw its tracklets - mask, box and
person id per person - on a few frames side by side, as one picture.

    PYTHONPATH=. python scripts/tracking_overlay.py data/external/vtest.avi docs/tracking_vtest.jpg \\
        --first 120 --frames 30,100

The body model for the initial 3D fit is the generated stand-in (the picture shows only 2D results)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np

from mshot.artifacts.masks import decode_mask
from mshot.cli.overlay import person_colour_rgb
from mshot.video import iter_frames, probe_video


def clip(video: Path, frames: int, out: Path) -> Path:
    """The first `frames` frames of `video` as an MJPG avi (same size and rate)."""
    info = probe_video(video)
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), info.fps, (info.width, info.height))
    for index, frame in iter_frames(video):
        if index >= frames:
            break
        writer.write(frame)
    writer.release()
    return out


def draw(frame_bgr: np.ndarray, tracklets: dict, frame_index: int) -> np.ndarray:
    """Observed rows of one frame: tinted mask, box and `id N` label (predicted rows: dashed-looking thin box)."""
    height, width = frame_bgr.shape[:2]
    out = frame_bgr.copy()
    for row in np.flatnonzero(tracklets["frame_index"] == frame_index):
        person = int(tracklets["person_id"][row])
        colour = person_colour_rgb(person)[::-1].astype(float)  # BGR
        mask = decode_mask(str(tracklets["mask_rle"][row]), height, width)
        out[mask] = (0.55 * out[mask] + 0.45 * colour).astype(np.uint8)
        x0, y0, x1, y1 = np.round(tracklets["bbox_xyxy"][row]).astype(int)
        observed = bool(tracklets["observed"][row])
        cv2.rectangle(out, (x0, y0), (x1, y1), colour.tolist(), 2 if observed else 1)
        label = f"id {person}" + ("" if observed else " (predicted)")
        cv2.putText(out, label, (x0, max(y0 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.7, colour.tolist(), 2,
                    cv2.LINE_AA)
    cv2.putText(out, f"frame {frame_index}  shot {int(tracklets['frame_shot_id'][frame_index])}", (8, height - 12),
                cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", type=Path)
    parser.add_argument("out", type=Path, help="picture to write (.jpg or .png)")
    parser.add_argument("--first", type=int, default=0, help="track only the first N frames (0: all)")
    parser.add_argument("--frames", default="0", help="comma-separated frame indices to draw")
    parser.add_argument("--scale", type=float, default=0.6, help="size of each drawn frame relative to the video")
    args = parser.parse_args()
    from mshot.artifacts.tracklets import load_tracklets
    from mshot.body.generate import write_generated_smpl_model
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    wanted = [int(f) for f in args.frames.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        video = clip(args.video, args.first, work / "clip.avi") if args.first else args.video
        engine = TrackingEngine(TrackingSettings("cpu", "cpu", str(write_generated_smpl_model(work / "model.pkl"))))
        tracklets = load_tracklets(engine.run({"video": video}, TrackingOptions(backend="cpu"), work,
                                              lambda f, m="": None)["tracklets"])
        frames = {i: f for i, f in iter_frames(video) if i in wanted}
    tiles = [cv2.resize(draw(frames[i], tracklets, i), None, fx=args.scale, fy=args.scale,
                        interpolation=cv2.INTER_AREA) for i in wanted]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), np.hstack(tiles), [cv2.IMWRITE_JPEG_QUALITY, 85])
    people = len(np.unique(tracklets["person_id"]))
    print(f"wrote {args.out}: {people} people tracked over {int(tracklets['num_frames'])} frames")


if __name__ == "__main__":
    main()
