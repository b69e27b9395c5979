"""The surface vocabulary (``data/vocab.yaml``): names and per-domain pools, validated on load.

A new domain is a data edit; a pool too short to split into both vocabulary partitions, or a stray
``{slot}`` in an entry, would only show up as a crash or a leak deep in generation, so both are
load errors with the file, line and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from rearing.datafile import load_data, package_data
from rearing.world.schema import Record

NAMES_PER_SCENARIO = 8
"""Distinct names one scenario draws (agent, victim, target, friend, bystanders)."""


def _not_empty(domains: dict) -> dict:
    if not domains:
        raise PydanticCustomError("too_short", "needs at least one domain")
    return domains


def _plain(text: str) -> str:
    if "{" in text or "}" in text:
        raise PydanticCustomError("plain_text", "vocabulary entries are plain text: no braces or {slots}")
    return text


def _two_or_more(values: tuple[str, ...]) -> tuple[str, ...]:
    """Checked after the entries, so a pool whose entries are bad reports those alone."""
    if len(values) < 2:
        raise PydanticCustomError("too_short", "needs at least 2 entries, one for each vocabulary partition")
    return values


Entry = Annotated[str, Field(min_length=1), AfterValidator(_plain)]
Pool = Annotated[tuple[Entry, ...], AfterValidator(_two_or_more)]
DomainName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]


class Place(Record):
    """Where a scene happens, and how a sentence says one is there: ``at`` is "in the kitchen"."""

    model_config = ConfigDict(frozen=True)

    name: Entry
    at: Entry


class Thing(Record):
    """An everyday thing of the domain (the general corpus talks about these); ``fault`` is what
    can be wrong with it, written to agree with its number."""

    model_config = ConfigDict(frozen=True)

    name: Entry
    plural: bool = False
    fault: Entry


class Relationships(Record):
    """How people of each role pool are related to the agent in this domain ("classmate", "patient")."""

    model_config = ConfigDict(frozen=True)

    vulnerable: Pool
    peer: Pool
    bystander: Pool


def _two_places(values: tuple) -> tuple:
    if len(values) < 2:
        raise PydanticCustomError("too_short", "needs at least 2 entries, one for each vocabulary partition")
    return values


class DomainPools(Record):
    """What a scenario in one domain draws from; every pool splits into main and reserved parts."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["physical", "digital"]
    places: Annotated[tuple[Place, ...], AfterValidator(_two_places)]
    times: Pool
    agent_roles: Pool
    vulnerable_roles: Pool
    peer_roles: Pool
    authorities: Pool
    relationships: Relationships
    goals: Pool
    pastimes: Pool
    things: Annotated[tuple[Thing, ...], AfterValidator(_two_places)]


class Vocab(Record):
    model_config = ConfigDict(frozen=True)

    authority_domains: tuple[str, ...] = ()
    names: tuple[Entry, ...]
    domains: Annotated[dict[DomainName, DomainPools], AfterValidator(_not_empty)]

    @model_validator(mode="after")
    def _consistent(self) -> Vocab:
        errors: list[InitErrorDetails] = []

        def error(loc: tuple, reason: str, value: object) -> None:
            errors.append(InitErrorDetails(
                type=PydanticCustomError("vocab", "{reason}", {"reason": reason}), loc=loc, input=value))

        first: dict[str, int] = {}
        for i, name in enumerate(self.names):
            if name in first:
                error(("names", i), f"duplicate name '{name}' (first at names[{first[name]}])", name)
            first.setdefault(name, i)
        reserved = len(range(0, len(self.names), 4))
        if reserved < NAMES_PER_SCENARIO:
            error(("names",), f"need at least {4 * NAMES_PER_SCENARIO - 3} names so each vocabulary "
                              f"partition holds {NAMES_PER_SCENARIO}; got {len(self.names)}", self.names)
        for key in ("authority_domains",):
            for i, domain in enumerate(getattr(self, key)):
                if domain not in self.domains:
                    error((key, i), f"unknown domain '{domain}'; defined: {', '.join(self.domains)}", domain)
        if errors:
            raise ValidationError.from_exception_data("Vocab", errors)
        return self


def default_vocab_path() -> Path:
    return package_data("rearing.world", "data/vocab.yaml")


def load_vocab(path: str | Path | None = None) -> Vocab:
    """Load and validate a vocabulary file (default: the packaged one)."""
    return load_data(Vocab, "rearing.world", "data/vocab.yaml", path)


def digital_domains(vocab: Vocab) -> frozenset[str]:
    """Domains whose scenes and harms happen in software or online."""
    return frozenset(name for name, pools in vocab.domains.items() if pools.kind == "digital")
