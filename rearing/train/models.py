"""Model presets: Llama-style causal LMs from Hugging Face, sized for a CPU or for GPUs.

Every model is a plain ``transformers`` model, so anything saved here loads with
``AutoModelForCausalLM.from_pretrained(dir)`` and works with the rest of that ecosystem.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from rearing.io import InputError


@dataclass(frozen=True)
class ModelPreset:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    note: str


PRESETS: dict[str, ModelPreset] = {
    "nano": ModelPreset(128, 4, 4, 256, "~1M parameters with a 4k vocabulary; CPU"),
    "micro": ModelPreset(256, 6, 4, 688, "~6M parameters; CPU"),
    "small": ModelPreset(384, 10, 6, 1024, "~20M parameters; CPU (slow) or one GPU"),
    "paper-125m": ModelPreset(768, 12, 12, 2048, "~125M parameters with a 32k vocabulary; GPU"),
    "paper-350m": ModelPreset(1024, 24, 16, 2816, "~350M parameters with a 32k vocabulary; GPUs"),
}


def llama_config(preset: str, vocab_size: int, context_length: int, dropout: float = 0.0,
                 eos_token_id: int | None = None, pad_token_id: int | None = None):
    from transformers import LlamaConfig

    if preset not in PRESETS:
        raise ValueError(f"train.model: unknown preset '{preset}' (choose from {', '.join(PRESETS)}, "
                         "or set train.init_from to a local checkpoint)")
    p = PRESETS[preset]
    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=p.hidden, intermediate_size=p.intermediate,
        num_hidden_layers=p.layers, num_attention_heads=p.heads, num_key_value_heads=p.heads,
        max_position_embeddings=context_length, attention_dropout=dropout, tie_word_embeddings=True,
        bos_token_id=eos_token_id, eos_token_id=eos_token_id, pad_token_id=pad_token_id,
        initializer_range=0.02,
    )


def new_model(preset: str, vocab_size: int, context_length: int, seed: int, dropout: float = 0.0,
              eos_token_id: int | None = None, pad_token_id: int | None = None):
    """A freshly initialised model; the seed alone decides its weights."""
    import torch
    from transformers import AutoModelForCausalLM

    config = llama_config(preset, vocab_size, context_length, dropout, eos_token_id, pad_token_id)
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config, attn_implementation="sdpa")


def untrained_model(model: str, init_from: str | None, tokenizer, context_length: int, seed: int):
    """A model of a run's architecture and tokenizer as training starts it at ``seed``, untrained: the
    preset as ``new_model`` builds it, or a checkpoint's architecture with fresh weights."""
    if init_from is None:
        return new_model(model, len(tokenizer), context_length, seed, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id)
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(init_from), attn_implementation="sdpa")


def save_model(final: Path, model, tokenizer) -> None:
    """``save_pretrained`` (safetensors) plus the tokenizer, swapped in whole."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    staging = final.with_name(f".{final.name}.new")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(str(staging), safe_serialization=True)
    tokenizer.save_pretrained(str(staging))
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staging, final)


def load_checkpoint(path: str | Path):
    """A local Hugging Face checkpoint, safetensors weights only (never unpickled)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = Path(path)
    if not (path / "config.json").exists():
        raise InputError([f"{path}: not a Hugging Face checkpoint (no config.json)"])
    if not any(path.glob("*.safetensors")):
        raise InputError([f"{path}: no safetensors weights; only safetensors checkpoints are loaded"])
    return AutoModelForCausalLM.from_pretrained(str(path), use_safetensors=True, attn_implementation="sdpa",
                                                dtype=torch.float32)


def count_parameters(model, non_embedding: bool = False) -> int:
    total = sum(p.numel() for p in model.parameters())
    if non_embedding:
        total -= model.get_input_embeddings().weight.numel()
    return total
