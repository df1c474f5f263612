"""The registry the applications register into (mshot.registry, filled by mshot_main.py): an application whose
code is absent is left out and asking for it is a named FAILED_PRECONDITION (exit 4), one whose dependency is
missing fails loudly; the job options' choices come from the registered stages."""

from __future__ import annotations

import pytest

import mshot_main
from mshot.cli.main import run_cli
from mshot.errors import FailedPrecondition, InvalidInput
from mshot.registry import Registry


def test_the_tree_registers_every_stage_the_orchestrator_and_their_option_choices():
    registry = mshot_main.build_registry()
    assert sorted(registry.stages) == ["dataset", "keypoints", "multishot", "tracking"]
    assert registry.start_orchestrator is not None
    assert "phalp" in registry.choices["tracking_backend"] and "openpose" in registry.choices["keypoints_backend"]
    assert "humannerf" in registry.choices["format"]
    assert registry.stage("dataset").service_name == "mshot.v1.Dataset"


def test_an_absent_application_is_left_out_but_a_missing_dependency_fails(tmp_path, monkeypatch):
    assert mshot_main._present("services.nosuchstage.server") is None
    (tmp_path / "brokenapp").mkdir()
    (tmp_path / "brokenapp" / "__init__.py").write_text("")
    (tmp_path / "brokenapp" / "server.py").write_text("import a_dependency_that_is_not_installed\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="a_dependency_that_is_not_installed"):
        mshot_main._present("brokenapp.server")


def test_asking_for_a_stage_that_is_not_here_names_it():
    with pytest.raises(InvalidInput, match="unknown stage 'painting'"):
        Registry().stage("painting")
    with pytest.raises(FailedPrecondition, match="the dataset stage is not installed here"):
        Registry().stage("dataset")


def test_serving_an_absent_component_exits_4_with_its_name(capsys):
    assert run_cli(Registry(), ["serve", "dataset"]) == 4
    assert "the dataset stage is not installed here" in capsys.readouterr().err
    assert run_cli(Registry(), ["serve", "orchestrator"]) == 4


def test_job_options_accept_only_what_the_registered_stages_offer(capsys):
    registry = Registry(choices={"tracking_backend": ("auto", "cpu")})
    with pytest.raises(SystemExit) as exit_info:
        run_cli(registry, ["submit", "v.mp4", "--tracking-backend", "phalp"])
    assert exit_info.value.code == 2 and "invalid choice: 'phalp'" in capsys.readouterr().err
