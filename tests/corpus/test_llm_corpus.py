"""The corpus build through the LLM backend against a local scripted endpoint."""

import json

import pytest
from llm_server import ChatServer

from rearing.config import load_config
from rearing.pipeline import run_pipeline

SECRET = "sk-test-CORPUS-SECRET-42"


class EchoLLM(ChatServer):
    """Rewrites the prompt's plain version (prefixing it), but drops content for one scenario."""

    def __init__(self, drop_marker: str):
        super().__init__()
        self.drop_marker = drop_marker

    def answer(self, body, prompt, auth):
        plain = prompt.split("A plain version to improve on:\n", 1)[1]
        text = "Dropped everything." if self.drop_marker in prompt else f"Retold. {plain}"
        return f"<text>{text}</text>"


@pytest.fixture
def llm_run(tmp_path, monkeypatch):
    monkeypatch.setenv("REARING_TEST_KEY", SECRET)
    world_config = tmp_path / "w.yaml"
    world_config.write_text("preset: smoke\nworld:\n  n_scenarios: 60\n")
    run_dir = tmp_path / "run"
    run_pipeline(load_config(world_config), run_dir, until="world")
    first_id = json.loads((run_dir / "world" / "splits" / "train.jsonl").read_text().splitlines()[0])["id"]
    fake = EchoLLM(drop_marker=f'"id":"{first_id}"').start()
    config = tmp_path / "c.yaml"
    config.write_text(
        "preset: smoke\nworld:\n  n_scenarios: 60\ncorpus:\n  backend: llm\n  conditions: [flat]\n"
        f"  general_docs: 60\n  vocab_size: 500\n  llm:\n    base_url: {fake.base_url}\n"
        "    api_key_env: REARING_TEST_KEY\n    backoff_base: 0.0\n    timeout: 5\n"
    )
    yield load_config(config), run_dir, fake, first_id
    fake.close()


def test_llm_corpus_keeps_everything_counts_fallbacks_and_hides_the_key(llm_run):
    config, run_dir, fake, dropped_id = llm_run
    run_pipeline(config, run_dir, until="corpus")
    docs = [json.loads(line) for line in (run_dir / "corpus" / "flat" / "docs.jsonl").read_text().splitlines()]
    moral = [d for d in docs if d["kind"] == "moral"]
    train_ids = [json.loads(l)["id"] for l in (run_dir / "world" / "splits" / "train.jsonl").read_text().splitlines()]
    assert sorted(d["scenario_id"] for d in moral) == sorted(train_ids)
    for doc in moral:
        if doc["scenario_id"] == dropped_id:
            assert not doc["text"].startswith("Retold.") and "Dropped" not in doc["text"]
        else:
            assert doc["text"].startswith("Retold.")
    report = json.loads((run_dir / "corpus" / "llm_render_flat.json").read_text())
    assert report["sources"] == {"llm": len(moral) - 1, "fallback": 1}
    assert report["fallback_ids"] == [f"flat:{dropped_id}:0"]
    for path in run_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(errors="ignore"), path

    calls = fake.total
    run_pipeline(config, run_dir, force=True, until="corpus")
    assert fake.total - calls <= 2  # only the fallback item is asked again; the rest come from cache
