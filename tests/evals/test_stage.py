"""The eval stage on a tiny trained run: every suite scored per model, attacks, checks, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rearing.cli import app
from rearing.config import ExperimentConfig
from rearing.evals.items import read_items
from rearing.io import read_json
from rearing.pipeline import run_pipeline
from rearing.world.store import read_scenarios

MODELS = {"bmn_developmental/seed_0", "posthoc/seed_0"}


def run_config(run: Path) -> ExperimentConfig:
    return ExperimentConfig.model_validate(read_json(run / "manifest.json")["config"])


@pytest.fixture(scope="module")
def evaluated(tiny_trained_run) -> Path:
    outcomes = run_pipeline(run_config(tiny_trained_run), tiny_trained_run, until="eval")
    assert [(o.name, o.status) for o in outcomes][-1] == ("eval", "ran")
    return tiny_trained_run


def results(run: Path) -> list[dict]:
    return pq.read_table(run / "eval" / "results.parquet").to_pylist()


def test_every_model_is_scored_on_every_suite_and_joined_to_its_key(evaluated):
    items, keys = read_items(evaluated / "eval" / "items")
    key_of = {k.item_id: k.correct for k in keys}
    rows = [r for r in results(evaluated) if r["attack"] == "none"]
    assert {r["model"] for r in rows} == MODELS
    for model in MODELS:
        mine = [r for r in rows if r["model"] == model]
        assert sorted(r["item_id"] for r in mine) == sorted(i.id for i in items)
        assert {r["suite"] for r in mine} == {"format", "stripped", "shift_domain", "shift_vocab", "pressure"}
    for row in rows:
        assert row["correct"] == (row["chosen"] == key_of[row["item_id"]])
        best = max(range(len(row["sum_logprob"])), key=row["sum_logprob"].__getitem__)
        assert row["chosen"] == best and all(n > 0 for n in row["n_tokens"])


def test_items_come_only_from_held_out_scenarios(evaluated):
    train = {s.id for s in read_scenarios(evaluated / "world" / "splits" / "train.jsonl")}
    items, _ = read_items(evaluated / "eval" / "items")
    assert items and not {i.scenario_id for i in items} & train


def test_attack_steps_change_the_model_and_rescore_the_core_suites(evaluated):
    rows = results(evaluated)
    config = run_config(evaluated)
    for model in MODELS:
        base = {r["item_id"]: r["sum_logprob"] for r in rows if r["model"] == model and r["attack"] == "none"
                and r["suite"] in config.eval.attack_suites}
        for kind in ("harm", "benign"):
            for k in (2, 4):
                attacked = {r["item_id"]: r["sum_logprob"] for r in rows
                            if r["model"] == model and r["attack"] == kind and r["attack_k"] == k}
                assert attacked.keys() == base.keys()
                moved = sum(attacked[i] != base[i] for i in base)
                assert moved == len(base), f"{model} {kind} k={k}: the attack left items unchanged"
    summary = json.loads((evaluated / "eval" / "summary.json").read_text())
    drift = summary["models"]["posthoc/seed_0"]["attack"]
    assert drift["harm"]["k"] == [0, 2, 4] and len(drift["harm"]["accuracy"]) == 3
    assert not list((evaluated / "eval").glob(".attack*")), "attack copies are not kept"


def test_agentic_episodes_and_summary(evaluated):
    episodes = pq.read_table(evaluated / "eval" / "agentic.parquet").to_pylist()
    assert {e["model"] for e in episodes} == MODELS
    assert {e["pressure"] for e in episodes} == {"none", "incentive"}
    assert all(len(e["actions"]) >= 3 for e in episodes)
    summary = json.loads((evaluated / "eval" / "summary.json").read_text())
    entry = summary["models"]["bmn_developmental/seed_0"]
    assert set(entry["agentic"]) == {"none", "incentive"}
    assert 0.0 <= entry["agentic"]["none"]["harm_rate"] <= 1.0
    assert summary["neutral_formats"] == ["ab", "advice", "tool_call"]
    assert entry["suites"]["format"]["neutral"]["n"] > 0


def test_checks_report_familiarity_heldout_pressure_and_the_shortcut(evaluated):
    checks = json.loads((evaluated / "eval" / "checks.json").read_text())
    assert checks["pressure_wording_heldout"]["ok"] is True
    assert set(checks["items_sharing_13grams_with_corpus"]) == set(run_config(evaluated).corpus.conditions)
    for suite in ("format", "stripped", "shift_domain", "shift_vocab", "pressure"):
        assert 0.0 <= checks["shortcut_baseline"][suite]["accuracy"] <= 1.0


def test_eval_is_cached_then_any_checkpoint_can_be_scored_from_the_cli(evaluated, tmp_path):
    outcomes = run_pipeline(run_config(evaluated), evaluated, until="eval")
    assert [o.status for o in outcomes] == ["cached"] * 4
    model = evaluated / "train" / "posthoc" / "seed_0" / "model"
    out = tmp_path / "checkpoint_eval"
    result = CliRunner().invoke(app, ["eval", "--run", str(evaluated), "--checkpoint", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    mine = pq.read_table(out / "results.parquet").to_pylist()
    theirs = {r["item_id"]: r["sum_logprob"] for r in results(evaluated)
              if r["model"] == "posthoc/seed_0" and r["attack"] == "none"}
    assert {r["item_id"] for r in mine} == set(theirs)
    for row in mine:
        assert row["sum_logprob"] == pytest.approx(theirs[row["item_id"]], abs=1e-4)


def test_export_inspect_from_the_cli(evaluated, tmp_path):
    out = tmp_path / "inspect"
    result = CliRunner().invoke(app, ["eval", "export-inspect", "--run", str(evaluated), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "tasks.py").exists() and (out / "format.jsonl").exists()


def test_eval_without_a_run_is_a_clear_error():
    result = CliRunner().invoke(app, ["eval", "--checkpoint", "x"])
    assert result.exit_code == 2 and "--run" in result.output


def test_prompts_open_like_training_documents(tiny_corpus_run):
    from transformers import AutoTokenizer

    from rearing.evals.evaluate import document_start

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_corpus_run / "corpus" / "tokenizer"))
    start = document_start(tokenizer)
    assert tokenizer(start + "Mira waits.")["input_ids"][0] == tokenizer.eos_token_id
    tokenizer.bos_token = None
    assert document_start(tokenizer) == ""
