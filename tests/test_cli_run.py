"""`mshot run` end to end through the real CLI, orchestrator, gRPC servers and store, with stage engines that
hand back a synthetic scene's artifacts (tests/synthetic.py) and a dataset stage that fails: the finished
stages' artifacts and the overlay video land in --out, summary.txt names the failure and lists them, the exit
code says the job failed, and third-party noise written to the process's stderr goes to mshot.log, not the
console."""

from __future__ import annotations

import os
import shutil

import cv2
import pytest
from fake_stages import start_fake_stage

from mshot.engine_run import EngineRun
from mshot.errors import InvalidInput
from mshot_main import main

SCENE_OUTPUT = {"tracking": "tracklets", "keypoints": "keypoints", "multishot": "fits"}


class SceneEngine:
    """Returns the scene's file for the stage's output; the dataset stage fails with INVALID_ARGUMENT."""

    def __init__(self, name: str, scene: dict):
        self.name, self.scene = name, scene

    def run(self, inputs, options, workdir, progress):
        os.write(2, b"W0000 00:00 inference_feedback_manager.cc:114] third-party noise\n")
        if self.name not in SCENE_OUTPUT:
            raise InvalidInput("the dataset stage broke on purpose")
        output = SCENE_OUTPUT[self.name]
        return EngineRun({output: shutil.copy(self.scene[output], workdir / f"{output}.npz")}, {})


@pytest.fixture
def scene_stages(monkeypatch, dataset_scene):
    def start(service, config, store, scratch=None, env=None):
        return start_fake_stage(service.stage, store, config, SceneEngine(service.stage, dataset_scene[1]))[0]

    monkeypatch.setattr("mshot.cli.local_cluster.start_stage_server", start)
    return dataset_scene[1]


def test_a_failed_stage_leaves_the_finished_stages_results_named_in_the_summary(scene_stages, smpl_model_path,
                                                                               tmp_path, capfd):
    out = tmp_path / "out"
    code = main(["run", str(scene_stages["video"]), "--out", str(out), "--body-model", str(smpl_model_path),
                 "--store", str(tmp_path / "store")])
    console = capfd.readouterr().err
    assert code != 0 and "the dataset stage broke on purpose" in console
    for name in ("tracklets", "keypoints", "fits"):
        assert (out / "artifacts" / f"{name}.npz").read_bytes() == scene_stages[name].read_bytes()
    summary = (out / "summary.txt").read_text()
    assert "stopped at the dataset stage: INVALID_ARGUMENT: the dataset stage broke on purpose" in summary
    assert "artifacts/fits.npz" in summary and "overlay.mp4" in summary and "person 0:" in summary
    assert "camera: focal length 300 px (source not recorded); every depth" in summary  # a file without focal_source
    overlay = cv2.VideoCapture(str(out / "overlay.mp4"))
    assert overlay.get(cv2.CAP_PROP_FRAME_COUNT) == cv2.VideoCapture(str(scene_stages["video"])).get(
        cv2.CAP_PROP_FRAME_COUNT)
    assert "third-party noise" not in console and "third-party noise" in (out / "mshot.log").read_text()
    assert not any(line.startswith("{") for line in console.splitlines())  # no JSON log lines
    lines = [line for line in console.splitlines() if line.split(" ", 1)[0] in ("tracking", "keypoints",
                                                                                 "multishot", "dataset")]
    assert [line.split()[0] for line in lines] == ["tracking", "keypoints", "multishot", "dataset"]  # one each


def test_a_stage_line_shows_its_state_time_and_facts_or_its_error():
    from mshot.cli.console import stage_line

    dataset = {"stage": "dataset", "state": "done", "error": "", "summary": {
        "0": {"kept_train": 3, "kept_val": 1, "rejected": 5, "reasons": {"height": 5}}, "nothing_kept": ""}}
    assert stage_line(dataset, 353.2) == "dataset    done        353 s  person 0: 3 train, 1 val"
    multishot = {"stage": "multishot", "state": "done", "error": "", "summary": {"persons": 1, "px": 12.7022}}
    assert stage_line(multishot, 8.0) == "multishot  done          8 s  persons 1, px 12.7"
    failed = {"stage": "keypoints", "state": "failed", "error": "INVALID_ARGUMENT: bad zip", "summary": {}}
    assert stage_line(failed, None) == "keypoints  failed             INVALID_ARGUMENT: bad zip"


def test_verbose_shows_third_party_output_on_the_console_and_still_logs_to_the_file(scene_stages, smpl_model_path,
                                                                                  tmp_path, capfd):
    out = tmp_path / "out"
    main(["run", str(scene_stages["video"]), "--out", str(out), "--body-model", str(smpl_model_path),
          "--store", str(tmp_path / "store"), "--verbose"])
    console = capfd.readouterr().err
    assert "third-party noise" in console
    assert '"msg": "job submitted"' in (out / "mshot.log").read_text()


def test_openpose_folder_goes_to_the_store_as_a_zip_and_a_missing_or_bad_source_is_refused(tmp_path):
    import zipfile

    from mshot.cli.pipeline_commands import _openpose_source, _put_openpose
    from mshot.errors import NotFound
    from mshot.rpc.convert import ref_from_proto
    from mshot.store.local import LocalStore

    folder = tmp_path / "json"
    folder.mkdir()
    for frame in range(3):
        (folder / f"clip_{frame:012d}_keypoints.json").write_text('{"version": 1.3, "people": []}')
    store = LocalStore(tmp_path / "store")
    ref = ref_from_proto(_put_openpose(store, _openpose_source(folder), tmp_path), "openpose_json")
    with zipfile.ZipFile(store.get_file(ref, tmp_path / "back.zip")) as archive:
        assert sorted(archive.namelist()) == [f"clip_{frame:012d}_keypoints.json" for frame in range(3)]
    with pytest.raises(NotFound, match="--openpose-json"):
        _openpose_source(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(InvalidInput, match="neither a folder nor a .zip"):
        _openpose_source(tmp_path / "notes.txt")
