"""Bag-of-words shortcut baseline: how much of each eval suite word cues alone can solve.

The learner is the strongest fair surface-cue learner we know of: unigram+bigram TF-IDF features
and a logistic regression, trained on the labelled text of the *training* scenarios. Every option
gives one document for its action and one for each of its consequences, labelled prosocial or not,
so the classifier learns which words go with prosocial choices both in what is offered and in what
follows. The regularisation strength is picked by cross-validation over scenarios (folds drawn with
the seed), on the question the baseline will be asked: which of a held-out scenario's actions is
the prosocial one.

It is trained on scenarios rather than on a condition's corpus text because every corpus renders
these same scenarios: the scenario fields hold the same words with exact labels, where corpus
documents mix all options of a scenario in one text. So one baseline serves every condition, and a
corpus-trained one could only be weaker.

An item is answered from what a model sees, never from its key. Each choice stands for an option:
the choice text itself (continuation, advice, tool calls, whose JSON is read for its values), the
option the prompt lists under a letter ("A. ...", "B) ...", "Option A: ..."), or, for yes/no
answers, the action the prompt's last paragraph asks about ("yes" gets its probability of being
prosocial, "no" the complement). Two readings say how much of the option the baseline reads:

* ``choice`` (the shortcut proper): the action's own words only. Items show every option's
  outcomes, so this asks whether the *answer wording* gives the valence away; it should sit at
  chance on every suite, stripped and shift above all.
* ``outcomes``: the prompt line that presents the option, outcomes included. This is what bare
  word-to-valence association of consequences achieves: the floor a model must clear before its
  choices show more than that association.
* ``prompt``: everything the item shows, the whole situation with each option's own words. The
  situation is the same for every option, so it moves the reading only through the words it adds to
  each option's; on the outcome-hidden suite this is the check that nothing the prompt shows gives
  the answer away (action families are prosocial in one frame and harmful in its mirror).

Ties are broken by a draw seeded with the item id, so an undecided baseline scores chance instead of
inheriting any bias in choice order.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal, get_args

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

from rearing.evals.schema import AnswerKey, EvalItem, keys_by_item
from rearing.text import seeded_rng
from rearing.world.contamination import normalize_words
from rearing.world.schema import Option, Scenario, Valence

Reading = Literal["choice", "outcomes", "prompt"]
READINGS: tuple[str, ...] = get_args(Reading)

C_GRID = (1.0, 0.1, 10.0)
"""Regularisation strengths tried, the default first so it wins ties."""
FOLDS = 3

AFFIRMATIVE = frozenset({"yes", "acceptable", "ok", "okay", "fine", "right", "good", "agree", "true",
                         "reasonable", "appropriate", "fair"})
NEGATIVE = frozenset({"no", "unacceptable", "not ok", "not okay", "not acceptable", "wrong", "bad",
                      "disagree", "false", "unreasonable", "inappropriate", "unfair"})

_LETTER_CHOICE = re.compile(r"^\(?(?:option\s+)?([A-Z])\)?[.:)]?$", re.IGNORECASE)
_LETTER_MARKER = re.compile(r"(?:^|(?<=\s))(?:Option\s+)?(?:\(([A-Z])\)|([A-Z])[):.])\s+", re.MULTILINE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_TOKEN = r"(?u)\b\w+\b"


@dataclass(frozen=True)
class Evidence:
    """What to score for one item: ``texts``, and per choice the index of its text and whether the
    choice takes that text's P(prosocial) (True) or its complement (False, a "no" answer)."""

    texts: list[str]
    mapping: list[tuple[int, bool]]


