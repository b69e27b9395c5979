"""The corpus stage of a run: the world's train split rendered into every condition."""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.corpus.build import build_corpus
from rearing.layout import RunLayout, StageSpec
from rearing.world.store import read_scenarios


def run_corpus(config: ExperimentConfig, run: RunLayout, out_dir: Path) -> None:
    build_corpus(config, read_scenarios(run.world.split("train")), out_dir)


CORPUS_STAGE = StageSpec(name="corpus", sections=("corpus",), upstream=("world",), run=run_corpus)
