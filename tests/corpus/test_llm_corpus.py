"""The corpus build through the LLM backend against a local scripted endpoint."""

import json
import re
from pathlib import Path

import pytest
from llm_server import ChatServer

from rearing.config import load_config
from rearing.corpus.build import CorpusDoc, render_moral
from rearing.corpus.conditions import all_conditions
from rearing.corpus.llm_render import (
    carries_verdict,
    mark_private,
    rerender_with_llm,
    rewrite_problems,
    split_private,
)
from rearing.corpus.person import to_first_person
from rearing.io import InputError
from rearing.pipeline import run_pipeline
from rearing.world.schema import Scenario, Valence
from rearing.world.store import read_scenarios

SECRET = "sk-test-CORPUS-SECRET-42"


class EchoLLM(ChatServer):
    """Rewrites the prompt's plain version (prefixing it), but drops content for one scenario."""

    def __init__(self, drop_marker: str):
        super().__init__()
        self.drop_marker = drop_marker

    def answer(self, body, prompt, auth):
        plain = prompt.split("A plain version to improve on:\n", 1)[1].split("\n\nNote: ")[0]
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
        "preset: smoke\nworld:\n  n_scenarios: 60\ncorpus:\n  backend: llm\n"
        "  conditions: [flat, bmn_developmental, general_only]\n"
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

    narratives = [json.loads(line) for line in
                  (run_dir / "corpus" / "bmn_developmental" / "docs.jsonl").read_text().splitlines()]
    known = all_conditions()
    templates = {d.id: d for d in render_moral("bmn_developmental", known["bmn_developmental"],
                                               read_scenarios(run_dir / "world" / "splits" / "train.jsonl"),
                                               1, config.seed, known)}
    shift = len("Retold. ")
    for doc in (d for d in narratives if d["kind"] == "moral"):
        template = templates[doc["id"]]
        (start, end), = template.private
        if doc["scenario_id"] == dropped_id:
            assert doc["text"] == template.text and doc["private"] == [[start, end]]
        else:
            assert doc["private"] == [[start + shift, end + shift]] and "<private>" not in doc["text"]
            assert doc["text"][start + shift:end + shift] == template.text[start:end]
        assert doc["units"] == list(template.units)
    assert json.loads((run_dir / "corpus" / "llm_render_bmn_developmental.json").read_text())["fallback_ids"] \
        == [f"bmn_developmental:{dropped_id}:0"]
    null = [json.loads(line) for line in (run_dir / "corpus" / "general_only" / "docs.jsonl").read_text().splitlines()]
    assert {d["kind"] for d in null} == {"general"} and not any("Retold." in d["text"] for d in null)
    assert not (run_dir / "corpus" / "llm_render_general_only.json").exists(), "nothing to re-render"

    calls = fake.total
    run_pipeline(config, run_dir, force=True, until="corpus")
    assert fake.total - calls <= 4  # only the fallback items are asked again; the rest come from cache


def test_a_build_over_the_fallback_cap_fails_with_a_clear_message(llm_run):
    config, run_dir, _, dropped_id = llm_run
    llm = config.corpus.llm.model_copy(update={"max_fallback_share": 0.0})
    strict = config.model_copy(update={"corpus": config.corpus.model_copy(update={"llm": llm})})
    with pytest.raises(InputError) as raised:
        run_pipeline(strict, run_dir, until="corpus")
    message = str(raised.value)
    moral = len((run_dir / "world" / "splits" / "train.jsonl").read_text().splitlines())
    assert f"1 of {moral} 'flat' documents" in message and "corpus.llm.max_fallback_share (0.0%)" in message
    report_path = Path(re.search(r"see (\S+) for which and why", message).group(1))
    assert report_path.name == "llm_render_flat.json" and report_path.is_relative_to(run_dir)
    assert not (run_dir / "corpus").exists()  # the stage failed: the report stays in its partial build
    report = json.loads(report_path.read_text())
    assert report["fallback_ids"] == [f"flat:{dropped_id}:0"] and report["max_fallback_share"] == 0.0
    assert report["fallback_share"] == round(1 / moral, 4) and dropped_id in next(iter(report["fallback_errors"]))


# Rewrites checked document by document: hand-made template documents (so the test does not hang on the
# renderers' wording) with a principle, a verdict and one private deliberation, through a scripted endpoint.

DELIBERATION = "Quietly I weigh who each path would hurt, and how badly."
VERDICT = "I would {action} again; it was the right path."


