"""Moral-vocabulary lexicon.

The experiment needs to know where moral *talk* occurs (evaluative and normative words such as
"wrong", "duty", "honest"), separately from the consequences a text describes. This module loads
the shipped word list and finds its terms in text.

Matching rules, chosen so counts are predictable:

* case-insensitive and exact: inflections match only if listed ("rightly" is its own entry; it
  never counts as "right");
* whole words, where hyphens belong to the word: "copyright" and "right-hand" do not match
  "right", while "kind-hearted" matches only as the listed compound;
* phrases match across any run of whitespace ("fair   play");
* overlapping terms are resolved leftmost-longest, so "fair play" counts once, not also as "fair".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from rearing.datafile import package_data

_WORD = re.compile(r"[^\W_]+(?:['-][^\W_]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'"})


def default_lexicon_path() -> Path:
    """The lexicon shipped with the package."""
    return package_data("rearing.corpus", "data/lexicon.txt")


def _normalise_term(term: str) -> str:
    return " ".join(term.translate(_APOSTROPHES).lower().split())


class Lexicon:
    """An immutable set of moral terms with a single compiled matcher for fast scanning."""

    __slots__ = ("_pattern", "terms")

    def __init__(self, terms: Iterable[str]):
        normalised = frozenset(t for t in (_normalise_term(term) for term in terms) if t)
        if not normalised:
            raise ValueError("a lexicon needs at least one term")
        self.terms: frozenset[str] = normalised
        alternatives = "|".join(
            r"\s+".join(re.escape(word) for word in term.split())
            for term in sorted(normalised, key=lambda t: (-len(t), t))
        )
        self._pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)

    def __len__(self) -> int:
        return len(self.terms)

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and _normalise_term(term) in self.terms

    def __repr__(self) -> str:
        return f"Lexicon({len(self.terms)} terms)"

    def contains_moral_term(self, text: str) -> bool:
        """True if any term occurs in ``text``."""
        return self._pattern.search(text.translate(_APOSTROPHES)) is not None

    def find(self, text: str) -> list[str]:
        """Every occurrence in ``text``, in order, as the lexicon's own (lowercase) term.

        Repeats are kept so that ``len(find(text)) == count(text)``.
        """
        return [_normalise_term(m.group()) for m in self._pattern.finditer(text.translate(_APOSTROPHES))]

    def count(self, text: str) -> int:
        """Number of term occurrences in ``text`` (a phrase counts once)."""
        return sum(1 for _ in self._pattern.finditer(text.translate(_APOSTROPHES)))

    def density(self, text: str) -> float:
        """Term occurrences per word; 0.0 for text without words."""
        words = sum(1 for _ in _WORD.finditer(text.translate(_APOSTROPHES)))
        return self.count(text) / words if words else 0.0


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read a lexicon file: one term per line, ``#`` starts a comment line, blank lines ignored."""
    source = Path(path) if path is not None else default_lexicon_path()
    lines = source.read_text(encoding="utf-8").splitlines()
    return Lexicon(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
