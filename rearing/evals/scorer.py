"""Score multiple-choice prompts with any Hugging Face causal LM.

Two ways, as the design asks. Small models are scored by the log-likelihood of each option as a
continuation of the shared prompt (``score_choices``, ``score_items``). Chat models that follow
instructions are scored by generating an answer and parsing it back to an option
(``generate_choices``, ``answer_items``, or ``generate_choices_openai`` for an OpenAI-compatible
endpoint); an answer naming no option unambiguously is kept as ``choice=None`` and counted.

Tokenization follows lm-evaluation-harness, so both give every option the same tokens: trailing
whitespace of the prompt moves to the front of each option, the prompt is encoded on its own, and an
option's tokens are those of ``encode(prompt + option)`` beyond the prompt's token count. Special
tokens follow the tokenizer's default, as lm-eval's do.

Each prompt runs through the model once and its key/value cache is shared by all of its options, which
then only run their own tokens; the prompt pass computes no logits. For two options and prompts ten
times longer than them that is about half the work of scoring every option as a full sequence, which
``prompt_cache=False`` does, for models whose cache cannot be indexed by batch row
(``bench/bench_scorer.py`` compares both, and lm-evaluation-harness).
"""

from __future__ import annotations

import copy
import inspect
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace

import torch
from transformers import Cache, PreTrainedModel, PreTrainedTokenizerBase

from rearing.evals.answers import parse_choice
from rearing.evals.schema import EvalItem
from rearing.world.schema import Record

log = logging.getLogger("rearing.evals")

Request = tuple[str, Sequence[str]]
"""A prompt and the options to score as its continuations."""

DEFAULT_MAX_LENGTH = 2048
"""Context length assumed when neither the model config nor the tokenizer names one (as lm-eval)."""

_NO_TOKENIZER_LIMIT = 10**29
"""Tokenizers that know no limit report ``model_max_length`` as about 1e30."""


@dataclass(frozen=True)
class ChoiceScores:
    """Log-probabilities of each option as a continuation of the prompt, in the options' order."""

    sum_logprob: list[float]
    mean_logprob: list[float]
    n_tokens: list[int]
    cut: bool = False
    """The prompt lost tokens from the left to fit the model."""

    def choice(self, normalized: bool = False) -> int:
        """Index of the most likely option. ``normalized`` compares per-token means, so a longer option
        is not penalised for its length. Ties go to the first option."""
        return best_choice(self.mean_logprob if normalized else self.sum_logprob)


def best_choice(scores: Sequence[float]) -> int:
    """Index of the highest score; ties go to the first."""
    return max(range(len(scores)), key=scores.__getitem__)


class ItemScore(Record):
    """Log-likelihood scores of one eval item; joined to its answer key by ``item_id`` later."""

    item_id: str
    sum_logprob: list[float]
    mean_logprob: list[float]
    n_tokens: list[int]
    choice: int
    choice_normalized: int


@dataclass(frozen=True)
class GeneratedChoice:
    """A generated answer and the option it names; ``choice`` is None when it names none unambiguously."""

    completion: str
    choice: int | None


class ItemAnswer(Record):
    """A generated answer to one eval item."""

    item_id: str
    completion: str
    choice: int | None


def model_max_length(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int:
    """The model's context length, looked up where lm-eval looks so that both truncate alike."""
    return context_positions(model.config, tokenizer)


def context_positions(model_config, tokenizer: PreTrainedTokenizerBase) -> int:
    """:func:`model_max_length` from a model's config alone (no weights loaded)."""
    config = getattr(model_config, "text_config", None) or model_config
    for name in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, name, None)
        if value is not None:
            return int(value)
    limit = getattr(tokenizer, "model_max_length", None)
    if limit is not None and limit < _NO_TOKENIZER_LIMIT:
        return int(limit)
    return DEFAULT_MAX_LENGTH


@dataclass
class _Encoded:
    context: list[int]
    continuations: list[list[int]]
    cut: bool = False


