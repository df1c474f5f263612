"""PAF parsing (services/keypoints/paf.py) on synthetic heatmaps and part-affinity fields whose right grouping
is known: two people with crossing forearms, a missing nose, a stray peak, OpenPose's channel layout, and the
map-to-frame pixel mapping of the opencv-dnn backend."""

from __future__ import annotations

import numpy as np
import pytest

from services.keypoints.paf import (
    LIMBS,
    NUM_CHANNELS,
    NUM_HEATMAPS,
    PAF_CHANNELS,
    ParseSettings,
    find_peaks,
    parse_body25,
)

# A standing person, BODY_25 order, map pixels relative to the mid-hip (y down).
TEMPLATE = np.array([
    (0, -30), (0, -22), (-6, -22), (-8, -12), (-9, -3), (6, -22), (8, -12), (9, -3), (0, 0), (-4, 0), (-4, 12),
    (-4, 24), (4, 0), (4, 12), (4, 24), (-1.5, -32), (1.5, -32), (-3.5, -30.5), (3.5, -30.5), (6, 27), (7.5, 26.5),
    (3.5, 26.5), (-6, 27), (-7.5, 26.5), (-3.5, 26.5)], dtype=float)


def render_maps(people: list[np.ndarray], height: int, width: int, sigma: float = 1.0,
                limb_width: float = 1.0, hidden: tuple[tuple[int, int], ...] = ()) -> np.ndarray:
    """(78, h, w) maps as OpenPose's training targets define them: a Gaussian per part (max over people), the
    background channel, and per limb the unit a->b vector within `limb_width` of the segment (ends included),
    averaged where people overlap.
    `hidden` lists (person, part) pairs left out of the heatmaps and of every limb touching them."""
    maps = np.zeros((NUM_CHANNELS, height, width), dtype=np.float32)
    ys, xs = np.mgrid[0:height, 0:width].astype(float)
    for p, joints in enumerate(people):
        for part, (x, y) in enumerate(joints):
            if (p, part) not in hidden:
                maps[part] = np.maximum(maps[part], np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2)))
    maps[NUM_HEATMAPS - 1] = 1 - maps[:NUM_HEATMAPS - 1].max(0)
    for (a, b), (cx, cy) in zip(LIMBS, PAF_CHANNELS, strict=True):
        total = np.zeros((2, height, width))
        count = np.zeros((height, width))
        for p, joints in enumerate(people):
            if (p, a) in hidden or (p, b) in hidden:
                continue
            start, end = joints[a], joints[b]
            direction = (end - start) / np.linalg.norm(end - start)
            along = (xs - start[0]) * direction[0] + (ys - start[1]) * direction[1]
            across = np.abs((xs - start[0]) * direction[1] - (ys - start[1]) * direction[0])
            on = (along >= -limb_width) & (along <= np.linalg.norm(end - start) + limb_width) & (across <= limb_width)
            total[0][on] += direction[0]
            total[1][on] += direction[1]
            count[on] += 1
        nonzero = count > 0
        maps[NUM_HEATMAPS + cx][nonzero] = total[0][nonzero] / count[nonzero]
        maps[NUM_HEATMAPS + cy][nonzero] = total[1][nonzero] / count[nonzero]
    return maps


def crossing_people() -> list[np.ndarray]:
    """Two people side by side; A's left forearm and B's right forearm cross at x = 30."""
    a, b = TEMPLATE + (20, 36), TEMPLATE + (40, 36)
    a[6], a[7] = (28, 24), (38, 20)  # A: left elbow, left wrist reach right
    b[3], b[4] = (32, 24), (22, 20)  # B: right elbow, right wrist reach left
    return [a, b]


def _match(found: np.ndarray, truth: list[np.ndarray]) -> list[int]:
    """For each found person, the index of the true person its neck belongs to."""
    return [int(np.argmin([np.linalg.norm(f[1, :2] - t[1]) for t in truth])) for f in found]


def test_find_peaks_gives_local_maxima_above_threshold_with_subpixel_position():
    ys, xs = np.mgrid[0:20, 0:30].astype(float)
    heatmap = np.exp(-((xs - 10.3) ** 2 + (ys - 5.0) ** 2) / 2) + 0.6 * np.exp(-((xs - 22) ** 2 + (ys - 14) ** 2) / 2)
    peaks = find_peaks(heatmap, threshold=0.05)
    assert len(peaks) == 2
    order = np.argsort(-peaks[:, 2])
    np.testing.assert_allclose(peaks[order, :2], [[10.3, 5.0], [22.0, 14.0]], atol=0.2)
    assert peaks[order[0], 2] == pytest.approx(heatmap[5, 10])
    assert len(find_peaks(heatmap, threshold=0.7)) == 1
    assert len(find_peaks(np.full((5, 5), 0.5), threshold=0.05)) == 1  # a plateau is one peak


