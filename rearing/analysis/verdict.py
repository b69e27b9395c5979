"""From a results table and a pre-registration to the verdict: gates, the primary contrast, the
secondary contrasts, sensitivity analyses, power, and the per-condition tables.

:func:`analyze` is the one function the stage, ``rearing analyze --results`` and the validation
tests all call; :func:`primary_call` is its verdict rule alone (what the many-simulation tests run).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from rearing.analysis.metrics import (
    COMPOSITE,
    Inputs,
    item_matrix,
    missing_components,
    model_metrics,
    per_seed,
)
from rearing.analysis.plan import PRIMARY_CONTRAST, ContrastSpec, Preregistration, contrasts
from rearing.analysis.power import Variance, item_components, model_components, power_table
from rearing.analysis.stats import (
    HELPS,
    HURTS,
    INCONCLUSIVE,
    NOTHING,
    ContrastResult,
    compare,
    holm,
    mixed_model,
    single_model_bootstrap,
    t_interval,
    two_level_bootstrap,
)

PASSED, FAILED, NOT_CHECKED = "passed", "failed", "not checked"
FEW_SEEDS = 5
"""Below this many seeds per condition the message warns that the power table's variances are rough."""


def contrast(metrics: pd.DataFrame, spec: ContrastSpec, prereg: Preregistration) -> ContrastResult:
    """One contrast on the primary metric, across seeds, by the plan's test and bounds."""
    return compare(spec.minuend, spec.subtrahend, per_seed(metrics, prereg.primary_metric, spec.minuend),
                   per_seed(metrics, prereg.primary_metric, spec.subtrahend), prereg.paired, prereg.alpha,
                   prereg.sesoi)


def primary_call(metrics: pd.DataFrame, prereg: Preregistration) -> ContrastResult:
    """The primary contrast and its call (gates aside)."""
    return contrast(metrics, prereg.primary_contrast, prereg)


def _rows(results: pd.DataFrame, columns: Sequence[str]):
    """Table rows as light records with the attributes the eval controls read (no validation: the
    table was validated when it was written)."""
    from rearing.evals.schema import ResultRow

    subset = results[list(columns)]
    records = subset.astype(object).where(subset.notna(), None).to_dict("records")
    return [ResultRow.model_construct(**record) for record in records]


def positive_gate(results: pd.DataFrame, prereg: Preregistration) -> dict:
    """Each compared condition's held-out accuracy in the format it practises (the eval stage's
    positive control, from the table). Failed when any arm that can be checked is below the threshold;
    passed only when every arm was checked and reached it; else not checked, naming the arms that were not."""
    from rearing.evals.controls import practised_accuracy

    spec = prereg.primary_contrast
    arms = (spec.minuend, spec.subtrahend)
    needed = ("condition", "seed", "suite", "format", "attack", "correct")
    absent = [c for c in needed if c not in results.columns]
    if absent:
        return {"status": NOT_CHECKED, "reason": f"the results table has no {', '.join(absent)} column"}
    practised = {c: prereg.positive_control[c] for c in arms if c in prereg.positive_control}
    columns = [*needed, *(["correct_sum"] if "correct_sum" in results.columns else [])]
    mine = results[results["condition"].isin(list(practised))]
    found = practised_accuracy(_rows(mine, columns), practised, prereg.positive_control_suites,
                               threshold=prereg.positive_control_min)
    scored = found["conditions"]
    unchecked = [f"{c} practises no format" for c in arms if c not in practised]
    unchecked += [f"no rows of {c} in its practised format" for c in practised if c not in scored]
    if found["failed"]:
        below = ", ".join(f"{c} {scored[c]['accuracy']:.2f}" for c in found["failed"])
        return {**found, "status": FAILED, "unchecked": unchecked,
                "reason": f"{below} below {prereg.positive_control_min} in the practised format: the models did "
                          "not learn the task, so no difference between them says anything about structure"}
    if unchecked:
        return {**found, "status": NOT_CHECKED, "reason": "; ".join(unchecked), "unchecked": unchecked}
    return {**found, "status": PASSED, "reason": None, "unchecked": []}


