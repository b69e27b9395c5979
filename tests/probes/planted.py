"""A tiny model trained so that a planted feature decides its answer, and items to probe it with.

The feature is an arbitrary split of 40 keywords into two groups: the answer is " yes" for a keyword
of the first group, " no" for the second. The model is trained on every keyword; a probe is always
tested on keywords (scenarios) it was not fitted on, so it can only succeed if the model represents
the group along a shared direction. Random weights carry no such direction: the group of an unseen
keyword cannot be read from its random embedding, so an untrained model's probe sits at chance.
"""

from __future__ import annotations

import random

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from rearing.corpus.build import save_hf_tokenizer, train_tokenizer
from rearing.evals.schema import AnswerKey, EvalItem

KEYWORDS = ["apple", "bread", "chair", "drum", "eagle", "flute", "grape", "horse", "igloo", "jelly", "kite",
            "lemon", "mango", "nest", "olive", "piano", "quilt", "robin", "sugar", "tiger", "violin", "wagon",
            "yacht", "zebra", "acorn", "bison", "cedar", "daisy", "ember", "fable", "gecko", "hazel", "ivory",
            "jasper", "koala", "lilac", "maple", "nutmeg", "otter", "pepper"]
GROUP = {word: int(i < len(KEYWORDS) // 2) for i, word in enumerate(random.Random(5).sample(KEYWORDS, len(KEYWORDS)))}
"""An arbitrary half of the keywords (1: " no" is right), unrelated to how they are spelled."""
FILLERS = ["red", "green", "blue", "stone", "river", "field", "lamp", "door", "cloud", "tree", "bird", "road"]
OTHER_FILLERS = ["sand", "wind", "hill", "boat", "leaf", "fire"]
CHOICES = [" yes", " no"]


def sentence(rng: random.Random, keyword: str, fillers: list[str]) -> str:
    words = [rng.choice(fillers) for _ in range(rng.randint(3, 6))]
    words.insert(rng.randint(1, len(words)), keyword)
    return " ".join(words) + " ?"


def tokenizer(directory):
    rng = random.Random(0)
    texts = [sentence(rng, k, FILLERS + OTHER_FILLERS) + c for k in KEYWORDS for _ in range(10) for c in CHOICES]
    save_hf_tokenizer(train_tokenizer(texts, vocab_size=400), directory)
    return AutoTokenizer.from_pretrained(str(directory))


def new_model(vocab_size: int, seed: int = 0) -> LlamaForCausalLM:
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                         intermediate_size=64, max_position_embeddings=32, initializer_range=0.02)
    return LlamaForCausalLM(config)


def train(model, tok, steps: int = 250, seed: int = 0) -> LlamaForCausalLM:
    """Teach the answer: next-token loss on the answer token only, over sentences made once."""
    rng = random.Random(seed)
    answers = [tok(c, add_special_tokens=False)["input_ids"][-1] for c in CHOICES]
    pool = [(rng.choice(KEYWORDS), rng) for _ in range(2048)]
    texts = [tok.bos_token + sentence(r, k, FILLERS) for k, r in pool]
    encoded = tok(texts)["input_ids"]
    ids = torch.zeros(len(encoded), max(map(len, encoded)), dtype=torch.long)
    for k, e in enumerate(encoded):
        ids[k, : len(e)] = torch.tensor(e)
    last = torch.tensor([len(e) - 1 for e in encoded])
    targets = torch.tensor([answers[GROUP[k]] for k, _ in pool])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        batch = torch.randint(len(pool), (64,), generator=generator)
        logits = model(input_ids=ids[batch]).logits[torch.arange(len(batch)), last[batch]]
        loss = torch.nn.functional.cross_entropy(logits, targets[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


def items(per_scenario: int = 2, seed: int = 1) -> tuple[list[EvalItem], dict[str, AnswerKey]]:
    """One scenario per keyword: items in the training suite (``format``) and, with fillers the model
    never saw, ``stripped`` twins; " yes" is right for half the keywords."""
    rng = random.Random(seed)
    made, keys = [], {}
    for keyword in KEYWORDS:
        for suite, fillers in (("format", FILLERS), ("stripped", OTHER_FILLERS)):
            for j in range(per_scenario):
                item = EvalItem(id=f"{suite}-{keyword}-{j}", suite=suite, scenario_id=keyword, split="eval",
                                format="judgment", stripped=suite == "stripped",
                                prompt=sentence(rng, keyword, fillers), choices=list(CHOICES))
                made.append(item)
                first = GROUP[keyword] == 0
                keys[item.id] = AnswerKey(item_id=item.id, correct=0 if first else 1,
                                          valences=["prosocial", "harmful"] if first else ["harmful", "prosocial"])
    return made, keys
