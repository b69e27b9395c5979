"""Cells: one model's share of a per-model stage (train, eval or probe), and the executors that run them.

A stage that works model by model (the train, eval and probe stages) hands its unfinished models to an
executor as :class:`Cell` s and waits for all of them. A cell names the files it reads and writes
relative to the run's directory, so it can run in this process, in a pinned worker of a local process
pool, or as a Ray task on a machine that does not see the run directory (its inputs and outputs then
travel through Ray's object store). Cells write into their stage's partial directory, whose key is the
stage's content hash, and each writes atomically and skips what is done: a retried or re-run cell never
redoes finished work, and a cell that dies halfway resumes where it stopped.

The executor is chosen by ``config.executor`` (or ``rearing run --executor``) and is not part of any
stage's key. Results are identical across executors when every cell uses the same thread count, which
``train.threads`` fixes; without it a cell takes its executor's share of the cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rearing.config import ExperimentConfig
from rearing.io import atomic_open


@dataclass(frozen=True)
class Cell:
    """One model's work in one stage: ``work(root, *args)``, where ``root`` is the run's directory (or,
    on a worker that does not share it, a scratch copy holding ``reads`` and ``writes``)."""

    name: str
    """What the cell is, for progress and errors: ``train bmn_developmental seed 0``."""
    work: Callable[..., Any]
    """A module-level function (workers import it by name)."""
    args: tuple = ()
    reads: tuple[str, ...] = ()
    """Files or directories, relative to the run's directory, the work reads."""
    writes: tuple[str, ...] = ()
    """Files or directories, relative to the run's directory, the work writes (and resumes from)."""


class CellFailed(RuntimeError):
    """A cell's own code raised, or its worker died more often than ``executor.max_retries`` allows."""

    def __init__(self, cell: str, reason: str, detail: str = "") -> None:
        self.cell, self.reason, self.detail = cell, reason, detail
        super().__init__(f"cell '{cell}' failed: {reason}" + (f"\n{detail}" if detail else ""))


ProgressFn = Callable[["GridProgress"], None]


@dataclass
class GridProgress:
    """Where one stage's cells stand: what the terminal shows while a grid runs."""

    stage: str
    total: int
    done: int = 0
    running: int = 0
    failed: int = 0
    retried: int = 0
    seconds: float = 0.0
    finished: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter, repr=False)

    def report(self, on_progress: ProgressFn | None) -> None:
        """Hand the current state to ``on_progress`` (the terminal's display), if any."""
        if on_progress:
            self.seconds = time.perf_counter() - self.started
            on_progress(self)

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the pace so far (None before the first cell finishes)."""
        if not self.done:
            return None
        return self.seconds / self.done * (self.total - self.done)



class Executor(Protocol):
    name: str
    threads: int
    """Torch threads each cell runs with."""

    def run(self, stage: str, cells: Sequence[Cell], root: Path) -> list[Any]:
        """Run every cell; their results in the cells' order. Raises :class:`CellFailed`."""


@dataclass(frozen=True)
class CellShare:
    """What each cell of a run gets and how many run at once; the one rule the executors and the dry run's
    estimate (``rearing run --dry-run``) both follow, so the estimate is of what will run."""

    threads: int
    """Torch threads per cell: ``train.threads`` when set, else the executor's share of the cores."""
    at_once: int | None
    """Cells that run at once; None for a Ray cluster not yet joined (its size is unknown)."""


def cell_share(config: ExperimentConfig, cluster_cpus: float | None = None,
               kind: str | None = None) -> CellShare:
    """The share of ``config.executor``: serial runs one cell with torch's threads, the local pool shares
    this machine's cores among its workers, Ray gives each cell ``cpus_per_cell`` of ``cluster_cpus`` (this
    machine's cores for a local instance). ``kind`` names the executor when it is not ``config.executor``'s."""
    settings, fixed = config.executor, config.train.threads
    kind = kind or settings.kind
    cores = len(os.sched_getaffinity(0))
    if kind == "local":
        workers = settings.workers or cores
        return CellShare(fixed or max(1, cores // workers), workers)
    if kind == "ray":
        if cluster_cpus is None and settings.address is None:
            cluster_cpus = cores
        at_once = None if cluster_cpus is None else max(1, int(cluster_cpus / settings.cpus_per_cell))
        return CellShare(fixed or max(1, int(settings.cpus_per_cell)), at_once)
    import torch

    return CellShare(fixed or torch.get_num_threads(), 1)


def run_cell(cell: Cell, root: Path, threads: int) -> Any:
    """Run one cell here with ``threads`` torch threads (set per cell, so what ran before does not decide)."""
    import torch

    torch.set_num_threads(threads)
    return cell.work(root, *cell.args)


def relative(path: Path, root: Path) -> str:
    """``path`` as a cell names it: relative to the run's directory, or absolute when it lies outside
    (such a cell can run only where the filesystem is shared)."""
    path, root = Path(path).resolve(), Path(root).resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def read_files(root: Path, paths: Sequence[str]) -> dict[str, bytes]:
    """Every file at or under ``paths`` (relative to ``root``), by relative path: what a cell sends or returns
    when its worker does not share the run directory."""
    files: dict[str, bytes] = {}
    for name in paths:
        path = root / name
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        for file in found:
            files[file.relative_to(root).as_posix()] = file.read_bytes()
    return files


def write_files(root: Path, files: dict[str, bytes]) -> None:
    """Write files returned by a cell under ``root``, each atomically."""
    for name, data in sorted(files.items()):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(target, "wb", encoding=None) as handle:
            handle.write(data)
