"""The report as data: its sections in order, each built from the run's inputs by one builder.

The words of each section (title, the lead that tells a reader how to read it) are data
(``data/sections.yaml``); the builders (here, by section id) decide what is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import ConfigDict, RootModel

from rearing.config import ExperimentConfig
from rearing.datafile import DataRecord, load_data
from rearing.layout import UNTRAINED, RunLayout
from rearing.report.blocks import Block, Section, Tone
from rearing.report.example import example_section
from rearing.report.figures import Palette
from rearing.report.headline import TONE, preregistration_section, provenance_section, verdict_section
from rearing.report.inputs import RunInputs, load_inputs
from rearing.report.internals import instrument_section, representations_section
from rearing.report.outcomes import agentic_section, attack_section, pressure_section, suites_section

Builder = Callable[[RunInputs, Palette, Sequence[str]], tuple[Block, ...]]

BUILDERS: dict[str, Builder] = {
    "verdict": verdict_section,
    "preregistration": preregistration_section,
    "suites": suites_section,
    "pressure": pressure_section,
    "agentic": agentic_section,
    "attack": attack_section,
    "representations": representations_section,
    "instrument": instrument_section,
    "example": example_section,
    "provenance": provenance_section,
}
"""Each section's builder; the order a reader meets them is ``data/sections.yaml``'s."""


class SectionText(DataRecord):
    title: str
    lead: str


class SectionBook(RootModel[dict[str, SectionText]]):
    model_config = ConfigDict(frozen=True)


def section_texts() -> dict[str, SectionText]:
    return dict(load_data(SectionBook, "rearing.report", "data/sections.yaml").root)


@dataclass(frozen=True)
class Report:
    run: str
    verdict: str | None
    verdict_line: str | None
    tone: Tone
    sections: tuple[Section, ...]

    @property
    def figures(self) -> int:
        return sum(section.figures for section in self.sections)


def condition_order(inputs: RunInputs) -> list[str]:
    """The conditions this run has anything of, in the order the config lists them (the primary
    contrast's arms first), the null controls last."""
    from rearing.corpus.build import run_conditions
    from rearing.report.outcomes import null_conditions

    config = inputs.config
    present: set[str] = set((inputs.corpus_stats or {}).get("conditions", {}))
    for frame in (inputs.results, inputs.episodes):
        if frame is not None:
            present |= set(frame["condition"].dropna())
    nulls = null_conditions(inputs)
    listed = [*config.analysis.primary_contrast, *run_conditions(config), *sorted(present)]
    return [c for c in dict.fromkeys([*[c for c in listed if c not in nulls], *nulls, UNTRAINED]) if c in present]


def build_report(config: ExperimentConfig, run: RunLayout) -> Report:
    from rearing.report.outcomes import null_conditions

    inputs = load_inputs(config, run)
    order = condition_order(inputs)
    palette = Palette(order, muted=[c for c in order if c in null_conditions(inputs)])
    texts = section_texts()
    unknown = set(texts) ^ set(BUILDERS)
    if unknown:
        raise ValueError(f"sections without both a text and a builder: {', '.join(sorted(unknown))}")
    sections = tuple(Section(name, text.title, text.lead, BUILDERS[name](inputs, palette, order))
                     for name, text in texts.items())
    verdict = inputs.verdict
    return Report(run=inputs.manifest.get("name", run.root.name), verdict=verdict["verdict"] if verdict else None,
                  verdict_line=verdict["message"] if verdict else None,
                  tone=TONE.get(verdict["verdict"], "warn") if verdict else "warn", sections=sections)