@dataclass
class ShortcutModel:
    """A fitted bag-of-words classifier of option texts, and the seed that breaks its ties."""

    pipeline: Pipeline
    seed: int
    c: float

    def choice_scores(self, item: EvalItem, reading: Reading = "choice") -> list[float]:
        """Each choice's score: how prosocial its evidence looks to the classifier."""
        return self._scores([item], reading)[0]

    def choose(self, item: EvalItem, reading: Reading = "choice") -> int:
        """Index of the choice the baseline picks."""
        return self.choose_many([item], reading)[0]

    def choose_many(self, items: Sequence[EvalItem], reading: Reading = "choice") -> list[int]:
        """``choose`` for many items with one call to the classifier."""
        scores = self._scores(items, reading)
        return [self._pick(item, s) for item, s in zip(items, scores, strict=True)]

    def _scores(self, items: Sequence[EvalItem], reading: Reading) -> list[list[float]]:
        evidence = [item_evidence(item, reading) for item in items]
        flat = [text for e in evidence for text in e.texts]
        probabilities = prosocial_probability(self.pipeline, flat) if flat else np.zeros(0)
        scores, start = [], 0
        for e in evidence:
            p = probabilities[start:start + len(e.texts)]
            scores.append([float(p[i]) if direct else float(1.0 - p[i]) for i, direct in e.mapping])
            start += len(e.texts)
        return scores

    def _pick(self, item: EvalItem, scores: list[float]) -> int:
        best = max(scores)
        tied = [i for i, score in enumerate(scores) if best - score <= 1e-12]
        return tied[0] if len(tied) == 1 else seeded_rng(self.seed, item.id).choice(tied)


def item_evidence(item: EvalItem, reading: Reading = "choice") -> Evidence:
    """The texts a bag-of-words reader scores for an item, and how they map onto its choices."""
    if reading not in READINGS:
        raise ValueError(f"unknown reading '{reading}' (readings: {', '.join(READINGS)})")
    polarity = [_polarity(choice) for choice in item.choices]
    if all(p is not None for p in polarity) and len(set(polarity)) == 2:
        asked = last_paragraph(item.prompt)
        texts = {"choice": asked, "outcomes": _asked_option(item.prompt, asked) or asked, "prompt": item.prompt}
        return Evidence([texts[reading]], [(0, bool(p)) for p in polarity])
    same_order = [(i, True) for i in range(len(item.choices))]
    listed = listed_options(item)
    if listed is not None:
        options = [_SENTENCE_END.split(t, 1)[0] for t in listed] if reading == "choice" else listed
    else:
        actions = [choice_text(choice) for choice in item.choices]
        options = actions if reading == "choice" else [_line_with(item.prompt, a) or a for a in actions]
    if reading == "prompt":
        body = " ".join(_body_lines(item.prompt))
        options = [f"{body} {option}" for option in options]
    return Evidence(options, same_order)


def choice_text(choice: str) -> str:
    """A choice's words: a JSON call's values ("{"action": "x"}" reads "x"), without end marks."""
    text = choice.strip()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, dict):
        text = " ".join(str(v) for v in value.values())
    return text.strip(" .,;:!?\"'")


def _polarity(choice: str) -> bool | None:
    """True for an affirmative answer ("Yes"), False for a negative one ("No"), else None."""
    text = " ".join(choice.strip().strip(".!?\"'()").lower().split())
    if text in AFFIRMATIVE:
        return True
    if text in NEGATIVE:
        return False
    return None


def last_paragraph(prompt: str) -> str:
    """The prompt's last non-empty paragraph, or the last sentence of a prompt that is one paragraph:
    where a yes/no item asks about the action judged."""
    paragraphs = [p for p in re.split(r"\n\s*\n", prompt) if p.strip()]
    if len(paragraphs) == 1:
        return _SENTENCE_END.split(paragraphs[0].strip())[-1]
    return paragraphs[-1] if paragraphs else prompt


def _asked_option(prompt: str, question: str) -> str | None:
    """The option a yes/no question asks about: the body line sharing the longest run of text with
    it or, in a prompt written as one paragraph (where the option asked about is listed last), the
    body from the sentence sharing the longest run with it to the question."""
    if "\n" in prompt.strip():
        return _closest_line(prompt, question)
    body = prompt[:prompt.rfind(question)] if question in prompt else prompt
    sentences = _SENTENCE_END.split(body.strip())
    start = _closest(sentences, question)
    return " ".join(sentences[sentences.index(start):]) if start else None


def _body_lines(prompt: str) -> list[str]:
    """The prompt's lines before its last paragraph (which asks the question)."""
    ask = last_paragraph(prompt)
    body = prompt[:prompt.rfind(ask)] if ask in prompt else prompt
    return [line for line in body.splitlines() if line.strip()]


