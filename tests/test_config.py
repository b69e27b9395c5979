from pathlib import Path

import pytest
import yaml

from rearing.config import CONFIG_PRESETS, ExperimentConfig, load_config
from rearing.io import InputError


@pytest.mark.parametrize("preset", CONFIG_PRESETS)
def test_presets_load_and_round_trip_through_yaml(preset, tmp_path):
    config = load_config(preset=preset)
    assert config.name == preset
    path = tmp_path / "c.yaml"
    path.write_text(config.to_yaml())
    assert load_config(path) == config
    assert load_config(path).config_hash == config.config_hash


def test_presets_grow_in_scale():
    smoke, small, paper = (load_config(preset=p) for p in CONFIG_PRESETS)
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


def test_mistyped_names_are_refused_at_load_with_line_and_key_path(tmp_path):
    path = tmp_path / "typos.yaml"
    path.write_text(
        "preset: smoke\n"
        "corpus:\n"
        "  conditions: [flat, bmn_develop]\n"
        "  orderings: {flat: developmentl}\n"
        "train:\n"
        "  model: nanoo\n"
        "  conditions: [flat, posthoc]\n"
        "eval:\n"
        "  suites: [format, strippd]\n"
        "  attack_suites: [agentic]\n"
        "  agentic_pressures: [none, bribery]\n"
    )
    with pytest.raises(InputError) as info:
        load_config(path)
    problems = info.value.problems
    assert (f"{path}:3: corpus.conditions[1]: unknown condition 'bmn_develop' "
            "(did you mean 'bmn_developmental'?)") in problems
    assert (f"{path}:4: corpus.orderings.flat: unknown ordering 'developmentl' "
            "(did you mean 'developmental'?)") in problems
    assert f"{path}:6: train.model: unknown model preset 'nanoo' (did you mean 'nano'?)" in problems
    assert f"{path}:7: train.conditions[1]: 'posthoc' is not built: it is not in corpus.conditions" in problems
    assert f"{path}:9: eval.suites[1]: unknown suite 'strippd' (did you mean 'stripped'?)" in problems
    assert any(p.startswith(f"{path}:10: eval.attack_suites[0]: unknown item suite 'agentic'") for p in problems)
    assert any(p.startswith(f"{path}:11: eval.agentic_pressures[1]: unknown pressure 'bribery'") for p in problems)


def test_a_config_may_define_its_own_condition_and_suite(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        "preset: smoke\n"
        "corpus:\n"
        "  define:\n"
        "    principle_developmental:\n"
        "      renderer: principle_flat\n"
        "      ordering: developmental\n"
        "      familiar_formats: [judgment]\n"
        "  conditions: [principle_flat, principle_developmental]\n"
        "eval:\n"
        "  define:\n"
        "    stripped_shift:\n"
        "      kind: items\n"
        "      split: shift_domain\n"
        "      view: stripped\n"
        "  suites: [format, stripped_shift]\n"
    )
    config = load_config(path)
    assert config.corpus.define["principle_developmental"].ordering == "developmental"
    assert config.eval.define["stripped_shift"].split == "shift_domain"
    bad = tmp_path / "bad.yaml"
    bad.write_text(path.read_text().replace("split: shift_domain", "split: shift_domian")
                   .replace("renderer: principle_flat", "renderer: principle_flatt"))
    with pytest.raises(InputError) as info:
        load_config(bad)
    assert any(p.startswith(f"{bad}:13: eval.define.stripped_shift.split: Input should be") for p in info.value.problems)


def render_mine(scenario, rng) -> str:
    """A renderer of this test module's own (configs below name it as test_config:render_mine)."""
    return scenario.setting


def test_a_defined_condition_names_a_renderer_and_a_condition_of_the_registry(tmp_path):
    path = tmp_path / "c.yaml"
    good = (
        "preset: smoke\n"
        "corpus:\n"
        "  define:\n"
        "    bmn_matched:\n"
        "      renderer: bmn\n"
        "      length_matched_to: bmn_shuffled\n"
        "  conditions: [flat, bmn_matched]\n"
    )
    path.write_text(good)
    assert load_config(path).corpus.define["bmn_matched"].length_matched_to == "bmn_shuffled"
    path.write_text(good.replace("  conditions:", "    named_like_a_condition:\n      renderer: bmn_developmental\n"
                                              "      length_matched_to: bmn_shufled\n  conditions:"))
    with pytest.raises(InputError) as info:
        load_config(path)
    renderer = (f"{path}:8: corpus.define.named_like_a_condition.renderer: unknown renderer 'bmn_developmental' "
                "(known: flat, principle_flat, bmn, bmn_implicit, or module:function)")
    matched = f"{path}:9: corpus.define.named_like_a_condition.length_matched_to: unknown condition 'bmn_shufled'"
    assert info.value.problems == [renderer, matched]


