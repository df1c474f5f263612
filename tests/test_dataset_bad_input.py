"""Dataset stage bad input: persons with too few frames for a format get no folder for it and the reason in
formats.csv, the report and the summary; a video whose frames are not the tracklets' size is refused; an output
folder holding an older export is replaced whole (never mixed, never lost on failure); a foreign folder is refused."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest

from mshot.errors import InvalidInput, NotFound
from services.dataset.engine import export_dataset, options_with

TRAINING_FORMATS = ["humannerf", "neuralbody", "neuralbody_monocular", "instantavatar", "vid2avatar"]


def _formats_csv(person_folder) -> dict[str, tuple[str, str]]:
    with open(person_folder / "formats.csv") as f:
        return {r["format"]: (r["written"], r["reason"]) for r in csv.DictReader(f)}


def test_a_one_frame_person_gets_only_the_formats_that_need_no_held_out_frame(smpl_model, dataset_scene, tmp_path):
    report = export_dataset(dataset_scene[1], tmp_path / "one", smpl_model, options_with(target_frames=1,
                                                                                         previews=False))
    person = tmp_path / "one" / "person_000"
    skipped = report["summary"]["0"]["skipped_formats"]
    assert sorted(skipped) == sorted(TRAINING_FORMATS)
    assert skipped["neuralbody"] == ("neuralbody needs at least 1 training and 1 held-out frame(s); this person has "
                                     "1 and 0")
    for fmt in TRAINING_FORMATS:
        assert not (person / fmt).exists() and _formats_csv(person)[fmt] == ("no", skipped[fmt])
    assert _formats_csv(person)["easymocap"] == ("yes", "")
    assert (person / "easymocap" / "annots" / "cam0" / "000000.json").is_file()
    assert (person / "motion" / "person_000.bvh").is_file()  # animation takes every fitted frame


def test_a_fifteen_frame_person_skips_humannerf_which_needs_sixteen_training_frames(smpl_model, dataset_scene,
                                                                                    tmp_path):
    report = export_dataset(dataset_scene[1], tmp_path / "fifteen", smpl_model,
                            options_with(formats=["humannerf", "vid2avatar"], target_frames=15, previews=False))
    summary = report["summary"]["0"]
    assert (summary["kept_train"], summary["kept_val"]) == (14, 1)
    assert summary["skipped_formats"] == {
        "humannerf": "humannerf needs at least 16 training and 1 held-out frame(s); this person has 14 and 1"}
    person = tmp_path / "fifteen" / "person_000"
    assert not (person / "humannerf").exists() and not (person / "humannerf_val").exists()
    assert (person / "vid2avatar" / "poses.npy").is_file()


def test_a_video_with_frames_of_another_size_is_refused(smpl_model, dataset_scene, tmp_path):
    video = tmp_path / "small.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 200))
    for _ in range(24):
        writer.write(np.zeros((200, 320, 3), np.uint8))
    writer.release()
    with pytest.raises(InvalidInput, match=r"frame 0 is 320x200 px but the tracklets were made at 320x240"):
        export_dataset({**dataset_scene[1], "video": video}, tmp_path / "out", smpl_model,
                       options_with(formats=["easymocap"], previews=False))
    assert not (tmp_path / "out").exists()


def test_an_older_export_is_replaced_whole_and_kept_when_the_new_one_fails(smpl_model, dataset_scene, tmp_path):
    out = tmp_path / "dataset"
    export_dataset(dataset_scene[1], out, smpl_model, options_with(formats=["humannerf"], target_frames=20,
                                                                   previews=False))
    assert (out / "person_000" / "humannerf" / "metadata.json").is_file()
    with pytest.raises(NotFound):
        export_dataset(dataset_scene[1], out, smpl_model, options_with(formats=["easymocap"], person_ids=[7]))
    assert (out / "person_000" / "humannerf" / "metadata.json").is_file()  # nothing lost
    export_dataset(dataset_scene[1], out, smpl_model, options_with(formats=["easymocap"], target_frames=6,
                                                                   previews=False))
    person = out / "person_000"
    assert sorted(p.name for p in person.iterdir()) == ["bundle", "easymocap", "formats.csv", "manifest.csv"]
    assert len(list((person / "bundle" / "images").iterdir())) == 6  # no frames left from the older export
    assert not list(tmp_path.glob(".*partial"))


def test_an_output_folder_that_is_not_an_export_is_refused_untouched(smpl_model, dataset_scene, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(InvalidInput, match="exists and is not an mshot export"):
        export_dataset(dataset_scene[1], out, smpl_model, options_with(formats=["easymocap"], previews=False))
    assert (out / "notes.txt").read_text() == "keep me"
