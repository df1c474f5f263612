"""Joining pieces of one person's track after the online pass (services/tracking/cpu/stitching.py)."""

from __future__ import annotations

import numpy as np

from services.tracking.cpu.association import Observation, Track
from services.tracking.cpu.stitching import stitch_tracks

RED, BLUE = np.array([1.0, 0, 0, 0]), np.array([0, 0, 0, 1.0])


def _track(track_id, histogram, frames, shot, x=0.0, step=0.0):
    observations = [Observation(f, shot(f), np.array([x + step * k, 0, x + step * k + 20, 60], float), 1.0,
                                np.zeros((25, 3)), "") for k, f in enumerate(frames)]
    return Track(track_id, histogram, np.zeros((25, 3)), observations, len(frames), histogram * len(frames))


def _shot(f):
    return 0 if f < 10 else 1


def test_pieces_of_one_person_across_a_cut_are_joined_and_others_kept_apart():
    red_before = _track(0, RED, range(0, 10), _shot)
    red_after = _track(1, RED, range(10, 20), _shot, x=300)  # the cut moved the person across the image
    blue = _track(2, BLUE, range(0, 20), _shot, x=100)  # overlaps both in time
    blue_after = _track(3, BLUE, range(12, 20), _shot, x=200)  # blue-ish but shares frames with blue
    tracks = stitch_tracks([red_before, red_after, blue, blue_after])
    frames = sorted([len(t.observations), t.track_id] for t in tracks)
    assert frames == [[8, 3], [20, 0], [20, 2]]
    red = next(t for t in tracks if t.track_id == 0)
    assert [o.frame_index for o in red.observations] == list(range(20))
    np.testing.assert_allclose(red.histogram_sum / red.hits, RED)


def test_within_a_shot_a_join_needs_a_walkable_jump():
    one_shot = lambda f: 0  # noqa: E731
    near = [_track(0, RED, range(0, 5), one_shot), _track(1, RED, range(7, 12), one_shot, x=30)]
    assert len(stitch_tracks(near)) == 1  # 30 px in 2 frames for a 60 px tall person: walkable
    far = [_track(0, RED, range(0, 5), one_shot), _track(1, RED, range(7, 12), one_shot, x=400)]
    assert len(stitch_tracks(far)) == 2


def test_dissimilar_tracks_are_never_joined():
    tracks = [_track(0, RED, range(0, 10), _shot), _track(1, BLUE, range(10, 20), _shot)]
    assert len(stitch_tracks(tracks)) == 2
    assert len(stitch_tracks([_track(0, RED, range(0, 10), _shot), _track(1, RED, range(10, 20), _shot)],
                             max_distance=0.0)) == 1  # identical histograms: distance 0


def test_pieces_that_boxed_one_person_twice_for_a_few_frames_are_joined_with_one_box_per_frame():
    one_shot = lambda f: 0  # noqa: E731
    old, new = _track(0, RED, range(0, 14), one_shot), _track(1, RED, range(10, 30), one_shot, x=2)  # 4 shared
    (joined,) = stitch_tracks([old, new])
    frames = [o.frame_index for o in joined.observations]
    assert frames == list(range(30))
    assert [o.box[0] for o in joined.observations if 10 <= o.frame_index < 14] == [2.0] * 4  # the longer piece's
    long_overlap = [_track(0, RED, range(0, 25), one_shot), _track(1, RED, range(10, 30), one_shot, x=2)]
    assert len(stitch_tracks(long_overlap)) == 2  # 15 shared frames: two people standing together


def test_pieces_sharing_frames_far_apart_are_two_people_unless_it_is_one_stray_frame():
    one_shot = lambda f: 0  # noqa: E731
    tracks = [_track(0, RED, range(0, 14), one_shot), _track(1, RED, range(12, 30), one_shot, x=40)]
    assert len(stitch_tracks(tracks)) == 2  # 2 frames with boxes apart: two people
    stray = [_track(0, RED, [*range(0, 10), 20], one_shot), _track(1, RED, range(12, 30), one_shot, x=5)]
    stray[0].observations[-1].box[[0, 2]] += 50  # the one shared frame: a box beside the other, IoU 0
    assert len(stitch_tracks(stray)) == 1


def test_a_track_that_is_mostly_a_part_of_other_people_is_dropped():
    from types import SimpleNamespace

    from services.tracking.cpu.backend import drop_part_tracks

    one_shot = lambda f: 0  # noqa: E731
    singer = _track(0, RED, range(20), one_shot)  # boxes [0, 0, 20, 60]
    lap = _track(1, BLUE, range(20), one_shot)
    for k, o in enumerate(lap.observations):  # inside the singer's box, a third as tall, in 15 of 20 frames
        o.box = np.array([2.0, 30, 18, 50]) if k < 15 else np.array([100.0, 0, 120, 60])
    walker = _track(2, BLUE, range(20), one_shot, x=100)
    detector = SimpleNamespace(part_coverage=0.8, part_height=0.6)
    kept = drop_part_tracks([singer, lap, walker], (80, 200), detector, max_share=0.5)
    assert [t.track_id for t in kept] == [0, 2]


def test_a_part_of_a_person_boxed_inside_the_whole_is_joined_to_them():
    """A close-up's cut-off person: for 4 frames a second track boxes their lap inside their whole box."""
    one_shot = lambda f: 0  # noqa: E731
    whole = _track(0, RED, range(0, 20), one_shot)  # boxes [0, 0, 20, 60]
    lap = _track(1, RED * 0.9 + BLUE * 0.1, range(8, 12), one_shot)
    for o in lap.observations:
        o.box = np.array([2, 30, 18, 58.0])  # inside the whole box: IoU 0.37, nested share 1
    beside = _track(2, RED, range(8, 12), one_shot, x=25)  # as red, but beside the person: someone else
    tracks = stitch_tracks([whole, lap, beside])
    assert sorted((t.track_id, len(t.observations)) for t in tracks) == [(0, 20), (2, 4)]
