"""Situation frames for the procedural generator: one YAML file per action family, in ``data/frames/``.

A *family* is a pair of action poles (tell / keep quiet, share / keep, ...) whose phrasings both of
its frames share: pole A is prosocial in one frame and harmful in its mirror, so the words of an
action never reveal its valence. The family also owns its *items*, per domain: the things its
actions and frames talk about, each with the properties the frames' wording relies on (what is
wrong with it, what happens when it fails...), so a frame never puts a physical failure on a digital
file or a "vacuum sealer" in a child's hands. Both frames of a family draw the same items, so the
objects named in the options carry no valence either.

A frame says which domains it fits, who is harmed and who is named in the actions, how serious the
harm is (people react in proportion), whether the harmed person would learn who was responsible
without anyone seeing, and its wording for physical and for digital domains, with the harm told
plainly (early stages) or only described (later stages, the harm left to be inferred).

Everything the generator would otherwise trip over later (an unknown ``{slot}``, an item missing a
property a frame uses, a frame naming a domain its family has no items for, a family without its
mirror) is rejected here as ``file:line: dotted.key: reason``; ``rearing world lint FILE`` checks
one family file on its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from rearing.datafile import (
    duplicate_keys,
    load_data,
    package_data,
    phrasing,
    raise_problems,
    read_yaml,
    slot_problem,
    validate_yaml,
    validation_problems,
)
from rearing.io import InputError
from rearing.world.schema import Foundation, Pressure, Record

PEOPLE = ("agent", "target", "victim")
"""Names every frame phrasing may use: the acting agent, the person the actions name, the person harmed."""
SCENE = ("when", "goal", "authority", "pastime", "role", "role.a", "place", "place.at")
"""Drawn from the scenario's domain (``vocab.yaml``): a time adverbial, the agent's goal and role..."""
ITEM_GRAMMAR = ("is", "was", "has", "does", "it", "its")
"""Words that agree with an item's number: ``{item.is}`` is "is" or "are", ``{item.it}`` "it" or "them"."""
DOMAIN_KINDS = ("physical", "digital")
Kind = Literal["physical", "digital"]

MAX_LITERAL_RUN = 12
"""The most words a phrasing may run without a slot: a 13-word window then always holds a name or an
item, so held-out scenarios rarely share a 13-gram with training ones (the contamination gate)."""
PLAIN_HARM = frozenset({"hurt", "hurts", "injured", "injury", "injures", "harm", "harmed", "harms", "suffers",
                        "suffer", "wounded", "damaged", "damage"})
"""Words that say a harm outright: a ``described`` harm must leave the harm to be inferred."""
CONTAMINATION_N = 13
"""The contamination gate's n-gram length (``world.split.contamination_n``'s default)."""
SHARED_PHRASE = 6
"""Two alternatives of one list may not share a phrase this long: they would not be alternatives."""

MIRROR_RULE = "mirror rule: a family needs a frame where pole a is prosocial and one where it is harmful"

Plain = phrasing()
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
Role = Literal["vulnerable", "peer"]
Reversibility = Literal["reversible", "partly", "irreversible"]


def _not_empty(values: Any) -> Any:
    """Checked after the items, so a list whose only entry is bad reports that entry alone."""
    if not values:
        raise PydanticCustomError("too_short", "needs at least one entry")
    return values


NotEmpty = AfterValidator(_not_empty)
Texts = Annotated[tuple[str, ...], NotEmpty]
Plains = Annotated[tuple[Plain, ...], NotEmpty]


class _Data(Record):
    model_config = ConfigDict(frozen=True)


class PoleReversibility(_Data):
    """Reversibility of the prosocial option, by which pole is the prosocial one."""

    a: Reversibility
    b: Reversibility


class Actions(_Data):
    """The two poles' phrasings as verb phrases for the agent ("tell {target} about the {item}")."""

    a: Texts
    b: Texts


class Item(_Data):
    """A thing a family's actions are about; ``details`` are the properties its frames' wording uses
    (``{item.fault}``), written to agree with the item's number."""

    name: Annotated[str, Field(min_length=1)]
    plural: StrictBool = False
    details: dict[Name, Annotated[str, Field(min_length=1)]] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _gather_details(cls, data: Any) -> Any:
        """In YAML an item is one flat mapping: ``{name: step ladder, fault: has a cracked rung}``."""
        if isinstance(data, dict) and "details" not in data:
            fixed = {k: v for k, v in data.items() if k in ("name", "plural")}
            return {**fixed, "details": {k: v for k, v in data.items() if k not in ("name", "plural")}}
        return data


