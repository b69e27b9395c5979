"""LLM-written worlds (world.backend: llm) against a local scripted endpoint on 127.0.0.1.

The server reads the scenario structure out of each prompt and answers with every draft text
"retold" (names kept), except for scenarios the test picks, whose answers drop a person's name or a
key, or are malformed once. Everything goes through the real openai client, the pipeline's world
stage and its on-disk cache.
"""

from __future__ import annotations

import json
import logging

import pytest
from llm_server import ChatServer, Reply

from rearing.config import load_config
from rearing.datafile import package_data
from rearing.io import InputError
from rearing.layout import RunLayout
from rearing.pipeline import run_pipeline
from rearing.world.llm_world import Expected, structure, world_prompts
from rearing.world.schema import Scenario
from rearing.world.store import read_scenarios

SECRET = "sk-test-WORLD-SECRET-77"
MODEL = "world-writer"


def prompt_structure(prompt: str) -> dict:
    """The scenario JSON the prompt carries (the first object that starts a line)."""
    return json.JSONDecoder().raw_decode(prompt, prompt.index("\n{") + 1)[0]


def retold(structure: dict) -> dict[str, str]:
    answer = {"setting": f"Retold. {structure['setting_draft']}"}
    for option in structure["options"]:
        for c in option["consequences"]:
            answer[c["key"]] = f"Retold for {c['person']}. {c['draft']}"
    return answer


class WorldLLM(ChatServer):
    """Retells every draft; ``modes`` maps a setting draft to how that scenario's answers fail."""

    def __init__(self, modes: dict[str, str] | None = None):
        super().__init__()
        self.modes = modes or {}

    def answer(self, body: dict, prompt: str, auth: str | None) -> Reply:
        structure = prompt_structure(prompt)
        answer = retold(structure)
        mode = self.modes.get(structure["setting_draft"])
        reasked = "\n\nNote: " in prompt
        if mode == "drop_name":
            key, person = victim_consequence(structure)
            answer[key] = answer[key].replace(person, "someone")
        elif mode == "drop_key":
            answer.pop("b.0")
        elif mode == "malformed_once" and not reasked:
            return "<text>setting: Retold, but not as JSON</text>"
        elif mode == "extra_key_once" and not reasked:
            answer["c.0"] = "A consequence of an option that does not exist."
        return f"<text>{json.dumps(answer)}</text>"


def victim_consequence(structure: dict) -> tuple[str, str]:
    """The first consequence that happens to someone other than the agent."""
    agent = structure["agent"]["name"]
    return next((c["key"], c["person"]) for o in structure["options"] for c in o["consequences"]
                if c["person"] and c["person"] != agent)


def config_text(base_url: str = "http://127.0.0.1:9/v1", backend: str = "llm") -> str:
    return (
        "preset: smoke\nworld:\n  n_scenarios: 40\n"
        f"  backend: {backend}\n  llm:\n    base_url: {base_url}\n    model: {MODEL}\n"
        "    api_key_env: REARING_WORLD_TEST_KEY\n    backoff_base: 0.0\n    timeout: 5\n"
        "    content_retries: 1\n    concurrency: 2\n"
    )


def without_texts(scenario: Scenario) -> dict:
    """Everything the rewrite must leave alone."""
    data = scenario.model_dump(mode="json")
    data["setting"] = None
    data["provenance"]["rendered_by"] = None
    for option in data["options"]:
        for c in option["consequences"]:
            c["text"] = None
    return data


def texts(scenario: Scenario) -> list[str]:
    return [scenario.setting] + [c.text for o in scenario.options for c in o.consequences]


@pytest.fixture(scope="module")
def template_world(tmp_path_factory) -> list[Scenario]:
    """The same world built by the templates: the structure every LLM rewrite must keep."""
    root = tmp_path_factory.mktemp("template_world")
    (root / "c.yaml").write_text(config_text(backend="template"))
    run_pipeline(load_config(root / "c.yaml"), root / "run", until="world")
    return read_scenarios(RunLayout(root / "run").world.scenarios)


