"""Training conditions: everything about a condition in one record, the built-in ones as data.

A condition says how the same scenarios become its training stream: which renderer writes each
document, the default ordering, whether moral text is interleaved with general text or comes as a
final phase, which model-raising transforms the general text gets, which other condition it is
length-matched against, which eval formats share its surface form, and how the LLM backend is told
to write it. The built-ins live in ``data/conditions.yaml``; a run adds or replaces entries under
``corpus.define`` in its config, so adding a condition is one entry (plus a renderer if it needs one).
A condition with no renderer (``renderer: null``) renders no scenario: its stream is general text
only, the null control; it can claim nothing about moral documents (see ``NO_MORAL_DOCUMENTS``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, get_args

from pydantic import Field, ValidationInfo, field_validator, model_validator

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


NO_MORAL_DOCUMENTS: dict[str, tuple[object, str]] = {
    "content_matched": (False, "there is no content to match: set content_matched: false"),
    "length_matched_to": (None, "there are no documents to lengthen: remove length_matched_to"),
    "private_deliberation": (False, "no narrator deliberates: remove private_deliberation"),
    "layout": ("interleaved", "a phased layout puts the moral documents last and there are none: use interleaved"),
    "llm_style": (None, "the LLM backend has nothing to write: remove llm_style"),
}
"""What a condition that renders no scenario must say of each field (the value it must have, and why)."""


class Condition(DataRecord):
    description: str = ""
    renderer: str | None = Field(
        description="A renderer name, module:function for one of your own, or null: the condition renders "
        "no scenario (general text only, the same token budget: a null control).")
    ordering: Ordering = "shuffled"
    layout: Placement = "interleaved"
    transform_general: list[str] = Field(default_factory=list)
    length_matched_to: str | None = None
    familiar_formats: list[Format] = Field(default_factory=list)
    practised_format: Format | None = Field(
        None, description="The familiar format whose question the condition's documents ask and answer after "
        "each option: its positive control (held-out accuracy there shows the model learned its own lesson "
        "at all). None: the condition states no verdict.")
    llm_style: str | None = Field(None, description="Overrides the renderer's llm_style.")
    content_matched: bool = Field(
        True, validate_default=True, description="Carries every content unit of each scenario (setting, needs, "
        "actions, consequences, principle, verdict); the corpus build fails if a document misses one.")
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

    @field_validator(*NO_MORAL_DOCUMENTS)
    @classmethod
    def _nothing_moral_without_a_renderer(cls, value, info: ValidationInfo):
        """A condition that renders no scenario has no moral documents to match, lengthen, deliberate in,
        put in a final phase or have the LLM write (``renderer`` is validated first, so it is known here)."""
        if "renderer" in info.data and info.data["renderer"] is None:
            required, why = NO_MORAL_DOCUMENTS[info.field_name]
            if value != required:
                raise ValueError(f"the condition renders no scenario (renderer: null), so {why}")
        return value

    @model_validator(mode="after")
    def _practised_is_familiar(self) -> Condition:
        if self.practised_format and self.practised_format not in self.familiar_formats:
            raise ValueError(f"practised_format {self.practised_format!r} must be one of familiar_formats "
                             f"{self.familiar_formats}: a format the condition practises is familiar to it")
        return self

    @property
    def renders_scenarios(self) -> bool:
        """Whether the condition has moral documents (False: general text only)."""
        return self.renderer is not None


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
    does not exist: a renderer must be one of ``renderers`` (or ``module:function``, or null), and
    ``length_matched_to`` one of ``conditions`` that renders scenarios."""
    problems = []
    for name, c in conditions.items():
        if c.renderer is not None and c.renderer not in renderers and ":" not in c.renderer:
            known = f"known: {', '.join(renderers)}, or module:function"
            problems.append((name, "renderer", f"unknown renderer '{c.renderer}' ({known})"))
        target = c.length_matched_to
        if target is not None and target not in conditions:
            problems.append((name, "length_matched_to", f"unknown condition '{target}'"))
        elif target is not None and not conditions[target].renders_scenarios:
            problems.append((name, "length_matched_to", f"'{target}' renders no scenario (renderer: null): "
                             "it has no documents to match the length of"))
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
    """The ``module:function`` of a condition's own renderer, or None when it uses a packaged one or none."""
    packaged = condition.renderer is None or condition.renderer in builtin_book().renderers
    return None if packaged else condition.renderer


def renderer_function(condition: Condition) -> RenderFn:
    """The function that writes one document of ``condition`` (which must render scenarios)."""
    if condition.renderer is None:
        raise ValueError("the condition renders no scenario (renderer: null): it has no renderer function")
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
    and no ``llm_style``); a condition that renders no scenario gives it nothing to write."""
    return condition.renders_scenarios and not condition.llm_style and _renderer_style(condition) is None


def familiar_conditions(fmt: str, conditions: Mapping[str, Condition]) -> list[str]:
    """The conditions whose training text shares ``fmt``'s surface form."""
    return [name for name, c in conditions.items() if fmt in c.familiar_formats]


def practised_formats(conditions: Mapping[str, Condition]) -> list[str]:
    """The formats whose question some of ``conditions`` ask and answer in their own documents."""
    return sorted({c.practised_format for c in conditions.values() if c.practised_format})


def neutral_formats(formats: Sequence[str], conditions: Mapping[str, Condition]) -> list[str]:
    """Formats none of ``conditions`` trained in the surface form of, or that all of them know equally.

    The primary metrics use these, so no arm wins by having practised the item's surface form. A
    condition with no moral documents practises no format and is not an arm to weigh here.
    """
    names = {name for name, c in conditions.items() if c.renders_scenarios}
    return [f for f in formats
            if not names & set(familiar_conditions(f, conditions)) or names <= set(familiar_conditions(f, conditions))]
