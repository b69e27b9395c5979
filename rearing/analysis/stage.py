"""The analysis stage: the run's results read against its frozen pre-registration.

Reads ``eval/results.parquet`` (and, for the composite, ``eval/agentic.parquet`` and the probe
stage's per-model headlines), checks that the plan the config freezes today is the one frozen before
training (a change needs ``analysis.deviations``), and writes ``analysis/verdict.json`` and
``analysis/tables.parquet`` (``rearing.layout.AnalysisLayout``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from rearing.analysis.metrics import Inputs, read_results
from rearing.analysis.plan import (
    Preregistration,
    plan_changes,
    prereg_hash,
    preregistration,
    read_preregistration,
)
from rearing.analysis.verdict import analyze
from rearing.config import ExperimentConfig
from rearing.io import InputError, atomic_open, read_json, write_json_atomic
from rearing.layout import AnalysisLayout, RunLayout, StageSpec

PREREGISTRATION_RECORD = "preregistration"
"""The manifest entry holding the frozen plan's hash and when it was written."""
LATE = "the plan was frozen only after training began (the run trained before it had one)"


def read_episodes(path: Path) -> pd.DataFrame | None:
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pandas() if path.is_file() else None


def read_probe_headlines(path: Path) -> dict[tuple[str, int], dict] | None:
    """The probe stage's headline measures per trained model, by (condition, seed)."""
    if not path.is_file():
        return None
    models = read_json(path).get("models", {})
    return {(m["condition"], int(m["seed"])): m for m in models.values() if m.get("seed") is not None}


def departures(changes: list[str], late: bool = False) -> list[str]:
    """How the analysis departs from the frozen plan: frozen late, and each field the current plan changed."""
    return ([LATE] if late else []) + [f"changed after training began: {change}" for change in changes]


def checked_plan(frozen: Preregistration, config: ExperimentConfig, where: Path, late: bool = False) -> Preregistration:
    """The plan to analyse by: the config's, which must be the frozen one (frozen before training) unless
    the config gives deviations saying why not."""
    current = preregistration(config)
    found = departures(plan_changes(frozen, current), late)
    if found and not config.analysis.deviations:
        raise InputError([f"{where}: {departure}" for departure in found]
                         + [(f"{where}: keep the frozen plan, or say why with --deviation \"reason\" "
                             "(analysis.deviations); the verdict then shows it")])
    return current


def run_plan(run: RunLayout) -> tuple[Preregistration, str, bool]:
    """The run's frozen plan, checked against the hash the manifest recorded when training began, and
    whether it was frozen late (after training began)."""
    prereg, digest = read_preregistration(run.preregistration)
    manifest = read_json(run.manifest) if run.manifest.is_file() else {}
    record = manifest.get(PREREGISTRATION_RECORD) or {}
    recorded = record.get("sha256")
    if recorded is None:
        raise InputError([f"{run.manifest}: no pre-registration was recorded before training"])
    if recorded != digest:
        raise InputError([(f"{run.preregistration}: sha256 {digest[:12]} is not the one recorded before training "
                          f"({recorded[:12]}): the file was replaced")])
    return prereg, digest, bool(record.get("late"))


def write_outputs(out: AnalysisLayout, verdict: dict, tables: pd.DataFrame) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.root.mkdir(parents=True, exist_ok=True)
    with atomic_open(out.tables, "wb", encoding=None) as handle:
        pq.write_table(pa.Table.from_pandas(tables, preserve_index=False), handle)
    write_json_atomic(out.verdict, verdict)


def analyze_into(out: AnalysisLayout, inputs: Inputs, frozen: Preregistration, digest: str,
                 current: Preregistration | None = None, deviations: Sequence[str] = (), late: bool = False) -> dict:
    """Analyse ``inputs`` by the frozen plan and write the verdict and tables into ``out``. When the
    current config's plan departs from it (deviations given), the verdict stays the frozen plan's: the
    changed plan's analysis is shown beside it as exploratory, never in its place, so no deviation can
    turn a look at the data into the headline."""
    changes = plan_changes(frozen, current) if current is not None else []
    verdict, tables = analyze(inputs, frozen, digest, deviations=deviations, changes=departures(changes, late))
    if changes:
        exploratory, _ = analyze(inputs, current, prereg_hash(current))
        verdict["exploratory"] = {"sha256": prereg_hash(current), "verdict": exploratory["verdict"],
                                  "message": exploratory["message"], "reasons": exploratory["reasons"],
                                  "primary": exploratory["primary"], "gates": exploratory["gates"],
                                  "power": exploratory["power"]}
    write_outputs(out, verdict, tables)
    return verdict


def run_analysis(config: ExperimentConfig, run: RunLayout, out_dir: Path) -> None:
    prereg, digest, late = run_plan(run)
    current = checked_plan(prereg, config, run.preregistration, late)
    inputs = Inputs(results=read_results(run.eval.results), episodes=read_episodes(run.eval.agentic),
                    probes=read_probe_headlines(run.probe.summary))
    analyze_into(AnalysisLayout(out_dir), inputs, prereg, digest, current, config.analysis.deviations, late)


ANALYSIS_STAGE = StageSpec(name="analysis", sections=("analysis", "train", "eval", "corpus"),
                           upstream=("eval", "probe"), run=run_analysis, run_records=(PREREGISTRATION_RECORD,))
"""Reads ``train``, ``eval`` and ``corpus`` because the plan it checks freezes their seeds, scoring rule,
controls and conditions."""
