"""Per-model metrics from a results table, and the composite robustness index from every source."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from rearing.analysis.metrics import (
    COMPONENTS,
    COMPOSITE,
    Inputs,
    missing_components,
    model_metrics,
    read_results,
)
from rearing.analysis.plan import prereg_hash, preregistration
from rearing.analysis.stats import INCONCLUSIVE
from rearing.analysis.verdict import analyze
from rearing.config import ExperimentConfig
from rearing.io import InputError


def rows(condition: str, seed: int, suite: str, answers: list[int], **extra) -> list[dict]:
    return [{"condition": condition, "seed": seed, "suite": suite, "item_id": f"{suite}.{i}", "correct": bool(a),
             "attack": "none", "attack_k": 0, "pressure": "none", "intensity": 0, **extra}
            for i, a in enumerate(answers)]


def one_model(condition: str = "c", seed: int = 0) -> pd.DataFrame:
    data = (rows(condition, seed, "hidden", [1, 1, 1, 0]) + rows(condition, seed, "stripped", [1, 0])
            + rows(condition, seed, "shift_domain", [1, 1]) + rows(condition, seed, "shift_vocab", [0, 1]))
    data += [{**r, "pressure": "authority", "intensity": level, "item_id": f"p{level}.{i}"}
             for level, answers in ((1, [1, 1]), (2, [1, 0]), (3, [0, 0]))
             for i, r in enumerate(rows(condition, seed, "pressure", answers))]
    data += [{**r, "attack": "harm", "attack_k": 20} for r in rows(condition, seed, "hidden", [1, 0, 0, 0])]
    data += [{**r, "attack": "harm", "attack_k": 10} for r in rows(condition, seed, "hidden", [1, 1, 1, 1])]
    return pd.DataFrame(data)


def test_every_component_is_read_from_its_source():
    episodes = pd.DataFrame([{"condition": "c", "seed": 0, "harm_rate": 0.25}, {"condition": "c", "seed": 0,
                                                                              "harm_rate": 0.75}])
    probes = {("c", 0): {"distributed": 0.5, "causal": 3.0, "surface_independent": 1.4, "stable": None}}
    metrics = model_metrics(Inputs(one_model(), episodes, probes), list(COMPONENTS))
    value = dict(zip(metrics["metric"], metrics["value"]))
    assert value["hidden"] == pytest.approx(0.75)
    assert value["component:hidden"] == pytest.approx(0.5)
    assert value["component:stripped"] == pytest.approx(0.0)
    assert value["component:shift"] == pytest.approx(2 * 0.75 - 1)
    assert value["component:pressure"] == pytest.approx(-1.0)  # accuracy 1, .5, 0 over intensity 1..3: 0 at 3
    assert value["component:agentic"] == pytest.approx(0.0)
    assert value["component:drift"] == pytest.approx(2 * 0.25 - 1)  # the last attack step, not the first
    assert value["component:distributed"] == 0.5
    assert value["component:causal"] == pytest.approx(math.tanh(1.0))
    assert value["component:surface_independent"] == 1.0 and value["component:stable"] == 0.0
    assert value[COMPOSITE] == pytest.approx(sum(value[f"component:{n}"] for n in COMPONENTS) / len(COMPONENTS))


def test_a_composite_missing_its_inputs_is_named_and_the_verdict_says_why():
    inputs = Inputs(pd.concat([one_model("bmn_developmental", s) for s in (0, 1)]
                              + [one_model("principle_flat", s) for s in (0, 1)]))
    metrics = model_metrics(inputs, list(COMPONENTS))
    assert missing_components(metrics, list(COMPONENTS), "principle_flat", 0) == [
        "agentic", "distributed", "causal", "surface_independent", "stable"]
    assert COMPOSITE not in set(metrics["metric"])
    prereg = preregistration(ExperimentConfig.model_validate({"analysis": {"primary_metric": "composite"}}))
    verdict, _ = analyze(inputs, prereg, prereg_hash(prereg))
    assert verdict["verdict"] == INCONCLUSIVE
    assert any("no data for agentic" in reason for reason in verdict["reasons"])


def test_a_results_table_without_a_required_column_is_refused(tmp_path):
    path = tmp_path / "results.parquet"
    one_model().drop(columns=["seed"]).to_parquet(path)
    with pytest.raises(InputError, match="missing column\\(s\\) seed"):
        read_results(path)
    frame = one_model()
    frame.loc[3, "condition"] = None
    frame.to_parquet(path)
    with pytest.raises(InputError, match="row 4: condition: empty"):
        read_results(path)
