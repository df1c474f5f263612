"""Overlay changes are not cuts (mshot/shot_change.py): hand-made thumbnails with known live and changed cells,
and ShotCutter on small synthetic videos with a caption card popping up and with a real cut."""

import numpy as np
import pytest

from mshot.shot_change import CELL, cell_change, is_overlay_change, live_share_changed, thumbnail
from mshot.shots import ShotCutter, frames_with_shots


def _history_left_half_moving(frames: int = 4) -> list[np.ndarray]:
    """4 x 4 cells (16 x 16 px); the left two cell columns (8 cells) flicker by 10 levels, the rest is still."""
    history = []
    for k in range(frames):
        image = np.full((4 * CELL, 4 * CELL), 100.0, np.float32)
        image[:, :2 * CELL] += 10.0 * (k % 2)
        history.append(image)
    return history


def test_cell_change_is_the_mean_absolute_difference_per_cell():
    a = np.zeros((2 * CELL, 2 * CELL), np.float32)
    b = a.copy()
    b[:CELL, :CELL] = 40.0  # one whole cell
    b[CELL, CELL] = 32.0  # one pixel of the last cell: 32 / 16
    assert cell_change(a, b).tolist() == [[40.0, 0.0], [0.0, 2.0]]


def test_a_card_over_half_the_live_cells_is_an_overlay_change():
    history = _history_left_half_moving()
    after = history[-1].copy()
    after[:2 * CELL, :] = 250.0  # the top half: 4 of the 8 live cells, and 4 still ones
    assert live_share_changed(history, after) == pytest.approx(0.5)
    assert is_overlay_change(history, after)


def test_a_jump_changing_every_live_cell_is_a_cut_even_with_a_still_backdrop():
    history = _history_left_half_moving()
    after = history[-1].copy()
    after[:, :2 * CELL] = 0.0  # every live cell; the still half (a letterbox backdrop) as it was
    assert live_share_changed(history, after) == 1.0
    assert not is_overlay_change(history, after)


def test_too_little_history_or_a_still_shot_cannot_tell_so_it_is_a_cut():
    history = _history_left_half_moving()
    after = np.zeros_like(history[0])
    assert live_share_changed(history[:2], after) is None
    still = [np.full_like(history[0], 100.0)] * 5
    assert live_share_changed(still, after) is None and not is_overlay_change(still, after)


def test_thumbnail_is_grey_with_sides_multiples_of_a_cell():
    image = np.zeros((1920, 1080, 3), np.uint8)
    assert thumbnail(image).shape == (192, 108) and thumbnail(image).dtype == np.float32


def _moving_texture(k: int, seed: int = 0) -> np.ndarray:
    """(96, 128, 3) stripes (32 px period; per seed another tilt and colour) moving 1 px per frame: all of it live,
    changing little from frame to frame."""
    y, x = np.mgrid[0:96, 0:128]
    stripes = 127 + 100 * np.sin(2 * np.pi * (x + seed * 0.7 * y - k) / 32)
    colour = np.array([1.0, 0.8, 0.6]) if seed == 0 else np.array([0.5, 0.9, 1.0])
    return (stripes[..., None] * colour).astype(np.uint8)


def _cuts(frames: list[np.ndarray]) -> tuple[list[int], ShotCutter]:
    cutter = ShotCutter(25.0, (128, 96))
    shots = [s for _, s, _ in frames_with_shots(enumerate(frames), cutter)]
    return (np.flatnonzero(np.diff(shots)) + 1).tolist(), cutter


def test_a_caption_card_popping_up_over_the_shot_is_no_cut_and_a_new_scene_is():
    card = []
    for k in range(30):
        frame = _moving_texture(k)
        if k >= 15:
            frame[10:50, 10:120] = (0, 200, 255)  # a third of the frame, drawn from frame 15 on
        card.append(frame)
    cuts, cutter = _cuts(card)
    assert cuts == [] and cutter.overlay_changes == [15]
    scenes = [_moving_texture(k, seed=int(k >= 15)) for k in range(30)]
    cuts, cutter = _cuts(scenes)
    assert cuts == [15] and cutter.overlay_changes == []


def test_a_cut_soon_after_an_overlay_change_is_still_found():
    """The card pops up at frame 15 and the scene changes at 19: 4 frames later, under min_shot_frames (8) after
    the overlay change, but 19 after the last cut."""
    frames = []
    for k in range(30):
        frame = _moving_texture(k, seed=int(k >= 19))
        if 15 <= k < 19:
            frame[10:50, 10:120] = (0, 200, 255)
        frames.append(frame)
    cuts, cutter = _cuts(frames)
    assert cuts == [19] and cutter.overlay_changes == [15]
