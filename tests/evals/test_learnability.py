"""The learnability curve on the tiny run: what it trains, what it reads, and the CLI around it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rearing.cli import app
from rearing.config import ExperimentConfig
from rearing.corpus.person import to_first_person
from rearing.evals.learnability import ANSWERS, control_items, curve_table, learnability, own_documents
from rearing.evals.stage import read_splits
from rearing.io import InputError, read_json
from rearing.layout import RunLayout
from rearing.text import action_clause
from rearing.world.schema import Valence

SETS = {"shown", "hidden", "shown_trained", "hidden_trained", "own", "own_trained"}


def config_of(run) -> ExperimentConfig:
    return ExperimentConfig.model_validate(read_json(RunLayout(run).manifest)["config"])


def test_own_documents_stop_at_the_last_verdict_question_and_know_its_answer(tiny_corpus_run):
    run = RunLayout(tiny_corpus_run)
    splits = read_splits(run, ("train", "eval"))
    own = own_documents(config_of(tiny_corpus_run), splits, "bmn_shuffled", 12)
    answers = []
    for name, split in (("own", "eval"), ("own_trained", "train")):
        assert len(own[name]) == 12
        for (prompt, answer), scenario in zip(own[name], sorted(splits[split], key=lambda s: s.id), strict=False):
            assert prompt.endswith("?") and prompt.count("Is it right for me to ") == 2
            judged = prompt.rsplit("Is it right for me to ", 1)[1][:-1]
            valence = {to_first_person(action_clause(o), scenario.agent.name): o.valence for o in scenario.options}
            assert valence[judged] == (Valence.prosocial if ANSWERS[answer] == " Yes" else Valence.harmful)
            answers.append(answer)
    assert 0 < sum(answers) < len(answers), "the path judged last is harmful in some documents, not all"


def test_the_positive_control_items_are_the_practised_format_on_both_splits(tiny_corpus_run):
    config = config_of(tiny_corpus_run)
    splits = read_splits(RunLayout(tiny_corpus_run), ("train", "eval"))
    items, keys = control_items(config, splits, "principle_flat", 5)
    assert {i.suite for i in items} == {"shown", "hidden", "shown_trained", "hidden_trained"}
    assert {i.format for i in items} == {"judgment"} and set(keys) == {i.id for i in items}
    train_ids = {s.id for s in splits["train"]}
    assert all((i.scenario_id in train_ids) == i.suite.endswith("_trained") for i in items)
    with pytest.raises(InputError, match="states no verdict"):
        control_items(config, splits, "flat", 5)


def test_the_curve_reads_every_set_at_every_snapshot_and_the_cli_writes_it(tiny_corpus_run, tmp_path):
    curve = learnability(tiny_corpus_run, "principle_flat", steps=4, every=2, scenarios=4, keep=tmp_path / "model")
    assert [p["step"] for p in curve.points] == [2, 4] and curve.train["steps"] == 4
    assert curve.points[1]["tokens"] == 4 * curve.train["batch_size"] * curve.train["context_length"]
    for point in curve.points:
        assert set(point["readings"]) == SETS
        for name, reading in point["readings"].items():
            assert reading["n"] > 0 and 0 <= reading["sum"] <= 1
            assert (reading["calibrated"] is None) == name.startswith("own")
    assert (tmp_path / "model" / "model.safetensors").exists()
    assert len(curve_table(curve)) == 2 + len(curve.points) + 1

    out = tmp_path / "curve.json"
    result = CliRunner().invoke(app, ["learnability", "--run", str(tiny_corpus_run), "--condition", "bmn_shuffled",
                                      "--steps", "2", "--every", "2", "--scenarios", "3", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "bmn_shuffled: nano" in result.output and json.loads(out.read_text())["condition"] == "bmn_shuffled"
    refused = CliRunner().invoke(app, ["learnability", "--run", str(tiny_corpus_run), "--condition", "flat"])
    assert refused.exit_code == 2 and "states no verdict" in refused.output