def template_doc(scenario: Scenario, name: str = "bmn_developmental") -> CorpusDoc:
    a, b = scenario.options[0].action, scenario.options[1].action
    before = f"{scenario.setting} I could {a}, or I could {b}."
    after = [f"I chose to {o.action}. " + " ".join(c.text for c in o.consequences) for o in scenario.options]
    after.append(f"What I learned: {scenario.principle}")
    after.append(VERDICT.format(action=scenario.option(Valence.prosocial).action))
    text = " ".join([before, DELIBERATION, *after])
    start = len(before) + 1
    return CorpusDoc(id=f"{name}:{scenario.id}:0", kind="moral", scenario_id=scenario.id, phase="main", text=text,
                     private=[(start, start + len(DELIBERATION))],
                     units=["setting", "action:a", "action:b", "principle", "verdict", "deliberation"])


class Rewriter(ChatServer):
    """Rewrites the marked plain version as ``modes[scenario id]`` says (default: echo it after 'Retold.')."""

    def __init__(self, scenarios: list[Scenario], modes: dict[str, str]):
        super().__init__()
        self.by_id = {s.id: s for s in scenarios}
        self.modes = modes

    def answer(self, body, prompt, auth):
        plain = prompt.split("A plain version to improve on:\n", 1)[1].split("\n\nNote: ")[0]
        sid = re.search(r'"id":"([^"]+)"', prompt).group(1)
        scenario = self.by_id[sid]
        mode = self.modes.get(sid, "echo")
        verdict = VERDICT.format(action=scenario.option(Valence.prosocial).action)
        text = {
            "echo": plain,
            "reword_private": plain.replace(DELIBERATION, "  I think of everyone it touches.  "),
            "unmarked": plain.replace("<private>", "").replace("</private>", ""),
            "two_blocks": plain + " <private>One more worry.</private>",
            "no_principle": plain.replace(f"What I learned: {scenario.principle}", "That was that."),
            "principle_in_private": plain.replace(f"What I learned: {scenario.principle}", "")
            .replace("</private>", f" {scenario.principle}</private>"),
            "no_verdict": plain.replace(verdict, "Both days are still with me."),
        }[mode]
        return f"<text>Retold. {text}</text>"


@pytest.fixture(scope="module")
def world() -> list[Scenario]:
    from rearing.world.generate import GeneratorSettings, ScenarioGenerator

    return [Scenario.model_validate(r) for r in ScenarioGenerator(GeneratorSettings(seed=7)).generate(120)]


@pytest.fixture
def scenarios(world) -> list[Scenario]:
    return world[:20]


def rerender(scenarios, modes, tmp_path, share=None, name="bmn_developmental", cache="run"):
    """Rewrite a hand-made document per scenario through a fresh :class:`Rewriter`; a new ``cache`` name
    starts without cached answers (the modes live in the server, not in the prompts the cache keys on)."""
    fake = Rewriter(scenarios, modes).start()
    try:
        llm = f"    max_fallback_share: {share}\n" if share is not None else ""
        path = tmp_path / "c.yaml"
        path.write_text(f"preset: smoke\ncorpus:\n  backend: llm\n  llm:\n    base_url: {fake.base_url}\n"
                        f"    backoff_base: 0.0\n    timeout: 5\n{llm}")
        docs = [template_doc(s, name) for s in scenarios]
        out = rerender_with_llm(docs, scenarios, name, all_conditions()[name], load_config(path),
                                tmp_path / "corpus", tmp_path / cache)
        return docs, out, fake
    finally:
        fake.close()


