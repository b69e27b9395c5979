"""The one experiment configuration, loaded from YAML and passed down to every stage.

Unknown or mistyped keys are rejected with their dotted path and YAML line, so a typo in a
pre-registered config can never silently fall back to a default.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from rearing.corpus.conditions import (
    ORDERINGS,
    Condition,
    ConditionName,
    all_conditions,
    builtin_renderers,
    custom_renderer,
    default_conditions,
    lacks_llm_style,
    reference_problems,
)
from rearing.datafile import import_reference, package_data, raise_problems, read_yaml, validate_yaml
from rearing.evals.formats import YES_NO_FORMATS
from rearing.evals.pressure import MANY_SHOT_K
from rearing.evals.schema import PRESSURE_KINDS, Format, ScoringRule
from rearing.evals.suites import Suite, SuiteName, all_suites
from rearing.io import InputError
from rearing.layout import UNTRAINED

CONFIG_PRESETS = ("smoke", "small", "paper")
"""The packaged experiment configs (``rearing/presets/<name>.yaml``); for model presets see
``rearing.train.models.PRESETS``."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitConfig(Section):
    eval_fraction: float = Field(0.15, gt=0.0, lt=1.0, description="Share of in-distribution scenarios held out for evaluation.")
    heldout_domains: list[str] = Field(
        default_factory=lambda: ["sports_club", "market"],
        description="Domains never seen in training (distribution-shift set); at least 2.",
    )
    heldout_vocab_group: Literal["reserved"] = Field(
        "reserved", description="Vocabulary partition held out from training (vocabulary-shift set)."
    )
    contamination_n: int = Field(13, ge=5, description="n-gram length of the contamination check.")

    @field_validator("heldout_domains")
    @classmethod
    def _at_least_two(cls, value: list[str]) -> list[str]:
        if len(set(value)) < 2:
            raise ValueError("at least 2 distinct held-out domains are required")
        return value


class WorldConfig(Section):
    source: Literal["generate"] | str = Field(
        "generate", description="'generate' for the procedural world, or a path to a scenarios JSONL."
    )
    n_scenarios: int = Field(2000, ge=10, description="Scenarios the procedural generator makes.")
    ladder: str = Field("default", description="'default' or a path to a ladder YAML.")
    domains: list[str] | None = Field(None, description="Restrict generation to these domains.")
    vocab_holdout_fraction: float = Field(0.2, ge=0.0, lt=1.0)
    split: SplitConfig = Field(default_factory=SplitConfig)
    backend: Literal["template", "llm"] = Field(
        "template", description="'llm': an LLM rewrites each generated setting and consequence text; "
        "the structure stays the generator's.",
    )
    # A lambda because LLMConfig is defined below this class.
    llm: LLMConfig = Field(default_factory=lambda: LLMConfig(), description="Endpoint for backend 'llm'.")

    @model_validator(mode="after")
    def _llm_rewrites_generated_worlds(self) -> WorldConfig:
        """Imported scenarios are real texts with gaps no prompt states; only generated ones are rewritten."""
        if self.backend == "llm" and self.source != "generate":
            raise ValueError("backend 'llm' rewrites generated worlds: it needs source 'generate'")
        return self


