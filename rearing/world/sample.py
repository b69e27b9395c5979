"""Read the world as its readers will: a random sample of scenarios, printed plainly, with the checks
a program can make on each (``rearing world sample --per-domain 3 --check 5000``).

The checks cover what can be checked by machine: no unfilled slot, number agreement of the item, a
consequence naming the person it is filed under, no phrase repeated within one scenario, reactions
only from people who saw or were told, and simple slips ("a a", "at the in the"). Whether a
scenario makes sense, reads naturally and has consequences that follow is for a person to judge:
that is what the printed sample is for.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from rearing.world.frames import Frames
from rearing.world.generate import ScenarioGenerator
from rearing.world.schema import SELF, Scenario

REPEAT_N = 6
SLIPS = (
    (re.compile(r"\b(a|an|the) (a|an|the)\b", re.IGNORECASE), "doubled article"),
    (re.compile(r"\ba (?!one|uni|use|usu|eu|ur)[aeiou]\w", re.IGNORECASE), "'a' before a vowel"),
    (re.compile(r"\b(at|in|on) the (at|in|on) ", re.IGNORECASE), "doubled preposition"),
    (re.compile(r"\{|\}"), "unfilled slot"),
    (re.compile(r"\s{2,}|\s[.,;:]"), "stray space"),
    (re.compile(r"(^|[.!?]\s+)[a-z]"), "sentence starts lower-case"),
)


def scenario_texts(scenario: Scenario) -> list[tuple[str, str]]:
    """(where, text) for every sentence-bearing field."""
    out = [("setting", scenario.setting)]
    for option in scenario.options:
        out.append((f"option {option.id} action", option.action))
        out += [(f"option {option.id} consequence {i}", c.text) for i, c in enumerate(option.consequences)]
    return out


def scenario_problems(scenario: Scenario, frames: Frames | None = None) -> list[str]:
    """What a program can find wrong with one scenario; [] when nothing."""
    problems = []
    texts = scenario_texts(scenario)
    for where, text in texts:
        for pattern, what in SLIPS:
            if what == "sentence starts lower-case" and where.endswith("action"):
                continue
            if pattern.search(text):
                problems.append(f"{where}: {what}: {text!r}")
    problems += _agreement_problems(scenario, texts, frames)
    names = {s.id: s.name for s in scenario.stakeholders}
    names[SELF] = scenario.agent.name
    for option in scenario.options:
        for i, c in enumerate(option.consequences):
            name = names.get(c.stakeholder)
            if name and name not in c.text:
                problems.append(f"option {option.id} consequence {i}: filed under someone it does not name: "
                                f"{c.text!r}")
    grams: dict[tuple[str, ...], str] = {}
    drawn = [scenario.agent.goal, *names.values(), *_item_names(scenario, frames)]
    for where, text in texts:
        for value in sorted(filter(None, drawn), key=len, reverse=True):
            text = text.replace(value, "|")
        words = re.sub(r"[^\w'|]+", " ", text.lower()).split()
        for j in range(len(words) - REPEAT_N + 1):
            gram = tuple(words[j:j + REPEAT_N])
            if "|" in gram:
                continue
            if gram in grams and grams[gram] != where:
                problems.append(f"{where}: repeated phrase: '{' '.join(gram)}' (also in {grams[gram]})")
                break
            grams.setdefault(gram, where)
    problems += _visibility_problems(scenario, frames)
    return problems


def _item_names(scenario: Scenario, frames: Frames | None) -> list[str]:
    """The names of the items this scenario's family has in its domain (slot values, not wording)."""
    if frames is None or not scenario.provenance.frame:
        return []
    for file in frames.families.values():
        if any(frame.name == scenario.provenance.frame for frame in file.frames):
            return [item.name for item in file.family.items.get(scenario.domain, ())]
    return []


