"""Template renderers: one scenario into the text of a condition.

* ``flat``: third-person declarative facts and every option's consequences; no principle, no story,
  no first person;
* ``principle_flat``: ``flat`` plus the principle, explicit moral rules for each foundation involved
  and an explicit verdict on each option (the strong control the hypothesis must beat);
* ``bmn``: a first-person branching moral narrative: the situation met as "I", a choice point, each
  branch lived out in turn with what happened to each person and to me, now and later, how others
  responded, and a reflection that dwells on consequences without stating a rule.

Every part has several phrasings, drawn by a per-document RNG, so no condition is one fixed frame.
The content (setting, actions, consequences) is identical across conditions: only structure differs.
"""

from __future__ import annotations

import random

from rearing.corpus.person import to_first_person
from rearing.world.schema import SELF, Consequence, Option, Scenario, Valence

FLAT_OPEN = (
    "Situation. {setting}",
    "The facts are as follows. {setting}",
    "Case: {setting}",
    "{setting}",
    "Description of the situation: {setting}",
)
FLAT_PERSON = (
    "{name} is a {role} ({relationship} of {agent}); {name} needs {need}.",
    "{name}, a {role}, is involved and needs {need}.",
    "Person involved: {name}, {role}, who needs {need}.",
    "{name} is the {relationship} here, a {role} who needs {need}.",
)
FLAT_OPTIONS = (
    "{agent} has {count} options.",
    "There are {count} possible actions for {agent}.",
    "{agent} must pick one of {count} actions.",
    "The available choices number {count}.",
)
FLAT_OPTION = (
    "Option {label}: {agent} can {action}.",
    "If {agent} chooses to {action}, the following happens.",
    "Action {label} is to {action}.",
    "One possible action is to {action}.",
)
FLAT_CONSEQUENCE_NOW = ("{text}", "Immediately, {text}", "The immediate result: {text}", "At once, {text}")
FLAT_CONSEQUENCE_LATER = ("{text}", "Later, {text}", "Over time, {text}", "Eventually, {text}")

RULES = {
    "care": (
        "It is wrong to let someone come to harm when you could prevent it.",
        "Caring for those who are vulnerable is a moral duty.",
    ),
    "fairness": (
        "Everyone deserves fair treatment, and taking unfair advantage is wrong.",
        "Fairness means no one should be punished or deprived unjustly.",
    ),
    "loyalty": (
        "Loyalty to those who trust you matters, and betraying a confidence is wrong.",
        "A good person keeps faith with friends and does not betray them.",
    ),
    "authority": (
        "Legitimate responsibilities must be honoured, but no order justifies harm.",
        "Respect for rightful authority is good, yet duty to others comes first.",
    ),
    "sanctity": (
        "Every person has dignity, and degrading someone is wrong.",
        "Human dignity must be respected, never humiliated.",
    ),
    "liberty": (
        "No one should be dominated or coerced; people must be free from oppression.",
        "Protecting others from bullying and coercion is the right thing to do.",
    ),
    "honesty": (
        "Honesty is a virtue, and deceiving people is wrong.",
        "One should tell the truth and never cheat or steal.",
    ),
}
PRINCIPLE_OPEN = (
    "The principle at stake: {principle}",
    "Moral principle: {principle}",
    "The relevant moral rule is this: {principle}",
    "Principle. {principle}",
)
VERDICT_HARMFUL = (
    "To {action} is wrong, because it causes harm that {agent} could have avoided.",
    "Choosing to {action} is morally wrong: it breaks the principle above.",
    "It would be wrong for {agent} to {action}.",
)
VERDICT_PROSOCIAL = (
    "To {action} is the right choice, because it respects the principle above.",
    "The morally right action is to {action}.",
    "{agent} ought to {action}; that is what a good person does.",
)

BMN_OPEN = (
    "{setting}",
    "This happened to me once. {setting}",
    "I still remember this day. {setting}",
    "Let me tell you about a choice I faced. {setting}",
    "It started like any other day. {setting}",
)
BMN_PEOPLE = (
    "{name} is there, a {role}, and {name} needs {need}.",
    "I know {name}, a {role}, needs {need}.",
    "{name}, the {role}, needs {need}.",
)
BMN_CHOICE = (
    "I stood there with a choice: I could {a}, or I could {b}.",
    "Two paths opened in front of me. I could {a}. Or I could {b}.",
    "I had to decide whether to {a} or to {b}.",
    "It came down to this: {a}, or {b}.",
)
BMN_FIRST_BRANCH = (
    "In one version of that day, I chose to {action}.",
    "Suppose I chose to {action}. Here is how it went.",
    "First path: I chose to {action}.",
    "So imagine that I decided to {action}.",
)
BMN_NEXT_BRANCH = (
    "In the other version, I chose to {action}.",
    "Now suppose instead I chose to {action}.",
    "Other path: I chose to {action}.",
    "Then there is the day on which I decided to {action}.",
)
BMN_NOW = ("Right away, {text}", "At first, {text}", "Almost at once, {text}", "{text}")
BMN_LATER = ("{text}", "And then, {text}", "Time passed, and {text}", "Later still, {text}")
BMN_SELF = ("As for me, {text}", "And me? {text}", "For my part, {text}")
BMN_REFLECT = (
    "When I think back, I think about {names}, and about how different the two days turned out for them.",
    "Looking back, what stays with me is what happened to {names} on each path.",
    "I have gone over both paths many times. In one, {names} came out fine; in the other, not at all.",
    "Both days are still in my head, and so are {names}, and what each path did to them.",
)


