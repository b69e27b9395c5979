"""Inside the models (probes) and inside the instrument (shortcuts, leakage, matching, null models)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rearing.report.blocks import Block, Cell, Figure, Missing, Prose, number, table
from rearing.report.figures import Palette, Panel, banded_panels, curve_panels, dots
from rearing.report.inputs import RunInputs
from rearing.report.outcomes import INTERVALS, _curve, alpha, ordered, seed_summary

CHANCE = (("chance", 0.5),)


def _layer_curves(rows: pd.DataFrame, metric: str, level: float, order: Sequence[str], **where) -> tuple:
    mine = rows[(rows["metric"] == metric) & (rows["layer"] > 0) & rows["fold"].isna()]
    for column, value in where.items():
        mine = mine[mine[column] == value]
    mine = mine.dropna(subset=["value"])
    if mine.empty:
        return ()
    summary = seed_summary(mine.assign(seed=mine["seed"].fillna(0).astype(int)), ["condition", "layer"], "value", level)
    return tuple(_curve(summary[summary["condition"] == c], c, "layer")
                 for c in ordered(list(summary["condition"].unique()), order))


def representations_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    rows, summary = inputs.probe_rows, inputs.probe_summary
    if rows is None or summary is None:
        return (Missing("representations", inputs.why("probe_summary", "probe_rows")),)
    level = alpha(inputs)
    surface = inputs.config.probe.surface_suite
    panels = [
        Panel("probe accuracy", curves=_layer_curves(rows, "accuracy", level, order), references=CHANCE,
              limits=(0.0, 1.0)),
        Panel("selectivity", curves=_layer_curves(rows, "selectivity", level, order)),
        Panel("selectivity above untrained", curves=_layer_curves(rows, "selectivity_excess", level, order),
              references=(("untrained", 0.0),)),
        Panel(f"surface transfer (to {surface})", curves=_layer_curves(rows, "transfer_accuracy", level, order,
                                                                       suite=surface), references=CHANCE,
              limits=(0.0, 1.0)),
        Panel("causal: ablation z (mean difference)", curves=_layer_curves(rows, "ablation_z", level, order,
                                                                          direction="mean_difference"),
              references=(("random directions", 0.0),)),
        Panel("causal: steering z (mean difference)", curves=_steering(rows, level, order),
              references=(("random directions", 0.0),)),
    ]
    drawn_panels = [p for p in panels if p.curves]
    blocks: list[Block] = []
    if drawn_panels:
        drawn = "band: " + INTERVALS if banded_panels(*drawn_panels) else "each seed's value in the table below"
        blocks.append(Figure("probes-layers", f"Per layer (mean over seeds; {drawn}): what a linear probe reads, how "
                             "much of it exceeds the control task and the untrained model, how much survives without "
                             "moral words, and how far intervening on the direction moves decisions.",
                             curve_panels("probes-layers", drawn_panels, palette, "layer", "value")))
    absent = [p.title for p in panels if not p.curves]
    if absent:
        blocks.append(Missing(", ".join(absent), "the probe tables hold no rows for them"))
    stability = _stability(rows, summary, level, order, palette)
    blocks.append(stability if stability is not None else Missing(
        "stability under the attack", "no attacked copies were probed (eval.keep_attacked, and the attack suite)"))
    headline_rows = []
    for condition, entry in summary.get("by_condition", {}).items():
        headline_rows.append([condition, ", ".join(map(str, entry["seeds"])),
                              *(_headline_cell(entry, name) for name in ("distributed", "causal",
                                                                         "surface_independent", "stable"))])
    headline_rows.sort(key=lambda r: order.index(r[0]) if r[0] in order else len(order))
    blocks.append(table("Headline measures per condition: mean over seeds (each seed's value)",
                        ["condition", "seeds", "distributed", "causal", "surface independent", "stable"],
                        headline_rows, summary=True))
    blocks.append(table("What each headline measure reads (as the probe stage defines it; its per-model tables "
                        "hold every layer, direction and strength)", ["measure", "definition"],
                        [[name, text] for name, text in summary.get("headlines", {}).items()]))
    return tuple(blocks)


def _headline_cell(entry: dict, name: str) -> Cell:
    seeds = ", ".join("—" if v is None else f"{v:.2f}" for v in entry.get(f"{name}_by_seed", []))
    if entry.get(name) is None:
        return Cell(f"— ({seeds})" if seeds else "—")
    return Cell(f"{entry[name]:.2f} ({seeds})", sort=float(entry[name]))


def _steering(rows: pd.DataFrame, level: float, order: Sequence[str]) -> tuple:
    mine = rows[(rows["metric"] == "steering_z") & (rows["direction"] == "mean_difference")]
    if mine.empty:
        return ()
    strongest = mine["strength"].max()
    return _layer_curves(rows[rows["strength"].isna() | (rows["strength"] == strongest)], "steering_z", level, order,
                         direction="mean_difference")


def _stability(rows: pd.DataFrame, summary: dict, level: float, order: Sequence[str],
               palette: Palette) -> Figure | None:
    """The pre-attack probe on each model after k attack steps, at that model's best layer."""
    best = {name: model.get("best_layer") for name, model in summary.get("models", {}).items()}
    mine = rows[(rows["metric"] == "pre_probe_accuracy")]
    mine = mine[[best.get(m) == layer for m, layer in zip(mine["model"], mine["layer"])]]
    if mine.empty:
        return None
    panels = []
    for kind in sorted(set(mine["attack"])):
        at = mine[mine["attack"] == kind]
        found = seed_summary(at.assign(seed=at["seed"].fillna(0).astype(int)), ["condition", "attack_k"], "value", level)
        panels.append(Panel(f"{kind} attack", curves=tuple(_curve(found[found["condition"] == c], c, "attack_k")
                                                            for c in ordered(list(found["condition"].unique()), order)),
                            references=CHANCE))
    drawn = "band: " + INTERVALS if banded_panels(*panels) else "intervals left out: too many arms to draw them"
    return Figure("probes-stability", "Stability: the probe trained before the attack, read on the model after k "
                  f"steps of it, at each model's best layer (mean over seeds; {drawn}).",
                  curve_panels("probes-stability", panels, palette, "attack steps k", "probe accuracy",
                               ylim=(0, 1)))


