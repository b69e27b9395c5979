"""Reading and writing scenario files: the one reader every stage uses."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rearing.io import DEFAULT_ERROR_LIMIT, read_jsonl, write_jsonl_atomic
from rearing.world.schema import Scenario


def read_scenarios(path: str | Path, error_limit: int = DEFAULT_ERROR_LIMIT) -> list[Scenario]:
    """Validated scenarios of a JSONL file; a repeated id is an input error too."""
    return read_jsonl(path, Scenario, error_limit, unique="id")


def write_scenarios(path: str | Path, scenarios: Iterable[Scenario | dict | str]) -> int:
    return write_jsonl_atomic(path, scenarios)


def find_scenario(scenarios: Iterable[Scenario], scenario_id: str) -> Scenario | None:
    return next((s for s in scenarios if s.id == scenario_id), None)
