from pathlib import Path

import pytest

from rearing.corpus.lexicon import Lexicon, default_lexicon_path, load_lexicon


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon()


def test_shipped_lexicon_is_large_lowercase_and_comment_free(lexicon):
    assert len(lexicon.terms) >= 150
    assert isinstance(lexicon.terms, frozenset)
    assert all(t == t.lower() and not t.startswith("#") and t.strip() == t for t in lexicon.terms)
    assert {"wrong", "duty", "honest", "stole", "stolen", "lying", "conscience", "betrayal"} <= lexicon.terms
    assert any(" " in t for t in lexicon.terms)


def test_consequence_words_are_not_moral_vocabulary(lexicon):
    for word in ("hurt", "injured", "lost", "broken", "just", "care", "trust"):
        assert word not in lexicon.terms
        assert not lexicon.contains_moral_term(f"The {word} thing")


def test_find_is_whole_word_and_case_insensitive(lexicon):
    assert lexicon.find("It was WRONG to do that.") == ["wrong"]
    assert lexicon.find("The copyright notice faded brightly.") == []
    assert lexicon.find("Turn at the right-hand door.") == []
    assert lexicon.find("Rightly so.") == ["rightly"]
    assert lexicon.find("A kind-hearted man") == ["kind-hearted"]
    assert lexicon.find("'Wrong,' she said.") == ["wrong"]
    assert lexicon.find("The thief's bag.") == ["thief"]


def test_inflections_match_only_when_listed():
    small = Lexicon(["steal", "stole"])
    assert small.find("He stole it and will steal again; stealing is common.") == ["stole", "steal"]
    assert not small.contains_moral_term("stealing")


def test_phrases_match_across_whitespace_and_beat_their_parts(lexicon):
    assert lexicon.find("A game of fair\n   play, fair and square.") == ["fair play", "fair"]
    assert lexicon.find("She told a White Lie.") == ["white lie"]
    assert lexicon.find("They cut corners.") == ["cut corners"]
    assert lexicon.find("They cut the corners of the card.") == []


def test_find_keeps_repeats_and_count_agrees(lexicon):
    text = "Honest people are honest; fairness matters. Should we? We should."
    assert lexicon.find(text) == ["honest", "honest", "fairness", "should", "should"]
    assert lexicon.count(text) == len(lexicon.find(text)) == 5
    assert lexicon.count("The kettle boiled.") == 0


def test_curly_apostrophes_are_normalised(lexicon):
    assert lexicon.find("You shouldn\u2019t.") == ["shouldn't"]


def test_density_is_occurrences_per_word(lexicon):
    assert lexicon.density("") == 0.0
    assert lexicon.density("...") == 0.0
    assert lexicon.density("That was wrong") == pytest.approx(1 / 3)
    assert lexicon.density("fair play is fair") == pytest.approx(2 / 4)
    assert lexicon.density("The kettle boiled") == 0.0


def test_contains_moral_term(lexicon):
    assert lexicon.contains_moral_term("Such cruelty!")
    assert not lexicon.contains_moral_term("The bus arrived at noon.")


def test_load_from_custom_file_skips_comments_and_blanks(tmp_path: Path):
    path = tmp_path / "lex.txt"
    path.write_text("# heading\n\nDuty\n  fair   play  \n# not-a-term\n", encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon.terms == frozenset({"duty", "fair play"})
    assert lexicon.find("not-a-term heading") == []


def test_empty_lexicon_is_rejected(tmp_path: Path):
    path = tmp_path / "empty.txt"
    path.write_text("# only a comment\n", encoding="utf-8")
    with pytest.raises(ValueError):
        load_lexicon(path)


def test_default_path_is_the_shipped_file():
    assert default_lexicon_path().name == "lexicon.txt"
    assert default_lexicon_path().is_file()
