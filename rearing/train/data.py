"""Ordered, packed batches from a token stream: the data order *is* the experiment.

Nothing here shuffles. A phase's token range is cut into windows of ``context + 1`` tokens that
follow each other in the stream; when a phase has fewer steps than its slice has windows, the
windows are thinned evenly (still in stream order), and when it has more, whole ordered passes
repeat. Documents are packed back to back with their EOS separators, as the corpus wrote them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from rearing.corpus.stream import TokenStream

IGNORE = -100


def window_starts(start: int, end: int, context: int, count: int) -> np.ndarray:
    """``count`` window start positions in ``[start, end)``, non-decreasing within each pass."""
    available = (end - start - 1) // context
    if available < 1:
        raise ValueError(f"a slice of {end - start} tokens is shorter than one window of {context + 1}")
    every = start + context * np.arange(available, dtype=np.int64)
    passes, remainder = divmod(count, available)
    thinned = every[np.floor(np.linspace(0, available - 1, remainder)).astype(np.int64)] if remainder else every[:0]
    return np.concatenate([every] * passes + [thinned])


@dataclass
class PhasePlan:
    """One phase resolved against its stream: the exact windows each step consumes."""

    name: str
    stream: TokenStream
    start: int
    end: int
    steps: int
    lr: float
    batch_size: int
    context: int

    @cached_property
    def starts(self) -> np.ndarray:
        return window_starts(self.start, self.end, self.context, self.steps * self.batch_size)

    def step_windows(self, step: int) -> np.ndarray:
        """Window starts of one optimizer step (global batch, every process)."""
        return self.starts[step * self.batch_size:(step + 1) * self.batch_size]


def make_batch(stream: TokenStream, starts: np.ndarray, context: int, private_in_loss: bool
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs and next-token labels; labels on private reasoning are IGNORE when excluded."""
    rows = np.stack([np.asarray(stream.tokens[s:s + context + 1], dtype=np.int64) for s in starts])
    inputs = torch.from_numpy(rows[:, :-1].copy())
    labels = torch.from_numpy(rows[:, 1:].copy())
    if not private_in_loss and len(stream.private):
        for i, s in enumerate(starts):
            labels[i, torch.from_numpy(stream.private_mask(int(s) + 1, int(s) + context + 1))] = IGNORE
    return inputs, labels
