"""Situation frames for the procedural generator, loaded from ``data/frames.yaml``.

Frames are data so an educator can add a frame or an action family without touching Python. Each
*family* is a pair of action poles whose phrasings all of its frames share; pole A is prosocial in
one frame and harmful in its mirror, so the words of an action never reveal its valence. Everything
the generator would otherwise trip over later (an unknown ``{slot}``, a frame naming no family, a
family without its mirror) is rejected here with ``file:line: dotted.key: reason``.
"""

from __future__ import annotations

from functools import lru_cache, partial
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from rearing.datafile import duplicate_keys, package_data, phrasing, read_yaml, validation_problems
from rearing.io import InputError
from rearing.world.schema import Foundation, Pressure, Record

SCENARIO_SLOTS = frozenset({
    "agent", "authority", "defect", "gain", "goal", "item", "pastime", "place", "role", "target",
    "victim", "when",
})
"""Slots the generator fills in every templated phrasing."""

MIRROR_RULE = "mirror rule: each family must be prosocial in one frame and harmful in another"


Text = phrasing(*sorted(SCENARIO_SLOTS))
LaterText = phrasing(*sorted(SCENARIO_SLOTS | {"later"}))
WhoText = phrasing(*sorted(SCENARIO_SLOTS | {"who"}))
Plain = phrasing()


def _not_empty(values: Any) -> Any:
    """Checked after the items, so a list whose only entry is bad reports that entry alone."""
    if not values:
        raise PydanticCustomError("too_short", "needs at least one entry")
    return values


NotEmpty = AfterValidator(_not_empty)
Texts = Annotated[tuple[Text, ...], NotEmpty]
LaterTexts = Annotated[tuple[LaterText, ...], NotEmpty]
WhoTexts = Annotated[tuple[WhoText, ...], NotEmpty]
Plains = Annotated[tuple[Plain, ...], NotEmpty]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Role = Literal["vulnerable", "peer"]
Reversibility = Literal["reversible", "partly", "irreversible"]


class _Data(Record):
    model_config = ConfigDict(frozen=True)


class PoleReversibility(_Data):
    """Reversibility of the prosocial option, by which pole is the prosocial one."""

    a: Reversibility
    b: Reversibility


class Family(_Data):
    reversibility: PoleReversibility
    pole_a: Texts
    pole_b: Texts
    pole_a_digital: Texts
    pole_b_digital: Texts


class Frame(_Data):
    """One situation in which pole A of ``family`` is prosocial when ``pole_a_prosocial``."""

    name: Name
    family: Name
    pole_a_prosocial: StrictBool
    victim_is_target: StrictBool
    victim_role: Role
    target_role: Role
    foundations: Annotated[tuple[Foundation, ...], NotEmpty]
    pressures: tuple[Pressure, ...]
    harm_kind: Literal["physical", "material", "emotional"]
    reversibility: Reversibility  # of the harmful option
    need: Text  # the victim's need as the answer key, never shown as a cue
    situation: Texts
    need_explicit: Texts
    need_cue: Texts
    harm_now: Texts
    harm_later: LaterTexts
    spared_now: Texts
    spared_later: LaterTexts
    principle: Plains


class Phrasings(_Data):
    """Phrasings every frame shares: social consequences, setting sentences, times, stakeholders."""

    trust_up: WhoTexts
    trust_down: WhoTexts
    reputation_up: Texts
    reputation_down: Texts
    relationship_up: WhoTexts
    relationship_down: WhoTexts
    gain_self: Texts
    cost_self: Texts
    unseen: WhoTexts
    partly_seen: WhoTexts
    seen: WhoTexts
    reward: Texts
    conflict: WhoTexts
    context: Texts
    bystander_need: Texts
    relationships: Plains
    when: Plains
    later_short: Plains
    later_long: Plains
    target_relationship: Plain
    target_need: Text
    friend_relationship: Plain
    friend_need: Text
    bystander_relationship: Plain


class FrameFile(_Data):
    families: Annotated[dict[Name, Family], NotEmpty]
    frames: Annotated[tuple[Frame, ...], NotEmpty]
    phrasings: Phrasings

    @model_validator(mode="after")
    def _cross_references(self) -> FrameFile:
        rows = [(f.name, f.family, f.pole_a_prosocial) for f in self.frames]
        errors = _cross_reference_errors(list(self.families), rows)
        if errors:
            raise ValidationError.from_exception_data("FrameFile", errors)
        return self


