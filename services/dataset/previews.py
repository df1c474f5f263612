"""Pictures people judge a fit by: a contact sheet and a short video of the fitted mesh over the kept
frames, and a plot of each person's track over the video with shot cuts and kept/rejected frames."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def crop_around(image: np.ndarray, box_xyxy: np.ndarray, context: float = 1.5, size: int = 256) -> np.ndarray:
    """A square crop centred on the box, `context` times its larger side (at least 2 px), resized to size x size;
    the centre is clipped to the image, so a box beyond the border or of zero area still gives a picture."""
    x0, y0, x1, y1 = box_xyxy
    height, width = image.shape[:2]
    side = max(int(max(x1 - x0, y1 - y0, 0) * context) + 1, 2)
    cx, cy = int(np.clip((x0 + x1) / 2, 0, width - 1)), int(np.clip((y0 + y1) / 2, 0, height - 1))
    padded = cv2.copyMakeBorder(image, side, side, side, side, cv2.BORDER_CONSTANT)
    crop = padded[cy + side - side // 2: cy + side + side // 2, cx + side - side // 2: cx + side + side // 2]
    return cv2.resize(crop, (size, size))


def contact_sheet(images: list[np.ndarray], out: Path, columns: int = 4, tile_width: int = 240) -> Path:
    tiles = []
    for image in images[: columns * 2]:
        scale = tile_width / image.shape[1]
        tiles.append(cv2.resize(image, (tile_width, int(image.shape[0] * scale))))
    while len(tiles) % columns:
        tiles.append(np.zeros_like(tiles[0]))
    rows = [np.hstack(tiles[i:i + columns]) for i in range(0, len(tiles), columns)]
    cv2.imwrite(str(out), np.vstack(rows))
    return out


def overlay_video(images: list[np.ndarray], out: Path, fps: float, fourcc: str = "mp4v") -> Path:
    """Write the BGR images as a video. "MJPG" (into an .avi, OpenCV's own writer) keeps odd sizes; the FFmpeg
    writers round them to even."""
    height, width = images[0].shape[:2]
    backend = cv2.CAP_OPENCV_MJPEG if fourcc == "MJPG" else cv2.CAP_ANY
    writer = cv2.VideoWriter(str(out), backend, cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    for image in images:
        writer.write(image)
    writer.release()
    return out


def track_plot(tracklets: dict, kept: dict[int, np.ndarray], out: Path) -> Path:
    """kept: person_id -> bool per row of that person (True = in the dataset)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    persons = np.unique(tracklets["person_id"])
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.35 * len(persons)))
    for y, person in enumerate(persons):
        rows = tracklets["person_id"] == person
        frames = tracklets["frame_index"][rows]
        selected = kept.get(int(person), np.zeros(rows.sum(), bool))
        ax.scatter(frames[~selected], np.full((~selected).sum(), y), s=6, c="#bbbbbb", label="rejected" if y == 0
                   else None)
        ax.scatter(frames[selected], np.full(selected.sum(), y), s=10, c="#1f77b4", label="kept" if y == 0 else None)
    for cut in np.flatnonzero(np.diff(tracklets["frame_shot_id"])) + 1:
        ax.axvline(cut - 0.5, color="#d62728", lw=1, ls="--")
    ax.set_yticks(range(len(persons)), [f"person {p}" for p in persons])
    ax.set_xlim(-1, int(tracklets["num_frames"]))
    ax.set_xlabel("frame (dashed: shot cuts)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
