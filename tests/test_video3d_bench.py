"""The end-to-end 3D benchmark's scoring (bench/scoring3d.py, bench/video3d.py) against hand-computed values."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench import metrics3d
from bench.ground_truth import load_ground_truth, truncate_ground_truth
from bench.scoring3d import (
    axis_errors_mm,
    figures,
    match_rows,
    root_errors,
    split_people,
    track_people,
)
from bench.video3d import fit_table, focal_by_shot, focal_line, prepare_work, stages_to_run
from services.multishot.rows import consecutive_runs


def _box(x):
    return [x, 0.0, x + 10.0, 20.0]


def _gt(frames, people, xs):
    return SimpleNamespace(frame_index=np.array(frames), person_id=np.array(people),
                           bbox_xyxy=np.array([_box(x) for x in xs]))


def test_a_track_is_given_its_most_frequent_person_and_scores_only_where_it_is_on_that_person():
    # GT: person 0 at x=0 in frames 0-3, person 1 at x=100 in frames 0-3.
    gt = _gt([0, 1, 2, 3, 0, 1, 2, 3], [0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 100, 100, 100, 100])
    # track 7 on person 0 in frames 0-2, then on person 1 in frame 3; track 9 on person 1 in frames 0-2;
    # track 9's frame-3 row lies far from everyone.
    rows = {"person_id": np.array([7, 7, 7, 7, 9, 9, 9, 9]), "frame_index": np.array([0, 1, 2, 3, 0, 1, 2, 3]),
            "bbox_xyxy": np.array([_box(x) for x in (0, 1, 0, 100, 100, 101, 100, 300)], float)}
    matched = match_rows(rows, gt)
    assert matched.track_person == {7: 0, 9: 1}
    assert matched.pred_row.tolist() == [0, 1, 2, 4, 5, 6]  # row 3 (track 7 on person 1) and row 7 dropped
    assert matched.gt_row.tolist() == [0, 1, 2, 4, 5, 6]
    assert split_people(matched.track_person) == {}


def test_a_person_given_to_two_tracks_is_split_and_ties_go_to_the_lower_person_id():
    people = track_people(np.array([1, 1, 2, 2, 3, 3, 4]), np.array([0, 0, 0, -1, 1, 0, -1]))
    assert people == {1: 0, 2: 0, 3: 0}  # track 3: one row each of people 0 and 1; track 4 never paired
    assert split_people(people) == {0: [1, 2, 3]}


def test_runs_break_at_a_new_track_a_new_shot_and_a_frame_gap():
    track = np.array([0, 0, 0, 0, 0, 1, 1])
    frame = np.array([0, 1, 2, 4, 5, 5, 6])
    shot = np.array([0, 0, 1, 1, 1, 1, 1])
    assert consecutive_runs(track, frame, shot).tolist() == [0, 0, 1, 2, 2, 3, 3]


def test_root_error_in_mm_and_as_a_fraction_of_the_true_root_distance():
    true = np.zeros((3, 2, 3))
    true[:, 0] = [0.0, 0.0, 10.0]
    pred = true.copy()
    pred[:, 0] += [[0.3, 0.4, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.2]]  # 500, 1000 and 200 mm off
    root_mm, fraction = root_errors(pred, true)
    assert root_mm == pytest.approx(500.0)
    assert fraction == pytest.approx(0.05)


def test_axis_errors_are_root_relative_so_a_shifted_body_has_none():
    true = np.array([[[0.0, 0.0, 5.0], [0.0, -0.5, 5.0], [0.2, 0.0, 5.0]]])
    pred = true + [1.0, 2.0, 3.0]  # the whole body moved: no root-relative error
    assert axis_errors_mm(pred, true) == pytest.approx([0.0, 0.0, 0.0])
    pred[0, 2] += [0.0, 0.0, 0.1]  # one joint 100 mm deeper: mean over 2 joints x 1 frame
    assert axis_errors_mm(pred, true) == pytest.approx([0.0, 0.0, 50.0])


def test_acceleration_error_counts_only_triples_inside_one_run():
    true = np.zeros((7, 2, 3))
    true[:, 0] = [0.0, 0.0, 5.0]
    true[:, 1] = [0.0, 1.0, 5.0]
    pred = true.copy()
    pred[1, 1, 0] += 0.01  # run 0: second difference of joint 1 off by 20 mm in its one triple
    pred[3, 1, 0] += 0.5  # run 1 has 2 rows: no triple, ignored
    runs = np.array([0, 0, 0, 1, 1, 2, 2])
    result = figures(pred, true, runs, gt_rows_total=14)
    assert result["accel_mm_f2"] == pytest.approx(10.0)  # (20 + 0) / 2 joints, one triple
    assert result["coverage"] == pytest.approx(0.5)
    assert result["frames"] == 7


def test_procrustes_removes_rotation_scale_and_shift_but_mpjpe_keeps_the_rotation():
    true = np.array([[[0.0, 0.0, 4.0], [0.0, -0.5, 4.0], [0.3, 0.0, 4.0], [0.0, 0.4, 4.2]]] * 3)
    turn = np.array([[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])  # 90 degrees about y
    pred = 1.2 * (true - true[:, :1]) @ turn.T + [0.5, 0.0, 1.0]
    result = figures(pred, true, np.zeros(3, int), gt_rows_total=3)
    assert result["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)
    # root-relative: joint 1 (0,-0.5,0) -> (0,-0.6,0): 100 mm; joint 2 (0.3,0,0) -> (0,0,-0.36): |(0.3,0,0.36)|;
    # joint 3 (0,0.4,0.2) -> (0.24,0.48,0): |(0.24,0.08,0.2)|; root 0. Mean over 4 joints.
    expected = (100.0 + np.hypot(300.0, 360.0) + np.linalg.norm([240.0, 80.0, 200.0])) / 4
    assert result["mpjpe_mm"] == pytest.approx(expected)
    assert metrics3d.pa_mpjpe_mm(pred, true) == pytest.approx(0.0, abs=1e-6)


def test_stages_run_from_the_first_missing_or_rerun_stage_and_none_when_all_are_kept():
    kept = {"tracklets": 1, "keypoints": 2, "fits": 3}
    assert stages_to_run(kept, None, dataset=True) == ()
    assert stages_to_run(kept, "multishot", dataset=False) == ("multishot",)
    assert stages_to_run({"tracklets": 1}, None, dataset=True) == ("keypoints", "multishot", "dataset")
    assert stages_to_run({"tracklets": 1, "fits": 3}, "multishot", dataset=False) == ("keypoints", "multishot")


def test_fit_rows_keep_only_valid_rows_with_their_tracklet_box_and_person_betas():
    tracklets = {"person_id": np.array([0, 0, 5]), "frame_index": np.array([3, 4, 3]),
                 "bbox_xyxy": np.array([_box(0), _box(1), _box(2)], float)}
    fits = {"person_id": np.array([0, 0, 5]), "frame_index": np.array([3, 4, 3]), "shot_id": np.zeros(3, int),
            "valid": np.array([True, False, True]), "global_orient": np.zeros((3, 3)), "body_pose": np.zeros((3, 69)),
            "transl": np.arange(9.0).reshape(3, 3), "reproj_px": np.ones(3), "betas_person_id": np.array([0, 5]),
            "betas": np.stack([np.zeros(10), np.ones(10)])}
    table = fit_table(fits, tracklets)
    assert table["bbox_xyxy"].tolist() == [_box(0), _box(2)]
    assert table["betas"][:, 0].tolist() == [0.0, 1.0]
    assert table["transl"].tolist() == [[0.0, 1.0, 2.0], [6.0, 7.0, 8.0]]


def test_focal_per_shot_is_the_fit_rows_median_against_the_rendered_cameras_by_the_true_shot_of_each_frame():
    gt = SimpleNamespace(frame_shot_id=np.array([0, 0, 1, 1]), camera_focal_px=np.array([560.0, 560.0, 820.0, 820.0]))
    fits = {"frame_index": np.array([0, 1, 2, 3, 3]), "focal_px": np.array([640.0, 640.0, 640.0, 700.0, 700.0])}
    focal = focal_by_shot(fits, gt)
    assert focal == {0: (640.0, 560.0), 1: (700.0, 820.0)}
    assert focal_line(focal).endswith("0: 640 / 560 (+14%), 1: 700 / 820 (-15%)")


def test_truncated_ground_truth_keeps_the_first_frames_and_their_rows():
    gt = load_ground_truth("tests/data/gt_video/gt_video.npz")
    short = truncate_ground_truth(gt, 10)
    assert short.num_frames == 10 and len(short.frame_shot_id) == 10 and len(short.camera_world_to_cam) == 10
    assert short.frame_index.max() == 9
    assert len(short.person_id) == int((gt.frame_index < 10).sum()) == len(short.joints3d_cam_body25)


def test_a_kept_folder_is_refused_for_another_video_or_frame_count(tmp_path):
    video = Path("tests/data/gt_video/gt_video.mp4")
    assert prepare_work(tmp_path, video, 0) == video
    assert prepare_work(tmp_path, video, 0) == video  # the same settings again: reused
    with pytest.raises(SystemExit, match="use another --keep folder"):
        prepare_work(tmp_path, video, 40)


def _tracklets_at(path: Path, focal_px: float, source: str | None) -> Path:
    from mshot.artifacts.tracklets import save_tracklets

    rows = {"source": "cpu", "image_size": [480, 640], "fps": 25.0, "num_frames": 1, "frame_shot_id": [0],
            "mask_source": "none", "person_id": [0], "frame_index": [0], "time_s": [0.0], "shot_id": [0],
            "observed": [True], "bbox_xyxy": [[0, 0, 10, 10]], "det_conf": [1.0], "mask_rle": [""],
            "global_orient": np.zeros((1, 3)), "body_pose": np.zeros((1, 69)), "betas": np.zeros((1, 10)),
            "transl": [[0, 0, 3.0]], "focal_px": [focal_px], "principal_px": [[320.0, 240.0]]}
    return save_tracklets(path, {**rows, **({"focal_source": source} if source else {})})


def test_kept_tracking_output_from_another_focal_than_asked_is_refused(tmp_path):
    from bench.video3d import check_kept_focal

    given = _tracklets_at(tmp_path / "given.npz", 600.0, "given")
    older = _tracklets_at(tmp_path / "older.npz", 640.0, None)  # before focal_source: max(H, W) assumed
    check_kept_focal(given, 600.0)
    check_kept_focal(older, 0.0)
    check_kept_focal(_tracklets_at(tmp_path / "assumed.npz", 640.0, "assumed"), 0.0)
    for path, focal, says in ((given, 620.0, "focal length 600 px (given), this run asks for --focal-px 620"),
                              (given, 0.0, "asks for no --focal-px"), (older, 640.0, "asks for --focal-px 640")):
        with pytest.raises(SystemExit, match=re.escape(says) + ".*add --rerun tracking or use another --keep folder"):
            check_kept_focal(path, focal)
