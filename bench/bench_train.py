"""Training throughput on CPU: the project's path against the plain-PyTorch model a user would write.

For ``nano`` and ``micro``, in fp32 and in bf16 autocast, the same number of steps on the same
windows of the smoke corpus run twice: through ``rearing.train.loop.train`` (HF Llama, accelerate,
metrics, checkpoint writing) and through a minimal GPT of the same shape (RMSNorm, RoPE, SDPA
attention, SwiGLU, tied embeddings, AdamW, loss in fp32 over ``logits.float()``). Steady-state
tokens/s leave out model set-up, the first steps and the final save. Reported besides: model FLOPs
utilisation against the matmul peak measured here, bf16 against fp32 loss curves (several seeds,
so the precision gap can be read against the seed gap), and every allocator
``rearing.train.allocator`` finds.

Every measurement runs in its own process (so ``LD_PRELOAD`` can differ between them) and the
runs are interleaved (ours, reference, ours, reference, ...) so the noise of a shared machine
falls on both sides alike; the tables show medians. On a machine other processes keep busy, use
``--threads 1``: with two threads OpenMP's spin-waiting lets one busy neighbour slow a step tenfold,
whereas one thread's CPU time does not depend on the neighbours at all.

    python bench/bench_train.py [--steps 30] [--repeats 3] [--threads N] [--run RUN_DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOMINAL_PEAK = {"fp32": 200e9, "bf16": 430e9}
BATCH, CONTEXT = 16, 256
CONDITION = "bmn_developmental"


def train_config(model: str, precision: str, steps: int):
    """The config both sides follow: the project's defaults (schedule, optimizer) at this size.

    Metrics every step (the timing marks), no checkpoint inside a timed run.
    """
    from rearing.config import TrainConfig

    return TrainConfig(model=model, steps=steps, batch_size=BATCH, context_length=CONTEXT,
                       precision=precision, log_every=1, checkpoint_every=10**9)


def rates(stamps: list[tuple[int, float, float]], skip: int) -> dict:
    """Tokens/s of the median step after the first ``skip``, by wall clock and by CPU time.

    From cumulative (tokens, wall seconds, process CPU seconds) marks taken at the end of each
    step. The median step, not the mean, because a burst of load from another process stretches a
    few steps by several times. CPU time is the robust measure with one thread on a shared
    machine (a descheduled process uses none); with more threads it counts their spinning too.
    """
    pairs = list(zip(stamps[skip - 1:-1], stamps[skip:], strict=True))
    return {"tokens_per_s": statistics.median((b[0] - a[0]) / (b[1] - a[1]) for a, b in pairs),
            "tokens_per_cpu_s": statistics.median((b[0] - a[0]) / (b[2] - a[2]) for a, b in pairs)}


# ---- the reference: a plain-PyTorch Llama-shaped GPT -------------------------------------------

def reference_model(vocab: int, hidden: int, layers: int, heads: int, ffn: int, context: int):
    """nanoGPT with Llama's parts: what a user writes by hand to train this shape."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    class RMSNorm(nn.Module):
        def __init__(self, dim: int):
            super().__init__()
            self.weight = nn.Parameter(torch.ones(dim))

        def forward(self, x):
            dtype = x.dtype
            x = x.float()
            return (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)).to(dtype) * self.weight

    def rotate(x, cos, sin):
        half = x.shape[-1] // 2
        rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
        return x * cos + rotated * sin

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn_norm, self.mlp_norm = RMSNorm(hidden), RMSNorm(hidden)
            self.qkv = nn.Linear(hidden, 3 * hidden, bias=False)
            self.out = nn.Linear(hidden, hidden, bias=False)
            self.gate = nn.Linear(hidden, ffn, bias=False)
            self.up = nn.Linear(hidden, ffn, bias=False)
            self.down = nn.Linear(ffn, hidden, bias=False)

        def forward(self, x, cos, sin):
            b, t, _ = x.shape
            qkv = self.qkv(self.attn_norm(x)).view(b, t, 3, heads, hidden // heads)
            q, k, v = qkv.transpose(1, 3).unbind(2)
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.out(y.transpose(1, 2).reshape(b, t, hidden))
            h = self.mlp_norm(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, hidden)
            self.blocks = nn.ModuleList(Block() for _ in range(layers))
            self.norm = RMSNorm(hidden)
            self.head = nn.Linear(hidden, vocab, bias=False)
            self.head.weight = self.embed.weight
            for module in self.modules():
                if isinstance(module, (nn.Linear, nn.Embedding)):
                    nn.init.normal_(module.weight, std=0.02)
            dim = hidden // heads
            inv = 1.0 / (10000.0 ** (torch.arange(0, dim, 2).float() / dim))
            angles = torch.outer(torch.arange(context).float(), inv)
            angles = torch.cat((angles, angles), dim=-1)
            self.register_buffer("cos", angles.cos(), persistent=False)
            self.register_buffer("sin", angles.sin(), persistent=False)

        def forward(self, idx):
            t = idx.shape[1]
            x = self.embed(idx)
            cos, sin = self.cos[:t].to(x.dtype), self.sin[:t].to(x.dtype)
            for block in self.blocks:
                x = block(x, cos, sin)
            return self.head(self.norm(x))

    return GPT()


def run_reference(stream_dir: Path, vocab: int, model: str, precision: str, steps: int, skip: int,
                  seed: int, threads: int) -> dict:
    import torch
    import torch.nn.functional as F

    from rearing.corpus.stream import TokenStream
    from rearing.train.data import make_batch
    from rearing.train.loop import lr_at, plan_phases
    from rearing.train.models import PRESETS

    cfg = train_config(model, precision, steps)
    stream = TokenStream.open(stream_dir)
    phases = plan_phases(cfg, stream, {})
    p = PRESETS[model]
    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(seed)
    net = reference_model(vocab, p.hidden, p.layers, p.heads, p.intermediate, CONTEXT)
    params = sum(t.numel() for t in net.parameters())
    decay = [t for t in net.parameters() if t.dim() >= 2]
    no_decay = [t for t in net.parameters() if t.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=cfg.betas)
    use_bf16 = precision == "bf16"
    stamps, losses, tokens, step = [], [], 0, 0
    for phase in phases:
        for i in range(phase.steps):
            for group in optimizer.param_groups:
                group["lr"] = lr_at(step, steps, phase.lr, cfg)
            x, y = make_batch(phase.stream, phase.step_windows(i), CONTEXT, True)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
                logits = net(x)
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), y.view(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), cfg.grad_clip)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(loss.item())
            step += 1
            tokens += x.numel()
            stamps.append((tokens, time.perf_counter(), time.process_time()))
    return {**rates(stamps, skip), "params": params, "losses": losses}


