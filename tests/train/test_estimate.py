"""The dry run: the grid and token budget follow the config, the calibration times the run's own model,
and nothing is written."""

from __future__ import annotations

from typer.testing import CliRunner

from rearing.cli import app
from rearing.config import ExecutorConfig, load_config
from rearing.train.estimate import GridModel, calibrate, grid, null_cells, plan_lines, tokens_per_model


def test_the_grid_is_every_condition_by_every_seed(tiny_config):
    cells = grid(tiny_config)
    assert cells == [GridModel("bmn_developmental", 0), GridModel("posthoc", 0)]
    assert null_cells(tiny_config) == [GridModel("untrained", 0)]
    assert tokens_per_model(tiny_config) == 12 * 4 * 640


def test_explicit_phases_set_the_steps(tiny_config):
    phases = [{"name": "general", "slice": "all", "steps": 5}, {"name": "moral", "slice": "all", "steps": 7}]
    config = tiny_config.model_copy(update={"train": tiny_config.train.model_validate(
        {**tiny_config.train.model_dump(), "phases": phases})})
    assert tokens_per_model(config) == 12 * 4 * 640


def test_the_calibration_times_the_runs_own_model_and_the_estimate_scales_with_the_grid(tiny_config):
    found = calibrate(tiny_config, steps=3)
    assert found.seconds_per_step > 0 and found.tokens_per_step == 4 * 640 and found.model == "nano"
    lines = plan_lines(tiny_config, found, {"stages": {"eval": {"seconds": 90.0}, "probe": {"seconds": 400.0}}})
    text = "\n".join(lines)
    assert "2 models to train" in text and "1 untrained" in text
    assert f"{12 * 4 * 640:,} per model, {2 * 12 * 4 * 640:,} in all" in text
    assert "eval 90 s, probe 7 min" in text
    pool = tiny_config.model_copy(update={"executor": ExecutorConfig(kind="local", workers=2)})
    assert "local executor, 2 cell(s) at once" in "\n".join(plan_lines(pool, found, None)), \
        "the dry run divides the models among the pool's workers"


def test_dry_run_runs_nothing(tmp_path, tiny_config_file):
    config = tiny_config_file(tmp_path)
    result = CliRunner().invoke(app, ["run", "--config", str(config), "--runs-dir", str(tmp_path / "runs"),
                                      "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "calibration: nano" in result.output and "estimated training" in result.output
    assert not (tmp_path / "runs").exists()
    assert load_config(config).name == "tiny"