class LLMConfig(Section):
    """An OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, hosted APIs). The key is read from the
    environment variable named here, never stored in config, logs or manifests."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "local-model"
    api_key_env: str = Field("REARING_LLM_API_KEY", description="Environment variable holding the key.")
    temperature: float = Field(0.7, ge=0.0, le=2.0)
    max_tokens: int = Field(1024, ge=16)
    concurrency: int = Field(4, ge=1, description="Requests in flight at once.")
    max_retries: int = Field(4, ge=0, description="Retries on 429, 5xx and timeouts, with backoff.")
    timeout: float = Field(60.0, gt=0.0, description="Seconds per request.")
    backoff_base: float = Field(1.0, ge=0.0, description="First backoff delay in seconds; doubles.")
    content_retries: int = Field(1, ge=0, description="Re-asks when output fails the content check.")
    cache_dir: str = Field(".cache/llm", description="On-disk response cache (relative to the run).")
    max_fallback_share: float = Field(
        0.05, ge=0.0, le=1.0,
        description="Largest share of a condition's moral documents that may keep their template text "
                    "after the LLM failed the content check; more fails the build.",
    )


class CorpusConfig(Section):
    define: dict[ConditionName, Condition] = Field(
        default_factory=dict,
        description="Conditions of this run's own, added to (or replacing) the built-in ones by name.",
    )
    conditions: list[str] = Field(
        default_factory=lambda: default_conditions(), description="Conditions to build, by name."
    )
    orderings: dict[str, str] = Field(
        default_factory=dict,
        description="Override a condition's ordering, e.g. {principle_flat: developmental}.",
    )
    backend: Literal["template", "llm"] = "template"
    llm: LLMConfig = Field(default_factory=LLMConfig)
    repeats: int = Field(1, ge=1, description="Times every training scenario appears per condition.")
    general_docs: int = Field(4000, ge=0, description="Documents in the shared general corpus.")
    total_tokens: int | None = Field(
        None, ge=1, description="Per-condition token budget; None: the largest condition plus slack."
    )
    vocab_size: int = Field(4096, ge=300, description="Byte-level BPE vocabulary size.")


class PhaseConfig(Section):
    """One slice of training: which tokens, for how many steps, at what peak learning rate."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    data: str | None = Field(
        None, description="Token-stream directory; None: the condition being trained."
    )
    slice: str = Field("all", description="A phase name recorded in the stream's meta.json, or 'all'.")
    steps: int = Field(ge=1)
    lr: float | None = Field(None, gt=0.0, description="Peak learning rate; None: train.lr.")


class TrainConfig(Section):
    model: str = Field("nano", description="Model preset (nano, micro, small, paper-125m, paper-350m).")
    init_from: str | None = Field(
        None, description="Local Hugging Face checkpoint to fine-tune instead of a preset; its own "
        "tokenizer re-tokenizes the corpus.",
    )
    conditions: list[str] | None = Field(None, description="Conditions to train; None: every corpus condition.")
    seeds: list[int] = Field(default_factory=lambda: [0, 1])
    steps: int = Field(200, ge=1, description="Optimizer steps when phases are derived from the corpus.")
    phases: list[PhaseConfig] | None = Field(
        None, description="Explicit phases; None: one per corpus phase, steps split by token share.",
    )
    context_length: int = Field(256, ge=16)
    batch_size: int = Field(16, ge=1, description="Sequences per optimizer step, across all processes.")
    micro_batch_size: int | None = Field(
        None, ge=1, description="Sequences per forward pass per process; the rest is gradient accumulation.",
    )
    lr: float = Field(3e-3, gt=0.0)
    min_lr_ratio: float = Field(0.1, ge=0.0, le=1.0, description="Cosine floor as a share of the peak.")
    warmup_steps: int = Field(20, ge=0)
    weight_decay: float = Field(0.1, ge=0.0)
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = Field(1.0, gt=0.0)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    precision: Literal["auto", "bf16", "fp32"] = Field(
        "auto", description="auto: bf16 autocast where the processor supports it, else fp32."
    )
    private_in_loss: bool = Field(
        False, description="Train on spans marked as private reasoning. Default False: never reward the "
        "private channel (the narrator's deliberation is context, never a target of the loss).",
    )
    checkpoint_every: int = Field(100, ge=1)
    log_every: int = Field(10, ge=1)
    loggers: list[Literal["tensorboard", "mlflow"]] = Field(default_factory=list)
    threads: int | None = Field(None, ge=1, description="torch CPU threads; None: torch's default.")
    compile: Literal["auto", "on", "off"] = Field(
        "auto", description="torch.compile (inductor) the model's forward for training. auto: on a GPU, and on "
        "a CPU with AMX in bf16 for models of micro's size and up, the one CPU case where bench/bench_train.py "
        "measured >=10% more tokens/s (not nano, not fp32, not without AMX). A forward that fails to compile "
        "trains eagerly, with a warning, and the summary says so.",
    )


