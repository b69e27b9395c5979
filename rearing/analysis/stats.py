"""Seed-level statistics: a difference test, an equivalence test, the verdict's rule, and the
sensitivity analyses shown beside it.

Item-level standard errors (what lm-eval and inspect report) ignore training variance; here the
training seed is the unit. The verdict's intervals are t intervals over seeds (paired by seed, or
Welch); :func:`intervals` computes them for one comparison or for thousands of simulated ones at
once, so the power simulation runs exactly the rule the verdict runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

HELPS, HURTS, NOTHING, INCONCLUSIVE = ("structure helps", "structure hurts", "structure adds nothing",
                                       "inconclusive")
VERDICTS = (HELPS, HURTS, NOTHING, INCONCLUSIVE)
"""The only four things the analysis ever says about the primary contrast."""


@dataclass(frozen=True)
class Intervals:
    """Differences (first minus second) with their standard errors, degrees of freedom and the
    (1 - alpha) and (1 - 2 alpha) t intervals; arrays over simulations, or 0-d for one comparison."""

    difference: np.ndarray
    se: np.ndarray
    df: np.ndarray
    ci: tuple[np.ndarray, np.ndarray]
    ci_equivalence: tuple[np.ndarray, np.ndarray]


def intervals(first: np.ndarray, second: np.ndarray, paired: bool, alpha: float) -> Intervals:
    """Per-seed values of two conditions (last axis: seeds; paired: the same seeds in the same order).

    Paired: the t interval of the per-seed differences. Otherwise Welch's interval with
    Welch-Satterthwaite degrees of freedom. A standard error of 0 (every seed alike) gives NaN
    intervals: no training variance was seen, so none can be tested against.
    """
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if paired:
        d = first - second
        n = d.shape[-1]
        diff = d.mean(axis=-1)
        se = d.std(axis=-1, ddof=1) / np.sqrt(n)
        df = np.full_like(diff, n - 1.0)
    else:
        n1, n2 = first.shape[-1], second.shape[-1]
        v1, v2 = first.var(axis=-1, ddof=1) / n1, second.var(axis=-1, ddof=1) / n2
        diff = first.mean(axis=-1) - second.mean(axis=-1)
        se = np.sqrt(v1 + v2)
        with np.errstate(divide="ignore", invalid="ignore"):
            df = (v1 + v2) ** 2 / (v1 ** 2 / (n1 - 1) + v2 ** 2 / (n2 - 1))
    with np.errstate(invalid="ignore"):
        se = np.where(se > 0, se, np.nan)
        wide, narrow = stats.t.ppf(1 - alpha / 2, df), stats.t.ppf(1 - alpha, df)
    return Intervals(diff, se, df, (diff - wide * se, diff + wide * se), (diff - narrow * se, diff + narrow * se))


def decide(found: Intervals, sesoi: float) -> np.ndarray:
    """The verdict's rule, for each comparison: 'structure adds nothing' when the (1 - 2 alpha) interval
    is inside +-SESOI (TOST at alpha), else 'structure helps' when the (1 - alpha) interval is above 0,
    'hurts' when below, else (and whenever the interval is undefined) 'inconclusive'.

    Equivalence is read first: a difference shown to be smaller than the smallest effect of interest is
    not one, even when it is also shown to be above 0 (many seeds can make a trivial difference
    significant); the message then says so."""
    low, high = found.ci
    eq_low, eq_high = found.ci_equivalence
    calls = np.full(np.shape(found.difference), INCONCLUSIVE, dtype=object)
    with np.errstate(invalid="ignore"):
        calls = np.where(high < 0, HURTS, calls)
        calls = np.where(low > 0, HELPS, calls)
        calls = np.where((eq_low > -sesoi) & (eq_high < sesoi), NOTHING, calls)
    return calls


@dataclass(frozen=True)
class ContrastResult:
    """One contrast read across seeds: estimate, intervals, the difference test's p-value and TOST."""

    first: str
    second: str
    seeds: dict[str, list[int]]
    paired: bool
    n: dict[str, int]
    difference: float | None
    se: float | None
    df: float | None
    ci: tuple[float, float] | None
    ci_equivalence: tuple[float, float] | None
    p_value: float | None
    tost_p: float | None
    tost_p_lower: float | None
    tost_p_upper: float | None
    call: str
    problem: str | None = None
    note: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _num(value) -> float | None:
    value = float(value)
    return None if np.isnan(value) else value


