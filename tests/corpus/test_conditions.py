"""Condition records: one that renders no scenario (``renderer: null``, the null control) can claim
nothing about moral documents, and nothing can be matched to it."""

from __future__ import annotations

import pytest

from rearing.config import load_config
from rearing.corpus.conditions import all_conditions, default_conditions, renderer_function
from rearing.io import InputError


def load(tmp_path, corpus: str):
    path = tmp_path / "c.yaml"
    path.write_text(f"preset: smoke\ncorpus:\n{corpus}")
    return path, load_config(path)


def test_general_only_is_a_default_condition_that_renders_no_scenario():
    null = all_conditions()["general_only"]
    assert "general_only" in default_conditions()
    assert not null.renders_scenarios and not null.content_matched and null.familiar_formats == []
    assert "null control" in null.description
    with pytest.raises(ValueError, match="renders no scenario"):
        renderer_function(null)


@pytest.mark.parametrize(("claim", "field", "why"), [
    ("", "content_matched", "no content to match"),
    ("content_matched: true", "content_matched", "no content to match"),
    ("length_matched_to: bmn_shuffled", "length_matched_to", "no documents to lengthen"),
    ("private_deliberation: true", "private_deliberation", "no narrator deliberates"),
    ("layout: phased", "layout", "a phased layout puts the moral documents last"),
    ("llm_style: Tell it as a story.", "llm_style", "nothing to write"),
])
def test_a_condition_without_moral_documents_claiming_one_is_refused_at_its_field(tmp_path, claim, field, why):
    unmatched = "" if field == "content_matched" else "      content_matched: false\n"
    corpus = f"  define:\n    nothing_moral:\n      renderer: null\n{unmatched}" + (f"      {claim}\n" if claim else "")
    with pytest.raises(InputError) as caught:
        load(tmp_path, corpus)
    problems = [p for p in caught.value.problems if f"corpus.define.nothing_moral.{field}:" in p]
    assert len(problems) == 1, caught.value.problems
    assert "renders no scenario (renderer: null)" in problems[0] and why in problems[0]
    line = 2 + corpus.count("\n") if claim else 4  # the claim's own line; an omitted field: its condition's
    assert problems[0].startswith(f"{tmp_path / 'c.yaml'}:{line}: ")


def test_nothing_is_length_matched_to_a_condition_without_moral_documents(tmp_path):
    with pytest.raises(InputError) as caught:
        load(tmp_path, "  define:\n    matched_to_nothing:\n      renderer: flat\n      content_matched: false\n"
                       "      length_matched_to: general_only\n")
    assert caught.value.problems == [(
        f"{tmp_path / 'c.yaml'}:7: corpus.define.matched_to_nothing.length_matched_to: 'general_only' renders no "
        "scenario (renderer: null): it has no documents to match the length of")]


def test_a_condition_without_moral_documents_has_no_ordering_to_override(tmp_path):
    with pytest.raises(InputError) as caught:
        load(tmp_path, "  orderings: {general_only: developmental}\n")
    assert any("corpus.orderings.general_only: 'general_only' renders no scenario" in p
               for p in caught.value.problems)


def test_a_null_control_of_your_own_may_transform_its_text_and_needs_no_llm_style(tmp_path):
    _, config = load(tmp_path, "  backend: llm\n  conditions: [flat, raised_general_only]\n  define:\n"
                               "    raised_general_only:\n      renderer: null\n      content_matched: false\n"
                               "      transform_general: [first_person]\n")
    defined = config.corpus.define["raised_general_only"]
    assert not defined.renders_scenarios and defined.transform_general == ["first_person"]