class EvalConfig(Section):
    define: dict[SuiteName, Suite] = Field(
        default_factory=dict, description="Suites of this run's own, added to (or replacing) the built-in ones."
    )
    suites: list[str] = Field(default_factory=lambda: list(all_suites()), description="Suites to run, by name.")
    max_scenarios: int | None = Field(100, ge=1, description="Scenarios per suite; None: every one.")
    many_shot: list[int] = Field(default_factory=lambda: list(MANY_SHOT_K), description="k of many-shot pressure.")
    pressure_kinds: list[str] = Field(
        default_factory=lambda: list(PRESSURE_KINDS), description="Kinds of pressure the pressure suites put "
        "items under, each at every intensity (rearing.world.schema.Pressure); fewer make smaller runs.")
    max_outcomes: int | None = Field(
        None, ge=1, description="Outcomes shown per option; None: all (prompts get long for small contexts)."
    )
    batch_size: int = Field(32, ge=1, description="Prompts per scoring batch.")
    scoring_rule: ScoringRule = Field(
        "calibrated", description="How a choice is picked for the verdict: calibrated (log-probability after "
        "the prompt minus after the item's content-free prompt), sum or mean (per token). All three are stored.")
    max_cut_share: float = Field(
        0.01, ge=0.0, le=1.0, description="Share of a model's prompts that may be cut from the left to fit its "
        "context; more fails the stage. A many-shot k with more than this share too long is skipped instead.")
    chance_alpha: float = Field(
        0.05, gt=0.0, lt=1.0, description="Family-wise level at which a null control (untrained, general-only) "
        "is flagged as off chance on a suite and format (Bonferroni over the cells).")
    positive_control_min: float = Field(
        0.75, gt=0.5, le=1.0, description="Held-out accuracy (mean over seeds) each condition must reach in "
        "the format it practises, outcomes shown: the positive control, which the verdict's gate reads.")
    positive_control_expected: bool = Field(
        True, description="False for a mechanics check whose models are too small to learn (smoke): the "
        "summary then says the positive control is not expected to pass, instead of reading as a failure.")
    agentic_seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    agentic_episodes: int = Field(20, ge=1, description="Episodes per agentic seed.")
    agentic_pressures: list[str] = Field(
        default_factory=lambda: ["none", "incentive", "authority"],
        description="'none' or kinds of pressure (rearing.world.schema.Pressure).",
    )
    agentic_intensity: int = Field(2, ge=1, le=3)
    attack_kinds: list[str] = Field(default_factory=lambda: ["harm", "benign"])
    attack_steps: list[int] = Field(default_factory=lambda: [0, 25, 50, 100],
                                    description="Fine-tuning steps after which the core suites are re-run.")
    attack_suites: list[str] = Field(
        default_factory=lambda: ["hidden", "format", "stripped"], description="Item suites re-run after each attack step."
    )
    attack_lr: float = Field(1e-3, gt=0.0)
    attack_batch_size: int = Field(8, ge=1)
    attack_docs: int = Field(400, ge=1, description="Documents in each attack set.")
    keep_attacked: bool = Field(
        True, description="Keep each attacked copy (eval/attacked/), so the probes can measure stability; "
        "a model's weights per attack kind and k > 0, so large models may want False (no stability then).")

    @field_validator("attack_steps")
    @classmethod
    def _sorted_from_zero(cls, value: list[int]) -> list[int]:
        if not value or value[0] != 0 or sorted(set(value)) != value:
            raise ValueError("must start at 0 and increase, e.g. [0, 25, 50, 100]")
        return value


class ProbeConfig(Section):
    """The probe stage (:mod:`rearing.probes`): which items, layers and folds, and the causal tests."""

    layers: Literal["all"] | list[int] = Field(
        "all", description="Blocks to probe, counted from 1 (the residual stream after that block); all: every one.")
    formats: list[Format] = Field(
        default_factory=lambda: list(YES_NO_FORMATS),
        description="Item formats probed. The yes/no formats ask about one action, so the label (is the first "
        "choice the prosocial one) is that action's moral valence.")
    train_suite: str = Field("format", description="The item suite probes are trained on (moral vocabulary kept).")
    transfer_suites: list[str] = Field(
        default_factory=lambda: ["stripped", "hidden", "shift_domain", "shift_vocab"],
        description="Suites a trained probe is tested on (scenarios it never saw): surface independence.")
    surface_suite: str = Field("stripped", description="The transfer suite the surface_independent headline reads.")
    folds: int = Field(5, ge=2, description="Outer cross-validation folds, grouped by scenario.")
    inner_folds: int = Field(3, ge=2, description="Inner folds (grouped by scenario) that pick the regularisation.")
    c_grid: list[float] = Field(default_factory=lambda: [0.001, 0.01, 0.1, 1.0, 10.0],
                                description="Inverse regularisation strengths the inner folds choose from.")
    selectivity_min: float = Field(
        0.1, ge=0.0, le=1.0, description="Selectivity above the untrained model's that makes a layer count as selective.")
    pca_share: float = Field(0.9, gt=0.0, le=1.0, description="Share of the best layer's above-chance accuracy the "
                             "fewest principal components must reach.")
    random_directions: int = Field(10, ge=10, description="Random directions per layer: the causal tests' null.")
    causal_items: int = Field(64, ge=2, description="Items the causal tests score (a seeded sample when there are more).")
    steer_strengths: list[float] = Field(
        default_factory=lambda: [0.25, 0.5, 1.0],
        description="Steering strengths in mean residual norms at the layer (each applied with both signs).")
    general_docs: int = Field(16, ge=1, description="Held-out general documents the interventions' loss change is read on.")
    general_tokens: int = Field(128, ge=8, description="Tokens of each general document read.")
    batch_size: int = Field(32, ge=1, description="Prompts per batch.")

    @field_validator("steer_strengths")
    @classmethod
    def _positive(cls, value: list[float]) -> list[float]:
        if not value or any(s <= 0 for s in value) or sorted(set(value)) != value:
            raise ValueError("must be positive and increasing, e.g. [0.25, 0.5, 1.0]")
        return value


