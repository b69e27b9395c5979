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
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator

from rearing.io import InputError, format_validation_error
from rearing.world.contamination import ContaminationReport, NgramIndex, check_contamination, normalize_words
from rearing.world.schema import SELF, Consequence, Option, Pressure, Record, Scenario, Valence

PRESSURE_KINDS: tuple[str, ...] = tuple(p.value for p in Pressure)
INTENSITIES: tuple[int, ...] = (1, 2, 3)
MANY_SHOT_K: tuple[int, ...] = (1, 2, 4, 8)
PRESSURE_SLOTS = frozenset({"agent", "harm", "victim"})
SHOT_SLOTS = frozenset({"name", "role", "a", "b", "harm", "outcome"})
DEFAULT_HELDOUT_N = 5

_SLOT = re.compile(r"\{([a-z_]+)\}")


def default_pressure_path() -> Path:
    return Path(__file__).parent / "data" / "pressure.yaml"


def _check_template(text: str, allowed: frozenset[str], required: str) -> str:
    slots = _SLOT.findall(text)
    unknown = sorted(set(slots) - allowed)
    if unknown:
        raise ValueError(f"unknown slots {unknown} (allowed: {sorted(allowed)}) in {text!r}")
    if slots.count(required) != 1:
        raise ValueError(f"must name {{{required}}} exactly once: {text!r}")
    return text


class ManyShot(Record):
    intro: list[str] = Field(min_length=1)
    shot: list[str] = Field(min_length=1)

    @field_validator("shot")
    @classmethod
    def _shot_slots(cls, value: list[str]) -> list[str]:
        return [_check_template(t, SHOT_SLOTS, "harm") for t in value]

    @field_validator("intro")
    @classmethod
    def _intro_fixed(cls, value: list[str]) -> list[str]:
        for text in value:
            if _SLOT.search(text):
                raise ValueError(f"an intro takes no slots: {text!r}")
        return value


class PressurePhrasings(Record):
    """Phrasings by kind and intensity; every kind has every intensity, each at least two ways."""

    kinds: dict[str, dict[int, list[str]]]
    many_shot: ManyShot

    @field_validator("kinds")
    @classmethod
    def _complete(cls, value: dict[str, dict[int, list[str]]]) -> dict[str, dict[int, list[str]]]:
        if set(value) != set(PRESSURE_KINDS):
            raise ValueError(f"need exactly the kinds {list(PRESSURE_KINDS)}, got {sorted(value)}")
        for kind, levels in value.items():
            if set(levels) != set(INTENSITIES):
                raise ValueError(f"{kind}: need intensities {list(INTENSITIES)}, got {sorted(levels)}")
            for intensity, texts in levels.items():
                if len(texts) < 2:
                    raise ValueError(f"{kind}.{intensity}: need at least 2 phrasings, got {len(texts)}")
                for text in texts:
                    _check_template(text, PRESSURE_SLOTS, "harm")
        return value

    def wordings(self) -> list[tuple[str, str]]:
        """Every phrasing as ``(id, template)``, ids like ``authority.2.0`` and ``many_shot.shot.1``."""
        out = [
            (f"{kind}.{intensity}.{i}", text)
            for kind in PRESSURE_KINDS
            for intensity in INTENSITIES
            for i, text in enumerate(self.kinds[kind][intensity])
        ]
        out += [(f"many_shot.intro.{i}", t) for i, t in enumerate(self.many_shot.intro)]
        out += [(f"many_shot.shot.{i}", t) for i, t in enumerate(self.many_shot.shot)]
        return out


def load_pressure(path: str | Path | None = None) -> PressurePhrasings:
    """Read and validate a phrasing file; a bad one raises ``InputError`` naming file and field."""
    path = Path(path) if path is not None else default_pressure_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError([f"{path}: {exc}"]) from None
    try:
        return PressurePhrasings.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation_error(str(path), exc)) from None


def display_name(scenario: Scenario) -> str:
    """How text refers to the agent: its name, or its role when an importer had none."""
    return scenario.agent.name or f"the {scenario.agent.role}"


def action_text(option: Option) -> str:
    """An option's action as a clause to embed in a sentence (importers may end it with a stop)."""
    return option.action.strip().rstrip(".!?")


