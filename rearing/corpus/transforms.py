"""Model-raising transforms: functions from document text to document text, composable.

* ``first_person``: the text's protagonist (the first person named in it, or a given name)
  becomes "I";
* ``lived``: the information is recontextualized as lived experience: met, tried, learned from;
* ``social``: the information arises in a dialogue with other people.

These template versions work on generated text (written by name, one clause pattern); arbitrary
text goes through the LLM backend (``rearing corpus transform --backend llm``) with the same names.
Their phrasings live in ``data/transforms.yaml`` so they can be reworded without touching Python.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from rearing.corpus.person import to_first_person
from rearing.datafile import DataRecord, load_data, phrasing_list
from rearing.text import lower_first

Transform = Callable[[str, random.Random, Sequence[str]], str]
"""``(text, rng, names)`` -> text; ``names`` are people the transform may introduce or recognise."""

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
_NAME = re.compile(r"\b[A-Z][a-z]+\b")

Fixed = phrasing_list()
Partner = phrasing_list("name")
Said = phrasing_list("name", "sentence", required=("sentence",))


class LivedPhrasings(DataRecord):
    open: Fixed
    close: Fixed
    step: Fixed


class SocialPhrasings(DataRecord):
    open: Partner
    say: Said
    close: Partner


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
})


def protagonist(text: str, names: Sequence[str]) -> str | None:
    """Who 'I' becomes: the first known name, else the most mentioned capitalised word (twice or more)."""
    found = _NAME.findall(text)
    known = set(names)
    first_known = next((m for m in found if m in known), None)
    if first_known:
        return first_known
    counts = Counter(m for m in found if m not in NOT_NAMES)
    best = max(counts.items(), key=lambda kv: (kv[1], -found.index(kv[0])), default=None)
    return best[0] if best and best[1] >= 2 else None


def first_person(text: str, rng: random.Random, names: Sequence[str]) -> str:
    name = protagonist(text, names)
    return to_first_person(text, name) if name else text


def lived(text: str, rng: random.Random, names: Sequence[str],
          phrasings: TransformPhrasings | None = None) -> str:
    p = (phrasings or load_transform_phrasings()).lived
    body = sentences(text)
    if len(body) > 2:
        index = rng.randrange(1, len(body))
        step = body[index]
        body[index] = f"{rng.choice(p.step)} {lower_first(step, names)}"
    return " ".join([rng.choice(p.open), *body, rng.choice(p.close)])


def social(text: str, rng: random.Random, names: Sequence[str],
           phrasings: TransformPhrasings | None = None) -> str:
    p = (phrasings or load_transform_phrasings()).social
    in_text = set(_NAME.findall(text))
    partners = [n for n in names if n not in in_text] or list(names) or ["my friend"]
    partner = rng.choice(partners)
    lines = [rng.choice(p.open).format(name=partner)]
    for sentence in sentences(text):
        lines.append(rng.choice(p.say).format(name=partner, sentence=sentence))
    lines.append(rng.choice(p.close).format(name=partner))
    return " ".join(lines)


TRANSFORMS: dict[str, Transform] = {"first_person": first_person, "lived": lived, "social": social}


def parse_transforms(spec: str | Sequence[str]) -> list[str]:
    names = [s.strip() for s in spec.split(",")] if isinstance(spec, str) else list(spec)
    unknown = [n for n in names if n not in TRANSFORMS]
    if unknown or not names:
        raise ValueError(f"unknown transforms {unknown}; choose from {', '.join(TRANSFORMS)}")
    return names


def apply_transforms(text: str, spec: Sequence[str], rng: random.Random, names: Sequence[str]) -> str:
    for name in spec:
        text = TRANSFORMS[name](text, rng, names)
    return text
