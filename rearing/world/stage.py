"""The world stage of a run: scenarios in, validated, split, contamination-checked."""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.datafile import package_data_files
from rearing.layout import RunLayout, StageSpec, WorldLayout
from rearing.world.generate import GeneratorSettings, ScenarioGenerator, generate_jsonl_lines
from rearing.world.ladder import DEFAULT_LADDER, load_ladder
from rearing.world.split import split_scenarios, write_split
from rearing.world.store import read_scenarios, write_scenarios


def _external_inputs(config: ExperimentConfig) -> list[Path]:
    """Files outside the config the world depends on: the packaged frames, vocabulary and ladder (so
    an edited frame re-runs the stage), an imported source, a ladder of the user's own."""
    paths = package_data_files("rearing.world")
    if config.world.source != "generate":
        paths.append(Path(config.world.source))
    if config.world.ladder != DEFAULT_LADDER:
        paths.append(Path(config.world.ladder))
    return paths


def run_world(config: ExperimentConfig, run: RunLayout, out_dir: Path) -> None:
    world = config.world
    out = WorldLayout(out_dir)
    scenarios_path = out.scenarios
    if world.source == "generate":
        generator = ScenarioGenerator(
            GeneratorSettings(
                seed=config.seed,
                vocab_holdout_fraction=world.vocab_holdout_fraction,
                domains=tuple(world.domains) if world.domains else None,
            ),
            ladder=load_ladder(world.ladder),
        )
        write_scenarios(scenarios_path, generate_jsonl_lines(generator, world.n_scenarios))
        scenarios = read_scenarios(scenarios_path)
        if world.backend == "llm":
            from rearing.io import write_json_atomic
            from rearing.world.llm_world import rewrite_world

            scenarios, report = rewrite_world(scenarios, world.llm, run.root)
            write_scenarios(scenarios_path, scenarios)
            write_json_atomic(out.llm_report, report)
    else:
        scenarios = read_scenarios(world.source)
        write_scenarios(scenarios_path, scenarios)
    write_split(split_scenarios(scenarios, world.split, config.seed), out.splits_dir)


WORLD_STAGE = StageSpec(
    name="world",
    sections=("world",),
    upstream=(),
    run=run_world,
    external_inputs=_external_inputs,
)
