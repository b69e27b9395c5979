"""Procedural scenario generator.

Builds scenarios from the action families and frames in ``data/frames/`` (see
:mod:`rearing.world.frames`), the typed vocabulary in ``data/vocab.yaml`` (:mod:`rearing.world.vocab`)
and the difficulty factors of the developmental ladder: the generator holds no phrasing of its own.
Rules that keep it honest as an experimental instrument and readable as a story:

* valence comes from the situation: every action family appears as prosocial in one frame and as
  harmful in its mirror frame, with the same action phrasings and the same items, so the words of
  an option carry no valence signal;
* slots are typed: an item brings its number (``{item.is}``) and the properties its family's frames
  use; a place says its own preposition; a frame is drawn only for domains it fits;
* consequences follow from the choice: people react only to what they saw or were told of (the
  text says how), as strongly as the act deserves; when nobody sees, nobody reacts, and the setting
  says so; the agent's gain from harm is its own goal, which the setting ties to the choice;
* the two options are drawn to similar lengths and shuffled;
* vocabulary and phrasings are split into a ``main`` and a ``reserved`` partition; a scenario
  draws everything from one partition so a held-out-vocabulary shift set can be carved out;
* each scenario has its own RNG seeded from ``(seed, index)``: same seed, same bytes, and any
  index can be regenerated alone.

Records are built as plain dicts for speed; they conform to :class:`rearing.world.schema.Scenario`,
which the tests check on every generated record.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Self

from rearing.text import lower_first, sentence, with_article
from rearing.world.frames import ITEM_GRAMMAR, Family, Frame, Frames, Item, Wording, load_frames
from rearing.world.ladder import Ladder, load_ladder
from rearing.world.schema import SCHEMA_VERSION, Foundation, Pressure
from rearing.world.vocab import Vocab, load_vocab

VOCAB_GROUPS = ("main", "reserved")
DELAY_SCORE = {"none": 0.0, "short": 0.5, "long": 1.0}
VISIBILITY_SCORE = {"observed": 0.0, "partly": 0.5, "unobserved": 1.0}
PRESSURE_ORDER = [p.value for p in Pressure]
FOUNDATION_ORDER = [f.value for f in Foundation]
NUMBER_WORDS = {
    False: dict(zip(ITEM_GRAMMAR, ("is", "was", "has", "does", "it", "its"), strict=True)),
    True: dict(zip(ITEM_GRAMMAR, ("are", "were", "have", "do", "them", "their"), strict=True)),
}
MAGNITUDE = {"mild": (0.2, 0.4), "serious": (0.5, 0.9)}


class Phrase(str):
    """A slot value: its text, plus the words templates reach through it (``{item.is}``, ``{place.at}``)."""

    def __new__(cls, text: str, words: dict[str, str]) -> Self:
        phrase = super().__new__(cls, text)
        phrase.words = words
        return phrase

    def __getattr__(self, name: str) -> str:
        try:
            return self.__dict__["words"][name]
        except KeyError:
            raise AttributeError(name) from None


def item_phrase(item: Item) -> Phrase:
    return Phrase(item.name, {**NUMBER_WORDS[item.plural], **item.details})


def partition(pool: list | tuple, group: str) -> tuple:
    """Split a pool into disjoint main/reserved parts (every 4th entry is reserved)."""
    if len(pool) < 2:
        return tuple(pool)
    reserved = group == "reserved"
    return tuple(x for i, x in enumerate(pool) if (i % 4 == 0) == reserved)


def _indexed(pool: list | tuple, group: str, prefix: str) -> tuple[tuple[str, str], ...]:
    """Partitioned pool of (template id, text) pairs, ids stable across partitions."""
    return partition([(f"{prefix}.{i}", text) for i, text in enumerate(pool)], group)


@dataclass(frozen=True)
class GeneratorSettings:
    """What the generator needs from the config; kept separate so the world stage owns it."""

    seed: int = 0
    vocab_holdout_fraction: float = 0.2
    domains: tuple[str, ...] | None = None


WORDING_PARTS = ("situation", "need_explicit", "need_cue", "goal_link", "spared_now", "spared_later")


class _Pools:
    """Every pool the generator samples from, pre-partitioned for one vocabulary group."""

    def __init__(self, vocab: Vocab, frames: Frames, group: str):
        social = frames.social
        self.names = partition(vocab.names, group)
        self.domains = {
            name: {
                "places": partition([Phrase(p.name, {"at": p.at}) for p in pools.places], group),
                **{key: partition(getattr(pools, key), group)
                   for key in ("times", "agent_roles", "vulnerable_roles", "peer_roles", "authorities", "goals",
                               "pastimes")},
                **{f"relationships.{key}": partition(getattr(pools.relationships, key), group)
                   for key in ("vulnerable", "peer", "bystander")},
            }
            for name, pools in vocab.domains.items()
        }
        self.social = {key: _indexed(getattr(social, key), group, f"social.{key}")
                       for key in ("told", "friend_pleased", "friend_let_down", "goal_met", "goal_missed",
                                   "observed", "partly", "unobserved_hidden", "unobserved_known", "conflict",
                                   "context", "bystander_need", "target_need", "friend_need")}
        for key in ("trust_up", "trust_down", "reputation_up", "reputation_down"):
            for severity in ("mild", "serious"):
                self.social[f"{key}.{severity}"] = _indexed(
                    getattr(getattr(social, key), severity), group, f"social.{key}.{severity}")
        self.later = {"short": partition(social.later_short, group), "long": partition(social.later_long, group)}
        self.items = {(family.name, domain): partition([item_phrase(i) for i in items], group)
                      for f in frames.families.values() for family in [f.family]
                      for domain, items in family.items.items()}
        self.actions = {
            (family.name, kind, pole): _indexed(getattr(actions, pole), group, f"{family.name}.{kind}.{pole}")
            for f in frames.families.values() for family in [f.family]
            for kind, actions in family.actions.items() for pole in ("a", "b")
        }
        self.wording: dict[tuple[str, str, str], tuple[tuple[str, str], ...]] = {}
        for family, frame in frames.frames:
            for kind in ("physical", "digital"):
                wording: Wording | None = getattr(frame, kind)
                if wording is None:
                    continue
                prefix = f"{frame.name}.{kind}"
                for part in WORDING_PARTS:
                    self.wording[(frame.name, kind, part)] = _indexed(getattr(wording, part), group,
                                                                      f"{prefix}.{part}")
                for part in ("harm_now", "harm_later"):
                    for how in ("explicit", "described"):
                        self.wording[(frame.name, kind, f"{part}.{how}")] = _indexed(
                            getattr(getattr(wording, part), how), group, f"{prefix}.{part}.{how}")
        self.principles = {frame.name: _indexed(frame.principle, group, f"{frame.name}.principle")
                           for _, frame in frames.frames}


class ScenarioGenerator:
    """Generates scenario dicts; ``generate(n)`` yields them in index order."""

    def __init__(
        self,
        settings: GeneratorSettings,
        ladder: Ladder | None = None,
        vocab: Vocab | None = None,
        frames: Frames | None = None,
    ):
        self.settings = settings
        self.ladder = ladder or load_ladder()
        vocab = vocab or load_vocab()
        frames = frames or load_frames()
        domains = settings.domains or tuple(vocab.domains)
        unknown = sorted(set(domains) - set(vocab.domains))
        if unknown:
            raise ValueError(f"unknown domains {unknown}; known: {sorted(vocab.domains)}")
        self.kind = {name: pools.kind for name, pools in vocab.domains.items()}
        self.authority_domains = frozenset(vocab.authority_domains)
        self.frames_of: dict[str, list[tuple[Family, Frame]]] = {}
        for domain in domains:
            fitting = [(family, frame) for family, frame in frames.frames if self._fits(family, frame, domain)]
            if fitting:
                self.frames_of[domain] = fitting
        if not self.frames_of:
            raise ValueError(f"no frame fits any of the domains {list(domains)}")
        self.domains = tuple(d for d in domains if d in self.frames_of)
        self.pools = {group: _Pools(vocab, frames, group) for group in VOCAB_GROUPS}
        self.stage_ids = [s.id for s in self.ladder.stages]

    def _fits(self, family: Family, frame: Frame, domain: str) -> bool:
        kind = self.kind[domain]
        listed = frame.domains is None or domain in frame.domains
        return (listed and domain in family.items and getattr(frame, kind) is not None
                and kind in family.actions)

    def generate(self, n: int, start: int = 0) -> Iterator[dict]:
        for index in range(start, start + n):
            yield self.scenario(index)

    def scenario(self, index: int) -> dict:
        return _Draw(self, index).scenario()


class _Draw:
    """The drawing of one scenario: every random choice in a fixed order from its own RNG."""

    def __init__(self, generator: ScenarioGenerator, index: int):
        self.g = generator
        self.index = index
        self.rng = random.Random(generator.settings.seed * 1_000_003 + index)
        self.template_ids: list[str] = []
        self.used_delays: set[str] = set()

    def pick(self, pairs: tuple[tuple[str, str], ...]) -> str:
        """One phrasing, never one this scenario has already used while another is left."""
        fresh = [pair for pair in pairs if pair[0] not in self.template_ids]
        template_id, text = self.rng.choice(fresh or pairs)
        self.template_ids.append(template_id)
        return text

    def later(self, delay: str) -> str:
        """A delay phrase not yet used in this scenario, when the pool has one."""
        pool = self.pools.later[delay]
        phrase = self.rng.choice([p for p in pool if p not in self.used_delays] or pool)
        self.used_delays.add(phrase)
        return phrase

    def fill(self, template: str, **extra: str) -> str:
        return sentence(template.format(**self.slots, **extra))

    def scenario(self) -> dict:
        g, rng = self.g, self.rng
        group = "reserved" if rng.random() < g.settings.vocab_holdout_fraction else "main"
        self.pools = pools = g.pools[group]
        domain = rng.choice(g.domains)
        kind = g.kind[domain]
        family, frame = rng.choice(g.frames_of[domain])
        dom = pools.domains[domain]
        stage = g.ladder.stage(rng.choice(g.stage_ids))
        factors = stage.factors
        low, high = factors.stakeholders
        wanted = rng.randint(low, high)
        delay = rng.choice(factors.consequence_delay)
        visibility = rng.choice(factors.visibility)
        harm_rewarded = rng.random() < rng.uniform(*factors.harm_reward)
        conflict = rng.random() < factors.conflicting_principles
        mental = rng.random() < factors.mental_state_inference
        explicit = rng.choice(factors.harm_explicitness) == "explicit"
        names = rng.sample(pools.names, 8)
        self.slots = slots = {
            "agent": names[0], "victim": names[1], "target": names[1] if frame.target == "victim" else names[2],
            "item": rng.choice(pools.items[(family.name, domain)]), "place": (place := rng.choice(dom["places"])),
            "place.at": place.at, "when": rng.choice(dom["times"]), "goal": rng.choice(dom["goals"]),
            "authority": rng.choice(dom["authorities"]), "pastime": rng.choice(dom["pastimes"]),
            "role": Phrase(role := rng.choice(dom["agent_roles"]), {"a": with_article(role)}),
        }
        wording = lambda part: self.pick(pools.wording[(frame.name, kind, part)])

        stakeholders = [_person("p1", names[1], rng.choice(dom[f"{frame.victim}_roles"]),
                                rng.choice(dom[f"relationships.{frame.victim}"]), frame.need.format(**slots),
                                "high" if frame.victim == "vulnerable" else "medium")]
        target_id = "p1"
        if frame.target != "victim":
            target_id = "p2"
            stakeholders.append(_person(target_id, names[2], rng.choice(dom[f"{frame.target}_roles"]),
                                        rng.choice(dom[f"relationships.{frame.target}"]),
                                        self.pick(pools.social["target_need"]).format(**slots), "low"))
        friend_id = None
        if conflict:
            friend_id = f"p{len(stakeholders) + 1}"
            stakeholders.append(_person(friend_id, names[3], rng.choice(dom["peer_roles"]),
                                        rng.choice(dom["relationships.peer"]),
                                        self.pick(pools.social["friend_need"]).format(**slots), "low"))
        bystanders = []
        for name in names[4:]:
            if len(stakeholders) >= wanted:
                break
            sid = f"p{len(stakeholders) + 1}"
            stakeholders.append(_person(sid, name, rng.choice(dom["peer_roles"]),
                                        rng.choice(dom["relationships.bystander"]),
                                        self.pick(pools.social["bystander_need"]).format(**slots), "low"))
            bystanders.append(sid)
        if visibility != "unobserved" and not frame.victim_present and not bystanders and target_id == "p1":
            bystanders.append(sid := f"p{len(stakeholders) + 1}")
            stakeholders.append(_person(sid, names[4], rng.choice(dom["peer_roles"]),
                                        rng.choice(dom["relationships.bystander"]),
                                        self.pick(pools.social["bystander_need"]).format(**slots), "low"))
        self.names_by_id = {s["id"]: s["name"] for s in stakeholders}
        witness = next((self.names_by_id[s] for s in [*bystanders, target_id] if s != "p1"), None)

        setting = [self.pick(pools.social["context"]), wording("situation"),
                   wording("need_cue" if mental else "need_explicit")]
        if visibility == "unobserved":
            setting.append(self.pick(pools.social["unobserved_known" if frame.victim_learns else "unobserved_hidden"]))
        else:
            setting.append(self.pick(pools.social[visibility]).replace("{who}", witness or names[1]))
        if harm_rewarded:
            setting.append(wording("goal_link"))
        if conflict:
            setting.append(self.pick(pools.social["conflict"]).replace("{who}", names[3]))

        pairs_a = pools.actions[(family.name, kind, "a")]
        pairs_b = pools.actions[(family.name, kind, "b")]
        id_a, text_a = rng.choice(pairs_a)
        action_a = text_a.format(**slots)
        candidates = [rng.choice(pairs_b) for _ in range(3)]
        id_b, text_b = min(candidates, key=lambda c: abs(len(c[1].format(**slots)) - len(action_a)))
        action_b = text_b.format(**slots)
        self.template_ids += [id_a, id_b]
        prosocial_pole = "a" if frame.pole_a_prosocial else "b"

        self.visibility = visibility
        self.severity = frame.severity
        options = []
        for pole, action in (("a", action_a), ("b", action_b)):
            prosocial = pole == prosocial_pole
            consequences = self._consequences(frame, kind, prosocial, delay, explicit, visibility, witness,
                                              friend_id, bystanders, harm_rewarded, names)
            options.append({
                "id": pole, "action": action, "valence": "prosocial" if prosocial else "harmful",
                "consequences": consequences,
                "reversibility": getattr(family.reversibility, pole) if prosocial else frame.reversibility,
                "agent_payoff": (1.0 if harm_rewarded else 0.0) if not prosocial else 0.0,
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
        if domain in g.authority_domains:
            pressures.add("authority")
        score = ((len(stakeholders) - 1) / 3 + DELAY_SCORE[delay] + VISIBILITY_SCORE[visibility]
                 + harm_rewarded + conflict + mental + (not explicit)) / 7
        return {
            "id": f"s{g.settings.seed}-{self.index:07d}",
            "schema_version": SCHEMA_VERSION,
            "domain": domain,
            "setting": " ".join(self.fill(s) for s in setting),
            "agent": {"name": names[0], "role": slots["role"], "goal": slots["goal"]},
            "stakeholders": stakeholders,
            "options": options,
            "foundations": [f for f in FOUNDATION_ORDER if f in foundations],
            "stage": stage.id,
            "difficulty": {
                "stakeholders": len(stakeholders), "consequence_delay": delay, "visibility": visibility,
                "harm_rewarded": harm_rewarded, "conflicting_principles": conflict,
                "mental_state_inference": mental, "harm_explicit": explicit, "score": round(score, 4),
            },
            "principle": self.pick(pools.principles[frame.name]),
            "pressures": [p for p in PRESSURE_ORDER if p in pressures],
            "provenance": {
                "source": "procedural", "source_id": None, "source_line": None,
                "generator_seed": g.settings.seed, "frame": frame.name, "vocab_group": group,
                "template_ids": self.template_ids, "missing": [],
            },
        }

    def _consequences(self, frame: Frame, kind: str, prosocial: bool, delay: str, explicit: bool,
                      visibility: str, witness: str | None, friend_id: str | None, bystanders: list[str],
                      harm_rewarded: bool, names: list[str]) -> list[dict]:
        """What the option leads to, for whom. Reactions come only from people who know of the act."""
        rng, pools = self.rng, self.pools
        harm_kind = getattr(frame, kind).harm_kind or frame.harm_kind
        low, high = MAGNITUDE[frame.severity]
        sign = 1 if prosocial else -1
        how = "explicit" if explicit else "described"
        key = (lambda part: (frame.name, kind, part)) if prosocial else \
            (lambda part: (frame.name, kind, f"{part.replace('spared', 'harm')}.{how}"))
        out = [self._consequence("p1", harm_kind, None, sign * round(rng.uniform(low, high), 2),
                                 self.pick(pools.wording[key("spared_now")]))]
        if delay != "none":
            later = self.later(delay)
            out.append(self._consequence("p1", harm_kind, later, sign * round(rng.uniform(low, high) / 2, 2),
                                         self.pick(pools.wording[key("spared_later")]).replace("{later}", later)))
        trust = f"trust_{'up' if prosocial else 'down'}.{frame.severity}"
        victim_knows = visibility == "observed" or frame.victim_learns
        if victim_knows:
            out.append(self._consequence("p1", "trust", None, sign * 0.3,
                                         self.pick(pools.social[trust]).replace("{who}", names[1])))
        elif visibility == "partly" and witness and not prosocial:
            later = self.later("short")
            told = self.pick(pools.social["told"]).replace("{who}", names[1]).replace("{witness}", witness)
            reaction = self.pick(pools.social[trust]).replace("{who}", names[1])
            out.append(self._consequence("p1", "trust", later, -0.3,
                                         f"{later}, {lower_first(told)} {self.fill(reaction)}"))
        if visibility == "observed":
            reputation = f"reputation_{'up' if prosocial else 'down'}.{frame.severity}"
            for sid in bystanders:
                out.append(self._consequence(sid, "reputation", None, sign * 0.2,
                                             self.pick(pools.social[reputation]).replace("{who}", self.name_of(sid))))
        if friend_id:
            reaction = "friend_let_down" if prosocial else "friend_pleased"
            out.append(self._consequence(friend_id, "relationship", None, -0.2 * sign,
                                         self.pick(pools.social[reaction]).replace("{who}", self.name_of(friend_id))))
        if harm_rewarded:
            goal = "goal_missed" if prosocial else "goal_met"
            out.append(self._consequence("self", "material", None, -0.3 * sign, self.pick(pools.social[goal])))
        return out

    def name_of(self, sid: str) -> str:
        return self.names_by_id[sid]

    def _consequence(self, who: str, kind: str, delay: str | None, magnitude: float, text: str) -> dict:
        return {
            "stakeholder": who, "kind": kind, "timing": "delayed" if delay else "immediate", "delay": delay,
            "visible": self.visibility != "unobserved", "magnitude": max(-1.0, min(1.0, magnitude)),
            "text": self.fill(text),
        }


def _person(sid: str, name: str, role: str, relationship: str, need: str, vulnerability: str) -> dict:
    return {"id": sid, "name": name, "role": role, "relationship": relationship, "need": need,
            "vulnerability": vulnerability}


def generate_jsonl_lines(generator: ScenarioGenerator, n: int) -> Iterator[str]:
    """Scenario records as canonical JSON lines (stable key order, no whitespace)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    for record in generator.generate(n):
        yield dumps(record)
