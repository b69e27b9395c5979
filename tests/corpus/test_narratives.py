"""The narratives carry the lesson: every content unit of their scenario (the principle in the
narrator's words and the path they would walk again among them), and the narrator's private
deliberation at the choice point as a private span; the lesson-free narratives carry neither the
principle nor the verdict."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from rearing.corpus.render import (
    Rendered,
    RenderPhrasings,
    load_render_phrasings,
    render_bmn,
    render_bmn_implicit,
    scenario_units,
)
from rearing.text import action_clause, lower_first, person_name
from rearing.world.generate import GeneratorSettings, ScenarioGenerator
from rearing.world.importers import import_ethics_commonsense, import_moral_stories
from rearing.world.schema import Scenario, Valence

FIXTURES = Path(__file__).parents[1] / "world" / "fixtures"
LESSON = {"principle", "verdict"}


@pytest.fixture(scope="module")
def many() -> list[Scenario]:
    generator = ScenarioGenerator(GeneratorSettings(seed=11))
    return [Scenario.model_validate(generator.scenario(i)) for i in range(500)]


@pytest.fixture(scope="module")
def some(many) -> list[Scenario]:
    return many[:80]


def private_texts(doc: Rendered) -> list[str]:
    return [doc.text[a:b] for a, b in doc.private]


def most_harmed(scenario: Scenario) -> str:
    harmful = scenario.option(Valence.harmful)
    others = [c for c in harmful.consequences if c.stakeholder not in (None, "self")]
    worst = min(others, key=lambda c: c.magnitude)
    return person_name(next(s for s in scenario.stakeholders if s.id == worst.stakeholder))


def marked(phrasings: RenderPhrasings) -> RenderPhrasings:
    """The phrasings with one marked phrasing for each path opening and each verdict, so a test can
    find them in the text."""
    bmn = phrasings.bmn.model_copy(update={
        "took": ["[took] I chose to {action}."],
        "verdict_learned": ["[learned] I chose to {bad}, and {did}. Had I chosen to {good}, {would}. [end]"],
        "verdict_chose_well": [
            "[chose well] I chose to {good}, and {did}. Had I chosen to {bad}, {would}. [end]"],
    })
    return phrasings.model_copy(update={"bmn": bmn})


def test_every_narrative_carries_every_unit_of_its_scenario_and_a_deliberation(many):
    for scenario in many:
        doc = render_bmn(scenario, random.Random(scenario.id))
        missing = set(scenario_units(scenario)) - set(doc.units)
        assert not missing, (scenario.id, missing, doc.text)
        assert "deliberation" in doc.units and len(doc.private) == 1, scenario.id
        assert scenario.principle and lower_first(scenario.principle, {scenario.agent.name}) in doc.text


def test_imported_narratives_carry_every_unit_their_scenario_has():
    scenarios = [*import_moral_stories(FIXTURES / "moral_stories_small.jsonl"),
                 *import_moral_stories(FIXTURES / "moral_stories_sentences.jsonl"),
                 *import_ethics_commonsense(FIXTURES / "ethics_commonsense_small.csv")]
    for scenario in scenarios:
        doc = render_bmn(scenario, random.Random(0))
        expected = set(scenario_units(scenario)) | {"deliberation"}
        if not (scenario.option(Valence.prosocial) or scenario.option(Valence.harmful)):
            expected.discard("verdict")  # no option is known to be right or wrong: no verdict to give
        assert expected <= set(doc.units), (scenario.id, expected - set(doc.units))
        assert len(doc.private) == 1


def test_the_private_span_is_the_deliberation_and_weighs_who_is_affected(some):
    for scenario in some:
        doc = render_bmn(scenario, random.Random(scenario.id))
        (span,) = private_texts(doc)
        harmed = most_harmed(scenario)
        assert harmed in span, (harmed, span)
        assert 1 <= len(re.findall(r"[.!?](?:\s|$)", span)) <= 3, span
        assert not re.search(r"\b(right|wrong|should|ought|must)\b", span, re.IGNORECASE), span
        harmful = scenario.option(Valence.harmful)
        assert f"I would {action_clause(scenario.option(Valence.prosocial))}" not in span
        if harmful.agent_payoff:
            assert scenario.agent.goal in span, span
        if scenario.difficulty.visibility == "unobserved":
            assert re.search(r"\b(no one|nobody)\b", span, re.IGNORECASE), span
        # At the choice point: after the people, before any path is lived out.
        start, end = doc.private[0]
        assert doc.text.index(" needs ") < start
        assert end < doc.text.index(f"to {action_clause(harmful)}", end - 1)
        assert scenario.agent.name not in re.findall(r"[A-Z][a-z]+", span), span


def test_both_renderers_deliberate_alike(some):
    for scenario in some[:20]:
        lesson = render_bmn(scenario, random.Random(3))
        implicit = render_bmn_implicit(scenario, random.Random(3))
        assert private_texts(lesson) == private_texts(implicit)


def test_the_lesson_free_narrative_carries_neither_principle_nor_verdict(many):
    reflections = load_render_phrasings().bmn.reflect
    for scenario in many[:200]:
        doc = render_bmn_implicit(scenario, random.Random(scenario.id))
        assert set(doc.units) == (set(scenario_units(scenario)) - LESSON) | {"deliberation"}, scenario.id
        assert len(doc.private) == 1
        assert lower_first(scenario.principle) not in doc.text.lower()
        names = " and ".join(person_name(s) for s in scenario.stakeholders[:2])
        assert any(doc.text.endswith(r.format(names=names)) for r in reflections), doc.text
        good = action_clause(scenario.option(Valence.prosocial))
        assert f"I would {good}" not in doc.text


def test_the_verdict_names_the_prosocial_action_and_what_happened_to_each_person(some):
    phrasings = marked(load_render_phrasings())
    variants = {"learned": 0, "chose well": 0}
    for scenario in some:
        doc = render_bmn(scenario, random.Random(scenario.id), phrasings)
        variant, verdict = re.search(r"\[(learned|chose well)\] (.*?) \[end\]", doc.text).groups()
        variants[variant] += 1
        good = action_clause(scenario.option(Valence.prosocial))
        bad = action_clause(scenario.option(Valence.harmful))
        assert good in verdict and bad in verdict
        assert most_harmed(scenario) in verdict, verdict
        # The path the narrator took is told first and as what they did.
        took = re.search(r"\[took\] I chose to (.*?)\.", doc.text).group(1)
        assert took == (bad if variant == "learned" else good)
        assert doc.text.index("[took]") < doc.text.index(f"to {good if variant == 'learned' else bad}",
                                                          doc.text.index("[took]") + len(took) + 20)
        # What happened on the path taken is told as what happened, the other path as what would have.
        did, would = re.search(r", and (.*?)\. Had I chosen to .*?, (.*)\.$", verdict).groups()
        assert " would have " in would and " would have " not in did, verdict
    assert variants["learned"] > 10 and variants["chose well"] > 10, variants


def test_the_verdict_says_what_each_path_did_to_the_narrator_when_it_paid(some):
    phrasings = marked(load_render_phrasings())
    paid = [s for s in some if s.option(Valence.harmful).agent_payoff]
    assert paid
    for scenario in paid:
        doc = render_bmn(scenario, random.Random(scenario.id), phrasings)
        verdict = re.search(r"\[(?:learned|chose well)\] (.*?) \[end\]", doc.text).group(1)
        assert verdict.count(scenario.agent.goal) == 2, verdict


def test_the_same_rng_gives_the_same_text_and_documents_vary(some):
    for scenario in some[:10]:
        assert render_bmn(scenario, random.Random(5)) == render_bmn(scenario, random.Random(5))
        implicit = render_bmn_implicit(scenario, random.Random(5))
        assert implicit == render_bmn_implicit(scenario, random.Random(5))
    texts = {render_bmn(some[0], random.Random(seed)).text for seed in range(6)}
    assert len(texts) > 1


def test_the_narrator_is_never_named(some):
    for scenario in some:
        for render in (render_bmn, render_bmn_implicit):
            text = render(scenario, random.Random(scenario.id)).text
            assert not re.search(rf"\b{scenario.agent.name}\b", text), text


def test_the_lesson_free_condition_exists_outside_the_default_set_and_is_unmatched():
    from rearing.corpus.conditions import all_conditions, default_conditions, renderer_function

    condition = all_conditions()["bmn_implicit"]
    assert renderer_function(condition) is render_bmn_implicit
    assert not condition.content_matched and not condition.in_default_set
    assert "bmn_implicit" not in default_conditions()
    assert {"bmn_shuffled", "bmn_developmental", "raised"} <= set(default_conditions())
    assert all(all_conditions()[name].content_matched for name in ("bmn_shuffled", "bmn_developmental", "raised"))
