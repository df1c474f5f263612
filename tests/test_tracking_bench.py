"""The tracking benchmark's metrics (bench/tracking.py) against hand-computed values."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bench.tracking import cut_precision_recall, cuts_of, mask_iou_figures, mot_figures
from mshot.artifacts.masks import encode_mask


def test_cut_precision_recall_matches_within_one_frame_one_to_one():
    figures = cut_precision_recall(np.array([30, 61, 90]), np.array([30, 60]))
    assert figures["cut_precision"] == pytest.approx(2 / 3) and figures["cut_recall"] == 1.0
    # two predictions next to one true cut: only one of them is right
    figures = cut_precision_recall(np.array([59, 60]), np.array([60]))
    assert figures["cut_precision"] == 0.5 and figures["cut_recall"] == 1.0
    assert cut_precision_recall(np.array([], int), np.array([10]))["cut_recall"] == 0.0


def test_cuts_of_frame_shot_ids_are_the_first_frames_of_new_shots():
    np.testing.assert_array_equal(cuts_of(np.array([0, 0, 1, 1, 1, 2])), [2, 5])


def _box(x):
    return [x, 0.0, x + 10.0, 20.0]


def test_mot_figures_one_id_switch_over_two_people_and_four_frames():
    # GT a at x=0, b at x=50 in frames 0..3. Hypothesis: a is id 1 then id 2 from frame 2; b is id 3 throughout.
    gt_frame = np.repeat(np.arange(4), 2)
    gt_id = np.tile([0, 1], 4)
    gt_box = np.array([_box(0), _box(50)] * 4)
    hyp_id = np.array([1, 3, 1, 3, 2, 3, 2, 3])
    figures = mot_figures(gt_frame, gt_id, gt_box, np.ones(8, bool), gt_frame, hyp_id, gt_box + 1, 4)
    assert figures["id_switches"] == 1
    assert figures["mota"] == pytest.approx(1 - 1 / 8)
    # identity matching: a-1 (2 frames), b-3 (4 frames): IDTP 6, IDFP 2, IDFN 2 -> 12 / 16
    assert figures["idf1"] == pytest.approx(0.75)


def test_mot_figures_drop_rows_on_dont_care_people_and_count_other_extras_false():
    gt_frame, gt_id = np.array([0, 0]), np.array([0, 1])
    gt_box = np.array([_box(0), _box(50)])
    care = np.array([True, False])  # person 1 is mostly occluded
    hyp_frame, hyp_id = np.array([0, 0, 0]), np.array([5, 6, 7])
    hyp_box = np.array([_box(0), _box(50), _box(200)])  # on a, on the don't-care person, on nobody
    figures = mot_figures(gt_frame, gt_id, gt_box, care, hyp_frame, hyp_id, hyp_box, 1)
    assert figures["false_positives"] == 1 and figures["misses"] == 0
    assert figures["mota"] == pytest.approx(0.0)  # 1 - 1 FP / 1 GT


def test_mask_iou_over_matched_observed_rows():
    height, width = 20, 40
    truth = np.zeros((height, width), bool)
    truth[0:20, 0:10] = True
    half = np.zeros_like(truth)
    half[0:20, 0:5] = True
    gt = SimpleNamespace(image_size=np.array([height, width]), frame_index=np.array([0]),
                         bbox_xyxy=np.array([[0, 0, 10, 20]], float), mask_rle=np.array([encode_mask(truth)]))
    tracklets = {"observed": np.array([True, False]), "frame_index": np.array([0, 0]),
                 "bbox_xyxy": np.array([[0, 0, 10, 20], [0, 0, 10, 20]], float),
                 "mask_rle": np.array([encode_mask(half), ""])}
    figures = mask_iou_figures(gt, tracklets)
    assert figures["mask_pairs"] == 1 and figures["mask_iou_mean"] == pytest.approx(0.5)