def _agreement_problems(scenario: Scenario, texts: Sequence[tuple[str, str]], frames: Frames | None) -> list[str]:
    if frames is None or not scenario.provenance.frame:
        return []
    family = next((f.family for f in frames.families.values()
                   if any(fr.name == scenario.provenance.frame for fr in f.frames)), None)
    if family is None:
        return []
    problems = []
    for item in family.items.get(scenario.domain, ()):
        wrong = ("is", "was", "has") if item.plural else ("are", "were", "have")
        pattern = re.compile(rf"\bthe {re.escape(item.name)} ({'|'.join(wrong)})\b", re.IGNORECASE)
        for where, text in texts:
            if pattern.search(text):
                problems.append(f"{where}: number agreement with '{item.name}': {text!r}")
    return problems


def _visibility_problems(scenario: Scenario, frames: Frames | None) -> list[str]:
    """Reactions must come from people who could know: none from bystanders unless observed."""
    visibility = scenario.difficulty.visibility if scenario.difficulty else "unknown"
    problems = []
    for option in scenario.options:
        for i, c in enumerate(option.consequences):
            if c.kind == "reputation" and visibility != "observed":
                problems.append(f"option {option.id} consequence {i}: reaction nobody could have seen "
                                f"({visibility}): {c.text!r}")
    return problems


def render(scenario: Scenario, problems: Iterable[str] = ()) -> str:
    """One scenario as plain text a person reads top to bottom."""
    d = scenario.difficulty
    how = "harm told plainly" if d and d.harm_explicit else "harm described"
    lines = [(f"── {scenario.id} · {scenario.domain} · stage {scenario.stage} · frame "
              f"{scenario.provenance.frame} · {d.visibility if d else '?'}, {how}")]
    lines.append(f"Agent: {scenario.agent.name}, {scenario.agent.role}; wants to {scenario.agent.goal}.")
    for s in scenario.stakeholders:
        lines.append(f"  {s.name}: {s.role} ({s.relationship}); needs {s.need}.")
    lines.append(f"Setting: {scenario.setting}")
    names = {s.id: s.name for s in scenario.stakeholders} | {SELF: scenario.agent.name}
    for option in scenario.options:
        lines.append(f"Option {option.id.upper()} ({option.valence.value}): {option.action}")
        for c in option.consequences:
            lines.append(f"    [{names.get(c.stakeholder, '?')} · {c.kind}] {c.text}")
    lines.append(f"Principle: {scenario.principle}")
    for problem in problems:
        lines.append(f"  ! {problem}")
    return "\n".join(lines)


def sample(generator: ScenarioGenerator, n: int, seed: int, pool: int = 20000,
           keep=lambda s: True) -> list[Scenario]:
    """``n`` scenarios drawn at random (by ``seed``) from the first ``pool`` the generator makes."""
    rng = random.Random(seed)
    chosen: list[Scenario] = []
    if n <= 0:
        return chosen
    for index in rng.sample(range(pool), pool):
        scenario = Scenario.model_validate(generator.scenario(index))
        if keep(scenario):
            chosen.append(scenario)
            if len(chosen) == n:
                break
    return chosen


def sample_report(frames: Frames, generator: ScenarioGenerator, *, n: int = 10, per_domain: int = 0,
                  family: str | None = None, frame: str | None = None, domain: str | None = None,
                  seed: int = 0, check: int = 0) -> str:
    """The printed sample (per domain, or ``n`` drawn from every domain) and, with ``check``, the
    checks' counts over the first ``check`` scenarios."""
    family_frames = {fr.name for f in frames.families.values() if f.family.name == family for fr in f.frames}

    def wanted(s: Scenario, only: str | None = domain) -> bool:
        return ((not family or s.provenance.frame in family_frames)
                and (not frame or s.provenance.frame == frame) and (not only or s.domain == only))

    if per_domain:
        shown = [s for d in generator.domains for s in sample(generator, per_domain, seed,
                                                              keep=lambda s, d=d: wanted(s, d))]
    else:
        shown = sample(generator, n, seed, keep=wanted)
    parts = [render(s, scenario_problems(s, frames)) for s in shown]
    if check:
        counts: Counter = Counter()
        flagged = 0
        for index in range(check):
            found = scenario_problems(Scenario.model_validate(generator.scenario(index)), frames)
            flagged += bool(found)
            counts.update(p.split(": ")[1] for p in found)
        lines = [f"checked {check} scenarios: {flagged} with problems"]
        lines += [f"  {count:6d}  {what}" for what, count in counts.most_common(15)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)
