"""The corpus stage of a run: the world's train split rendered into every condition."""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.corpus.build import build_corpus, run_conditions
from rearing.corpus.conditions import all_conditions, custom_renderer
from rearing.datafile import package_data, package_data_files, reference_file
from rearing.layout import RunLayout, StageSpec
from rearing.world.store import read_scenarios


def run_corpus(config: ExperimentConfig, run: RunLayout, out_dir: Path) -> None:
    build_corpus(config, read_scenarios(run.world.split("train")), out_dir, run_root=run.root)


def corpus_inputs(config: ExperimentConfig) -> list[Path]:
    """What the corpus reads besides its config and the world: the packaged corpus data (conditions,
    phrasings, lexicon, LLM prompts), the world's vocabulary (names and pools of the general text),
    and the source file of every renderer of the config's own a built condition uses."""
    files = [*package_data_files("rearing.corpus"), package_data("rearing.world", "data/vocab.yaml")]
    known = all_conditions(config.corpus.define)
    used = list(run_conditions(config).values())
    used += [known[c.length_matched_to] for c in used if c.length_matched_to in known]
    references = sorted({ref for c in used if (ref := custom_renderer(c))})
    return files + [path for ref in references if (path := reference_file(ref))]


CORPUS_STAGE = StageSpec(name="corpus", sections=("corpus",), upstream=("world",), run=run_corpus,
                         external_inputs=corpus_inputs)
