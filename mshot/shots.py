"""Shot-cut detection with PySceneDetect: a shot id for every frame (0, 1, 2, ... in video order)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mshot.errors import InvalidInput


def detect_shots(video: str | Path, num_frames: int, adaptive_threshold: float = 3.0,
                 min_shot_frames: int = 8) -> np.ndarray:
    """(F,) int32 shot id per frame. AdaptiveDetector (content change relative to its neighbourhood) finds hard
    cuts also between similar-looking shots; `min_shot_frames` keeps flashes and fast motion from splitting a shot."""
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    try:
        stream = open_video(str(video))
    except Exception as exc:  # noqa: BLE001 - PySceneDetect raises several types for unreadable files
        raise InvalidInput(f"{video} cannot be read for shot detection: {exc}") from None
    manager = SceneManager()
    manager.add_detector(AdaptiveDetector(adaptive_threshold=adaptive_threshold, min_scene_len=min_shot_frames))
    manager.detect_scenes(stream, show_progress=False)
    cuts = [start.frame_num for start, _ in manager.get_scene_list()][1:]
    shot = np.zeros(num_frames, dtype=np.int32)
    for cut in cuts:
        if 0 < cut < num_frames:
            shot[cut:] += 1
    return shot
