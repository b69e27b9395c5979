"""The instrument cannot be passed by surface statistics: an untrained model and a model trained on
general text alone sit at chance on every suite and format under the default (calibrated) scoring,
and nothing the outcome-hidden suite shows gives its answer away to a bag of words."""

from __future__ import annotations

import pytest

from rearing.config import ExperimentConfig
from rearing.corpus.build import run_conditions
from rearing.evals.controls import UNTRAINED, null_condition_names, null_controls
from rearing.evals.evaluate import EvalPlan, ModelRef, evaluate_model, load_model
from rearing.evals.items import build_items
from rearing.evals.schema import FORMATS
from rearing.evals.shortcut import overlap_accuracy, shortcut_accuracy, train_shortcut
from rearing.evals.stage import item_suites, read_splits
from rearing.io import read_json
from rearing.layout import HELD_OUT_SPLITS, RunLayout, model_name
from rearing.train.loop import TrainJob, train
from rearing.train.models import save_model, untrained_model

SCENARIOS = 24
"""Scenarios per suite: at 24, a cell is flagged from 21 right (p < 0.05 over about 60 cells)."""
PRESSURE_SCENARIOS = 6
"""Pressure multiplies each scenario by 19 conditions; a few scenarios cover every kind."""
GENERAL_STEPS = 60


@pytest.fixture(scope="module")
def run(tiny_corpus_run, tmp_path_factory):
    """The tiny run's world and corpus, its items for every item suite, and its config."""
    layout = RunLayout(tiny_corpus_run)
    config = ExperimentConfig.model_validate(read_json(layout.manifest)["config"])
    suites = item_suites(config)
    caps = {name: PRESSURE_SCENARIOS if suite.pressure else SCENARIOS for name, suite in suites.items()}
    items, keys, _ = build_items(read_splits(layout), config.seed, suites, run_conditions(config), caps,
                                 many_shot=config.eval.many_shot, max_outcomes=config.eval.max_outcomes)
    plan = EvalPlan(config=config, suites=suites, items=items, keys={k.item_id: k for k in keys},
                    splits=read_splits(layout, ("train", *HELD_OUT_SPLITS)))
    return config, layout, plan


@pytest.fixture(scope="module")
def null_models(run, tmp_path_factory) -> list[ModelRef]:
    """The untrained model of seed 0, and general_only trained for a few dozen steps."""
    config, layout, _ = run
    root = tmp_path_factory.mktemp("nulls")
    (general,) = null_condition_names(run_conditions(config))
    out = root / "general"
    cfg = config.train.model_copy(update={"steps": GENERAL_STEPS, "warmup_steps": 5, "loggers": [],
                                          "checkpoint_every": GENERAL_STEPS})
    train(TrainJob(condition=general, seed=0, stream_dir=layout.corpus.stream(general),
                   tokenizer_dir=layout.corpus.tokenizer, out_dir=out), cfg, progress=False)
    trained = out / "model"
    _, tokenizer = load_model(trained)
    untrained = root / "untrained"
    save_model(untrained, untrained_model(cfg.model, None, tokenizer, cfg.context_length, 0), tokenizer)
    return [ModelRef(untrained, model_name(UNTRAINED, 0), UNTRAINED, 0),
            ModelRef(trained, model_name(general, 0), general, 0)]


def test_null_models_sit_at_chance_on_every_suite_and_format(run, null_models):
    config, _, plan = run
    items = plan.items
    rows = [row for ref in null_models for row in evaluate_model(ref, plan)[0]]
    assert {r.scoring_rule for r in rows} == {"calibrated"} and len(rows) == 2 * len(items)
    report = null_controls(rows, null_condition_names(run_conditions(config)), config.eval.chance_alpha)
    assert set(report["controls"]) == {ref.condition for ref in null_models}
    for control, suites in report["controls"].items():
        assert set(suites) == {i.suite for i in items}
        for suite, formats in suites.items():
            assert set(formats) == {i.format for i in items if i.suite == suite} and set(formats) <= set(FORMATS)
            assert min(cell["scenarios"] for cell in formats.values()) >= PRESSURE_SCENARIOS
    assert report["flagged"] == [], report["flagged"]


def test_the_outcome_hidden_suite_gives_nothing_away_to_a_bag_of_words(run):
    config, _, plan = run
    shortcut = train_shortcut(plan.splits["train"], seed=config.seed)
    hidden = plan.items_of(["hidden"])
    keys = [plan.keys[i.id] for i in hidden]
    scenarios = len({i.scenario_id for i in hidden})
    readings = {reading: shortcut_accuracy(shortcut, hidden, keys, reading)["hidden"] for reading in ("choice", "prompt")}
    readings["overlap"] = overlap_accuracy(hidden, keys, config.seed)["hidden"]
    for reading, result in readings.items():
        assert abs(result["accuracy"] - 0.5) < 2.5 * (0.25 / scenarios) ** 0.5, (reading, result)
