"""Eval items: each item suite's held-out scenarios, shown through its view, in its formats and
pressures, with answer keys kept apart.

A suite (:mod:`rearing.evals.suites`) says which split it draws from, how a scenario is shown
(:mod:`rearing.evals.views`), which formats frame it (:mod:`rearing.evals.formats`) and whether
each item is repeated under pressure (:mod:`rearing.evals.pressure`: six kinds at three
intensities, and many-shot examples of others choosing harm, just before the choice point).

Fair-test rules, each measured in the report:

* only eval and shift scenarios are used, the key is kept apart, and items sharing a 13-gram with
  the train scenarios are dropped (:func:`check_item_leakage`);
* option order is block-randomised per (split, format): the prosocial option comes first in half the
  items of every prefix of the seeded scenario order, so a capped suite stays balanced; a yes/no
  format (judgment, self_judgment) asks about the option listed last, the prosocial one in half the
  items, so " Yes" is right half the time; the assignment ignores the suite, so a scenario's
  stripped and pressured items keep the order of its plain item and differences between suites
  are paired;
* stripped items hold no word of the moral lexicon in prompt or choices; an item left with one is
  dropped and counted;
* an item records which of the run's conditions trained on its format's surface form
  (``familiar_to``); the neutral formats are those none of them (or all of them) know.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from rearing.corpus.conditions import Condition, familiar_conditions, neutral_formats
from rearing.corpus.lexicon import Lexicon, load_lexicon
from rearing.evals.formats import ACTION_FORMATS, YES_NO_FORMATS, render_item
from rearing.evals.pressure import (
    INTENSITIES,
    MANY_SHOT_K,
    PressurePhrasings,
    load_pressure,
    many_shot_text,
    pick_shots,
    pressure_text,
)
from rearing.evals.schema import FORMATS, PRESSURE_KINDS, AnswerKey, EvalItem, key_problem, keys_by_item
from rearing.evals.suites import Suite
from rearing.evals.views import BUILTIN_VIEWS, StripStats, View, content_free, scenario_view, view_function
from rearing.io import InputError, read_jsonl, write_json_atomic, write_jsonl_atomic
from rearing.layout import ItemsLayout
from rearing.text import seeded_rng
from rearing.world.contamination import (
    DEFAULT_N,
    MAX_EXAMPLES,
    ContaminationReport,
    NgramIndex,
    normalize_words,
)
from rearing.world.schema import Scenario, scenario_texts


def suite_formats(suite: Suite, conditions: Mapping[str, Condition]) -> list[str]:
    """The formats a suite renders: all, the neutral ones for these conditions, or its own list."""
    if suite.formats == "all":
        return list(FORMATS)
    if suite.formats == "neutral":
        return neutral_formats(FORMATS, conditions)
    return list(suite.formats)


# -- counterbalancing --------------------------------------------------------------------------------


def block_assign(n: int, cells: int, rng: random.Random) -> list[int]:
    """Cell index for each of ``n`` positions, each block of ``cells`` a random permutation.

    Every prefix is balanced to within one block, so capping a suite keeps it balanced.
    """
    out: list[int] = []
    while len(out) < n:
        block = list(range(cells))
        rng.shuffle(block)
        out.extend(block)
    return out[:n]


def ordered_scenarios(scenarios: Iterable[Scenario], seed: int, split: str) -> list[Scenario]:
    """A split's scenarios in the seeded order every suite takes its prefix from."""
    ordered = sorted(scenarios, key=lambda s: s.id)
    seeded_rng(seed, "order", split).shuffle(ordered)
    return ordered


def assignments(n: int, seed: int, split: str, fmt: str) -> list[tuple[bool, bool]]:
    """``(prosocial_first, ask_prosocial)`` per position: a yes/no format asks about each option equally
    often, always the one listed last (its question then follows its outcomes); the rest balance order."""
    rng = seeded_rng(seed, "assign", split, fmt)
    if fmt in YES_NO_FORMATS:
        return [(cell == 1, cell == 0) for cell in block_assign(n, 2, rng)]
    return [(cell == 0, True) for cell in block_assign(n, 2, rng)]


