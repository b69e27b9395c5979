"""The seed-level tests agree with scipy and statsmodels, and the verdict's rule says what it claims."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import ttost_ind, ttost_paired

from rearing.analysis.stats import (
    HELPS,
    HURTS,
    INCONCLUSIVE,
    NOTHING,
    compare,
    holm,
    intervals,
    mixed_model,
    t_interval,
)


@pytest.mark.parametrize("paired", [True, False])
def test_intervals_match_scipy_and_the_call_agrees_with_tost(paired):
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(2, 9))
        a = rng.normal(rng.normal(0, 0.05), rng.uniform(0.005, 0.05), n)
        b = rng.normal(0, rng.uniform(0.005, 0.05), n)
        found = compare("a", "b", dict(enumerate(a)), dict(enumerate(b)), paired, 0.05, 0.05)
        if paired:
            ci = stats.ttest_rel(a, b).confidence_interval(0.95)
            tost = ttost_paired(a, b, -0.05, 0.05)[0]
        else:
            ci = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
            tost = ttost_ind(a, b, -0.05, 0.05, usevar="unequal")[0]
        assert found.ci == pytest.approx((ci.low, ci.high), abs=1e-9)
        assert found.tost_p == pytest.approx(tost)
        assert (found.call == NOTHING) == (tost < 0.05)
        assert (found.call == HELPS) == (ci.low > 0 and tost >= 0.05)
        assert (found.call == HURTS) == (ci.high < 0 and tost >= 0.05)


def test_the_four_calls():
    helps = compare("a", "b", {0: 0.70, 1: 0.72, 2: 0.71}, {0: 0.60, 1: 0.61, 2: 0.60}, True, 0.05, 0.05)
    hurts = compare("a", "b", {0: 0.50, 1: 0.51, 2: 0.50}, {0: 0.60, 1: 0.62, 2: 0.60}, True, 0.05, 0.05)
    same = compare("a", "b", {0: 0.600, 1: 0.602, 2: 0.601}, {0: 0.601, 1: 0.600, 2: 0.602}, True, 0.05, 0.05)
    vague = compare("a", "b", {0: 0.5, 1: 0.7}, {0: 0.6, 1: 0.55}, True, 0.05, 0.05)
    assert (helps.call, hurts.call, same.call, vague.call) == (HELPS, HURTS, NOTHING, INCONCLUSIVE)


def test_one_seed_or_no_spread_is_inconclusive_and_says_why():
    one = compare("a", "b", {0: 0.9}, {0: 0.5}, True, 0.05, 0.05)
    assert one.call == INCONCLUSIVE and "fewer than 2 seeds" in one.problem and one.ci is None
    flat = compare("a", "b", {0: 0.6, 1: 0.6}, {0: 0.5, 1: 0.5}, True, 0.05, 0.05)
    assert flat.call == INCONCLUSIVE and "no training variance" in flat.problem


def test_paired_over_the_common_seeds_and_says_which_were_left_out():
    found = compare("a", "b", {0: 0.6, 1: 0.62, 2: 0.61}, {1: 0.5, 2: 0.52, 3: 0.51}, True, 0.05, 0.05)
    assert found.paired and found.n == {"a": 2, "b": 2} and "[0, 3]" in found.note
    welch = compare("a", "b", {0: 0.6, 1: 0.62, 2: 0.61}, {1: 0.5, 2: 0.52, 3: 0.51}, False, 0.05, 0.05)
    assert not welch.paired and welch.n == {"a": 3, "b": 3} and welch.note is None


def test_holm_matches_the_definition_and_skips_missing():
    p = [0.01, None, 0.04, 0.03]
    adjusted = holm(p)
    assert adjusted[1] is None
    assert adjusted[0] == pytest.approx(0.03) and adjusted[3] == pytest.approx(0.06) and adjusted[2] == pytest.approx(0.06)


def test_vectorised_intervals_equal_one_at_a_time():
    rng = np.random.default_rng(1)
    a, b = rng.normal(0.6, 0.05, (50, 4)), rng.normal(0.6, 0.05, (50, 4))
    together = intervals(a, b, False, 0.05)
    for i in range(50):
        alone = intervals(a[i], b[i], False, 0.05)
        assert float(alone.ci[0]) == pytest.approx(together.ci[0][i])


def test_t_interval():
    assert t_interval([0.5], 0.05) == (0.5, None, None)
    mean, low, high = t_interval([0.4, 0.6], 0.05)
    assert mean == pytest.approx(0.5) and low < 0.4 and high > 0.6


def _binary(rng, seeds, items, effect, seed_sd):
    item = rng.uniform(-0.2, 0.2, items)
    p = lambda e: np.clip(0.6 + item[None, :] + e + rng.normal(0, seed_sd, (seeds, 1)), 0.01, 0.99)
    return (rng.random((seeds, items)) < p(effect)).astype(float), (rng.random((seeds, items)) < p(0.0)).astype(float)


def test_the_mixed_model_recovers_the_difference_when_seeds_vary():
    first, second = _binary(np.random.default_rng(2), 8, 300, 0.08, 0.04)
    fit = mixed_model(first, second, 0.05)
    direct = first.mean() - second.mean()
    assert fit["usable"], fit["problems"]
    assert fit["difference"] == pytest.approx(direct, abs=1e-6)
    assert 0 < fit["se"] < 0.1


def test_the_mixed_model_flags_a_boundary_fit_instead_of_reporting_it():
    """No seed variance at all: MixedLM's seed variance collapses; the fit must be flagged, never used."""
    flagged = 0
    for seed in range(5):
        first, second = _binary(np.random.default_rng(10 + seed), 8, 200, 0.05, 0.0)
        fit = mixed_model(first, second, 0.05)
        if not fit["usable"]:
            flagged += 1
            assert fit["boundary"] and fit["problems"]
        else:
            assert fit["difference"] == pytest.approx(first.mean() - second.mean(), abs=1e-6)
            assert fit["seed_variance"] > 0
    assert flagged >= 1
