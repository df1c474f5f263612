"""Joining the pieces of one person's track after the online pass: tracks that (almost) never share a frame and whose
mean appearance (colour histogram averaged over all their observations) is close are the same person, seen again
after a cut, an occlusion or a missed stretch. The online re-identification compares a track's recent appearance
with one detection, which changes with viewpoint and light from shot to shot; a whole track's mean is far steadier
(on the rendered GT video: 0.14-0.28 Bhattacharyya distance between pieces of one person, 0.57 and more between
different people).

Pieces may share up to 10 frames where their boxes overlap or one lies inside the other (a new track born on a
person before the old track died; a part of a person cut off by the frame edge or covered by a caption boxed as
a second person beside the whole), and one frame in 50 where they do not (a stray box). Greedy: the closest
admissible pair is joined first, then distances are recomputed. Within one shot a join must also be physically
possible: the gap's box-centre jump is at most `max_jump_per_frame` box heights per frame (plus one height),
wherever the joined track passes from one piece to the other."""

from __future__ import annotations

import numpy as np

from services.tracking.cpu.association import Track, bhattacharyya, nested_share
from services.tracking.cpu.detector import box_iou

SHARED_MIN_IOU = 0.5
SHARED_MIN_NESTED = 0.8  # or this share of the smaller box inside the larger one
MAX_CONFLICT_SHARE = 0.02  # shared frames with boxes apart, as a share of the shorter piece's observations


def mean_histogram(track: Track) -> np.ndarray:
    return track.histogram_sum / max(track.hits, 1) if track.histogram_sum is not None else track.histogram


def _plausible(a: Track, b: Track, max_jump_per_frame: float, max_shared: int) -> bool:
    """At most `max_shared` shared frames, in which the two boxes overlap (IoU >= SHARED_MIN_IOU: one person
    boxed twice while a new track was born before the old one died) or are nested (SHARED_MIN_NESTED: a part
    of the person boxed beside the whole) but for MAX_CONFLICT_SHARE of the shorter
    piece (at least one: a stray box of one piece elsewhere), and wherever the joined track passes from one
    piece to the other within a shot, the jump is walkable."""
    merged = sorted([(o.frame_index, 0, o) for o in a.observations] + [(o.frame_index, 1, o) for o in b.observations],
                    key=lambda item: item[0])
    shared = conflicts = 0
    max_conflicts = max(1, int(MAX_CONFLICT_SHARE * min(len(a.observations), len(b.observations))))
    for (f0, s0, o0), (f1, s1, o1) in zip(merged, merged[1:], strict=False):
        if f0 == f1:
            shared += 1
            conflicts += int(box_iou(o0.box[None], o1.box[None])[0, 0] < SHARED_MIN_IOU
                             and nested_share(o0.box, o1.box) < SHARED_MIN_NESTED)
            if shared > max_shared or conflicts > max_conflicts:
                return False
            continue
        if s0 == s1 or o0.shot_id != o1.shot_id:
            continue
        height = max(o0.box[3] - o0.box[1], o1.box[3] - o1.box[1], 1.0)
        jump = np.linalg.norm((o0.box[:2] + o0.box[2:]) / 2 - (o1.box[:2] + o1.box[2:]) / 2)
        if jump > height * (1.0 + max_jump_per_frame * (f1 - f0)):
            return False
    return True


def _join(a: Track, b: Track) -> Track:
    """One track; in a frame both pieces saw, the observation of the piece with more hits is kept."""
    first = a if a.observations[0].frame_index <= b.observations[0].frame_index else b
    latest = a if a.last.frame_index >= b.last.frame_index else b
    sums = [t.histogram_sum if t.histogram_sum is not None else t.histogram * t.hits for t in (a, b)]
    major, minor = (a, b) if a.hits >= b.hits else (b, a)
    taken = {o.frame_index for o in major.observations}
    observations = sorted(major.observations + [o for o in minor.observations if o.frame_index not in taken],
                          key=lambda o: o.frame_index)
    return Track(first.track_id, latest.histogram, latest.pose, observations, a.hits + b.hits, sums[0] + sums[1])


def stitch_tracks(tracks: list[Track], max_distance: float = 0.4, max_jump_per_frame: float = 0.25,
                  max_shared: int = 10) -> list[Track]:
    """Tracks (each sorted by frame) -> fewer tracks: admissible pairs within `max_distance` joined, closest first."""
    tracks = list(tracks)
    while True:
        best, pair = max_distance, None
        for i, a in enumerate(tracks):
            for j, b in enumerate(tracks):
                if j <= i or not _plausible(a, b, max_jump_per_frame, max_shared):
                    continue
                distance = bhattacharyya(mean_histogram(a), mean_histogram(b))
                if distance <= best:
                    best, pair = distance, (i, j)
        if pair is None:
            return tracks
        i, j = pair
        joined = _join(tracks[i], tracks[j])
        tracks = [t for k, t in enumerate(tracks) if k not in pair] + [joined]