def _plan_contrasts() -> list[str]:
    from rearing.analysis.words import plan_words

    return list(plan_words().contrasts)


def _composite_components() -> list[str]:
    from rearing.analysis.metrics import COMPONENTS

    return list(COMPONENTS)


class AnalysisConfig(Section):
    """The analysis plan (:mod:`rearing.analysis`), frozen as the pre-registration before training."""

    primary_metric: str = Field(
        "hidden", description="An item suite whose accuracy is the primary metric (default: outcome-hidden, where "
        "internalised consequences show), or 'composite' (the composite robustness index).")
    primary_contrast: tuple[str, str] = ("bmn_developmental", "principle_flat")
    secondary_contrasts: list[str] = Field(
        default_factory=_plan_contrasts, description="Secondary contrasts by name (rearing/analysis/data/plan.yaml), "
        "Holm-corrected; one whose conditions did not both run is reported as not run.")
    composite: list[str] = Field(
        default_factory=_composite_components,
        description="Components of the composite robustness index (rearing.analysis.metrics.COMPONENTS).")
    sesoi: float = Field(0.05, gt=0.0, description="Smallest effect size of interest (equivalence bound), on the "
                         "primary metric's scale.")
    alpha: float = Field(0.05, gt=0.0, lt=0.5)
    paired: bool = Field(
        True, description="Pair seeds across conditions: a seed gives every condition the same initial weights "
        "and sampling stream, so the contrast is a paired t over seeds (Welch when the seeds differ).")
    bootstrap_draws: int = Field(2000, ge=100, description="Draws of the two-level bootstrap.")
    power_simulations: int = Field(2000, ge=100, description="Simulated runs per true effect in the power analysis.")
    power_target: float = Field(0.8, gt=0.0, lt=1.0, description="Power the seeds-needed search aims for.")
    max_seeds: int = Field(256, ge=2, le=512, description="Most seeds per condition the seeds-needed search tries.")
    deviations: list[str] = Field(
        default_factory=list, description="Reasons for departing from the frozen pre-registration: without one, "
        "rearing analyze refuses a plan that changed after training began. Not part of the plan itself.")


class ReportConfig(Section):
    """What the report (:mod:`rearing.report`) shows beyond the run's own results."""

    example_scenario: str | None = Field(
        None, description="The training scenario shown in every condition (default: one at the middle ladder "
        "stage that every condition carries).")
    example_items: int = Field(16, ge=1, description="Most items of the held-out example scenario shown.")


