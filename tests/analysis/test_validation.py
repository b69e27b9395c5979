"""The instrument validated on simulated runs with a known truth, through the analysis's own code:
it says "no" when there is nothing, finds a planted effect at the power it promises, calls an exact
null equivalent given the seeds it asks for, and its bootstrap covers at about its nominal rate."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rearing.analysis.metrics import Inputs, model_metrics
from rearing.analysis.plan import prereg_hash, preregistration
from rearing.analysis.power import Variance, item_components, power_table
from rearing.analysis.simulate import simulate_results
from rearing.analysis.stats import HELPS, HURTS, INCONCLUSIVE, NOTHING, VERDICTS, two_level_bootstrap
from rearing.analysis.verdict import analyze, item_tables, primary_call
from rearing.config import ExperimentConfig

FIRST, SECOND = "bmn_developmental", "principle_flat"
SESOI, ALPHA, ITEMS, SEED_SD = 0.05, 0.05, 200, 0.02


def plan(paired: bool = True, seeds: int = 2):
    config = ExperimentConfig.model_validate({"train": {"seeds": list(range(seeds))},
                                              "analysis": {"sesoi": SESOI, "alpha": ALPHA, "paired": paired,
                                                           "power_simulations": 2000}})
    return preregistration(config)


def calls(effect: float, seeds: int, runs: int, rng: np.random.Generator, paired: bool = True,
          seed_correlation: float = 0.0) -> dict[str, float]:
    """Share of each verdict over ``runs`` simulated runs, by the verdict's own rule."""
    prereg = plan(paired)
    found = [primary_call(model_metrics(Inputs(simulate_results(
        {FIRST: effect, SECOND: 0.0}, seeds, ITEMS, rng, seed_sd=SEED_SD, seed_correlation=seed_correlation)), []),
        prereg).call for _ in range(runs)]
    return {v: float(np.mean([c == v for c in found])) for v in VERDICTS}


def tolerance(p: float, runs: int, sds: float = 3.0) -> float:
    """Monte Carlo tolerance: ``sds`` standard errors of a rate ``p`` over ``runs`` runs."""
    return sds * math.sqrt(p * (1 - p) / runs)


TRUE_VARIANCE = Variance(seed=SEED_SD ** 2, residual=0.24 - 0.2 ** 2 / 3, item=0.2 ** 2 / 3, items=ITEMS,
                         correlation=0.0, seeds=0, source="the simulation's own parameters")
"""The simulated design's variance components: p = 0.6 + U(-0.2, 0.2) per item, so a model's answers vary
around it by E[p (1 - p)] = 0.24 - Var(U)."""


def designed(seeds: int, variance: Variance = TRUE_VARIANCE) -> dict:
    """The power table of this design (by default from its true variance components)."""
    return power_table(variance, seeds, True, ALPHA, SESOI, 4000, 0.8, 64, 0)


def test_the_variance_components_a_run_estimates_are_the_simulations():
    rng = np.random.default_rng(10)
    pilot = simulate_results({FIRST: 0.0, SECOND: 0.0}, 16, ITEMS, rng, seed_sd=SEED_SD)
    found = item_components(*item_tables(pilot, "hidden", FIRST, SECOND), True)
    assert found.residual == pytest.approx(TRUE_VARIANCE.residual, rel=0.05)
    assert found.item == pytest.approx(TRUE_VARIANCE.item, rel=0.3)
    assert found.per_seed == pytest.approx(TRUE_VARIANCE.per_seed, rel=0.3)


@pytest.mark.parametrize(("paired", "correlation"), [(True, 0.0), (False, 0.0), (True, 0.8)])
def test_aa_runs_rarely_say_structure_helps(paired, correlation):
    runs = 400
    rates = calls(0.0, 4, runs, np.random.default_rng(11), paired, correlation)
    assert rates[HELPS] <= ALPHA + tolerance(ALPHA, runs)
    assert rates[HELPS] + rates[HURTS] <= ALPHA + tolerance(ALPHA, runs)


def test_a_planted_effect_is_found_at_the_designed_power_in_both_directions():
    rng, runs, seeds = np.random.default_rng(12), 300, 6
    power = next(r for r in designed(seeds)["rows"] if r["effect"] == "2 SESOI")[HELPS]
    assert power >= 0.8
    up = calls(2 * SESOI, seeds, runs, rng)
    down = calls(-2 * SESOI, seeds, runs, rng)
    assert up[HELPS] >= power - tolerance(power, runs, 4) and up[HURTS] == 0
    assert down[HURTS] >= power - tolerance(power, runs, 4) and down[HELPS] == 0


