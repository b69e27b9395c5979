"""The tiny run's grid on a process pool and on Ray gives what the serial run gives, file for file."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import threading
import time
from pathlib import Path

from rearing.config import load_config
from rearing.io import read_json
from rearing.layout import RunLayout
from rearing.pipeline import run_pipeline

GRID_STAGES = ("train", "eval", "probe")
"""The stages that run as cells; the Ray test stops after eval (train and eval cover what crosses the
object store: models, and the attacked copies the probes read), so the suite stays short."""
TIMED = ("metrics.jsonl", "train_summary.json")
"""Training's own logs carry wall-clock speed; what they say about the model is compared separately."""


def grid_files(run: Path, stages=GRID_STAGES) -> dict[str, str]:
    return {p.relative_to(run).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for stage in stages for p in sorted((run / stage).rglob("*")) if p.is_file() and p.name not in TIMED}


def losses(run: Path) -> dict[str, list]:
    return {p.parent.name + "/" + p.parent.parent.name: [(r["step"], r["loss"], r["grad_norm"]) for r in map(
        json.loads, p.read_text().splitlines())] for p in (run / "train").rglob("metrics.jsonl")}


def assert_same_grid(run: Path, serial: Path, stages=GRID_STAGES) -> None:
    ours, theirs = grid_files(run, stages), grid_files(serial, stages)
    assert sorted(ours) == sorted(theirs), "a cell's files are missing or extra"
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert losses(run) == losses(serial)
    ours, theirs = (read_json(RunLayout(r).manifest)["stages"]["train"]["key"] for r in (run, serial))
    assert ours == theirs, "the executor is not part of a stage's key"


def grid_run(tiny_corpus_run: Path, tmp_path: Path, tiny_config_file, executor: str) -> tuple[Path, object]:
    run = tmp_path / "run"
    shutil.copytree(tiny_corpus_run, run)
    return run, load_config(tiny_config_file(tmp_path, executor))


def test_the_process_pool_gives_the_serial_results(tiny_corpus_run, tiny_analysed_run, tmp_path, tiny_config_file):
    run, config = grid_run(tiny_corpus_run, tmp_path, tiny_config_file, "executor: {kind: local, workers: 2}")
    run_pipeline(config, run, until="probe")
    assert_same_grid(run, tiny_analysed_run)
    assert read_json(RunLayout(run).manifest)["stages"]["eval"]["executor"] == "local"


def kill_first(title: str, killed: list[int], stop: threading.Event) -> None:
    """Kill the first Ray worker whose process title starts with ``title``, a second into its task."""
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except (OSError, ValueError):
                continue
            if cmdline.startswith(title):
                time.sleep(1.0)
                os.kill(int(pid), signal.SIGKILL)
                killed.append(int(pid))
                return
        time.sleep(0.05)


def test_ray_gives_the_serial_results_with_a_worker_killed_mid_task_and_no_shared_filesystem(
        ray_instance, tiny_corpus_run, tiny_analysed_run, tmp_path, tiny_config_file):
    run, config = grid_run(tiny_corpus_run, tmp_path, tiny_config_file,
                           "executor: {kind: ray, shared_filesystem: 'no'}")
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=kill_first, args=("ray::train posthoc", killed, stop), daemon=True)
    killer.start()
    try:
        run_pipeline(config, run, until="eval")
    finally:
        stop.set()
        killer.join()
    assert killed, "no training cell was seen running, so none was killed"
    assert_same_grid(run, tiny_analysed_run, ("train", "eval"))
    results = RunLayout(run).eval.results
    import pyarrow.parquet as pq

    table = pq.read_table(results).to_pylist()
    keys = [(r["model"], r["suite"], r["item_id"], r["attack"], r["attack_k"]) for r in table]
    assert len(keys) == len(set(keys)), "a retried cell duplicated rows"
