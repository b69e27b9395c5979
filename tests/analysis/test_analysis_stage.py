"""The analysis stage on a real (tiny) run: the plan frozen before training, the verdict from the eval
stage's own table with its gates, and a plan changed after training refused unless a deviation says why."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from rearing.analysis.stats import INCONCLUSIVE, VERDICTS
from rearing.cli import app
from rearing.config import canonical_hash, load_config
from rearing.io import InputError, read_json
from rearing.layout import RunLayout
from rearing.pipeline import run_config, run_pipeline, stage_workspace

CHANGED = {"primary_contrast": ["bmn_developmental", "posthoc"]}


@pytest.fixture(scope="module")
def analysed(tiny_trained_run, tmp_path_factory) -> Path:
    """A copy of the tiny run, analysed by the plan frozen before it trained."""
    run_pipeline(run_config(tiny_trained_run), tiny_trained_run, until="probe")
    run = tmp_path_factory.mktemp("analysed") / "run"
    shutil.copytree(tiny_trained_run, run)
    run_pipeline(run_config(run), run, until="analysis")
    return run


def changed_config(run: Path, tmp_path: Path) -> Path:
    path = tmp_path / "changed.yaml"
    data = run_config(run).model_dump(mode="json")
    data["analysis"].update(CHANGED)
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_plan_is_frozen_before_the_first_model_trains(tiny_corpus_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(tiny_corpus_run, run)
    layout = RunLayout(run)
    assert not layout.preregistration.exists()
    stage_workspace(run_config(run), run, "train")
    record = read_json(layout.manifest)["preregistration"]
    assert record["late"] is False
    assert json.loads(layout.preregistration.read_text())["sha256"] == record["sha256"]
    layout.preregistration.unlink()
    with pytest.raises(InputError, match="missing, though the manifest recorded it"):
        stage_workspace(run_config(run), run, "train")


def test_a_trained_run_recorded_its_plan_before_training(tiny_trained_run):
    manifest = read_json(RunLayout(tiny_trained_run).manifest)
    record = manifest["preregistration"]
    assert record["late"] is False and record["written"] <= manifest["stages"]["train"]["finished"]


def test_the_verdict_of_a_real_run(analysed):
    written = RunLayout(analysed).analysis
    verdict = read_json(written.verdict)
    assert verdict["verdict"] in VERDICTS
    # The tiny run trains bmn_developmental and posthoc with one seed: the default contrast cannot be read.
    assert verdict["verdict"] == INCONCLUSIVE
    assert any("fewer than 2 seeds" in reason for reason in verdict["reasons"])
    # The arm that ran is checked (and a tiny model fails it); the one that did not is named as unchecked.
    gate = verdict["gates"]["positive_control"]
    assert gate["status"] == "failed" and list(gate["conditions"]) == ["bmn_developmental"]
    assert gate["unchecked"] == ["no rows of principle_flat in its practised format"]
    null = verdict["gates"]["null_controls"]
    assert null["suites"] == ["hidden"]
    # The same cells as the eval stage's own null controls, read from its summary.
    controls = read_json(RunLayout(analysed).eval.summary)["null_controls"]
    cells = [(c, f) for c, suites in controls["controls"].items() for s, fs in suites.items() if s == "hidden"
             for f in fs]
    flagged = [cell for cell in controls["flagged"] if " hidden " in cell]
    testable = [cell for cell in cells if controls["controls"][cell[0]]["hidden"][cell[1]]["testable"]]
    assert null["status"] == ("failed" if flagged else "passed" if testable else "not checked")
    assert verdict["preregistration"]["sha256"] == read_json(RunLayout(analysed).manifest)["preregistration"]["sha256"]
    assert written.tables.is_file()


def test_a_plan_changed_after_training_is_refused(analysed, tmp_path):
    config = load_config(changed_config(analysed, tmp_path))
    with pytest.raises(InputError, match="changed after training began"):
        run_pipeline(config, analysed, until="analysis")
    result = CliRunner().invoke(app, ["analyze", "--run", str(analysed), "--config", str(changed_config(analysed,
                                                                                                      tmp_path))])
    assert result.exit_code == 2
    assert "primary_contrast" in result.output and "--deviation" in result.output


def test_a_deviation_is_analysed_by_the_new_plan_and_shown(analysed, tmp_path):
    result = CliRunner().invoke(app, ["analyze", "--run", str(analysed), "--config",
                                      str(changed_config(analysed, tmp_path)), "--deviation", "posthoc is the arm we have"])
    assert result.exit_code == 0, result.output
    verdict = read_json(RunLayout(analysed).analysis.verdict)
    assert verdict["preregistration"]["deviations"] == ["posthoc is the arm we have"]
    assert any("primary_contrast" in change for change in verdict["preregistration"]["changes"])
    # The verdict stays the frozen plan's; the changed plan's analysis is beside it, marked exploratory.
    assert verdict["primary"]["second"] == "principle_flat" and verdict["verdict"] == INCONCLUSIVE
    exploratory = verdict["exploratory"]
    assert exploratory["primary"]["second"] == "posthoc"
    # Both arms practise a format there, so the positive control is read from the eval table: tiny models fail it.
    gate = exploratory["gates"]["positive_control"]
    assert gate["status"] == "failed" and set(gate["conditions"]) == {"bmn_developmental", "posthoc"}
    assert exploratory["verdict"] == INCONCLUSIVE
    assert any("positive control failed" in r for r in exploratory["reasons"])
    assert "deviations from the pre-registration: posthoc is the arm we have" in result.output
    assert "exploratory, by the changed plan (not the verdict)" in result.output


def test_a_replaced_plan_file_is_refused(analysed, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(analysed, run)
    layout = RunLayout(run)
    data = json.loads(layout.preregistration.read_text())
    data["preregistration"]["sesoi"] = 0.2
    data["sha256"] = canonical_hash(data["preregistration"])
    layout.preregistration.write_text(json.dumps(data))
    shutil.rmtree(layout.analysis.root)
    with pytest.raises(InputError, match="the file was replaced"):
        run_pipeline(run_config(run), run, until="analysis")
