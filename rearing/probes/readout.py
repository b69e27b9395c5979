"""Linear read-outs of the decision from activations, cross-validated by scenario.

Every split keeps a scenario's items together (its formats, its stripped and hidden twins), so a
probe is always tested on scenarios it never saw; a read-out that memorised scenarios scores chance.
The probe is a standardised logistic regression whose regularisation is chosen by an inner
cross-validation, itself grouped by scenario. Accuracies come per outer fold; their spread gives
the interval (a t interval over folds).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

CHANCE = 0.5
"""The labels are balanced by construction (the items' option order is block-randomised)."""


@dataclass(frozen=True)
class Examples:
    """Activations of one layer, their labels and the scenario each came from."""

    x: np.ndarray
    y: np.ndarray
    groups: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def where(self, mask: np.ndarray) -> Examples:
        return Examples(self.x[mask], self.y[mask], self.groups[mask])

    def with_labels(self, y: np.ndarray) -> Examples:
        return Examples(self.x, y, self.groups)


@dataclass(frozen=True)
class Estimate:
    """A mean over folds with its 95% t interval (``None`` bounds from a single fold)."""

    value: float
    low: float | None
    high: float | None
    folds: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Estimate:
        values = np.asarray(values, dtype=float)
        mean = float(values.mean())
        if len(values) < 2:
            return cls(mean, None, None, len(values))
        half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
        return cls(mean, mean - half, mean + half, len(values))


def scenario_folds(groups: np.ndarray, n_folds: int, labels: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """Folds that never split a scenario, (train, test) indices, with the labels as balanced across
    folds as whole scenarios allow: an unbalanced split makes a probe that learned nothing score below
    chance (it predicts the training folds' majority, the test fold's minority)."""
    n = min(n_folds, len(np.unique(groups)))
    if n < 2:
        raise ValueError(f"probing needs items from at least 2 scenarios, got {len(np.unique(groups))}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a class in fewer scenarios than folds
        return list(StratifiedGroupKFold(n_splits=n).split(np.zeros(len(groups)), labels, groups=groups))


def control_labels(groups: np.ndarray, seed: int) -> np.ndarray:
    """Hewitt and Liang's control task: a random label per scenario, fixed for all of its items, so a
    probe can only reach it by memorising scenarios (which scenario-grouped folds never reward)."""

    def bit(group: str) -> int:
        return hashlib.sha256(f"{seed}:{group}".encode()).digest()[0] & 1

    return np.array([bit(str(g)) for g in groups])


def probe(train: Examples, inner_folds: int, c_grid: Sequence[float], components: int | None = None) -> Pipeline:
    """A standardised logistic regression fitted on ``train``, its C picked by inner scenario-grouped CV
    (a fixed C when the fold has too few scenarios or one class); optionally on the first principal
    components."""
    if len(np.unique(train.y)) < 2:  # a fold of one class: nothing to separate, predict it
        return make_pipeline(StandardScaler(), DummyClassifier(strategy="most_frequent")).fit(train.x, train.y)
    steps: list = [StandardScaler()]
    if components is not None:
        steps.append(PCA(n_components=min(components, len(train) - 1, train.x.shape[1]), random_state=0))
    inner = scenario_folds(train.groups, inner_folds, train.y) if len(np.unique(train.groups)) >= 2 else []
    if inner and all(len(np.unique(train.y[fit])) == 2 for fit, _ in inner):
        steps.append(LogisticRegressionCV(Cs=list(c_grid), cv=inner, l1_ratios=(0.0,), scoring="neg_log_loss",
                                           use_legacy_attributes=False, max_iter=1000))
    else:
        steps.append(LogisticRegression(C=float(np.median(c_grid)), max_iter=1000))
    model = make_pipeline(*steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train.x, train.y)
    return model


def accuracy_of(model: Pipeline, test: Examples) -> float:
    return float((model.predict(test.x) == test.y).mean())


@dataclass(frozen=True)
class LayerProbe:
    """One layer's probes on the training suite: one per outer fold (fitted on that fold's training
    scenarios) and one on every item (for its direction); read-outs, causal tests and stability share them."""

    folds: list[tuple[np.ndarray, np.ndarray]]
    per_fold: list[Pipeline]
    full: Pipeline


def fit_layer(source: Examples, n_folds: int, inner_folds: int, c_grid: Sequence[float]) -> LayerProbe:
    folds = scenario_folds(source.groups, n_folds, source.y)
    return LayerProbe(folds=folds, per_fold=[probe(source.where(fit), inner_folds, c_grid) for fit, _ in folds],
                      full=probe(source, inner_folds, c_grid))


def scenario_bootstrap(model: Pipeline, test: Examples, seed: int, draws: int = 1000) -> Estimate:
    """A probe's accuracy on items of scenarios it never saw, with a 95% percentile interval from
    resampling whole scenarios (items of one scenario are not independent)."""
    hits = model.predict(test.x) == test.y
    groups, codes = np.unique(test.groups, return_inverse=True)
    per_group = np.bincount(codes, weights=hits, minlength=len(groups))
    sizes = np.bincount(codes, minlength=len(groups))
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(groups), (draws, len(groups)))
    resampled = per_group[picks].sum(1) / sizes[picks].sum(1)
    low, high = np.percentile(resampled, [2.5, 97.5])
    return Estimate(float(hits.mean()), float(low), float(high), len(groups))


def held_out_accuracies(fitted: LayerProbe, source: Examples, targets: Mapping[str, Examples]) -> dict[str, list[float]]:
    """Per outer fold, its probe on the fold's held-out scenarios of ``source`` (``"self"``) and on each
    target's items from scenarios it did not train on (a target's folds without such items are skipped).
    For a target sharing no scenario with ``source`` every fold would test the same items, so use
    :func:`scenario_bootstrap` with the probe fitted on every item instead."""
    scores: dict[str, list[float]] = {"self": [], **{name: [] for name in targets}}
    for (fit, held), model in zip(fitted.folds, fitted.per_fold, strict=True):
        scores["self"].append(accuracy_of(model, source.where(held)))
        seen = list(set(source.groups[fit]))
        for name, target in targets.items():
            unseen = target.where(~np.isin(target.groups, seen))
            if len(unseen):
                scores[name].append(accuracy_of(model, unseen))
    return scores


def fold_accuracies(source: Examples, targets: Mapping[str, Examples], folds: list[tuple[np.ndarray, np.ndarray]],
                    inner_folds: int, c_grid: Sequence[float], components: int | None = None) -> dict[str, list[float]]:
    """Per outer fold: a probe fitted on the fold's training scenarios of ``source``, tested on its
    held-out scenarios (``"self"``) and on each target's items from scenarios it did not train on."""
    models = [probe(source.where(fit), inner_folds, c_grid, components) for fit, _ in folds]
    return held_out_accuracies(LayerProbe(folds, models, full=models[0]), source, targets)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector


def probe_direction(model: Pipeline) -> np.ndarray:
    """The fitted probe's weight vector in activation space (undoing the standardisation), unit length."""
    scaler, classifier = model[0], model[-1]
    if len(model) != 2:
        raise ValueError("a direction is read from a probe on the activations themselves, not on components")
    if not hasattr(classifier, "coef_"):  # fitted on one class: no direction
        return np.zeros_like(scaler.scale_)
    return unit(classifier.coef_[0] / scaler.scale_)


def mean_difference(examples: Examples) -> np.ndarray:
    """The difference of class means (label 1 minus label 0), unit length."""
    if len(np.unique(examples.y)) < 2:
        return np.zeros(examples.x.shape[1])
    return unit(examples.x[examples.y == 1].mean(0) - examples.x[examples.y == 0].mean(0))


def linear_cka(a: np.ndarray, b: np.ndarray) -> float:
    """Linear centred kernel alignment of two activation matrices over the same items (Kornblith et al.
    2019): 1 for representations equal up to rotation and scale."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    cross = np.linalg.norm(a.T @ b) ** 2
    denominator = np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)
    return float(cross / denominator) if denominator > 0 else 0.0


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(unit(a) @ unit(b))
