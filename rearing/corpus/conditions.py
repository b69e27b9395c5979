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

from rearing.datafile import DataRecord, identifier, import_reference, load_data
from rearing.evals.schema import Format
from rearing.world.schema import Scenario

Ordering = Literal["developmental", "shuffled", "reverse"]
ORDERINGS: tuple[str, ...] = get_args(Ordering)
Placement = Literal["interleaved", "phased"]
"""Where a condition's moral documents sit among the general ones: spread through them, or after them."""
RenderFn = Callable[[Scenario, random.Random], str]
ConditionName = identifier("condition", "it names the condition's stream folder and its models (name/seed_0)")
"""A condition's name: an identifier, since it names folders and models."""


class Renderer(DataRecord):
    function: str = Field(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", description="module:function")
    llm_style: str = Field(min_length=1, description="What the LLM backend is asked to write.")


class Condition(DataRecord):
    description: str = ""
    renderer: str = Field(description="A renderer name, or module:function for one of your own.")
    ordering: Ordering = "shuffled"
    layout: Placement = "interleaved"
    transform_general: list[str] = Field(default_factory=list)
    length_matched_to: str | None = None
    familiar_formats: list[Format] = Field(default_factory=list)
    llm_style: str | None = Field(None, description="Overrides the renderer's llm_style.")
    content_matched: bool = Field(
        True, description="Carries every content unit of each scenario (setting, needs, actions, "
        "consequences, principle, verdict); the corpus build fails if a document misses one.")
    in_default_set: bool = Field(True, description="Built when a config does not list its conditions.")
    private_deliberation: bool = Field(
        False, description="Its documents carry the narrator's private deliberation (audited like any unit).")

    @field_validator("transform_general")
    @classmethod
    def _known_transforms(cls, value: list[str]) -> list[str]:
        from rearing.corpus.transforms import TRANSFORMS

        unknown = [t for t in value if t not in TRANSFORMS]
        if unknown:
            raise ValueError(f"unknown transforms {unknown}; choose from {', '.join(TRANSFORMS)}")
        return value


class ConditionBook(DataRecord):
    """The packaged renderers and conditions (``data/conditions.yaml``)."""

    renderers: dict[str, Renderer] = Field(min_length=1)
    conditions: dict[ConditionName, Condition] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> ConditionBook:
        problems = reference_problems(self.conditions, self.renderers)
        if problems:
            raise ValueError("; ".join(f"conditions.{name}.{field}: {message}" for name, field, message in problems))
        return self


def reference_problems(conditions: Mapping[str, Condition],
                       renderers: Mapping[str, Renderer]) -> list[tuple[str, str, str]]:
    """``(condition, field, reason)`` for each renderer or condition a set of conditions names that
    does not exist: a renderer must be one of ``renderers`` (or ``module:function``), and
    ``length_matched_to`` one of ``conditions``."""
    problems = []
    for name, c in conditions.items():
        if c.renderer not in renderers and ":" not in c.renderer:
            known = f"known: {', '.join(renderers)}, or module:function"
            problems.append((name, "renderer", f"unknown renderer '{c.renderer}' ({known})"))
        if c.length_matched_to is not None and c.length_matched_to not in conditions:
            problems.append((name, "length_matched_to", f"unknown condition '{c.length_matched_to}'"))
        if c.length_matched_to == name:
            problems.append((name, "length_matched_to", "a condition cannot be length-matched to itself"))
    return problems


def builtin_book() -> ConditionBook:
    """The packaged book, read once per process and shared: frozen, so no reader can change it for another."""
    return load_data(ConditionBook, "rearing.corpus", "data/conditions.yaml")


def builtin_renderers() -> dict[str, Renderer]:
    """The packaged renderers by name (a fresh dict; the records are frozen)."""
    return dict(builtin_book().renderers)


def default_conditions() -> list[str]:
    """The conditions a config builds when it names none: the built-ins not marked optional."""
    return [name for name, c in builtin_book().conditions.items() if c.in_default_set]


def all_conditions(defined: Mapping[str, Condition] | None = None) -> dict[str, Condition]:
    """The built-in conditions with a run's own definitions added (or replacing built-ins); a fresh dict."""
    return {**builtin_book().conditions, **(defined or {})}


def custom_renderer(condition: Condition) -> str | None:
    """The ``module:function`` of a condition's own renderer, or None when it uses a packaged one."""
    return None if condition.renderer in builtin_book().renderers else condition.renderer


def renderer_function(condition: Condition) -> RenderFn:
    """The function that writes one document of ``condition``."""
    renderer = builtin_book().renderers.get(condition.renderer)
    return import_reference(renderer.function if renderer else condition.renderer, "renderer")


def llm_style(condition: Condition) -> str:
    """How the LLM backend is told to write this condition."""
    style = condition.llm_style or _renderer_style(condition)
    if style is None:
        raise ValueError(f"renderer '{condition.renderer}' has no llm_style; set the condition's llm_style")
    return style


def _renderer_style(condition: Condition) -> str | None:
    renderer = builtin_book().renderers.get(condition.renderer)
    return renderer.llm_style if renderer else None


def lacks_llm_style(condition: Condition) -> bool:
    """Whether the LLM backend could not be told how to write ``condition`` (a renderer of your own
    and no ``llm_style``)."""
    return not condition.llm_style and _renderer_style(condition) is None


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
