"""The LLM render backend against a real local HTTP server that plays scripted replies.

The server speaks just enough of POST /v1/chat/completions for the official openai client. Each
prompt starts with ``CASE=<name> ID=<n>``; the server counts the calls per (case, id) and replies
according to the script, so every failure mode (429, 5xx, timeout, malformed, dropped content)
is exercised through the real client and real sockets.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from llm_server import ChatServer, Reply

from rearing.config import LLMConfig
from rearing.corpus.llm import (
    BACKOFF_CAP,
    LLMBackend,
    RenderRequest,
    backoff_delay,
    cache_key,
    content_check,
    content_share,
    parse_output,
)

SECRET = "sk-test-SECRET123"
GOOD = "Mara found a wallet and returned the wallet to its owner, who thanked her."
DROPPED = "Mara found a wallet and kept quiet about it."
REQUIRED = ("returned the wallet",)
SYSTEM = "You write short moral stories."


class FakeLLM(ChatServer):
    """Scripted by the prompt's ``CASE=<name> ID=<n>``: counts calls per (case, id) and fails as told."""

    def __init__(self, delay: float = 0.0, timeout_sleep: float = 1.0):
        super().__init__(delay)
        self.timeout_sleep = timeout_sleep
        self.counts: Counter[tuple[str, str]] = Counter()

    def answer(self, body: dict, prompt: str, auth: str | None) -> Reply:
        case, ident = re.match(r"CASE=(\w+) ID=(\w+)", prompt).groups()
        with self.lock:
            self.counts[(case, ident)] += 1
            n = self.counts[(case, ident)]
        first = n == 1
        if case == "r429" and first:
            return 429, {"error": {"message": "slow down"}}, {"Retry-After": "0"}
        if case in ("r500", "r503") and first or case == "always500":
            return 503 if case == "r503" else 500, {"error": {"message": "boom"}}, {}
        if case == "bad":
            return 400, {"error": {"message": f"bad request, you sent {auth}"}}, {}
        if case == "timeout" and first:
            time.sleep(self.timeout_sleep)
        if case == "malformed" and first:
            return f"Sure! {GOOD}"
        if case == "drop" and first or case == "alwaysdrop":
            return f"<text>{DROPPED}</text>"
        return f"<text>{GOOD}</text>"


@pytest.fixture
def make_server() -> Iterator:
    servers: list[FakeLLM] = []

    def start(**kwargs: float) -> FakeLLM:
        fake = FakeLLM(**kwargs).start()
        servers.append(fake)
        return fake

    yield start
    for fake in servers:
        fake.close()


@pytest.fixture
def server(make_server) -> FakeLLM:
    return make_server()


def config_for(fake: FakeLLM, **overrides: object) -> LLMConfig:
    values: dict[str, object] = dict(
        base_url=fake.base_url, model="test-model", timeout=0.5, backoff_base=0.01,
        max_retries=2, content_retries=1, concurrency=4,
    )
    values.update(overrides)
    return LLMConfig(**values)


def request(case: str, ident: int | str = 0) -> RenderRequest:
    return RenderRequest(
        key=f"test:{case}-{ident}",
        system=SYSTEM,
        prompt=f"CASE={case} ID={ident}\nTell the story of Mara and the wallet.",
        required=REQUIRED,
        fallback=lambda: f"TEMPLATE {case} {ident}",
    )


def cache_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_parse_output() -> None:
    assert parse_output("Sure!\n<text>\n  A story.  \n</text> bye") == "A story."
    assert parse_output("<TEXT>x</TEXT>") == "x"
    assert parse_output("<think>draft <text>no</text></think><text>yes</text>") == "yes"
    for bad in ("no tags at all", "<text>   </text>", "<text>cut off by max_tokens", ""):
        with pytest.raises(ValueError, match="malformed"):
            parse_output(bad)


def test_content_check() -> None:
    text = "Mara RETURNS the wallet; later, Ada paid back 12 coins."
    assert content_check(text, ["returned the wallet", "Ada", "paid  back, 12 coins!"]) == []
    assert content_check(text, ["told the truth", "13 coins", "Bo"]) == ["told the truth", "13 coins", "Bo"]
    assert content_check("the owner's wallet", ["owner wallet"]) == []
    assert content_check("anything", []) == []


def test_content_share() -> None:
    assert content_share("A loan is a promise to return.", "I RETURNED it: a promise is a promise, a loan a loan.") \
        == (1.0, [])
    share, absent = content_share("A secret shared in trust is not yours to spread.", "Trust kept; the secret spread.")
    assert share == 0.75 and absent == ["shared"]
    assert content_share("to be", "or not to be") == (1.0, []) and content_share("to be", "or not") == (0.0, ["to be"])


