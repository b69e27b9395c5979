"""Training conditions: everything about a condition in one record, the built-in ones as data.

A condition says how the same scenarios become its training stream: which renderer writes each
document, the default ordering, whether moral text is interleaved with general text or comes as a
final phase, which model-raising transforms the general text gets, which other condition it is
length-matched against, which eval formats share its surface form, and how the LLM backend is told
to write it. The built-ins live in ``data/conditions.yaml``; a run adds or replaces entries under
``corpus.define`` in its config, so adding a condition is one entry (plus a renderer if it needs one).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, get_args

from pydantic import Field, field_validator, model_validator

from rearing.datafile import import_reference, load_data
from rearing.evals.schema import Format
from rearing.world.schema import Record, Scenario

Ordering = Literal["developmental", "shuffled", "reverse"]
ORDERINGS: tuple[str, ...] = get_args(Ordering)
Layout = Literal["interleaved", "phased"]
RenderFn = Callable[[Scenario, random.Random], str]


class Renderer(Record):
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function")
    llm_style: str = Field(min_length=1, description="What the LLM backend is asked to write.")


class Condition(Record):
    description: str = ""
    renderer: str = Field(description="A renderer name, or module:function for one of your own.")
    ordering: Ordering = "shuffled"
    layout: Layout = "interleaved"
    transform_general: list[str] = Field(default_factory=list)
    length_matched_to: str | None = None
    familiar_formats: list[Format] = Field(default_factory=list)
    llm_style: str | None = Field(None, description="Overrides the renderer's llm_style.")

    @field_validator("transform_general")
    @classmethod
    def _known_transforms(cls, value: list[str]) -> list[str]:
        from rearing.corpus.transforms import TRANSFORMS

        unknown = [t for t in value if t not in TRANSFORMS]
        if unknown:
            raise ValueError(f"unknown transforms {unknown}; choose from {', '.join(TRANSFORMS)}")
        return value


class ConditionBook(Record):
    """The packaged renderers and conditions (``data/conditions.yaml``)."""

    renderers: dict[str, Renderer] = Field(min_length=1)
    conditions: dict[str, Condition] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> ConditionBook:
        problems = reference_problems(self.conditions, self.renderers)
        if problems:
            raise ValueError("; ".join(problems))
        return self


def reference_problems(conditions: Mapping[str, Condition], renderers: Mapping[str, Renderer]) -> list[str]:
    """What in a set of conditions names a renderer or a condition that does not exist."""
    problems = []
    for name, c in conditions.items():
        if c.renderer not in renderers and ":" not in c.renderer:
            problems.append(f"{name}: unknown renderer '{c.renderer}' (known: {', '.join(renderers)}, "
                            "or module:function)")
        if c.length_matched_to is not None and c.length_matched_to not in conditions:
            problems.append(f"{name}: length_matched_to names unknown condition '{c.length_matched_to}'")
        if c.length_matched_to == name:
            problems.append(f"{name}: a condition cannot be length-matched to itself")
    return problems


def builtin_book() -> ConditionBook:
    return load_data(ConditionBook, "rearing.corpus", "data/conditions.yaml")


def all_conditions(defined: Mapping[str, Condition] | None = None) -> dict[str, Condition]:
    """The built-in conditions with a run's own definitions added (or replacing built-ins)."""
    return {**builtin_book().conditions, **(defined or {})}


def renderer_function(condition: Condition) -> RenderFn:
    """The function that writes one document of ``condition``."""
    renderer = builtin_book().renderers.get(condition.renderer)
    return import_reference(renderer.function if renderer else condition.renderer, "renderer")


def llm_style(condition: Condition) -> str:
    """How the LLM backend is told to write this condition."""
    if condition.llm_style:
        return condition.llm_style
    renderer = builtin_book().renderers.get(condition.renderer)
    if renderer is None:
        raise ValueError(f"renderer '{condition.renderer}' has no llm_style; set the condition's llm_style")
    return renderer.llm_style


def familiar_conditions(fmt: str, conditions: Mapping[str, Condition]) -> list[str]:
    """The conditions whose training text shares ``fmt``'s surface form."""
    return [name for name, c in conditions.items() if fmt in c.familiar_formats]


def neutral_formats(formats: Sequence[str], conditions: Mapping[str, Condition]) -> list[str]:
    """Formats none of ``conditions`` trained in the surface form of, or that all of them know equally.

    The primary metrics use these, so no arm wins by having practised the item's surface form.
    """
    names = set(conditions)
    return [f for f in formats
            if not names & set(familiar_conditions(f, conditions)) or names <= set(familiar_conditions(f, conditions))]
