"""The verdict banner, the frozen plan and the provenance: what a reader needs to trust the call."""

from __future__ import annotations

import json
from collections.abc import Sequence

from rearing.report import STAGE
from rearing.report.blocks import (
    Banner,
    Block,
    Cell,
    Code,
    Figure,
    Missing,
    Prose,
    Tone,
    interval,
    number,
    p_value,
    table,
)
from rearing.report.figures import Interval, Palette, estimate_axis
from rearing.report.inputs import RunInputs

TONE = {"structure helps": "good", "structure hurts": "bad", "structure adds nothing": "plain",
        "inconclusive": "warn"}
GATE_TONE: dict[str, Tone] = {"passed": "good", "failed": "bad", "not checked": "warn"}


def verdict_line(verdict: dict) -> str:
    """The verdict in one line: the call and its sentence (what ``make demo`` ends with)."""
    return verdict["message"]


def _facts(verdict: dict) -> tuple[tuple[str, str], ...]:
    primary, power = verdict["primary"], verdict["power"]
    facts = [("contrast", f"{primary['first']} − {primary['second']} on {primary['metric']}")]
    if primary["difference"] is not None:
        ci = primary["ci"]
        facts.append(("estimate", f"{primary['difference']:+.3f}" + (f" (95% CI {ci[0]:+.3f} to {ci[1]:+.3f})"
                                                                      if ci else "")))
    facts.append(("SESOI", f"±{primary['sesoi']:g}"))
    if primary["tost_p"] is not None:
        facts.append(("TOST", (f"p = {p_value(primary['tost_p']).text} (lower bound {p_value(primary['tost_p_lower']).text}, "
                              f"upper bound {p_value(primary['tost_p_upper']).text})")))
    if primary["p_value"] is not None:
        test = f"paired t over {min(primary['n'].values())} seeds" if primary["paired"] else "Welch t over seeds"
        facts.append(("difference test", f"p = {p_value(primary['p_value']).text} ({test}, df {primary['df']:.1f})"))
    facts.append(("seeds", ", ".join(f"{name} {len(seeds)}" for name, seeds in primary["seeds"].items())))
    if power.get("rows"):
        detect, null, limit = power["seeds_to_detect"], power["seeds_to_confirm_null"], power["max_seeds"]
        needed = (f"{detect if detect else f'more than {limit}'} per condition to detect the SESOI, "
                  f"{null if null else f'more than {limit}'} to show equivalence (at {power['target']:.0%} power)")
        failed = [name.replace("_", " ") for name, gate in verdict["gates"].items() if gate["status"] == "failed"]
        if failed:
            needed = (f"no number of seeds while the {' and '.join(failed)} fail"
                      f"{'s' if len(failed) == 1 else ''}; once passed, by this run's variances, {needed}")
        facts.append(("seeds a conclusive answer needs", needed))
    return tuple(facts)


def banner(verdict: dict) -> Banner:
    from rearing.analysis.verdict import GATES

    plan = verdict["preregistration"]
    names = [*[n for n in GATES if n in verdict["gates"]], *sorted(set(verdict["gates"]) - set(GATES))]
    gates = tuple((name.replace("_", " "), verdict["gates"][name]["status"], verdict["gates"][name].get("reason") or "",
                   GATE_TONE[verdict["gates"][name]["status"]]) for name in names)
    deviations = (*(f"deviation: {d}" for d in plan["deviations"]), *plan["changes"])
    svg = estimate_figure(verdict)
    figure = Figure("verdict-estimate", "The primary estimate and its intervals against the ±SESOI band (grey). The "
                    "verdict reads the first two rows; the sensitivity analyses below them never replace it."
                    + sensitivity_notes(verdict), svg) if svg else None
    why = "; ".join(verdict["reasons"])
    message = f"Why: {why}." if why else verdict["message"].removeprefix(f"{verdict['verdict']}: ")
    return Banner(verdict=verdict["verdict"], message=message,
                  tone=TONE.get(verdict["verdict"], "warn"), facts=_facts(verdict), gates=gates,
                  deviations=deviations, figure=figure)


def estimate_figure(verdict: dict) -> str | None:
    primary, effects = verdict["primary"], verdict["sensitivity"]
    if primary["difference"] is None:
        return None
    level = f"{1 - primary['alpha']:.0%}"
    rows = [Interval(f"t over seeds, {level} CI", primary["difference"], *(primary["ci"] or (None, None)))]
    if primary["ci_equivalence"]:
        rows.append(Interval(f"TOST, {1 - 2 * primary['alpha']:.0%} CI", primary["difference"],
                             *primary["ci_equivalence"]))
    boot = effects.get("bootstrap")
    if boot:
        rows.append(Interval(f"two-level bootstrap, {level}", boot["difference"], *boot["ci"]))
    mixed = effects.get("mixed_model")
    if mixed and mixed.get("ci"):
        label = f"mixed model, {level}" + ("" if mixed.get("usable") else " (not usable)")
        rows.append(Interval(label, mixed["difference"], *mixed["ci"]))
    return estimate_axis("verdict-estimate", rows, primary["sesoi"],
                         f"{primary['first']} − {primary['second']}, accuracy on {primary['metric']}")


def sensitivity_notes(verdict: dict) -> str:
    """What the sensitivity rows of the estimate figure rest on, and why one may not be usable."""
    effects = verdict["sensitivity"]
    notes = []
    boot, mixed = effects.get("bootstrap"), effects.get("mixed_model")
    if boot and boot.get("note"):
        notes.append(f"bootstrap: {boot['note']}")
    if mixed and not mixed.get("usable") and mixed.get("problems"):
        notes.append(f"mixed model not usable: {'; '.join(mixed['problems'])}")
    return (" " + "; ".join(notes) + ".") if notes else ""