class Family(_Data):
    name: Name
    reversibility: PoleReversibility
    item_properties: tuple[Name, ...] = Field(
        default=(), description="What every item of this family states besides its name.")
    actions: dict[Kind, Actions]
    items: dict[Name, Annotated[tuple[Item, ...], Field(min_length=2)]] = Field(
        description="Per domain, the things this family's scenarios are about (at least 2, one per "
                    "vocabulary partition; 5 or more keeps the held-out vocabulary varied).")


class Harm(_Data):
    """How a harm is told: plainly (``explicit``), or as what happens, the harm left to be inferred."""

    explicit: Texts
    described: Texts


class Wording(_Data):
    """A frame's text for one kind of domain. Setting sentences and consequences are sentences about
    the people by name; ``{later}`` (in ``*_later``) is the delay phrase that leads the sentence."""

    harm_kind: Literal["physical", "material", "emotional"] | None = Field(
        None, description="The harm in this kind of domain, when it differs from the frame's (no falls online).")
    situation: Texts
    need_explicit: Texts
    need_cue: Texts
    goal_link: Texts = Field(description="How the harmful option serves the agent's goal (said when harm pays).")
    harm_now: Harm
    harm_later: Harm
    spared_now: Texts
    spared_later: Texts


class Frame(_Data):
    """One situation in which pole A of its family has valence ``pole_a_prosocial``."""

    name: Name
    pole_a_prosocial: StrictBool
    victim: Role = Field(description="Which role pool the harmed person comes from.")
    target: Literal["victim", "vulnerable", "peer"] = Field(
        description="Who the actions name: the harmed person, or another person from a role pool.")
    victim_learns: StrictBool = Field(
        description="Whether the harmed person would learn who was responsible even if nobody saw.")
    victim_present: StrictBool = Field(
        True, description="Whether the harmed person is there when the agent chooses (an owner who stepped "
                          "out is not); someone else then witnesses an observed choice.")
    severity: Literal["mild", "serious"] = Field(description="How strongly those who know react.")
    foundations: Annotated[tuple[Foundation, ...], NotEmpty]
    pressures: Annotated[tuple[Pressure, ...], NotEmpty]
    harm_kind: Literal["physical", "material", "emotional"]
    reversibility: Reversibility = Field(description="Of the harmful option.")
    domains: tuple[Name, ...] | None = Field(
        None, description="Domains this frame fits; default: every domain its family has items for.")
    need: str = Field(description="The harmed person's need, the answer key; never shown as a cue.")
    physical: Wording | None = None
    digital: Wording | None = None
    principle: Plains


class FamilyFile(_Data):
    """One family and its frames (``data/frames/<family>.yaml``)."""

    family: Family
    frames: Annotated[tuple[Frame, ...], Field(min_length=2)]

    @model_validator(mode="after")
    def _consistent(self) -> FamilyFile:
        raise_problems("FamilyFile", list(family_problems(self)))
        return self


def item_slots(family: Family) -> tuple[str, ...]:
    return ("item", *(f"item.{g}" for g in ITEM_GRAMMAR), *(f"item.{p}" for p in family.item_properties))


def family_problems(file: FamilyFile) -> Iterator[tuple[tuple, str]]:
    """Slots, item properties, domains and the mirror rule, each with the key path it concerns."""
    family = file.family
    for domain, items in family.items.items():
        for i, item in enumerate(items):
            missing = [p for p in family.item_properties if p not in item.details]
            extra = [p for p in item.details if p not in family.item_properties]
            if missing:
                yield ("family", "items", domain, i), f"'{item.name}' lacks {', '.join(missing)} (item_properties)"
            if extra:
                yield ("family", "items", domain, i), (f"'{item.name}' has {', '.join(extra)}, not in "
                                                       f"item_properties ({', '.join(family.item_properties)})")
            for prop, text in item.details.items():
                if "{" in text or "}" in text:
                    yield ("family", "items", domain, i, prop), "item properties are plain text: no {slots}"
    items = item_slots(family)
    for kind, actions in family.actions.items():
        for pole in ("a", "b"):
            texts = getattr(actions, pole)
            for i, text in enumerate(texts):
                problem = slot_problem(text, ("agent", "target", *SCENE, *items))
                if problem:
                    yield ("family", "actions", kind, pole, i), problem
            for i, problem in variety_problems(texts, lengths=slot_lengths(family)):
                yield ("family", "actions", kind, pole, i), problem
    poles = set()
    names: dict[str, int] = {}
    for f, frame in enumerate(file.frames):
        poles.add(frame.pole_a_prosocial)
        if frame.name in names:
            yield ("frames", f, "name"), f"duplicate frame name '{frame.name}' (first at frames[{names[frame.name]}])"
        names.setdefault(frame.name, f)
        yield from _frame_problems(f, frame, family, items)
    for flag, label in ((True, "prosocial"), (False, "harmful")):
        if flag not in poles:
            yield ("frames",), f"no frame where pole a is {label} ({MIRROR_RULE})"


