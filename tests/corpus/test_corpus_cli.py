import json

from typer.testing import CliRunner

from rearing.cli import app
from rearing.layout import RunLayout

runner = CliRunner()


def test_build_stats_show_from_the_cli(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("preset: smoke\nname: cli\nworld:\n  n_scenarios: 200\ncorpus:\n  general_docs: 150\n"
                      "  vocab_size: 800\n  conditions: [flat, bmn_developmental, general_only]\n")
    run = tmp_path / "runs" / "cli"
    result = runner.invoke(app, ["corpus", "build", "--run", str(run), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "flat" in result.output and "bmn_developmental" in result.output
    stats = runner.invoke(app, ["corpus", "stats", str(run)])
    assert stats.exit_code == 0 and "moral" in stats.output
    scenario_id = json.loads(RunLayout(run).world.split("train").read_text().splitlines()[0])["id"]
    shown = runner.invoke(app, ["corpus", "show", str(run), scenario_id])
    assert shown.exit_code == 0 and "flat" in shown.output and "bmn_developmental" in shown.output
    assert "general_only: no moral documents (general text only)" in shown.output
    assert runner.invoke(app, ["corpus", "show", str(run), "nope"]).exit_code == 2
    again = runner.invoke(app, ["corpus", "build", "--run", str(run)])
    assert again.exit_code == 0, again.output


def test_transform_any_text_and_reject_bad_lines(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "text": "Omar fixes the kettle. Omar fills it with water."}) + "\n")
    dst = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["corpus", "transform", str(src), str(dst), "--transform", "first_person,social"])
    assert result.exit_code == 0, result.output
    out = json.loads(dst.read_text())
    assert out["id"] == 1 and "I fix the kettle" in out["text"] and out["transforms"] == ["first_person", "social"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": ""}\nnot json\n')
    nothing = tmp_path / "nothing.jsonl"
    result = runner.invoke(app, ["corpus", "transform", str(bad), str(nothing)])
    assert result.exit_code == 2
    assert f"{bad}:1: text:" in result.output and f"{bad}:2: <json>:" in result.output
    assert not nothing.exists()


def build_refused(tmp_path, corpus: str) -> str:
    """The output of a corpus build on a 60-scenario world with ``corpus`` settings, which must be refused."""
    config = tmp_path / "c.yaml"
    config.write_text(f"preset: smoke\nworld:\n  n_scenarios: 60\ncorpus:\n  general_docs: 20\n  vocab_size: 400\n{corpus}")
    result = runner.invoke(app, ["corpus", "build", "--run", str(tmp_path / "run"), "--config", str(config)])
    assert result.exit_code == 2, result.output
    return result.output


def test_a_general_pool_too_small_for_the_budget_names_its_config_key(tmp_path):
    output = build_refused(tmp_path, "  total_tokens: 10000000\n  conditions: [flat]\n")
    assert "corpus.general_docs: condition flat: the general pool ran out at" in output
    assert "lower corpus.total_tokens (now 10000000)" in output


def test_a_pool_short_of_the_automatic_budget_points_at_total_tokens(tmp_path, monkeypatch):
    """With no corpus.total_tokens the budget grows with corpus.general_docs, so raising it cannot help
    the null control when the pool beyond it (estimated from word counts) falls short: here the extra
    documents are cut to one word each."""
    from rearing.corpus import build
    from rearing.corpus.general import GeneralDoc

    monkeypatch.setattr(build, "general_doc", lambda seed, i: GeneralDoc(id=f"g{i}", kind="general", text="Rain."))
    output = build_refused(tmp_path, "  conditions: [flat, general_only]\n")
    assert "corpus.total_tokens: condition general_only: the general pool ran out at" in output
    assert "set corpus.total_tokens to at most" in output and "raise corpus.general_docs" not in output


def test_a_bad_or_old_manifest_is_a_clear_error(tmp_path):
    run = RunLayout(tmp_path / "run")
    run.root.mkdir()
    command = ["corpus", "build", "--run", str(run.root)]
    run.manifest.write_text("{not json")
    result = runner.invoke(app, command)
    assert result.exit_code == 2 and f"{run.manifest}: <json>: unreadable manifest" in result.output
    run.manifest.write_text(json.dumps({"stages": {}}))
    result = runner.invoke(app, command)
    assert result.exit_code == 2 and f"{run.manifest}: config: missing" in result.output
    run.manifest.write_text(json.dumps({"config": {"corpus": {"conditions": ["flat", "old_condition"]}}}))
    result = runner.invoke(app, command)
    assert result.exit_code == 2
    assert f"{run.manifest}: corpus.conditions[1]: unknown condition 'old_condition'" in result.output
    assert "another rearing version" in result.output