def power_rows(power: dict) -> list[list]:
    from rearing.analysis.stats import HELPS, HURTS, INCONCLUSIVE, NOTHING

    return [[row["effect"], number(row["true_difference"], signed=True), *(number(row[v], 2) for v in
            (HELPS, NOTHING, HURTS, INCONCLUSIVE))] for row in power["rows"]]


def verdict_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    from rearing.analysis.stats import HELPS, HURTS, INCONCLUSIVE, NOTHING

    verdict = inputs.verdict
    if verdict is None:
        return (Missing("the verdict", inputs.why("verdict")),)
    shown = banner(verdict)
    blocks: list[Block] = [shown]
    if shown.figure is None:
        blocks.append(Missing("the primary estimate", verdict["primary"].get("problem") or "no seeds to compare"))
    power = verdict["power"]
    if power.get("rows"):
        blocks.append(table(
            f"Power: the chance of each verdict if the true difference were …, with {power['seeds']} seeds per "
            f"condition ({power['simulations']} simulated runs each)",
            ["true effect", "difference", f"P({HELPS})", f"P({NOTHING})", f"P({HURTS})", f"P({INCONCLUSIVE})"],
            power_rows(power), summary=True,
            note="Variances from this run's seeds and items; from fewer than 5 seeds they are rough."))
    else:
        blocks.append(Missing("the power table", power.get("problem") or "not estimated"))
    rows = []
    for row in verdict["secondary"]:
        ran = row["status"] == "ran"
        rows.append([row["name"], row["question"], f"{row['first']} − {row['second']}",
                     number(row.get("difference"), signed=True) if ran else Cell("not run", tone="warn"),
                     interval(*(row.get("ci") or (None, None)), signed=True),
                     p_value(row.get("p_holm")), p_value(row.get("tost_p_holm")),
                     Cell(row["call"] or row["status"], tone="warn" if row["call"] in (None, INCONCLUSIVE) else "plain")])
    if rows:
        blocks.append(table("Secondary contrasts on the primary metric (Holm-corrected within the difference tests "
                            "and within the equivalence tests)",
                            ["contrast", "question", "difference of", "estimate", "95% CI", "Holm p", "TOST Holm p",
                             "call"], rows, summary=True))
    for note in verdict["preregistration"].get("notes", []):
        blocks.append(Prose(f"Note: {note}", "warn"))
    if verdict.get("exploratory"):
        blocks.append(Prose("Exploratory, by the changed plan (not the verdict): "
                            + verdict["exploratory"]["message"], "bad"))
    return tuple(blocks)


def _flatten(value, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict) and value:
        return [pair for key, item in value.items() for pair in _flatten(item, f"{prefix}.{key}" if prefix else key)]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [pair for i, item in enumerate(value) for pair in _flatten(item, f"{prefix}[{i}]")]
    return [(prefix, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))]


def preregistration_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    prereg, digest, problem = inputs.frozen_plan
    if prereg is None:
        return (Missing("the pre-registration", inputs.why("preregistration")),)
    record = inputs.manifest.get("preregistration") or {}
    recorded = record.get("sha256")
    if problem:
        check = Prose(problem, "bad")
    elif recorded is None:
        check = Prose("The manifest recorded no hash for this plan before training.", "bad")
    elif recorded == digest:
        late = record.get("late")
        check = Prose(f"Plan sha256 {digest}. The manifest recorded sha256 {recorded} when the plan was frozen "
                      f"({record.get('written') or 'time not recorded'})"
                      + (", but only after training had begun (late)." if late else ", before training began: "
                         "they agree."), "warn" if late else "good")
    else:
        check = Prose(f"Plan sha256 {digest}, but the manifest recorded sha256 {recorded} before training: the file "
                      "was replaced.", "bad")
    rows = [[key, value] for key, value in _flatten(prereg)]
    return check, table(f"The frozen plan, field by field ({len(rows)} fields)", ["field", "value"], rows,
                        collapsed=True)


def provenance_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    manifest = inputs.manifest
    if not manifest:
        return (Missing("the manifest", f"{inputs.run.manifest.name} was not found"),)
    git = manifest.get("git") or {}
    commit = git.get("commit") or "unknown (not a git checkout)"
    facts = [["run", manifest.get("name", "")], ["config hash", manifest.get("config_hash", "")],
             ["seed", manifest.get("seed")], ["training seeds", ", ".join(map(str, inputs.config.train.seeds))],
             ["git commit", commit + (" (with uncommitted changes)" if git.get("dirty") else "")],
             ["created", manifest.get("created", "")]]
    versions = [[name, version or "not installed"] for name, version in (manifest.get("versions") or {}).items()]
    ran = sorted(((name, record) for name, record in manifest.get("stages", {}).items() if name != STAGE),
                 key=lambda item: item[1].get("finished", ""))
    stages = [[name, number(record.get("seconds"), 1), record.get("finished", ""), record.get("key", "")[:12]]
              for name, record in ran]
    config = inputs.config.to_yaml()
    return (table("The run", ["", ""], facts), table("Package versions", ["package", "version"], versions),
            table("Stages in the order they last ran (not the report's own: the page cannot hold the time it took "
                  "to write itself)",
                  ["stage", "seconds", "finished", "cache key"], stages, summary=True),
            Code("The configuration, every default filled in", config))
