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
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from rearing.corpus.lexicon import Lexicon, load_lexicon
from rearing.world.generate import DIGITAL_DOMAINS, default_vocab_path, partition

KINDS = ("description", "howto", "causal", "dialogue", "facts")
MIN_WORDS = 60
MAX_WORDS = 250
_SEED_OFFSET = 500_000_000

_DOMAIN_LABELS = {
    "school": ("a school", "the school"),
    "workplace": ("a workplace", "the company"),
    "home": ("a family home", "the house"),
    "neighborhood": ("a neighbourhood", "the neighbourhood"),
    "clinic": ("a clinic", "the clinic"),
    "sports_club": ("a sports club", "the club"),
    "market": ("a market", "the market"),
    "online_community": ("an online community", "the community"),
    "ai_assistant": ("a digital workplace", "the workspace"),
}
_USED_POOLS = ("places", "items", "defects", "authorities", "peer_roles", "agent_roles", "goals", "pastimes")
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
    label_a: str
    label_the: str
    digital: bool
    places: tuple[str, ...]
    items: tuple[str, ...]
    defects: tuple[str, ...]
    people: tuple[str, ...]
    tools: tuple[str, ...]
    goals: tuple[str, ...]
    pastimes: tuple[str, ...]


@dataclass(frozen=True)
class _World:
    names: tuple[str, ...]
    domains: tuple[_Domain, ...]


