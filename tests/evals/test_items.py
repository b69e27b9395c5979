"""Eval items on a generated world: held-out only, balanced, stripped clean, pressured, reproducible."""

import json
import re
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from rearing.config import SplitConfig, load_config
from rearing.corpus.conditions import (
    Condition,
    all_conditions,
    default_conditions,
    familiar_conditions,
    neutral_formats,
    practised_formats,
)
from rearing.corpus.lexicon import load_lexicon
from rearing.corpus.stream import TokenStream
from rearing.datafile import load_yaml, package_data
from rearing.evals.formats import ACTION_FORMATS, YES_NO_FORMATS, check_format_wording_heldout
from rearing.evals.items import build_items, check_item_leakage, read_items, write_items
from rearing.evals.pressure import (
    INTENSITIES,
    MANY_SHOT_K,
    check_pressure_heldout,
    default_pressure_path,
    load_pressure,
    many_shot_text,
    pick_shots,
    pressure_text,
)
from rearing.evals.schema import FORMATS, PRESSURE_KINDS
from rearing.evals.shortcut import last_paragraph
from rearing.evals.suites import Suite, builtin_suites
from rearing.evals.views import View, scenario_view, strip_view
from rearing.evals.wording import ItemWording, fixed_segments, item_wording
from rearing.io import InputError
from rearing.layout import RunLayout
from rearing.pipeline import run_pipeline
from rearing.world.importers import import_moral_stories
from rearing.world.schema import Scenario, Valence, scenario_texts
from rearing.world.split import split_scenarios

SEED = 3
PRESSURE_CAP = 24
ITEM_SUITES = {name: suite for name, suite in builtin_suites().items() if suite.kind == "items"}
CONDITIONS = {name: all_conditions()[name] for name in default_conditions()}


def suites(*names: str) -> dict[str, Suite]:
    return {name: ITEM_SUITES[name] for name in names}


@pytest.fixture(scope="module")
def splits(generated_records):
    scenarios = [Scenario.model_validate(r) for r in generated_records[:2000]]
    return split_scenarios(scenarios, SplitConfig(), seed=0).splits


@pytest.fixture(scope="module")
def built(splits):
    return build_items(splits, SEED, ITEM_SUITES, CONDITIONS,
                       max_scenarios={"pressure": PRESSURE_CAP, "hidden_pressure": PRESSURE_CAP})


@pytest.fixture(scope="module")
def by_id(built):
    items, keys, _ = built
    key_of = {k.item_id: k for k in keys}
    return {item.id: (item, key_of[item.id]) for item in items}


def suite_items(built, suite):
    items, keys, _ = built
    key_of = {k.item_id: k for k in keys}
    return [(item, key_of[item.id]) for item in items if item.suite == suite]


def test_items_come_only_from_their_held_out_split(built, splits):
    items, _, report = built
    train = {s.id for s in splits["train"]}
    assert items and not {item.scenario_id for item in items} & train
    for item in items:
        assert item.split == ITEM_SUITES[item.suite].split
    for name, suite in ITEM_SUITES.items():
        used = {item.scenario_id for item in items if item.suite == name}
        assert used and used <= {s.id for s in splits[suite.split]}, name
    assert report["suites"]["format"]["scenarios"] == len(splits["eval"])
    with pytest.raises(ValueError, match="train and a held-out split"):
        build_items({"train": splits["train"], "eval": splits["train"][:5]}, 0, suites("format"), CONDITIONS)


def test_every_item_has_one_key_pointing_at_the_prosocial_choice(built, splits):
    items, keys, _ = built
    assert [k.item_id for k in keys] == [item.id for item in items]
    scenario = {s.id: s for group in splits.values() for s in group}
    for item, key in zip(items, keys, strict=True):
        assert len(key.valences) == len(item.choices) == 2
        assert key.valences[key.correct] == "prosocial" and "harmful" in key.valences
        assert item.familiar_to == familiar_conditions(item.format, CONDITIONS)
        actions = {o.valence.value: o.action for o in scenario[item.scenario_id].options}
        if item.format == "tool_call" and not item.stripped:
            called = [json.loads(choice)["action"] for choice in item.choices]
            assert called == [actions[v] for v in key.valences]
        elif item.format in YES_NO_FORMATS:
            assert item.choices == [" Yes", " No"]
        elif item.format == "ab":
            assert item.choices == [" A", " B"]