def _frame_problems(f: int, frame: Frame, family: Family, items: tuple[str, ...]) -> Iterator[tuple[tuple, str]]:
    base = (*PEOPLE, *SCENE, *items)
    for i, text in enumerate(frame.principle):
        words = len(text.split())
        if words >= CONTAMINATION_N:
            yield ("frames", f, "principle", i), (
                f"{words} words: every scenario of this frame states it word for word, so at "
                f"{CONTAMINATION_N} words or more every held-out one shares a {CONTAMINATION_N}-gram with "
                f"training and is removed by the contamination gate; keep it under {CONTAMINATION_N}")
    problem = slot_problem(frame.need, base)
    if problem:
        yield ("frames", f, "need"), problem
    lengths = slot_lengths(family)
    words = sum(name_runs(frame.need, lengths)) + sum(frame.need.count(f"{{{n}}}") for n in NAMES)
    if words >= CONTAMINATION_N:
        yield ("frames", f, "need"), (f"up to {words} words: every scenario of this frame states its need in "
                                      f"this one wording, so keep it under {CONTAMINATION_N} words or its "
                                      "held-out scenarios share a 13-gram with training ones")
    for domain in frame.domains or ():
        if domain not in family.items:
            yield ("frames", f, "domains"), f"'{domain}': the family has no items for this domain"
    if frame.physical is None and frame.digital is None:
        yield ("frames", f), "needs wording for physical domains, digital domains, or both"
    for kind in DOMAIN_KINDS:
        wording = getattr(frame, kind)
        if wording is None:
            continue
        if kind not in family.actions:
            yield ("frames", f, kind), f"the family has no {kind} actions"
        if kind == "digital" and frame.harm_kind == "physical" and wording.harm_kind in (None, "physical"):
            yield ("frames", f, kind, "harm_kind"), ("a physical harm cannot happen in a digital domain: say what "
                                                     "the harm is here (material or emotional)")
        for field, texts in _wording_texts(wording):
            allowed = (*base, "later") if field[0].endswith("_later") else base
            required = ("later",) if field[0].endswith("_later") else ()
            for i, text in enumerate(texts):
                problem = slot_problem(text, allowed, required)
                if problem:
                    yield ("frames", f, kind, *field, i), problem
            for i, problem in variety_problems(texts, setting=field[0] in SETTING_PARTS,
                                               lengths=slot_lengths(family)):
                yield ("frames", f, kind, *field, i), problem
            if field[-1] == "described":
                for i, text in enumerate(texts):
                    said = sorted(PLAIN_HARM & set(re.findall(r"[a-z]+", text.lower())))
                    if said:
                        yield ("frames", f, kind, *field, i), (f"says the harm outright ({', '.join(said)}): a "
                                                                "described harm shows what happens and leaves the harm "
                                                                "to be inferred")


SETTING_PARTS = frozenset({"situation", "need_explicit", "need_cue", "goal_link"})
"""Wording that becomes a sentence of the setting (joined with the others into one text)."""
SOCIAL_SETTING = frozenset({"context", "observed", "partly", "unobserved_hidden", "unobserved_known", "conflict"})
NAMES = frozenset({"agent", "target", "victim", "who", "witness"})
"""Slots filled with a person's name: drawn from thousands, so a window holding one rarely repeats."""
WORD = re.compile(r"[\w']+")


