"""The report as files: ``report.html`` (one self-contained page: inline CSS, SVG and a small sort
script, nothing fetched) and ``report.md`` (the verdict and the key tables, for terminals and papers).

Rendering is a pure function of the :class:`~rearing.report.sections.Report`: same run, same bytes.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from rearing import __version__
from rearing.io import write_text_atomic
from rearing.report.blocks import Banner, Cell, Missing, Table
from rearing.report.sections import Report

LONG_CELL = 90
"""Cells longer than this (or with line breaks) wrap as text blocks instead of staying on one line."""


def cell_class(cell: Cell) -> str:
    if "\n" in cell.text or len(cell.text) > LONG_CELL:
        return "long"
    classes = ["num"] if isinstance(cell.sort, (int, float)) else []
    if cell.tone != "plain":
        classes.append(cell.tone)
    return " ".join(classes)


def markdown_table(table: Table) -> str:
    def escape(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(escape(c) for c in table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(escape(c.text) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


@cache
def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("rearing.report", "templates"), autoescape=select_autoescape(["html.j2"], default_for_string=False),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(kind=lambda block: type(block).__name__, cell_class=cell_class, markdown_table=markdown_table,
                       summary_tables=lambda s: [b for b in s.blocks if isinstance(b, Table) and b.summary],
                       missing_parts=lambda s: [b for b in s.blocks if isinstance(b, Missing)],
                       banner_of=lambda s: next((b for b in s.blocks if isinstance(b, Banner)), None))
    return env


def _asset(name: str) -> str:
    return (Path(__file__).parent / "templates" / name).read_text(encoding="utf-8")


def render_html(report: Report) -> str:
    return _environment().get_template("report.html.j2").render(
        report=report, css=_asset("report.css"), script=_asset("sort.js"), version=__version__)


def render_markdown(report: Report) -> str:
    banner = next((b for s in report.sections for b in s.blocks if isinstance(b, Banner)), None)
    no_verdict = next((f"{b.what}: {b.why}" for s in report.sections[:1] for b in s.blocks if isinstance(b, Missing)),
                      "the analysis stage has not run")
    return _environment().get_template("report.md.j2").render(report=report, verdict=banner, no_verdict=no_verdict)


def write_report(report: Report, html: Path, markdown: Path) -> None:
    write_text_atomic(html, render_html(report))
    write_text_atomic(markdown, render_markdown(report))
