import json
import shutil
import time

import pytest

from rearing.config import load_config
from rearing.corpus.stage import corpus_inputs
from rearing.datafile import package_data, package_data_files
from rearing.evals.stage import eval_inputs
from rearing.layout import RunLayout, StageSpec
from rearing.pipeline import input_name, run_pipeline, stage_key
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
    from rearing.world import stage

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
    report = json.loads(RunLayout(run_dir).world.split_report.read_text())
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


def test_a_stage_lists_the_packaged_data_it_reads_among_its_inputs(tmp_path, monkeypatch):
    config = load_config(preset="smoke")
    corpus = [input_name(p) for p in corpus_inputs(config)]
    assert {"rearing/corpus/data/render.yaml", "rearing/corpus/data/conditions.yaml",
            "rearing/corpus/data/lexicon.txt", "rearing/world/data/vocab.yaml"} <= set(corpus)
    evals = [input_name(p) for p in eval_inputs(config)]
    assert {"rearing/evals/data/pressure.yaml", "rearing/evals/data/suites.yaml",
            "rearing/corpus/data/lexicon.txt"} <= set(evals)
    package = tmp_path / "datapkg"
    (package / "data" / "frames").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "data" / "a.yaml").write_text("a: 1\n")
    (package / "data" / "frames" / "b.yaml").write_text("b: 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    listed = [p.relative_to(package).as_posix() for p in package_data_files("datapkg")]
    assert listed == ["data/a.yaml", "data/frames/b.yaml"], "folders inside data/ are listed too"


def test_an_edited_input_file_changes_the_stage_key(tmp_path):
    copy = tmp_path / "render.yaml"
    shutil.copyfile(package_data("rearing.corpus", "data/render.yaml"), copy)
    stage = StageSpec(name="corpus", sections=("corpus",), upstream=(), run=lambda *args: None,
                      external_inputs=lambda config: [copy])
    config = load_config(preset="smoke")
    before = stage_key(stage, config, {"stages": {}})
    assert stage_key(stage, config, {"stages": {}}) == before
    copy.write_text(copy.read_text().replace("{setting}", "So: {setting}", 1))
    assert stage_key(stage, config, {"stages": {}}) != before


def test_editing_a_renderer_of_your_own_reruns_the_corpus(tmp_path, monkeypatch):
    module = tmp_path / "renderers_of_a_pipeline_test.py"
    module.write_text("def render(scenario, rng):\n    return scenario.setting\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    path = tmp_path / "c.yaml"
    path.write_text("preset: smoke\nworld:\n  n_scenarios: 150\ncorpus:\n  general_docs: 100\n  vocab_size: 600\n"
                    "  define:\n    plain:\n      renderer: renderers_of_a_pipeline_test:render\n      content_matched: false\n"
                    "  conditions: [flat, plain]\n")
    config = load_config(path)
    run_dir = tmp_path / "run"
    assert [o.status for o in run_pipeline(config, run_dir, until="corpus")] == ["ran", "ran"]
    assert [o.status for o in run_pipeline(config, run_dir, until="corpus")] == ["cached", "cached"]
    module.write_text("def render(scenario, rng):\n    return 'Retold. ' + scenario.setting\n")
    assert [o.status for o in run_pipeline(config, run_dir, until="corpus")] == ["cached", "ran"]