def null_gate(results: pd.DataFrame, prereg: Preregistration) -> dict:
    """Whether a null control (untrained, general-only) sits off chance on a suite the primary metric
    reads. Cells too small to be flagged do not count as passing."""
    from rearing.evals.controls import null_controls

    needed = ("condition", "suite", "format", "attack", "scenario_id", "correct")
    absent = [c for c in needed if c not in results.columns]
    if absent:
        return {"status": NOT_CHECKED, "reason": f"the results table has no {', '.join(absent)} column"}
    nulls = results[results["condition"].isin(prereg.null_conditions)]
    if nulls.empty:
        return {"status": NOT_CHECKED, "reason": f"no rows of a null control ({', '.join(prereg.null_conditions)})"}
    suites = _primary_suites(results, prereg)
    nulls = nulls[nulls["suite"].isin(suites)]
    if nulls.empty:
        return {"status": NOT_CHECKED, "reason": f"no null-control rows on {', '.join(suites)}"}
    found = null_controls(_rows(nulls, needed), prereg.null_conditions, prereg.chance_alpha)
    testable = found["cells"] - len(found["untestable"])
    if found["flagged"]:
        return {"status": FAILED, "reason": "null control off chance, so the suite or scoring rule is biased: "
                + "; ".join(found["flagged"]), "suites": suites, **found}
    if testable == 0:
        return {"status": NOT_CHECKED, "reason": "every null-control cell is too small to be flagged at its level",
                "suites": suites, **found}
    return {"status": PASSED, "reason": None, "suites": suites, **found}


GATES = {"positive_control": positive_gate, "null_controls": null_gate}
"""The gates the verdict passes first, in the order they are reported."""


def _primary_suites(results: pd.DataFrame, prereg: Preregistration) -> list[str]:
    if prereg.primary_metric != COMPOSITE:
        return [prereg.primary_metric]
    return sorted(set(results["suite"]))


