"""Cell bodies for the executor tests: module-level, so pool and Ray workers can import them."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def where_am_i(root: Path, value: int) -> dict:
    """What a worker gives a cell: its cores, its torch threads, its process."""
    import torch

    return {"value": value * value, "cores": sorted(os.sched_getaffinity(0)), "threads": torch.get_num_threads(),
            "pid": os.getpid()}


def fail(root: Path, reason: str) -> None:
    attempts = Path(root) / "attempts"
    attempts.mkdir(exist_ok=True)
    (attempts / str(len(list(attempts.iterdir())))).touch()
    raise ValueError(reason)


def die_once(root: Path, marker: str, value: int) -> int:
    """Kill its own worker the first time (a worker lost mid-task), succeed when retried."""
    if not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return value + 1


def always_die(root: Path) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def copy_upper(root: Path, source: str, target: str) -> str:
    """Read a file of the run, write another: the run directory it saw comes back as the result."""
    text = (Path(root) / source).read_text()
    out = Path(root) / target
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text.upper())
    return str(root)
