"""The pre-registration: the analysis plan, frozen from the config before the first model trains.

``rearing run`` writes it (``preregistration.json`` in the run) before the train stage starts and
records its sha256 in the manifest; from then on the run's plan is that file. ``rearing analyze``
compares it with the plan the current config would freeze and refuses a difference unless the
config lists a deviation (``analysis.deviations``, or ``--deviation "reason"``), which the verdict
then shows. The words of the plan (hypotheses, secondary contrasts) are data: ``data/plan.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import Field

from rearing import __version__
from rearing.analysis.metrics import components_text
from rearing.analysis.words import ContrastSpec, Hypotheses, plan_words
from rearing.config import ExperimentConfig, canonical_hash
from rearing.corpus.conditions import all_conditions
from rearing.evals.controls import null_condition_names, positive_control_suites
from rearing.io import InputError, read_json, write_json_atomic
from rearing.world.schema import Record

PRIMARY_CONTRAST = "primary"
"""The primary contrast's name among the contrasts of a verdict."""


class Preregistration(Record):
    """Everything the verdict's rule depends on, fixed before any model trains."""

    hypotheses: Hypotheses
    primary_metric: str = Field(description="An item suite's accuracy, or 'composite'.")
    primary_contrast: ContrastSpec
    secondary_contrasts: dict[str, ContrastSpec]
    composite: dict[str, str] = Field(description="Each component of the composite robustness index and its formula.")
    sesoi: float
    alpha: float
    seeds: list[int]
    paired: bool = Field(description="Seeds paired across conditions (same seed: same initial weights and "
                                     "sampling stream), so the contrast is a paired t over seeds.")
    scoring_rule: str
    positive_control: dict[str, str] = Field(
        description="Each compared condition's practised format: the gate reads its held-out accuracy there.")
    positive_control_suites: list[str] = Field(description="The suites the positive control reads.")
    positive_control_min: float
    null_conditions: list[str] = Field(description="Conditions that must sit at chance (untrained included).")
    chance_alpha: float
    bootstrap_draws: int
    power_simulations: int
    power_target: float
    max_seeds: int
    seed: int = Field(description="The run's seed: the bootstrap's and the power simulation's random streams.")
    plan: dict = Field(description="Decision rule, sensitivity analyses and power settings, in words.")
    version: str


def preregistration(config: ExperimentConfig) -> Preregistration:
    """The plan ``config`` freezes. ``analysis.deviations`` is not part of it: a deviation is what
    differs from the plan, recorded beside it."""
    from rearing.evals.stage import run_suites
    from rearing.layout import UNTRAINED

    cfg = config.analysis
    words = plan_words()
    conditions = all_conditions(config.corpus.define)
    run = {name: conditions[name] for name in config.corpus.conditions}
    first, second = cfg.primary_contrast
    practised = {name: conditions[name].practised_format for name in (first, second)
                 if name in conditions and conditions[name].practised_format}
    return Preregistration(
        hypotheses=words.hypotheses,
        primary_metric=cfg.primary_metric,
        primary_contrast=ContrastSpec(minuend=first, subtrahend=second,
                                      question=f"{first} - {second} on {cfg.primary_metric}"),
        secondary_contrasts={name: words.contrasts[name] for name in cfg.secondary_contrasts},
        composite={name: text for name, text in components_text().items() if name in cfg.composite},
        sesoi=cfg.sesoi, alpha=cfg.alpha, seeds=list(config.train.seeds), paired=cfg.paired,
        scoring_rule=config.eval.scoring_rule, positive_control=practised,
        positive_control_suites=positive_control_suites(run_suites(config)),
        positive_control_min=config.eval.positive_control_min, bootstrap_draws=cfg.bootstrap_draws,
        power_simulations=cfg.power_simulations, power_target=cfg.power_target, max_seeds=cfg.max_seeds,
        seed=config.seed,
        null_conditions=[UNTRAINED, *null_condition_names(run)], chance_alpha=config.eval.chance_alpha,
        plan={
            "unit": "the training seed: per model, the mean over a suite's items (unattacked); then the "
                    "conditions compared across seeds",
            "test": "paired t over seeds when paired and both conditions ran the same seeds, else Welch t",
            "verdict": "gate first (positive control, null controls: a failed one makes it 'inconclusive'); then "
                       "'structure adds nothing' if the (1 - 2 alpha) interval lies inside +-SESOI (TOST at "
                       "alpha), else 'structure helps' if the (1 - alpha) interval is above 0, 'structure hurts' "
                       "if below, else 'inconclusive'",
            "secondary": "each secondary contrast tested the same way; p-values Holm-corrected within the "
                         "difference tests and within the equivalence tests",
            "composite": "the mean of its components; a probe measure undefined because the model has no "
                         "readable representation scores 0",
            "sensitivity": "a two-level bootstrap (seeds, then items) and a linear mixed model (seed random "
                           "intercept, items absorbed as fixed effects), shown beside the verdict, never replacing it",
            "power": "simulated runs per true effect (0, SESOI/2, SESOI, 2 SESOI) from the run's variance "
                     "components; the seeds per condition that reach the power target, searched up to max_seeds",
        },
        version=__version__,
    )


def prereg_hash(prereg: Preregistration) -> str:
    return canonical_hash(prereg.model_dump(mode="json"))


def write_preregistration(path: Path, prereg: Preregistration) -> str:
    """Write the plan with its hash; returns the hash."""
    digest = prereg_hash(prereg)
    write_json_atomic(path, {"sha256": digest, "preregistration": prereg.model_dump(mode="json")})
    return digest


def read_preregistration(path: Path) -> tuple[Preregistration, str]:
    """A written plan and its hash, checked: a file whose content no longer matches its own hash was
    edited by hand, which is an error."""
    if not path.is_file():
        raise InputError([f"{path}: no pre-registration (rearing preregister --config FILE --out {path})"])
    data = read_json(path)
    try:
        prereg = Preregistration.model_validate(data["preregistration"])
    except (KeyError, ValueError) as exc:
        raise InputError([f"{path}: not a pre-registration ({exc})"]) from None
    digest = prereg_hash(prereg)
    if data.get("sha256") != digest:
        raise InputError([(f"{path}: sha256: the plan was edited after it was frozen (recorded "
                          f"{str(data.get('sha256'))[:12]}, content {digest[:12]})")])
    return prereg, digest


def plan_changes(frozen: Preregistration, current: Preregistration) -> list[str]:
    """What differs between the frozen plan and the current config's, field by field."""
    return _differences(frozen.model_dump(mode="json"), current.model_dump(mode="json"), "")


def _differences(before: object, after: object, where: str) -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [line for key in dict.fromkeys([*before, *after])
                for line in _differences(before.get(key), after.get(key), f"{where}{key}.")]
    return [] if before == after else [f"{where.rstrip('.')}: {_short(before)} -> {_short(after)}"]


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def contrasts(prereg: Preregistration) -> Mapping[str, ContrastSpec]:
    """The primary contrast, then the secondary ones, by name."""
    return {PRIMARY_CONTRAST: prereg.primary_contrast, **prereg.secondary_contrasts}