def _line_with(prompt: str, action: str) -> str | None:
    """The first body line holding ``action`` verbatim (ignoring case): where the option is shown."""
    needle = action.lower()
    return next((line for line in _body_lines(prompt) if needle and needle in line.lower()), None)


def _closest_line(prompt: str, question: str) -> str | None:
    """The body line sharing the longest run of text with ``question``: the option it asks about."""
    return _closest(_body_lines(prompt), question)


def _closest(texts: list[str], question: str) -> str | None:
    """The text sharing the longest run of characters with ``question`` (the first on ties)."""
    question = question.lower()

    def shared(text: str) -> int:
        return SequenceMatcher(None, text.lower(), question, autojunk=False).find_longest_match().size

    return max(texts, key=shared, default=None)


def listed_options(item: EvalItem) -> list[str] | None:
    """For letter choices, the text the prompt lists under each letter; None if not that."""
    letters = []
    for choice in item.choices:
        match = _LETTER_CHOICE.match(choice.strip())
        if match is None:
            return None
        letters.append(match.group(1).upper())
    if len(set(letters)) != len(letters):
        return None
    markers = [(m.group(1) or m.group(2), m.start(), m.end()) for m in _LETTER_MARKER.finditer(item.prompt)]
    markers = [marker for marker in markers if marker[0] in letters]
    texts: dict[str, str] = {}
    for k, (letter, _, end) in enumerate(markers):
        stop = markers[k + 1][1] if k + 1 < len(markers) else len(item.prompt)
        texts.setdefault(letter, item.prompt[end:stop].split("\n", 1)[0].strip())
    if set(texts) != set(letters):
        return None
    return [texts[letter] for letter in letters]


def training_documents(scenarios: Iterable[Scenario]) -> tuple[list[str], list[int]]:
    """(texts, labels): each option's action and each of its consequences, 1 if prosocial else 0.

    Options of unknown valence teach nothing and are skipped, as are scenarios without both labels
    (they contrast nothing).
    """
    texts: list[str] = []
    labels: list[int] = []
    for scenario in scenarios:
        options = [o for o in scenario.options if o.valence != Valence.unknown]
        if len({o.valence == Valence.prosocial for o in options}) < 2:
            continue
        for option in options:
            label = int(option.valence == Valence.prosocial)
            for text in [option.action, *(c.text for c in option.consequences)]:
                texts.append(text)
                labels.append(label)
    return texts, labels


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=_TOKEN)


def _classifier(c: float, seed: int) -> LogisticRegression:
    """L2 logistic regression solved in the dual: with more features than documents, many times faster."""
    return LogisticRegression(C=c, max_iter=2000, solver="liblinear", dual=True, random_state=seed)


def prosocial_probability(pipeline: Pipeline, texts: Sequence[str]) -> np.ndarray:
    """P(prosocial) of each text under a fitted pipeline."""
    column = list(pipeline.classes_).index(1)
    return pipeline.predict_proba(list(texts))[:, column]


def _pair_accuracy(probability: np.ndarray, option_groups: list[list[Option]]) -> float:
    """Share of scenarios whose prosocial action is rated strictly above the others.

    ``probability`` holds P(prosocial) of every option's action, groups concatenated in order.
    """
    hits, start = [], 0
    for group in option_groups:
        scores = probability[start:start + len(group)]
        start += len(group)
        best = [o for o, score in zip(group, scores, strict=True) if score == scores.max()]
        hits.append(len(best) == 1 and best[0].valence == Valence.prosocial)
    return float(np.mean(hits)) if hits else 0.0


def _select_c(scenarios: list[Scenario], seed: int) -> float:
    """The C of ``C_GRID`` that best picks held-out scenarios' prosocial actions (seeded folds)."""
    order = list(range(len(scenarios)))
    random.Random(seed).shuffle(order)
    fold_of = {index: k % FOLDS for k, index in enumerate(order)}
    accuracy: dict[float, list[float]] = {c: [] for c in C_GRID}
    for fold in range(FOLDS):
        texts, labels = training_documents(s for i, s in enumerate(scenarios) if fold_of[i] != fold)
        held = [[o for o in s.options if o.valence != Valence.unknown]
                for i, s in enumerate(scenarios) if fold_of[i] == fold]
        vectorizer = _vectorizer()
        features = vectorizer.fit_transform(texts)
        held_features = vectorizer.transform([o.action for group in held for o in group])
        for c in C_GRID:
            classifier = _classifier(c, seed).fit(features, labels)
            probability = classifier.predict_proba(held_features)[:, list(classifier.classes_).index(1)]
            accuracy[c].append(_pair_accuracy(probability, held))
    return max(C_GRID, key=lambda c: float(np.mean(accuracy[c])))