SHORTCUT_READINGS = {"shortcut_baseline": "answer wording alone", "shortcut_baseline_outcomes": "outcome lines",
                     "shortcut_baseline_prompt": "whole prompt", "shortcut_overlap": "word overlap with situation"}


def instrument_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    blocks: list[Block] = []
    blocks += _shortcut(inputs, palette)
    blocks += _leakage(inputs)
    blocks += _corpus(inputs, order)
    blocks += _prompts(inputs)
    blocks += _nulls(inputs)
    return tuple(blocks)


def _shortcut(inputs: RunInputs, palette: Palette) -> list[Block]:
    checks = inputs.checks
    if checks is None:
        return [Missing("the shortcut readings", inputs.why("checks"))]
    readings: dict[str, dict[str, float]] = {}
    chance: dict[str, float] = {}
    items: dict[str, int] = {}
    for key, reading in SHORTCUT_READINGS.items():
        for suite, found in (checks.get(key) or {}).items():
            if found.get("accuracy") is not None:
                readings.setdefault(suite, {})[reading] = float(found["accuracy"])
                chance.setdefault(suite, found.get("chance"))
                items.setdefault(suite, found.get("n"))
    if not readings:
        return [Missing("the shortcut readings", "checks.json holds none")]
    levels = sorted({c for c in chance.values() if c is not None})
    rows = [[suite, *(_reading_cell(readings[suite].get(r), chance[suite]) for r in SHORTCUT_READINGS.values()),
             number(chance[suite], 2), items[suite]] for suite in readings]
    return [Figure("shortcut", "A bag-of-words classifier trained on the training scenarios answers the items with no "
                   "model: from the answer wording alone, from the outcome lines, from the whole prompt; and how often "
                   "the option sharing most words with the situation is right. A reading far from chance, above or below "
                   "(a cue can be inverted), means the suite can be answered without understanding the situation.",
                   dots("shortcut", readings, Palette(list(SHORTCUT_READINGS.values())), "accuracy without a model",
                        references=[(f"chance {c:.2f}", c) for c in levels[:2]], xlim=(-0.03, 1.03))),
            table(f"Shortcut readings per suite (marked: {SHORTCUT_MARGIN} or more from chance, either way: a reliably "
                  "wrong cue is a usable cue, inverted)",
                  ["suite", *SHORTCUT_READINGS.values(), "chance", "items"], rows)]


