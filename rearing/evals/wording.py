"""The items' fixed wording (``data/items.yaml``), and whether training text ever holds a wording.

Each format frames the same content in its own words; those words live in data, checked for the
slots the renderer fills, so an educator can rephrase a format without touching Python. Pressure,
format frames and episode texts only measure what they should if no condition practised those exact
words, so each wording's fixed stretches (never the slots, which scenario words fill) are compared
with the training texts at a small n.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from pydantic import Field, model_validator

from rearing.datafile import DataRecord, load_data, phrasing
from rearing.world.contamination import ContaminationReport, NgramIndex, check_contamination, normalize_words

DEFAULT_HELDOUT_N = 5
_SLOT = re.compile(r"\{([a-z_]+)\}")
_GROUP_REF = re.compile(r"\\(\d+)|\\g<(\w+)>")

Open = phrasing("agent")
Option = phrasing("agent", "action", "outcomes", required=("action", "outcomes"))
HiddenOption = phrasing("agent", "action", required=("action",))
Principle = phrasing("principle", required=("principle",))
Ask = phrasing("agent")
AskAbout = phrasing("agent", "action", required=("action",))
Choice = phrasing("action", required=("action",))
PressureFrame = phrasing("pressure", required=("pressure",))
Answers = list[phrasing()]


class FormatWording(DataRecord):
    """What every format says: the principle line, the question (in full and in stripped items),
    and how pressure is introduced (when absent, the pressure text stands alone)."""

    principle: Principle
    ask_full: Ask
    ask_stripped: Ask
    pressure: PressureFrame | None = None
    one_paragraph: bool = Field(False, description="The item as one paragraph of prose, as documents are "
                                "written, instead of a paragraph per part and a line per option.")


class ContinuationWording(FormatWording):
    option: Option
    option_hidden: HiddenOption
    choice: Choice


class JudgmentWording(FormatWording):
    option: Option
    option_hidden: HiddenOption
    ask_full: AskAbout
    ask_stripped: AskAbout


class AbWording(FormatWording):
    option: phrasing("letter", "action", "outcomes", required=("letter", "action", "outcomes"))
    option_hidden: phrasing("letter", "action", required=("letter", "action"))


class AdviceWording(ContinuationWording):
    open: Open


class ToolCallWording(FormatWording):
    open: Open
    observation: phrasing("situation", required=("situation",))
    tools: phrasing()


class FormatWordings(DataRecord):
    continuation: ContinuationWording
    judgment: JudgmentWording
    self_judgment: JudgmentWording
    ab: AbWording
    advice: AdviceWording
    tool_call: ToolCallWording


class Substitution(DataRecord):
    """A neutral paraphrase: a regular expression and its replacement (``\\1`` for a group)."""

    pattern: str = Field(min_length=1)
    replace: str

    @model_validator(mode="after")
    def _compiles(self) -> Substitution:
        try:
            compiled = re.compile(self.pattern)
        except re.error as exc:
            raise ValueError(f"pattern {self.pattern!r} is not a regular expression: {exc}") from None
        for number, name in _GROUP_REF.findall(self.replace):
            if (number and int(number) > compiled.groups) or (name and name not in compiled.groupindex):
                raise ValueError(f"replace {self.replace!r} names a group the pattern lacks")
        return self


class ItemWording(DataRecord):
    """Everything an item says besides the scenario's own text (``data/items.yaml``)."""

    formats: FormatWordings
    person_line: phrasing("name", "article", "role", required=("name",))
    no_outcome: phrasing()
    judgment_choices: Answers = Field(min_length=2, max_length=2)
    ab_choices: Answers = Field(min_length=2, max_length=2)
    strip_substitutions: list[Substitution]

    def format(self, fmt: str) -> FormatWording:
        """The wording of one format."""
        return getattr(self.formats, fmt)

    def wordings(self) -> list[tuple[str, str]]:
        """Every fixed template as ``(id, template)``, ids like ``ab.option``."""
        out = [(f"{fmt}.{key}", text) for fmt in FormatWordings.model_fields
               for key, text in self.format(fmt).model_dump(exclude_none=True).items() if isinstance(text, str)]
        return out + [("person_line", self.person_line), ("no_outcome", self.no_outcome)]


def item_wording() -> ItemWording:
    """The packaged item wording."""
    return load_data(ItemWording, "rearing.evals", "data/items.yaml")


def fixed_segments(template: str) -> list[str]:
    """The literal stretches of a template between its slots, minus words glued to a slot.

    ``"{agent}'s boss tells {agent} to"`` gives ``["boss tells", "to"]``: the ``'s`` belongs to
    whatever fills the slot, so it is scenario text, not fixed wording.
    """
    parts = _SLOT.split(template)[::2]
    segments = []
    for i, part in enumerate(parts):
        words = part.split()
        if not words:
            continue
        if i > 0 and not part[:1].isspace():
            words = words[1:]
        if i < len(parts) - 1 and not part[-1:].isspace():
            words = words[:-1]
        if words:
            segments.append(" ".join(words))
    return segments


@dataclass
class HeldoutReport:
    """Whether any fixed wording shares an n-gram with the training texts, and what was checkable."""

    contamination: ContaminationReport
    checked_ngrams: int
    too_short: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.contamination.ok

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "checked_ngrams": self.checked_ngrams,
            "too_short": list(self.too_short),
            "contamination": self.contamination.to_dict(),
        }


def check_wording_heldout(
    wordings: Iterable[tuple[str, str]], corpus_texts: Iterable[str] | NgramIndex, n: int = DEFAULT_HELDOUT_N
) -> HeldoutReport:
    """N-gram overlap between the fixed words of templates and training texts.

    Only the literal segments are compared (never across a slot): slot fillers are scenario words
    (names, actions) that training text shares by design. A wording with no segment of ``n`` words
    cannot be checked at this ``n`` and is listed in ``too_short``.
    """
    wordings = list(wordings)
    index = corpus_texts if isinstance(corpus_texts, NgramIndex) else NgramIndex(corpus_texts, n=n)
    candidates = [(wid, fixed_segments(template)) for wid, template in wordings]
    grams = {wid: sum(max(0, len(normalize_words(s)) - n + 1) for s in segs) for wid, segs in candidates}
    report = check_contamination(candidates, index, n=n)
    return HeldoutReport(report, sum(grams.values()), [wid for wid, count in grams.items() if count == 0])
