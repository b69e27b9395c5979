"""Procedural scenario generator.

Builds scenarios from the frames and shared phrasings in ``data/frames.yaml`` (see
:mod:`rearing.world.frames`), the vocabulary pools in ``data/vocab.yaml`` (:mod:`rearing.world.vocab`)
and the difficulty factors of the developmental ladder: the generator holds no phrasing of its own.
Design rules that keep it honest as an experimental instrument:

* valence comes from the situation: every action family appears as prosocial in one frame and as
  harmful in its mirror frame, with the same phrasings, so action words carry no valence signal;
* the two options are drawn to similar lengths and shuffled;
* vocabulary and phrasings are split into a ``main`` and a ``reserved`` partition; a scenario
  draws everything from one partition so a held-out-vocabulary shift set can be carved out;
* each scenario has its own RNG seeded from ``(seed, index)``: same seed, same bytes, and any
  index can be regenerated alone.

Records are built as plain dicts for speed (thousands per second); they conform to
:class:`rearing.world.schema.Scenario`, which the tests check on every generated record.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rearing.text import sentence
from rearing.world.frames import FrameFile, load_frames
from rearing.world.ladder import Ladder, load_ladder
from rearing.world.schema import SCHEMA_VERSION, Foundation, Pressure
from rearing.world.vocab import (
    Vocab,
    default_vocab_path,  # noqa: F401  (the corpus stage imports it from here)
    load_vocab,
)

VOCAB_GROUPS = ("main", "reserved")
SOCIAL_KEYS = (
    "trust_up", "trust_down", "reputation_up", "reputation_down", "relationship_up",
    "relationship_down", "gain_self", "cost_self", "unseen", "partly_seen", "seen", "reward", "conflict",
)
FRAME_PARTS = (
    "situation", "need_explicit", "need_cue", "harm_now", "harm_later", "spared_now", "spared_later",
    "principle",
)
DELAY_SCORE = {"none": 0.0, "short": 0.5, "long": 1.0}
VISIBILITY_SCORE = {"observed": 0.0, "partly": 0.5, "unobserved": 1.0}
PRESSURE_ORDER = [p.value for p in Pressure]
FOUNDATION_ORDER = [f.value for f in Foundation]


def __getattr__(name: str) -> Any:
    """``DIGITAL_DOMAINS``: the packaged vocabulary's digital domains, read on first use."""
    if name == "DIGITAL_DOMAINS":
        return frozenset(load_vocab().digital_domains)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def partition(pool: list | tuple, group: str) -> tuple:
    """Split a pool into disjoint main/reserved parts (every 4th entry is reserved)."""
    if len(pool) < 2:
        return tuple(pool)
    reserved = group == "reserved"
    return tuple(x for i, x in enumerate(pool) if (i % 4 == 0) == reserved)


def _indexed(pool: list | tuple, group: str, prefix: str) -> tuple[tuple[str, str], ...]:
    """Partitioned pool of (template id, text) pairs, ids stable across partitions."""
    pairs = [(f"{prefix}.{i}", text) for i, text in enumerate(pool)]
    return partition(pairs, group)


@dataclass(frozen=True)
class GeneratorSettings:
    """What the generator needs from the config; kept separate so the world stage owns it."""

    seed: int = 0
    vocab_holdout_fraction: float = 0.2
    domains: tuple[str, ...] | None = None


class _Pools:
    """Every pool the generator samples from, pre-partitioned for one vocabulary group."""

    def __init__(self, vocab: Vocab, frames: FrameFile, group: str):
        phrasings = frames.phrasings
        self.names = partition(vocab.names, group)
        self.domains = {
            name: {key: partition(values, group) for key, values in pools}
            for name, pools in vocab.domains.items()
        }
        self.context = _indexed(phrasings.context, group, "context")
        self.when = partition(phrasings.when, group)
        self.later = {
            "short": partition(phrasings.later_short, group),
            "long": partition(phrasings.later_long, group),
        }
        self.social = {key: _indexed(getattr(phrasings, key), group, key) for key in SOCIAL_KEYS}
        self.bystander_need = partition(phrasings.bystander_need, group)
        self.relationships = partition(phrasings.relationships, group)
        self.frames = {
            f.name: {part: _indexed(getattr(f, part), group, f"{f.name}.{part}") for part in FRAME_PARTS}
            for f in frames.frames
        }
        self.actions = {}
        for name, family in frames.families.items():
            for pole in ("a", "b"):
                for digital in (False, True):
                    texts = getattr(family, f"pole_{pole}{'_digital' if digital else ''}")
                    prefix = f"{name}.{pole}{'.digital' if digital else ''}"
                    self.actions[(name, pole, digital)] = _indexed(texts, group, prefix)


