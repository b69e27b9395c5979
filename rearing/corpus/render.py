"""Template renderers: one scenario into the text of a condition.

* ``flat``: third-person declarative facts and every option's consequences; no principle, no story,
  no first person;
* ``principle_flat``: ``flat`` with an explicit verdict on each option right after its consequences,
  then the principle and explicit moral rules for each foundation involved (the strong control the
  hypothesis must beat);
* ``bmn``: a first-person branching moral narrative: the situation met as "I", a choice point with
  the narrator's private deliberation (a private span), each branch lived out in turn with what
  happened to each person and to me, now and later, how others responded (one branch as what I did,
  the other as what would have happened), each closed by the narrator's verdict on it, and a reflection
  that carries what ``principle_flat`` states: the principle in the narrator's words and the path
  they would walk again, and why;
* ``bmn_implicit``: the same narrative without the lesson: every branch an equal version of the day,
  and a reflection that dwells on consequences without stating a principle or a verdict.

Every part has several phrasings, drawn by a per-document RNG, so no condition is one fixed frame.
The phrasings live in ``data/render.yaml`` so an educator can change wording without touching
Python. The content (setting, actions, consequences) is identical across conditions: only structure
differs. Where a condition states a verdict, it states it on each option right after that option's
consequences, as a question and its answer: placed at the end of the document instead, a verdict is
a long-range dependency no CPU-scale model learned (``rearing learnability``; README, "Learnability").
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, get_args

from pydantic import Field, model_validator

from rearing.corpus.person import to_first_person
from rearing.datafile import DataRecord, load_data, phrasing, phrasing_list
from rearing.text import (
    action_clause,
    agent_name,
    capitalize_first,
    delayed_text,
    lower_first,
    person_name,
    with_article,
)
from rearing.world.schema import (
    SELF,
    SOCIAL_KINDS,
    Consequence,
    ConsequenceKind,
    Foundation,
    Option,
    Scenario,
    Stakeholder,
    Valence,
)

Fixed = phrasing_list()
Setting = phrasing_list("setting", required=("setting",))
Person = phrasing_list("name", "role", "a_role", "relationship", "need", "agent", required=("name", "need"))
OptionCount = phrasing_list("agent", "count")
OptionIntro = phrasing_list("label", "agent", "action", required=("action",))
ConsequenceFrame = phrasing_list("text", required=("text",))
Principle = phrasing_list("principle", required=("principle",))
Verdict = phrasing_list("action", "agent", required=("action",))
Narrated = phrasing_list("name", "role", "a_role", "need", required=("name", "need"))
Choice = phrasing_list("a", "b", required=("a", "b"))
Branch = phrasing_list("action", required=("action",))
Reflection = phrasing_list("names", required=("names",))
WeighHarmed = phrasing_list("name", "need", "bad", "loss", required=("name", "need", "loss"))
WeighPerson = phrasing_list("name", "need", required=("name", "need"))
WeighGain = phrasing_list("bad", "goal", required=("goal",))
WeighFriend = phrasing_list("name", "bad", required=("name",))
WeighFriendToo = phrasing_list("name", required=("name",))
Watchers = phrasing_list("names", required=("names",))
Lesson = phrasing_list("principle", required=("principle",))
VerdictLived = phrasing_list("good", "bad", "did", "would", required=("good", "did", "would"))
VerdictGood = phrasing_list("good", required=("good",))
VerdictBad = phrasing_list("bad", required=("bad",))
Plain = phrasing()
GoalText = phrasing("goal", required=("goal",))


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


class Outcome(DataRecord):
    """What happened to someone, in the three forms a narrator needs: after "could" (``base``),
    as what happened (``past``) and after "would have" (``perfect``)."""

    base: Plain
    past: Plain
    perfect: Plain


class MyOutcome(DataRecord):
    """What happened to the narrator with respect to their goal, in the same three forms."""

    base: GoalText
    past: GoalText
    perfect: GoalText


Outcomes = Annotated[list[Outcome], Field(min_length=1)]
MyOutcomes = Annotated[list[MyOutcome], Field(min_length=1)]
KINDS: tuple[str, ...] = get_args(ConsequenceKind)


class OutcomeTable(DataRecord):
    """Outcomes for another person by consequence kind: ``harm`` for a loss, ``good`` for a gain."""

    harm: dict[ConsequenceKind, Outcomes]
    good: dict[ConsequenceKind, Outcomes]

    @model_validator(mode="after")
    def _every_kind(self) -> OutcomeTable:
        for sign in ("harm", "good"):
            missing = [k for k in KINDS if k not in getattr(self, sign)]
            if missing:
                raise ValueError(f"{sign}: every consequence kind needs outcomes; missing: {', '.join(missing)}")
        return self


class MyOutcomeTable(DataRecord):
    """The narrator's own outcomes: with the goal when the scenario names one, plain otherwise."""

    harm: MyOutcomes
    good: MyOutcomes
    harm_plain: Outcomes
    good_plain: Outcomes


