"""Model-raising transforms: functions from document text to document text, composable.

* ``first_person``: the text's protagonist (the first person named in it, or a given name)
  becomes "I", with the verbs agreeing (``rearing.corpus.person``);
* ``lived``: the information is recontextualized as lived experience: met, tried, learned from. The
  text gets an opening line, a closing line or both, and sometimes one sentence a lead-in ("I soon
  learned that ...");
* ``social``: the information arises in a conversation with another person: a few consecutive
  sentences become a short exchange (an opening line, the sentences as things I said or was told,
  in quotation marks with varied speech tags, sometimes a reply between them), and the rest stays
  narration. At most half of a text's sentences are quoted; a sentence that already holds speech
  (a quote, a script line), a title and a list item never are. A text with nothing to quote gets a
  line saying it was told to someone instead.

The transforms keep the text's structure (titles, paragraphs, lists, script lines) and its words:
they add lines around it, and change only the full stop of a quoted sentence that a tag follows
('"The job takes an hour," I said.') and the first letter of a sentence given a lead-in. Each draws
from the ``rng`` it is given only, so the same rng gives the same text.

These template versions work on generated text (written by name, one clause pattern); arbitrary
text goes through the LLM backend (``rearing corpus transform --backend llm``) with the same names.
Their phrasings live in ``data/transforms.yaml`` so they can be reworded without touching Python.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rearing.corpus.person import acts_as_subject, is_third_person_verb, to_first_person
from rearing.datafile import DataRecord, load_data, phrasing_list
from rearing.text import capitalize_first, lower_first

Transform = Callable[[str, random.Random, Sequence[str]], str]
"""``(text, rng, names)`` -> text; ``names`` are people the transform may introduce or recognise."""

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
_NAME = re.compile(r"\b[A-Z][a-z]+\b")

Fixed = phrasing_list()
Partner = phrasing_list("name")
Said = phrasing_list("name", "sentence", required=("sentence",))
Split = phrasing_list("name", "first", "second", required=("first", "second"))


class LivedPhrasings(DataRecord):
    open: Fixed
    close: Fixed
    step: Fixed


class SpeakerPhrasings(DataRecord):
    """How one speaker's words are tagged: tag first, quote first, a question, tag inside."""

    before: Said
    after: Said
    ask: Said
    split: Split


class SocialPhrasings(DataRecord):
    open: Partner
    retold: Partner
    close: Partner
    react: Partner
    me: SpeakerPhrasings
    them: SpeakerPhrasings


class TransformPhrasings(DataRecord):
    """``data/transforms.yaml``: the phrasings of the ``lived`` and ``social`` transforms."""

    lived: LivedPhrasings
    social: SocialPhrasings


def load_transform_phrasings(path: str | Path | None = None) -> TransformPhrasings:
    """The transforms' phrasings from ``path``; the packaged file by default."""
    return load_data(TransformPhrasings, "rearing.corpus", "data/transforms.yaml", path)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


NOT_NAMES = frozenset({
    "The", "A", "An", "It", "I", "This", "That", "These", "Those", "There", "Then", "When",
    "While", "If", "But", "And", "So", "Tip", "Step", "First", "Next", "Finally", "After",
    "Before", "Once", "Today", "Later", "Now", "Here", "Yes", "No", "Thanks",
    "Question", "Answer", "Facts", "Steps", "Places", "Some", "Most", "Items", "How", "What", "Where",
    "Which", "Who", "Why", "Note", "Me", "My",
})


def protagonist(text: str, names: Sequence[str]) -> str | None:
    """Who 'I' becomes: the first known name, else the most mentioned capitalised word (twice or more,
    once at least inside a sentence or before a verb, so a label like "Question:" opening each line or
    "Some" in "Some people" is not a person)."""
    found = _NAME.findall(text)
    known = set(names)
    first_known = next((m for m in found if m in known), None)
    if first_known:
        return first_known
    inside = {m.group(1) for m in re.finditer(r"(?:[a-z,;]) ([A-Z][a-z]+)\b", text)}
    inside |= {m.group(1) for m in re.finditer(r"\b([A-Z][a-z]+) ([a-z]+)\b", text) if acts_as_subject(m.group(2))}
    counts = Counter(m for m in found if m not in NOT_NAMES and m in inside)
    best = max(counts.items(), key=lambda kv: (kv[1], -found.index(kv[0])), default=None)
    return best[0] if best and best[1] >= 2 else None


