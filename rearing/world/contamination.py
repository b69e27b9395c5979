"""N-gram overlap checks between texts, so held-out items never leak into training data.

Used by the world split (scenarios vs scenarios) and later by corpus/eval stages
(eval items vs every training corpus), so everything here works on plain strings.
N-grams are stored as 64-bit blake2b hashes: compact, and stable across processes
and machines, unlike Python's salted ``hash()``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

DEFAULT_N = 13
MAX_EXAMPLES = 3

_WORD_RE = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def normalize_words(text: str) -> list[str]:
    """Lowercased words so case, punctuation and spacing can't hide a copy.

    A word is a run of ``[a-z0-9]`` with apostrophes kept only inside it
    ("don't" stays one word, quoting marks around a word are dropped);
    typographic apostrophes count as ``'``. Everything else separates words.
    """
    return _WORD_RE.findall(text.lower().translate(_APOSTROPHES))


def hash_ngram(words: Sequence[str]) -> int:
    """Stable 64-bit hash of words joined by single spaces (the index's key)."""
    data = " ".join(words).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def _window_hashes(words: list[str], n: int) -> Iterator[tuple[int, int]]:
    """(start, hash) of every n-word window; hot loop, so lookups are bound locally."""
    blake2b = hashlib.blake2b
    from_bytes = int.from_bytes
    join = " ".join
    for i in range(len(words) - n + 1):
        digest = blake2b(join(words[i : i + n]).encode("utf-8"), digest_size=8).digest()
        yield i, from_bytes(digest, "big")


class NgramIndex:
    """Set of hashed word n-grams of reference texts; each text is its own document."""

    def __init__(self, texts: Iterable[str] = (), n: int = DEFAULT_N) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.n = n
        self.docs = 0
        self._hashes: set[int] = set()
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        """Index one document; n-grams never span two added texts."""
        self.docs += 1
        words = normalize_words(text)
        self._hashes.update(h for _, h in _window_hashes(words, self.n))

    def contains(self, ngram_hash: int) -> bool:
        return ngram_hash in self._hashes

    def __contains__(self, ngram_hash: object) -> bool:
        return ngram_hash in self._hashes

    def __len__(self) -> int:
        return len(self._hashes)

    def iter_matches(self, text: str) -> Iterator[str]:
        """Distinct indexed n-grams of ``text`` in order of first appearance, lazily."""
        words = normalize_words(text)
        hashes = self._hashes
        seen: set[int] = set()
        for i, h in _window_hashes(words, self.n):
            if h in hashes and h not in seen:
                seen.add(h)
                yield " ".join(words[i : i + self.n])

    def matches(self, text: str) -> list[str]:
        """Indexed n-grams found in ``text``, as normalized space-joined words."""
        return list(self.iter_matches(text))


@dataclass
class ContaminationReport:
    """Outcome of one check: which candidates share an n-gram with the reference."""

    n: int
    reference_docs: int
    checked_docs: int
    contaminated_ids: list[str] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return len(self.contaminated_ids) / self.checked_docs if self.checked_docs else 0.0

    @property
    def ok(self) -> bool:
        return not self.contaminated_ids

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "reference_docs": self.reference_docs,
            "checked_docs": self.checked_docs,
            "contaminated": len(self.contaminated_ids),
            "fraction": self.fraction,
            "ok": self.ok,
            "contaminated_ids": list(self.contaminated_ids),
            "examples": {k: list(v) for k, v in self.examples.items()},
        }

    def summary(self) -> str:
        head = (
            f"{self.n}-gram contamination: {len(self.contaminated_ids)} of "
            f"{self.checked_docs} checked docs ({self.fraction:.1%}) share an n-gram "
            f"with {self.reference_docs} reference docs."
        )
        if self.ok:
            return head
        lines = [head]
        for cid in self.contaminated_ids[:MAX_EXAMPLES]:
            example = self.examples.get(cid, [""])[0]
            lines.append(f"  {cid}: \"{example}\"")
        if len(self.contaminated_ids) > MAX_EXAMPLES:
            lines.append(f"  ... and {len(self.contaminated_ids) - MAX_EXAMPLES} more")
        return "\n".join(lines)


def check_contamination(
    candidates: Iterable[tuple[str, Iterable[str] | str]],
    reference: Iterable[str] | NgramIndex,
    n: int = DEFAULT_N,
) -> ContaminationReport:
    """Which candidates share any n-gram with the reference texts.

    Each candidate is ``(id, text)`` or ``(id, texts)``; its texts are checked
    separately so n-grams never span two of them. Pass a prebuilt ``NgramIndex``
    to check many batches against one reference without re-hashing it.
    """
    if isinstance(reference, NgramIndex):
        if reference.n != n:
            raise ValueError(f"index was built with n={reference.n}, check asked for n={n}")
        index = reference
    else:
        index = NgramIndex(reference, n=n)
    report = ContaminationReport(n=n, reference_docs=index.docs, checked_docs=0)
    for cid, texts in candidates:
        report.checked_docs += 1
        found: list[str] = []
        for text in [texts] if isinstance(texts, str) else texts:
            for gram in index.iter_matches(text):
                if gram not in found:
                    found.append(gram)
                if len(found) >= MAX_EXAMPLES:
                    break
            if len(found) >= MAX_EXAMPLES:
                break
        if found:
            report.contaminated_ids.append(cid)
            report.examples[cid] = found
    return report
