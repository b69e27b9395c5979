"""Optional LLM-written worlds (``world.backend: llm``).

The procedural generator fixes what a scenario is (options, valence, people, consequence kinds,
timing, visibility, magnitudes); its templates only phrase it, and that phrasing is where generated
worlds read worst. Here an OpenAI-compatible model rewrites the setting and each consequence text
for the fixed structure, and nothing else. One request per scenario asks for a JSON object keyed
``setting``, ``a.0``, ``b.2``...; an answer is used only when it parses, has exactly those keys and
keeps every person each text must name. The corpus backend supplies the cache, HTTP retries, re-asks
and fallback: a scenario whose answers keep failing keeps its template texts and is counted.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from openai import AsyncOpenAI
from pydantic import Field, model_validator

from rearing.config import LLMConfig
from rearing.corpus.llm import LLMBackend, RenderRequest, _Rejected, _Tally, cache_key, parse_output
from rearing.datafile import load_data, phrasing
from rearing.world.schema import SELF, Consequence, Record, Scenario, Visibility

log = logging.getLogger("rearing.llm")

SETTING = "setting"
"""The answer key of the setting; a consequence's key is ``<option id>.<index>``."""

Delay = Literal["none", "short", "long", "unknown"]
Note = phrasing("agent")

_FIRST_PERSON = re.compile(r"(?<!\w)(?:I|[Mm]e|[Mm]y|[Mm]yself)(?!\w)")
_CODE_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class WorldPrompts(Record):
    """data/llm_world.yaml: what the model is told, with a note for every difficulty factor value."""

    system: str = Field(min_length=1)
    prompt: phrasing("agent", "keys", "scenario", "factors", required=("keys", "scenario", "factors"))
    retry_note: phrasing("problems", "keys", required=("problems", "keys"))
    visibility: dict[Visibility, Note]
    consequence_delay: dict[Delay, Note]
    harm_rewarded: Note
    conflicting_principles: Note
    mental_state_inference: Note

    @model_validator(mode="after")
    def _a_note_for_every_value(self) -> WorldPrompts:
        for field, values in (("visibility", get_args(Visibility)), ("consequence_delay", get_args(Delay))):
            missing = [v for v in values if v not in getattr(self, field)]
            if missing:
                raise ValueError(f"{field}: no note for {', '.join(missing)}")
        return self


def world_prompts(path: str | Path | None = None) -> WorldPrompts:
    return load_data(WorldPrompts, "rearing.world", "data/llm_world.yaml", path)


def _names(name: str, text: str) -> bool:
    """Whole-word, case-sensitive: 'Usha' is kept in "Usha's bag", and a name like 'May' is not
    found in 'they may'."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None


@dataclass(frozen=True)
class Expected:
    """What an answer for one scenario must hold: exactly ``keys``, and in each text the names of
    ``names[key]``. In the agent's own consequences (``own``) a first-person "I"/"me"/"my" may
    stand for the agent's name."""

    keys: tuple[str, ...]
    names: dict[str, tuple[str, ...]]
    agent: str | None
    own: frozenset[str]

    @classmethod
    def of(cls, scenario: Scenario) -> Expected:
        """Names that appear in a template text must survive its rewrite, and each consequence must
        name whom it happens to."""
        agent = scenario.agent.name
        people = [n for n in [agent, *(s.name for s in scenario.stakeholders)] if n]
        by_id = {s.id: s.name for s in scenario.stakeholders} | {SELF: agent}
        names = {SETTING: tuple(n for n in people if _names(n, scenario.setting))}
        own = set()
        for key, consequence in _consequences(scenario):
            subject = by_id.get(consequence.stakeholder) if consequence.stakeholder else None
            kept = [n for n in people if _names(n, consequence.text) or n == subject]
            names[key] = tuple(kept)
            if consequence.stakeholder == SELF:
                own.add(key)
        return cls((SETTING, *(key for key, _ in _consequences(scenario))), names, agent, frozenset(own))

    def problems(self, text: str) -> list[str]:
        """Why ``text`` (the body of the model's <text> block) is not a usable answer; empty: it is."""
        try:
            answer = load_answer(text)
        except ValueError as exc:
            return [str(exc)]
        problems = []
        missing = [k for k in self.keys if k not in answer]
        extra = [k for k in answer if k not in self.keys]
        if missing:
            problems.append(f"missing key(s) {', '.join(missing)}")
        if extra:
            problems.append(f"unexpected key(s) {', '.join(extra)}")
        for key in (k for k in self.keys if k in answer):
            value = answer[key]
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{key}: not a non-empty string")
                continue
            lost = [n for n in self.names[key] if not self._keeps(key, n, value)]
            if lost:
                problems.append(f"{key}: does not name {', '.join(lost)}")
        return problems

    def _keeps(self, key: str, name: str, text: str) -> bool:
        if _names(name, text):
            return True
        return key in self.own and name == self.agent and _FIRST_PERSON.search(text) is not None


