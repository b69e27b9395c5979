import re
import time

import pytest

from rearing.corpus.general import (
    KINDS,
    MAX_WORDS,
    MIN_WORDS,
    SLOTS,
    GeneralDoc,
    capitalize_sentences,
    general_doc,
    generate_general,
    load_general_phrasings,
    reserved_vocabulary,
)
from rearing.corpus.lexicon import load_lexicon
from rearing.io import InputError
from rearing.world.generate import partition
from rearing.world.vocab import Vocab, load_vocab


@pytest.fixture(scope="module")
def docs() -> list[GeneralDoc]:
    return generate_general(2000, seed=11)


@pytest.fixture(scope="module")
def vocab() -> Vocab:
    return load_vocab()


def _phrases(entries) -> re.Pattern:
    alternatives = "|".join(re.escape(e) for e in sorted(set(entries), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)


def test_ids_and_types(docs):
    assert len(docs) == 2000
    assert all(isinstance(d, GeneralDoc) for d in docs)
    assert [d.id for d in docs[:3]] == ["g11-000000", "g11-000001", "g11-000002"]
    assert len({d.id for d in docs}) == 2000


def test_same_seed_same_output_other_seed_other_output():
    assert generate_general(200, seed=4) == generate_general(200, seed=4)
    assert [d.text for d in generate_general(200, seed=4)] != [d.text for d in generate_general(200, seed=5)]


def test_any_index_regenerates_alone(docs):
    assert general_doc(11, 1234) == docs[1234]


def test_every_kind_is_present(docs):
    kinds = {d.kind for d in docs}
    assert kinds == set(KINDS)
    assert len(KINDS) == 5


def test_no_moral_vocabulary(docs):
    lexicon = load_lexicon()
    offenders = [(d.id, lexicon.find(d.text)) for d in docs if lexicon.contains_moral_term(d.text)]
    assert offenders == []


def test_no_reserved_names(docs, vocab):
    reserved = partition(vocab.names, "reserved")
    assert len(reserved) > 50
    pattern = re.compile(rf"\b(?:{'|'.join(map(re.escape, reserved))})\b")
    leaks = [(d.id, m.group()) for d in docs for m in pattern.finditer(d.text)]
    assert leaks == []


def test_no_reserved_domain_vocabulary(docs, vocab):
    reserved = [entry for entry in reserved_vocabulary(vocab) if entry not in vocab.names]
    school = vocab.domains["school"]
    assert {school.places[0].name, school.things[0].name, school.agent_roles[0]} <= set(reserved)
    pattern = _phrases(reserved)
    leaks = [(d.id, m.group()) for d in docs for m in pattern.finditer(d.text)]
    assert leaks == []


def test_main_vocabulary_is_actually_used(docs, vocab):
    text = "\n".join(d.text for d in docs)
    pools_of = {"places": lambda p: [x.name for x in p.places], "items": lambda p: [x.name for x in p.things],
                "goals": lambda p: list(p.goals)}
    for key, entries in pools_of.items():
        main = {e for pools in vocab.domains.values() for e in partition(entries(pools), "main")}
        used = {e for e in main if re.search(rf"(?<![\w-]){re.escape(e)}(?![\w-])", text, re.IGNORECASE)}
        assert len(used) / len(main) > 0.6, key
    names = partition(vocab.names, "main")
    assert sum(name in text for name in names) / len(names) > 0.8


def test_lengths_within_range(docs):
    lengths = [len(d.text.split()) for d in docs]
    assert min(lengths) >= MIN_WORDS and max(lengths) <= MAX_WORDS
    assert MIN_WORDS == 60 and MAX_WORDS == 250
    assert max(lengths) - min(lengths) > 60


def test_texts_are_distinct(docs):
    assert len({d.text for d in docs}) == len(docs)
    openings = {d.text.split(".")[0] for d in docs}
    assert len(openings) > 1000


def test_sentences_start_with_capitals(docs):
    for d in docs:
        for line in d.text.splitlines():
            body = re.sub(r"^(?:\d+\.\s+|- |[^\s:\"]+: )", "", line.strip())
            if body:
                assert body[0].isupper() or body[0] == '"', (d.id, line)
        for start in re.findall(r"[.!?]\s+([a-z])", d.text):
            pytest.fail(f"{d.id}: lowercase sentence start {start!r}")


def test_no_unfilled_slots_or_article_slips(docs):
    for d in docs:
        assert "{" not in d.text and "}" not in d.text, d.id
        assert not re.search(r"\ba [aeio]", d.text), d.id
        assert not re.search(r"\s{3,}", d.text.replace("\n\n", "\n")), d.id


def test_throughput_sanity():
    start = time.perf_counter()
    generate_general(500, seed=99)
    assert time.perf_counter() - start < 30


def test_capitalize_sentences_after_stops_breaks_list_markers_and_quotes():
    text = 'one. two! three?\nfour, the end\n1. five\n- six "seven'
    assert capitalize_sentences(text) == 'One. Two! Three?\nFour, the end\n1. Five\n- Six "Seven'


def _refusal(path) -> str:
    with pytest.raises(InputError) as caught:
        load_general_phrasings(path)
    return str(caught.value)


def test_phrasing_file_refuses_unknown_slot_empty_list_and_bad_speaker(edited_data):
    path, line = edited_data("general.yaml", "This is a description of the {place} at {dom_a}.",
                             "This is a description of the {place} at {dom_a} on {weekday}.")
    message = _refusal(path)
    assert message.startswith(f"{path}:{line}: description.open") and "unknown slot {weekday}" in message
    assert "allowed slots: {name}, {name2}" in message

    snacks = re.search(r"  snacks:\n(?:    - .*\n)+", load_text()).group()
    path, line = edited_data("general.yaml", snacks, "  snacks: []\n")
    message = _refusal(path)
    assert message.startswith(f"{path}:{line}: values.snacks") and "at least 1 item" in message

    path, line = edited_data("general.yaml", '      - B: "Mostly {pastime}."', '      - C: "Mostly {pastime}."')
    message = _refusal(path)
    assert message.startswith(f"{path}:{line}: dialogue.topics") and "'A' or 'B'" in message


def load_text() -> str:
    from rearing.datafile import package_data

    return package_data("rearing.corpus", "data/general.yaml").read_text(encoding="utf-8")


def test_every_documented_slot_is_filled(edited_data):
    every = " ".join(f"{{{slot}}}" for slot in SLOTS)
    path, _ = edited_data("general.yaml", '"The {place} at {dom_the} is {adj} and {adj2}."', f'"ALL {every}."')
    phrasings = load_general_phrasings(path)
    texts = [d.text for d in generate_general(300, seed=3, phrasings=phrasings) if "ALL " in d.text]
    assert texts and not any("{" in t or "}" in t for t in texts)


def test_edited_phrasing_file_changes_the_text(edited_data):
    path, _ = edited_data("general.yaml", '"A radio plays quietly in the corner."',
                          '"A radio plays softly in the corner."')
    phrasings = load_general_phrasings(path)
    default = generate_general(300, seed=3)
    custom = generate_general(300, seed=3, phrasings=phrasings)
    assert [d.text.replace("radio plays quietly", "radio plays softly") for d in default] == [d.text for d in custom]
    assert default != custom
