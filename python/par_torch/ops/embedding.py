"""embedding (src/ops/embedding.ts): rows of W [vocab, dim] at integer indices. A task
holding vocab rows [lo, hi) returns the rows of the tokens in its range and zeros
elsewhere, so vocab shards add up (Megatron's vocab-parallel embedding)."""

from __future__ import annotations

import torch

from ..plan import Shard


def embedding(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    ix = inputs[0]
    w = params[0]
    r = ix.dim()
    flat = ix.reshape(-1).long()
    vlo, vhi = sh.box.lo[r + 1], sh.box.hi[r + 1]
    if vlo == 0 and vhi == sh.space_sizes[r + 1]:
        y = w[flat]
    else:
        rows = w.shape[0]
        rel = flat - vlo
        owned = ((rel >= 0) & (rel < rows)).to(w.dtype).unsqueeze(1)
        y = w[rel.clamp(0, rows - 1)] * owned
    return [y.view(*ix.shape, w.shape[1])]


KERNELS = {"embedding": embedding}
