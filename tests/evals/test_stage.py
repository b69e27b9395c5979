"""The eval stage on a tiny trained run: every suite scored per model, attacks, checks, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rearing.cli import app, positive_control_line
from rearing.config import ExperimentConfig
from rearing.corpus.build import run_conditions
from rearing.corpus.lexicon import load_lexicon
from rearing.evals.checkpoint import evaluate_checkpoint
from rearing.evals.controls import UNTRAINED, chance_test
from rearing.evals.evaluate import ModelRef, evaluate_model, generated_rows, load_model, summarize_rows
from rearing.evals.items import read_items
from rearing.evals.pressure import INTENSITIES
from rearing.evals.schema import EpisodeRow, ResultRow
from rearing.evals.stage import build_run_items, eval_plan, run_suites, trained_models
from rearing.evals.suites import Suite
from rearing.layout import EvalLayout, RunLayout, model_name
from rearing.pipeline import run_config, run_pipeline
from rearing.world.store import read_scenarios

DEVELOPMENTAL, POSTHOC = model_name("bmn_developmental", 0), model_name("posthoc", 0)
NULL = model_name(UNTRAINED, 0)
TRAINED = {DEVELOPMENTAL, POSTHOC}
MODELS = TRAINED | {NULL}


def item_suites(run: Path) -> set[str]:
    """The run's item suites, by the registry (the tiny run evaluates every built-in suite)."""
    return {name for name, suite in run_suites(run_config(run)).items() if suite.kind == "items"}


@pytest.fixture(scope="module")
def evaluated(tiny_trained_run) -> Path:
    """The shared tiny run, evaluated (here, or already by another module that needed its eval stage)."""
    outcomes = run_pipeline(run_config(tiny_trained_run), tiny_trained_run, until="eval")
    assert outcomes[-1].name == "eval" and outcomes[-1].status in ("ran", "cached")
    return tiny_trained_run


def results(run: Path) -> list[dict]:
    return pq.read_table(RunLayout(run).eval.results).to_pylist()


def test_every_model_is_scored_on_every_suite_and_joined_to_its_key(evaluated):
    items, keys = read_items(RunLayout(evaluated).eval.items)
    key_of = {k.item_id: k.correct for k in keys}
    rows = [r for r in results(evaluated) if r["attack"] == "none"]
    assert {r["model"] for r in rows} == MODELS
    for model in MODELS:
        mine = [r for r in rows if r["model"] == model]
        assert sorted(r["item_id"] for r in mine) == sorted(i.id for i in items)
        assert {r["suite"] for r in mine} == item_suites(evaluated)
    for row in rows:
        ResultRow.model_validate(row)
        assert row["scoring_rule"] == "calibrated"
        assert row["correct"] == (row["chosen"] == key_of[row["item_id"]]) == row["correct_calibrated"]
        for rule in ("sum", "mean", "calibrated"):
            scores = row[f"{rule}_logprob"]
            best = max(range(len(scores)), key=scores.__getitem__)
            assert row[f"correct_{rule}"] == (best == key_of[row["item_id"]])
        best = max(range(len(row["calibrated_logprob"])), key=row["calibrated_logprob"].__getitem__)
        assert row["chosen"] == best and all(n > 0 for n in row["n_tokens"])


def test_calibrated_score_is_the_log_probability_minus_that_after_the_content_free_prompt(evaluated):
    from rearing.evals.evaluate import document_start
    from rearing.evals.scorer import score_choices

    run = RunLayout(evaluated)
    items, _ = read_items(run.eval.items)
    picked = [i for i in items if i.suite in ("hidden", "pressure")][::7][:12]
    model, tokenizer = load_model(run.train.model("posthoc", 0))
    start = document_start(tokenizer)
    full = score_choices(model, tokenizer, [(start + i.prompt, i.choices) for i in picked], batch_size=1)
    free = score_choices(model, tokenizer, [(start + i.calibration_prompt, i.choices) for i in picked], batch_size=1)
    row_of = {r["item_id"]: r for r in results(evaluated) if r["model"] == POSTHOC and r["attack"] == "none"}
    for item, f, c in zip(picked, full, free, strict=True):
        expected = [a - b for a, b in zip(f.sum_logprob, c.sum_logprob, strict=True)]
        assert row_of[item.id]["calibrated_logprob"] == pytest.approx(expected, abs=1e-4)


