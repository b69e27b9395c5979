"""LLM render backend for any OpenAI-compatible chat endpoint (vLLM, llama.cpp, Ollama, hosted APIs).

Every item is rendered independently and can never sink a build: transient HTTP failures are retried
with backoff, outputs that lose required content are re-asked, and an item that still fails falls
back to the template rendering and is counted. Validated outputs are cached on disk, one small file
per request, so a rerun is free and a killed build resumes where it stopped. The API key lives only
in the client object: it is redacted from every error text and log message we produce and is never
part of the cache.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import openai
from openai import AsyncOpenAI

from rearing.config import LLMConfig
from rearing.io import write_json_atomic

log = logging.getLogger("rearing.llm")

Source = Literal["llm", "cache", "fallback"]

BACKOFF_CAP = 30.0
"""Longest single wait between HTTP retries (seconds), whatever backoff_base and Retry-After say."""

JITTER_FRACTION = 0.1
"""Backoff jitter as a share of the delay; deterministic per item so runs are reproducible."""

RETRY_STATUS = frozenset({408, 429})
"""Retryable 4xx statuses (request timeout, rate limit); every 5xx is retryable too."""

KEY_PLACEHOLDER = "[REDACTED]"

STOPWORDS = frozenset(
    ["that", "this", "these", "those", "with", "from", "into", "onto", "over", "under", "about", "after", "before", "they", "them", "their", "there", "then", "than", "were", "have", "been", "being", "what", "when", "where", "which", "while", "would", "could", "should", "will", "shall", "your", "yours", "just", "also", "very", "some", "such", "each", "other", "because", "does", "doing"]
)

_TEXT_BLOCK = re.compile(r"<text>(.*?)</text>", re.IGNORECASE | re.DOTALL)
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.IGNORECASE | re.DOTALL)
_NON_WORD = re.compile(r"[^0-9a-z]+")
_SUFFIXES = ("ing", "ed", "es", "s")


@dataclass(frozen=True)
class RenderRequest:
    """One text to render. ``fallback`` is the template rendering, used only if the LLM keeps failing."""

    key: str
    system: str
    prompt: str
    required: tuple[str, ...]
    fallback: Callable[[], str]
    check: Callable[[str], list[str]] | None = None
    """Further checks of an answer's text (cached answers included): the problems found, each phrased
    so the model can fix it on a re-ask; an empty list accepts the answer."""


@dataclass
class RenderResult:
    """The rendered text and where it came from; ``attempts`` counts HTTP calls made for this item."""

    key: str
    text: str
    source: Source
    attempts: int
    error: str | None


@dataclass
class _Tally:
    """HTTP calls made for one item, across re-asks and retries."""

    calls: int = 0


class _Rejected(Exception):
    """The model answered, but the answer failed parsing or the content check."""


class _GaveUp(Exception):
    """A non-retryable HTTP error, or retries exhausted; the message is already redacted."""


def parse_output(raw: str) -> str:
    """Extract the body of the first ``<text>...</text>`` block.

    The tags let us discard chatter ("Sure! Here is...") and detect truncated answers; any
    ``<think>`` block from a reasoning model is dropped first so a tag inside it cannot match.
    """
    visible = _THINK_BLOCK.sub("", raw or "")
    match = _TEXT_BLOCK.search(visible)
    if match is None:
        raise ValueError("malformed: no <text>...</text> block in the output")
    body = match.group(1).strip()
    if not body:
        raise ValueError("malformed: empty <text> block")
    return body


def _words(text: str) -> list[str]:
    return _NON_WORD.sub(" ", text.lower()).split()


def _stem(word: str) -> str:
    """Strip one common inflection so 'returned' matches 'returns'; crude on purpose."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _content_words(words: list[str]) -> list[str]:
    return [w for w in words if any(c.isdigit() for c in w) or (len(w) >= 4 and w not in STOPWORDS)]


def content_check(text: str, required: Sequence[str]) -> list[str]:
    """Return the required phrases missing from ``text`` (empty list: all present).

    Matching ignores case, punctuation and spacing. A phrase also counts as present when all of its
    content words (4+ letters and not a stopword, or containing a digit) occur in the text up to a
    simple inflection, because models paraphrase lightly. A phrase with no content words must
    appear verbatim (after normalisation).
    """
    text_words = _words(text)
    joined = f" {' '.join(text_words)} "
    stems = {_stem(w) for w in text_words}
    missing = []
    for phrase in required:
        phrase_words = _words(phrase)
        if not phrase_words or f" {' '.join(phrase_words)} " in joined:
            continue
        content = _content_words(phrase_words)
        if content and all(_stem(w) in stems for w in content):
            continue
        missing.append(phrase)
    return missing


