import json
import time

import pytest

from rearing.config import load_config
from rearing.layout import RunLayout
from rearing.pipeline import run_pipeline
from rearing.world.store import read_scenarios


@pytest.fixture
def config(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text("preset: smoke\nname: tiny\nworld:\n  n_scenarios: 300\n")
    return load_config(path)


def test_run_writes_world_and_manifest_then_caches(config, tmp_path):
    run_dir = tmp_path / "runs" / "tiny"
    started = time.perf_counter()
    first = run_pipeline(config, run_dir, until="world")
    elapsed = time.perf_counter() - started
    assert [(o.name, o.status) for o in first] == [("world", "ran")]
    assert len(read_scenarios(RunLayout(run_dir).world.scenarios)) == 300
    assert RunLayout(run_dir).world.split("train").is_file()
    manifest = json.loads(RunLayout(run_dir).manifest.read_text())
    assert manifest["config_hash"] == config.config_hash and manifest["seed"] == 0
    assert manifest["versions"]["rearing"] and "git" in manifest
    record = manifest["stages"]["world"]
    assert "scenarios.jsonl" in record["outputs"]
    assert 0 < record["seconds"] <= elapsed and record["seconds"] == round(first[0].seconds, 3)

    second = run_pipeline(config, run_dir, until="world")
    assert [o.status for o in second] == ["cached"]
    forced = run_pipeline(config, run_dir, force=True, until="world")
    assert [o.status for o in forced] == ["ran"]
    assert json.loads(RunLayout(run_dir).manifest.read_text())["stages"]["world"]["outputs"] == record["outputs"]


def test_changed_config_or_tampered_output_reruns(config, tmp_path):
    run_dir = tmp_path / "run"
    run_pipeline(config, run_dir, until="world")
    (RunLayout(run_dir).world.scenarios).write_text("tampered\n")
    assert [o.status for o in run_pipeline(config, run_dir, until="world")] == ["ran"]
    changed = config.model_copy(update={"world": config.world.model_copy(update={"n_scenarios": 120})})
    assert [o.status for o in run_pipeline(changed, run_dir, until="world")] == ["ran"]
    assert len(read_scenarios(RunLayout(run_dir).world.scenarios)) == 120
    other_section = config.model_copy(update={"train": config.train.model_copy(update={"steps": 7})})
    run_pipeline(config, run_dir, until="world")
    assert [o.status for o in run_pipeline(other_section, run_dir, until="world")] == ["cached"]


def test_failed_stage_leaves_previous_output_intact(config, tmp_path, monkeypatch):
    run_dir = tmp_path / "run"
    run_pipeline(config, run_dir, until="world")
    before = (RunLayout(run_dir).world.scenarios).read_bytes()
    import rearing.world.stage as stage

    def boom(*args, **kwargs):
        raise RuntimeError("killed mid-stage")

    monkeypatch.setattr(stage, "split_scenarios", boom)
    with pytest.raises(RuntimeError):
        run_pipeline(config, run_dir, force=True, until="world")
    assert (RunLayout(run_dir).world.scenarios).read_bytes() == before


def test_world_from_an_imported_file(tmp_path):
    from pathlib import Path

    fixture = Path(__file__).parent / "world" / "fixtures" / "moral_stories_small.jsonl"
    from rearing.world.importers import import_moral_stories
    from rearing.world.store import write_scenarios

    source = tmp_path / "imported.jsonl"
    write_scenarios(source, import_moral_stories(fixture))
    path = tmp_path / "c.yaml"
    path.write_text(f"preset: smoke\nworld:\n  source: {source}\n")
    run_dir = tmp_path / "run"
    run_pipeline(load_config(path), run_dir, until="world")
    report = json.loads((RunLayout(run_dir).world.splits_dir / "split_report.json").read_text())
    assert any("vocabulary-shift set is empty" in w for w in report["warnings"])


def test_corpus_stage_follows_world_and_reruns_when_world_changes(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("preset: smoke\nworld:\n  n_scenarios: 150\ncorpus:\n  general_docs: 100\n"
                    "  vocab_size: 600\n  conditions: [flat, bmn_shuffled]\n")
    config = load_config(path)
    run_dir = tmp_path / "run"
    assert [(o.name, o.status) for o in run_pipeline(config, run_dir, until="corpus")] == [("world", "ran"), ("corpus", "ran")]
    assert [o.status for o in run_pipeline(config, run_dir, until="corpus")] == ["cached", "cached"]
    changed = config.model_copy(update={"world": config.world.model_copy(update={"n_scenarios": 140})})
    assert [o.status for o in run_pipeline(changed, run_dir, until="corpus")] == ["ran", "ran"]
