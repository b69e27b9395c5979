"""Behaviour of the Moral Stories and ETHICS commonsense importers.

The fixtures under ``fixtures/`` are original text written for these tests, shaped like the
public releases; they are not rows from either dataset.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from rearing.corpus.render import render_bmn, render_flat, render_principle_flat
from rearing.evals.formats import FORMAT_PERSON, render_item
from rearing.evals.views import scenario_view
from rearing.io import InputError
from rearing.world.importers import (
    ETHICS_REFRAIN_ACTION,
    import_ethics_commonsense,
    import_moral_stories,
    verb_phrase_fallbacks,
)
from rearing.world.schema import Scenario, Valence
from rearing.world.verb_phrases import ETHICS_ACT_FALLBACK, goal_phrase, verb_phrase

FIXTURES = Path(__file__).parent / "fixtures"
MS_SMALL = FIXTURES / "moral_stories_small.jsonl"
MS_BAD = FIXTURES / "moral_stories_bad.jsonl"
MS_SENTENCES = FIXTURES / "moral_stories_sentences.jsonl"
CM_SMALL = FIXTURES / "ethics_commonsense_small.csv"
CM_EXTRA = FIXTURES / "ethics_commonsense_extra_columns.csv"
CM_BAD = FIXTURES / "ethics_commonsense_bad.csv"
CM_NO_INPUT = FIXTURES / "ethics_commonsense_no_input.csv"

UNKNOWN_EVERYWHERE = {
    "agent.name",
    "difficulty",
    "domain",
    "foundations",
    "pressures",
    "stage",
    "stakeholders",
}

MS_RECORD = {
    "ID": "t1",
    "norm": "Keep your word.",
    "situation": "Ines said she would feed her friend's cat.",
    "intention": "Ines wants to go to the beach.",
    "moral_action": "Ines feeds the cat before leaving.",
    "immoral_action": "Ines goes to the beach and skips the cat.",
}


def assert_round_trips(scenarios: list[Scenario]) -> None:
    for scenario in scenarios:
        again = Scenario.model_validate_json(scenario.model_dump_json())
        assert again == scenario


def assert_explicit_unknowns(scenario: Scenario) -> None:
    assert scenario.stage is None
    assert scenario.difficulty is None
    assert scenario.foundations == []
    assert scenario.stakeholders == []
    assert scenario.pressures == []
    assert scenario.domain == "unknown"
    assert all(option.reversibility == "unknown" for option in scenario.options)
    missing = scenario.provenance.missing
    assert missing == sorted(set(missing))
    # The agent's name is known only where the source names the actor (Moral Stories' subjects).
    assert (scenario.agent.name is None) == ("agent.name" in missing)
    assert UNKNOWN_EVERYWHERE - {"agent.name"} <= set(missing)


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# --- Moral Stories --------------------------------------------------------------------------


def test_moral_stories_converts_every_record_and_round_trips() -> None:
    scenarios = import_moral_stories(MS_SMALL)
    assert [s.id for s in scenarios] == ["ms-fx01ms", "ms-fx02ms", "ms-fx03ms", "ms-L5"]
    assert [s.agent.name for s in scenarios] == ["Priya", "Tomasz", "Amara", "Luis"]
    assert verb_phrase_fallbacks(scenarios) == {}
    assert_round_trips(scenarios)
    for scenario in scenarios:
        assert_explicit_unknowns(scenario)
        assert scenario.has_moral_contrast
        assert scenario.provenance.source == "moral-stories"
        assert scenario.agent.role == "protagonist"


def test_moral_stories_maps_fields_and_valences() -> None:
    first = import_moral_stories(MS_SMALL)[0]
    assert first.principle.startswith("You should return things you borrow")
    assert first.setting.startswith("Priya borrowed her neighbour's ladder")
    assert first.agent.goal == "give the ladder back before the weekend"
    a, b = first.options
    assert (a.id, a.valence, b.id, b.valence) == ("a", Valence.prosocial, "b", Valence.harmful)
    assert a.action.startswith("tell her neighbour")
    assert b.action.startswith("lean the ladder")
    assert not a.derived and not b.derived
    (consequence,) = a.consequences
    assert consequence.text.startswith("Her neighbour thanks her")
    assert (consequence.stakeholder, consequence.kind, consequence.timing) == (
        None,
        "unspecified",
        "unknown",
    )
    assert b.consequences[0].text.startswith("The rung gives way")
    assert first.provenance.source_id == "fx01ms"
    assert first.provenance.source_line == 1
    assert "options.a.consequences" not in first.provenance.missing


def test_moral_stories_absent_or_empty_consequences_are_listed_missing() -> None:
    by_id = {s.id: s for s in import_moral_stories(MS_SMALL)}
    no_consequences = by_id["ms-fx03ms"]
    assert [o.consequences for o in no_consequences.options] == [[], []]
    assert {"options.a.consequences", "options.b.consequences"} <= set(
        no_consequences.provenance.missing
    )
    # Line 5 has an empty moral_consequence but a real immoral one.
    partial = by_id["ms-L5"]
    assert partial.options[0].consequences == []
    assert len(partial.options[1].consequences) == 1
    assert "options.a.consequences" in partial.provenance.missing
    assert "options.b.consequences" not in partial.provenance.missing


def test_moral_stories_without_usable_id_falls_back_to_line_number(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "stories.jsonl",
        [{**MS_RECORD, "ID": "has spaces/slash"}, {**MS_RECORD, "ID": None}, MS_RECORD],
    )
    scenarios = import_moral_stories(path)
    assert [s.id for s in scenarios] == ["ms-L1", "ms-L2", "ms-t1"]
    assert scenarios[0].provenance.source_id == "has spaces/slash"
    assert scenarios[1].provenance.source_id is None
    # The fourth record has no ID and follows a blank line: its id and line are both line 5.
    assert import_moral_stories(MS_SMALL)[3].provenance.source_line == 5


def test_moral_stories_reports_every_bad_record() -> None:
    with pytest.raises(InputError) as info:
        import_moral_stories(MS_BAD)
    where = str(MS_BAD)
    assert info.value.problems == [
        f"{where}:2: <json>: Unterminated string starting at at column 67",
        f"{where}:3: norm: missing",
        f"{where}:4: situation: blank",
        f"{where}:4: immoral_action: expected a string, got int",
        f"{where}:5: <record>: expected a JSON object, got list",
        f"{where}:6: ID: duplicate scenario id 'ms-bad01' (first on line 1)",
    ]
    assert info.value.total == 6


def test_moral_stories_json_error_format(tmp_path: Path) -> None:
    path = tmp_path / "stories.jsonl"
    path.write_text(json.dumps(MS_RECORD) + "\nnot json\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_moral_stories(path)
    assert info.value.problems == [f"{path}:2: <json>: Expecting value at column 1"]


def test_moral_stories_null_required_field_is_an_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "stories.jsonl", [{**MS_RECORD, "intention": None}])
    with pytest.raises(InputError) as info:
        import_moral_stories(path)
    assert info.value.problems == [f"{path}:1: intention: missing (null)"]


def test_errors_are_capped_at_twenty_but_all_counted(tmp_path: Path) -> None:
    bad = {k: v for k, v in MS_RECORD.items() if k != "norm"}
    path = write_jsonl(tmp_path / "stories.jsonl", [bad] * 25)
    with pytest.raises(InputError) as info:
        import_moral_stories(path)
    assert len(info.value.problems) == 20
    assert info.value.total == 25
    assert info.value.problems[-1] == f"{path}:20: norm: missing"
    assert "... and 5 more" in str(info.value)


def test_missing_files_raise_input_error(tmp_path: Path) -> None:
    for importer in (import_moral_stories, import_ethics_commonsense):
        path = tmp_path / "absent.data"
        with pytest.raises(InputError) as info:
            importer(path)
        assert info.value.problems == [f"{path}: no such file"]


def test_invalid_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "stories.jsonl"
    path.write_bytes(json.dumps(MS_RECORD).encode() + b"\n{\"norm\": \"caf\xe9\"}\n")
    with pytest.raises(InputError) as info:
        import_moral_stories(path)
    assert info.value.problems == [f"{path}:2: <encoding>: not valid UTF-8 (byte 0xe9)"]


# --- ETHICS commonsense ---------------------------------------------------------------------


def test_ethics_converts_every_row_and_round_trips() -> None:
    scenarios = import_ethics_commonsense(CM_SMALL)
    # The quoted row on lines 5-6 spans two lines; the next record starts on line 7.
    assert [s.id for s in scenarios] == [
        "ethics-cm-L2",
        "ethics-cm-L3",
        "ethics-cm-L4",
        "ethics-cm-L5",
        "ethics-cm-L7",
    ]
    assert [s.provenance.source_line for s in scenarios] == [2, 3, 4, 5, 7]
    assert_round_trips(scenarios)
    for scenario in scenarios:
        assert_explicit_unknowns(scenario)
        assert scenario.principle is None
        assert scenario.agent.role == "narrator"
        assert scenario.agent.name is None
        assert scenario.agent.goal is None
        assert scenario.provenance.source == "ethics-commonsense"
        assert scenario.provenance.source_id is None
        assert {
            "agent.goal",
            "principle",
            "options.a.consequences",
            "options.b.consequences",
            "options.b.valence",
        } <= set(scenario.provenance.missing)


def test_ethics_label_sets_valence_and_refrain_option_is_derived() -> None:
    scenarios = import_ethics_commonsense(CM_SMALL)
    assert [s.options[0].valence for s in scenarios] == [
        Valence.harmful,
        Valence.neutral,
        Valence.neutral,
        Valence.harmful,
        Valence.neutral,
    ]
    for scenario in scenarios:
        described, refrain = scenario.options
        assert scenario.setting.startswith("I ")
        assert not described.derived
        assert described.consequences == []
        assert refrain.derived
        assert refrain.action == ETHICS_REFRAIN_ACTION
        assert refrain.valence == Valence.unknown
        assert refrain.consequences == []
        assert not scenario.has_moral_contrast


def test_ethics_keeps_quoted_commas_and_newlines() -> None:
    scenarios = import_ethics_commonsense(CM_SMALL)
    assert scenarios[1].setting == (
        "I stayed late at the bakery, even though my shift was over, "
        "to help my coworker finish the orders."
    )
    assert scenarios[3].setting == (
        "I told my friend her painting was ugly in front of everyone at the gallery.\n"
        "Then I laughed when she started to cry."
    )


def test_ethics_extra_columns_are_ignored() -> None:
    scenarios = import_ethics_commonsense(CM_EXTRA)
    assert [s.options[0].valence for s in scenarios] == [Valence.harmful, Valence.neutral]
    assert scenarios[1].setting.startswith("I watered my neighbour's plants, as I had promised")
    assert_round_trips(scenarios)


def test_ethics_reports_every_bad_row_at_its_starting_line() -> None:
    with pytest.raises(InputError) as info:
        import_ethics_commonsense(CM_BAD)
    where = str(CM_BAD)
    assert info.value.problems == [
        f"{where}:3: label: expected 0 or 1, got 'x'",
        f"{where}:4: label: expected 0 or 1, got '2'",
        f"{where}:6: input: blank",
        f"{where}:7: label: expected 0 or 1, got ''",
        f"{where}:8: <row>: expected 2 fields, got 3 (unquoted comma in input?)",
    ]
    assert info.value.total == 5


def test_ethics_requires_label_and_input_columns() -> None:
    with pytest.raises(InputError) as info:
        import_ethics_commonsense(CM_NO_INPUT)
    assert info.value.problems == [
        f"{CM_NO_INPUT}:1: input: missing column in header ['label', 'text']"
    ]


def test_ethics_short_row_reports_missing_input(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("label,input\n1\n0,I fed the birds.\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_ethics_commonsense(path)
    assert info.value.problems == [f"{path}:2: input: missing"]


def test_ethics_broken_quoting_is_reported_and_other_rows_still_checked(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text(
        'label,input\n0,"I said "hi" to him"\nz,I ran.\n1,"I never closed this\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        import_ethics_commonsense(path)
    assert info.value.problems == [
        f"{path}:2: <csv>: ',' expected after '\"'",
        f"{path}:3: label: expected 0 or 1, got 'z'",
        f"{path}:4: <csv>: unexpected end of data",
    ]


def test_ethics_empty_file_and_header_only(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_ethics_commonsense(empty)
    assert info.value.problems == [
        f"{empty}:1: <header>: empty file, expected a header with label,input"
    ]
    header_only = tmp_path / "header.csv"
    header_only.write_text("label,input\n", encoding="utf-8")
    assert import_ethics_commonsense(header_only) == []


def test_ethics_accepts_bom_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_bytes(
        b'\xef\xbb\xbflabel,input\r\n1,"I broke it,\r\nthen hid it."\r\n0,I swept.\r\n'
    )
    scenarios = import_ethics_commonsense(path)
    assert [s.id for s in scenarios] == ["ethics-cm-L2", "ethics-cm-L4"]
    assert scenarios[0].setting == "I broke it,\nthen hid it."


# --- Sentences as verb phrases --------------------------------------------------------------

# A subject followed by its own verb where the action should start ("decide to Priya tells").
SUBJECT_AFTER_FRAME = re.compile(r"\b(?:to|can|could|should) (?:[A-Z][a-z]+ [a-z]+(?:s|ed)|I [a-z]+)\b")


@pytest.mark.parametrize(
    ("sentence", "subject", "phrase"),
    [
        ("Priya tells her friend the truth.", "Priya", "tell her friend the truth"),
        ("Jordan decides to keep the wallet.", "Jordan", "keep the wallet"),
        ("Jordan chose not to keep the wallet.", "Jordan", "not keep the wallet"),
        ("Sam doesn't return the call.", "Sam", "not return the call"),
        ("Sam does not call back and goes to bed.", "Sam", "not call back and go to bed"),
        ("Mia is honest with her boss.", "Mia", "be honest with her boss"),
        ("Mia was rude to the waiter and left without tipping.", "Mia", "be rude to the waiter and leave without tipping"),
        ("Mia was caught and punished.", "Mia", "be caught and punished"),
        ("Mia has her brother carry the boxes.", "Mia", "have her brother carry the boxes"),
        ("Luis goes ahead and deletes the file.", "Luis", "delete the file"),
        ("Luis is going to report the error.", "Luis", "report the error"),
        ("Joe grabbed his coat and hurried out.", "Joe", "grab his coat and hurry out"),
        ("Joe hoped for the best and invited his friends.", "Joe", "hope for the best and invite his friends"),
        ("Joe realizes his mistake and apologizes.", "Joe", "realize his mistake and apologize"),
        ("Kai cleans the room, folds the laundry, and vacuums the floor.", "Kai",
         "clean the room, fold the laundry, and vacuum the floor"),
        ("Kai buys apples and oranges.", "Kai", "buy apples and oranges"),
        ("Kai tells the coach that his knee hurts and sits out.", "Kai", "tell the coach that his knee hurts and sits out"),
        ("She quietly makes herself a sandwich.", "She", "quietly make herself a sandwich"),
        ("They split the bill.", "They", "split the bill"),
        ("Mr. Okafor tells the class the answer.", "Mr. Okafor", "tell the class the answer"),
        ("Dan tells Ana the truth. He then leaves the room.", "Dan", "tell Ana the truth, and then leave the room"),
        ("I broke it.\nThen I hid it.", "I", "break it, then hide it"),
    ],
)
def test_sentences_become_verb_phrases_for_their_subject(sentence: str, subject: str, phrase: str) -> None:
    assert verb_phrase(sentence) == (subject, phrase)


@pytest.mark.parametrize(
    "sentence",
    [
        "Dan can't find the keys.",  # a modal: the act is not stated
        "Dan is telling the truth.",  # progressive
        "Dan has already told her.",  # perfect
        "Priya's friend tells the teacher.",  # the subject is not a person's name
        "The manager tells Dan to leave.",
        "At the desk, Kofi points out the scratch.",
        "Dan tells Ana. Ana leaves.",  # a second sentence with another subject
    ],
)
def test_sentences_the_rules_cannot_read_give_none(sentence: str) -> None:
    assert verb_phrase(sentence) is None


def test_intentions_become_goal_phrases() -> None:
    assert goal_phrase("Priya wants to give the ladder back.") == ("Priya", "give the ladder back")
    assert goal_phrase("Josh needs to get to work.") == ("Josh", "get to work")
    assert goal_phrase("Ana is trying to save money.") == ("Ana", "save money")
    assert goal_phrase("Ana wants her team to win.") == ("Ana", "get her team to win")
    assert goal_phrase("Ana saves money for a trip.") == ("Ana", "save money for a trip")
    assert goal_phrase("Ana's team is losing.") is None


def test_moral_stories_actions_and_goals_are_verb_phrases() -> None:
    scenarios = import_moral_stories(MS_SMALL)
    assert [(s.options[0].action, s.options[1].action, s.agent.goal) for s in scenarios] == [
        (
            "tell her neighbour about the bent rung and offer to pay for a repair",
            "lean the ladder against her neighbour's shed and say nothing about the damage",
            "give the ladder back before the weekend",
        ),
        (
            "invite the new student to join his table of friends",
            "joke with his friends about the new student eating alone",
            "catch up with his friends at lunch",
        ),
        (
            "tell the manager that her teammate tracked down the bug",
            "present the fix as if she had found it herself",
            "impress her manager in the weekly meeting",
        ),
        (
            "go to the play and cheer loudly at the end",
            "stay home and tell his niece later that he forgot",
            "rest after a long week at work",
        ),
    ]
    for scenario in scenarios:
        assert "agent.name" not in scenario.provenance.missing
        # the setting is a sentence, not a verb phrase, and stays as written
        assert scenario.setting[0].isupper() and scenario.setting.endswith(".")


def test_moral_stories_sentence_forms_and_the_agent_they_name() -> None:
    by_id = {s.id: s for s in import_moral_stories(MS_SENTENCES)}
    read = {sid: (s.agent.name, s.options[0].action, s.options[1].action, s.agent.goal) for sid, s in by_id.items()}
    assert read["ms-sx01"] == ("Priya", "tell her friend the truth", "tell her friend the dress looks perfect",
                               "get Dana to feel confident before the show")
    assert read["ms-sx02"] == ("Jordan", "hand the wallet to the driver", "keep the wallet",
                               "get money for his phone bill")
    assert read["ms-sx03"] == ("Sam", "call his grandmother back and apologize for the delay", "not return the call",
                               "finish a video game level tonight")
    assert read["ms-sx04"] == ("Nadia", "count the change and give the extra money back",
                               "keep the extra money and hurry out of the shop", "save up for a concert ticket")
    # one action says "He": the other action's name is the agent's
    assert read["ms-sx05"] == ("Omar", "be patient with the trainee and show him the steps again",
                               "snap at the trainee and take over the till himself",
                               "get the morning rush to go smoothly")


def test_unreadable_sentences_fall_back_to_a_verb_phrase_and_are_recorded() -> None:
    scenarios = import_moral_stories(MS_SENTENCES)
    by_id = {s.id: s for s in scenarios}
    # One action cannot be read; the other and the intention both name Kofi as the actor.
    kofi = by_id["ms-sx06"]
    assert kofi.agent.name == "Kofi"
    assert kofi.options[0].action == "see to it that at the desk, Kofi points out the scratch to the staff"
    assert kofi.options[1].action == "return the keys and say nothing about the scratch"
    assert "options.a.action.verb_phrase" in kofi.provenance.missing
    assert "options.b.action.verb_phrase" not in kofi.provenance.missing
    # Two different names: the actor is unknown, and no name is dropped from a sentence.
    lena = by_id["ms-sx07"]
    assert lena.agent.name is None and "agent.name" in lena.provenance.missing
    assert [o.action for o in lena.options] == [
        "see to it that Lena waters the tomatoes every evening",
        "see to it that Lina forgets the tomatoes until they wilt",
    ]
    assert lena.agent.goal == "see to it that Lena wants a lazy weekend"
    assert {"options.a.action.verb_phrase", "options.b.action.verb_phrase", "agent.goal.verb_phrase"} <= set(
        lena.provenance.missing
    )
    assert verb_phrase_fallbacks(scenarios) == {"options.a.action": 2, "options.b.action": 1, "agent.goal": 1}
    assert_round_trips(scenarios)


def rendered_texts(scenario: Scenario) -> list[str]:
    """The scenario as every corpus renderer and every eval item format shows it."""
    texts = [render(scenario, random.Random(seed)).text
             for render in (render_flat, render_principle_flat, render_bmn) for seed in range(8)]
    view = scenario_view(scenario)
    if view is not None:
        for fmt in FORMAT_PERSON:
            for prosocial_first in (True, False):
                texts.append(render_item(view, fmt, prosocial_first).prompt)
    return texts


def test_rendered_items_and_corpus_read_the_action_after_the_agent() -> None:
    priya = next(s for s in import_moral_stories(MS_SENTENCES) if s.id == "ms-sx01")
    view = scenario_view(priya)
    judgment = render_item(view, "judgment", prosocial_first=True).prompt
    assert "If Priya decides to tell her friend the truth: Dana borrows a jacket" in judgment
    assert judgment.endswith("Is it right for Priya to tell her friend the truth?")
    continuation = render_item(view, "continuation", prosocial_first=True)
    assert "If I decide to tell her friend the truth: " in continuation.prompt
    assert continuation.choices[0] == " tell her friend the truth."
    ab = render_item(view, "ab", prosocial_first=True).prompt
    assert "A. Tell her friend the truth. Likely result:" in ab
    flat = " ".join(render_flat(priya, random.Random(seed)).text for seed in range(8))
    assert re.search(r"(?:Priya can|chooses to|is to) tell her friend the truth", flat)
    bmn = " ".join(render_bmn(priya, random.Random(seed)).text for seed in range(8))
    assert re.search(r"I (?:chose|decided) to tell her friend the truth", bmn)
    for scenario in [*import_moral_stories(MS_SMALL), *import_moral_stories(MS_SENTENCES)]:
        for text in rendered_texts(scenario):
            assert not SUBJECT_AFTER_FRAME.search(text), text
            assert ".." not in text


def test_ethics_actions_are_verb_phrases_for_the_narrator() -> None:
    scenarios = import_ethics_commonsense(CM_SMALL)
    assert [s.options[0].action for s in scenarios] == [
        "take the last of my roommate's medicine without asking because I had a mild headache",
        "stay late at the bakery, even though my shift was over, to help my coworker finish the orders",
        "read a bedtime story to my little brother",
        "tell my friend her painting was ugly in front of everyone at the gallery, then laugh when she started to cry",
        "pay for my groceries with the coupon I found in the newspaper",
    ]
    assert verb_phrase_fallbacks(scenarios) == {}
    for scenario in scenarios:
        for text in rendered_texts(scenario):
            assert not SUBJECT_AFTER_FRAME.search(text), text


def test_ethics_action_without_the_narrator_as_subject_falls_back(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("label,input\n0,My sister and I cooked dinner for our parents.\n1,I can't stand my boss.\n",
                    encoding="utf-8")
    scenarios = import_ethics_commonsense(path)
    assert [s.options[0].action for s in scenarios] == [ETHICS_ACT_FALLBACK, ETHICS_ACT_FALLBACK]
    assert scenarios[0].setting == "My sister and I cooked dinner for our parents."
    assert all("options.a.action.verb_phrase" in s.provenance.missing for s in scenarios)
    assert verb_phrase_fallbacks(scenarios) == {"options.a.action": 2}
