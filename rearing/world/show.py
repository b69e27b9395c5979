"""Human-readable views of scenarios and the ladder (rich renderables)."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from rearing.text import people_names
from rearing.world.ladder import Ladder
from rearing.world.schema import Scenario

VALENCE_STYLE = {"prosocial": "green", "harmful": "red", "neutral": "yellow", "unknown": "dim"}


def _unknown(value: object) -> str:
    return "unknown" if value is None else str(value)


def render_scenario(scenario: Scenario) -> Panel:
    names = people_names(scenario)
    header = Text()
    header.append(f"{scenario.domain}", style="bold")
    header.append(f"  stage {_unknown(scenario.stage)}")
    if scenario.difficulty and scenario.difficulty.score is not None:
        header.append(f"  difficulty {scenario.difficulty.score:.2f}")
    header.append(f"  foundations: {', '.join(f.value for f in scenario.foundations) or 'unknown'}")

    agent = scenario.agent
    parts = [
        header,
        Text(f"\nAgent: {_unknown(agent.name)}, {agent.role}; wants to {_unknown(agent.goal)}"),
        Text(f"\n{scenario.setting}\n"),
    ]
    if scenario.stakeholders:
        people = Table(title="Stakeholders", show_edge=False, expand=True)
        for column in ("id", "name", "role", "relationship", "need", "vulnerability"):
            people.add_column(column)
        for s in scenario.stakeholders:
            people.add_row(s.id, _unknown(s.name), s.role, s.relationship, s.need, s.vulnerability)
        parts.append(people)
    for option in scenario.options:
        style = VALENCE_STYLE[option.valence.value]
        title = Text(f"\nOption {option.id}: {option.action}  ", style="bold")
        title.append(f"[{option.valence.value}]", style=style)
        title.append(f"  reversibility: {option.reversibility}")
        if option.agent_payoff:
            title.append(f"  payoff to agent: {option.agent_payoff:g}")
        if option.derived:
            title.append("  (derived by importer)", style="dim")
        parts.append(title)
        for c in option.consequences:
            who = names.get(c.stakeholder, "unspecified") if c.stakeholder else "unspecified"
            when = c.delay or c.timing
            parts.append(Text(f"   - [{when}] {who} ({c.kind}): {c.text}"))
    if scenario.principle:
        parts.append(Text(f"\nPrinciple: {scenario.principle}", style="italic"))
    parts.append(Text(f"Fitting pressures: {', '.join(p.value for p in scenario.pressures) or 'none'}"))
    p = scenario.provenance
    origin = f"source: {p.source}"
    if p.frame:
        origin += f", frame {p.frame}, vocabulary {p.vocab_group}"
    if p.source_line:
        origin += f", line {p.source_line}"
    if p.missing:
        origin += f"; missing: {', '.join(p.missing)}"
    parts.append(Text(origin, style="dim"))
    return Panel(Group(*parts), title=scenario.id, title_align="left")


def render_ladder(ladder: Ladder) -> Table:
    table = Table(title="Developmental ladder")
    table.add_column("stage")
    table.add_column("name", no_wrap=True)
    for column in ("people", "delay", "visibility", "harm pays", "conflict", "infer needs"):
        table.add_column(column)
    for stage in ladder.stages:
        f = stage.factors
        table.add_row(
            str(stage.id), stage.name, f"{f.stakeholders[0]}-{f.stakeholders[1]}",
            ", ".join(f.consequence_delay), ", ".join(f.visibility),
            f"{f.harm_reward[0]:.0%}-{f.harm_reward[1]:.0%}",
            f"{f.conflicting_principles:.0%}", f"{f.mental_state_inference:.0%}",
        )
    return table
