"""The ``rearing`` command line: one sub-command per pipeline stage, plus ``run`` to chain them."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field
from rich.console import Console
from typer.core import TyperGroup

from rearing.cli_base import ConfigOpt, PresetOpt, RunOpt, _config, console
from rearing.config import ExperimentConfig
from rearing.io import InputError
from rearing.layout import EvalLayout, JobLayout, ProbeLayout, RunLayout
from rearing.pipeline import run_config
from rearing.world.cli import world_app


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
config_app = typer.Typer(help="Experiment configuration.", no_args_is_help=True)
corpus_app = typer.Typer(help="Training corpora: build, inspect, transform.", no_args_is_help=True)
app.add_typer(world_app, name="world")
app.add_typer(corpus_app, name="corpus")
app.add_typer(config_app, name="config")
eval_app = typer.Typer(help="Evaluate models: every suite for a run's models or any HF checkpoint; export.",
                       invoke_without_command=True)
app.add_typer(eval_app, name="eval")

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
    deviation: DeviationOpt = None,
    dry_run: Annotated[bool, typer.Option(help="Print the grid, the token budget and the training time "
                                          "estimated from a 20-step calibration here; run nothing.")] = False,
    executor: Annotated[str | None, typer.Option(help="Where cells (one model's train, eval, probe) run: serial, "
                                                 "local (a pinned process pool) or ray; default: the config's.")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="local: worker processes (default: one per core).")] = None,
    address: Annotated[str | None, typer.Option(help="ray: the cluster to join (auto, ray://host:10001); "
                                                "default: start a local Ray instance.")] = None,
) -> None:
    """Run the pipeline's stages in order into RUNS_DIR/NAME, skipping unchanged ones. The analysis plan
    is frozen (preregistration.json) before the first model trains."""
    from rearing.pipeline import run_pipeline, stage_names

    config = with_executor(_config(preset, config_file), executor, workers, address)
    if until is not None and until not in stage_names():
        raise InputError([f"--until: unknown stage '{until}' (stages: {', '.join(stage_names())})"])
    run_dir = runs_dir / (name or config.name)
    if dry_run:
        from rearing.io import read_json
        from rearing.train.estimate import calibrate, plan_lines

        manifest = RunLayout(run_dir).manifest
        previous = read_json(manifest) if manifest.is_file() else None
        for line in plan_lines(config, calibrate(config), previous):
            console.print(line, highlight=False, soft_wrap=True)
        return
    console.print(f"[bold]run[/] {run_dir}  config {config.config_hash[:12]}")

    config = with_deviations(config, deviation)
    from rearing.cells.display import GridDisplay

    grid = GridDisplay(console) if config.executor.kind != "serial" else None
    run_pipeline(config, run_dir, until=until, force=force, on_stage=print_stage, on_cells=grid)
    layout = RunLayout(run_dir)
    if until in (None, "eval") and layout.eval.summary.exists():
        console.print(positive_control_line(json.loads(layout.eval.summary.read_text())["positive_control"]))
    verdict = read_verdict(layout)
    if until in (None, "analysis") and verdict:
        print_verdict(verdict)
    console.print(f"[bold green]done[/] manifest: {layout.manifest}")
    if until is None:
        print_report(layout, verdict)


def print_stage(outcome) -> None:
    """One line per pipeline stage as it finishes: ran or cached, and how long it took."""
    style = "green" if outcome.status == "ran" else "dim"
    console.print(f"  [{style}]{outcome.name:<10} {outcome.status:<7}[/] {outcome.seconds:7.2f}s")


def read_verdict(layout: RunLayout) -> dict | None:
    """The analysis stage's verdict, when it has run."""
    return json.loads(layout.analysis.verdict.read_text()) if layout.analysis.verdict.exists() else None


def print_report(layout: RunLayout, verdict: dict | None) -> None:
    """The last lines a run prints: where the report is, and the verdict in one line."""
    console.print(f"[bold]report:[/] {layout.report_html}", highlight=False, soft_wrap=True)
    console.print(f"[bold]verdict:[/] {verdict['message'] if verdict else 'none (the analysis did not run)'}",
                  highlight=False, soft_wrap=True)


DeviationOpt = Annotated[list[str] | None, typer.Option(
    "--deviation", help="Why the analysis departs from the frozen pre-registration (repeatable); the verdict "
    "shows it. Without one, a plan changed after training began is refused.")]


