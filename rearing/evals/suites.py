"""Eval suites: one record per suite, the built-in ones as data (``data/suites.yaml``).

Item suites, agentic episodes and the fine-tuning attack are all suites; the eval stage iterates
over the ones a run asks for. A run adds a suite under ``eval.define`` in its config: one entry,
plus a view function if it needs to show scenarios in a new way.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import Field, RootModel, model_validator

from rearing.datafile import load_yaml, package_data
from rearing.evals.schema import Format, Split
from rearing.world.schema import Record

SuiteKind = Literal["items", "episodes", "attack"]


class Suite(Record):
    description: str = ""
    kind: SuiteKind
    split: Split | None = Field(None, description="The held-out split items or episodes draw from.")
    view: str = Field("plain", pattern=r"^(plain|stripped|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")
    pressure: bool = False
    formats: Literal["all", "neutral"] | list[Format] = "all"

    @model_validator(mode="after")
    def _split_where_needed(self) -> Suite:
        if self.kind in ("items", "episodes") and self.split is None:
            raise ValueError(f"a suite of kind '{self.kind}' needs a split")
        if self.kind == "attack" and (self.split is not None or self.view != "plain" or self.pressure):
            raise ValueError("an attack suite re-runs eval.attack_suites: it takes no split, view or pressure")
        return self


class SuiteBook(RootModel[dict[str, Suite]]):
    pass


@lru_cache(maxsize=1)
def builtin_suites() -> dict[str, Suite]:
    return load_yaml(package_data("rearing.evals", "data/suites.yaml"), SuiteBook).root


def all_suites(defined: Mapping[str, Suite] | None = None) -> dict[str, Suite]:
    """The built-in suites with a run's own definitions added (or replacing built-ins)."""
    return {**builtin_suites(), **(defined or {})}
