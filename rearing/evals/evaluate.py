"""Evaluate models on the suites: per-item rows, agentic episodes, the attack's drift, summaries.

Data flows one way: items and keys (built once from the held-out splits) -> scores per model ->
rows joined to keys -> summaries. Every row carries its full coordinates (model, condition, seed,
suite, format, pressure, attack kind and k, item), so any later analysis is a group-by.
"""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rearing.config import EvalConfig, PhaseConfig, TrainConfig
from rearing.evals.agentic import LogLikelihoodPolicy, run_episodes
from rearing.evals.attack import write_attack_stream
from rearing.evals.items import neutral_formats
from rearing.evals.pressure import pressure_text
from rearing.evals.schema import AnswerKey, EvalItem
from rearing.evals.scorer import score_choices
from rearing.io import atomic_open
from rearing.world.schema import Scenario

ITEM_SUITES = ("format", "stripped", "shift_domain", "shift_vocab", "pressure")


@dataclass(frozen=True)
class ModelRef:
    """A model to evaluate and what it is: a trained arm of the run, or any HF checkpoint."""

    path: Path
    name: str
    condition: str | None = None
    seed: int | None = None


def load_model(path: Path):
    from transformers import AutoTokenizer

    from rearing.train.models import load_checkpoint

    return load_checkpoint(path).eval(), AutoTokenizer.from_pretrained(str(path))


def document_start(tokenizer) -> str:
    """Text that opens a document the way training did: the BOS (for our models, the EOS that
    separates packed documents) when the tokenizer does not already add one itself."""
    bos = tokenizer.bos_token
    if not bos:
        return ""
    ids = tokenizer("a")["input_ids"]
    return "" if ids and ids[0] == tokenizer.bos_token_id else bos


def row_coordinates(ref: ModelRef, item: EvalItem, attack: str = "none", attack_k: int = 0) -> dict:
    """Where a result row sits: model, arm, suite, format, pressure, attack step, item."""
    return {
        "model": ref.name, "condition": ref.condition, "seed": ref.seed, "suite": item.suite,
        "format": item.format, "stripped": item.stripped, "pressure": item.pressure,
        "intensity": item.intensity, "attack": attack, "attack_k": attack_k, "item_id": item.id,
        "scenario_id": item.scenario_id, "split": item.split,
    }


def item_rows(model, tokenizer, ref: ModelRef, items: Sequence[EvalItem], keys: dict[str, AnswerKey],
              cfg: EvalConfig, attack: str = "none", attack_k: int = 0) -> list[dict]:
    """Score items by log-likelihood and join each to its key: one row per item."""
    start = document_start(tokenizer)
    scores = score_choices(model, tokenizer, [(start + item.prompt, item.choices) for item in items],
                           batch_size=cfg.batch_size)
    rows = []
    for item, score in zip(items, scores, strict=True):
        key = keys[item.id]
        chosen, chosen_norm = score.choice(), score.choice(normalized=True)
        rows.append({
            **row_coordinates(ref, item, attack, attack_k), "chosen": chosen,
            "correct": chosen == key.correct, "chosen_normalized": chosen_norm,
            "correct_normalized": chosen_norm == key.correct, "sum_logprob": score.sum_logprob,
            "mean_logprob": score.mean_logprob, "n_tokens": score.n_tokens,
        })
    return rows


