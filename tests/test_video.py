"""Video decoding: counts, sizes, index ranges, and clear errors for files that are not videos."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from mshot.errors import InvalidInput, NotFound
from mshot.video import iter_frames, probe_video, read_frame


@pytest.fixture
def clip(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12, (80, 60))
    for i in range(10):
        writer.write(np.full((60, 80, 3), i * 25, np.uint8))
    writer.release()
    return path


def test_probe_counts_frames_and_reads_size_and_rate(clip):
    info = probe_video(clip)
    assert (info.num_frames, info.height, info.width) == (10, 60, 80)
    assert info.fps == pytest.approx(12.0)


def test_iter_frames_respects_start_stop_step(clip):
    indices = [i for i, _ in iter_frames(clip, start=2, stop=9, step=3)]
    assert indices == [2, 5, 8]
    frame = read_frame(clip, 4)
    assert frame.shape == (60, 80, 3) and abs(int(frame.mean()) - 100) < 6


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        probe_video(tmp_path / "nope.mp4")


@pytest.mark.parametrize("content", [b"", b"this is a text file, not a video\n" * 20])
def test_empty_or_text_file_is_invalid_input(tmp_path, content):
    path = tmp_path / "fake.mp4"
    path.write_bytes(content)
    with pytest.raises(InvalidInput):
        probe_video(path)


def test_truncated_video_has_no_decodable_frames(clip, tmp_path):
    path = tmp_path / "truncated.avi"
    path.write_bytes(clip.read_bytes()[:200])
    with pytest.raises(InvalidInput):
        probe_video(path)