def first_person(text: str, rng: random.Random, names: Sequence[str]) -> str:
    name = protagonist(text, names)
    return to_first_person(text, name) if name else text


# --- the text's structure -------------------------------------------------------------------------

_LIST_ITEM = re.compile(r"\s*(?:[-*•]|\d+[.)])\s")
_SCRIPT_LINE = re.compile(r"[A-Z][\w'’-]*(?: [A-Z][\w'’-]*)?:\s")
_QUOTES = ('"', "“", "”")
_FIRST_PERSON = re.compile(r"\b(?:I|me|my|My|Me|myself|mine|we|We|our|Our|us)\b")
_STORY = re.compile(r"\b(?:was|were|had|did|went|came|got|found|left|took|told|made|could)\b")
_SUBJECT_OPENERS = frozenset({"The", "A", "An", "There", "It", "Some", "Most", "Several", "This", "These",
                              "Those", "Everyone", "Nobody", "Many", "Two", "New", "Old"})
_TIME_OPENERS = ("A few", "The next", "The same", "The day", "The rest", "A week", "A day", "A little")
_SPLIT = re.compile(r", (?=(?:so|and|but|because|while|then|though|although) [a-z])")


@dataclass
class _Sentence:
    line: int
    text: str
    quotable: bool
    """A plain sentence of running text: no title, list item or script line, no speech in it."""


@dataclass
class _Doc:
    lines: list[str]
    kinds: list[str]
    """Per line: 'blank', 'title', 'list', 'script' or 'prose'."""
    units: list[_Sentence]

    @property
    def talk(self) -> bool:
        """Whether the text already holds speech (quotes or a script)."""
        return any(k == "script" for k in self.kinds) or any(q in line for line in self.lines for q in _QUOTES)

    def first_is_structure(self) -> bool:
        first = next((k for k in self.kinds if k != "blank"), "prose")
        return first != "prose"

    def last_is_structure(self) -> bool:
        last = next((k for k in reversed(self.kinds) if k != "blank"), "prose")
        return last != "prose"


_FINITE = frozenset(["is", "are", "was", "were", "has", "have", "had", "can", "will", "would", "could", "does",
                    "do", "did", "may", "might", "must", "should", "needed"])


def _finite(line: str) -> bool:
    """Whether a line has a finite verb after its first word, or anywhere in a question (a title
    such as "Steps for getting the room ready." or "Facts about a clinic." has none)."""
    rest = line if line.rstrip().endswith("?") else (line.split(" ", 1)[1] if " " in line else "")
    words = re.findall(r"[a-z][a-z'-]*", rest.lower() if line.rstrip().endswith("?") else rest)
    return any(w in _FINITE or is_third_person_verb(w) or (w.endswith("ed") and len(w) > 4) for w in words)


def _parse(text: str, framing: frozenset[str] = frozenset()) -> _Doc:
    lines = text.strip("\n").split("\n")
    has_list = any(_LIST_ITEM.match(line) for line in lines)
    kinds = []
    for i, line in enumerate(lines):
        if not line.strip():
            kinds.append("blank")
        elif _LIST_ITEM.match(line):
            kinds.append("list")
        elif _SCRIPT_LINE.match(line):
            kinds.append("script")
        elif (has_list and len(sentences(line)) == 1 and not _finite(line)
              and (i + 1 >= len(lines) or not lines[i + 1].strip() or _LIST_ITEM.match(lines[i + 1]))):
            kinds.append("title")
        else:
            kinds.append("prose")
    units = []
    for i, (line, kind) in enumerate(zip(lines, kinds, strict=True)):
        pieces = sentences(line)
        if kind == "list" and len(pieces) > 1 and re.fullmatch(r"\d+[.)]", pieces[0]):
            pieces[:2] = [f"{pieces[0]} {pieces[1]}"]
        for s in pieces:
            quotable = (kind == "prose" and not any(q in s for q in _QUOTES) and len(s.split()) >= 4
                        and s[-1] in ".!?" and s[0].isupper() and ":" not in s and s not in framing
                        and _finite(s))
            units.append(_Sentence(i, s, quotable))
    return _Doc(lines, kinds, units)