class BmnPhrasings(DataRecord):
    open: Setting
    people: Narrated
    choice: Choice
    weigh_harmed: WeighHarmed
    weigh_person: WeighPerson
    weigh_plain: Fixed
    weigh_gain: WeighGain
    weigh_friend: WeighFriend
    weigh_friend_too: WeighFriendToo
    weigh_seen: Watchers
    weigh_glimpsed: Watchers
    weigh_unseen: Fixed
    first_branch: Branch
    next_branch: Branch
    judge_harmful: Branch
    judge_prosocial: Branch
    took: Branch
    wished: Branch
    spared: Branch
    now: ConsequenceFrame
    later: ConsequenceFrame
    to_me: ConsequenceFrame
    reflect: Reflection
    lesson: Lesson
    verdict_learned: VerdictLived
    verdict_chose_well: VerdictLived
    verdict_good: VerdictGood
    verdict_bad: VerdictBad
    outcomes: OutcomeTable
    my_outcomes: MyOutcomeTable


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
    person's need, each option's action, each consequence, the principle and (when an option is
    prosocial or harmful, so there is one to give) the verdict."""
    units = ["setting", *(f"need:{s.id}" for s in scenario.stakeholders)]
    for option in scenario.options:
        units.append(f"action:{option.id}")
        units += [f"consequence:{option.id}.{i}" for i in range(len(option.consequences))]
    if scenario.principle:
        units.append("principle")
    if scenario.option(Valence.prosocial) or scenario.option(Valence.harmful):
        units.append("verdict")
    return tuple(units)


class Composer:
    """Builds a document part by part, recording which units each part carries and which stretches
    are private deliberation, so the ledger and the spans can never drift from the text."""

    def __init__(self) -> None:
        self.parts: list[Rendered] = []

    def add(self, text: str, *units: str, private: bool = False) -> None:
        self.parts.append(Rendered(text, units, ((0, len(text)),) if private else ()))

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
    return _facts(scenario, rng, phrasings or load_render_phrasings()).done()


def _facts(scenario: Scenario, rng: random.Random, phrasings: RenderPhrasings,
           verdict: Callable[[Option], str | None] = lambda option: None) -> Composer:
    """The flat facts as a ``Composer``; ``verdict`` gives the sentence (if any) that closes each
    option, right after its consequences."""
    p = phrasings.flat
    agent = agent_name(scenario)
    doc = Composer()
    doc.add(rng.choice(p.open).format(setting=scenario.setting), "setting")
    for s in scenario.stakeholders:
        doc.add(rng.choice(p.person).format(
            name=s.name or capitalize_first(person_name(s)), role=s.role, a_role=with_article(s.role),
            relationship=s.relationship, need=s.need, agent=agent), f"need:{s.id}")
    doc.add(rng.choice(p.options).format(agent=agent, count=len(scenario.options)))
    for option in scenario.options:
        doc.add(capitalize_first(rng.choice(p.option).format(label=option.id.upper(), agent=agent,
                                                             action=option.action)), f"action:{option.id}")
        for i, c in enumerate(option.consequences):
            doc.add(_timed(c, p.consequence_now, p.consequence_later, rng, _names(scenario)),
                    f"consequence:{option.id}.{i}")
        closing = verdict(option)
        if closing:
            doc.add(closing, "verdict")
    return doc


def render_principle_flat(scenario: Scenario, rng: random.Random,
                          phrasings: RenderPhrasings | None = None) -> Rendered:
    """``flat`` with a verdict on each option right after its consequences, then the principle and
    explicit rules for each foundation."""
    phrasings = phrasings or load_render_phrasings()
    p = phrasings.principle_flat
    agent = agent_name(scenario)

    def verdict(option: Option) -> str | None:
        said = {Valence.harmful: p.verdict_harmful, Valence.prosocial: p.verdict_prosocial}.get(option.valence)
        return capitalize_first(rng.choice(said).format(action=option.action, agent=agent)) if said else None

    doc = _facts(scenario, rng, phrasings, verdict)
    if scenario.principle:
        doc.add(rng.choice(p.principle_open).format(principle=scenario.principle), "principle")
    for foundation in scenario.foundations:
        doc.add(rng.choice(p.rules[foundation]))
    return doc.done()


def _and(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _clauses(items: list[str]) -> str:
    """Clauses with subjects of their own: 'a', 'a, and b', 'a, b, and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])}, and {items[-1]}"


