"""Prompts that let an LLM render conditions and apply the model-raising transforms.

The template rendering of each document is both the LLM's fallback and the source of the content
check: every option's action and every consequence must survive in the LLM's text.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

from rearing.config import ExperimentConfig, LLMConfig
from rearing.corpus.llm import LLMBackend, RenderRequest
from rearing.io import write_json_atomic
from rearing.world.schema import Scenario

SYSTEM = (
    "You rewrite training documents for a study of how the structure of moral training text affects "
    "language models. Keep every fact, action and consequence you are given. Answer only with the "
    "document inside <text>...</text>."
)
STYLE = {
    "flat": "Write third-person declarative statements of the facts and of every option's "
            "consequences. No principles, no story, no first person, no moral judgement.",
    "principle_flat": "Write third-person declarative statements of the facts and every option's "
                      "consequences, then state the principle and explicit moral rules, and say which "
                      "option is right and which is wrong and why.",
    "bmn": "Write a first-person narrative: I meet the situation, reach a choice point, then live out "
           "each option in turn: what I did, what happened next to each person and to me, later and "
           "social consequences, how others responded; end with a reflection. Never state the "
           "principle as a rule: let the consequences carry it.",
}
TRANSFORM_STYLE = {
    "first_person": "Rewrite the text in the first person, as told by its main character.",
    "lived": "Rewrite the information as lived experience: something I met, tried and learned from.",
    "social": "Rewrite the information so it arises in a conversation between me and other people.",
}


def required_phrases(scenario: Scenario) -> tuple[str, ...]:
    phrases = [o.action for o in scenario.options]
    phrases += [c.text for o in scenario.options for c in o.consequences]
    return tuple(phrases)


def backend_for(config: LLMConfig, run_dir: Path) -> LLMBackend:
    cache = Path(config.cache_dir)
    return LLMBackend(config, cache if cache.is_absolute() else run_dir / cache,
                      api_key=os.environ.get(config.api_key_env))


def rerender_with_llm(docs, scenarios: list[Scenario], condition: str, recipe, config: ExperimentConfig,
                      out_dir: Path):
    """Re-render moral documents with the LLM; each failure falls back to its template text."""
    by_id = {s.id: s for s in scenarios}
    requests = []
    for doc in docs:
        scenario = by_id[doc.scenario_id]
        prompt = (
            f"{STYLE[recipe.renderer]}\n\nScenario (JSON):\n{scenario.model_dump_json(exclude={'provenance'})}"
            f"\n\nA plain version to improve on:\n{doc.text}"
        )
        requests.append(RenderRequest(key=doc.id, system=SYSTEM, prompt=prompt,
                                      required=required_phrases(scenario),
                                      fallback=lambda text=doc.text: text))
    backend = backend_for(config.corpus.llm, out_dir.parent)
    results = backend.render(requests)
    write_json_atomic(out_dir / f"llm_render_{condition}.json", {
        "model": config.corpus.llm.model,
        "stats": backend.stats,
        "sources": dict(Counter(r.source for r in results)),
        "fallback_ids": [r.key for r in results if r.source == "fallback"],
    })
    return [d.model_copy(update={"text": r.text}) for d, r in zip(docs, results, strict=True)]


def transform_with_llm(texts: list[str], transforms: list[str], config: LLMConfig, cache_root: Path,
                       fallback) -> list:
    """Apply transforms to arbitrary texts; ``fallback(i)`` gives the template version of text i."""
    instruction = " Then ".join(TRANSFORM_STYLE[t] for t in transforms)
    requests = [
        RenderRequest(key=str(i), system=SYSTEM, prompt=f"{instruction}\n\nText:\n{text}", required=(),
                      fallback=lambda i=i: fallback(i))
        for i, text in enumerate(texts)
    ]
    return backend_for(config, cache_root).render(requests)
