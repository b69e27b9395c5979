"""What a run will cost before it starts (``rearing run --dry-run``): the grid of models, their token
budget, and the training time on this machine from a short calibration.

The calibration trains the run's own model (its preset, context, batch, precision and threads) for a
few steps on random tokens and times the median step; a step costs the same whatever the tokens are.
Evaluation and probing depend on items that do not exist before the world stage, so they are not
estimated; the last run of the same name, if there is one, says what they took then.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from rearing.cells import cell_share
from rearing.config import ExperimentConfig
from rearing.layout import UNTRAINED
from rearing.train.stage import conditions_to_train

CALIBRATION_STEPS = 20
WARMUP_STEPS = 3
"""Steps left out of the timing: the first ones pay for allocation and kernel selection."""


@dataclass(frozen=True)
class GridModel:
    """One model of the grid: a condition trained from one seed (or the untrained null of that seed)."""

    condition: str
    seed: int


def grid(config: ExperimentConfig) -> list[GridModel]:
    """Every trained model of the run, condition by condition, seed by seed."""
    return [GridModel(condition, seed) for condition in conditions_to_train(config) for seed in config.train.seeds]


def null_cells(config: ExperimentConfig) -> list[GridModel]:
    """The untrained null model of each seed, which the eval and probe stages score beside the grid."""
    return [GridModel(UNTRAINED, seed) for seed in config.train.seeds]


def steps_per_model(config: ExperimentConfig) -> int:
    cfg = config.train
    return sum(phase.steps for phase in cfg.phases) if cfg.phases else cfg.steps


def tokens_per_model(config: ExperimentConfig) -> int:
    return steps_per_model(config) * config.train.batch_size * config.train.context_length


@dataclass(frozen=True)
class Calibration:
    model: str
    precision: str
    threads: int
    device: str
    steps: int
    seconds_per_step: float
    tokens_per_step: int
    forward: str = "eager"
    startup_seconds: float = 0.0
    """What the first steps took beyond the median step: allocation, and compilation when compiled."""

    def seconds_per_model(self, steps: int) -> float:
        return self.startup_seconds + self.seconds_per_step * steps

    @property
    def tokens_per_second(self) -> float:
        return self.tokens_per_step / self.seconds_per_step


def calibrate(config: ExperimentConfig, steps: int = CALIBRATION_STEPS) -> Calibration:
    """The median seconds per optimizer step of this run's model and batch, on random tokens, with the
    threads one cell of the run's executor gets."""
    import torch
    import torch.nn.functional as F

    from rearing.train.hardware import Forward, resolve_compile, resolve_precision
    from rearing.train.models import count_parameters, load_checkpoint, new_model

    cfg = config.train
    torch.set_num_threads(cell_share(config).threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    precision = resolve_precision(cfg.precision, device)
    if cfg.init_from:
        model = load_checkpoint(cfg.init_from)
    else:
        model = new_model(cfg.model, config.corpus.vocab_size, cfg.context_length, config.seed)
    model.to(device).train()
    forward = Forward(model, resolve_compile(cfg.compile, device, precision, count_parameters(model)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.betas, weight_decay=cfg.weight_decay)
    vocab = model.config.vocab_size
    micro = min(cfg.micro_batch_size or cfg.batch_size, cfg.batch_size)
    generator = torch.Generator().manual_seed(config.seed)
    autocast = torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    times = []
    for _ in range(steps + WARMUP_STEPS):
        tokens = torch.randint(0, vocab, (cfg.batch_size, cfg.context_length + 1), generator=generator)
        started = time.perf_counter()
        for m in range(0, cfg.batch_size, micro):
            x, y = tokens[m:m + micro, :-1].to(device), tokens[m:m + micro, 1:].to(device)
            with autocast:
                logits = forward(input_ids=x).logits
            F.cross_entropy(logits.float().view(-1, vocab), y.reshape(-1)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    median = statistics.median(times[WARMUP_STEPS:])
    return Calibration(model=cfg.init_from or cfg.model, precision=precision, threads=torch.get_num_threads(),
                       device=device.type, steps=steps, seconds_per_step=median,
                       tokens_per_step=cfg.batch_size * cfg.context_length, forward=forward.mode,
                       startup_seconds=max(0.0, sum(times[:WARMUP_STEPS]) - WARMUP_STEPS * median))


def plan_lines(config: ExperimentConfig, calibration: Calibration | None, previous: dict | None = None) -> list[str]:
    """The dry run's report: the grid, the token budget, the calibrated training time and what the last
    run of this name took in the stages that cannot be estimated in advance."""
    cells = grid(config)
    conditions = conditions_to_train(config)
    per_model = tokens_per_model(config)
    lines = [(f"grid: {len(conditions)} conditions x {len(config.train.seeds)} seeds = {len(cells)} models to train "
             f"(+ {len(null_cells(config))} untrained null models evaluated and probed)"),
             f"  conditions: {', '.join(conditions)}",
             f"  seeds: {', '.join(map(str, config.train.seeds))}",
             (f"tokens: {steps_per_model(config):,} steps x {config.train.batch_size} x {config.train.context_length} = "
             f"{per_model:,} per model, {per_model * len(cells):,} in all")]
    if calibration is not None:
        per_cell = calibration.seconds_per_model(steps_per_model(config))
        lines.append(f"calibration: {calibration.model} on {calibration.device}, {calibration.precision}, "
                     f"{calibration.forward} forward, {calibration.threads} thread(s): "
                     f"{calibration.seconds_per_step:.3f} s per step ({calibration.tokens_per_second:,.0f} tokens/s; "
                     f"median of {calibration.steps} steps), first steps +{calibration.startup_seconds:.1f} s")
        at_once = cell_share(config).at_once
        if at_once is None:
            lines.append(f"estimated training: {_duration(per_cell)} per model, {_duration(per_cell * len(cells))} "
                         f"of cell time in all, divided among the Ray cluster's parallel cells")
        else:
            rounds = -(-len(cells) // at_once)
            lines.append(f"estimated training on the {config.executor.kind} executor, {at_once} cell(s) at once: "
                         f"{_duration(per_cell * rounds)} ({_duration(per_cell)} per model)")
    stages = (previous or {}).get("stages", {})
    measured = {name: stages[name]["seconds"] for name in ("eval", "probe") if name in stages}
    if measured:
        lines.append("eval and probe: not estimated (they depend on the items); the last run of this name took "
                     + ", ".join(f"{name} {_duration(s)}" for name, s in measured.items()))
    else:
        lines.append("eval and probe: not estimated (they depend on items that do not exist yet)")
    return lines


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