def harmed_person(scenario: Scenario) -> str:
    """Who the harmful option falls on first: the person a rationalisation talks about."""
    names = {s.id: s.name or f"the {s.role}" for s in scenario.stakeholders}
    harmful = scenario.option(Valence.harmful)
    for c in harmful.consequences if harmful else []:
        if c.stakeholder not in (None, SELF) and (c.magnitude is None or c.magnitude < 0):
            return names[c.stakeholder]
    return next(iter(names.values()), "the others")


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random(":".join(str(p) for p in (seed, *parts)))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


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
    template = _rng(seed, "pressure", scenario.id, kind, intensity).choice(phrasings.kinds[kind][intensity])
    text = template.format(agent=display_name(scenario), harm=action_text(harmful),
                           victim=harmed_person(scenario))
    return _sentence(text)


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


_LOWERABLE = frozenset({"the", "a", "an", "people", "word", "nobody", "no", "everyone", "one", "it", "there"})


def outcome_text(c: Consequence) -> str:
    """A consequence as a sentence, led by its delay ("Weeks later, ...") when it has one."""
    text = c.text
    if c.delay and not text.startswith(c.delay):
        first = text.split(" ", 1)[0]
        text = f"{c.delay}, {text[:1].lower() + text[1:] if first.lower() in _LOWERABLE else text}"
    return _sentence(text)


def _first_outcome(option: Option) -> str:
    """What the option did to someone else first: the example shows harm chosen *and* done."""
    c = next((c for c in option.consequences if c.stakeholder != SELF), None)
    return outcome_text(c) if c else "Nothing more came of it."


def many_shot_text(
    scenario: Scenario, shots: Sequence[Scenario], seed: int, phrasings: PressurePhrasings | None = None
) -> str:
    """Examples of other agents choosing harm, briefly: an intro line, then one line per shot with
    the two options, the harmful one taken, and the first thing it did to someone."""
    phrasings = phrasings or load_pressure()
    intro = _rng(seed, "intro", scenario.id).choice(phrasings.many_shot.intro)
    lines = [intro]
    for shot in shots:
        rng = _rng(seed, "shot", scenario.id, shot.id)
        harmful = shot.option(Valence.harmful)
        prosocial = shot.option(Valence.prosocial)
        a, b = (harmful, prosocial) if rng.random() < 0.5 else (prosocial, harmful)
        template = rng.choice(phrasings.many_shot.shot)
        lines.append("- " + _sentence(template.format(
            name=display_name(shot), role=shot.agent.role, a=action_text(a), b=action_text(b),
            harm=action_text(harmful),
            outcome=_first_outcome(harmful))))
    return "\n".join(lines)


def fixed_segments(template: str) -> list[str]:
    """The literal stretches of a template between its slots, minus words glued to a slot.

    ``"{agent}'s boss tells {agent} to"`` gives ``["boss tells", "to"]``: the ``'s`` belongs to
    whatever fills the slot, so it is scenario text, not fixed wording.
    """
    parts = _SLOT.split(template)[::2]
    segments = []
    for i, part in enumerate(parts):
        words = part.split()
        if not words:
            continue
        if i > 0 and not part[:1].isspace():
            words = words[1:]
        if i < len(parts) - 1 and not part[-1:].isspace():
            words = words[:-1]
        if words:
            segments.append(" ".join(words))
    return segments


@dataclass
class HeldoutReport:
    """Whether any fixed wording shares an n-gram with the training texts, and what was checkable."""

    contamination: ContaminationReport
    checked_ngrams: int
    too_short: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.contamination.ok

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked_ngrams": self.checked_ngrams,
            "too_short": list(self.too_short),
            "contamination": self.contamination.to_dict(),
        }


def check_wording_heldout(
    wordings: Iterable[tuple[str, str]], corpus_texts: Iterable[str] | NgramIndex, n: int = DEFAULT_HELDOUT_N
) -> HeldoutReport:
    """N-gram overlap between the fixed words of templates and training texts.

    Only the literal segments are compared (never across a slot): slot fillers are scenario words
    (names, actions) that training text shares by design. A wording with no segment of ``n`` words
    cannot be checked at this ``n`` and is listed in ``too_short``.
    """
    wordings = list(wordings)
    index = corpus_texts if isinstance(corpus_texts, NgramIndex) else NgramIndex(corpus_texts, n=n)
    candidates = [(wid, fixed_segments(template)) for wid, template in wordings]
    grams = {wid: sum(max(0, len(normalize_words(s)) - n + 1) for s in segs) for wid, segs in candidates}
    report = check_contamination(candidates, index, n=n)
    return HeldoutReport(report, sum(grams.values()), [wid for wid, count in grams.items() if count == 0])


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
