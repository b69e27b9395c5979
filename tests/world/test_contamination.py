"""Behaviour of the n-gram contamination check shared by the split and eval stages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rearing.world.contamination import (
    ContaminationReport,
    NgramIndex,
    check_contamination,
    hash_ngram,
    normalize_words,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

WORDS = [f"word{i}" for i in range(40)]
SOURCE = " ".join(WORDS)


def test_normalize_words_lowercases_and_splits_on_punctuation() -> None:
    assert normalize_words("Don't STOP--now, 'please'! x2") == ["don't", "stop", "now", "please", "x2"]
    assert normalize_words("Don\u2019t") == ["don't"]
    assert normalize_words("  ...  ") == []


def test_exact_13_gram_copy_is_detected() -> None:
    copied = " ".join(WORDS[10:23])
    report = check_contamination([("a", f"intro text {copied} outro")], [SOURCE])
    assert report.contaminated_ids == ["a"]
    assert report.examples["a"] == [copied]
    assert not report.ok


def test_12_word_overlap_is_not_detected_at_default_n() -> None:
    overlap = " ".join(WORDS[10:22])
    candidate = [("a", f"unrelated {overlap} different")]
    assert check_contamination(candidate, [SOURCE]).ok
    assert check_contamination(candidate, [SOURCE], n=12).contaminated_ids == ["a"]


def test_ngrams_do_not_cross_reference_document_boundaries() -> None:
    window = " ".join(WORDS[:13])
    split_reference = [" ".join(WORDS[:6]), " ".join(WORDS[6:13])]
    assert check_contamination([("a", window)], split_reference).ok
    assert check_contamination([("a", window)], [" ".join(split_reference)]).contaminated_ids == ["a"]


def test_ngrams_do_not_cross_candidate_texts() -> None:
    parts = [" ".join(WORDS[:6]), " ".join(WORDS[6:13])]
    assert check_contamination([("a", parts)], [SOURCE]).ok
    assert check_contamination([("a", parts + [SOURCE])], [SOURCE]).contaminated_ids == ["a"]


def test_short_texts_contribute_nothing() -> None:
    index = NgramIndex([" ".join(WORDS[:12]), ""])
    assert len(index) == 0
    assert index.docs == 2


def test_match_ignores_case_and_punctuation() -> None:
    shouted = ", ".join(w.upper() for w in WORDS[:13]) + "!!!"
    index = NgramIndex([f"Prefix: {shouted}"])
    assert index.matches(" ".join(WORDS[:15])) == [" ".join(WORDS[:13])]


def test_index_contains_hashes_and_counts_distinct_ngrams() -> None:
    index = NgramIndex([SOURCE, SOURCE], n=13)
    assert len(index) == 40 - 13 + 1
    assert hash_ngram(WORDS[:13]) in index
    assert index.contains(hash_ngram(WORDS[:13]))
    assert hash_ngram(WORDS[1:14][::-1]) not in index


def test_custom_n() -> None:
    index = NgramIndex(["a b c d"], n=3)
    assert index.matches("x b c d y") == ["b c d"]
    assert index.matches("x a b y c d") == []
    report = check_contamination([("p", "b c d"), ("q", "a b d")], ["a b c d"], n=3)
    assert report.n == 3
    assert report.contaminated_ids == ["p"]


def test_prebuilt_index_must_match_n() -> None:
    index = NgramIndex([SOURCE], n=8)
    assert check_contamination([("a", " ".join(WORDS[:8]))], index, n=8).contaminated_ids == ["a"]
    with pytest.raises(ValueError):
        check_contamination([("a", SOURCE)], index)


def test_report_fields_summary_and_to_dict() -> None:
    candidates = [
        ("clean", "nothing shared here at all"),
        ("dirty2", [" ".join(WORDS[20:35])]),
        ("dirty1", SOURCE),
    ]
    report = check_contamination(candidates, [SOURCE, "another doc"])
    assert isinstance(report, ContaminationReport)
    assert report.reference_docs == 2
    assert report.checked_docs == 3
    assert report.contaminated_ids == ["dirty2", "dirty1"]
    assert len(report.examples["dirty1"]) == 3
    assert report.examples["dirty2"] == [" ".join(WORDS[20:33]), " ".join(WORDS[21:34]), " ".join(WORDS[22:35])]
    assert report.fraction == pytest.approx(2 / 3)
    assert not report.ok

    data = json.loads(json.dumps(report.to_dict()))
    assert data["contaminated_ids"] == ["dirty2", "dirty1"]
    assert data["n"] == 13 and data["checked_docs"] == 3 and data["ok"] is False
    assert data["fraction"] == pytest.approx(2 / 3)

    text = report.summary()
    assert "2 of 3" in text and "dirty2" in text and "13-gram" in text


def test_clean_report_is_ok() -> None:
    report = check_contamination([], [SOURCE])
    assert report.ok and report.fraction == 0.0 and report.checked_docs == 0
    assert "0 of 0" in report.summary()


def test_hash_is_deterministic_across_processes() -> None:
    words = normalize_words("The quick brown fox jumps over the lazy dog and then runs far away")
    code = (
        "from rearing.world.contamination import hash_ngram, normalize_words;"
        "print(hash_ngram(normalize_words('The quick brown fox jumps over the lazy dog and then runs far away')))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) == hash_ngram(words)
    assert hash_ngram(words) == 14815134346128208522