def _encode(tokenizer: PreTrainedTokenizerBase, requests: Sequence[Request],
            max_length: int) -> list[_Encoded]:
    """Token ids of each prompt and of its options, the prompt cut from the left to fit the longest."""
    texts: list[str] = []
    for prompt, choices in requests:
        context = prompt.rstrip()
        if context:
            texts.append(context)
            texts.extend(prompt + choice for choice in choices)
    ids = iter(tokenizer(texts)["input_ids"]) if texts else iter(())
    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    encoded = []
    for r, (prompt, choices) in enumerate(requests):
        if len(choices) == 0:
            raise ValueError(f"request {r}: no options to score")
        if prompt.rstrip():
            context = list(next(ids))
            continuations = [list(next(ids))[len(context):] for _ in choices]
        elif prefix is None:
            raise ValueError(f"request {r}: empty prompt, and no BOS or EOS token to stand in for it")
        else:
            context = [prefix]
            continuations = [tokenizer.encode(prompt + c, add_special_tokens=False) for c in choices]
        for j, continuation in enumerate(continuations):
            if not continuation:
                raise ValueError(f"request {r}: option {j} ({choices[j]!r}) adds no tokens to the prompt")
            if len(continuation) > max_length:
                raise ValueError(f"request {r}: option {j} has {len(continuation)} tokens, more than the "
                                 f"model's {max_length} positions")
        keep = max_length + 1 - max(len(c) for c in continuations)
        encoded.append(_Encoded(context[-keep:], continuations, cut=len(context) > keep))
    truncated = sum(e.cut for e in encoded)
    if truncated:
        log.warning("%d of %d prompts cut from the left to fit %d positions",
                    truncated, len(encoded), max_length)
    return encoded


def positions_needed(tokenizer: PreTrainedTokenizerBase, requests: Sequence[Request]) -> list[int]:
    """Positions each request needs to be scored whole: its prompt's tokens plus its longest option's,
    less the option's last token (predicted, never fed). More than the model's context means a cut."""
    encoded = _encode(tokenizer, requests, max_length=_NO_TOKENIZER_LIMIT)
    return [len(e.context) + max(len(c) for c in e.continuations) - 1 for e in encoded]


def _batches(encoded: list[_Encoded], order: list[int], prompt_cache: bool, batch_size: int,
             max_tokens: int) -> Iterator[list[int]]:
    """Consecutive runs of ``order`` within ``batch_size`` prompts and ``max_tokens`` padded tokens."""
    batch: list[int] = []
    longest_prefix = longest_row = rows = 0
    for i in order:
        item = encoded[i]
        prefix = len(item.context) - 1 if prompt_cache else 0
        row = len(item.context) - prefix + max(len(c) for c in item.continuations) - 1
        distinct = len({tuple(c[:-1]) for c in item.continuations})  # options sharing a row count once
        grown = (max(longest_prefix, prefix), max(longest_row, row), rows + distinct)
        tokens = (len(batch) + 1) * grown[0] + grown[2] * grown[1]
        if batch and (len(batch) == batch_size or tokens > max_tokens):
            yield batch
            batch, grown = [], (prefix, row, distinct)
        batch.append(i)
        longest_prefix, longest_row, rows = grown
    if batch:
        yield batch