SHORTCUT_MARGIN = 0.15
"""How far from chance a shortcut reading is marked, either way: a cue that is reliably wrong is as usable
as one reliably right (invert it), so a suite it reads that well shows little about a model."""


def _reading_cell(value: float | None, chance: float | None) -> Cell:
    found = number(value)
    if value is not None and chance is not None and abs(value - chance) >= SHORTCUT_MARGIN:
        return Cell(found.text, found.sort, "warn")
    return found


def _leakage(inputs: RunInputs) -> list[Block]:
    blocks: list[Block] = []
    report = inputs.split_report
    if report is None:
        blocks.append(Missing("the contamination report", inputs.why("split_report")))
    else:
        rows = []
        for when, failing in (("before", Cell("shared: excluded by the split", tone="warn")),
                              ("after", Cell("contaminated", tone="bad"))):
            found = report.get(f"contamination_{when}") or {}
            rows.append([f"{when} the split's exclusions", found.get("checked_docs"), found.get("contaminated"),
                         number(found.get("fraction"), 4), found.get("n"),
                         Cell("clean", tone="good") if found.get("ok") else failing])
        excluded = report.get("excluded") or {}
        blocks.append(table("Held-out scenarios sharing an n-gram with training text", ["when", "held-out checked",
                                                                                       "sharing", "share", "n", "status"],
                            rows, note="; ".join(f"{reason}: {count}" for reason, count in
                                                 (excluded.get("by_reason") or {}).items())))
        counts = report.get("counts") or {}
        blocks.append(table("Scenarios per split", ["split", "scenarios", "domains"],
                            [[split, count, ", ".join(sorted((report.get("domains") or {}).get(split, {})))]
                             for split, count in counts.items()]))
    checks = inputs.checks
    if checks is not None and checks.get("items_sharing_13grams_with_corpus"):
        familiarity = checks["items_sharing_13grams_with_corpus"]
        formats = sorted({f for found in familiarity.values() for f in found})
        blocks.append(table("Share of items sharing a 13-gram with each condition's corpus: the formats an arm "
                            "practises share its surface form by design (which is why they are not neutral for it "
                            "and the pressure suites use only neutral formats)",
                            ["condition", *formats], [[c, *(number(found.get(f), 3) for f in formats)]
                                                      for c, found in familiarity.items()]))
    for key, title in (("pressure_wording_heldout", "pressure wording"),
                       ("format_wording_heldout", "wording of the formats no arm practises")):
        found = (checks or {}).get(key)
        if found is not None:
            ok = found.get("ok", not found.get("shared"))
            blocks.append(Prose(f"Held-out {title}: " + ("no phrase shared with any training corpus." if ok else
                                                          f"shared with training text: {found}"),
                                "good" if ok else "bad"))
    return blocks


CORPUS_COLUMNS = {"tokens": 0, "documents": 0, "moral_documents": 0, "mean_doc_tokens": 1, "moral_token_share": 3,
                  "private_token_share": 3, "moral_vocabulary_density": 4, "distinct_3grams": 0}
"""The corpus statistics shown, with the decimals each is shown to."""


