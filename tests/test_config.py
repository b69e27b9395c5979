from pathlib import Path

import pytest
import yaml

from rearing.config import PRESETS, ExperimentConfig, load_config
from rearing.io import InputError


@pytest.mark.parametrize("preset", PRESETS)
def test_presets_load_and_round_trip_through_yaml(preset, tmp_path):
    config = load_config(preset=preset)
    assert config.name == preset
    path = tmp_path / "c.yaml"
    path.write_text(config.to_yaml())
    assert load_config(path) == config
    assert load_config(path).config_hash == config.config_hash


def test_presets_grow_in_scale():
    smoke, small, paper = (load_config(preset=p) for p in PRESETS)
    assert smoke.world.n_scenarios < small.world.n_scenarios < paper.world.n_scenarios
    assert smoke.train.steps < small.train.steps < paper.train.steps


def test_unknown_key_is_rejected_with_path_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nworld:\n  n_scenarios: 100\n  splitt: {}\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert f"{path}:4: world.splitt: Extra inputs are not permitted" in str(info.value)


def test_mistyped_value_is_rejected_with_path_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("world:\n  split:\n    eval_fraction: lots\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}:3: world.split.eval_fraction:")


def test_file_may_extend_a_preset(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("preset: smoke\nname: mine\nworld:\n  n_scenarios: 50\n")
    config = load_config(path)
    smoke = load_config(preset="smoke")
    assert config.name == "mine" and config.world.n_scenarios == 50
    assert config.world.split == smoke.world.split
    assert config.train == smoke.train


def test_one_heldout_domain_is_not_enough():
    with pytest.raises(ValueError, match="at least 2"):
        ExperimentConfig.model_validate({"world": {"split": {"heldout_domains": ["market"]}}})


def test_section_hash_changes_only_with_its_sections():
    base = ExperimentConfig()
    other = base.model_copy(update={"train": base.train.model_copy(update={"steps": 999})})
    assert base.section_hash("world") == other.section_hash("world")
    assert base.section_hash("train") != other.section_hash("train")
    assert base.config_hash != other.config_hash


def test_missing_config_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


def test_yaml_dump_is_complete():
    dumped = yaml.safe_load(load_config(preset="smoke").to_yaml())
    assert set(dumped) >= {"world", "corpus", "train", "eval", "probe", "analysis", "seed"}
