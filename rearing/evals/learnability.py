"""Learnability: does one condition learn its own lesson at a budget, and when?

Trains one condition of a run whose world and corpus are built and, at snapshots along the way, reads
the positive control: items in the format whose question the condition's documents ask and answer
(outcomes shown; beside them, outcomes hidden), on held-out scenarios and on scenarios it trained
on, by the calibrated and the summed rule; and the condition's own documents cut right after their
last verdict question ("own"), so a gap between the two is the item format's, not the lesson's. Run it
before spending hours on a grid: if the condition an arm is built from cannot learn its own lesson,
no verdict can say anything (``rearing learnability``; ``bench/bench_learnability.py``).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rearing.config import ExperimentConfig, TrainConfig
from rearing.corpus.build import run_conditions
from rearing.corpus.conditions import renderer_function
from rearing.evals.evaluate import ModelRef, item_rows, load_model
from rearing.evals.items import build_items
from rearing.evals.schema import AnswerKey, EvalItem
from rearing.evals.scorer import score_choices
from rearing.evals.stage import read_splits
from rearing.evals.suites import Suite
from rearing.io import InputError, read_json
from rearing.layout import JobLayout, RunLayout
from rearing.text import seeded_rng
from rearing.train.loop import train
from rearing.train.stage import make_job
from rearing.world.schema import Scenario

VERDICT_ASKED = re.compile(r"Is it right for [^?]+\?(?= (Yes|No)\b)")
"""A verdict question a document asks and answers, up to its question mark."""
ANSWERS = (" Yes", " No")


@dataclass
class Reading:
    """Accuracy on one set of prompts at one snapshot."""

    n: int
    sum: float
    calibrated: float | None = None
    yes: float | None = None
    """Share answered " Yes" (own documents: a model answering one way throughout reads 0 or 1)."""


@dataclass
class Curve:
    condition: str
    train: dict
    parameters: int
    train_seconds: float
    points: list[dict] = field(default_factory=list)
    """Per snapshot: step, tokens, loss, and a ``Reading`` per set of prompts."""

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


Splits = dict[str, list[Scenario]]
"""The run's ``train`` and ``eval`` scenarios, read once."""


def control_items(config: ExperimentConfig, splits: Splits, condition: str,
                  scenarios: int) -> tuple[list[EvalItem], dict[str, AnswerKey]]:
    """Items in the format the condition practises, outcomes shown and hidden, on held-out scenarios
    and on training scenarios (their sets named ``*_trained``), with their keys."""
    conditions = run_conditions(config)
    practised = conditions[condition].practised_format
    if practised is None:
        raise InputError([f"--condition: {condition} states no verdict (no practised_format), so it has "
                          f"no positive control"])
    items, keys = [], []
    for where, split in (("", "eval"), ("_trained", "train")):
        suites = {f"{name}{where}": Suite(kind="items", split="eval", view=view, formats=[practised])
                  for name, view in (("shown", "plain"), ("hidden", "hidden"))}
        built, built_keys, _ = build_items({"eval": splits[split]}, config.seed, suites, conditions, scenarios,
                                           max_outcomes=config.eval.max_outcomes)
        items += built
        keys += built_keys
    return items, {k.item_id: k for k in keys}


def own_documents(config: ExperimentConfig, splits: Splits, condition: str,
                  scenarios: int) -> dict[str, list[tuple[str, int]]]:
    """The condition's own document for held-out and for trained scenarios, cut right after the last
    verdict question it asks, with the index of its answer in ``ANSWERS``: the lesson read in the very
    text it was trained on."""
    render = renderer_function(run_conditions(config)[condition])
    out = {}
    for name, split in (("own", "eval"), ("own_trained", "train")):
        docs = []
        for scenario in sorted(splits[split], key=lambda s: s.id)[:scenarios]:
            text = render(scenario, seeded_rng(config.seed, "learnability", scenario.id)).text
            asked = list(VERDICT_ASKED.finditer(text))
            if asked:
                docs.append((text[:asked[-1].end()], ANSWERS.index(" " + asked[-1].group(1))))
        out[name] = docs
    return out


