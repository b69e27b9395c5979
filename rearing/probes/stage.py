"""The probe stage: every model of a run (or any HF checkpoint) probed on the run's eval items.

For each training seed the untrained model of that seed (the eval stage's null control) is probed
first: its selectivity per layer is what a probe reads from random features, and every trained model
of the seed is measured against it. Then each trained model gets read-outs, causal tests, and (when
the eval stage kept its attacked copies) stability. Outputs in ``probe/``
(``rearing.layout.ProbeLayout``): per model a Parquet table, a summary JSON with the four headline
measures (:mod:`rearing.probes.measures`) and its activations; ``summary.json`` for the run. Each
model's outputs are kept as it finishes, so a killed stage resumes.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from rearing.cells import Cell, Executor, relative
from rearing.config import ExperimentConfig
from rearing.datafile import package_data_files
from rearing.evals.evaluate import ModelRef, load_model, read_parquet, write_parquet
from rearing.evals.schema import keys_by_item
from rearing.io import InputError, atomic_open, read_json, write_json_atomic
from rearing.layout import UNTRAINED, EvalLayout, ProbeLayout, RunLayout, StageSpec, model_name
from rearing.probes.hooks import decoder_layers
from rearing.probes.measure import (
    ProbeItems,
    causal_rows,
    decision_activations,
    fit_layers,
    probe_items,
    probed_layers,
    readout_rows,
    stability_rows,
)
from rearing.probes.measures import HEADLINES, METRICS, ProbeRow, headline

log = logging.getLogger("rearing.probes")

HEADLINE_NAMES = ("distributed", "causal", "surface_independent", "stable")


def general_texts(config: ExperimentConfig) -> list[str]:
    """Held-out general text for the loss check: the general corpus's generator, at indices after the
    ones training used."""
    from rearing.corpus.general import general_doc

    start = config.corpus.general_docs
    return [general_doc(config.seed, start + i).text for i in range(config.probe.general_docs)]


def attacked_copies(evaluated: EvalLayout, name: str) -> dict[tuple[str, int], Path]:
    """The attacked copies the eval stage kept of one model, by (attack kind, k)."""
    found = {}
    for path in sorted(evaluated.attacked_copies(name).glob("*/k_*")):
        match = re.fullmatch(r"k_(\d+)", path.name)
        if match and path.is_dir():
            found[path.parent.name, int(match.group(1))] = path
    return found


def _index(ref: ModelRef, pitems: ProbeItems, layers: int, attack: str = "none", attack_k: int = 0) -> list[dict]:
    return [{"model": ref.name, "layer": layer, "item": item.id, "scenario": item.scenario_id, "suite": item.suite,
             "format": item.format, "stripped": item.stripped, "label": int(label), "attack": attack,
             "attack_k": attack_k}
            for item, label in zip(pitems.items, pitems.labels) for layer in range(1, layers + 1)]


def write_activations(out: ProbeLayout, ref: ModelRef, blocks: Sequence[tuple[list[dict], np.ndarray]]) -> None:
    """One model's activations as float16 rows and their index (pairs of index rows and arrays)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    index = [row for rows, _ in blocks for row in rows]
    array = np.concatenate([a.reshape(-1, a.shape[-1]) for _, a in blocks]).astype(np.float16)
    out.activations(ref.name).parent.mkdir(parents=True, exist_ok=True)
    with atomic_open(out.activations(ref.name), "wb", encoding=None) as handle:
        np.save(handle, array, allow_pickle=False)
    with atomic_open(out.activation_index(ref.name), "wb", encoding=None) as handle:
        pq.write_table(pa.Table.from_pylist(index), handle)


