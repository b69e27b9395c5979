"""The training loop on a small real corpus: order, phases, private spans, determinism, reload."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rearing.config import TrainConfig, load_config
from rearing.corpus.stream import StreamDoc, TokenStream, encode_stream, hf_encoder, stream_written
from rearing.io import InputError
from rearing.layout import JobLayout, RunLayout
from rearing.train import loop
from rearing.train.data import IGNORE, window_starts
from rearing.train.loop import TrainJob, lr_at, train
from rearing.train.stage import make_job


@pytest.fixture
def tiny_train_config(tiny_config):
    def make(**overrides) -> TrainConfig:
        return tiny_config.train.model_copy(update=overrides)

    return make


def job_for(run_dir: Path, out: Path, condition: str, seed: int = 0) -> TrainJob:
    return make_job(RunLayout(run_dir), out, condition, seed)


def metrics(out_dir: Path) -> list[dict]:
    return [json.loads(line) for line in JobLayout(out_dir).metrics.read_text().splitlines()]


def consumed_docs(out_dir: Path, stream_dir: Path) -> list[dict]:
    stream = TokenStream.open(stream_dir)
    docs = stream.docs()
    starts = np.load(JobLayout(out_dir).consumed, allow_pickle=False)
    return [docs[i] for i in stream.doc_index(starts)]


def test_window_starts_keep_stream_order_and_cover_the_slice():
    thinned = window_starts(100, 10_100, 99, 20)
    assert np.all(np.diff(thinned) > 0)
    assert thinned[0] == 100 and thinned[-1] >= 10_100 - 2 * 100
    repeated = window_starts(0, 1001, 100, 25)
    assert list(repeated[:10]) == list(range(0, 1000, 100)) == list(repeated[10:20])
    with pytest.raises(ValueError, match="shorter than one window"):
        window_starts(0, 50, 64, 1)


def test_schedule_warms_up_then_decays_to_the_floor():
    cfg = TrainConfig(warmup_steps=10, min_lr_ratio=0.1)
    rates = [lr_at(s, 100, 1.0, cfg) for s in range(100)]
    assert rates[0] == pytest.approx(0.1) and rates[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in itertools.pairwise(rates[9:]))
    assert rates[-1] == pytest.approx(0.1, abs=1e-3)


def test_developmental_condition_is_trained_in_stage_order(tiny_corpus_run, tmp_path, tiny_train_config):
    cfg = tiny_train_config(steps=16, batch_size=8)
    orders = {}
    for condition in ("bmn_developmental", "bmn_shuffled"):
        job = job_for(tiny_corpus_run, tmp_path / "out", condition)
        train(job, cfg, progress=False)
        stages = [d.stage for d in consumed_docs(job.out_dir, job.stream_dir) if d.kind == "moral"]
        assert len(set(stages)) == 6, condition
        orders[condition] = stages
    assert orders["bmn_developmental"] == sorted(orders["bmn_developmental"])
    assert orders["bmn_shuffled"] != sorted(orders["bmn_shuffled"])


def test_posthoc_trains_general_then_moral_in_two_phases(tiny_corpus_run, tmp_path, tiny_train_config):
    cfg = tiny_train_config(steps=12)
    job = job_for(tiny_corpus_run, tmp_path / "out", "posthoc")
    summary = train(job, cfg, progress=False)
    assert [p["name"] for p in summary["phases"]] == ["general", "moral"]
    assert sum(p["steps"] for p in summary["phases"]) == 12
    phases = [m["phase"] for m in metrics(job.out_dir)]
    assert phases == sorted(phases, key=["general", "moral"].index) and set(phases) == {"general", "moral"}
    kinds = [d.kind for d in consumed_docs(job.out_dir, job.stream_dir)]
    first_moral = kinds.index("moral")
    assert set(kinds[:first_moral]) == {"general"} and set(kinds[first_moral:]) == {"moral"}


def test_the_null_control_trains_on_general_text_in_one_phase(tiny_corpus_run, tmp_path, tiny_train_config):
    job = job_for(tiny_corpus_run, tmp_path / "out", "general_only")
    summary = train(job, tiny_train_config(steps=4), progress=False)
    assert [(p["name"], p["steps"]) for p in summary["phases"]] == [("main", 4)]
    assert {d.kind for d in consumed_docs(job.out_dir, job.stream_dir)} == {"general"}
    assert all(np.isfinite(m["loss"]) for m in metrics(job.out_dir))
    assert JobLayout(job.out_dir).summary.is_file() and (JobLayout(job.out_dir).model / "config.json").is_file()


def test_same_seed_same_losses_and_another_seed_differs(tiny_corpus_run, tmp_path, tiny_train_config):
    cfg = tiny_train_config(steps=6)
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        job = job_for(tiny_corpus_run, tmp_path / name, "flat", seed)
        summary = train(job, cfg, progress=False)
        runs[name] = ([m["loss"] for m in metrics(job.out_dir)], summary["order_fingerprint"])
    assert runs["a"] == runs["b"]
    assert runs["a"][0] != runs["c"][0]
    assert runs["a"][1] == runs["c"][1], "the data order does not depend on the model seed"


def test_explicit_phases_follow_their_slices_and_learning_rates(tiny_corpus_run, tmp_path, tiny_train_config):
    from rearing.config import PhaseConfig

    cfg = tiny_train_config(warmup_steps=0, min_lr_ratio=1.0, phases=[
        PhaseConfig(name="capabilities", slice="general", steps=3, lr=1e-3),
        PhaseConfig(name="values", slice="moral", steps=2, lr=5e-4),
        PhaseConfig(name="elsewhere", data=str(RunLayout(tiny_corpus_run).corpus.stream("flat")), steps=1, lr=2e-4),
    ])
    job = job_for(tiny_corpus_run, tmp_path / "out", "posthoc")
    summary = train(job, cfg, progress=False)
    rows = metrics(job.out_dir)
    assert [(m["phase"], m["lr"]) for m in rows] == [("capabilities", 1e-3)] * 3 + [("values", 5e-4)] * 2 + [
        ("elsewhere", 2e-4)]
    assert summary["phases"][2]["stream"].endswith("flat")


def private_stream(tmp_path: Path, tokenizer_dir: Path) -> tuple[Path, list[tuple[int, int]]]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    docs = []
    for i in range(40):
        visible = f"Mira walked to the market with {i} apples and sold them to the baker. "
        thought = "I wondered quietly whether the baker would pay me back later. "
        text = visible + thought + "Then she went home."
        docs.append(StreamDoc(id=f"d{i}", kind="moral", phase="main", text=text,
                              private=[(len(visible), len(visible) + len(thought))]))
    out = tmp_path / "private_stream"
    encode_stream(out, docs, hf_encoder(tokenizer), tokenizer.eos_token_id, len(tokenizer))
    ranges = [tuple(r) for r in TokenStream.open(out).private]
    return out, ranges


def record_batches(monkeypatch) -> list:
    """(window starts, labels) of every batch the loop builds, as it passes them to the loss."""
    seen = []
    real_make_batch = loop.make_batch

    def recording(stream, starts, context, private):
        inputs, labels = real_make_batch(stream, starts, context, private)
        seen.append((starts.copy(), labels.clone()))
        return inputs, labels

    monkeypatch.setattr(loop, "make_batch", recording)
    return seen


@pytest.mark.parametrize("private_in_loss", [True, False])
def test_private_reasoning_is_masked_in_the_labels_the_loop_sees(tiny_corpus_run, tmp_path, monkeypatch, tiny_train_config,
                                                                  private_in_loss):
    stream_dir, ranges = private_stream(tmp_path, RunLayout(tiny_corpus_run).corpus.tokenizer)
    assert len(ranges) == 40 and all(b > a for a, b in ranges)
    seen = record_batches(monkeypatch)
    cfg = tiny_train_config(steps=3, context_length=32, private_in_loss=private_in_loss)
    job = TrainJob("private", 0, stream_dir, RunLayout(tiny_corpus_run).corpus.tokenizer, tmp_path / "out")
    train(job, cfg, progress=False)
    private_positions = {p for a, b in ranges for p in range(a, b)}
    masked = total_private = 0
    for starts, labels in seen:
        for row, start in zip(labels, starts, strict=True):
            positions = range(int(start) + 1, int(start) + 33)
            for label, position in zip(row.tolist(), positions, strict=True):
                is_private = position in private_positions
                total_private += is_private
                masked += label == IGNORE
                assert (label == IGNORE) == (is_private and not private_in_loss)
    assert total_private > 0
    assert (masked > 0) == (not private_in_loss)


def test_a_narrative_corpus_trains_with_its_deliberation_masked_by_default(tiny_corpus_run, tmp_path, monkeypatch):
    """The corpus's own narratives carry private spans, and the default config never trains on them."""
    from rearing.config import TrainConfig

    run = RunLayout(tiny_corpus_run)
    stream = TokenStream.open(run.corpus.stream("bmn_developmental"))
    private_positions = {p for a, b in stream.private for p in range(int(a), int(b))}
    assert len(stream.private) > 0 and private_positions
    assert TrainConfig().private_in_loss is False
    seen = record_batches(monkeypatch)
    cfg = load_config(None, "smoke").train.model_copy(update={
        "steps": 4, "context_length": 64, "batch_size": 8, "warmup_steps": 1, "threads": 2, "precision": "fp32",
        "checkpoint_every": 100})
    assert cfg.private_in_loss is False
    train(make_job(run, tmp_path / "out", "bmn_developmental", 0), cfg, progress=False)
    masked = hit = 0
    for starts, labels in seen:
        for row, start in zip(labels, starts, strict=True):
            for label, position in zip(row.tolist(), range(int(start) + 1, int(start) + 65), strict=True):
                if position in private_positions:
                    hit += 1
                    masked += label == IGNORE
    assert hit > 0 and masked == hit