def test_defined_names_must_be_identifiers(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("corpus:\n  define:\n    my/cond:\n      renderer: flat\n"
                    "eval:\n  define:\n    my suite:\n      kind: items\n      split: eval\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    first, second = info.value.problems
    assert first.startswith(f"{path}:3: corpus.define.my/cond: 'my/cond' is not a valid condition name")
    assert second.startswith(f"{path}:7: eval.define.my suite: 'my suite' is not a valid suite name")


def test_the_untrained_null_models_name_is_reserved(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("corpus:\n  define:\n    untrained:\n      renderer: flat\n      content_matched: false\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert info.value.problems == [f"{path}:3: corpus.define.untrained: 'untrained' is reserved for the untrained "
                                   "null models"]


def test_functions_of_your_own_are_imported_at_load(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "corpus:\n"
        "  define:\n"
        "    mine:\n"
        "      renderer: test_config:render_mine\n"
        "    gone:\n"
        "      renderer: test_config:no_such_renderer\n"
        "eval:\n"
        "  define:\n"
        "    hidden:\n"
        "      kind: items\n"
        "      split: eval\n"
        "      view: no_such_module_anywhere:hide\n"
    )
    with pytest.raises(InputError) as info:
        load_config(path)
    first, second = info.value.problems
    assert first.startswith(f"{path}:6: corpus.define.gone.renderer: renderer 'test_config:no_such_renderer' "
                            "cannot be imported")
    assert second.startswith(f"{path}:12: eval.define.hidden.view: view 'no_such_module_anywhere:hide' "
                             "cannot be imported: No module named 'no_such_module_anywhere'")


def test_the_llm_backend_needs_a_style_for_a_renderer_of_your_own(tmp_path):
    path = tmp_path / "c.yaml"
    text = ("corpus:\n  backend: llm\n  define:\n    mine:\n      renderer: test_config:render_mine\n"
            "  conditions: [flat, mine]\n")
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_config(path)
    problem = (f"{path}:4: corpus.define.mine: the LLM backend needs an llm_style for 'mine': "
               "its renderer 'test_config:render_mine' is your own, so set llm_style")
    assert info.value.problems == [problem]
    path.write_text(text.replace("  conditions:", "      llm_style: Retell it.\n  conditions:"))
    assert load_config(path).corpus.define["mine"].llm_style == "Retell it."
    path.write_text(text.replace("backend: llm", "backend: template"))
    assert load_config(path).corpus.backend == "template"


def test_world_domains_and_files_are_checked_at_load(tmp_path):
    path = tmp_path / "c.yaml"
    missing = tmp_path / "nowhere.jsonl"
    path.write_text("world:\n  domains: [school, markt]\n  split:\n    heldout_domains: [sports_club, markt]\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert info.value.problems == [
        f"{path}:2: world.domains[1]: unknown domain 'markt' (did you mean 'market'?)",
        f"{path}:4: world.split.heldout_domains[1]: unknown domain 'markt' (did you mean 'market'?)",
    ]
    path.write_text(f"world:\n  source: {missing}\n  split:\n    heldout_domains: [their_a, their_b]\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert info.value.problems == [f"{path}:2: world.source: no such file: {missing}"]
    missing.write_text("")
    assert load_config(path).world.split.heldout_domains == ["their_a", "their_b"], \
        "an imported world's domains are its own"


def test_registries_hand_out_fresh_dicts_of_frozen_records():
    from pydantic import ValidationError

    from rearing.corpus.conditions import all_conditions, builtin_renderers
    from rearing.corpus.render import load_render_phrasings
    from rearing.evals.suites import all_suites, builtin_suites

    builtin_suites().pop("format")
    all_suites().clear()
    builtin_renderers().clear()
    all_conditions().pop("flat")
    assert "format" in builtin_suites() and "flat" in all_conditions() and "bmn" in builtin_renderers()
    for record, field in ((builtin_suites()["format"], "split"), (all_conditions()["flat"], "ordering"),
                          (load_render_phrasings(), "flat")):
        with pytest.raises(ValidationError, match="frozen"):
            setattr(record, field, None)
