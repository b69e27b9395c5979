"""Convert public moral datasets into Scenario records without inventing what they lack.

Each importer fills only what its source states. Everything else is set to an explicit unknown
(``None``, ``[]`` or ``"unknown"``) and named in ``provenance.missing``, so later stages can tell
a gap from a fact. Bad input raises ``InputError`` listing every bad record as
``file:line: field: reason`` so a user can fix a file in one pass.

Renderers put an action after its agent ("If Priya decides to {action}") and a goal after "wants
to", so the sources' sentences become verb phrases (``rearing.world.verb_phrases``): "Priya tells
her friend the truth." is stored as "tell her friend the truth", and the name both Moral Stories
actions have as subject becomes the agent's name. A sentence the rules cannot read is stored behind
a wrapper that is still a verb phrase, and the field is named in ``provenance.missing`` with the
suffix ``.verb_phrase`` (``verb_phrase_fallbacks`` counts them).
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from rearing.io import DEFAULT_ERROR_LIMIT, InputError, Problems, format_validation_error, json_lines
from rearing.world.schema import Scenario
from rearing.world.verb_phrases import (
    ETHICS_ACT_FALLBACK,
    VERB_PHRASE_SUFFIX,
    fallback_phrase,
    goal_phrase,
    is_pronoun,
    verb_phrase,
)

MORAL_STORIES_SOURCE = "moral-stories"
ETHICS_COMMONSENSE_SOURCE = "ethics-commonsense"

_ID_PATTERN = re.compile(r"[A-Za-z0-9_.:-]+")

# Fields neither dataset provides; listed in provenance.missing for every imported scenario.
_ALWAYS_MISSING = (
    "agent.name",
    "difficulty",
    "domain",
    "foundations",
    "pressures",
    "stage",
    "stakeholders",
)

_MS_REQUIRED = ("norm", "situation", "intention", "moral_action", "immoral_action")
_MS_OPTIONS = (
    # option id, action key, consequence key, valence
    ("a", "moral_action", "moral_consequence", "prosocial"),
    ("b", "immoral_action", "immoral_consequence", "harmful"),
)
# Source text read as a verb phrase, and the field it fills.
_MS_PHRASES = (("moral_action", "options.a.action"), ("immoral_action", "options.b.action"),
               ("intention", "agent.goal"))

ETHICS_REFRAIN_ACTION = "refrain from doing this"
_ETHICS_REQUIRED_COLUMNS = ("label", "input")


def _read_text(path: Path) -> str:
    """Read UTF-8 text (a leading BOM is dropped); fail with a line number on bad bytes."""
    if not path.is_file():
        raise InputError([f"{path}: no such file"])
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        raise InputError([f"{path}:{line}: <encoding>: not valid UTF-8 (byte 0x{byte})"]) from None


def _sorted_unique(fields: list[str]) -> list[str]:
    return sorted(set(fields))


def verb_phrase_fallbacks(scenarios: Iterable[Scenario]) -> Counter[str]:
    """How many imported scenarios kept a field's text behind the fallback wrapper, per field."""
    return Counter(
        entry.removesuffix(VERB_PHRASE_SUFFIX)
        for scenario in scenarios
        for entry in scenario.provenance.missing
        if entry.endswith(VERB_PHRASE_SUFFIX)
    )


def _story_phrases(texts: dict[str, str]) -> tuple[str | None, dict[str, str], list[str]]:
    """The agent's name, both actions and the goal as verb phrases, and the fields that fell back.

    The agent is the one name the actions have as subject, when both actions were read (the other
    may say "she") or the intention has it as subject too; otherwise it stays unknown. A phrase is
    kept only when its subject is the agent or a pronoun: dropping another subject would hand the
    act to the agent.
    """
    read = {key: (goal_phrase if key == "intention" else verb_phrase)(texts[key]) for key, _ in _MS_PHRASES}
    actions = [read["moral_action"], read["immoral_action"]]
    names = {found[0] for found in actions if found and not is_pronoun(found[0])}
    agent = next(iter(names)) if len(names) == 1 else None
    if agent and not (all(actions) or (read["intention"] and read["intention"][0] == agent)):
        agent = None
    phrases: dict[str, str] = {}
    fell_back: list[str] = []
    for key, field in _MS_PHRASES:
        found = read[key]
        if found and (found[0] == agent or is_pronoun(found[0])):
            phrases[key] = found[1]
        else:
            phrases[key] = fallback_phrase(texts[key])
            fell_back.append(field + VERB_PHRASE_SUFFIX)
    return agent, phrases, fell_back


