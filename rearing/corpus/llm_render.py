"""Prompts that let an LLM render conditions and apply the model-raising transforms.

The template rendering of each document is both the LLM's fallback and the source of the content
check: every option's action and every consequence must survive in the LLM's text.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from pydantic import Field, field_validator

from rearing.config import ExperimentConfig, LLMConfig
from rearing.corpus.conditions import Condition, llm_style
from rearing.corpus.llm import LLMBackend, RenderRequest
from rearing.datafile import DataRecord, load_data
from rearing.io import write_json_atomic
from rearing.layout import CorpusLayout, RunLayout
from rearing.world.schema import Scenario


class LLMPrompts(DataRecord):
    system: str = Field(min_length=1)
    transforms: dict[str, str]

    @field_validator("transforms")
    @classmethod
    def _every_transform(cls, value: dict[str, str]) -> dict[str, str]:
        from rearing.corpus.transforms import TRANSFORMS

        if set(value) != set(TRANSFORMS):
            raise ValueError(f"need an instruction for exactly the transforms {sorted(TRANSFORMS)}")
        return value


def llm_prompts() -> LLMPrompts:
    return load_data(LLMPrompts, "rearing.corpus", "data/llm_prompts.yaml")


def required_phrases(scenario: Scenario) -> tuple[str, ...]:
    phrases = [o.action for o in scenario.options]
    phrases += [c.text for o in scenario.options for c in o.consequences]
    return tuple(phrases)


def backend_for(config: LLMConfig, run_dir: Path) -> LLMBackend:
    """The backend of a run: its response cache is ``config.cache_dir``, under ``run_dir`` unless absolute."""
    return LLMBackend(config, RunLayout(run_dir).llm_cache(config.cache_dir),
                      api_key=os.environ.get(config.api_key_env))


def rerender_with_llm(docs, scenarios: list[Scenario], name: str, condition: Condition, config: ExperimentConfig,
                      out_dir: Path, run_root: Path):
    """Re-render moral documents with the LLM; each failure falls back to its template text.

    The report goes into the corpus being built (``out_dir``), the response cache under ``run_root``."""
    by_id = {s.id: s for s in scenarios}
    requests = []
    for doc in docs:
        scenario = by_id[doc.scenario_id]
        prompt = (
            f"{llm_style(condition)}\n\nScenario (JSON):\n{scenario.model_dump_json(exclude={'provenance'})}"
            f"\n\nA plain version to improve on:\n{doc.text}"
        )
        requests.append(RenderRequest(key=doc.id, system=llm_prompts().system, prompt=prompt,
                                      required=required_phrases(scenario),
                                      fallback=lambda text=doc.text: text))
    backend = backend_for(config.corpus.llm, run_root)
    results = backend.render(requests)
    write_json_atomic(CorpusLayout(out_dir).llm_report(name), {
        "model": config.corpus.llm.model,
        "stats": backend.stats,
        "sources": dict(Counter(r.source for r in results)),
        "fallback_ids": [r.key for r in results if r.source == "fallback"],
    })
    return [d.model_copy(update={"text": r.text}) for d, r in zip(docs, results, strict=True)]


def transform_with_llm(texts: list[str], transforms: list[str], config: LLMConfig, cache_root: Path,
                       fallback) -> list:
    """Apply transforms to arbitrary texts; ``fallback(i)`` gives the template version of text i.
    A relative ``config.cache_dir`` is taken under ``cache_root``."""
    instruction = " Then ".join(llm_prompts().transforms[t] for t in transforms)
    requests = [
        RenderRequest(key=str(i), system=llm_prompts().system, prompt=f"{instruction}\n\nText:\n{text}", required=(),
                      fallback=lambda i=i: fallback(i))
        for i, text in enumerate(texts)
    ]
    return backend_for(config, cache_root).render(requests)
