"""Evaluate any Hugging Face checkpoint on a run's items: the same suites the run's own models get."""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.evals.evaluate import ModelRef, Scoring, evaluate_model, model_fit, summarize_rows, write_parquet
from rearing.evals.items import items_written, read_items
from rearing.evals.schema import AnswerKey, EvalItem
from rearing.io import write_json_atomic
from rearing.layout import EvalLayout, RunLayout


def run_items(config: ExperimentConfig, run_dir: Path) -> tuple[list[EvalItem], list[AnswerKey]]:
    """The run's eval items: those of its eval stage, else built now from its world splits."""
    from rearing.evals.stage import build_run_items

    run = RunLayout(run_dir)
    if items_written(run.eval.items):
        return read_items(run.eval.items)
    if not run.world.split("eval").exists():
        raise FileNotFoundError(f"{run.root}: no world splits to build eval items from (run the world stage)")
    items, keys, _ = build_run_items(config, run)
    return items, keys


def evaluate_checkpoint(config: ExperimentConfig, run_dir: Path, checkpoint: Path, out: Path,
                        scoring: Scoring = "loglik") -> dict:
    """Score ``checkpoint`` on every item suite (and, by log-likelihood, the episode suites) of the run
    in ``run_dir``, writing results, episodes and the summary into ``out``; attacks are not run."""
    from rearing.corpus.build import run_conditions
    from rearing.evals.stage import eval_plan

    items, keys = run_items(config, run_dir)
    ref = ModelRef(path=checkpoint, name=checkpoint.name)
    plan = eval_plan(config, RunLayout(run_dir), items, keys)
    rows, episodes = evaluate_model(ref, plan, scoring)
    written = EvalLayout(out)
    write_parquet(written.results, rows)
    write_parquet(written.agentic, episodes)
    summary = summarize_rows(rows, episodes, run_conditions(config), models=[ref])["models"][ref.name]
    if rows:
        summary["prompt_fit"] = model_fit(checkpoint, plan).to_dict()
    write_json_atomic(written.summary, summary)
    return summary
