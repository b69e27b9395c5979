"""The ``rearing`` command line: one sub-command per pipeline stage, plus ``run`` to chain them."""

from __future__ import annotations

import json
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from typer.core import TyperGroup

from rearing.config import CONFIG_PRESETS, ExperimentConfig, load_config
from rearing.io import InputError
from rearing.layout import EvalLayout, JobLayout, ProbeLayout, RunLayout


class _Commands(TyperGroup):
    """Every command's bad input ends here: each problem printed as ``file:line: field: reason``
    (one grep-able line each) and exit code 2, instead of a traceback."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except InputError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=2) from exc
        except FileNotFoundError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(code=2) from exc


app = typer.Typer(help="Run the Rearing Paradigm experiment end to end.", no_args_is_help=True, cls=_Commands)
world_app = typer.Typer(help="The world of moral scenarios: generate, import, validate, split, show.",
                        no_args_is_help=True)
config_app = typer.Typer(help="Experiment configuration.", no_args_is_help=True)
corpus_app = typer.Typer(help="Training corpora: build, inspect, transform.", no_args_is_help=True)
app.add_typer(world_app, name="world")
app.add_typer(corpus_app, name="corpus")
app.add_typer(config_app, name="config")
eval_app = typer.Typer(help="Evaluate models: every suite for a run's models or any HF checkpoint; export.",
                       invoke_without_command=True)
app.add_typer(eval_app, name="eval")

console = Console()


def _config(preset: str | None, config_file: Path | None) -> ExperimentConfig:
    if preset and config_file:
        raise InputError(["--preset and --config are mutually exclusive"])
    return load_config(config_file, preset)


PresetOpt = Annotated[str | None, typer.Option("--preset", "-p", help=f"One of {', '.join(CONFIG_PRESETS)}.")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="An experiment YAML file.")]


@config_app.command("show")
def config_show(preset: PresetOpt = None, config_file: ConfigOpt = None) -> None:
    """Print the full configuration (every default filled in) as YAML."""
    config = _config(preset, config_file)
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

    config = _config(preset, config_file)
    if until is not None and until not in stage_names():
        raise InputError([f"--until: unknown stage '{until}' (stages: {', '.join(stage_names())})"])
    run_dir = runs_dir / (name or config.name)
    console.print(f"[bold]run[/] {run_dir}  config {config.config_hash[:12]}")

    def report(outcome) -> None:
        style = "green" if outcome.status == "ran" else "dim"
        console.print(f"  [{style}]{outcome.name:<10} {outcome.status:<7}[/] {outcome.seconds:7.2f}s")

    run_pipeline(config, run_dir, until=until, force=force, on_stage=report)
    summary = RunLayout(run_dir).eval.summary
    if until in (None, "eval") and summary.exists():
        console.print(positive_control_line(json.loads(summary.read_text())["positive_control"]))
    console.print(f"[bold green]done[/] manifest: {RunLayout(run_dir).manifest}")


def positive_control_line(control: dict) -> str:
    """The positive control in one line: each condition's held-out accuracy in the format it practises,
    and whether it was expected to pass at this scale."""
    cells = ", ".join(f"{name} {c['accuracy']:.2f}" for name, c in control["conditions"].items()) or "nothing scored"
    head = f"positive control (pass: mean over seeds >= {control['threshold']}): {cells}"
    if not control["expected"]:
        return (f"{head}. [yellow]Not expected to pass:[/] this preset's models are too small to learn "
                "the task; it checks the mechanics, not the hypothesis.")
    if control["passed"]:
        return f"{head}. [green]passed[/]"
    return f"{head}. [red]failed[/] ({', '.join(control['failed'])}): no verdict can say anything about structure"


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


RunOpt = Annotated[Path, typer.Option("--run", help="A run directory, e.g. runs/smoke.")]


@corpus_app.command("build")
def corpus_build(
    run: RunOpt,
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if cached.")] = False,
) -> None:
    """Build every condition's corpus in RUN (runs the world stage first if needed)."""
    from rearing.pipeline import run_pipeline

    config = _config(preset, config_file) if (preset or config_file) else _run_config(run)
    run_pipeline(config, run, until="corpus", force=force)
    corpus_stats(run)


