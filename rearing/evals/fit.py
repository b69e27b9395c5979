"""Prompts that fit: which items a model can score whole, and which many-shot k it must skip.

A prompt longer than the model's context loses tokens from the left, so the model may never see
the situation it is asked about. Presets size ``train.context_length`` for their items; this is the
guard. A many-shot k with more than ``eval.max_cut_share`` of a suite's items too long is skipped for
that suite and model and reported (a subset of the shorter scenarios would not be the same test);
among the other items at most ``eval.max_cut_share`` may be cut, and more fails the stage with what
to change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rearing.evals.schema import EvalItem
from rearing.io import InputError


@dataclass(frozen=True)
class PromptFit:
    """What fits a model's ``max_length`` positions: items kept, cut and skipped, per suite."""

    max_length: int
    kept: list[EvalItem]
    cut: Counter
    skipped: Counter
    skipped_many_shot: dict[str, list[int]]
    longest: int

    def to_dict(self) -> dict:
        scored = len(self.kept)
        return {
            "max_length": self.max_length, "items_scored": scored, "longest_prompt": self.longest,
            "cut": sum(self.cut.values()), "cut_share": round(sum(self.cut.values()) / max(scored, 1), 4),
            "cut_by_suite": dict(sorted(self.cut.items())),
            "skipped_many_shot_k": self.skipped_many_shot,
            "skipped_by_suite": dict(sorted(self.skipped.items())),
        }


def prompt_fit(items: Sequence[EvalItem], needed: Sequence[int], max_length: int,
               max_cut_share: float) -> PromptFit:
    """Which ``items`` (each needing ``needed`` positions) a model of ``max_length`` positions scores.

    Raises ``InputError`` when more than ``max_cut_share`` of the scored items would be cut.
    """
    too_long = [n > max_length for n in needed]
    by_k: dict[tuple[str, int], list[bool]] = {}
    for item, long in zip(items, too_long, strict=True):
        if item.pressure == "many_shot":
            by_k.setdefault((item.suite, item.intensity), []).append(long)
    skip = {key for key, flags in by_k.items() if sum(flags) > max_cut_share * len(flags)}
    kept, cut, skipped = [], Counter(), Counter()
    for item, long in zip(items, too_long, strict=True):
        if item.pressure == "many_shot" and (item.suite, item.intensity) in skip:
            skipped[item.suite] += 1
            continue
        kept.append(item)
        cut[item.suite] += long
    skipped_k = {suite: sorted(k for s, k in skip if s == suite) for suite in sorted({s for s, _ in skip})}
    fit = PromptFit(max_length, kept, +cut, skipped, skipped_k, max(needed, default=0))
    if sum(cut.values()) > max_cut_share * max(len(kept), 1):
        share = sum(cut.values()) / len(kept)
        raise InputError([
            f"train.context_length: {sum(cut.values())} of {len(kept)} prompts ({share:.1%}) need more than the "
            f"model's {max_length} positions (the longest {fit.longest}), above eval.max_cut_share "
            f"{max_cut_share:.1%}; raise train.context_length, lower eval.max_outcomes, or shorten eval.many_shot"])
    return fit
