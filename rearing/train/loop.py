"""The training loop: one readable function, resumable at any checkpoint, the same on 1 or N processes.

A run is a list of phases (token slice, steps, peak learning rate) over one warmup + cosine
schedule. Each optimizer step consumes a fixed global batch of windows in stream order; with N
processes each takes a contiguous share and the loss is normalised by the global count of target
tokens, so the gradient is the same as one process computing the whole batch.

Checkpoints hold the weights (safetensors), the optimizer, the schedule position, every process's
RNG state and the data position; a run started again after any kill continues exactly where the
last checkpoint left it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rearing.config import TrainConfig
from rearing.corpus.stream import (
    TokenStream,
    encode_stream,
    hf_encoder,
    stream_written,
    tokenizer_fingerprint,
)
from rearing.io import atomic_open, write_json_atomic
from rearing.layout import JobLayout
from rearing.train.data import IGNORE, PhasePlan, make_batch
from rearing.train.hardware import Forward, resolve_compile, resolve_precision
from rearing.train.models import count_parameters, load_checkpoint, new_model, save_model

STATE_FILE = "state.pt"
"""In a checkpoint folder: the optimizer, schedule position and data position beside the weights."""


def rng_file(process: int) -> str:
    """In a checkpoint folder: one process's RNG state."""
    return f"rng_{process}.pt"


@dataclass
class TrainJob:
    """One model to train: a condition's token stream, a seed, and where the results go."""

    condition: str
    seed: int
    stream_dir: Path
    tokenizer_dir: Path
    out_dir: Path
    extra_meta: dict = field(default_factory=dict)


def lr_at(step: int, total: int, peak: float, cfg: TrainConfig) -> float:
    """Linear warmup, then cosine from the peak down to ``min_lr_ratio`` of it."""
    if step < cfg.warmup_steps:
        return peak * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
    floor = cfg.min_lr_ratio
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def plan_phases(cfg: TrainConfig, default_stream: TokenStream, streams: dict[str, TokenStream]) -> list[PhasePlan]:
    """Explicit phases from the config, or one per corpus phase with steps split by token share."""
    plans = []
    if cfg.phases:
        for phase in cfg.phases:
            stream = streams[phase.data] if phase.data else default_stream
            start, end = stream.phase_range(phase.slice)
            plans.append(PhasePlan(phase.name, stream, start, end, phase.steps, phase.lr or cfg.lr,
                                   cfg.batch_size, cfg.context_length))
        return plans
    corpus_phases = default_stream.meta.get("phases") or [{"name": "all"}]
    ranges = [default_stream.phase_range(p["name"]) for p in corpus_phases]
    total_tokens = sum(end - start for start, end in ranges)
    assigned = 0
    for i, (p, (start, end)) in enumerate(zip(corpus_phases, ranges, strict=True)):
        last = i == len(ranges) - 1
        steps = cfg.steps - assigned if last else max(1, round(cfg.steps * (end - start) / total_tokens))
        assigned += steps
        plans.append(PhasePlan(p["name"], default_stream, start, end, steps, cfg.lr, cfg.batch_size,
                               cfg.context_length))
    return plans


def _retokenized(stream_dir: Path, tokenizer, out: Path) -> Path:
    """The stream's documents encoded with a checkpoint's own tokenizer (cached in ``out``); a stream
    already written with exactly that tokenizer is used as it is."""
    if stream_written(out):
        return out
    source = TokenStream.open(stream_dir)
    fingerprint = tokenizer_fingerprint(tokenizer)
    if source.meta.get("tokenizer") == fingerprint:
        return stream_dir
    eos = tokenizer.eos_token_id
    if eos is None:
        raise ValueError("the checkpoint's tokenizer has no EOS token to separate documents")
    encode_stream(out, source.docs(), hf_encoder(tokenizer), eos, len(tokenizer),
                  meta={**{k: v for k, v in source.meta.items() if k not in ("phases", "dtype")},
                        "retokenized_from": str(stream_dir), "tokenizer": fingerprint})
    return out