def _unknown_scenario_fields() -> dict[str, Any]:
    """The explicit unknowns shared by every imported scenario."""
    return {
        "domain": "unknown",
        "stakeholders": [],
        "foundations": [],
        "stage": None,
        "difficulty": None,
        "pressures": [],
    }


def _text_field(record: dict[str, Any], key: str, where: str, problems: list[str]) -> str | None:
    """A required non-blank string from a JSON record, or None after noting why it is not."""
    if key not in record:
        problems.append(f"{where}: {key}: missing")
        return None
    value = record[key]
    if value is None:
        problems.append(f"{where}: {key}: missing (null)")
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: {key}: expected a string, got {type(value).__name__}")
        return None
    if not value.strip():
        problems.append(f"{where}: {key}: blank")
        return None
    return value.strip()


def _optional_text_field(
    record: dict[str, Any], key: str, where: str, problems: list[str]
) -> str | None:
    """An optional string: absent, null or blank all mean the source does not say."""
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.append(f"{where}: {key}: expected a string, got {type(value).__name__}")
        return None
    return value.strip() or None


def _source_id(record: dict[str, Any], where: str, problems: list[str]) -> str | None:
    """The record's own ID; integers are accepted because some exports write them unquoted."""
    value = record.get("ID")
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        problems.append(f"{where}: ID: expected a string, got {type(value).__name__}")
        return None
    return value.strip() or None


def _moral_story(
    record: dict[str, Any], path: Path, line: int
) -> tuple[Scenario | None, list[str]]:
    """Convert one Moral Stories record, or return every problem found in it."""
    where = f"{path}:{line}"
    problems: list[str] = []
    source_id = _source_id(record, where, problems)
    texts = {key: _text_field(record, key, where, problems) for key in _MS_REQUIRED}
    consequences = {
        key: _optional_text_field(record, key, where, problems)
        for _, _, key, _ in _MS_OPTIONS
    }
    if problems:
        return None, problems

    agent, phrases, fell_back = _story_phrases(texts)
    missing = [field for field in _ALWAYS_MISSING if not (agent and field == "agent.name")] + fell_back
    options = []
    for option_id, action_key, consequence_key, valence in _MS_OPTIONS:
        consequence = consequences[consequence_key]
        if consequence is None:
            missing.append(f"options.{option_id}.consequences")
        missing.append(f"options.{option_id}.reversibility")
        options.append(
            {
                "id": option_id,
                "action": phrases[action_key],
                "valence": valence,
                "consequences": []
                if consequence is None
                else [
                    {
                        "stakeholder": None,
                        "kind": "unspecified",
                        "timing": "unknown",
                        "text": consequence,
                    }
                ],
                "reversibility": "unknown",
            }
        )

    use_source_id = source_id is not None and _ID_PATTERN.fullmatch(source_id)
    data = {
        "id": f"ms-{source_id}" if use_source_id else f"ms-L{line}",
        "setting": texts["situation"],
        "agent": {"name": agent, "role": "protagonist", "goal": phrases["intention"]},
        "options": options,
        "principle": texts["norm"],
        "provenance": {
            "source": MORAL_STORIES_SOURCE,
            "source_id": source_id,
            "source_line": line,
            "missing": _sorted_unique(missing),
        },
        **_unknown_scenario_fields(),
    }
    try:
        return Scenario.model_validate(data), []
    except ValidationError as exc:
        return None, format_validation_error(where, exc)


def import_moral_stories(
    path: str | Path, error_limit: int = DEFAULT_ERROR_LIMIT
) -> list[Scenario]:
    """Import a Moral Stories JSONL file: one norm, situation, intention and two actions a line.

    The moral action becomes option ``a`` (prosocial) and the immoral one option ``b``
    (harmful); their consequences are kept only where the release includes them.
    """
    path = Path(path)
    text = _read_text(path)
    problems = Problems(error_limit)
    scenarios: list[Scenario] = []
    first_line: dict[str, int] = {}
    for where, number, record in json_lines(path, text, problems):
        scenario, found = _moral_story(record, path, number)
        if scenario is None:
            problems.extend(found)
            continue
        if scenario.id in first_line:
            problems.add(
                f"{where}: ID: duplicate scenario id '{scenario.id}' "
                f"(first on line {first_line[scenario.id]})"
            )
            continue
        first_line[scenario.id] = number
        scenarios.append(scenario)
    problems.raise_if_any()
    return scenarios


