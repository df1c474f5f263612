"""A portrait web clip made from seated_3people (../shared/real_clips/, MIT): the way short-form web video re-cuts
a landscape recording. The same two musicians (the left one in yellow, the singer in the centre) are in every
people shot; the third musician at the right edge is framed out. What it has, each on purpose:
- portrait 540x960: each shot is a crop of the concert scaled to the frame's width on a dark backdrop, or, in a
  close-up, scaled past the frame so both people are cut off by its left/right and bottom edges;
- four hard cuts: wide -> close-up -> wide with a fast pan -> close-up -> a screen recording;
- large bold captions over the people (a boxed caption, a word-by-word caption, a scrolling ticker, a caption
  that changes mid-shot): text that changes within a shot is not a cut;
- motion blur on the panning frames (a horizontal line kernel, cv2.filter2D), the crop moving as a camera pan;
- a screen recording at the end: flat colour panels, lines of text, a moving cursor, no people.

`ground_truth` is written beside the clip as JSON: cut frames, per shot its frames, kind, which identities are in
it and whether they are in full view (wide shots) or cut off (close-ups)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

SIZE_WH = (540, 960)
IDENTITIES = ("left_musician", "centre_singer")
# Who is where in the source frame: a box whose centre maps to a source x (fraction of the width) below the
# first split is the left musician, below the second the singer, else the third musician at the right edge.
IDENTITY_SPLITS_X = (0.44, 0.85)
FONT = cv2.FONT_HERSHEY_DUPLEX


@dataclass(frozen=True)
class Shot:
    kind: str  # "wide" (both people whole in the frame), "closeup" (cut off) or "screen" (no people)
    source_start: int  # first frame of seated_3people used
    region: tuple[float, float, float, float]  # x0, y0, x1, y1 of the source, fractions of width and height
    caption: str


SHOTS = (
    Shot("wide", 0, (0.0, 0.28, 0.86, 0.93), "boxed"),
    Shot("closeup", 60, (0.02, 0.38, 0.84, 0.95), "word_by_word"),
    Shot("wide", 110, (0.0, 0.28, 0.86, 0.93), "ticker"),  # panning, blurred
    Shot("closeup", 170, (0.04, 0.36, 0.86, 0.93), "changing"),
    Shot("screen", 0, (0, 0, 1, 1), ""),
)


def outlined_text(image: np.ndarray, text: str, origin: tuple[int, int], scale: float,
                  colour=(255, 255, 255)) -> None:
    """Bold caption text: a thick black outline under the coloured letters."""
    cv2.putText(image, text, origin, FONT, scale, (0, 0, 0), int(6 * scale) + 4, cv2.LINE_AA)
    cv2.putText(image, text, origin, FONT, scale, colour, int(2 * scale) + 1, cv2.LINE_AA)


def caption(image: np.ndarray, style: str, t: float) -> None:
    """The shot's captions at time t (0..1 through the shot), drawn over the lower part of the people."""
    width, height = image.shape[1], image.shape[0]
    outlined_text(image, "LIVE IN CONCERT", (40, 170), 1.6, (0, 220, 255))
    if style == "boxed":  # a two-line caption card popping up over the people's laps for the middle of the shot
        if 0.3 <= t <= 0.8:
            cv2.rectangle(image, (20, 500), (width - 20, 660), (0, 200, 255), -1)
            cv2.putText(image, "the duet", (40, 565), FONT, 1.9, (20, 20, 20), 5, cv2.LINE_AA)
            cv2.putText(image, "everyone missed", (40, 635), FONT, 1.5, (20, 20, 20), 4, cv2.LINE_AA)
    elif style == "word_by_word":  # over the faces
        words = "WAIT FOR IT ...".split()
        outlined_text(image, " ".join(words[:1 + int(t * len(words) * 0.999)]), (30, 640), 2.6)
    elif style == "ticker":
        text = "follow for part 2  *  follow for part 2  *  "
        outlined_text(image, text, (int(width - t * 1.6 * width), 560), 1.8, (255, 255, 0))
    elif style == "changing":
        outlined_text(image, "so good" if t < 0.5 else "no way!!", (40, 700), 3.0)
    outlined_text(image, "@raga_clips", (width - 260, height - 60), 1.0)


def placement(source_hw: tuple[int, int], region: tuple[float, float, float, float], kind: str, dx: float = 0.0
              ) -> tuple[tuple[slice, slice], float, float, float]:
    """Where the source region goes on the portrait canvas: (the source crop's slices, scale, tx, ty) with
    canvas px = source px * scale + (tx, ty). A wide shot fits the canvas width, centred; a close-up is scaled
    to 55 % of the canvas height at the bottom, centred, so what sticks out on the left and right is cut off.
    `dx`: horizontal shift of the region (fraction of the source width)."""
    width, height = SIZE_WH
    src_h, src_w = source_hw
    x0, y0, x1, y1 = region
    cols = slice(max(0, int((x0 + dx) * src_w)), min(src_w, int((x1 + dx) * src_w)))
    rows = slice(int(y0 * src_h), int(y1 * src_h))
    crop_w, crop_h = cols.stop - cols.start, rows.stop - rows.start
    scale = width / crop_w if kind == "wide" else 0.55 * height / crop_h
    top = (height - crop_h * scale) / 2 if kind == "wide" else height - crop_h * scale
    return (rows, cols), scale, (width - crop_w * scale) / 2 - cols.start * scale, top - rows.start * scale