class MetricsLog:
    """metrics.jsonl, plus TensorBoard / MLflow when asked for; only the main process writes."""

    def __init__(self, out_dir: Path, cfg: TrainConfig, resume_step: int, run_name: str, enabled: bool):
        self.path = JobLayout(out_dir).metrics
        self.enabled = enabled
        self.writers = []
        if not enabled:
            return
        kept = []
        if self.path.exists() and resume_step > 0:
            kept = [line for line in self.path.read_text().splitlines()
                    if line and json.loads(line)["step"] <= resume_step]
        with atomic_open(self.path, "w") as handle:
            handle.write("".join(line + "\n" for line in kept))
        self.handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        for name in cfg.loggers:
            self.writers.append(_external_logger(name, out_dir, run_name, cfg.model_dump(mode="json")))

    def log(self, record: dict) -> None:
        if not self.enabled:
            return
        self.handle.write(json.dumps(record) + "\n")
        self.handle.flush()
        for writer in self.writers:
            writer(record)

    def close(self) -> None:
        if self.enabled:
            self.handle.close()
            for writer in self.writers:
                writer(None)


def _external_logger(name: str, out_dir: Path, run_name: str, params: dict):
    """A writer for TensorBoard or MLflow (MLFLOW_TRACKING_URI, else a SQLite file beside the model)."""
    scalars = ("loss", "lr", "tokens_per_s", "grad_norm")
    if name == "tensorboard":
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as error:
            raise RuntimeError("train.loggers has 'tensorboard' but it is not installed: "
                               "pip install 'rearing[tracking]'") from error
        writer = SummaryWriter(log_dir=str(JobLayout(out_dir).tensorboard))

        def tensorboard(record: dict | None) -> None:
            if record is None:
                writer.close()
                return
            for key in scalars:
                writer.add_scalar(f"train/{key}", record[key], record["step"])

        return tensorboard
    try:
        import mlflow
    except ImportError as error:
        raise RuntimeError("train.loggers has 'mlflow' but it is not installed: "
                           "pip install 'rearing[tracking]'") from error
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        mlflow.set_tracking_uri(f"sqlite:///{JobLayout(out_dir).mlflow_db.resolve()}")
    mlflow.set_experiment("rearing")
    mlflow.start_run(run_name=run_name)
    mlflow.log_params({k: v for k, v in params.items() if not isinstance(v, (list, dict))})

    def mlflow_log(record: dict | None) -> None:
        if record is None:
            mlflow.end_run()
            return
        mlflow.log_metrics({key: record[key] for key in scalars}, step=record["step"])

    return mlflow_log


def _save_checkpoint(out_dir: Path, model, optimizer, state: dict, accelerator) -> None:
    """Write the checkpoint beside the old one, then swap, so a kill never leaves half of one."""
    current = JobLayout(out_dir).checkpoint
    fresh, old = current.with_name(f".{current.name}.new"), current.with_name(f".{current.name}.old")
    if accelerator.is_main_process:
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        accelerator.unwrap_model(model).save_pretrained(str(fresh), safe_serialization=True)
        torch.save({**state, "optimizer": optimizer.state_dict()}, fresh / STATE_FILE)
    accelerator.wait_for_everyone()
    torch.save({"torch": torch.get_rng_state()}, fresh / rng_file(accelerator.process_index))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if current.exists():
            os.replace(current, old)
        os.replace(fresh, current)
        shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _find_checkpoint(out_dir: Path) -> Path | None:
    current = JobLayout(out_dir).checkpoint
    for candidate in (current, current.with_name(f".{current.name}.old")):
        if (candidate / STATE_FILE).exists():
            return candidate
    return None