class ScenarioGenerator:
    """Generates scenario dicts; ``generate(n)`` yields them in index order."""

    def __init__(
        self,
        settings: GeneratorSettings,
        ladder: Ladder | None = None,
        vocab: Vocab | None = None,
        frames: FrameFile | None = None,
    ):
        self.settings = settings
        self.ladder = ladder or load_ladder()
        vocab = vocab or load_vocab()
        frames = frames or load_frames()
        domains = settings.domains or tuple(vocab.domains)
        unknown = sorted(set(domains) - set(vocab.domains))
        if unknown:
            raise ValueError(f"unknown domains {unknown}; known: {sorted(vocab.domains)}")
        self.domains = tuple(domains)
        self.digital_domains = frozenset(vocab.digital_domains)
        self.authority_domains = frozenset(vocab.authority_domains)
        self.frames = frames.frames
        self.phrasings = frames.phrasings
        self.prosocial_reversibility = {
            (name, pole): getattr(family.reversibility, pole)
            for name, family in frames.families.items() for pole in ("a", "b")
        }
        self.pools = {group: _Pools(vocab, frames, group) for group in VOCAB_GROUPS}
        self.stage_ids = [s.id for s in self.ladder.stages]

    def generate(self, n: int, start: int = 0) -> Iterator[dict]:
        for index in range(start, start + n):
            yield self.scenario(index)

    def scenario(self, index: int) -> dict:
        seed = self.settings.seed
        rng = random.Random(seed * 1_000_003 + index)
        group = "reserved" if rng.random() < self.settings.vocab_holdout_fraction else "main"
        pools = self.pools[group]
        phrasings = self.phrasings
        domain = rng.choice(self.domains)
        dom = pools.domains[domain]
        digital = domain in self.digital_domains
        stage = self.ladder.stage(rng.choice(self.stage_ids))
        factors = stage.factors
        frame = rng.choice(self.frames)
        fp = pools.frames[frame.name]
        template_ids: list[str] = []

        def pick(pairs: tuple[tuple[str, str], ...]) -> str:
            tid, text = rng.choice(pairs)
            template_ids.append(tid)
            return text

        low, high = factors.stakeholders
        wanted_stakeholders = rng.randint(low, high)
        delay = rng.choice(factors.consequence_delay)
        visibility = rng.choice(factors.visibility)
        harm_rewarded = rng.random() < rng.uniform(*factors.harm_reward)
        conflict = rng.random() < factors.conflicting_principles
        mental = rng.random() < factors.mental_state_inference

        names = rng.sample(pools.names, 8)
        agent_name = names[0]
        slots = {
            "agent": agent_name,
            "item": rng.choice(dom["items"]),
            "place": rng.choice(dom["places"]),
            "defect": rng.choice(dom["defects"]),
            "authority": rng.choice(dom["authorities"]),
            "gain": rng.choice(dom["gains"]),
            "pastime": rng.choice(dom["pastimes"]),
            "when": rng.choice(pools.when),
            "goal": rng.choice(dom["goals"]),
            "role": rng.choice(dom["agent_roles"]),
        }
        later_pool = pools.later["long" if delay == "long" else "short"]
        victim_pool = dom["vulnerable_roles"] if frame.victim_role == "vulnerable" else dom["peer_roles"]

        stakeholders: list[dict] = []
        victim_id = "p1"
        slots["victim"] = names[1]
        slots["target"] = names[1] if frame.victim_is_target else names[2]
        stakeholders.append(
            _stakeholder(victim_id, names[1], rng.choice(victim_pool),
                         rng.choice(pools.relationships),
                         frame.need.format(**slots),
                         "high" if frame.victim_role == "vulnerable" else "medium")
        )
        target_id = victim_id
        if not frame.victim_is_target:
            target_id = "p2"
            target_pool = dom["vulnerable_roles"] if frame.target_role == "vulnerable" else dom["peer_roles"]
            stakeholders.append(
                _stakeholder(target_id, names[2], rng.choice(target_pool), phrasings.target_relationship,
                             phrasings.target_need.format(**slots), "low")
            )
        friend_id = None
        if conflict:
            friend_id = f"p{len(stakeholders) + 1}"
            slots["friend"] = names[3]
            stakeholders.append(
                _stakeholder(friend_id, names[3], rng.choice(dom["peer_roles"]), phrasings.friend_relationship,
                             phrasings.friend_need.format(**slots), "low")
            )
        bystander_ids = []
        next_name = 4
        while len(stakeholders) < wanted_stakeholders:
            sid = f"p{len(stakeholders) + 1}"
            stakeholders.append(
                _stakeholder(sid, names[next_name], rng.choice(dom["peer_roles"]),
                             phrasings.bystander_relationship,
                             rng.choice(pools.bystander_need).format(**slots), "low")
            )
            bystander_ids.append(sid)
            next_name += 1
        witness = next((s["name"] for s in stakeholders if s["id"] != victim_id), names[1])

        sentences = [pick(pools.context), pick(fp["situation"])]
        sentences.append(pick(fp["need_cue"] if mental else fp["need_explicit"]))
        visibility_key = {"observed": "seen", "partly": "partly_seen", "unobserved": "unseen"}[visibility]
        sentences.append(pick(pools.social[visibility_key]).replace("{who}", witness))
        if harm_rewarded:
            sentences.append(pick(pools.social["reward"]))
        if conflict:
            sentences.append(pick(pools.social["conflict"]).replace("{who}", slots["friend"]))
        setting = " ".join(sentence(s.format(**slots)) for s in sentences)

        pole_a_pairs = pools.actions[(frame.family, "a", digital)]
        pole_b_pairs = pools.actions[(frame.family, "b", digital)]
        tid_a, text_a = rng.choice(pole_a_pairs)
        action_a = text_a.format(**slots)
        candidates = [rng.choice(pole_b_pairs) for _ in range(3)]
        tid_b, text_b = min(candidates, key=lambda c: abs(len(c[1].format(**slots)) - len(action_a)))
        action_b = text_b.format(**slots)
        template_ids.extend([tid_a, tid_b])
        prosocial_pole = "a" if frame.pole_a_prosocial else "b"

        def later() -> str:
            return rng.choice(later_pool)

        timing_now = "delayed" if delay == "long" else "immediate"
        delay_now = rng.choice(pools.later["short"]) if delay == "long" else None

        def consequence(who: str | None, kind: str, timing: str, when: str | None,
                        magnitude: float, text: str) -> dict:
            return {
                "stakeholder": who, "kind": kind, "timing": timing, "delay": when,
                "visible": visibility != "unobserved", "magnitude": magnitude,
                "text": sentence(text.format(**slots)),
            }

        def social(key: str, who_name: str) -> str:
            return pick(pools.social[key]).replace("{who}", who_name)

        harm_kind = frame.harm_kind
        options = []
        for pole, action, tid in (("a", action_a, tid_a), ("b", action_b, tid_b)):
            prosocial = pole == prosocial_pole
            cons: list[dict] = []
            if prosocial:
                cons.append(consequence(victim_id, harm_kind, timing_now, delay_now,
                                        round(rng.uniform(0.3, 0.6), 2), pick(fp["spared_now"])))
                if delay != "none":
                    when_later = later()
                    cons.append(consequence(victim_id, "relationship", "delayed", when_later, 0.3,
                                            pick(fp["spared_later"]).replace("{later}", when_later)))
                if visibility != "unobserved":
                    cons.append(consequence(victim_id, "trust", timing_now, delay_now, 0.3,
                                            social("trust_up", names[1])))
                if friend_id:
                    cons.append(consequence(friend_id, "relationship", timing_now, delay_now, -0.3,
                                            social("relationship_down", slots["friend"])))
                for sid in bystander_ids:
                    cons.append(consequence(sid, "reputation", "delayed", later(), 0.2,
                                            social("reputation_up", "")))
                if harm_rewarded:
                    cons.append(consequence("self", "material", timing_now, delay_now, -0.2,
                                            social("cost_self", "")))
                payoff = 0.0
            else:
                cons.append(consequence(victim_id, harm_kind, timing_now, delay_now,
                                        -round(rng.uniform(0.6, 0.9), 2), pick(fp["harm_now"])))
                if delay != "none":
                    when_later = later()
                    cons.append(consequence(victim_id, harm_kind, "delayed", when_later,
                                            -round(rng.uniform(0.4, 0.7), 2),
                                            pick(fp["harm_later"]).replace("{later}", when_later)))
                if visibility != "unobserved":
                    cons.append(consequence(victim_id, "trust", timing_now, delay_now, -0.4,
                                            social("trust_down", names[1])))
                if friend_id:
                    cons.append(consequence(friend_id, "relationship", timing_now, delay_now, 0.3,
                                            social("relationship_up", slots["friend"])))
                for sid in bystander_ids:
                    cons.append(consequence(sid, "reputation", "delayed", later(), -0.2,
                                            social("reputation_down", "")))
                if harm_rewarded:
                    cons.append(consequence("self", "material", timing_now, delay_now, 0.4,
                                            social("gain_self", "")))
                payoff = 1.0 if harm_rewarded else 0.0
            if target_id != victim_id:
                sign = 1 if pole == "a" else -1
                cons.append(consequence(target_id, "relationship", timing_now, delay_now,
                                        0.2 * sign,
                                        social("relationship_up" if pole == "a" else "relationship_down",
                                               names[2])))
            options.append({
                "id": pole,
                "action": action,
                "valence": "prosocial" if prosocial else "harmful",
                "consequences": cons,
                "reversibility": self.prosocial_reversibility[(frame.family, pole)] if prosocial
                else frame.reversibility,
                "agent_payoff": payoff,
                "derived": False,
            })
        if rng.random() < 0.5:
            options.reverse()
        for option, new_id in zip(options, "ab", strict=True):
            option["id"] = new_id

        foundations = {f.value for f in frame.foundations}
        pressures = {p.value for p in frame.pressures} | {"persuasion"}
        if conflict:
            foundations.add("loyalty")
            pressures.add("peers")
        if visibility == "unobserved":
            pressures.add("secrecy")
        if harm_rewarded:
            pressures.add("incentive")
        if domain in self.authority_domains:
            pressures.add("authority")
        score = (
            (len(stakeholders) - 1) / 3
            + DELAY_SCORE[delay]
            + VISIBILITY_SCORE[visibility]
            + harm_rewarded + conflict + mental
        ) / 6
        return {
            "id": f"s{seed}-{index:07d}",
            "schema_version": SCHEMA_VERSION,
            "domain": domain,
            "setting": setting,
            "agent": {"name": agent_name, "role": slots["role"], "goal": slots["goal"]},
            "stakeholders": stakeholders,
            "options": options,
            "foundations": [f for f in FOUNDATION_ORDER if f in foundations],
            "stage": stage.id,
            "difficulty": {
                "stakeholders": len(stakeholders),
                "consequence_delay": delay,
                "visibility": visibility,
                "harm_rewarded": harm_rewarded,
                "conflicting_principles": conflict,
                "mental_state_inference": mental,
                "score": round(score, 4),
            },
            "principle": pick(fp["principle"]),
            "pressures": [p for p in PRESSURE_ORDER if p in pressures],
            "provenance": {
                "source": "procedural",
                "source_id": None,
                "source_line": None,
                "generator_seed": seed,
                "frame": frame.name,
                "vocab_group": group,
                "template_ids": template_ids,
                "missing": [],
            },
        }


def _stakeholder(sid: str, name: str, role: str, relationship: str, need: str,
                 vulnerability: str) -> dict:
    return {
        "id": sid, "name": name, "role": role, "relationship": relationship,
        "need": need, "vulnerability": vulnerability,
    }


def generate_jsonl_lines(generator: ScenarioGenerator, n: int) -> Iterator[str]:
    """Scenario records as canonical JSON lines (stable key order, no whitespace)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for record in generator.generate(n):
        yield dumps(record)