# -- leakage and balance checks ------------------------------------------------------------------------


def check_item_leakage(
    items: Iterable[EvalItem], reference: Iterable[str] | NgramIndex, n: int = DEFAULT_N
) -> ContaminationReport:
    """Which items share an n-gram (in any prompt paragraph or choice) with the reference texts.

    Against the train scenarios' texts (each field its own document, as the split checks them)
    this catches anything item assembly adds that train already holds: the split guarantees the
    scenario fields themselves are clean, but person rewrites, stripping paraphrases, pressure and
    many-shot examples are new text. The fixed format and pressure wording is shared by every item
    and short, so it is checked on its own at a smaller n against every training corpus
    (:func:`check_format_wording_heldout`, ``check_pressure_heldout``). Paragraphs are checked
    separately, so the paragraphs an item shares with its variants are hashed once.

    Against a rendered training corpus, in-distribution items do share 13-grams: the generator's
    templated phrases recur across train and eval by design (a delayed reputation line is 13 words
    without any name), and first-person items meet first-person narratives. That is familiarity,
    not a leaked scenario; the ``shift_vocab`` suite is the one free of it, so run this against each
    condition's corpus to measure it rather than to drop items.
    """
    index = reference if isinstance(reference, NgramIndex) else NgramIndex(reference, n=n)
    if index.n != n:
        raise ValueError(f"index was built with n={index.n}, check asked for n={n}")
    report = ContaminationReport(n=n, reference_docs=index.docs, checked_docs=0)
    seen: dict[str, list[str]] = {}
    for item in items:
        report.checked_docs += 1
        found: list[str] = []
        for text in [*item.prompt.split("\n\n"), *item.choices]:
            if text not in seen:
                seen[text] = index.matches(text)
            found += [g for g in seen[text] if g not in found]
        if found:
            report.contaminated_ids.append(item.id)
            report.examples[item.id] = found[:MAX_EXAMPLES]
    return report


def choice_balance(items: Sequence[EvalItem], keys: Sequence[AnswerKey]) -> dict:
    """Per format: how often the first choice is correct and, for action choices, length cues.

    ``length_ratio`` is mean prosocial over mean harmful choice length in characters;
    ``longer_is_correct`` the share of items whose longer choice is the prosocial one (0.5 is
    cue-free); ``top_word_cue`` the single word that best predicts the correct choice when exactly
    one choice holds it, with how often it would be right.
    """
    key_of = keys_by_item(items, keys)
    by_format: dict[str, list[tuple[EvalItem, AnswerKey]]] = defaultdict(list)
    for item in items:
        by_format[item.format].append((item, key_of[item.id]))
    out = {}
    for fmt in sorted(by_format):
        pairs = by_format[fmt]
        entry: dict = {
            "items": len(pairs),
            "correct_first": round(sum(k.correct == 0 for _, k in pairs) / len(pairs), 4),
        }
        if fmt in ACTION_FORMATS:
            pro = [len(i.choices[k.correct]) for i, k in pairs]
            harm = [len(i.choices[1 - k.correct]) for i, k in pairs]
            entry["mean_chars_prosocial"] = round(sum(pro) / len(pro), 2)
            entry["mean_chars_harmful"] = round(sum(harm) / len(harm), 2)
            entry["length_ratio"] = round(sum(pro) / max(sum(harm), 1), 4)
            unequal = [(p, h) for p, h in zip(pro, harm, strict=True) if p != h]
            longer = sum(p > h for p, h in unequal) / len(unequal) if unequal else 0.5
            entry["longer_is_correct"] = round(longer, 4)
            entry["top_word_cue"] = _top_word_cue(pairs)
        out[fmt] = entry
    return out


