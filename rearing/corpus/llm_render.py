"""Prompts that let an LLM render conditions and apply the model-raising transforms.

The template rendering of each document is both the LLM's fallback and the source of the content
check. A rewrite is accepted only when, in its public text (everything outside the private
deliberation, which training may never see as a target):

* every option's action and every consequence survive (:func:`rearing.corpus.llm.content_check`:
  verbatim, or all of a phrase's content words up to a simple inflection), as written or in the
  agent's first person ('around me' for 'around Dorothy');
* if the template states the principle (unit ``principle``): at least ``PRINCIPLE_SHARE`` (80%) of
  the principle's distinct content words occur (same word normalisation), so the narrator may put it
  in their own words but cannot drop it;
* if the template carries a verdict (unit ``verdict``): the prosocial option's action is mentioned
  again after its first mention (where it is offered), in a sentence that also carries a conclusion
  cue (``CONCLUSION_CUES``: right, wrong, should, again, regret, lesson, ...). A mention counts when
  the sentence holds at least ``VERDICT_ACTION_SHARE`` (half) of the action's content words; the cue
  may also be one of ``CONCLUSION_PHRASES`` ("I would", "next time", "if only", "I wish"). This is
  a lexical proxy, not a judge: it catches a rewrite that drops the conclusion or leaves the
  reflection neutral, but a later sentence that happens to pair the action with a cue word (a
  consequence saying "trusted me again") would pass too;
* if the template has private deliberation: the answer marks it as exactly as many
  ``<private>...</private>`` blocks as the template has spans (one for a narrative), well formed
  and non-empty. The tags are removed and each block's text becomes a private span.

Setting and needs are not checked; a rewrite that passes keeps the template's ledger (``units``),
a fallback keeps the template document whole. More than ``corpus.llm.max_fallback_share`` of a
condition's documents falling back fails the build, after the report is written.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

from pydantic import Field, field_validator

from rearing.config import ExperimentConfig, LLMConfig
from rearing.corpus.conditions import Condition, llm_style
from rearing.corpus.llm import LLMBackend, RenderRequest, content_check, content_share
from rearing.corpus.person import to_first_person
from rearing.datafile import DataRecord, load_data
from rearing.io import InputError, write_json_atomic
from rearing.layout import CorpusLayout, RunLayout
from rearing.world.schema import Scenario, Valence

PRINCIPLE_SHARE = 0.8
"""Share of the principle's distinct content words a rewrite must keep."""

VERDICT_ACTION_SHARE = 0.5
"""Share of the prosocial action's content words a sentence needs to count as mentioning it."""

CONCLUSION_CUES = frozenset([
    "right", "rightly", "wrong", "wrongly", "should", "shouldn", "ought", "again", "better", "worse", "glad",
    "regret", "regrets", "regretted", "mistake", "proud", "ashamed", "lesson", "learned", "learnt", "wish",
    "wished",
])
"""Words of which the verdict sentence needs one (or one of ``CONCLUSION_PHRASES``): a judgement,
a regret, or the path to walk again."""

CONCLUSION_PHRASES = ("i would", "next time", "if only", "i wish")
"""Word sequences that count as a conclusion cue too ('I would leave the headphones unmentioned')."""