def _rebuild(doc: _Doc, replaced: dict[int, str]) -> str:
    """The text with some units (by index) replaced; a replacement may be empty (merged away)."""
    by_line: dict[int, list[str]] = {}
    for index, unit in enumerate(doc.units):
        by_line.setdefault(unit.line, []).append(replaced.get(index, unit.text))
    lines = []
    for i, line in enumerate(doc.lines):
        if i in by_line:
            indent = line[: len(line) - len(line.lstrip())]
            lines.append(indent + " ".join(piece for piece in by_line[i] if piece))
        else:
            lines.append(line)
    return "\n".join(lines)


def _frame(text: str, doc: _Doc, before: str | None = None, after: str | None = None) -> str:
    """``before``/``after`` lines around the text: in its first/last paragraph when that is running
    text, else as a paragraph of their own."""
    if before:
        text = before + ("\n\n" if doc.first_is_structure() else " ") + text
    if after:
        text = text + ("\n\n" if doc.last_is_structure() else " ") + after
    return text


# --- lived -------------------------------------------------------------------------------------

def _steppable(unit: _Sentence, names: Sequence[str]) -> bool:
    """Whether a lead-in ("I soon learned that ...") reads well before this sentence: a plain
    statement about someone or something else that opens with its subject ("The", "There", a name)."""
    text = unit.text
    first = text.split(" ", 1)[0]
    return (unit.quotable and text.endswith(".") and not _FIRST_PERSON.search(text)
            and (first in _SUBJECT_OPENERS or first in names) and "," not in " ".join(text.split()[:5])
            and not text.startswith(_TIME_OPENERS))


def lived(text: str, rng: random.Random, names: Sequence[str],
          phrasings: TransformPhrasings | None = None) -> str:
    p = (phrasings or load_transform_phrasings()).lived
    doc = _parse(text)
    opening = rng.random() < 0.8
    closing = rng.random() < 0.7 or not opening
    stepped = [] if doc.talk else [i for i, u in enumerate(doc.units) if _steppable(u, names)]
    replaced = {}
    if stepped and rng.random() < 0.5:
        index = rng.choice(stepped)
        replaced[index] = f"{rng.choice(p.step)} {lower_first(doc.units[index].text, names)}"
    before = rng.choice(p.open) if opening else None
    after = rng.choice(p.close) if closing else None
    return _frame(_rebuild(doc, replaced), doc, before, after)


# --- social ------------------------------------------------------------------------------------

def _runs(doc: _Doc) -> list[list[int]]:
    """Maximal runs of consecutive quotable sentences on one line."""
    runs: list[list[int]] = []
    for index, unit in enumerate(doc.units):
        previous = doc.units[index - 1] if index else None
        if unit.quotable and runs and previous is not None and previous.quotable and previous.line == unit.line \
                and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        elif unit.quotable:
            runs.append([index])
    return runs


_TAG_VERBS = frozenset({"told", "said", "asked", "explained", "pointed", "put"})


def _pick(options: list[str], rng: random.Random, used: list[str], said: str, name: str, last_line: str) -> str:
    """A phrasing for a quote of ``said``: not the one used last, not one whose speech verb the quote
    already uses ('"... I told Oladare ...," I told Ana'), and without the partner's name when the
    line before has just named them; when no phrasing is left, any."""
    words = set(re.findall(r"[a-z]+", said))
    named = name in last_line
    fresh = [o for o in options if (not used or o != used[-1])
             and not (_TAG_VERBS & words & set(re.findall(r"[a-z]+", re.sub(r"\{[a-z]+\}", "", o))))
             and not (named and "{name}" in o)]
    fresh = fresh or [o for o in options if not used or o != used[-1]] or options
    choice = rng.choice(fresh)
    used.append(choice)
    return choice


