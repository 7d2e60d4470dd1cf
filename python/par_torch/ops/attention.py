"""attention (src/ops/attention.ts): multi-head self-attention on x[batch, seq, d] with
separate Q/K/V/output projections stored [in, out]. A task holds its heads' column blocks
of Wq/Wk/Wv (rows of Wo), reads the whole sequence for keys and values, computes its query
rows, and adds the output bias only when first along heads (partial sums over heads)."""

from __future__ import annotations

import math

import torch

from ..plan import Shard

LENGTH = 1


def _causal_mask(offset: int, sq: int, seq: int, like: torch.Tensor) -> torch.Tensor:
    """0 where key j ≤ query offset+i, -1e9 elsewhere (finite: no inf·0 in the gradient)."""
    i = torch.arange(sq, device=like.device).view(-1, 1) + offset
    j = torch.arange(seq, device=like.device).view(1, -1)
    return torch.where(j > i, torch.tensor(-1e9, dtype=like.dtype, device=like.device), torch.zeros((), dtype=like.dtype, device=like.device))


def attention(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    use_bias = bool(sh.attrs.get("bias", True))
    wq, wk, wv, wo = params[:4]
    bq, bk, bv, bo = params[4:8] if use_bias and len(params) >= 8 else (None, None, None, None)
    batch, seq, d = x.shape
    hd = d // int(sh.attrs["heads"])
    width = wq.shape[1]
    nh = width // hd
    q0 = sh.box.lo[LENGTH] - sh.input_regions[0].lo[1]
    sq = sh.box.hi[LENGTH] - sh.box.lo[LENGTH]

    def project(rows: torch.Tensor, n: int, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        flat = rows.reshape(batch * n, d)
        p = torch.addmm(b, flat, w) if b is not None else flat @ w
        return p.view(batch, n, nh, hd).transpose(1, 2)  # [batch, nh, n, hd]

    xq = x if sq == seq else x[:, q0 : q0 + sq]
    q = project(xq, sq, wq, bq)
    k = project(x, seq, wk, bk)
    v = project(x, seq, wv, bv)
    scores = (q @ k.transpose(-1, -2)) * (1 / math.sqrt(hd))
    if sh.attrs.get("causal", False):
        scores = scores + _causal_mask(sh.box.lo[LENGTH], sq, seq, scores)
    probs = torch.softmax(scores, dim=-1)
    merged = (probs @ v).transpose(1, 2).reshape(batch * sq, width)
    if bo is not None and sh.first_along_reductions:
        y = torch.addmm(bo, merged, wo)
    else:
        y = merged @ wo
    return [y.view(batch, sq, d)]


KERNELS = {"attention": attention}
