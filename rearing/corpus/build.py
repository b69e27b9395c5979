"""Assemble every condition from one scenario set: render, order, token-match, tokenize, write.

Matching rules (what makes the comparison fair):
* every condition holds every training scenario ``repeats`` times, except one that renders no
  scenario (``renderer: null``, the null control), which holds none;
* every condition has the same total number of training tokens (within 1%): the remainder after
  the moral documents is filled, in one shared order, from the shared general corpus (all of it,
  for a condition with no moral documents);
* one byte-level BPE tokenizer, trained on the union of all conditions and the general corpus.

Per condition it writes ``docs.jsonl`` (documents in training order), ``tokens.bin`` (a flat
uint16/uint32 token stream, each document followed by the end-of-text token), ``offsets.npy``
(start offset of each document in the stream) and ``meta.json`` (ordering, phases with token
ranges, the order fingerprint), so training reproduces the order exactly.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from rearing.config import ExperimentConfig
from rearing.corpus.conditions import Condition, Ordering, all_conditions, renderer_function
from rearing.corpus.general import general_doc, generate_general
from rearing.corpus.lexicon import Lexicon, load_lexicon
from rearing.corpus.render import Rendered, scenario_units
from rearing.corpus.stream import StreamDoc, token_spans, write_token_stream
from rearing.corpus.transforms import apply_transforms, sentences
from rearing.io import InputError, write_json_atomic
from rearing.layout import CorpusLayout
from rearing.text import seeded_rng
from rearing.world.generate import partition
from rearing.world.schema import Scenario
from rearing.world.vocab import load_vocab

EOS = "<|endoftext|>"
PAD = "<|pad|>"


class CorpusDoc(StreamDoc):
    kind: Literal["moral", "general"]


@dataclass
class ConditionCorpus:
    name: str
    condition: Condition
    ordering: Ordering
    moral: list[CorpusDoc]
    docs: list[CorpusDoc] = field(default_factory=list)


def run_conditions(config: ExperimentConfig) -> dict[str, Condition]:
    """The conditions a run builds, by name, in its configured order."""
    known = all_conditions(config.corpus.define)
    return {name: known[name] for name in config.corpus.conditions}


def order_moral(docs: list[CorpusDoc], ordering: Ordering, rng: random.Random) -> list[CorpusDoc]:
    def developmental_key(d: CorpusDoc):
        return (d.stage if d.stage is not None else 10**9, d.difficulty or 0.0, d.id)

    if ordering == "developmental":
        return sorted(docs, key=developmental_key)
    if ordering == "reverse":
        return sorted(docs, key=developmental_key, reverse=True)
    shuffled = sorted(docs, key=lambda d: d.id)
    rng.shuffle(shuffled)
    return shuffled


def render_moral(name: str, condition: Condition, scenarios: list[Scenario], repeats: int, seed: int,
                 known: Mapping[str, Condition]) -> list[CorpusDoc]:
    """Each scenario ``repeats`` times as ``condition`` renders it (none when it renders no scenario);
    a length-matched condition adds paraphrases (its own renderer, fresh draws) until each document is
    as long as the other condition's document for the same scenario and repeat."""
    if not condition.renders_scenarios:
        return []
    render = renderer_function(condition)
    target_name = condition.length_matched_to
    target_render = renderer_function(known[target_name]) if target_name else None
    docs = []
    for scenario in scenarios:
        for rep in range(repeats):
            doc = as_rendered(render(scenario, seeded_rng(seed, name, scenario.id, rep)))
            if target_render is not None:
                target = len(as_rendered(target_render(scenario, seeded_rng(seed, target_name, scenario.id, rep)))
                             .text.split())
                text = _extend_to(doc.text, target, lambda k, s=scenario, r=rep: public_text(as_rendered(
                    render(s, seeded_rng(seed, name, s.id, r, k)))))
                doc = Rendered(text, doc.units, doc.private)
            docs.append(CorpusDoc(
                id=f"{name}:{scenario.id}:{rep}", kind="moral", scenario_id=scenario.id,
                stage=scenario.stage, difficulty=scenario.difficulty.score if scenario.difficulty else None,
                phase="main", text=doc.text, private=list(doc.private), units=list(doc.units),
            ))
    return docs