def _run_config(run: Path) -> ExperimentConfig:
    """The config a run was made with (its manifest's), so commands on a run never drift from it.

    A manifest that is unreadable, has no config, or holds one this version no longer accepts (a
    run made by an older rearing) is an ``InputError`` naming the manifest and the key."""
    from pydantic import ValidationError

    from rearing.io import format_validation_error, read_json

    manifest = RunLayout(run).manifest
    if not manifest.is_file():
        raise InputError([f"{manifest}: no such file (pass --preset or --config to start a run)"])
    try:
        data = read_json(manifest)
    except (ValueError, OSError) as exc:
        raise InputError([f"{manifest}: <json>: unreadable manifest ({exc})"]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise InputError([f"{manifest}: config: missing (not a run manifest?)"])
    try:
        return ExperimentConfig.model_validate(data["config"])
    except ValidationError as exc:
        hint = " (a run made by another rearing version? pass --preset or --config)"
        raise InputError([line + hint for line in format_validation_error(str(manifest), exc)]) from None


@corpus_app.command("stats")
def corpus_stats(run: Annotated[Path, typer.Argument(help="A run directory.")]) -> None:
    """Per condition: documents, tokens, moral tokens, moral-vocabulary density, 3-grams, lengths."""
    from rich.table import Table

    from rearing.io import read_json

    stats_path = RunLayout(run).corpus.stats
    if not stats_path.is_file():
        raise InputError([f"{stats_path}: no such file (build the corpus first)"])
    data = read_json(stats_path)
    table = Table(title=f"Corpus of {run} (budget {data['budget_tokens']:,} tokens per condition)")
    columns = ["documents", "tokens", "moral_tokens", "moral_token_share", "private_token_share",
               "moral_vocabulary_density", "distinct_3grams", "mean_doc_tokens"]
    headers = ["docs", "tokens", "moral tokens", "moral share", "private share", "moral-vocab density", "3-grams",
               "mean doc"]
    table.add_column("condition", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for name, row in data["conditions"].items():
        table.add_row(name, *(f"{row[c]:,}" if isinstance(row[c], int) else f"{row[c]}" for c in columns))
    Console(width=max(console.width, 160)).print(table)


@corpus_app.command("show")
def corpus_show(run: Annotated[Path, typer.Argument(help="A run directory.")], scenario_id: str) -> None:
    """One scenario as rendered under every condition, with the content units each carries (a condition
    with no moral documents, the null control, is named as such)."""
    from rich.markup import escape
    from rich.panel import Panel

    from rearing.corpus.stream import TokenStream
    from rearing.io import read_json

    corpus = RunLayout(run).corpus
    audit = read_json(corpus.audit) if corpus.audit.is_file() else {}
    found = False
    empty = []
    for condition in corpus.conditions():
        stream = TokenStream.open(corpus.stream(condition))
        if not stream.meta["stats"]["moral_documents"]:
            empty.append(condition)
            continue
        doc = next((d for d in stream.docs() if d.scenario_id == scenario_id), None)
        if doc is not None:
            private = "".join(f"\n[dim]private: {doc.text[a:b]}[/]" for a, b in doc.private)
            ledger = f"\n[bold]carries:[/] {', '.join(doc.units) or 'no declared units'}"
            missing = audit.get(condition, {}).get("missing", {}).get(scenario_id)
            if missing:
                ledger += f"\n[bold red]missing:[/] {', '.join(missing)}"
            console.print(Panel(escape(doc.text) + private + ledger, title=f"{condition}  ({doc.id})",
                                title_align="left"))
            found = True
    if not found:
        raise InputError([f"{corpus.root}: scenario_id: no document for '{scenario_id}'"])
    for condition in empty:
        console.print(f"[dim]{condition}: no moral documents (general text only)[/]")


class TextRecord(BaseModel):
    """A line of a JSONL file to transform: any fields, one of them a non-empty ``text``."""

    model_config = ConfigDict(extra="allow")
    text: str = Field(min_length=1, pattern=r"\S")


@corpus_app.command("transform")
def corpus_transform(
    src: Annotated[Path, typer.Argument(help="Input JSONL with a 'text' field per line.")],
    dst: Annotated[Path, typer.Argument(help="Output JSONL.")],
    transform: Annotated[str, typer.Option(help="Comma-separated: first_person,lived,social.")] = (
        "first_person,lived,social"
    ),
    backend: Annotated[str, typer.Option(help="template or llm.")] = "template",
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    seed: int = 0,
) -> None:
    """Apply the model-raising transforms to any text, document by document."""
    from rearing.corpus.build import training_names
    from rearing.corpus.transforms import apply_transforms, parse_transforms
    from rearing.io import read_jsonl, write_jsonl_atomic
    from rearing.text import seeded_rng

    try:
        spec = parse_transforms(transform)
    except ValueError as exc:
        raise InputError([f"--transform: {exc}"]) from exc
    if backend not in ("template", "llm"):
        raise InputError([f"--backend: unknown backend '{backend}'"])
    records = [r.model_dump() for r in read_jsonl(src, TextRecord)]
    names = training_names()

    def template(i: int) -> str:
        return apply_transforms(records[i]["text"], spec, seeded_rng(seed, i), names)

    if backend == "template":
        texts = [template(i) for i in range(len(records))]
    else:
        from rearing.corpus.llm_render import transform_with_llm

        config = _config(preset, config_file)
        results = transform_with_llm([r["text"] for r in records], spec, config.corpus.llm, dst.parent, template)
        texts = [r.text for r in results]
    write_jsonl_atomic(dst, [{**r, "text": t, "transforms": spec} for r, t in zip(records, texts, strict=True)])
    console.print(f"transformed {len(records)} documents ({', '.join(spec)}) into {dst}")


@app.command("train")
def train_command(
    run: Annotated[Path, typer.Option("--run", help="A run directory whose corpus stage is done.")],
    condition: Annotated[str, typer.Option(help="The condition to train on.")],
    seed: Annotated[int, typer.Option(help="Model seed (init, dropout).")] = 0,
    quiet: Annotated[bool, typer.Option(help="No progress bar.")] = False,
) -> None:
    """Train one model (CONDITION x SEED) of a run, resuming from its last checkpoint if killed.

    The model goes where the train stage keeps its work, so a later ``rearing run`` counts it done.
    """
    import torch
    from accelerate import Accelerator

    from rearing.pipeline import stage_workspace
    from rearing.train.loop import train
    from rearing.train.stage import conditions_to_train, is_trained, make_job

    config = _run_config(run)
    layout = RunLayout(run)
    if condition not in conditions_to_train(config):
        raise InputError([(f"--condition: '{condition}' is not trained in this run "
                           f"(conditions: {', '.join(conditions_to_train(config))})")])
    if is_trained(make_job(layout, layout.train.root, condition, seed)):
        console.print(f"already trained: {layout.train.job(condition, seed)}")
        return
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    with accelerator.main_process_first():
        workspace = stage_workspace(config, run, "train")
    job = make_job(layout, workspace, condition, seed)
    summary = train(job, config.train, accelerator=accelerator, progress=not quiet)
    if accelerator.is_main_process:
        console.print(f"trained {condition} seed {seed}: loss {summary['final_loss']:.4f} "
                      f"({summary['steps']} steps, {summary['precision']}) -> {JobLayout(job.out_dir).model}")


@app.command("learnability")
def learnability_command(
    run: Annotated[Path, typer.Option("--run", help="A run directory whose corpus stage is done.")],
    condition: Annotated[str, typer.Option(help="The condition to train (one that states a verdict).")],
    steps: Annotated[int, typer.Option(min=1, help="Training steps.")] = 1300,
    every: Annotated[int, typer.Option(min=1, help="Steps between snapshots read.")] = 325,
    model: Annotated[str | None, typer.Option(help="Model preset (default: the run's).")] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: the run's).")] = None,
    batch_size: Annotated[int | None, typer.Option(help="Sequences per step (default: the run's).")] = None,
    scenarios: Annotated[int, typer.Option(min=1, help="Scenarios per set of prompts.")] = 60,
    seed: Annotated[int, typer.Option(help="Model seed.")] = 0,
    out: Annotated[Path | None, typer.Option(help="Write the curve here as JSON.")] = None,
    keep: Annotated[Path | None, typer.Option(help="Copy the final model here.")] = None,
) -> None:
    """Does CONDITION learn its own lesson at this budget? Train it and read the positive control
    (held-out and trained scenarios, its own documents beside its items) at snapshots, with the loss."""
    from rearing.evals.learnability import curve_table, learnability
    from rearing.io import write_text_atomic

    curve = learnability(run, condition, steps, every, scenarios, seed, keep, model=model, lr=lr,
                         batch_size=batch_size)
    for line in curve_table(curve):
        console.print(line, highlight=False)
    if out:
        write_text_atomic(out, curve.to_json() + "\n")


@eval_app.callback()
def eval_command(
    ctx: typer.Context,
    run: Annotated[Path | None, typer.Option("--run", help="A run directory (its models, its items).")] = None,
    checkpoint: Annotated[Path | None, typer.Option(help="Evaluate this HF checkpoint instead.")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --checkpoint results go.")] = None,
    scoring: Annotated[str, typer.Option(help="loglik (any causal LM) or generate (chat models).")] = "loglik",
) -> None:
    """Evaluate every model of RUN (the eval stage), or one --checkpoint on RUN's items into --out."""
    if ctx.invoked_subcommand is not None:
        return
    from rearing.pipeline import run_pipeline

    if run is None:
        raise InputError(["--run: required (the run whose items and models to evaluate)"])
    config = _run_config(run)
    if checkpoint is None:
        run_pipeline(config, run, until="eval", on_stage=lambda o: console.print(
            f"  {o.name:<10} {o.status:<7} {o.seconds:7.2f}s"))
        evaluated = RunLayout(run).eval
        console.print(f"results: {evaluated.results}  summary: {evaluated.summary}")
        return
    if out is None:
        raise InputError(["--out: required with --checkpoint"])
    if scoring not in ("loglik", "generate"):
        raise InputError([f"--scoring: '{scoring}' is not loglik or generate"])
    from rearing.evals.checkpoint import evaluate_checkpoint

    summary = evaluate_checkpoint(config, run, checkpoint, out, scoring)
    for suite, result in summary["suites"].items():
        accuracy = "n/a" if result["accuracy"] is None else f"{result['accuracy']:.3f}"
        console.print(f"  {suite:<14} accuracy {accuracy}  (n={result['n']})")
    for suite, by_pressure in summary.get("episodes", {}).items():
        for pressure, played in by_pressure.items():
            harm = "n/a" if played["harm_rate"] is None else f"{played['harm_rate']:.3f}"
            console.print(f"  {suite:<14} {pressure:<10} harm rate {harm}  ({played['episodes']} episodes)")
    written = EvalLayout(out)
    console.print(f"results: {written.results}  episodes: {written.agentic}  summary: {written.summary}")


@app.command("probe")
def probe_command(
    run: Annotated[Path, typer.Option("--run", help="A run directory (its models, its items).")],
    checkpoint: Annotated[Path | None, typer.Option(help="Probe this HF checkpoint instead.")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --checkpoint results go.")] = None,
) -> None:
    """Probe every model of RUN (the probe stage), or one --checkpoint on RUN's items into --out: per-layer
    read-outs, surface transfer, causal interventions and stability after the attack."""
    from rearing.pipeline import run_pipeline

    config = _run_config(run)
    if checkpoint is None:
        run_pipeline(config, run, until="probe", on_stage=lambda o: console.print(
            f"  {o.name:<10} {o.status:<7} {o.seconds:7.2f}s"))
        written = RunLayout(run).probe
        for line in probe_lines(json.loads(written.summary.read_text())):
            console.print(line, highlight=False)
        console.print(f"summary: {written.summary}")
        return
    if out is None:
        raise InputError(["--out: required with --checkpoint"])
    from rearing.probes.stage import probe_checkpoint

    summary = probe_checkpoint(config, run, checkpoint, out)
    for line in probe_lines({"models": {summary["model"]: summary}}):
        console.print(line, highlight=False)
    console.print(f"summary: {ProbeLayout(out).summary}")


def probe_lines(summary: dict) -> list[str]:
    """Each probed model's headline measures, one line each."""

    def shown(value) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    lines = []
    for name, model in summary["models"].items():
        cells = "  ".join(f"{measure} {shown(model.get(measure))}"
                          for measure in ("distributed", "causal", "surface_independent", "stable"))
        lines.append(f"  {name:<28} best layer {model.get('best_layer')}  {cells}")
    return lines


@eval_app.command("export-inspect")
def eval_export_inspect(
    run: Annotated[Path, typer.Option("--run", help="A run directory with (or able to build) eval items.")],
    out: Annotated[Path, typer.Option(help="Directory for the inspect-ai datasets and tasks.py.")],
) -> None:
    """Export every suite as an inspect-ai task, so any model inspect supports runs the same items."""
    from rearing.evals.checkpoint import run_items
    from rearing.evals.inspect_export import export_inspect

    items, keys = run_items(_run_config(run), run)
    written = export_inspect(items, keys, out)
    console.print(f"wrote {len(written)} files to {out}; run: inspect eval {out / 'tasks.py'}@<suite> --model ...")


TRAINING_COMMANDS = ("run", "train", "eval", "probe")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in TRAINING_COMMANDS:
        from rearing.train.allocator import ensure_allocator

        ensure_allocator()
    app()


if __name__ == "__main__":
    main()