def test_trained_model_reloads_with_plain_transformers_and_same_logits(tiny_corpus_run, tmp_path, monkeypatch, tiny_train_config):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    captured = {}
    real_write_final = loop._write_final

    def capture(out_dir, model, tokenizer, consumed, summary):
        captured["model"] = model
        real_write_final(out_dir, model, tokenizer, consumed, summary)

    monkeypatch.setattr(loop, "_write_final", capture)
    cfg = tiny_train_config(steps=4)
    job = job_for(tiny_corpus_run, tmp_path / "out", "flat")
    train(job, cfg, progress=False)
    model_dir = JobLayout(job.out_dir).model
    assert (model_dir / "model.safetensors").exists() and not list(model_dir.glob("*.bin"))
    reloaded = AutoModelForCausalLM.from_pretrained(str(model_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    ids = torch.tensor([tokenizer.encode("Mira kept the promise she made to her neighbour.")])
    with torch.inference_mode():
        expected = captured["model"].eval()(input_ids=ids).logits
        got = reloaded(input_ids=ids).logits
    assert torch.equal(expected, got)
    assert not JobLayout(job.out_dir).checkpoint.exists(), "the last checkpoint is removed once the model is final"


def test_bf16_autocast_trains_close_to_fp32(tiny_corpus_run, tmp_path, tiny_train_config):
    losses = {}
    for precision in ("fp32", "bf16"):
        cfg = tiny_train_config(steps=8, precision=precision)
        job = job_for(tiny_corpus_run, tmp_path / precision, "flat")
        summary = train(job, cfg, progress=False)
        assert summary["precision"] == precision
        losses[precision] = [m["loss"] for m in metrics(job.out_dir)]
    assert losses["fp32"] != losses["bf16"]
    assert max(abs(a - b) for a, b in zip(losses["fp32"], losses["bf16"], strict=True)) < 0.05


def test_fine_tuning_a_local_checkpoint_retokenizes_with_its_own_tokenizer(tiny_corpus_run, tmp_path, tiny_train_config):
    cfg = tiny_train_config(steps=3)
    base = job_for(tiny_corpus_run, tmp_path / "base", "flat")
    train(base, cfg, progress=False)
    tuned_cfg = cfg.model_copy(update={"init_from": str(JobLayout(base.out_dir).model)})
    tuned = job_for(tiny_corpus_run, tmp_path / "tuned", "bmn_developmental")
    summary = train(tuned, tuned_cfg, progress=False)
    assert stream_written(JobLayout(tuned.out_dir).stream())
    assert summary["resumed"] is False and summary["steps"] == 3
    first = metrics(tuned.out_dir)[0]["loss"]
    fresh = job_for(tiny_corpus_run, tmp_path / "fresh", "bmn_developmental")
    train(fresh, cfg, progress=False)
    assert first < metrics(fresh.out_dir)[0]["loss"], "starting from trained weights beats random init"


def test_refuses_pickled_checkpoints(tmp_path):
    from rearing.train.models import load_checkpoint

    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(InputError, match="only safetensors"):
        load_checkpoint(tmp_path)


def test_tensorboard_and_mlflow_receive_the_metrics(tiny_corpus_run, tmp_path, tiny_train_config, monkeypatch):
    pytest.importorskip("mlflow", reason="the tracking extra is part of the test install")
    from mlflow.tracking import MlflowClient
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    uri = f"sqlite:///{tmp_path / 'tracking.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    cfg = tiny_train_config(steps=4, loggers=["tensorboard", "mlflow"])
    job = job_for(tiny_corpus_run, tmp_path / "out", "flat")
    train(job, cfg, progress=False)
    expected = [m["loss"] for m in metrics(job.out_dir)]
    events = EventAccumulator(str(JobLayout(job.out_dir).tensorboard))
    events.Reload()
    assert [round(e.value, 4) for e in events.Scalars("train/loss")] == [round(v, 4) for v in expected]
    client = MlflowClient(uri)
    run = client.search_runs([client.get_experiment_by_name("rearing").experiment_id])[0]
    history = client.get_metric_history(run.info.run_id, "loss")
    assert [h.value for h in sorted(history, key=lambda h: h.step)] == pytest.approx(expected)
    assert run.data.params["context_length"] == str(cfg.context_length)