def as_rendered(document: Rendered | str) -> Rendered:
    """A renderer's output as a ``Rendered``: a renderer of your own may return plain text, which
    then declares no content units (so it cannot serve a content-matched condition)."""
    return document if isinstance(document, Rendered) else Rendered(document)


def content_audit(conditions: Mapping[str, Condition], moral: Mapping[str, list[CorpusDoc]],
                  scenarios: list[Scenario]) -> dict:
    """Per condition: which content units every document of each scenario carries (a unit counts
    only if each repeat has it), against what the scenario has (:func:`scenario_units`, plus the
    deliberation for narrative conditions). Content-matched conditions must carry every unit; a
    condition that renders no scenario owes none (its entry counts 0 scenarios, nothing missing)."""
    audit = {}
    for name, docs in moral.items():
        condition = conditions[name]
        extra = ("deliberation",) if condition.private_deliberation else ()
        owed = scenarios if condition.renders_scenarios else []
        needed = {s.id: (*scenario_units(s), *extra) for s in owed}
        carried: dict[str, set[str]] = {}
        for doc in docs:
            units = set(doc.units)
            carried[doc.scenario_id] = carried[doc.scenario_id] & units if doc.scenario_id in carried else units
        missing = {sid: [u for u in units if u not in carried.get(sid, set())] for sid, units in needed.items()}
        by_unit = Counter(u.split(":")[0] for units in missing.values() for u in units)
        audit[name] = {
            "content_matched": condition.content_matched,
            "moral_documents": len(docs),
            "scenarios": len(needed),
            "complete": sum(not m for m in missing.values()),
            "missing_by_unit": dict(sorted(by_unit.items())),
            "private_documents": sum(bool(d.private) for d in docs),
            "missing": {sid: m for sid, m in sorted(missing.items()) if m},
        }
    return audit


def check_content_match(audit: dict, where: Path) -> None:
    """A content-matched condition missing any unit for any scenario fails the build: the arms would
    then differ in content, not only in structure."""
    problems = []
    for name, entry in audit.items():
        if entry["content_matched"] and entry["missing"]:
            sid, units = next(iter(entry["missing"].items()))
            problems.append(
                f"corpus.conditions: '{name}' is content-matched but {len(entry['missing'])} of "
                f"{entry['scenarios']} scenarios miss units ({', '.join(f'{u}: {n}' for u, n in entry['missing_by_unit'].items())}); "
                f"e.g. {sid} lacks {', '.join(units)} (see {where})")
    if problems:
        raise InputError(problems)


def _extend_to(text: str, target_words: int, paraphrase) -> str:
    """Append paraphrases sentence by sentence until ``text`` has ``target_words`` words."""
    words = len(text.split())
    k = 1
    while words < target_words:
        added = []
        for sentence in sentences(paraphrase(k)):
            if words >= target_words:
                break
            added.append(sentence)
            words += len(sentence.split())
        if not added:
            raise ValueError(f"a paraphrase added no words (after {k - 1} paraphrases, {words} of {target_words})")
        text += "\n\n" + " ".join(added)
        k += 1
    return text


def public_text(document: Rendered) -> str:
    """A document's text without its private deliberation: what a paraphrase may add to another
    document (the added text carries no private spans, so it would otherwise reach the loss)."""
    kept, start = [], 0
    for a, b in document.private:
        kept.append(document.text[start:a])
        start = b
    kept.append(document.text[start:])
    return " ".join(" ".join(kept).split())


def interleave(moral: list[CorpusDoc], general: list[CorpusDoc]) -> list[CorpusDoc]:
    """Spread moral documents evenly through the general ones, the first document moral."""
    keyed = [(i / max(len(moral), 1), 0, d) for i, d in enumerate(moral)]
    keyed += [((j + 0.5) / max(len(general), 1), 1, d) for j, d in enumerate(general)]
    return [d for _, _, d in sorted(keyed, key=lambda k: (k[0], k[1]))]


