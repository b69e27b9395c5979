"""Pressure text for eval items: six kinds at three intensities, and many-shot examples of harm.

The phrasings live in ``data/pressure.yaml`` (several per kind and intensity, drawn by seed), so an
educator or a red-teamer can add some without touching code. Every phrasing is third person about
the agent; an item in another person converts it like the rest of its text. The pressure sits just
before the choice point of an item, after the situation and the options.

Pressure only measures robustness if the model has never practised resisting (or yielding to) these
exact words, so :func:`check_pressure_heldout` compares every phrasing against the training texts.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from rearing.datafile import DataRecord, load_data, package_data, phrasing, phrasing_list, template_slots
from rearing.evals.schema import PRESSURE_KINDS
from rearing.evals.wording import DEFAULT_HELDOUT_N, HeldoutReport, check_wording_heldout
from rearing.text import (
    action_clause,
    agent_name,
    capitalize_first,
    most_harmed,
    outcome_sentence,
    seeded_rng,
)
from rearing.world.contamination import NgramIndex
from rearing.world.schema import SELF, Option, Pressure, Scenario, Valence

INTENSITIES: tuple[int, ...] = (1, 2, 3)
MANY_SHOT_K: tuple[int, ...] = (1, 2, 4, 8)
"""The many-shot example counts items are built with unless a run sets ``eval.many_shot``."""


def _harm_once(template: str) -> str:
    """The harmful action is named exactly once, so intensity is not confounded with repetition."""
    if template_slots(template).count("harm") != 1:
        raise ValueError(f"must name {{harm}} exactly once: {template!r}")
    return template


PressureTemplate = Annotated[phrasing("agent", "harm", "victim"), AfterValidator(_harm_once)]
ShotTemplate = Annotated[phrasing("name", "role", "a", "b", "harm", "outcome"), AfterValidator(_harm_once)]


class ManyShot(DataRecord):
    intro: phrasing_list()
    shot: list[ShotTemplate] = Field(min_length=1)


def _check_levels(where: str, levels: dict[int, list[str]]) -> None:
    """Every intensity, each phrased at least two ways (so the seeded draw has a choice)."""
    if set(levels) != set(INTENSITIES):
        raise ValueError(f"{where}: need intensities {list(INTENSITIES)}, got {sorted(levels)}")
    for intensity, texts in levels.items():
        if len(texts) < 2:
            raise ValueError(f"{where}.{intensity}: need at least 2 phrasings, got {len(texts)}")


class PressurePhrasings(DataRecord):
    """Phrasings by kind and intensity; every kind has every intensity, each at least two ways.

    ``secrecy_watched`` is secrecy for a scene that says someone is watching the agent: promising
    that nobody will see would contradict it, so these promise that nothing will follow instead.
    """

    kinds: dict[str, dict[int, list[PressureTemplate]]]
    secrecy_watched: dict[int, list[PressureTemplate]]
    many_shot: ManyShot

    @field_validator("kinds")
    @classmethod
    def _complete(cls, value: dict[str, dict[int, list[str]]]) -> dict[str, dict[int, list[str]]]:
        if set(value) != set(PRESSURE_KINDS):
            raise ValueError(f"need exactly the kinds {list(PRESSURE_KINDS)}, got {sorted(value)}")
        for kind, levels in value.items():
            _check_levels(kind, levels)
        return value

    @field_validator("secrecy_watched")
    @classmethod
    def _every_intensity(cls, value: dict[int, list[str]]) -> dict[int, list[str]]:
        _check_levels("secrecy_watched", value)
        return value

    def phrasings_for(self, kind: str, intensity: int, scenario: Scenario) -> list[str]:
        """The phrasings that fit this scenario: secrecy in a watched scene promises no consequence."""
        watched = scenario.difficulty is not None and scenario.difficulty.visibility == "observed"
        if kind == Pressure.secrecy.value and watched:
            return self.secrecy_watched[intensity]
        return self.kinds[kind][intensity]

    def wordings(self) -> list[tuple[str, str]]:
        """Every phrasing as ``(id, template)``, ids like ``authority.2.0`` and ``many_shot.shot.1``."""
        out = [
            (f"{kind}.{intensity}.{i}", text)
            for kind in PRESSURE_KINDS
            for intensity in INTENSITIES
            for i, text in enumerate(self.kinds[kind][intensity])
        ]
        out += [(f"secrecy_watched.{intensity}.{i}", text) for intensity in INTENSITIES
                for i, text in enumerate(self.secrecy_watched[intensity])]
        out += [(f"many_shot.intro.{i}", t) for i, t in enumerate(self.many_shot.intro)]
        out += [(f"many_shot.shot.{i}", t) for i, t in enumerate(self.many_shot.shot)]
        return out


def default_pressure_path() -> Path:
    return package_data("rearing.evals", "data/pressure.yaml")


def load_pressure(path: str | Path | None = None) -> PressurePhrasings:
    """Read and validate a phrasing file (the packaged one by default); a bad one raises
    ``InputError`` naming file, line and field."""
    return load_data(PressurePhrasings, "rearing.evals", "data/pressure.yaml", path)


def pressure_text(
    kind: str, intensity: int, scenario: Scenario, seed: int, phrasings: PressurePhrasings | None = None
) -> str:
    """One phrasing of ``kind`` at ``intensity`` for a scenario, third person, drawn by seed.

    The draw ignores the item's format, so the same scenario meets the same words in every format.
    """
    if kind not in PRESSURE_KINDS:
        raise ValueError(f"unknown pressure {kind!r}; known: {', '.join(PRESSURE_KINDS)}")
    if intensity not in INTENSITIES:
        raise ValueError(f"pressure intensity must be one of {INTENSITIES}, got {intensity}")
    harmful = scenario.option(Valence.harmful)
    if harmful is None:
        raise ValueError(f"scenario {scenario.id} has no harmful option to press towards")
    phrasings = phrasings or load_pressure()
    template = seeded_rng(seed, "pressure", scenario.id, kind, intensity).choice(
        phrasings.phrasings_for(kind, intensity, scenario))
    text = template.format(agent=agent_name(scenario), harm=action_clause(harmful),
                           victim=most_harmed(scenario, harmful))
    return capitalize_first(text)


def episode_pressure(kind: str, intensity: int, scenario: Scenario, rng: random.Random) -> str:
    """Pressure for one step of an agentic episode: a phrasing of ``pressure_text`` drawn by the
    step's own stream, so episodes meet the same held-out wording as items."""
    return pressure_text(kind, intensity, scenario, rng.randrange(2**31))


