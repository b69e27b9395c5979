"""The pre-registration: frozen from the config, hashed, and refused when edited or silently changed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rearing.analysis.plan import (
    plan_changes,
    prereg_hash,
    preregistration,
    read_preregistration,
    write_preregistration,
)
from rearing.cli import app
from rearing.config import ExperimentConfig, load_config
from rearing.io import InputError


def test_the_plan_holds_what_the_verdict_depends_on():
    prereg = preregistration(load_config(preset="smoke"))
    assert prereg.primary_metric == "hidden"
    assert (prereg.primary_contrast.minuend, prereg.primary_contrast.subtrahend) == ("bmn_developmental",
                                                                                     "principle_flat")
    assert set(prereg.secondary_contrasts) == {"branching", "ordering", "principles", "raising", "private_channel"}
    assert prereg.seeds == [0, 1] and prereg.scoring_rule == "calibrated"
    assert prereg.positive_control == {"bmn_developmental": "self_judgment", "principle_flat": "judgment"}
    assert "untrained" in prereg.null_conditions and "general_only" in prereg.null_conditions
    assert set(prereg.composite) >= {"hidden", "pressure", "agentic", "drift", "causal", "stable"}
    assert all(prereg.hypotheses.model_dump().values())


def test_same_config_same_hash_and_a_deviation_is_not_part_of_the_plan():
    config = load_config(preset="smoke")
    deviating = ExperimentConfig.model_validate(
        {**config.model_dump(mode="json"), "analysis": {**config.analysis.model_dump(), "deviations": ["why"]}})
    assert prereg_hash(preregistration(config)) == prereg_hash(preregistration(deviating))
    wider = ExperimentConfig.model_validate(
        {**config.model_dump(mode="json"), "analysis": {**config.analysis.model_dump(), "sesoi": 0.1}})
    assert plan_changes(preregistration(config), preregistration(wider)) == ["sesoi: 0.05 -> 0.1"]


def test_an_edited_plan_file_is_refused(tmp_path):
    path = tmp_path / "prereg.json"
    digest = write_preregistration(path, preregistration(load_config(preset="smoke")))
    assert read_preregistration(path)[1] == digest
    data = json.loads(path.read_text())
    data["preregistration"]["sesoi"] = 0.5
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match="edited after it was frozen"):
        read_preregistration(path)


def test_unknown_names_in_the_analysis_section_fail_at_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: smoke\nanalysis:\n  primary_metric: hiden\n  secondary_contrasts: [ordring]\n"
                    "  composite: [causal, stabel]\n")
    with pytest.raises(InputError) as caught:
        load_config(path)
    text = str(caught.value)
    assert "analysis.primary_metric" in text and "'hidden'" in text
    assert "analysis.secondary_contrasts[0]" in text and "'ordering'" in text
    assert "analysis.composite[1]" in text and "'stable'" in text


def test_preregister_command_writes_the_plan_with_its_hash(tmp_path):
    out = tmp_path / "prereg.json"
    result = CliRunner().invoke(app, ["preregister", "--preset", "smoke", "--out", str(out)])
    assert result.exit_code == 0, result.output
    prereg, digest = read_preregistration(out)
    assert digest in result.output and prereg.version
