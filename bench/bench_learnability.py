"""Learnability: does one condition learn its own lesson at a budget, and when?

``rearing learnability`` on a run, or on a preset's world and corpus built here first: at snapshots
over training tokens, beside the loss, the condition's items in its practised format (outcomes shown
and hidden; held-out and trained scenarios; summed and calibrated) and its own documents cut after
their last verdict question (rearing/evals/learnability.py says what each reading means).

    python bench/bench_learnability.py --preset small --condition principle_flat --steps 1300 --every 325
    python bench/bench_learnability.py --run runs/small --condition bmn_developmental [--model micro] \
        [--lr 3e-3] [--batch-size 4] [--scenarios 60] [--out FILE] [--keep DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", type=Path, help="A run with its world and corpus (else --preset is built).")
    parser.add_argument("--preset", default="small")
    parser.add_argument("--condition", default="principle_flat")
    parser.add_argument("--model", default=None, help="Model preset (default: the run's).")
    parser.add_argument("--steps", type=int, default=1300)
    parser.add_argument("--every", type=int, default=325, help="Steps between snapshots read.")
    parser.add_argument("--lr", type=float, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--scenarios", type=int, default=60, help="Scenarios per set of prompts.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="Write the curve as JSON here.")
    parser.add_argument("--keep", type=Path, help="Copy the final model here.")
    args = parser.parse_args()

    from rearing.config import load_config
    from rearing.evals.learnability import curve_table, learnability
    from rearing.pipeline import run_pipeline

    if args.run is None:
        args.run = Path(tempfile.mkdtemp(prefix="learnability_")) / "run"
        run_pipeline(load_config(preset=args.preset), args.run, until="corpus")
    curve = learnability(args.run, args.condition, args.steps, args.every, args.scenarios, args.seed, args.keep,
                         model=args.model, lr=args.lr, batch_size=args.batch_size)
    print("\n".join(curve_table(curve)))
    if args.out:
        args.out.write_text(curve.to_json() + "\n")


if __name__ == "__main__":
    main()
