"""Eval records: an item (what the model sees), its answer key (kept in a separate file), and the
result rows every way of evaluating writes.

The key never travels with the text, so nothing that renders, scores or exports an item can leak
the answer through it; scores are joined to keys by ``item_id`` only at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

from pydantic import Field

from rearing.layout import HELD_OUT_SPLITS
from rearing.world.schema import Pressure, Record

Format = Literal["continuation", "judgment", "self_judgment", "ab", "advice", "tool_call"]
FORMATS: tuple[str, ...] = get_args(Format)
Split = Literal[HELD_OUT_SPLITS]
"""A held-out split items and episodes draw from (``rearing.layout.HELD_OUT_SPLITS``)."""
PRESSURE_KINDS: tuple[str, ...] = tuple(p.value for p in Pressure)
PressureName = Literal[("none", *PRESSURE_KINDS)]
"""No pressure, or one kind of ``rearing.world.schema.Pressure``: what an episode runs under."""
PressureKind = Literal[("none", *PRESSURE_KINDS, "many_shot")]
"""What an item runs under: a pressure name, or many-shot examples of others choosing harm."""
ScoringRule = Literal["calibrated", "sum", "mean"]
"""How log-likelihood picks a choice: its log-probability after the prompt minus that after the item's
content-free prompt (domain-conditional PMI), the summed log-probability, or the per-token mean."""
SCORING_RULES: tuple[str, ...] = get_args(ScoringRule)


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
    calibration_prompt: str | None = Field(
        None, description="The same format, options and question with nothing of the situation: calibrated "
        "scoring subtracts each choice's log-probability after it (rearing.evals.views.content_free); "
        "None (items made elsewhere): after no prompt at all.")
    familiar_to: list[str] = Field(
        default_factory=list,
        description="Conditions whose training text shares this format's surface form.",
    )


class AnswerKey(Record):
    item_id: str
    correct: int = Field(ge=0, description="Index of the prosocial choice in the item's choices.")
    valences: list[str] = Field(description="Valence of the option behind each choice, in order.")


def key_problem(item: EvalItem, key: AnswerKey | None) -> tuple[str, str] | None:
    """Why ``key`` does not fit ``item`` as ``(field, reason)``, or None when it does."""
    if key is None:
        return "id", f"no answer key for '{item.id}'"
    if key.correct >= len(item.choices):
        return "correct", f"{key.correct} out of range for {len(item.choices)} choices"
    if len(key.valences) != len(item.choices):
        return "valences", f"{len(key.valences)} given for {len(item.choices)} choices"
    return None


def keys_by_item(items: Iterable[EvalItem], keys: Iterable[AnswerKey]) -> dict[str, AnswerKey]:
    """Each key by its item id; an item without a key that fits it (:func:`key_problem`) is a ``ValueError``."""
    key_of = {key.item_id: key for key in keys}
    problems = [f"{item.id}: {found[1]}" for item in items if (found := key_problem(item, key_of.get(item.id)))]
    if problems:
        raise ValueError(f"{len(problems)} item(s) without a fitting answer key, e.g. {'; '.join(problems[:3])}")
    return key_of


class ModelRow(Record):
    """Which model (and, for a trained arm, which condition and seed) a row is about, in which suite."""

    model: str
    condition: str | None = None
    seed: int | None = None
    suite: str


class ResultRow(ModelRow):
    """One model's answer to one item at one attack step, joined to the item's key.

    The eval stage, ``rearing eval --checkpoint`` and the summary all read and write these, so any
    later analysis is a group-by over the same columns. ``chosen`` and ``correct`` follow the run's
    scoring rule; every rule's scores and verdict are kept beside them. Generation has no log-probs
    and one answer, so its rule is ``generate`` and the per-rule columns are empty.
    """

    format: Format
    stripped: bool
    pressure: PressureKind
    intensity: int
    attack: str = Field("none", description="The attack kind the model was fine-tuned on, or none.")
    attack_k: int = Field(0, ge=0, description="Attack fine-tuning steps before this answer.")
    item_id: str
    scenario_id: str
    split: Split
    scoring_rule: Literal[(*SCORING_RULES, "generate")]
    chosen: int | None = Field(description="The choice picked; None when a generated answer named none.")
    correct: bool
    correct_sum: bool | None = None
    correct_mean: bool | None = None
    correct_calibrated: bool | None = None
    sum_logprob: list[float] | None = None
    mean_logprob: list[float] | None = None
    calibrated_logprob: list[float] | None = Field(
        None, description="sum_logprob minus the choice's summed log-probability after the content-free prompt.")
    n_tokens: list[int] | None = None
    completion: str | None = Field(None, description="The generated answer (generation scoring only).")


class EpisodeRow(ModelRow):
    """One agentic episode a model played: the pressure, and what came of it."""

    pressure: PressureName
    intensity: int
    episode_seed: int
    scenario_id: str
    harm_rate: float | None
    first_choice_harmful: bool | None
    goal_completed: bool
    total_reward: int
    invalid_actions: int
    trust: float
    actions: list[str | None]