def probe_model(ref: ModelRef, config: ExperimentConfig, pitems: ProbeItems, out: ProbeLayout, *, model=None,
                tokenizer=None, untrained: Mapping[int, Sequence[float]] | None = None, general: Sequence[str] = (),
                attacked: Mapping[tuple[str, int], Path] | None = None, causal: bool = True) -> dict:
    """Probe one model into ``out`` (table, activations, summary) and return its summary."""
    cfg = config.probe
    if model is None:
        model, tokenizer = load_model(ref.path)
    activations, _ = decision_activations(model, tokenizer, pitems.items, cfg.batch_size)
    fits = fit_layers(pitems, activations, probed_layers(model, cfg), cfg)
    rows = readout_rows(ref, pitems, activations, fits, cfg, config.seed, untrained)
    if causal:
        rows += causal_rows(ref, model, tokenizer, pitems, activations, fits, cfg, config.seed, general)
    blocks = [(_index(ref, pitems, activations.shape[1]), activations)]
    for (kind, k), path in sorted((attacked or {}).items()):
        attacked_model, attacked_tokenizer = load_model(path)
        after, _ = decision_activations(attacked_model, attacked_tokenizer, pitems.items, cfg.batch_size)
        if (kind, 0) not in {(r.attack, r.attack_k) for r in rows}:
            rows += stability_rows(ref, pitems, fits, activations, activations, cfg, kind, 0)
        rows += stability_rows(ref, pitems, fits, activations, after, cfg, kind, k)
        blocks.append((_index(ref, pitems, after.shape[1], kind, k), after))
    out.table(ref.name).parent.mkdir(parents=True, exist_ok=True)
    write_parquet(out.table(ref.name), rows)
    write_activations(out, ref, blocks)
    summary = {"model": ref.name, "condition": ref.condition, "seed": ref.seed, "items": len(pitems.items),
               "baseline": "untrained" if untrained else None,
               **headline(rows, cfg.selectivity_min, cfg.surface_suite)}
    out.model_summary(ref.name).parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out.model_summary(ref.name), summary)
    return summary


def selectivity_by_layer(rows: Sequence[ProbeRow]) -> dict[int, list[float]]:
    """A model's selectivity per layer, fold by fold: the baseline trained models are set against."""
    found: dict[int, list[float]] = defaultdict(list)
    for row in sorted((r for r in rows if r.metric == "selectivity" and r.fold is not None), key=lambda r: r.fold):
        found[row.layer].append(row.value)
    return dict(found)


def by_condition(summaries: Sequence[dict]) -> dict:
    """Each condition's headline measures: per seed, and their mean over seeds (the unit of replication)."""
    grouped: dict[str, list[dict]] = defaultdict(list)
    for summary in summaries:
        grouped[summary["condition"]].append(summary)
    result = {}
    for condition, group in sorted(grouped.items(), key=lambda kv: str(kv[0])):
        entry: dict = {"seeds": [s["seed"] for s in group]}
        for name in HEADLINE_NAMES:
            values = [s[name] for s in group if s.get(name) is not None]
            entry[name] = float(np.mean(values)) if values else None
            entry[f"{name}_by_seed"] = [s.get(name) for s in group]
        result[str(condition)] = entry
    return result


def run_summary(summaries: Sequence[dict], config: ExperimentConfig, probed_items: int) -> dict:
    return {"headlines": HEADLINES, "metrics": METRICS, "items": probed_items,
            "config": config.probe.model_dump(mode="json"),
            "models": {s["model"]: s for s in summaries}, "by_condition": by_condition(summaries)}


def probe_cell(config: ExperimentConfig, run: RunLayout, out: ProbeLayout, pitems: ProbeItems, ref: ModelRef,
               untrained: Mapping[int, Sequence[float]] | None = None, general: Sequence[str] = ()) -> Cell:
    """One model's probes as a cell: reads the model and its kept attacked copies, writes its table,
    activations and summary. The untrained null of a seed is probed without causal tests."""
    attacked = {} if ref.condition == UNTRAINED else attacked_copies(run.eval, ref.name)
    writes = (out.table(ref.name), out.activations(ref.name), out.activation_index(ref.name), out.model_summary(ref.name))
    return Cell(name=f"probe {ref.name}", work=probe_in_cell,
                args=(relative(out.root, run.root), relative(ref.path, run.root), ref.name, ref.condition, ref.seed,
                      config, pitems, untrained, list(general),
                      {key: relative(path, run.root) for key, path in attacked.items()}, ref.condition != UNTRAINED),
                reads=(relative(ref.path, run.root), *(relative(path, run.root) for path in attacked.values())),
                writes=tuple(relative(path, run.root) for path in writes))