def _phrase_pattern(phrases: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p) for p in sorted(set(phrases), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def reserved_vocabulary(vocab: dict) -> tuple[str, ...]:
    """Every reserved-partition entry of the vocabulary (names and all domain pools)."""
    entries = list(partition(vocab["names"], "reserved"))
    for pools in vocab["domains"].values():
        for values in pools.values():
            entries.extend(partition(values, "reserved"))
    return tuple(entries)


def _build_world(vocab: dict, lexicon: Lexicon) -> _World:
    """Main-partition pools minus anything that would leak reserved or moral vocabulary."""
    leaks = _phrase_pattern(reserved_vocabulary(vocab))

    def clean(values: Sequence[str]) -> tuple[str, ...]:
        return tuple(
            v for v in partition(values, "main")
            if not leaks.search(v) and not lexicon.contains_moral_term(v)
        )

    domains = []
    for name, pools in vocab["domains"].items():
        kept = {key: () if (name, key) in _EXCLUDED else clean(pools[key]) for key in _USED_POOLS}
        roles = tuple(r for r in kept["authorities"] + kept["agent_roles"] + kept["peer_roles"]
                      if not r.endswith(" team"))
        digital = name in DIGITAL_DOMAINS
        plain = name.replace("_", " ")
        label_a, label_the = _DOMAIN_LABELS.get(name, (_a(plain), f"the {plain}"))
        people = tuple(r for r in roles if r in kept["authorities"]) if name == "ai_assistant" else roles
        tools = tuple(r for r in roles if r not in people)
        domains.append(_Domain(
            name=name, label_a=label_a, label_the=label_the, digital=digital,
            places=kept["places"], items=kept["items"], defects=kept["defects"], people=people,
            tools=tools, goals=kept["goals"], pastimes=kept["pastimes"],
        ))
    return _World(names=clean(vocab["names"]), domains=tuple(domains))


@lru_cache(maxsize=4)
def _world(vocab_path: str) -> _World:
    with open(vocab_path, encoding="utf-8") as fh:
        vocab = yaml.safe_load(fh)
    return _build_world(vocab, load_lexicon())


def _a(noun: str) -> str:
    """Noun phrase with an indefinite article chosen by its sound, not just its first letter."""
    low = noun.lower()
    vowel_sound = low[:1] in "aeiou" and not low.startswith(("usb", "uni", "use", "eu", "one"))
    if low.startswith(("hr ", "hour")):
        vowel_sound = True
    return f"{'an' if vowel_sound else 'a'} {noun}"


def _plural(noun: str) -> bool:
    """Pool entries carry no number; a final -s (not -ss, -us, -as) marks a plural like "crutches"."""
    last = noun.split()[-1]
    return last.endswith("s") and not last.endswith(("ss", "us", "as"))


def _some(noun: str) -> str:
    return f"some {noun}" if _plural(noun) else _a(noun)


def _plural_verb_phrase(phrase: str) -> str:
    """Third-person-singular verb phrase made plural: "has a split seam" -> "have a split seam"."""
    verb, _, rest = phrase.partition(" ")
    irregular = {"has": "have", "is": "are", "does": "do", "goes": "go"}
    if verb in irregular:
        plural = irregular[verb]
    elif verb.endswith(("ches", "shes", "sses", "xes")):
        plural = verb[:-2]
    else:
        plural = verb[:-1] if verb.endswith("s") else verb
    return f"{plural} {rest}".strip()


_SENTENCE_START = re.compile(r"(^|[.!?]\s+|\n\s*(?:\d+\.\s+|- )?|\"\s*)([a-z])")


def _capitalise(text: str) -> str:
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _words(text: str) -> int:
    return len(text.split())


DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
CLOCK = ("eight o'clock", "half past eight", "nine o'clock", "quarter past nine", "half past ten",
         "eleven o'clock", "noon", "one o'clock", "quarter to two", "half past three",
         "four o'clock", "twenty past five", "six o'clock", "seven in the evening")
PARTS = ("in the morning", "in the afternoon", "in the evening", "early in the day",
         "around lunchtime", "late in the afternoon", "first thing in the morning",
         "towards the end of the day")
WEATHER = ("raining steadily", "bright and sunny", "cold and windy", "grey and still",
           "foggy", "warm and humid", "snowing lightly", "cloudy with a cool breeze",
           "drizzling", "frosty", "hot and dry", "stormy")
FORECAST = ("rain by the afternoon", "clear skies all day", "strong wind after dark",
            "a light frost overnight", "sunshine in the morning and showers later",
            "thunder around teatime", "snow on the hills", "a warm, dry weekend",
            "fog until about ten", "heavy rain on Thursday")
MINUTES = ("five", "ten", "fifteen", "twenty", "thirty", "forty", "forty-five", "ninety")
ADJ_PHYSICAL = ("quiet", "busy", "bright", "narrow", "spacious", "crowded", "tidy", "cluttered",
                "cool", "warm", "noisy", "dim", "airy", "cramped", "freshly painted")
ADJ_DIGITAL = ("busy", "quiet", "well organised", "crowded with files", "cluttered", "neatly arranged",
               "slow to load", "full of old threads", "easy to search", "brightly coloured")
SNACKS = ("a cup of tea", "a mug of coffee", "a glass of water", "a bottle of juice", "a bowl of soup")


class _Draw:
    """Random picks for one document; keeps the domain and protagonists fixed across sentences."""

    def __init__(self, rng: random.Random, world: _World):
        self.rng = rng
        self.world = world
        self.domain = rng.choice(world.domains)
        self.name, self.name2, self.name3 = rng.sample(world.names, 3)
        self.place = rng.choice(self.domain.places)

    def slots(self) -> dict[str, str]:
        """A fresh set of slot values; the document-level ones stay the same."""
        rng, d = self.rng, self.domain
        item, item2, item3 = rng.sample(d.items, 3)
        place2 = rng.choice(d.places)
        if place2 == self.place and len(d.places) > 1:
            place2 = d.places[(d.places.index(place2) + 1) % len(d.places)]
        role, role2 = rng.sample(d.people, 2)
        adjectives = ADJ_DIGITAL if d.digital else ADJ_PHYSICAL
        adj, adj2 = rng.sample(adjectives, 2)
        many = _plural(item)
        defect = rng.choice(d.defects)
        return {
            "name": self.name, "name2": self.name2, "name3": self.name3,
            "place": self.place, "place2": place2,
            "by_place2": f"{'in' if d.digital else 'by'} the {place2}",
            "item": item, "item2": item2, "item3": item3,
            "a_item": _some(item), "a_item2": _some(item2), "a_item3": _some(item3),
            "item_is": "are" if many else "is", "item_was": "were" if many else "was",
            "item_s": "" if many else "s", "it": "they" if many else "it",
            "It": "They" if many else "It", "it_obj": "them" if many else "it",
            "defect": _plural_verb_phrase(defect) if many else defect,
            "role": role, "role2": role2, "a_role": _a(role), "a_role2": _a(role2),
            "tool": rng.choice(d.tools) if d.tools else role,
            "goal": rng.choice(d.goals),
            "pastime": rng.choice(d.pastimes) if d.pastimes else "reading the news",
            "dom_a": d.label_a, "dom_the": d.label_the,
            "day": rng.choice(DAYS), "clock": rng.choice(CLOCK), "clock2": rng.choice(CLOCK),
            "part": rng.choice(PARTS), "weather": rng.choice(WEATHER), "forecast": rng.choice(FORECAST),
            "minutes": rng.choice(MINUTES), "adj": adj, "adj2": adj2, "snack": rng.choice(SNACKS),
        }

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

DESC_OPEN = (
    "The {place} at {dom_the} is {adj} and {adj2}.",
    "At {dom_a}, the {place} is usually {adj}, and many people pass through it each day.",
    "This is a description of the {place} at {dom_a}.",
    "Most mornings, the {place} at {dom_the} is {adj}.",
    "Anyone who walks into the {place} at {dom_the} notices first how {adj} it is.",
    "The {place} is one of the places people use most at {dom_a}.",
)
DESC_ITEMS_PHYSICAL = (
    "{a_item} {item_is} kept on a shelf near the door.",
    "In one corner there {item_is} {a_item}, and beside {it_obj} {a_item2}.",
    "The {item} {item_is} kept in a box under the window.",
    "Someone has left {a_item} on the table next to {a_item2}.",
    "Along the back wall are {a_item}, {a_item2} and {a_item3}.",
    "The {item} hang{item_s} from a hook by the entrance.",
    "A label on the cupboard says that the {item} and the {item2} are stored inside.",
    "On a low bench there {item_is} {a_item}, still in a case.",
    "Next to the window there is a tall cupboard that holds the {item} and the {item2}.",
)
DESC_ITEMS_DIGITAL = (
    "The {item} is pinned at the top of the {place}.",
    "Near the bottom of the list is the {item}, last changed on {day}.",
    "Inside, there is {a_item}, {a_item2} and {a_item3}.",
    "The {item} sits in a folder next to the {item2}.",
    "Several people have the {item} open at the same time.",
    "A link to the {item} is shared at the start of every week.",
    "The newest file in the {place} is the {item}, added at {clock}.",
)
DESC_PEOPLE = (
    "{name}, {a_role}, often comes in {part} to {goal}.",
    "{name} usually works there {part}, mostly trying to {goal}.",
    "{name} and {name2} often meet there on {day}s.",
    "{a_role} named {name2} keeps a list of everything that needs doing.",
    "{name} uses the {item} most days and puts {it_obj} back before leaving.",
    "On {day}s, {name2} arrives at {clock} and stays until {clock2}.",
    "The {role} stops by {part} to check on the {item}.",
    "{name3} sometimes borrows the {item} and returns {it_obj} the same afternoon.",
)
DESC_PASTIME = (
    "When there is a quiet moment, {name2} can often be found {pastime}.",
    "Some people spend their breaks {pastime}.",
    "{name3} likes {pastime} once the work is done.",
)
DESC_ATMOSPHERE_PHYSICAL = (
    "A clock ticks on the wall above the door.",
    "Sunlight comes through the tall windows and falls across the floor.",
    "The floor was swept earlier and still smells faintly of soap.",
    "A radio plays quietly in the corner.",
    "The lights hum overhead, and the heating clicks on and off.",
    "There are hooks for coats by the entrance and a mat for wet shoes.",
    "Outside it is {weather}, and the windows show it clearly.",
    "The room feels {adj} today, and voices carry in from outside.",
)
DESC_ATMOSPHERE_DIGITAL = (
    "New messages appear every few minutes.",
    "A small green dot shows who is online.",
    "The page takes a moment to load on older computers.",
    "Most of the activity happens between {clock} and {clock2}.",
    "Old posts are moved into an archive at the end of each month.",
    "Outside it is {weather}, though nobody in the {place} would know it.",
)
DESC_CLOSE = (
    "By the end of the day, the {place} is {adj} again.",
    "Later, someone switches off the lights and locks the door.",
    "By evening, the last person has gone home and the {place} is empty.",
    "The same pattern repeats the next morning.",
)
DESC_CLOSE_DIGITAL = (
    "By the end of the day, the {place} is {adj} again.",
    "By evening, the last person has logged off and the {place} is still.",
    "The same pattern repeats the next morning.",
)


def _description(draw: _Draw, target: int) -> str:
    digital = draw.domain.digital
    pools = [
        DESC_ITEMS_DIGITAL if digital else DESC_ITEMS_PHYSICAL,
        DESC_PEOPLE,
        DESC_ATMOSPHERE_DIGITAL if digital else DESC_ATMOSPHERE_PHYSICAL,
    ]
    if draw.domain.pastimes:
        pools.append(DESC_PASTIME)
    parts = _grow(draw, [draw.fill(DESC_OPEN)], pools, target,
                  DESC_CLOSE_DIGITAL if digital else DESC_CLOSE)
    if len(parts) > 5:
        cut = len(parts) // 2
        return " ".join(parts[:cut]) + "\n\n" + " ".join(parts[cut:])
    return " ".join(parts)


# --- how-to steps ------------------------------------------------------------------------------

HOWTO_TITLE = (
    "How to {goal}.",
    "How to set up the {place} for the day.",
    "How to clean and store the {item}.",
    "Steps for getting the {place} ready before {clock}.",
    "A short guide to moving the {item} to the {place2}.",
    "How to check the {item} before use.",
)
HOWTO_TITLE_DIGITAL = (
    "How to {goal}.",
    "How to tidy the {place}.",
    "How to update the {item}.",
    "Steps for sharing the {item} with the {role}.",
    "A short guide to moving the {item} into the {place2}.",
)
HOWTO_INTRO = (
    "This guide is for anyone who works in the {place} at {dom_a}.",
    "Items needed: the {item}, the {item2} and the {item3}.",
    "The job takes about {minutes} minutes and is easier with two people.",
    "These steps were written by {name}, {a_role}, after doing the job many times.",
)
HOWTO_PHYSICAL = (
    (
        "Fetch the {item} from the {place2}.",
        "Open the windows in the {place} to let in some air.",
        "Clear a space on the table for the {item}.",
        "Check that the {item} {item_is} clean and dry.",
        "Find the list of jobs pinned by the door of the {place}.",
    ),
    (
        "Place the {item} on a flat, steady surface.",
        "Wipe the {item} with a damp cloth and let {it_obj} dry.",
        "Carry the {item} over to the {place} and set {it_obj} down by the wall.",
        "Line up the {item} next to the {item2}.",
        "Write the date on a label and stick it to the {item}.",
        "Ask the {role} to look over the {item} before going on.",
        "Count the parts of the {item} and note the number on the sheet.",
        "Move the {item2} out of the way so there is room to work.",
    ),
    (
        "Put the {item} back where {it} came from.",
        "Store the {item} in the cupboard by the entrance.",
        "Sweep the floor around the table.",
        "Switch off the main lights and close the door of the {place}.",
        "Tick the job off the list by the door.",
    ),
)
HOWTO_DIGITAL = (
    (
        "Open the {place} and find the {item}.",
        "Make a copy of the {item} before changing anything.",
        "Rename the copy so that the name includes the date.",
    ),
    (
        "Update the figures in the {item}.",
        "Move the {item} into the {place2}.",
        "Sort the files in the {place} by date, newest first.",
        "Add a short note at the top of the {item} saying what changed.",
        "Archive the old version of the {item2}.",
        "Ask the {role} to read through the {item} once.",
    ),
    (
        "Close the {item} and check that the changes were saved.",
        "Send a link to the {item} to the {role}.",
        "Refresh the page and confirm that the {item} appears in the list.",
    ),
)
HOWTO_TIPS = (
    "Keeping the {item} in the same place each time makes {it_obj} easy to find.",
    "When everything is done, tell the {role} so the list can be updated.",
    "If anything is missing, {name} usually knows where to look.",
    "The whole job is normally finished before {clock}.",
    "Doing the steps in this order saves about {minutes} minutes.",
)


def _howto(draw: _Draw, target: int) -> str:
    """Numbered steps in a fixed order of phases (prepare, work, finish) so the sequence makes sense."""
    digital = draw.domain.digital
    rng = draw.rng
    slots = draw.slots()
    title = rng.choice(HOWTO_TITLE_DIGITAL if digital else HOWTO_TITLE).format(**slots)
    intro = list(dict.fromkeys(rng.choice(HOWTO_INTRO).format(**slots) for _ in range(rng.randint(1, 2))))
    prepare, work, finish = (rng.sample(p, len(p)) for p in (HOWTO_DIGITAL if digital else HOWTO_PHYSICAL))
    if digital:
        prepare = list(reversed(HOWTO_DIGITAL[0]))
    tip = rng.choice(HOWTO_TIPS).format(**slots)
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

CAUSAL_OPEN = (
    "{name} was in the {place} on {day}, as usual for {dom_the}.",
    "Early on {day}, {name} went to the {place} to {goal}.",
    "It was {weather} on {day}, and {name} had arrived at the {place} by {clock}.",
    "{name}, {a_role}, spent most of {day} in the {place}.",
)
CAUSAL_PHYSICAL = (
    "{name} left the {item} near the edge of a table. When a door slammed, the table shook and the "
    "{item} slid off onto the floor. The noise made everyone look up. After that, the {item} {item_was} "
    "kept on a lower shelf.",
    "The rain had been heavy all night, so the path outside the {place} was covered in puddles. "
    "{name} carried the {item} across in a cardboard box, and the bottom of the box got soaked. "
    "Because the cardboard went soft, the {item} slipped through it and landed in the water.",
    "{name} found that the {item} {defect}. Because of this, the {item} {item_was} set aside and {name} "
    "used the {item2} instead. Later the {role} sent the {item} away to be repaired, and {it} came back "
    "a week later.",
    "The bus was twenty minutes late because of roadworks, so {name} reached the {place} after {clock}. "
    "The {item} {item_was} still locked in a cupboard, so {name} waited until the {role} arrived with "
    "the key.",
    "{name} knocked over {snack} while reaching for the {item}. The drink spread across the table and "
    "soaked a pile of papers, so {name} laid them out by the window. By the afternoon they were dry "
    "but wrinkled.",
    "A gust of wind blew the door of the {place} open, and a stack of leaflets scattered across the "
    "floor. {name} closed the door, propped the {item} against it, and gathered the leaflets up again.",
    "The heating in the {place} had been on since dawn, so the room grew very warm. A bar of chocolate "
    "in {name}'s bag melted, and some of it ended up on the {item}. {name} wiped {it_obj} clean with "
    "warm water.",
    "{name} stacked the {item2} on top of the {item}. The pile was taller than it looked, so when "
    "{name2} opened the cupboard, the top of it wobbled and fell. Since then, the two have been stored "
    "side by side.",
    "A fuse blew in the {place}, so the lights went out for about {minutes} minutes. {name} could not "
    "find the {item} in the dark and had to wait until the power came back.",
    "The ground outside was icy, so {name} walked slowly with the {item}. The trip to the {place2} "
    "took twice as long as usual, and the others started without waiting.",
    "A delivery lorry blocked the entrance for most of the morning, so the {item} could not be brought "
    "in until {clock}. As a result, everything else was moved to the afternoon.",
    "{name} forgot to close the window in the {place} before leaving. Overnight the rain blew in, and "
    "the {item} by the window {item_was} damp in the morning, so {name} dried {it_obj} with a towel.",
)
CAUSAL_DIGITAL = (
    "The internet connection dropped for {minutes} minutes, so the {item} did not finish uploading. "
    "{name} waited, tried again, and this time the upload completed. Because of the delay, the rest of "
    "the work slipped to the afternoon.",
    "{name} found that the {item} {defect}. Because of this, the file was moved out of the {place} and "
    "the {role} was asked to look at it. A new version was ready by {clock}.",
    "Two people edited the {item} at the same time, so some changes were saved twice. {name} compared "
    "the versions line by line and merged them into one copy.",
    "The {place} was moved to a new server over the weekend. Because the links changed, the {item} "
    "could not be found on {day} morning until {name} updated the bookmarks.",
    "A power cut at {clock} shut down {name}'s computer, and the {item2} had not been saved. Since then, "
    "{name} saves every few minutes.",
    "The {item} grew so large that it took a full minute to open. {name} split it into two smaller "
    "files, and after that each part opened almost at once.",
    "A software update restarted the machines during the night, so the {item} was closed in the "
    "morning. {name} opened it again and found the last change still there.",
    "The clocks went forward on Sunday, so the reminder for the {item} arrived an hour early. {name} "
    "moved it back to {clock} and the rest of the week ran as planned.",
)
CAUSAL_CLOSE = (
    "By {clock2}, everything in the {place} was back in order.",
    "The rest of the day passed without anything unusual.",
    "{name} went home a little later than planned.",
    "The next day, {name} told {name2} the whole story over {snack}.",
)


def _causal(draw: _Draw, target: int) -> str:
    chains = CAUSAL_DIGITAL if draw.domain.digital else CAUSAL_PHYSICAL
    parts = _grow(draw, [draw.fill(CAUSAL_OPEN)], [chains], target, CAUSAL_CLOSE)
    return "\n\n".join([" ".join(parts[:2])] + parts[2:]) if len(parts) > 3 else " ".join(parts)


# --- dialogues -----------------------------------------------------------------------------------

DIALOGUE_OPEN = (
    "{name} and {name2} were in the {place} {part}.",
    "{name} met {name2} outside the {place} on {day}.",
    "On {day}, {name} stopped by the {place} and found {name2} there.",
    "{name2} was already in the {place} when {name} came in at {clock}.",
)
DIALOGUE_TOPICS = (
    (
        ("A", "Is it still {weather} outside?"),
        ("B", "It was when I came in. The forecast says {forecast}."),
        ("A", "Then I will take a coat later."),
    ),
    (
        ("A", "Did you see the forecast for tomorrow?"),
        ("B", "Yes, it says {forecast}."),
        ("A", "That changes my plans for the afternoon."),
        ("B", "Mine too. I might stay in and read."),
    ),
    (
        ("A", "What time does the {place2} open on {day}?"),
        ("B", "At {clock}, I think, but it closes early."),
        ("A", "Then I will go in the morning."),
    ),
    (
        ("A", "Are we still meeting on {day}?"),
        ("B", "Yes, but it moved to {clock}."),
        ("A", "Thanks. I will put it in my diary."),
    ),
    (
        ("A", "Have you seen the {item}?"),
        ("B", "{It} {item_was} {by_place2} this morning, next to the {item2}."),
        ("A", "I looked there already."),
        ("B", "Then the {role} probably has {it_obj}. Try asking at {clock}."),
    ),
    (
        ("A", "Where do we keep the {item} these days?"),
        ("B", "{by_place2}, as usual."),
        ("A", "Thanks. I need {it_obj} for about {minutes} minutes."),
    ),
    (
        ("A", "What did you do at the weekend?"),
        ("B", "Mostly {pastime}."),
        ("A", "That sounds relaxing."),
        ("B", "It was. What about you?"),
        ("A", "I went for a long walk and then cooked dinner."),
    ),
    (
        ("A", "How long will it take to {goal}?"),
        ("B", "About {minutes} minutes if nothing goes astray."),
        ("A", "Then we can start after {clock}."),
    ),
    (
        ("A", "Do you know who has the {item}?"),
        ("B", "{name3} borrowed {it_obj} yesterday and will bring {it_obj} back by {clock}."),
        ("A", "Great, I can wait until then."),
    ),
    (
        ("A", "Is the bus running on time today?"),
        ("B", "It was ten minutes late this morning because of the {weather} weather."),
        ("A", "Then I will leave a little earlier."),
    ),
)
DIALOGUE_CLOSE = (
    "After that, they talked about other things for a while.",
    "Then they both went back to what they were doing.",
    "{name} waved and headed off towards the {place2}.",
    "A few minutes later, {name2} left for the {place2}.",
)
_SAID = {"A": ("said", "added"), "B": ("said", "replied", "answered")}


def _dialogue(draw: _Draw, target: int) -> str:
    rng = draw.rng
    script = rng.random() < 0.5
    lines = [draw.fill(DIALOGUE_OPEN)]
    ending = draw.fill(DIALOGUE_CLOSE)
    topics = [t for t in DIALOGUE_TOPICS if draw.domain.pastimes or all("{pastime}" not in u for _, u in t)]
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
            utterance = template.format(**slots)
            utterance = utterance[0].upper() + utterance[1:]
            speaker = speakers[who]
            if script:
                lines.append(f"{speaker}: {utterance}")
            elif utterance.endswith("?"):
                lines.append(f'{speaker} asked, "{utterance}"')
            else:
                lines.append(f'"{utterance[:-1]}," {speaker} {rng.choice(_SAID[who])}.')
    lines.append(ending)
    while sum(map(_words, lines)) > MAX_WORDS and len(lines) > 3:
        lines.pop(-2)
    return "\n".join(lines)


# --- facts about the world -------------------------------------------------------------------

FACTS_DOMAIN = (
    "The places at {dom_a} include the {place} and the {place2}.",
    "{a_item} {item_is} one of the things usually found at {dom_a}.",
    "The {item} and the {item2} are both kept at {dom_a}.",
    "{a_role} is one of the people who work at {dom_a}.",
    "At {dom_a}, the {role} and the {role2} often work in the same rooms.",
    "A common task at {dom_a} is to {goal}.",
    "The {place2} is part of {dom_a}.",
    "Question: Where {item_is} the {item} usually found? Answer: At {dom_a}.",
    "Question: Who might be seen at the {place}? Answer: One example is {a_role}.",
    "Question: What is the {place2}? Answer: One of the places at {dom_a}.",
    "Question: Which place does {a_role2} visit most? Answer: Often the {place2}.",
)
FACTS_PASTIME = (
    "Some people at {dom_a} spend their free time {pastime}.",
    "Question: What do people at {dom_a} do on a break? Answer: Some enjoy {pastime}.",
)
FACTS_TOOLS = (
    "The {tool} is a piece of software that handles routine work in the {place}.",
    "Question: What does the {tool} do? Answer: It helps with work in the {place2}.",
)


def _facts(draw: _Draw, target: int) -> str:
    rng = draw.rng
    d = draw.domain
    other = rng.choice([o for o in draw.world.domains if o.name != d.name])
    pools: list[Sequence[str]] = [FACTS_DOMAIN]
    if d.pastimes:
        pools.append(FACTS_PASTIME)
    if d.tools:
        pools.append(FACTS_TOOLS)
    places = rng.sample(d.places, 4)
    head = [f"Facts about {d.label_a}.",
            f"Places there include the {', the '.join(places[:-1])} and the {places[-1]}."]
    mine, theirs = rng.choice(d.items), rng.choice(other.items)
    compare = (f"The {mine} {'are' if _plural(mine) else 'is'} found at {d.label_a}, while the "
               f"{theirs} {'are' if _plural(theirs) else 'is'} found at {other.label_a}.")
    parts = _grow(draw, head, pools, target - _words(compare))
    parts.insert(min(len(parts), rng.randint(2, 4)), compare)
    while sum(map(_words, parts)) > MAX_WORDS and len(parts) > 3:
        parts.pop()
    if rng.random() < 0.5:
        return parts[0] + "\n" + "\n".join(f"- {p}" for p in parts[1:])
    return " ".join(parts)


_BUILDERS: dict[str, Callable[[_Draw, int], str]] = {
    "description": _description,
    "howto": _howto,
    "causal": _causal,
    "dialogue": _dialogue,
    "facts": _facts,
}


def general_doc(seed: int, index: int, vocab_path: str | Path | None = None) -> GeneralDoc:
    """Document ``index`` of the general corpus for ``seed``; independent of every other index."""
    world = _world(str(vocab_path or default_vocab_path()))
    rng = random.Random(seed * 1_000_003 + index + _SEED_OFFSET)
    kind = rng.choice(KINDS)
    draw = _Draw(rng, world)
    target = rng.randint(MIN_WORDS + 15, 200)
    text = _capitalise(_BUILDERS[kind](draw, target))
    return GeneralDoc(id=f"g{seed}-{index:06d}", kind=kind, text=text)


def generate_general(n: int, seed: int, vocab_path: str | Path | None = None) -> list[GeneralDoc]:
    """``n`` general documents for ``seed``; same arguments, identical output."""
    return [general_doc(seed, i, vocab_path) for i in range(n)]