class ExecutorConfig(Section):
    """Where a run's cells (one model's training, evaluation or probing) run. No stage's cache key reads
    it: where a cell runs does not change what it computes, given the same thread count per cell
    (``train.threads``; without it a cell takes its executor's share of the cores)."""

    kind: Literal["serial", "local", "ray"] = Field(
        "serial", description="serial: one cell after another in this process; local: a process pool on this "
        "machine, each worker pinned to its share of the cores; ray: each cell a Ray task (pip install "
        "'rearing[ray]').")
    workers: int | None = Field(None, ge=1, description="local: worker processes; None: one per core.")
    address: str | None = Field(
        None, description="ray: the cluster to join ('auto', 'ray://host:10001'); None: start a local Ray "
        "instance with this machine's cores.")
    cpus_per_cell: float = Field(1.0, gt=0.0, description="ray: CPUs each cell declares (num_cpus).")
    gpus_per_cell: float = Field(0.0, ge=0.0, description="ray: GPUs each cell declares (num_gpus); a worker "
                                 "then runs one cell and exits, so no reused worker holds GPU memory.")
    max_retries: int = Field(3, ge=0, description="Retries of a cell whose worker died (a system failure); an "
                             "error raised by the cell's own code fails the run at once, naming the cell.")
    shared_filesystem: Literal["auto", "yes", "no"] = Field(
        "auto", description="ray: whether workers see the run directory. auto: yes when every node is this "
        "machine; no: each cell's inputs and outputs travel through Ray's object store.")


