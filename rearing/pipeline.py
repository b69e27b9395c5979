"""The run directory: stages in pipeline order, a manifest, and a content-addressed cache.

Each stage writes into ``runs/<name>/<stage>/``. Its cache key hashes the stage name, the config
sections it reads, the package version and the hashes of its upstream outputs; when the key and the
recorded output hashes still match, the stage is skipped. A stage's directory is built beside the
real one and swapped in only when the stage finishes, so a killed run never leaves half a stage,
and the next run resumes at the first stage without a valid record.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rearing import __version__
from rearing.cells import ProgressFn
from rearing.cells.executors import open_executor
from rearing.config import ExperimentConfig, canonical_hash
from rearing.io import InputError, atomic_open, read_json, sha256_file, write_json_atomic
from rearing.layout import RunLayout, StageSpec

TRACKED_PACKAGES = ("pydantic", "numpy", "scikit-learn", "torch", "transformers", "tokenizers", "safetensors")


@dataclass
class StageOutcome:
    name: str
    status: str  # "ran" or "cached"
    seconds: float


def stage_registry() -> list[StageSpec]:
    """Stages in pipeline order; later issues append theirs here."""
    from rearing.analysis.stage import ANALYSIS_STAGE
    from rearing.corpus.stage import CORPUS_STAGE
    from rearing.evals.stage import EVAL_STAGE
    from rearing.probes.stage import PROBE_STAGE
    from rearing.report.stage import REPORT_STAGE
    from rearing.train.stage import TRAIN_STAGE
    from rearing.world.stage import WORLD_STAGE

    return [WORLD_STAGE, CORPUS_STAGE, TRAIN_STAGE, EVAL_STAGE, PROBE_STAGE, ANALYSIS_STAGE, REPORT_STAGE]


def stage_names() -> list[str]:
    return [s.name for s in stage_registry()]


def git_commit() -> dict:
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True, text=True, timeout=5, check=True,
            ).stdout.strip()
        )
        return {"commit": commit, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version(), "rearing": __version__}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _output_hashes(stage_dir: Path) -> dict[str, str]:
    return {
        str(p.relative_to(stage_dir)): sha256_file(p)
        for p in sorted(stage_dir.rglob("*"))
        if p.is_file()
    }


def _still_valid(record: dict | None, key: str, stage_dir: Path) -> bool:
    if not record or record.get("key") != key or not stage_dir.is_dir():
        return False
    return record.get("outputs") == _output_hashes(stage_dir)


PARTIAL_KEY = ".stage-key"


PACKAGE_ROOT = Path(__file__).resolve().parent


def input_name(path: Path) -> str:
    """An external input's name in a cache key: a file shipped in the package by its path inside the
    package (so the same data keeps its key wherever rearing is installed), any other file as given."""
    try:
        return f"rearing/{Path(path).resolve().relative_to(PACKAGE_ROOT).as_posix()}"
    except ValueError:
        return str(path)


def stage_key(stage: StageSpec, config: ExperimentConfig, manifest: dict) -> str:
    """Cache key: stage, package version, its config sections, upstream outputs, external inputs
    (the data files a stage reads, and files of the config's own: its world, renderers, views)."""
    upstream_hashes = {u: manifest["stages"][u]["outputs"] for u in stage.upstream}
    external = {input_name(p): sha256_file(p) for p in stage.external_inputs(config)}
    key = {
        "stage": stage.name,
        "version": __version__,
        "config": config.section_hash(*stage.sections),
        "upstream": upstream_hashes,
        "external": external,
    }
    if stage.run_records:
        key["records"] = {name: manifest.get(name) for name in stage.run_records}
    return canonical_hash(key)


def partial_dir(run: RunLayout, name: str, key: str, fresh: bool = False) -> Path:
    """The directory a stage builds in. Work left by a killed build with the same key is kept, so
    long stages (training) resume; anything built under another key is discarded."""
    partial = run.partial_dir(name)
    marker = partial / PARTIAL_KEY
    if fresh or not marker.is_file() or marker.read_text() != key:
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        marker.write_text(key)
    return partial


PREREGISTERED_BEFORE = "train"
"""The stage before which the analysis plan is frozen: no model has trained yet."""


def freeze_preregistration(config: ExperimentConfig, run: RunLayout, manifest: dict) -> None:
    """Write the pre-registration and record its hash in the manifest, unless training has begun with
    one already frozen (then the frozen one stands, whatever the config says now). A run whose training
    began before any plan was frozen gets one now, marked ``late``: the analysis treats that as a change."""
    from rearing.analysis.plan import preregistration, write_preregistration
    from rearing.analysis.stage import PREREGISTRATION_RECORD

    began = PREREGISTERED_BEFORE in manifest["stages"] or run.partial_dir(PREREGISTERED_BEFORE).is_dir()
    if began and manifest.get(PREREGISTRATION_RECORD):
        if not run.preregistration.is_file():
            raise InputError([(f"{run.preregistration}: missing, though the manifest recorded it (sha256 "
                              f"{manifest[PREREGISTRATION_RECORD]['sha256'][:12]}) before training: restore it")])
        return
    run.root.mkdir(parents=True, exist_ok=True)
    digest = write_preregistration(run.preregistration, preregistration(config))
    manifest[PREREGISTRATION_RECORD] = {"sha256": digest, "written": _now(), "late": began}
    write_json_atomic(run.manifest, manifest)


def publish(run: RunLayout, stage: StageSpec) -> None:
    """Copy the stage's published files to the run's root, where a reader looks (unchanged ones are left)."""
    for name in stage.published:
        source, target = run.stage_dir(stage.name) / name, run.root / name
        if source.is_file() and not (target.is_file() and sha256_file(target) == sha256_file(source)):
            with atomic_open(target, "wb", encoding=None) as handle:
                handle.write(source.read_bytes())


def _read_manifest(run: RunLayout) -> dict:
    return read_json(run.manifest) if run.manifest.is_file() else {"created": _now(), "stages": {}}


def run_config(run: str | Path) -> ExperimentConfig:
    """The config a run was made with (its manifest's), so commands on a run never drift from it.

    A manifest that is unreadable, has no config, or holds one this version no longer accepts (a
    run made by an older rearing) is an ``InputError`` naming the manifest and the key."""
    from pydantic import ValidationError

    from rearing.io import format_validation_error

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


def stage_workspace(config: ExperimentConfig, run_dir: str | Path, name: str) -> Path:
    """Where stage ``name`` keeps its work in progress for this config, so work done outside
    ``run_pipeline`` (one model trained by ``rearing train``) counts when the stage next runs.
    Every upstream stage must have finished."""
    run = RunLayout(Path(run_dir))
    stage = next((s for s in stage_registry() if s.name == name), None)
    if stage is None:
        raise ValueError(f"unknown stage '{name}' (stages: {', '.join(stage_names())})")
    manifest = _read_manifest(run)
    missing = [u for u in stage.upstream if u not in manifest["stages"]]
    if missing:
        raise InputError([(f"{run.root}: the {', '.join(missing)} stage has not run "
                           f"(rearing run --until {missing[-1]})")])
    if name == PREREGISTERED_BEFORE:
        freeze_preregistration(config, run, manifest)
    return partial_dir(run, name, stage_key(stage, config, manifest))


def run_pipeline(
    config: ExperimentConfig,
    run_dir: str | Path,
    until: str | None = None,
    force: bool = False,
    on_stage: Callable[[StageOutcome], None] | None = None,
    on_cells: ProgressFn | None = None,
) -> list[StageOutcome]:
    """Run every stage up to ``until`` in order, skipping those whose key and outputs still match.
    Stages that work model by model send their cells to the executor ``config.executor`` names
    (``on_cells`` hears how each grid is going)."""
    names = stage_names()
    if until is not None and until not in names:
        raise ValueError(f"unknown stage '{until}' (stages: {', '.join(names)})")
    with open_executor(config, on_cells) as executor:
        return _run_stages(config, RunLayout(Path(run_dir)), until, force, on_stage, executor)


def _run_stages(config, run: RunLayout, until, force, on_stage, executor) -> list[StageOutcome]:
    stages = stage_registry()
    run.root.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(run)
    manifest.update(
        {
            "name": config.name,
            "config": config.model_dump(mode="json"),
            "config_hash": config.config_hash,
            "seed": config.seed,
            "versions": package_versions(),
            "git": git_commit(),
        }
    )
    outcomes = []
    for stage in stages:
        if stage.name == PREREGISTERED_BEFORE:
            freeze_preregistration(config, run, manifest)
        key = stage_key(stage, config, manifest)
        stage_dir = run.stage_dir(stage.name)
        record = manifest["stages"].get(stage.name)
        started = time.perf_counter()
        if not force and _still_valid(record, key, stage_dir):
            outcome = StageOutcome(stage.name, "cached", 0.0)
        else:
            partial = partial_dir(run, stage.name, key, fresh=force)
            stage.run(config, run, partial, *([executor] if stage.cells else []))
            (partial / PARTIAL_KEY).unlink()
            shutil.rmtree(stage_dir, ignore_errors=True)
            os.replace(partial, stage_dir)
            seconds = time.perf_counter() - started
            manifest["stages"][stage.name] = {
                "key": key,
                "finished": _now(),
                "seconds": round(seconds, 3),
                "outputs": _output_hashes(stage_dir),
                **({"executor": executor.name, "threads_per_cell": executor.threads} if stage.cells else {}),
            }
            manifest["updated"] = _now()
            write_json_atomic(run.manifest, manifest)
            outcome = StageOutcome(stage.name, "ran", seconds)
        publish(run, stage)
        outcomes.append(outcome)
        if on_stage:
            on_stage(outcome)
        if stage.name == until:
            break
    write_json_atomic(run.manifest, manifest)
    return outcomes
