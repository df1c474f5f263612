"""Test footage made from the shared real clips (../shared/real_clips/, MIT; see the README there) and
vtest.avi: short cuts of them, reframed the way web video reframes people. Nothing is committed: the clips
are written where you say (tests write them under their tmp folder).

    PYTHONPATH=. python scripts/real_footage.py OUT_DIR [--frames N]

Writes, each an MJPG .avi (odd sizes kept):
- `<clip>_first<N>.avi`: the first N frames of each shared clip, as they are;
- `portrait_odd.avi`: seated_1person cropped to a 9:16 portrait and scaled to an odd size (405x721);
- `closeup_cut_off.avi`: seated_1person zoomed in so the singer is larger than the frame (head and knees cut off);
- `cuts_same_people.avi`: seated_3people in four shots - full view, a zoom on two musicians, full view again, a
  zoom on the right pair - with hard cuts, so the same people come back after every cut; 768x576.
- `cuts_mixed.avi`: runner_1person, vtest.avi (when present) and seated_3people shots one after another, all scaled
  to 768x576 (cuts between unrelated scenes, people of very different sizes).
- `webclip_portrait.avi` (+ `webclip_portrait.json`, its ground truth): seated_3people re-cut as a portrait web
  clip, 540x960, five shots of 4N frames - captions, a blurred pan, close-ups cut off by the frame edge, a screen
  recording at the end (scripts/webclip_footage.py).

Cut-off footage (`make_cut_off_footage`, also written by the CLI), runner_1person at its own scale (no resize):
- `runner_cut_waist.avi`: the top 1920x500 px - the bottom frame edge runs through her hips (mid-hip 509-556
  px down) in every frame, so only her head, shoulders and arms are in view;
- `runner_cut_side.avi`: the left 760x1088 px - she drifts right while running, so the right frame edge cuts
  her right side from the start and passes her mid-hip (709 -> 832 px) about frame 75 on."""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from scripts import webclip_footage

REPO = Path(__file__).resolve().parents[1]
REAL_CLIPS = REPO.parent / "shared" / "real_clips"
VTEST = REPO / "data" / "external" / "vtest.avi"
SIZE_WH = (768, 576)


def read_frames(video: Path, start: int, count: int) -> list[np.ndarray]:
    """Frames start..start+count-1 (fewer if the video ends)."""
    capture = cv2.VideoCapture(str(video))
    capture.set(cv2.CAP_PROP_POS_FRAMES, start)
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    from services.dataset.previews import overlay_video

    return overlay_video(frames, path, fps, fourcc="MJPG")


def zoom(frames: list[np.ndarray], x0: float, y0: float, x1: float, y1: float,
         size_wh: tuple[int, int] = SIZE_WH) -> list[np.ndarray]:
    """The region (fractions of width and height) of every frame, scaled to size_wh."""
    out = []
    for frame in frames:
        height, width = frame.shape[:2]
        crop = frame[int(y0 * height):int(y1 * height), int(x0 * width):int(x1 * width)]
        out.append(cv2.resize(crop, size_wh, interpolation=cv2.INTER_AREA))
    return out


def first_frames(out: Path, clip: str, frames: int) -> Path:
    return write_video(out / f"{clip}_first{frames}.avi", read_frames(REAL_CLIPS / f"{clip}.mp4", 0, frames), 25.0)


def portrait_odd(out: Path, frames: int) -> Path:
    singer = read_frames(REAL_CLIPS / "seated_1person.mp4", 0, frames)
    return write_video(out / "portrait_odd.avi", zoom(singer, 0.22, 0.0, 0.53, 1.0, (405, 721)), 25.0)


def closeup_cut_off(out: Path, frames: int) -> Path:
    singer = read_frames(REAL_CLIPS / "seated_1person.mp4", 0, frames)
    return write_video(out / "closeup_cut_off.avi", zoom(singer, 0.3, 0.25, 0.62, 0.75), 25.0)


def cuts_same_people(out: Path, frames: int) -> Path:
    concert = REAL_CLIPS / "seated_3people.mp4"
    regions = [(0, 0, 1, 1), (0.0, 0.2, 0.6, 0.9), (0, 0, 1, 1), (0.35, 0.2, 0.95, 0.9)]
    shots = [zoom(read_frames(concert, 3 * frames * k, 3 * frames), *region) for k, region in enumerate(regions)]
    return write_video(out / "cuts_same_people.avi", [f for s in shots for f in s], 25.0)


def cuts_mixed(out: Path, frames: int) -> Path:
    sources = [(REAL_CLIPS / "runner_1person.mp4", 0), (VTEST, 100), (REAL_CLIPS / "seated_3people.mp4", 0)]
    shots = [zoom(read_frames(video, start, 2 * frames), 0, 0, 1, 1) for video, start in sources if video.is_file()]
    return write_video(out / "cuts_mixed.avi", [f for s in shots for f in s], 25.0)


def webclip_portrait(out: Path, frames: int) -> Path:
    concert = REAL_CLIPS / "seated_3people.mp4"
    sources = [read_frames(concert, shot.source_start, 4 * frames) for shot in webclip_footage.SHOTS]
    return webclip_footage.write_clip(out, sources, 4 * frames, write_video)


def runner_cut_waist(out: Path, frames: int) -> Path:
    runner = read_frames(REAL_CLIPS / "runner_1person.mp4", 0, frames)
    return write_video(out / "runner_cut_waist.avi", zoom(runner, 0, 0, 1, 500 / 1088, (1920, 500)), 30.0)


def runner_cut_side(out: Path, frames: int) -> Path:
    runner = read_frames(REAL_CLIPS / "runner_1person.mp4", 0, frames)
    return write_video(out / "runner_cut_side.avi", zoom(runner, 0, 0, 760 / 1920, 1, (760, 1088)), 30.0)


def make_cut_off_footage(out: Path, frames: int = 10) -> dict[str, Path]:
    """The cut-off clips of the module docstring into `out`; returns name -> path."""
    out.mkdir(parents=True, exist_ok=True)
    return {make.__name__: make(out, frames) for make in (runner_cut_waist, runner_cut_side)}


def make_footage(out: Path, frames: int = 10) -> dict[str, Path]:
    """Write every clip of the module docstring into `out`; returns name -> path."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {f"{clip}_first{frames}": first_frames(out, clip, frames)
             for clip in ("runner_1person", "seated_1person", "seated_3people")}
    for make in (portrait_odd, closeup_cut_off, cuts_same_people, cuts_mixed, webclip_portrait):
        paths[make.__name__] = make(out, frames)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--frames", type=int, default=10, help="frames per clip, and per third of a shot")
    args = parser.parse_args()
    footage = {**make_footage(args.out, args.frames), **make_cut_off_footage(args.out, args.frames)}
    for name, path in footage.items():
        print(f"{name}: {path}")


if __name__ == "__main__":
    main()
