"""The token-stream artifact: what the trainer consumes, in the order it must consume it.

A stream directory holds ``tokens.bin`` (all documents back to back, EOS after each),
``offsets.npy`` (token index where each document starts), ``private.npy`` (token ranges marked as
private reasoning, shape ``(n, 2)``), ``docs.jsonl`` (the documents, same order) and ``meta.json``
(dtype and phases as token ranges). The corpus stage writes one per condition; training writes one
when it re-tokenizes for a checkpoint's own tokenizer, and the evals write them for attack data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import Field

from rearing.io import atomic_open, read_json, read_jsonl, write_json_atomic, write_jsonl_atomic
from rearing.world.schema import Record

TOKENS_FILE = "tokens.bin"
OFFSETS_FILE = "offsets.npy"
PRIVATE_FILE = "private.npy"
DOCS_FILE = "docs.jsonl"
META_FILE = "meta.json"
STREAM_FILES = (TOKENS_FILE, OFFSETS_FILE, PRIVATE_FILE, DOCS_FILE, META_FILE)
"""A stream directory's files; ``meta.json`` is written last, so its presence marks a finished stream."""


def stream_written(path: str | Path) -> bool:
    """Whether a finished token stream is in ``path``."""
    return (Path(path) / META_FILE).is_file()


class StreamDoc(Record):
    """A training document. ``private`` lists character spans of private reasoning."""

    id: str
    kind: str
    scenario_id: str | None = None
    stage: int | None = None
    difficulty: float | None = None
    phase: str
    text: str
    private: list[tuple[int, int]] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list, description="The content units it carries (its ledger).")


Encoder = Callable[[str], tuple[list[int], list[tuple[int, int]]]]
"""Text -> (token ids, character offsets per token)."""


def token_spans(char_offsets: Sequence[tuple[int, int]], char_spans: Sequence[tuple[int, int]]) -> list[
        tuple[int, int]]:
    """Token ranges covering the given character spans (a token overlapping a span is inside it)."""
    ranges = []
    for lo, hi in char_spans:
        inside = [i for i, (a, b) in enumerate(char_offsets) if a < hi and b > lo]
        if inside:
            ranges.append((inside[0], inside[-1] + 1))
    return ranges


def tokenizer_fingerprint(tokenizer) -> str:
    """sha256 of a Hugging Face fast tokenizer's full definition (vocabulary, merges, specials)."""
    return hashlib.sha256(tokenizer.backend_tokenizer.to_str().encode("utf-8")).hexdigest()


def hf_encoder(tokenizer) -> Encoder:
    """An encoder from a Hugging Face fast tokenizer (any checkpoint's own tokenizer)."""

    def encode(text: str) -> tuple[list[int], list[tuple[int, int]]]:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        return list(enc["input_ids"]), [tuple(o) for o in enc["offset_mapping"]]

    return encode


def write_token_stream(out: Path, docs: Sequence[StreamDoc], ids: Sequence[Sequence[int]], vocab_size: int,
                       private: dict[str, list[tuple[int, int]]] | None = None,
                       meta: dict | None = None) -> dict:
    """Write ``docs`` (with their token ids, EOS included) as a stream; returns the meta written.

    ``private`` maps a document id to token ranges relative to the document's first token.
    """
    out.mkdir(parents=True, exist_ok=True)
    dtype = np.uint16 if vocab_size <= np.iinfo(np.uint16).max else np.uint32
    offsets, phases, ranges, position = [], [], [], 0
    private = private or {}
    with atomic_open(out / TOKENS_FILE, "wb") as handle:
        for doc, doc_ids in zip(docs, ids, strict=True):
            offsets.append(position)
            handle.write(np.asarray(doc_ids, dtype=dtype).tobytes())
            ranges += [(position + a, position + b) for a, b in private.get(doc.id, [])]
            if not phases or phases[-1]["name"] != doc.phase:
                phases.append({"name": doc.phase, "start_token": position, "start_doc": len(offsets) - 1})
            position += len(doc_ids)
    for phase, following in zip(phases, phases[1:] + [None], strict=True):
        phase["end_token"] = following["start_token"] if following else position
        phase["end_doc"] = following["start_doc"] if following else len(offsets)
    with atomic_open(out / OFFSETS_FILE, "wb") as handle:
        np.save(handle, np.asarray(offsets, dtype=np.int64), allow_pickle=False)
    with atomic_open(out / PRIVATE_FILE, "wb") as handle:
        np.save(handle, np.asarray(ranges, dtype=np.int64).reshape(-1, 2), allow_pickle=False)
    write_jsonl_atomic(out / DOCS_FILE, docs)
    written = {**(meta or {}), "dtype": np.dtype(dtype).name, "tokens": position, "documents": len(offsets),
               "phases": phases}
    write_json_atomic(out / META_FILE, written)
    return written