_PRIVATE_BLOCK = re.compile(r"<private>(.*?)</private>", re.IGNORECASE | re.DOTALL)
_PRIVATE_TAG = re.compile(r"</?private>", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_WORD = re.compile(r"[a-z0-9]+")


class LLMPrompts(DataRecord):
    system: str = Field(min_length=1)
    transforms: dict[str, str]
    principle: str = Field(pattern=r"\{principle\}", description="Added when the template states the principle.")
    verdict: str = Field(pattern=r"\{action\}", description="Added when the template says which path is right.")
    private: str = Field(pattern=r"\{blocks\}", description="Added when the template has private deliberation.")

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


def missing_phrases(text: str, scenario: Scenario) -> list[str]:
    """The required phrases ``text`` lacks. A phrase also counts in the agent's first person (as a
    first-person narrative tells it: 'Timothy becomes wary around me' for '... around Dorothy')."""
    agent = scenario.agent.name
    missing = []
    for phrase in required_phrases(scenario):
        forms = [phrase, to_first_person(phrase, agent)] if agent else [phrase]
        if all(content_check(text, [form]) for form in forms):
            missing.append(phrase)
    return missing


def backend_for(config: LLMConfig, run_dir: Path) -> LLMBackend:
    """The backend of a run: its response cache is ``config.cache_dir``, under ``run_dir`` unless absolute."""
    return LLMBackend(config, RunLayout(run_dir).llm_cache(config.cache_dir),
                      api_key=os.environ.get(config.api_key_env))


def mark_private(text: str, spans) -> str:
    """``text`` with each private span wrapped in ``<private>...</private>``."""
    out, last = [], 0
    for start, end in sorted(spans):
        out += [text[last:start], "<private>", text[start:end], "</private>"]
        last = end
    return "".join(out) + text[last:]


def split_private(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove ``<private>...</private>`` tags: the plain text and the character span of each block's
    text (surrounding whitespace left outside). Raises ValueError on a stray, nested or empty block."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length, last = 0, 0
    for match in _PRIVATE_BLOCK.finditer(marked):
        body = match.group(1)
        if _PRIVATE_TAG.search(body):
            raise ValueError("a <private> block is nested in another")
        before = marked[last:match.start()]
        if _PRIVATE_TAG.search(before):
            raise ValueError("a <private> tag is not closed or not opened")
        inner = body.strip()
        if not inner:
            raise ValueError("a <private> block is empty")
        lead = body[: len(body) - len(body.lstrip())]
        trail = body[len(body.rstrip()):]
        out.append(before + lead)
        length += len(before) + len(lead)
        spans.append((length, length + len(inner)))
        out += [inner, trail]
        length += len(inner) + len(trail)
        last = match.end()
    if _PRIVATE_TAG.search(marked[last:]):
        raise ValueError("a <private> tag is not closed or not opened")
    out.append(marked[last:])
    return "".join(out), spans


def public_text(text: str, spans) -> str:
    """``text`` without its private spans: what training may use as a target."""
    out, last = [], 0
    for start, end in sorted(spans):
        out.append(text[last:start])
        last = end
    return " ".join(out + [text[last:]])


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text) if s.strip()]


def carries_verdict(text: str, action: str) -> bool:
    """Whether ``text`` says the path ``action`` is right: a sentence after the first one that mentions
    the action mentions it again (``VERDICT_ACTION_SHARE`` of its content words) with a conclusion cue
    (a word of ``CONCLUSION_CUES`` or a phrase of ``CONCLUSION_PHRASES``)."""
    mentions = [s for s in _sentences(text) if content_share(action, s)[0] >= VERDICT_ACTION_SHARE]
    return any(_concludes(s) for s in mentions[1:])


def _concludes(sentence: str) -> bool:
    words = _WORD.findall(sentence.lower())
    joined = f" {' '.join(words)} "
    return bool(CONCLUSION_CUES.intersection(words)) or any(f" {p} " in joined for p in CONCLUSION_PHRASES)


def rewrite_problems(answer: str, doc, scenario: Scenario) -> list[str]:
    """What keeps an LLM answer (the body of its <text> block) from replacing template document
    ``doc``; each problem is phrased for the re-ask note. An empty list accepts it."""
    try:
        text, spans = split_private(answer)
    except ValueError as exc:
        return [f"malformed private deliberation: {exc}"]
    problems = []
    expected = len(doc.private)
    if len(spans) != expected:
        problems.append(f"found {len(spans)} <private>...</private> block(s), need exactly {expected}")
    public = public_text(text, spans)
    missing = missing_phrases(public, scenario)
    if missing:
        problems.append("outside any private deliberation, include: " + "; ".join(missing))
    if "principle" in doc.units and scenario.principle:
        share, absent = content_share(scenario.principle, public)
        if share < PRINCIPLE_SHARE - 1e-9:
            problems.append(f"state the principle outside any private deliberation with its key words "
                            f"(missing: {', '.join(absent)}): {scenario.principle}")
    judged = scenario.option(Valence.prosocial) or scenario.option(Valence.harmful)
    if "verdict" in doc.units and judged is not None and not carries_verdict(public, judged.action):
        problems.append(f"end with the conclusion outside any private deliberation: a sentence naming the "
                        f"path ({judged.action}) that says whether it was the one to walk")
    return problems