def test_cache_key_and_backoff() -> None:
    base = LLMConfig(model="m")
    key = cache_key(base, "s", "p")
    assert key == cache_key(base.model_copy(update={"base_url": "http://elsewhere:1/v1"}), "s", "p")
    assert key != cache_key(base.model_copy(update={"model": "other"}), "s", "p")
    assert key != cache_key(base.model_copy(update={"temperature": 0.1}), "s", "p")
    assert key != cache_key(base.model_copy(update={"max_tokens": 99}), "s", "p")
    assert key != cache_key(base, "s2", "p") != cache_key(base, "s", "p2")
    assert 1.0 <= backoff_delay(1.0, 0, "a") <= 1.1
    assert 4.0 <= backoff_delay(1.0, 2, "a") <= 4.4
    assert backoff_delay(1.0, 20, "a") == BACKOFF_CAP
    assert backoff_delay(1.0, 1, "a") == backoff_delay(1.0, 1, "a")


def test_scripted_failures(server: FakeLLM, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    cases = ["ok", "r429", "r500", "r503", "timeout", "malformed", "drop", "alwaysdrop", "always500", "bad"]
    backend = LLMBackend(config_for(server), tmp_path / "cache", api_key=SECRET)
    started = time.monotonic()
    results = backend.render([request(case) for case in cases])
    assert time.monotonic() - started < 5

    assert [r.key for r in results] == [f"test:{case}-0" for case in cases]
    by_case = dict(zip(cases, results))
    for case in ["ok", "r429", "r500", "r503", "timeout", "malformed", "drop"]:
        assert by_case[case].source == "llm", (case, by_case[case].error)
        assert by_case[case].text == GOOD and by_case[case].error is None
    for case in ["alwaysdrop", "always500", "bad"]:
        assert by_case[case].source == "fallback"
        assert by_case[case].text == f"TEMPLATE {case} 0"
    assert {case: r.attempts for case, r in by_case.items()} == {
        "ok": 1, "r429": 2, "r500": 2, "r503": 2, "timeout": 2, "malformed": 2, "drop": 2,
        "alwaysdrop": 2, "always500": 3, "bad": 1,
    }
    assert "returned the wallet" in by_case["alwaysdrop"].error
    assert "HTTP 500" in by_case["always500"].error
    assert "HTTP 400" in by_case["bad"].error and "[REDACTED]" in by_case["bad"].error
    assert backend.stats == {
        "requests": 10, "cache_hits": 0, "llm_ok": 7, "http_calls": 19,
        "retried_http": 6, "content_rejected": 4, "fallbacks": 3,
    }
    assert server.total == 19

    reasks = [p for p in server.prompts if p.startswith("CASE=drop")]
    assert len(reasks) == 2 and "Note:" in reasks[1] and "returned the wallet" in reasks[1].split("Note:")[1]

    assert server.auth and set(server.auth) == {f"Bearer {SECRET}"}
    files = cache_files(tmp_path / "cache")
    assert len(files) == 7
    for path in files:
        raw = path.read_text()
        assert SECRET not in raw and "Bearer" not in raw
        assert json.loads(raw) == {"text": GOOD}
        assert path.parent.name == path.stem[:2] and len(path.stem) == 64

    records = caplog.records
    assert any(r.name == "rearing.llm" and "retry" in r.getMessage() for r in records)
    assert any(r.name == "rearing.llm" and "fallback" in r.getMessage() for r in records)
    for record in records:
        assert SECRET not in record.getMessage() and SECRET not in repr(record.args)
    assert SECRET not in caplog.text and SECRET not in repr(backend.stats) and SECRET not in repr(backend)
    assert all(SECRET not in (r.error or "") for r in results)

    again = LLMBackend(config_for(server), tmp_path / "cache", api_key=SECRET).render(
        [request(case) for case in cases]
    )
    assert [r.source for r in again] == ["cache"] * 7 + ["fallback"] * 3
    assert server.total == 19 + 2 + 3 + 1


def test_rerun_is_free_and_base_url_not_in_key(make_server, tmp_path: Path) -> None:
    first, second = make_server(), make_server()
    requests = [request("ok", i) for i in range(6)]
    backend = LLMBackend(config_for(first), tmp_path, api_key=SECRET)
    assert {r.source for r in backend.render(requests)} == {"llm"}
    assert first.total == 6

    rerun = LLMBackend(config_for(first), tmp_path, api_key=SECRET)
    assert [r.source for r in rerun.render(requests)] == ["cache"] * 6
    assert first.total == 6 and rerun.stats["cache_hits"] == 6 and rerun.stats["http_calls"] == 0

    moved = LLMBackend(config_for(second), tmp_path, api_key=SECRET)
    assert [r.text for r in moved.render(requests)] == [GOOD] * 6
    assert second.total == 0

    other_model = LLMBackend(config_for(first, model="other"), tmp_path, api_key=SECRET)
    other_model.render(requests[:1])
    assert first.total == 7


def test_resume_after_partial_run(server: FakeLLM, tmp_path: Path) -> None:
    requests = [request("ok", i) for i in range(10)]
    LLMBackend(config_for(server), tmp_path, api_key=SECRET).render(requests[:5])
    backend = LLMBackend(config_for(server), tmp_path, api_key=SECRET)
    results = backend.render(requests)
    assert [r.source for r in results] == ["cache"] * 5 + ["llm"] * 5
    assert server.counts == Counter({("ok", str(i)): 1 for i in range(10)})


def test_resume_after_kill(make_server, tmp_path: Path) -> None:
    slow = make_server(delay=0.05)
    requests = [request("ok", i) for i in range(12)]
    backend = LLMBackend(config_for(slow, concurrency=1), tmp_path, api_key=SECRET)

    async def killed() -> None:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(backend.arender(requests), timeout=0.3)

    asyncio.run(killed())
    files = cache_files(tmp_path)
    assert 0 < len(files) < 12
    assert all(path.suffix == ".json" and json.loads(path.read_text()) == {"text": GOOD} for path in files)
    seen = slow.total

    resumed = LLMBackend(config_for(slow), tmp_path, api_key=SECRET)
    results = resumed.render(requests)
    assert all(r.text == GOOD for r in results)
    assert resumed.stats["cache_hits"] == len(files)
    assert slow.total - seen == 12 - len(files)


def test_concurrency_bound(make_server, tmp_path: Path) -> None:
    slow = make_server(delay=0.1)
    backend = LLMBackend(config_for(slow, concurrency=3), tmp_path, api_key=SECRET)
    results = backend.render([request("ok", i) for i in range(12)])
    assert [r.source for r in results] == ["llm"] * 12
    assert slow.max_inflight == 3


def test_duplicate_requests_share_one_call(server: FakeLLM, tmp_path: Path) -> None:
    backend = LLMBackend(config_for(server), tmp_path, api_key=SECRET)
    results = backend.render([request("ok", 1)] * 3)
    assert sorted(r.source for r in results) == ["cache", "cache", "llm"]
    assert server.total == 1


def test_api_key_from_environment(server: FakeLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_LLM_KEY", "sk-env-456")
    LLMBackend(config_for(server, api_key_env="MY_LLM_KEY"), tmp_path / "a").render([request("ok", 1)])
    monkeypatch.delenv("MY_LLM_KEY")
    LLMBackend(config_for(server, api_key_env="MY_LLM_KEY"), tmp_path / "b").render([request("ok", 2)])
    assert server.auth == ["Bearer sk-env-456", "Bearer EMPTY"]


def test_unreachable_server_falls_back(tmp_path: Path) -> None:
    config = LLMConfig(base_url="http://127.0.0.1:9/v1", timeout=0.5, backoff_base=0.01, max_retries=1)
    backend = LLMBackend(config, tmp_path, api_key=SECRET)
    results = backend.render([request("ok", i) for i in range(3)])
    assert [r.source for r in results] == ["fallback"] * 3
    assert backend.stats["fallbacks"] == 3 and backend.stats["retried_http"] == 3
    assert cache_files(tmp_path) == []


def test_request_check_reasks_falls_back_and_guards_the_cache(server: FakeLLM, tmp_path: Path) -> None:
    def no_owner(text: str) -> list[str]:
        return ["leave the owner out"] if "owner" in text else []

    plain = request("ok", 7)
    assert LLMBackend(config_for(server), tmp_path, api_key=SECRET).render([plain])[0].source == "llm"
    checked = RenderRequest(key=plain.key, system=plain.system, prompt=plain.prompt, required=plain.required,
                            fallback=plain.fallback, check=no_owner)
    backend = LLMBackend(config_for(server), tmp_path, api_key=SECRET)
    result = backend.render([checked])[0]
    assert result.source == "fallback" and result.text == "TEMPLATE ok 7"
    assert "leave the owner out" in result.error
    assert backend.stats["cache_hits"] == 0 and backend.stats["content_rejected"] == 2 and server.total == 3
    note = server.prompts[-1].split("Note:")[1]
    assert "was not accepted: leave the owner out" in note and "<text>" in note
