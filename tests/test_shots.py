"""Online shot cutting (mshot/shots.py): the same cuts as PySceneDetect's own SceneManager pass, from one decode."""

from pathlib import Path

import numpy as np
import pytest

from mshot.shots import ShotCutter, detect_shots, frames_with_shots

ROOT = Path(__file__).resolve().parents[1]
VIDEOS = [ROOT / "tests/data/gt_video/gt_video.mp4", ROOT / "tests/data/gt_video2/gt_video2.mp4",
          ROOT / "data/sample/multishot_sample.mp4"]


def scene_manager_cuts(video: Path) -> list[int]:
    """The reference: PySceneDetect decoding the file itself (what mshot did before it fed frames)."""
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    manager = SceneManager()
    manager.add_detector(AdaptiveDetector(adaptive_threshold=3.0, min_scene_len=8))
    manager.detect_scenes(open_video(str(video)), show_progress=False)
    return [start.frame_num for start, _ in manager.get_scene_list()][1:]


@pytest.mark.parametrize("video", [v for v in VIDEOS if v.exists()], ids=lambda v: v.stem)
def test_shot_cutter_finds_the_cuts_scene_manager_finds(video):
    from mshot.video import probe_video

    shots = detect_shots(video, probe_video(video).num_frames)
    cuts = (np.flatnonzero(np.diff(shots)) + 1).tolist()
    assert cuts == scene_manager_cuts(video)
    assert cuts  # each of these videos has cuts


def test_shot_cutter_hands_every_frame_back_once_in_order_after_its_lag():
    rng = np.random.default_rng(1)
    dark, bright = (rng.integers(0, 60, (48, 64, 3)).astype(np.uint8),
                    rng.integers(160, 255, (48, 64, 3)).astype(np.uint8))
    frames = [(i, (dark if i < 12 else bright).copy()) for i in range(24)]
    cutter = ShotCutter(10.0, (64, 48))
    assert cutter.lag == 2
    assert cutter.push(*frames[0]) == [] and cutter.push(*frames[1]) == []
    first = cutter.push(*frames[2])
    assert [(i, s) for i, s, _ in first] == [(0, 0)] and first[0][2] is frames[0][1]
    out = first + [r for f in frames[3:] for r in cutter.push(*f)] + cutter.finish()
    assert [i for i, _, _ in out] == list(range(24))
    assert [s for _, s, _ in out] == [0] * 12 + [1] * 12


def test_shot_cutter_refuses_frames_out_of_order():
    cutter = ShotCutter(25.0, (32, 32))
    cutter.push(3, np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ValueError, match="in order"):
        cutter.push(3, np.zeros((32, 32, 3), np.uint8))


def test_frames_with_shots_of_no_frames_is_empty():
    assert list(frames_with_shots(iter(()), ShotCutter(25.0, (32, 32)))) == []
