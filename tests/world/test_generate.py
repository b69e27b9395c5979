import statistics
from collections import Counter, defaultdict

import pytest
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression

from rearing.config import SplitConfig
from rearing.world.frames import load_frames
from rearing.world.generate import GeneratorSettings, ScenarioGenerator, generate_jsonl_lines
from rearing.world.ladder import default_ladder_path, load_ladder
from rearing.world.sample import scenario_problems
from rearing.world.schema import Scenario
from rearing.world.split import split_scenarios
from rearing.world.vocab import load_vocab


@pytest.fixture(scope="module")
def scenarios(generated_records) -> list[Scenario]:
    return [Scenario.model_validate(r) for r in generated_records]


def test_every_record_is_a_valid_scenario_with_a_moral_contrast(scenarios):
    assert len(scenarios) == 3000
    assert len({s.id for s in scenarios}) == 3000
    for s in scenarios:
        assert s.has_moral_contrast
        assert len(s.options) >= 2 and s.stage is not None and s.principle
        for option in s.options:
            kinds = {c.timing for c in option.consequences}
            assert option.consequences and kinds <= {"immediate", "delayed"}


def test_breadth_of_domains_and_foundations(scenarios):
    domains = Counter(s.domain for s in scenarios)
    assert len(domains) >= 8 and "ai_assistant" in domains
    foundations = Counter(f.value for s in scenarios for f in s.foundations)
    assert len(foundations) >= 6
    social = {c.kind for s in scenarios for o in s.options for c in o.consequences}
    assert {"trust", "reputation", "relationship"} <= social


def test_same_seed_same_bytes_other_seed_other_bytes():
    def lines(seed):
        return list(generate_jsonl_lines(ScenarioGenerator(GeneratorSettings(seed=seed)), 300))

    assert lines(5) == lines(5)
    assert lines(5) != lines(6)


def test_any_index_regenerates_alone():
    generator = ScenarioGenerator(GeneratorSettings(seed=2))
    batch = list(generator.generate(50))
    assert generator.scenario(37) == batch[37]


def test_difficulty_grows_with_stage(scenarios):
    by_stage = defaultdict(list)
    for s in scenarios:
        by_stage[s.stage].append(s)
    stages = sorted(by_stage)
    assert len(stages) >= 5
    mean_score = [statistics.mean(s.difficulty.score for s in by_stage[k]) for k in stages]
    assert mean_score == sorted(mean_score) and mean_score[-1] - mean_score[0] > 0.4
    mean_people = [statistics.mean(len(s.stakeholders) for s in by_stage[k]) for k in stages]
    assert mean_people[-1] > mean_people[0] + 1.5
    rewarded = [statistics.mean(bool(s.difficulty.harm_rewarded) for s in by_stage[k]) for k in stages]
    assert rewarded[0] == 0 and rewarded[-1] > 0.8
    first, last = by_stage[stages[0]], by_stage[stages[-1]]
    assert all(s.difficulty.visibility == "observed" for s in first)
    assert all(s.difficulty.visibility == "unobserved" for s in last)


def test_generator_follows_a_user_ladder(tmp_path):
    text = default_ladder_path().read_text().replace("stakeholders: [1, 1]", "stakeholders: [4, 4]")
    path = tmp_path / "ladder.yaml"
    path.write_text(text)
    generator = ScenarioGenerator(GeneratorSettings(seed=1), ladder=load_ladder(path))
    stage_one = [r for r in generator.generate(600) if r["stage"] == 1]
    assert stage_one and all(len(r["stakeholders"]) == 4 for r in stage_one)


def test_same_kind_of_action_is_prosocial_in_one_scenario_and_harmful_in_another(scenarios):
    frames = load_frames()
    valences_of_phrasing = defaultdict(Counter)
    for s in scenarios:
        action_ids = [t for t in s.provenance.template_ids if t.split(".")[0] in frames.families]
        assert len(action_ids) == 2
        poles = {tid.split(".")[2]: tid for tid in action_ids}
        frame = next(f for _, f in frames.frames if f.name == s.provenance.frame)
        valence_a = "prosocial" if frame.pole_a_prosocial else "harmful"
        valence_b = "harmful" if frame.pole_a_prosocial else "prosocial"
        valences_of_phrasing[poles["a"]][valence_a] += 1
        valences_of_phrasing[poles["b"]][valence_b] += 1
    frequent = {tid: c for tid, c in valences_of_phrasing.items() if sum(c.values()) >= 20}
    assert len(frequent) >= 40
    for tid, counts in frequent.items():
        share = counts["prosocial"] / sum(counts.values())
        assert 0.25 <= share <= 0.75, (tid, counts)