def _corpus(inputs: RunInputs, order: Sequence[str]) -> list[Block]:
    stats, audit = inputs.corpus_stats, inputs.audit
    if stats is None:
        return [Missing("corpus statistics", inputs.why("corpus_stats"))]
    conditions = ordered(list(stats["conditions"]), order)
    rows = [[c, *(number(stats["conditions"][c].get(k), digits) if digits else stats["conditions"][c].get(k)
                  for k, digits in CORPUS_COLUMNS.items())] for c in conditions]
    blocks: list[Block] = [table(f"Corpus per condition (token budget {stats.get('budget_tokens', 0):,})",
                                 ["condition", *(k.replace("_", " ") for k in CORPUS_COLUMNS)], rows, summary=True)]
    if audit is None:
        blocks.append(Missing("the content audit", inputs.why("audit")))
        return blocks
    rows = []
    for c in ordered(list(audit), order):
        found = audit[c]
        units = ", ".join(f"{unit} {count}" for unit, count in sorted((found.get("missing_by_unit") or {}).items()))
        rows.append([c, found.get("scenarios"), found.get("complete"), found.get("private_documents"),
                     Cell("yes" if found.get("content_matched") else "no (by design)" if not units else "no",
                          tone="good" if found.get("content_matched") else "plain"), units or "—"])
    blocks.append(table("Content audit: every scenario's content units (setting, needs, actions, consequences, "
                        "principle, verdict) in each condition's documents",
                        ["condition", "scenarios", "complete", "with private deliberation", "content matched",
                         "documents missing a unit"], rows))
    return blocks


def _prompts(inputs: RunInputs) -> list[Block]:
    fit = (inputs.checks or {}).get("prompt_fit")
    if fit is None:
        return [Missing("prompts cut to fit the context", inputs.why("checks") if inputs.checks is None
                        else "no trained model to fit the prompts to")]
    cut = ", ".join(f"{suite} {n}" for suite, n in fit.get("cut_by_suite", {}).items()) or "none"
    skipped = ", ".join(f"{suite} {n}" for suite, n in fit.get("skipped_by_suite", {}).items()) or "none"
    tone = "good" if not fit.get("cut") else "warn"
    return [Prose(f"Prompts cut to fit {fit['max_length']} positions: {fit['cut']} of {fit['items_scored']} scored "
                  f"items ({fit['cut_share']:.1%}; by suite: {cut}); items skipped: {skipped}; longest prompt "
                  f"{fit['longest_prompt']} tokens.", tone)]


def _null_cell(cell: dict | None) -> Cell:
    if cell is None:
        return Cell("—")
    found = number(cell.get("accuracy"))
    tone = "bad" if cell.get("off_chance") else "plain" if cell.get("testable") else "muted"
    return Cell(found.text, found.sort, tone)


def _nulls(inputs: RunInputs) -> list[Block]:
    summary = inputs.eval_summary
    if summary is None:
        return [Missing("the null models' accuracies", inputs.why("eval_summary"))]
    found = summary.get("null_controls") or {}
    controls = found.get("controls") or {}
    formats = sorted({f for suites in controls.values() for cells in suites.values() for f in cells})
    rows = []
    for control, suites in controls.items():
        for suite, cells in suites.items():
            rows.append([control, suite, *(_null_cell(cells.get(f)) for f in formats),
                         max((c.get("scenarios") or 0 for c in cells.values()), default=0)])
    blocks: list[Block] = []
    if rows:
        flagged = found.get("flagged") or []
        blocks.append(table(f"Null models' accuracy per suite and format: they must sit at chance (sign-flip test over "
                            f"scenarios, alpha per cell {found.get('alpha_per_cell', 0):.2g}; red: off chance; "
                            "grey italics would need more scenarios to be flagged)",
                            ["control", "suite", *formats, "scenarios"], rows,
                            note=(f"Off chance: {'; '.join(flagged)}." if flagged else "No cell off chance.")
                            + f" {len(found.get('untestable') or [])} of {found.get('cells', 0)} cells too small to "
                              "be flagged at their level."))
    else:
        blocks.append(Missing("the null models' accuracies", "no null model was scored"))
    control = summary.get("positive_control") or {}
    if control.get("conditions"):
        blocks.append(table(f"Positive control: held-out accuracy in the format each arm practises (pass ≥ "
                            f"{control['threshold']})", ["condition", "format", "accuracy", "per seed", "passed"],
                            [[c, v["format"], number(v["accuracy"]),
                              ", ".join(f"{s}: {a:.2f}" for s, a in v["seeds"].items()),
                              Cell("yes" if v["passed"] else "no", tone="good" if v["passed"] else "bad")]
                             for c, v in control["conditions"].items()], summary=True,
                            note="" if control.get("expected", True) else
                            "This preset's models are not expected to pass: it checks the mechanics."))
    return blocks