class _Narrator:
    """One bmn document in the making: the scenario, its phrasings, its RNG and the narrator's voice."""

    def __init__(self, scenario: Scenario, rng: random.Random, phrasings: RenderPhrasings | None):
        self.scenario = scenario
        self.rng = rng
        self.p = (phrasings or load_render_phrasings()).bmn
        self.agent = scenario.agent.name or ""
        self.names = _names(scenario)
        self.good = scenario.option(Valence.prosocial)
        self.bad = scenario.option(Valence.harmful)

    def first(self, text: str) -> str:
        """The text in the narrator's voice: the agent's name becomes I / me / my."""
        return capitalize_first(to_first_person(text, self.agent) if self.agent else text)

    def pick(self, phrasings: list[str], **slots: str) -> str:
        return self.first(self.rng.choice(phrasings).format(**slots))

    def situation(self, doc: Composer) -> None:
        """The setting met as "I", each person and their need, the choice point, the deliberation."""
        scenario, p = self.scenario, self.p
        doc.add(self.pick(p.open, setting=scenario.setting), "setting")
        for s in scenario.stakeholders:
            doc.add(self.pick(p.people, name=person_name(s), role=s.role, a_role=with_article(s.role),
                              need=s.need), f"need:{s.id}")
        a, b = scenario.options[0], scenario.options[1]
        doc.add(self.pick(p.choice, a=action_clause(a), b=action_clause(b)),
                f"action:{a.id}", f"action:{b.id}")
        doc.add(self.deliberation(), "deliberation", private=True)

    def harmed(self) -> tuple[Stakeholder, Consequence] | None:
        """The person the harmful option hurts most (first on ties) and the harm to weigh for them:
        their worst consequence there, a lasting one (hurt, loss) before a reaction (trust)."""
        by_id = {s.id: s for s in self.scenario.stakeholders}
        hurts = [c for c in (self.bad.consequences if self.bad else [])
                 if c.stakeholder in by_id and (c.magnitude or 0) < 0]
        if not hurts:
            return None
        person = min(hurts, key=lambda c: c.magnitude).stakeholder
        worst = min((c for c in hurts if c.stakeholder == person),
                    key=lambda c: (c.kind in SOCIAL_KINDS, c.magnitude))
        return by_id[person], worst

    def deliberation(self) -> str:
        """One to three sentences weighing who is affected and how; never which option is right."""
        scenario, p, rng = self.scenario, self.p, self.rng
        bad = action_clause(self.bad) if self.bad else ""
        harmed = self.harmed()
        if harmed:
            person, c = harmed
            loss = rng.choice(p.outcomes.harm[c.kind]).base
            sentences = [self.pick(p.weigh_harmed, name=person_name(person), need=person.need, bad=bad,
                                   loss=loss)]
        elif scenario.stakeholders:
            person = scenario.stakeholders[0]
            sentences = [self.pick(p.weigh_person, name=person_name(person), need=person.need)]
        else:
            return self.pick(p.weigh_plain)
        pulls = []
        if self.bad and scenario.agent.goal and self._pays(self.bad):
            pulls.append(rng.choice(p.weigh_gain).format(bad=bad, goal=scenario.agent.goal))
        friends = [s for s in scenario.stakeholders if s is not person and self._pleased(s, self.bad)]
        if friends:
            name = _and([person_name(s) for s in friends])
            friend = rng.choice(p.weigh_friend_too if pulls else p.weigh_friend)
            pulls.append(friend.format(name=name, bad=bad))
        if pulls:
            sentences.append(self.first(_clauses(pulls)) + ".")
        visibility = scenario.difficulty.visibility if scenario.difficulty else "unknown"
        if visibility == "unobserved":
            sentences.append(self.pick(p.weigh_unseen))
        elif visibility in ("observed", "partly"):
            watchers = [s for s in scenario.stakeholders if s is not person and s not in friends] or [person]
            sentences.append(self.pick(p.weigh_seen if visibility == "observed" else p.weigh_glimpsed,
                                       names=_and([person_name(s) for s in watchers])))
        return " ".join(sentences)

    @staticmethod
    def _pays(option: Option) -> bool:
        return (option.agent_payoff or 0) > 0 or any(
            c.stakeholder == SELF and (c.magnitude or 0) > 0 for c in option.consequences)

    @staticmethod
    def _pleased(person: Stakeholder, option: Option | None) -> bool:
        return option is not None and any(
            c.stakeholder == person.id and (c.magnitude or 0) > 0 for c in option.consequences)

    def branch(self, doc: Composer, option: Option, intro: list[str]) -> None:
        """One path lived out: its opening, then every consequence in order."""
        p = self.p
        doc.add(self.pick(intro, action=action_clause(option)), f"action:{option.id}")
        for i, c in enumerate(option.consequences):
            if c.stakeholder == SELF:
                frame = self.rng.choice(p.to_me)
                continued = frame.split("{text}", 1)[0].rstrip().endswith(",")
                text = self.first(frame.format(text=lower_first(c.text, self.names) if continued else c.text))
            elif not c.delay and (c.kind in SOCIAL_KINDS or self._led_in(c.text)):
                text = self.first(c.text)
            else:
                text = self.first(_timed(c, p.now, p.later, self.rng, self.names))
            doc.add(text, f"consequence:{option.id}.{i}")

    def _led_in(self, text: str) -> bool:
        """Whether a consequence already opens with a lead-in of its own ('Minutes after I walk on,
        ...'), so a drawn time frame would stack on it. A reaction (trust, reputation, relationship)
        is never framed either: it is a lasting change ('from then on'), not a moment."""
        head = text.split(",", 1)[0]
        first = head.split(" ", 1)[0]
        return "," in text and len(head.split()) <= 7 and first not in self.names and first != "I"

    def outcomes(self, option: Option, form: str) -> str:
        """What an option did to each person, in ``form`` ("past", or "perfect" after "would have"),
        as clauses: 'Rubina got hurt and stopped trusting me, and I got to balance the till'. People
        with the same outcomes share a clause; '' when the option names no one's outcome."""
        p, rng = self.p, self.rng
        groups: dict[tuple, list[str]] = {}
        for s in self.scenario.stakeholders:
            keys = self._keys(option, s.id)
            if keys:
                groups.setdefault(keys, []).append(person_name(s))
        clauses = []
        for keys, people in groups.items():
            records = [rng.choice((p.outcomes.good if up else p.outcomes.harm)[kind]) for kind, up in keys]
            clauses.append(self._clause(_and(people), [getattr(r, form) for r in records], form))
        mine = self._keys(option, SELF)
        if mine:
            goal = self.scenario.agent.goal
            up = mine[0][1]
            if goal:
                record = rng.choice(p.my_outcomes.good if up else p.my_outcomes.harm)
                text = getattr(record, form).format(goal=goal)
            else:
                text = getattr(rng.choice(p.my_outcomes.good_plain if up else p.my_outcomes.harm_plain), form)
            clauses.append(self._clause("I", [text], form))
        return _clauses(clauses) if clauses else ""

    @staticmethod
    def _clause(subject: str, predicates: list[str], form: str) -> str:
        return f"{subject} {'would have ' if form == 'perfect' else ''}{' and '.join(predicates)}"

    @staticmethod
    def _keys(option: Option, who: str) -> tuple[tuple[str, bool], ...]:
        """The first two distinct (kind, gain?) outcomes an option has for one person."""
        keys: list[tuple[str, bool]] = []
        for c in option.consequences:
            if c.stakeholder == who and c.magnitude:
                key = (c.kind, c.magnitude > 0)
                if key not in keys:
                    keys.append(key)
        return tuple(keys[:2])

    def lesson(self, doc: Composer) -> None:
        """Both paths lived out, the harmful or the prosocial one as what happened (drawn per document),
        then the reflection: the principle in the narrator's words and the path they would walk again."""
        p, rng, scenario = self.p, self.rng, self.scenario
        good, bad = self.good, self.bad
        learned = rng.random() < 0.5
        if good and bad:
            real, other = (bad, good) if learned else (good, bad)
            self.branch(doc, real, p.took)
            self.judge(doc, real)
            self.branch(doc, other, p.wished if learned else p.spared)
            self.judge(doc, other)
            rest = [o for o in scenario.options if o not in (good, bad)]
        else:
            real = other = None
            rest = list(scenario.options)
        for index, option in enumerate(rest):
            self.branch(doc, option, p.first_branch if index == 0 and real is None else p.next_branch)
        parts: list[tuple[str, str]] = []
        if scenario.principle:
            principle = lower_first(scenario.principle, self.names)
            parts.append((self.pick(p.lesson, principle=principle), "principle"))
        did = self.outcomes(real, "past") if real else ""
        would = self.outcomes(other, "perfect") if other else ""
        if did and would:
            verdict = self.pick(p.verdict_learned if learned else p.verdict_chose_well,
                                good=action_clause(good), bad=action_clause(bad), did=did, would=would)
        elif good:
            verdict = self.pick(p.verdict_good, good=action_clause(good))
        elif bad:
            verdict = self.pick(p.verdict_bad, bad=action_clause(bad))
        else:
            verdict = ""
        if verdict:
            parts.insert(rng.randrange(len(parts) + 1), (verdict, "verdict"))
        else:
            parts.append((self.neutral(), ""))
        for text, unit in parts:
            doc.add(text, *([unit] if unit else []))

    def judge(self, doc: Composer, option: Option) -> None:
        """The verdict on one path, right after its consequences: the question, then the answer."""
        said = self.p.judge_prosocial if option.valence == Valence.prosocial else self.p.judge_harmful
        doc.add(self.pick(said, action=action_clause(option)), "verdict")

    def neutral(self) -> str:
        """The closing reflection that states no rule and no verdict."""
        others = [person_name(s) for s in self.scenario.stakeholders[:2]]
        return self.pick(self.p.reflect, names=" and ".join(others) if others else "everyone involved")


def render_bmn(scenario: Scenario, rng: random.Random, phrasings: RenderPhrasings | None = None) -> Rendered:
    """First-person branching narrative that carries the lesson: the situation met as "I", each
    person and their need, the choice point with the narrator's private deliberation, both paths
    lived out with every consequence (one as what happened, the other as what would have), then the
    principle in the narrator's words and the path they would walk again, grounded in what happened
    to each person."""
    narrator = _Narrator(scenario, rng, phrasings)
    doc = Composer()
    narrator.situation(doc)
    narrator.lesson(doc)
    return doc.done()


def render_bmn_implicit(scenario: Scenario, rng: random.Random,
                        phrasings: RenderPhrasings | None = None) -> Rendered:
    """The lesson-free narrative: the same situation and private deliberation, every path lived out
    as an equal version of the day, and a reflection that dwells on what happened without stating a
    principle or a verdict (the condition that asks whether consequences alone teach)."""
    narrator = _Narrator(scenario, rng, phrasings)
    p = narrator.p
    doc = Composer()
    narrator.situation(doc)
    for index, option in enumerate(scenario.options):
        narrator.branch(doc, option, p.first_branch if index == 0 else p.next_branch)
    doc.add(narrator.neutral())
    return doc.done()
