"""The probe stage on the tiny trained run: every model probed, stability after the attack, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from rearing.cli import app
from rearing.config import load_config
from rearing.evals.controls import UNTRAINED
from rearing.evals.items import read_items
from rearing.io import InputError, read_json
from rearing.layout import ProbeLayout, RunLayout, model_name
from rearing.pipeline import run_config, run_pipeline
from rearing.probes.measures import HEADLINES

TRAINED = [model_name("bmn_developmental", 0), model_name("posthoc", 0)]
NULL = model_name(UNTRAINED, 0)


@pytest.fixture(scope="module")
def probed(tiny_trained_run) -> Path:
    outcomes = run_pipeline(run_config(tiny_trained_run), tiny_trained_run, until="probe")
    assert outcomes[-1].name == "probe"
    return tiny_trained_run


def table(run: Path, name: str) -> list[dict]:
    return pq.read_table(RunLayout(run).probe.table(name)).to_pylist()


def test_every_model_and_its_untrained_baseline_is_probed(probed):
    written = RunLayout(probed).probe
    summary = json.loads(written.summary.read_text())
    assert set(summary["models"]) == {*TRAINED, NULL}
    assert set(summary["headlines"]) == set(HEADLINES)
    assert set(summary["by_condition"]) == {"bmn_developmental", "posthoc", UNTRAINED}
    layers = run_config(probed).train.model  # nano: 4 blocks
    assert layers == "nano"
    for name in TRAINED:
        model = read_json(written.model_summary(name))
        assert set(HEADLINES) <= set(model) and model["layers"] == 4
        rows = table(probed, name)
        metrics = {r["metric"] for r in rows}
        assert {"accuracy", "control_accuracy", "selectivity", "untrained_selectivity", "selectivity_excess",
                "transfer_accuracy", "ablation_z", "steering_z", "general_loss_change", "pre_probe_accuracy",
                "cka", "direction_cosine"} <= metrics
        for r in rows:
            if r["metric"] == "accuracy":
                assert r["ci_low"] <= r["value"] <= r["ci_high"]
    untrained_rows = table(probed, NULL)
    assert not any(r["metric"] == "ablation_z" for r in untrained_rows), "the baseline gets read-outs only"


def test_activations_are_float16_rows_indexed_by_model_layer_item_and_label(probed):
    written = RunLayout(probed).probe
    items, keys = read_items(RunLayout(probed).eval.items)
    correct = {k.item_id: k.correct for k in keys}
    suite_of = {i.id: i.suite for i in items}
    for name in [*TRAINED, NULL]:
        array = np.load(written.activations(name), allow_pickle=False)
        index = pq.read_table(written.activation_index(name)).to_pylist()
        assert array.dtype == np.float16 and array.shape == (len(index), 128)
        assert {r["layer"] for r in index} == {1, 2, 3, 4}
        for row in index:
            assert row["label"] == int(correct[row["item"]] == 0) and row["suite"] == suite_of[row["item"]]
            assert row["format"] in ("judgment", "self_judgment")
    attacks = {(r["attack"], r["attack_k"]) for r in pq.read_table(written.activation_index(TRAINED[0])).to_pylist()}
    assert attacks == {("none", 0), ("harm", 2), ("harm", 4), ("benign", 2), ("benign", 4)}


def test_stability_is_read_from_the_attacked_copies_the_eval_stage_kept(probed):
    evaluated = RunLayout(probed).eval
    assert evaluated.attacked(TRAINED[0], "harm", 4).is_dir()
    rows = table(probed, TRAINED[1])
    for kind in ("harm", "benign"):
        curve = sorted({r["attack_k"] for r in rows if r["metric"] == "cka" and r["attack"] == kind})
        assert curve == [0, 2, 4]
        start = [r for r in rows if r["attack"] == kind and r["attack_k"] == 0]
        assert all(r["value"] == pytest.approx(1.0) for r in start if r["metric"] in ("cka", "direction_cosine"))
        moved = [r["value"] for r in rows if r["metric"] == "cka" and r["attack"] == kind and r["attack_k"] == 4]
        assert all(v < 1.0 for v in moved), "the attack changed the representations"
    assert read_json(RunLayout(probed).probe.model_summary(TRAINED[1]))["stable_attack_k"] == 4


def test_probe_is_cached_and_the_cli_probes_the_run_and_any_checkpoint(probed, tmp_path):
    outcomes = run_pipeline(run_config(probed), probed, until="probe")
    assert [o.status for o in outcomes] == ["cached"] * 5
    result = CliRunner().invoke(app, ["probe", "--run", str(probed)])
    assert result.exit_code == 0, result.output
    assert all(name in result.output for name in TRAINED) and "causal" in result.output
    out = tmp_path / "checkpoint_probe"
    checkpoint = RunLayout(probed).train.model("posthoc", 0)
    result = CliRunner().invoke(app, ["probe", "--run", str(probed), "--checkpoint", str(checkpoint),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads(ProbeLayout(out).summary.read_text())
    assert set(summary["models"]) == {"model", f"{UNTRAINED}_model"}
    theirs = {(r["layer"], r["metric"]): r["value"] for r in table(probed, TRAINED[1]) if r["metric"] == "accuracy"}
    mine = {(r["layer"], r["metric"]): r["value"] for r in pq.read_table(ProbeLayout(out).table("model")).to_pylist()
            if r["metric"] == "accuracy"}
    assert mine == pytest.approx(theirs), "the same model on the same items reads the same"
    assert CliRunner().invoke(app, ["probe", "--run", str(probed), "--checkpoint", str(checkpoint)]).exit_code != 0


def test_probe_settings_naming_unknown_suites_fail_at_load(tiny_config_file, tmp_path):
    path = tiny_config_file(tmp_path, "probe:\n  train_suite: formats\n  transfer_suites: [stripped, hiden]\n")
    with pytest.raises(InputError) as error:
        load_config(path)
    message = str(error.value)
    assert "probe.train_suite" in message and "'formats'" in message and "probe.transfer_suites" in message


def test_a_killed_probe_stage_resumes_with_the_models_it_finished(probed, tmp_path):
    import shutil

    from rearing.cells.local import SerialExecutor
    from rearing.io import write_json_atomic
    from rearing.probes.stage import run_probe

    out = tmp_path / "probe"
    shutil.copytree(RunLayout(probed).probe.root, out)
    written = ProbeLayout(out)
    finished, unfinished = TRAINED
    write_json_atomic(written.model_summary(finished), {**read_json(written.model_summary(finished)), "kept": True})
    written.model_summary(unfinished).unlink()
    config = run_config(probed)
    run_probe(config, RunLayout(probed), out, SerialExecutor(config))
    assert read_json(written.model_summary(finished))["kept"], "a finished model is not probed again"
    assert read_json(written.model_summary(unfinished)) == read_json(RunLayout(probed).probe.model_summary(unfinished))
    assert json.loads(written.summary.read_text())["models"][finished]["kept"]
