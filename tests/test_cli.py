"""The CLI as a user meets it: real files, real exit codes, nothing half-written."""

import json

import pytest
from typer.testing import CliRunner

from rearing.cli import app
from rearing.layout import SPLITS, SplitsLayout

runner = CliRunner()
FIXTURES = __import__("pathlib").Path(__file__).parent / "world" / "fixtures"


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def world_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("world") / "world.jsonl"
    result = invoke("world", "generate", "--n", 400, "--seed", 3, "--out", path)
    assert result.exit_code == 0, result.output
    return path


def test_generate_is_byte_identical_for_a_seed(world_file, tmp_path):
    again = tmp_path / "again.jsonl"
    assert invoke("world", "generate", "--n", 400, "--seed", 3, "--out", again).exit_code == 0
    assert again.read_bytes() == world_file.read_bytes()
    assert len(world_file.read_text().splitlines()) == 400


def test_validate_accepts_a_generated_world(world_file):
    result = invoke("world", "validate", world_file)
    assert result.exit_code == 0 and "400 scenarios" in result.output


def test_validate_reports_every_bad_record_and_exits_2(world_file, tmp_path):
    lines = world_file.read_text().splitlines()[:5]
    bad0 = json.loads(lines[1])
    bad0["options"][0]["valence"] = "sneaky"
    bad1 = json.loads(lines[3])
    del bad1["setting"]
    bad1["stage"] = 0
    lines[1], lines[3] = json.dumps(bad0), json.dumps(bad1)
    lines.insert(4, "{broken")
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n")
    result = invoke("world", "validate", path)
    assert result.exit_code == 2
    out = result.output
    assert f"{path}:2: options[0].valence: Input should be" in out
    assert f"{path}:4: setting: Field required" in out
    assert f"{path}:4: stage: Input should be greater than or equal to 1" in out
    assert f"{path}:5: <json>:" in out


def test_split_writes_splits_and_nothing_on_bad_input(world_file, tmp_path):
    out = tmp_path / "splits"
    result = invoke("world", "split", world_file, "--out", out)
    assert result.exit_code == 0, result.output
    written = SplitsLayout(out)
    assert set(out.iterdir()) == {*(written.split(name) for name in SPLITS), written.report}
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n")
    nothing = tmp_path / "nothing"
    result = invoke("world", "split", bad, "--out", nothing)
    assert result.exit_code == 2 and f"{bad}:1: id: Field required" in result.output
    assert not nothing.exists()


def test_show_prints_one_scenario(world_file):
    first = json.loads(world_file.read_text().splitlines()[0])
    result = invoke("world", "show", world_file, first["id"])
    assert result.exit_code == 0
    shown = " ".join(result.output.split())
    assert all(" ".join(option["action"].split()) in shown for option in first["options"])
    assert "Principle" in result.output
    missing = invoke("world", "show", world_file, "nope")
    assert missing.exit_code == 2 and "no scenario 'nope'" in missing.output


def test_schema_is_json_schema_of_scenario():
    result = invoke("world", "schema")
    schema = json.loads(result.output)
    assert schema["title"] == "Scenario" and "options" in schema["required"]


def test_import_both_formats(tmp_path):
    out = tmp_path / "ms.jsonl"
    result = invoke("world", "import", "--format", "moral-stories", FIXTURES / "moral_stories_small.jsonl",
                    "--out", out)
    assert result.exit_code == 0, result.output
    assert invoke("world", "validate", out).exit_code == 0
    out = tmp_path / "ethics.jsonl"
    result = invoke("world", "import", "--format", "ethics-commonsense",
                    FIXTURES / "ethics_commonsense_small.csv", "--out", out)
    assert result.exit_code == 0 and invoke("world", "validate", out).exit_code == 0
    bad_out = tmp_path / "bad.jsonl"
    result = invoke("world", "import", "--format", "moral-stories", FIXTURES / "moral_stories_bad.jsonl",
                    "--out", bad_out)
    assert result.exit_code == 2 and "moral_stories_bad.jsonl:" in result.output
    assert not bad_out.exists()


def test_config_show_prints_full_yaml():
    result = invoke("config", "show", "--preset", "smoke")
    assert result.exit_code == 0
    assert "n_scenarios: 1500" in result.output and "analysis:" in result.output
    assert invoke("config", "show", "--preset", "huge").exit_code == 2


def test_ladder_command(tmp_path):
    result = invoke("world", "ladder")
    assert result.exit_code == 0 and "Reading" in result.output and "Seen and" in result.output


def test_world_lint_checks_a_family_file_on_its_own(tmp_path):
    from rearing.world.frames import default_frames_dir

    family = default_frames_dir() / "disclose.yaml"
    assert invoke("world", "lint", family).exit_code == 0
    lines = family.read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if "{item}" in line and not line.lstrip().startswith("#"))
    lines[first] = lines[first].replace("{item}", "{gadget}", 1)
    broken = tmp_path / "disclose.yaml"
    broken.write_text("\n".join(lines) + "\n")
    result = invoke("world", "lint", broken)
    assert result.exit_code == 2
    assert f"{broken}:{first + 1}:" in result.output and "unknown slot {gadget}" in result.output


def test_world_sample_prints_scenarios_to_read_and_counts_the_checks():
    result = invoke("world", "sample", "--per-domain", 1, "--check", 200)
    assert result.exit_code == 0, result.output
    assert result.output.count("── ") == 9 and "Setting:" in result.output and "Principle:" in result.output
    assert "checked 200 scenarios: 0 with problems" in result.output