def item_tables(results: pd.DataFrame, suite: str, first: str, second: str,
                paired: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Two conditions' seeds x items tables on the same item columns, seeds in order; when ``paired``,
    only the seeds both ran, so row i of each is the same seed."""
    seeds_a, items_a, a = item_matrix(results, suite, first)
    seeds_b, items_b, b = item_matrix(results, suite, second)
    if paired:
        common = sorted(set(seeds_a) & set(seeds_b))
        a = a[[seeds_a.index(s) for s in common]]
        b = b[[seeds_b.index(s) for s in common]]
    items = sorted(set(items_a) | set(items_b))

    def aligned(matrix: np.ndarray, names: list[str]) -> np.ndarray:
        out = np.full((matrix.shape[0], len(items)), np.nan)
        where = {name: i for i, name in enumerate(items)}
        out[:, [where[n] for n in names]] = matrix
        return out

    return aligned(a, items_a), aligned(b, items_b)


def sensitivity(inputs: Inputs, metrics: pd.DataFrame, prereg: Preregistration, paired: bool, draws: int,
                seed: int) -> tuple[dict, Variance | None]:
    """The bootstrap and the mixed model beside the verdict, and the variance components power reads."""
    spec = prereg.primary_contrast
    if prereg.primary_metric == COMPOSITE:
        a = per_seed(metrics, COMPOSITE, spec.minuend)
        b = per_seed(metrics, COMPOSITE, spec.subtrahend)
        order = sorted(set(a) & set(b)) if paired else None
        first = [a[s] for s in (order or sorted(a))]
        second = [b[s] for s in (order or sorted(b))]
        if min(len(first), len(second)) < 2:
            return {"bootstrap": None, "mixed_model": None}, None
        return ({"bootstrap": single_model_bootstrap(first, second, paired, prereg.alpha, draws, seed),
                 "mixed_model": {"usable": False, "problems": ["the composite is a model-level index: no items"]}},
                model_components(np.array(first), np.array(second), paired))
    a, b = item_tables(inputs.results, prereg.primary_metric, spec.minuend, spec.subtrahend, paired)
    if min(a.shape[0], b.shape[0]) < 2 or a.shape[1] < 2:
        return {"bootstrap": None, "mixed_model": None}, None
    return ({"bootstrap": two_level_bootstrap(a, b, paired, prereg.alpha, draws, seed),
             "mixed_model": mixed_model(a, b, prereg.alpha)},
            item_components(a, b, paired))


def secondary(metrics: pd.DataFrame, prereg: Preregistration) -> list[dict]:
    """Every secondary contrast that ran, Holm-corrected within the difference tests and within the
    equivalence tests; those whose conditions did not both run are listed as not run."""
    ran = set(metrics["condition"])
    results, skipped = [], []
    for name, spec in prereg.secondary_contrasts.items():
        if {spec.minuend, spec.subtrahend} <= ran:
            results.append((name, spec, contrast(metrics, spec, prereg)))
        else:
            skipped.append({"name": name, "question": spec.question, "first": spec.minuend, "second": spec.subtrahend,
                            "status": "not run", "call": None})
    p_holm = holm([r.p_value for _, _, r in results])
    tost_holm = holm([r.tost_p for _, _, r in results])
    rows = []
    for (name, spec, found), p, q in zip(results, p_holm, tost_holm):
        if q is not None and q < prereg.alpha:
            call = "equivalent within +-SESOI"
        elif p is not None and p < prereg.alpha:
            call = f"{spec.minuend} > {spec.subtrahend}" if found.difference > 0 else f"{spec.minuend} < {spec.subtrahend}"
        else:
            call = INCONCLUSIVE
        rows.append({"name": name, "question": spec.question, "status": "ran", **found.to_dict(),
                     "p_holm": p, "tost_p_holm": q, "call": call})
    return rows + skipped


def condition_tables(metrics: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Every metric x condition: mean over seeds with its t interval, the seeds and their values."""
    rows = []
    for (metric, condition), group in metrics.dropna(subset=["value"]).groupby(["metric", "condition"], sort=True):
        group = group.sort_values("seed")
        mean, low, high = t_interval(group["value"].to_numpy(dtype=float), alpha)
        rows.append({"metric": metric, "condition": condition, "seeds": group["seed"].astype(int).tolist(),
                     "values": group["value"].astype(float).tolist(), "n_seeds": len(group), "mean": mean,
                     "ci_low": low, "ci_high": high})
    return pd.DataFrame(rows, columns=["metric", "condition", "seeds", "values", "n_seeds", "mean", "ci_low", "ci_high"])


def as_planned(inputs: Inputs, prereg: Preregistration) -> tuple[Inputs, list[str], list[str]]:
    """The inputs the plan covers: its seeds only, scored by its rule. Returns them, notes (seeds left
    out or missing) and problems (a rule the table cannot be re-read by), which make it inconclusive."""
    results, notes, problems = inputs.results, [], []
    planned = set(prereg.seeds)
    extra = sorted({int(s) for s in results["seed"]} - planned)
    if extra:
        notes.append(f"seeds {extra} are not among the pre-registered seeds {sorted(planned)}: left out")
        results = results[results["seed"].isin(planned)]
    for condition in (prereg.primary_contrast.minuend, prereg.primary_contrast.subtrahend):
        ran = {int(s) for s in results.loc[results["condition"] == condition, "seed"]}
        if ran and planned - ran:
            notes.append(f"{condition}: pre-registered seeds {sorted(planned - ran)} are missing")
    if "scoring_rule" in results.columns:
        rules = set(results["scoring_rule"].dropna()) - {prereg.scoring_rule}
        column = f"correct_{prereg.scoring_rule}"
        if rules and column in results.columns and results[column].notna().all():
            results = results.assign(correct=results[column].astype(float))
            notes.append(f"rows scored by {', '.join(sorted(rules))} were re-read by the pre-registered rule "
                         f"({prereg.scoring_rule})")
        elif rules:
            problems.append(f"rows were scored by {', '.join(sorted(rules))}, not the pre-registered rule "
                            f"{prereg.scoring_rule}, and the table cannot be re-read by it")
    episodes = inputs.episodes
    if episodes is not None and not episodes.empty:
        episodes = episodes[episodes["seed"].isin(planned)]
    probes = {key: value for key, value in inputs.probes.items() if key[1] in planned} if inputs.probes else inputs.probes
    return Inputs(results, episodes, probes), notes, problems


def analyze(inputs: Inputs, prereg: Preregistration, prereg_sha256: str, *, deviations: Sequence[str] = (),
            changes: Sequence[str] = ()) -> tuple[dict, pd.DataFrame]:
    """The verdict (a JSON-ready dict) and the per-condition tables, by the plan ``prereg`` froze."""
    inputs, notes, problems = as_planned(inputs, prereg)
    metrics = model_metrics(inputs, list(prereg.composite))
    spec = prereg.primary_contrast
    found = primary_call(metrics, prereg)
    gates = {name: check(inputs.results, prereg) for name, check in GATES.items()}
    reasons = [f"{name.replace('_', ' ')} failed: {gate['reason']}" for name, gate in gates.items()
               if gate["status"] == FAILED]
    if prereg.primary_metric == COMPOSITE:
        for condition in (spec.minuend, spec.subtrahend):
            for s in sorted({int(x) for x in inputs.results.loc[inputs.results["condition"] == condition, "seed"]}):
                lacking = missing_components(metrics, list(prereg.composite), condition, s)
                if lacking:
                    reasons.append(f"the composite cannot be computed for {condition} seed {s}: no data for "
                                   f"{', '.join(lacking)}")
                    break
    reasons += problems
    if found.problem:
        reasons.append(found.problem)
    verdict = INCONCLUSIVE if reasons else found.call
    if not reasons and verdict == INCONCLUSIVE:
        reasons.append(f"the {1 - prereg.alpha:.0%} interval contains 0 and the {1 - 2 * prereg.alpha:.0%} interval "
                       f"is not inside +-{prereg.sesoi}")
    effects, variance = sensitivity(inputs, metrics, prereg, found.paired, prereg.bootstrap_draws, prereg.seed)
    seeds = min(found.n.values()) if found.n else 0
    power = (power_table(variance, seeds, found.paired, prereg.alpha, prereg.sesoi, prereg.power_simulations,
                         prereg.power_target, prereg.max_seeds, prereg.seed)
             if variance is not None else {"rows": [], "problem": "too few seeds or items to estimate variance"})
    result = {
        "verdict": verdict,
        "reasons": reasons,
        "primary": {"metric": prereg.primary_metric, "contrast": PRIMARY_CONTRAST, "sesoi": prereg.sesoi,
                    "alpha": prereg.alpha, **found.to_dict()},
        "gates": gates,
        "secondary": secondary(metrics, prereg),
        "sensitivity": effects,
        "power": power,
        "preregistration": {"sha256": prereg_sha256, "changes": list(changes), "deviations": list(deviations),
                            "notes": notes + ([found.note] if found.note else [])},
        "contrasts": {name: c.model_dump() for name, c in contrasts(prereg).items()},
    }
    result["message"] = message(result)
    return result, condition_tables(metrics, prereg.alpha)


def message(result: dict) -> str:
    """The verdict in a sentence or two, with what would make it conclusive."""
    primary, power = result["primary"], result["power"]
    head = f"{result['verdict']}: {primary['first']} - {primary['second']} on {primary['metric']}"
    if primary["difference"] is not None:
        head += f" = {primary['difference']:+.3f}"
    if primary["ci"]:
        head += f" (95% CI {primary['ci'][0]:+.3f} to {primary['ci'][1]:+.3f}; SESOI {primary['sesoi']})"
    parts = [head]
    unchecked = [name.replace("_", " ") for name, gate in result["gates"].items() if gate["status"] == NOT_CHECKED]
    if unchecked:
        parts.append(f"not checked: {' and '.join(unchecked)}, so this rests on controls nobody read")
    if result["verdict"] == NOTHING and primary["ci"] and (primary["ci"][0] > 0 or primary["ci"][1] < 0):
        parts.append("a difference shown to be smaller than the SESOI, though its 95% interval excludes 0")
    if result["reasons"] and result["verdict"] == INCONCLUSIVE:
        parts.append("because " + "; ".join(result["reasons"]))
    detect, null = power.get("seeds_to_detect"), power.get("seeds_to_confirm_null")
    if power.get("rows"):
        limit = power.get("max_seeds")
        parts.append(
            f"with {power['seeds']} seeds per condition; "
            + (f"{detect} seeds per condition would detect an effect of the SESOI with {power['target']:.0%} power"
               if detect else f"more than {limit} seeds per condition would be needed to detect an effect of the SESOI")
            + (f", {null} would show equivalence when there is no effect" if null
               else f", and more than {limit} to show equivalence when there is none"))
        if power["seeds"] < FEW_SEEDS:
            parts.append(f"the variances these numbers rest on come from {power['seeds']} seeds per condition, "
                         "so they are rough")
    elif power.get("problem"):
        parts.append(f"power not estimated: {power['problem']}")
    return "; ".join(parts) + "."


def verdict_lines(result: dict) -> list[str]:
    """A readable terminal summary of a verdict."""
    primary, power = result["primary"], result["power"]
    lines = [f"verdict: {result['verdict']}", result["message"]]
    for name in GATES:
        gate = result["gates"][name]
        lines.append(f"  gate {name.replace('_', ' ')}: {gate['status']}" + (f" ({gate['reason']})" if gate.get("reason") else ""))
    if primary["tost_p"] is not None:
        lines.append(f"  difference test p={primary['p_value']:.3g}; TOST p={primary['tost_p']:.3g} "
                     f"({'paired' if primary['paired'] else 'Welch'} t over seeds, df {primary['df']:.1f})")
    boot = result["sensitivity"].get("bootstrap")
    if boot:
        lines.append(f"  bootstrap: {boot['difference']:+.3f} [{boot['ci'][0]:+.3f}, {boot['ci'][1]:+.3f}]")
    mixed = result["sensitivity"].get("mixed_model")
    if mixed:
        lines.append(f"  mixed model: {mixed['difference']:+.3f} ± {mixed['se']:.3f}" if mixed.get("usable")
                     else f"  mixed model: not usable ({'; '.join(mixed.get('problems', []))})")
    if power.get("rows"):
        lines.append(f"  power ({power['seeds']} seeds/condition, {power['simulations']} simulations): true effect -> "
                     f"P({HELPS}) P({NOTHING}) P({HURTS}) P({INCONCLUSIVE})")
        for row in power["rows"]:
            lines.append(f"    {row['effect']:<8} {row[HELPS]:.2f} {row[NOTHING]:.2f} {row[HURTS]:.2f} "
                         f"{row[INCONCLUSIVE]:.2f}")
    for row in result["secondary"]:
        lines.append(f"  {row['name']}: " + (f"{row['call']} (difference {row['difference']:+.3f}, Holm p "
                                             f"{row['p_holm']:.3g})" if row["status"] == "ran" and row["p_holm"]
                                             is not None else row["call"] or row["status"]))
    plan = result["preregistration"]
    if plan["deviations"] or plan["changes"]:
        lines.append("  deviations from the pre-registration: " + "; ".join(plan["deviations"]))
        lines += [f"    {change}" for change in plan["changes"]]
    lines += [f"  note: {note}" for note in plan.get("notes", [])]
    if result.get("exploratory"):
        lines.append(f"  exploratory, by the changed plan (not the verdict): {result['exploratory']['message']}")
    return lines
