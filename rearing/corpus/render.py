"""Template renderers: one scenario into the text of a condition.

* ``flat``: third-person declarative facts and every option's consequences; no principle, no story,
  no first person;
* ``principle_flat``: ``flat`` plus the principle, explicit moral rules for each foundation involved
  and an explicit verdict on each option (the strong control the hypothesis must beat);
* ``bmn``: a first-person branching moral narrative: the situation met as "I", a choice point, each
  branch lived out in turn with what happened to each person and to me, now and later, how others
  responded, and a reflection that dwells on consequences without stating a rule.

Every part has several phrasings, drawn by a per-document RNG, so no condition is one fixed frame.
The phrasings live in ``data/render.yaml`` so an educator can change wording without touching
Python. The content (setting, actions, consequences) is identical across conditions: only structure
differs.
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from pydantic import model_validator

from rearing.corpus.person import to_first_person
from rearing.datafile import DataRecord, load_data, phrasing_list
from rearing.text import agent_name, capitalize_first, delayed_text, lower_first, person_name
from rearing.world.schema import SELF, Consequence, Foundation, Scenario, Valence

Fixed = phrasing_list()
Setting = phrasing_list("setting", required=("setting",))
Person = phrasing_list("name", "role", "relationship", "need", "agent", required=("name", "need"))
OptionCount = phrasing_list("agent", "count")
OptionIntro = phrasing_list("label", "agent", "action", required=("action",))
ConsequenceFrame = phrasing_list("text", required=("text",))
Principle = phrasing_list("principle", required=("principle",))
Verdict = phrasing_list("action", "agent", required=("action",))
Narrated = phrasing_list("name", "role", "need", required=("name", "need"))
Choice = phrasing_list("a", "b", required=("a", "b"))
Branch = phrasing_list("action", required=("action",))
Reflection = phrasing_list("names", required=("names",))


class FlatPhrasings(DataRecord):
    open: Setting
    person: Person
    options: OptionCount
    option: OptionIntro
    consequence_now: ConsequenceFrame
    consequence_later: ConsequenceFrame


class PrinciplePhrasings(DataRecord):
    principle_open: Principle
    rules: dict[Foundation, Fixed]
    verdict_harmful: Verdict
    verdict_prosocial: Verdict

    @model_validator(mode="after")
    def _every_foundation(self) -> PrinciplePhrasings:
        missing = [f.value for f in Foundation if f not in self.rules]
        if missing:
            raise ValueError(f"rules: every foundation needs rules; missing: {', '.join(missing)}")
        return self


class BmnPhrasings(DataRecord):
    open: Setting
    people: Narrated
    choice: Choice
    first_branch: Branch
    next_branch: Branch
    now: ConsequenceFrame
    later: ConsequenceFrame
    to_me: ConsequenceFrame
    reflect: Reflection


class RenderPhrasings(DataRecord):
    """``data/render.yaml``: the phrasings of every template renderer."""

    flat: FlatPhrasings
    principle_flat: PrinciplePhrasings
    bmn: BmnPhrasings


def load_render_phrasings(path: str | Path | None = None) -> RenderPhrasings:
    """The renderers' phrasings from ``path``; the packaged file by default."""
    return load_data(RenderPhrasings, "rearing.corpus", "data/render.yaml", path)


def _timed(c: Consequence, now: list[str], later: list[str], rng: random.Random, names: Collection[str]) -> str:
    """A consequence with a time marker: its own delay phrase when it has one, else a drawn one
    (the consequence then continues the sentence: lowered unless it starts with a name)."""
    if c.delay:
        return delayed_text(c)
    frame = rng.choice(later if c.timing == "delayed" else now)
    return capitalize_first(frame.format(text=lower_first(c.text, names) if frame != "{text}" else c.text))


@dataclass(frozen=True)
class Rendered:
    """One rendered document: its text, the content units it carries (its ledger, see
    :func:`scenario_units`), and the character spans of private deliberation in it."""

    text: str
    units: tuple[str, ...] = ()
    private: tuple[tuple[int, int], ...] = ()

    def prefixed(self, prefix: str) -> Rendered:
        """The same document with ``prefix`` and a space in front (spans moved along)."""
        shift = len(prefix) + 1
        return Rendered(f"{prefix} {self.text}", self.units, tuple((a + shift, b + shift) for a, b in self.private))


def scenario_units(scenario: Scenario) -> tuple[str, ...]:
    """Every content unit of a scenario a content-matched document must carry: the setting, each
    person's need, each option's action, each consequence, the principle and the verdict."""
    units = ["setting", *(f"need:{s.id}" for s in scenario.stakeholders)]
    for option in scenario.options:
        units.append(f"action:{option.id}")
        units += [f"consequence:{option.id}.{i}" for i in range(len(option.consequences))]
    if scenario.principle:
        units.append("principle")
    units.append("verdict")
    return tuple(units)