def compare(first_name: str, second_name: str, first: Mapping[int, float], second: Mapping[int, float],
            paired: bool, alpha: float, sesoi: float) -> ContrastResult:
    """Compare two conditions' per-seed values: paired over their common seeds when ``paired`` (a seed
    only one of them ran is left out, and ``note`` says so), else Welch. TOST p-values from statsmodels
    (``ttost_paired`` / ``ttost_ind``); the call from :func:`decide`, which agrees with them by construction."""
    from statsmodels.stats.weightstats import ttost_ind, ttost_paired

    seeds = {first_name: sorted(first), second_name: sorted(second)}
    common = sorted(set(first) & set(second))
    unmatched = sorted(set(first) ^ set(second))
    note = (f"paired over the {len(common)} seeds both ran; seeds {unmatched} ran in one condition only and "
            "were left out") if paired and unmatched else None
    if paired:
        a, b = np.array([first[s] for s in common]), np.array([second[s] for s in common])
    else:
        a, b = np.array(list(first.values()), dtype=float), np.array(list(second.values()), dtype=float)
    n = {first_name: len(a), second_name: len(b)}
    empty = {"difference": None, "se": None, "df": None, "ci": None, "ci_equivalence": None, "p_value": None, "tost_p": None,
                 "tost_p_lower": None, "tost_p_upper": None, "call": INCONCLUSIVE}
    if min(len(a), len(b)) < 2:
        missing = [name for name, values in ((first_name, a), (second_name, b)) if len(values) < 2]
        return ContrastResult(first_name, second_name, seeds, paired, n, **{
            **empty, "difference": _num(a.mean() - b.mean()) if len(a) and len(b) else None},
            problem=f"{', '.join(missing)}: fewer than 2 seeds{' in common' if paired else ''}, so training "
                    "variance cannot be estimated", note=note)
    found = intervals(a, b, paired, alpha)
    difference = float(found.difference)
    if np.isnan(found.se):
        return ContrastResult(first_name, second_name, seeds, paired, n, **{**empty, "difference": difference},
                              problem="every seed gave the same value: no training variance was seen to test "
                                      "against", note=note)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if paired:
            p_value = stats.ttest_rel(a, b).pvalue
            tost, lower, upper = ttost_paired(a, b, -sesoi, sesoi)
        else:
            p_value = stats.ttest_ind(a, b, equal_var=False).pvalue
            tost, lower, upper = ttost_ind(a, b, -sesoi, sesoi, usevar="unequal")
    return ContrastResult(
        first_name, second_name, seeds, paired, n, difference=difference, se=float(found.se), df=float(found.df),
        ci=(float(found.ci[0]), float(found.ci[1])),
        ci_equivalence=(float(found.ci_equivalence[0]), float(found.ci_equivalence[1])),
        p_value=float(p_value), tost_p=float(tost), tost_p_lower=float(lower[1]), tost_p_upper=float(upper[1]),
        call=decide(found, sesoi).item(), note=note)


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-adjusted p-values (statsmodels ``multipletests``); None stays None and leaves the family."""
    from statsmodels.stats.multitest import multipletests

    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if present:
        corrected = multipletests([p_values[i] for i in present], method="holm")[1]
        for i, p in zip(present, corrected):
            adjusted[i] = float(p)
    return adjusted


def t_interval(values: Sequence[float], alpha: float) -> tuple[float | None, float | None, float | None]:
    """Mean of per-seed values and its t interval (None bounds with fewer than 2 seeds or no spread)."""
    values = np.asarray(values, dtype=float)
    if len(values) == 0:
        return None, None, None
    mean = float(values.mean())
    if len(values) < 2 or values.std(ddof=1) == 0:
        return mean, None, None
    half = stats.t.ppf(1 - alpha / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return mean, float(mean - half), float(mean + half)


def seed_item_residual(matrix: np.ndarray) -> float | None:
    """The seed x item residual variance of one condition's seeds x items table (two-way ANOVA without
    replication): how a model's answer to an item varies around its seed's and the item's means.
    None with fewer than 2 seeds or items."""
    matrix = np.asarray(matrix, dtype=float)
    n, items = matrix.shape
    if n < 2 or items < 2:
        return None
    rows, cols = np.nanmean(matrix, axis=1), np.nanmean(matrix, axis=0)
    return float(np.nansum((matrix - rows[:, None] - cols[None, :] + np.nanmean(matrix)) ** 2)
                 / ((n - 1) * (items - 1)))


def _resampled_means(values: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Means of ``draws`` resamples of ``values``, their spread widened by sqrt(n / (n - 1)): a resample's
    variance is the plug-in (n - 1) / n of the sample's, which matters at a handful of seeds."""
    n = len(values)
    means = values[rng.integers(0, n, size=(draws, n))].mean(axis=1)
    return values.mean() + (means - values.mean()) * np.sqrt(n / (n - 1))


