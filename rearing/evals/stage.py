"""The eval stage: items from the held-out splits, checks on them, then every trained model.

The run's suites (``eval.suites``, looked up in the registry of :mod:`rearing.evals.suites`) decide
everything: item suites become items, episode suites are played on their split, attack suites
re-score ``eval.attack_suites`` after fine-tuning (and score them unattacked: the drift's k = 0).
Outputs in ``eval/`` (``rearing.layout.EvalLayout``): ``items/`` (items.jsonl, keys.jsonl apart,
items_report.json), ``checks.json`` (leakage and familiarity against every condition's corpus,
held-out pressure and format wording, the bag-of-words shortcut's accuracy per suite),
``results.parquet`` (one ``ResultRow`` per model x item x attack step), ``agentic.parquet`` (one
``EpisodeRow`` per episode), ``summary.json`` and, with ``eval.keep_attacked``, every attacked copy
(``attacked/``) for the probes. Beside the trained models, an untrained model per
training seed is scored as a null control (``untrained/``); checks.json says how the prompts fit the
run's models (they share one tokenizer and context length).
Per-model results are kept in ``models/`` as they finish, so a killed stage resumes.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from rearing.cells import Cell, Executor, relative
from rearing.config import ExperimentConfig
from rearing.corpus.build import run_conditions
from rearing.corpus.conditions import practised_formats
from rearing.corpus.stream import TokenStream
from rearing.datafile import package_data_files, reference_file
from rearing.evals.evaluate import (
    EvalPlan,
    ModelRef,
    evaluate_model,
    model_fit,
    read_parquet,
    summarize_rows,
    write_parquet,
)
from rearing.evals.formats import check_format_wording_heldout
from rearing.evals.items import build_items, check_item_leakage, items_written, read_items, write_items
from rearing.evals.pressure import check_pressure_heldout
from rearing.evals.schema import AnswerKey, EpisodeRow, EvalItem, ResultRow
from rearing.evals.shortcut import overlap_accuracy, shortcut_accuracy, train_shortcut
from rearing.evals.suites import Suite, all_suites
from rearing.evals.wording import DEFAULT_HELDOUT_N
from rearing.io import read_json, write_json_atomic
from rearing.layout import HELD_OUT_SPLITS, UNTRAINED, EvalLayout, RunLayout, StageSpec, model_name
from rearing.world.contamination import NgramIndex
from rearing.world.schema import Scenario
from rearing.world.store import read_scenarios

log = logging.getLogger("rearing.evals")


def run_suites(config: ExperimentConfig) -> dict[str, Suite]:
    """The suites the run evaluates, in registry order (built-ins first, then the run's own)."""
    return {name: suite for name, suite in all_suites(config.eval.define).items() if name in config.eval.suites}


def item_suites(config: ExperimentConfig) -> dict[str, Suite]:
    """The item suites to build: the run's, and those an attack suite re-scores."""
    suites = run_suites(config)
    wanted = {name for name, suite in suites.items() if suite.kind == "items"}
    if any(suite.kind == "attack" for suite in suites.values()):
        wanted |= set(config.eval.attack_suites)
    return {name: suite for name, suite in all_suites(config.eval.define).items() if name in wanted}


def read_splits(run: RunLayout, names: tuple[str, ...] = HELD_OUT_SPLITS) -> dict[str, list[Scenario]]:
    return {name: read_scenarios(run.world.split(name)) for name in names}


def build_run_items(config: ExperimentConfig, run: RunLayout) -> tuple[list[EvalItem], list[AnswerKey], dict]:
    """The run's items, keys and report, built from its world's held-out splits."""
    return build_items(read_splits(run), config.seed, item_suites(config), run_conditions(config),
                       config.eval.max_scenarios, many_shot=config.eval.many_shot,
                       pressure_kinds=config.eval.pressure_kinds, max_outcomes=config.eval.max_outcomes)


def build_eval_items(config: ExperimentConfig, run: RunLayout, out: Path) -> Path:
    write_items(out, *build_run_items(config, run))
    return out


def corpus_checks(config: ExperimentConfig, run: RunLayout, items: list[EvalItem], keys: list[AnswerKey],
                  train: list[Scenario]) -> dict:
    """How much each corpus shares with the items, held-out pressure and format wording, the shortcut.

    The shortcut is read three ways: from the answer wording alone (the surface cue a model could
    exploit without reading the situation; should sit at chance), from the outcome lines shown for
    each option (word-to-valence association of consequences: how far knowing which outcome words
    are bad already solves a suite that shows them) and from the whole prompt (everything shown; on
    the outcome-hidden suite it must sit at chance); beside it, how often the option sharing most
    words with the situation is right (a situation paraphrasing the answer).
    """
    familiarity, all_texts = {}, []
    for condition in config.corpus.conditions:
        texts = [d.text for d in TokenStream.open(run.corpus.stream(condition)).docs()]
        all_texts += texts
        report = check_item_leakage(items, texts)
        shared = set(report.contaminated_ids)
        familiarity[condition] = {
            fmt: round(sum(i.id in shared for i in items if i.format == fmt)
                       / max(1, sum(i.format == fmt for i in items)), 4)
            for fmt in sorted({i.format for i in items})
        }
    heldout = NgramIndex(all_texts, n=DEFAULT_HELDOUT_N)
    shortcut = train_shortcut(train, seed=config.seed)
    return {
        "items_sharing_13grams_with_corpus": familiarity,
        "pressure_wording_heldout": check_pressure_heldout(heldout).to_dict(),
        "format_wording_heldout": check_format_wording_heldout(heldout, practised=practised_formats(run_conditions(config)))
        .to_dict(),
        "shortcut_baseline": shortcut_accuracy(shortcut, items, keys, reading="choice"),
        "shortcut_baseline_outcomes": shortcut_accuracy(shortcut, items, keys, reading="outcomes"),
        "shortcut_baseline_prompt": shortcut_accuracy(shortcut, items, keys, reading="prompt"),
        "shortcut_overlap": overlap_accuracy(items, keys, config.seed),
        "shortcut_c": shortcut.c,
    }


def eval_plan(config: ExperimentConfig, run: RunLayout, items: list[EvalItem], keys: list[AnswerKey]) -> EvalPlan:
    """What each model meets: the run's suites over these items, and the splits episodes and attacks use."""
    return EvalPlan(config=config, suites=run_suites(config), items=items, keys={k.item_id: k for k in keys},
                    splits=read_splits(run, ("train", *HELD_OUT_SPLITS)))


def trained_models(run: RunLayout) -> list[ModelRef]:
    refs = []
    for summary_path in run.train.summaries():
        summary = read_json(summary_path)
        condition, seed = summary["condition"], summary["seed"]
        refs.append(ModelRef(path=run.train.model(condition, seed), name=model_name(condition, seed),
                             condition=condition, seed=seed))
    return refs


def untrained_models(config: ExperimentConfig, trained: list[ModelRef], out: EvalLayout) -> list[ModelRef]:
    """The untrained null model of each training seed: the run's architecture and tokenizer, initialised
    as that seed's arms were before their first step (saved once, in ``eval/untrained/``)."""
    from transformers import AutoTokenizer

    from rearing.train.models import save_model, untrained_model

    if not trained:
        return []
    tokenizer = AutoTokenizer.from_pretrained(str(trained[0].path))
    refs = []
    for seed in sorted({ref.seed for ref in trained}):
        path = out.untrained(seed)
        if not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            model = untrained_model(config.train.model, config.train.init_from, tokenizer,
                                    config.train.context_length, seed)
            save_model(path, model, tokenizer)
        refs.append(ModelRef(path=path, name=model_name(UNTRAINED, seed), condition=UNTRAINED, seed=seed))
    return refs


def eval_cell(config: ExperimentConfig, run: RunLayout, out: EvalLayout, plan: EvalPlan, ref: ModelRef) -> Cell:
    """One model's evaluation as a cell: reads the model, writes its rows, its episodes and (when kept)
    its attacked copies."""
    attacks = ref.condition != UNTRAINED and bool(plan.of_kind("attack"))
    keep = attacks and config.eval.keep_attacked
    writes = [out.model_rows(ref.name), out.model_episodes(ref.name), *([out.attacked_copies(ref.name)] if keep else [])]
    return Cell(name=f"eval {ref.name}", work=evaluate_in_cell,
                args=(relative(out.root, run.root), relative(ref.path, run.root), ref.name, ref.condition, ref.seed,
                      plan, attacks, keep),
                reads=(relative(ref.path, run.root),), writes=tuple(relative(p, run.root) for p in writes))


def evaluate_in_cell(root: Path, out_dir: str, model_dir: str, name: str, condition: str, seed: int,
                     plan: EvalPlan, attacks: bool, keep: bool) -> None:
    """Evaluate one model (a cell's work) and write its rows; the episodes file, written last, marks it done."""
    out = EvalLayout(root / out_dir)
    ref = ModelRef(path=root / model_dir, name=name, condition=condition, seed=seed)
    keep_attacked = (lambda kind, k: out.attacked(name, kind, k)) if keep else None
    rows, episodes = evaluate_model(ref, plan, attack_work=out.attack(name) if attacks else None,
                                    keep_attacked=keep_attacked)
    shutil.rmtree(out.attack(name).root, ignore_errors=True)
    write_parquet(out.model_rows(name), rows)
    write_parquet(out.model_episodes(name), episodes)


def run_eval(config: ExperimentConfig, run: RunLayout, out_dir: Path, executor: Executor) -> None:
    out = EvalLayout(out_dir)
    if not items_written(out.items):
        build_eval_items(config, run, out.items)
    items, keys = read_items(out.items)
    plan = eval_plan(config, run, items, keys)
    trained = trained_models(run)
    controls = untrained_models(config, trained, out)
    if not out.checks.exists():
        checks = corpus_checks(config, run, items, keys, plan.splits["train"])
        if trained:
            checks["prompt_fit"] = model_fit(trained[0].path, plan).to_dict()
        write_json_atomic(out.checks, checks)
    out.per_model.mkdir(exist_ok=True)
    models = trained + controls
    todo = [ref for ref in models if not out.model_episodes(ref.name).exists()]
    executor.run("eval", [eval_cell(config, run, out, plan, ref) for ref in todo], run.root)
    rows = [row for ref in models for row in read_parquet(out.model_rows(ref.name), ResultRow)]
    episodes = [row for ref in models for row in read_parquet(out.model_episodes(ref.name), EpisodeRow)]
    shutil.rmtree(out.attack_work, ignore_errors=True)
    write_parquet(out.results, rows)
    write_parquet(out.agentic, episodes)
    summary = summarize_rows(rows, episodes, run_conditions(config), models, plan.suites, config.eval.chance_alpha,
                             config.eval.positive_control_min, config.eval.positive_control_expected)
    write_json_atomic(out.summary, summary)
    for cell in summary["null_controls"]["flagged"]:
        log.warning("null control off chance, so a suite or the scoring rule is biased: %s", cell)


def eval_inputs(config: ExperimentConfig) -> list[Path]:
    """What the evals read besides their config and upstream stages: the packaged eval data (suites,
    item and episode wording, pressure), the corpus data items depend on (the lexicon stripped items
    avoid, each condition's familiar formats), and the source file of every view of the config's own."""
    files = [*package_data_files("rearing.evals"), *package_data_files("rearing.corpus")]
    suites = {**run_suites(config), **item_suites(config)}
    views = sorted({suite.view for suite in suites.values() if ":" in suite.view})
    return files + [path for view in views if (path := reference_file(view))]


EVAL_STAGE = StageSpec(name="eval", sections=("eval", "train", "corpus"), upstream=("world", "corpus", "train"),
                       run=run_eval, external_inputs=eval_inputs, cells=True)
"""Reads ``corpus`` too: the run's conditions decide each item's ``familiar_to`` and the neutral formats."""
