"""The corpus stage on a small real world: matching, ordering, determinism, streams."""

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from rearing.config import load_config
from rearing.corpus.conditions import all_conditions, default_conditions
from rearing.corpus.stream import DOCS_FILE, META_FILE, OFFSETS_FILE, TOKENS_FILE
from rearing.layout import RunLayout
from rearing.pipeline import run_pipeline

CONDITIONS = default_conditions()
RENDERING = [c for c in CONDITIONS if all_conditions()[c].renders_scenarios]

CONFIG = f"""preset: smoke
name: corpus-test
world:
  n_scenarios: 400
corpus:
  conditions: [{", ".join(CONDITIONS)}]
  general_docs: 300
  vocab_size: 1200
"""


def build(root: Path) -> Path:
    path = root / "c.yaml"
    path.write_text(CONFIG)
    run_dir = root / "run"
    run_pipeline(load_config(path), run_dir, until="corpus")
    return run_dir


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("corpus"))


def docs(run_dir: Path, condition: str) -> list[dict]:
    lines = (RunLayout(run_dir).corpus.stream(condition) / DOCS_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines]


def meta(run_dir: Path, condition: str) -> dict:
    return json.loads((RunLayout(run_dir).corpus.stream(condition) / META_FILE).read_text())


def test_every_condition_holds_every_training_scenario_equally(run_dir):
    train = {json.loads(l)["id"] for l in (RunLayout(run_dir).world.split("train")).read_text().splitlines()}
    assert sorted(CONDITIONS) == RunLayout(run_dir).corpus.conditions()
    assert "general_only" in CONDITIONS and "general_only" not in RENDERING
    for condition in RENDERING:
        counts = Counter(d["scenario_id"] for d in docs(run_dir, condition) if d["kind"] == "moral")
        assert set(counts) == train, condition
        assert set(counts.values()) == {1}, condition


def test_token_totals_match_within_one_percent(run_dir):
    totals = {c: meta(run_dir, c)["stats"]["tokens"] for c in CONDITIONS}
    assert max(totals.values()) / min(totals.values()) - 1 < 0.01, totals
    for condition, total in totals.items():
        stream = np.fromfile(RunLayout(run_dir).corpus.stream(condition) / TOKENS_FILE, dtype=meta(run_dir, condition)["dtype"])
        assert len(stream) == total


def test_general_only_is_the_shared_general_text_alone_at_the_same_budget(run_dir):
    """The null control: no moral document and no scenario's text, the shared pool in its shared order
    (another arm's general documents are a prefix of it), the budget every other arm has."""
    null = docs(run_dir, "general_only")
    assert {d["kind"] for d in null} == {"general"} and len(null) > 100
    assert not any(d["scenario_id"] or d["units"] or d["private"] for d in null)
    scenarios = [json.loads(l) for l in (RunLayout(run_dir).world.split("train")).read_text().splitlines()]
    text = "\n".join(d["text"] for d in null)
    assert not [s["id"] for s in scenarios if s["id"] in text]
    settings = [sentence for s in scenarios for sentence in s["setting"].split(". ") if len(sentence.split()) >= 6]
    assert len(settings) > len(scenarios) and not [x for x in settings if x in text]
    assert not [s["principle"] for s in scenarios if s["principle"] in text]
    shared = [d["id"] for d in docs(run_dir, "flat") if d["kind"] == "general"]
    assert [d["id"] for d in null][: len(shared)] == shared

    stats = json.loads(RunLayout(run_dir).corpus.stats.read_text())
    null_stats = stats["conditions"]["general_only"]
    assert null_stats["moral_documents"] == null_stats["moral_tokens"] == null_stats["private_tokens"] == 0
    assert null_stats["moral_token_share"] == 0.0
    assert abs(null_stats["tokens"] / stats["budget_tokens"] - 1) < 0.01
    for condition in RENDERING:
        assert abs(null_stats["tokens"] / stats["conditions"][condition]["tokens"] - 1) < 0.01, condition
    m = meta(run_dir, "general_only")
    assert m["renderer"] is None and m["scenario_counts"] == {} and [p["name"] for p in m["phases"]] == ["main"]


def test_orderings_are_what_they_claim(run_dir):
    def stages(condition):
        return [d["stage"] for d in docs(run_dir, condition) if d["kind"] == "moral"]

    developmental = stages("bmn_developmental")
    assert developmental == sorted(developmental)
    shuffled = stages("bmn_shuffled")
    assert shuffled != sorted(shuffled) and sorted(shuffled) == developmental
    assert stages("raised") == sorted(stages("raised"))
    raised = docs(run_dir, "raised")
    assert raised[0]["kind"] == "moral"  # narratives from the first document


