"""Shared weights (src/ops/shared.ts): `param` outputs its weight as a tensor other ops
read; `constant` outputs its never-trained values (as i32 for dtype int); `gather` is an embedding lookup whose table is an input; `lstm_chunk` runs the
LSTM recurrence over a chunk with weights and initial state as inputs."""

from __future__ import annotations

import torch

from ..plan import Shard
from .recurrent import lstm_steps


def param(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [params[0].clone()]


def constant(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    # Detached: nothing flows back into the values (the TS backward's zero gradient).
    v = params[0].detach()
    return [v.to(torch.int32) if sh.attrs.get("dtype", "float") == "int" else v.clone()]


def gather(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    table, ix = inputs
    return [table[ix.reshape(-1).long()].view(*ix.shape, table.shape[1])]


def lstm_chunk(sh: Shard, inputs: list[torch.Tensor], params: list[torch.Tensor]) -> list[torch.Tensor]:
    x, w_ih, w_hh, b_ih, b_hh = inputs[:5]
    h0 = inputs[5] if len(inputs) > 5 else None
    c0 = inputs[6] if len(inputs) > 6 else None
    hs, h, c = lstm_steps(x, w_ih, w_hh, b_ih, b_hh, h0, c0)
    y = torch.stack(hs, dim=1)
    if sh.attrs.get("return_state", True) is False:
        return [y]
    return [y, h.clone(), c]


KERNELS = {"param": param, "constant": constant, "gather": gather, "lstm_chunk": lstm_chunk}
