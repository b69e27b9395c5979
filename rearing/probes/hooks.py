"""The residual stream of any Hugging Face causal LM, read and changed with plain forward hooks.

No interpretability framework: they break on architectures they do not know and change their APIs
often. A decoder layer's output (its first element when it returns a tuple) is the residual stream
after that block; hooks are context managers that always come off, and what they read is detached.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

import torch
from torch import nn

from rearing.evals.scorer import DecisionPoints, Setting

LAYER_PATHS = ("model.layers", "model.decoder.layers", "transformer.h", "gpt_neox.layers", "transformer.blocks",
               "model.language_model.layers", "language_model.model.layers")
"""Where decoder layers live in the architectures of ``transformers`` (Llama, Mistral, Qwen, Gemma,
OPT, GPT-2, GPT-J, GPT-NeoX, MPT, multimodal wrappers); any other model is searched for them."""


def decoder_layers(model: nn.Module) -> nn.ModuleList:
    """The model's decoder blocks in order: found at a known path, else the one ``ModuleList`` as long
    as the config's ``num_hidden_layers``; a ``ValueError`` naming the model when neither finds them."""
    for path in LAYER_PATHS:
        found: object = model
        for name in path.split("."):
            found = getattr(found, name, None)
        if isinstance(found, nn.ModuleList) and len(found):
            return found
    config = getattr(model, "config", None)
    count = getattr(getattr(config, "text_config", None) or config, "num_hidden_layers", None)
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList) and count and len(m) == count]
    if len(lists) == 1:
        return lists[0]
    raise ValueError(f"{type(model).__name__}: cannot find its decoder layers (looked at {', '.join(LAYER_PATHS)} "
                     "and for one ModuleList of config.num_hidden_layers blocks); probes need them")


def _hidden(output) -> torch.Tensor:
    return output[0] if isinstance(output, tuple) else output


def _replace(output, hidden: torch.Tensor):
    return (hidden, *output[1:]) if isinstance(output, tuple) else hidden


@contextmanager
def hooked(layer: nn.Module, edit: Callable[[torch.Tensor], torch.Tensor | None]) -> Iterator[None]:
    """Run ``edit`` on the layer's output hidden states; what it returns (if anything) replaces them."""

    def hook(module, args, output):
        changed = edit(_hidden(output))
        return None if changed is None else _replace(output, changed)

    handle = layer.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


def capture(layers: list[nn.Module], into: dict[int, torch.Tensor]) -> Setting:
    """A setting that records, for every layer, the residual stream at each prompt's decision point
    (its last token) as ``into[request] = [layers, hidden]`` (float32, detached, on the CPU)."""

    @contextmanager
    def setting(points: DecisionPoints) -> Iterator[None]:
        seen: list[torch.Tensor] = []
        with ExitStack() as stack:
            for layer in layers:
                stack.enter_context(hooked(layer, lambda h: seen.append(
                    h[points.rows, points.positions].detach().float().cpu())))
            yield
        stacked = torch.stack(seen, dim=1)
        for k, request in enumerate(points.requests):
            into[request] = stacked[k]

    return setting


def ablation(direction: torch.Tensor, mean: float = 0.0) -> Callable[[torch.Tensor], torch.Tensor]:
    """Set the residual stream's projection on ``direction`` to ``mean``: ``h - ((h . u) - mean) u``
    with ``u`` its unit vector. With the projection's mean over the items, every item keeps the same
    position along ``u`` and stays in the range the model saw (mean-ablation); a zero direction leaves
    ``h`` as it is."""
    norm = direction.norm()
    unit = direction / norm if norm > 0 else direction

    def edit(hidden: torch.Tensor) -> torch.Tensor:
        u = unit.to(hidden.device, hidden.dtype)
        return hidden - ((hidden @ u) - mean)[..., None] * u

    return edit


def steering(vector: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
    """Add ``vector`` to the residual stream at every position the pass runs."""

    def edit(hidden: torch.Tensor) -> torch.Tensor:
        return hidden + vector.to(hidden.device, hidden.dtype)

    return edit


def intervention(layer: nn.Module, edit: Callable[[torch.Tensor], torch.Tensor]) -> Setting:
    """A setting that applies ``edit`` at ``layer`` while options are scored: at each prompt's decision
    point and its options' tokens (the prompt before it is run, and cached, unchanged)."""
    return lambda points: hooked(layer, edit)