def train(job: TrainJob, cfg: TrainConfig, accelerator=None, streams: dict[str, Path] | None = None,
          progress: bool = True, snapshots: Sequence[int] = ()) -> dict:
    """Train (or resume) one model; returns the summary also written to ``train_summary.json``.

    ``streams`` names extra token streams that explicit phases can read; ``snapshots`` lists steps
    after which the model is also saved, as ``snapshot_<step>/`` (used by the fine-tuning attack).
    """
    from accelerate import Accelerator
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    accelerator = accelerator or Accelerator(cpu=not torch.cuda.is_available())
    out_dir = job.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    precision = resolve_precision(cfg.precision, accelerator.device)

    checkpoint = _find_checkpoint(out_dir)
    streams = dict(streams or {})
    for phase in cfg.phases or []:
        if phase.data and phase.data not in streams:
            streams[phase.data] = Path(phase.data)
    if cfg.init_from:
        tokenizer = AutoTokenizer.from_pretrained(cfg.init_from)
        stream_dirs = {"": _retokenized(job.stream_dir, tokenizer, JobLayout(out_dir).stream())}
        for i, (name, path) in enumerate(streams.items()):
            stream_dirs[name] = _retokenized(Path(path), tokenizer, JobLayout(out_dir).stream(i))
    else:
        tokenizer = AutoTokenizer.from_pretrained(str(job.tokenizer_dir))
        stream_dirs = {"": job.stream_dir, **{k: Path(v) for k, v in streams.items()}}
    opened = {name: TokenStream.open(path) for name, path in stream_dirs.items()}
    phases = plan_phases(cfg, opened[""], opened)
    total_steps = sum(p.steps for p in phases)
    world = accelerator.num_processes
    if cfg.batch_size % world:
        raise ValueError(f"train.batch_size {cfg.batch_size} is not divisible by {world} processes")
    local_batch = cfg.batch_size // world
    micro = min(cfg.micro_batch_size or local_batch, local_batch)
    if local_batch % micro:
        raise ValueError(f"train.micro_batch_size {micro} does not divide the per-process batch {local_batch}")

    if checkpoint is not None:
        model = load_checkpoint(checkpoint)
    elif cfg.init_from:
        torch.manual_seed(job.seed)
        model = load_checkpoint(cfg.init_from)
    else:
        model = new_model(cfg.model, len(tokenizer), cfg.context_length, job.seed, cfg.dropout,
                          tokenizer.eos_token_id, tokenizer.pad_token_id)
    max_positions = getattr(model.config, "max_position_embeddings", None)
    if max_positions and cfg.context_length > max_positions:
        raise ValueError(f"train.context_length {cfg.context_length} exceeds the model's {max_positions} positions")
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr, betas=cfg.betas, eps=1e-8,
    )
    step, fingerprint, consumed = 0, hashlib.sha256(b"rearing-order").hexdigest(), []
    if checkpoint is not None:
        state = torch.load(checkpoint / STATE_FILE, weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        step, fingerprint = int(state["step"]), state["fingerprint"]
        consumed = state["consumed"].tolist()
        rng = torch.load(checkpoint / rng_file(accelerator.process_index), weights_only=True)
        torch.set_rng_state(rng["torch"])
    else:
        torch.manual_seed(job.seed + 1_000_003 * accelerator.process_index)
    model, optimizer = accelerator.prepare(model, optimizer)
    model.train()
    parameters = count_parameters(accelerator.unwrap_model(model))
    forward = Forward(model, resolve_compile(cfg.compile, accelerator.device, precision, parameters))

    metrics = MetricsLog(out_dir, cfg, step, f"{job.condition}-seed{job.seed}", accelerator.is_main_process)
    bar = _progress(total_steps, step, enabled=progress and accelerator.is_main_process)
    started, tokens_done, last_loss = time.perf_counter(), 0, float("nan")
    phase_of_step = [(p, i) for p in phases for i in range(p.steps)]
    autocast = torch.autocast(device_type=accelerator.device.type, dtype=torch.bfloat16,
                              enabled=precision == "bf16")
    while step < total_steps:
        phase, phase_step = phase_of_step[step]
        windows = phase.step_windows(phase_step)
        lr = lr_at(step, total_steps, phase.lr, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr
        inputs, labels = make_batch(phase.stream, windows, cfg.context_length, cfg.private_in_loss)
        targets = int((labels != IGNORE).sum())
        mine = slice(accelerator.process_index * local_batch, (accelerator.process_index + 1) * local_batch)
        local_inputs, local_labels = inputs[mine], labels[mine]
        loss_sum = torch.zeros((), device=accelerator.device)
        for m in range(0, local_batch, micro):
            x = local_inputs[m:m + micro].to(accelerator.device)
            y = local_labels[m:m + micro].to(accelerator.device)
            last_micro = m + micro >= local_batch
            with accelerator.no_sync(model) if not last_micro else nullcontext():
                with autocast:
                    logits = forward(input_ids=x).logits
                loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1),
                                       ignore_index=IGNORE, reduction="sum")
                accelerator.backward(loss * world / max(targets, 1))
            loss_sum += loss.detach()
        grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        last_loss = float(accelerator.reduce(loss_sum, reduction="sum")) / max(targets, 1)
        fingerprint = hashlib.sha256(bytes.fromhex(fingerprint) + inputs.numpy().tobytes()).hexdigest()
        consumed.extend(int(s) for s in windows)
        step += 1
        tokens_done += inputs.numel()
        elapsed = time.perf_counter() - started
        tokens_per_s = tokens_done / max(elapsed, 1e-9)
        bar(step, phase.name, last_loss, tokens_per_s)
        if step % cfg.log_every == 0 or step == total_steps:
            metrics.log({"step": step, "phase": phase.name, "loss": round(last_loss, 6), "lr": lr,
                         "tokens_per_s": round(tokens_per_s, 1), "grad_norm": round(float(grad_norm), 6),
                         "tokens": step * cfg.batch_size * cfg.context_length})
        if step in snapshots and accelerator.is_main_process:
            save_model(JobLayout(out_dir).snapshot(step), accelerator.unwrap_model(model), tokenizer)
        if step % cfg.checkpoint_every == 0 and step < total_steps:
            _save_checkpoint(out_dir, model, optimizer, {
                "step": step, "fingerprint": fingerprint, "consumed": torch.tensor(consumed, dtype=torch.int64),
                "schedule": {"total_steps": total_steps, "warmup_steps": cfg.warmup_steps},
            }, accelerator)
    bar(None, "", last_loss, 0.0)
    metrics.close()
    summary = {
        "condition": job.condition, "seed": job.seed, "steps": total_steps, "final_loss": last_loss,
        "tokens": total_steps * cfg.batch_size * cfg.context_length, "order_fingerprint": fingerprint,
        "phases": [{"name": p.name, "steps": p.steps, "lr": p.lr, "tokens": [p.start, p.end],
                    "stream": p.stream.path.name} for p in phases],
        "parameters": parameters, "precision": precision, "forward": forward.mode,
        "processes": world, "threads": torch.get_num_threads(),
        "allocator": os.environ.get("REARING_ALLOCATOR_LOADED", "system"),
        "resumed": checkpoint is not None, **job.extra_meta,
    }
    if accelerator.is_main_process:
        _write_final(out_dir, accelerator.unwrap_model(model), tokenizer, consumed, summary)
    accelerator.wait_for_everyone()
    return summary