def framed(frame: np.ndarray, region: tuple[float, float, float, float], kind: str, dx: float = 0.0
           ) -> tuple[np.ndarray, list[float]]:
    """The source region on a portrait canvas (placement) on a dark backdrop, and its [scale, tx, ty]."""
    (rows, cols), scale, tx, ty = placement(frame.shape[:2], region, kind, dx)
    warp = np.array([[scale, 0, tx], [0, scale, ty]], np.float64)
    canvas = np.full((SIZE_WH[1], SIZE_WH[0], 3), (28, 18, 24), np.uint8)
    source = np.zeros_like(frame)
    source[rows, cols] = frame[rows, cols]
    inside = np.zeros(frame.shape[:2], np.uint8)
    inside[rows, cols] = 255
    image = cv2.warpAffine(source, warp, SIZE_WH, flags=cv2.INTER_AREA)
    where = cv2.warpAffine(inside, warp, SIZE_WH, flags=cv2.INTER_NEAREST) > 0
    canvas[where] = image[where]
    return canvas, [scale, tx, ty]


def motion_blur(image: np.ndarray, length: int) -> np.ndarray:
    """Horizontal camera-pan blur: the mean along a `length`-pixel horizontal line."""
    if length <= 1:
        return image
    kernel = np.zeros((length, length), np.float32)
    kernel[length // 2, :] = 1.0 / length
    return cv2.filter2D(image, -1, kernel)


def screen_recording(count: int) -> list[np.ndarray]:
    """A synthetic app UI: a header bar, a sidebar, content cards with lines of text, a cursor moving across."""
    width, height = SIZE_WH
    frames = []
    for k in range(count):
        ui = np.full((height, width, 3), (245, 245, 245), np.uint8)
        cv2.rectangle(ui, (0, 0), (width, 90), (200, 120, 40), -1)
        cv2.putText(ui, "Settings", (24, 60), FONT, 1.4, (255, 255, 255), 3, cv2.LINE_AA)
        cv2.rectangle(ui, (0, 90), (110, height), (225, 225, 230), -1)
        for row in range(5):
            top = 130 + row * 160
            cv2.rectangle(ui, (130, top), (width - 20, top + 130), (255, 255, 255), -1)
            cv2.rectangle(ui, (130, top), (width - 20, top + 130), (200, 200, 200), 2)
            cv2.putText(ui, f"Option {row + 1}", (150, top + 50), FONT, 1.0, (40, 40, 40), 2, cv2.LINE_AA)
            cv2.putText(ui, "tap to change", (150, top + 100), FONT, 0.7, (120, 120, 120), 1, cv2.LINE_AA)
        tip = np.array([150 + 10 * k, 200 + 12 * k])
        cursor = np.array([tip, tip + [0, 36], tip + [10, 27], tip + [24, 26]], np.int32)
        cv2.fillPoly(ui, [cursor], (0, 0, 0))
        frames.append(ui)
    return frames


def shot_frames(shot: Shot, source: list[np.ndarray], count: int) -> tuple[list[np.ndarray], list]:
    """The shot's `count` frames and per frame its [scale, tx, ty] from source to canvas px (None for the screen
    recording); the second wide shot whip-pans right over the middle fifth of its frames, blurred."""
    if shot.kind == "screen":
        return screen_recording(count), [None] * count
    frames, maps = [], []
    for k, frame in enumerate(source[:count]):
        t = k / max(count - 1, 1)
        pan = min(max(5 * t - 2, 0.0), 1.0) if shot.caption == "ticker" else 0.0  # 0 -> 1 over 0.4 <= t <= 0.6
        image, source_to_canvas = framed(frame, shot.region, shot.kind, 0.14 * pan)
        image = motion_blur(image, 41) if 0 < pan < 1 else image
        caption(image, shot.caption, t)
        frames.append(image)
        maps.append(source_to_canvas)
    return frames, maps


def ground_truth(shot_lengths: list[int], fps: float, source_wh: tuple[int, int], maps: list) -> dict:
    """The clip's truth: cuts, per shot (frames [start, end), kind, people, full_view) and per frame the map
    [scale, tx, ty] from source px (of `source_wh`) to canvas px, with IDENTITY_SPLITS_X saying who is where."""
    starts = np.concatenate([[0], np.cumsum(shot_lengths)]).astype(int).tolist()
    return {
        "size_wh": list(SIZE_WH), "fps": fps, "num_frames": starts[-1], "cuts": starts[1:-1],
        "identities": list(IDENTITIES), "source_wh": list(source_wh), "identity_splits_x": list(IDENTITY_SPLITS_X),
        "shots": [{"start": starts[k], "end": starts[k + 1], "kind": shot.kind,
                   "people": [] if shot.kind == "screen" else list(IDENTITIES),
                   "full_view": shot.kind == "wide"} for k, shot in enumerate(SHOTS)],
        "source_to_canvas": maps,
    }


def write_clip(out: Path, sources: list[list[np.ndarray]], frames_per_shot: int, write_video) -> Path:
    """Write `webclip_portrait.avi` (SHOTS, `frames_per_shot` frames each, 25 fps) and `webclip_portrait.json`
    (ground_truth) into `out`. `sources`: per shot its source frames (ignored for the screen recording);
    `write_video(path, frames, fps)` writes the frames."""
    images, maps = [], []
    for shot, source in zip(SHOTS, sources, strict=True):
        frames, shot_maps = shot_frames(shot, source, frames_per_shot)
        images, maps = images + frames, maps + shot_maps
    source_hw = next(s[0].shape[:2] for s in sources if s)
    truth = ground_truth([frames_per_shot] * len(SHOTS), 25.0, (source_hw[1], source_hw[0]), maps)
    (out / "webclip_portrait.json").write_text(json.dumps(truth))
    return write_video(out / "webclip_portrait.avi", images, 25.0)
