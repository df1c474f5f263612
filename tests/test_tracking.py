"""Tracking stage: shot cuts, association across frames and cuts, the CPU tracker on real footage, the
tracklets artifact's validation."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from mshot.artifacts.masks import decode_mask, encode_mask
from mshot.artifacts.tracklets import load_tracklets
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.npzio import load_npz, save_npz
from mshot.shots import detect_shots
from services.tracking.cpu.association import AssociationOptions, Associator
from services.tracking.cpu.detector import Detections, box_iou, non_max_suppression

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "multishot_sample.mp4"
COLOURS = [(0, 0, 200), (200, 0, 0), (0, 200, 0)]


def _frame_with(people) -> tuple[np.ndarray, Detections]:
    """people: list of (colour index, x0); draws coloured figures and returns matching detections."""
    frame = np.full((120, 240, 3), 128, np.uint8)
    boxes, masks = [], []
    for colour, x0 in people:
        cv2.rectangle(frame, (x0, 20), (x0 + 30, 100), COLOURS[colour], -1)
        mask = np.zeros((120, 240), bool)
        mask[20:101, x0:x0 + 31] = True
        boxes.append([x0, 20, x0 + 31, 101])
        masks.append(mask)
    keypoints = np.zeros((len(people), 25, 3), np.float32)
    return frame, Detections(np.asarray(boxes, np.float32).reshape(-1, 4), np.ones(len(people), np.float32),
                             keypoints, np.asarray(masks).reshape(-1, 120, 240))


def test_iou_and_nms_on_hand_made_boxes():
    a = np.array([[0, 0, 10, 10]], float)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30]], float)
    np.testing.assert_allclose(box_iou(a, b), [[50 / 150, 0.0]])
    boxes = np.array([[0, 0, 10, 10], [1, 0, 11, 10], [50, 50, 60, 60]], float)
    np.testing.assert_array_equal(sorted(non_max_suppression(boxes, np.array([0.9, 0.8, 0.7]), 0.5)), [0, 2])


def test_identities_survive_motion_and_a_cut_that_swaps_positions():
    associator = Associator(AssociationOptions(n_init=2))
    for f in range(6):  # shot 0: red left, blue right, walking right
        frame, dets = _frame_with([(0, 20 + 3 * f), (1, 150 + 3 * f)])
        associator.update(f, 0, frame, dets)
    for f in range(6, 10):  # shot 1: the camera moved, blue is now on the left
        frame, dets = _frame_with([(1, 30), (0, 170)])
        associator.update(f, 1, frame, dets)
    tracks = associator.confirmed_tracks()
    assert len(tracks) == 2
    for track in tracks:
        xs = [o.box[0] for o in track.observations]
        assert len(track.observations) == 10
        assert (xs[0] < 100) == (xs[-1] > 100)  # each identity changed side at the cut


def test_a_one_frame_false_positive_never_becomes_a_track():
    associator = Associator(AssociationOptions(n_init=3))
    for f in range(5):
        people = [(0, 20)] + ([(2, 150)] if f == 2 else [])
        frame, dets = _frame_with(people)
        associator.update(f, 0, frame, dets)
    assert len(associator.confirmed_tracks()) == 1


def test_rle_round_trip():
    mask = np.zeros((30, 40), bool)
    mask[5:20, 10:33] = True
    np.testing.assert_array_equal(decode_mask(encode_mask(mask), 30, 40), mask)
    assert not decode_mask("", 30, 40).any()


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    """The CPU tracker on the first 50 frames of the sample video (a real clip with one cut at frame 40)."""
    from mshot.body.generate import write_generated_smpl_model
    from services.tracking.engine import TrackingEngine, TrackingOptions, TrackingSettings

    folder = tmp_path_factory.mktemp("track")
    clip = folder / "clip.avi"
    reader = cv2.VideoCapture(str(SAMPLE))
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for _ in range(50):
        ok, frame = reader.read()
        assert ok, f"sample video missing or short: {SAMPLE} (make sample)"
        writer.write(frame)
    writer.release()
    model = write_generated_smpl_model(folder / "model.pkl")
    engine = TrackingEngine(TrackingSettings(backend="cpu", body_model=str(model)))
    out = engine.run({"video": clip}, TrackingOptions(), folder, lambda f, m="": None)
    return load_tracklets(out.outputs["tracklets"]), engine, clip, out.summary


def test_cpu_tracker_finds_the_cut_and_the_people_of_real_footage(tracked):
    tracklets, _, _, summary = tracked
    cuts = np.flatnonzero(np.diff(tracklets["frame_shot_id"])) + 1
    np.testing.assert_array_equal(cuts, [40])
    persons = np.unique(tracklets["person_id"])
    assert 2 <= len(persons) <= 8
    observed = tracklets["observed"]
    assert observed.mean() > 0.7
    assert all(tracklets["mask_rle"][observed])  # every observed row has a segmentation mask
    assert (tracklets["transl"][:, 2] > 1.0).all()  # initial bodies in front of the camera
    assert summary["people"] == len(persons)


def test_shot_detection_on_generated_cuts(tmp_path):
    path = tmp_path / "cuts.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (160, 120))
    rng = np.random.default_rng(0)
    for shot, length in enumerate((15, 12, 20)):
        base = rng.integers(0, 255, size=(120, 160, 3), dtype=np.uint8)
        base = cv2.GaussianBlur(base, (31, 31), 0) * (shot + 1) // 3
        for f in range(length):
            writer.write(np.roll(base, f, axis=1).astype(np.uint8))
    writer.release()
    shots = detect_shots(path, 47)
    np.testing.assert_array_equal(np.flatnonzero(np.diff(shots)) + 1, [15, 27])


@pytest.mark.skipif(__import__("importlib").util.find_spec("phalp") is not None, reason="PHALP is installed")
def test_phalp_backend_is_refused_with_failed_precondition_when_phalp_is_not_installed(tracked):
    from services.tracking.engine import TrackingOptions

    _, engine, clip, _ = tracked
    with pytest.raises(FailedPrecondition, match="PHALP tracking backend is not installed"):
        engine.run({"video": clip}, TrackingOptions(backend="phalp"), clip.parent, lambda f, m="": None)


def test_tracklets_with_unsorted_rows_or_wrong_shots_are_refused(tracked, tmp_path):
    tracklets, _, _, _ = tracked
    data = dict(tracklets)
    data["person_id"] = data["person_id"][::-1].copy()
    save_npz(tmp_path / "unsorted.npz", data)
    with pytest.raises(InvalidInput, match="not sorted"):
        load_tracklets(tmp_path / "unsorted.npz")
    data = dict(tracklets)
    data["shot_id"] = data["shot_id"] + 1
    save_npz(tmp_path / "shots.npz", data)
    with pytest.raises(InvalidInput, match="shot_id disagrees"):
        load_tracklets(tmp_path / "shots.npz")
    assert load_npz(tmp_path / "shots.npz")["schema"] == "mshot.tracklets/1"


def test_tracker_trusts_decoded_frames_over_a_probe_that_promised_more(tracked, tmp_path):
    from mshot.video import VideoInfo, iter_frames
    from services.tracking.engine import TrackingOptions

    _, engine, clip, _ = tracked
    short = tmp_path / "short.avi"
    writer = cv2.VideoWriter(str(short), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 360))
    for _, frame in iter_frames(clip, stop=12):
        writer.write(frame)
    writer.release()
    promised = VideoInfo(num_frames=20000, fps=10.0, height=360, width=640)
    out = engine.run({"video": short}, TrackingOptions(video_info=promised), tmp_path, lambda f, m="": None)
    tracklets = load_tracklets(out.outputs["tracklets"])
    assert int(tracklets["num_frames"]) == 12 and len(tracklets["frame_shot_id"]) == 12


def test_nested_share_is_the_share_of_the_smaller_box_inside_the_other():
    from services.tracking.cpu.association import nested_share

    whole, top_half = np.array([0, 0, 10, 20.0]), np.array([0, 0, 10, 10.0])
    assert nested_share(whole, top_half) == 1.0 and nested_share(top_half, whole) == 1.0
    assert nested_share(whole, np.array([5, 0, 15, 10.0])) == 0.5
    assert nested_share(whole, np.array([20, 0, 30, 10.0])) == 0.0


def test_an_old_track_cannot_take_a_person_from_the_track_following_them():
    """Red (track A) in shot 0; after the cut red's look changes (a blue-lit stage: a new track B), then comes
    back to plain red. A would be re-identified by appearance alone, more cheaply than B matches by location;
    B, following the person in this shot, keeps them."""
    associator = Associator(AssociationOptions(n_init=2))

    def step(f, shot, lit):
        frame, dets = _frame_with([(0, 40 if shot == 0 else 150)])
        if lit:
            frame[20:101, 150:181] = (200, 0, 120)
        associator.update(f, shot, frame, dets)

    for f in range(4):
        step(f, 0, lit=False)
    for f in range(4, 10):
        step(f, 1, lit=4 <= f < 8)
    tracks = {t.track_id: [o.frame_index for o in t.observations] for t in associator.confirmed_tracks()}
    assert tracks == {0: [0, 1, 2, 3], 1: [4, 5, 6, 7, 8, 9]}
