"""Shared fixtures: small generated worlds, built once per session (generation is fast)."""

from __future__ import annotations

import pytest

from rearing.world.generate import GeneratorSettings, ScenarioGenerator


@pytest.fixture(scope="session")
def generated_records() -> list[dict]:
    generator = ScenarioGenerator(GeneratorSettings(seed=7))
    return list(generator.generate(3000))
