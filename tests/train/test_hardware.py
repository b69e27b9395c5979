"""What the machine decides: where torch.compile is on by default, that a compiled forward trains like the
eager one (and repeats exactly), and that a forward that cannot compile trains eagerly instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import torch

from rearing.layout import JobLayout, RunLayout
from rearing.train.hardware import COMPILE_MIN_PARAMETERS, resolve_compile
from rearing.train.loop import train
from rearing.train.models import count_parameters, new_model
from rearing.train.stage import make_job

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_auto_compiles_where_the_benchmark_measured_a_gain():
    with torch.device("meta"):
        nano, micro = (count_parameters(new_model(preset, 4096, 256, 0)) for preset in ("nano", "micro"))
    assert nano < COMPILE_MIN_PARAMETERS <= micro
    assert resolve_compile("auto", CPU, "bf16", micro, amx=True)
    assert not resolve_compile("auto", CPU, "bf16", micro, amx=False), "without AMX micro gained 1.05x"
    assert not resolve_compile("auto", CPU, "bf16", nano, amx=True), "nano gains less than its compilation costs"
    assert not resolve_compile("auto", CPU, "fp32", micro, amx=True), "fp32 on a CPU gained under 10%"
    assert resolve_compile("auto", CUDA, "fp32", nano)
    assert resolve_compile("on", CPU, "fp32", nano) and not resolve_compile("off", CUDA, "bf16", micro)

def losses(out_dir) -> list[float]:
    return [json.loads(line)["loss"] for line in JobLayout(out_dir).metrics.read_text().splitlines()]


def test_a_compiled_forward_trains_like_the_eager_one_and_repeats_exactly(tiny_corpus_run, tiny_config, tmp_path):
    runs = {}
    for name, setting in (("eager", "off"), ("compiled", "on"), ("again", "on")):
        cfg = tiny_config.train.model_copy(update={"steps": 4, "log_every": 1, "compile": setting})
        job = make_job(RunLayout(tiny_corpus_run), tmp_path / name, "flat", 0)
        summary = train(job, cfg, progress=False)
        runs[name] = summary["forward"], losses(job.out_dir)
    assert runs["eager"][0] == "eager" and runs["compiled"][0] == "compiled"
    assert runs["again"] == runs["compiled"], "same seed, same losses when compiled"
    gaps = [abs(a - b) for a, b in zip(runs["eager"][1], runs["compiled"][1], strict=True)]
    assert max(gaps) < 0.02, f"compiled and eager forwards diverge: {gaps}"


def test_a_forward_that_cannot_compile_trains_eagerly_with_a_warning(tiny_corpus_run, tiny_config, tmp_path):
    """A machine with no working C++ compiler (inductor's CPU backend needs one), in a fresh process with
    an empty inductor cache so nothing compiled earlier is reused."""
    cfg = tiny_config.train.model_copy(update={"steps": 2, "log_every": 1, "compile": "on"})
    script = textwrap.dedent(f"""
        import json, warnings
        from pathlib import Path
        from rearing.config import TrainConfig
        from rearing.layout import JobLayout, RunLayout
        from rearing.train.loop import train
        from rearing.train.stage import make_job
        cfg = TrainConfig.model_validate_json({cfg.model_dump_json()!r})
        job = make_job(RunLayout(Path({str(tiny_corpus_run)!r})), Path({str(tmp_path / "out")!r}), "flat", 0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            summary = train(job, cfg, progress=False)
        print(json.dumps({{"forward": summary["forward"], "losses": [json.loads(line)["loss"] for line in
                          JobLayout(job.out_dir).metrics.read_text().splitlines()],
                          "warnings": [str(w.message) for w in caught]}}))
    """)
    env = {**os.environ, "CXX": "/nonexistent/c++", "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "inductor")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["forward"].startswith("eager (compile failed: InductorError"), result["forward"]
    assert any("torch.compile failed, training with the eager forward instead" in w for w in result["warnings"])
    eager = tiny_config.train.model_copy(update={"steps": 2, "log_every": 1, "compile": "off"})
    job = make_job(RunLayout(tiny_corpus_run), tmp_path / "eager", "flat", 0)
    train(job, eager, progress=False)
    assert result["losses"] == losses(job.out_dir), "the fallback is the exact eager forward"

