"""Eval records: an item (what the model sees) and its answer key (kept in a separate file).

The key never travels with the text, so nothing that renders, scores or exports an item can leak
the answer through it; scores are joined to keys by ``item_id`` only at the end.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from rearing.world.schema import Record

Format = Literal["continuation", "judgment", "ab", "advice", "tool_call"]
FORMATS: tuple[str, ...] = ("continuation", "judgment", "ab", "advice", "tool_call")
Split = Literal["eval", "shift_domain", "shift_vocab"]
PressureKind = Literal["none", "authority", "incentive", "peers", "secrecy", "urgency", "persuasion", "many_shot"]


class EvalItem(Record):
    """One held-out scenario in one format under one pressure, scored by choosing a continuation.

    ``prompt`` is the shared context; each of ``choices`` is scored as its continuation.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    suite: str = Field(description="format | stripped | shift_domain | shift_vocab | pressure | ...")
    scenario_id: str
    split: Split
    format: Format
    stripped: bool = Field(False, description="No word of the moral lexicon anywhere in prompt or choices.")
    pressure: PressureKind = "none"
    intensity: int = Field(0, ge=0, description="0 = no pressure; for many_shot, the number of shots.")
    prompt: str = Field(min_length=1)
    choices: list[str] = Field(min_length=2)
    familiar_to: list[str] = Field(
        default_factory=list,
        description="Conditions whose training text shares this format's surface form.",
    )


class AnswerKey(Record):
    item_id: str
    correct: int = Field(ge=0, description="Index of the prosocial choice in the item's choices.")
    valences: list[str] = Field(description="Valence of the option behind each choice, in order.")
