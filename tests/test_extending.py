"""Extending rearing: a condition and an item suite defined only in a test's own config and
functions (no edit anywhere in the package) run through corpus, train and eval."""

from __future__ import annotations

import json
import random

import pyarrow.parquet as pq
import pytest

from rearing.config import load_config
from rearing.corpus.render import Rendered, render_principle_flat
from rearing.corpus.stream import TokenStream
from rearing.evals.controls import UNTRAINED
from rearing.evals.items import read_items
from rearing.evals.views import View
from rearing.layout import JobLayout, RunLayout, model_name
from rearing.pipeline import run_pipeline
from rearing.world.schema import Scenario

VERDICT_FIRST = "What is right comes first here."


def render_verdict_first(scenario: Scenario, rng: random.Random) -> Rendered:
    """A renderer of this test's own: the principle-rich text, opened by a fixed line."""
    return render_principle_flat(scenario, rng).prefixed(VERDICT_FIRST)


def without_people(view: View) -> View | str:
    """A view of this test's own: the situation without the list of who is who."""
    if not view.people:
        return "no people to leave out"
    return View(view.scenario, view.agent, view.setting, (), view.prosocial, view.harmful, view.principle)


EXTENSION = f"""
corpus:
  define:
    verdict_first:
      description: principle-rich text opened by a verdict line, in stage order
      renderer: {__name__}:render_verdict_first
      ordering: developmental
      familiar_formats: [judgment]
      llm_style: Open with the verdict, then the facts.
  conditions: [bmn_developmental, verdict_first]
train:
  conditions: [verdict_first]
eval:
  define:
    no_people:
      description: the situation without the list of who is who
      kind: items
      split: eval
      view: {__name__}:without_people
  suites: [format, no_people]
  max_scenarios: 3
"""


@pytest.fixture(scope="module")
def extended_run(tmp_path_factory, tiny_config_file):
    root = tmp_path_factory.mktemp("extended")
    config = load_config(tiny_config_file(root, EXTENSION))
    run_dir = root / "run"
    run_pipeline(config, run_dir)
    return run_dir, config


def test_the_new_condition_is_built_matched_and_trained(extended_run):
    run_dir, config = extended_run
    run = RunLayout(run_dir)
    assert run.corpus.conditions() == ["bmn_developmental", "verdict_first"]
    docs = [d for d in TokenStream.open(run.corpus.stream("verdict_first")).docs() if d.kind == "moral"]
    assert docs and all(d.text.startswith(VERDICT_FIRST) for d in docs)
    stages = [d.stage for d in docs]
    assert stages == sorted(stages)
    stats = json.loads(run.corpus.stats.read_text())["conditions"]
    tokens = [stats[c]["tokens"] for c in ("bmn_developmental", "verdict_first")]
    assert max(tokens) / min(tokens) - 1 < 0.01
    summary = json.loads(JobLayout(run.train.job("verdict_first", 0)).summary.read_text())
    assert summary["condition"] == "verdict_first" and summary["steps"] == config.train.steps
    assert not run.train.job("bmn_developmental", 0).exists()


def test_the_new_suite_is_built_scored_and_summarized(extended_run):
    run_dir, _ = extended_run
    run = RunLayout(run_dir)
    items, _ = read_items(run.eval.items)
    defined = [i for i in items if i.suite == "no_people"]
    plain = {(i.scenario_id, i.format): i for i in items if i.suite == "format"}
    assert defined and {i.split for i in defined} == {"eval"}
    for item in defined:
        twin = plain[(item.scenario_id, item.format)]
        assert len(item.prompt) < len(twin.prompt), "the people lines are left out"
        assert item.choices == twin.choices
        familiar = {"judgment": ["verdict_first"], "continuation": ["bmn_developmental"],
                    "self_judgment": ["bmn_developmental"]}
        assert item.familiar_to == familiar.get(item.format, [])
    rows = pq.read_table(run.eval.results).to_pylist()
    assert {r["suite"] for r in rows} == {"format", "no_people"}
    assert {r["model"] for r in rows} == {model_name("verdict_first", 0), model_name(UNTRAINED, 0)}
    scored = json.loads(run.eval.summary.read_text())["models"][model_name("verdict_first", 0)]["suites"]
    assert scored["no_people"]["n"] == len(defined)