def _ethics_row(
    row: list[str], columns: dict[str, int], width: int, path: Path, line: int
) -> tuple[Scenario | None, list[str]]:
    """Convert one ETHICS commonsense row, or return every problem found in it."""
    where = f"{path}:{line}"
    if len(row) > width:
        return None, [
            f"{where}: <row>: expected {width} fields, got {len(row)} (unquoted comma in input?)"
        ]
    problems: list[str] = []
    cells = {name: row[index] if index < len(row) else None for name, index in columns.items()}

    label_text = cells["label"]
    if label_text is None:
        problems.append(f"{where}: label: missing")
    elif label_text.strip() not in ("0", "1"):
        problems.append(f"{where}: label: expected 0 or 1, got {label_text!r}")

    action = cells["input"]
    if action is None:
        problems.append(f"{where}: input: missing")
    elif not action.strip():
        problems.append(f"{where}: input: blank")
    if problems or label_text is None or action is None:
        return None, problems

    action = action.replace("\r\n", "\n").strip()
    wrong = label_text.strip() == "1"
    # The narrator ("I") is the agent; any other subject, or none, keeps the described act as "this".
    found = verb_phrase(action)
    if found and found[0] == "I":
        act, fell_back = found[1], []
    else:
        act, fell_back = ETHICS_ACT_FALLBACK, ["options.a.action" + VERB_PHRASE_SUFFIX]
    data = {
        "id": f"ethics-cm-L{line}",
        "setting": action,
        "agent": {"name": None, "role": "narrator", "goal": None},
        "options": [
            {
                "id": "a",
                "action": act,
                "valence": "harmful" if wrong else "neutral",
                "consequences": [],
                "reversibility": "unknown",
            },
            {
                "id": "b",
                "action": ETHICS_REFRAIN_ACTION,
                "valence": "unknown",
                "consequences": [],
                "reversibility": "unknown",
                "derived": True,
            },
        ],
        "principle": None,
        "provenance": {
            "source": ETHICS_COMMONSENSE_SOURCE,
            "source_id": None,
            "source_line": line,
            "missing": _sorted_unique(
                [
                    *_ALWAYS_MISSING,
                    "agent.goal",
                    "principle",
                    "options.a.consequences",
                    "options.a.reversibility",
                    "options.b.consequences",
                    "options.b.reversibility",
                    "options.b.valence",
                    *fell_back,
                ]
            ),
        },
        **_unknown_scenario_fields(),
    }
    try:
        return Scenario.model_validate(data), []
    except ValidationError as exc:
        return None, format_validation_error(where, exc)


def _ethics_header(header: list[str], path: Path, line: int) -> tuple[dict[str, int], list[str]]:
    """Column positions of the required columns; extra columns are accepted and ignored."""
    names = [name.strip() for name in header]
    columns: dict[str, int] = {}
    problems: list[str] = []
    for required in _ETHICS_REQUIRED_COLUMNS:
        count = names.count(required)
        if count == 0:
            problems.append(f"{path}:{line}: {required}: missing column in header {names!r}")
        elif count > 1:
            problems.append(f"{path}:{line}: {required}: column appears {count} times in header")
        else:
            columns[required] = names.index(required)
    return columns, problems


def import_ethics_commonsense(
    path: str | Path, error_limit: int = DEFAULT_ERROR_LIMIT
) -> list[Scenario]:
    """Import an ETHICS commonsense CSV (``label,input``; label 1 = clearly wrong).

    The source gives one first-person action and a verdict, not a choice, so the text is the
    setting, the described action becomes option ``a`` (as a verb phrase: "I fed the birds." gives
    "feed the birds", or ETHICS_ACT_FALLBACK when it cannot be read) and a derived "refrain" option
    ``b`` completes the pair; ``b``'s valence is unknown because the dataset never judges not acting.
    """
    path = Path(path)
    text = _read_text(path)
    problems = Problems(error_limit)
    scenarios: list[Scenario] = []
    # newline="\n" keeps line numbers equal to what an editor shows; strict mode reports stray
    # quotes instead of silently gluing text together.
    reader = csv.reader(io.StringIO(text, newline="\n"), strict=True)
    columns: dict[str, int] | None = None
    width = 0
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.add(f"{path}:{start}: <csv>: {exc}")
            continue
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if columns is None:
            columns, found = _ethics_header(row, path, start)
            if found:
                problems.extend(found)
                problems.raise_if_any()
            width = len(row)
            continue
        scenario, found = _ethics_row(row, columns, width, path, start)
        if scenario is None:
            problems.extend(found)
        else:
            scenarios.append(scenario)
    if columns is None:
        problems.add(f"{path}:1: <header>: empty file, expected a header with label,input")
    problems.raise_if_any()
    return scenarios
