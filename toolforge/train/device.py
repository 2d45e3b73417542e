"""Which device and precision training and generation use (pure, unit-tested without a GPU)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from toolforge.errors import UsageError


@dataclass(frozen=True)
class DevicePlan:
    device: str                  # cpu | cuda | mps
    dtype: str                   # float32 | bfloat16 | float16
    gradient_checkpointing: bool

    @property
    def bf16(self) -> bool:
        return self.dtype == "bfloat16"

    @property
    def fp16(self) -> bool:
        return self.dtype == "float16"

    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_device(prefer: str = "auto", *, gradient_checkpointing: bool | None = None, torch: Any = None) -> DevicePlan:
    """A GPU when there is one (bf16 where it supports it, else fp16; gradient checkpointing on),
    else the CPU in float32. ``torch`` may be a stand-in for tests."""
    if torch is None:
        import torch as torch_mod

        torch = torch_mod
    has_cuda = bool(torch.cuda.is_available())
    mps = getattr(getattr(torch, "backends", None), "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if prefer == "auto":
        prefer = "cuda" if has_cuda else ("mps" if has_mps else "cpu")
    if prefer == "cuda" and not has_cuda:
        raise UsageError("--device cuda: no CUDA GPU is visible", hint="use --device auto or cpu")
    if prefer == "mps" and not has_mps:
        raise UsageError("--device mps: Apple's MPS backend is not available", hint="use --device auto or cpu")
    if prefer == "cuda":
        dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        return DevicePlan("cuda", dtype, True if gradient_checkpointing is None else gradient_checkpointing)
    if prefer == "mps":
        return DevicePlan("mps", "float32", bool(gradient_checkpointing))
    return DevicePlan("cpu", "float32", bool(gradient_checkpointing))
