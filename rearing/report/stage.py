"""The report stage, last in the pipeline: the run's artifacts read into one HTML page and a Markdown
summary (``report/report.html``, ``report/report.md``), both also placed at the run's root so
``runs/<name>/report.html`` opens with a double-click."""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.datafile import package_data_files
from rearing.layout import ReportLayout, RunLayout, StageSpec
from rearing.report import STAGE
from rearing.report.render import write_report
from rearing.report.sections import build_report


def run_report(config: ExperimentConfig, run: RunLayout, out_dir: Path) -> None:
    out = ReportLayout(out_dir)
    write_report(build_report(config, run), out.html, out.markdown)


def report_inputs(config: ExperimentConfig) -> list[Path]:
    """The report's words, templates and style, and the ladder it shows."""
    from rearing.world.ladder import DEFAULT_LADDER, default_ladder_path

    templates = sorted((Path(__file__).parent / "templates").glob("*"))
    ladder = default_ladder_path() if config.world.ladder == DEFAULT_LADDER else Path(config.world.ladder)
    return [*package_data_files("rearing.report"), *templates, ladder]


REPORT_STAGE = StageSpec(name=STAGE, sections=("report", "world", "corpus", "train", "eval", "probe", "analysis"),
                         upstream=("world", "corpus", "train", "eval", "probe", "analysis"), run=run_report,
                         external_inputs=report_inputs, run_records=("preregistration", "git", "versions"),
                         published=(ReportLayout.HTML, ReportLayout.MARKDOWN))
"""Reads every config section it shows (the provenance prints the whole config) and the manifest's
records of the plan, the commit and the versions, so a new commit re-renders the report alone."""
