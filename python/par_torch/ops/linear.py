"""linear (src/ops/linear.ts): y = x·W + b, W stored [in, out]; the bias is added only by
the task first along in_channel, so partial sums over in_channel add up to the whole."""

from __future__ import annotations

import torch

from ..plan import Shard


def linear(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    w = params[0]
    k = x.shape[-1]
    x2 = x.reshape(-1, k)
    if sh.attrs.get("bias", True) and len(params) > 1 and sh.first_along_reductions:
        y = torch.addmm(params[1], x2, w)
    else:
        y = x2 @ w
    return [y.view(*x.shape[:-1], w.shape[1])]


KERNELS = {"linear": linear}