def content_share(phrase: str, text: str) -> tuple[float, list[str]]:
    """The share of ``phrase``'s content words that ``text`` contains (up to a simple inflection,
    ignoring case and punctuation), and the words it lacks. A phrase without content words counts
    as fully present when it appears verbatim (after normalisation), else as absent."""
    phrase_words = _words(phrase)
    content = list(dict.fromkeys(_content_words(phrase_words)))
    text_words = _words(text)
    if not content:
        present = bool(phrase_words) and f" {' '.join(phrase_words)} " in f" {' '.join(text_words)} "
        return (1.0, []) if present else (0.0, [phrase])
    stems = {_stem(w) for w in text_words}
    absent = [w for w in content if _stem(w) not in stems]
    return 1.0 - len(absent) / len(content), absent


def cache_key(config: LLMConfig, system: str, prompt: str) -> str:
    """sha256 over everything that shapes the output. The base_url is left out on purpose: the same
    model served from another host (or port) should reuse the cache."""
    payload = {
        "model": config.model,
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "system": system,
        "prompt": prompt,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def backoff_delay(base: float, attempt: int, salt: str = "") -> float:
    """``base * 2**attempt`` capped at BACKOFF_CAP, plus up to 10% jitter derived from ``salt`` so that
    concurrent items do not retry in lockstep while runs stay reproducible."""
    delay = min(BACKOFF_CAP, base * (2.0 ** attempt))
    digest = hashlib.sha256(f"{salt}:{attempt}".encode()).digest()
    jitter = int.from_bytes(digest[:4], "big") / 2**32
    return min(BACKOFF_CAP, delay * (1.0 + JITTER_FRACTION * jitter))


def _retry_after(error: openai.APIStatusError) -> float | None:
    """Seconds the server asked us to wait, if it said so (seconds or HTTP-date form)."""
    value = error.response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _is_retryable(error: Exception) -> bool:
    if isinstance(error, openai.APIConnectionError):
        return True
    if isinstance(error, openai.APIStatusError):
        return error.status_code in RETRY_STATUS or error.status_code >= 500
    return False


def _describe(error: Exception) -> str:
    """A one-line, length-bounded description (error pages can be long HTML)."""
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.APIStatusError):
        text = f"HTTP {error.status_code}: {error.message}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 300 else text[:297] + "..."


