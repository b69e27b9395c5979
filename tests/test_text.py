"""The shared text helpers: one rule each for naming people, articles and who is hurt most."""

from __future__ import annotations

import random

import pytest

from rearing.corpus.render import render_flat
from rearing.text import agent_name, article, lower_first, most_harmed, people_names
from rearing.world.schema import SELF, Scenario


def scenario(**changes) -> Scenario:
    data = {
        "id": "t1", "domain": "market", "setting": "A stall at the market.",
        "agent": {"name": None, "role": "stall keeper", "goal": None},
        "stakeholders": [
            {"id": "p1", "name": "Ada", "role": "buyer", "relationship": "stranger", "need": "a fair price",
             "vulnerability": "low"},
            {"id": "p2", "name": "Ben", "role": "porter", "relationship": "colleague", "need": "his wage",
             "vulnerability": "low"},
        ],
        "options": [
            {"id": "a", "action": "keep the change", "valence": "harmful", "reversibility": "reversible",
             "consequences": [
                 {"stakeholder": "p2", "kind": "material", "timing": "immediate", "magnitude": -0.5,
                  "text": "Ben loses a day's wage."},
                 {"stakeholder": "p1", "kind": "material", "timing": "immediate", "magnitude": -0.5,
                  "text": "Ada pays too much."},
             ]},
            {"id": "b", "action": "give the change back", "valence": "prosocial", "reversibility": "reversible",
             "consequences": []},
        ],
        "foundations": ["fairness"], "stage": None, "difficulty": None, "principle": None, "pressures": [],
        "provenance": {"source": "moral-stories"},
    }
    data.update(changes)
    return Scenario.model_validate(data)


def test_an_agent_without_a_name_is_the_role_everywhere():
    unnamed = scenario()
    assert agent_name(unnamed) == people_names(unnamed)[SELF] == "the stall keeper"
    text = render_flat(unnamed, random.Random(0)).text
    assert "the stall keeper" in text.lower() and "the agent" not in text.lower()


def test_most_harmed_breaks_ties_by_stakeholder_order_not_consequence_order():
    assert most_harmed(scenario()) == "Ada"


@pytest.mark.parametrize("word, expected", [
    ("apple", "an"), ("banker", "a"), ("user in a crisis", "a"), ("hr director", "an"), ("hour", "an"),
    ("usb stick", "a"), ("one-way street", "a"), ("umbrella", "an"),
])
def test_article_goes_by_sound(word, expected):
    assert article(word) == expected


def test_lower_first_keeps_names_and_i():
    assert lower_first("The van left.") == "the van left."
    assert lower_first("Ada left.") == "Ada left."
    assert lower_first("When it rained, Ada left.", names=["Ada"]) == "when it rained, Ada left."
    assert lower_first("Ada: hello.", names=["Ada"]) == "Ada: hello."
    assert lower_first("I: hello.", names=["Ada"]) == "I: hello."
