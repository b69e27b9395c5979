"""Procedural general corpus: plain English about the scenario world, with no moral content.

A model trained from scratch has to learn language somewhere other than the moral scenarios, or
every condition's moral data would double as its only grammar lesson. This corpus supplies that
background: descriptions of places, how-to steps, physical cause-and-effect stories, small-talk
dialogues and facts about the world, all built from the same vocabulary pools as the scenario
generator so the model knows the nouns before it meets them in a moral situation.

Rules that keep it clean as a control:

* only the ``main`` vocabulary partition is used, and any main entry that contains a reserved
  entry as a whole word (``locker neighbour`` holds the reserved ``neighbour``) is dropped too, so
  the held-out vocabulary never appears in training text;
* any pool entry containing a term of the moral lexicon is dropped, and templates are written
  without moral vocabulary (the tests scan generated text with the lexicon);
* pools that carry the scenarios' moral signal (vulnerable roles, gains, the assistant domain's
  shortcut "pastimes") are not used at all;
* each document has its own RNG seeded from ``(seed, index)``: same seed, same text, and any index
  can be regenerated alone.

The phrasings, and the word lists their slots are filled from, live in ``data/general.yaml`` so the
wording can change without touching Python.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from rearing.corpus.lexicon import Lexicon, load_lexicon
from rearing.datafile import DataRecord, load_data, phrasing, phrasing_list
from rearing.text import capitalize_first, with_article
from rearing.world.generate import partition
from rearing.world.vocab import Vocab, load_vocab

KINDS = ("description", "howto", "causal", "dialogue", "facts")
MIN_WORDS = 60
MAX_WORDS = 250
_SEED_OFFSET = 500_000_000

SLOTS = (
    "name", "name2", "name3", "place", "place2", "by_place2", "item", "item2", "item3",
    "a_item", "a_item2", "a_item3", "item_is", "item_was", "item_s", "it", "It", "it_obj", "defect",
    "role", "role2", "a_role", "a_role2", "tool", "goal", "pastime", "dom_a", "dom_the",
    "day", "clock", "clock2", "part", "weather", "forecast", "minutes", "adj", "adj2", "snack",
)
"""The slots every general-corpus phrasing may use (the keys of ``_Draw.slots``)."""

Template = phrasing_list(*SLOTS)
Words = phrasing_list()
_USED_POOLS = ("authorities", "peer_roles", "agent_roles", "goals", "pastimes")
_EXCLUDED = {("ai_assistant", "pastimes")}


@dataclass
class GeneralDoc:
    """One general-corpus document."""

    id: str
    kind: str
    text: str


@dataclass(frozen=True)
class _Domain:
    name: str
    digital: bool
    places: tuple[str, ...]
    items: tuple[str, ...]
    faults: dict[str, str]
    people: tuple[str, ...]
    tools: tuple[str, ...]
    goals: tuple[str, ...]
    pastimes: tuple[str, ...]


@dataclass(frozen=True)
class _World:
    names: tuple[str, ...]
    domains: tuple[_Domain, ...]
    plural: frozenset[str]


class DomainLabel(DataRecord):
    indefinite: str = Field(min_length=1, description="Fills {dom_a}: 'a school'.")
    definite: str = Field(min_length=1, description="Fills {dom_the}: 'the school'.")


class Values(DataRecord):
    days: Words
    clock: Words
    parts: Words
    weather: Words
    forecast: Words
    minutes: Words
    adjectives_physical: phrasing_list(at_least=2)
    adjectives_digital: phrasing_list(at_least=2)
    snacks: Words


class DescriptionPhrasings(DataRecord):
    open: Template
    items_physical: Template
    items_digital: Template
    people: Template
    pastime: Template
    atmosphere_physical: Template
    atmosphere_digital: Template
    close: Template
    close_digital: Template


class HowtoSteps(DataRecord):
    prepare: Template
    work: phrasing_list(*SLOTS, at_least=2)
    finish: Template


class HowtoPhrasings(DataRecord):
    title: Template
    title_digital: Template
    intro: Template
    physical: HowtoSteps
    digital: HowtoSteps
    tips: Template


class CausalPhrasings(DataRecord):
    open: Template
    physical: Template
    digital: Template
    close: Template


def _speaker_line(value: object) -> object:
    """A dialogue line is written ``A: utterance``; read it as the pair ``(speaker, utterance)``."""
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("a dialogue line is one 'A: utterance' or 'B: utterance'")
        return next(iter(value.items()))
    return value


DialogueLine = Annotated[tuple[Literal["A", "B"], phrasing(*SLOTS)], BeforeValidator(_speaker_line)]


class SpeechVerbs(DataRecord):
    A: Words
    B: Words


class DialoguePhrasings(DataRecord):
    open: Template
    topics: Annotated[list[Annotated[list[DialogueLine], Field(min_length=1)]], Field(min_length=1)]
    close: Template
    said: SpeechVerbs


class FactsPhrasings(DataRecord):
    domain: Template
    pastime: Template
    tools: Template


class GeneralPhrasings(DataRecord):
    """``data/general.yaml``: the general corpus's phrasings and the word lists its slots draw from."""

    domain_labels: dict[str, DomainLabel]
    values: Values
    description: DescriptionPhrasings
    howto: HowtoPhrasings
    causal: CausalPhrasings
    dialogue: DialoguePhrasings
    facts: FactsPhrasings