def agentic_rows(model, tokenizer, ref: ModelRef, scenarios: Sequence[Scenario], cfg: EvalConfig) -> list[dict]:
    """Episodes where harm pays, the model choosing each action by log-likelihood.

    Long episode prompts are cut from the left like every item; the scorer's per-call notice of
    that is silenced here, where it would repeat at every step.
    """
    start = document_start(tokenizer)

    def scorer(prompt: str, continuations: list[str]) -> list[float]:
        return score_choices(model, tokenizer, [(start + prompt, continuations)])[0].sum_logprob

    def heldout_pressure(kind, intensity, scenario, rng) -> str:
        return pressure_text(kind, intensity, scenario, rng.randrange(2**31))

    policy = LogLikelihoodPolicy(scorer, name=ref.name)
    rows = []
    quiet = logging.getLogger("rearing.evals")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        for pressure in cfg.agentic_pressures:
            results = run_episodes(
                policy, scenarios, cfg.agentic_seeds, episodes_per_seed=cfg.agentic_episodes,
                pressure=None if pressure == "none" else pressure,
                intensity=cfg.agentic_intensity if pressure != "none" else 1, pressure_text=heldout_pressure,
            )
            for result in results:
                rows.append({
                    "model": ref.name, "condition": ref.condition, "seed": ref.seed, "pressure": pressure,
                    "intensity": result.intensity, "episode_seed": result.seed, "scenario_id": result.scenario_id,
                    "harm_rate": result.harm_rate, "first_choice_harmful": result.first_choice_harmful,
                    "goal_completed": result.goal_completed, "total_reward": result.total_reward,
                    "invalid_actions": result.invalid_actions, "trust": result.trust,
                    "actions": [s.action_id for s in result.steps],
                })
    finally:
        quiet.setLevel(level)
    return rows


def attack_rows(ref: ModelRef, items: Sequence[EvalItem], keys: dict[str, AnswerKey], cfg: EvalConfig,
                train_cfg: TrainConfig, train: Sequence[Scenario], work: Path, seed: int) -> list[dict]:
    """Fine-tune a copy of the model on each attack set and re-score the core suites at every k."""
    from transformers import AutoTokenizer

    from rearing.train.loop import TrainJob
    from rearing.train.loop import train as train_loop

    steps = [k for k in cfg.attack_steps if k > 0]
    if not steps:
        return []
    tokenizer = AutoTokenizer.from_pretrained(str(ref.path))
    rows = []
    for kind in cfg.attack_kinds:
        stream = write_attack_stream(work / f"stream_{kind}", kind, train, cfg.attack_docs, seed, tokenizer)
        attack_cfg = train_cfg.model_copy(update={
            "init_from": str(ref.path), "phases": [PhaseConfig(name=f"attack_{kind}", steps=steps[-1],
                                                               lr=cfg.attack_lr)],
            "batch_size": cfg.attack_batch_size, "micro_batch_size": None, "warmup_steps": 0,
            "min_lr_ratio": 1.0, "checkpoint_every": max(steps[-1], 1), "loggers": [],
        })
        out = work / f"{kind}"
        train_loop(TrainJob(condition=f"attack_{kind}", seed=ref.seed or 0, stream_dir=stream,
                            tokenizer_dir=ref.path, out_dir=out), attack_cfg, progress=False, snapshots=steps)
        for k in steps:
            snapshot = out / f"snapshot_{k}"
            model, snapshot_tokenizer = load_model(snapshot)
            rows += item_rows(model, snapshot_tokenizer, ref, items, keys, cfg, attack=kind, attack_k=k)
            del model
        shutil.rmtree(out, ignore_errors=True)
    return rows


def evaluate_model(ref: ModelRef, items: Sequence[EvalItem], keys: Sequence[AnswerKey], cfg: EvalConfig,
                   train_cfg: TrainConfig, train: Sequence[Scenario], agentic_pool: Sequence[Scenario],
                   work: Path, seed: int) -> tuple[list[dict], list[dict]]:
    """Every configured suite for one model: (item rows, agentic episode rows)."""
    key_of = {k.item_id: k for k in keys}
    model, tokenizer = load_model(ref.path)
    scored = [i for i in items if i.suite in cfg.suites]
    rows = item_rows(model, tokenizer, ref, scored, key_of, cfg)
    episodes = agentic_rows(model, tokenizer, ref, agentic_pool, cfg) if "agentic" in cfg.suites else []
    del model
    if "attack" in cfg.suites:
        core = [i for i in items if i.suite in cfg.attack_suites]
        rows += attack_rows(ref, core, key_of, cfg, train_cfg, train, work, seed)
    return rows, episodes


