"""The renderers' phrasings are an editable data file: a bad edit is refused by file, line and key,
and a good edit changes the rendered text."""

import random
import re
from pathlib import Path

import pytest

from rearing.corpus.conditions import all_conditions, builtin_renderers, renderer_function
from rearing.corpus.render import (
    load_render_phrasings,
    render_bmn,
    render_bmn_implicit,
    render_principle_flat,
)
from rearing.datafile import package_data
from rearing.io import InputError
from rearing.world.generate import GeneratorSettings, ScenarioGenerator
from rearing.world.schema import Foundation, Scenario

PACKAGED = package_data("rearing.corpus", "data/render.yaml")


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    return [Scenario.model_validate(r) for r in ScenarioGenerator(GeneratorSettings(seed=5)).generate(60)]


@pytest.fixture
def edited(edited_data):
    return lambda old, new: edited_data("render.yaml", old, new)


def refusal(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_render_phrasings(path)
    return str(caught.value)


def test_packaged_phrasings_load_and_every_foundation_has_rules():
    phrasings = load_render_phrasings()
    assert set(phrasings.principle_flat.rules) == set(Foundation)
    assert load_render_phrasings() is phrasings


def test_unknown_slot_is_refused_with_file_line_key_and_allowed_slots(edited):
    path, line = edited('- "Case: {setting}"', '- "Case: {setting} on {weekday}"')
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: flat.open")
    assert "unknown slot {weekday}" in message and "allowed slots: {setting}" in message


def test_empty_list_is_refused(edited):
    text = PACKAGED.read_text(encoding="utf-8")
    block = re.search(r"  reflect:\n(?:    - .*\n(?:      .*\n)*)+", text).group()
    path, line = edited(block, "  reflect: []\n")
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: bmn.reflect") and "at least 1 item" in message


def test_dropping_the_content_slot_is_refused(edited):
    path, line = edited('- "At once, {text}"', '- "At once, something happened."')
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: flat.consequence_now") and "missing slot {text}" in message


def test_rules_must_name_exactly_the_foundations(edited):
    path, line = edited("    honesty:\n", "    honour:\n")
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: principle_flat.rules.honour") and "'honesty'" in message
    block = re.search(r"    honesty:\n(?:      - .*\n)+", PACKAGED.read_text(encoding="utf-8")).group()
    path, _ = edited(block, "")
    assert "every foundation needs rules; missing: honesty" in refusal(path)


def test_unknown_key_and_brace_in_a_rule_are_refused(edited):
    path, _ = edited("bmn:\n", "bmn:\n  epilogue: [\"The end.\"]\n")
    assert "bmn.epilogue: Extra inputs are not permitted" in refusal(path)
    path, line = edited("Honesty is a virtue", "Honesty is a {virtue}")
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: principle_flat.rules.honesty") and "takes no slots" in message


def test_edited_phrasing_changes_the_rendered_text(edited, scenarios):
    path, _ = edited("Looking back, what stays with me", "In hindsight, what stays with me")
    phrasings = load_render_phrasings(path)
    changed = 0
    for scenario in scenarios:
        default = render_bmn_implicit(scenario, random.Random(scenario.id)).text
        custom = render_bmn_implicit(scenario, random.Random(scenario.id), phrasings=phrasings).text
        assert custom == default.replace("Looking back, what stays with me", "In hindsight, what stays with me")
        changed += custom != default
    assert changed > 0


def test_edited_lesson_phrasing_reaches_the_narrative(edited, scenarios):
    path, _ = edited("It taught me something I still believe:", "It left me with a belief:")
    phrasings = load_render_phrasings(path)
    texts = [render_bmn(s, random.Random(s.id), phrasings).text for s in scenarios]
    assert any("It left me with a belief:" in t for t in texts)
    assert not any("It taught me something I still believe" in t for t in texts)


def test_outcomes_must_cover_every_consequence_kind_in_three_forms(edited):
    text = PACKAGED.read_text(encoding="utf-8")
    block = re.search(r"      unspecified:\n        - \{base: be worse off.*\n", text).group()
    path, _ = edited(block, "")
    assert "bmn.outcomes: harm: every consequence kind needs outcomes; missing: unspecified" in (
        refusal(path))
    path, line = edited("{base: get hurt, past: got hurt, perfect: been hurt}",
                        "{base: get hurt, past: got hurt}")
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: bmn.outcomes.harm.physical[0].perfect")
    assert "Field required" in message


def test_a_verdict_must_name_the_prosocial_action_and_what_happened(edited):
    chose_well = "I chose to {good}, and I would do it again: {did}. Had I chosen to {bad}, {would}."
    path, line = edited(f'- "{chose_well}"', '- "I would do it again: {did}. Had I chosen to {bad}, {would}."')
    message = refusal(path)
    assert message.startswith(f"{path}:{line}: bmn.verdict_chose_well") and "missing slot {good}" in message
    path, line = edited('- "{name} wanted me to {bad}"', '- "{name} wanted me to {bad}, which was {right}"')
    assert "unknown slot {right}" in refusal(path)


def test_edited_rules_reach_principle_flat(edited, scenarios):
    path, _ = edited("Honesty is a virtue, and deceiving people is wrong.",
                     "Telling the truth is a virtue, and deceiving people is wrong.")
    phrasings = load_render_phrasings(path)
    texts = [render_principle_flat(s, random.Random(s.id), phrasings).text for s in scenarios]
    assert any("Telling the truth is a virtue" in t for t in texts)
    assert not any("Honesty is a virtue, and" in t for t in texts)


def test_every_packaged_renderer_resolves_and_renders_by_the_seed_alone(scenarios):
    renderers = builtin_renderers()
    rendering = [c for c in all_conditions().values() if c.renders_scenarios]
    assert {c.renderer for c in rendering} == set(renderers)
    for condition in rendering:
        render = renderer_function(condition)
        assert render(scenarios[0], random.Random(0)) == render(scenarios[0], random.Random(0))


def test_a_consequence_continuing_a_time_phrase_keeps_names_and_lowers_the_rest():
    import random

    from rearing.corpus.render import _timed
    from rearing.world.schema import Consequence

    def said(text: str) -> str:
        c = Consequence(stakeholder="p1", kind="trust", timing="immediate", text=text)
        return _timed(c, ["At once, {text}"], ["Later, {text}"], random.Random(0), {"Robin", "Brandon"})

    assert said("From then on, Robin relies on Brandon.") == "At once, from then on, Robin relies on Brandon."
    assert said("Robin relies on Brandon.") == "At once, Robin relies on Brandon."
