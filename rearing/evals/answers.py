"""Reading a model's free-text answer: which option it names, or which action its tool call takes.

Generation scoring of items (``parse_choice``) and generating policies in agentic episodes
(``parse_tool_call``) read tool calls with the same rules (:func:`tool_call`), so a model that
answers ``{"action": ...}`` is understood alike in both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

ACTION_KEYS = ("action", "answer", "choice", "option")
"""Keys that make a JSON object a tool call (any case), in the order they are looked up."""

_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.IGNORECASE | re.DOTALL)
_LEADING_LETTER = re.compile(r"^\W*?\(?([A-Z])(?:\)|[.:,](?:\s|$)|\**\s*$)")
_NAMED_LETTER = re.compile(r"\b(?i:answer|option|choice)\s*(?:(?i:is)\s*)?[:\-]?\s*\(?([A-Z])\b")
_QUOTED = re.compile(r"[\"“”]([^\"“”]+)[\"“”]")
_PYTHON_CALL = re.compile(r"\{\s*'(\w+)'\s*:\s*'([^']*)'\s*\}")


def tool_call(text: str) -> tuple[bool, object]:
    """``(True, value)`` for the first tool call in ``text``, else ``(False, None)``.

    A tool call is a JSON object with an action-like key (``ACTION_KEYS``), or a one-key dict
    written with Python quotes (``{'action': '2'}``), as small models often do; objects without
    such a key are passed over, and the first call decides.
    """
    decoder = json.JSONDecoder()
    for start in (m.start() for m in re.finditer(r"\{", text)):
        try:
            value, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            quoted = _PYTHON_CALL.match(text, start)
            if quoted is None:
                continue
            value = {quoted.group(1): quoted.group(2)}
        if isinstance(value, dict):
            keys = {str(k).lower(): v for k, v in value.items()}
            for key in ACTION_KEYS:
                if key in keys:
                    return True, keys[key]
    return False, None


def parse_tool_call(text: str, n_actions: int) -> int | None:
    """Index of the action named by the first tool call in ``text``; None if there is none or it
    names no valid action. Action ids are ``"1"`` .. ``str(n_actions)``."""
    found, value = tool_call(text)
    if not found:
        return None
    value = str(value).strip()
    return int(value) - 1 if value.isdigit() and 1 <= int(value) <= n_actions else None


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower()).strip(" .,;:!?\"'`*()[]“”")


def _letter(text: str, n: int) -> int | None:
    found = _LEADING_LETTER.match(text) or _NAMED_LETTER.search(text)
    if found and ord(found.group(1)) - ord("A") < n:
        return ord(found.group(1)) - ord("A")
    return None


def _mentioned(text: str, options: list[str]) -> int | None:
    """The one option named in ``text``; a mention inside a longer option's mention counts for that one."""
    spans = {
        j: [m.span() for m in re.finditer(rf"(?<!\w){re.escape(option)}(?!\w)", text)]
        for j, option in enumerate(options) if option
    }

    def inside_longer(j: int, span: tuple[int, int]) -> bool:
        return any(len(options[k]) > len(options[j]) and s <= span[0] and span[1] <= e
                   for k, ks in spans.items() if k != j for s, e in ks)

    named = [j for j, js in spans.items() if any(not inside_longer(j, span) for span in js)]
    return named[0] if len(named) == 1 else None


def parse_choice(completion: str, choices: Sequence[str]) -> int | None:
    """The option a free-text answer picks, or None when it names none, or several, unambiguously.

    Tried in order: a tool call (``{"action": ...}``, see :func:`tool_call`); a letter (``B``,
    ``(B)``, ``Answer: B``); an option quoted or given verbatim; a leading yes/no matching exactly
    one option that starts with it; an option mentioned in the text (exactly one, not counting
    mentions inside a longer option).
    """
    text = _THINK.sub("", completion).strip()
    options = [_normal(c) for c in choices]
    is_call, action = tool_call(text)
    if is_call:
        if not isinstance(action, str):
            return None
        letter = _letter(action.strip(), len(options))
        if letter is not None:
            return letter
        normal = _normal(action)
        return options.index(normal) if normal in options else _mentioned(normal, options)
    letter = _letter(text, len(options))
    if letter is not None:
        return letter
    for quoted in [*_QUOTED.findall(text), text]:
        if _normal(quoted) in options and options.count(_normal(quoted)) == 1:
            return options.index(_normal(quoted))
    normal = _normal(text)
    first_word = normal.split(" ", 1)[0].strip(",.!") if normal else ""
    if first_word in ("yes", "no"):
        starting = [j for j, o in enumerate(options) if o.split(" ", 1)[0].strip(",.!") == first_word]
        if len(starting) == 1:
            return starting[0]
    return _mentioned(normal, options)
