"""Shared fixtures: small generated worlds, built once per session (generation is fast)."""

from __future__ import annotations

from pathlib import Path

import pytest

from rearing.world.generate import GeneratorSettings, ScenarioGenerator


@pytest.fixture(scope="session")
def generated_records() -> list[dict]:
    generator = ScenarioGenerator(GeneratorSettings(seed=7))
    return list(generator.generate(3000))


TINY_RUN_CONFIG = """preset: smoke
name: tiny
world:
  n_scenarios: 400
corpus:
  conditions: [flat, principle_flat, bmn_shuffled, bmn_developmental, posthoc, raised, flat_length_matched,
    general_only]
  general_docs: 300
  vocab_size: 1200
train:
  model: nano
  conditions: [bmn_developmental, posthoc]
  seeds: [0]
  steps: 12
  context_length: 640
  batch_size: 4
  warmup_steps: 2
  checkpoint_every: 4
  log_every: 1
  precision: fp32
  threads: 1
eval:
  max_scenarios: 4
  many_shot: [1]
  agentic_seeds: [0]
  agentic_episodes: 2
  agentic_pressures: [none, incentive]
  attack_kinds: [harm, benign]
  attack_steps: [0, 2, 4]
  attack_docs: 40
executor:
  kind: serial
"""


def write_tiny_config(directory, extra: str = "") -> Path:
    """The tiny run's config file; ``extra`` YAML is merged into it section by section."""
    import yaml

    from rearing.config import deep_merge

    path = directory / "tiny.yaml"
    merged = deep_merge(yaml.safe_load(TINY_RUN_CONFIG), yaml.safe_load(extra) or {})
    path.write_text(yaml.safe_dump(merged, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def tiny_config_file():
    """``write(directory, extra_yaml) -> path``: the tiny run's config with ``extra`` merged in."""
    return write_tiny_config


@pytest.fixture(scope="session")
def tiny_corpus_run(tmp_path_factory):
    """A small real run with the world and corpus stages done (tests copy it before training)."""
    from rearing.config import load_config
    from rearing.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("tiny_run")
    run_dir = root / "run"
    run_pipeline(load_config(write_tiny_config(root)), run_dir, until="corpus")
    return run_dir


@pytest.fixture(scope="session")
def tiny_trained_run(tiny_corpus_run, tmp_path_factory):
    """The tiny run with its train stage done: two conditions, one seed, nano models."""
    import shutil

    from rearing.config import load_config
    from rearing.pipeline import run_pipeline

    root = tmp_path_factory.mktemp("tiny_trained")
    run_dir = root / "run"
    shutil.copytree(tiny_corpus_run, run_dir)
    run_pipeline(load_config(write_tiny_config(root)), run_dir, until="train")
    return run_dir


@pytest.fixture(scope="session")
def tiny_analysed_run(tiny_trained_run, tmp_path_factory):
    """A copy of the tiny run with every stage up to the analysis done (tests copy it before changing it)."""
    import shutil

    from rearing.pipeline import run_config, run_pipeline

    run_pipeline(run_config(tiny_trained_run), tiny_trained_run, until="probe")
    run_dir = tmp_path_factory.mktemp("tiny_analysed") / "run"
    shutil.copytree(tiny_trained_run, run_dir)
    run_pipeline(run_config(run_dir), run_dir, until="analysis")
    return run_dir


@pytest.fixture
def tiny_config(tmp_path):
    """The tiny run's configuration (what its manifest holds)."""
    from rearing.config import load_config

    return load_config(write_tiny_config(tmp_path))