def test_an_exact_null_with_the_seeds_power_asks_for_is_called_equivalent():
    rng, runs = np.random.default_rng(13), 400
    seeds = designed(4)["seeds_to_confirm_null"]
    assert seeds is not None and 4 < seeds <= 64
    rates = calls(0.0, seeds, runs, rng)
    assert rates[NOTHING] >= 0.8 - tolerance(0.8, runs, 4)
    assert rates[HELPS] + rates[HURTS] <= ALPHA + tolerance(ALPHA, runs)


@pytest.mark.parametrize("interaction", [0.0, 0.05])
def test_the_two_level_bootstrap_covers_at_about_its_nominal_rate(interaction):
    rng, runs, truth = np.random.default_rng(14), 300, 0.05
    covered = 0
    for i in range(runs):
        results = simulate_results({FIRST: truth, SECOND: 0.0}, 16, 100, rng, seed_sd=0.03,
                                   interaction_sd=interaction)
        first, second = item_tables(results, "hidden", FIRST, SECOND)
        low, high = two_level_bootstrap(first, second, True, ALPHA, 400, i)["ci"]
        covered += low <= truth <= high
    assert abs(covered / runs - (1 - ALPHA)) <= 0.04


def test_the_whole_analysis_on_a_simulated_run():
    rng = np.random.default_rng(15)
    results = simulate_results({FIRST: 2 * SESOI, SECOND: 0.0, "bmn_shuffled": 0.0, "flat": -0.1}, 6, ITEMS, rng,
                               seed_sd=SEED_SD)
    prereg = plan(seeds=6)
    verdict, tables = analyze(Inputs(results), prereg, prereg_hash(prereg))
    assert verdict["verdict"] == HELPS
    assert "not checked: positive control and null controls" in verdict["message"]
    assert verdict["gates"]["positive_control"]["status"] == "not checked"
    assert verdict["gates"]["null_controls"]["status"] == "not checked"
    assert verdict["sensitivity"]["bootstrap"]["ci"][0] > 0
    mixed = verdict["sensitivity"]["mixed_model"]
    if mixed["usable"]:
        assert mixed["difference"] == pytest.approx(verdict["primary"]["difference"], abs=1e-6)
    else:
        assert mixed["boundary"] and mixed["problems"]
    assert [r["effect"] for r in verdict["power"]["rows"]] == ["0", "SESOI/2", "SESOI", "2 SESOI"]
    assert "seeds per condition would" in verdict["message"]
    secondary = {r["name"]: r for r in verdict["secondary"]}
    assert secondary["principles"]["call"] == "principle_flat > flat"
    assert secondary["raising"]["status"] == "not run"
    row = tables[(tables["metric"] == "hidden") & (tables["condition"] == FIRST)].iloc[0]
    assert row["n_seeds"] == 6 and row["ci_low"] < row["mean"] < row["ci_high"]


def test_one_seed_per_condition_is_inconclusive_with_the_seeds_it_would_need():
    results = simulate_results({FIRST: 0.0, SECOND: 0.0}, 1, ITEMS, np.random.default_rng(16))
    prereg = plan()
    verdict, _ = analyze(Inputs(results), prereg, prereg_hash(prereg))
    assert verdict["verdict"] == INCONCLUSIVE
    assert any("fewer than 2 seeds" in r for r in verdict["reasons"])


def test_seeds_beyond_the_plan_are_left_out_and_said():
    """Seeds added after a look at the data (optional stopping) never reach the verdict."""
    results = simulate_results({FIRST: 2 * SESOI, SECOND: 0.0}, 8, ITEMS, np.random.default_rng(17), seed_sd=SEED_SD)
    prereg = plan(seeds=4)
    verdict, tables = analyze(Inputs(results), prereg, prereg_hash(prereg))
    assert verdict["primary"]["seeds"] == {FIRST: [0, 1, 2, 3], SECOND: [0, 1, 2, 3]}
    assert any("seeds [4, 5, 6, 7] are not among the pre-registered seeds" in n
               for n in verdict["preregistration"]["notes"])
    assert set(tables["n_seeds"]) == {4}


def test_power_credits_no_seed_correlation_from_a_handful_of_seeds():
    """Four seeds can show a correlation near 1 by chance; the power table must not believe it."""
    rng = np.random.default_rng(18)
    results = simulate_results({FIRST: 0.0, SECOND: 0.0}, 4, ITEMS, rng, seed_sd=0.05, seed_correlation=0.99)
    assert item_components(*item_tables(results, "hidden", FIRST, SECOND, True), True).correlation == 0.0
    many = simulate_results({FIRST: 0.0, SECOND: 0.0}, 12, ITEMS, rng, seed_sd=0.05, seed_correlation=0.99)
    assert item_components(*item_tables(many, "hidden", FIRST, SECOND, True), True).correlation > 0.2
