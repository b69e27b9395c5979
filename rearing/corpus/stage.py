"""The corpus stage of a run: the world's train split rendered into every condition."""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.corpus.build import build_corpus
from rearing.pipeline import StageSpec
from rearing.world.store import read_scenarios


def run_corpus(config: ExperimentConfig, run_dir: Path, out_dir: Path) -> None:
    train = read_scenarios(run_dir / "world" / "splits" / "train.jsonl")
    build_corpus(config, train, out_dir)


CORPUS_STAGE = StageSpec(name="corpus", sections=("corpus",), upstream=("world",), run=run_corpus)
