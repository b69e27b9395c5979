"""The train stage: one model per (condition, seed), each resumable on its own.

Models land in ``train/<condition>/seed_<seed>/``: ``model/`` (``save_pretrained`` + tokenizer),
``metrics.jsonl``, ``consumed.npy`` (window starts in the order they were trained on) and
``train_summary.json``. A job whose summary exists is done; any other job resumes from its last
checkpoint, so a killed ``rearing run`` continues where it stopped.
"""

from __future__ import annotations

from pathlib import Path

from rearing.config import ExperimentConfig
from rearing.pipeline import StageSpec
from rearing.train.loop import SUMMARY, TrainJob, train


def job_dir(stage_dir: Path, condition: str, seed: int) -> Path:
    return stage_dir / condition / f"seed_{seed}"


def conditions_to_train(config: ExperimentConfig) -> list[str]:
    wanted = config.train.conditions or config.corpus.conditions
    unknown = [c for c in wanted if c not in config.corpus.conditions]
    if unknown:
        raise ValueError(f"train.conditions: {unknown} are not built by corpus.conditions")
    return list(wanted)


def make_job(config: ExperimentConfig, run_dir: Path, stage_dir: Path, condition: str, seed: int) -> TrainJob:
    corpus = run_dir / "corpus"
    if not (corpus / condition / "tokens.bin").exists():
        raise FileNotFoundError(f"{corpus / condition}: no token stream for condition '{condition}'; "
                                "run the corpus stage first")
    return TrainJob(condition=condition, seed=seed, stream_dir=corpus / condition,
                    tokenizer_dir=corpus / "tokenizer", out_dir=job_dir(stage_dir, condition, seed))


def run_train(config: ExperimentConfig, run_dir: Path, out_dir: Path, progress: bool = True) -> None:
    for condition in conditions_to_train(config):
        for seed in config.train.seeds:
            job = make_job(config, run_dir, out_dir, condition, seed)
            if not (job.out_dir / SUMMARY).exists():
                train(job, config.train, progress=progress)


def _external_inputs(config: ExperimentConfig) -> list[Path]:
    if not config.train.init_from:
        return []
    return sorted(p for p in Path(config.train.init_from).iterdir() if p.is_file())


TRAIN_STAGE = StageSpec(name="train", sections=("train",), upstream=("corpus",), run=run_train,
                        external_inputs=_external_inputs)
