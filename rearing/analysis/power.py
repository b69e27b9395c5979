"""Power by simulation: how often this design would give each verdict, and how many seeds it needs.

Variance components come from the run itself (method of moments on each condition's seeds x items
table): the seed variance (training noise in a model's mean accuracy), the item variance (how items
differ; shared by every model, so it cancels in a contrast), and the seed x item residual (a model's
answers around that, which averages down over items). A simulated run draws per-seed values with
those variances, a planted true difference, and (paired designs) the correlation the run showed
between a seed's two conditions; then it applies the verdict's own rule (:func:`rearing.analysis.stats.decide`).
The simulation assumes the gate passes: it is the power of the contrast, not of the controls.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from rearing.analysis.stats import HELPS, NOTHING, VERDICTS, decide, intervals, seed_item_residual

SEED_GRID = (2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256, 384, 512)
"""Seeds per condition the search for enough seeds tries, in order."""


@dataclass(frozen=True)
class Variance:
    """The variance of one model's value (per seed), split where items allow it."""

    seed: float
    residual: float | None
    item: float | None
    items: int | None
    correlation: float
    seeds: int
    source: str

    @property
    def per_seed(self) -> float:
        """Variance of one seed's value: seed variance plus the residual averaged over its items."""
        return self.seed + (self.residual / self.items if self.residual is not None and self.items else 0.0)

    def to_dict(self) -> dict:
        return {**asdict(self), "per_seed": self.per_seed}


def item_components(first: np.ndarray, second: np.ndarray, paired: bool) -> Variance:
    """Variance components from two conditions' seeds x items tables (the same items in the same
    columns). Two-way ANOVA without replication per condition, pooled over the two by degrees of
    freedom; negative estimates are set to 0."""
    seed_parts, residual_parts, item_parts, weights = [], [], [], []
    for matrix in (np.asarray(first, dtype=float), np.asarray(second, dtype=float)):
        n, items = matrix.shape
        residual = seed_item_residual(matrix)
        if residual is None:
            continue
        rows, cols = np.nanmean(matrix, axis=1), np.nanmean(matrix, axis=0)
        seed_parts.append(max(0.0, float(np.var(rows, ddof=1) - residual / items)))
        item_parts.append(max(0.0, float(np.var(cols, ddof=1) - residual / n)))
        residual_parts.append(float(residual))
        weights.append(n - 1)
    if not weights:
        return Variance(0.0, None, None, None, 0.0, min(len(first), len(second)), "too few seeds or items")
    w = np.asarray(weights, dtype=float) / sum(weights)
    return Variance(seed=float(w @ seed_parts), residual=float(w @ residual_parts), item=float(w @ item_parts),
                    items=int(np.asarray(first).shape[1]),
                    correlation=_correlation(np.nanmean(first, axis=1), np.nanmean(second, axis=1), paired),
                    seeds=min(len(first), len(second)), source="seeds x items (method of moments)")


def model_components(first: np.ndarray, second: np.ndarray, paired: bool) -> Variance:
    """For a model-level metric (the composite): the pooled variance over seeds, not split."""
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    parts = [(len(v) - 1, float(np.var(v, ddof=1))) for v in (first, second) if len(v) >= 2]
    pooled = sum(df * v for df, v in parts) / sum(df for df, _ in parts) if parts else 0.0
    return Variance(seed=pooled, residual=None, item=None, items=None,
                    correlation=_correlation(first, second, paired), seeds=min(len(first), len(second)),
                    source="per-seed values (model-level metric)")


CORRELATION_SEEDS = 10
"""Seeds a paired design needs before the power simulation credits it with a correlation between a seed's
two conditions: from fewer, a chance correlation near 1 is common and would shrink the simulated
variance of the differences many times over."""


def _correlation(first: np.ndarray, second: np.ndarray, paired: bool) -> float:
    """The correlation of a seed's values across the two conditions (paired designs with enough seeds;
    else 0, which only makes the simulation conservative), kept in [0, 0.9]."""
    if (not paired or len(first) != len(second) or len(first) < CORRELATION_SEEDS or np.std(first) == 0
            or np.std(second) == 0):
        return 0.0
    return float(np.clip(np.corrcoef(first, second)[0, 1], 0.0, 0.9))


def simulate_calls(variance: Variance, effect: float, seeds: int, paired: bool, alpha: float, sesoi: float,
                   simulations: int, rng: np.random.Generator) -> np.ndarray:
    """The verdict of ``simulations`` simulated runs with ``seeds`` seeds per condition."""
    rho = variance.correlation if paired else 0.0
    shared = rng.normal(size=(simulations, seeds))
    own = rng.normal(size=(2, simulations, seeds))
    sd = np.sqrt(variance.per_seed)
    first = effect + sd * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * own[0])
    second = sd * (np.sqrt(rho) * shared + np.sqrt(1 - rho) * own[1])
    return decide(intervals(first, second, paired, alpha), sesoi)


def power_table(variance: Variance, seeds: int, paired: bool, alpha: float, sesoi: float, simulations: int,
                target: float, max_seeds: int, seed: int) -> dict:
    """The probability of each verdict at true effects 0, SESOI/2, SESOI and 2 SESOI with this design's
    seeds, and the seeds per condition that would give ``target`` power: to call 'structure helps' when
    the true effect is the SESOI, and 'structure adds nothing' when it is 0."""
    if variance.per_seed <= 0:
        return {"variance": variance.to_dict(), "rows": [], "seeds_to_detect": None, "seeds_to_confirm_null": None,
                "problem": "no variance between seeds was seen, so none can be simulated"}
    rng = np.random.default_rng(seed)
    rows = []
    for label, effect in (("0", 0.0), ("SESOI/2", sesoi / 2), ("SESOI", sesoi), ("2 SESOI", 2 * sesoi)):
        calls = simulate_calls(variance, effect, max(seeds, 2), paired, alpha, sesoi, simulations, rng)
        rows.append({"effect": label, "true_difference": effect,
                     **{v: float(np.mean(calls == v)) for v in VERDICTS}})

    def enough(effect: float, wanted: str) -> int | None:
        for n in (n for n in SEED_GRID if n <= max_seeds):
            calls = simulate_calls(variance, effect, n, paired, alpha, sesoi, simulations, rng)
            if np.mean(calls == wanted) >= target:
                return n
        return None

    return {"variance": variance.to_dict(), "seeds": seeds, "simulations": simulations, "target": target,
            "rows": rows, "seeds_to_detect": enough(sesoi, HELPS), "seeds_to_confirm_null": enough(0.0, NOTHING),
            "max_seeds": max_seeds, "problem": None}
