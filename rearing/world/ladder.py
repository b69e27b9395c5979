"""The developmental ladder: stages as editable data, validated on load."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from rearing.datafile import load_yaml, package_data
from rearing.world.schema import Record

Delay = Literal["none", "short", "long"]
Seen = Literal["observed", "partly", "unobserved"]


class StageFactors(Record):
    stakeholders: tuple[int, int]
    consequence_delay: list[Delay] = Field(min_length=1)
    visibility: list[Seen] = Field(min_length=1)
    harm_reward: tuple[float, float]
    conflicting_principles: float = Field(ge=0.0, le=1.0)
    mental_state_inference: float = Field(ge=0.0, le=1.0)
    harm_explicitness: list[Literal["explicit", "described"]] = Field(
        default_factory=lambda: ["explicit"], min_length=1,
        description="How harms are told: plainly, or described with the harm left to be inferred.")

    @model_validator(mode="after")
    def _ranges_ordered(self) -> StageFactors:
        low, high = self.stakeholders
        if not 1 <= low <= high <= 4:
            raise ValueError(f"stakeholders must satisfy 1 <= min <= max <= 4, got {low}, {high}")
        low_r, high_r = self.harm_reward
        if not 0.0 <= low_r <= high_r <= 1.0:
            raise ValueError(f"harm_reward must satisfy 0 <= min <= max <= 1, got {low_r}, {high_r}")
        return self


class Stage(Record):
    id: int = Field(ge=1)
    name: str
    description: str
    factors: StageFactors


class Ladder(Record):
    stages: list[Stage] = Field(min_length=1)

    @model_validator(mode="after")
    def _ids_ascending(self) -> Ladder:
        ids = [s.id for s in self.stages]
        if ids != sorted(set(ids)):
            raise ValueError(f"stage ids must be unique and ascending, got {ids}")
        return self

    def stage(self, stage_id: int) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(f"no stage {stage_id} in ladder (stages: {[s.id for s in self.stages]})")


DEFAULT_LADDER = "default"


def default_ladder_path() -> Path:
    return package_data("rearing.world", "data/ladder.yaml")


def load_ladder(path: str | Path | None = None) -> Ladder:
    """Load and validate a ladder YAML; errors name the file, line and field."""
    path = default_ladder_path() if path in (None, DEFAULT_LADDER) else Path(path)
    return load_yaml(path, Ladder)
