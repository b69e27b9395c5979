"""Evaluate any Hugging Face checkpoint on a run's items: the same suites the run's own models get."""

from __future__ import annotations

import shutil
from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.evals.evaluate import (
    ModelRef,
    agentic_rows,
    item_rows,
    load_model,
    row_coordinates,
    summarize_rows,
    write_parquet,
)
from rearing.evals.items import read_items
from rearing.evals.schema import AnswerKey, EvalItem
from rearing.io import write_json_atomic
from rearing.world.store import read_scenarios


def run_items(config: ExperimentConfig, run_dir: Path) -> tuple[list[EvalItem], list[AnswerKey]]:
    """The run's eval items: those of its eval stage, else built now from its world splits."""
    from rearing.evals.stage import build_eval_items

    built = run_dir / "eval" / "items"
    if (built / "keys.jsonl").exists():
        return read_items(built)
    if not (run_dir / "world" / "splits" / "eval.jsonl").exists():
        raise FileNotFoundError(f"{run_dir}: no world splits to build eval items from (run the world stage)")
    scratch = run_dir / ".eval-items"
    shutil.rmtree(scratch, ignore_errors=True)
    build_eval_items(config, run_dir, scratch)
    return read_items(scratch)


def evaluate_checkpoint(config: ExperimentConfig, run_dir: Path, checkpoint: Path, out: Path,
                        scoring: str = "loglik") -> dict:
    """Score ``checkpoint`` on every item suite (and agentic episodes) of the run; attacks are not run."""
    from rearing.evals.scorer import answer_items

    items, keys = run_items(config, run_dir)
    key_of = {k.item_id: k for k in keys}
    model, tokenizer = load_model(checkpoint)
    ref = ModelRef(path=checkpoint, name=checkpoint.name)
    if scoring == "generate":
        answers = answer_items(model, tokenizer, items)
        rows = [{**row_coordinates(ref, i), "chosen": a.choice, "correct": a.choice == key_of[i.id].correct,
                 "completion": a.completion} for i, a in zip(items, answers, strict=True)]
        episodes = []
    else:
        rows = item_rows(model, tokenizer, ref, items, key_of, config.eval)
        pool = [s for s in read_scenarios(run_dir / "world" / "splits" / "eval.jsonl") if s.has_moral_contrast]
        episodes = agentic_rows(model, tokenizer, ref, pool, config.eval) if "agentic" in config.eval.suites else []
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(out / "results.parquet", rows)
    write_parquet(out / "agentic.parquet", episodes)
    summary = summarize_rows(rows, episodes, config.corpus.conditions)["models"][ref.name]
    write_json_atomic(out / "summary.json", summary)
    return summary
