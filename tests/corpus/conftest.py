"""Helpers for the corpus package's editable phrasing files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from rearing.datafile import package_data


@pytest.fixture
def edited_data(tmp_path: Path) -> Callable[[str, str, str], tuple[Path, int]]:
    """``edit(name, old, new)``: a copy of the packaged ``data/<name>`` with ``old`` replaced once,
    and the 1-based line where the edit starts."""

    def edit(name: str, old: str, new: str) -> tuple[Path, int]:
        text = package_data("rearing.corpus", f"data/{name}").read_text(encoding="utf-8")
        assert text.count(old) == 1, old
        path = tmp_path / name
        path.write_text(text.replace(old, new), encoding="utf-8")
        return path, text[: text.index(old)].count("\n") + 1

    return edit
