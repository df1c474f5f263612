"""The cpu keypoints backend looks for each person with the other tracked people painted out, so BlazePose
(one person per crop) cannot pick a neighbour instead."""

from __future__ import annotations

import numpy as np

from services.keypoints.backends.cpu import others_painted_out


def test_other_people_are_greyed_but_never_over_the_persons_own_pixels():
    frame = np.full((20, 30, 3), 200, np.uint8)
    own = np.zeros((20, 30), bool)
    own[5:15, 5:10] = True
    other = np.zeros((20, 30), bool)
    other[5:15, 9:20] = True  # overlaps the person's own mask in column 9
    out = others_painted_out(frame, [own, other], 0)
    assert (out[own] == 200).all()  # own pixels untouched, also where the masks overlap
    assert (out[5:15, 10:20] == 128).all()
    assert (out[5:15, 20:23] == 128).all() and (out[5:15, 24:] == 200).all()  # dilated by 3 px, no more
    assert (frame == 200).all()  # the frame itself is not changed


def test_a_person_alone_or_without_masked_neighbours_sees_the_frame_unchanged():
    frame = np.full((10, 10, 3), 50, np.uint8)
    own = np.zeros((10, 10), bool)
    own[2:5, 2:5] = True
    assert others_painted_out(frame, [own], 0) is frame
    assert others_painted_out(frame, [own, np.zeros_like(own)], 0) is frame