def _consequences(scenario: Scenario) -> Iterator[tuple[str, Consequence]]:
    """Each consequence with its answer key, in option order."""
    for option in scenario.options:
        for i, consequence in enumerate(option.consequences):
            yield f"{option.id}.{i}", consequence


def load_answer(text: str) -> dict:
    """The JSON object of an answer (a ```json fence around it is tolerated); ``ValueError`` otherwise."""
    fenced = _CODE_FENCE.match(text.strip())
    try:
        answer = json.loads(fenced.group(1) if fenced else text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    if not isinstance(answer, dict):
        raise ValueError(f"not a JSON object but {type(answer).__name__}")  # noqa: TRY004 - a bad answer, not a bad call
    return answer


def structure(scenario: Scenario) -> dict:
    """The typed structure the model writes for, with each template text as a draft."""
    agent = scenario.agent.name or scenario.agent.role
    person = {s.id: s.name or s.role for s in scenario.stakeholders} | {SELF: agent}
    return {
        "domain": scenario.domain,
        "agent": {"name": agent, "role": scenario.agent.role, "goal": scenario.agent.goal},
        "people": [
            {"name": s.name or s.role, "role": s.role, "relationship": s.relationship, "need": s.need}
            for s in scenario.stakeholders
        ],
        "setting_draft": scenario.setting,
        "options": [
            {
                "id": option.id,
                "action": option.action,
                "valence": option.valence.value,
                "consequences": [
                    {
                        "key": f"{option.id}.{i}",
                        "person": person.get(c.stakeholder) if c.stakeholder else None,
                        "kind": c.kind,
                        "timing": c.timing,
                        "delay": c.delay,
                        "visible": c.visible,
                        "magnitude": c.magnitude,
                        "draft": c.text,
                    }
                    for i, c in enumerate(option.consequences)
                ],
            }
            for option in scenario.options
        ],
    }


def factor_notes(scenario: Scenario, prompts: WorldPrompts) -> list[str]:
    """The stage's difficulty factors as instructions (unobserved harm: nobody reacts to it)."""
    d = scenario.difficulty
    notes = [prompts.visibility[d.visibility if d else "unknown"],
             prompts.consequence_delay[d.consequence_delay if d else "unknown"]]
    if d is not None:
        notes += [getattr(prompts, flag) for flag in ("harm_rewarded", "conflicting_principles",
                                                      "mental_state_inference") if getattr(d, flag)]
    agent = scenario.agent.name or f"the {scenario.agent.role}"
    return [f"- {note.format(agent=agent)}" for note in notes]


def world_prompt(scenario: Scenario, prompts: WorldPrompts, expected: Expected) -> str:
    return prompts.prompt.format(
        agent=scenario.agent.name or f"the {scenario.agent.role}",
        keys=", ".join(expected.keys),
        scenario=json.dumps(structure(scenario), indent=2, ensure_ascii=False),
        factors="\n".join(factor_notes(scenario, prompts)),
    )


def template_answer(scenario: Scenario) -> str:
    """The template texts in the answer's shape: what a scenario keeps when the model fails."""
    answer = {SETTING: scenario.setting} | {key: c.text for key, c in _consequences(scenario)}
    return json.dumps(answer, ensure_ascii=False)


def apply_answer(scenario: Scenario, text: str, rendered_by: str | None) -> Scenario:
    """The scenario with only its setting and consequence texts replaced; validated again."""
    answer = load_answer(text)
    data = scenario.model_dump(mode="json")
    data["setting"] = answer[SETTING].strip()
    for option in data["options"]:
        for i, consequence in enumerate(option["consequences"]):
            consequence["text"] = answer[f"{option['id']}.{i}"].strip()
    data["provenance"]["rendered_by"] = rendered_by
    return Scenario.model_validate(data)


class WorldBackend(LLMBackend):
    """The corpus backend, checking each answer as a whole scenario instead of by phrases.

    The corpus check looks for required phrases anywhere in a text; a world answer is a JSON object
    whose keys and per-text names matter, and a re-ask must say what was wrong with it. So cached
    answers and fresh ones both go through :meth:`Expected.problems`, found by the request's cache key.
    """

    def __init__(self, config: LLMConfig, cache_dir: Path, prompts: WorldPrompts, api_key: str | None = None):
        super().__init__(config, cache_dir, api_key)
        self.prompts = prompts
        self._expected: dict[str, Expected] = {}

    def request(self, scenario: Scenario) -> RenderRequest:
        expected = Expected.of(scenario)
        prompt = world_prompt(scenario, self.prompts, expected)
        self._expected[cache_key(self.config, self.prompts.system, prompt)] = expected
        return RenderRequest(key=scenario.id, system=self.prompts.system, prompt=prompt, required=(),
                             fallback=lambda: template_answer(scenario))

    def _cache_get(self, key: str, required: Sequence[str]) -> str | None:
        text = super()._cache_get(key, required)
        return text if text is not None and not self._expected[key].problems(text) else None

    async def _ask_until_valid(self, client: AsyncOpenAI, semaphore: asyncio.Semaphore, request: RenderRequest,
                               key: str, tally: _Tally) -> str:
        """Ask, check, and re-ask with a note listing the problems, up to content_retries times."""
        expected = self._expected[key]
        prompt = request.prompt
        problems: list[str] = []
        for ask in range(self.config.content_retries + 1):
            raw = await self._call(client, semaphore, request, prompt, f"{key}:{ask}", tally)
            try:
                text = parse_output(raw)
            except ValueError as exc:
                problems = [str(exc)]
            else:
                problems = expected.problems(text)
                if not problems:
                    return text
            self.stats["content_rejected"] += 1
            log.info("%s: answer rejected (ask %d): %s", request.key, ask + 1, self._redact("; ".join(problems)))
            note = self.prompts.retry_note.format(problems="; ".join(problems), keys=", ".join(expected.keys))
            prompt = f"{request.prompt}\n\nNote: {note}"
        raise _Rejected(f"content check failed after {self.config.content_retries + 1} ask(s): "
                        + "; ".join(problems))


def rewrite_world(scenarios: list[Scenario], config: LLMConfig, run_root: Path) -> tuple[list[Scenario], dict]:
    """Every scenario with LLM-written texts where the model gave a usable answer, and the report:
    model, backend stats, answers by source, and the scenarios that kept their template texts."""
    cache = Path(config.cache_dir)
    backend = WorldBackend(config, cache if cache.is_absolute() else run_root / cache, world_prompts())
    results = backend.render([backend.request(s) for s in scenarios])
    rewritten = [
        apply_answer(s, r.text, None if r.source == "fallback" else config.model)
        for s, r in zip(scenarios, results, strict=True)
    ]
    report = {
        "model": config.model,
        "stats": backend.stats,
        "sources": dict(Counter(r.source for r in results)),
        "fallback_ids": [r.key for r in results if r.source == "fallback"],
        "fallback_errors": {r.key: r.error for r in results if r.source == "fallback"},
    }
    return rewritten, report
