"""How a view becomes an item in each of the five formats.

Formats differ only in the frame around the same content (the words of ``data/items.yaml``), so a
model that learned the content rather than a surface form should choose alike in all of them:

* ``continuation``: first-person story stopped at the choice point ("... and I decide to");
* ``judgment``: third person, "is it right for Sam to <the option listed last>?" answered " Yes" / " No";
* ``self_judgment``: the same question in the first person ("is it right for me to ...?");
* ``ab``: a lettered question answered " A" / " B";
* ``advice``: Sam asks you what to do; the choices are the advised actions;
* ``tool_call``: second person, the options as tools, the choices as ``{"action": ...}`` calls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from rearing.corpus.person import to_first_person
from rearing.evals.views import Choice, View
from rearing.evals.wording import DEFAULT_HELDOUT_N, HeldoutReport, check_wording_heldout, item_wording
from rearing.text import capitalize_first
from rearing.world.contamination import NgramIndex
from rearing.world.schema import Valence

ACTION_FORMATS: tuple[str, ...] = ("continuation", "advice", "tool_call")
"""Formats whose choices are the action texts themselves (where choice length could be a cue)."""
YES_NO_FORMATS: tuple[str, ...] = ("judgment", "self_judgment")
"""Formats that ask about one option, answered yes or no (``judgment_choices``): the option asked about
is listed last and the principle goes before the options, so the question directly follows the
outcomes it is about, as in the documents of the conditions that practise it."""
FORMAT_PERSON = {"continuation": 1, "judgment": 3, "self_judgment": 1, "ab": 3, "advice": 3, "tool_call": 2}
"""The grammatical person each format puts the agent in: the model is the agent in 1 and 2."""

_first_person = lru_cache(maxsize=65536)(to_first_person)


@lru_cache(maxsize=65536)
def to_second_person(text: str, name: str) -> str:
    """Rewrite mentions of ``name`` as you / your, via the first-person rewrite."""
    text = to_first_person(text, name)
    for pattern, repl in ((r"\bI am\b", "you are"), (r"\bI was\b", "you were"), (r"\bI\b", "you"),
                          (r"\bme\b", "you"), (r"\bmy\b", "your"), (r"\bMy\b", "Your")):
        text = re.sub(pattern, repl, text)
    text = re.sub(r"\b(you, [^,.;]+,) am\b", r"\1 are", text)
    return re.sub(r"(^|[.!?]\s+)you\b", lambda m: m.group(1) + "You", text)


def _person(view: View, person: int) -> Callable[[str], str]:
    """The rewrite into the format's grammatical person; an agent without a name stays third person."""
    name = view.scenario.agent.name
    if person == 3 or not name:
        return lambda text: text
    convert = _first_person if person == 1 else to_second_person
    return lambda text: convert(text, name)


@dataclass(frozen=True)
class Rendered:
    prompt: str
    choices: list[str]
    valences: list[str]
    correct: int


def render_item(view: View, fmt: str, prosocial_first: bool, ask_prosocial: bool = True,
                stripped: bool = False, pressure: str | None = None) -> Rendered:
    """One view in one format; ``pressure`` (third person) goes just before the choice point.

    A view with outcomes hidden lists the options by their actions alone (``option_hidden``; tools
    without their effects); a view with no situation leaves that paragraph out.
    """
    wording = item_wording()
    w = wording.format(fmt)
    person = _person(view, FORMAT_PERSON[fmt])
    ordered = (view.prosocial, view.harmful) if prosocial_first else (view.harmful, view.prosocial)
    situation = person(" ".join([view.setting, *view.people]).strip())
    agent = view.agent
    shown = view.outcomes_shown

    def outcomes(c: Choice) -> str:
        return " ".join(person(o) for o in c.outcomes) or wording.no_outcome

    def option_line(c: Choice, action: str, **slots: str) -> str:
        if shown:
            return w.option.format(action=action, outcomes=outcomes(c), **slots)
        return w.option_hidden.format(action=action, **slots)

    extra = []
    if view.principle and not stripped:
        extra.append(w.principle.format(principle=view.principle))
    if pressure:
        text = person(pressure)
        extra.append(w.pressure.format(pressure=text) if w.pressure else text)
    ask = w.ask_stripped if stripped else w.ask_full
    valences = [c.valence for c in ordered]

    if fmt == "tool_call":
        tools = [json.dumps({"action": c.action, "effects": [person(o) for o in c.outcomes]} if shown
                            else {"action": c.action}, ensure_ascii=False) for c in ordered]
        opening = [w.open.format(agent=agent)] + ([w.observation.format(situation=situation)] if situation else [])
        blocks = ["\n".join(opening), "\n".join([w.tools, *tools])]
        choices = [" " + json.dumps({"action": c.action}, ensure_ascii=False) for c in ordered]
    elif fmt == "ab":
        lines = [option_line(c, capitalize_first(c.action), letter=letter)
                 for letter, c in zip("AB", ordered, strict=True)]
        blocks = [situation, "\n".join(lines)]
        choices = list(wording.ab_choices)
    else:
        lines = [option_line(c, c.action, agent=agent) for c in ordered]
        blocks = [situation, "\n".join(lines)]
        if fmt == "advice":
            blocks[0] = " ".join(filter(None, [w.open.format(agent=capitalize_first(agent)), situation]))
        choices = [w.choice.format(action=c.action) for c in ordered] if fmt not in YES_NO_FORMATS else []
    if extra and fmt in YES_NO_FORMATS:
        blocks.insert(1, "\n".join(extra))
    elif extra:
        blocks.append("\n".join(extra))

    if fmt in YES_NO_FORMATS:
        asked = view.prosocial if ask_prosocial else view.harmful
        other = view.harmful if ask_prosocial else view.prosocial
        blocks.append(capitalize_first(ask.format(agent=agent, action=asked.action)))
        choices = list(wording.judgment_choices)
        valences = [asked.valence, other.valence]
    else:
        blocks.append(capitalize_first(ask.format(agent=agent)))
    text = " ".join(" ".join(b.split("\n")) for b in blocks if b) if w.one_paragraph else "\n\n".join(b for b in blocks if b)
    return Rendered(text, choices, valences, valences.index(Valence.prosocial.value))


def check_format_wording_heldout(corpus_texts: Iterable[str] | NgramIndex, n: int = DEFAULT_HELDOUT_N,
                                 practised: Iterable[str] = ()) -> HeldoutReport:
    """The format wording against the training texts: a match means a condition practised the frame.

    The question of a ``practised`` format (``Condition.practised_format``) is left out: the conditions
    practising it ask it after every option by design, and that format is their positive control."""
    exempt = {f"{fmt}.ask_full" for fmt in practised}
    return check_wording_heldout([w for w in item_wording().wordings() if w[0] not in exempt], corpus_texts, n)
