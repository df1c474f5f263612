"""One person verified as two (split_bodies.py): a head-and-shoulders person whose hips BlazePose did not see and
a "person" BlazePose made of the same body's lap and hands are one box; people beside each other, or one whose
hips are seen, are not merged. The last test runs the detector on frames of the web clip's first close-up
(scripts/webclip_footage.py, made from the shared seated_3people clip), where the left musician was boxed twice."""

from __future__ import annotations

import numpy as np
import pytest

from services.tracking.cpu.split_bodies import body_extent, is_rest_of_body, merge_split_bodies


def _pose(points: dict[int, tuple[float, float]], confidence: dict[int, float] | None = None,
          default_confidence: float = 0.9) -> np.ndarray:
    """(25, 3) keypoints at `points` (BODY_25 index -> x, y px), others at (0, 0) with confidence 0."""
    keypoints = np.zeros((25, 3), np.float32)
    for index, (x, y) in points.items():
        keypoints[index] = (x, y, (confidence or {}).get(index, default_confidence))
    return keypoints


NOSE, NECK, R_SHOULDER, R_WRIST, L_SHOULDER, L_WRIST = 0, 1, 2, 4, 5, 7  # BODY_25
MID_HIP, R_HIP, R_KNEE, L_HIP, L_KNEE = 8, 9, 10, 12, 13
# Head and shoulders seen; hips and knees placed by BlazePose below the frame's view of them, unseen (0.01).
UPPER_BODY = _pose({NOSE: (100, 50), NECK: (100, 80), R_SHOULDER: (70, 80), L_SHOULDER: (130, 80),
                    MID_HIP: (100, 200), R_HIP: (85, 200), L_HIP: (115, 200), R_KNEE: (80, 300), L_KNEE: (120, 300)},
                   confidence={MID_HIP: 0.01, R_HIP: 0.01, L_HIP: 0.01, R_KNEE: 0.01, L_KNEE: 0.01})
# A small "person" BlazePose made of that body's lap and hands: its nose on the chest, all of it confident.
LAP = _pose({NOSE: (100, 150), NECK: (105, 160), R_SHOULDER: (90, 160), L_SHOULDER: (120, 160),
             R_WRIST: (60, 190), L_WRIST: (150, 190), MID_HIP: (110, 230), R_HIP: (100, 230), L_HIP: (120, 230)})


def test_body_extent_is_shoulders_hips_and_knees_widened_by_half_the_shoulder_span():
    # shoulders x 70..130 (span 60, margin 30), knees y 300; the nose does not count.
    np.testing.assert_allclose(body_extent(UPPER_BODY), [70 - 30, 80, 130 + 30, 300])


def test_a_lap_seen_as_a_person_below_a_head_and_shoulders_is_the_rest_of_that_body():
    assert is_rest_of_body(LAP, UPPER_BODY, min_confidence=0.5, min_share=0.6)
    assert not is_rest_of_body(UPPER_BODY, LAP, min_confidence=0.5, min_share=0.6)  # the lap's hips are seen


def test_a_person_whose_hips_are_seen_has_no_rest_of_body_to_find():
    seen_hips = UPPER_BODY.copy()
    seen_hips[[MID_HIP, R_HIP, L_HIP], 2] = 0.9
    assert not is_rest_of_body(LAP, seen_hips, min_confidence=0.5, min_share=0.6)


def test_a_person_of_the_same_size_in_front_or_behind_is_not_a_rest_of_body():
    # Nose level with the upper body's head: above its shoulder line, whatever the overlap.
    in_front = LAP.copy()
    in_front[:, 1] -= 100
    assert not is_rest_of_body(in_front, UPPER_BODY, min_confidence=0.5, min_share=0.6)


def test_a_person_beside_the_body_extent_is_not_a_rest_of_body():
    beside = LAP.copy()
    beside[:, 0] += 120  # x 180..270: past the extent's right edge at 160
    assert not is_rest_of_body(beside, UPPER_BODY, min_confidence=0.5, min_share=0.6)


def _found(box, keypoints, mask_pixel):
    mask = np.zeros((320, 240), bool)
    mask[mask_pixel] = True
    return np.asarray(box, float), 0.5, keypoints, mask


def test_merged_person_has_both_boxes_and_masks_and_the_upper_bodys_keypoints():
    beside = LAP.copy()
    beside[:, 0] += 120
    people = merge_split_bodies([_found([50, 130, 160, 240], LAP, (140, 60)),
                                 _found([60, 30, 140, 120], UPPER_BODY, (40, 100)),
                                 _found([170, 130, 280, 240], beside, (140, 200))], 0.5, 0.6)
    assert len(people) == 2
    (box, score, keypoints, mask), (other_box, *_) = sorted(people, key=lambda p: p[0][0])
    np.testing.assert_allclose(box, [50, 30, 160, 240])
    np.testing.assert_array_equal(keypoints, UPPER_BODY)
    assert mask[140, 60] and mask[40, 100] and not mask[140, 200]
    np.testing.assert_allclose(other_box, [170, 130, 280, 240])  # the person beside is kept as found


# The web clip's first close-up (shot 1, frames 40-79; scripts/webclip_footage.py): per frame its index in the
# shot and the boxes the tracker predicted there in `python -m bench.webclip` at 96cf9f7 (singer first, then the
# left musician's upper body and her lap). On those candidates BlazePose verified three people, two of them her.
CLOSEUP_PRIORS = {
    5: [[337, 473, 543, 1225], [-25, 470, 311, 939], [-47, 470, 190, 753]],
    35: [[285, 576, 541, 942], [31, 466, 190, 694], [7, 680, 160, 863]],
}


@pytest.fixture(scope="module")
def closeup_frames(tmp_path_factory):
    """The close-up's frames at CLOSEUP_PRIORS' indices, written to and read back from an MJPG clip as the web
    clip is (MJPG codes each frame alone, so they are the pixels the tracker saw there)."""
    from scripts import real_footage, webclip_footage

    if not real_footage.REAL_CLIPS.is_dir():
        pytest.skip(f"{real_footage.REAL_CLIPS} not present (the shared real clips)")
    shot = webclip_footage.SHOTS[1]
    source = real_footage.read_frames(real_footage.REAL_CLIPS / "seated_3people.mp4", shot.source_start, 40)
    frames, _ = webclip_footage.shot_frames(shot, source, 40)
    video = real_footage.write_video(tmp_path_factory.mktemp("closeup") / "closeup.avi",
                                     [frames[k] for k in CLOSEUP_PRIORS], 25.0)
    return dict(zip(CLOSEUP_PRIORS, real_footage.read_frames(video, 0, len(CLOSEUP_PRIORS)), strict=True))


def test_left_musician_cut_off_in_the_closeup_gets_one_box_not_two(closeup_frames):
    from services.tracking.cpu.detector import PeopleDetector

    detector = PeopleDetector(segmentation_proposals=False)
    for index, priors in CLOSEUP_PRIORS.items():
        boxes = detector.detect(closeup_frames[index], np.asarray(priors, float), scan=False).boxes_xyxy
        centres_x = (boxes[:, 0] + boxes[:, 2]) / 2
        assert (centres_x < 270).sum() == 1, (index, boxes.round().tolist())  # the left half of the 540 px frame
        assert (centres_x >= 270).sum() == 1, (index, boxes.round().tolist())  # the singer