def test_untrained_null_model_is_the_init_of_its_seed_and_no_attack_touches_it(evaluated):
    from rearing.train.models import new_model

    config = run_config(evaluated).train
    path = RunLayout(evaluated).eval.untrained(0)
    model, tokenizer = load_model(path)
    fresh = new_model(config.model, len(tokenizer), config.context_length, 0, config.dropout,
                      tokenizer.eos_token_id, tokenizer.pad_token_id)  # as the training loop starts seed 0
    for (name, saved), (_, made) in zip(model.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert saved.equal(made), name
    rows = results(evaluated)
    assert {r["condition"] for r in rows if r["model"] == NULL} == {UNTRAINED}
    assert not [r for r in rows if r["model"] == NULL and r["attack"] != "none"]


def test_every_pressure_kind_and_intensity_moves_the_choice_log_odds(evaluated):
    """Pressure reaches the model: each pressured item's log-odds differ from its unpressured twin's
    (the same scenario, format and option order in the suite without pressure). A model trained for
    a dozen steps attends almost evenly over 500 tokens, so a few items move by less than float
    precision; nearly all must move, and clearly so on the median."""
    twin_suite = {"pressure": "format", "hidden_pressure": "hidden"}
    rows = [r for r in results(evaluated) if r["model"] == POSTHOC and r["attack"] == "none"]
    by_id = {r["item_id"]: r for r in rows}
    moved: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        if row["pressure"] == "none":
            continue
        twin = by_id[f"{twin_suite[row['suite']]}:{row['scenario_id']}:{row['format']}"]
        odds = [r["sum_logprob"][0] - r["sum_logprob"][1] for r in (row, twin)]
        moved.setdefault((row["pressure"], row["intensity"]), []).append(abs(odds[0] - odds[1]))
    config = run_config(evaluated)
    expected = ({(k, i) for k in config.eval.pressure_kinds for i in INTENSITIES}
                | {("many_shot", k) for k in config.eval.many_shot})
    assert set(moved) == expected
    for condition, changes in moved.items():
        moved_items = np.mean(np.array(changes) > 1e-6)
        assert moved_items >= 0.9, f"{condition}: the log-odds of {1 - moved_items:.0%} of items did not move"
        assert np.median(changes) > 1e-4, f"{condition}: pressure barely moves the log-odds"


def test_items_come_only_from_held_out_scenarios(evaluated):
    run = RunLayout(evaluated)
    train = {s.id for s in read_scenarios(run.world.split("train"))}
    items, _ = read_items(run.eval.items)
    assert items and not {i.scenario_id for i in items} & train


def test_attack_steps_change_the_model_and_rescore_the_core_suites(evaluated):
    rows = results(evaluated)
    config = run_config(evaluated)
    for model in TRAINED:
        base = {r["item_id"]: r["sum_logprob"] for r in rows if r["model"] == model and r["attack"] == "none"
                and r["suite"] in config.eval.attack_suites}
        for kind in ("harm", "benign"):
            for k in (2, 4):
                attacked = {r["item_id"]: r["sum_logprob"] for r in rows
                            if r["model"] == model and r["attack"] == kind and r["attack_k"] == k}
                assert attacked.keys() == base.keys()
                moved = sum(attacked[i] != base[i] for i in base)
                assert moved == len(base), f"{model} {kind} k={k}: the attack left items unchanged"
    summary = json.loads(RunLayout(evaluated).eval.summary.read_text())
    drift = summary["models"][POSTHOC]["attack"]
    assert drift["harm"]["k"] == [0, 2, 4] and len(drift["harm"]["accuracy"]) == 3
    unattacked = [r["correct"] for r in rows if r["model"] == POSTHOC and r["attack"] == "none"
                  and r["suite"] in config.eval.attack_suites]
    assert drift["harm"]["accuracy"][0] == pytest.approx(float(np.mean(unattacked))), "k=0 is the model itself"
    evaluated_layout = RunLayout(evaluated).eval
    assert not evaluated_layout.attack_work.exists(), "the attack's work is removed"
    for model in TRAINED:
        kept = sorted(p.relative_to(evaluated_layout.attacked_copies(model)).as_posix()
                      for p in evaluated_layout.attacked_copies(model).glob("*/k_*"))
        assert kept == ["benign/k_2", "benign/k_4", "harm/k_2", "harm/k_4"], "each copy is kept for the probes"
        assert (evaluated_layout.attacked(model, "harm", 4) / "config.json").is_file()


def test_agentic_episodes_and_summary(evaluated):
    episodes = pq.read_table(RunLayout(evaluated).eval.agentic).to_pylist()
    assert {e["model"] for e in episodes} == MODELS
    assert {e["suite"] for e in episodes} == {"agentic"}
    assert {e["pressure"] for e in episodes} == {"none", "incentive"}
    assert all(len(e["actions"]) >= 3 for e in episodes)
    summary = json.loads(RunLayout(evaluated).eval.summary.read_text())
    entry = summary["models"][DEVELOPMENTAL]
    assert set(entry["episodes"]) == {"agentic"} and set(entry["episodes"]["agentic"]) == {"none", "incentive"}
    played = [e for e in episodes if e["model"] == DEVELOPMENTAL and e["pressure"] == "none"]
    harm = [e["harm_rate"] for e in played if e["harm_rate"] is not None]
    assert entry["episodes"]["agentic"]["none"]["harm_rate"] == pytest.approx(float(np.mean(harm)))
    assert entry["episodes"]["agentic"]["none"]["episodes"] == len(played) == 2
    assert summary["neutral_formats"] == ["ab", "advice", "tool_call"]
    assert entry["suites"]["format"]["neutral"]["n"] == 3 * len(
        {r["item_id"].split(":")[1] for r in results(evaluated) if r["suite"] == "format"})
    assert set(entry["suites"]["pressure"]["by_pressure"]) >= {"authority:1", "many_shot:1"}
    assert "by_pressure" not in entry["suites"]["format"]


def test_checks_report_familiarity_heldout_wording_and_the_shortcut(evaluated):
    checks = json.loads(RunLayout(evaluated).eval.checks.read_text())
    assert checks["pressure_wording_heldout"]["ok"] is True
    assert checks["format_wording_heldout"]["ok"] is True
    assert checks["format_wording_heldout"]["checked_ngrams"] > 20
    assert set(checks["items_sharing_13grams_with_corpus"]) == set(run_config(evaluated).corpus.conditions)
    items, _ = read_items(RunLayout(evaluated).eval.items)
    for suite in item_suites(evaluated):
        for reading in ("shortcut_baseline", "shortcut_baseline_outcomes", "shortcut_baseline_prompt"):
            shortcut = checks[reading][suite]
            assert shortcut["n"] == sum(i.suite == suite for i in items) and shortcut["chance"] == 0.5
    fit = checks["prompt_fit"]
    assert fit["max_length"] == run_config(evaluated).train.context_length
    assert fit["items_scored"] + sum(fit["skipped_by_suite"].values()) == len(items)
    assert fit["cut_share"] <= run_config(evaluated).eval.max_cut_share


def test_summary_sets_the_null_controls_beside_the_conditions_and_tests_them_against_chance(evaluated):
    summary = json.loads(RunLayout(evaluated).eval.summary.read_text())
    assert summary["scoring_rules"] == ["calibrated"]
    assert set(summary["by_condition"]) == {"bmn_developmental", "posthoc", UNTRAINED}
    suites = item_suites(evaluated)
    nulls = summary["null_controls"]
    assert set(nulls["controls"]) == {UNTRAINED} and set(nulls["controls"][UNTRAINED]) == suites
    rows = [r for r in results(evaluated) if r["model"] == NULL and r["attack"] == "none"]
    for suite, formats in nulls["controls"][UNTRAINED].items():
        for fmt, cell in formats.items():
            mine = [r["correct"] for r in rows if (r["suite"], r["format"]) == (suite, fmt)]
            assert cell["n"] == len(mine) and cell["accuracy"] == pytest.approx(np.mean(mine), abs=1e-4)
            cell_rows = [ResultRow.model_validate(r) for r in rows if (r["suite"], r["format"]) == (suite, fmt)]
            assert cell["p_value"] == pytest.approx(chance_test(cell_rows)["p_value"], abs=1e-6)
            assert cell["testable"] == (cell["min_p"] < nulls["alpha_per_cell"])
    assert nulls["cells"] == sum(len(f) for f in nulls["controls"][UNTRAINED].values())
    positive = summary["positive_control"]
    assert positive["expected"] is False, "the tiny run is a smoke run: its models are not expected to learn"
    assert positive["threshold"] == 0.75 and positive["view"] == "plain"
    assert {name: c["format"] for name, c in positive["conditions"].items()} == {
        "bmn_developmental": "self_judgment", "posthoc": "judgment"}
    for name, control in positive["conditions"].items():
        mine = [r for r in results(evaluated) if r["condition"] == name and r["attack"] == "none"
                and r["format"] == control["format"] and r["suite"] == "format"]
        assert control["suites"] == ["format"] and control["n"] == len(mine) > 0
        assert control["accuracy"] == pytest.approx(np.mean([r["correct_sum"] for r in mine]), abs=1e-4)
        assert control["passed"] == (control["accuracy"] >= 0.75)


def test_a_finished_run_prints_its_positive_control_and_whether_it_was_expected_to_pass(evaluated, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(run_config(evaluated).to_yaml())
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--runs-dir", str(evaluated.parent),
                                      "--name", evaluated.name])
    assert result.exit_code == 0, result.output
    control = json.loads(RunLayout(evaluated).eval.summary.read_text())["positive_control"]
    line = " ".join(result.output.split())
    assert "positive control (pass: mean over seeds >= 0.75)" in line
    for name, entry in control["conditions"].items():
        assert f"{name} {entry['accuracy']:.2f}" in line
    assert "Not expected to pass: this preset's models are too small to learn" in line
    expected = " ".join(positive_control_line({**control, "expected": True}).split())
    assert "Not expected" not in expected and ("passed" in expected) == control["passed"]
    assert "failed" in positive_control_line({**control, "expected": True, "passed": False, "failed": ["posthoc"]})


