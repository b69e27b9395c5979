"""The ``rearing`` command line: one sub-command per pipeline stage, plus ``run`` to chain them."""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rearing.config import PRESETS, ExperimentConfig, load_config
from rearing.io import InputError

app = typer.Typer(help="Run the Rearing Paradigm experiment end to end.", no_args_is_help=True)
world_app = typer.Typer(help="The world of moral scenarios: generate, import, validate, split, show.",
                        no_args_is_help=True)
config_app = typer.Typer(help="Experiment configuration.", no_args_is_help=True)
app.add_typer(world_app, name="world")
app.add_typer(config_app, name="config")

console = Console()


def fail(error: InputError) -> typer.Exit:
    """Print every problem unwrapped (one grep-able ``file:line: field: reason`` each); exit 2."""
    typer.echo(str(error), err=True)
    return typer.Exit(code=2)


def _config(preset: str | None, config_file: Path | None) -> ExperimentConfig:
    if preset and config_file:
        raise InputError(["--preset and --config are mutually exclusive"])
    return load_config(config_file, preset)


PresetOpt = Annotated[str | None, typer.Option("--preset", "-p", help=f"One of {', '.join(PRESETS)}.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="An experiment YAML file.")]


@config_app.command("show")
def config_show(preset: PresetOpt = None, config_file: ConfigOpt = None) -> None:
    """Print the full configuration (every default filled in) as YAML."""
    try:
        config = _config(preset, config_file)
    except InputError as exc:
        raise fail(exc) from exc
    sys.stdout.write(config.to_yaml())


@app.command("run")
def run(
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    name: Annotated[str | None, typer.Option(help="Run name (default: the config's name).")] = None,
    until: Annotated[str | None, typer.Option(help="Stop after this stage.")] = None,
    force: Annotated[bool, typer.Option(help="Rerun stages even if cached.")] = False,
    runs_dir: Annotated[Path, typer.Option(help="Where runs are kept.")] = Path("runs"),
) -> None:
    """Run the pipeline's stages in order into RUNS_DIR/NAME, skipping unchanged ones."""
    from rearing.pipeline import run_pipeline, stage_names

    try:
        config = _config(preset, config_file)
        if until is not None and until not in stage_names():
            raise InputError([f"--until: unknown stage '{until}' (stages: {', '.join(stage_names())})"])
        run_dir = runs_dir / (name or config.name)
        console.print(f"[bold]run[/] {run_dir}  config {config.config_hash[:12]}")

        def report(outcome) -> None:
            style = "green" if outcome.status == "ran" else "dim"
            console.print(f"  [{style}]{outcome.name:<10} {outcome.status:<7}[/] {outcome.seconds:7.2f}s")

        run_pipeline(config, run_dir, until=until, force=force, on_stage=report)
    except InputError as exc:
        raise fail(exc) from exc
    console.print(f"[bold green]done[/] manifest: {run_dir / 'manifest.json'}")


@world_app.command("schema")
def world_schema() -> None:
    """Print the Scenario JSON Schema."""
    from rearing.world.schema import scenario_json_schema

    sys.stdout.write(json.dumps(scenario_json_schema(), indent=2) + "\n")


@world_app.command("validate")
def world_validate(
    file: Path,
    limit: Annotated[int, typer.Option(help="Report at most this many problems.")] = 20,
) -> None:
    """Validate a scenarios JSONL file; print file:line: field: reason for each problem."""
    from rearing.world.store import read_scenarios

    try:
        scenarios = read_scenarios(file, error_limit=limit)
    except InputError as exc:
        raise fail(exc) from exc
    console.print(f"{file}: {len(scenarios)} scenarios, all valid")


@world_app.command("generate")
def world_generate(
    n: Annotated[int, typer.Option("--n", min=1, help="Number of scenarios.")],
    out: Annotated[Path, typer.Option(help="Output JSONL.")],
    seed: Annotated[int, typer.Option(help="Seed: same seed, same bytes.")] = 0,
    ladder: Annotated[str, typer.Option(help="'default' or a ladder YAML.")] = "default",
    domains: Annotated[str | None, typer.Option(help="Comma-separated domains.")] = None,
    vocab_holdout_fraction: Annotated[float, typer.Option(min=0.0, max=0.99)] = 0.2,
) -> None:
    """Generate scenarios procedurally."""
    from rearing.world.generate import GeneratorSettings, ScenarioGenerator, generate_jsonl_lines
    from rearing.world.ladder import load_ladder
    from rearing.world.store import write_scenarios

    try:
        generator = ScenarioGenerator(
            GeneratorSettings(
                seed=seed,
                vocab_holdout_fraction=vocab_holdout_fraction,
                domains=tuple(d.strip() for d in domains.split(",")) if domains else None,
            ),
            ladder=load_ladder(ladder),
        )
    except ValueError as exc:
        raise fail(InputError([f"--domains: {exc}"])) from exc
    except InputError as exc:
        raise fail(exc) from exc
    started = time.perf_counter()
    count = write_scenarios(out, generate_jsonl_lines(generator, n))
    seconds = time.perf_counter() - started
    console.print(f"wrote {count} scenarios to {out} ({count / seconds:,.0f}/s)")


@world_app.command("split")
def world_split(
    file: Path,
    out: Annotated[Path, typer.Option(help="Output directory.")],
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    seed: Annotated[int | None, typer.Option(help="Seed (default: the config's).")] = None,
) -> None:
    """Split into train / eval / shift_domain / shift_vocab, removing contaminated held-out items."""
    from rearing.world.split import split_scenarios, write_split
    from rearing.world.store import read_scenarios

    try:
        config = _config(preset, config_file)
        scenarios = read_scenarios(file)
    except InputError as exc:
        raise fail(exc) from exc
    result = split_scenarios(scenarios, config.world.split, config.seed if seed is None else seed)
    write_split(result, out)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for name, items in result.splits.items():
        console.print(f"  {name:<13} {len(items):>7}")
    console.print(f"  {'excluded':<13} {len(result.excluded):>7}")
    console.print(f"contamination before removal: {result.contamination_before.summary()}")
    console.print(f"contamination after removal:  {result.contamination_after.summary()}")


class ImportFormat(str, Enum):
    moral_stories = "moral-stories"
    ethics_commonsense = "ethics-commonsense"


@world_app.command("import")
def world_import(
    fmt: Annotated[ImportFormat, typer.Option("--format", help="Source format.")],
    path: Path,
    out: Annotated[Path, typer.Option(help="Output JSONL.")],
) -> None:
    """Convert a local Moral Stories JSONL or ETHICS commonsense CSV into scenarios."""
    from rearing.world.importers import import_ethics_commonsense, import_moral_stories
    from rearing.world.store import write_scenarios

    reader = import_moral_stories if fmt is ImportFormat.moral_stories else import_ethics_commonsense
    try:
        scenarios = reader(path)
    except InputError as exc:
        raise fail(exc) from exc
    count = write_scenarios(out, scenarios)
    console.print(f"imported {count} scenarios from {path} to {out}")


@world_app.command("show")
def world_show(file: Path, scenario_id: str) -> None:
    """Print one scenario, readable."""
    from rearing.world.show import render_scenario
    from rearing.world.store import find_scenario, read_scenarios

    try:
        scenario = find_scenario(read_scenarios(file), scenario_id)
    except InputError as exc:
        raise fail(exc) from exc
    if scenario is None:
        raise fail(InputError([f"{file}: id: no scenario '{scenario_id}'"]))
    console.print(render_scenario(scenario))


@world_app.command("ladder")
def world_ladder(file: Annotated[str, typer.Argument(help="'default' or a ladder YAML.")] = "default") -> None:
    """Print the developmental ladder and each stage's difficulty factors."""
    from rearing.world.ladder import load_ladder
    from rearing.world.show import render_ladder

    try:
        ladder = load_ladder(file)
    except InputError as exc:
        raise fail(exc) from exc
    console.print(render_ladder(ladder))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