def training_names() -> list[str]:
    """The names training text may use (the main vocabulary partition), for the transforms to spot."""
    return list(partition(load_vocab().names, "main"))


def train_tokenizer(texts, vocab_size: int):
    """Byte-level BPE on the given texts (deterministic for a fixed text order)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def save_hf_tokenizer(tokenizer, out_dir: Path) -> None:
    from transformers import PreTrainedTokenizerFast

    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=EOS, bos_token=EOS, pad_token=PAD,
                                   unk_token=None)
    fast.save_pretrained(str(out_dir))


def build_corpus(config: ExperimentConfig, train: list[Scenario], out_dir: Path,
                 run_root: Path | None = None) -> dict:
    """Build every configured condition into ``out_dir``; returns the stats table.

    ``run_root`` is the run the corpus belongs to, under which the LLM backend keeps its response
    cache (``corpus.llm.cache_dir``); the template backend needs none."""
    corpus = config.corpus
    if corpus.backend == "llm" and run_root is None:
        raise ValueError("build_corpus: the LLM backend needs run_root, the run its response cache lives in")
    seed = config.seed
    known = all_conditions(corpus.define)
    names = training_names()
    conditions = []
    for name, condition in run_conditions(config).items():
        ordering = corpus.orderings.get(name, condition.ordering)
        moral = render_moral(name, condition, train, corpus.repeats, seed, known)
        if corpus.backend == "llm" and moral:
            from rearing.corpus.llm_render import rerender_with_llm

            moral = rerender_with_llm(moral, train, name, condition, config, out_dir, run_root)
        moral = order_moral(moral, ordering, seeded_rng(seed, name, "order"))
        conditions.append(ConditionCorpus(name, condition, ordering, moral))
    out = CorpusLayout(out_dir)
    audit = content_audit({c.name: c.condition for c in conditions}, {c.name: c.moral for c in conditions}, train)
    write_json_atomic(out.audit, audit)
    check_content_match(audit, out.audit)

    lexicon = load_lexicon()
    moral_words = {c.name: sum(len(d.text.split()) for d in c.moral) for c in conditions}
    # Beyond the base pool, the condition with the fewest moral words needs the difference from general
    # text: all of the largest condition's moral words when one renders no scenario (the null control).
    # It is estimated in words (30% slack for general text tokenizing denser than moral text).
    general_words_needed = max(moral_words.values()) - min(moral_words.values())
    pool = [CorpusDoc(id=g.id, kind="general", phase="main", text=g.text)
            for g in generate_general(corpus.general_docs, seed)]
    average = max(1, sum(len(d.text.split()) for d in pool) // max(len(pool), 1))
    extra = int(general_words_needed / average * 1.3) + 50
    pool += [CorpusDoc(id=g.id, kind="general", phase="main", text=g.text)
             for g in (general_doc(seed, i) for i in range(corpus.general_docs, corpus.general_docs + extra))]
    transformed = {}
    for c in conditions:
        key = tuple(c.condition.transform_general)
        if key and key not in transformed:
            transformed[key] = [
                d.model_copy(update={"text": apply_transforms(d.text, key, seeded_rng(seed, "raise", d.id), names)})
                for d in pool
            ]

    texts = [d.text for c in conditions for d in c.moral] + [d.text for d in pool]
    texts += [d.text for docs in transformed.values() for d in docs]
    tokenizer = train_tokenizer(texts, corpus.vocab_size)
    save_hf_tokenizer(tokenizer, out.tokenizer)
    eos_id = tokenizer.token_to_id(EOS)

    private_of: dict[str, list[tuple[int, int]]] = {}

    def encode(docs: list[CorpusDoc]) -> list[list[int]]:
        encodings = tokenizer.encode_batch([d.text for d in docs])
        for doc, e in zip(docs, encodings, strict=True):
            if doc.private:
                private_of[doc.id] = token_spans(e.offsets, doc.private)
        return [e.ids + [eos_id] for e in encodings]

    encoded_moral = {c.name: encode(c.moral) for c in conditions}
    encoded_pool = {(): encode(pool)}
    for key, docs in transformed.items():
        encoded_pool[key] = encode(docs)
    moral_tokens = {name: sum(map(len, ids)) for name, ids in encoded_moral.items()}
    base_general = sum(map(len, encoded_pool[()][: corpus.general_docs]))
    budget = corpus.total_tokens or (max(moral_tokens.values()) + base_general)

    stats = {}
    for c in conditions:
        key = tuple(c.condition.transform_general)
        general_docs = transformed.get(key, pool) if key else pool
        general_ids = encoded_pool[key]
        total = moral_tokens[c.name]
        chosen, chosen_ids = [], []
        for doc, ids in zip(general_docs, general_ids, strict=True):
            if total >= budget:
                break
            chosen.append(doc)
            chosen_ids.append(ids)
            total += len(ids)
        if total < budget * 0.99:
            short = f"condition {c.name}: the general pool ran out at {total} of {budget} tokens"
            raise InputError([
                f"corpus.general_docs: {short}; raise corpus.general_docs (now {corpus.general_docs}) or lower "
                f"corpus.total_tokens (now {corpus.total_tokens})" if corpus.total_tokens else
                f"corpus.total_tokens: {short} (the budget is the largest condition plus corpus.general_docs, and "
                f"the pool beyond them, estimated from word counts, fell short); set corpus.total_tokens to at "
                f"most {total}"
            ])
        ids_of = {d.id: ids for d, ids in zip(c.moral, encoded_moral[c.name], strict=True)}
        ids_of.update({d.id: ids for d, ids in zip(chosen, chosen_ids, strict=True)})
        if c.condition.layout == "phased":
            general_phase = [d.model_copy(update={"phase": "general"}) for d in chosen]
            moral_phase = [d.model_copy(update={"phase": "moral"}) for d in c.moral]
            c.docs = general_phase + moral_phase
        else:
            c.docs = interleave(c.moral, chosen)
        stats[c.name] = write_condition(c, ids_of, out.stream(c.name), lexicon, len(tokenizer.get_vocab()),
                                        private_of)
    write_json_atomic(out.stats, {"budget_tokens": budget, "conditions": stats})
    return stats


def write_condition(c: ConditionCorpus, ids_of: dict[str, list[int]], out: Path, lexicon: Lexicon,
                    vocab_size: int, private_of: dict[str, list[tuple[int, int]]]) -> dict:
    fingerprint = hashlib.sha256("\n".join(d.id for d in c.docs).encode()).hexdigest()
    moral = [d for d in c.docs if d.kind == "moral"]
    moral_words = sum(len(d.text.split()) for d in moral)
    words = [w for d in c.docs for w in d.text.lower().split()]
    trigrams = len(set(zip(words, words[1:], words[2:], strict=False)))
    stats = {
        "documents": len(c.docs),
        "moral_documents": len(moral),
        "tokens": sum(len(ids_of[d.id]) for d in c.docs),
        "moral_tokens": sum(len(ids_of[d.id]) for d in moral),
        "moral_vocabulary_density": round(sum(lexicon.count(d.text) for d in moral) / max(moral_words, 1), 5),
        "distinct_3grams": trigrams,
    }
    stats["mean_doc_tokens"] = round(stats["tokens"] / max(len(c.docs), 1), 1)
    stats["moral_token_share"] = round(stats["moral_tokens"] / max(stats["tokens"], 1), 4)
    stats["private_tokens"] = sum(end - start for d in c.docs for start, end in private_of.get(d.id, ()))
    stats["private_token_share"] = round(stats["private_tokens"] / max(stats["tokens"], 1), 4)
    write_token_stream(out, c.docs, [ids_of[d.id] for d in c.docs], vocab_size, private_of, meta={
        "condition": c.name,
        "renderer": c.condition.renderer,
        "ordering": c.ordering,
        "layout": c.condition.layout,
        "transform_general": list(c.condition.transform_general),
        "eos_token": EOS,
        "order_fingerprint": fingerprint,
        "scenario_counts": dict(sorted(Counter(d.scenario_id for d in moral).items())),
        "stats": stats,
    })
    return stats
