"""The words of the analysis plan: its hypotheses and secondary contrasts (``data/plan.yaml``), which
the config validates names against and the pre-registration freezes."""

from __future__ import annotations

from pydantic import ConfigDict, RootModel

from rearing.datafile import DataRecord, identifier, load_data

ContrastName = identifier("contrast", "it names a row of the verdict's secondary contrasts")


class ContrastSpec(DataRecord):
    """One comparison of two conditions: ``minuend - subtrahend`` on the primary metric."""

    minuend: str
    subtrahend: str
    question: str


class Hypotheses(DataRecord):
    primary: str
    equivalence: str
    falsified_by: str


class PlanWords(DataRecord):
    hypotheses: Hypotheses
    contrasts: dict[ContrastName, ContrastSpec]


class _Words(RootModel[PlanWords]):
    model_config = ConfigDict(frozen=True)


def plan_words() -> PlanWords:
    """The packaged hypotheses and secondary contrasts (``data/plan.yaml``)."""
    return load_data(_Words, "rearing.analysis", "data/plan.yaml").root