def test_two_people_with_crossing_forearms_are_grouped_correctly():
    truth = crossing_people()
    maps = render_maps(truth, 80, 60)
    people = parse_body25(maps[:NUM_HEATMAPS], maps[NUM_HEATMAPS:])
    assert people.shape == (2, 25, 3)
    owners = _match(people, truth)
    assert sorted(owners) == [0, 1]
    for found, owner in zip(people, owners, strict=True):
        assert (found[:, 2] > 0.7).all()  # every part found; confidence = heatmap peak (< 1 off-grid)
        np.testing.assert_allclose(found[:, :2], truth[owner], atol=0.3)


def test_swapped_wrists_would_be_the_wrong_grouping():
    """Guard on the test itself: the crossing forearms point in opposite directions, so pairing A's elbow with
    B's wrist gets negative PAF support; a parser that ignored the PAF could not pass the test above."""
    truth = crossing_people()
    maps = render_maps(truth, 80, 60)
    elbow_a, wrist_b = truth[0][6], truth[1][4]
    cx, cy = PAF_CHANNELS[LIMBS.index((6, 7))]
    direction = (wrist_b - elbow_a) / np.linalg.norm(wrist_b - elbow_a)
    mid = np.rint((elbow_a + wrist_b) / 2).astype(int)
    near_elbow = np.rint(elbow_a + direction).astype(int)
    support = [maps[NUM_HEATMAPS + cx][y, x] * direction[0] + maps[NUM_HEATMAPS + cy][y, x] * direction[1]
               for x, y in (near_elbow, mid)]
    assert min(support) < 0.05


def test_redundant_shoulder_ear_limbs_recover_the_ears_of_a_person_without_nose():
    truth = crossing_people()
    maps = render_maps(truth, 80, 60, hidden=((0, 0),))
    people = parse_body25(maps[:NUM_HEATMAPS], maps[NUM_HEATMAPS:])
    owners = _match(people, truth)
    a = people[owners.index(0)]
    assert a[0, 2] == 0 and a[15, 2] == 0 and a[16, 2] == 0  # nose hidden: eyes cannot be attached
    np.testing.assert_allclose(a[[17, 18], :2], truth[0][[17, 18]], atol=0.3)  # ears via shoulders
    b = people[owners.index(1)]
    assert (b[:, 2] > 0.7).all()


def test_stray_peaks_and_tiny_fragments_are_dropped_and_thresholds_apply():
    truth = crossing_people()
    maps = render_maps(truth, 80, 60)
    maps[4, 75, 5] = 0.9  # a right-wrist peak far from anyone, no PAF support
    people = parse_body25(maps[:NUM_HEATMAPS], maps[NUM_HEATMAPS:])
    assert len(people) == 2
    assert not np.any(np.all(np.isclose(people[:, 4, :2], [5, 75], atol=1), axis=1))
    strict = parse_body25(maps[:NUM_HEATMAPS], maps[NUM_HEATMAPS:], ParseSettings(min_parts=26))
    assert strict.shape == (0, 25, 3)


def test_wrong_channel_counts_are_refused():
    maps = np.zeros((NUM_CHANNELS, 10, 10), np.float32)
    with pytest.raises(ValueError, match="PAFs"):
        parse_body25(maps[:NUM_HEATMAPS], maps[NUM_HEATMAPS:-2])


def test_net_maps_map_back_to_frame_pixels():
    from services.keypoints.backends.opencv_dnn import maps_to_people, net_input_size

    assert net_input_size(360, 640, 368) == (656, 368)
    truth = [0.7 * TEMPLATE + (30, 23)]
    maps = render_maps(truth, 46, 82)
    people = maps_to_people(maps, (360, 640), ParseSettings())
    assert people.shape == (1, 25, 3)
    # map px u -> net px (u + 0.5) * 8 - 0.5 -> frame px (net + 0.5) * W / net_w - 0.5
    expected_x = (truth[0][:, 0] + 0.5) * 8 * 640 / 656 - 0.5
    expected_y = (truth[0][:, 1] + 0.5) * 8 * 360 / 368 - 0.5
    np.testing.assert_allclose(people[0, :, 0], expected_x, atol=0.3 * 8)
    np.testing.assert_allclose(people[0, :, 1], expected_y, atol=0.3 * 8)
    assert people[0, 8, 1] == pytest.approx((23.5 * 8) * 360 / 368 - 0.5, abs=0.5)  # mid-hip on the grid
    upsampled = maps_to_people(maps, (360, 640), ParseSettings(), upsample=4)
    assert upsampled.shape == (1, 25, 3)
    error = np.hypot(upsampled[0, :, 0] - expected_x, upsampled[0, :, 1] - expected_y)
    assert np.median(error) < 1.0 and error.max() < 0.3 * 8
