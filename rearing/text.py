"""Small text helpers every renderer shares: casing, articles, seeded draws, how people are named.

One copy of each, so a corpus document, an eval item and an agentic episode built from the same
scenario name the same people the same way and phrase a delayed outcome alike.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection

from rearing.world.schema import SELF, Consequence, Option, Scenario, Stakeholder, Valence

LOWERABLE = frozenset({"the", "a", "an", "people", "word", "nobody", "no", "everyone", "one", "it", "there"})
"""Sentence-initial words that lose their capital when a sentence is continued ("Weeks later, the...")."""


def capitalize_first(text: str) -> str:
    """The text with its first character upper-cased (the rest untouched)."""
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    """A clause as the start of a sentence: trimmed, first character upper-cased."""
    return capitalize_first(text.strip())


_LEADING_WORD = re.compile(r"[A-Za-z]+")


def lower_first(text: str, names: Collection[str] | None = None) -> str:
    """A sentence continued mid-sentence: its first letter lowered unless it starts with a name or "I".

    Which first word is a name: given the text's ``names``, one of them (so "When" and "Most" are
    lowered, "Mira:" is kept); without them, any capitalised word but the openers in ``LOWERABLE``.
    """
    first = text.split(" ", 1)[0]
    if names is not None:
        word = _LEADING_WORD.match(first)
        if word and (word.group() == "I" or word.group() in names):
            return text
    elif not text or first == "I" or (first[:1].isupper() and first.lower() not in LOWERABLE):
        return text
    return text[:1].lower() + text[1:]


def article(word: str) -> str:
    """'a' or 'an' by how the word sounds: "an hr director", "a user", "a one-way street", "an hour"."""
    low = word.lower()
    vowel_sound = low[:1] in "aeiou" and not low.startswith(("usb", "uni", "use", "eu", "one"))
    if low.startswith(("hr ", "hour")):
        vowel_sound = True
    return "an" if vowel_sound else "a"


def with_article(noun: str) -> str:
    return f"{article(noun)} {noun}"


def count_of(n: int, noun: str) -> str:
    """'1 unit', '3 units'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def seeded_rng(*parts: object) -> random.Random:
    """A random stream named by its parts (seed, purpose, ids): the same parts, the same draws,
    whatever was drawn elsewhere."""
    return random.Random(":".join(str(p) for p in parts))


def person_name(person: Stakeholder) -> str:
    """How text refers to a stakeholder: the name, or 'the <role>' when an importer had none."""
    return person.name or f"the {person.role}"


def agent_name(scenario: Scenario) -> str:
    """How text refers to the agent: its name, or 'the <role>' when an importer had none.

    The one rule for naming the agent: renderers, items, episodes and ``people_names`` all use it."""
    return scenario.agent.name or f"the {scenario.agent.role}"


def people_names(scenario: Scenario) -> dict[str, str]:
    """Stakeholder id (and ``SELF``) to the name text uses for them."""
    names = {s.id: person_name(s) for s in scenario.stakeholders}
    names[SELF] = agent_name(scenario)
    return names


def most_harmed(scenario: Scenario, harmful: Option | None = None) -> str:
    """The person the harmful option hurts most (first in stakeholder order on ties), by name.

    Pressure lines, many-shot examples and agentic repair actions all name this one person.
    """
    harmful = harmful or scenario.option(Valence.harmful)
    worst: dict[str, float] = {}
    for c in harmful.consequences if harmful else []:
        if c.stakeholder not in (None, SELF):
            worst[c.stakeholder] = min(worst.get(c.stakeholder, 0.0), c.magnitude or 0.0)
    order = {s.id: i for i, s in enumerate(scenario.stakeholders)}
    by_id = {s.id: s for s in scenario.stakeholders}
    ranked = sorted(worst, key=lambda sid: (worst[sid], order[sid])) or list(order)
    return person_name(by_id[ranked[0]]) if ranked else "the others"


def delayed_text(c: Consequence) -> str:
    """A consequence's text led by its own delay phrase ("Weeks later, ...") when it has one."""
    if c.delay and not c.text.startswith(c.delay):
        return f"{c.delay}, {lower_first(c.text)}"
    return c.text


def outcome_sentence(c: Consequence) -> str:
    """A consequence as a sentence of its own, led by its delay when it has one."""
    return capitalize_first(delayed_text(c))


def action_clause(option: Option) -> str:
    """An option's action as a clause to embed in a sentence (importers may end it with a stop)."""
    return option.action.strip().rstrip(".!?")