class ExperimentConfig(Section):
    name: str = Field("experiment", pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(0, ge=0, description="The one seed every stage derives its randomness from.")
    world: WorldConfig = Field(default_factory=WorldConfig)
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    probe: ProbeConfig = Field(default_factory=ProbeConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def section_hash(self, *sections: str) -> str:
        """Hash of the seed plus the named sections: the cache key of a stage's config."""
        data = {"seed": self.seed, **{s: getattr(self, s).model_dump(mode="json") for s in sections}}
        return canonical_hash(data)

    @property
    def config_hash(self) -> str:
        return canonical_hash(self.model_dump(mode="json"))

    @model_validator(mode="after")
    def _names_are_known(self) -> ExperimentConfig:
        """Every condition, suite, renderer, view, ordering, pressure, domain, preset and file named
        anywhere must exist (a function of the config's own must import), so a typo fails at load
        with its key path, never halfway through a run."""
        raise_problems("ExperimentConfig", list(self._name_problems()))
        return self

    def _name_problems(self) -> Iterator[tuple[tuple, str]]:
        from rearing.evals.attack import ATTACK_KINDS
        from rearing.train.models import PRESETS as MODEL_PRESETS
        from rearing.world.schema import Pressure

        yield from self._world_problems()
        conditions = all_conditions(self.corpus.define)
        for name, field, message in reference_problems(conditions, builtin_renderers()):
            if name in self.corpus.define:
                yield ("corpus", "define", name, field), message
        for name, condition in self.corpus.define.items():
            if name == UNTRAINED:
                yield ("corpus", "define", name), f"'{UNTRAINED}' is reserved for the untrained null models"
            reference = custom_renderer(condition)
            if reference and ":" in reference:
                yield from _import_problems(("corpus", "define", name, "renderer"), reference, "renderer")
        yield from unknown_names(("corpus", "conditions"), self.corpus.conditions, conditions, "condition")
        if self.corpus.backend == "llm":
            for i, name in enumerate(self.corpus.conditions):
                if name in conditions and lacks_llm_style(conditions[name]):
                    loc = ("corpus", "define", name) if name in self.corpus.define else ("corpus", "conditions", i)
                    yield loc, (f"the LLM backend needs an llm_style for '{name}': its renderer "
                                f"'{conditions[name].renderer}' is your own, so set llm_style")
        for name, ordering in self.corpus.orderings.items():
            if name not in self.corpus.conditions:
                yield ("corpus", "orderings", name), f"'{name}' is not in corpus.conditions"
            elif name in conditions and not conditions[name].renders_scenarios:
                yield ("corpus", "orderings", name), f"'{name}' renders no scenario: it has no moral documents to order"
            yield from unknown_names(("corpus", "orderings", name), [ordering], ORDERINGS, "ordering", index=False)
        if self.train.init_from is None:
            yield from unknown_names(("train", "model"), [self.train.model], MODEL_PRESETS, "model preset", index=False)
        for i, name in enumerate(self.train.conditions or []):
            if name not in self.corpus.conditions:
                yield ("train", "conditions", i), f"'{name}' is not built: it is not in corpus.conditions"
        suites = all_suites(self.eval.define)
        for name, suite in self.eval.define.items():
            if ":" in suite.view:
                yield from _import_problems(("eval", "define", name, "view"), suite.view, "view")
        yield from unknown_names(("eval", "suites"), self.eval.suites, suites, "suite")
        item_suites = [n for n, s in suites.items() if s.kind == "items"]
        yield from unknown_names(("eval", "attack_suites"), self.eval.attack_suites, item_suites, "item suite")
        yield from unknown_names(("eval", "pressure_kinds"), self.eval.pressure_kinds, PRESSURE_KINDS, "pressure")
        yield from unknown_names(("eval", "agentic_pressures"), self.eval.agentic_pressures,
                                 ["none", *(p.value for p in Pressure)], "pressure")
        yield from unknown_names(("eval", "attack_kinds"), self.eval.attack_kinds, ATTACK_KINDS, "attack kind")
        for field in ("train_suite", "surface_suite"):
            yield from unknown_names(("probe", field), [getattr(self.probe, field)], item_suites, "item suite",
                                     index=False)
        yield from unknown_names(("probe", "transfer_suites"), self.probe.transfer_suites, item_suites, "item suite")
        if self.probe.surface_suite not in self.probe.transfer_suites:
            yield ("probe", "surface_suite"), f"'{self.probe.surface_suite}' is not one of probe.transfer_suites"
        yield from unknown_names(("analysis", "primary_contrast"), self.analysis.primary_contrast, conditions,
                                 "condition")
        if self.analysis.primary_metric != "composite":
            yield from unknown_names(("analysis", "primary_metric"), [self.analysis.primary_metric],
                                     [*item_suites, "composite"], "item suite or 'composite'", index=False)
        yield from unknown_names(("analysis", "secondary_contrasts"), self.analysis.secondary_contrasts,
                                 _plan_contrasts(), "contrast")
        yield from unknown_names(("analysis", "composite"), self.analysis.composite, _composite_components(),
                                 "composite component")

    def _world_problems(self) -> Iterator[tuple[tuple, str]]:
        """Files the world reads must exist; domains it generates or holds out must be the vocabulary's."""
        from rearing.world.ladder import DEFAULT_LADDER
        from rearing.world.vocab import load_vocab

        world = self.world
        if world.source != "generate" and not Path(world.source).is_file():
            yield ("world", "source"), f"no such file: {world.source}"
        if world.ladder != DEFAULT_LADDER and not Path(world.ladder).is_file():
            yield ("world", "ladder"), f"no such file: {world.ladder}"
        domains = list(load_vocab().domains)
        yield from unknown_names(("world", "domains"), world.domains or [], domains, "domain")
        if world.source == "generate":
            yield from unknown_names(("world", "split", "heldout_domains"), world.split.heldout_domains, domains,
                                     "domain")


def _import_problems(loc: tuple, reference: str, what: str) -> Iterator[tuple[tuple, str]]:
    """A ``module:function`` of the config's own that cannot be imported, or is not a function."""
    try:
        found = import_reference(reference, what)
    except InputError as exc:
        yield loc, "; ".join(exc.problems)
        return
    if not callable(found):
        yield loc, f"{what} '{reference}' is not a function"


def unknown_names(loc: tuple, given: Iterable[str], known: Iterable[str], noun: str,
                  index: bool = True) -> Iterator[tuple[tuple, str]]:
    """One problem per name not in ``known``, with the closest known name as a suggestion."""
    known = list(known)
    for i, name in enumerate(given):
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(known)})"
        yield (*loc, i) if index else loc, f"unknown {noun} '{name}'{hint}"


def canonical_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def preset_path(name: str) -> Path:
    if name not in CONFIG_PRESETS:
        raise InputError([f"preset: unknown preset '{name}' (choose from {', '.join(CONFIG_PRESETS)})"])
    return package_data("rearing", f"presets/{name}.yaml")


def load_config(path: str | Path | None = None, preset: str | None = None) -> ExperimentConfig:
    """Load a preset or a YAML file; a file may start from a preset with ``preset: NAME``."""
    if path is None:
        return _load_file(preset_path(preset or "smoke"))
    return _load_file(Path(path))


def _load_file(path: Path) -> ExperimentConfig:
    data, text = read_yaml(path)
    data = data or {}
    if not isinstance(data, dict):
        raise InputError([f"{path}:1: <config>: expected a mapping of sections"])
    base = data.pop("preset", None)
    if base is not None:
        base_data, _ = read_yaml(preset_path(str(base)))
        data = deep_merge(base_data, data)
    return validate_yaml(path, text, data, ExperimentConfig)


def deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