def test_suites_hold_every_format_and_pressure_condition(built):
    items, _, report = built
    per_scenario = defaultdict(set)
    for item in items:
        per_scenario[(item.suite, item.scenario_id)].add((item.format, item.pressure, item.intensity))
    for (suite, _), conditions in per_scenario.items():
        if ITEM_SUITES[suite].pressure:
            neutral = neutral_formats(FORMATS, CONDITIONS)
            expected = {(f, k, i) for f in neutral for k in PRESSURE_KINDS for i in INTENSITIES}
            expected |= {(f, "many_shot", k) for f in neutral for k in MANY_SHOT_K}
        else:
            expected = {(f, "none", 0) for f in FORMATS}
        assert conditions == expected, suite
    assert report["suites"]["pressure"]["scenarios"] == report["suites"]["hidden_pressure"]["scenarios"] == PRESSURE_CAP
    assert report["pressure"]["formats"] == ["ab", "advice", "tool_call"]


def test_hidden_items_show_the_situation_and_actions_but_no_outcome_or_principle(built, splits):
    scenario = {s.id: s for group in splits.values() for s in group}
    hidden = suite_items(built, "hidden") + suite_items(built, "hidden_pressure")
    assert {item.format for item, _ in hidden} == set(FORMATS)
    for item, key in hidden:
        s = scenario[item.scenario_id]
        shown = item.prompt + "".join(item.choices)
        assert not [c.text for o in s.options for c in o.consequences if c.text in shown], item.id
        assert s.principle not in item.prompt and "Likely result" not in item.prompt
        if item.format in ("ab", "advice"):
            for option in s.options:
                assert option.action.lower() in shown.lower(), (item.id, option.action)
    plain = {item.id: (item, key) for item, key in suite_items(built, "format")}
    for item, key in suite_items(built, "hidden"):
        twin, twin_key = plain[item.id.replace("hidden:", "format:", 1)]
        assert (item.choices, key.correct) == (twin.choices, twin_key.correct), "same options, same order"
        assert len(item.prompt) < len(twin.prompt)


def test_fewer_pressure_kinds_give_the_same_items_of_those_kinds(built, splits):
    items, _, _ = built
    fewer, _, report = build_items(splits, SEED, suites("pressure"), CONDITIONS, max_scenarios=PRESSURE_CAP,
                                   pressure_kinds=["incentive"])
    assert {item.pressure for item in fewer} == {"incentive", "many_shot"}
    assert report["pressure"]["kinds"] == ["incentive"]
    same_kind = {item.id: item for item in items if item.suite == "pressure" and item.pressure in ("incentive", "many_shot")}
    assert {item.id: item for item in fewer} == same_kind, "a kind's items do not depend on which other kinds are asked for"


def test_calibration_prompt_keeps_the_frame_and_options_but_nothing_of_the_situation(built, splits):
    scenario = {s.id: s for group in splits.values() for s in group}
    items, _, _ = built
    for item in items:
        s = scenario[item.scenario_id]
        free = item.calibration_prompt
        assert s.setting not in free and not any(c.text in free for o in s.options for c in o.consequences)
        assert last_paragraph(item.prompt) == last_paragraph(free), "the same question ends both"
        if item.format not in (*YES_NO_FORMATS, "ab"):
            positions = [free.find(json.loads(c)["action"] if item.format == "tool_call" else c.strip(' ."'))
                         for c in item.choices]
            assert -1 not in positions and positions == sorted(positions), "options listed in the choices' order"
    pressured = [i for i in items if i.pressure != "none"]
    assert pressured
    for item in pressured:
        pressure = item.prompt.split("\n\n")[-2].splitlines()[-1]
        assert pressure in item.calibration_prompt, "pressure frames both prompts, like few-shot examples"


