"""Elementwise ops (src/ops/elementwise.ts). Unary ops are one line each; binary ops
broadcast NumPy-style. Where PyTorch's gradient differs from TensorFlow.js's (ties of
maximum/minimum, pow at a ≤ 0), the op is written so that autograd gives tfjs's."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import sum_to

def _unary(fn):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [fn(inputs[0], sh.attrs)]

    return kernel


def _binary(fn):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [fn(inputs[0], inputs[1])]

    return kernel


class _TfPow(torch.autograd.Function):
    """a ** b with tfjs's gradients: da = dy·b·a^(b-1), db = dy·y·log(a) where a > 0, else 0."""

    @staticmethod
    def forward(ctx, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        y = torch.pow(a, b)
        ctx.save_for_backward(a, b, y)
        return y

    @staticmethod
    def backward(ctx, dy: torch.Tensor):  # type: ignore[override]
        a, b, y = ctx.saved_tensors
        da = db = None
        if ctx.needs_input_grad[0]:
            da = sum_to(dy * (b * torch.pow(a, b - 1)), a.shape)
        if ctx.needs_input_grad[1]:
            log_a = torch.where(a > 0, torch.log(a), torch.zeros_like(a))
            db = sum_to(dy * (y * log_a), b.shape)
        return da, db


def _maximum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # tfjs: da = dy·(a ≥ b), db = dy·(a < b); torch.maximum would split ties in half.
    a2, b2 = torch.broadcast_tensors(a, b)
    return torch.where(a2 >= b2, a2, b2)


def _minimum(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    a2, b2 = torch.broadcast_tensors(a, b)
    return torch.where(a2 <= b2, a2, b2)


def _gelu(x: torch.Tensor, attrs: dict) -> torch.Tensor:
    # The erf form x/2·(1 + erf(x/√2)) of the TS kernel, as torch's fused kernel (several
    # times faster, forward and backward, than the same formula from elementwise ops).
    return F.gelu(x)


def _scale_shift(x: torch.Tensor, attrs: dict) -> torch.Tensor:
    a = float(attrs.get("scale", 1))
    b = float(attrs.get("shift", 0))
    y = x.clone() if a == 1 else x * a
    return y + b if b != 0 else y


UNARY = {
    "relu": lambda x, a: torch.relu(x),
    "gelu": _gelu,
    "tanh": lambda x, a: torch.tanh(x),
    "sigmoid": lambda x, a: torch.sigmoid(x),
    "exp": lambda x, a: torch.exp(x),
    "log": lambda x, a: torch.log(x),
    "sqrt": lambda x, a: torch.sqrt(x),
    "rsqrt": lambda x, a: torch.rsqrt(x),
    "neg": lambda x, a: torch.neg(x),
    "abs": lambda x, a: torch.abs(x),
    "square": lambda x, a: torch.square(x),
    "leaky_relu": lambda x, a: F.leaky_relu(x, float(a.get("alpha", 0.01))),
    "clip": lambda x, a: torch.clamp(x, float(a["min"]), float(a["max"])),
    "erf": lambda x, a: torch.erf(x),
    "identity": lambda x, a: x.clone(),
}

BINARY = {
    "add": torch.add,
    "sub": torch.sub,
    "mul": torch.mul,
    "div": torch.div,
    "pow": _TfPow.apply,
    "maximum": _maximum,
    "minimum": _minimum,
}

KERNELS = {
    **{name: _unary(fn) for name, fn in UNARY.items()},
    **{name: _binary(fn) for name, fn in BINARY.items()},
}

SCALE_SHIFT = _unary(_scale_shift)