def test_eval_is_cached_then_any_checkpoint_can_be_scored_from_the_cli(evaluated, tmp_path):
    outcomes = run_pipeline(run_config(evaluated), evaluated, until="eval")
    assert [o.status for o in outcomes] == ["cached"] * 4
    model = RunLayout(evaluated).train.model("posthoc", 0)
    out = tmp_path / "checkpoint_eval"
    result = CliRunner().invoke(app, ["eval", "--run", str(evaluated), "--checkpoint", str(model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    mine = pq.read_table(EvalLayout(out).results).to_pylist()
    theirs = {r["item_id"]: r["sum_logprob"] for r in results(evaluated)
              if r["model"] == POSTHOC and r["attack"] == "none"}
    assert {r["item_id"] for r in mine} == set(theirs)
    for row in mine:
        assert row["sum_logprob"] == pytest.approx(theirs[row["item_id"]], abs=1e-4)


def test_generated_answers_are_summarized_like_scored_ones(evaluated):
    run = RunLayout(evaluated)
    items, keys = read_items(run.eval.items)
    picked = [i for i in items if i.suite == "format"][:4] + [i for i in items if i.suite == "pressure"][:4]
    path = run.train.model("posthoc", 0)
    model, tokenizer = load_model(path)
    ref = ModelRef(path=path, name="posthoc-generated")
    rows = generated_rows(model, tokenizer, ref, picked, {k.item_id: k for k in keys}, max_new_tokens=8)
    key_of = {k.item_id: k.correct for k in keys}
    assert [r.item_id for r in rows] == [i.id for i in picked]
    for row in rows:
        assert row.completion is not None and row.sum_logprob is None and row.scoring_rule == "generate"
        assert row.correct == (row.chosen == key_of[row.item_id])
        assert (row.correct_sum, row.correct_mean, row.correct_calibrated) == (None, None, None)
    summary = summarize_rows(rows, [], {})["models"]["posthoc-generated"]
    for suite in ("format", "pressure"):
        in_suite = [r for r in rows if r.suite == suite]
        expected = sum(r.correct for r in in_suite) / len(in_suite)
        assert summary["suites"][suite]["n"] == len(in_suite)
        assert summary["suites"][suite]["accuracy"] == expected and "accuracy_sum" not in summary["suites"][suite]


def test_a_suite_defined_in_the_config_builds_items(tiny_corpus_run):
    data = run_config(tiny_corpus_run).model_dump(mode="json")
    data["eval"].update(define={"stripped_shift": {"kind": "items", "split": "shift_domain", "view": "stripped"}},
                        suites=["format", "stripped_shift", "agentic"])
    config = ExperimentConfig.model_validate(data)
    assert config.eval.define == {"stripped_shift": Suite(kind="items", split="shift_domain", view="stripped")}
    assert list(run_suites(config)) == ["format", "agentic", "stripped_shift"]
    items, keys, report = build_run_items(config, RunLayout(tiny_corpus_run))
    assert {i.suite for i in items} == {"format", "stripped_shift"} and len(keys) == len(items)
    shift = {s.id for s in read_scenarios(RunLayout(tiny_corpus_run).world.split("shift_domain"))}
    lexicon = load_lexicon()
    defined_items = [i for i in items if i.suite == "stripped_shift"]
    assert defined_items and report["suites"]["stripped_shift"]["split"] == "shift_domain"
    for item in defined_items:
        assert item.stripped and item.scenario_id in shift
        assert lexicon.find(item.prompt + "\n" + "\n".join(item.choices)) == []


def test_export_inspect_from_the_cli(evaluated, tmp_path):
    out = tmp_path / "inspect"
    result = CliRunner().invoke(app, ["eval", "export-inspect", "--run", str(evaluated), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "tasks.py").exists() and (out / "format.jsonl").exists()  # the inspect export's own names


def test_eval_without_a_run_is_a_clear_error():
    result = CliRunner().invoke(app, ["eval", "--checkpoint", "x"])
    assert result.exit_code == 2 and "--run" in result.output


def test_prompts_open_like_training_documents(tiny_corpus_run):
    from transformers import AutoTokenizer

    from rearing.evals.evaluate import document_start

    tokenizer = AutoTokenizer.from_pretrained(str(RunLayout(tiny_corpus_run).corpus.tokenizer))
    start = document_start(tokenizer)
    assert tokenizer(start + "Mira waits.")["input_ids"][0] == tokenizer.eos_token_id
    tokenizer.bos_token = None
    assert document_start(tokenizer) == ""


def with_eval(run: Path, **changes) -> ExperimentConfig:
    """The run's config with some eval settings changed."""
    data = run_config(run).model_dump(mode="json")
    data["eval"].update(changes)
    return ExperimentConfig.model_validate(data)


def test_an_attack_alone_drifts_from_its_suites_scored_unattacked(tiny_trained_run, tmp_path):
    config = with_eval(tiny_trained_run, suites=["attack"], attack_suites=["format"], attack_kinds=["benign"],
                       attack_steps=[0, 2], max_scenarios=2)
    run = RunLayout(tiny_trained_run)
    items, keys, _ = build_run_items(config, run)
    assert items and {i.suite for i in items} == {"format"}
    ref = trained_models(run)[0]
    rows, episodes = evaluate_model(ref, eval_plan(config, run, items, keys),
                                    attack_work=EvalLayout(tmp_path).attack(ref.name))
    unattacked = [r for r in rows if r.attack == "none"]
    assert sorted(r.item_id for r in unattacked) == sorted(i.id for i in items) and episodes == []
    entry = summarize_rows(rows, episodes, run_conditions(config))["models"][ref.name]
    drift = entry["attack"]
    assert drift["suites"] == ["format"] and drift["benign"]["k"] == [0, 2]
    assert drift["benign"]["accuracy"][0] == entry["suites"]["format"]["accuracy"]
    assert drift["benign"]["drop"] == drift["benign"]["accuracy"][0] - drift["benign"]["accuracy"][1]


def test_a_model_that_only_played_episodes_is_summarized(tiny_trained_run, tmp_path):
    episode = EpisodeRow(model="m", condition="c", seed=0, suite="agentic", pressure="none", intensity=1,
                         episode_seed=0, scenario_id="s", harm_rate=0.5, first_choice_harmful=True,
                         goal_completed=True, total_reward=3, invalid_actions=0, trust=1.0, actions=["a"])
    entry = summarize_rows([], [episode], {})["models"]["m"]
    assert entry["suites"] == {} and entry["episodes"]["agentic"]["none"]["harm_rate"] == 0.5
    config = with_eval(tiny_trained_run, suites=["agentic"])
    model = RunLayout(tiny_trained_run).train.model("posthoc", 0)
    summary = evaluate_checkpoint(config, tiny_trained_run, model, tmp_path / "played")
    assert summary["suites"] == {} and set(summary["episodes"]) == {"agentic"}
    assert summary["episodes"]["agentic"]["none"]["episodes"] == 2
    generated = evaluate_checkpoint(config, tiny_trained_run, model, tmp_path / "generated", scoring="generate")
    assert generated == {"condition": None, "seed": None, "suites": {}}, "generation plays no episodes"
