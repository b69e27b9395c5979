"""Behaviour of the Moral Stories and ETHICS commonsense importers.

The fixtures under ``fixtures/`` are original text written for these tests, shaped like the
public releases; they are not rows from either dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rearing.io import InputError
from rearing.world.importers import (
    ETHICS_REFRAIN_ACTION,
    import_ethics_commonsense,
    import_moral_stories,
)
from rearing.world.schema import Scenario, Valence

FIXTURES = Path(__file__).parent / "fixtures"
MS_SMALL = FIXTURES / "moral_stories_small.jsonl"
MS_BAD = FIXTURES / "moral_stories_bad.jsonl"
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
    assert scenario.agent.name is None
    assert all(option.reversibility == "unknown" for option in scenario.options)
    missing = scenario.provenance.missing
    assert missing == sorted(set(missing))
    assert UNKNOWN_EVERYWHERE <= set(missing)


def write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


# --- Moral Stories --------------------------------------------------------------------------


def test_moral_stories_converts_every_record_and_round_trips() -> None:
    scenarios = import_moral_stories(MS_SMALL)
    assert [s.id for s in scenarios] == ["ms-fx01ms", "ms-fx02ms", "ms-fx03ms", "ms-L5"]
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
    assert first.agent.goal == "Priya wants to give the ladder back before the weekend."
    a, b = first.options
    assert (a.id, a.valence, b.id, b.valence) == ("a", Valence.prosocial, "b", Valence.harmful)
    assert a.action.startswith("Priya tells her neighbour")
    assert b.action.startswith("Priya leans the ladder")
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
        assert described.action == scenario.setting
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
