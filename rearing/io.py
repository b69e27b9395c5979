"""Atomic writes and validated JSONL reading, shared by every stage.

A reader that fails reports *every* bad record (up to a limit) as ``file:line: field: reason`` so
a user fixes a file in one pass; a writer never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TypeVar

from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

DEFAULT_ERROR_LIMIT = 20


class InputError(Exception):
    """Bad user input. ``problems`` holds one ``file:line: field: reason`` string per problem."""

    def __init__(self, problems: list[str], total: int | None = None):
        self.problems = problems
        self.total = len(problems) if total is None else total
        more = self.total - len(problems)
        text = "\n".join(problems) + (f"\n... and {more} more" if more > 0 else "")
        super().__init__(text)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temp file beside ``path``; rename it over ``path`` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    binary = "b" in mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as handle:
        handle.write(text)


def write_json_atomic(path: str | Path, data: object) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def write_jsonl_atomic(path: str | Path, records: Iterable[BaseModel | dict | str]) -> int:
    """Write records one per line (models dumped without None-stripping); returns the count."""
    count = 0
    with atomic_open(path, "w") as handle:
        for record in records:
            handle.write(to_json_line(record))
            handle.write("\n")
            count += 1
    return count


def to_json_line(record: BaseModel | dict | str) -> str:
    if isinstance(record, str):
        return record
    if isinstance(record, BaseModel):
        return record.model_dump_json()
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def field_path(loc: Sequence[str | int]) -> str:
    """A pydantic error location as the key path a person reads: ``options[0].valence`` (an error in
    a mapping's key itself, which pydantic marks ``[key]``, is reported at that key)."""
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        path += f"[{part}]" if isinstance(part, int) else f".{part}" if path else str(part)
    return path


def error_message(item: dict) -> str:
    """A pydantic error's message without pydantic's "Value error, " prefix on our own checks."""
    return item["msg"].removeprefix("Value error, ")


def format_validation_error(where: str, error: ValidationError) -> list[str]:
    """One ``where: field.path: reason`` line per pydantic error."""
    return [f"{where}: {field_path(item['loc']) or '<record>'}: {error_message(item)}" for item in error.errors()]


class Problems:
    """Problems collected up to a limit while counting all of them, raised together as one ``InputError``."""

    def __init__(self, limit: int = DEFAULT_ERROR_LIMIT) -> None:
        self.limit = limit
        self.shown: list[str] = []
        self.total = 0

    def add(self, problem: str) -> None:
        self.total += 1
        if len(self.shown) < self.limit:
            self.shown.append(problem)

    def extend(self, problems: Iterable[str]) -> None:
        for problem in problems:
            self.add(problem)

    def raise_if_any(self) -> None:
        if self.total:
            raise InputError(self.shown, self.total)


def json_lines(path: Path, text: str, problems: Problems) -> Iterator[tuple[str, int, dict]]:
    """``(where, line number, object)`` for each JSON-object line of ``text`` read from ``path``;
    a line that is not a JSON object becomes a problem. Splits on "\n" only: JSON strings may
    legally hold a raw U+2028, which ``splitlines()`` would break on."""
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.add(f"{where}: <json>: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(data, dict):
            problems.add(f"{where}: <record>: expected a JSON object, got {type(data).__name__}")
            continue
        yield where, number, data


def read_jsonl(
    path: str | Path,
    model: type[T],
    error_limit: int = DEFAULT_ERROR_LIMIT,
    unique: str | None = None,
) -> list[T]:
    """Parse and validate a JSONL file; raise ``InputError`` listing every bad record.

    ``unique`` names a field whose values must not repeat (e.g. ``id``).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError([f"{path}: no such file"])
    records: list[T] = []
    seen: dict[object, int] = {}
    problems = Problems(error_limit)
    for where, number, data in json_lines(path, path.read_text(encoding="utf-8"), problems):
        try:
            record = model.model_validate(data)
        except ValidationError as exc:
            problems.extend(format_validation_error(where, exc))
            continue
        key = getattr(record, unique) if unique else None
        if unique and key in seen:
            problems.add(f"{where}: {unique}: duplicate '{key}' (first on line {seen[key]})")
            continue
        if unique:
            seen[key] = number
        records.append(record)
    problems.raise_if_any()
    return records


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_json(path: str | Path) -> dict:
    with Path(path).open("r", encoding="utf-8") as handle:
        return json.load(handle)