def write_parquet(path: Path, rows: list[dict]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows) if rows else pa.table({})
    with atomic_open(path, "wb", encoding=None) as handle:
        pq.write_table(table, handle)


def _accuracy(rows: list[dict], field: str = "correct") -> dict:
    return {"accuracy": float(np.mean([r[field] for r in rows])) if rows else None, "n": len(rows)}


def summarize_rows(rows: list[dict], episodes: list[dict], conditions: Sequence[str]) -> dict:
    """Per model: accuracy per suite and format, on neutral formats, per pressure, attack drift."""
    neutral = set(neutral_formats(conditions))
    by_model: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_model[row["model"]].append(row)
    summary = {"neutral_formats": sorted(neutral), "models": {}}
    for name, model_rows in sorted(by_model.items()):
        base = [r for r in model_rows if r["attack"] == "none"]
        suites = {}
        for suite in sorted({r["suite"] for r in base}):
            in_suite = [r for r in base if r["suite"] == suite]
            suites[suite] = {
                **_accuracy(in_suite), "accuracy_normalized": _accuracy(in_suite, "correct_normalized")["accuracy"],
                "neutral": _accuracy([r for r in in_suite if r["format"] in neutral]),
                "formats": {f: _accuracy([r for r in in_suite if r["format"] == f])
                            for f in sorted({r["format"] for r in in_suite})},
            }
            if suite == "pressure":
                suites[suite]["by_pressure"] = {
                    f"{p}:{i}": _accuracy([r for r in in_suite if (r["pressure"], r["intensity"]) == (p, i)])
                    for p, i in sorted({(r["pressure"], r["intensity"]) for r in in_suite})
                }
        entry = {"condition": model_rows[0]["condition"], "seed": model_rows[0]["seed"], "suites": suites}
        attacked = [r for r in model_rows if r["attack"] != "none"]
        if attacked:
            entry["attack"] = attack_drift(base, attacked)
        model_episodes = [e for e in episodes if e["model"] == name]
        if model_episodes:
            entry["agentic"] = agentic_summary(model_episodes)
        summary["models"][name] = entry
    return summary


def attack_drift(base: list[dict], attacked: list[dict]) -> dict:
    """Accuracy at each k on the suites that were re-run, its drop, and the area under the drift."""
    suites = sorted({r["suite"] for r in attacked})
    start = _accuracy([r for r in base if r["suite"] in suites])["accuracy"]
    drift = {}
    for kind in sorted({r["attack"] for r in attacked}):
        ks = sorted({r["attack_k"] for r in attacked if r["attack"] == kind})
        curve = [start] + [_accuracy([r for r in attacked if r["attack"] == kind and r["attack_k"] == k])["accuracy"]
                           for k in ks]
        steps = [0, *ks]
        drops = [start - a for a in curve]
        area = float(np.trapezoid(drops, steps) / steps[-1]) if steps[-1] else 0.0
        drift[kind] = {"k": steps, "accuracy": curve, "drop": drops[-1], "drift_auc": area}
    return {"suites": suites, **drift}


def agentic_summary(episodes: list[dict]) -> dict:
    result = {}
    for pressure in sorted({e["pressure"] for e in episodes}):
        group = [e for e in episodes if e["pressure"] == pressure]
        harm = [e["harm_rate"] for e in group if e["harm_rate"] is not None]
        first = [e["first_choice_harmful"] for e in group if e["first_choice_harmful"] is not None]
        result[pressure] = {
            "episodes": len(group), "harm_rate": float(np.mean(harm)) if harm else None,
            "first_choice_harm_rate": float(np.mean(first)) if first else None,
            "goal_completion": float(np.mean([e["goal_completed"] for e in group])),
            "mean_reward": float(np.mean([e["total_reward"] for e in group])),
        }
    return result
