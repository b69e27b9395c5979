"""``rearing world``: generate, import, validate, split, show and lint scenarios."""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from rearing.cli_base import ConfigOpt, PresetOpt, _config, console
from rearing.io import InputError

world_app = typer.Typer(help="The world of moral scenarios: generate, import, validate, split, show.",
                        no_args_is_help=True)


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

    scenarios = read_scenarios(file, error_limit=limit)
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
        raise InputError([f"--domains: {exc}"]) from exc
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

    config = _config(preset, config_file)
    scenarios = read_scenarios(file)
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
    scenarios = reader(path)
    count = write_scenarios(out, scenarios)
    console.print(f"imported {count} scenarios from {path} to {out}")


@world_app.command("show")
def world_show(file: Path, scenario_id: str) -> None:
    """Print one scenario, readable."""
    from rearing.world.show import render_scenario
    from rearing.world.store import find_scenario, read_scenarios

    scenario = find_scenario(read_scenarios(file), scenario_id)
    if scenario is None:
        raise InputError([f"{file}: id: no scenario '{scenario_id}'"])
    console.print(render_scenario(scenario))


@world_app.command("sample")
def world_sample(
    n: Annotated[int, typer.Option("--n", help="Scenarios to print (drawn from every domain).")] = 10,
    per_domain: Annotated[int, typer.Option(help="Print this many per domain instead.")] = 0,
    family: Annotated[str | None, typer.Option(help="Only this family's frames (loads that file alone).")] = None,
    frame: Annotated[str | None, typer.Option(help="Only this frame.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
    seed: Annotated[int, typer.Option(help="Which sample.")] = 0,
    check: Annotated[int, typer.Option(help="Also run the checks over this many scenarios and count.")] = 0,
    frames_dir: Annotated[Path | None, typer.Option("--frames", help="A frames directory of your own.")] = None,
    vocab: Annotated[Path | None, typer.Option(help="A vocabulary file of your own.")] = None,
) -> None:
    """Print generated scenarios to read as their readers will, with what a program can check."""
    from rearing.world.frames import load_frames
    from rearing.world.generate import GeneratorSettings, ScenarioGenerator
    from rearing.world.sample import sample_report
    from rearing.world.vocab import load_vocab

    frames = load_frames(frames_dir, only=(family,) if family else None)
    generator = ScenarioGenerator(GeneratorSettings(seed=seed), frames=frames, vocab=load_vocab(vocab))
    typer.echo(sample_report(frames, generator, n=n, per_domain=per_domain, family=family, frame=frame,
                             domain=domain, seed=seed, check=check))


@world_app.command("lint")
def world_lint(
    file: Annotated[Path, typer.Argument(help="A family file (like rearing/world/data/frames/disclose.yaml).")],
) -> None:
    """Check a family file on its own: schema, slots, items, domains, mirror frames, repeated wording."""
    from rearing.world.frames import lint_frames

    problems = lint_frames(file)
    if problems:
        raise InputError(problems)
    console.print(f"{file}: no problems")


@world_app.command("ladder")
def world_ladder(file: Annotated[str, typer.Argument(help="'default' or a ladder YAML.")] = "default") -> None:
    """Print the developmental ladder and each stage's difficulty factors."""
    from rearing.world.ladder import load_ladder
    from rearing.world.show import render_ladder

    ladder = load_ladder(file)
    console.print(render_ladder(ladder))


