"""Cells as Ray tasks: on a local Ray instance, or on a cluster (``executor.address``).

Each cell is one task declaring its resources (``num_cpus``, and ``num_gpus`` when the run asks for GPUs;
a GPU task's worker then exits after its one cell, so no reused worker holds GPU memory). Ray retries a
task whose worker or node died (``max_retries``); an exception from the cell's own code is not retried
and stops the stage with the cell's name and the worker's traceback.

When the workers share the run directory (one machine, or a cluster on a shared filesystem), a cell
reads and writes it in place; a token file written by the driver proves to each worker that it sees the
same directory. When they do not, the files a cell reads (and any it left from an earlier attempt) go
to it through Ray's object store, it runs in a scratch copy, and the files it wrote come back the same
way and are written into the run directory here.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rearing.cells import (
    Cell,
    CellFailed,
    GridProgress,
    ProgressFn,
    cell_share,
    read_files,
    run_cell,
    write_files,
)
from rearing.config import ExperimentConfig
from rearing.io import InputError

TOKEN_FILE = ".executor-token"
"""Written into the run directory by the driver; a worker that reads the same token shares the directory."""

MISSING = ("Ray is not installed: the ray executor needs the 'ray' extra (pip install 'rearing[ray]'), "
           "or choose --executor local")


def require_ray():
    """The ``ray`` module, or an :class:`InputError` saying how to get it."""
    try:
        import ray
    except ImportError:
        raise InputError([f"executor.kind: {MISSING}"]) from None
    return ray


def _in_worker(cell: Cell, root: str, token: str, bundle: list | None, threads: int, *args: Any) -> dict:
    """A cell on a Ray worker: in the run directory when shared, else in a scratch copy of its files."""
    ray = require_ray()
    cell = dataclasses.replace(cell, args=args)
    if bundle is None:
        token_file = Path(root) / TOKEN_FILE
        if not token_file.is_file() or token_file.read_text() != token:
            raise RuntimeError(f"{root}: this worker ({ray.util.get_node_ip_address()}) does not see the run "
                               "directory; set executor.shared_filesystem: no")
        return {"result": run_cell(cell, Path(root), threads), "files": None}
    with tempfile.TemporaryDirectory(prefix="rearing-cell-") as scratch:
        write_files(Path(scratch), ray.get(bundle[0]))
        result = run_cell(cell, Path(scratch), threads)
        return {"result": result, "files": read_files(Path(scratch), cell.writes)}


class RayExecutor:
    """Cells as Ray tasks; starts a local Ray instance unless one is running or ``address`` names a cluster."""

    name = "ray"

    def __init__(self, config: ExperimentConfig, on_progress: ProgressFn | None = None) -> None:
        self.ray = require_ray()
        self.settings = settings = config.executor
        self.on_progress = on_progress
        self._owns = False
        if not self.ray.is_initialized():
            local = settings.address is None
            self.ray.init(address=settings.address, num_cpus=len(os.sched_getaffinity(0)) if local else None,
                          include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
            self._owns = True
        share = cell_share(config, cluster_cpus=self.ray.cluster_resources().get("CPU", 1.0), kind="ray")
        self.threads, self.slots = share.threads, share.at_once or 1

    def close(self) -> None:
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()

    def shares_filesystem(self) -> bool:
        """Whether workers see the run directory: as configured, or (auto) when every live node is this machine."""
        if self.settings.shared_filesystem != "auto":
            return self.settings.shared_filesystem == "yes"
        if self.settings.address and self.settings.address.startswith("ray://"):
            return False
        here = self.ray.util.get_node_ip_address()
        return all(node["NodeManagerAddress"] == here for node in self.ray.nodes() if node.get("Alive"))

    def _options(self, cell: Cell) -> dict[str, Any]:
        """The task's resources and retries (a GPU task's worker exits after it: ``max_calls=1``)."""
        settings = self.settings
        options: dict[str, Any] = {"name": cell.name, "num_cpus": settings.cpus_per_cell,
                                   "max_retries": settings.max_retries, "retry_exceptions": False}
        if settings.gpus_per_cell:
            options.update(num_gpus=settings.gpus_per_cell, max_calls=1)
        return options

    def run(self, stage: str, cells: Sequence[Cell], root: Path) -> list[Any]:
        ray, root = self.ray, Path(root).resolve()
        shared = self.shares_filesystem()
        token = secrets.token_hex(16)
        if shared:
            (root / TOKEN_FILE).write_text(token)
        task, stored, pending = self.ray.remote(_in_worker), {}, {}
        for index, cell in enumerate(cells):
            args = [a if _small(a) else stored.setdefault(id(a), ray.put(a)) for a in cell.args]
            bundle = None if shared else [ray.put(read_files(root, [*cell.reads, *cell.writes]))]
            ref = task.options(**self._options(cell)).remote(dataclasses.replace(cell, args=()), str(root), token,
                                                             bundle, self.threads, *args)
            pending[ref] = index
        progress, results = GridProgress(stage, len(cells)), {}
        try:
            while pending:
                progress.running = min(len(pending), self.slots)
                progress.report(self.on_progress)
                finished, _ = ray.wait(list(pending), num_returns=1, timeout=5.0)
                for ref in finished:
                    index = pending.pop(ref)
                    output = self._result(ref, cells[index], progress)
                    if output["files"] is not None:
                        write_files(root, output["files"])
                    results[index] = output["result"]
                    progress.done += 1
                    progress.finished.append(cells[index].name)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            (root / TOKEN_FILE).unlink(missing_ok=True)
        progress.running = 0
        progress.report(self.on_progress)
        return [results[i] for i in range(len(cells))]

    def _result(self, ref, cell: Cell, progress: GridProgress) -> dict:
        """A finished task's output, or :class:`CellFailed` saying whether our code failed or the worker died."""
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(ref)
        except exceptions.RayTaskError as exc:
            progress.failed += 1
            progress.report(self.on_progress)
            cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else exc
            raise CellFailed(cell.name, f"{type(cause).__name__}: {cause}", str(exc)) from None
        except exceptions.RayError as exc:
            progress.failed += 1
            progress.report(self.on_progress)
            raise CellFailed(cell.name, f"its worker or node died and {self.settings.max_retries} retries did not "
                             f"bring it back ({type(exc).__name__})", str(exc)) from None


def _small(value: Any) -> bool:
    """Arguments passed inline; anything else is put in the object store once and shared by every cell."""
    return value is None or isinstance(value, str | int | float | bool | Path)
