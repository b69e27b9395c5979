"""Learnability: does one condition learn the in-distribution task at a budget, and when?

Trains one condition of a run (its world and corpus built, or built here from a preset) and, at
snapshots along the way, scores the positive control: items in the format whose question the
condition's documents ask and answer (outcomes shown; beside it, outcomes hidden) on held-out
scenarios and on scenarios it trained on, by the
calibrated and the summed rule, beside the training loss. Run it before spending hours on a grid:
if the condition an arm is built from cannot learn its own format, no verdict can say anything.

    python bench/bench_learnability.py --run runs/smoke --condition principle_flat --steps 600 \
        [--model micro] [--lr 3e-3] [--batch-size 4] [--every 150] [--scenarios 60] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path


def control_items(config, run, condition: str, scenarios: int):
    """Items in the format the condition practises, outcomes shown and hidden, on held-out and on
    training scenarios (the latter labelled by their own suite names), with their keys."""
    from rearing.corpus.build import run_conditions
    from rearing.evals.items import build_items
    from rearing.evals.stage import read_splits
    from rearing.evals.suites import Suite

    conditions = run_conditions(config)
    practised = conditions[condition].practised_format
    if practised is None:
        raise SystemExit(f"{condition} states no verdict (no practised_format): it has no positive control")
    suites = {f"{name}{where}": Suite(kind="items", split="eval", view=view, formats=[practised])
              for name, view in (("shown", "plain"), ("hidden", "hidden")) for where in ("", "_trained")}
    splits = read_splits(run, ("train", "eval"))
    held = {k: v for k, v in suites.items() if not k.endswith("_trained")}
    trained = {k: v for k, v in suites.items() if k.endswith("_trained")}
    items, keys, _ = build_items({"eval": splits["eval"]}, config.seed, held, conditions, scenarios,
                                 max_outcomes=config.eval.max_outcomes)
    more, more_keys, _ = build_items({"eval": splits["train"]}, config.seed, trained, conditions, scenarios,
                                     max_outcomes=config.eval.max_outcomes)
    return items + more, {k.item_id: k for k in keys + more_keys}


VERDICT_ASKED = re.compile(r"Is it right for [^?]+\?(?= (Yes|No)\b)")


def own_documents(config, run, condition: str, scenarios: int) -> dict[str, list[tuple[str, int]]]:
    """The condition's own document for held-out and for trained scenarios, cut right after the last
    verdict question it asks, with the index of its answer among (" Yes", " No"): the lesson read in
    the very text it was trained on, so a gap to the items is the item format's, not the lesson's."""
    from rearing.corpus.build import run_conditions
    from rearing.corpus.conditions import renderer_function
    from rearing.evals.stage import read_splits
    from rearing.text import seeded_rng

    render = renderer_function(run_conditions(config)[condition])
    splits = read_splits(run, ("train", "eval"))
    out = {}
    for name, split in (("own", "eval"), ("own_trained", "train")):
        docs = []
        for scenario in sorted(splits[split], key=lambda s: s.id)[:scenarios]:
            text = render(scenario, seeded_rng(config.seed, "learnability", scenario.id)).text
            asked = list(VERDICT_ASKED.finditer(text))
            if asked:
                docs.append((text[:asked[-1].end()], ["Yes", "No"].index(asked[-1].group(1))))
        out[name] = docs
    return out


def score(path: Path, items, keys, own, eval_cfg) -> dict:
    """Accuracy per suite under the calibrated and the summed rule; on the condition's own documents,
    by the summed rule (they have no content-free twin), with the share answered " Yes"."""
    from rearing.evals.evaluate import ModelRef, item_rows, load_model
    from rearing.evals.scorer import score_choices

    model, tokenizer = load_model(path)
    rows = item_rows(model, tokenizer, ModelRef(path, path.name), items, keys, eval_cfg)
    out = {}
    for suite in dict.fromkeys(r.suite for r in rows):
        mine = [r for r in rows if r.suite == suite]
        out[suite] = {rule: round(sum(getattr(r, f"correct_{rule}") for r in mine) / len(mine), 3)
                      for rule in ("calibrated", "sum")} | {"n": len(mine)}
    for name, docs in own.items():
        if docs:
            picks = [s.choice() for s in score_choices(model, tokenizer, [(p, [" Yes", " No"]) for p, _ in docs])]
            out[name] = {"sum": round(sum(p == a for p, (_, a) in zip(picks, docs)) / len(docs), 3),
                         "yes": round(picks.count(0) / len(picks), 3), "n": len(docs)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="A run with its world and corpus (else --preset is built).")
    parser.add_argument("--preset", default="smoke")
    parser.add_argument("--condition", default="principle_flat")
    parser.add_argument("--model", default=None, help="Model preset (default: the run's).")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--every", type=int, default=150, help="Steps between snapshots scored.")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--scenarios", type=int, default=60, help="Scenarios per suite scored.")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="Write the curve as JSON here.")
    parser.add_argument("--keep", type=Path, help="Copy the final model here (to probe or score it further).")
    args = parser.parse_args()

    from rearing.config import load_config
    from rearing.io import read_json
    from rearing.layout import JobLayout, RunLayout
    from rearing.pipeline import run_pipeline
    from rearing.train.loop import train
    from rearing.train.stage import make_job

    if args.run is None:
        args.run = Path(tempfile.mkdtemp(prefix="learnability_")) / "run"
        run_pipeline(load_config(preset=args.preset), args.run, until="corpus")
    run = RunLayout(args.run)
    from rearing.config import ExperimentConfig

    config = ExperimentConfig.model_validate(read_json(run.manifest)["config"])
    changes = {"steps": args.steps, "threads": args.threads, "loggers": [], "checkpoint_every": args.steps,
               "warmup_steps": min(config.train.warmup_steps, args.steps // 10)}
    changes |= {k: v for k, v in (("model", args.model), ("lr", args.lr), ("batch_size", args.batch_size)) if v}
    cfg = config.train.model_copy(update=changes)
    snapshots = sorted({*range(args.every, args.steps, args.every), args.steps})
    items, keys = control_items(config, run, args.condition, args.scenarios)
    own = own_documents(config, run, args.condition, args.scenarios)

    with tempfile.TemporaryDirectory() as work:
        job = make_job(run, Path(work), args.condition, args.seed)
        started = time.perf_counter()
        summary = train(job, cfg, progress=False, snapshots=snapshots)
        seconds = time.perf_counter() - started
        losses = {m["step"]: m["loss"] for m in map(json.loads, JobLayout(job.out_dir).metrics.read_text().splitlines())}
        curve = []
        for step in snapshots:
            path = JobLayout(job.out_dir).snapshot(step) if step < args.steps else JobLayout(job.out_dir).model
            loss = losses.get(step, losses[max(s for s in losses if s <= step)])
            curve.append({"step": step, "tokens": step * cfg.batch_size * cfg.context_length,
                          "loss": round(loss, 4), "accuracy": score(path, items, keys, own, config.eval)})
        if args.keep:
            shutil.copytree(JobLayout(job.out_dir).model, args.keep, dirs_exist_ok=True)

    print(f"{args.condition}: {cfg.model}, {summary['parameters']:,} parameters, {args.steps} steps of "
          f"{cfg.batch_size}x{cfg.context_length} tokens at lr {cfg.lr}, {seconds:.0f} s training")
    suites = list(curve[0]["accuracy"])
    print("step    tokens    loss  " + "  ".join(f"{s:>16}" for s in suites) + "   (calibrated / sum)")
    for point in curve:
        cells = "  ".join(f"{a.get('calibrated', a['sum']):>7.3f} / {a['sum']:<6.3f}" for a in point["accuracy"].values())
        print(f"{point['step']:>4} {point['tokens']:>9,} {point['loss']:>7.3f}  {cells}")
    counts = ", ".join(f"{s} {curve[0]['accuracy'][s]['n']}" for s in suites)
    print(f"items per suite: {counts}")
    if args.out:
        args.out.write_text(json.dumps({"config": cfg.model_dump(mode="json"), "condition": args.condition,
                                        "train_seconds": seconds, "curve": curve}, indent=2))


if __name__ == "__main__":
    main()