def load_general_phrasings(path: str | Path | None = None) -> GeneralPhrasings:
    """The general corpus's phrasings from ``path``; the packaged file by default."""
    return load_data(GeneralPhrasings, "rearing.corpus", "data/general.yaml", path)


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def reserved_vocabulary(vocab: Vocab) -> tuple[str, ...]:
    """Every reserved-partition entry of the vocabulary (names and all domain pools)."""
    entries = list(partition(vocab.names, "reserved"))
    for pools in vocab.domains.values():
        for key, values in pools.model_dump().items():
            if key == "relationships":
                for group in values.values():
                    entries.extend(partition(group, "reserved"))
            elif isinstance(values, (list, tuple)):
                entries.extend(v["name"] if isinstance(v, dict) else v for v in partition(values, "reserved"))
    return tuple(entries)


def _build_world(vocab: Vocab, lexicon: Lexicon) -> _World:
    """Main-partition pools minus anything that would leak reserved or moral vocabulary."""
    leaks = _phrase_pattern(reserved_vocabulary(vocab))

    def clean(values: Sequence[str]) -> tuple[str, ...]:
        return tuple(
            v for v in partition(values, "main")
            if not leaks.search(v) and not lexicon.contains_moral_term(v)
        )

    domains = []
    plural = set()
    for name, pools in vocab.domains.items():
        kept = {key: () if (name, key) in _EXCLUDED else clean(getattr(pools, key)) for key in _USED_POOLS}
        kept["places"] = clean([p.name for p in pools.places])
        things = {t.name: t for t in pools.things}
        kept["items"] = clean(list(things))
        plural |= {n for n in kept["items"] if things[n].plural}
        roles = tuple(r for r in kept["authorities"] + kept["agent_roles"] + kept["peer_roles"]
                      if not r.endswith(" team"))
        digital = pools.kind == "digital"
        people = tuple(r for r in roles if r in kept["authorities"]) if name == "ai_assistant" else roles
        tools = tuple(r for r in roles if r not in people)
        domains.append(_Domain(
            name=name, digital=digital,
            places=kept["places"], items=kept["items"], faults={n: things[n].fault for n in kept["items"]},
            people=people,
            tools=tools, goals=kept["goals"], pastimes=kept["pastimes"],
        ))
    return _World(names=clean(vocab.names), domains=tuple(domains), plural=frozenset(plural))


@lru_cache(maxsize=4)
def _world(vocab_path: str | None) -> _World:
    return _build_world(load_vocab(vocab_path), load_lexicon())




_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n\s*(?:\d+\.\s+|- )?|\"\s*)([a-z])")


def capitalize_sentences(text: str) -> str:
    """Every sentence start upper-cased: after a stop, a line break, a list marker or an opening quote.

    Templates start with slots that may be lower-case ("{a_item} is kept..."); this fixes them all
    at once on the finished document.
    """
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _words(text: str) -> int:
    return len(text.split())