def test_option_order_and_answers_are_counterbalanced(built):
    _, _, report = built
    for suite in ("format", "stripped", "shift_domain", "shift_vocab", "pressure"):
        counts = defaultdict(Counter)
        for item, key in suite_items(built, suite):
            counts[item.format][key.correct] += 1
        for fmt, count in counts.items():
            total = count[0] + count[1]
            # block randomisation: exact to within one block per format (pressure repeats each scenario)
            repeats = total // len({i.scenario_id for i, _ in suite_items(built, suite) if i.format == fmt})
            slack = 2 * repeats if suite != "stripped" else max(2 * repeats, total // 20)
            assert abs(count[0] - count[1]) <= slack, (suite, fmt, count)
        for fmt, entry in report["suites"][suite]["balance"].items():
            assert abs(entry["prosocial_listed_first"] - 0.5) <= 0.05, (suite, fmt)


def test_yes_no_formats_ask_about_the_option_listed_last_and_the_harmful_one_half_the_time(built, splits):
    """One paragraph of prose, as the documents that practise the question are written; the question
    follows the outcomes of the option it asks about."""
    scenario = {s.id: s for group in splits.values() for s in group}
    intro = re.compile(r"\bIf (?:I decide|[^.:?]+? decides) to ")
    for fmt in YES_NO_FORMATS:
        asked = Counter()
        for item, key in suite_items(built, "format"):
            if item.format != fmt:
                continue
            s = scenario[item.scenario_id]
            question = last_paragraph(item.prompt)
            assert "\n" not in item.prompt and item.prompt.endswith(question) and question.startswith("Is it right")
            judged = question.removesuffix("?").split(" to ", 1)[1]
            about_harm = key.valences[0] == "harmful"
            action = s.option(Valence.harmful if about_harm else Valence.prosocial).action
            assert judged == action
            last = list(intro.finditer(item.prompt))[-1]
            assert item.prompt[last.end():].startswith(f"{judged}: "), "asked right after its outcomes"
            assert item.prompt.index("Keep in mind" if fmt == "judgment" else "comes back to me") < last.start()
            asked[about_harm] += 1
            assert (key.correct == 1) == about_harm and item.choices[key.correct] == (" No" if about_harm else " Yes")
        assert asked[True] and abs(asked[True] - asked[False]) <= 2, fmt


def test_choice_lengths_give_no_cue(built):
    _, _, report = built
    for suite, entry in report["suites"].items():
        for fmt in ACTION_FORMATS:
            if fmt not in entry["balance"]:
                continue
            balance = entry["balance"][fmt]
            assert 0.9 <= balance["length_ratio"] <= 1.1, (suite, fmt, balance)
            assert 0.35 <= balance["longer_is_correct"] <= 0.65, (suite, fmt, balance)


def test_stripped_items_hold_no_moral_word_but_keep_the_outcomes(built, splits):
    lexicon = load_lexicon()
    stripped = suite_items(built, "stripped")
    assert len(stripped) >= 5 * 0.9 * len(splits["eval"])
    principle = {s.id: s.principle for s in splits["eval"]}
    for item, _ in stripped:
        assert item.stripped
        assert lexicon.find(item.prompt + "\n" + "\n".join(item.choices)) == [], item.id
        assert principle[item.scenario_id] not in item.prompt, item.id
    # the plain items do carry moral words, so stripping had something to do
    assert sum(bool(lexicon.find(i.prompt)) for i, _ in suite_items(built, "format")) > len(splits["eval"])
    for item, _ in stripped:
        if item.format == "continuation":
            lines = [line for line in item.prompt.split("\n") if line.startswith("If I decide to ")]
            assert len(lines) == 2 and all(len(line.split(": ", 1)[1]) > 10 for line in lines)
    _, _, report = built
    assert report["stripped"]["dropped_items_residual_terms"] == 0
    kept = report["suites"]["stripped"]["scenarios"]
    assert kept + report["stripped"]["dropped_scenarios"] == len(splits["eval"])


def test_stripped_and_pressured_items_pair_with_the_plain_item(by_id):
    for item_id, (item, key) in by_id.items():
        if item.suite in ("stripped", "pressure"):
            plain, plain_key = by_id[f"format:{item.scenario_id}:{item.format}"]
            assert key.valences == plain_key.valences, item_id
            assert item.choices == plain.choices or item.suite == "stripped"


def test_strip_paraphrases_or_drops_what_carries_moral_words(splits):
    lexicon = load_lexicon()
    view = scenario_view(splits["eval"][0])
    bad = View(
        view.scenario, view.agent, view.setting + " Everyone says stealing is wrong.", view.people,
        view.prosocial.__class__(view.prosocial.valence, "head out right away",
                                 view.prosocial.outcomes + ("It was a cruel thing to do.",)),
        view.harmful, view.principle,
    )
    stripped = strip_view(bad, lexicon)
    assert isinstance(stripped, View)
    assert stripped.prosocial.action == "head out at once"
    assert "cruel" not in " ".join(stripped.prosocial.outcomes) and stripped.prosocial.outcomes
    assert "wrong" not in stripped.setting and stripped.principle is None
    steal = View(view.scenario, view.agent, view.setting, view.people,
                 view.prosocial.__class__("prosocial", "steal the keys", view.prosocial.outcomes),
                 view.harmful, None)
    assert strip_view(steal, lexicon) == "action"
    cruel_only = View(view.scenario, view.agent, view.setting, view.people, view.prosocial,
                      view.harmful.__class__("harmful", view.harmful.action, ("That was cruel.",)), None)
    assert strip_view(cruel_only, lexicon) == "outcomes"


def test_unstrippable_scenarios_are_dropped_and_counted(splits):
    victim = splits["eval"][0]
    options = [o.model_copy(update={"action": "steal the " + o.action}) for o in victim.options]
    unfit = victim.model_copy(update={"id": "unfit", "options": options})
    items, _, report = build_items({"eval": [unfit, *splits["eval"][1:6]]}, 0, suites("stripped"), CONDITIONS)
    assert report["stripped"]["dropped_by_reason"] == {"action": 1}
    assert "unfit" not in {item.scenario_id for item in items}
    assert report["suites"]["stripped"]["scenarios"] == 5


def loud_and_crowded(view: View) -> View | str:
    """A view of this test file's own: the setting in capitals, scenarios with few people skipped."""
    if len(view.people) < 4:
        return "few people"
    return replace(view, setting=view.setting.upper())


def test_a_suite_defined_only_as_a_record_builds_its_items(splits):
    defined = {
        "stripped_shift": Suite(kind="items", split="shift_domain", view="stripped"),
        "loud": Suite(kind="items", split="shift_vocab", view=f"{__name__}:loud_and_crowded", pressure=True,
                      formats=["judgment"]),
    }
    items, keys, report = build_items(splits, SEED, defined, CONDITIONS, max_scenarios=6, many_shot=[1])
    assert len(keys) == len(items) and {i.suite for i in items} == set(defined)
    lexicon = load_lexicon()
    shift = {s.id: s for s in splits["shift_domain"]}
    stripped = [i for i in items if i.suite == "stripped_shift"]
    assert {i.format for i in stripped} == set(FORMATS)
    for item in stripped:
        assert item.split == "shift_domain" and item.stripped and item.scenario_id in shift
        assert item.id == f"stripped_shift:{item.scenario_id}:{item.format}"
        assert lexicon.find(item.prompt + "\n" + "\n".join(item.choices)) == [], item.id
        assert shift[item.scenario_id].principle not in item.prompt
    assert report["suites"]["stripped_shift"]["split"] == "shift_domain"
    kept = report["suites"]["stripped_shift"]["scenarios"]
    assert kept + report["stripped"]["dropped_scenarios"] == 6

    vocab = {s.id: s for s in splits["shift_vocab"]}
    loud = [i for i in items if i.suite == "loud"]
    assert {i.format for i in loud} == {"judgment"} and not any(i.stripped for i in loud)
    conditions = {(i.pressure, i.intensity) for i in loud}
    assert conditions == {(k, n) for k in PRESSURE_KINDS for n in INTENSITIES} | {("many_shot", 1)}
    for item in loud:
        view = scenario_view(vocab[item.scenario_id])
        assert item.split == "shift_vocab" and len(view.people) >= 4
        assert view.setting.upper() in item.prompt and view.setting not in item.prompt
    dropped = report["custom_views"]["loud"]
    assert dropped["view"] == f"{__name__}:loud_and_crowded"
    assert dropped["dropped_by_reason"]["few people"] + len({i.scenario_id for i in loud}) == 6
    assert len({i.scenario_id for i in loud}) >= 1


def test_a_view_must_give_a_view_or_a_reason(splits):
    broken = {"broken": Suite(kind="items", split="eval", view="builtins:id")}
    with pytest.raises(TypeError, match="view .builtins:id. returned int"):
        build_items(splits, 0, broken, CONDITIONS, max_scenarios=1)
    missing = {"missing": Suite(kind="items", split="eval", view="rearing.evals.views:no_such_view")}
    with pytest.raises(InputError, match="cannot be imported"):
        build_items(splits, 0, missing, CONDITIONS, max_scenarios=1)
    with pytest.raises(ValueError, match="not item suites"):
        build_items(splits, 0, {"agentic": builtin_suites()["agentic"]}, CONDITIONS)


def test_pressure_is_inserted_before_the_choice_point(by_id):
    for item_id, (item, _) in by_id.items():
        if item.suite != "pressure":
            continue
        plain = by_id[f"format:{item.scenario_id}:{item.format}"][0]
        lines, base = item.prompt.split("\n"), plain.prompt.split("\n")
        assert lines[-2:] == base[-2:] and item.prompt.endswith(plain.prompt.split("\n\n")[-1])
        start = next(i for i, (a, b) in enumerate(zip(lines, base, strict=False)) if a != b)
        inserted = len(lines) - len(base)
        assert inserted >= 1 and lines[:start] + lines[start + inserted:] == base, item_id
        if item.pressure == "many_shot":
            assert sum(line.startswith("- ") for line in lines) == item.intensity


def test_pressure_phrasings_are_complete_lexicon_free_and_drawn_by_seed(splits):
    phrasings = load_pressure()
    lexicon = load_lexicon()
    for wid, template in phrasings.wordings():
        for segment in fixed_segments(template):
            assert not lexicon.find(segment), (wid, segment)
    for kind in PRESSURE_KINDS:
        assert set(phrasings.kinds[kind]) == set(INTENSITIES)
        assert all(len(texts) >= 2 for texts in phrasings.kinds[kind].values())
    eval_split = splits["eval"][:60]
    openings = {" ".join(pressure_text("peers", 2, s, SEED).split()[:2]) for s in eval_split}
    assert len(openings) == len(phrasings.kinds["peers"][2])  # every phrasing gets drawn
    assert [pressure_text("urgency", 3, s, SEED) for s in eval_split] == [
        pressure_text("urgency", 3, s, SEED) for s in eval_split
    ]
    harm = eval_split[0].option("harmful").action
    assert all(harm in pressure_text(k, i, eval_split[0], SEED) for k in PRESSURE_KINDS for i in INTENSITIES)
    with pytest.raises(ValueError, match="intensity"):
        pressure_text("peers", 4, eval_split[0], SEED)


def test_many_shot_examples_are_other_scenarios_and_nested(splits):
    pool = splits["eval"]
    target = pool[0]
    eight = pick_shots(target, pool, 8, SEED)
    assert target.id not in {s.id for s in eight}
    assert pick_shots(target, pool, 4, SEED) == eight[:4]
    text = many_shot_text(target, eight, SEED)
    for shot in eight:
        assert shot.option("harmful").action in text
    assert target.agent.name not in text


def test_bad_pressure_file_is_an_input_error(tmp_path):
    data = yaml.safe_load(default_pressure_path().read_text())
    del data["kinds"]["secrecy"][2]
    data["kinds"]["urgency"][1][0] = "Hurry up."
    path = tmp_path / "pressure.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError) as error:
        load_pressure(path)
    assert str(path) in str(error.value) and "kinds" in str(error.value)


def test_no_item_shares_a_13gram_with_the_train_scenarios(built, splits):
    items, _, report = built
    assert report["leakage"]["dropped_items"] == 0
    assert report["leakage"]["contamination"]["checked_docs"] == len(items)
    train_texts = [t for s in splits["train"] for t in scenario_texts(s)]
    assert check_item_leakage(items[:200], train_texts).ok
    leak = items[0].prompt + "\n\n" + train_texts[0]
    planted = items[0].model_copy(update={"id": "planted", "prompt": leak})
    assert check_item_leakage([planted], train_texts).contaminated_ids == ["planted"]


def test_same_seed_same_bytes_and_files_read_back(splits, tmp_path):
    caps = {"format": 20, "stripped": 20, "shift_domain": 10, "shift_vocab": 10, "pressure": 4}
    a = write_items(tmp_path / "a", *build_items(splits, 5, ITEM_SUITES, CONDITIONS, max_scenarios=caps))
    b = write_items(tmp_path / "b", *build_items(splits, 5, ITEM_SUITES, CONDITIONS, max_scenarios=caps))
    c = write_items(tmp_path / "c", *build_items(splits, 6, ITEM_SUITES, CONDITIONS, max_scenarios=caps))
    for name in ("items", "keys", "report"):
        assert a[name].read_bytes() == b[name].read_bytes(), name
    assert a["items"].read_bytes() != c["items"].read_bytes()
    items, keys = read_items(tmp_path / "a")
    assert len(items) == len(keys) == len(a["items"].read_text().splitlines())


def test_read_items_names_file_line_and_field(splits, tmp_path):
    paths = write_items(tmp_path, *build_items(splits, 0, suites("format"), CONDITIONS, max_scenarios=2))
    lines = paths["keys"].read_text().splitlines()
    broken = json.loads(lines[2])
    broken["correct"] = 5
    lines[2] = json.dumps(broken)
    del lines[-1]
    paths["keys"].write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError) as error:
        read_items(tmp_path)
    problems = error.value.problems
    assert any(p.startswith(f"{paths['keys']}:3: correct:") for p in problems)
    assert any(p.startswith(f"{paths['items']}:{len(lines) + 1}: id: no answer key") for p in problems)
    paths["items"].write_text('{"id": "x"}\n')
    with pytest.raises(InputError, match=r"items.jsonl:1: suite"):
        read_items(tmp_path)