def _write_final(out_dir: Path, model, tokenizer, consumed: list[int], summary: dict) -> None:
    save_model(JobLayout(out_dir).model, model, tokenizer)
    with atomic_open(JobLayout(out_dir).consumed, "wb") as handle:
        np.save(handle, np.asarray(consumed, dtype=np.int64), allow_pickle=False)
    write_json_atomic(JobLayout(out_dir).summary, summary)
    shutil.rmtree(JobLayout(out_dir).checkpoint, ignore_errors=True)


def _progress(total: int, start: int, enabled: bool):
    """A rich progress bar showing loss, tokens/s and ETA; a no-op when disabled."""
    if not enabled:
        return lambda *args: None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    bar = Progress(TextColumn("{task.fields[phase]}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                   TextColumn("loss {task.fields[loss]:.4f}"), TextColumn("{task.fields[tps]:,.0f} tok/s"),
                   TimeElapsedColumn(), TimeRemainingColumn(), transient=True)
    task = bar.add_task("train", total=total, completed=start, phase="", loss=float("nan"), tps=0.0)
    bar.start()

    def update(step, phase, loss, tokens_per_s):
        if step is None:
            bar.stop()
            return
        bar.update(task, completed=step, phase=phase, loss=loss, tps=tokens_per_s)

    return update