class LLMBackend:
    """Renders batches of requests through an OpenAI-compatible endpoint, with cache and fallback.

    ``stats`` accumulate over the backend's lifetime: requests, cache_hits, llm_ok, http_calls,
    retried_http (HTTP retries performed), content_rejected (answers that failed parsing or the
    content check) and fallbacks.
    """

    def __init__(self, config: LLMConfig, cache_dir: Path, api_key: str | None = None):
        self.config = config
        self.cache_dir = Path(cache_dir)
        self._api_key = api_key if api_key is not None else (os.environ.get(config.api_key_env) or "EMPTY")
        self.stats: dict[str, int] = {
            "requests": 0,
            "cache_hits": 0,
            "llm_ok": 0,
            "http_calls": 0,
            "retried_http": 0,
            "content_rejected": 0,
            "fallbacks": 0,
        }

    def __repr__(self) -> str:
        return f"LLMBackend(base_url={self.config.base_url!r}, model={self.config.model!r})"

    def render(self, requests: Sequence[RenderRequest]) -> list[RenderResult]:
        """Synchronous wrapper for code that is not already inside an event loop."""
        return asyncio.run(self.arender(list(requests)))

    async def arender(self, requests: list[RenderRequest]) -> list[RenderResult]:
        """Render every request; results come back in request order and none is ever dropped."""
        semaphore = asyncio.Semaphore(self.config.concurrency)
        locks: dict[str, asyncio.Lock] = {}
        async with AsyncOpenAI(
            base_url=self.config.base_url,
            api_key=self._api_key,
            max_retries=0,
            timeout=self.config.timeout,
        ) as client:
            return list(
                await asyncio.gather(*(self._render_one(client, semaphore, locks, r) for r in requests))
            )

    def _redact(self, text: str) -> str:
        if self._api_key and self._api_key != "EMPTY":
            return text.replace(self._api_key, KEY_PLACEHOLDER)
        return text

    def _cache_path(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str, required: Sequence[str]) -> str | None:
        """Cached text, or None when absent, unreadable or no longer passing the content check."""
        path = self._cache_path(key)
        if not path.is_file():
            return None
        try:
            text = json.loads(path.read_text(encoding="utf-8"))["text"]
        except (OSError, ValueError, KeyError, TypeError):
            log.warning("ignoring unreadable cache entry %s", path)
            return None
        if not isinstance(text, str) or content_check(text, required):
            return None
        return text

    async def _render_one(
        self,
        client: AsyncOpenAI,
        semaphore: asyncio.Semaphore,
        locks: dict[str, asyncio.Lock],
        request: RenderRequest,
    ) -> RenderResult:
        self.stats["requests"] += 1
        key = cache_key(self.config, request.system, request.prompt)
        async with locks.setdefault(key, asyncio.Lock()):
            cached = self._cache_get(key, request.required)
            if cached is not None and request.check is not None and request.check(cached):
                cached = None
            if cached is not None:
                self.stats["cache_hits"] += 1
                return RenderResult(request.key, cached, "cache", 0, None)
            tally = _Tally()
            try:
                text = await self._ask_until_valid(client, semaphore, request, key, tally)
            except (_GaveUp, _Rejected) as exc:
                error = self._redact(str(exc))
            else:
                write_json_atomic(self._cache_path(key), {"text": text})
                self.stats["llm_ok"] += 1
                return RenderResult(request.key, text, "llm", tally.calls, None)
        self.stats["fallbacks"] += 1
        log.warning("%s: using template fallback after %d HTTP call(s): %s", request.key, tally.calls, error)
        return RenderResult(request.key, request.fallback(), "fallback", tally.calls, error)

    async def _ask_until_valid(
        self,
        client: AsyncOpenAI,
        semaphore: asyncio.Semaphore,
        request: RenderRequest,
        key: str,
        tally: _Tally,
    ) -> str:
        """Ask, validate, and re-ask with a note naming what was wrong, up to content_retries times."""
        prompt = request.prompt
        problem = ""
        for ask in range(self.config.content_retries + 1):
            raw = await self._call(client, semaphore, request, prompt, f"{key}:{ask}", tally)
            try:
                text = parse_output(raw)
            except ValueError as exc:
                problem = str(exc)
                note = "Answer with the text inside <text>...</text> tags and nothing else."
            else:
                missing = content_check(text, request.required)
                problems = request.check(text) if request.check is not None else []
                if not missing and not problems:
                    return text
                problem = "; ".join((["missing required content: " + "; ".join(repr(m) for m in missing)]
                                     if missing else []) + problems)
                note = ""
                if missing:
                    note = ("Your previous answer left out required content. Keep the same story but include: "
                            + "; ".join(missing) + ". ")
                if problems:
                    note += ("Your previous answer was not accepted: " + "; ".join(problems)
                             + ". Keep the same story and fix this. ")
                note += "Answer inside <text>...</text> tags."
            self.stats["content_rejected"] += 1
            log.info("%s: answer rejected (ask %d): %s", request.key, ask + 1, self._redact(problem))
            prompt = f"{request.prompt}\n\nNote: {note}"
        raise _Rejected(f"content check failed after {self.config.content_retries + 1} ask(s): {problem}")

    async def _call(
        self,
        client: AsyncOpenAI,
        semaphore: asyncio.Semaphore,
        request: RenderRequest,
        prompt: str,
        salt: str,
        tally: _Tally,
    ) -> str:
        """One chat completion with our own retry loop; the semaphore is held only while in flight,
        never during backoff sleeps, so waiting items do not starve the others."""
        attempt = 0
        while True:
            tally.calls += 1
            self.stats["http_calls"] += 1
            try:
                async with semaphore:
                    response = await client.chat.completions.create(
                        model=self.config.model,
                        messages=[
                            {"role": "system", "content": request.system},
                            {"role": "user", "content": prompt},
                        ],
                        temperature=self.config.temperature,
                        max_tokens=self.config.max_tokens,
                    )
            except Exception as exc:
                description = self._redact(_describe(exc))
                if not _is_retryable(exc):
                    raise _GaveUp(f"non-retryable error: {description}") from None
                if attempt >= self.config.max_retries:
                    raise _GaveUp(f"gave up after {attempt + 1} HTTP attempt(s): {description}") from None
                delay = backoff_delay(self.config.backoff_base, attempt, salt)
                if isinstance(exc, openai.APIStatusError):
                    asked = _retry_after(exc)
                    if asked is not None:
                        delay = min(BACKOFF_CAP, max(delay, asked))
                self.stats["retried_http"] += 1
                log.info("%s: %s; retry %d in %.2fs", request.key, description, attempt + 1, delay)
                attempt += 1
                await asyncio.sleep(delay)
                continue
            if not response.choices:
                return ""
            return response.choices[0].message.content or ""