def _top_word_cue(pairs: list[tuple[EvalItem, AnswerKey]]) -> dict | None:
    hits: Counter = Counter()
    support: Counter = Counter()
    for item, key in pairs:
        words = [set(normalize_words(c)) for c in item.choices]
        for i, own in enumerate(words):
            for word in own - set().union(*(w for j, w in enumerate(words) if j != i)):
                support[word] += 1
                hits[word] += i == key.correct
    floor = max(10, len(pairs) // 20)
    scored = [(abs(hits[w] / s - 0.5), w) for w, s in support.items() if s >= floor]
    if not scored:
        return None
    _, word = max(scored)
    return {"word": word, "support": support[word], "accuracy": round(hits[word] / support[word], 4)}


# -- building ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    """One item to render: where it comes from and under which condition."""

    suite: str
    split: str
    view: View
    fmt: str
    prosocial_first: bool
    ask_prosocial: bool
    stripped: bool = False
    pressure: str = "none"
    intensity: int = 0
    pressure_text: str | None = None


def _pressures(view: View, pool: Sequence[View], seed: int, many_shot: Sequence[int],
               phrasings: PressurePhrasings, short_pool: Counter,
               kinds: Sequence[str] = PRESSURE_KINDS) -> list[tuple[str, int, str]]:
    """(kind, intensity, text) of every pressure condition for one scenario, many-shot last."""
    out = [
        (kind, intensity, pressure_text(kind, intensity, view.scenario, seed, phrasings))
        for kind in kinds
        for intensity in INTENSITIES
    ]
    for k in many_shot:
        try:
            shots = pick_shots(view.scenario, (v.scenario for v in pool), k, seed)
        except ValueError:
            short_pool[k] += 1
            continue
        out.append(("many_shot", k, many_shot_text(view.scenario, shots, seed, phrasings)))
    return out


def _cap(max_scenarios: int | Mapping[str, int] | None, suite: str) -> int | None:
    if isinstance(max_scenarios, Mapping):
        return max_scenarios.get(suite)
    return max_scenarios


def build_items(
    splits: Mapping[str, Sequence[Scenario]],
    seed: int,
    suites: Mapping[str, Suite],
    conditions: Mapping[str, Condition],
    max_scenarios: int | Mapping[str, int] | None = None,
    *,
    many_shot: Sequence[int] = MANY_SHOT_K,
    pressure_kinds: Sequence[str] = PRESSURE_KINDS,
    max_outcomes: int | None = None,
    contamination_n: int = DEFAULT_N,
    lexicon: Lexicon | None = None,
    phrasings: PressurePhrasings | None = None,
) -> tuple[list[EvalItem], list[AnswerKey], dict]:
    """Items, answer keys and a report for the given item suites; the same seed gives the same items.

    ``suites`` maps suite names to their records (each item suite's split, view, pressure and
    formats); ``conditions`` are the run's training conditions, which decide each item's
    ``familiar_to`` and the neutral formats. ``splits`` maps split names to scenarios; ``train``,
    when present, is never used for items, only to check that none leaks. ``max_scenarios`` caps
    scenarios per suite (one number, or per suite name); ``max_outcomes`` caps the outcomes shown
    per option (None shows all). ``pressure_kinds`` are the kinds pressured items carry (each at every
    intensity; a kind's text does not depend on which other kinds are asked for).
    """
    not_items = [name for name, suite in suites.items() if suite.kind != "items"]
    if not_items:
        raise ValueError(f"suites {not_items} are not item suites")
    missing = sorted({s.split for s in suites.values()} - set(splits))
    if missing:
        raise ValueError(f"suites {list(suites)} need the splits {missing}, which were not given")
    lexicon = lexicon or load_lexicon()
    phrasings = phrasings or load_pressure()
    train_ids = {s.id for s in splits.get("train", [])}
    leaked = sorted(train_ids & {s.id for name, group in splits.items() if name != "train" for s in group})
    if leaked:
        raise ValueError(f"{len(leaked)} scenarios are in train and a held-out split, e.g. {leaked[:3]}")

    views: dict[str, list[View]] = {}
    skipped: dict[str, int] = {}
    for split in sorted({s.split for s in suites.values()}):
        ordered = [(s, scenario_view(s, max_outcomes)) for s in ordered_scenarios(splits[split], seed, split)]
        views[split] = [v for _, v in ordered if v is not None]
        skipped[split] = sum(v is None for _, v in ordered)
    assigned = {
        (split, fmt): assignments(len(group), seed, split, fmt)
        for split, group in views.items()
        for fmt in FORMATS
    }

    stats = StripStats()
    custom_drops: dict[str, Counter] = {name: Counter() for name, s in suites.items()
                                        if s.view not in BUILTIN_VIEWS}
    warnings: list[str] = []
    short_pool: Counter = Counter()
    jobs: list[_Job] = []
    for name, suite in suites.items():
        show = view_function(suite.view, lexicon, stats)
        stripped = suite.view == "stripped"
        drops = custom_drops.get(name, stats.failed)
        formats = suite_formats(suite, conditions)
        chosen = list(enumerate(views[suite.split]))[:_cap(max_scenarios, name)]
        if not chosen:
            warnings.append(f"suite {name}: no {suite.split} scenario has both a prosocial and a harmful option")
        for position, view in chosen:
            shown = show(view)
            if isinstance(shown, str):
                drops[shown] += 1
                continue
            if not isinstance(shown, View):
                raise TypeError(f"suite {name}: view '{suite.view}' returned {type(shown).__name__}, "
                                "not a View or a reason to skip")
            pressures = [("none", 0, None)]
            if suite.pressure:
                pressures = _pressures(shown, views[suite.split], seed, many_shot, phrasings, short_pool,
                                        pressure_kinds)
            for fmt in formats:
                first, ask = assigned[(suite.split, fmt)][position]
                jobs.extend(
                    _Job(name, suite.split, shown, fmt, first, ask, stripped, kind, intensity, text)
                    for kind, intensity, text in pressures
                )

    familiar = {fmt: familiar_conditions(fmt, conditions) for fmt in FORMATS}
    items, keys, listed_first = [], [], defaultdict(list)
    residual = 0
    for job in jobs:
        r = render_item(job.view, job.fmt, job.prosocial_first, job.ask_prosocial, job.stripped,
                        job.pressure_text)
        free = render_item(content_free(job.view), job.fmt, job.prosocial_first, job.ask_prosocial, job.stripped,
                           job.pressure_text)
        if job.stripped and lexicon.find("\n".join([r.prompt, free.prompt, *r.choices])):
            residual += 1
            continue
        suffix = f":{job.pressure}-{job.intensity}" if job.pressure != "none" else ""
        item_id = f"{job.suite}:{job.view.scenario.id}:{job.fmt}{suffix}"
        items.append(EvalItem(
            id=item_id, suite=job.suite, scenario_id=job.view.scenario.id, split=job.split, format=job.fmt,
            stripped=job.stripped, pressure=job.pressure, intensity=job.intensity, prompt=r.prompt,
            choices=r.choices, calibration_prompt=free.prompt, familiar_to=familiar[job.fmt],
        ))
        keys.append(AnswerKey(item_id=item_id, correct=r.correct, valences=r.valences))
        listed_first[(job.suite, job.fmt)].append(job.prosocial_first)

    leakage = None
    if train_ids:
        index = NgramIndex((t for s in splits["train"] for t in scenario_texts(s)), n=contamination_n)
        leakage = check_item_leakage(items, index, contamination_n)
        dropped = set(leakage.contaminated_ids)
        keys = [k for k, i in zip(keys, items, strict=True) if i.id not in dropped]
        items = [i for i in items if i.id not in dropped]
    warnings += [f"many_shot k={k}: too few other scenarios for {n} scenarios; skipped"
                 for k, n in sorted(short_pool.items())]

    pressured = [suite_formats(s, conditions) for s in suites.values() if s.pressure]
    report = {
        "seed": seed,
        "max_scenarios": dict(max_scenarios) if isinstance(max_scenarios, Mapping) else max_scenarios,
        "max_outcomes": max_outcomes,
        "suites": _suite_report(items, keys, listed_first, suites),
        "skipped_no_contrast": skipped,
        "stripped": {
            "dropped_scenarios": sum(stats.failed.values()),
            "dropped_by_reason": dict(sorted(stats.failed.items())),
            "dropped_items_residual_terms": residual,
            "paraphrased_texts": stats.substituted,
            "sentences_dropped": stats.sentences_dropped,
        },
        "custom_views": {name: {"view": suites[name].view, "dropped_by_reason": dict(sorted(counts.items()))}
                         for name, counts in custom_drops.items()},
        "leakage": None if leakage is None else {
            "dropped_items": len(leakage.contaminated_ids), "contamination": leakage.to_dict(),
        },
        "familiar_to": familiar,
        "neutral_formats": neutral_formats(FORMATS, conditions),
        "pressure": {
            "formats": [f for f in FORMATS if any(f in formats for formats in pressured)],
            "kinds": list(pressure_kinds),
            "intensities": list(INTENSITIES),
            "many_shot": list(many_shot),
            "phrasings": len(phrasings.wordings()),
        },
        "warnings": warnings,
    }
    return items, keys, report


def _suite_report(
    items: list[EvalItem], keys: list[AnswerKey], listed_first: dict, suites: Mapping[str, Suite]
) -> dict:
    """Per suite: counts, and per format the balance figures of :func:`choice_balance`."""
    out = {}
    for name, suite in suites.items():
        pairs = [(i, k) for i, k in zip(items, keys, strict=True) if i.suite == name]
        balance = choice_balance([i for i, _ in pairs], [k for _, k in pairs])
        for fmt, entry in balance.items():
            flags = listed_first[(name, fmt)]
            entry["prosocial_listed_first"] = round(sum(flags) / len(flags), 4)
        out[name] = {
            "split": suite.split,
            "items": len(pairs),
            "scenarios": len({i.scenario_id for i, _ in pairs}),
            "by_pressure": dict(sorted(Counter(i.pressure for i, _ in pairs).items())),
            "balance": balance,
        }
    return out


# -- files ---------------------------------------------------------------------------------------------


def write_items(
    out_dir: str | Path, items: Sequence[EvalItem], keys: Sequence[AnswerKey], report: dict
) -> dict[str, Path]:
    """Write items, keys (a separate file) and the report atomically (``ItemsLayout``); returns the paths."""
    out = ItemsLayout(Path(out_dir))
    paths = {"items": out.items, "keys": out.keys, "report": out.report}
    write_jsonl_atomic(paths["items"], items)
    write_jsonl_atomic(paths["keys"], keys)
    write_json_atomic(paths["report"], report)
    return paths


def items_written(directory: str | Path) -> bool:
    """Whether ``write_items`` finished in ``directory`` (the keys are written after the items)."""
    return ItemsLayout(Path(directory)).keys.is_file()


def _record_lines(path: Path) -> list[int]:
    """The line number of each record ``read_jsonl`` returned from ``path`` (it skips blank lines)."""
    with path.open(encoding="utf-8") as handle:
        return [number for number, line in enumerate(handle, start=1) if line.strip()]


def read_items(directory: str | Path) -> tuple[list[EvalItem], list[AnswerKey]]:
    """Validated items and keys; every item needs exactly one key that fits its choices.

    Problems are reported as ``file:line: field: reason``, all of them at once.
    """
    written = ItemsLayout(Path(directory))
    items_path, keys_path = written.items, written.keys
    problems: list[str] = []
    results = []
    for path, model, unique in ((items_path, EvalItem, "id"), (keys_path, AnswerKey, "item_id")):
        try:
            results.append(read_jsonl(path, model, unique=unique))
        except InputError as exc:
            problems.extend(exc.problems)
            results.append(None)
    if problems:
        raise InputError(problems)
    items, keys = results
    item_of = {item.id: item for item in items}
    for key, line in zip(keys, _record_lines(keys_path), strict=True):
        item = item_of.get(key.item_id)
        found = ("item_id", f"no item '{key.item_id}' in {items_path.name}") if item is None \
            else key_problem(item, key)
        if found:
            problems.append(f"{keys_path}:{line}: {found[0]}: {found[1]}")
    keyed = {k.item_id for k in keys}
    for item, line in zip(items, _record_lines(items_path), strict=True):
        if item.id not in keyed:
            field, reason = key_problem(item, None)
            problems.append(f"{items_path}:{line}: {field}: {reason} in {keys_path.name}")
    if problems:
        raise InputError(problems)
    return items, keys