def test_familiarity_and_neutral_formats(built):
    def neutral(*names: str) -> list[str]:
        return neutral_formats(FORMATS, {name: CONDITIONS[name] for name in names})

    assert neutral(*CONDITIONS) == ["ab", "advice", "tool_call"]
    assert "continuation" in neutral("flat", "principle_flat")
    assert "judgment" not in neutral("flat", "bmn_developmental")
    assert "judgment" in neutral("flat", "posthoc")  # both know it equally
    _, _, report = built
    assert report["familiar_to"] == {
        "continuation": ["bmn_shuffled", "bmn_developmental", "raised"],
        "judgment": ["flat", "principle_flat", "posthoc", "flat_length_matched"],
        "self_judgment": ["bmn_shuffled", "bmn_developmental", "raised"],
        "ab": [], "advice": [], "tool_call": [],
    }
    assert report["neutral_formats"] == ["ab", "advice", "tool_call"]


def test_familiar_to_names_only_the_runs_conditions(splits):
    run = {name: CONDITIONS[name] for name in ("flat", "bmn_developmental")}
    items, _, report = build_items(splits, 0, suites("format", "pressure"), run, max_scenarios=2)
    familiar = {item.format: item.familiar_to for item in items}
    assert familiar == {"continuation": ["bmn_developmental"], "judgment": ["flat"],
                        "self_judgment": ["bmn_developmental"], "ab": [], "advice": [], "tool_call": []}
    assert {i.format for i in items if i.suite == "pressure"} == {"ab", "advice", "tool_call"}
    assert report["neutral_formats"] == report["pressure"]["formats"] == ["ab", "advice", "tool_call"]
    unfamiliar = Condition(renderer="flat", familiar_formats=[])
    other = build_items(splits, 0, suites("pressure"), {"flat": CONDITIONS["flat"], "unfamiliar": unfamiliar},
                        max_scenarios=1)[0]
    assert {i.format for i in other} == {"continuation", "self_judgment", "ab", "advice", "tool_call"}
    assert all(i.familiar_to == [] for i in other)


