"""Generator throughput on one core, and the bag-of-words shortcut accuracy.

Measured side by side in one run: the CLI path (dict records -> canonical JSON lines) and, as the
reference a user would write first, the same records validated into pydantic ``Scenario`` objects and
dumped with ``model_dump_json``. Medians over repeats, since these machines are noisy.

    python bench/bench_world_generate.py [--n 20000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from rearing.world.generate import GeneratorSettings, ScenarioGenerator, generate_jsonl_lines
from rearing.world.schema import Scenario


def rate(fn, n: int, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return n / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    generator = ScenarioGenerator(GeneratorSettings(seed=0))
    n = args.n

    def cli_path() -> None:
        for _ in generate_jsonl_lines(generator, n):
            pass

    def pydantic_path() -> None:
        for record in generator.generate(n):
            Scenario.model_validate(record).model_dump_json()

    ours = rate(cli_path, n, args.repeats)
    reference = rate(pydantic_path, n, args.repeats)
    print(f"scenarios: {n}, repeats: {args.repeats}, one core")
    print(f"{'path':<40} {'scenarios/s':>12}")
    print(f"{'generate -> JSON lines (rearing)':<40} {ours:>12,.0f}")
    print(f"{'generate -> pydantic -> JSON (reference)':<40} {reference:>12,.0f}")
    print(f"ratio rearing/reference: {ours / reference:.2f}x; target >= 5,000/s: "
          f"{'met' if ours >= 5000 else 'MISSED'}")

    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    from rearing.config import SplitConfig
    from rearing.world.split import removal_by_frame, split_scenarios

    scenarios = [Scenario.model_validate(r) for r in generator.generate(min(n, 10000))]
    result = split_scenarios(scenarios, SplitConfig(), seed=0)

    def xy(items):
        pairs = [(o.action, o.valence.value) for s in items for o in s.options]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    for ngrams in ((1, 1), (1, 2)):
        vectorizer = CountVectorizer(ngram_range=ngrams)
        x, y = xy(result.splits["train"])
        classifier = LogisticRegression(max_iter=3000).fit(vectorizer.fit_transform(x), y)
        scores = {name: classifier.score(vectorizer.transform(xy(result.splits[name])[0]),
                                         xy(result.splits[name])[1])
                  for name in ("eval", "shift_domain", "shift_vocab")}
        print(f"bag-of-words {ngrams} on action texts, train -> " +
              ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))
    counts = {k: len(v) for k, v in result.splits.items()}
    print(f"split of {len(scenarios)}: {counts}")
    removal = removal_by_frame(scenarios, result)
    average = removal["all"]["share"]
    print(f"contamination gate: removed {removal['all']['removed']} of {removal['all']['heldout']} held-out "
          f"scenarios ({average:.1%}; target <= 5%)")
    for frame, row in removal.items():
        if frame != "all":
            flag = "  over twice the average" if row["share"] > 2 * average else ""
            print(f"  {frame:<24} {row['removed']:>4} of {row['heldout']:>5}  {row['share']:.1%}{flag}")


if __name__ == "__main__":
    main()