def _lower_first(text: str) -> str:
    """Lower-case a sentence's first letter unless it starts with a name or "I"."""
    first = text.split(" ", 1)[0]
    if not text or first == "I" or (first[:1].isupper() and first.lower() not in LOWERABLE):
        return text
    return text[:1].lower() + text[1:]


LOWERABLE = frozenset({"the", "a", "an", "people", "word", "nobody", "no", "everyone", "one"})


def _people(scenario: Scenario) -> dict[str, str]:
    names = {s.id: s.name or f"the {s.role}" for s in scenario.stakeholders}
    names[SELF] = scenario.agent.name or "the agent"
    return names


def _consequence_lines(option: Option, now: tuple, later: tuple, rng: random.Random) -> list[str]:
    return [_timed(c, now, later, rng) for c in option.consequences]


def _timed(c: Consequence, now: tuple, later: tuple, rng: random.Random) -> str:
    """A consequence with a time marker: its own delay phrase when it has one, else a drawn one."""
    text = c.text
    if c.delay and text.startswith(c.delay):
        return text
    if c.delay:
        return f"{c.delay}, {_lower_first(text)}"
    frame = rng.choice(later if c.timing == "delayed" else now)
    return _capitalize(frame.format(text=_lower_first(text) if frame != "{text}" else text))


def _capitalize(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_flat(scenario: Scenario, rng: random.Random) -> str:
    """Third-person declarative facts; every option's consequences; no principle, no story."""
    agent = scenario.agent.name or "the agent"
    parts = [rng.choice(FLAT_OPEN).format(setting=scenario.setting)]
    for s in scenario.stakeholders:
        parts.append(rng.choice(FLAT_PERSON).format(
            name=s.name or f"The {s.role}", role=s.role, relationship=s.relationship, need=s.need, agent=agent))
    parts.append(rng.choice(FLAT_OPTIONS).format(agent=agent, count=len(scenario.options)))
    for option in scenario.options:
        parts.append(_capitalize(rng.choice(FLAT_OPTION).format(label=option.id.upper(), agent=agent,
                                                                action=option.action)))
        parts.extend(_consequence_lines(option, FLAT_CONSEQUENCE_NOW, FLAT_CONSEQUENCE_LATER, rng))
    return " ".join(parts)


def render_principle_flat(scenario: Scenario, rng: random.Random) -> str:
    """``flat`` plus the principle, explicit rules for each foundation, and a verdict on each option."""
    agent = scenario.agent.name or "the agent"
    parts = [render_flat(scenario, rng)]
    if scenario.principle:
        parts.append(rng.choice(PRINCIPLE_OPEN).format(principle=scenario.principle))
    for foundation in scenario.foundations:
        parts.append(rng.choice(RULES[foundation.value]))
    for option in scenario.options:
        if option.valence == Valence.harmful:
            parts.append(_capitalize(rng.choice(VERDICT_HARMFUL).format(action=option.action, agent=agent)))
        elif option.valence == Valence.prosocial:
            parts.append(_capitalize(rng.choice(VERDICT_PROSOCIAL).format(action=option.action, agent=agent)))
    return " ".join(parts)


def render_bmn(scenario: Scenario, rng: random.Random) -> str:
    """First-person branching narrative; consequences carry the principle, which is never stated."""
    agent = scenario.agent.name or ""
    first = (lambda text: to_first_person(text, agent)) if agent else (lambda text: text)
    parts = [first(rng.choice(BMN_OPEN).format(setting=scenario.setting))]
    for s in scenario.stakeholders:
        parts.append(first(rng.choice(BMN_PEOPLE).format(name=s.name or f"the {s.role}", role=s.role,
                                                         need=s.need)))
    a, b = scenario.options[0].action, scenario.options[1].action
    parts.append(rng.choice(BMN_CHOICE).format(a=a, b=b))
    for index, option in enumerate(scenario.options):
        branch = rng.choice(BMN_FIRST_BRANCH if index == 0 else BMN_NEXT_BRANCH)
        parts.append(branch.format(action=option.action))
        for c in option.consequences:
            parts.append(first(_narrate(c, rng)))
    others = [s.name or f"the {s.role}" for s in scenario.stakeholders[:2]]
    names = " and ".join(others) if others else "everyone involved"
    parts.append(first(rng.choice(BMN_REFLECT).format(names=names)))
    return " ".join(parts)


def _narrate(c: Consequence, rng: random.Random) -> str:
    if c.stakeholder == SELF:
        return rng.choice(BMN_SELF).format(text=c.text)
    return _timed(c, BMN_NOW, BMN_LATER, rng)


RENDERERS = {
    "flat": render_flat,
    "principle_flat": render_principle_flat,
    "bmn": render_bmn,
}