def test_rewrites_keep_the_private_block_the_principle_and_the_verdict(scenarios, tmp_path):
    modes = {s.id: m for s, m in zip(scenarios, ["reword_private", "unmarked", "two_blocks", "no_principle",
                                                  "principle_in_private", "no_verdict"])}
    docs, out, fake = rerender(scenarios, modes, tmp_path, share=0.5)
    report = json.loads((tmp_path / "corpus" / "llm_render_bmn_developmental.json").read_text())
    failed = [s.id for s in scenarios[1:6]]
    assert report["fallback_ids"] == [f"bmn_developmental:{sid}:0" for sid in failed]
    assert report["sources"] == {"llm": 15, "fallback": 5} and report["fallback_share"] == 0.25
    errors = [report["fallback_errors"][f"bmn_developmental:{sid}:0"] for sid in failed]
    assert "found 0 <private>" in errors[0] and "found 2 <private>" in errors[1]
    assert "state the principle" in errors[2] and "state the principle" in errors[3]
    assert "conclusion" in errors[4] and "state the principle" not in errors[4]
    assert fake.total == 20 + 5  # each failing document was asked once more, then fell back

    for template, scenario, doc in zip(docs, scenarios, out, strict=True):
        (start, end), = doc.private
        if scenario.id in failed:
            assert doc == template
        elif scenario is scenarios[0]:
            assert doc.text[start:end] == "I think of everyone it touches."
        else:
            assert doc.text == f"Retold. {template.text}" and doc.text[start:end] == DELIBERATION
            assert (start, end) == tuple(x + len("Retold. ") for x in template.private[0])
        assert "<private>" not in doc.text and doc.units == template.units

    prompt = next(p for p in fake.prompts if f'"id":"{scenarios[6].id}"' in p)
    assert f"<private>{DELIBERATION}</private>" in prompt and "exactly one block" in prompt
    assert scenarios[6].principle in prompt.split("Scenario (JSON)")[0]
    reask = [p for p in fake.prompts if f'"id":"{scenarios[3].id}"' in p][1]
    assert "Note:" in reask and "state the principle" in reask.split("Note:")[1]


def test_the_fallback_cap(scenarios, tmp_path):
    one_bad = {scenarios[0].id: "no_principle"}
    docs, out, _ = rerender(scenarios, one_bad, tmp_path)  # 1 of 20 = 5%: at the default cap, not over it
    assert sum(d == t for d, t in zip(out, docs)) == 1
    two_bad = {scenarios[0].id: "no_principle", scenarios[1].id: "unmarked"}
    with pytest.raises(InputError) as raised:
        rerender(scenarios, two_bad, tmp_path, cache="run2")
    report = tmp_path / "corpus" / "llm_render_bmn_developmental.json"
    assert str(raised.value) == (
        "corpus.llm: 2 of 20 'bmn_developmental' documents (10.0%) fell back to their template text, more than "
        f"corpus.llm.max_fallback_share (5.0%); see {report} for which and why, then fix the endpoint or the "
        "prompts, or raise corpus.llm.max_fallback_share")
    assert json.loads(report.read_text())["fallback_share"] == 0.1
    rerender(scenarios, two_bad, tmp_path, share=0.1, cache="run3")


def test_a_first_person_rewrite_keeps_consequences_that_name_the_agent(scenarios):
    scenario = next(s for s in scenarios if any(s.agent.name in c.text for o in s.options for c in o.consequences))
    doc = template_doc(scenario)
    first_person = to_first_person(doc.text, scenario.agent.name)
    assert scenario.agent.name not in first_person
    assert rewrite_problems(mark_private(first_person, doc.private), doc, scenario) == []


def test_split_private() -> None:
    assert split_private("A <private> b c </private>d.") == ("A  b c d.", [(3, 6)])
    assert split_private("no block") == ("no block", [])
    text = "x <PRIVATE>one</PRIVATE> y <private>two</private>"
    plain, spans = split_private(text)
    assert [plain[a:b] for a, b in spans] == ["one", "two"]
    assert mark_private(plain, spans) == text.replace("PRIVATE", "private")
    for bad in ("a <private>b", "a </private> b", "<private><private>b</private></private>", "<private> </private>"):
        with pytest.raises(ValueError):
            split_private(bad)


def test_carries_verdict() -> None:
    action = "leave the headphones unmentioned"
    offered = "I could mention the headphones, or I could leave the headphones unmentioned."
    assert carries_verdict(f"{offered} Later I was glad I left the headphones unmentioned.", action)
    assert carries_verdict(f"{offered} Keeping the headphones unmentioned was right.", action)
    assert not carries_verdict(f"{offered} I left the headphones unmentioned.", action)  # no conclusion cue
    assert not carries_verdict("Should I leave the headphones unmentioned?", action)  # the offer itself
    assert not carries_verdict(f"{offered} It was right.", action)  # the cue never names the path


def test_every_template_document_passes_its_own_check(world):
    """A rewrite that keeps the template's wording is accepted: the check asks nothing of an LLM that
    the templates do not do themselves (the verdict's cues, the principle's words, the private block)."""
    by_id = {s.id: s for s in world}
    known = all_conditions()
    for name, condition in known.items():
        for doc in render_moral(name, condition, world, 1, 0, known):
            problems = rewrite_problems(mark_private(doc.text, doc.private), doc, by_id[doc.scenario_id])
            assert problems == [], (name, doc.text, problems)