def two_level_bootstrap(first: np.ndarray, second: np.ndarray, paired: bool, alpha: float, draws: int,
                        seed: int) -> dict:
    """Percentile interval of the difference in mean accuracy from a two-level bootstrap: seeds (per
    condition, or jointly when paired), then items. ``first``/``second``: seeds x items, the same items
    in the same columns (NaN where a model lacks an item).

    Every model answered the same items, so the design is crossed, and resampling both seeds and raw
    item cells would count each answer's own noise twice (once in the seed means, again in the item
    means) and give intervals far wider than nominal. So each draw adds two independent parts: the
    difference of resampled seed means (training variance, with each answer's noise), and the mean of
    resampled item interactions (how much the condition difference varies from item to item), shrunk
    by the share of their variance that answer noise explains (the seed x item residual). The test
    suite checks the coverage on simulated runs."""
    rng = np.random.default_rng(seed)
    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    a, b = np.nanmean(first, axis=1), np.nanmean(second, axis=1)
    interaction = np.nanmean(first, axis=0) - np.nanmean(second, axis=0)
    interaction = interaction[~np.isnan(interaction)]
    interaction = interaction - interaction.mean()
    residuals = [r for r in (seed_item_residual(first), seed_item_residual(second)) if r is not None]
    noise = (np.mean(residuals) if residuals else 0.0) * (1 / len(a) + 1 / len(b))
    spread = float(np.var(interaction, ddof=1)) if len(interaction) > 1 else 0.0
    shrink = float(np.sqrt(max(0.0, 1 - noise / spread))) if spread > 0 else 0.0
    if paired:
        seed_part = _resampled_means(a - b, draws, rng)
    else:
        seed_part = _resampled_means(a, draws, rng) - _resampled_means(b, draws, rng)
    item_part = (shrink * interaction[rng.integers(0, len(interaction), size=(draws, len(interaction)))].mean(axis=1)
                 if len(interaction) > 1 else 0.0)
    diffs = seed_part + item_part
    low, high = np.quantile(diffs, [alpha / 2, 1 - alpha / 2])
    return {"method": "two-level bootstrap: seeds, then items (crossed; answer noise counted once; percentile)",
            "draws": draws, "seed": seed, "difference": float(a.mean() - b.mean()), "ci": [float(low), float(high)],
            "item_shrink": shrink,
            "note": None if min(len(a), len(b)) >= 5 else
            f"with {min(len(a), len(b))} seeds a condition's seed resamples take few distinct values: the "
            "interval understates training variance"}


def single_model_bootstrap(first: Sequence[float], second: Sequence[float], paired: bool, alpha: float, draws: int,
                           seed: int) -> dict:
    """For a model-level metric (the composite): the bootstrap over seeds alone."""
    a, b = np.asarray(first, dtype=float)[:, None], np.asarray(second, dtype=float)[:, None]
    found = two_level_bootstrap(a, b, paired, alpha, draws, seed)
    found["method"] = "bootstrap over seeds (percentile; a model-level metric has no items to resample)"
    return found


def mixed_model(first: np.ndarray, second: np.ndarray, alpha: float) -> dict:
    """A linear mixed model of item correctness: a fixed effect of condition, a random intercept per
    model (one per seed and condition: the model does not use the pairing of seeds), and items absorbed
    as fixed effects (each item's mean over models subtracted first,
    so what the items share cannot masquerade as a condition effect). Fitted by REML with statsmodels
    MixedLM.

    Guarded against boundary fits: when the seed variance collapses to 0, MixedLM can report a
    converged fit whose fixed effect is not the data's difference at all (0, or far off) with a useless
    standard error. Such a fit is kept, flagged ``boundary`` with the reasons, and marked not usable.
    """
    from statsmodels.regression.mixed_linear_model import MixedLM

    first, second = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    matrix = np.vstack([first, second])
    arm = np.r_[np.ones(first.shape[0]), np.zeros(second.shape[0])]
    centred = matrix - np.nanmean(matrix, axis=0, keepdims=True)
    answered = ~np.isnan(centred)
    model_of = np.broadcast_to(np.arange(matrix.shape[0])[:, None], matrix.shape)[answered]
    y = centred[answered]
    exog = np.column_stack([np.ones_like(y), arm[model_of]])
    direct = float(np.nanmean(np.nanmean(first, axis=1)) - np.nanmean(np.nanmean(second, axis=1)))
    result = {"method": "linear mixed model: correct ~ condition + (1 | model), items as fixed effects (REML); "
                        "t interval with models - 2 degrees of freedom",
              "rows": int(y.size)}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = MixedLM(y, exog, groups=model_of).fit(reml=True)
            estimate, se = float(fit.fe_params[1]), float(fit.bse_fe[1])
        except (np.linalg.LinAlgError, ValueError) as exc:
            return {**result, "usable": False, "boundary": None, "problems": [f"the fit failed: {exc}"]}
    seed_variance = float(np.asarray(fit.cov_re)[0, 0])
    problems = []
    if not fit.converged:
        problems.append("the optimiser did not converge")
    if seed_variance <= 1e-8 * max(float(fit.scale), 1e-12):
        problems.append("the seed variance is estimated as 0 (a boundary fit)")
    if abs(estimate - direct) > 1e-6 + 0.05 * abs(direct):
        problems.append(f"its fixed effect {estimate:.4f} is not the data's difference {direct:.4f}")
    if not np.isfinite(se) or se <= 0 or se > 1:
        problems.append("its standard error is not usable")
    messages = sorted({str(w.message).split("\n")[0] for w in caught})
    df = max(matrix.shape[0] - 2, 1)
    half = stats.t.ppf(1 - alpha / 2, df) * se if np.isfinite(se) else float("nan")
    return {**result, "difference": estimate, "se": se if np.isfinite(se) else None,
            "ci": [estimate - half, estimate + half] if np.isfinite(half) else None,
            "seed_variance": seed_variance, "residual_variance": float(fit.scale), "converged": bool(fit.converged),
            "boundary": bool(problems), "usable": not problems, "problems": problems, "warnings": messages}
