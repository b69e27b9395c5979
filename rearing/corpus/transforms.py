"""Model-raising transforms: functions from document text to document text, composable.

* ``first_person``: the text's protagonist (the first person named in it, or a given name)
  becomes "I";
* ``lived``: the information is recontextualized as lived experience: met, tried, learned from;
* ``social``: the information arises in a dialogue with other people.

These template versions work on generated text (written by name, one clause pattern); arbitrary
text goes through the LLM backend (``rearing corpus transform --backend llm``) with the same names.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence

from rearing.corpus.person import to_first_person

Transform = Callable[[str, random.Random, Sequence[str]], str]
"""``(text, rng, names)`` -> text; ``names`` are people the transform may introduce or recognise."""

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"])")
_NAME = re.compile(r"\b[A-Z][a-z]+\b")

LIVED_OPEN = (
    "I remember when I first came across this.",
    "This is something I had to learn for myself.",
    "I did not know any of this until I lived through it.",
    "Here is how I found this out.",
    "I learned this the way most things are learned: by doing.",
)
LIVED_CLOSE = (
    "I tried it myself afterwards, and it has stayed with me.",
    "Since then I have done it many times, and each time it comes back to me.",
    "That was how I learned it, and I have not forgotten.",
    "Later I went back and checked, and it was just as I had found.",
    "I still think of that day whenever it comes up.",
)
LIVED_STEP = ("Then I noticed that", "I saw that", "I found that", "It turned out that")

SOCIAL_SAY = (
    '{name} told me, "{s}"',
    '"{s}" {name} said to me.',
    'I said to {name}, "{s}"',
    '"{s}" I explained to {name}.',
    '{name} asked me about it, and I answered, "{s}"',
    '"{s}" {name} pointed out.',
)
SOCIAL_OPEN = (
    "{name} and I talked it through.",
    "I was chatting with {name} about this.",
    "{name} came over and we got talking.",
)
SOCIAL_CLOSE = (
    '"Thanks," said {name}. "That makes sense now."',
    "{name} nodded, and we went on with the day.",
    '"I will remember that," {name} told me.',
)


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


NOT_NAMES = frozenset(
    "The A An It I This That These Those There Then When While If But And So Tip Step First Next "
    "Finally After Before Once Today Later Now Here Yes No Thanks".split()
)


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


def lived(text: str, rng: random.Random, names: Sequence[str]) -> str:
    body = sentences(text)
    if len(body) > 2:
        index = rng.randrange(1, len(body))
        step = body[index]
        body[index] = f"{rng.choice(LIVED_STEP)} {step[:1].lower() + step[1:] if not step.startswith('I ') else step}"
    return " ".join([rng.choice(LIVED_OPEN), *body, rng.choice(LIVED_CLOSE)])


def social(text: str, rng: random.Random, names: Sequence[str]) -> str:
    in_text = set(_NAME.findall(text))
    partners = [n for n in names if n not in in_text] or list(names) or ["my friend"]
    partner = rng.choice(partners)
    lines = [rng.choice(SOCIAL_OPEN).format(name=partner)]
    for sentence in sentences(text):
        lines.append(rng.choice(SOCIAL_SAY).format(name=partner, s=sentence))
    lines.append(rng.choice(SOCIAL_CLOSE).format(name=partner))
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
