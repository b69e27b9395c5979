"""What a report is made of: sections of small blocks (a banner, a table, a figure, prose, a note of
what is missing, texts side by side). Section builders return these; the templates only lay them out,
so a new section is one builder and one entry in ``data/sections.yaml``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Tone = Literal["plain", "good", "warn", "bad", "muted"]


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, the value it sorts by, and a tone (a failed gate is ``bad``)."""

    text: str
    sort: float | str | None = None
    tone: Tone = "plain"


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    note: str = ""
    summary: bool = False
    """Also printed in ``report.md`` (the verdict's key tables)."""
    collapsed: bool = False
    """Long reference tables start folded (opened for print)."""


@dataclass(frozen=True)
class Figure:
    name: str
    caption: str
    svg: str


@dataclass(frozen=True)
class Prose:
    text: str
    tone: Tone = "plain"


@dataclass(frozen=True)
class Code:
    """Text shown as written (a config, a document), in a fixed-width font."""

    caption: str
    text: str
    folded: bool = True


@dataclass(frozen=True)
class Missing:
    """A part of the report this run has no data for, and why: said, never left as blank space."""

    what: str
    why: str


@dataclass(frozen=True)
class Panel:
    title: str
    text: str
    note: str = ""


@dataclass(frozen=True)
class SideBySide:
    """Texts in columns (one scenario as each condition trained on it)."""

    caption: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Banner:
    """The verdict at the top: the call, its sentence, the numbers behind it and what departs from the plan."""

    verdict: str
    message: str
    tone: Tone
    facts: tuple[tuple[str, str], ...]
    gates: tuple[tuple[str, str, str, Tone], ...]
    """(gate, status, reason, tone)."""
    deviations: tuple[str, ...] = ()
    figure: Figure | None = None
    """The estimate against the +-SESOI band, inside the banner so it is seen with the call."""


Block = Banner | Table | Figure | Prose | Code | Missing | SideBySide


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    lead: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    @property
    def figures(self) -> int:
        return sum(isinstance(b, Figure) or (isinstance(b, Banner) and b.figure is not None) for b in self.blocks)


def number(value: float | None, digits: int = 3, signed: bool = False) -> Cell:
    """A number as a sortable cell; ``None`` and NaN as an em dash that sorts last."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("—")
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return Cell(text, sort=float(value))


def p_value(value: float | None) -> Cell:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return Cell("—")
    return Cell("< 0.001" if value < 0.001 else f"{value:.3f}", sort=float(value))


def cell(value: object, tone: Tone = "plain") -> Cell:
    """Any value as a cell: numbers sort by value, everything else by its text."""
    if isinstance(value, Cell):
        return value
    if isinstance(value, bool) or value is None:
        return Cell("—" if value is None else ("yes" if value else "no"), tone=tone)
    if isinstance(value, int):
        return Cell(f"{value:,}", sort=value, tone=tone)
    if isinstance(value, float):
        found = number(value)
        return Cell(found.text, found.sort, tone)
    return Cell(str(value), tone=tone)


def table(caption: str, columns: Sequence[str], rows: Sequence[Sequence[object]], note: str = "",
          summary: bool = False, collapsed: bool = False) -> Table:
    return Table(caption, tuple(columns), tuple(tuple(cell(v) for v in row) for row in rows), note, summary,
                 collapsed)


def interval(low: float | None, high: float | None, digits: int = 3, signed: bool = False) -> Cell:
    if low is None or high is None or math.isnan(low) or math.isnan(high):
        return Cell("—")
    fmt = f"{{:+.{digits}f}}" if signed else f"{{:.{digits}f}}"
    return Cell(f"{fmt.format(low)} to {fmt.format(high)}", sort=float(low))
