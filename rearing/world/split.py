"""Train / eval / shift splits with a contamination gate.

* ``shift_domain``: scenarios of held-out domains (never in train) in training vocabulary;
* ``shift_vocab``: scenarios of training domains drawn from the reserved vocabulary partition
  (names, objects and phrasings disjoint from train);
* scenarios that are both are excluded (a double shift would confound the two measurements);
* ``eval``: a seeded share of the remaining in-distribution scenarios; the rest is ``train``.

Any eval or shift scenario that shares an n-gram with the train scenarios is removed and listed
in the report, then the check is run again: the written splits are contamination-free by
construction, and the report says what that cost.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rearing.config import SplitConfig
from rearing.io import write_json_atomic
from rearing.layout import HELD_OUT_SPLITS, SPLITS, SplitsLayout
from rearing.world.contamination import ContaminationReport, NgramIndex, check_contamination
from rearing.world.schema import Scenario, scenario_texts
from rearing.world.store import write_scenarios


@dataclass
class SplitResult:
    splits: dict[str, list[Scenario]]
    excluded: dict[str, str] = field(default_factory=dict)  # scenario id -> reason
    contamination_before: ContaminationReport | None = None
    contamination_after: ContaminationReport | None = None
    warnings: list[str] = field(default_factory=list)

    def report(self) -> dict:
        return {
            "counts": {name: len(items) for name, items in self.splits.items()},
            "domains": {
                name: dict(sorted(Counter(s.domain for s in items).items()))
                for name, items in self.splits.items()
            },
            "stages": {
                name: {str(k): v for k, v in sorted(Counter(s.stage for s in items).items(), key=lambda kv: (kv[0] is None, kv[0] or 0))}
                for name, items in self.splits.items()
            },
            "excluded": {
                "count": len(self.excluded),
                "by_reason": dict(Counter(self.excluded.values())),
                "ids": self.excluded,
            },
            "contamination_before": self.contamination_before.to_dict() if self.contamination_before else None,
            "contamination_after": self.contamination_after.to_dict() if self.contamination_after else None,
            "warnings": self.warnings,
        }


def split_scenarios(scenarios: list[Scenario], config: SplitConfig, seed: int) -> SplitResult:
    heldout_domains = set(config.heldout_domains)
    present = {s.domain for s in scenarios}
    warnings = [
        f"held-out domain '{d}' does not occur in the scenarios" for d in sorted(heldout_domains - present)
    ]
    if not any(s.provenance.vocab_group for s in scenarios):
        warnings.append("no scenario records a vocabulary group: the vocabulary-shift set is empty")

    splits: dict[str, list[Scenario]] = {name: [] for name in SPLITS}
    excluded: dict[str, str] = {}
    in_distribution: list[Scenario] = []
    for scenario in scenarios:
        reserved = scenario.provenance.vocab_group == config.heldout_vocab_group
        held_domain = scenario.domain in heldout_domains
        if reserved and held_domain:
            excluded[scenario.id] = "double shift (held-out domain and vocabulary)"
        elif held_domain:
            splits["shift_domain"].append(scenario)
        elif reserved:
            splits["shift_vocab"].append(scenario)
        else:
            in_distribution.append(scenario)

    rng = random.Random(seed)
    n_eval = round(len(in_distribution) * config.eval_fraction)
    eval_ids = {s.id for s in rng.sample(in_distribution, n_eval)}
    for scenario in in_distribution:
        splits["eval" if scenario.id in eval_ids else "train"].append(scenario)

    index = NgramIndex((text for s in splits["train"] for text in scenario_texts(s)), n=config.contamination_n)
    before = _check(splits, index)
    dropped = set(before.contaminated_ids)
    for name in HELD_OUT_SPLITS:
        for scenario in splits[name]:
            if scenario.id in dropped:
                excluded[scenario.id] = f"{name}: shares a {config.contamination_n}-gram with train"
        splits[name] = [s for s in splits[name] if s.id not in dropped]
    after = _check(splits, index)
    if not after.ok:
        raise RuntimeError("contamination remained after removal; this is a bug in the split")
    return SplitResult(splits, excluded, before, after, warnings)


def removal_by_frame(scenarios: list[Scenario], result: SplitResult) -> dict[str, dict[str, float]]:
    """Per generator frame (and ``all``): held-out scenarios before the contamination gate, how
    many it removed, and the share: the gate must not shrink or skew the eval set."""
    frame_of = {s.id: s.provenance.frame or s.provenance.source for s in scenarios}
    removed = Counter(frame_of[i] for i, why in result.excluded.items() if "-gram with train" in why)
    held = Counter(frame_of[s.id] for name in HELD_OUT_SPLITS for s in result.splits[name])
    out = {}
    for frame in sorted(set(held) | set(removed)) + ["all"]:
        kept = sum(held.values()) if frame == "all" else held[frame]
        dropped = sum(removed.values()) if frame == "all" else removed[frame]
        out[frame] = {"heldout": kept + dropped, "removed": dropped,
                      "share": round(dropped / max(kept + dropped, 1), 4)}
    return out


def _check(splits: dict[str, list[Scenario]], index: NgramIndex) -> ContaminationReport:
    candidates = ((s.id, scenario_texts(s)) for name in HELD_OUT_SPLITS for s in splits[name])
    return check_contamination(candidates, index, n=index.n)


def write_split(result: SplitResult, out: SplitsLayout | str | Path) -> dict[str, Path]:
    """Write each split and the report atomically into a splits folder (a ``SplitsLayout``, or its
    directory); returns the written paths by split name, and ``report``."""
    target = out if isinstance(out, SplitsLayout) else SplitsLayout(Path(out))
    paths = {}
    for name in SPLITS:
        paths[name] = target.split(name)
        write_scenarios(paths[name], result.splits[name])
    paths["report"] = target.report
    write_json_atomic(paths["report"], result.report())
    return paths
