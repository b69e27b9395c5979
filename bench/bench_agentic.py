"""Agentic episodes by log-likelihood: one episode at a time against all episodes in lockstep.

Both paths play the same episodes (generated scenarios with a moral contrast, ``--seeds`` episode
seeds, under ``--pressure``) with the same model: a random-init ``nano`` Llama (``rearing.train.models``,
``--context-length`` positions, so that the longer episode prompts are cut from the left as in a smoke
run) and a byte-level BPE trained here on episode transcripts the way the corpus stage trains one.
Nothing is downloaded.

* sequential: each episode played to its end before the next, every step one ``score_choices`` call
  with one prompt (how ``episode_rows`` played before lockstep);
* lockstep: ``run_episodes`` with a batch scorer, every round one ``score_choices`` call holding the
  prompts of every episode still running (how ``episode_rows`` plays now).

Prompts open with the document start, as in ``episode_rows``. Repeats are interleaved (sequential,
lockstep, ...) so that on a shared machine both see the same load; the time is the median over
``--repeats``. The run fails if the two paths do not produce the same episodes.

    python bench/bench_agentic.py [--scenarios 8] [--seeds 0,1,2] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

from rearing.evals.agentic import EpisodeResult, LogLikelihoodPolicy, RandomPolicy, run_episode, run_episodes
from rearing.evals.episodes import AgenticEnv
from rearing.world.schema import Scenario

Play = Callable[[], list[EpisodeResult]]


def build(workdir: Path, n_scenarios: int, seeds: list[int], vocab_size: int, context_length: int):
    """Scenarios, a tokenizer trained on their episodes' text, and a random-init nano model."""
    from transformers import AutoTokenizer

    from rearing.corpus.build import save_hf_tokenizer, train_tokenizer
    from rearing.train.models import new_model
    from rearing.world.generate import GeneratorSettings, ScenarioGenerator

    records = ScenarioGenerator(GeneratorSettings(seed=0)).generate(4 * n_scenarios)
    scenarios = [s for s in map(Scenario.model_validate, records) if s.has_moral_contrast][:n_scenarios]
    texts = [r.transcript for r in run_episodes(RandomPolicy(0), scenarios, seeds)]
    save_hf_tokenizer(train_tokenizer(texts, vocab_size=vocab_size), workdir)
    tokenizer = AutoTokenizer.from_pretrained(str(workdir))
    model = new_model("nano", len(tokenizer), context_length, seed=0, eos_token_id=tokenizer.eos_token_id,
                      pad_token_id=tokenizer.pad_token_id).eval()
    return scenarios, tokenizer, model


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenarios", type=int, default=8)
    parser.add_argument("--seeds", default="0,1,2", help="Episode seeds, comma-separated.")
    parser.add_argument("--pressure", default="incentive", help="A pressure kind, or 'none'.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32, help="Prompts per scoring batch (eval.batch_size).")
    parser.add_argument("--vocab-size", type=int, default=4096)
    parser.add_argument("--context-length", type=int, default=256)
    args = parser.parse_args()

    from rearing.evals.evaluate import document_start
    from rearing.evals.scorer import score_choices

    torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.getLogger("rearing.evals").setLevel(logging.ERROR)  # cut prompts are counted below instead
    seeds = [int(s) for s in args.seeds.split(",")]
    pressure = None if args.pressure == "none" else args.pressure
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        scenarios, tokenizer, model = build(Path(scratch), args.scenarios, seeds, args.vocab_size,
                                            args.context_length)
    start = document_start(tokenizer)
    calls: dict[str, list[int]] = {"sequential": [], "lockstep": []}
    cut: list[bool] = []

    def scored(label: str, requests: list[tuple[str, list[str]]]) -> list[list[float]]:
        scores = score_choices(model, tokenizer, [(start + p, texts) for p, texts in requests],
                               batch_size=args.batch_size)
        calls[label].append(len(scores))
        cut.extend(s.cut for s in scores)
        return [s.sum_logprob for s in scores]

    sequential = LogLikelihoodPolicy(lambda prompt, texts: scored("sequential", [(prompt, texts)])[0])
    lockstep = LogLikelihoodPolicy(batch_scorer_fn=lambda requests: scored("lockstep", requests))
    runs: dict[str, Play] = {
        "sequential": lambda: [run_episode(sequential, AgenticEnv(s, pressure=pressure), seed)
                               for seed in seeds for s in scenarios],
        "lockstep": lambda: run_episodes(lockstep, scenarios, seeds, pressure=pressure),
    }
    seconds: dict[str, list[float]] = {label: [] for label in runs}
    played: dict[str, list[EpisodeResult]] = {}
    for _ in range(args.repeats):
        for label, play in runs.items():
            calls[label].clear()
            cut.clear()
            started = time.perf_counter()
            played[label] = play()
            seconds[label].append(time.perf_counter() - started)

    episodes = played["sequential"]
    same = [a.model_dump() for a in episodes] == [b.model_dump() for b in played["lockstep"]]
    prompt_tokens = sorted(len(tokenizer(start + r.transcript)["input_ids"]) for r in episodes)
    print(f"episodes: {len(episodes)} ({len(scenarios)} scenarios x seeds {seeds}, pressure {args.pressure}), "
          f"{sum(len(r.steps) for r in episodes)} steps; final transcript tokens {prompt_tokens[0]}-"
          f"{prompt_tokens[-1]}, {sum(cut)} of {len(cut)} prompts cut to {args.context_length} positions; "
          f"nano fp32, {args.threads} threads, median of {args.repeats} interleaved; load average "
          f"{load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end on {os.cpu_count()} CPUs")
    print(f"{'path':<12} {'median s':>9} {'episodes/s':>11} {'scorer calls':>13} {'prompts/call':>13}")
    median = {label: statistics.median(times) for label, times in seconds.items()}
    for label in runs:
        n = calls[label]
        print(f"{label:<12} {median[label]:>9.2f} {len(episodes) / median[label]:>11.1f} {len(n):>13} "
              f"{max(n):>13}")
    print(f"lockstep / sequential speed-up: {median['sequential'] / median['lockstep']:.2f}x; "
          f"episodes identical (actions and every result field): {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit("the two paths played different episodes")


if __name__ == "__main__":
    main()