class Composer:
    """Builds a document part by part, recording which units each part carries and which stretches
    are private deliberation, so the ledger and the spans can never drift from the text."""

    def __init__(self) -> None:
        self.parts: list[Rendered] = []

    def add(self, text: str, *units: str, private: bool = False) -> None:
        self.parts.append(Rendered(text, units, ((0, len(text)),) if private else ()))

    def extend(self, other: Rendered) -> None:
        """Another document as one part, its units and private spans kept."""
        self.parts.append(other)

    def done(self) -> Rendered:
        units: list[str] = []
        private: list[tuple[int, int]] = []
        offset = 0
        for part in self.parts:
            private += [(offset + a, offset + b) for a, b in part.private]
            units += [u for u in part.units if u not in units]
            offset += len(part.text) + 1
        return Rendered(" ".join(part.text for part in self.parts), tuple(units), tuple(private))


def _names(scenario: Scenario) -> set[str]:
    return {n for n in (scenario.agent.name, *(s.name for s in scenario.stakeholders)) if n}


def render_flat(scenario: Scenario, rng: random.Random, phrasings: RenderPhrasings | None = None) -> Rendered:
    """Third-person declarative facts; every option's consequences; no principle, no story."""
    p = (phrasings or load_render_phrasings()).flat
    agent = agent_name(scenario)
    doc = Composer()
    doc.add(rng.choice(p.open).format(setting=scenario.setting), "setting")
    for s in scenario.stakeholders:
        doc.add(rng.choice(p.person).format(
            name=s.name or capitalize_first(person_name(s)), role=s.role, relationship=s.relationship,
            need=s.need, agent=agent), f"need:{s.id}")
    doc.add(rng.choice(p.options).format(agent=agent, count=len(scenario.options)))
    for option in scenario.options:
        doc.add(capitalize_first(rng.choice(p.option).format(label=option.id.upper(), agent=agent,
                                                             action=option.action)), f"action:{option.id}")
        for i, c in enumerate(option.consequences):
            doc.add(_timed(c, p.consequence_now, p.consequence_later, rng, _names(scenario)),
                    f"consequence:{option.id}.{i}")
    return doc.done()


def render_principle_flat(scenario: Scenario, rng: random.Random,
                          phrasings: RenderPhrasings | None = None) -> Rendered:
    """``flat`` plus the principle, explicit rules for each foundation, and a verdict on each option."""
    phrasings = phrasings or load_render_phrasings()
    p = phrasings.principle_flat
    agent = agent_name(scenario)
    doc = Composer()
    doc.extend(render_flat(scenario, rng, phrasings))
    if scenario.principle:
        doc.add(rng.choice(p.principle_open).format(principle=scenario.principle), "principle")
    for foundation in scenario.foundations:
        doc.add(rng.choice(p.rules[foundation]))
    for option in scenario.options:
        if option.valence == Valence.harmful:
            doc.add(capitalize_first(rng.choice(p.verdict_harmful).format(action=option.action, agent=agent)),
                    "verdict")
        elif option.valence == Valence.prosocial:
            doc.add(capitalize_first(rng.choice(p.verdict_prosocial).format(action=option.action, agent=agent)),
                    "verdict")
    return doc.done()


def render_bmn(scenario: Scenario, rng: random.Random, phrasings: RenderPhrasings | None = None) -> str:
    """First-person branching narrative; consequences carry the principle, which is never stated."""
    p = (phrasings or load_render_phrasings()).bmn
    agent = scenario.agent.name or ""
    first = (lambda text: to_first_person(text, agent)) if agent else (lambda text: text)
    parts = [first(rng.choice(p.open).format(setting=scenario.setting))]
    for s in scenario.stakeholders:
        parts.append(first(rng.choice(p.people).format(name=person_name(s), role=s.role, need=s.need)))
    a, b = scenario.options[0].action, scenario.options[1].action
    parts.append(rng.choice(p.choice).format(a=a, b=b))
    for index, option in enumerate(scenario.options):
        branch = rng.choice(p.first_branch if index == 0 else p.next_branch)
        parts.append(branch.format(action=option.action))
        for c in option.consequences:
            if c.stakeholder == SELF:
                parts.append(first(rng.choice(p.to_me).format(text=c.text)))
            else:
                parts.append(first(_timed(c, p.now, p.later, rng, _names(scenario))))
    others = [person_name(s) for s in scenario.stakeholders[:2]]
    names = " and ".join(others) if others else "everyone involved"
    parts.append(first(rng.choice(p.reflect).format(names=names)))
    return " ".join(parts)
