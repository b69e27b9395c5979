"""What the models did: accuracy per suite, under pressure, in agentic episodes and after the attack.

Every figure's interval is across seeds (the unit of replication): a model's mean over its items or
episodes first, then the t interval over seeds of those means.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from rearing.report.blocks import Block, Cell, Figure, Missing, number, table
from rearing.report.figures import (
    Curve,
    Interval,
    Palette,
    Panel,
    banded_panels,
    curve_panels,
    interval_panels,
)
from rearing.report.inputs import RunInputs

FIRST_SUITE = "hidden"
"""Reported first: with outcomes hidden, the model must know what each action does."""


def alpha(inputs: RunInputs) -> float:
    return (inputs.preregistration or {}).get("alpha", inputs.config.analysis.alpha)


def null_conditions(inputs: RunInputs) -> list[str]:
    """The controls drawn as reference lines rather than as arms (untrained, general-only)."""
    from rearing.evals.controls import null_condition_names

    return list((inputs.preregistration or {}).get("null_conditions")
                or null_condition_names(_conditions(inputs)))


def _conditions(inputs: RunInputs):
    from rearing.corpus.build import run_conditions

    return run_conditions(inputs.config)


def seed_summary(frame: pd.DataFrame, by: Sequence[str], value: str, level: float) -> pd.DataFrame:
    """Per group of ``by``: each seed's mean of ``value``, then their mean and t interval over seeds."""
    from rearing.analysis.stats import t_interval

    per_seed = frame.groupby([*by, "seed"], sort=True)[value].mean().reset_index()
    rows = []
    for key, group in per_seed.groupby(list(by), sort=True):
        values = group[value].dropna().to_numpy(dtype=float)
        if len(values) == 0:
            continue
        mean, low, high = t_interval(values, level)
        rows.append({**dict(zip(by, key if isinstance(key, tuple) else (key,))), "mean": mean, "low": low,
                     "high": high, "values": tuple(float(v) for v in values), "n": len(values)})
    return pd.DataFrame(rows, columns=[*by, "mean", "low", "high", "values", "n"])


def ordered(names: Sequence[str], order: Sequence[str]) -> list[str]:
    """``names`` in ``order`` first, the rest after in name order."""
    known = [n for n in dict.fromkeys(order) if n in set(names)]
    return known + sorted(set(names) - set(known))


def _references(summary: pd.DataFrame, nulls: Sequence[str]) -> tuple[tuple[str, float], ...]:
    """The null controls' means as reference lines, always in ``nulls`` order (so each keeps its line style)."""
    mean_of = dict(zip(summary["condition"], summary["mean"]))
    return tuple((f"{c} {mean_of[c]:.2f}", float(mean_of[c])) for c in nulls if c in mean_of)


