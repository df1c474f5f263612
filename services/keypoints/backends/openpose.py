"""The `openpose` keypoints backend: the official OpenPose binary (e.g. the OpenPose image's
`/openpose/build/examples/openpose/openpose.bin`) run over exactly the frames the tracking stage used.

The frames with observed people are decoded by mshot.video (same decoding, same indices) and written to an
image folder as `<frame index, 12 digits>.png`; OpenPose is run as
`BIN --image_dir FRAMES --model_pose BODY_25 --write_json JSON --display 0 --render_pose 0 [--model_folder DIR]`
and writes `<frame index>_keypoints.json` per image, which services/keypoints/openpose_import.py reads (the
frame index is the file name's number). Progress is the count of JSON files written so far.
Failures: binary missing or not executable, model folder missing -> FailedPrecondition; OpenPose exiting
non-zero -> FailedPrecondition with the end of its log (ResourceExhausted for out-of-memory); fewer JSON files
than frames -> FailedPrecondition; cancellation (progress raising Cancelled) terminates the process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import cv2
import numpy as np

from mshot.errors import FailedPrecondition, ResourceExhausted
from mshot.progress import Progress
from services.keypoints.backends import frames_with_observed_people, iter_observed_frames
from services.keypoints.openpose_import import read_openpose

LOG_TAIL_LINES = 12
POLL_S = 0.5


def resolve_binary(binary: str | Path) -> Path:
    """An executable path (absolute, or a name on PATH); FailedPrecondition otherwise."""
    found = shutil.which(str(binary))
    if found is None:
        raise FailedPrecondition(f"OpenPose binary {binary!s} not found or not executable (set MSHOT_OPENPOSE_BIN "
                                 "to .../build/examples/openpose/openpose.bin)")
    return Path(found)


class OpenPoseBinaryBackend:
    name = "openpose"

    def __init__(self, binary: str | Path, model_dir: Path | None = None, extra_args: tuple[str, ...] = (),
                 timeout_s: float | None = None) -> None:
        self.binary = resolve_binary(binary)
        if model_dir is not None and not Path(model_dir).is_dir():
            raise FailedPrecondition(f"OpenPose model folder {model_dir} does not exist (MSHOT_OPENPOSE_MODEL_DIR)")
        self.model_dir = model_dir
        self.extra_args = tuple(extra_args)
        self.timeout_s = timeout_s

    def command(self, image_dir: Path, json_dir: Path) -> list[str]:
        command = [str(self.binary), "--image_dir", str(image_dir), "--model_pose", "BODY_25",
                   "--write_json", str(json_dir), "--display", "0", "--render_pose", "0"]
        if self.model_dir is not None:
            command += ["--model_folder", str(self.model_dir).rstrip("/") + "/"]  # OpenPose appends "pose/..."
        return command + list(self.extra_args)

    def detect(self, video: Path, tracklets: dict, workdir: Path,
               progress: Progress) -> tuple[np.ndarray, np.ndarray]:
        image_dir, json_dir = workdir / "openpose_frames", workdir / "openpose_json"
        for folder in (image_dir, json_dir):
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
        total = len(frames_with_observed_people(tracklets))
        if total == 0:
            return np.zeros(0, np.int32), np.zeros((0, 25, 3), np.float32)
        try:
            for done, (index, frame) in enumerate(iter_observed_frames(video, tracklets), start=1):
                path = image_dir / f"{index:012d}.png"
                if not cv2.imwrite(str(path), frame):
                    raise ResourceExhausted(f"cannot write frame image {path} (disk full?)")
                progress(0.1 * done / total, f"extracting frame {index + 1}")
            self._run(image_dir, json_dir, total, workdir / "openpose.log", progress)
        finally:
            shutil.rmtree(image_dir, ignore_errors=True)
        return read_openpose(json_dir, int(tracklets["num_frames"]), contiguous=False)

    def _run(self, image_dir: Path, json_dir: Path, total: int, log_path: Path, progress: Progress) -> None:
        started = time.monotonic()
        with open(log_path, "wb") as log:
            process = subprocess.Popen(self.command(image_dir, json_dir), stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=os.environ.copy())
            try:
                while process.poll() is None:
                    written = sum(1 for _ in json_dir.glob("*_keypoints.json"))
                    progress(0.1 + 0.9 * min(written, total) / total, f"OpenPose: {written}/{total} frames")
                    if self.timeout_s is not None and time.monotonic() - started > self.timeout_s:
                        raise FailedPrecondition(f"OpenPose did not finish {total} frames in {self.timeout_s:.0f} s")
                    time.sleep(POLL_S)
            finally:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
        tail = _log_tail(log_path)
        if process.returncode != 0:
            error = ResourceExhausted if "out of memory" in tail.lower() else FailedPrecondition
            raise error(f"OpenPose exited with code {process.returncode}; end of its log:\n{tail}")
        written = sum(1 for _ in json_dir.glob("*_keypoints.json"))
        if written != total:
            raise FailedPrecondition(f"OpenPose wrote {written} JSON files for {total} frames; end of its log:\n{tail}")
        progress(1.0, f"OpenPose: {total}/{total} frames")


def _log_tail(path: Path) -> str:
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-LOG_TAIL_LINES:])
