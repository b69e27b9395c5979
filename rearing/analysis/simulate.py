"""Results with a known truth: what the instrument is validated on.

A simulated run answers the same items in every model. Item ``i`` of a model of condition ``c`` and
seed ``s`` is right with probability ``base + item_i + effect_c + seed_cs + interaction_ci`` (clipped
to [0.01, 0.99]): item effects shared by every model, seed effects drawn per model (or shared by a
seed's conditions, ``seed_correlation``), and an optional condition x item interaction (how much the
condition effect differs between items; mean 0 over the population of items). The truth on the
accuracy scale, over the population of items, is ``effect_c``, exactly, while the probabilities stay
inside the clip (the defaults keep them there).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def simulate_results(effects: Mapping[str, float], seeds: int, items: int, rng: np.random.Generator, *,
                     suite: str = "hidden", base: float = 0.6, item_spread: float = 0.2, seed_sd: float = 0.03,
                     seed_correlation: float = 0.0, interaction_sd: float = 0.0) -> pd.DataFrame:
    """A results table (condition, seed, suite, item_id, correct) for ``effects`` (condition -> true
    effect on accuracy) with ``seeds`` seeds per condition and ``items`` items."""
    item_effects = rng.uniform(-item_spread, item_spread, size=items)
    shared = rng.normal(0.0, seed_sd, size=seeds)
    frames = []
    for condition, effect in effects.items():
        own = rng.normal(0.0, seed_sd, size=seeds)
        seed_effects = np.sqrt(seed_correlation) * shared + np.sqrt(1 - seed_correlation) * own
        interaction = rng.normal(0.0, interaction_sd, size=items) if interaction_sd else np.zeros(items)
        p = np.clip(base + (item_effects + interaction)[None, :] + effect + seed_effects[:, None], 0.01, 0.99)
        correct = rng.random(p.shape) < p
        frames.append(pd.DataFrame({
            "condition": condition, "seed": np.repeat(np.arange(seeds), items), "suite": suite,
            "item_id": np.tile([f"{suite}.{i}" for i in range(items)], seeds), "correct": correct.ravel()}))
    return pd.concat(frames, ignore_index=True)
