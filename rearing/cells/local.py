"""Cells on this machine: one after another in this process, or on a pool of pinned worker processes.

Small models scale badly across threads (a nano step on 2 threads is far from twice as fast as on
one), so the pool gives each worker its own share of the cores: ``os.sched_setaffinity`` and torch's
thread count, set before the worker imports anything heavy. Workers are spawned, not forked (a forked
torch with live threads can deadlock). A worker that dies (killed, out of memory) breaks the whole
pool; the pool is then rebuilt and every unfinished cell resubmitted, up to ``executor.max_retries``
times each. An exception from a cell's own code is not retried: it stops the stage, naming the cell.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from rearing.cells import Cell, CellFailed, GridProgress, ProgressFn, cell_share, run_cell
from rearing.config import ExperimentConfig


class SerialExecutor:
    """Every cell in this process, in order: the reference the other executors must match."""

    name = "serial"

    def __init__(self, config: ExperimentConfig, on_progress: ProgressFn | None = None) -> None:
        self.threads = cell_share(config, kind="serial").threads
        self.on_progress = on_progress

    def run(self, stage: str, cells: Sequence[Cell], root: Path) -> list[Any]:
        progress = GridProgress(stage, len(cells))
        results = []
        for cell in cells:
            progress.running = 1
            progress.report(self.on_progress)
            try:
                results.append(run_cell(cell, root, self.threads))
            except Exception as exc:
                raise CellFailed(cell.name, f"{type(exc).__name__}: {exc}") from exc
            progress.done, progress.running = progress.done + 1, 0
            progress.finished.append(cell.name)
        progress.report(self.on_progress)
        return results


def core_shares(workers: int, threads: int) -> list[list[int]]:
    """The cores each worker is pinned to: disjoint shares of ``threads`` cores while they last; when
    ``workers × threads`` exceeds the cores, every worker may use every core (no pinning)."""
    cores = sorted(os.sched_getaffinity(0))
    if workers * threads > len(cores):
        return [cores] * workers
    return [cores[i * threads:(i + 1) * threads] for i in range(workers)]


def _pin_worker(shares, threads: int) -> None:
    """A pool worker's first act: take a share of the cores and size every thread pool to it."""
    cores = shares.get()
    os.sched_setaffinity(0, cores)
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = str(threads)
    import torch

    torch.set_num_threads(threads)


class LocalExecutor:
    """A process pool on this machine: ``workers`` processes, each pinned to ``threads`` cores."""

    name = "local"

    def __init__(self, config: ExperimentConfig, on_progress: ProgressFn | None = None) -> None:
        share = cell_share(config, kind="local")
        self.threads, self.workers = share.threads, share.at_once or 1
        self.max_retries = config.executor.max_retries
        self.on_progress = on_progress
        self._pool: ProcessPoolExecutor | None = None

    def _open_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            shares = context.Queue()
            for share in core_shares(self.workers, self.threads):
                shares.put(share)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_pin_worker,
                                             initargs=(shares, self.threads))
        return self._pool

    def worker_pids(self) -> list[int]:
        """The pool's live worker processes (for operators, and for tests that kill one)."""
        processes = getattr(self._pool, "_processes", None) or {}
        return sorted(processes)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run(self, stage: str, cells: Sequence[Cell], root: Path) -> list[Any]:
        progress = GridProgress(stage, len(cells))
        results: dict[int, Any] = {}
        attempts = [0] * len(cells)
        todo = list(range(len(cells)))
        while todo:
            pool = self._open_pool()
            running: dict[Future, int] = {pool.submit(run_cell, cells[i], root, self.threads): i for i in todo}
            todo, broken = [], False
            while running:
                progress.running = min(len(running), self.workers)
                progress.report(self.on_progress)
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    index = running.pop(future)
                    try:
                        results[index] = future.result()
                    except BrokenProcessPool:
                        broken = True
                        attempts[index] += 1
                        if attempts[index] > self.max_retries:
                            self.close()
                            progress.failed += 1
                            progress.report(self.on_progress)
                            raise CellFailed(cells[index].name, f"its worker died {attempts[index]} times "
                                             f"(executor.max_retries is {self.max_retries})") from None
                        todo.append(index)
                        progress.retried += 1
                    except Exception as exc:
                        self.close()
                        progress.failed += 1
                        progress.report(self.on_progress)
                        raise CellFailed(cells[index].name, f"{type(exc).__name__}: {exc}",
                                         _remote_traceback(exc)) from exc
                    else:
                        progress.done += 1
                        progress.finished.append(cells[index].name)
            if broken:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            todo.sort()
        progress.running = 0
        progress.report(self.on_progress)
        return [results[i] for i in range(len(cells))]


def _remote_traceback(exc: BaseException) -> str:
    """The worker's traceback, which the pool attaches as the exception's cause."""
    return str(exc.__cause__) if exc.__cause__ is not None else ""