def document_prompt(doc, scenario: Scenario, condition: Condition, prompts: LLMPrompts) -> str:
    """What the model is asked for one moral document: the style, the scenario, what to keep, and the
    template version with its private deliberation marked."""
    keep = []
    if "principle" in doc.units and scenario.principle:
        keep.append(prompts.principle.format(principle=scenario.principle))
    prosocial = scenario.option(Valence.prosocial)
    if "verdict" in doc.units and prosocial is not None:
        keep.append(prompts.verdict.format(action=prosocial.action))
    if doc.private:
        count = len(doc.private)
        keep.append(prompts.private.format(blocks="exactly one block" if count == 1 else f"exactly {count} blocks"))
    notes = "".join(f"\n\n{k}" for k in keep)
    return (
        f"{llm_style(condition)}{notes}\n\nScenario (JSON):\n{scenario.model_dump_json(exclude={'provenance'})}"
        f"\n\nA plain version to improve on:\n{mark_private(doc.text, doc.private)}"
    )


def rerender_with_llm(docs, scenarios: list[Scenario], name: str, condition: Condition, config: ExperimentConfig,
                      out_dir: Path, run_root: Path):
    """Re-render moral documents with the LLM; each failure falls back to its template document.

    A rewrite comes back with its text, its private spans (from its ``<private>`` block) and the
    template's units, which the check verified; a fallback is the template document unchanged. The
    report goes into the corpus being built (``out_dir``), the response cache under ``run_root``.
    Raises InputError, after writing the report, when more than ``corpus.llm.max_fallback_share`` of
    the documents fell back."""
    by_id = {s.id: s for s in scenarios}
    prompts = llm_prompts()
    requests = []
    for doc in docs:
        scenario = by_id[doc.scenario_id]
        requests.append(RenderRequest(
            key=doc.id, system=prompts.system, prompt=document_prompt(doc, scenario, condition, prompts),
            required=(), fallback=lambda text=doc.text: text,
            check=lambda answer, d=doc, s=scenario: rewrite_problems(answer, d, s)))
    llm = config.corpus.llm
    backend = backend_for(llm, run_root)
    results = backend.render(requests)
    fallbacks = [r for r in results if r.source == "fallback"]
    share = len(fallbacks) / len(results) if results else 0.0
    report_path = CorpusLayout(out_dir).llm_report(name)
    write_json_atomic(report_path, {
        "model": llm.model,
        "stats": backend.stats,
        "sources": dict(Counter(r.source for r in results)),
        "fallback_share": round(share, 4),
        "max_fallback_share": llm.max_fallback_share,
        "fallback_ids": [r.key for r in fallbacks],
        "fallback_errors": {r.key: r.error for r in fallbacks},
    })
    if share > llm.max_fallback_share:
        raise InputError([(
            f"corpus.llm: {len(fallbacks)} of {len(results)} '{name}' documents ({share:.1%}) fell back to "
            f"their template text, more than corpus.llm.max_fallback_share ({llm.max_fallback_share:.1%}); "
            f"see {report_path} for which and why, then fix the endpoint or the prompts, or raise "
            f"corpus.llm.max_fallback_share")])
    rewritten = []
    for doc, result in zip(docs, results, strict=True):
        if result.source == "fallback":
            rewritten.append(doc)
            continue
        text, spans = split_private(result.text)
        rewritten.append(doc.model_copy(update={"text": text, "private": spans, "units": list(doc.units)}))
    return rewritten


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
