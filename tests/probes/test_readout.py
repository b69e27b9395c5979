"""Read-outs on synthetic activations: folds grouped by scenario, the control task, the measures."""

from __future__ import annotations

import numpy as np
import pytest

from rearing.probes.measures import ProbeRow, headline, retained
from rearing.probes.readout import (
    Estimate,
    Examples,
    control_labels,
    cosine,
    fold_accuracies,
    linear_cka,
    mean_difference,
    probe,
    probe_direction,
    scenario_folds,
)


def planted(n_scenarios: int = 30, per: int = 4, dim: int = 16, signal: float = 2.0, seed: int = 0) -> Examples:
    """Items whose label moves them along the first axis; everything else is noise."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"s{i}" for i in range(n_scenarios)], per)
    y = rng.integers(0, 2, len(groups))
    x = rng.standard_normal((len(groups), dim))
    x[:, 0] += signal * (2 * y - 1)
    return Examples(x, y, groups)


def test_folds_never_split_a_scenario_and_cover_every_item():
    data = planted()
    folds = scenario_folds(data.groups, 5, data.y)
    assert len(folds) == 5
    for fit, held in folds:
        assert not set(data.groups[fit]) & set(data.groups[held])
    assert sorted(np.concatenate([held for _, held in folds]).tolist()) == list(range(len(data)))
    with pytest.raises(ValueError, match="at least 2 scenarios"):
        scenario_folds(np.array(["a", "a"]), 5, np.array([0, 1]))


def test_control_labels_are_fixed_per_scenario_and_mixed_across_them():
    groups = np.repeat([f"s{i}" for i in range(40)], 3)
    labels = control_labels(groups, seed=3)
    for group in np.unique(groups):
        assert len(set(labels[groups == group])) == 1
    assert 0.25 < labels.mean() < 0.75
    assert not np.array_equal(labels, control_labels(groups, seed=4))


def test_a_planted_direction_is_read_and_the_control_task_is_not():
    data = planted()
    folds = scenario_folds(data.groups, 5, data.y)
    real = Estimate.of(fold_accuracies(data, {}, folds, 3, [0.01, 0.1, 1.0])["self"])
    control = Estimate.of(fold_accuracies(data.with_labels(control_labels(data.groups, 0)), {}, folds, 3,
                                          [0.01, 0.1, 1.0])["self"])
    assert real.value > 0.9 and real.low is not None and real.low > 0.8
    assert abs(control.value - 0.5) < 0.15
    fitted = probe(data, 3, [0.01, 0.1, 1.0])
    assert abs(probe_direction(fitted)[0]) > 0.8
    assert abs(mean_difference(data)[0]) > 0.9


def test_transfer_is_tested_only_on_scenarios_the_probe_did_not_see():
    data = planted()
    twins = Examples(data.x + 0.1, data.y, data.groups)
    folds = scenario_folds(data.groups, 5, data.y)
    scores = fold_accuracies(data, {"twins": twins}, folds, 3, [1.0])
    assert len(scores["twins"]) == len(folds)
    # a target from a scenario the probe trains on is scored only in the fold that holds it out
    seen = Examples(data.x[:2], data.y[:2], np.array(["everywhere", "everywhere"]))
    data_with = Examples(np.vstack([data.x, data.x[:2]]), np.concatenate([data.y, data.y[:2]]),
                         np.concatenate([data.groups, ["everywhere"] * 2]))
    folds = scenario_folds(data_with.groups, 5, data_with.y)
    assert len(fold_accuracies(data_with, {"seen": seen}, folds, 3, [1.0])["seen"]) == 1


def test_cka_and_cosine_see_through_rotation_and_scale():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 8))
    rotation, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    assert linear_cka(a, 3.0 * a @ rotation) == pytest.approx(1.0)
    assert linear_cka(a, rng.standard_normal((50, 8))) < 0.5
    assert cosine(np.array([1.0, 0.0]), np.array([2.0, 0.0])) == pytest.approx(1.0)


def test_headline_measures_read_the_best_layer():
    def row(layer, metric, value, **fields):
        return ProbeRow(model="m", layer=layer, metric=metric, value=value, **fields)

    rows = [row(1, "selectivity_excess", 0.05), row(2, "selectivity_excess", 0.4), row(3, "selectivity_excess", 0.2),
            row(2, "accuracy", 0.9, ci_low=0.8), row(3, "accuracy", 0.7, ci_low=0.55), row(1, "accuracy", 0.6),
            row(2, "ablation_z", 7.0, direction="mean_difference"),
            row(2, "ablation_z", 1.0, direction="probe"), row(2, "transfer_ratio", 0.5, suite="stripped"),
            row(2, "pre_probe_accuracy", 0.7, attack="harm", attack_k=10),
            row(2, "pre_probe_accuracy", 0.6, attack="harm", attack_k=20)]
    found = headline(rows, selectivity_min=0.1, surface_suite="stripped")
    assert found["best_layer"] == 2 and found["selective_layers"] == [2, 3]
    assert found["distributed"] == pytest.approx(2 / 3)
    assert found["causal"] == 7.0 and found["surface_independent"] == 0.5
    assert found["stable"] == pytest.approx(retained(0.6, 0.9)) and found["stable_attack_k"] == 20
    # a layer whose probe is not above chance is not selective, whatever its control task did
    below = [r if r.layer != 3 or r.metric != "accuracy" else row(3, "accuracy", 0.6, ci_low=0.45) for r in rows]
    assert headline(below, 0.1, "stripped")["selective_layers"] == [2]
    assert headline([], 0.1, "stripped")["causal"] is None