# ---- ours: the project's training path ---------------------------------------------------------

VARIANTS = ("fused", "compile")
"""Changes to our path measured beside it with torch.compile off: AdamW's fused CPU kernel (applied here,
in the measuring process) and the loop's own ``train.compile: on`` (inductor)."""


def apply_variant(variant: str | None) -> str:
    """Apply ``variant`` to this process; returns the loop's ``train.compile`` setting for it."""
    import torch

    if variant == "fused":
        plain = torch.optim.AdamW

        class FusedAdamW(plain):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, fused=True, **kwargs)

        torch.optim.AdamW = FusedAdamW
    elif variant not in (None, "compile"):
        raise ValueError(f"unknown variant {variant} (choose from {', '.join(VARIANTS)})")
    return "on" if variant == "compile" else "off"


def run_ours(stream_dir: Path, tokenizer_dir: Path, model: str, precision: str, steps: int, skip: int,
             seed: int, threads: int, variant: str | None = None, as_configured: bool = False) -> dict:
    """Our loop; ``as_configured``: with ``train.compile: auto`` as a run has it, else with a variant or none."""
    from rearing.train import loop

    compile_setting = "auto" if as_configured else apply_variant(variant)
    cfg = train_config(model, precision, steps).model_copy(update={"threads": threads, "compile": compile_setting})
    stamps: list[tuple[int, float, float]] = []
    log = loop.MetricsLog.log

    def stamped(self, record: dict) -> None:
        """Time each step where the loop logs it (every step here); the loop itself is untouched."""
        stamps.append((record["tokens"], time.perf_counter(), time.process_time()))
        log(self, record)

    loop.MetricsLog.log = stamped
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        job = loop.TrainJob(condition=CONDITION, seed=seed, stream_dir=stream_dir,
                            tokenizer_dir=tokenizer_dir, out_dir=out)
        started = time.perf_counter()
        summary = loop.train(job, cfg, progress=False)
        wall = time.perf_counter() - started
        losses = [json.loads(line)["loss"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {**rates(stamps, skip), "params": summary["parameters"], "losses": losses, "wall_s": wall,
            "precision_used": summary["precision"], "allocator": summary["allocator"], "forward": summary["forward"]}


def matmul_peak(precision: str, size: int = 2048, repeats: int = 10) -> float:
    """FLOP/s of a square matmul, the best a training step could hope for at this precision."""
    import torch

    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - started)
    return 2 * size**3 / min(times)


def worker(spec: dict) -> dict:
    """One measurement, in this process."""
    if spec["kind"] == "peak":
        if spec["threads"]:
            import torch

            torch.set_num_threads(spec["threads"])
        return {"flops": matmul_peak(spec["precision"])}
    stream_dir, tokenizer_dir = Path(spec["stream"]), Path(spec["tokenizer"])
    if spec["kind"] == "ours":
        return run_ours(stream_dir, tokenizer_dir, spec["model"], spec["precision"], spec["steps"],
                        spec["skip"], spec["seed"], spec["threads"], spec.get("variant"),
                        spec.get("as_configured", False))
    return run_reference(stream_dir, spec["vocab"], spec["model"], spec["precision"], spec["steps"],
                         spec["skip"], spec["seed"], spec["threads"])


# ---- orchestration -----------------------------------------------------------------------------

def measure(spec: dict, allocator: str) -> dict:
    """Run ``worker(spec)`` in a fresh interpreter under the named allocator."""
    from rearing.train.allocator import TUNING, allocator_environment

    inherited = {"LD_PRELOAD", *(key for tuning in TUNING.values() for key in tuning)}
    env = allocator_environment(allocator, {k: v for k, v in os.environ.items() if k not in inherited})
    done = subprocess.run([sys.executable, __file__, "--one", json.dumps(spec)], env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"measurement {spec} under {allocator} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def corpus(run: Path | None, keep: Path) -> tuple[Path, Path]:
    """The smoke corpus: an existing run's, or built once (world + corpus stages) into ``keep``."""
    if run is None:
        from rearing.config import load_config
        from rearing.pipeline import run_pipeline

        run = keep / "smoke"
        print("building the smoke corpus ...", flush=True)
        run_pipeline(load_config(preset="smoke"), run, until="corpus")
    from rearing.layout import RunLayout

    return RunLayout(run).corpus.stream(CONDITION), RunLayout(run).corpus.tokenizer


def flops_per_token(params: int, layers: int, hidden: int) -> float:
    """6N for the weights (tied head counted once) plus the attention scores and values."""
    return 6 * params + 12 * layers * CONTEXT * hidden


def compare(a: list[float], b: list[float]) -> dict:
    """How far two loss curves over the same steps are apart, step by step and at the end."""
    gaps = [abs(x - y) for x, y in zip(a, b, strict=True)]
    return {"max_abs_diff": max(gaps), "mean_abs_diff": statistics.fmean(gaps), "final": [a[-1], b[-1]],
            "last10_mean": [statistics.fmean(a[-10:]), statistics.fmean(b[-10:])]}


def timing_table(base: dict, models: list[str], precisions: list[str], repeats: int, allocator: str,
                 peaks: dict[str, float]) -> list[dict]:
    """Ours (as a run configures it: ``train.compile: auto``) against the reference, interleaved, for
    every model and precision.

    Both run under the allocator ``rearing`` would pick (the like-for-like ratio), and the
    reference once more under the system malloc, as a user's own script would run.
    """
    from rearing.train.allocator import SYSTEM
    from rearing.train.models import PRESETS

    sides = [("ours", allocator), ("reference", allocator), ("reference", SYSTEM)]
    timed: dict[tuple, list[dict]] = {}
    for repeat in range(repeats):
        for model in models:
            for precision in precisions:
                for kind, malloc in sides if repeat % 2 == 0 else sides[::-1]:
                    result = measure({**base, "kind": kind, "model": model, "precision": precision,
                                      "as_configured": True}, malloc)
                    timed.setdefault((model, precision, kind, malloc), []).append(result)
                    print(f"  {model} {precision} {kind} ({malloc}): {result['tokens_per_s']:,.0f} tokens/s, "
                          f"{result['tokens_per_cpu_s']:,.0f} per CPU-second", flush=True)
    rows = []
    for model in models:
        preset = PRESETS[model]
        for precision in precisions:
            ours, ref, ref_glibc = (timed[(model, precision, kind, malloc)] for kind, malloc in sides)
            per_token = flops_per_token(ours[0]["params"], preset.layers, preset.hidden)

            def median(runs: list[dict], key: str = "tokens_per_s") -> float:
                return statistics.median(r[key] for r in runs)

            rate, ref_rate, glibc_rate = median(ours), median(ref), median(ref_glibc)
            rows.append({
                "model": model, "precision": precision, "params": ours[0]["params"],
                "params_reference": ref[0]["params"], "flops_per_token": per_token,
                "tokens_per_s": rate, "tokens_per_s_reference": ref_rate, "ratio": rate / ref_rate,
                "ratio_cpu": median(ours, "tokens_per_cpu_s") / median(ref, "tokens_per_cpu_s"),
                "tokens_per_s_reference_system_malloc": glibc_rate,
                "ratio_vs_system_malloc": rate / glibc_rate,
                "mfu": rate * per_token / peaks[precision],
                "mfu_reference": ref_rate * per_token / peaks[precision],
                "mfu_nominal_peak": rate * per_token / NOMINAL_PEAK[precision],
                "runs": [r["tokens_per_s"] for r in ours], "runs_reference": [r["tokens_per_s"] for r in ref],
                "runs_reference_system_malloc": [r["tokens_per_s"] for r in ref_glibc],
                "wall_s": median(ours, "wall_s"),
            })
    return rows


def variants_table(base: dict, models: list[str], precisions: list[str], variants: list[str], repeats: int,
                   allocator: str) -> list[dict]:
    """Ours, ours with each variant and the reference, interleaved (the order reverses every repeat):
    steady-state tokens/s (compilation falls in the untimed first steps) and the whole run's wall time
    (where compilation shows)."""
    sides = [("ours", None), *(("ours", v) for v in variants), ("reference", None)]
    runs: dict[tuple, list[dict]] = {}
    for repeat in range(repeats):
        for model in models:
            for precision in precisions:
                for kind, variant in sides if repeat % 2 == 0 else sides[::-1]:
                    spec = {**base, "kind": kind, "model": model, "precision": precision, "variant": variant}
                    result = measure(spec, allocator)
                    runs.setdefault((model, precision, kind, variant), []).append(result)
                    print(f"  {model} {precision} {kind} {variant or ''}: {result['tokens_per_s']:,.0f} tokens/s"
                          + (f", {result['wall_s']:.1f} s in all" if "wall_s" in result else ""), flush=True)
    rows = []
    for model in models:
        for precision in precisions:
            ours = runs[(model, precision, "ours", None)]
            reference = runs[(model, precision, "reference", None)]
            base_rate = statistics.median(r["tokens_per_s"] for r in ours)
            base_wall = statistics.median(r["wall_s"] for r in ours)
            for variant in variants:
                mine = runs[(model, precision, "ours", variant)]
                rate = statistics.median(r["tokens_per_s"] for r in mine)
                rows.append({"model": model, "precision": precision, "variant": variant, "tokens_per_s": rate,
                             "vs_ours": rate / base_rate,
                             "vs_reference": rate / statistics.median(r["tokens_per_s"] for r in reference),
                             "wall_s": statistics.median(r["wall_s"] for r in mine), "wall_s_ours": base_wall,
                             "runs": [r["tokens_per_s"] for r in mine], "runs_ours": [r["tokens_per_s"] for r in ours]})
    return rows


def loss_curves(base: dict, steps: int, seeds: int, precisions: list[str], allocator: str) -> dict:
    """nano on the same data in each precision and seed: is the precision gap within the seed gap?"""
    print(f"loss curves: nano, {steps} steps, seeds 0..{seeds - 1}", flush=True)
    spec = {**base, "kind": "ours", "model": "nano", "steps": steps}
    curves = {p: [] for p in precisions}
    for seed in range(seeds):
        for precision in precisions:
            run = measure({**spec, "precision": precision, "seed": seed}, allocator)
            curves[precision].append(run["losses"])
    fp32 = curves["fp32"]
    report = {"steps": steps, "seeds": seeds, "curves": curves,
              "last10": {p: [statistics.fmean(c[-10:]) for c in runs] for p, runs in curves.items()},
              "fp32_seed_vs_seed": [compare(a, b) for i, a in enumerate(fp32) for b in fp32[i + 1:]]}
    if "bf16" in curves:
        report["bf16_vs_fp32_same_seed"] = [compare(b, f) for b, f in zip(curves["bf16"], fp32, strict=True)]
    return report


def allocator_table(base: dict, models: list[str], precision: str, names: list[str],
                    repeats: int) -> list[dict]:
    """Our path under each allocator, interleaved (the order reverses every repeat)."""
    runs: dict[tuple[str, str], list[dict]] = {}
    for repeat in range(repeats):
        for model in models:
            for name in names if repeat % 2 == 0 else names[::-1]:
                result = measure({**base, "kind": "ours", "model": model, "precision": precision}, name)
                runs.setdefault((model, name), []).append(result)
                print(f"  {model} {precision} {name}: {result['tokens_per_s']:,.0f} tokens/s, "
                      f"{result['tokens_per_cpu_s']:,.0f} per CPU-second", flush=True)
    rows = []
    for model in models:
        system = runs[(model, names[0])]
        for name in names:
            rate = statistics.median(r["tokens_per_s"] for r in runs[(model, name)])
            cpu = statistics.median(r["tokens_per_cpu_s"] for r in runs[(model, name)])
            rows.append({"model": model, "precision": precision, "allocator": name, "tokens_per_s": rate,
                         "tokens_per_cpu_s": cpu,
                         "vs_first": rate / statistics.median(r["tokens_per_s"] for r in system),
                         "vs_first_cpu": cpu / statistics.median(r["tokens_per_cpu_s"] for r in system),
                         "runs": [r["tokens_per_s"] for r in runs[(model, name)]]})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30, help="Optimizer steps per timed run.")
    parser.add_argument("--skip", type=int, default=5, help="Steps left out of the rate (warm-up).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--curve-steps", type=int, default=150,
                        help="Steps of the bf16/fp32 loss curves (0: none).")
    parser.add_argument("--curve-seeds", type=int, default=3, help="Seeds per precision for the loss curves.")
    parser.add_argument("--models", default="nano,micro")
    parser.add_argument("--allocators", default="all",
                        help="Comma list among system,glibc-tuned,tcmalloc,jemalloc,mimalloc (the first is "
                        "the baseline); 'all': system, glibc-tuned and every library found; 'none': skip.")
    parser.add_argument("--parts", default="timing,variants,curves,allocators",
                        help="Which tables to measure (comma list): timing (ours against the reference), variants, "
                        "curves (bf16 against fp32 losses), allocators.")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help=f"Comma list among {', '.join(VARIANTS)} measured beside ours; 'none': skip.")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's, all cores).")
    parser.add_argument("--run", type=Path, default=None,
                        help="A run whose corpus stage is done (default: build the smoke corpus).")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "train.json")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(worker(json.loads(args.one))))
        return

    from transformers import AutoTokenizer

    from rearing.train.allocator import (
        CHOICE,
        GLIBC_TUNED,
        LOADED,
        SYSTEM,
        allocator_environment,
        available_allocators,
    )
    from rearing.train.hardware import cpu_supports_bf16

    with tempfile.TemporaryDirectory() as keep:
        stream, tokenizer = corpus(args.run, Path(keep))
        base = {"stream": str(stream), "tokenizer": str(tokenizer), "skip": args.skip, "seed": 0,
                "vocab": len(AutoTokenizer.from_pretrained(str(tokenizer))), "threads": args.threads,
                "steps": args.steps}
        models = args.models.split(",")
        precisions = ["fp32", "bf16"] if cpu_supports_bf16() else ["fp32"]
        names = ([SYSTEM, GLIBC_TUNED, *(a.name for a in available_allocators())] if args.allocators == "all"
                 else [] if args.allocators == "none" else args.allocators.split(","))
        default = allocator_environment(os.environ.get(CHOICE, ""), {})[LOADED]
        print(f"ours and the reference both run under the allocator {default}; measuring the matmul peak",
              flush=True)
        parts = set(args.parts.split(","))
        peaks = {p: statistics.median(measure({**base, "kind": "peak", "precision": p}, default)["flops"]
                                      for _ in range(3)) for p in precisions}
        rows = timing_table(base, models, precisions, args.repeats, default, peaks) if "timing" in parts else []
        variants = [] if args.variants == "none" or "variants" not in parts else args.variants.split(",")
        variant_rows = variants_table(base, models, precisions, variants, args.repeats, default) if variants else []
        curves = (loss_curves(base, args.curve_steps, args.curve_seeds, precisions, default)
                  if args.curve_steps and "curves" in parts else {})
        allocators = (allocator_table(base, models, precisions[-1], names, args.repeats)
                      if names and "allocators" in parts else [])

    result = {"batch": BATCH, "context": CONTEXT, "steps": args.steps, "skip": args.skip,
              "repeats": args.repeats, "threads": args.threads or os.cpu_count(), "allocator": default,
              "peak_flops": peaks,
              "nominal_peak_flops": {p: NOMINAL_PEAK[p] for p in precisions}, "rows": rows,
              "loss_curves": curves, "allocators": allocators, "variants": variant_rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    report(result)
    print(f"written: {args.out}")


def report(result: dict) -> None:
    peaks = ", ".join(f"{p} {v / 1e9:.0f}" for p, v in result["peak_flops"].items())
    print(f"\nbatch {result['batch']} x context {result['context']}, {result['steps']} steps (first "
          f"{result['skip']} not timed), median step, median of {result['repeats']} runs; "
          f"{result['threads']} threads; matmul peak measured (GFLOP/s): {peaks}; "
          f"allocator {result['allocator']}\n")
    print("| model | precision | params | tokens/s ours | tokens/s reference | ratio | ratio (CPU time) "
          "| MFU ours | MFU reference | MFU ours (nominal peak) | reference on system malloc | ratio to it |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in result["rows"]:
        print(f"| {r['model']} | {r['precision']} | {r['params']:,} | {r['tokens_per_s']:,.0f} | "
              f"{r['tokens_per_s_reference']:,.0f} | {r['ratio']:.2f} | {r['ratio_cpu']:.2f} | "
              f"{r['mfu']:.1%} | {r['mfu_reference']:.1%} | {r['mfu_nominal_peak']:.1%} | "
              f"{r['tokens_per_s_reference_system_malloc']:,.0f} | {r['ratio_vs_system_malloc']:.2f} |")
    if result.get("variants"):
        print("\n| model | precision | variant | tokens/s | vs ours | vs reference | wall s (ours: wall s) |")
        print("|---|---|---|---:|---:|---:|---|")
        for r in result["variants"]:
            print(f"| {r['model']} | {r['precision']} | {r['variant']} | {r['tokens_per_s']:,.0f} | {r['vs_ours']:.2f} "
                  f"| {r['vs_reference']:.2f} | {r['wall_s']:.1f} ({r['wall_s_ours']:.1f}) |")
    curves = result["loss_curves"]
    if curves:
        print(f"\nloss, nano, {curves['steps']} steps, same data; mean of the last 10 steps per seed:\n")
        print("| precision | per seed | mean |")
        print("|---|---|---:|")
        for precision, values in curves["last10"].items():
            per_seed = ", ".join(f"{v:.3f}" for v in values)
            print(f"| {precision} | {per_seed} | {statistics.fmean(values):.3f} |")
        print("\n| curves compared | max abs diff over the steps | mean abs diff | last-10 means |")
        print("|---|---:|---:|---|")
        pairs = [("bf16 vs fp32, same seed", c) for c in curves.get("bf16_vs_fp32_same_seed", [])]
        pairs += [("fp32 vs fp32, two seeds", c) for c in curves["fp32_seed_vs_seed"]]
        for name, c in pairs:
            print(f"| {name} | {c['max_abs_diff']:.3f} | {c['mean_abs_diff']:.3f} | "
                  f"{c['last10_mean'][0]:.3f} / {c['last10_mean'][1]:.3f} |")
    if result["allocators"]:
        first = result["allocators"][0]["allocator"]
        print(f"\n| model | precision | allocator | tokens/s | per CPU-second | vs {first} "
              f"| vs {first} (CPU) |")
        print("|---|---|---|---:|---:|---:|---:|")
        for r in result["allocators"]:
            print(f"| {r['model']} | {r['precision']} | {r['allocator']} | {r['tokens_per_s']:,.0f} | "
                  f"{r['tokens_per_cpu_s']:,.0f} | {r['vs_first']:.2f} | {r['vs_first_cpu']:.2f} |")


if __name__ == "__main__":
    main()