def _cross_reference_errors(families: list[str] | None,
                            frames: list[tuple[object, object, object]]) -> list[InitErrorDetails]:
    """Duplicate frame names, frames naming no family, families without a mirror frame.

    Works on raw rows too, so a file with schema errors still gets these reported.
    """
    errors: list[InitErrorDetails] = []

    def error(loc: tuple, reason: str, value: object) -> None:
        errors.append(InitErrorDetails(
            type=PydanticCustomError("frame_reference", "{reason}", {"reason": reason}), loc=loc, input=value))

    first: dict[str, int] = {}
    poles: dict[str, set[bool]] = {}
    for i, (name, family, pole_a_prosocial) in enumerate(frames):
        if isinstance(name, str):
            if name in first:
                error(("frames", i, "name"), f"duplicate frame name '{name}' (first at frames[{first[name]}])", name)
            first.setdefault(name, i)
        if not isinstance(family, str):
            continue
        if families is not None and family not in families:
            error(("frames", i, "family"),
                  f"unknown family '{family}'; defined: {', '.join(families) or 'none'}", family)
        if isinstance(pole_a_prosocial, bool):
            poles.setdefault(family, set()).add(pole_a_prosocial)
    for family in families or []:
        seen = poles.get(family, set())
        missing = [label for flag, label in ((True, "prosocial"), (False, "harmful")) if flag not in seen]
        if missing:
            where = " or ".join(f"pole a is {label}" for label in missing)
            error(("families", family), f"no frame where {where} ({MIRROR_RULE})", family)
    return errors


def _raw_cross_reference_problems(path: str | Path, text: str, data: Any) -> list[str]:
    """The cross-reference checks on unvalidated data, for files whose schema errors stop the model."""
    if not isinstance(data, dict):
        return []
    families = data.get("families")
    family_names = [str(k) for k in families] if isinstance(families, dict) else None
    frames = data.get("frames") if isinstance(data.get("frames"), list) else []
    rows = [(f.get("name"), f.get("family"), f.get("pole_a_prosocial")) if isinstance(f, dict)
            else (None, None, None) for f in frames]
    errors = _cross_reference_errors(family_names, rows)
    if not errors:
        return []
    return validation_problems(path, text, ValidationError.from_exception_data("FrameFile", errors))


def _check(path: str | Path, text: str, data: Any) -> tuple[FrameFile | None, list[str]]:
    """The validated file, or None, and every problem found (the same for loading and linting)."""
    problems = duplicate_keys(path, text)
    try:
        model = FrameFile.model_validate(data)
    except ValidationError as exc:
        model = None
        problems += validation_problems(path, text, exc)
        problems += _raw_cross_reference_problems(path, text, data)
    return model, sorted(dict.fromkeys(problems), key=partial(_line_number, f"{path}:"))


def _line_number(prefix: str, problem: str) -> int:
    """The line a ``file:line: key: reason`` problem names (0 when it names none), to list in file order."""
    digits = problem[len(prefix):].split(":", 1)[0] if problem.startswith(prefix) else ""
    return int(digits) if digits.isdigit() else 0


def default_frames_path() -> Path:
    return package_data("rearing.world", "data/frames.yaml")


def load_frames(path: str | Path | None = None) -> FrameFile:
    """Load and validate a frame file (default: the packaged one, read once per process)."""
    return _packaged_frames() if path is None else _load(path)


@lru_cache(maxsize=1)
def _packaged_frames() -> FrameFile:
    return _load(default_frames_path())


def _load(path: str | Path) -> FrameFile:
    data, text = read_yaml(path, strict=False)
    model, problems = _check(path, text, data)
    if problems or model is None:
        raise InputError(problems)
    return model


def lint_frames(path: str | Path) -> list[str]:
    """Every problem of one frame file as ``file:line: dotted.key: reason``; [] when it is fine."""
    try:
        data, text = read_yaml(path, strict=False)
    except InputError as exc:
        return exc.problems
    return _check(path, text, data)[1]


def __getattr__(name: str) -> Any:
    """``FAMILIES`` (name to family) and ``FRAMES`` (in draw order) of the packaged file."""
    if name == "FAMILIES":
        return load_frames().families
    if name == "FRAMES":
        return load_frames().frames
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