def _right_padded(rows: list[list[int]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Ids padded on the right with token 0 (never attended, so any id will do) and the true lengths."""
    lengths = torch.tensor([len(r) for r in rows], device=device)
    ids = torch.zeros(len(rows), max(1, int(lengths.max())), dtype=torch.long, device=device)
    for k, row in enumerate(rows):
        ids[k, : len(row)] = torch.tensor(row, dtype=torch.long)
    return ids, lengths


@dataclass(frozen=True)
class DecisionPoints:
    """Where each prompt of a batch ends in the rows pass: the row that starts its first option and the
    position of its last prompt token in that row, with the prompt's index in the caller's requests.
    Hooks on a model's layers read or change the residual stream there."""

    requests: list[int]
    rows: torch.Tensor
    positions: torch.Tensor


Setting = Callable[[DecisionPoints], AbstractContextManager]
"""A way to run the model while options are scored (hooks installed, say), given the decision points."""


def unchanged(points: DecisionPoints) -> AbstractContextManager:
    """The model as it is."""
    return nullcontext()


@dataclass
class _Prepared:
    """A batch with its prompts' prefixes run once: the rows every setting then runs after them."""

    ids: torch.Tensor
    lengths: torch.Tensor
    option_rows: list[int]
    targets: list[list[int]]
    counts: list[int]
    points: DecisionPoints
    past: Cache | None = None
    mask: torch.Tensor | None = None
    positions: torch.Tensor | None = None


def _prepare_batch(model: PreTrainedModel, batch: list[_Encoded], indices: list[int], prompt_cache: bool,
                   prefix_kwargs: dict) -> _Prepared:
    """Run the prefixes of a batch's prompts and lay out the rows its options are scored in.

    Each prompt splits into a prefix (run once, cached) and its last token, which starts every option's
    row: ``last + option[:-1]`` predicts ``option``. Options of one prompt with the same row share it,
    as all one-token options do (lm-eval's logits cache does the same). Padding is on the right, so
    causal attention keeps every real token from the pads after it and a run without a cache needs no
    mask (as in lm-eval; the unmasked causal kernel is the fast one). Rows that follow a cached prefix
    mask its pads out and get explicit positions, so rotary and learned position embeddings both see
    each token at its true position.
    """
    device = model.device
    prefix_lens = [len(e.context) - 1 if prompt_cache else 0 for e in batch]
    rows: list[list[int]] = []
    owners: list[int] = []
    option_rows: list[int] = []
    first_rows: list[int] = []
    for b, (e, p) in enumerate(zip(batch, prefix_lens)):
        shared: dict[tuple[int, ...], int] = {}
        first_rows.append(len(rows))
        for c in e.continuations:
            row = tuple(e.context[p:] + c[:-1])
            if row not in shared:
                shared[row] = len(rows)
                rows.append(list(row))
                owners.append(b)
            option_rows.append(shared[row])
    ids, lengths = _right_padded(rows, device)
    points = DecisionPoints(requests=indices, rows=torch.tensor(first_rows, device=device),
                            positions=torch.tensor([len(e.context) - 1 - p for e, p in zip(batch, prefix_lens)],
                                                   device=device))
    prepared = _Prepared(ids=ids, lengths=lengths, option_rows=option_rows,
                         targets=[c for e in batch for c in e.continuations],
                         counts=[len(e.continuations) for e in batch], points=points)
    if max(prefix_lens):
        owner = torch.tensor(owners, device=device)
        row_prefix = torch.tensor(prefix_lens, device=device)[owner]
        prefix_ids, _ = _right_padded([e.context[:p] for e, p in zip(batch, prefix_lens)], device)
        prefix_span = torch.arange(prefix_ids.shape[1], device=device)
        out = model(input_ids=prefix_ids, position_ids=prefix_span.expand_as(prefix_ids), use_cache=True,
                    **prefix_kwargs)
        past = out.past_key_values
        if not isinstance(past, Cache):
            raise TypeError(f"{type(model).__name__} returned no indexable cache; "
                            "score it with prompt_cache=False")
        past.batch_select_indices(owner)
        span = torch.arange(ids.shape[1], device=device)
        real = span < lengths[:, None]
        prepared.past = past
        prepared.mask = torch.cat([prefix_span < row_prefix[:, None], real], dim=1).long()
        prepared.positions = torch.where(real, row_prefix[:, None] + span, 0)  # a pad's could pass the last position
    return prepared


def _rewindable(past: Cache) -> bool:
    """Whether the rows run after a cached prefix can be cut off again exactly: every layer a plain
    full-attention one (a sliding window or a recurrent state may have dropped what came before)."""
    from transformers.cache_utils import DynamicLayer

    layers = getattr(past, "layers", None)
    return bool(layers) and all(type(layer) is DynamicLayer for layer in layers)


def _score_rows(model: PreTrainedModel, prepared: _Prepared, rewind: bool) -> list[tuple[list[float], list[int]]]:
    """Sum log-probability and token count of every option of every prompt of a prepared batch; with
    ``rewind``, the cached prefixes are left as they were, for the next setting."""
    device = model.device
    ids, lengths = prepared.ids, prepared.lengths
    if prepared.past is not None:
        out = model(input_ids=ids, attention_mask=prepared.mask, position_ids=prepared.positions,
                    past_key_values=prepared.past, use_cache=True)
        if rewind:
            prepared.past.crop(-ids.shape[1])
    else:
        span = torch.arange(ids.shape[1], device=device)
        out = model(input_ids=ids, position_ids=span.expand_as(ids), use_cache=False)

    targets = prepared.targets
    option_row = torch.tensor(prepared.option_rows, device=device)
    n_targets = torch.tensor([len(t) for t in targets], device=device)
    step = torch.arange(int(n_targets.max()), device=device)
    where = (lengths[option_row] - n_targets)[:, None] + step
    logits = out.logits[option_row[:, None], where.clamp(max=ids.shape[1] - 1)].float()
    target_ids, _ = _right_padded(targets, device)
    logprobs = torch.take_along_dim(logits, target_ids[:, :, None], dim=2)[..., 0] - logits.logsumexp(-1)
    sums = torch.where(step < n_targets[:, None], logprobs, 0.0).sum(1).tolist()

    results, k = [], 0
    for n in prepared.counts:
        results.append((sums[k : k + n], [len(t) for t in targets[k : k + n]]))
        k += n
    return results


def score_choices(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, requests: Sequence[Request], *,
                  batch_size: int = 32, max_tokens_per_batch: int = 4096, max_length: int | None = None,
                  prompt_cache: bool = True) -> list[ChoiceScores]:
    """Log-likelihood of every option of every ``(prompt, options)`` request, in request order.

    Prompts are sorted longest first and batched by at most ``batch_size`` prompts and
    ``max_tokens_per_batch`` padded tokens, so padding stays small; results do not depend on either.
    The default budget is the fastest measured on CPU, where larger batches fall out of cache; on a GPU
    raise both.
    A prompt too long for ``max_length`` (default: the model's positions) loses tokens from the left,
    the same for all its options, until the longest option fits. The model is scored in eval mode and
    handed back in the mode it came in.
    """
    return score_settings(model, tokenizer, requests, [unchanged], batch_size=batch_size,
                          max_tokens_per_batch=max_tokens_per_batch, max_length=max_length,
                          prompt_cache=prompt_cache)[0]


def score_settings(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, requests: Sequence[Request],
                   settings: Sequence[Setting], *, batch_size: int = 32, max_tokens_per_batch: int = 4096,
                   max_length: int | None = None, prompt_cache: bool = True) -> list[list[ChoiceScores]]:
    """:func:`score_choices` once per setting (one list of scores each, in request order), every
    prompt's prefix run once and shared by all settings: each setting runs only the rows from the
    prompt's last token on, so a setting that changes the model there (an intervention at the decision
    point) or reads it costs a few tokens per prompt, not a prompt."""
    if batch_size < 1 or max_tokens_per_batch < 1:
        raise ValueError("batch_size and max_tokens_per_batch must be positive")
    encoded = _encode(tokenizer, requests, max_length or model_max_length(model, tokenizer))

    def longest_first(i: int) -> tuple[int, int]:
        e = encoded[i]
        longest = max(len(c) for c in e.continuations)
        return (-len(e.context), -longest) if prompt_cache else (-len(e.context) - longest, 0)

    order = sorted(range(len(encoded)), key=longest_first)
    accepts_keep = "logits_to_keep" in inspect.signature(model.forward).parameters
    prefix_kwargs = {"logits_to_keep": 1} if accepts_keep else {}
    scores: list[list[ChoiceScores | None]] = [[None] * len(encoded) for _ in settings]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            for batch in _batches(encoded, order, prompt_cache, batch_size, max_tokens_per_batch):
                prepared = _prepare_batch(model, [encoded[i] for i in batch], batch, prompt_cache, prefix_kwargs)
                rewindable = prepared.past is not None and _rewindable(prepared.past)
                for k, (setting, setting_scores) in enumerate(zip(settings, scores)):
                    more = k < len(settings) - 1
                    run = prepared
                    if more and prepared.past is not None and not rewindable:
                        run = replace(prepared, past=copy.deepcopy(prepared.past))
                    with setting(prepared.points):
                        batch_scores = _score_rows(model, run, rewind=more and rewindable)
                    for i, (sums, counts) in zip(batch, batch_scores):
                        means = [s / n for s, n in zip(sums, counts)]
                        setting_scores[i] = ChoiceScores(sum_logprob=sums, mean_logprob=means, n_tokens=counts,
                                                         cut=encoded[i].cut)
    finally:
        model.train(was_training)
    return scores


def score_items(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, items: Sequence[EvalItem],
                **options) -> list[ItemScore]:
    """``score_choices`` over eval items; ``options`` are passed on to it."""
    scores = score_choices(model, tokenizer, [(item.prompt, item.choices) for item in items], **options)
    return [
        ItemScore(item_id=item.id, sum_logprob=s.sum_logprob, mean_logprob=s.mean_logprob,
                  n_tokens=s.n_tokens, choice=s.choice(), choice_normalized=s.choice(normalized=True))
        for item, s in zip(items, scores)
    ]


def _generation_prompt_ids(tokenizer: PreTrainedTokenizerBase, prompt: str, chat: bool | None) -> list[int]:
    """Prompt ids, wrapped as one user turn by the tokenizer's chat template when it has one (or asked)."""
    if chat is None:
        chat = getattr(tokenizer, "chat_template", None) is not None
    if chat:
        text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                             add_generation_prompt=True)
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    return tokenizer(prompt)["input_ids"]


def generate_choices(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase,
                     requests: Sequence[Request], *, max_new_tokens: int = 64, temperature: float = 0.0,
                     seed: int = 0, batch_size: int = 8, chat: bool | None = None) -> list[GeneratedChoice]:
    """Generate an answer to each prompt (greedy at ``temperature`` 0) and parse the option it names.

    The prompt goes to the model as given, so it must itself show the options and how to answer; the
    options are used only to parse the answer. Prompts are batched with left padding (``generate``
    derives positions from the attention mask) and cut from the left to leave room for the answer.
    Sampling is seeded; greedy answers do not depend on ``batch_size``.
    """
    limit = model_max_length(model, tokenizer) - max_new_tokens
    if limit < 1:
        raise ValueError(f"max_new_tokens={max_new_tokens} leaves no room for a prompt")
    prompts = [_generation_prompt_ids(tokenizer, prompt, chat)[-limit:] for prompt, _ in requests]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    sampling = {"do_sample": True, "temperature": temperature} if temperature > 0 else {"do_sample": False}
    order = sorted(range(len(prompts)), key=lambda i: -len(prompts[i]))
    completions: list[str] = [""] * len(prompts)
    device = model.device
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode(), torch.random.fork_rng():
            torch.manual_seed(seed)
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                width = max(len(prompts[i]) for i in batch)
                ids = torch.full((len(batch), width), pad if pad is not None else 0, dtype=torch.long)
                mask = torch.zeros(len(batch), width, dtype=torch.long)
                for k, i in enumerate(batch):
                    ids[k, width - len(prompts[i]):] = torch.tensor(prompts[i], dtype=torch.long)
                    mask[k, width - len(prompts[i]):] = 1
                out = model.generate(input_ids=ids.to(device), attention_mask=mask.to(device),
                                     max_new_tokens=max_new_tokens, pad_token_id=pad, **sampling)
                for k, i in enumerate(batch):
                    completions[i] = tokenizer.decode(out[k, width:], skip_special_tokens=True)
    finally:
        model.train(was_training)
    return [GeneratedChoice(c, parse_choice(c, choices)) for c, (_, choices) in zip(completions, requests)]


def generate_choice(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompt: str,
                    choices: Sequence[str], **options) -> GeneratedChoice:
    """``generate_choices`` for one prompt."""
    return generate_choices(model, tokenizer, [(prompt, choices)], **options)[0]


def generate_choices_openai(client, model: str, requests: Sequence[Request], *, max_tokens: int = 64,
                            temperature: float = 0.0, seed: int = 0) -> list[GeneratedChoice]:
    """``generate_choices`` through an OpenAI-compatible chat endpoint (``client``: ``openai.OpenAI``).

    One request at a time; the client's own retries cover transient HTTP failures.
    """
    answers = []
    for prompt, choices in requests:
        response = client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens,
            temperature=temperature, seed=seed,
        )
        completion = response.choices[0].message.content or ""
        answers.append(GeneratedChoice(completion, parse_choice(completion, choices)))
    return answers


def answer_items(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, items: Sequence[EvalItem],
                 **options) -> list[ItemAnswer]:
    """``generate_choices`` over eval items, logging how many answers could not be parsed."""
    answers = generate_choices(model, tokenizer, [(item.prompt, item.choices) for item in items], **options)
    unparsed = sum(a.choice is None for a in answers)
    if unparsed:
        log.warning("%d of %d generated answers name no option", unparsed, len(answers))
    return [ItemAnswer(item_id=item.id, completion=a.completion, choice=a.choice)
            for item, a in zip(items, answers)]
