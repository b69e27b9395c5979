"""The content ledger: every content-matched arm carries every unit of every scenario, and a renderer
that drops one fails the build (the arms would then differ in content, not only in structure)."""

from __future__ import annotations

import json

import pytest

from rearing.config import load_config
from rearing.corpus.render import Rendered, render_flat, scenario_units
from rearing.io import InputError
from rearing.layout import RunLayout
from rearing.pipeline import run_pipeline


def render_without_principle(scenario, rng) -> Rendered:
    """A renderer of this test's own that claims to be principle-rich but states no principle."""
    flat = render_flat(scenario, rng)
    return Rendered(flat.text + " One option is better than the other.", (*flat.units, "verdict"), flat.private)


def test_matched_conditions_carry_every_unit_and_the_audit_says_so(tiny_corpus_run):
    audit = json.loads(RunLayout(tiny_corpus_run).corpus.audit.read_text())
    assert audit, "one entry per condition"
    for name, entry in audit.items():
        if entry["content_matched"]:
            assert entry["missing"] == {} and entry["complete"] == entry["scenarios"] > 0, name
    assert not audit["posthoc"]["missing"]


def test_a_condition_with_no_moral_documents_is_reported_with_nothing_missing(tiny_corpus_run):
    """The null control owes no unit: the audit lists it with no documents and nothing missing (the
    build passed), and the stats give it no moral tokens."""
    audit = json.loads(RunLayout(tiny_corpus_run).corpus.audit.read_text())
    assert audit["general_only"] == {"content_matched": False, "moral_documents": 0, "scenarios": 0, "complete": 0,
                                     "missing_by_unit": {}, "private_documents": 0, "missing": {}}
    assert audit["flat"]["moral_documents"] == audit["flat"]["scenarios"] > 0
    stats = json.loads(RunLayout(tiny_corpus_run).corpus.stats.read_text())["conditions"]
    assert stats["general_only"]["moral_token_share"] == 0.0 < stats["flat"]["moral_token_share"]


def test_a_renderer_that_drops_the_principle_fails_the_build(tmp_path, tiny_config_file):
    extra = f"""
corpus:
  define:
    principle_dropped:
      renderer: {__name__}:render_without_principle
      familiar_formats: [judgment]
      llm_style: Facts, then which option is better.
  conditions: [principle_flat, principle_dropped]
train:
  conditions: [principle_flat]
"""
    config = load_config(tiny_config_file(tmp_path, extra))
    with pytest.raises(InputError) as caught:
        run_pipeline(config, tmp_path / "run", until="corpus")
    message = str(caught.value)
    assert "'principle_dropped' is content-matched" in message and "principle" in message
    assert not RunLayout(tmp_path / "run").corpus.root.exists(), "nothing half-written"


def test_flat_is_declared_unmatched_and_lacks_principle_and_verdict(tiny_corpus_run):
    audit = json.loads(RunLayout(tiny_corpus_run).corpus.audit.read_text())
    if "flat" in audit:
        assert audit["flat"]["content_matched"] is False
        assert set(audit["flat"]["missing_by_unit"]) == {"principle", "verdict"}


def test_scenario_units_name_every_part_of_a_scenario(generated_records):
    from rearing.world.schema import Scenario

    scenario = Scenario.model_validate(generated_records[0])
    units = scenario_units(scenario)
    assert "setting" in units and "principle" in units and "verdict" in units
    assert {f"need:{s.id}" for s in scenario.stakeholders} <= set(units)
    assert sum(u.startswith("consequence:") for u in units) == sum(len(o.consequences) for o in scenario.options)


def test_a_unit_counts_only_if_every_repeat_of_a_scenario_carries_it(generated_records):
    from rearing.corpus.build import CorpusDoc, content_audit
    from rearing.corpus.conditions import all_conditions
    from rearing.world.schema import Scenario

    scenario = Scenario.model_validate(generated_records[0])
    units = list(scenario_units(scenario))
    docs = [CorpusDoc(id=f"x:{scenario.id}:{rep}", kind="moral", phase="main", text="t", scenario_id=scenario.id,
                      units=units if rep == 0 else [u for u in units if u != "principle"]) for rep in range(2)]
    audit = content_audit({"principle_flat": all_conditions()["principle_flat"]}, {"principle_flat": docs}, [scenario])
    assert audit["principle_flat"]["missing"] == {scenario.id: ["principle"]}


def test_narrative_conditions_must_carry_the_deliberation(generated_records):
    from rearing.corpus.build import CorpusDoc, content_audit
    from rearing.corpus.conditions import all_conditions
    from rearing.world.schema import Scenario

    scenario = Scenario.model_validate(generated_records[0])
    doc = CorpusDoc(id=f"x:{scenario.id}:0", kind="moral", phase="main", text="t", scenario_id=scenario.id,
                    units=list(scenario_units(scenario)))
    audit = content_audit({"bmn_shuffled": all_conditions()["bmn_shuffled"]}, {"bmn_shuffled": [doc]}, [scenario])
    assert audit["bmn_shuffled"]["missing"] == {scenario.id: ["deliberation"]}


def test_a_scenario_with_no_valenced_option_owes_no_verdict(generated_records):
    from rearing.world.schema import Scenario, Valence

    record = json.loads(json.dumps(generated_records[0]))
    for option in record["options"]:
        option["valence"] = Valence.neutral.value
    assert "verdict" not in scenario_units(Scenario.model_validate(record))


def test_length_matching_adds_only_public_text_and_stops_when_a_paraphrase_adds_nothing():
    from rearing.corpus.build import _extend_to, public_text

    doc = Rendered("I stood there. I weighed it all. Then I went home.", (), ((15, 32),))
    assert public_text(doc) == "I stood there. Then I went home."
    with pytest.raises(ValueError, match="added no words"):
        _extend_to("Short.", 10, lambda k: "")
