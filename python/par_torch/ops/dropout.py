"""dropout (src/ops/dropout.ts): y = x · mask, the scaled mask a pure function of the op's
seed and each element's global index (dropout_mask.py), so any sharding draws exactly the
whole op's mask. Autograd gives dx = dy · mask, the TS kernel's explicit backward."""

from __future__ import annotations

import torch

from ..dropout_mask import cached_dropout_mask
from ..plan import Shard


def dropout(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x = inputs[0]
    p = float(sh.attrs.get("p", 0.5))
    if p == 0:
        return [x.clone()]
    return [x * cached_dropout_mask(sh.op.output_shapes[0], sh.output_regions[0], p, int(sh.attrs.get("seed", 0)), x.device)]


KERNELS = {"dropout": dropout}