def encode_stream(out: Path, docs: Sequence[StreamDoc], encode: Encoder, eos_id: int, vocab_size: int,
                  meta: dict | None = None) -> dict:
    """Tokenize documents with ``encode`` (EOS appended) and write them as a stream."""
    ids, private = [], {}
    for doc in docs:
        doc_ids, char_offsets = encode(doc.text)
        ids.append(doc_ids + [eos_id])
        if doc.private:
            private[doc.id] = token_spans(char_offsets, doc.private)
    return write_token_stream(out, docs, ids, vocab_size, private, meta)


@dataclass
class TokenStream:
    """A stream opened for reading; tokens are memory-mapped, never copied whole."""

    path: Path
    tokens: np.ndarray
    offsets: np.ndarray
    private: np.ndarray
    meta: dict

    @classmethod
    def open(cls, path: str | Path) -> TokenStream:
        path = Path(path)
        missing = [f for f in (TOKENS_FILE, OFFSETS_FILE, META_FILE) if not (path / f).exists()]
        if missing:
            raise FileNotFoundError(f"{path}: not a token stream (missing {', '.join(missing)})")
        meta = read_json(path / META_FILE)
        tokens = np.memmap(path / TOKENS_FILE, dtype=np.dtype(meta["dtype"]), mode="r")
        offsets = np.load(path / OFFSETS_FILE, allow_pickle=False)
        private_path = path / PRIVATE_FILE
        private = (np.load(private_path, allow_pickle=False) if private_path.exists()
                   else np.zeros((0, 2), dtype=np.int64))
        return cls(path, tokens, offsets, private, meta)

    def __len__(self) -> int:
        return int(self.tokens.shape[0])

    def phase_range(self, name: str) -> tuple[int, int]:
        """Token range of a named corpus phase; ``all`` is the whole stream."""
        if name == "all":
            return 0, len(self)
        for phase in self.meta.get("phases", []):
            if phase["name"] == name:
                return int(phase["start_token"]), int(phase["end_token"])
        names = ", ".join(p["name"] for p in self.meta.get("phases", []))
        raise ValueError(f"{self.path}: no phase '{name}' (phases: {names or 'none'}, or 'all')")

    def private_mask(self, start: int, end: int) -> np.ndarray:
        """Boolean mask over tokens ``[start, end)``: True where a token is private reasoning."""
        mask = np.zeros(end - start, dtype=bool)
        if len(self.private):
            hits = self.private[(self.private[:, 0] < end) & (self.private[:, 1] > start)]
            for a, b in hits:
                mask[max(a, start) - start: min(b, end) - start] = True
        return mask

    def docs(self) -> list[StreamDoc]:
        return read_jsonl(self.path / DOCS_FILE, StreamDoc)

    def doc_index(self, positions: np.ndarray) -> np.ndarray:
        """Index of the document containing each token position."""
        return np.searchsorted(self.offsets, positions, side="right") - 1