def with_executor(config: ExperimentConfig, kind: str | None, workers: int | None,
                  address: str | None) -> ExperimentConfig:
    """``config`` with the executor options given on the command line (validated like the config's own)."""
    given = {k: v for k, v in {"kind": kind, "workers": workers, "address": address}.items() if v is not None}
    if not given:
        return config
    from pydantic import ValidationError

    from rearing.config import ExecutorConfig

    try:
        settings = ExecutorConfig.model_validate({**config.executor.model_dump(), **given})
    except ValidationError as exc:
        raise InputError([f"--{e['loc'][0]}: {e['msg']}" for e in exc.errors()]) from None
    return config.model_copy(update={"executor": settings})


def with_deviations(config: ExperimentConfig, deviations: list[str] | None) -> ExperimentConfig:
    """``config`` with ``--deviation`` reasons added to ``analysis.deviations``."""
    if not deviations:
        return config
    reasons = list(dict.fromkeys([*config.analysis.deviations, *deviations]))
    analysis = config.analysis.model_copy(update={"deviations": reasons})
    return config.model_copy(update={"analysis": analysis})


def print_verdict(verdict: dict) -> None:
    from rearing.analysis.verdict import verdict_lines

    lines = verdict_lines(verdict)
    console.print(f"[bold]{lines[0]}[/]", highlight=False, soft_wrap=True)
    for line in lines[1:]:
        console.print(line, highlight=False, soft_wrap=True)


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


@corpus_app.command("build")
def corpus_build(
    run: RunOpt,
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    force: Annotated[bool, typer.Option(help="Rebuild even if cached.")] = False,
) -> None:
    """Build every condition's corpus in RUN (runs the world stage first if needed)."""
    from rearing.pipeline import run_pipeline

    config = _config(preset, config_file) if (preset or config_file) else run_config(run)
    run_pipeline(config, run, until="corpus", force=force)
    corpus_stats(run)


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

    config = run_config(run)
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
    config = run_config(run)
    if checkpoint is None:
        run_pipeline(config, run, until="eval", on_stage=print_stage)
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

    config = run_config(run)
    if checkpoint is None:
        run_pipeline(config, run, until="probe", on_stage=print_stage)
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


@app.command("preregister")
def preregister_command(
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    out: Annotated[Path, typer.Option(help="Where the frozen plan goes.")] = Path("prereg.json"),
) -> None:
    """Freeze the config's analysis plan (hypotheses, metric, contrasts, SESOI, alpha, seeds, scoring
    rule, gates, power settings, version) into OUT with its sha256. ``rearing run`` does this itself
    before training; this writes one to publish or to analyse any results table with."""
    from rearing.analysis.plan import preregistration, write_preregistration

    prereg = preregistration(_config(preset, config_file))
    digest = write_preregistration(out, prereg)
    console.print(f"pre-registration {out}: sha256 {digest}", soft_wrap=True)
    console.print(f"  primary: {prereg.primary_contrast.minuend} - {prereg.primary_contrast.subtrahend} on "
                  f"{prereg.primary_metric}; SESOI {prereg.sesoi}; alpha {prereg.alpha}; seeds {prereg.seeds}",
                  highlight=False, soft_wrap=True)


