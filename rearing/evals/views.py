"""What an item shows of a scenario (a ``View``), and the ways a suite may change it.

An item shows the situation, who is involved, each option and (unless hidden) what it would lead
to. A suite's ``view`` says how that content is shown before any format frames it:

* ``plain``: as the scenario tells it;
* ``hidden``: the situation, the people and the options' actions, with no outcome and no principle:
  the model must know what each action does in this situation. Action families are prosocial in
  one frame and harmful in its mirror, so the action wording alone does not give the answer away;
* ``stripped``: with no word of the moral lexicon: known phrases are paraphrased (the
  ``strip_substitutions`` of ``data/items.yaml``), the principle line goes, and any other sentence
  with a lexicon term is dropped; a scenario whose actions, or all of one option's outcomes, keep a
  term cannot be stripped and is counted;
* ``module:function``: a function of your own, ``View -> View | str``; a string skips the scenario
  with that reason.

Stakeholder needs are never shown, in the hidden view either: a need often names the action that
meets it ("not to be given the recovery guide until the fault is fixed"), so it is the answer in
other words; the setting states the situation they follow from.

:func:`content_free` is the prompt calibrated scoring compares each item with: the same frame,
options and question, with nothing of the situation. Pressure stays in it, as the demonstrations
stay in the content-free input of Zhao et al. (2021): pressure names the harmful action, and that
repetition alone moves any model's choice (left out, a model trained on general text alone chose
the tool call the pressure did not name for 96% of pressured items); what calibration keeps is how
the situation moves the choice under that pressure.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rearing.corpus.lexicon import Lexicon
from rearing.datafile import import_reference
from rearing.evals.wording import item_wording
from rearing.text import action_clause, agent_name, article, capitalize_first, outcome_sentence
from rearing.world.schema import Option, Scenario, Valence

ViewFn = Callable[["View"], "View | str"]
BUILTIN_VIEWS = ("plain", "hidden", "stripped")
"""The views a suite names by word; any other is ``module:function``."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'])")


@dataclass(frozen=True)
class Choice:
    """One option as items show it: the action and what it would lead to."""

    valence: str
    action: str
    outcomes: tuple[str, ...]


@dataclass(frozen=True)
class View:
    """The parts of a scenario an item shows; the stripped variant is another ``View``."""

    scenario: Scenario
    agent: str
    setting: str
    people: tuple[str, ...]
    prosocial: Choice
    harmful: Choice
    principle: str | None
    outcomes_shown: bool = True


def scenario_view(scenario: Scenario, max_outcomes: int | None = None) -> View | None:
    """The item content of a scenario, or None when it lacks a prosocial/harmful pair to contrast.

    A line says who each named person is, unless the setting already names them in that role.
    Outcomes keep the scenario's order (the person harmed or spared first); a text shared by several
    bystanders is shown once; ``max_outcomes`` keeps the first few per option for short contexts.
    """
    prosocial, harmful = scenario.option(Valence.prosocial), scenario.option(Valence.harmful)
    if prosocial is None or harmful is None:
        return None

    def choice(option: Option) -> Choice:
        outcomes = [outcome_sentence(c) for c in option.consequences]
        shown = tuple(dict.fromkeys(outcomes))[:max_outcomes]
        return Choice(option.valence.value, action_clause(option), shown)

    agent = agent_name(scenario)
    line = item_wording().person_line
    named = [(agent, scenario.agent.role)] if scenario.agent.name else []
    named += [(s.name, s.role) for s in scenario.stakeholders if s.name]
    people = [line.format(name=name, article=article(role), role=role) for name, role in named
              if not all(re.search(rf"\b{re.escape(w)}\b", scenario.setting, re.IGNORECASE) for w in (name, role))]
    return View(scenario, agent, scenario.setting, tuple(people), choice(prosocial), choice(harmful),
                scenario.principle)


def hide_outcomes(view: View) -> View:
    """The view without outcomes or principle: only the situation, the people and the actions."""
    return replace(view, prosocial=replace(view.prosocial, outcomes=()), harmful=replace(view.harmful, outcomes=()),
                   principle=None, outcomes_shown=False)


def content_free(view: View) -> View:
    """The same options with no situation, no people and no outcomes: the content-free prompt of
    domain-conditional PMI (Holtzman et al. 2021), rendered in the item's own format, so what it
    leaves out is exactly what the model should be choosing from."""
    return replace(hide_outcomes(view), setting="", people=())


@lru_cache(maxsize=1)
def _substitutions() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(s.pattern, re.IGNORECASE), s.replace) for s in item_wording().strip_substitutions)


def _substitute(text: str) -> str:
    for pattern, repl in _substitutions():
        def keep_case(match: re.Match, repl: str = repl) -> str:
            out = match.expand(repl)
            return capitalize_first(out) if match.group(0)[:1].isupper() else out
        text = pattern.sub(keep_case, text)
    return text


@dataclass
class StripStats:
    """What stripping cost: paraphrases applied, sentences dropped, scenarios lost and why."""

    substituted: int = 0
    sentences_dropped: int = 0
    failed: Counter = field(default_factory=Counter)


def _strip_text(text: str, lexicon: Lexicon, stats: StripStats) -> str:
    """Paraphrase known phrases, then drop every sentence that still holds a lexicon term."""
    new = _substitute(text)
    if new != text:
        stats.substituted += 1
    kept = []
    for sentence in _SENTENCE_END.split(new):
        if lexicon.contains_moral_term(sentence):
            stats.sentences_dropped += 1
        else:
            kept.append(sentence)
    return " ".join(kept)


def strip_view(view: View, lexicon: Lexicon, stats: StripStats | None = None) -> View | str:
    """The view with no lexicon term left, or the reason it cannot be stripped.

    Actions are the choices themselves, so an action that keeps a term after paraphrase fails the
    scenario; so does an option left with no outcome, or a situation left empty, since the stripped
    item must still say what each option leads to.
    """
    stats = stats or StripStats()
    if lexicon.contains_moral_term(view.agent):
        return "agent name"
    choices = []
    for choice in (view.prosocial, view.harmful):
        action = _substitute(choice.action)
        if lexicon.contains_moral_term(action):
            return "action"
        stats.substituted += int(action != choice.action)
        outcomes = tuple(o for o in (_strip_text(o, lexicon, stats) for o in choice.outcomes) if o)
        if not outcomes:
            return "outcomes"
        choices.append(Choice(choice.valence, action, outcomes))
    setting = _strip_text(view.setting, lexicon, stats)
    if not setting:
        return "setting"
    people = tuple(p for p in (_strip_text(p, lexicon, stats) for p in view.people) if p)
    return replace(view, setting=setting, people=people, prosocial=choices[0], harmful=choices[1],
                   principle=None)


def view_function(view: str, lexicon: Lexicon, stats: StripStats) -> ViewFn:
    """The transform a suite's ``view`` names: plain (none), hidden, stripped, or an imported function."""
    if view == "plain":
        return lambda v: v
    if view == "hidden":
        return hide_outcomes
    if view == "stripped":
        return lambda v: strip_view(v, lexicon, stats)
    return import_reference(view, "view")
