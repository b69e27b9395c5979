"""Log-likelihood scoring throughput: rearing's scorer against lm-evaluation-harness's HF backend.

Both score the same multiple-choice items with the same checkpoint: a random-init ``nano`` Llama
(hidden 128, 4 layers, 4 heads, MLP 256, tied 4k vocabulary, 256 positions) saved with
``save_pretrained``, and the smoke run's tokenizer when there is one (else a byte-level BPE trained
here). Items are generated scenarios rendered with three templates (continuation, yes/no judgment,
A/B): prompts of 100-250 tokens, two options of 1-20 tokens, each fitting the context. Both sides run
fp32 on ``--threads`` torch threads and count tokenization in their time.

lm-eval is not a project dependency, so it runs in a worker process under another interpreter, kept
alive for the whole run. Repeats are interleaved (rearing, lm-eval, rearing, lm-eval, ...) so that on
a shared machine every scorer sees the same load; throughput is the median over ``--repeats``.

    python3 -m venv /tmp/venvbench && /tmp/venvbench/bin/pip install torch==2.13.0 \\
        && /tmp/venvbench/bin/pip install lm-eval accelerate -e .
    python bench/bench_scorer.py [--items 300] [--repeats 3] [--lm-eval-python /tmp/venvbench/bin/python]
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
from collections.abc import Callable
from pathlib import Path

import torch

SMOKE_TOKENIZER = Path("/tmp/smokework/runs/smoke/corpus/tokenizer")
DEFAULT_LM_EVAL_PYTHON = "/tmp/venvbench/bin/python"

Run = Callable[[], tuple[float, list[list[float]]]]
"""One timed scoring pass: seconds and the sum log-probability of every option of every item."""


def describe(scenario: dict) -> str:
    agent = scenario["agent"]
    people = " ".join(f"{p['name']} is a {p['role']} ({p['relationship']}) who needs {p['need']}."
                      for p in scenario["stakeholders"])
    return (f"{scenario['setting']} {agent['name']} is a {agent['role']} who wants to {agent['goal']}. "
            f"{people}")


def render_items(scenarios: list[dict], n: int, fits) -> list[tuple[str, list[str]]]:
    """``n`` (prompt, options) pairs, three formats per scenario, kept only if they ``fits`` the context:
    truncation is tested elsewhere, and here would only blur the comparison."""
    items = []
    for scenario in scenarios:
        name, (first, second) = scenario["agent"]["name"], scenario["options"][:2]
        context = describe(scenario)
        items.append((f"{context} What does {name} do next? {name} decides to",
                      [f" {first['action']}.", f" {second['action']}."]))
        items.append((f"{context} {name} chose to {first['action']}. Was that the right thing to do? Answer:",
                      [" Yes", " No"]))
        ab = (f"{context} Option A: {first['action']}. Option B: {second['action']}. "
              f"Which option should {name} take? The better option is")
        items.append((ab, [" A", " B"]))
        items = [item for item in items if fits(item)]
        if len(items) >= n:
            break
    return items[:n]


def build(workdir: Path, n_items: int) -> None:
    """Tokenizer, random-init checkpoint and items, written to ``workdir`` for both sides to read."""
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from rearing.corpus.build import save_hf_tokenizer, train_tokenizer
    from rearing.world.generate import GeneratorSettings, ScenarioGenerator

    scenarios = list(ScenarioGenerator(GeneratorSettings(seed=0)).generate(n_items))
    checkpoint = workdir / "checkpoint"
    if (SMOKE_TOKENIZER / "tokenizer.json").exists():
        tokenizer = AutoTokenizer.from_pretrained(str(SMOKE_TOKENIZER))
    else:
        texts = [describe(s) + " " + " ".join(o["action"] for o in s["options"]) for s in scenarios]
        save_hf_tokenizer(train_tokenizer(texts, vocab_size=4096), checkpoint)
        tokenizer = AutoTokenizer.from_pretrained(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=128, num_hidden_layers=4,
                         num_attention_heads=4, intermediate_size=256, max_position_embeddings=256,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(str(checkpoint))

    def fits(item: tuple[str, list[str]]) -> bool:
        return all(len(tokenizer(item[0] + choice)["input_ids"]) <= config.max_position_embeddings
                   for choice in item[1])

    (workdir / "items.json").write_text(json.dumps(render_items(scenarios, n_items, fits)))


def lm_eval_worker(workdir: Path, threads: int, batch_sizes: list[int]) -> None:
    """lm-eval's side, under the interpreter that has it: for each batch size read on stdin, time one
    ``HFLM.loglikelihood`` pass over all items and answer with one JSON line."""
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    torch.set_num_threads(threads)
    checkpoint = str(workdir / "checkpoint")
    items = json.loads((workdir / "items.json").read_text())
    requests = [Instance(request_type="loglikelihood", doc={}, arguments=(prompt, choice), idx=j)
                for prompt, choices in items for j, choice in enumerate(choices)]
    models = {b: HFLM(pretrained=checkpoint, tokenizer=checkpoint, device="cpu", dtype="float32",
                      batch_size=b) for b in batch_sizes}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        started = time.perf_counter()
        results = models[int(line)].loglikelihood(requests, disable_tqdm=True)
        seconds = time.perf_counter() - started
        logprobs, k = [], 0
        for _, choices in items:
            logprobs.append([results[k + j][0] for j in range(len(choices))])
            k += len(choices)
        print(json.dumps({"seconds": seconds, "logprobs": logprobs}), flush=True)


def start_lm_eval(python: str, workdir: Path, threads: int,
                  batch_sizes: list[int]) -> subprocess.Popen | None:
    """The lm-eval worker, loaded and ready; None (with the reason printed) if it cannot run."""
    if not Path(python).exists():
        print(f"lm-eval skipped: {python} not found (set up its venv as the docstring says, "
              "or pass --lm-eval-python)")
        return None
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "TOKENIZERS_PARALLELISM": "false"}
    command = [python, __file__, "--worker", str(workdir), "--threads", str(threads),
               "--lm-eval-batch-sizes", ",".join(map(str, batch_sizes))]
    log = workdir / "lm_eval.log"  # a file, not a pipe: an unread pipe fills and stalls the worker
    with log.open("w") as stderr:
        worker = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=stderr, text=True)
    if worker.stdout.readline():
        return worker
    worker.wait()
    error = log.read_text()
    if "No module named 'lm_eval'" in error:
        print(f"lm-eval skipped: not installed for {python}")
    else:
        print(f"lm-eval skipped: its worker failed (exit {worker.returncode}):\n{error[-3000:]}")
    return None


def lm_eval_run(worker: subprocess.Popen, batch_size: int) -> Run:
    def run() -> tuple[float, list[list[float]]]:
        worker.stdin.write(f"{batch_size}\n")
        worker.stdin.flush()
        answer = json.loads(worker.stdout.readline())
        return answer["seconds"], answer["logprobs"]

    return run


def rearing_run(model, tokenizer, items, **options) -> Run:
    from rearing.evals.scorer import score_choices

    def run() -> tuple[float, list[list[float]]]:
        started = time.perf_counter()
        scores = score_choices(model, tokenizer, items, **options)
        return time.perf_counter() - started, [s.sum_logprob for s in scores]

    return run


def argmax(values: list[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32, help="Prompts per batch for rearing's scorer.")
    parser.add_argument("--max-tokens-per-batch", type=int, default=4096)
    parser.add_argument("--lm-eval-batch-sizes", default="16,64",
                        help="Requests (prompt + one option) per lm-eval batch, comma-separated; "
                             "each is timed and the fastest is compared.")
    parser.add_argument("--lm-eval-python", default=DEFAULT_LM_EVAL_PYTHON)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    lm_eval_batch_sizes = [int(b) for b in args.lm_eval_batch_sizes.split(",")]
    if args.worker is not None:
        lm_eval_worker(args.worker, args.threads, lm_eval_batch_sizes)
        return

    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(args.threads)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        build(workdir, args.items)
        items = [(prompt, choices) for prompt, choices in json.loads((workdir / "items.json").read_text())]
        checkpoint = str(workdir / "checkpoint")
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        model = AutoModelForCausalLM.from_pretrained(checkpoint, dtype=torch.float32)
        batching = {"batch_size": args.batch_size, "max_tokens_per_batch": args.max_tokens_per_batch}
        runs: dict[str, Run] = {
            "rearing score_choices (prompt cache)": rearing_run(model, tokenizer, items, **batching),
            "rearing score_choices (full sequences)": rearing_run(model, tokenizer, items, prompt_cache=False,
                                                                  **batching),
        }
        worker = start_lm_eval(args.lm_eval_python, workdir, args.threads, lm_eval_batch_sizes)
        if worker is not None:
            runs |= {f"lm-eval HFLM.loglikelihood (batch {b} requests)": lm_eval_run(worker, b)
                     for b in lm_eval_batch_sizes}
        seconds: dict[str, list[float]] = {label: [] for label in runs}
        logprobs: dict[str, list[list[float]]] = {}
        try:
            for _ in range(args.repeats):
                for label, run in runs.items():
                    elapsed, logprobs[label] = run()
                    seconds[label].append(elapsed)
        finally:
            if worker is not None:
                worker.stdin.close()
                worker.wait()

    prompt_tokens = sorted(len(tokenizer(p.rstrip())["input_ids"]) for p, _ in items)
    option_tokens = sorted(len(tokenizer(p + c)["input_ids"]) - len(tokenizer(p.rstrip())["input_ids"])
                           for p, choices in items for c in choices)
    rate = {label: len(items) / statistics.median(times) for label, times in seconds.items()}
    print(f"items: {len(items)} ({sum(len(c) for _, c in items)} options); prompt tokens: median "
          f"{prompt_tokens[len(prompt_tokens) // 2]}, {prompt_tokens[0]}-{prompt_tokens[-1]}; option tokens "
          f"{option_tokens[0]}-{option_tokens[-1]}; fp32, {args.threads} threads, median of {args.repeats} "
          f"interleaved; load average {load[0]:.1f} at start, {os.getloadavg()[0]:.1f} at end "
          f"on {os.cpu_count()} CPUs")
    print(f"{'scorer':<50} {'items/s':>9}")
    for label in runs:
        print(f"{label:<50} {rate[label]:>9.1f}")

    ours_label, full_label, *lm_eval_labels = runs
    ours = logprobs[ours_label]
    same = sum(argmax(a) == argmax(b) for a, b in zip(ours, logprobs[full_label], strict=True))
    print(f"prompt cache / full sequences: {rate[ours_label] / rate[full_label]:.2f}x; "
          f"argmax agreement {same}/{len(items)}")
    if not lm_eval_labels:
        return
    best = max(lm_eval_labels, key=rate.__getitem__)
    theirs = logprobs[best]
    agree = sum(argmax(a) == argmax(b) for a, b in zip(ours, theirs, strict=True))
    gap = max(abs(x - y) for a, b in zip(ours, theirs, strict=True) for x, y in zip(a, b, strict=True))
    margin = min(max(b) - sorted(b)[-2] for b in theirs)
    print(f"rearing (prompt cache) / fastest lm-eval: {rate[ours_label] / rate[best]:.2f}x; "
          f"target >= 1.0x: {'met' if rate[ours_label] >= rate[best] else 'MISSED'}")
    print(f"argmax agreement with lm-eval: {agree}/{len(items)} ({agree / len(items):.1%}); largest "
          f"|sum log-prob difference| {gap:.1e}; smallest lm-eval margin between options {margin:.1e}")


if __name__ == "__main__":
    main()