@app.command("analyze")
def analyze_command(
    run: Annotated[Path | None, typer.Option("--run", help="A run directory: its results against its own "
                                             "frozen plan (the analysis stage).")] = None,
    results: Annotated[Path | None, typer.Option(help="Any results table (Parquet) with at least condition, seed, "
                                                 "suite, item_id, correct.")] = None,
    prereg: Annotated[Path | None, typer.Option(help="The frozen plan for --results (rearing preregister).")] = None,
    out: Annotated[Path | None, typer.Option(help="Where --results' verdict goes.")] = None,
    episodes: Annotated[Path | None, typer.Option(help="Agentic episodes (Parquet) for the composite.")] = None,
    probes: Annotated[Path | None, typer.Option(help="The probe stage's summary.json for the composite.")] = None,
    preset: PresetOpt = None,
    config_file: ConfigOpt = None,
    deviation: DeviationOpt = None,
) -> None:
    """The verdict: RUN's results (or any --results table) by the frozen pre-registration, with seed-level
    intervals, the equivalence test, the gates, sensitivity analyses and power. With --config or --preset
    the plan that config would freeze is compared with the frozen one; a change needs --deviation."""
    from rearing.analysis.stage import (
        AnalysisLayout,
        analyze_into,
        checked_plan,
        read_episodes,
        read_probe_headlines,
        run_plan,
    )

    if (run is None) == (results is None):
        raise InputError(["give exactly one of --run and --results"])
    if run is not None:
        from rearing.pipeline import run_pipeline

        config = with_deviations(_config(preset, config_file) if preset or config_file else run_config(run),
                                 deviation)
        if RunLayout(run).preregistration.is_file():
            frozen, _, late = run_plan(RunLayout(run))
            checked_plan(frozen, config, RunLayout(run).preregistration, late)
        run_pipeline(config, run, until="analysis", on_stage=print_stage)
        written = RunLayout(run).analysis
        print_verdict(json.loads(written.verdict.read_text()))
        console.print(f"verdict: {written.verdict}  tables: {written.tables}")
        return
    from rearing.analysis.metrics import Inputs, read_results
    from rearing.analysis.plan import read_preregistration

    if prereg is None or out is None:
        raise InputError(["--prereg and --out: required with --results"])
    frozen, digest = read_preregistration(prereg)
    current, deviations = None, list(deviation or [])
    if preset or config_file:
        config = with_deviations(_config(preset, config_file), deviation)
        current, deviations = checked_plan(frozen, config, prereg), config.analysis.deviations
    inputs = Inputs(results=read_results(results), episodes=read_episodes(episodes) if episodes else None,
                    probes=read_probe_headlines(probes) if probes else None)
    verdict = analyze_into(AnalysisLayout(out), inputs, frozen, digest, current, deviations)
    print_verdict(verdict)
    console.print(f"verdict: {AnalysisLayout(out).verdict}  tables: {AnalysisLayout(out).tables}")


@app.command("report")
def report_command(
    run: Annotated[Path, typer.Option("--run", help="A run directory: every stage not yet run runs first.")],
    screenshot: Annotated[bool, typer.Option(help="Open the report in headless Chromium (offline), fail on any "
                                             "request, page or console error, and keep what the first screen "
                                             "shows as report.png beside it.")] = False,
    full_page: Annotated[bool, typer.Option(help="With --screenshot: the whole page, not the first screen.")] = False,
) -> None:
    """The report: one self-contained HTML page (RUN/report.html, opens offline by double-click) and a
    Markdown summary (RUN/report.md), verdict first."""
    from rearing.pipeline import run_pipeline

    run_pipeline(run_config(run), run, on_stage=print_stage)
    layout = RunLayout(run)
    verdict = read_verdict(layout)
    if screenshot:
        from rearing.report.browser import BrowserUnavailable, check_page

        try:
            check = check_page(layout.report_html, layout.screenshot, full_page=full_page)
        except BrowserUnavailable as exc:
            raise InputError([f"--screenshot: {exc}"]) from None
        console.print(f"browser: {check.figures} figures, verdict shown: {check.verdict}; screenshot {check.screenshot}",
                      highlight=False, soft_wrap=True)
        if check.problems:
            raise InputError([f"{layout.report_html}: {problem}" for problem in check.problems])
    console.print(f"markdown: {layout.report_markdown}", highlight=False, soft_wrap=True)
    print_report(layout, verdict)


@eval_app.command("export-inspect")
def eval_export_inspect(
    run: Annotated[Path, typer.Option("--run", help="A run directory with (or able to build) eval items.")],
    out: Annotated[Path, typer.Option(help="Directory for the inspect-ai datasets and tasks.py.")],
) -> None:
    """Export every suite as an inspect-ai task, so any model inspect supports runs the same items."""
    from rearing.evals.checkpoint import run_items
    from rearing.evals.inspect_export import export_inspect

    items, keys = run_items(run_config(run), run)
    written = export_inspect(items, keys, out)
    console.print(f"wrote {len(written)} files to {out}; run: inspect eval {out / 'tasks.py'}@<suite> --model ...")


TRAINING_COMMANDS = ("run", "train", "eval", "probe", "analyze", "report")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in TRAINING_COMMANDS:
        from rearing.train.allocator import ensure_allocator

        ensure_allocator()
    app()


if __name__ == "__main__":
    main()
