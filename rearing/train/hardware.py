"""What the machine can do: bf16 support decides the default precision, and where compiling the model's
forward pays (``train.compile``)."""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from pathlib import Path

import torch

COMPILE_MIN_PARAMETERS = 5_000_000
"""``train.compile: auto`` compiles a CPU model in bf16 on AMX from about micro's size (~6M parameters) up.
``bench/bench_train.py --parts variants`` measured micro in bf16 at 1.21x the eager tokens/s on a Sapphire
Rapids (AMX), but 1.05x on an AMD EPYC without AMX, and every fp32 or nano case under 1.10x, for 5-27 s
of compilation per model."""


def _cpu_flags() -> str:
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""


def cpu_has_amx() -> bool:
    """True when the CPU has AMX tiles for bf16 (Intel Sapphire Rapids and later)."""
    return "amx_bf16" in _cpu_flags()


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 arithmetic (AVX512-BF16 or AMX), where autocast pays off."""
    flags = _cpu_flags()
    if "avx512_bf16" in flags or "amx_bf16" in flags:
        return True
    check = getattr(torch.cpu, "_is_avx512_bf16_supported", None)
    return bool(check and check())


def resolve_precision(requested: str, device: torch.device) -> str:
    """``auto`` becomes bf16 where the device computes it natively, fp32 otherwise."""
    if requested != "auto":
        return requested
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if device.type == "cpu" and cpu_supports_bf16() else "fp32"


def resolve_compile(requested: str, device: torch.device, precision: str, parameters: int,
                    amx: bool | None = None) -> bool:
    """``auto`` compiles where it was measured to pay: on a GPU, and on a CPU with AMX (``amx``; None:
    this one's) in bf16 for models of ``COMPILE_MIN_PARAMETERS`` and more."""
    if requested != "auto":
        return requested == "on"
    if device.type == "cuda":
        return True
    amx = cpu_has_amx() if amx is None else amx
    return amx and precision == "bf16" and parameters >= COMPILE_MIN_PARAMETERS


class Forward:
    """The model's forward, through ``torch.compile`` (inductor) when asked for.

    Compiling happens on the first call, and that is where an unsupported platform, a missing C++ compiler
    or an operator inductor cannot lower shows; then this falls back to the eager forward for the rest of
    the run, with a warning, and ``mode`` says why. The weights are the model's own either way.
    """

    def __init__(self, model, compile_it: bool):
        self.model = model
        self.compiled = torch.compile(model) if compile_it else None
        self.mode = "compiled" if compile_it else "eager"
        self._proven = not compile_it

    def __call__(self, **inputs):
        if self.compiled is None:
            return self.model(**inputs)
        if self._proven:
            return self.compiled(**inputs)
        try:
            with _backward_compiled_with_forward():
                output = self.compiled(**inputs)
        except Exception as error:  # noqa: BLE001 - any failure to compile leaves the eager forward, which is exact
            reason = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
            warnings.warn(f"torch.compile failed, training with the eager forward instead ({reason})", stacklevel=2)
            self.compiled, self.mode = None, f"eager (compile failed: {reason[:300]})"
            return self.model(**inputs)
        self._proven = True
        return output


def _backward_compiled_with_forward():
    """Compile the backward graph with the forward on the first call (torch defers it to the first
    backward), so a backward inductor cannot lower fails where :class:`Forward` falls back too. The
    setting is torch's own but private: where a torch lacks it, such a failure raises at the first backward."""
    try:
        import torch._functorch.config as functorch_config
    except ImportError:
        return nullcontext()
    if not hasattr(functorch_config, "force_non_lazy_backward_lowering"):
        return nullcontext()
    return functorch_config.patch(force_non_lazy_backward_lowering=True)
