"""Shot-cut detection with PySceneDetect's AdaptiveDetector, fed the frames the caller decodes (one decode per stage).

`ShotCutter` takes BGR frames in order and hands each back with its shot id (0, 1, 2, ... in video order) once no
later frame can move a cut before it: AdaptiveDetector scores a frame against `window_width` frames on each side,
so a frame comes back `lag` frames after it went in. It prepares frames as PySceneDetect's SceneManager does
(the same automatic downscale and interpolation), so its cuts are SceneManager's on the same video (tested),
except for jumps that change only part of the shot's moving content - a caption or title card popping up over
it, a text that changes (mshot/shot_change.py): those are not cuts (`overlay_changes` lists them).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from mshot.shot_change import ThumbnailHistory
from mshot.video import iter_frames, probe_video


class ShotCutter:
    def __init__(self, fps: float, frame_size_wh: tuple[int, int], adaptive_threshold: float = 3.0,
                 min_shot_frames: int = 8):
        """`frame_size_wh`: (width, height) px from the container (sets the downscale, as in SceneManager).
        AdaptiveDetector (content change relative to its neighbourhood) finds hard cuts also between similar-looking
        shots; `min_shot_frames` keeps flashes and fast motion from splitting a shot."""
        from scenedetect import AdaptiveDetector
        from scenedetect.scene_manager import Interpolation, compute_downscale_factor

        self._fps = float(fps) if fps and fps > 0 else 25.0
        self._frame_size_wh = tuple(frame_size_wh)
        self._downscale = compute_downscale_factor(max(self._frame_size_wh))
        self._interpolation = Interpolation.LINEAR.value
        # min_shot_frames is applied here, from the last cut kept (the detector counts from its last cut, which
        # may be an overlay change that is no cut)
        self._detector = AdaptiveDetector(adaptive_threshold=adaptive_threshold, min_scene_len=0)
        self._min_shot_frames = min_shot_frames
        self._last_cut = 0
        self.lag = int(self._detector.event_buffer_length)
        self._pending: deque[tuple[int, np.ndarray]] = deque()
        self._cuts: set[int] = set()
        self._history = ThumbnailHistory()
        self._judged_since = 0  # the current shot's first frame, or its last overlay change
        self.overlay_changes: list[int] = []  # jumps the detector found that are overlays, not cuts
        self._shot = 0
        self._last_index = -1
        self._first_decoded_wh: tuple[int, int] | None = None

    def push(self, index: int, frame_bgr: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
        """Feed frame `index` (indices strictly increasing); returns the (index, shot_id, frame) now final."""
        if index <= self._last_index:
            raise ValueError(f"frames must come in order: {index} after {self._last_index}")
        if self._last_index < 0:
            self._last_cut = index  # as the detector, count the first shot from the first frame
        self._last_index = index
        decoded_wh = (frame_bgr.shape[1], frame_bgr.shape[0])
        self._first_decoded_wh = self._first_decoded_wh or decoded_wh
        if decoded_wh == self._first_decoded_wh:  # SceneManager skips frames sized unlike the first
            prepared = self._prepared(frame_bgr)
            self._history.add(index, prepared)
            self._add_cuts(self._detector.process_frame(self._timecode(index), prepared))
        self._pending.append((index, frame_bgr))
        return self._release(index - self.lag)

    def finish(self) -> list[tuple[int, int, np.ndarray]]:
        """After the last frame: the remaining frames with their shot ids."""
        if self._last_index >= 0:
            self._add_cuts(self._detector.post_process(self._timecode(self._last_index)))
        return self._release(self._last_index)

    def _add_cuts(self, timecodes) -> None:
        """The detector's cuts (in order) kept, but for those within min_shot_frames of the last cut kept and for
        overlay changes."""
        for cut in sorted(c.frame_num for c in timecodes):
            if cut - self._last_cut < self._min_shot_frames:
                continue
            if self._history.is_overlay_cut(cut, self._judged_since):
                self.overlay_changes.append(cut)
            else:
                self._cuts.add(cut)
                self._last_cut = cut
            self._judged_since = cut

    def _release(self, up_to: int) -> list[tuple[int, int, np.ndarray]]:
        ready = []
        while self._pending and self._pending[0][0] <= up_to:
            index, frame = self._pending.popleft()
            if index in self._cuts and index > 0:
                self._shot += 1
            ready.append((index, self._shot, frame))
        return ready

    def _prepared(self, frame_bgr: np.ndarray) -> np.ndarray:
        if self._downscale <= 1.0:
            return frame_bgr
        height, width = frame_bgr.shape[:2]
        size = (max(1, round(width / self._downscale)), max(1, round(height / self._downscale)))
        return cv2.resize(frame_bgr, size, interpolation=self._interpolation)

    def _timecode(self, index: int):
        from scenedetect import FrameTimecode

        return FrameTimecode(index, self._fps)


def frames_with_shots(frames: Iterator[tuple[int, np.ndarray]], cutter: ShotCutter
                      ) -> Iterator[tuple[int, int, np.ndarray]]:
    """(index, shot_id, BGR frame) for each decoded frame, in order, from one pass over `frames`."""
    for index, frame in frames:
        yield from cutter.push(index, frame)
    yield from cutter.finish()


def detect_shots(video: str | Path, num_frames: int, adaptive_threshold: float = 3.0,
                 min_shot_frames: int = 8) -> np.ndarray:
    """(F,) int32 shot id per frame, decoding `video` once; frames past the decoded end keep the last shot."""
    info = probe_video(video)
    cutter = ShotCutter(info.fps, (info.width, info.height), adaptive_threshold, min_shot_frames)
    shot = np.zeros(num_frames, dtype=np.int32)
    for index, shot_id, _ in frames_with_shots(iter_frames(video, stop=num_frames), cutter):
        shot[index:] = shot_id
    return shot
