"""`mshot import phalp`: PHALP results of every layout -> canonical tracklets; the camera conversion proven by
reprojection; shots, predicted rows, masks; bad input refused with one line and nothing written."""

from __future__ import annotations

import pickle

import cv2
import joblib
import numpy as np
import pytest
from phalp_fixtures import phalp_results

from mshot.artifacts.tracklets import load_tracklets
from mshot.errors import InvalidInput
from mshot.geometry.camera import project
from mshot_main import main
from services.tracking.phalp.camera import joints_2d_to_pixels, transl_from_camera_bbox
from services.tracking.phalp.importer import import_phalp, read_phalp_results

TRACKS = {  # tid 3 walks, is missed in frames 8-9 (predicted rows); tid 7 appears at frame 2
    3: [(f, (40 + 6 * f, 30, 60, 150), 0) for f in range(8)] + [(8, (90, 30, 60, 150), 1), (9, (90, 30, 60, 150), 2)],
    7: [(f, (250, 50, 50, 120), 0) for f in range(2, 10)],
}


def _write(tmp_path, layout, height=360, width=480, frames=10, cuts=(5,), **kwargs):
    results, people = phalp_results(layout, TRACKS, height, width, frames, cuts=cuts, **kwargs)
    path = tmp_path / f"{layout}.pkl"
    joblib.dump(results, path, compress=3)  # as PHALP writes it
    return path, people


@pytest.mark.parametrize("height, width", [(360, 480), (481, 320), (300, 300)])
def test_camera_conversion_reprojects_phalp_3d_joints_onto_its_2d_joints(tmp_path, height, width):
    path, people = _write(tmp_path, "master", height, width)
    t = read_phalp_results(path, fps=10).tracklets
    side = max(height, width)
    left, top = (side - width) // 2, (side - height) // 2
    for row, (tid, frame) in enumerate(zip(t["person_id"], t["frame_index"], strict=True)):
        person = people[(int(tid), int(frame))]
        pixels = project(person["3d_joints"] + t["transl"][row], t["focal_px"][row], t["principal_px"][row])
        # 2d_joints are normalised over the padded max(H, W) square with the image centred in it
        expected = person["2d_joints"].reshape(-1, 2) * side - [left, top]
        np.testing.assert_allclose(pixels, expected, atol=2e-3 * side / 256)
        np.testing.assert_allclose(joints_2d_to_pixels(person["2d_joints"], height, width), expected, atol=1e-3)
    assert np.allclose(t["focal_px"], 5000 * side / 256)


def test_camera_bbox_gives_the_same_translation_as_camera(tmp_path):
    _, people = _write(tmp_path, "master", 481, 320)
    for person in people.values():
        transl = transl_from_camera_bbox(person["camera_bbox"], person["center"], person["scale"].max(), 481, 320)
        np.testing.assert_allclose(transl[0], person["camera"], rtol=1e-4)


def test_rows_shots_predicted_frames_rotations_and_masks_of_the_master_layout(tmp_path):
    path, people = _write(tmp_path, "master", cuts=(5,))
    out = tmp_path / "tracklets.npz"
    result = import_phalp(path, out, fps=10)
    t = load_tracklets(out)
    assert result.layout.name == "master" and str(t["source"]) == "phalp-import:master"
    np.testing.assert_array_equal(t["frame_shot_id"], [0] * 5 + [1] * 5)
    np.testing.assert_array_equal(t["person_id"], [3] * 10 + [7] * 8)
    np.testing.assert_array_equal(t["frame_index"], list(range(10)) + list(range(2, 10)))
    assert not t["observed"][8] and not t["observed"][9] and t["observed"][:8].all() and t["observed"][10:].all()
    assert t["det_conf"][8] == 0 and t["mask_rle"][8] == "" and np.isclose(t["det_conf"][0], 0.9)
    np.testing.assert_allclose(t["bbox_xyxy"][1], [46, 30, 106, 180])
    np.testing.assert_allclose(t["time_s"][:3], [0, 0.1, 0.2])
    first = people[(3, 0)]
    np.testing.assert_allclose(t["global_orient"][0], first["_aa"][0], atol=1e-5)
    np.testing.assert_allclose(t["body_pose"][0], first["_aa"][1:].reshape(-1), atol=1e-5)
    np.testing.assert_allclose(t["betas"][0], first["smpl"]["betas"])
    from mshot.artifacts.masks import decode_mask
    assert str(t["mask_source"]) == "phalp" and decode_mask(t["mask_rle"][0], 360, 480)[30:180, 40:100].all()


def test_old_layouts_with_torch_embeddings_are_detected_and_say_what_they_lack(tmp_path):
    torch = pytest.importorskip("torch")
    for written, layout, masks in (("pypi-0.1.3", "pypi-0.1.3", "phalp"), ("v1.1-head", "v1.1", "phalp"),
                                   ("v1.1", "v1.1", "none")):
        path, _ = _write(tmp_path, written, embedding=lambda: torch.zeros(4102))
        result = read_phalp_results(path, fps=25)
        assert result.layout.name == layout and str(result.tracklets["mask_source"]) == masks
        assert str(result.tracklets["source"]) == f"phalp-import:{layout}"
    assert any("no instance masks" in note for note in result.notes)
    assert (result.tracklets["mask_rle"] == "").all()


def _video(path, frames, height=360, width=480):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 12, (width, height))
    for f in range(frames):
        writer.write(np.full((height, width, 3), 40 + 10 * f, np.uint8))
    writer.release()
    return path


