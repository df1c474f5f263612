"""Video probing and decoding: counts from checked container metadata (decoded where the metadata lies), sizes,
index ranges, and clear InvalidInput naming the problem for what the stages cannot work on: files that are not
videos (an image renamed .mp4 included), frames below the minimum size, one-colour video, too few frames."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from mshot.errors import InvalidInput, NotFound
from mshot.store.local import LocalStore
from mshot.video import (
    MIN_FRAME_SIDE_PX,
    MIN_VIDEO_FRAMES,
    VideoInfo,
    iter_frames,
    probe_video,
    read_frame,
    record_probe,
    recorded_probe,
    require_trackable,
)


def write_clip(path, frames: int, size=(160, 120), fourcc="MJPG", colour=None):
    """`frames` frames of (W, H) = `size`: textured noise whose mean steps by 25 per frame, or one flat colour."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 12, size)
    for i in range(frames):
        if colour is None:
            frame = np.clip(rng.integers(-20, 21, (size[1], size[0], 3)) + 25 * i + 20, 0, 255).astype(np.uint8)
        else:
            frame = np.full((size[1], size[0], 3), colour, np.uint8)
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def clip(tmp_path):
    return write_clip(tmp_path / "clip.avi", 10)


def test_probe_counts_frames_and_reads_size_and_rate(clip):
    info = probe_video(clip)
    require_trackable(clip, info)
    assert (info.num_frames, info.height, info.width) == (10, 120, 160)
    assert info.fps == pytest.approx(12.0)


def test_probe_of_an_mp4_reads_its_metadata(tmp_path):
    info = probe_video(write_clip(tmp_path / "clip.mp4", 7, fourcc="mp4v"))
    assert (info.num_frames, info.height, info.width) == (7, 120, 160)


def test_metadata_claiming_20000_frames_of_a_10_frame_clip_is_counted_by_decoding(clip, tmp_path):
    data = bytearray(clip.read_bytes())
    for chunk, offset in ((b"avih", 16), (b"strh", 32)):  # AVI main header dwTotalFrames, stream header dwLength
        struct.pack_into("<I", data, data.find(chunk) + 8 + offset, 20000)
    lying = tmp_path / "lying.avi"
    lying.write_bytes(bytes(data))
    assert cv2.VideoCapture(str(lying)).get(cv2.CAP_PROP_FRAME_COUNT) == 20000
    assert probe_video(lying).num_frames == 10


def test_iter_frames_respects_start_stop_step(clip):
    indices = [i for i, _ in iter_frames(clip, start=2, stop=9, step=3)]
    assert indices == [2, 5, 8]
    frame = read_frame(clip, 4)
    assert frame.shape == (120, 160, 3) and abs(int(frame.mean()) - 120) < 6


def test_missing_file_is_not_found(tmp_path):
    with pytest.raises(NotFound):
        probe_video(tmp_path / "nope.mp4")


@pytest.mark.parametrize("content", [b"", b"this is a text file, not a video\n" * 20])
def test_empty_or_text_file_is_invalid_input(tmp_path, content):
    path = tmp_path / "fake.mp4"
    path.write_bytes(content)
    with pytest.raises(InvalidInput):
        probe_video(path)


@pytest.mark.parametrize(("suffix", "kind"), [(".png", "a PNG image"), (".jpg", "a JPEG image")])
def test_an_image_renamed_mp4_is_named_as_an_image(tmp_path, suffix, kind):
    image = tmp_path / f"photo{suffix}"
    cv2.imwrite(str(image), np.random.default_rng(1).integers(0, 255, (200, 200, 3), dtype=np.uint8))
    renamed = tmp_path / "holiday.mp4"
    renamed.write_bytes(image.read_bytes())
    with pytest.raises(InvalidInput, match=f"holiday.mp4 is {kind}, not a video"):
        probe_video(renamed)


def test_truncated_video_has_no_decodable_frames(clip, tmp_path):
    path = tmp_path / "truncated.avi"
    path.write_bytes(clip.read_bytes()[:200])
    with pytest.raises(InvalidInput):
        probe_video(path)


def test_frames_below_the_minimum_size_are_refused_by_name(tmp_path):
    tiny = write_clip(tmp_path / "tiny.avi", 10, size=(80, 60))
    with pytest.raises(InvalidInput, match=f"80x60 frames; mshot needs at least {MIN_FRAME_SIDE_PX}x"):
        require_trackable(tiny, probe_video(tiny))


@pytest.mark.parametrize("colour", [0, 200])
def test_all_black_or_one_colour_video_is_refused(tmp_path, colour):
    flat = write_clip(tmp_path / "flat.avi", 10, colour=colour)
    with pytest.raises(InvalidInput, match="one flat colour"):
        require_trackable(flat, probe_video(flat))


def test_a_two_frame_clip_is_too_short(tmp_path):
    short = write_clip(tmp_path / "short.avi", 2)
    with pytest.raises(InvalidInput, match=f"only 2 frame\\(s\\); mshot needs at least {MIN_VIDEO_FRAMES}"):
        require_trackable(short, probe_video(short))


def test_a_probe_recorded_in_the_store_is_found_by_the_video_digest(clip, tmp_path):
    store = LocalStore(tmp_path / "store")
    ref = store.put_file(clip, "video/x-msvideo")
    assert recorded_probe(store, ref) is None
    info = probe_video(clip)
    record_probe(store, ref.sha256, info)
    assert recorded_probe(store, ref) == info == VideoInfo(10, 12.0, 120, 160)


@pytest.mark.parametrize("bad", ["flat", "short", "png"])
def test_mshot_run_names_a_bad_video_and_exits_2_before_starting_anything(tmp_path, capsys, bad):
    from mshot_main import main

    if bad == "png":
        video = tmp_path / "clip.mp4"
        cv2.imwrite(str(tmp_path / "x.png"), np.zeros((200, 200, 3), np.uint8))
        video.write_bytes((tmp_path / "x.png").read_bytes())
    else:
        video = write_clip(tmp_path / "clip.avi", 2 if bad == "short" else 10, colour=0 if bad == "flat" else None)
    out = tmp_path / "out"
    assert main(["run", str(video), "--out", str(out), "--store", str(tmp_path / "store")]) == 2
    message = capsys.readouterr().err.strip()
    assert message.startswith(f"mshot: error: {video}") and "Traceback" not in message
    assert not out.exists() and not (tmp_path / "store").exists()
