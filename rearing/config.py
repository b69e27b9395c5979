"""The one experiment configuration, loaded from YAML and passed down to every stage.

Unknown or mistyped keys are rejected with their dotted path and YAML line, so a typo in a
pre-registered config can never silently fall back to a default.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rearing.io import InputError

PRESETS = ("smoke", "small", "paper")


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


class CorpusConfig(Section):
    conditions: list[str] = Field(
        default_factory=lambda: [
            "flat", "principle_flat", "bmn_shuffled", "bmn_developmental", "posthoc", "raised",
            "flat_length_matched",
        ]
    )
    orderings: dict[str, Literal["developmental", "shuffled", "reverse"]] = Field(
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
        True, description="Train on spans marked as private reasoning (False: label -100 there)."
    )
    checkpoint_every: int = Field(100, ge=1)
    log_every: int = Field(10, ge=1)
    loggers: list[Literal["tensorboard", "mlflow"]] = Field(default_factory=list)
    threads: int | None = Field(None, ge=1, description="torch CPU threads; None: torch's default.")


class EvalConfig(Section):
    suites: list[Literal["format", "stripped", "shift_domain", "shift_vocab", "pressure", "agentic", "attack"]] = (
        Field(default_factory=lambda: ["format", "stripped", "shift_domain", "shift_vocab", "pressure", "agentic",
                                       "attack"])
    )
    max_scenarios: int | None = Field(100, ge=1, description="Scenarios per suite; None: every one.")
    many_shot: list[int] = Field(default_factory=lambda: [1, 2, 4, 8], description="k of many-shot pressure.")
    max_outcomes: int | None = Field(
        None, ge=1, description="Outcomes shown per option; None: all (prompts get long for small contexts)."
    )
    batch_size: int = Field(32, ge=1, description="Prompts per scoring batch.")
    agentic_seeds: list[int] = Field(default_factory=lambda: [0, 1, 2])
    agentic_episodes: int = Field(20, ge=1, description="Episodes per agentic seed.")
    agentic_pressures: list[Literal["none", "authority", "incentive", "peers", "secrecy", "urgency",
                                    "persuasion"]] = Field(default_factory=lambda: ["none", "incentive", "authority"])
    agentic_intensity: int = Field(2, ge=1, le=3)
    attack_kinds: list[Literal["harm", "benign"]] = Field(default_factory=lambda: ["harm", "benign"])
    attack_steps: list[int] = Field(default_factory=lambda: [0, 25, 50, 100],
                                    description="Fine-tuning steps after which the core suites are re-run.")
    attack_suites: list[Literal["format", "stripped", "shift_domain", "shift_vocab", "pressure"]] = Field(
        default_factory=lambda: ["format", "stripped"]
    )
    attack_lr: float = Field(1e-3, gt=0.0)
    attack_batch_size: int = Field(8, ge=1)
    attack_docs: int = Field(400, ge=1, description="Documents in each attack set.")

    @field_validator("attack_steps")
    @classmethod
    def _sorted_from_zero(cls, value: list[int]) -> list[int]:
        if not value or value[0] != 0 or sorted(set(value)) != value:
            raise ValueError("must start at 0 and increase, e.g. [0, 25, 50, 100]")
        return value


class ProbeConfig(Section):
    layers: Literal["all"] | list[int] = "all"


class AnalysisConfig(Section):
    primary_contrast: tuple[str, str] = ("bmn_developmental", "principle_flat")
    sesoi: float = Field(0.05, gt=0.0, description="Smallest effect size of interest (equivalence bound).")
    alpha: float = Field(0.05, gt=0.0, lt=1.0)


class ExperimentConfig(Section):
    name: str = Field("experiment", pattern=r"^[A-Za-z0-9_.-]+$")
    seed: int = Field(0, ge=0, description="The one seed every stage derives its randomness from.")
    world: WorldConfig = Field(default_factory=WorldConfig)
    corpus: CorpusConfig = Field(default_factory=CorpusConfig)
    train: TrainConfig = Field(default_factory=TrainConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    probe: ProbeConfig = Field(default_factory=ProbeConfig)
    analysis: AnalysisConfig = Field(default_factory=AnalysisConfig)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False, allow_unicode=True)

    def section_hash(self, *sections: str) -> str:
        """Hash of the seed plus the named sections: the cache key of a stage's config."""
        data = {"seed": self.seed, **{s: getattr(self, s).model_dump(mode="json") for s in sections}}
        return canonical_hash(data)

    @property
    def config_hash(self) -> str:
        return canonical_hash(self.model_dump(mode="json"))


def canonical_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def preset_path(name: str) -> Path:
    if name not in PRESETS:
        raise InputError([f"preset: unknown preset '{name}' (choose from {', '.join(PRESETS)})"])
    return Path(str(resources.files("rearing") / "presets" / f"{name}.yaml"))


def load_config(path: str | Path | None = None, preset: str | None = None) -> ExperimentConfig:
    """Load a preset or a YAML file; a file may start from a preset with ``preset: NAME``."""
    if path is None:
        return _load_file(preset_path(preset or "smoke"))
    return _load_file(Path(path))


def _load_file(path: Path) -> ExperimentConfig:
    if not path.is_file():
        raise InputError([f"{path}: no such file"])
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise InputError([f"{path}{line}: <yaml>: {exc}"]) from exc
    if not isinstance(data, dict):
        raise InputError([f"{path}:1: <config>: expected a mapping of sections"])
    base = data.pop("preset", None)
    if base is not None:
        base_data = yaml.safe_load(preset_path(str(base)).read_text(encoding="utf-8"))
        data = _deep_merge(base_data, data)
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        problems = []
        for item in exc.errors():
            loc = [str(part) for part in item["loc"]]
            line = yaml_line(text, loc)
            where = f"{path}:{line}" if line else str(path)
            problems.append(f"{where}: {'.'.join(loc) or '<config>'}: {item['msg']}")
        raise InputError(problems) from exc


def _deep_merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def yaml_line(text: str, loc: list[str]) -> int | None:
    """1-based line of the deepest existing key along ``loc`` in a YAML document."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            key = next((k for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                return line
            line = key.start_mark.line + 1
            node = match
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line