def test_person_rewrites_put_the_model_in_the_agents_place(built, splits):
    agent = {s.id: s.agent.name for s in splits["eval"]}
    for item, _ in suite_items(built, "format"):
        name = agent[item.scenario_id]
        if item.format == "continuation":
            assert name not in item.prompt and "I decide to" in item.prompt, item.id
        elif item.format == "self_judgment":
            assert name not in item.prompt and "Is it right for me to" in item.prompt, item.id
        elif item.format == "tool_call":
            head, body = item.prompt.split("\n", 1)
            assert head.startswith(f"You are {name}.") and name not in body, item.id
        else:
            assert name in last_paragraph(item.prompt), item.id


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("items-corpus")
    config = root / "c.yaml"
    config.write_text("preset: smoke\nname: items-test\nworld:\n  n_scenarios: 400\n"
                      f"corpus:\n  conditions: [{', '.join(CONDITIONS)}]\n  general_docs: 300\n  vocab_size: 1200\n")
    run_pipeline(load_config(config), root / "run", until="corpus")
    return root / "run"


def corpus_texts(run: Path) -> list[str]:
    corpus = RunLayout(run).corpus
    return [d.text for condition in corpus.conditions() for d in TokenStream.open(corpus.stream(condition)).docs()]


def test_pressure_and_format_wording_never_occur_in_training_text(corpus_run):
    texts = corpus_texts(corpus_run)
    assert RunLayout(corpus_run).corpus.conditions() == sorted(CONDITIONS)
    pressure = check_pressure_heldout(texts, n=5)
    assert pressure.ok, pressure.contamination.summary()
    assert pressure.checked_ngrams > 200 and len(pressure.too_short) <= 6
    wording = check_format_wording_heldout(texts, n=5, practised=practised_formats(CONDITIONS))
    assert wording.ok, wording.contamination.summary()
    unexempt = check_format_wording_heldout(texts, n=5)
    assert unexempt.contamination.contaminated_ids == ["self_judgment.ask_full"], "the narratives ask its question"
    # the check can fail: a training text that quotes a phrasing is caught
    phrase = load_pressure().kinds["secrecy"][3][0].format(agent="Ana", harm="go", victim="Bo")
    assert not check_pressure_heldout([*texts[:50], phrase], n=5).ok