def test_posthoc_is_general_then_moral_in_phases(run_dir):
    posthoc = docs(run_dir, "posthoc")
    kinds = [d["kind"] for d in posthoc]
    first_moral = kinds.index("moral")
    assert set(kinds[:first_moral]) == {"general"} and set(kinds[first_moral:]) == {"moral"}
    phases = meta(run_dir, "posthoc")["phases"]
    assert [p["name"] for p in phases] == ["general", "moral"]
    assert phases[0]["end_token"] == phases[1]["start_token"]
    assert phases[1]["end_token"] == meta(run_dir, "posthoc")["stats"]["tokens"]


def test_conditions_differ_in_structure_not_content(run_dir):
    by_condition = {c: {d["scenario_id"]: d["text"] for d in docs(run_dir, c) if d["kind"] == "moral"}
                    for c in CONDITIONS}
    scenario_id = next(iter(by_condition["flat"]))
    flat, principled, narrative = (by_condition[c][scenario_id] for c in ("flat", "principle_flat", "bmn_shuffled"))
    assert " I " not in f" {flat} " and " my " not in flat
    assert " I " in narrative
    assert len(principled) > len(flat)
    scenarios = {json.loads(l)["id"]: json.loads(l) for l in (RunLayout(run_dir).world.split("train")).read_text().splitlines()}
    principle = scenarios[scenario_id]["principle"]
    assert principle in principled and principle not in flat
    assert principle[:1].lower() + principle[1:] in narrative or principle in narrative, "the narrative carries the lesson"
    assert scenarios[scenario_id]["setting"] in flat and scenarios[scenario_id]["setting"] in principled
    for option in scenarios[scenario_id]["options"]:
        for text in (flat, principled, narrative):
            assert option["action"] in text


def test_stream_decodes_to_documents_with_the_saved_tokenizer(run_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(RunLayout(run_dir).corpus.tokenizer))
    m = meta(run_dir, "bmn_developmental")
    stream = np.fromfile(RunLayout(run_dir).corpus.stream("bmn_developmental") / TOKENS_FILE, dtype=m["dtype"])
    offsets = np.load(RunLayout(run_dir).corpus.stream("bmn_developmental") / OFFSETS_FILE, allow_pickle=False)
    documents = docs(run_dir, "bmn_developmental")
    assert len(offsets) == len(documents)
    for index in (0, 1, len(documents) - 1):
        end = offsets[index + 1] if index + 1 < len(offsets) else len(stream)
        ids = stream[offsets[index]:end].tolist()
        assert ids[-1] == tokenizer.eos_token_id
        assert tokenizer.decode(ids[:-1]) == documents[index]["text"]


def test_length_matched_flat_approaches_narrative_length(run_dir):
    stats = json.loads(RunLayout(run_dir).corpus.stats.read_text())["conditions"]
    matched, bmn, flat = (stats[c]["moral_tokens"] for c in ("flat_length_matched", "bmn_shuffled", "flat"))
    assert flat < bmn
    assert abs(matched - bmn) / bmn < 0.25


def test_raised_general_text_is_first_person_and_social(run_dir):
    general = [d["text"] for d in docs(run_dir, "raised") if d["kind"] == "general"]
    assert sum(" I " in f" {t} " for t in general) / len(general) > 0.9
    assert sum('"' in t for t in general) / len(general) > 0.9
    plain = [d["text"] for d in docs(run_dir, "flat") if d["kind"] == "general"]
    assert sum('"' in t for t in plain) / len(plain) < 0.5


def test_same_seed_gives_byte_identical_corpora(run_dir, tmp_path):
    again = build(tmp_path)
    built, rebuilt = RunLayout(run_dir).corpus.root, RunLayout(again).corpus.root
    for path in sorted(built.rglob("*")):
        if path.is_file():
            twin = rebuilt / path.relative_to(built)
            assert twin.read_bytes() == path.read_bytes(), path


def test_order_fingerprint_matches_documents(run_dir):
    import hashlib

    for condition in ("bmn_developmental", "flat"):
        ids = "\n".join(d["id"] for d in docs(run_dir, condition))
        assert meta(run_dir, condition)["order_fingerprint"] == hashlib.sha256(ids.encode()).hexdigest()