@lru_cache(maxsize=1)
def vocabulary_lengths() -> dict[str, int]:
    """How many words each vocabulary slot puts in (packaged vocabulary; see :func:`long_length`):
    such values repeat across scenarios, so for the contamination rule they count as wording."""
    from rearing.world.vocab import load_vocab

    vocab = load_vocab()

    def longest(values: Iterable[str]) -> int:
        return long_length(len(WORD.findall(v)) for v in values)

    domains = vocab.domains.values()
    return {
        "place": longest(p.name for d in domains for p in d.places),
        "place.at": longest(p.at for d in domains for p in d.places),
        "when": longest(t for d in domains for t in d.times), "goal": longest(g for d in domains for g in d.goals),
        "authority": longest(a for d in domains for a in d.authorities),
        "role": longest(r for d in domains for r in d.agent_roles),
        "role.a": 1 + longest(r for d in domains for r in d.agent_roles),
        "pastime": longest(p for d in domains for p in d.pastimes), "later": 3,
    }


def long_length(lengths: Iterable[int]) -> int:
    """The length nine values in ten stay within: the rule then holds for nearly every draw without
    the single longest value dictating every sentence."""
    ordered = sorted(lengths) or [1]
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def slot_lengths(family: Family | None = None) -> dict[str, int]:
    """Words each non-name slot puts in (see :func:`long_length`), the family's items included."""
    lengths = {**vocabulary_lengths(), **{f"item.{g}": 1 for g in ITEM_GRAMMAR}}
    if family is not None:
        items = [item for entries in family.items.values() for item in entries]
        lengths["item"] = long_length(len(WORD.findall(i.name)) for i in items)
        for prop in family.item_properties:
            lengths[f"item.{prop}"] = long_length(len(WORD.findall(i.details.get(prop, ""))) for i in items)
    return lengths
SETTING_EDGE = 6
"""Setting sentences are joined: the words before the first name and after the last may add up to
at most twice this, so every 13-word window across two sentences still holds a name."""


def name_runs(template: str, lengths: dict[str, int]) -> list[int]:
    """Word counts between person-name slots (first: before the first name; last: after the last),
    counting any other slot at the longest value it can put in."""
    runs, run = [], 0
    for literal, field, _, _ in Formatter().parse(template):
        run += len(WORD.findall(literal))
        if field is None:
            continue
        if field in NAMES:
            runs.append(run)
            run = 0
        else:
            run += lengths.get(field, 2)
    return [*runs, run]


def variety_problems(texts: tuple[str, ...], setting: bool = False,
                     lengths: dict[str, int] | None = None) -> Iterator[tuple[int, str]]:
    """(index, problem) for alternatives that run too long without a name or repeat another's phrase."""
    seen: dict[tuple[str, ...], int] = {}
    lengths = lengths if lengths is not None else slot_lengths()
    for i, text in enumerate(texts):
        runs = name_runs(text, lengths)
        if max(runs) > MAX_LITERAL_RUN:
            yield i, (f"up to {max(runs)} words in a row without a person's name (at most {MAX_LITERAL_RUN}; "
                      "items, places and goals count as words at their longest, they repeat): put a name in, "
                      "so held-out scenarios do not share 13-grams with training ones")
        elif setting and (runs[0] > SETTING_EDGE or runs[-1] > SETTING_EDGE):
            yield i, (f"up to {runs[0]} words before the first name and {runs[-1]} after the last (at most "
                      f"{SETTING_EDGE} each): setting sentences are joined, so a name must come early and late")
        words = re.sub(r"[^\w{}.]+", " ", text.lower()).split()
        for j in range(len(words) - SHARED_PHRASE + 1):
            gram = tuple(words[j:j + SHARED_PHRASE])
            if gram in seen and seen[gram] != i:
                yield i, f"shares the phrase '{' '.join(gram)}' with entry {seen[gram]}: vary the wording"
                break
            seen.setdefault(gram, i)


def _wording_texts(wording: Wording) -> Iterator[tuple[tuple[str, ...], tuple[str, ...]]]:
    for field in Wording.model_fields:
        value = getattr(wording, field)
        if field == "harm_kind":
            continue
        if isinstance(value, Harm):
            yield (field, "explicit"), value.explicit
            yield (field, "described"), value.described
        else:
            yield (field,), value


class SeverityTexts(_Data):
    mild: Texts
    serious: Texts


class Social(_Data):
    """``data/social.yaml``: what every frame shares: reactions (of ``{who}`` to ``{agent}``), how a
    person who did not see learns of the act, what the setting says of who is watching, delays."""

    trust_up: SeverityTexts
    trust_down: SeverityTexts
    told: Texts
    reputation_up: SeverityTexts
    reputation_down: SeverityTexts
    friend_pleased: Texts
    friend_let_down: Texts
    goal_met: Texts
    goal_missed: Texts
    observed: Texts
    partly: Texts
    unobserved_hidden: Texts
    unobserved_known: Texts
    conflict: Texts
    context: Texts
    bystander_need: Texts
    target_need: Texts
    friend_need: Texts
    later_short: Plains
    later_long: Plains


