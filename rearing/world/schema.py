"""The Scenario record: one unit of moral content, shared by every stage.

Every field an importer cannot fill is explicit (``None`` or ``"unknown"``) and listed in
``provenance.missing`` so downstream stages never mistake a gap for a fact.
"""

from __future__ import annotations

from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = 1


class Record(BaseModel):
    """Base for every on-disk record: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=False)


class Valence(str, Enum):
    prosocial = "prosocial"
    harmful = "harmful"
    neutral = "neutral"
    unknown = "unknown"


class Foundation(str, Enum):
    care = "care"
    fairness = "fairness"
    loyalty = "loyalty"
    authority = "authority"
    sanctity = "sanctity"
    liberty = "liberty"
    honesty = "honesty"


class Pressure(str, Enum):
    authority = "authority"
    incentive = "incentive"
    peers = "peers"
    secrecy = "secrecy"
    urgency = "urgency"
    persuasion = "persuasion"


ConsequenceKind = Literal[
    "physical", "material", "emotional", "trust", "reputation", "relationship", "unspecified"
]
SOCIAL_KINDS = frozenset({"trust", "reputation", "relationship"})
Timing = Literal["immediate", "delayed", "unknown"]
Vulnerability = Literal["none", "low", "medium", "high", "unknown"]
Reversibility = Literal["reversible", "partly", "irreversible", "unknown"]
Visibility = Literal["observed", "partly", "unobserved", "unknown"]

SELF = "self"
"""Consequence target meaning the acting agent itself."""


class Agent(Record):
    name: str | None = Field(description="Name of the acting agent; None when the source has none.")
    role: str = Field(description="What the agent is in this setting (student, nurse, AI assistant).")
    goal: str | None = Field(description="What the agent wants, independent of the moral choice.")


class Stakeholder(Record):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str | None
    role: str
    relationship: str = Field(description="Relationship to the agent (friend, colleague, stranger...).")
    need: str = Field(description="What this person needs in the situation.")
    vulnerability: Vulnerability


class Consequence(Record):
    stakeholder: str | None = Field(
        description="Stakeholder id, 'self' for the agent, or None when the source does not say."
    )
    kind: ConsequenceKind
    timing: Timing
    delay: str | None = Field(default=None, description="How long after the choice, if delayed.")
    visible: bool | None = Field(default=None, description="Whether others can see it happen.")
    magnitude: float | None = Field(
        default=None, ge=-1.0, le=1.0, description="Signed welfare change, -1 (worst) to 1 (best)."
    )
    text: str = Field(min_length=1)


class Option(Record):
    id: str = Field(pattern=r"^[a-z]$")
    action: str = Field(min_length=1, description="What is offered at the choice point, no outcomes.")
    valence: Valence
    consequences: list[Consequence]
    reversibility: Reversibility
    agent_payoff: float | None = Field(
        default=None, description="Material reward to the agent (for 'harm pays' designs)."
    )
    derived: bool = Field(
        default=False, description="True when an importer derived this option (e.g. 'refrain')."
    )


class Difficulty(Record):
    """The stage's difficulty factors as realised in this scenario."""

    stakeholders: int = Field(ge=0)
    consequence_delay: Literal["none", "short", "long", "unknown"]
    visibility: Visibility
    harm_rewarded: bool | None
    conflicting_principles: bool | None
    mental_state_inference: bool | None
    harm_explicit: bool | None = Field(
        default=None, description="Harm stated plainly (True) or only described, left to be inferred (False).")
    score: float | None = Field(default=None, description="Within-stage difficulty, 0 to 1.")


class Provenance(Record):
    source: str = Field(description="'procedural', 'moral-stories', 'ethics-commonsense', ...")
    source_id: str | None = None
    source_line: int | None = None
    generator_seed: int | None = None
    frame: str | None = Field(default=None, description="Generator frame that produced it.")
    vocab_group: Literal["main", "reserved"] | None = Field(
        default=None, description="Surface-vocabulary partition (held-out vocabulary shift)."
    )
    template_ids: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list, description="Fields the source lacked.")
    rendered_by: str | None = Field(
        default=None, description="Model that wrote the setting and consequence texts; None: the templates did."
    )


class Scenario(Record):
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")
    schema_version: int = SCHEMA_VERSION
    domain: str
    setting: str = Field(min_length=1, description="The situation as the agent meets it.")
    agent: Agent
    stakeholders: list[Stakeholder]
    options: list[Option] = Field(min_length=2)
    foundations: list[Foundation]
    stage: int | None = Field(ge=1, description="Developmental stage; None when unknown.")
    difficulty: Difficulty | None
    principle: str | None = Field(description="The principle at stake, stated once.")
    pressures: list[Pressure] = Field(description="Pressure types that fit this scenario.")
    provenance: Provenance

    @model_validator(mode="after")
    def _references_resolve(self) -> Scenario:
        option_ids = [o.id for o in self.options]
        if len(set(option_ids)) != len(option_ids):
            raise ValueError(f"option ids must be unique, got {option_ids}")
        stakeholder_ids = [s.id for s in self.stakeholders]
        if len(set(stakeholder_ids)) != len(stakeholder_ids):
            raise ValueError(f"stakeholder ids must be unique, got {stakeholder_ids}")
        if SELF in stakeholder_ids:
            raise ValueError(f"stakeholder id '{SELF}' is reserved for the agent")
        known = set(stakeholder_ids) | {SELF}
        for option in self.options:
            for consequence in option.consequences:
                if consequence.stakeholder is not None and consequence.stakeholder not in known:
                    raise ValueError(
                        f"option {option.id}: consequence names unknown stakeholder "
                        f"'{consequence.stakeholder}' (known: {sorted(known)})"
                    )
        return self

    def option(self, valence: Valence) -> Option | None:
        """The first option of a valence, or None."""
        return next((o for o in self.options if o.valence == valence), None)

    @property
    def has_moral_contrast(self) -> bool:
        """True when the scenario offers both a prosocial and a harmful option."""
        valences = {o.valence for o in self.options}
        return Valence.prosocial in valences and Valence.harmful in valences


def scenario_json_schema() -> dict:
    return Scenario.model_json_schema()


def scenario_texts(scenario: Scenario) -> list[str]:
    """Every free-text field of a scenario, in a fixed order: what n-gram checks look at."""
    texts = [scenario.setting]
    if scenario.agent.goal:
        texts.append(scenario.agent.goal)
    for s in scenario.stakeholders:
        texts.extend([s.need])
    for o in scenario.options:
        texts.append(o.action)
        texts.extend(c.text for c in o.consequences)
    if scenario.principle:
        texts.append(scenario.principle)
    return texts
