"""Choosing and opening the executor a run's cells go to (``config.executor``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rearing.cells import Executor, ProgressFn
from rearing.config import ExperimentConfig


def make_executor(config: ExperimentConfig, on_progress: ProgressFn | None = None) -> Executor:
    """The executor ``config.executor`` names (Ray is imported only when asked for)."""
    kind = config.executor.kind
    if kind == "ray":
        from rearing.cells.ray_cluster import RayExecutor

        return RayExecutor(config, on_progress)
    from rearing.cells.local import LocalExecutor, SerialExecutor

    if kind == "local":
        return LocalExecutor(config, on_progress)
    return SerialExecutor(config, on_progress)


@contextmanager
def open_executor(config: ExperimentConfig, on_progress: ProgressFn | None = None) -> Iterator[Executor]:
    """An executor for one run, its workers started on first use and stopped on exit."""
    executor = make_executor(config, on_progress)
    try:
        yield executor
    finally:
        close = getattr(executor, "close", None)
        if close:
            close()
