"""The committed rendered ground-truth videos (tests/data/gt_video, tests/data/gt_video2) are self-consistent:
masks, boxes, keypoints, 3D joints, shots and the video itself agree with each other."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bench.ground_truth import MIN_VISIBLE_PX, load_ground_truth
from mshot.artifacts.masks import decode_mask
from mshot.geometry.camera import project
from mshot.video import iter_frames, probe_video

DATA = Path(__file__).resolve().parent / "data"
# stem -> frames, cuts, people
VIDEOS = {"gt_video": (120, [34, 62, 92], 4), "gt_video2": (168, [40, 84, 124], 3)}


@pytest.fixture(scope="module", params=sorted(VIDEOS))
def video(request):
    """(stem, video path, ground truth) of each committed video."""
    return request.param, DATA / request.param / f"{request.param}.mp4", load_ground_truth(
        DATA / request.param / f"{request.param}.npz")


@pytest.fixture(scope="module")
def gt(video):
    return video[2]


def test_video_matches_the_annotations_size_length_and_rate(video):
    stem, path, gt = video
    info = probe_video(path)
    assert (info.height, info.width) == tuple(gt.image_size) == (360, 640)
    assert info.num_frames == gt.num_frames == len(gt.frame_shot_id) == VIDEOS[stem][0]
    assert info.fps == pytest.approx(gt.fps)


def test_shot_ids_start_at_zero_and_step_by_one_at_the_cuts(video):
    stem, _, gt = video
    steps = np.diff(gt.frame_shot_id)
    assert gt.frame_shot_id[0] == 0 and set(np.unique(steps)) <= {0, 1}
    np.testing.assert_array_equal(gt.cut_frames, VIDEOS[stem][1])


def test_the_picture_changes_most_at_the_annotated_cuts(video):
    _, path, gt = video
    previous, change = None, []
    for _, frame in iter_frames(path):
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY).astype(np.float32)
        change.append(0.0 if previous is None else float(np.abs(grey - previous).mean()))
        previous = grey
    change = np.asarray(change)
    within = np.delete(change, [0, *gt.cut_frames])
    assert change[gt.cut_frames].min() > 2 * within.max()


def test_rows_are_sorted_unique_person_frames_with_masks_that_match_their_boxes(gt):
    order = np.lexsort((gt.frame_index, gt.person_id))
    np.testing.assert_array_equal(order, np.arange(len(order)))
    assert len(set(zip(gt.person_id.tolist(), gt.frame_index.tolist(), strict=True))) == len(order)
    height, width = (int(v) for v in gt.image_size)
    for frame in np.unique(gt.frame_index)[::7]:
        rows = np.flatnonzero(gt.frame_index == frame)
        masks = np.stack([decode_mask(str(gt.mask_rle[r]), height, width) for r in rows])
        assert masks.shape[1:] == (height, width)
        assert not (masks.sum(0) > 1).any()  # visible masks never overlap
        for r, mask in zip(rows, masks, strict=True):
            assert mask.sum() >= MIN_VISIBLE_PX
            ys, xs = np.nonzero(mask)
            np.testing.assert_array_equal(gt.bbox_xyxy[r], [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])


def test_visible_keypoints_lie_in_the_box_and_project_from_the_3d_joints(gt):
    keypoints, joints = gt.keypoints_body25, gt.joints3d_cam_body25
    frames = gt.frame_index
    projected = project(joints, gt.camera_focal_px[frames], gt.camera_principal_px[frames])
    np.testing.assert_allclose(projected, keypoints[..., :2], atol=1e-3)
    visible = keypoints[..., 2] > 0
    box = gt.bbox_xyxy[:, None, :]
    margin = 3.0  # a visible joint is within 2 px of the person's own pixels
    inside = ((keypoints[..., 0] >= box[..., 0] - margin) & (keypoints[..., 0] <= box[..., 2] + margin)
              & (keypoints[..., 1] >= box[..., 1] - margin) & (keypoints[..., 1] <= box[..., 3] + margin))
    assert inside[visible].all()
    height, width = (int(v) for v in gt.image_size)
    outside = ((keypoints[..., 0] < 0) | (keypoints[..., 0] > width - 1) | (keypoints[..., 1] < 0)
               | (keypoints[..., 1] > height - 1))
    assert not visible[outside].any()
    assert visible.mean() > 0.7 and (joints[..., 2] > 0).all()


def test_each_persons_joints_span_most_of_their_height(gt):
    # ankle to eye is about 80-90 % of the body's height (the eye lies ~0.12 m below the crown, ankles ~0.08 m up)
    span = np.linalg.norm(gt.joints3d_cam_body25[:, 16] - gt.joints3d_cam_body25[:, 14], axis=-1)
    for person, height in enumerate(gt.person_height_m):
        assert 0.75 < np.median(span[gt.person_id == person]) / height < 0.95


def test_visible_fraction_is_a_fraction_and_occlusions_happen(video):
    stem, _, gt = video
    assert ((gt.visible_fraction > 0) & (gt.visible_fraction <= 1.0 + 1e-6)).all()
    assert (gt.visible_fraction < 0.5).sum() >= 10  # people pass behind each other and behind pillars
    people = VIDEOS[stem][2]
    assert np.bincount(gt.frame_index).max() == people and len(gt.person_height_m) == people
