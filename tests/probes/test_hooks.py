"""Hooks on the residual stream: found on any architecture, identity when they change nothing, and
never leaking from one setting into the next."""

from __future__ import annotations

import pytest
import torch
from transformers import (
    AutoTokenizer,
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    MistralConfig,
    MistralForCausalLM,
)

from rearing.corpus.build import save_hf_tokenizer, train_tokenizer
from rearing.evals.scorer import score_choices, score_settings, unchanged
from rearing.probes.hooks import ablation, capture, decoder_layers, hooked, intervention, steering

SENTENCES = ["Mara finds the spare key under the mat and keeps it.", "Tomas tells the owner about the broken step.",
             "The parcel sits by the door all afternoon.", "Is it right for Mara to keep the key? Yes or no."]
REQUESTS = [("Mara finds the spare key under the mat. Is it right for Mara to keep it?", [" Yes", " No"]),
            ("Tomas tells the owner about the broken step. Is it right?", [" Yes", " No", " Maybe so"]),
            ("The parcel sits by the door", [" all afternoon.", " and nobody takes it"])]


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tokenizer")
    save_hf_tokenizer(train_tokenizer(SENTENCES * 4, vocab_size=300), directory)
    return AutoTokenizer.from_pretrained(str(directory))


def llama(vocab: int) -> LlamaForCausalLM:
    torch.manual_seed(0)
    return LlamaForCausalLM(LlamaConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                                        intermediate_size=64, max_position_embeddings=64)).eval()


def gpt2(vocab: int) -> GPT2LMHeadModel:
    torch.manual_seed(0)
    return GPT2LMHeadModel(GPT2Config(vocab_size=vocab, n_embd=32, n_layer=2, n_head=4, n_positions=64)).eval()


def sums(scores) -> list[float]:
    return [value for s in scores for value in s.sum_logprob]


def test_decoder_layers_are_found_on_several_architectures(tokenizer):
    assert len(decoder_layers(llama(len(tokenizer)))) == 3
    assert len(decoder_layers(gpt2(len(tokenizer)))) == 2
    with pytest.raises(ValueError, match="decoder layers"):
        decoder_layers(torch.nn.Sequential(torch.nn.Linear(2, 2)))


@pytest.mark.parametrize("make", [llama, gpt2])
def test_a_zero_edit_reproduces_the_unhooked_scores_exactly(tokenizer, make):
    model = make(len(tokenizer))
    block = decoder_layers(model)[1]
    zero = torch.zeros(model.config.hidden_size)
    plain, steered, ablated = score_settings(model, tokenizer, REQUESTS, [
        unchanged, intervention(block, steering(0.0 * torch.ones_like(zero))), intervention(block, ablation(zero))])
    assert sums(plain) == sums(steered) == sums(ablated)
    with hooked(block, ablation(zero)):
        everywhere = score_choices(model, tokenizer, REQUESTS)
    assert sums(everywhere) == sums(plain)


def test_settings_share_the_prefix_and_do_not_leak_into_each_other(tokenizer):
    model = llama(len(tokenizer))
    block = decoder_layers(model)[0]
    push = intervention(block, steering(torch.full((32,), 3.0)))
    alone = score_choices(model, tokenizer, REQUESTS)
    first, pushed, again = score_settings(model, tokenizer, REQUESTS, [unchanged, push, unchanged], batch_size=2)
    assert sums(first) == sums(again)
    assert sums(first) == pytest.approx(sums(alone), abs=1e-4)
    assert all(a != b for a, b in zip(sums(pushed), sums(first), strict=True))


def test_capture_reads_the_residual_stream_at_the_last_prompt_token(tokenizer):
    model = llama(len(tokenizer))
    blocks = list(decoder_layers(model))
    store: dict = {}
    score_settings(model, tokenizer, REQUESTS, [capture(blocks, store)], batch_size=2)
    for r, (prompt, _) in enumerate(REQUESTS):
        ids = tokenizer(prompt.rstrip(), return_tensors="pt")["input_ids"]
        with torch.inference_mode():
            states = model(input_ids=ids, output_hidden_states=True).hidden_states
        # hidden_states[k] is the stream after block k; the last one has the final norm applied
        for k in range(1, len(blocks)):
            assert torch.allclose(store[r][k - 1], states[k][0, -1], atol=1e-5)
        assert store[r].shape == (len(blocks), 32)


def test_a_sliding_window_cache_is_copied_not_cut_between_settings(tokenizer):
    torch.manual_seed(0)
    model = MistralForCausalLM(MistralConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                                             num_attention_heads=4, num_key_value_heads=4, intermediate_size=64,
                                             max_position_embeddings=64, sliding_window=4)).eval()
    push = intervention(decoder_layers(model)[0], steering(torch.full((32,), 3.0)))
    first, pushed, again = score_settings(model, tokenizer, REQUESTS, [unchanged, push, unchanged])
    assert sums(first) == sums(again) == sums(score_choices(model, tokenizer, REQUESTS))
    assert sums(pushed) != sums(first)
