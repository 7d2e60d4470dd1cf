"""Elementwise ops (src/ops/elementwise.ts). Unary ops are one line each; binary ops
broadcast NumPy-style, and add/sub/mul/div/maximum/minimum/mod/fmod also take two integer
operands (div truncating towards 0, mod with the divisor's sign, fmod with the dividend's).
Where PyTorch's gradient differs from TensorFlow.js's (ties of maximum/minimum, pow at
a ≤ 0), the op is written so that autograd gives tfjs's; piecewise functions are selects
on the same strict comparisons as the TS kernels. trilu masks from the task's GLOBAL row
and column positions, so any split keeps the whole op's triangle."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..plan import Shard
from .common import sum_to

def _unary(fn):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        return [fn(inputs[0], sh.attrs)]

    return kernel


def _binary(fn, ints=None):
    def kernel(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
        a, b = inputs
        if ints is not None and not a.is_floating_point():
            return [ints(a, b)]
        return [fn(a, b)]

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


def _elu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    # exp of min(x, 0) only: exp of a large x would overflow in the branch the select drops.
    return torch.where(x > 0, x, (torch.exp(torch.clamp(x, max=0.0)) - 1) * alpha)


def _celu(x: torch.Tensor, alpha: float) -> torch.Tensor:
    return torch.where(x > 0, x, (torch.exp(torch.clamp(x, max=0.0) / alpha) - 1) * alpha)


def _shrink(x: torch.Tensor, a: dict) -> torch.Tensor:
    bias, lambd = float(a.get("bias", 0)), float(a.get("lambd", 0.5))
    return torch.where(-x > lambd, x + bias, torch.where(x > lambd, x - bias, torch.zeros_like(x)))


def _trunc(x: torch.Tensor) -> torch.Tensor:
    # sign(x)·⌊|x|⌋ as the TS kernel (gradient 0, as torch.trunc's).
    return torch.trunc(x)


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
    "hard_sigmoid": lambda x, a: torch.clamp(x * float(a.get("alpha", 0.2)) + float(a.get("beta", 0.5)), 0.0, 1.0),
    "hard_swish": lambda x, a: x * torch.clamp(x * (1 / 6) + 0.5, 0.0, 1.0),
    "elu": lambda x, a: _elu(x, float(a.get("alpha", 1.0))),
    "selu": lambda x, a: _elu(x, float(a.get("alpha", 1.6732632423543772))) * float(a.get("gamma", 1.0507009873554805)),
    "celu": lambda x, a: _celu(x, float(a.get("alpha", 1.0))),
    "softplus": lambda x, a: F.softplus(x),
    "softsign": lambda x, a: x / (torch.abs(x) + 1),
    "mish": lambda x, a: x * torch.tanh(F.softplus(x)),
    "thresholded_relu": lambda x, a: torch.where(x > float(a.get("alpha", 1.0)), x, torch.zeros_like(x)),
    "shrink": _shrink,
    "reciprocal": lambda x, a: torch.reciprocal(x),
    "sin": lambda x, a: torch.sin(x),
    "cos": lambda x, a: torch.cos(x),
    "tan": lambda x, a: torch.tan(x),
    "asin": lambda x, a: torch.asin(x),
    "acos": lambda x, a: torch.acos(x),
    "atan": lambda x, a: torch.atan(x),
    "sinh": lambda x, a: torch.sinh(x),
    "cosh": lambda x, a: torch.cosh(x),
    "asinh": lambda x, a: torch.asinh(x),
    "acosh": lambda x, a: torch.acosh(x),
    "atanh": lambda x, a: torch.atanh(x),
    "floor": lambda x, a: torch.floor(x),
    "ceil": lambda x, a: torch.ceil(x),
    # Halves to even, as tfjs's round.
    "round": lambda x, a: torch.round(x),
    "sign": lambda x, a: torch.sign(x),
}

# name → (float kernel, integer kernel or None).
BINARY = {
    "add": (torch.add, torch.add),
    "sub": (torch.sub, torch.sub),
    "mul": (torch.mul, torch.mul),
    # Integers truncate towards 0 (ONNX Div, C).
    "div": (torch.div, lambda a, b: torch.div(a, b, rounding_mode="trunc")),
    "pow": (_TfPow.apply, None),
    "maximum": (_maximum, torch.maximum),
    "minimum": (_minimum, torch.minimum),
    # a − b·⌊a/b⌋ (Python %): autograd gives the TS kernel's da = dy, db = −dy·⌊a/b⌋.
    "mod": (lambda a, b: a - b * torch.floor(a / b), torch.remainder),
    # a − b·trunc(a/b) (C fmod).
    "fmod": (lambda a, b: a - b * _trunc(a / b), torch.fmod),
}


def trilu(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    r = x.dim()
    r0, r1 = sh.box.lo[r - 2], sh.box.hi[r - 2]
    c0, c1 = sh.box.lo[r - 1], sh.box.hi[r - 1]
    k = int(sh.attrs.get("k", 0))
    # column − row of each GLOBAL position of the task's box: a constant mask.
    diff = torch.arange(c0, c1, device=x.device).view(1, -1) - torch.arange(r0, r1, device=x.device).view(-1, 1)
    keep = diff >= k if sh.attrs.get("upper", True) else diff <= k
    return [torch.where(keep, x, torch.zeros_like(x))]


KERNELS = {
    **{name: _unary(fn) for name, fn in UNARY.items()},
    **{name: _binary(fn, ints) for name, (fn, ints) in BINARY.items()},
    "trilu": trilu,
}

SCALE_SHIFT = _unary(_scale_shift)
