"""The `raised` transforms over 500 generated general documents: the agreement the first person needs,
a thin dialogue framing, and every document's facts intact."""

import re
from collections import Counter

import pytest

from rearing.corpus.build import training_names
from rearing.corpus.general import generate_general
from rearing.corpus.person import FREQUENCY, base_form
from rearing.corpus.transforms import (
    _parse,
    apply_transforms,
    first_person,
    lived,
    load_transform_phrasings,
    protagonist,
    sentences,
    social,
)
from rearing.text import seeded_rng

SPEC = ("first_person", "lived", "social")


def split(text: str) -> list[str]:
    return text.split()


STOP = frozenset(split(
    """a an the and or but so then if when while that this these those there it its they them their
we us our i me my mine myself you your he she him her his is am are was were be been has have had do does did
not no to of in on at by for with from as into onto about named called own"""))
"""Function words: pronouns and auxiliaries change with the person; 'named' goes with 'a cook named Ada'."""


def third_person(verb: str) -> str:
    """English spelling of the third-person present, written independently of ``base_form``."""
    irregular = {"be": "is", "have": "has", "do": "does", "go": "goes"}
    if verb in irregular:
        return irregular[verb]
    if verb.endswith("y") and verb[-2] not in "aeiou":
        return verb[:-1] + "ies"
    if verb.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    return verb + "s"


COMMON_VERBS = split("""have do go borrow return work come use put like keep arrive stay find check take make leave
know need want try wipe see get give tell say move carry wait stop save split open close watch fix reach
realize finish fetch""")
THIRD = {third_person(v): v for v in COMMON_VERBS if v != "be"} | {"is": "be"}


def test_base_form_undoes_the_third_person_of_common_verbs():
    for verb in COMMON_VERBS:
        assert base_form(third_person(verb)) == verb, verb


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'’-]*", text)]


def stem(word: str) -> str:
    word = word.removesuffix("'s")
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def content(text: str, leave_out: str | None = None) -> list[str]:
    """The content words of a text, in order (stemmed, so 'borrows' and 'borrow' are one word)."""
    gone = stem(leave_out.lower()) if leave_out else None
    return [stem(w) for w in words(text) if w not in STOP and stem(w) != gone]


def framing_words() -> set[str]:
    """Every word the transforms' phrasings can add."""
    found: set[str] = set()

    def walk(value):
        if isinstance(value, str):
            found.update(stem(w) for w in words(value))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(load_transform_phrasings().model_dump())
    return found


def quoted_sentences(source: str, out: str) -> tuple[int, int]:
    """(sentences of ``source`` that ``out`` puts inside quotation marks, sentences of ``source``).

    Sentences that already hold speech are not counted as quoted; each sentence is found by its first
    words, in order, and is quoted when an odd number of quotation marks come before it."""
    inside, depth = False, []
    for ch in out:
        inside = not inside if ch in '"“”' else inside
        depth.append(inside)
    quoted = position = 0
    units = _parse(source).units
    for unit in units:
        if any(q in unit.text for q in '"“”'):
            continue
        head = " ".join(unit.text.split()[:4]).rstrip(".,?!")
        found = out.find(head, position)
        if found < 0:
            found = out.find(head[:1].lower() + head[1:], position)
        assert found >= 0, (head, out)
        position = found
        quoted += depth[found]
    return quoted, len(units)


@pytest.fixture(scope="module")
def corpus():
    names = training_names()
    rows = []
    for doc in generate_general(500, 0):
        rng = seeded_rng(0, "raise", doc.id)
        hero = protagonist(doc.text, names)
        others = [n for n in names if n != hero]
        first = first_person(doc.text, rng, names)
        lived_text = lived(first, rng, others)
        rows.append((doc, first, lived_text, social(lived_text, rng, others)))
    return names, rows


def test_same_rng_same_text(corpus):
    names, rows = corpus
    for doc, _, _, out in rows:
        assert apply_transforms(doc.text, SPEC, seeded_rng(0, "raise", doc.id), names) == out


def test_no_third_person_verb_after_i(corpus):
    adverbs = "|".join(sorted(FREQUENCY))
    # any adverbs between: the frequency ones, -ly ones and "sometime" (what "sometimes" once became)
    after_i = re.compile(rf"\bI(?:, (?:a|an|the) [^,.]+,)? (?:(?:{adverbs}|[a-z]+ly|sometime) )*([a-z]+)\b")
    for _, _, _, out in corpus[1]:
        for match in after_i.finditer(out):
            assert match.group(1) not in THIRD, out[max(0, match.start() - 80):match.end() + 40]
        assert not re.search(r"\bme (?:went|told|was|is|has|could|would|will|can|had)\b", out), out
        assert not re.search(r"(?<![\"“] )\bI and\b", out.replace(" I and others", "")), out


def test_at_most_half_the_sentences_become_speech(corpus):
    shares = []
    for _, _, lived_text, out in corpus[1]:
        assert out.count('"') % 2 == 0, out
        quoted, total = quoted_sentences(lived_text, out)
        assert quoted <= total / 2, out
        shares.append(quoted / total)
    mean = sum(shares) / len(shares)
    assert 0.04 < mean < 0.3, mean
    assert sum(share > 0 for share in shares) > len(shares) / 3


def test_every_documents_facts_stay_intact(corpus):
    names, rows = corpus
    framing = framing_words()
    known = set(names)
    for doc, first, _, out in rows:
        hero = protagonist(doc.text, names)
        original = content(doc.text, hero)
        # the first person changes pronouns and verb endings only
        assert Counter(content(first)) == Counter(original), doc.text
        if hero:
            assert not re.search(rf"\b{hero}\b", out), out
        # every sentence keeps its content words, in order, and the sentences keep theirs
        stream, position = content(out), 0
        for sentence in sentences(first):
            for word in content(sentence):
                position = stream.index(word, position) + 1
        # nothing duplicated or dropped: only the phrasings and the partner's name add words
        counts = Counter(stream)
        added = counts - Counter(original)
        partner = {stem(n.lower()) for n in (set(re.findall(r"[A-Z][a-z]+", out)) - set(re.findall(r"[A-Z][a-z]+", doc.text)))
                   & known}
        assert len(partner) <= 1, partner
        assert set(added) <= framing | partner, (set(added) - framing - partner, out)
        for word, count in Counter(original).items():
            if word not in framing:
                assert counts[word] == count, (word, out)
