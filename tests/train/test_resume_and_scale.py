"""Real processes: a SIGKILLed run resumes to the same final loss; 2 DDP processes match 1.

`accelerate launch --multi_gpu` is its torchrun-based DDP launcher; without GPUs the processes
talk over gloo on the CPU (its `--cpu` mode wants mpirun instead).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from rearing.layout import JobLayout, RunLayout, TrainLayout
from rearing.pipeline import run_pipeline
from rearing.train.loop import STATE_FILE

TRAIN_OVERRIDES = {"conditions": ["bmn_developmental"], "steps": 40, "checkpoint_every": 5, "log_every": 1}


def prepared_run(source: Path, target: Path, config, **train) -> Path:
    shutil.copytree(source, target)
    config = config.model_copy(update={"train": config.train.model_copy(update={**TRAIN_OVERRIDES, **train})})
    run_pipeline(config, target, until="corpus")
    return target


def train_command(run: Path) -> list[str]:
    return [sys.executable, "-m", "rearing.cli", "train", "--run", str(run), "--condition", "bmn_developmental",
            "--seed", "0", "--quiet"]


def in_progress(run: Path) -> JobLayout:
    """The model's folder while the train stage has not finished (in the stage's workspace, read only)."""
    return JobLayout(TrainLayout(RunLayout(run).partial_dir("train")).job("bmn_developmental", 0))


def job_output(run: Path) -> JobLayout:
    for candidate in (JobLayout(RunLayout(run).train.job("bmn_developmental", 0)), in_progress(run)):
        if candidate.summary.exists():
            return candidate
    raise AssertionError(f"no trained model in {run}")


def losses(job: JobLayout) -> list[float]:
    return [json.loads(line)["loss"] for line in job.metrics.read_text().splitlines()]


def checkpoint_step(run: Path) -> int:
    state = in_progress(run).checkpoint / STATE_FILE
    if not state.exists():
        return 0
    try:
        return int(torch.load(state, weights_only=True)["step"])
    except Exception:
        return 0


def test_sigkill_then_restart_ends_with_the_same_loss(tiny_corpus_run, tiny_config, tmp_path):
    straight = prepared_run(tiny_corpus_run, tmp_path / "straight", tiny_config)
    killed = prepared_run(tiny_corpus_run, tmp_path / "killed", tiny_config)
    subprocess.run(train_command(straight), check=True, capture_output=True, timeout=300)

    process = subprocess.Popen(train_command(killed), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while checkpoint_step(killed) < 10 and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed; make it longer"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    killed_at = checkpoint_step(killed)
    assert 10 <= killed_at < 40
    assert not in_progress(killed).summary.exists()

    subprocess.run(train_command(killed), check=True, capture_output=True, timeout=300)
    a, b = job_output(straight), job_output(killed)
    summary_a = json.loads(a.summary.read_text())
    summary_b = json.loads(b.summary.read_text())
    assert summary_b["resumed"] is True and summary_a["resumed"] is False
    assert abs(summary_a["final_loss"] - summary_b["final_loss"]) <= 1e-6
    assert losses(a) == pytest.approx(losses(b), abs=1e-6)
    assert len(losses(b)) == 40, "metrics after the checkpoint are replaced, not duplicated"
    assert summary_a["order_fingerprint"] == summary_b["order_fingerprint"]
    assert a.consumed.read_bytes() == b.consumed.read_bytes()


def test_pipeline_counts_a_model_trained_by_the_cli_as_done(tiny_corpus_run, tiny_config, tmp_path):
    run = prepared_run(tiny_corpus_run, tmp_path / "run", tiny_config, steps=6)
    config = tiny_config.model_copy(update={"train": tiny_config.train.model_copy(
        update={**TRAIN_OVERRIDES, "steps": 6})})
    subprocess.run(train_command(run), check=True, capture_output=True, timeout=300)
    before = job_output(run).summary.read_text()
    outcomes = run_pipeline(config, run, until="train")
    assert [o.status for o in outcomes] == ["cached", "cached", "ran"]
    assert JobLayout(RunLayout(run).train.job("bmn_developmental", 0)).summary.read_text() == before
    again = subprocess.run(train_command(run), check=True, capture_output=True, text=True, timeout=300)
    assert "already trained" in again.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ddp_processes_match_one_process_with_the_same_global_batch(tiny_corpus_run, tiny_config, tmp_path):
    single = prepared_run(tiny_corpus_run, tmp_path / "single", tiny_config, steps=8, threads=1)
    double = prepared_run(tiny_corpus_run, tmp_path / "double", tiny_config, steps=8, threads=1)
    subprocess.run(train_command(single), check=True, capture_output=True, timeout=300)
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--num_cpu_threads_per_process", "1", "--main_process_ip", "127.0.0.1",
              "--main_process_port", str(free_port()), "-m"] + train_command(double)[2:]
    result = subprocess.run(launch, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(job_output(double).summary.read_text())
    assert summary["processes"] == 2
    one, two = losses(job_output(single)), losses(job_output(double))
    assert len(one) == len(two) == 8
    assert two == pytest.approx(one, rel=1e-4, abs=1e-4)
    assert one[-1] < one[0]