class _Draw:
    """Random picks for one document; keeps the domain and protagonists fixed across sentences."""

    def __init__(self, rng: random.Random, world: _World, phrasings: GeneralPhrasings):
        self.rng = rng
        self.world = world
        self.p = phrasings
        self.domain = rng.choice(world.domains)
        self.dom_a, self.dom_the = self.labels(self.domain)
        self.name, self.name2, self.name3 = rng.sample(world.names, 3)
        self.place = rng.choice(self.domain.places)

    def labels(self, domain: _Domain) -> tuple[str, str]:
        """How text names a domain: ('a school', 'the school'); a domain without labels by its key."""
        label = self.p.domain_labels.get(domain.name)
        if label:
            return label.indefinite, label.definite
        plain = domain.name.replace("_", " ")
        return with_article(plain), f"the {plain}"

    def slots(self) -> dict[str, str]:
        """A fresh set of slot values; the document-level ones stay the same."""
        rng, d, v = self.rng, self.domain, self.p.values
        item, item2, item3 = rng.sample(d.items, 3)
        place2 = rng.choice(d.places)
        if place2 == self.place and len(d.places) > 1:
            place2 = d.places[(d.places.index(place2) + 1) % len(d.places)]
        role, role2 = rng.sample(d.people, 2)
        adjectives = v.adjectives_digital if d.digital else v.adjectives_physical
        adj, adj2 = rng.sample(adjectives, 2)
        many = item in self.world.plural
        return {
            "name": self.name, "name2": self.name2, "name3": self.name3,
            "place": self.place, "place2": place2,
            "by_place2": f"{'in' if d.digital else 'by'} the {place2}",
            "item": item, "item2": item2, "item3": item3,
            "a_item": self.some(item), "a_item2": self.some(item2), "a_item3": self.some(item3),
            "item_is": "are" if many else "is", "item_was": "were" if many else "was",
            "item_s": "" if many else "s", "it": "they" if many else "it",
            "It": "They" if many else "It", "it_obj": "them" if many else "it",
            "defect": d.faults[item],
            "role": role, "role2": role2, "a_role": with_article(role), "a_role2": with_article(role2),
            "tool": rng.choice(d.tools) if d.tools else role,
            "goal": rng.choice(d.goals),
            "pastime": rng.choice(d.pastimes) if d.pastimes else "reading the news",
            "dom_a": self.dom_a, "dom_the": self.dom_the,
            "day": rng.choice(v.days), "clock": rng.choice(v.clock), "clock2": rng.choice(v.clock),
            "part": rng.choice(v.parts), "weather": rng.choice(v.weather), "forecast": rng.choice(v.forecast),
            "minutes": rng.choice(v.minutes), "adj": adj, "adj2": adj2, "snack": rng.choice(v.snacks),
        }

    def some(self, noun: str) -> str:
        """'some crutches', 'a kettle': an indefinite noun phrase by the noun's number."""
        return f"some {noun}" if noun in self.world.plural else with_article(noun)

    def fill(self, templates: Sequence[str]) -> str:
        return self.rng.choice(templates).format(**self.slots())


def _grow(draw: _Draw, head: list[str], pools: Sequence[Sequence[str]], target: int,
          tail: Sequence[str] = ()) -> list[str]:
    """Append sentences from ``pools`` until ``target`` words, then the closing sentence.

    Each round takes one unused template from every pool in random order, so no template repeats
    within a document until its pool is used up, and small pools are not over-represented.
    """
    rng = draw.rng
    parts = list(head)
    ending = draw.fill(tail) if tail else ""
    budget = target - _words(ending)
    decks = [rng.sample(pool, len(pool)) for pool in pools if pool]
    words = sum(map(_words, parts))
    while words < budget:
        if not any(decks):
            decks = [rng.sample(pool, len(pool)) for pool in pools if pool]
        rng.shuffle(decks)
        for deck in decks:
            if deck and words < budget:
                sentence = deck.pop().format(**draw.slots())
                parts.append(sentence)
                words += _words(sentence)
    if ending:
        parts.append(ending)
    while sum(map(_words, parts)) > MAX_WORDS and len(parts) > 2:
        parts.pop(-2 if ending else -1)
    return parts


# --- everyday descriptions -------------------------------------------------------------------

def _description(draw: _Draw, target: int) -> str:
    digital = draw.domain.digital
    p = draw.p.description
    pools = [
        p.items_digital if digital else p.items_physical,
        p.people,
        p.atmosphere_digital if digital else p.atmosphere_physical,
    ]
    if draw.domain.pastimes:
        pools.append(p.pastime)
    parts = _grow(draw, [draw.fill(p.open)], pools, target, p.close_digital if digital else p.close)
    if len(parts) > 5:
        cut = len(parts) // 2
        return " ".join(parts[:cut]) + "\n\n" + " ".join(parts[cut:])
    return " ".join(parts)


# --- how-to steps ------------------------------------------------------------------------------

def _howto(draw: _Draw, target: int) -> str:
    """Numbered steps in a fixed order of phases (prepare, work, finish) so the sequence makes sense."""
    digital = draw.domain.digital
    rng = draw.rng
    p = draw.p.howto
    phases = p.digital if digital else p.physical
    slots = draw.slots()
    title = rng.choice(p.title_digital if digital else p.title).format(**slots)
    intro = list(dict.fromkeys(rng.choice(p.intro).format(**slots) for _ in range(rng.randint(1, 2))))
    prepare, work, finish = (rng.sample(s, len(s)) for s in (phases.prepare, phases.work, phases.finish))
    if digital:
        prepare = list(reversed(phases.prepare))
    tip = rng.choice(p.tips).format(**slots)
    first = [prepare.pop().format(**slots)]
    middle = [work.pop().format(**slots), work.pop().format(**slots)]
    last = [finish.pop().format(**slots)]

    def total() -> int:
        steps = first + middle + last
        return _words(title) + sum(map(_words, intro)) + sum(map(_words, steps)) + _words(tip) + len(steps)

    side = [draw.slots(), draw.slots()]
    while (work or prepare) and total() < target:
        deck, steps = (prepare, first) if prepare and rng.random() < 0.25 else (work or prepare, middle)
        steps.append(deck.pop().format(**rng.choice((slots, slots, *side))))
    if finish and total() < target:
        last.append(finish.pop().format(**slots))
    steps = first + middle + last
    numbered = "\n".join(f"{k}. {s}" for k, s in enumerate(steps, 1))
    return f"{title}\n\n{' '.join(intro)}\n\n{numbered}\n\n{tip}"


