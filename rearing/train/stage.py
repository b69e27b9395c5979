"""The train stage: one model per (condition, seed), each resumable on its own.

Models land in ``train/<condition>/seed_<seed>/`` (see ``rearing.layout.TrainLayout``): ``model/``
(``save_pretrained`` + tokenizer), ``metrics.jsonl``, ``consumed.npy`` (window starts in the order
they were trained on) and ``train_summary.json``. A job whose summary exists is done; any other job
resumes from its last checkpoint, so a killed ``rearing run`` continues where it stopped.
"""

from __future__ import annotations

from pathlib import Path

from rearing.cells import Cell, Executor, relative
from rearing.config import ExperimentConfig, TrainConfig
from rearing.corpus.stream import stream_written
from rearing.layout import JobLayout, RunLayout, StageSpec, TrainLayout, model_name
from rearing.train.loop import TrainJob, train


def conditions_to_train(config: ExperimentConfig) -> list[str]:
    """The run's trained conditions (the config has checked they are all built)."""
    return list(config.train.conditions or config.corpus.conditions)


def make_job(run: RunLayout, out_dir: Path, condition: str, seed: int) -> TrainJob:
    """One model's training job: the condition's stream from the run's corpus, written under ``out_dir``."""
    stream = run.corpus.stream(condition)
    if not stream_written(stream):
        raise FileNotFoundError(f"{stream}: no token stream for condition '{condition}'; run the corpus stage first")
    return TrainJob(condition=condition, seed=seed, stream_dir=stream, tokenizer_dir=run.corpus.tokenizer,
                    out_dir=TrainLayout(out_dir).job(condition, seed))


def is_trained(job: TrainJob) -> bool:
    return JobLayout(job.out_dir).summary.exists()


def train_cell(root: Path, out_dir: str, condition: str, seed: int, cfg: TrainConfig, progress: bool) -> None:
    """One model's training (a cell): resumes from its last checkpoint, does nothing once trained."""
    job = make_job(RunLayout(root), root / out_dir, condition, seed)
    if not is_trained(job):
        train(job, cfg, progress=progress)


def run_train(config: ExperimentConfig, run: RunLayout, out_dir: Path, executor: Executor) -> None:
    """Every (condition, seed) not yet trained, as cells: each reads its condition's token stream and the
    tokenizer, and writes its own model folder."""
    cells = []
    for condition in conditions_to_train(config):
        for seed in config.train.seeds:
            job = make_job(run, out_dir, condition, seed)
            if is_trained(job):
                continue
            cells.append(Cell(
                name=f"train {model_name(condition, seed)}", work=train_cell,
                args=(relative(out_dir, run.root), condition, seed, config.train, executor.name == "serial"),
                reads=(relative(job.stream_dir, run.root), relative(job.tokenizer_dir, run.root)),
                writes=(relative(job.out_dir, run.root),)))
    executor.run("train", cells, run.root)


def _external_inputs(config: ExperimentConfig) -> list[Path]:
    if not config.train.init_from:
        return []
    return sorted(p for p in Path(config.train.init_from).iterdir() if p.is_file())


TRAIN_STAGE = StageSpec(name="train", sections=("train",), upstream=("corpus",), run=run_train,
                        external_inputs=_external_inputs, cells=True)
