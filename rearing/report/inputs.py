"""Everything a report reads from a run, loaded once: each stage's typed outputs, or why it is absent.

Section builders never open files; they take a :class:`RunInputs` and say what is missing from the
reasons recorded here, so a run without (say) the attack suite still gets a whole report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import pandas as pd

from rearing.config import ExperimentConfig
from rearing.io import read_json
from rearing.layout import RunLayout


@dataclass
class RunInputs:
    run: RunLayout
    config: ExperimentConfig
    manifest: dict
    absent: dict[str, str] = field(default_factory=dict)
    """Why an input is missing, by its name here (``verdict``, ``results``, ...)."""

    def _file(self, name: str, stage: str, path: Path) -> Path | None:
        """``path`` when it exists; otherwise None, with the reason recorded under ``name``."""
        if path.is_file():
            return path
        if stage not in self.manifest.get("stages", {}):
            self.absent[name] = f"the {stage} stage has not run"
        else:
            self.absent[name] = f"{path.relative_to(self.run.root).as_posix()} was not written by this run"
        return None

    def _json(self, name: str, stage: str, path: Path) -> dict | None:
        found = self._file(name, stage, path)
        return read_json(found) if found else None

    def _parquet(self, name: str, stage: str, path: Path) -> pd.DataFrame | None:
        import pyarrow.parquet as pq

        found = self._file(name, stage, path)
        return pq.read_table(found).to_pandas() if found else None

    def why(self, *names: str) -> str:
        """Why the first of ``names`` that is absent is absent."""
        return next((self.absent[n] for n in names if n in self.absent), "not recorded")

    @cached_property
    def frozen_plan(self) -> tuple[dict | None, str | None, str | None]:
        """The frozen plan as written, its content hash, and why it cannot be trusted (edited by hand), if so."""
        from rearing.analysis.plan import read_preregistration
        from rearing.io import InputError

        found = self._file("preregistration", "train", self.run.preregistration)
        if found is None:
            return None, None, None
        data = read_json(found)
        try:
            _, digest = read_preregistration(found)
        except InputError as exc:
            return data.get("preregistration"), data.get("sha256"), str(exc)
        return data["preregistration"], digest, None

    @property
    def preregistration(self) -> dict | None:
        return self.frozen_plan[0]

    @cached_property
    def verdict(self) -> dict | None:
        return self._json("verdict", "analysis", self.run.analysis.verdict)

    @cached_property
    def tables(self) -> pd.DataFrame | None:
        return self._parquet("tables", "analysis", self.run.analysis.tables)

    @cached_property
    def results(self) -> pd.DataFrame | None:
        from rearing.analysis.metrics import read_results

        found = self._file("results", "eval", self.run.eval.results)
        return read_results(found) if found else None

    @cached_property
    def episodes(self) -> pd.DataFrame | None:
        found = self._parquet("episodes", "eval", self.run.eval.agentic)
        if found is not None and found.empty:
            self.absent["episodes"] = "no agentic episodes were played (the run did not ask for an episodes suite)"
            return None
        return found

    @cached_property
    def eval_summary(self) -> dict | None:
        return self._json("eval_summary", "eval", self.run.eval.summary)

    @cached_property
    def checks(self) -> dict | None:
        return self._json("checks", "eval", self.run.eval.checks)

    @cached_property
    def items(self) -> tuple[list, dict] | None:
        """The eval items and their answer keys by item id."""
        from rearing.evals.items import items_written, read_items

        if not items_written(self.run.eval.items):
            self._file("items", "eval", self.run.eval.items / "items.jsonl")
            return None
        items, keys = read_items(self.run.eval.items)
        return items, {key.item_id: key for key in keys}

    @cached_property
    def probe_summary(self) -> dict | None:
        return self._json("probe_summary", "probe", self.run.probe.summary)

    @cached_property
    def probe_rows(self) -> pd.DataFrame | None:
        """Every probed model's table, concatenated."""
        import pyarrow.parquet as pq

        if self.probe_summary is None:
            self.absent["probe_rows"] = self.why("probe_summary")
            return None
        paths = sorted((self.run.probe.root / "tables").glob("*.parquet"))
        if not paths:
            self.absent["probe_rows"] = "the probe stage wrote no table"
            return None
        return pd.concat([pq.read_table(p).to_pandas() for p in paths], ignore_index=True)

    @cached_property
    def corpus_stats(self) -> dict | None:
        return self._json("corpus_stats", "corpus", self.run.corpus.stats)

    @cached_property
    def audit(self) -> dict | None:
        return self._json("audit", "corpus", self.run.corpus.audit)

    @cached_property
    def split_report(self) -> dict | None:
        return self._json("split_report", "world", self.run.world.split_report)

    def docs(self, condition: str) -> list:
        """A condition's training documents in stream order (empty when its stream was not built)."""
        from rearing.corpus.stream import TokenStream, stream_written

        path = self.run.corpus.stream(condition)
        return TokenStream.open(path).docs() if stream_written(path) else []

    def scenarios(self, split: str) -> list:
        from rearing.world.store import read_scenarios

        path = self.run.world.split(split)
        return read_scenarios(path) if path.is_file() else []


def load_inputs(config: ExperimentConfig, run: RunLayout) -> RunInputs:
    return RunInputs(run=run, config=config, manifest=read_json(run.manifest) if run.manifest.is_file() else {})