def test_llm_world_rewrites_texts_keeps_structure_caches_and_hides_the_key(
    template_world, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("REARING_WORLD_TEST_KEY", SECRET)
    dropped_name, dropped_key, malformed, extra = template_world[:4]
    modes = {dropped_name.setting: "drop_name", dropped_key.setting: "drop_key",
             malformed.setting: "malformed_once", extra.setting: "extra_key_once"}
    server = WorldLLM(modes).start()
    try:
        (tmp_path / "c.yaml").write_text(config_text(server.base_url))
        config = load_config(tmp_path / "c.yaml")
        run_dir = tmp_path / "run"
        run_pipeline(config, run_dir, until="world")
        world = RunLayout(run_dir).world
        scenarios = read_scenarios(world.scenarios)

        n = len(template_world)
        assert [s.id for s in scenarios] == [s.id for s in template_world]
        assert [without_texts(s) for s in scenarios] == [without_texts(s) for s in template_world]
        fallen = {dropped_name.id, dropped_key.id}
        for new, old in zip(scenarios, template_world, strict=True):
            if new.id in fallen:
                assert texts(new) == texts(old) and new.provenance.rendered_by is None
            else:
                assert new.setting == f"Retold. {old.setting}"
                assert all(t.startswith("Retold") for t in texts(new))
                assert new.provenance.rendered_by == MODEL and new.provenance.source == "procedural"

        report = json.loads(world.llm_report.read_text())
        assert report["model"] == MODEL
        assert report["sources"] == {"llm": n - 2, "fallback": 2}
        assert report["fallback_ids"] == [s.id for s in template_world if s.id in fallen]
        assert "missing key(s) b.0" in report["fallback_errors"][dropped_key.id]
        assert "does not name" in report["fallback_errors"][dropped_name.id]
        assert report["stats"]["content_rejected"] == 2 + 2 + 1 + 1
        assert report["stats"]["fallbacks"] == 2 and report["stats"]["cache_hits"] == 0
        assert server.total == n + 4

        reasks = [p for p in server.prompts if "\n\nNote: " in p]
        assert len(reasks) == 4
        key_note = next(p for p in reasks if prompt_structure(p)["setting_draft"] == dropped_key.setting)
        assert "missing key(s) b.0" in key_note.split("\n\nNote: ")[1]
        extra_note = next(p for p in reasks if prompt_structure(p)["setting_draft"] == extra.setting)
        assert "unexpected key(s) c.0" in extra_note.split("\n\nNote: ")[1]

        assert set(server.auth) == {f"Bearer {SECRET}"}
        written = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert any(".cache" in p.parts for p in written)
        for path in written:
            assert SECRET not in path.read_text(errors="ignore"), path
        assert SECRET not in caplog.text

        first_bytes = world.scenarios.read_bytes()
        splits = {p.name: p.read_bytes() for p in world.splits_dir.iterdir()}
        calls = server.total
        run_pipeline(config, run_dir, force=True, until="world")
        again = json.loads(world.llm_report.read_text())
        assert again["sources"] == {"cache": n - 2, "fallback": 2}
        assert server.total - calls == 4  # only the two failing scenarios are asked again, twice each
        assert world.scenarios.read_bytes() == first_bytes
        assert {p.name: p.read_bytes() for p in world.splits_dir.iterdir()} == splits
    finally:
        server.close()


def test_the_content_check_reads_keys_names_and_the_agent_in_first_person(template_world):
    scenario = next(s for s in template_world if Expected.of(s).own)
    expected = Expected.of(scenario)
    good = retold(structure(scenario))
    assert expected.problems(json.dumps(good)) == []
    assert expected.problems(f"```json\n{json.dumps(good)}\n```") == []
    assert expected.problems("[1, 2]") == ["not a JSON object but list"]
    assert expected.problems("{'setting': 1}")[0].startswith("not JSON")

    agent = scenario.agent.name
    own = min(expected.own)
    assert agent in expected.names[own]
    first_person = good | {own: "I end up with it, in the end."}
    assert expected.problems(json.dumps(first_person)) == []
    others = [k for k in expected.keys if k != "setting" and k not in expected.own and expected.names[k]]
    lost = good | {others[0]: "Nobody is named here."}
    names = ", ".join(expected.names[others[0]])
    assert expected.problems(json.dumps(lost)) == [f"{others[0]}: does not name {names}"]
    lower = good | {"setting": good["setting"].replace(agent, agent.lower())}
    assert any(p.startswith("setting: does not name") for p in expected.problems(json.dumps(lower)))
    broken = {k: v for k, v in good.items() if k != expected.keys[-1]} | {"z.9": "x", "setting": 3}
    assert expected.problems(json.dumps(broken)) == [
        f"missing key(s) {expected.keys[-1]}", "unexpected key(s) z.9", "setting: not a non-empty string",
    ]


def test_world_backend_is_validated_in_the_config(tmp_path):
    assert load_config(preset="smoke").world.backend == "template"
    path = tmp_path / "c.yaml"
    path.write_text("world:\n  n_scenarios: 40\n  backend: lmm\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert f"{path}:3: world.backend:" in str(info.value)

    path.write_text("world:\n  backend: llm\n  llm:\n    modle: x\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert f"{path}:4: world.llm.modle: Extra inputs are not permitted" in str(info.value)

    path.write_text("world:\n  source: mine.jsonl\n  backend: llm\n")
    with pytest.raises(InputError) as info:
        load_config(path)
    assert "backend 'llm' rewrites generated worlds" in str(info.value)

    path.write_text("world:\n  backend: llm\n  llm:\n    model: m\n    cache_dir: /tmp/x\n")
    assert load_config(path).world.llm.model == "m"


def test_an_edited_prompt_file_is_checked_with_its_line(tmp_path):
    text = package_data("rearing.world", "data/llm_world.yaml").read_text()
    assert world_prompts().visibility["unobserved"]
    path = tmp_path / "prompts.yaml"
    path.write_text(text.replace("\n  Your previous answer", "\n  {oops} Your previous answer"))
    with pytest.raises(InputError) as info:
        world_prompts(path)
    line = text.splitlines().index("retry_note: |-") + 1
    assert f"{path}:{line}: retry_note: unknown slot {{oops}}" in str(info.value)
    path.write_text(text.replace("  partly:", "  partial:"))
    with pytest.raises(InputError) as info:
        world_prompts(path)
    assert f"{path}:" in str(info.value) and "visibility.partial" in str(info.value)
