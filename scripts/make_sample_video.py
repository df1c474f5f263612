"""Build the sample video `make run` uses: three shots cut from OpenCV's vtest.avi (real pedestrians), each
a different crop and zoom of a different moment, so the result has hard cuts with viewpoint and distance
changes. 640x360, 10 fps, mp4v. Usage: python scripts/make_sample_video.py VTEST.avi OUT.mp4 [FRAMES_PER_SHOT]"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2

# (first source frame, crop x0, y0, width) of each shot; crops are 16:9 and scaled to 640x360.
SHOTS = ((0, 0, 144, 768), (300, 40, 180, 512), (560, 300, 120, 420))


def make_sample(source: Path, out: Path, frames_per_shot: int = 40) -> Path:
    capture = cv2.VideoCapture(str(source))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        raise SystemExit(f"cannot read {source}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.mp4")
    writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (640, 360))
    for start, x0, y0, width in SHOTS:
        height = width * 9 // 16
        for frame in frames[start:start + frames_per_shot]:
            crop = frame[y0:y0 + height, x0:x0 + width]
            writer.write(cv2.resize(crop, (640, 360), interpolation=cv2.INTER_AREA if width > 640 else cv2.INTER_CUBIC))
    writer.release()
    tmp.replace(out)
    return out


if __name__ == "__main__":
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    print(make_sample(Path(sys.argv[1]), Path(sys.argv[2]), count))