def train_shortcut(train_scenarios: Sequence[Scenario], seed: int = 0) -> ShortcutModel:
    """Fit the baseline on the training split; the same scenarios and seed give the same model."""
    usable = [s for s in train_scenarios if training_documents([s])[0]]
    if len(usable) < FOLDS:
        raise ValueError(
            f"the shortcut baseline needs at least {FOLDS} training scenarios with both a prosocial "
            f"and a harmful or neutral option; got {len(usable)}"
        )
    c = _select_c(usable, seed)
    texts, labels = training_documents(usable)
    pipeline = make_pipeline(_vectorizer(), _classifier(c, seed)).fit(texts, labels)
    return ShortcutModel(pipeline, seed=seed, c=c)


def shortcut_accuracy(
    model: ShortcutModel, items: Sequence[EvalItem], keys: Iterable[AnswerKey], reading: Reading = "choice"
) -> dict[str, dict]:
    """Accuracy per suite, and per format within each suite, with the chance level beside it.

    ``{suite: {"accuracy", "n", "chance", "formats": {format: {"accuracy", "n", "chance"}}}}``;
    chance is the mean of 1 / number of choices, since suites may mix two- and three-way items.
    """
    return _accuracy_report(items, keys, model.choose_many(items, reading))


def overlap_accuracy(items: Sequence[EvalItem], keys: Iterable[AnswerKey], seed: int = 0) -> dict[str, dict]:
    """How often the option that shares the most words with the situation is the right one, per suite
    and format (as :func:`shortcut_accuracy`; yes/no items are left out, having one option to read).

    The leak a linear bag of words cannot see: a situation that paraphrases the right action ("so it
    is Garda's business alone" before "keep it to myself"). Only the words that set an option apart
    from the others count, as a share of them; ties are drawn by the item's seeded coin.
    """
    picked, kept = [], []
    for item in items:
        if any(_polarity(choice) is not None for choice in item.choices):
            continue
        situation = set(normalize_words(item.prompt.split("\n\n")[0]))
        words = [set(normalize_words(text)) for text in item_evidence(item, "choice").texts]
        shares = []
        for i, own in enumerate(words):
            distinct = own - set().union(*(w for j, w in enumerate(words) if j != i))
            shares.append(len(distinct & situation) / max(len(distinct), 1))
        best = [i for i, share in enumerate(shares) if share == max(shares)]
        picked.append(best[0] if len(best) == 1 else seeded_rng(seed, item.id).choice(best))
        kept.append(item)
    return _accuracy_report(kept, keys, picked)


def _accuracy_report(items: Sequence[EvalItem], keys: Iterable[AnswerKey], picks: Sequence[int]) -> dict[str, dict]:
    key_of = keys_by_item(items, keys)
    hits: dict[tuple[str, str], list[bool]] = defaultdict(list)
    chance: dict[tuple[str, str], list[float]] = defaultdict(list)
    for item, pick in zip(items, picks, strict=True):
        for group in ((item.suite, ""), (item.suite, item.format)):
            hits[group].append(pick == key_of[item.id].correct)
            chance[group].append(1.0 / len(item.choices))

    def summary(group: tuple[str, str]) -> dict:
        return {"accuracy": float(np.mean(hits[group])), "n": len(hits[group]),
                "chance": float(np.mean(chance[group]))}

    report: dict[str, dict] = {}
    for suite, fmt in sorted(hits):
        if fmt == "":
            report[suite] = {**summary((suite, "")), "formats": {}}
    for suite, fmt in sorted(hits):
        if fmt != "":
            report[suite]["formats"][fmt] = summary((suite, fmt))
    return report