def test_with_the_video_fps_comes_from_it_and_maskless_layouts_get_computed_masks(tmp_path):
    path, _ = _write(tmp_path, "v1.1")
    result = read_phalp_results(path, video=_video(tmp_path / "v.avi", 10))
    assert float(result.tracklets["fps"]) == 12 and str(result.tracklets["mask_source"]) == "segmentation"
    assert any("BlazePose segmentations computed" in note for note in result.notes)


@pytest.mark.parametrize("make, message", [
    (lambda tmp: _video(tmp / "v.avi", 12), "cover 10 frames, the video .* has 12"),
    (lambda tmp: _video(tmp / "v.avi", 10, 360, 640), "are for 480x360 frames, the video is 640x360"),
])
def test_results_that_do_not_match_the_video_are_refused(tmp_path, make, message):
    path, _ = _write(tmp_path, "master")
    with pytest.raises(InvalidInput, match=message):
        read_phalp_results(path, video=make(tmp_path))


class _Foreign:
    pass


@pytest.mark.parametrize("content, message", [
    ({}, "empty dict: no frames"),
    ([1, 2], "holds a list; PHALP results are a dict keyed by frame"),
    ({"a.jpg": {"time": 0, "people": []}}, "unknown layout: the frame records lack shot, tid"),
    ({"a.jpg": {"time": 0, "shot": 0, "obj": _Foreign()}}, "test_phalp_import._Foreign', which is not allowed"),
    (b"not a pickle at all", "is not a pickle"),
])
def test_bad_pickles_exit_2_with_one_line_and_write_nothing(tmp_path, capsys, content, message):
    path = tmp_path / "bad.pkl"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(pickle.dumps(content, protocol=4))
    out = tmp_path / "tracklets.npz"
    assert main(["import", "phalp", str(path), "--fps", "10", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("mshot: error: ")
    assert __import__("re").search(message, err), err
    assert list(tmp_path.iterdir()) == [path]


def test_per_person_lists_of_unequal_length_are_refused(tmp_path):
    results, _ = phalp_results("master", TRACKS, 360, 480, 10)
    next(iter(results.values()))["camera"].append(np.ones(3))
    joblib.dump(results, tmp_path / "r.pkl")
    with pytest.raises(InvalidInput, match="frame 0: per-person lists camera do not match 'tid'"):
        read_phalp_results(tmp_path / "r.pkl", fps=10)


def test_cli_imports_and_reports_the_layout(tmp_path, capsys):
    path, _ = _write(tmp_path, "master")
    out = tmp_path / "t.npz"
    assert main(["import", "phalp", str(path), "--fps", "10", "--out", str(out)]) == 0
    assert "layout master, 2 people, 18 rows, 10 frames, 2 shots, masks: phalp" in capsys.readouterr().out
    assert main(["import", "phalp", str(path), "--out", str(out)]) == 2  # no video, no fps


def test_focal_at_a_given_value_scales_depth_and_keeps_the_translation_point_on_its_pixel():
    from services.tracking.phalp.camera import transl_at_focal

    # PHALP's camera on 640 x 480 frames: 5000 * 640 / 256 = 12500 px; a lens of 625 px sees the person at
    # 0.05 times the depth, same x and y: u = 12500 * 0.5 / 50 + 320 = 625 * 0.5 / 2.5 + 320 = 445 px,
    # v = 625 * -0.25 / 2.5 + 240 = 177.5 px
    moved = transl_at_focal(np.array([[0.5, -0.25, 50.0]]), 12500.0, 625.0)
    np.testing.assert_allclose(moved, [[0.5, -0.25, 2.5]])
    principal = np.array([320.0, 240.0])
    np.testing.assert_allclose(project(moved[:, None], 625.0, principal)[0, 0], [445.0, 177.5])
    np.testing.assert_allclose(project(np.array([[[0.5, -0.25, 50.0]]]), 12500.0, principal)[0, 0], [445.0, 177.5])


def test_import_with_a_given_focal_writes_it_and_keeps_people_where_phalp_sees_them(tmp_path, capsys):
    path, people = _write(tmp_path, "master")  # 480 x 360: PHALP's focal 5000 * 480 / 256 = 9375 px
    plain = read_phalp_results(path, fps=10).tracklets
    result = read_phalp_results(path, fps=10, focal_px=600.0)
    t = result.tracklets
    assert np.allclose(t["focal_px"], 600.0) and str(t["focal_source"]) == "given"
    assert str(plain["focal_source"]) == "phalp" and np.allclose(plain["focal_px"], 9375.0)
    np.testing.assert_allclose(t["transl"][:, :2], plain["transl"][:, :2])
    np.testing.assert_allclose(t["transl"][:, 2], plain["transl"][:, 2] * 600.0 / 9375.0, rtol=1e-6)
    assert any("scaled by 0.064" in note for note in result.notes)
    for row, (tid, frame) in enumerate(zip(t["person_id"], t["frame_index"], strict=True)):
        person = people[(int(tid), int(frame))]
        expected = person["2d_joints"].reshape(-1, 2) * 480 - [0, 60]
        pixels = project(person["3d_joints"] + t["transl"][row], 600.0, t["principal_px"][row])
        np.testing.assert_allclose(pixels[44], expected[44], atol=1e-2)  # PHALP's appended zero joint: t itself
    with pytest.raises(InvalidInput, match=r"focal_px=20 px is out of range for 480x360 frames: expected 48 to"):
        read_phalp_results(path, fps=10, focal_px=20.0)
    out = tmp_path / "given.npz"
    assert main(["import", "phalp", str(path), "--out", str(out), "--fps", "10", "--focal-px", "600"]) == 0
    assert "scaled by 0.064" in capsys.readouterr().out and np.allclose(load_tracklets(out)["focal_px"], 600.0)