def test_no_word_marks_the_prosocial_option(scenarios):
    word_valence = defaultdict(Counter)
    for s in scenarios:
        for option in s.options:
            for word in set(option.action.lower().split()):
                word_valence[word][option.valence.value] += 1
    frequent = {w: c for w, c in word_valence.items() if sum(c.values()) >= 40}
    assert len(frequent) > 30
    for word, counts in frequent.items():
        share = counts["prosocial"] / sum(counts.values())
        assert 0.3 <= share <= 0.7, (word, counts)


def test_options_are_balanced_in_length(scenarios):
    diffs = []
    prosocial_longer = 0
    for s in scenarios:
        pro, harm = s.option("prosocial"), s.option("harmful")
        diffs.append(abs(len(pro.action.split()) - len(harm.action.split())))
        prosocial_longer += len(pro.action) > len(harm.action)
    assert statistics.median(diffs) <= 2
    assert 0.4 < prosocial_longer / len(scenarios) < 0.6


def test_first_listed_option_is_not_the_answer(scenarios):
    first_prosocial = sum(s.options[0].valence.value == "prosocial" for s in scenarios)
    assert 0.45 < first_prosocial / len(scenarios) < 0.55


def action_bag_of_words_accuracy(scenarios) -> dict[str, float]:
    """Train a bag-of-words valence classifier on train-split actions; score the other splits."""
    result = split_scenarios(scenarios, SplitConfig(), seed=0)

    def xy(items):
        pairs = [(o.action, o.valence.value) for s in items for o in s.options]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    vectorizer = CountVectorizer(ngram_range=(1, 2))
    x_train, y_train = xy(result.splits["train"])
    classifier = LogisticRegression(max_iter=2000).fit(vectorizer.fit_transform(x_train), y_train)
    scores = {}
    for name in ("eval", "shift_domain", "shift_vocab"):
        x, y = xy(result.splits[name])
        scores[name] = classifier.score(vectorizer.transform(x), y)
    return scores


def test_bag_of_words_on_action_texts_cannot_predict_valence(scenarios):
    scores = action_bag_of_words_accuracy(scenarios)
    for name, accuracy in scores.items():
        assert accuracy <= 0.65, (name, accuracy)


def test_the_shortcut_test_can_fail():
    """A leaky generator (prosocial actions flagged by a word) must be caught by the same check."""
    generator = ScenarioGenerator(GeneratorSettings(seed=11))
    leaky = []
    for record in generator.generate(1500):
        for option in record["options"]:
            if option["valence"] == "prosocial":
                option["action"] = "kindly " + option["action"]
        leaky.append(Scenario.model_validate(record))
    assert min(action_bag_of_words_accuracy(leaky).values()) > 0.9


def test_what_a_program_can_check_holds_for_every_scenario(scenarios):
    frames = load_frames()
    problems = {s.id: found for s in scenarios if (found := scenario_problems(s, frames))}
    assert not problems, list(problems.items())[:5]


def test_the_checks_catch_planted_slips(scenarios):
    frames = load_frames()
    s = scenarios[0].model_copy(deep=True)
    s.setting = s.setting + " It is a a busy day."
    victim = s.options[0].consequences[0]
    victim.text = "Somebody else entirely is affected."
    found = scenario_problems(s, frames)
    assert any("doubled article" in p for p in found)
    assert any("filed under someone it does not name" in p for p in found)


def test_nobody_reacts_to_what_nobody_could_know(scenarios):
    frames = {f.name: f for _, f in load_frames().frames}
    for s in scenarios:
        visibility = s.difficulty.visibility
        harmful = s.option("harmful")
        frame = frames[s.provenance.frame]
        reactions = [c for c in harmful.consequences if c.kind == "trust"]
        if visibility != "observed":
            assert not [c for o in s.options for c in o.consequences if c.kind == "reputation"], s.id
        if visibility == "unobserved" and not frame.victim_learns:
            assert not reactions, s.id
        if visibility == "partly" and not frame.victim_learns:
            assert all(c.delay and c.delay in c.text for c in reactions), s.id


def test_digital_domains_have_no_physical_harm(scenarios):
    digital = {name for name, pools in load_vocab().domains.items() if pools.kind == "digital"}
    kinds = Counter(c.kind for s in scenarios if s.domain in digital for o in s.options for c in o.consequences)
    assert kinds and "physical" not in kinds


def test_harm_is_told_plainly_early_and_described_late(scenarios):
    ladder = load_ladder()
    for s in scenarios:
        allowed = ladder.stage(s.stage).factors.harm_explicitness
        assert ("explicit" if s.difficulty.harm_explicit else "described") in allowed
    late = [s for s in scenarios if s.stage >= 5]
    assert late and not any(s.difficulty.harm_explicit for s in late)