def read_snapshot(path: Path, items: list[EvalItem], keys: dict[str, AnswerKey],
                  own: dict[str, list[tuple[str, int]]], config: ExperimentConfig) -> dict[str, Reading]:
    """One model's readings: per item set by both rules; on its own documents by the summed rule
    (they have no content-free twin), with the share answered " Yes"."""
    model, tokenizer = load_model(path)
    rows = item_rows(model, tokenizer, ModelRef(path, path.name), items, keys, config.eval)
    out = {}
    for suite in dict.fromkeys(r.suite for r in rows):
        mine = [r for r in rows if r.suite == suite]
        out[suite] = Reading(len(mine), _share(r.correct_sum for r in mine), _share(r.correct_calibrated for r in mine))
    for name, docs in own.items():
        if docs:
            picks = [s.choice() for s in score_choices(model, tokenizer, [(p, list(ANSWERS)) for p, _ in docs],
                                                       batch_size=config.eval.batch_size)]
            out[name] = Reading(len(docs), _share(p == a for p, (_, a) in zip(picks, docs, strict=True)),
                                yes=_share(p == 0 for p in picks))
    return out


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(bool(f) for f in flags) / len(flags), 3)


def learnability(run_dir: Path, condition: str, steps: int, every: int, scenarios: int = 60, seed: int = 0,
                 keep: Path | None = None, **train_changes) -> Curve:
    """Train ``condition`` of the run at ``run_dir`` for ``steps`` (its train config, with
    ``train_changes``) and read every ``every`` steps; ``keep`` receives the final model."""
    run = RunLayout(run_dir)
    if not run.manifest.exists():
        raise InputError([f"{run_dir}: no run here (build its world and corpus: rearing run --until corpus)"])
    config = ExperimentConfig.model_validate(read_json(run.manifest)["config"])
    if condition not in config.corpus.conditions:
        built = ", ".join(config.corpus.conditions)
        raise InputError([f"--condition: '{condition}' is not built in {run_dir} (built: {built})"])
    changes = {"steps": steps, "loggers": [], "checkpoint_every": steps,
               "warmup_steps": min(config.train.warmup_steps, steps // 10)}
    cfg: TrainConfig = config.train.model_copy(update=changes | {k: v for k, v in train_changes.items() if v})
    snapshots = sorted({*range(every, steps, every), steps})
    splits = read_splits(run, ("train", "eval"))
    items, keys = control_items(config, splits, condition, scenarios)
    own = own_documents(config, splits, condition, scenarios)
    with tempfile.TemporaryDirectory(prefix="learnability_") as work:
        job = make_job(run, Path(work), condition, seed)
        started = time.perf_counter()
        summary = train(job, cfg, progress=False, snapshots=snapshots)
        curve = Curve(condition, cfg.model_dump(mode="json"), summary["parameters"],
                      round(time.perf_counter() - started, 1))
        layout = JobLayout(job.out_dir)
        losses = {m["step"]: m["loss"] for m in map(json.loads, layout.metrics.read_text().splitlines())}
        for step in snapshots:
            path = layout.snapshot(step) if step < steps else layout.model
            loss = losses.get(step, losses[max(s for s in losses if s <= step)])
            readings = read_snapshot(path, items, keys, own, config)
            curve.points.append({"step": step, "tokens": step * cfg.batch_size * cfg.context_length,
                                 "loss": round(loss, 4), "readings": {k: asdict(v) for k, v in readings.items()}})
        if keep:
            shutil.copytree(layout.model, keep, dirs_exist_ok=True)
    return curve


def curve_table(curve: Curve) -> list[str]:
    """The curve as printable lines: per snapshot, the loss and each reading (summed / calibrated)."""
    sets = list(curve.points[0]["readings"]) if curve.points else []
    t = curve.train
    head = (f"{curve.condition}: {t['model']}, {curve.parameters:,} parameters, {t['steps']} steps of "
            f"{t['batch_size']}x{t['context_length']} tokens at lr {t['lr']}, {curve.train_seconds:.0f} s training")
    lines = [head, "step     tokens    loss  " + "  ".join(f"{s:>15}" for s in sets) + "   (summed / calibrated)"]
    for point in curve.points:
        cells = []
        for name in sets:
            r = point["readings"][name]
            other = f"{r['calibrated']:.3f}" if r["calibrated"] is not None else f"yes {r['yes']:.2f}"
            cells.append(f"{r['sum']:.3f} / {other:<8}")
        lines.append(f"{point['step']:>4} {point['tokens']:>10,} {point['loss']:>7.3f}  " + "  ".join(cells))
    if curve.points:
        lines.append("prompts per set: " + ", ".join(f"{s} {curve.points[0]['readings'][s]['n']}" for s in sets))
    return lines
