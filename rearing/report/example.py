"""One scenario as every arm read it, a held-out scenario with the items asked about it, the ladder.

This is the section a teacher or a reviewer reads to judge whether the arms really differ only in
structure: same people, same actions, same consequences, told differently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from rearing.report.blocks import Block, Code, Figure, Missing, Panel, Prose, SideBySide, table
from rearing.report.figures import Curve, Palette, curve_panels
from rearing.report.figures import Panel as PlotPanel
from rearing.report.inputs import RunInputs

CURVE_POINTS = 40
"""Points per condition in the curriculum figure (each the mean stage of a window of moral documents)."""


def _scenario_docs(inputs: RunInputs, conditions: Sequence[str]) -> dict[str, dict[str, list]]:
    """Per condition, its moral documents by scenario id, in stream order."""
    found: dict[str, dict[str, list]] = {}
    for condition in conditions:
        by_scenario: dict[str, list] = defaultdict(list)
        for doc in inputs.docs(condition):
            if doc.scenario_id:
                by_scenario[doc.scenario_id].append(doc)
        found[condition] = dict(by_scenario)
    return found


def chosen_scenario(docs: dict[str, dict[str, list]], wanted: str | None) -> str | None:
    """The training scenario to show: ``wanted`` when given, else the one at the middle ladder stage
    (lowest id first) that every scenario-rendering condition carries."""
    rendering = [c for c, by in docs.items() if by]
    if not rendering:
        return None
    common = set.intersection(*(set(docs[c]) for c in rendering))
    if wanted is not None:
        return wanted if wanted in common else None
    if not common:
        return None
    stage_of = {sid: docs[rendering[0]][sid][0].stage or 0 for sid in common}
    middle = float(np.median(list(stage_of.values())))
    return min(common, key=lambda sid: (abs(stage_of[sid] - middle), sid))


def example_section(inputs: RunInputs, palette: Palette, order: Sequence[str]) -> tuple[Block, ...]:
    from rearing.corpus.build import run_conditions

    conditions = [c for c in order if c in run_conditions(inputs.config)]
    blocks: list[Block] = []
    docs = _scenario_docs(inputs, conditions)
    wanted = inputs.config.report.example_scenario
    scenario_id = chosen_scenario(docs, wanted)
    if scenario_id is None:
        why = (f"report.example_scenario '{wanted}' is not a training scenario every condition carries" if wanted
               else inputs.why("corpus_stats") if inputs.corpus_stats is None else "no scenario is carried by every "
               "condition that renders scenarios")
        blocks.append(Missing("one scenario in every condition", why))
    else:
        blocks += _training_scenario(inputs, docs, scenario_id, conditions)
    blocks += _held_out(inputs, scenario_id)
    blocks += _ladder(inputs, docs, palette, conditions)
    return tuple(blocks)


def _training_scenario(inputs: RunInputs, docs: dict[str, dict[str, list]], scenario_id: str,
                       conditions: Sequence[str]) -> list[Block]:
    from rearing.corpus.build import run_conditions

    described = run_conditions(inputs.config)
    panels = []
    for condition in conditions:
        mine = docs[condition].get(scenario_id, [])
        if not mine:
            panels.append(Panel(condition, "(renders no scenario: general text only)", described[condition].description))
            continue
        text = "\n\n".join(d.text for d in mine)
        where = ", ".join(sorted({d.phase for d in mine}))
        panels.append(Panel(condition, text, f"{described[condition].description} — {len(mine)} document(s), phase "
                                             f"{where}, ladder stage {mine[0].stage}"))
    scenario = next((s for s in inputs.scenarios("train") if s.id == scenario_id), None)
    blocks: list[Block] = []
    if scenario is not None:
        blocks.append(Code(f"Training scenario {scenario_id} as the world holds it", _scenario_text(scenario),
                           folded=False))
    blocks.append(SideBySide(f"Training scenario {scenario_id} in every condition (the text each arm trained on)",
                             tuple(panels)))
    return blocks


def _scenario_text(scenario) -> str:
    from rearing.text import people_names

    names = people_names(scenario)
    lines = [(f"{scenario.domain}, ladder stage {scenario.stage}; foundations: "
             f"{', '.join(f.value for f in scenario.foundations) or 'unknown'}"),
             f"Agent: {scenario.agent.name}, {scenario.agent.role}; wants to {scenario.agent.goal}", "",
             scenario.setting, ""]
    for person in scenario.stakeholders:
        lines.append(f"{person.name or person.id} ({person.role}, {person.relationship}): needs {person.need}")
    for option in scenario.options:
        lines += ["", f"Option {option.id} [{option.valence.value}]: {option.action}"]
        for c in option.consequences:
            who = names.get(c.stakeholder, "unspecified") if c.stakeholder else "unspecified"
            lines.append(f"  - [{c.delay or c.timing}] {who} ({c.kind}): {c.text}")
    if scenario.principle:
        lines += ["", f"Principle: {scenario.principle}"]
    return "\n".join(lines)


def _held_out(inputs: RunInputs, near: str | None) -> list[Block]:
    """A held-out scenario and one item per suite and format (pressure: one per kind, at its top intensity)."""
    found = inputs.items
    if found is None:
        return [Missing("a held-out scenario's items", inputs.why("items"))]
    items, keys = found
    by_scenario: dict[str, list] = defaultdict(list)
    for item in items:
        by_scenario[item.scenario_id].append(item)
    if not by_scenario:
        return [Missing("a held-out scenario's items", "the eval stage built no items")]
    scenario_id = max(sorted(by_scenario), key=lambda sid: len({i.suite for i in by_scenario[sid]}))
    mine = by_scenario[scenario_id]
    shown = example_items(mine, inputs.config.report.example_items)
    rows = []
    for item in shown:
        key = keys[item.id]
        choices = "\n".join(f"{'✓' if i == key.correct else '·'} {choice.strip()}  [{key.valences[i]}]"
                            for i, choice in enumerate(item.choices))
        rows.append([item.suite, item.format, f"{item.pressure} {item.intensity}" if item.pressure != "none" else "—",
                     item.prompt.strip(), choices])
    suites = sorted({i.suite for i in mine})
    return [Prose(f"Held-out scenario {scenario_id} (never trained on): {len(mine)} items across {len(suites)} suites "
                  f"({', '.join(suites)}). {len(shown)} are shown: first one per suite, then one per format and "
                  f"pressure kind (at its top intensity) until report.example_items ({inputs.config.report.example_items}) "
                  "is reached. ✓ marks the prosocial choice."),
            table(f"The {len(shown)} items shown of held-out scenario {scenario_id}",
                  ["suite", "format", "pressure", "prompt", "choices (✓ prosocial) [valence]"], rows, collapsed=True)]


def example_items(items: Sequence, limit: int) -> list:
    """Up to ``limit`` items of one scenario: one per suite first, then one per (suite, format) and (suite,
    pressure kind) at its top intensity, so a reader sees every suite before any suite twice."""
    ranked = sorted(items, key=lambda i: (i.suite, i.pressure != "none", i.format, i.pressure, -i.intensity))
    shown, seen_suites, seen_kinds = [], set(), set()
    for item in ranked:
        if item.suite not in seen_suites:
            seen_suites.add(item.suite)
            seen_kinds.add((item.suite, item.format if item.pressure == "none" else item.pressure))
            shown.append(item)
    for item in ranked:
        kind = (item.suite, item.format if item.pressure == "none" else item.pressure)
        if kind not in seen_kinds:
            seen_kinds.add(kind)
            shown.append(item)
    return sorted(shown[:limit], key=lambda i: ranked.index(i))


def _ladder(inputs: RunInputs, docs: dict[str, dict[str, list]], palette: Palette,
            conditions: Sequence[str]) -> list[Block]:
    from rearing.world.ladder import load_ladder

    ladder = load_ladder(inputs.config.world.ladder)
    counts = ((inputs.split_report or {}).get("stages") or {}).get("train", {})
    rows = []
    for stage in ladder.stages:
        f = stage.factors
        rows.append([stage.id, stage.name, stage.description, f"{f.stakeholders[0]}–{f.stakeholders[1]}",
                     ", ".join(f.consequence_delay), ", ".join(f.visibility),
                     f"{f.harm_reward[0]:.0%}–{f.harm_reward[1]:.0%}", f"{f.conflicting_principles:.0%}",
                     f"{f.mental_state_inference:.0%}", counts.get(str(stage.id))])
    blocks: list[Block] = [table("The developmental ladder", ["stage", "name", "description", "people", "delay",
                                                             "visibility", "harm pays", "conflict", "infer needs",
                                                             "training scenarios"], rows)]
    panels = []
    for condition in conditions:
        stages = [d.stage for d in inputs.docs(condition) if d.scenario_id and d.stage is not None]
        if len(stages) >= CURVE_POINTS:
            windows = np.array_split(np.asarray(stages, dtype=float), CURVE_POINTS)
            x = tuple(float(v) for v in np.linspace(0, 1, CURVE_POINTS))
            panels.append(PlotPanel(condition, curves=(Curve(condition, x, tuple(float(w.mean()) for w in windows)),)))
    if panels:
        top = max(stage.id for stage in ladder.stages)
        blocks.append(Figure("curriculum", "The ladder stage of the moral documents each arm met, in training order "
                             "(the token stream's order; mean stage per window of documents): developmental arms climb "
                             "the ladder, shuffled ones stay level.",
                             curve_panels("curriculum", panels, palette, "share of the moral documents seen",
                                          "ladder stage", max_columns=4, ylim=(0.5, top + 0.5), integer_x=False)))
    else:
        blocks.append(Missing("the order each arm met the ladder", inputs.why("corpus_stats") if
                              inputs.corpus_stats is None else "no condition's stream carries staged documents"))
    return blocks
