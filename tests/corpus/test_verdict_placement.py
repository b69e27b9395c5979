"""Where a condition states a verdict, it states it on each option right after that option's
consequences, as the question its practised format asks and the answer: that is what makes the
lesson learnable at small scale (a verdict at the end of the document is a long-range dependency
no CPU-scale model learned). Both verdict-stating renderers do it alike, so the arms stay matched."""

from __future__ import annotations

import random
import re

import pytest

from rearing.corpus.person import to_first_person
from rearing.corpus.render import render_bmn, render_bmn_implicit, render_flat, render_principle_flat
from rearing.text import action_clause, agent_name
from rearing.world.generate import GeneratorSettings, ScenarioGenerator
from rearing.world.schema import Scenario, Valence

QUESTION = re.compile(r"Is it right for (?P<who>.+?) to (?P<action>[^?]+)\? (?P<answer>Yes|No)\b")


@pytest.fixture(scope="module")
def scenarios() -> list[Scenario]:
    generator = ScenarioGenerator(GeneratorSettings(seed=5))
    return [Scenario.model_validate(generator.scenario(i)) for i in range(150)]


def verdicts(text: str) -> list[tuple[int, str, str, str]]:
    return [(m.start(), m["who"], m["action"], m["answer"]) for m in QUESTION.finditer(text)]


def test_principle_flat_judges_each_option_before_the_next_one_begins(scenarios):
    for scenario in scenarios:
        text = render_principle_flat(scenario, random.Random(1)).text
        found = verdicts(text)
        assert [(who, action) for _, who, action, _ in found] == [
            (agent_name(scenario), o.action) for o in scenario.options], text
        for (at, _, _, answer), option in zip(found, scenario.options, strict=True):
            assert answer == ("Yes" if option.valence == Valence.prosocial else "No")
        first, second = found[0][0], found[1][0]
        later = scenario.options[1]
        assert first < text.index(later.action, first + len(scenario.options[0].action) + 20) < second, \
            "the second option is introduced only after the first is judged"
        assert text.index(scenario.options[1].consequences[-1].text[1:40]) < second
        assert scenario.principle is None or text.index(scenario.principle) > second, "the principle follows"


def test_the_narrator_judges_each_path_right_after_living_it(scenarios):
    for scenario in scenarios:
        text = render_bmn(scenario, random.Random(2)).text
        found = verdicts(text)
        good, bad = scenario.option(Valence.prosocial), scenario.option(Valence.harmful)
        mine = {answer: to_first_person(action_clause(option), scenario.agent.name)
                for answer, option in (("Yes", good), ("No", bad))}
        assert sorted((action, answer) for _, _, action, answer in found) == sorted(
            (action, answer) for answer, action in mine.items()), text
        assert {who for _, who, _, _ in found} == {"me"}
        for at, _, action, _ in found:
            told = text.rfind(action, 0, at)
            other = next(a for _, _, a, _ in found if a != action)
            assert told != -1 and other not in text[told + len(action):at], "judged before the other path is told"
        reflection = text.index(scenario.principle[1:30]) if scenario.principle else len(text)
        assert max(at for at, *_ in found) < reflection, "the closing reflection weighs both after"


def test_conditions_without_a_lesson_ask_no_such_question(scenarios):
    for scenario in scenarios[:40]:
        for render in (render_flat, render_bmn_implicit):
            assert not QUESTION.search(render(scenario, random.Random(3)).text)
