"""Eval suites: one record per suite, the built-in ones as data (``data/suites.yaml``).

Item suites, agentic episodes and the fine-tuning attack are all suites; the eval stage iterates
over the ones a run asks for. A run adds a suite under ``eval.define`` in its config: one entry,
plus a view function if it needs to show scenarios in a new way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import ConfigDict, Field, RootModel, model_validator

from rearing.datafile import DataRecord, identifier, load_data
from rearing.evals.schema import Format, Split

SuiteKind = Literal["items", "episodes", "attack"]
SuiteName = identifier("suite", "it starts every item id and names the suite's inspect-ai task")
"""A suite's name: an identifier, since it starts item ids and names an inspect-ai task."""


class Suite(DataRecord):
    description: str = ""
    kind: SuiteKind
    split: Split | None = Field(None, description="The held-out split items or episodes draw from.")
    view: str = Field("plain", pattern=r"^(plain|hidden|stripped|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")
    pressure: bool = False
    formats: Literal["all", "neutral"] | list[Format] = "all"

    @model_validator(mode="after")
    def _fields_fit_the_kind(self) -> Suite:
        """View, pressure and formats shape items; a suite of another kind that sets them is a mistake."""
        if self.kind in ("items", "episodes") and self.split is None:
            raise ValueError(f"a suite of kind '{self.kind}' needs a split")
        shapes_items = self.view != "plain" or self.pressure or self.formats != "all"
        if self.kind == "attack" and (self.split is not None or shapes_items):
            raise ValueError("an attack suite re-runs eval.attack_suites: it takes no split, view, pressure "
                             "or formats")
        if self.kind == "episodes" and shapes_items:
            raise ValueError("an episodes suite plays whole scenarios under eval.agentic_pressures: "
                             "it takes no view, pressure or formats")
        return self


class SuiteBook(RootModel[dict[SuiteName, Suite]]):
    model_config = ConfigDict(frozen=True)


def builtin_suites() -> dict[str, Suite]:
    """The packaged suites by name: a fresh dict each call (the records themselves are frozen)."""
    return dict(load_data(SuiteBook, "rearing.evals", "data/suites.yaml").root)


def all_suites(defined: Mapping[str, Suite] | None = None) -> dict[str, Suite]:
    """The built-in suites with a run's own definitions added (or replacing built-ins); a fresh dict."""
    return {**builtin_suites(), **(defined or {})}