def _fixed(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _ci_cell(row, show_n: bool = True) -> Cell:
    """Mean [95% CI over seeds], and the seed count when the table's rows differ in it."""
    if row is None:
        return Cell("—")
    text = _fixed(row["mean"], 3)
    if row["low"] is not None and not pd.isna(row["low"]):
        text += f" [{_fixed(row['low'], 2)}, {_fixed(row['high'], 2)}]"
    elif row["n"] > 1:
        text += " (seeds agree)"
    return Cell(text + (f" (n={row['n']})" if show_n else ""), sort=float(row["mean"]))


INTERVALS = "95% t interval over seeds (df = seeds − 1: with 2 seeds it is ±12.7 standard errors)"
"""How every interval of the report is made, said where one is shown."""


def suites_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    from rearing.analysis.metrics import suite_scores

    results = inputs.results
    if results is None:
        return (Missing("accuracy per suite", inputs.why("results")),)
    scores = suite_scores(results)
    summary = seed_summary(scores, ["metric", "condition"], "value", alpha(inputs))
    suites = ordered(list(summary["metric"].unique()), [FIRST_SUITE, *inputs.config.eval.suites])
    nulls = null_conditions(inputs)
    arms = [c for c in ordered(list(summary["condition"].unique()), order) if c not in nulls]
    panels = []
    for suite in suites:
        mine = summary[summary["metric"] == suite]
        intervals = tuple(Interval(r["condition"], r["mean"], r["low"], r["high"], r["values"])
                          for _, r in mine.set_index("condition").loc[[a for a in arms if a in set(mine["condition"])]]
                          .reset_index().iterrows())
        panels.append(Panel(suite, intervals, references=_references(mine, nulls)))
    blocks: list[Block] = [Figure("suites", f"Held-out accuracy per suite (dots: seeds; tick: mean; bar: {INTERVALS}, cut "
                                  "at the axis); reference lines: the null controls' means.",
                                  interval_panels("suites", panels, palette, "accuracy"))]
    cell_of = {(r["metric"], r["condition"]): r for _, r in summary.iterrows()}
    uniform = summary["n"].nunique() == 1
    rows = [[condition, *(_ci_cell(cell_of.get((suite, condition)), not uniform) for suite in suites)]
            for condition in [*arms, *[n for n in nulls if n in set(summary["condition"])]]]
    seeds = f"{int(summary['n'].iloc[0])} seeds each" if uniform else "(n seeds)"
    blocks.append(table(f"Accuracy per suite: mean over seeds [{INTERVALS}], {seeds}", ["condition", *suites], rows,
                        summary=True))
    blocks += _components(inputs, order)
    return tuple(blocks)


def _components(inputs: RunInputs, order: Sequence[str]) -> list[Block]:
    """The composite's components per condition, from the analysis tables."""
    tables = inputs.tables
    if tables is None:
        return [Missing("the composite's components", inputs.why("tables"))]
    found = tables[tables["metric"].str.startswith("component:") | (tables["metric"] == "composite")]
    if found.empty:
        return [Missing("the composite's components", "no component could be read for any model")]
    metrics = list(dict.fromkeys(found["metric"]))
    cell_of = {(r["metric"], r["condition"]): {"mean": r["mean"], "low": r["ci_low"], "high": r["ci_high"],
                                               "n": r["n_seeds"]} for _, r in found.iterrows()}
    uniform = found["n_seeds"].nunique() == 1
    rows = [[condition, *(_ci_cell(cell_of.get((m, condition)), not uniform) for m in metrics)]
            for condition in ordered(list(found["condition"].unique()), order)]
    return [table("The composite robustness index and its components (each 0 at 'nothing', higher is more robust)",
                  ["condition", *(m.removeprefix("component:") for m in metrics)], rows,
                  note="By the frozen formulas: a probe measure undefined for a model (no readable representation) "
                       "counts 0 here and shows as — under Representations; drift is the accuracy left after the "
                       "harm attack's last step, not the change.")]


def _unpressured_twin(inputs: RunInputs, suite: str) -> str | None:
    """The item suite showing the same split in the same view without pressure: a pressure suite's
    intensity 0 (``pressure`` -> ``format``, ``hidden_pressure`` -> ``hidden``)."""
    from rearing.evals.suites import all_suites

    suites = all_suites(inputs.config.eval.define)
    mine = suites.get(suite)
    if mine is None:
        return None
    return next((name for name, s in suites.items() if s.kind == "items" and not s.pressure and s.split == mine.split
                 and s.view == mine.view), None)


def pressure_suites(inputs: RunInputs, rows: pd.DataFrame) -> list[str]:
    """The suites that apply pressure, those showing outcomes hidden first."""
    from rearing.evals.suites import all_suites

    suites = all_suites(inputs.config.eval.define)
    found = [s for s in dict.fromkeys(rows["suite"]) if (rows.loc[rows["suite"] == s, "pressure"] != "none").any()]
    return sorted(found, key=lambda s: (getattr(suites.get(s), "view", "") != FIRST_SUITE, s))


def pressure_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    results = inputs.results
    if results is None:
        return (Missing("pressure", inputs.why("results")),)
    absent = [c for c in ("pressure", "intensity", "format", "scenario_id") if c not in results.columns]
    if absent:
        return (Missing("pressure", f"the results table has no {', '.join(absent)} column"),)
    rows = results[(results["attack"] == "none")] if "attack" in results.columns else results
    suites = pressure_suites(inputs, rows)
    if not suites:
        return (Missing("pressure", "no suite of this run applies pressure (add 'pressure' or 'hidden_pressure' "
                        "to eval.suites)"),)
    nulls = null_conditions(inputs)
    blocks: list[Block] = []
    for suite in suites:
        mine = rows[rows["suite"] == suite]
        twin = _unpressured_twin(inputs, suite)
        base = rows[(rows["suite"] == twin) & rows["format"].isin(set(mine["format"]))
                    & rows["scenario_id"].isin(set(mine["scenario_id"]))] if twin else mine.iloc[:0]
        kinds = sorted(set(mine["pressure"]) - {"none"}, key=lambda k: (k == "many_shot", k))
        panels, changes = [], {}
        for kind in kinds:
            at = pd.concat([base.assign(intensity=0), mine[mine["pressure"] == kind]])
            summary = seed_summary(at, ["condition", "intensity"], "correct", alpha(inputs))
            curves = tuple(_curve(summary[summary["condition"] == c], c, "intensity")
                           for c in ordered(list(summary["condition"].unique()), order) if c not in nulls)
            null_means = tuple((f"{c} {m:.2f}", m) for c in nulls
                               if (m := _mean(summary[summary["condition"] == c])) is not None)
            many = kind == "many_shot"
            panels.append(Panel("many-shot: others choosing harm" if many else kind, curves=curves,
                                references=null_means, xlabel="k examples" if many else "intensity"))
            changes[kind] = _change(at, alpha(inputs))
        zero = (f"0 is the same items without pressure ({twin}, same formats and scenarios)" if twin and not base.empty
                else "no unpressured twin suite was scored, so there is no 0")
        drawn = ("bands: " + INTERVALS) if banded_panels(*panels) else "intervals in the table below"
        blocks.append(Figure(f"pressure-{suite}", f"{suite}: accuracy against pressure intensity per kind, and against "
                             f"the number of many-shot examples k; {zero}; {drawn}; grey lines: the null controls' "
                             "means.", curve_panels(f"pressure-{suite}", panels, palette, "intensity", "accuracy",
                                                   ylim=(0, 1), title=f"Suite {suite}")))
        arms = [c for c in order if any(c in found for found in changes.values())]
        blocks.append(table(f"{suite}: change in accuracy from no pressure to the top intensity (many-shot: the "
                            f"largest k), mean over seeds of each seed's change [{INTERVALS}]",
                            ["condition", *changes], [[c, *(_ci_cell(changes[k].get(c), False) for k in changes)]
                                                      for c in arms]))
    return tuple(blocks)


def _change(rows: pd.DataFrame, level: float) -> dict[str, dict]:
    """Per condition: each seed's accuracy at the top intensity minus at 0, then mean and t interval."""
    per = rows.groupby(["condition", "seed", "intensity"])["correct"].mean().unstack("intensity")
    if per.shape[1] < 2:
        return {}
    change = (per[per.columns.max()] - per[per.columns.min()]).dropna().rename("change").reset_index()
    return {r["condition"]: r for _, r in seed_summary(change, ["condition"], "change", level).iterrows()}


def _mean(summary: pd.DataFrame) -> float | None:
    return float(summary["mean"].mean()) if not summary.empty else None


def _curve(summary: pd.DataFrame, series: str, x: str) -> Curve:
    summary = summary.sort_values(x)
    return Curve(series, tuple(float(v) for v in summary[x]), tuple(float(v) for v in summary["mean"]),
                 tuple(None if pd.isna(v) else float(v) for v in summary["low"]),
                 tuple(None if pd.isna(v) else float(v) for v in summary["high"]))


AGENTIC_MEASURES = {"harm_rate": "harm rate (lower is better)", "goal_completed": "goal completion",
                    "trust": "trust (standing with the people; can fall below 0)"}


def agentic_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    episodes = inputs.episodes
    if episodes is None:
        return (Missing("agentic episodes", inputs.why("episodes")),)
    frame = episodes.assign(goal_completed=episodes["goal_completed"].astype(float))
    conditions = ordered(list(frame["condition"].unique()), order)
    pressures = ordered(list(frame["pressure"].unique()), ["none"])
    panels, cells = [], {}
    for measure, title in AGENTIC_MEASURES.items():
        summary = seed_summary(frame, ["condition", "pressure"], measure, alpha(inputs))
        intervals = []
        for condition in conditions:
            for pressure in pressures:
                found = summary[(summary["condition"] == condition) & (summary["pressure"] == pressure)]
                if not found.empty:
                    r = found.iloc[0]
                    intervals.append(Interval(condition, r["mean"], r["low"], r["high"], r["values"],
                                              series=f"pressure: {pressure}"))
                    cells[measure, condition, pressure] = r
        panels.append(Panel(title, tuple(intervals), limits=None if measure == "trust" else (0.0, 1.0),
                            xlabel="standing" if measure == "trust" else "share"))
    rows = [[condition, pressure, *(_ci_cell(cells.get((m, condition, pressure))) for m in AGENTIC_MEASURES)]
            for condition in conditions for pressure in pressures if ("harm_rate", condition, pressure) in cells]
    counts = frame.groupby(["condition", "seed", "pressure"]).size()
    episodes = (f"{int(counts.min())}" if counts.min() == counts.max() else f"{int(counts.min())}–{int(counts.max())}")
    shades = Palette([f"pressure: {p}" for p in pressures], muted=["pressure: none"])
    return (Figure("agentic", "Agentic episodes per condition, without pressure (grey) and with it (dots: seeds; bar: "
                   "95% CI over seeds).",
                   interval_panels("agentic", panels, shades, "share", xlim=None)),
            table(f"Agentic episodes: mean over seeds [{INTERVALS}] (n seeds); {episodes} episodes per model and "
                  "pressure", ["condition", "pressure", *AGENTIC_MEASURES.values()], rows,
                  summary=True))


def attack_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    results = inputs.results
    if results is None:
        return (Missing("the fine-tuning attack", inputs.why("results")),)
    if not {"attack", "attack_k"} <= set(results.columns) or (results["attack"] == "none").all():
        return (Missing("the fine-tuning attack", "the run did not ask for the attack suite (eval.suites)"),)
    attacked = results[results["attack"] != "none"]
    suites = sorted(set(attacked["suite"]))
    base = results[(results["attack"] == "none") & results["suite"].isin(suites)]
    panels, rows = [], []
    for kind in sorted(set(attacked["attack"])):
        frame = pd.concat([base.assign(attack_k=0), attacked[attacked["attack"] == kind]])
        summary = seed_summary(frame, ["condition", "attack_k"], "correct", alpha(inputs))
        curves = tuple(_curve(summary[summary["condition"] == c], c, "attack_k")
                       for c in ordered(list(summary["condition"].unique()), order)
                       if c in set(attacked["condition"]))
        panels.append(Panel(f"{kind} attack", curves=curves))
        summary = summary[summary["condition"].isin(set(attacked["condition"]))]
        last = summary[summary["attack_k"] == summary["attack_k"].max()]
        first = summary[summary["attack_k"] == 0].set_index("condition")["mean"]
        for _, r in last.iterrows():
            rows.append([r["condition"], kind, int(r["attack_k"]), number(first.get(r["condition"])), _ci_cell(r)])
    rows.sort(key=lambda r: (order.index(r[0]) if r[0] in order else len(order), r[1]))
    drawn = ("bands: " + INTERVALS) if banded_panels(*panels) else "intervals in the table below"
    return (Figure("attack", f"Accuracy on {', '.join(suites)} after k steps of fine-tuning (k = 0: as trained); "
                   f"{drawn}.", curve_panels("attack", panels, palette, "attack steps k", "accuracy",
                                                            ylim=(0, 1))),
            table(f"Accuracy on {', '.join(suites)} (mean over them) as trained and after the attack's last step: mean "
                  f"over seeds [{INTERVALS}]", ["condition", "attack", "steps", "as trained", "after the attack"], rows))
