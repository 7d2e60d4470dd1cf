"""LLaMA-style decoder pieces (src/ops/transformer.ts): rms_norm over the trailing `axes`
dims; rotary on x[batch, seq, heads·head_dim] at GLOBAL positions (the task's box along seq),
with tables computed in float64 and rounded once, as the TS kernel; sdpa per head with kv
heads shared by heads/kv_heads query heads (a task owns kv heads and their query heads, and
reads the whole key/value sequence); silu."""

from __future__ import annotations

import math

import torch

from ..plan import Shard

LENGTH = 1
HEADS = 2


def rms_norm(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    axes = int(sh.attrs.get("axes", 1))
    dims = list(range(x.dim() - axes, x.dim()))
    rstd = torch.rsqrt(torch.square(x).mean(dim=dims, keepdim=True) + float(sh.attrs.get("eps", 1e-6)))
    return [x * rstd * params[0]]


def _rotary_tables(offset: int, n: int, head_dim: int, theta: float, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    half = head_dim // 2
    p = torch.arange(offset, offset + n, dtype=torch.float64).view(-1, 1)
    # theta ** (-2j / head_dim) in float64, as Math.pow in the TS kernel.
    freq = torch.tensor([math.pow(theta, (-2 * j) / head_dim) for j in range(half)], dtype=torch.float64).view(1, -1)
    a = p * freq
    return torch.cos(a).to(like.dtype).to(like.device), torch.sin(a).to(like.dtype).to(like.device)


def rotary(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    b, s, c = x.shape
    hd = int(sh.attrs["head_dim"])
    half = hd // 2
    cos, sin = _rotary_tables(sh.box.lo[LENGTH], s, hd, float(sh.attrs.get("theta", 10000)), x)
    cos = cos.view(1, s, 1, half)
    sin = sin.view(1, s, 1, half)
    heads = x.reshape(b, s, c // hd, hd)
    x1, x2 = heads[..., :half], heads[..., half:]
    y = torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=3)
    return [y.reshape(b, s, c)]


def _causal_mask(offset: int, sq: int, sk: int, like: torch.Tensor) -> torch.Tensor:
    """0 where key j ≤ query offset+i, -1e9 elsewhere (finite: no inf·0 in the gradient)."""
    i = torch.arange(sq, device=like.device).view(-1, 1) + offset
    j = torch.arange(sk, device=like.device).view(1, -1)
    return torch.where(j > i, torch.tensor(-1e9, dtype=like.dtype, device=like.device), torch.zeros((), dtype=like.dtype, device=like.device))


def sdpa(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    q, k, v = inputs
    heads = int(sh.attrs["heads"])
    kv_heads = int(sh.attrs.get("kv_heads", 0)) or heads
    group = heads // kv_heads
    b, sq, _ = q.shape
    sk = k.shape[1]
    # The task's kv heads are its box along `heads`; k holds head_dim columns for each.
    nkv = sh.box.hi[HEADS] - sh.box.lo[HEADS]
    hd = k.shape[2] // nkv
    scale = float(sh.attrs.get("scale", 0)) or 1 / math.sqrt(hd)
    qh = q.reshape(b, sq, nkv, group, hd).permute(0, 2, 3, 1, 4).reshape(b * nkv, group * sq, hd)

    def kvh(t: torch.Tensor) -> torch.Tensor:
        return t.reshape(b, sk, nkv, hd).permute(0, 2, 1, 3).reshape(b * nkv, sk, hd)

    scores = (qh @ kvh(k).transpose(-1, -2)) * scale
    if sh.attrs.get("causal", False):
        mask = _causal_mask(sh.box.lo[LENGTH], sq, sk, scores)
        scores = scores + (mask if group == 1 else mask.repeat(group, 1))
    out = torch.softmax(scores, dim=-1) @ kvh(v)
    return [out.reshape(b, nkv, group, sq, hd).permute(0, 3, 1, 2, 4).reshape(b, sq, nkv * group * hd)]


def silu(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    return [x * torch.sigmoid(x)]


KERNELS = {
    "rms_norm": rms_norm,
    "rotary": rotary,
    "sdpa": sdpa,
    "silu": silu,
}
