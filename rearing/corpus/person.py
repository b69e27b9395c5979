"""Reframe third-person text about one named person into the first person.

The world generator always writes the agent by name (never a pronoun), with the name as subject
followed by a present-tense verb, so a small set of rules is enough: subject ``Name verbs`` becomes
``I verb``, ``Name's`` becomes ``my``, any other mention becomes ``me``. It is used on generated text;
arbitrary text goes through the LLM backend instead.
"""

from __future__ import annotations

import re

IRREGULAR = {"is": "am", "has": "have", "does": "do", "goes": "go", "was": "was"}
NOT_VERBS = frozenset(
    {"is", "as", "this", "its", "always", "across", "towards", "perhaps", "besides", "thus"}
)
SUBJECT_BEFORE = frozenset({"and", "but", "so", "then", "whatever", "when", "while", "if", "yet", "that"})
MODALS = frozenset({"can", "could", "would", "will", "should", "might", "may", "must", "had"})
PREPOSITIONS = frozenset(
    {"for", "at", "to", "with", "of", "about", "on", "from", "by", "like", "near", "around", "without"}
)


def base_form(verb: str) -> str:
    lower = verb.lower()
    if lower in IRREGULAR:
        return IRREGULAR[lower]
    if lower.endswith("ies") and len(lower) > 4:
        return verb[:-3] + "y"
    if lower.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        return verb[:-2]
    if lower.endswith("s") and not lower.endswith("ss"):
        return verb[:-1]
    return verb


def looks_like_verb(word: str) -> bool:
    lower = word.lower()
    return lower in IRREGULAR or (lower.endswith("s") and not lower.endswith("ss") and lower not in NOT_VERBS)


def to_first_person(text: str, name: str) -> str:
    """Rewrite mentions of ``name`` as I / me / my, fixing the agreement of the verb that follows."""
    pattern = re.compile(rf"\b{re.escape(name)}('s)?\b((?:,\s+(?:a|an|the)\s[^,.;:]{{1,40}},)?)(\s+)?([A-Za-z]+)?")

    def replace(match: re.Match) -> str:
        possessive, apposition = match.group(1), match.group(2)
        space, following = match.group(3) or "", match.group(4) or ""
        if apposition and following and not possessive and (following.lower() in MODALS or looks_like_verb(following)):
            return "I" + apposition + space + (following if following.lower() in MODALS else base_form(following))
        space = apposition + space
        start = match.start()
        before = text[:start].rstrip()
        sentence_start = not before or before[-1] in ".!?\"“"
        if possessive:
            return ("My" if sentence_start else "my") + space + following
        previous_word = re.findall(r"[A-Za-z]+$", before)
        after_subject_word = bool(previous_word) and previous_word[0].lower() in SUBJECT_BEFORE
        clause_start = sentence_start or (before and before[-1] in ",;:") or after_subject_word
        after_preposition = bool(previous_word) and previous_word[0].lower() in PREPOSITIONS
        if following and not after_preposition and (
            following.lower() in MODALS or looks_like_verb(following)
        ):
            return "I" + space + base_form(following)
        if following and clause_start and following.lower() in MODALS:
            return "I" + space + following
        if following and after_subject_word and previous_word[0].lower() == "and":
            return "I" + space + following
        if sentence_start or (before and before[-1] in ";:"):
            return "I" + space + following
        return "me" + space + following

    return pattern.sub(replace, text)
