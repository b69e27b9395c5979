"""Null and positive controls: the chance test (scenario as the unit), flags, per-condition tables."""

import random

import pytest

from rearing.corpus.conditions import Condition
from rearing.evals.controls import UNTRAINED, by_condition, chance_test, null_controls, positive_control
from rearing.evals.schema import ResultRow
from rearing.evals.suites import builtin_suites


def row(condition: str, scenario: str, correct: bool, suite: str = "hidden", fmt: str = "ab", seed: int = 0,
        pressure: str = "none", attack: str = "none") -> ResultRow:
    return ResultRow(model=f"{condition}/seed_{seed}", condition=condition, seed=seed, suite=suite, format=fmt,
                     stripped=False, pressure=pressure, intensity=int(pressure != "none"), attack=attack,
                     item_id=f"{suite}:{scenario}:{fmt}:{pressure}", scenario_id=scenario, split="eval",
                     scoring_rule="calibrated", chosen=0 if correct else 1, correct=correct)


def test_one_answer_per_scenario_is_the_exact_binomial_test():
    rows = [row("x", f"s{i}", i < 70) for i in range(100)]
    test = chance_test(rows)
    assert test["accuracy"] == 0.7 and test["n"] == test["scenarios"] == 100
    assert test["p_value"] == pytest.approx(7.85e-5, rel=0.01)


def test_repeated_items_of_a_scenario_count_as_one_unit():
    """Twenty pressured copies of ten scenarios are ten units, not two hundred draws."""
    rows = [row("x", f"s{i}", i < 7, pressure=p, attack="none").model_copy(update={"intensity": k})
            for i in range(10) for p, k in [("none", 0), *[("authority", j) for j in range(1, 20)]]]
    test = chance_test(rows)
    assert test["n"] == 200 and test["scenarios"] == 10
    assert test["p_value"] == pytest.approx(0.34375), "7 of 10 scenarios: the sign test's p"
    every = chance_test([r for r in rows if r.scenario_id in ("s0", "s1", "s2", "s3")])
    assert every["accuracy"] == 1.0 and every["p_value"] == 0.125, "4 of 4 scenarios right is 2/16"
    many = [row("x", f"s{i}", i % 4 != 0, pressure=p).model_copy(update={"intensity": int(p != "none")})
            for i in range(40) for p in ("none", "authority")]
    assert chance_test(many)["p_value"] < 0.005 < 0.28 < chance_test(many[:16])["p_value"]


def test_null_controls_flag_only_cells_off_chance_after_correction():
    rng = random.Random(0)
    rows = [row(UNTRAINED, f"s{i}", rng.random() < 0.5, fmt=fmt) for i in range(200) for fmt in ("ab", "advice")]
    rows += [row("general_only", f"s{i}", i < 150, fmt="ab") for i in range(200)]
    rows += [row("general_only", f"s{i}", rng.random() < 0.5, fmt="advice") for i in range(200)]
    rows += [row("bmn", f"s{i}", True) for i in range(200)]
    rows += [row(UNTRAINED, f"s{i}", True, attack="harm") for i in range(200)]
    report = null_controls(rows, ["general_only"], alpha=0.05)
    assert report["cells"] == 4 and report["alpha_per_cell"] == 0.0125
    assert report["controls"]["general_only"]["hidden"]["ab"]["off_chance"] is True
    assert [f.split(":")[0] for f in report["flagged"]] == ["general_only hidden ab"]
    assert "bmn" not in report["controls"]


def test_positive_control_reads_the_practised_format_per_seed_and_gates_the_mean_over_seeds():
    conditions = {"narr": Condition(renderer="bmn", familiar_formats=["continuation", "self_judgment"],
                                    practised_format="self_judgment"),
                  "rules": Condition(renderer="principle_flat", familiar_formats=["judgment"],
                                     practised_format="judgment"),
                  "facts": Condition(renderer="flat", content_matched=False, familiar_formats=["judgment"])}
    rows = [row("narr", f"s{i}", i % 4 != 0 or seed == 1, suite=s, fmt="self_judgment", seed=seed)
            for i in range(8) for s in ("format", "hidden", "stripped", "pressure") for seed in (0, 1)]
    rows += [row("narr", f"s{i}", False, suite="format", fmt=fmt) for i in range(8) for fmt in ("ab", "continuation")]
    rows += [row("narr", f"s{i}", False, suite="format", fmt="self_judgment", attack="harm") for i in range(8)]
    rows += [row("rules", f"s{i}", i < 5, suite="format", fmt="judgment", seed=seed) for i in range(8) for seed in (0, 1)]
    rows += [row("facts", f"s{i}", True, suite="format", fmt="judgment") for i in range(8)]
    report = positive_control(rows, conditions, builtin_suites(), threshold=0.75)
    narr = report["conditions"]["narr"]
    assert narr["format"] == "self_judgment" and narr["suites"] == ["format"] and narr["n"] == 16
    assert narr["seeds"] == {0: 0.75, 1: 1.0} and narr["accuracy"] == 0.875 and narr["passed"] is True
    assert narr["hidden"] == 0.875, "outcome-hidden items are read beside it"
    assert report["conditions"]["rules"]["accuracy"] == 0.625 and report["conditions"]["rules"]["passed"] is False
    assert "facts" not in report["conditions"], "a condition stating no verdict has no positive control"
    assert report["passed"] is False and report["failed"] == ["rules"] and report["expected"] is True
    assert positive_control(rows, conditions, builtin_suites(), threshold=0.6)["passed"] is True
    assert positive_control([], conditions, builtin_suites())["passed"] is None


def test_by_condition_pools_a_conditions_models():
    rows = [row("narr", "s1", True, seed=0), row("narr", "s1", False, seed=1), row("narr", "s2", True, fmt="advice")]
    table = by_condition(rows)["narr"]
    assert table["models"] == 2 and table["suites"]["hidden"]["accuracy"] == pytest.approx(2 / 3, abs=1e-4)
    assert table["suites"]["hidden"]["formats"]["ab"] == {"accuracy": 0.5, "n": 2}