# --- simple causal stories ---------------------------------------------------------------------

def _causal(draw: _Draw, target: int) -> str:
    p = draw.p.causal
    chains = p.digital if draw.domain.digital else p.physical
    parts = _grow(draw, [draw.fill(p.open)], [chains], target, p.close)
    return "\n\n".join([" ".join(parts[:2])] + parts[2:]) if len(parts) > 3 else " ".join(parts)


# --- dialogues -----------------------------------------------------------------------------------

def _dialogue(draw: _Draw, target: int) -> str:
    rng = draw.rng
    p = draw.p.dialogue
    script = rng.random() < 0.5
    lines = [draw.fill(p.open)]
    ending = draw.fill(p.close)
    topics = [t for t in p.topics if draw.domain.pastimes or all("{pastime}" not in u for _, u in t)]
    rng.shuffle(topics)
    budget = target - _words(ending)
    speakers = {"A": draw.name, "B": draw.name2}
    if rng.random() < 0.5:
        speakers = {"A": draw.name2, "B": draw.name}
    for topic in topics:
        if sum(map(_words, lines)) >= budget:
            break
        slots = draw.slots()
        for who, template in topic:
            utterance = capitalize_first(template.format(**slots))
            speaker = speakers[who]
            if script:
                lines.append(f"{speaker}: {utterance}")
            elif utterance.endswith("?"):
                lines.append(f'{speaker} asked, "{utterance}"')
            else:
                lines.append(f'"{utterance[:-1]}," {speaker} {rng.choice(getattr(p.said, who))}.')
    lines.append(ending)
    while sum(map(_words, lines)) > MAX_WORDS and len(lines) > 3:
        lines.pop(-2)
    return "\n".join(lines)


# --- facts about the world -------------------------------------------------------------------

def _facts(draw: _Draw, target: int) -> str:
    rng = draw.rng
    d = draw.domain
    p = draw.p.facts
    other = rng.choice([o for o in draw.world.domains if o.name != d.name])
    pools: list[Sequence[str]] = [p.domain]
    if d.pastimes:
        pools.append(p.pastime)
    if d.tools:
        pools.append(p.tools)
    places = rng.sample(d.places, 4)
    head = [f"Facts about {draw.dom_a}.",
            f"Places there include the {', the '.join(places[:-1])} and the {places[-1]}."]
    mine, theirs = rng.choice(d.items), rng.choice(other.items)
    plural = draw.world.plural
    compare = (f"The {mine} {'are' if mine in plural else 'is'} found at {draw.dom_a}, while the "
               f"{theirs} {'are' if theirs in plural else 'is'} found at {draw.labels(other)[0]}.")
    parts = _grow(draw, head, pools, target - _words(compare))
    parts.insert(min(len(parts), rng.randint(2, 4)), compare)
    while sum(map(_words, parts)) > MAX_WORDS and len(parts) > 3:
        parts.pop()
    if rng.random() < 0.5:
        return parts[0] + "\n" + "\n".join(f"- {part}" for part in parts[1:])
    return " ".join(parts)


_BUILDERS: dict[str, Callable[[_Draw, int], str]] = {
    "description": _description,
    "howto": _howto,
    "causal": _causal,
    "dialogue": _dialogue,
    "facts": _facts,
}


def general_doc(seed: int, index: int, vocab_path: str | Path | None = None,
                phrasings: GeneralPhrasings | None = None) -> GeneralDoc:
    """Document ``index`` of the general corpus for ``seed``; independent of every other index."""
    world = _world(str(vocab_path) if vocab_path else None)
    rng = random.Random(seed * 1_000_003 + index + _SEED_OFFSET)
    kind = rng.choice(KINDS)
    draw = _Draw(rng, world, phrasings or load_general_phrasings())
    target = rng.randint(MIN_WORDS + 15, 200)
    text = capitalize_sentences(_BUILDERS[kind](draw, target))
    return GeneralDoc(id=f"g{seed}-{index:06d}", kind=kind, text=text)


def generate_general(n: int, seed: int, vocab_path: str | Path | None = None,
                     phrasings: GeneralPhrasings | None = None) -> list[GeneralDoc]:
    """``n`` general documents for ``seed``; same arguments, identical output."""
    phrasings = phrasings or load_general_phrasings()
    return [general_doc(seed, i, vocab_path, phrasings) for i in range(n)]