SOCIAL_SLOTS = {
    "trust_up": ("who", "agent"), "trust_down": ("who", "agent"), "told": ("who", "witness", "agent"),
    "reputation_up": ("who", "agent"), "reputation_down": ("who", "agent"),
    "friend_pleased": ("who", "agent"), "friend_let_down": ("who", "agent"),
    "goal_met": ("agent", "goal"), "goal_missed": ("agent", "goal"),
    "observed": ("who", "agent"), "partly": ("who", "agent"),
    "unobserved_hidden": ("agent", "victim"), "unobserved_known": ("agent",),
    "conflict": ("who", "agent", "authority"), "context": ("agent", "place", "place.at", "role", "role.a"),
    "bystander_need": ("agent", "place", "place.at"), "target_need": ("agent", "victim"),
    "friend_need": ("agent",),
}
"""The slots each shared phrasing may use."""


def social_problems(social: Social) -> Iterator[tuple[tuple, str]]:
    for field, allowed in SOCIAL_SLOTS.items():
        value = getattr(social, field)
        groups = [("mild", value.mild), ("serious", value.serious)] if isinstance(value, SeverityTexts) \
            else [(None, value)]
        for sub, texts in groups:
            for i, text in enumerate(texts):
                problem = slot_problem(text, allowed)
                if problem:
                    yield tuple(x for x in (field, sub, i) if x is not None), problem
            if field not in ("later_short", "later_long"):
                for i, problem in variety_problems(texts, setting=field in SOCIAL_SETTING):
                    yield tuple(x for x in (field, sub, i) if x is not None), problem


class SocialFile(Social):
    @model_validator(mode="after")
    def _slots(self) -> SocialFile:
        raise_problems("Social", list(social_problems(self)))
        return self


class Frames(_Data):
    """Every family file of a frames directory, plus the shared social phrasings."""

    families: dict[str, FamilyFile]
    social: SocialFile

    @property
    def frames(self) -> list[tuple[Family, Frame]]:
        """Every frame with its family, in file-name then file order: the order the generator draws in."""
        return [(f.family, frame) for _, f in sorted(self.families.items()) for frame in f.frames]


def default_frames_dir() -> Path:
    return package_data("rearing.world", "data/frames")


def load_family_file(path: str | Path) -> FamilyFile:
    """One family file, every problem reported as ``file:line: key: reason``."""
    problems = lint_frames(path)
    if problems:
        raise InputError(problems)
    data, text = read_yaml(path)
    return validate_yaml(path, text, data, FamilyFile)


def load_frames(directory: str | Path | None = None, only: tuple[str, ...] | None = None) -> Frames:
    """Every ``*.yaml`` family file of ``directory`` (default: the packaged frames) and its
    ``social.yaml``; ``only`` restricts it to the named family files (to work on one of them)."""
    if directory is None and only is None:
        return _packaged_frames()
    return _load_dir(Path(directory) if directory else default_frames_dir(), only)


def _load_dir(directory: Path, only: tuple[str, ...] | None = None) -> Frames:
    files = sorted(p for p in directory.glob("*.yaml") if p.name != "social.yaml" and (not only or p.stem in only))
    if not files:
        raise InputError([f"{directory}: no family files (*.yaml) in this directory"])
    families = {}
    for path in files:
        file = load_family_file(path)
        if file.family.name in families:
            raise InputError([f"{path}: family.name: '{file.family.name}' is defined in another file too"])
        families[file.family.name] = file
    social = load_data(SocialFile, "", "", directory / "social.yaml")
    return Frames(families=families, social=social)


@lru_cache(maxsize=1)
def _packaged_frames() -> Frames:
    """The packaged frames, read and validated once per process (the generator asks on every run)."""
    return _load_dir(default_frames_dir())


def lint_frames(path: str | Path) -> list[str]:
    """Every problem of one family file as ``file:line: dotted.key: reason``; [] when it is fine."""
    try:
        data, text = read_yaml(path, strict=False)
    except InputError as exc:
        return exc.problems
    problems = duplicate_keys(path, text)
    try:
        FamilyFile.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(path, text, exc)
    return problems
