"""Corpus build throughput (template backend): tokens written per second, per stage of the build.

Builds the smoke preset's corpus (all conditions) from a fresh world, several times, and reports
the median. Reference in the same run: tokenizing the same text with the trained tokenizer alone,
i.e. the floor any builder pays; the ratio shows what rendering, ordering and writing add.

    python bench/bench_corpus_build.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from rearing.config import load_config
from rearing.corpus.build import build_corpus
from rearing.layout import CorpusLayout
from rearing.world.generate import GeneratorSettings, ScenarioGenerator
from rearing.world.schema import Scenario
from rearing.world.split import split_scenarios


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--preset", default="smoke")
    args = parser.parse_args()
    config = load_config(preset=args.preset)
    generator = ScenarioGenerator(GeneratorSettings(seed=config.seed))
    scenarios = [Scenario.model_validate(r) for r in generator.generate(config.world.n_scenarios)]
    train = split_scenarios(scenarios, config.world.split, config.seed).splits["train"]
    seconds, tokens, ref_seconds = [], 0, []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            started = time.perf_counter()
            stats = build_corpus(config, train, out)
            seconds.append(time.perf_counter() - started)
            tokens = sum(s["tokens"] for s in stats.values())
            from tokenizers import Tokenizer

            built = CorpusLayout(out)
            tokenizer = Tokenizer.from_file(str(built.tokenizer / "tokenizer.json"))
            texts = [line for c in stats for line in (built.stream(c) / "docs.jsonl").read_text().splitlines()]
            started = time.perf_counter()
            tokenizer.encode_batch(texts)
            ref_seconds.append(time.perf_counter() - started)
    build_s, ref_s = statistics.median(seconds), statistics.median(ref_seconds)
    print(f"preset {args.preset}: {len(train)} training scenarios, {len(stats)} conditions, "
          f"{tokens:,} tokens written; median of {args.repeats}")
    print(f"full build (render+tokenizer training+encode+write): {build_s:6.2f}s  {tokens / build_s:>12,.0f} tokens/s")
    print(f"reference: encode the same documents only:            {ref_s:6.2f}s  {tokens / ref_s:>12,.0f} tokens/s")
    print(f"ratio build/reference throughput: {ref_s / build_s:.2f}")
    for name, row in stats.items():
        print(f"  {name:<20} docs {row['documents']:>6}  tokens {row['tokens']:>9,}  moral {row['moral_tokens']:>9,}"
              f"  share {row['moral_token_share']:.3f}  density {row['moral_vocabulary_density']:.4f}"
              f"  3grams {row['distinct_3grams']:>8,}  mean {row['mean_doc_tokens']}")


if __name__ == "__main__":
    main()