def _quote(speaker: SpeakerPhrasings, group: list[str], name: str, rng: random.Random, used: list[str],
           last_line: str) -> str:
    """One quotation of ``group`` (consecutive sentences) with a tag from ``speaker``'s phrasings."""
    said = " ".join(group)
    if said.endswith("?"):
        return _pick(speaker.ask, rng, used, said, name, last_line).format(name=name, sentence=said)
    cut = _SPLIT.search(said) if len(group) == 1 else None
    if cut and said.endswith(".") and rng.random() < 0.3:
        first, second = said[:cut.start()] + ",", said[cut.end():]
        return _pick(speaker.split, rng, used, said, name, last_line).format(name=name, first=first, second=second)
    if rng.random() < 0.45:
        return _pick(speaker.before, rng, used, said, name, last_line).format(name=name, sentence=said)
    tagged = said[:-1] + "," if said.endswith(".") else said
    return _pick(speaker.after, rng, used, said, name, last_line).format(name=name, sentence=tagged)


def social(text: str, rng: random.Random, names: Sequence[str],
           phrasings: TransformPhrasings | None = None) -> str:
    everything = phrasings or load_transform_phrasings()
    p = everything.social
    in_text = set(_NAME.findall(text))
    partners = [n for n in names if n not in in_text] or list(names) or ["my friend"]
    partner = rng.choice(partners)

    def line(options: list[str]) -> str:
        return capitalize_first(rng.choice(options).format(name=partner))

    doc = _parse(text, frozenset(everything.lived.open) | frozenset(everything.lived.close))
    limit = min(4, len(doc.units) // 2)
    runs = [] if doc.talk else _runs(doc)
    if not runs or limit < 1:
        after = line(p.retold)
        if rng.random() < 0.25:
            after += " " + line(p.close)
        return _frame(text, doc, None, after)

    run = rng.choice([run for run in runs for _ in run])  # a longer run is likelier: a fuller exchange
    size = min(limit, len(run), rng.choice((1, 2, 2, 3, 3, 4)))
    start = rng.randrange(0, len(run) - size + 1)
    chosen = run[start:start + size]
    pieces = [line(p.open)]
    used: list[str] = []
    previous = None
    group: list[str] = []
    for position, index in enumerate(chosen):
        said = doc.units[index].text
        forced_me = bool(_FIRST_PERSON.search(said)) or bool(_STORY.search(said))
        if forced_me:
            speaker = "me"
        elif previous is None:
            speaker = rng.choice(("me", "them"))
        else:
            speaker = previous if rng.random() < 0.3 else ("them" if previous == "me" else "me")
        if group and speaker == previous and rng.random() < 0.5:
            group.append(said)
            continue
        if group:
            pieces.append(_quote(p.me if previous == "me" else p.them, group, partner, rng, used, pieces[-1]))
            if previous == "me" and speaker == "me" and rng.random() < 0.5:
                pieces.append(line(p.react))
        group, previous = [said], speaker
    pieces.append(_quote(p.me if previous == "me" else p.them, group, partner, rng, used, pieces[-1]))
    if rng.random() < 0.5:
        pieces.append(line(p.close))
    replaced = {index: "" for index in chosen}
    replaced[chosen[0]] = " ".join(pieces)
    return _rebuild(doc, replaced)


TRANSFORMS: dict[str, Transform] = {"first_person": first_person, "lived": lived, "social": social}


def parse_transforms(spec: str | Sequence[str]) -> list[str]:
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown or not names:
        raise ValueError(f"unknown transforms {unknown}; choose from {', '.join(TRANSFORMS)}")
    return names


def apply_transforms(text: str, spec: Sequence[str], rng: random.Random, names: Sequence[str]) -> str:
    """The transforms of ``spec`` in order, drawing from one ``rng``. The person who becomes "I" is
    no longer among the names the transforms after ``first_person`` may introduce (so "I" never
    chats with myself)."""
    hero = protagonist(text, names) if "first_person" in spec else None
    others = [n for n in names if n != hero]
    for name in spec:
        text = TRANSFORMS[name](text, rng, names if name == "first_person" else others)
    return text