def probe_in_cell(root: Path, out_dir: str, model_dir: str, name: str, condition: str, seed: int,
                  config: ExperimentConfig, pitems: ProbeItems, untrained: Mapping[int, Sequence[float]] | None,
                  general: Sequence[str], attacked: Mapping[tuple[str, int], str], causal: bool) -> dict:
    """Probe one model (a cell's work); its summary, written last, marks it done."""
    ref = ModelRef(path=root / model_dir, name=name, condition=condition, seed=seed)
    return probe_model(ref, config, pitems, ProbeLayout(root / out_dir), untrained=untrained, general=general,
                       attacked={key: root / path for key, path in attacked.items()}, causal=causal)


def run_probe(config: ExperimentConfig, run: RunLayout, out_dir: Path, executor: Executor) -> None:
    """The untrained null of every seed first (their selectivity is what trained models are set against),
    then every trained model; each model's probes are a cell, skipped when already written."""
    from rearing.evals.items import read_items
    from rearing.evals.stage import trained_models

    out = ProbeLayout(out_dir)
    items, keys = read_items(run.eval.items)
    pitems = probe_items(items, keys_by_item(items, keys), config.probe)
    trained = trained_models(run)
    nulls = [ModelRef(path=path, name=model_name(UNTRAINED, seed), condition=UNTRAINED, seed=seed)
             for seed in sorted({ref.seed for ref in trained}) if (path := run.eval.untrained(seed)).is_dir()]
    executor.run("probe (untrained)", [probe_cell(config, run, out, pitems, ref) for ref in nulls if not _done(out, ref)],
                 run.root)
    baselines = {ref.seed: selectivity_by_layer(read_parquet(out.table(ref.name), ProbeRow)) for ref in nulls}
    for ref in trained:
        if ref.seed not in baselines:
            log.warning("%s: no untrained model of seed %s to set its probes against", ref.name, ref.seed)
    general = general_texts(config)
    executor.run("probe", [probe_cell(config, run, out, pitems, ref, baselines.get(ref.seed), general)
                           for ref in trained if not _done(out, ref)], run.root)
    summaries = [read_json(out.model_summary(ref.name)) for ref in nulls + trained]
    write_json_atomic(out.summary, run_summary(summaries, config, len(pitems.items)))


def _done(out: ProbeLayout, ref: ModelRef) -> bool:
    """Whether a model's probes are already written (a resumed stage)."""
    return out.model_summary(ref.name).is_file() and out.table(ref.name).is_file()


def probe_checkpoint(config: ExperimentConfig, run_dir: Path, checkpoint: Path, out_dir: Path) -> dict:
    """Probe any HF checkpoint on the run's items into ``out_dir``, against an untrained model of its own
    architecture (fresh weights from the run's seed); no attack, so no stability."""
    import torch
    from transformers import AutoModelForCausalLM

    from rearing.evals.checkpoint import run_items

    items, keys = run_items(config, run_dir)
    pitems = probe_items(items, keys_by_item(items, keys), config.probe)
    out = ProbeLayout(out_dir)
    model, tokenizer = load_model(checkpoint)
    try:
        decoder_layers(model)
    except ValueError as exc:
        raise InputError([f"{checkpoint}: {exc}"]) from None
    torch.manual_seed(config.seed)
    random_model = AutoModelForCausalLM.from_config(model.config).eval()
    untrained_ref = ModelRef(path=checkpoint, name=f"{UNTRAINED}_{checkpoint.name}", condition=UNTRAINED)
    baseline = probe_model(untrained_ref, config, pitems, out, model=random_model, tokenizer=tokenizer, causal=False)
    del random_model
    selectivity = selectivity_by_layer(read_parquet(out.table(untrained_ref.name), ProbeRow))
    ref = ModelRef(path=checkpoint, name=checkpoint.name)
    summary = probe_model(ref, config, pitems, out, model=model, tokenizer=tokenizer, untrained=selectivity,
                          general=general_texts(config))
    write_json_atomic(out.summary, run_summary([baseline, summary], config, len(pitems.items)))
    return summary


def probe_inputs(config: ExperimentConfig) -> list[Path]:
    """The corpus data the held-out general text is generated from."""
    return package_data_files("rearing.corpus")


PROBE_STAGE = StageSpec(name="probe", sections=("probe", "corpus"), upstream=("train", "eval"), run=run_probe,
                        external_inputs=probe_inputs, cells=True)
"""Reads ``corpus`` for ``general_docs``: the held-out general text starts after the training corpus's."""