def test_imported_scenarios_build_and_report_what_they_lack():
    fixture = Path(__file__).parent.parent / "world" / "fixtures" / "moral_stories_small.jsonl"
    scenarios = import_moral_stories(fixture)
    options = [o.model_copy(update={"valence": "neutral"}) if o.valence.value == "harmful" else o
               for o in scenarios[0].options]
    no_contrast = scenarios[0].model_copy(update={"id": "no-contrast", "options": options})
    items, keys, report = build_items({"eval": [*scenarios, no_contrast]}, 0, suites("format", "stripped", "pressure"),
                                      CONDITIONS, many_shot=[1, 2])
    assert report["skipped_no_contrast"] == {"eval": 1}
    assert report["suites"]["format"]["scenarios"] == len(scenarios)
    assert report["stripped"]["dropped_scenarios"] >= 1  # some stories keep moral words in every outcome
    kept = report["suites"]["stripped"]["scenarios"]
    assert kept + report["stripped"]["dropped_scenarios"] == len(scenarios)
    assert not any(choice.endswith(('.."', "..")) for item in items for choice in item.choices)
    assert len(keys) == len(items)


def test_item_wording_file_is_checked_slot_by_slot(tmp_path):
    source = package_data("rearing.evals", "data/items.yaml")
    data = yaml.safe_load(source.read_text())
    assert load_yaml(source, ItemWording) == item_wording()
    data["formats"]["ab"]["option"] = "{agent}: {action}. Likely result: {outcomes}"
    data["formats"]["judgment"]["ask_stripped"] = "Is it okay for {agent} to do that?"
    data["strip_substitutions"][0]["replace"] = r"become close \2"
    path = tmp_path / "items.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(InputError) as error:
        load_yaml(path, ItemWording)
    problems = "\n".join(error.value.problems)
    assert f"{path}:" in problems and "formats.ab.option: unknown slot {agent}" in problems
    assert "formats.judgment.ask_stripped: missing slot {action}" in problems
    assert "strip_substitutions[0]: replace 'become close \\\\2' names a group the pattern lacks" in problems
