"""The eval stage: items from the held-out splits, checks on them, then every trained model.

Outputs in ``eval/``: ``items/`` (items.jsonl, keys.jsonl apart, items_report.json),
``checks.json`` (leakage and familiarity against every condition's corpus, held-out pressure
wording, the bag-of-words shortcut's accuracy per suite), ``results.parquet`` (one row per model x
item x attack step), ``agentic.parquet`` (one row per episode) and ``summary.json``.
Per-model results are kept in ``models/`` as they finish, so a killed stage resumes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.corpus.stream import TokenStream
from rearing.evals.evaluate import ITEM_SUITES, ModelRef, evaluate_model, summarize_rows, write_parquet
from rearing.evals.items import build_items, check_item_leakage, read_items, write_items
from rearing.evals.pressure import check_pressure_heldout
from rearing.evals.shortcut import shortcut_accuracy, train_shortcut
from rearing.io import read_json, write_json_atomic
from rearing.pipeline import StageSpec
from rearing.train.loop import SUMMARY
from rearing.world.store import read_scenarios

HELD_OUT = ("eval", "shift_domain", "shift_vocab")


def item_suites(config: ExperimentConfig) -> list[str]:
    wanted = {s for s in config.eval.suites if s in ITEM_SUITES}
    if "attack" in config.eval.suites:
        wanted |= set(config.eval.attack_suites)
    return [s for s in ITEM_SUITES if s in wanted]


def build_eval_items(config: ExperimentConfig, run_dir: Path, out: Path) -> Path:
    splits = {name: read_scenarios(run_dir / "world" / "splits" / f"{name}.jsonl") for name in HELD_OUT}
    items, keys, report = build_items(splits, config.seed, item_suites(config), config.eval.max_scenarios,
                                      many_shot=config.eval.many_shot, max_outcomes=config.eval.max_outcomes)
    write_items(out, items, keys, report)
    return out


def corpus_checks(config: ExperimentConfig, run_dir: Path, items, keys, train) -> dict:
    """How much each corpus shares with the items, held-out pressure wording, the shortcut baseline.

    The shortcut is read two ways: from the answer wording alone (the surface cue a model could
    exploit without reading the situation; should sit at chance) and from the outcome lines shown
    for each option (word-to-valence association of consequences; items show consequences on
    purpose, so this measures how far knowing which outcome words are bad already solves a suite).
    """
    familiarity, all_texts = {}, []
    for condition in config.corpus.conditions:
        texts = [d.text for d in TokenStream.open(run_dir / "corpus" / condition).docs()]
        all_texts += texts
        report = check_item_leakage(items, texts)
        shared = set(report.contaminated_ids)
        familiarity[condition] = {
            fmt: round(sum(i.id in shared for i in items if i.format == fmt)
                       / max(1, sum(i.format == fmt for i in items)), 4)
            for fmt in sorted({i.format for i in items})
        }
    pressure = check_pressure_heldout(all_texts)
    shortcut = train_shortcut(train, seed=config.seed)
    return {
        "items_sharing_13grams_with_corpus": familiarity,
        "pressure_wording_heldout": pressure.to_dict(),
        "shortcut_baseline": shortcut_accuracy(shortcut, items, keys, reading="choice"),
        "shortcut_baseline_outcomes": shortcut_accuracy(shortcut, items, keys, reading="outcomes"),
        "shortcut_c": shortcut.c,
    }


def trained_models(run_dir: Path) -> list[ModelRef]:
    refs = []
    for summary_path in sorted((run_dir / "train").glob(f"*/seed_*/{SUMMARY}")):
        summary = read_json(summary_path)
        refs.append(ModelRef(path=summary_path.parent / "model", name=f"{summary['condition']}/seed_{summary['seed']}",
                             condition=summary["condition"], seed=summary["seed"]))
    return refs


def run_eval(config: ExperimentConfig, run_dir: Path, out_dir: Path) -> None:
    import pyarrow.parquet as pq

    items_dir = out_dir / "items"
    if not (items_dir / "keys.jsonl").exists():
        build_eval_items(config, run_dir, items_dir)
    items, keys = read_items(items_dir)
    train = read_scenarios(run_dir / "world" / "splits" / "train.jsonl")
    if not (out_dir / "checks.json").exists():
        write_json_atomic(out_dir / "checks.json", corpus_checks(config, run_dir, items, keys, train))
    agentic_pool = [s for s in read_scenarios(run_dir / "world" / "splits" / "eval.jsonl") if s.has_moral_contrast]
    per_model = out_dir / "models"
    per_model.mkdir(exist_ok=True)
    rows, episodes = [], []
    for ref in trained_models(run_dir):
        stem = ref.name.replace("/", "__")
        done_rows, done_episodes = per_model / f"{stem}.parquet", per_model / f"{stem}.agentic.parquet"
        if not done_episodes.exists():
            model_rows, model_episodes = evaluate_model(
                ref, items, keys, config.eval, config.train, train, agentic_pool, out_dir / ".attack" / stem,
                config.seed)
            write_parquet(done_rows, model_rows)
            write_parquet(done_episodes, model_episodes)
        rows += pq.read_table(done_rows).to_pylist()
        episodes += pq.read_table(done_episodes).to_pylist()
    shutil.rmtree(out_dir / ".attack", ignore_errors=True)
    write_parquet(out_dir / "results.parquet", rows)
    write_parquet(out_dir / "agentic.parquet", episodes)
    write_json_atomic(out_dir / "summary.json", summarize_rows(rows, episodes, config.corpus.conditions))


EVAL_STAGE = StageSpec(name="eval", sections=("eval", "train"), upstream=("world", "corpus", "train"), run=run_eval)