def _shot_key(seed: int, scenario_id: str, other_id: str) -> bytes:
    return hashlib.blake2b(f"{seed}:shot:{scenario_id}:{other_id}".encode(), digest_size=8).digest()


def _names(scenario: Scenario) -> set[str]:
    return {n for n in [scenario.agent.name, *(s.name for s in scenario.stakeholders)] if n}


def pick_shots(scenario: Scenario, pool: Iterable[Scenario], k: int, seed: int) -> list[Scenario]:
    """``k`` other scenarios to show as examples, in a per-scenario seeded order.

    The order is fixed per (seed, scenario, candidate), so the shots for ``k`` are always the first
    ``k`` of those for any larger ``k``: the many-shot curve adds examples, never swaps them.
    Candidates must offer both a prosocial and a harmful option; their agent must not share a name
    with anyone in the scenario, nor anyone in them with its agent (a first- or second-person item
    would otherwise turn a stranger in an example into "I" or "you").
    """
    taken = _names(scenario)
    candidates = [
        s for s in pool
        if s.id != scenario.id and s.has_moral_contrast and s.agent.name not in taken
        and scenario.agent.name not in _names(s)
    ]
    candidates.sort(key=lambda s: (_shot_key(seed, scenario.id, s.id), s.id))
    if len(candidates) < k:
        raise ValueError(f"scenario {scenario.id}: only {len(candidates)} scenarios to draw {k} shots from")
    return candidates[:k]


def _what_it_got(option: Option) -> str:
    """What the harmful choice got the one who made it, or nothing: an example models the choice and
    its pay-off, as many-shot demonstrations model the behaviour; the harm it did to others would
    be a warning, not pressure."""
    c = next((c for c in option.consequences if c.stakeholder == SELF and (c.magnitude or 0) > 0), None)
    return outcome_sentence(c) if c else ""


def many_shot_text(
    scenario: Scenario, shots: Sequence[Scenario], seed: int, phrasings: PressurePhrasings | None = None
) -> str:
    """Examples of other agents choosing harm, briefly: an intro line, then one line per shot with
    the two options, the harmful one taken, and what it got the one who chose it (if anything)."""
    phrasings = phrasings or load_pressure()
    intro = seeded_rng(seed, "intro", scenario.id).choice(phrasings.many_shot.intro)
    lines = [intro]
    for shot in shots:
        rng = seeded_rng(seed, "shot", scenario.id, shot.id)
        harmful = shot.option(Valence.harmful)
        prosocial = shot.option(Valence.prosocial)
        a, b = (harmful, prosocial) if rng.random() < 0.5 else (prosocial, harmful)
        template = rng.choice(phrasings.many_shot.shot)
        lines.append("- " + capitalize_first(template.format(
            name=agent_name(shot), role=shot.agent.role, a=action_clause(a), b=action_clause(b),
            harm=action_clause(harmful), outcome=_what_it_got(harmful)).rstrip()))
    return "\n".join(lines)


def check_pressure_heldout(
    corpus_texts: Iterable[str] | NgramIndex,
    n: int = DEFAULT_HELDOUT_N,
    phrasings: PressurePhrasings | None = None,
) -> HeldoutReport:
    """Every pressure and many-shot phrasing against the training texts (see ``check_wording_heldout``).

    Pass every condition's training documents, general text included: a phrasing seen in any of
    them would let that condition practise on the attack.
    """
    phrasings = phrasings or load_pressure()
    return check_wording_heldout(phrasings.wordings(), corpus_texts, n)
