"""BlazePose per person crop -> BODY_25 (mshot/pose2d/blazepose.py): the landmark mapping (person-centric left
and right), the crop window, the real model on real footage (the sample video, built from OpenCV's vtest.avi by
`make sample`), and the error when the bundled model cannot be loaded."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from mshot.errors import FailedPrecondition
from mshot.pose2d.blazepose import (
    BlazePoseBody25,
    blazepose_to_body25,
    crop_window,
    mirrored_crop,
    unseen_outside_image,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "multishot_sample.mp4"
# Three walkers in frame 0 of the sample video (boxes from the CPU tracker's detector), px xyxy.
SAMPLE_BOXES = np.array([[416, 11, 441, 74], [212, 64, 236, 137], [533, 81, 570, 149]], float)


def test_each_body25_joint_takes_the_same_sided_blazepose_landmark():
    landmarks = np.stack([np.arange(33), np.zeros(33)], axis=1).astype(float)  # x = landmark index
    body25 = blazepose_to_body25(landmarks, np.ones(33))
    # BlazePose: 2 left eye, 5 right eye, 7 left ear, 8 right ear, 11/12 shoulders L/R, 13/14 elbows, 15/16 wrists,
    # 23/24 hips, 25/26 knees, 27/28 ankles, 29/30 heels, 31/32 foot index (big toe)
    expected = {0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 9: 24, 10: 26, 11: 28, 12: 23, 13: 25, 14: 27,
                15: 5, 16: 2, 17: 8, 18: 7, 19: 31, 21: 29, 22: 32, 24: 30, 1: 11.5, 8: 23.5, 20: 31, 23: 32}
    for joint, x in expected.items():
        assert body25[joint, 0] == pytest.approx(x), joint


def test_crop_window_is_a_square_around_the_box_enlarged_and_clipped():
    assert crop_window(np.array([100.0, 50, 120, 90]), 360, 640, 1.5) == (80, 40, 140, 100)  # side 40 * 1.5
    assert crop_window(np.array([0.0, 0, 20, 40]), 360, 640, 1.5) == (0, 0, 40, 50)  # clipped at the corner
    # a person larger than the frame: the whole frame
    assert crop_window(np.array([-100.0, -200, 700, 600]), 360, 640, 1.3) == (0, 0, 640, 360)


def test_a_mirrored_window_is_unclipped_at_the_sides_and_its_crop_mirrors_the_image_across_the_edge():
    # box x 90-110 of a 100 px wide image, 20 px tall, context 1.5: window 30 px about (100, 20)
    assert crop_window(np.array([90.0, 10, 110, 30]), 40, 100, 1.5, mirror_sides=True) == (85, 5, 115, 35)
    assert crop_window(np.array([90.0, 10, 110, 30]), 40, 100, 1.5) == (85, 5, 100, 35)
    assert crop_window(np.array([150.0, 10, 190, 30]), 40, 100, 1.5, mirror_sides=True) is None  # all beyond
    image = np.arange(6, dtype=np.uint8)[None, :, None].repeat(2, axis=0).repeat(3, axis=2)  # (2, 6, 3): columns 0..5
    np.testing.assert_array_equal(mirrored_crop(image, (3, 0, 9, 2))[0, :, 0], [3, 4, 5, 5, 4, 3])
    np.testing.assert_array_equal(mirrored_crop(image, (-2, 0, 2, 2))[0, :, 0], [1, 0, 0, 1])
    np.testing.assert_array_equal(mirrored_crop(image, (1, 1, 4, 2))[0, :, 0], [1, 2, 3])  # inside: as is


def test_keypoints_outside_the_image_keep_their_place_with_zero_confidence():
    keypoints = np.full((1, 25, 3), 0.9, np.float32)
    keypoints[0, :, :2] = (50, 30)
    keypoints[0, 8, :2] = (50, 60.2)  # mid-hip below the bottom of a 60 px tall image
    keypoints[0, 4, :2] = (99.6, 10)  # right wrist right of the last pixel (width 100)
    keypoints[0, 3, :2] = (99.4, 59.4)  # on the last pixel
    seen = unseen_outside_image(keypoints, 60, 100)
    assert seen[0, [8, 4], 2].tolist() == [0, 0] and (np.delete(seen[0, :, 2], [8, 4]) == np.float32(0.9)).all()
    np.testing.assert_array_equal(seen[..., :2], keypoints[..., :2])


def test_crop_window_is_none_when_too_little_of_the_box_is_inside_the_image():
    for box in ([700.0, 10, 760, 100],  # beyond the right border
                [-90.0, 100, -30, 200],  # beyond the left border
                [50.0, 50, 50, 50],  # zero area
                [50.0, 50, 52, 53],  # a few pixels: under MIN_CROP_PX even enlarged
                [np.nan, 0, 10, 10]):
        assert crop_window(np.array(box), 360, 640, 1.3) is None, box


def test_boxes_outside_or_degenerate_give_no_person_instead_of_an_error(pose):
    frame = np.full((360, 640, 3), 90, np.uint8)
    boxes = np.array([[700.0, 10, 760, 100], [-90, 100, -30, 200], [50, 50, 50, 50], [0, 359, 640, 360]])
    keypoints, masks = pose.estimate(frame, boxes)
    assert keypoints.shape == (4, 25, 3) and not keypoints.any() and not masks.any()


@pytest.fixture(scope="module")
def sample_frame():
    if not SAMPLE.is_file():
        pytest.skip(f"{SAMPLE} not built (make sample)")
    from mshot.video import read_frame

    return read_frame(SAMPLE, 0)


@pytest.fixture(scope="module")
def pose():
    model = BlazePoseBody25()
    yield model
    model.close()


def test_real_walkers_get_plausible_body25_poses_inside_their_boxes(sample_frame, pose):
    keypoints, masks = pose.estimate(sample_frame, SAMPLE_BOXES)
    assert keypoints.shape == (3, 25, 3) and masks.shape == (3, 360, 640)
    for person, box in zip(keypoints, SAMPLE_BOXES, strict=True):
        assert (person[:, 2] > 0.5).sum() >= 18
        width, height = box[2] - box[0], box[3] - box[1]
        assert (person[:, 0] > box[0] - 0.3 * width).all() and (person[:, 0] < box[2] + 0.3 * width).all()
        assert (person[:, 1] > box[1] - 0.2 * height).all() and (person[:, 1] < box[3] + 0.2 * height).all()
        assert person[0, 1] < person[8, 1] < min(person[11, 1], person[14, 1])  # nose above hips above ankles
        np.testing.assert_allclose(person[1, :2], (person[2, :2] + person[5, :2]) / 2, atol=1e-3)  # neck
    inside = [masks[k, int(b[1]):int(b[3]), int(b[0]):int(b[2])].mean() for k, b in enumerate(SAMPLE_BOXES)]
    assert min(inside) > 0.2 and masks.mean() < 0.01  # each mask covers its walker, not the frame


def test_the_same_call_gives_metric_world_landmarks_about_the_hips(sample_frame, pose):
    keypoints, _, world = pose.estimate_with_world(sample_frame, SAMPLE_BOXES)
    assert world.shape == (3, 33, 4)
    np.testing.assert_array_equal(keypoints, pose.estimate(sample_frame, SAMPLE_BOXES)[0])
    for person in world:
        assert np.linalg.norm(person[[23, 24], :3].mean(0)) < 0.05  # origin: the centre of the hips, metres
        assert 0.3 < person[24, 1] - person[12, 1] < 0.8  # right hip 0.3-0.8 m below the right shoulder (y down)
        assert 0.0 <= person[:, 3].min() and person[:, 3].max() <= 1.0


def test_without_masks_the_keypoints_are_the_same_and_no_box_gives_no_people(sample_frame, pose):
    fast = BlazePoseBody25(with_masks=False)
    try:
        keypoints, masks = fast.estimate(sample_frame, SAMPLE_BOXES[:1])
        reference, _ = pose.estimate(sample_frame, SAMPLE_BOXES[:1])
        np.testing.assert_allclose(keypoints[..., :2], reference[..., :2], atol=2.0)
        assert not masks.any()
        empty, no_masks = fast.estimate(sample_frame, np.zeros((0, 4)))
        assert empty.shape == (0, 25, 3) and no_masks.shape == (0, 360, 640)
    finally:
        fast.close()


def test_missing_mediapipe_is_a_failed_precondition(monkeypatch):
    monkeypatch.setitem(sys.modules, "mediapipe", None)
    with pytest.raises(FailedPrecondition, match="BlazePose"):
        BlazePoseBody25()


RUNNER = Path(__file__).resolve().parents[2] / "shared" / "real_clips" / "runner_1person.mp4"
RUNNER_BOX = np.array([520.0, 209, 796, 830])  # the runner in frame 0 (the CPU tracker's box), px xyxy
RUNNER_MID_HIP_Y = 521  # px, her mid-hip in frame 0 (BlazePose on the whole frame)


def test_a_runner_cut_off_at_the_hips_gets_her_upper_body_and_unseen_legs(pose):
    if not RUNNER.is_file():
        pytest.skip(f"{RUNNER} not present (../shared/real_clips/)")
    from mshot.video import read_frame

    frame = read_frame(RUNNER, 0)
    whole, _ = pose.estimate(frame, RUNNER_BOX[None])
    top = np.ascontiguousarray(frame[:RUNNER_MID_HIP_Y])  # the frame edge through her hips
    cut, _ = pose.estimate(top, np.array([[*RUNNER_BOX[:3], RUNNER_MID_HIP_Y]]))
    head_and_shoulders = [0, 1, 2, 5, 15, 16, 17, 18]  # nose, neck, shoulders, eyes, ears
    assert (cut[0, head_and_shoulders, 2] > 0.5).all()
    assert np.median(np.linalg.norm(cut[0, head_and_shoulders, :2] - whole[0, head_and_shoulders, :2], axis=1)) < 10.0
    assert (cut[0, [10, 11, 13, 14], 2] == 0).all()  # knees and ankles: below the edge, unseen
    seen = cut[0, :, 2] > 0
    assert (cut[0, seen, 1] <= RUNNER_MID_HIP_Y - 0.5).all()  # every keypoint with a confidence is in the image
